/* SPDX-License-Identifier: MIT */
/* DMA-BUF heaps through bufmgr, on the VM's real system and CMA heaps. */
#include <cerrno>
#include <sys/wait.h>
#include <unistd.h>

#include <bufmgr/allocators.h>
#include <bufmgr/exporter.h>
#include <bufmgr/heap.h>
#include <bufmgr/manager.h>
#include <bufmgr/mapping.h>

#include <drm_fourcc.h>

#include "kernel_test_env.h"

using namespace bufmgr;
using namespace heapcomp::test;

namespace {

class DmaHeapTest : public KernelTest
{
};

TEST_F(DmaHeapTest, DiscoversSystemAndCmaWithAlias)
{
	auto heaps = discoverHeaps();
	ASSERT_TRUE(heaps) << heaps.error().message();

	const HeapInfo *system = findHeap(*heaps, kSystemHeap);
	const HeapInfo *cma = findHeap(*heaps, kCmaHeap);
	const HeapInfo *alias = findHeap(*heaps, kCmaAlias);
	ASSERT_NE(system, nullptr);
	ASSERT_NE(cma, nullptr);
	ASSERT_NE(alias, nullptr);

	EXPECT_EQ(system->kind, HeapKind::System);
	EXPECT_TRUE(system->accessible);
	EXPECT_EQ(cma->kind, HeapKind::DefaultCma);
	EXPECT_EQ(cma->contiguous, std::optional<bool>(true));
	EXPECT_FALSE(cma->isAlias());
	/* One CMA area behind two nodes: counted once. */
	EXPECT_EQ(alias->aliasOf, kCmaHeap);
	EXPECT_EQ(cma->cmaArea, alias->cmaArea);
	EXPECT_FALSE(cma->cmaArea.empty());

	auto areas = readCmaAreas();
	ASSERT_EQ(areas.size(), 1u);
	/* cma=128M on the kernel command line. */
	EXPECT_EQ(totalCmaBytes(*heaps, areas), 128ull << 20);
	EXPECT_EQ(totalCmaBytes(areas), 128ull << 20);
}

TEST_F(DmaHeapTest, ManagerBuildsOneAllocatorPerArea)
{
	auto manager = BufferManager::create();
	ASSERT_TRUE(manager) << manager.error().message();
	EXPECT_NE((*manager)->allocator("dma-heap:system"), nullptr);
	EXPECT_NE((*manager)->allocator("dma-heap:default_cma_region"), nullptr);
	EXPECT_EQ((*manager)->allocator("dma-heap:reserved"), nullptr);
	EXPECT_NE((*manager)->allocator("udmabuf"), nullptr);
	EXPECT_NE((*manager)->allocator("memfd"), nullptr);
}

TEST_F(DmaHeapTest, SystemHeapBufferIsNamedAndIdentified)
{
	auto allocator = createDmaHeapAllocator("/dev/dma_heap/system", false);
	ASSERT_TRUE(allocator) << allocator.error().message();
	auto buffer = (*allocator)->allocate(
		AllocationRequest::image(1920, 1080, DRM_FORMAT_XRGB8888, Usage::Render,
					 "heapcomp-test"));
	ASSERT_TRUE(buffer) << buffer.error().message();
	EXPECT_TRUE(buffer->isDmaBuf());
	EXPECT_EQ(buffer->source(), "dma-heap:system");
	EXPECT_EQ(buffer->plane(0).stride, 7680u);

	auto info = identifyDmaBuf(buffer->plane(0).fd.get());
	ASSERT_TRUE(info) << info.error().message();
	EXPECT_EQ(info->exporter, "system");
	EXPECT_EQ(info->size, buffer->size());
	EXPECT_EQ(info->name, std::optional<std::string>("heapcomp-test"));
}

/* The kernel takes names of up to 31 bytes: longer ones are set cut short. */
TEST_F(DmaHeapTest, NamesTooLongForTheKernelAreTruncated)
{
	auto allocator = createDmaHeapAllocator("/dev/dma_heap/system", false);
	ASSERT_TRUE(allocator) << allocator.error().message();

	const std::string fits(31, 'f');
	const std::string tooLong = std::string(31, 'l') + "-and-more";
	for (const std::string &name : { fits, tooLong }) {
		SCOPED_TRACE(name);
		auto buffer = (*allocator)->allocate(AllocationRequest::blob(4096, name));
		ASSERT_TRUE(buffer) << buffer.error().message();
		EXPECT_EQ(buffer->name(), name);

		auto info = identifyDmaBuf(buffer->plane(0).fd.get());
		ASSERT_TRUE(info) << info.error().message();
		EXPECT_EQ(info->name, std::optional<std::string>(name.substr(0, 31)));
	}
}

TEST_F(DmaHeapTest, SyncedMappingRoundTrip)
{
	for (const char *heap : { "system", "default_cma_region" }) {
		SCOPED_TRACE(heap);
		auto allocator = createDmaHeapAllocator(std::string("/dev/dma_heap/") + heap,
							true);
		ASSERT_TRUE(allocator);
		auto buffer = (*allocator)->allocate(AllocationRequest::blob(1 << 20, "rt"));
		ASSERT_TRUE(buffer) << buffer.error().message();
		fillPattern(*buffer, 0xc0ffee);
		EXPECT_TRUE(hasPattern(*buffer, 0xc0ffee));
		EXPECT_FALSE(hasPattern(*buffer, 0xbad));
	}
}

TEST_F(DmaHeapTest, Nv12PlanesShareOneDmaBuf)
{
	auto allocator = createDmaHeapAllocator("/dev/dma_heap/system", false);
	ASSERT_TRUE(allocator);
	auto buffer = (*allocator)->allocate(
		AllocationRequest::image(1280, 720, DRM_FORMAT_NV12, Usage::Video));
	ASSERT_TRUE(buffer);
	ASSERT_EQ(buffer->numPlanes(), 2u);
	EXPECT_TRUE(buffer->plane(0).fd == buffer->plane(1).fd);
	EXPECT_EQ(buffer->plane(0).stride, 1280u);
	EXPECT_EQ(buffer->plane(1).offset, 1280u * 720);

	auto mapping = Mapping::map(*buffer);
	ASSERT_TRUE(mapping);
	auto access = mapping->beginAccess(Access::ReadWrite);
	ASSERT_TRUE(access);
	mapping->plane(1)[0] = 0x80;
	EXPECT_EQ(mapping->plane(0)[1280 * 720], 0x80);
}

TEST_F(DmaHeapTest, BadInputFailsClearly)
{
	auto allocator = createDmaHeapAllocator("/dev/dma_heap/system", false);
	ASSERT_TRUE(allocator);

	auto zero = (*allocator)->allocate(AllocationRequest::blob(0));
	ASSERT_FALSE(zero);
	EXPECT_EQ(zero.error().code, EINVAL);

	/* 1 TiB: the kernel refuses more than the machine's memory. */
	auto huge = (*allocator)->allocate(AllocationRequest::blob(1ull << 40, "huge"));
	ASSERT_FALSE(huge);
	EXPECT_EQ(huge.error().code, ENOMEM);
	EXPECT_NE(huge.error().context.find("dma-heap 'system'"), std::string::npos)
		<< huge.error().context;
	EXPECT_NE(huge.error().context.find("1099511627776 B"), std::string::npos)
		<< huge.error().context;

	auto overflow = (*allocator)->allocate(AllocationRequest::blob(UINT64_MAX - 100));
	ASSERT_FALSE(overflow);
	EXPECT_EQ(overflow.error().code, EOVERFLOW);

	auto unknown = (*allocator)->allocate(
		AllocationRequest::image(64, 64, fourcc_code('Z', 'Z', 'Z', 'Z'), Usage::Render));
	ASSERT_FALSE(unknown);
	EXPECT_EQ(unknown.error().code, EINVAL);

	auto missing = createDmaHeapAllocator("/dev/dma_heap/no-such-heap", false);
	ASSERT_FALSE(missing);
	EXPECT_EQ(missing.error().code, ENOENT);
	EXPECT_NE(missing.error().context.find("no-such-heap"), std::string::npos);
}

TEST_F(DmaHeapTest, UnprivilegedUserSeesHeapsAsInaccessible)
{
	/* Heap nodes are root-only (0600), as on most distributions. */
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		auto heaps = discoverHeaps();
		if (!heaps)
			_exit(11);
		const HeapInfo *system = findHeap(*heaps, kSystemHeap);
		if (!system)
			_exit(12);	/* listed even though it cannot be opened */
		if (system->accessible || system->openErrno != EACCES)
			_exit(13);
		auto manager = BufferManager::create();
		if (!manager || (*manager)->allocator("dma-heap:system"))
			_exit(14);
		bool noted = false;
		for (const SetupNote &note : (*manager)->setupNotes())
			noted |= note.source == "dma-heap:system" && note.error.code == EACCES;
		_exit(noted ? 0 : 15);
	}
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0);
}

} /* namespace */
