/* SPDX-License-Identifier: MIT */
#include <cerrno>

#include <bufmgr/allocators.h>
#include <bufmgr/exporter.h>
#include <bufmgr/manager.h>

#include <drm_fourcc.h>

#include "kernel_test_env.h"

using namespace bufmgr;
using namespace heapcomp::test;

namespace {

class UdmabufTest : public KernelTest
{
};

TEST_F(UdmabufTest, AllocatesIdentifiesAndRoundTrips)
{
	auto allocator = createUdmabufAllocator();
	ASSERT_TRUE(allocator) << allocator.error().message();
	auto buffer = (*allocator)->allocate(
		AllocationRequest::image(640, 480, DRM_FORMAT_ARGB8888, Usage::Cpu, "udmabuf-test"));
	ASSERT_TRUE(buffer) << buffer.error().message();
	EXPECT_TRUE(buffer->isDmaBuf());
	EXPECT_EQ(buffer->allocator(), AllocatorKind::Udmabuf);

	auto info = identifyDmaBuf(buffer->plane(0).fd.get());
	ASSERT_TRUE(info) << info.error().message();
	EXPECT_EQ(info->exporter, "udmabuf");
	EXPECT_EQ(info->size, buffer->size());

	fillPattern(*buffer, 0x5eed);
	EXPECT_TRUE(hasPattern(*buffer, 0x5eed));
}

TEST_F(UdmabufTest, LimitIsReportedNotHidden)
{
	/* udmabuf caps one buffer at size_limit_mb (64 MiB by default). */
	auto allocator = createUdmabufAllocator();
	ASSERT_TRUE(allocator);
	auto big = (*allocator)->allocate(AllocationRequest::blob(256ull << 20, "big"));
	ASSERT_FALSE(big);
	EXPECT_EQ(big.error().code, EINVAL);
	EXPECT_NE(big.error().context.find("udmabuf"), std::string::npos);
	EXPECT_NE(big.error().context.find("268435456 B"), std::string::npos)
		<< big.error().context;
}

TEST_F(UdmabufTest, MissingDeviceIsENOENT)
{
	auto allocator = createUdmabufAllocator("/dev/no-udmabuf");
	ASSERT_FALSE(allocator);
	EXPECT_EQ(allocator.error().code, ENOENT);
}

TEST_F(UdmabufTest, IdentifiesEveryExporterOfTheMachine)
{
	auto manager = BufferManager::create();
	ASSERT_TRUE(manager);
	struct Case {
		const char *source;
		const char *exporter;
	} cases[] = {
		{ "dma-heap:system", "system" },
		/* The area's own name: the exporter of both heap nodes. */
		{ "dma-heap:default_cma_region", nullptr },
		{ "udmabuf", "udmabuf" },
	};
	for (const Case &c : cases) {
		SCOPED_TRACE(c.source);
		Constraints constraints;
		constraints.preferredSource = c.source;
		auto buffer = (*manager)->allocate(AllocationRequest::blob(4096), constraints);
		ASSERT_TRUE(buffer) << buffer.error().message();
		ASSERT_EQ(buffer->source(), c.source);
		auto info = identifyDmaBuf(buffer->plane(0).fd.get());
		ASSERT_TRUE(info) << info.error().message();
		if (c.exporter) {
			EXPECT_EQ(info->exporter, c.exporter);
		}
		const HeapInfo *heap = heapForExporter((*manager)->heaps(), info->exporter);
		if (buffer->allocator() == AllocatorKind::DmaHeap) {
			ASSERT_NE(heap, nullptr) << info->exporter;
			EXPECT_EQ("dma-heap:" + heap->name, c.source);
		}
	}
	/* A memfd is no dma-buf: an error, not a guess. */
	auto memfd = (*manager)->allocate(AllocationRequest::blob(4096));
	ASSERT_TRUE(memfd);
	ASSERT_EQ(memfd->source(), "memfd");
	EXPECT_FALSE(identifyDmaBuf(memfd->plane(0).fd.get()));
}

} /* namespace */
