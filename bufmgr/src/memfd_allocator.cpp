/* SPDX-License-Identifier: MIT */
#include <bufmgr/allocators.h>

#include "allocator_util.h"

namespace bufmgr {

namespace {

/* Shareable CPU memory: what wl_shm pools are made of. */
class MemfdAllocator final : public Allocator
{
public:
	AllocatorKind kind() const override { return AllocatorKind::Memfd; }
	const std::string &source() const override { return source_; }
	uint32_t capabilities() const override { return CapShm | CapCpuMap; }

	Result<Buffer> allocate(const AllocationRequest &request) override
	{
		auto linear = internal::requireLinear(request, source_);
		if (!linear)
			return unexpected(std::move(linear).error());

		/* Cache-line aligned rows are free for the CPU and help SIMD. */
		auto layout = internal::requestLayout(request, 64, source_);
		if (!layout)
			return unexpected(std::move(layout).error());

		auto fits = internal::requireFitsInRam(request, layout->totalSize, source_);
		if (!fits)
			return unexpected(std::move(fits).error());

		auto fd = internal::createSealedMemfd(request.name, layout->totalSize,
						      true);
		if (!fd)
			return unexpected(fd.error().code, "allocate " +
					  internal::describe(request, layout->totalSize) +
					  " from memfd: " + fd.error().context);

		return internal::makeBuffer(request, *layout, std::move(*fd),
					    AllocatorKind::Memfd, source_, false, false);
	}

private:
	const std::string source_ = "memfd";
};

} /* namespace */

std::unique_ptr<Allocator> createMemfdAllocator()
{
	return std::make_unique<MemfdAllocator>();
}

} /* namespace bufmgr */
