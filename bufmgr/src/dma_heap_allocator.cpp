/* SPDX-License-Identifier: MIT */
#include <bufmgr/allocators.h>

#include <cerrno>
#include <fcntl.h>
#include <linux/dma-heap.h>

#include "allocator_util.h"

namespace bufmgr {

namespace {

/* One DMA-BUF heap: system, CMA, or any other /dev/dma_heap node. */
class DmaHeapAllocator final : public Allocator
{
public:
	DmaHeapAllocator(UniqueFd heap, std::string name, bool contiguous)
		: heap_(std::move(heap)), name_(std::move(name)),
		  what_("dma-heap '" + name_ + "'"),
		  origin_{ AllocatorKind::DmaHeap, "dma-heap:" + name_, true, contiguous }
	{
	}

	AllocatorKind kind() const override { return AllocatorKind::DmaHeap; }
	const std::string &source() const override { return origin_.source.str(); }
	uint32_t capabilities() const override
	{
		uint32_t caps = CapDmaBuf | CapCpuMap;
		return origin_.contiguous ? caps | CapContiguous : caps;
	}

	Result<Buffer> allocate(const AllocationRequest &request) override
	{
		/* 256-byte strides satisfy the scanout engines we target. */
		auto layout = internal::linearLayout(request, 256, what_);
		if (!layout)
			return unexpected(std::move(layout).error());

		struct dma_heap_allocation_data data = {};
		data.len = layout->totalSize;
		data.fd_flags = O_RDWR | O_CLOEXEC;

		if (sys::ioctl(heap_.get(), DMA_HEAP_IOCTL_ALLOC, &data) < 0) {
			int err = errno;
			return unexpected(err, "allocate " +
					  internal::describe(request, layout->totalSize) +
					  " from " + what_);
		}

		UniqueFd fd(static_cast<int>(data.fd));
		/* Naming is diagnostics only: an old kernel without it still works. */
		internal::setDmaBufName(fd.get(), request.name);

		return internal::makeBuffer(request, *layout, std::move(fd), origin_);
	}

private:
	UniqueFd heap_;
	const std::string name_;
	const std::string what_;	/* for error messages, built once */
	const Buffer::Origin origin_;
};

} /* namespace */

Result<std::unique_ptr<Allocator>>
createDmaHeapAllocator(const std::string &path, bool contiguous)
{
	/* Heaps take their ioctls on a read-only open, as the kernel expects. */
	UniqueFd fd(sys::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		return unexpected(errno, "open dma-heap " + path);

	std::string name = path.substr(path.find_last_of('/') + 1);
	return std::unique_ptr<Allocator>(
		new DmaHeapAllocator(std::move(fd), std::move(name), contiguous));
}

} /* namespace bufmgr */
