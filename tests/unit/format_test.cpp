/* SPDX-License-Identifier: MIT */
#include <bufmgr/format.h>

#include <cerrno>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

using namespace bufmgr;

namespace {

TEST(Format, KnowsTheRequiredFormats)
{
	for (uint32_t f : { DRM_FORMAT_XRGB8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_XBGR8888,
			    DRM_FORMAT_ABGR8888, DRM_FORMAT_RGB565, DRM_FORMAT_NV12,
			    DRM_FORMAT_YUV420 }) {
		const FormatInfo *info = formatInfo(f);
		ASSERT_NE(info, nullptr) << fourccToString(f);
		EXPECT_EQ(info->fourcc, f);
	}
	EXPECT_EQ(formatInfo(DRM_FORMAT_NV12)->numPlanes, 2);
	EXPECT_EQ(formatInfo(DRM_FORMAT_YUV420)->numPlanes, 3);
	EXPECT_TRUE(formatInfo(DRM_FORMAT_ARGB8888)->hasAlpha);
	EXPECT_FALSE(formatInfo(DRM_FORMAT_XRGB8888)->hasAlpha);
	EXPECT_EQ(formatInfo(fourcc_code('Z', 'Z', 'Z', 'Z')), nullptr);
}

TEST(Format, FourccToString)
{
	EXPECT_EQ(fourccToString(DRM_FORMAT_XRGB8888), "XR24");
	EXPECT_EQ(fourccToString(DRM_FORMAT_NV12), "NV12");
	EXPECT_EQ(fourccToString(0x01020304), "????");
}

TEST(Format, PackedLayout1080p)
{
	auto layout = computeLinearLayout(DRM_FORMAT_XRGB8888, 1920, 1080, 1);
	ASSERT_TRUE(layout) << layout.error().message();
	EXPECT_EQ(layout->numPlanes, 1);
	EXPECT_EQ(layout->planes[0].stride, 7680u);
	EXPECT_EQ(layout->totalSize, 8294400u);
}

TEST(Format, StrideAlignment)
{
	auto layout = computeLinearLayout(DRM_FORMAT_RGB565, 1366, 768, 256);
	ASSERT_TRUE(layout);
	EXPECT_EQ(layout->planes[0].stride, 2816u);	/* 2732 rounded to 256 */
	EXPECT_EQ(layout->totalSize, 2816u * 768);
}

TEST(Format, Nv12OddSizeRoundsChromaUp)
{
	auto layout = computeLinearLayout(DRM_FORMAT_NV12, 641, 481, 1);
	ASSERT_TRUE(layout);
	ASSERT_EQ(layout->numPlanes, 2);
	EXPECT_EQ(layout->planes[0].stride, 641u);
	EXPECT_EQ(layout->planes[0].size, 641u * 481);
	EXPECT_EQ(layout->planes[1].offset, 641u * 481);
	EXPECT_EQ(layout->planes[1].stride, 642u);	/* 321 CbCr pairs */
	EXPECT_EQ(layout->planes[1].size, 642u * 241);
	EXPECT_EQ(layout->totalSize, 641u * 481 + 642u * 241);
}

TEST(Format, Yuv420ThreePlanesAligned)
{
	auto layout = computeLinearLayout(DRM_FORMAT_YUV420, 1920, 1080, 64);
	ASSERT_TRUE(layout);
	ASSERT_EQ(layout->numPlanes, 3);
	EXPECT_EQ(layout->planes[0].stride, 1920u);
	EXPECT_EQ(layout->planes[1].stride, 960u);
	EXPECT_EQ(layout->planes[2].stride, 960u);
	EXPECT_EQ(layout->planes[1].offset, 1920u * 1080);
	EXPECT_EQ(layout->planes[2].offset, 1920u * 1080 + 960u * 540);
	EXPECT_EQ(layout->totalSize, 1920u * 1080 * 3 / 2);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(layout->planes[i].offset % 64, 0u);
}

TEST(Format, RejectsBadInput)
{
	auto zero = computeLinearLayout(DRM_FORMAT_XRGB8888, 0, 10, 1);
	ASSERT_FALSE(zero);
	EXPECT_EQ(zero.error().code, EINVAL);

	auto unknown = computeLinearLayout(fourcc_code('Z', 'Z', 'Z', 'Z'), 10, 10, 1);
	ASSERT_FALSE(unknown);
	EXPECT_EQ(unknown.error().code, EINVAL);
	EXPECT_NE(unknown.error().context.find("unknown format"), std::string::npos);

	auto align = computeLinearLayout(DRM_FORMAT_XRGB8888, 10, 10, 48);
	ASSERT_FALSE(align);
	EXPECT_EQ(align.error().code, EINVAL);
	EXPECT_FALSE(computeLinearLayout(DRM_FORMAT_XRGB8888, 10, 10, 0));
}

TEST(Format, OverflowIsCaught)
{
	/* 2^30 pixels of 4 bytes: the stride no longer fits 32 bits. */
	auto wide = computeLinearLayout(DRM_FORMAT_XRGB8888, 1u << 30, 1, 1);
	ASSERT_FALSE(wide);
	EXPECT_EQ(wide.error().code, EOVERFLOW);

	/* Alignment pushes a near-limit stride over. */
	auto aligned = computeLinearLayout(DRM_FORMAT_R8, 0xffffff01u, 1, 256);
	ASSERT_FALSE(aligned);
	EXPECT_EQ(aligned.error().code, EOVERFLOW);

	/* The second plane's offset no longer fits 32 bits. */
	auto tall = computeLinearLayout(DRM_FORMAT_NV12, 65536, 65536, 1);
	ASSERT_FALSE(tall);
	EXPECT_EQ(tall.error().code, EOVERFLOW);

	/* Large but representable: 64-bit total, 32-bit strides and offsets. */
	auto big = computeLinearLayout(DRM_FORMAT_XRGB8888, 65536, 65535, 1);
	ASSERT_TRUE(big);
	EXPECT_EQ(big->totalSize, 65536ull * 4 * 65535);
}

} /* namespace */
