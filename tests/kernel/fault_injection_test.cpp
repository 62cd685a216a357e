/* SPDX-License-Identifier: MIT */
/*
 * Every kernel call of an allocate, map, sync, identify and export cycle
 * made to fail in turn, for each source the VM has: the system and CMA
 * heaps, udmabuf, dumb buffers and GBM on vkms. A failure must name what
 * failed and how; a failed source must hand over to the next one and say
 * so in the statistics; nothing may stay behind.
 */
#include <bufmgr/fault_injection.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include <bufmgr/exporter.h>
#include <bufmgr/manager.h>
#include <bufmgr/mapping.h>

#include <drm.h>
#include <drm_fourcc.h>

#include "fault_sweep.h"
#include "kernel_test_env.h"

using namespace bufmgr;
using namespace heapcomp::test;

namespace {

class KernelFaultTest : public KernelTest
{
protected:
	void SetUp() override
	{
		KernelTest::SetUp();
		auto created = BufferManager::create();
		ASSERT_TRUE(created) << created.error().message();
		manager_ = std::move(*created);
	}

	void TearDown() override
	{
		manager_.reset();
		KernelTest::TearDown();
	}

	/* The first source of this kind, which must exist in the VM. */
	std::string sourceOf(AllocatorKind kind, const std::string &prefix = {})
	{
		for (const SourceInfo &info : manager_->sources()) {
			if (info.kind == kind && info.source.rfind(prefix, 0) == 0)
				return info.source;
		}
		return {};
	}

	/* Sweeps the cycle with `source` asked for first. */
	void sweep(const std::string &source)
	{
		ASSERT_NE(manager_->allocator(source), nullptr) << source;
		Constraints constraints;
		constraints.preferredSource = source;
		constraints.dmaBuf = true;
		constraints.cpuAccess = true;
		std::string served;

		auto cycle = [&]() -> Result<void> {
			served.clear();
			auto buffer = manager_->allocate(
				AllocationRequest::image(64, 64, DRM_FORMAT_XRGB8888,
							 Usage::Render, "faulty"),
				constraints);
			if (!buffer)
				return unexpected(std::move(buffer).error());
			served = buffer->source();
			auto mapping = Mapping::map(*buffer);
			if (!mapping)
				return unexpected(std::move(mapping).error());
			auto access = mapping->beginAccess(Access::Write);
			if (!access)
				return unexpected(std::move(access).error());
			std::memset(mapping->plane(0).data(), 0x5a, 64 * 4);
			if (auto ended = access->end(); !ended)
				return ended;
			auto info = identifyDmaBuf(buffer->plane(0).fd.get());
			if (!info)
				return unexpected(std::move(info).error());
			UniqueFd exported = buffer->plane(0).fd.dup();
			if (!exported)
				return unexpected(errno, "export fd of " + buffer->source());
			return {};
		};

		uint64_t fallbacks = 0, failures = 0;
		auto totals = sweepFaults(cycle, &manager_->stats(), [&](const FaultOutcome &o) {
			const SysCall call = o.fault.call;
			const int error = o.fault.error;
			const std::string name = errnoName(error);
			const unsigned long request = o.fault.ioctlRequest;
			if (!o.result) {
				failures++;
				const Error &e = o.result.error();
				EXPECT_EQ(e.code, error) << e.message();
				/* The buffer's own steps name it; fdinfo names its path. */
				if (e.context.find("/fdinfo/") == std::string::npos &&
				    e.context.rfind("export", 0) != 0 &&
				    e.context.find("DMA_BUF_IOCTL_SYNC end") == std::string::npos) {
					EXPECT_TRUE(mentions(e.context, { "'faulty'", source }));
				}
				return;
			}
			if (served != source) {
				/* Handed over, and the statistics say why. */
				fallbacks++;
				auto snap = manager_->stats().snapshot();
				ASSERT_FALSE(snap.recentFallbacks.empty());
				const FallbackEvent &event = snap.recentFallbacks.back();
				EXPECT_EQ(event.from, source);
				EXPECT_EQ(event.to, served);
				EXPECT_TRUE(mentions(event.reason, { name, "64x64 XR24" }));
				ASSERT_EQ(o.warnings.size(), 1u);
				EXPECT_TRUE(mentions(o.warnings[0], { name, "falling back to" }));
				return;
			}
			/* Served as if nothing happened: only where that is right. */
			if (error == EINTR && retriesEintr(call))
				return;
			if (call == SysCall::Ioctl && request == DMA_BUF_SET_NAME_B)
				return;	/* a name is for diagnostics only */
			if (call == SysCall::Munmap ||
			    (call == SysCall::Ioctl && request == DRM_IOCTL_MODE_DESTROY_DUMB)) {
				ASSERT_EQ(o.warnings.size(), 1u);
				EXPECT_TRUE(mentions(o.warnings[0], { name }));
				return;
			}
			ADD_FAILURE() << "fault went unnoticed: " << toString(o.fault);
		});
		std::printf("%s: %llu calls, %llu faults injected: %llu survived "
			    "(%llu by falling back), %llu failed cleanly\n",
			    source.c_str(), static_cast<unsigned long long>(totals.calls),
			    static_cast<unsigned long long>(totals.runs),
			    static_cast<unsigned long long>(totals.survived),
			    static_cast<unsigned long long>(fallbacks),
			    static_cast<unsigned long long>(failures));
		EXPECT_GT(fallbacks, 0u) << "no fault of " << source << " made it fall back";
	}

	std::unique_ptr<BufferManager> manager_;
};

TEST_F(KernelFaultTest, SystemHeap)
{
	sweep("dma-heap:" + kSystemHeap);
}

TEST_F(KernelFaultTest, CmaHeap)
{
	sweep("dma-heap:" + kCmaHeap);
}

TEST_F(KernelFaultTest, Udmabuf)
{
	sweep("udmabuf");
}

TEST_F(KernelFaultTest, DumbBuffersOnVkms)
{
	const std::string vkms = findDrmCard("vkms");
	ASSERT_FALSE(vkms.empty());
	sweep("dumb:" + vkms);
}

TEST_F(KernelFaultTest, GbmOnVkms)
{
	const std::string vkms = findDrmCard("vkms");
	ASSERT_FALSE(vkms.empty());
	sweep("gbm:" + vkms);
}

/* An interrupted allocation is no failure: the ioctl is made again. */
TEST_F(KernelFaultTest, HeapAllocAndSyncSurviveEintr)
{
	FaultInjection faults({ { SysCall::Ioctl, 1, EINTR, 3, DMA_HEAP_IOCTL_ALLOC },
				{ SysCall::Ioctl, 1, EINTR, 3, DMA_BUF_IOCTL_SYNC } });
	Constraints c;
	c.preferredSource = "dma-heap:" + kSystemHeap;
	auto buffer = manager_->allocate(AllocationRequest::blob(65536, "eintr"), c);
	ASSERT_TRUE(buffer) << buffer.error().message();
	EXPECT_EQ(buffer->source(), c.preferredSource.str());
	auto mapping = Mapping::map(*buffer);
	ASSERT_TRUE(mapping) << mapping.error().message();
	auto access = mapping->beginAccess(Access::ReadWrite);
	ASSERT_TRUE(access) << access.error().message();
	EXPECT_TRUE(access->end());
	EXPECT_EQ(faults.injected().size(), 6u);
	EXPECT_EQ(manager_->stats().snapshot().totalFallbacks, 0u);
}

/* A heap that cannot be opened is noted with its errno, and skipped. */
TEST_F(KernelFaultTest, DiscoveryNotesUnopenableHeaps)
{
	manager_.reset();
	std::unique_ptr<BufferManager> manager;
	{
		FaultInjection faults({ { SysCall::Open, 1, EACCES, 1000 } });
		auto created = BufferManager::create();
		ASSERT_TRUE(created) << created.error().message();
		manager = std::move(*created);
		EXPECT_GT(faults.injected().size(), 0u);
	}
	/* Only memfd needs no open. */
	ASSERT_EQ(manager->sources().size(), 1u);
	EXPECT_EQ(manager->sources()[0].source, "memfd");
	bool heapNoted = false;
	for (const SetupNote &note : manager->setupNotes())
		heapNoted |= note.source == "dma-heap:" + kSystemHeap && note.error.code == EACCES;
	EXPECT_TRUE(heapNoted);
}

} /* namespace */
