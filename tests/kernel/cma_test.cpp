/* SPDX-License-Identifier: MIT */
/* The CMA heap: its kernel counters, exhaustion, and reuse through pools. */
#include <cerrno>
#include <optional>
#include <vector>

#include <bufmgr/allocators.h>
#include <bufmgr/heap.h>
#include <bufmgr/manager.h>
#include <bufmgr/swapchain.h>

#include <drm_fourcc.h>

#include "kernel_test_env.h"

using namespace bufmgr;
using namespace heapcomp::test;

namespace {

class CmaTest : public KernelTest
{
protected:
	/* The area behind the default CMA heap, read fresh from the kernel. */
	CmaAreaInfo area()
	{
		auto heaps = discoverHeaps();
		EXPECT_TRUE(heaps);
		const HeapInfo *cma = heaps ? findHeap(*heaps, kCmaHeap) : nullptr;
		EXPECT_NE(cma, nullptr);
		auto info = readCmaArea(SystemPaths{}, cma ? cma->cmaArea : "");
		EXPECT_TRUE(info) << (info ? "" : info.error().message());
		return info ? *info : CmaAreaInfo{};
	}
};

TEST_F(CmaTest, KernelCountersFollowAllocations)
{
	CmaAreaInfo before = area();
	ASSERT_TRUE(before.allocPagesSuccess);
	ASSERT_TRUE(before.availablePages);
	ASSERT_TRUE(before.totalPages);
	EXPECT_EQ(*before.totalPages * before.pageSize, 128ull << 20);

	auto allocator = createDmaHeapAllocator("/dev/dma_heap/default_cma_region", true);
	ASSERT_TRUE(allocator);
	const uint64_t bytes = 8294400;
	const uint64_t pages = (bytes + before.pageSize - 1) / before.pageSize;
	{
		auto buffer = (*allocator)->allocate(AllocationRequest::blob(bytes, "cma"));
		ASSERT_TRUE(buffer) << buffer.error().message();
		EXPECT_TRUE(buffer->isContiguous());

		CmaAreaInfo during = area();
		EXPECT_EQ(*during.allocPagesSuccess - *before.allocPagesSuccess, pages);
		EXPECT_EQ(*before.availablePages - *during.availablePages, pages);
		/* debugfs agrees with sysfs about what is in use. */
		ASSERT_TRUE(during.debugUsed);
		ASSERT_TRUE(before.debugUsed);
		EXPECT_EQ(*during.debugUsed - *before.debugUsed, pages);
	}
	CmaAreaInfo after = area();
	EXPECT_EQ(*after.availablePages, *before.availablePages);
	EXPECT_EQ(*after.releasePagesSuccess - *before.releasePagesSuccess, pages);
}

TEST_F(CmaTest, BitmapShowsFragmentation)
{
	auto allocator = createDmaHeapAllocator("/dev/dma_heap/default_cma_region", true);
	ASSERT_TRUE(allocator);

	/* Every other 1 MiB block freed: free memory in many small runs. */
	std::vector<Buffer> held;
	for (int i = 0; i < 16; i++) {
		auto buffer = (*allocator)->allocate(AllocationRequest::blob(1 << 20));
		ASSERT_TRUE(buffer);
		held.push_back(std::move(*buffer));
	}
	CmaAreaInfo compact = area();
	for (size_t i = 0; i < held.size(); i += 2)
		held[i] = Buffer();

	auto heaps = discoverHeaps();
	ASSERT_TRUE(heaps);
	auto fragmented = readCmaArea(SystemPaths{}, findHeap(*heaps, kCmaHeap)->cmaArea,
				      { true, true });
	ASSERT_TRUE(fragmented);
	ASSERT_TRUE(fragmented->bitmap);
	CmaBitmapSummary summary = fragmented->bitmap->summarize();
	EXPECT_GE(summary.freeRuns, 8u);
	EXPECT_EQ(summary.freePages, *fragmented->availablePages);
	ASSERT_TRUE(fragmented->fragmentation());
	ASSERT_TRUE(compact.fragmentation());
	EXPECT_GT(*fragmented->fragmentation(), *compact.fragmentation());
}

TEST_F(CmaTest, ExhaustionNamesHeapAndFallsBack)
{
	auto created = BufferManager::create();
	ASSERT_TRUE(created);
	BufferManager &manager = **created;

	/* Leave less than the request free in the 128 MiB area. */
	auto hog = manager.allocate(AllocationRequest::blob(100ull << 20, "hog"),
				    { .contiguous = true });
	ASSERT_TRUE(hog) << hog.error().message();
	ASSERT_EQ(hog->source(), "dma-heap:default_cma_region");

	const uint64_t bytes = 64ull << 20;
	Constraints contiguous{ .contiguous = true };
	auto refused = manager.allocate(AllocationRequest::blob(bytes, "big"), contiguous);
	ASSERT_FALSE(refused);
	EXPECT_EQ(refused.error().code, ENOMEM);
	const std::string &msg = refused.error().context;
	EXPECT_NE(msg.find("dma-heap 'default_cma_region'"), std::string::npos) << msg;
	EXPECT_NE(msg.find(std::to_string(bytes) + " B"), std::string::npos) << msg;

	/* Without the constraint the chain moves on, and says so. */
	auto request = AllocationRequest::blob(bytes, "big");
	request.usage = Usage::Camera;
	auto fallback = manager.allocate(request);
	ASSERT_TRUE(fallback) << fallback.error().message();
	EXPECT_EQ(fallback->source(), "dma-heap:system");

	auto snap = manager.stats().snapshot();
	const SourceSnapshot *cma = snap.find("dma-heap:default_cma_region");
	ASSERT_NE(cma, nullptr);
	EXPECT_EQ(cma->failuresByErrno.at(ENOMEM), 2u);
	ASSERT_FALSE(snap.recentFallbacks.empty());
	const FallbackEvent &last = snap.recentFallbacks.back();
	EXPECT_EQ(last.from, "dma-heap:default_cma_region");
	EXPECT_EQ(last.to, "dma-heap:system");
	EXPECT_NE(last.reason.find("ENOMEM"), std::string::npos) << last.reason;
}

TEST_F(CmaTest, PoolSteadyStateMakesNoKernelAllocations)
{
	auto created = BufferManager::create();
	ASSERT_TRUE(created);
	BufferManager &manager = **created;
	auto request = AllocationRequest::image(1920, 1080, DRM_FORMAT_XRGB8888,
						Usage::Scanout, "frame");
	{
		auto warm = manager.allocatePooled(request);
		ASSERT_TRUE(warm);
		ASSERT_EQ((*warm)->source(), "dma-heap:default_cma_region");
	}
	CmaAreaInfo before = area();
	for (int frame = 0; frame < 100; frame++) {
		auto buffer = manager.allocatePooled(request);
		ASSERT_TRUE(buffer);
		ASSERT_TRUE(buffer->reused());
	}
	CmaAreaInfo after = area();
	/* The kernel's own counter: not a single CMA allocation in 100 frames. */
	EXPECT_EQ(*after.allocPagesSuccess, *before.allocPagesSuccess);
	manager.pool().trim();
}

TEST_F(CmaTest, SwapchainOfCmaBuffersAllocatesOnlyItsSlots)
{
	auto created = BufferManager::create();
	ASSERT_TRUE(created);
	BufferManager &manager = **created;

	SwapchainConfig config;
	config.width = 1024;
	config.height = 768;
	config.format = DRM_FORMAT_XRGB8888;
	config.usage = Usage::Scanout;
	config.name = "output";
	auto swapchain = Swapchain::create(config, [&](const AllocationRequest &r) {
		return manager.allocate(r, { .contiguous = true });
	});
	ASSERT_TRUE(swapchain) << swapchain.error().message();

	CmaAreaInfo before = area();
	std::optional<SwapchainSlot *> displayed;
	for (int frame = 0; frame < 60; frame++) {
		auto slot = (*swapchain)->acquire();
		ASSERT_TRUE(slot) << slot.error().message();
		ASSERT_TRUE(slot->has_value());
		ASSERT_TRUE((*swapchain)->submit(**slot));
		/* The display lets go of the previous frame when the new one shows. */
		if (displayed) {
			ASSERT_TRUE((*swapchain)->release(*displayed));
		}
		displayed = **slot;
	}
	CmaAreaInfo after = area();
	const uint64_t slotPages = 1024 * 768 * 4 / after.pageSize;
	/* Double buffering in this loop: two slots ever got memory. */
	EXPECT_EQ(*after.allocPagesSuccess - *before.allocPagesSuccess, 2 * slotPages);
	EXPECT_EQ(manager.stats().snapshot().find("dma-heap:default_cma_region")->allocations,
		  2u);
}

} /* namespace */
