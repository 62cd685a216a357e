/* SPDX-License-Identifier: MIT */
#include <bufmgr/manager.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include <bufmgr/allocators.h>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

#include "fd_count.h"
#include "memfd_manager_fixture.h"

using namespace bufmgr;
using heapcomp::test::countOpenFds;

namespace {

/* A machine with nothing but memfd: no heaps, no udmabuf, no DRM. */
using ManagerTest = heapcomp::test::MemfdManagerTest;

TEST_F(ManagerTest, MissingSourcesAreNotedNotFatal)
{
	auto manager = create();
	ASSERT_TRUE(manager);
	auto sources = manager->sources();
	ASSERT_EQ(sources.size(), 1u);
	EXPECT_EQ(sources[0].source, "memfd");

	bool udmabufNoted = false;
	for (const SetupNote &note : manager->setupNotes()) {
		if (note.source == "udmabuf") {
			udmabufNoted = true;
			EXPECT_EQ(note.error.code, ENOENT);
		}
	}
	EXPECT_TRUE(udmabufNoted);
}

TEST_F(ManagerTest, NothingAvailableIsAnError)
{
	config_.memfd = false;
	auto manager = BufferManager::create(config_);
	ASSERT_FALSE(manager);
	EXPECT_EQ(manager.error().code, ENODEV);
}

TEST_F(ManagerTest, AllocationIsCountedLiveUntilFreed)
{
	auto manager = create();
	ASSERT_TRUE(manager);
	{
		auto buffer = manager->allocate(
			AllocationRequest::image(1920, 1080, DRM_FORMAT_XRGB8888, Usage::Cpu, "ui"));
		ASSERT_TRUE(buffer) << buffer.error().message();
		EXPECT_EQ(buffer->source(), "memfd");

		auto snap = manager->stats().snapshot();
		const SourceSnapshot *memfd = snap.find("memfd");
		ASSERT_NE(memfd, nullptr);
		EXPECT_EQ(memfd->allocations, 1u);
		EXPECT_EQ(memfd->liveBuffers, 1u);
		EXPECT_EQ(memfd->liveBytes, 8294400u);
		EXPECT_EQ(memfd->latency.count, 1u);
	}
	auto snap = manager->stats().snapshot();
	const SourceSnapshot *memfd = snap.find("memfd");
	ASSERT_NE(memfd, nullptr);
	EXPECT_EQ(memfd->frees, 1u);
	EXPECT_EQ(memfd->liveBuffers, 0u);
	EXPECT_EQ(memfd->liveBytes, 0u);
	EXPECT_EQ(memfd->peakBytes, 8294400u);
}

TEST_F(ManagerTest, FailedSourceFallsBackWithReason)
{
	auto manager = create();
	ASSERT_TRUE(manager);

	/* /dev/null opens like a heap but answers DMA_HEAP_IOCTL_ALLOC with ENOTTY. */
	auto broken = createDmaHeapAllocator("/dev/null", false);
	ASSERT_TRUE(broken);
	SourceInfo info{ (*broken)->source(), AllocatorKind::DmaHeap, (*broken)->capabilities() };
	manager->addAllocator(std::move(*broken), info);

	Constraints c;
	c.preferredSource = "dma-heap:null";
	auto buffer = manager->allocate(AllocationRequest::blob(65536, "fb"), c);
	ASSERT_TRUE(buffer) << buffer.error().message();
	EXPECT_EQ(buffer->source(), "memfd");

	auto snap = manager->stats().snapshot();
	const SourceSnapshot *heap = snap.find("dma-heap:null");
	ASSERT_NE(heap, nullptr);
	EXPECT_EQ(heap->failures, 1u);
	EXPECT_EQ(heap->failuresByErrno.at(ENOTTY), 1u);
	EXPECT_EQ(heap->fallbacks, 1u);
	ASSERT_EQ(snap.recentFallbacks.size(), 1u) << snap.toJson();
	EXPECT_EQ(snap.recentFallbacks[0].from, "dma-heap:null");
	EXPECT_EQ(snap.recentFallbacks[0].to, "memfd");
	EXPECT_NE(snap.recentFallbacks[0].reason.find("ENOTTY"), std::string::npos);
	EXPECT_NE(snap.recentFallbacks[0].reason.find("65536 B"), std::string::npos);
}

TEST_F(ManagerTest, EverySourceFailingNamesEachOne)
{
	config_.memfd = false;
	config_.paths.dmaHeapDir = tree_.path("heaps");
	std::filesystem::create_directories(config_.paths.dmaHeapDir);
	/* A node that opens but is no heap: the allocation itself must fail. */
	std::filesystem::create_symlink("/dev/null", config_.paths.dmaHeapDir + "/system");
	auto manager = create();
	ASSERT_TRUE(manager);

	auto buffer = manager->allocate(AllocationRequest::blob(4096, "x"));
	ASSERT_FALSE(buffer);
	EXPECT_EQ(buffer.error().code, ENOTTY);
	const std::string &msg = buffer.error().context;
	EXPECT_NE(msg.find("dma-heap 'system'"), std::string::npos) << msg;
	EXPECT_NE(msg.find("4096 B"), std::string::npos) << msg;
	EXPECT_NE(msg.find("every source failed"), std::string::npos) << msg;
}

TEST_F(ManagerTest, ImpossibleConstraintsSayWhy)
{
	auto manager = create();
	ASSERT_TRUE(manager);
	Constraints c;
	c.contiguous = true;
	auto buffer = manager->allocate(
		AllocationRequest::image(64, 64, DRM_FORMAT_XRGB8888, Usage::Scanout), c);
	ASSERT_FALSE(buffer);
	EXPECT_EQ(buffer.error().code, ENODEV);
	EXPECT_NE(buffer.error().context.find("memfd"), std::string::npos);
}

/* A source the reader refuses is not taken, from the pool or fresh, though a plan without the refusal was. */
TEST_F(ManagerTest, RefusedSourceIsNeverTaken)
{
	auto manager = create();
	ASSERT_TRUE(manager);
	auto request = AllocationRequest::image(64, 64, DRM_FORMAT_XRGB8888, Usage::Cpu);
	{
		auto pooled = manager->allocatePooled(request);
		ASSERT_TRUE(pooled);
		EXPECT_EQ((*pooled)->source(), "memfd");
	}
	Constraints c;
	c.refused.push_back({ "memfd", "the reader cannot import it" });
	auto refused = manager->allocatePooled(request, c);
	ASSERT_FALSE(refused) << "got a buffer from " << (*refused)->source();
	EXPECT_EQ(refused.error().code, ENODEV);
	EXPECT_NE(refused.error().context.find("the reader cannot import it"), std::string::npos)
		<< refused.error().context;
	EXPECT_FALSE(manager->allocate(request, c));
	EXPECT_TRUE(manager->allocate(request));
}

TEST_F(ManagerTest, PooledReuseMakesNoNewAllocation)
{
	auto manager = create();
	ASSERT_TRUE(manager);
	auto request = AllocationRequest::image(640, 480, DRM_FORMAT_ARGB8888, Usage::Cpu);

	int firstFdNumber;
	{
		auto first = manager->allocatePooled(request);
		ASSERT_TRUE(first);
		EXPECT_FALSE(first->reused());
		firstFdNumber = (*first)->plane(0).fd.get();
	}
	for (int frame = 0; frame < 10; frame++) {
		auto again = manager->allocatePooled(request);
		ASSERT_TRUE(again);
		EXPECT_TRUE(again->reused());
		EXPECT_EQ((*again)->plane(0).fd.get(), firstFdNumber);
	}
	auto snap = manager->stats().snapshot();
	const SourceSnapshot *memfd = snap.find("memfd");
	ASSERT_NE(memfd, nullptr);
	EXPECT_EQ(memfd->allocations, 1u);
	EXPECT_EQ(memfd->poolHits, 10u);
	EXPECT_EQ(memfd->poolMisses, 1u);

	EXPECT_GT(manager->pool().trim(), 0u);
	EXPECT_EQ(manager->stats().snapshot().find("memfd")->liveBuffers, 0u);
}

TEST_F(ManagerTest, PoolMissIsCountedOncePerRequest)
{
	auto manager = create();
	ASSERT_TRUE(manager);
	/* A second source in the plan: a miss must not be counted on both. */
	auto broken = createDmaHeapAllocator("/dev/null", false);
	ASSERT_TRUE(broken);
	SourceInfo info{ (*broken)->source(), AllocatorKind::DmaHeap, (*broken)->capabilities() };
	manager->addAllocator(std::move(*broken), info);

	auto buffer = manager->allocatePooled(AllocationRequest::blob(8192));
	ASSERT_TRUE(buffer);
	auto snap = manager->stats().snapshot();
	EXPECT_EQ(snap.find("memfd")->poolMisses, 1u);
	EXPECT_EQ(snap.find("dma-heap:null")->poolMisses, 0u);
	EXPECT_EQ(manager->pool().snapshot().misses, 1u);
}

TEST_F(ManagerTest, JsonHasEverySection)
{
	auto manager = create();
	ASSERT_TRUE(manager);
	auto buffer = manager->allocate(AllocationRequest::blob(4096));
	ASSERT_TRUE(buffer);
	std::string json = manager->toJson();
	EXPECT_EQ(json.front(), '{');
	EXPECT_EQ(json.back(), '}');
	EXPECT_NE(json.find("\"stats\":"), std::string::npos);
	EXPECT_NE(json.find("\"pool\":"), std::string::npos);
	EXPECT_NE(json.find("\"source\":\"memfd\""), std::string::npos);
}

} /* namespace */
