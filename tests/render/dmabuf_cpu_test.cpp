/* SPDX-License-Identifier: MIT */
/*
 * The CPU path for client dma-bufs: map through bufmgr, upload, re-upload
 * damage. On a host without dma-buf exporters, memfd buffers stand in:
 * the path maps any fd and skips DMA_BUF_IOCTL_SYNC for non-dma-bufs.
 * (The VM tests run it on real heap and udmabuf dma-bufs.)
 */
#include <algorithm>
#include <cmath>
#include <cstring>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

#include <bufmgr/allocators.h>
#include <bufmgr/format.h>
#include <bufmgr/mapping.h>

#include "render/gles_renderer.h"
#include "render_test_util.h"

namespace heapcomp::test {
namespace {

constexpr uint32_t kRed = argb(0xff, 0xff, 0, 0);
constexpr uint32_t kGreen = argb(0xff, 0, 0xff, 0);
constexpr uint32_t kBlue = argb(0xff, 0, 0, 0xff);
constexpr float kClearBlack[4] = { 0, 0, 0, 1 };

bufmgr::Buffer memfdImage(uint32_t width, uint32_t height, uint32_t format,
			  uint32_t strideAlign = 0)
{
	return memfdTarget(width, height, format, strideAlign);
}

/* The same memory described differently (a client's odd parameters). */
bufmgr::Buffer redescribe(const bufmgr::Buffer &buffer, uint64_t modifier,
			  std::vector<bufmgr::BufferPlane> planes = {})
{
	auto desc = buffer.description();
	desc.modifier = modifier;
	return bufmgr::Buffer(desc, planes.empty() ? buffer.planes() : planes);
}

/* BT.601 limited range, as the YUV shader converts. */
uint32_t yuvToArgb(int y, int u, int v)
{
	auto clamp = [](double c) {
		return static_cast<uint32_t>(std::lround(std::clamp(c, 0.0, 255.0)));
	};
	double yy = 1.164 * (y - 16), uu = u - 128.0, vv = v - 128.0;
	return argb(0xff, clamp(yy + 1.596 * vv), clamp(yy - 0.392 * uu - 0.813 * vv),
		    clamp(yy + 2.017 * uu));
}

struct Yuv {
	uint8_t y, u, v;
};

/* Four quadrant colors of an 8x8 YUV image. */
constexpr Yuv kQuadrants[4] = {
	{ 82, 90, 240 },	/* red */
	{ 145, 54, 34 },	/* green */
	{ 41, 240, 110 },	/* blue */
	{ 180, 128, 128 },	/* grey */
};

int quadrantOf(uint32_t x, uint32_t y)
{
	return (x >= 4 ? 1 : 0) + (y >= 4 ? 2 : 0);
}

/* The GLES renderer's CPU path; parameter: as a bare GLES2 context (upload fallbacks). */
class DmaBufCpuTest : public ::testing::TestWithParam<TestRenderer>
{
protected:
	void SetUp() override
	{
		comp::GlesRendererOptions options;
		options.forceCpuDmaBuf = true;
		options.bareGles2 = GetParam() == TestRenderer::BareGles2;
		auto renderer = comp::createGlesRenderer(options);
		ASSERT_TRUE(renderer) << renderer.error().message();
		renderer_ = std::move(*renderer);
		ASSERT_EQ(renderer_->dmaBufPath(), comp::DmaBufPath::Cpu);
	}

	std::vector<uint32_t> draw(const comp::Texture &texture, uint32_t width, uint32_t height)
	{
		bufmgr::Buffer target = memfdTarget(width, height, DRM_FORMAT_XRGB8888);
		comp::RenderItem item{ &texture, { 0, 0, int32_t(width), int32_t(height) } };
		auto ret = renderer_->render(target, std::span(&item, 1), kClearBlack);
		EXPECT_TRUE(ret) << ret.error().message();
		auto pixels = renderer_->readPixels(target);
		EXPECT_TRUE(pixels);
		return pixels ? *pixels : std::vector<uint32_t>();
	}

	std::unique_ptr<comp::Renderer> renderer_;
};

TEST_P(DmaBufCpuTest, RgbBufferWithPaddedStride)
{
	bufmgr::Buffer buffer = memfdImage(10, 6, DRM_FORMAT_XRGB8888, 128);
	ASSERT_GT(buffer.plane(0).stride, 40u);
	Image image(10, 6, DRM_FORMAT_XRGB8888);
	for (uint32_t y = 0; y < 6; y++)
		for (uint32_t x = 0; x < 10; x++)
			image.set(x, y, argb(0, 25 * x, 40 * y, 99));
	upload(buffer, image);

	auto texture = renderer_->importDmaBuf(buffer);
	ASSERT_TRUE(texture) << texture.error().message();
	EXPECT_FALSE((*texture)->hasAlpha());
	auto pixels = draw(**texture, 10, 6);
	for (uint32_t y = 0; y < 6; y++)
		for (uint32_t x = 0; x < 10; x++)
			EXPECT_TRUE(pixelAt(pixels, 10, x, y, argb(0xff, 25 * x, 40 * y, 99), 0));
}

TEST_P(DmaBufCpuTest, UpdateReuploadsOnlyTheDamage)
{
	bufmgr::Buffer buffer = memfdImage(12, 12, DRM_FORMAT_ARGB8888);
	Image image(12, 12, DRM_FORMAT_ARGB8888);
	image.fill(kRed);
	upload(buffer, image);
	auto texture = renderer_->importDmaBuf(buffer);
	ASSERT_TRUE(texture) << texture.error().message();

	/* The client draws everything green but damages one rect. */
	image.fill(kGreen);
	upload(buffer, image);
	const comp::Rect damage[] = { { 4, 2, 3, 5 } };
	auto ret = renderer_->updateDmaBuf(**texture, buffer, damage);
	ASSERT_TRUE(ret) << ret.error().message();
	auto pixels = draw(**texture, 12, 12);
	EXPECT_TRUE(rectIs(pixels, 12, { 4, 2, 3, 5 }, kGreen, 0));
	EXPECT_TRUE(rectIs(pixels, 12, { 0, 0, 12, 2 }, kRed, 0));
	EXPECT_TRUE(rectIs(pixels, 12, { 0, 7, 12, 5 }, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 12, 3, 4, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 12, 7, 4, kRed, 0));

	/* Another buffer than the one imported is refused. */
	bufmgr::Buffer other = memfdImage(12, 12, DRM_FORMAT_ARGB8888);
	auto wrong = renderer_->updateDmaBuf(**texture, other, damage);
	ASSERT_FALSE(wrong);
	EXPECT_EQ(wrong.error().code, EINVAL);
}

void fillYuv(const bufmgr::Buffer &buffer)
{
	auto mapping = bufmgr::Mapping::map(buffer);
	ASSERT_TRUE(mapping) << mapping.error().message();
	const bool nv12 = buffer.format() == DRM_FORMAT_NV12;
	for (uint32_t y = 0; y < buffer.height(); y++)
		for (uint32_t x = 0; x < buffer.width(); x++)
			mapping->plane(0)[y * buffer.plane(0).stride + x] =
				kQuadrants[quadrantOf(x, y)].y;
	for (uint32_t y = 0; y < buffer.height() / 2; y++) {
		for (uint32_t x = 0; x < buffer.width() / 2; x++) {
			const Yuv &c = kQuadrants[quadrantOf(x * 2, y * 2)];
			if (nv12) {
				uint8_t *p = &mapping->plane(1)[y * buffer.plane(1).stride + x * 2];
				p[0] = c.u;
				p[1] = c.v;
			} else {
				mapping->plane(1)[y * buffer.plane(1).stride + x] = c.u;
				mapping->plane(2)[y * buffer.plane(2).stride + x] = c.v;
			}
		}
	}
}

/* YUV client buffers on every renderer: GLES's CPU path and pixman's conversion. */
class YuvDmaBufTest : public DmaBufCpuTest
{
protected:
	void SetUp() override
	{
		if (GetParam() != TestRenderer::Pixman)
			return DmaBufCpuTest::SetUp();
		renderer_ = makeRenderer(TestRenderer::Pixman);
		ASSERT_TRUE(renderer_);
	}
};

TEST_P(YuvDmaBufTest, YuvBuffersConvertToRgb)
{
	for (uint32_t format : { DRM_FORMAT_NV12, DRM_FORMAT_YUV420 }) {
		SCOPED_TRACE(bufmgr::fourccToString(format));
		bufmgr::Buffer buffer = memfdImage(8, 8, format, 16);
		ASSERT_TRUE(buffer.isValid());
		fillYuv(buffer);
		auto texture = renderer_->importDmaBuf(buffer);
		ASSERT_TRUE(texture) << texture.error().message();
		EXPECT_FALSE((*texture)->hasAlpha());
		auto pixels = draw(**texture, 8, 8);
		for (uint32_t y = 0; y < 8; y++) {
			for (uint32_t x = 0; x < 8; x++) {
				const Yuv &c = kQuadrants[quadrantOf(x, y)];
				EXPECT_TRUE(pixelAt(pixels, 8, x, y, yuvToArgb(c.y, c.u, c.v), 3));
			}
		}
		/* Sanity of the reference colors themselves. */
		EXPECT_TRUE(pixelNear(yuvToArgb(82, 90, 240), kRed, 3));
		EXPECT_TRUE(pixelNear(yuvToArgb(41, 240, 110), kBlue, 3));
	}
}

TEST_P(DmaBufCpuTest, RefusesWhatItCannotMapOrUpload)
{
	bufmgr::Buffer linear = memfdImage(8, 8, DRM_FORMAT_XRGB8888);

	/* Tiled memory cannot be read as rows. */
	auto tiled = renderer_->importDmaBuf(redescribe(linear, I915_FORMAT_MOD_X_TILED));
	ASSERT_FALSE(tiled);
	EXPECT_EQ(tiled.error().code, ENOTSUP);
	EXPECT_NE(tiled.error().message().find("linear"), std::string::npos);

	/* A stride shorter than a row. */
	std::vector<bufmgr::BufferPlane> planes(linear.planes().begin(), linear.planes().end());
	planes[0].stride = 16;
	auto narrow = renderer_->importDmaBuf(redescribe(linear, DRM_FORMAT_MOD_LINEAR, planes));
	ASSERT_FALSE(narrow);
	EXPECT_EQ(narrow.error().code, EINVAL);
	EXPECT_NE(narrow.error().message().find("stride"), std::string::npos);

	/* Rows beyond the end of the memory. */
	planes.assign(linear.planes().begin(), linear.planes().end());
	planes[0].offset = uint32_t(linear.size()) - 64;
	auto past = renderer_->importDmaBuf(redescribe(linear, DRM_FORMAT_MOD_LINEAR, planes));
	ASSERT_FALSE(past);
	EXPECT_EQ(past.error().code, EINVAL);

	/* A format without a CPU upload, and plane counts that do not match. */
	auto desc = linear.description();
	desc.format = DRM_FORMAT_YUYV;
	auto yuyv = renderer_->importDmaBuf(bufmgr::Buffer(desc, linear.planes()));
	ASSERT_FALSE(yuyv);
	EXPECT_EQ(yuyv.error().code, ENOTSUP);
	desc.format = DRM_FORMAT_NV12;
	auto onePlane = renderer_->importDmaBuf(bufmgr::Buffer(desc, linear.planes()));
	ASSERT_FALSE(onePlane);
	EXPECT_EQ(onePlane.error().code, EINVAL);

	/* No memory at all. */
	auto empty = renderer_->importDmaBuf(bufmgr::Buffer());
	ASSERT_FALSE(empty);
	EXPECT_EQ(empty.error().code, EINVAL);
}

/* A client redraws part of the frame: only that part changes on screen. */
TEST_P(YuvDmaBufTest, UpdateConvertsTheDamage)
{
	for (uint32_t format : { DRM_FORMAT_NV12, DRM_FORMAT_YUV420 }) {
		SCOPED_TRACE(bufmgr::fourccToString(format));
		bufmgr::Buffer buffer = memfdImage(8, 8, format, 16);
		fillYuv(buffer);
		auto texture = renderer_->importDmaBuf(buffer);
		ASSERT_TRUE(texture) << texture.error().message();
		/* Luma of the top-left quadrant up to 235 (white-ish), damage only its left column. */
		{
			auto mapping = bufmgr::Mapping::map(buffer);
			ASSERT_TRUE(mapping);
			for (uint32_t y = 0; y < 4; y++)
				for (uint32_t x = 0; x < 4; x++)
					mapping->plane(0)[y * buffer.plane(0).stride + x] = 235;
		}
		const comp::Rect damage[] = { { 0, 0, 2, 4 } };
		auto ret = renderer_->updateDmaBuf(**texture, buffer, damage);
		ASSERT_TRUE(ret) << ret.error().message();
		auto pixels = draw(**texture, 8, 8);
		const Yuv &red = kQuadrants[0];
		for (uint32_t y = 0; y < 4; y++) {
			for (uint32_t x = 0; x < 4; x++) {
				int luma = x < 2 ? 235 : red.y;
				EXPECT_TRUE(pixelAt(pixels, 8, x, y, yuvToArgb(luma, red.u, red.v), 3))
					<< x << "," << y;
			}
		}
	}
}

INSTANTIATE_TEST_SUITE_P(Gles, DmaBufCpuTest,
			 ::testing::Values(TestRenderer::Gles, TestRenderer::BareGles2), rendererName);
INSTANTIATE_TEST_SUITE_P(All, YuvDmaBufTest,
			 ::testing::Values(TestRenderer::Gles, TestRenderer::BareGles2,
					   TestRenderer::Pixman),
			 rendererName);

} /* namespace */
} /* namespace heapcomp::test */
