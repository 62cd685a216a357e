/* SPDX-License-Identifier: MIT */
#include <bufmgr/allocators.h>
#include <bufmgr/memfd.h>

#include "allocator_util.h"

namespace bufmgr {

namespace {

/* Shareable CPU memory: what wl_shm pools are made of. */
class MemfdAllocator final : public Allocator
{
public:
	AllocatorKind kind() const override { return AllocatorKind::Memfd; }
	const std::string &source() const override { return origin_.source.str(); }
	uint32_t capabilities() const override { return CapShm | CapCpuMap; }

	Result<Buffer> allocate(const AllocationRequest &request) override
	{
		/* Cache-line aligned rows are free for the CPU and help SIMD. */
		auto layout = internal::linearLayout(request, 64, origin_.source.str());
		if (!layout)
			return unexpected(std::move(layout).error());

		auto fd = createSealedMemfd(request.name, layout->totalSize, true);
		if (!fd)
			return unexpected(fd.error().code, "allocate " +
					  internal::describe(request, layout->totalSize) +
					  " from memfd: " + fd.error().context);

		return internal::makeBuffer(request, *layout, std::move(*fd), origin_);
	}

private:
	const Buffer::Origin origin_{ AllocatorKind::Memfd, "memfd", false, false };
};

} /* namespace */

std::unique_ptr<Allocator> createMemfdAllocator()
{
	return std::make_unique<MemfdAllocator>();
}

} /* namespace bufmgr */
