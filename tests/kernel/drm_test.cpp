/* SPDX-License-Identifier: MIT */
/* DRM dumb buffers and GBM, and heap buffers imported into vkms. */
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include <bufmgr/allocators.h>
#include <bufmgr/exporter.h>
#include <bufmgr/manager.h>
#include <bufmgr/mapping.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "kernel_test_env.h"

using namespace bufmgr;
using namespace heapcomp::test;

namespace {

class DrmTest : public KernelTest
{
protected:
	void SetUp() override
	{
		KernelTest::SetUp();
		vkms_ = findDrmCard("vkms");
		ASSERT_FALSE(vkms_.empty()) << "no vkms card in /dev/dri";
	}

	/* Imports a buffer into vkms as a framebuffer; 0 on failure. */
	::testing::AssertionResult importsIntoKms(const Buffer &buffer)
	{
		UniqueFd drm(open(vkms_.c_str(), O_RDWR | O_CLOEXEC));
		if (!drm)
			return ::testing::AssertionFailure() << "open " << vkms_;
		uint32_t handles[4] = {}, pitches[4] = {}, offsets[4] = {};
		uint64_t modifiers[4] = {};
		for (size_t i = 0; i < buffer.numPlanes(); i++) {
			if (drmPrimeFDToHandle(drm.get(), buffer.plane(i).fd.get(), &handles[i]))
				return ::testing::AssertionFailure()
				       << "PRIME import: " << strerror(errno);
			pitches[i] = buffer.plane(i).stride;
			offsets[i] = buffer.plane(i).offset;
			modifiers[i] = buffer.modifier();
		}
		uint32_t fb = 0;
		int ret = drmModeAddFB2WithModifiers(drm.get(), buffer.width(), buffer.height(),
						     buffer.format(), handles, pitches, offsets,
						     modifiers, &fb, DRM_MODE_FB_MODIFIERS);
		int err = errno;
		if (fb)
			drmModeRmFB(drm.get(), fb);
		struct drm_gem_close close = { handles[0], 0 };
		drmIoctl(drm.get(), DRM_IOCTL_GEM_CLOSE, &close);
		if (ret)
			return ::testing::AssertionFailure() << "AddFB2: " << strerror(err);
		return ::testing::AssertionSuccess();
	}

	std::string vkms_;
};

TEST_F(DrmTest, DumbBufferOnVkms)
{
	auto allocator = createDumbAllocator(vkms_);
	ASSERT_TRUE(allocator) << allocator.error().message();
	auto buffer = (*allocator)->allocate(
		AllocationRequest::image(1024, 768, DRM_FORMAT_XRGB8888, Usage::Scanout, "dumb"));
	ASSERT_TRUE(buffer) << buffer.error().message();
	EXPECT_EQ(buffer->allocator(), AllocatorKind::DumbBuffer);
	EXPECT_EQ(buffer->plane(0).stride, 4096u);
	EXPECT_GE(buffer->size(), 1024u * 768 * 4);

	auto info = identifyDmaBuf(buffer->plane(0).fd.get());
	ASSERT_TRUE(info) << info.error().message();
	EXPECT_EQ(info->size, buffer->size());

	fillPattern(*buffer, 0xd0d0);
	EXPECT_TRUE(hasPattern(*buffer, 0xd0d0));
	EXPECT_TRUE(importsIntoKms(*buffer));
}

TEST_F(DrmTest, DumbBufferNv12)
{
	auto allocator = createDumbAllocator(vkms_);
	ASSERT_TRUE(allocator);
	auto buffer = (*allocator)->allocate(
		AllocationRequest::image(640, 480, DRM_FORMAT_NV12, Usage::Video));
	ASSERT_TRUE(buffer) << buffer.error().message();
	ASSERT_EQ(buffer->numPlanes(), 2u);
	/* Strides are aligned to 256 bytes for scanout engines. */
	EXPECT_EQ(buffer->plane(0).stride, 768u);
	EXPECT_EQ(buffer->plane(1).stride, 768u);
	EXPECT_EQ(buffer->plane(1).offset, 768u * 480);
	EXPECT_GE(buffer->size(), 768u * 480 * 3 / 2);
	EXPECT_TRUE(importsIntoKms(*buffer));
}

TEST_F(DrmTest, DumbNeedsKmsNode)
{
	auto missing = createDumbAllocator("/dev/dri/no-card");
	ASSERT_FALSE(missing);
	EXPECT_EQ(missing.error().code, ENOENT);
}

TEST_F(DrmTest, HeapBuffersImportIntoVkms)
{
	for (const char *heap : { "system", "default_cma_region" }) {
		SCOPED_TRACE(heap);
		auto allocator = createDmaHeapAllocator(std::string("/dev/dma_heap/") + heap,
							true);
		ASSERT_TRUE(allocator);
		auto buffer = (*allocator)->allocate(
			AllocationRequest::image(1024, 768, DRM_FORMAT_XRGB8888, Usage::Scanout));
		ASSERT_TRUE(buffer);
		EXPECT_TRUE(importsIntoKms(*buffer));
	}
}

/*
 * vkms has no Mesa driver of its own: Mesa falls back to kms_swrast, which
 * makes GBM buffers from the display node's dumb buffers, as it would for
 * any display-only KMS device.
 */
using GbmTest = DrmTest;

TEST_F(GbmTest, LinearBufferRoundTripAndImport)
{
	auto allocator = createGbmAllocator(vkms_);
	ASSERT_TRUE(allocator) << allocator.error().message();

	auto buffer = (*allocator)->allocate(
		AllocationRequest::image(256, 256, DRM_FORMAT_XRGB8888, Usage::Cpu, "gbm-linear"));
	ASSERT_TRUE(buffer) << buffer.error().message();
	EXPECT_EQ(buffer->allocator(), AllocatorKind::Gbm);
	EXPECT_EQ(buffer->modifier(), DRM_FORMAT_MOD_LINEAR);
	ASSERT_GE(buffer->numPlanes(), 1u);
	EXPECT_GE(buffer->plane(0).stride, 256u * 4);
	EXPECT_GE(buffer->size(), 256u * 256 * 4);

	auto info = identifyDmaBuf(buffer->plane(0).fd.get());
	ASSERT_TRUE(info) << info.error().message();
	EXPECT_EQ(info->size, buffer->size());
	fillPattern(*buffer, 0x9b3);
	EXPECT_TRUE(hasPattern(*buffer, 0x9b3));
	EXPECT_TRUE(importsIntoKms(*buffer));

	auto blob = (*allocator)->allocate(AllocationRequest::blob(4096));
	ASSERT_FALSE(blob);
	EXPECT_EQ(blob.error().code, ENOTSUP);
}

TEST_F(GbmTest, ScanoutWithModifierList)
{
	auto allocator = createGbmAllocator(vkms_);
	ASSERT_TRUE(allocator) << allocator.error().message();
	auto request = AllocationRequest::image(1024, 768, DRM_FORMAT_XRGB8888, Usage::Scanout,
						"gbm-scanout");
	request.modifiers = { DRM_FORMAT_MOD_LINEAR };
	auto buffer = (*allocator)->allocate(request);
	ASSERT_TRUE(buffer) << buffer.error().message();
	EXPECT_EQ(buffer->modifier(), DRM_FORMAT_MOD_LINEAR);
	EXPECT_TRUE(importsIntoKms(*buffer));
}

TEST_F(GbmTest, ManagerPicksTheNodeThatAllocates)
{
	auto manager = BufferManager::create();
	ASSERT_TRUE(manager);
	/* vgem's render node cannot give kms_swrast dumb buffers; vkms can. */
	EXPECT_NE((*manager)->allocator("gbm:" + vkms_), nullptr);
	EXPECT_EQ((*manager)->allocator("gbm:" + findRenderNode()), nullptr);
	bool noted = false;
	for (const SetupNote &note : (*manager)->setupNotes())
		noted |= note.source == "gbm:" + findRenderNode() && note.error.code == EACCES;
	EXPECT_TRUE(noted);
}

TEST_F(DrmTest, ManagerAutodetectsDrmSources)
{
	auto manager = BufferManager::create();
	ASSERT_TRUE(manager);
	EXPECT_NE((*manager)->allocator("dumb:" + vkms_), nullptr);

	/* Scanout without contiguity needs: CMA first, per the policy. */
	auto buffer = (*manager)->allocate(
		AllocationRequest::image(1024, 768, DRM_FORMAT_XRGB8888, Usage::Scanout));
	ASSERT_TRUE(buffer);
	EXPECT_EQ(buffer->source(), "dma-heap:default_cma_region");
}

} /* namespace */
