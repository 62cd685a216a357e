/* SPDX-License-Identifier: MIT */
/*
 * Every call of bufmgr's memfd paths made to fail, one at a time, with
 * each errno a kernel gives: the host has memfds but no DRM, heaps or
 * udmabuf (those are swept in tests/kernel, in the VM).
 */
#include <bufmgr/fault_injection.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <linux/dma-heap.h>
#include <unistd.h>

#include <bufmgr/allocators.h>
#include <bufmgr/manager.h>
#include <bufmgr/mapping.h>
#include <bufmgr/memfd.h>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

#include "fault_sweep.h"
#include "fd_count.h"
#include "memfd_manager_fixture.h"

using namespace bufmgr;
using namespace heapcomp::test;

namespace {

/* A manager of memfd only, as on a machine without DRM or heaps. */
class FaultInjectionTest : public MemfdManagerTest
{
protected:
	/* What a wl_shm client's buffer goes through, end to end. */
	Result<void> allocateMapExportFree()
	{
		auto buffer = manager().allocate(AllocationRequest::image(
			64, 64, DRM_FORMAT_XRGB8888, Usage::Cpu, "faulty"));
		if (!buffer)
			return unexpected(std::move(buffer).error());
		auto mapping = Mapping::map(*buffer);
		if (!mapping)
			return unexpected(std::move(mapping).error());
		auto access = mapping->beginAccess(Access::Write);
		if (!access)
			return unexpected(std::move(access).error());
		std::memset(mapping->plane(0).data(), 0xa5, 64 * 64 * 4);
		if (auto ended = access->end(); !ended)
			return ended;
		/* The fd a client or another device gets. */
		UniqueFd exported = buffer->plane(0).fd.dup();
		if (!exported)
			return unexpected(errno, "export fd of " + buffer->source());
		return {};
	}
};

TEST_F(FaultInjectionTest, CountsWithoutRulesAndChangesNothing)
{
	manager();
	FaultInjection counting;
	ASSERT_TRUE(allocateMapExportFree());
	/* memfd_create, ftruncate, seal, mmap, munmap, dup. */
	EXPECT_EQ(counting.calls(SysCall::MemfdCreate), 1u);
	EXPECT_EQ(counting.calls(SysCall::Ftruncate), 1u);
	EXPECT_EQ(counting.calls(SysCall::Fcntl), 2u);
	EXPECT_EQ(counting.calls(SysCall::Mmap), 1u);
	EXPECT_EQ(counting.calls(SysCall::Munmap), 1u);
	EXPECT_EQ(counting.calls(), 6u);
	EXPECT_TRUE(counting.injected().empty());
}

TEST_F(FaultInjectionTest, FailsTheNthCallOfAKind)
{
	auto allocator = createMemfdAllocator();
	FaultInjection faults({ { SysCall::MemfdCreate, 2, EMFILE } });
	auto first = allocator->allocate(AllocationRequest::blob(4096, "one"));
	ASSERT_TRUE(first) << first.error().message();
	auto second = allocator->allocate(AllocationRequest::blob(8192, "two"));
	ASSERT_FALSE(second);
	EXPECT_EQ(second.error().code, EMFILE);
	EXPECT_TRUE(mentions(second.error().context, { "memfd", "'two'", "8192 B" }));
	auto third = allocator->allocate(AllocationRequest::blob(4096, "three"));
	EXPECT_TRUE(third);
	ASSERT_EQ(faults.injected().size(), 1u);
	EXPECT_EQ(faults.injected()[0].call, SysCall::MemfdCreate);
	EXPECT_EQ(faults.injected()[0].index, 4u);	/* after one memfd's 3 calls */
}

TEST_F(FaultInjectionTest, EintrIsRetried)
{
	auto allocator = createMemfdAllocator();
	FaultInjection faults({ { SysCall::Ftruncate, 1, EINTR, 3 } });
	auto buffer = allocator->allocate(AllocationRequest::blob(4096));
	ASSERT_TRUE(buffer) << buffer.error().message();
	EXPECT_EQ(faults.calls(SysCall::Ftruncate), 4u);
	EXPECT_EQ(faults.injected().size(), 3u);
}

TEST_F(FaultInjectionTest, HeapIoctlIsRetriedOnEintrAndEagain)
{
	/* /dev/null opens but is no heap: the real ioctl says ENOTTY. */
	auto heap = createDmaHeapAllocator("/dev/null", false);
	ASSERT_TRUE(heap);
	FaultInjection faults({ { SysCall::Ioctl, 1, EINTR, 2, DMA_HEAP_IOCTL_ALLOC },
				{ SysCall::Ioctl, 3, EAGAIN, 1, DMA_HEAP_IOCTL_ALLOC } });
	auto buffer = (*heap)->allocate(AllocationRequest::blob(4096));
	ASSERT_FALSE(buffer);
	EXPECT_EQ(buffer.error().code, ENOTTY);
	EXPECT_EQ(faults.calls(SysCall::Ioctl), 4u);
}

TEST_F(FaultInjectionTest, FallbackIsRecordedAndEveryAttemptNamed)
{
	/* A second source that fails on its own, tried first. */
	auto heap = createDmaHeapAllocator("/dev/null", false);
	ASSERT_TRUE(heap);
	SourceInfo info{ (*heap)->source(), AllocatorKind::DmaHeap, (*heap)->capabilities() };
	manager().addAllocator(std::move(*heap), info);
	Constraints c;
	c.preferredSource = "dma-heap:null";

	LogCapture log;
	FaultInjection faults({ { SysCall::MemfdCreate, 1, EMFILE } });
	auto buffer = manager().allocate(AllocationRequest::blob(65536, "fb"), c);
	ASSERT_FALSE(buffer);
	EXPECT_EQ(buffer.error().code, EMFILE);
	EXPECT_TRUE(mentions(buffer.error().context,
			     { "dma-heap 'null'", "ENOTTY", "fell back to memfd",
			       "memfd_create", "65536 B", "EMFILE" }));

	auto snap = manager().stats().snapshot();
	ASSERT_EQ(snap.recentFallbacks.size(), 2u) << snap.toJson();
	EXPECT_EQ(snap.recentFallbacks[0].from, "dma-heap:null");
	EXPECT_EQ(snap.recentFallbacks[0].to, "memfd");
	EXPECT_EQ(snap.recentFallbacks[1].from, "memfd");
	EXPECT_EQ(snap.recentFallbacks[1].to, "");
	EXPECT_TRUE(mentions(snap.recentFallbacks[1].reason, { "EMFILE", "65536 B" }));
	EXPECT_EQ(snap.find("memfd")->failuresByErrno.at(EMFILE), 1u);

	auto lines = log.take();
	ASSERT_EQ(lines.size(), 2u);
	EXPECT_TRUE(mentions(lines[0], { "ENOTTY", "falling back to memfd" }));
	EXPECT_TRUE(mentions(lines[1], { "EMFILE", "no source left" }));
}

TEST_F(FaultInjectionTest, SweepAllocateMapExportFree)
{
	BufferManager &m = manager();
	uint64_t failures = 0;
	auto totals = sweepFaults(
		[&] { return allocateMapExportFree(); }, &m.stats(),
		[&](const FaultOutcome &o) {
			const SysCall call = o.fault.call;
			const int error = o.fault.error;
			if (call == SysCall::Munmap) {
				/* Nothing to fail by then: it is said and the run goes on. */
				EXPECT_TRUE(o.result);
				ASSERT_EQ(o.warnings.size(), 1u);
				EXPECT_TRUE(mentions(o.warnings[0],
						     { "munmap", "16384 B", errnoName(error) }));
				return;
			}
			if (error == EINTR && retriesEintr(call)) {
				EXPECT_TRUE(o.result) << o.result.error().message();
				return;
			}
			ASSERT_FALSE(o.result);
			failures++;
			const Error &e = o.result.error();
			EXPECT_EQ(e.code, error) << e.message();
			EXPECT_NE(e.message().find(std::strerror(error)), std::string::npos);
			switch (call) {
			case SysCall::MemfdCreate:
			case SysCall::Ftruncate:
			case SysCall::Fcntl:
				if (e.context.rfind("export", 0) == 0) {
					EXPECT_TRUE(mentions(e.context, { "memfd" }));
					break;
				}
				/* An allocation: source, size, errno and fallback. */
				EXPECT_TRUE(mentions(e.context, { "memfd 'faulty'", "16384 B",
								  "every source failed",
								  errnoName(error) }));
				ASSERT_EQ(o.warnings.size(), 1u);
				EXPECT_TRUE(mentions(o.warnings[0],
						     { errnoName(error), "no source left" }));
				break;
			case SysCall::Mmap:
				EXPECT_TRUE(mentions(e.context, { "'faulty'", "memfd", "mmap 16384 B" }));
				break;
			default:
				ADD_FAILURE() << "unexpected call " << toString(call);
			}
		});
	const auto snap = m.stats().snapshot();
	uint64_t recorded = 0;
	for (const auto &[err, n] : snap.find("memfd")->failuresByErrno)
		recorded += n;
	/* Every failed allocation counted, with its errno. */
	EXPECT_EQ(recorded, snap.totalFallbacks);
	EXPECT_GT(recorded, 0u);
	EXPECT_EQ(totals.calls, 6u);
	EXPECT_EQ(totals.runs, 6u * std::size(kSweptErrnos));
	std::printf("memfd sweep: %llu calls, %llu faults injected, %llu survived, "
		    "%llu failed cleanly\n",
		    static_cast<unsigned long long>(totals.calls),
		    static_cast<unsigned long long>(totals.runs),
		    static_cast<unsigned long long>(totals.survived),
		    static_cast<unsigned long long>(failures));
}

TEST_F(FaultInjectionTest, SweepPooledAllocation)
{
	BufferManager &m = manager();
	auto totals = sweepFaults(
		[&]() -> Result<void> {
			{
				auto pooled = m.allocatePooled(
					AllocationRequest::blob(10000, "pooled"));
				if (!pooled)
					return unexpected(std::move(pooled).error());
			}
			/* Spares would count as live: the next run must start empty. */
			m.pool().trim();
			return {};
		},
		&m.stats(),
		[&](const FaultOutcome &o) {
			expectRetriedOrFailed(o, { "memfd 'pooled'", errnoName(o.fault.error) });
		});
	EXPECT_EQ(totals.calls, 3u);
}

TEST_F(FaultInjectionTest, SweepSealedContents)
{
	const std::string keymap(20000, 'k');
	auto totals = sweepFaults(
		[&]() -> Result<void> {
			auto fd = createSealedMemfd("keymap", std::as_bytes(std::span(keymap)));
			if (!fd)
				return unexpected(std::move(fd).error());
			return {};
		},
		nullptr,
		[&](const FaultOutcome &o) {
			expectRetriedOrFailed(o, { "memfd 'keymap'", "20000 B" });
		});
	EXPECT_EQ(totals.calls, 3u);
}

} /* namespace */
