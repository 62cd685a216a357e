/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <string>

#include <bufmgr/allocator.h>
#include <bufmgr/format.h>
#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

namespace bufmgr::internal {

/* "8294400 B" or "1920x1080 XR24 (8294400 B)" for error contexts. */
std::string describe(const AllocationRequest &request, uint64_t size = 0);

/*
 * Layout of a request as one memory object: a blob is one plane of
 * page-rounded size; an image gets a linear layout with the given stride
 * alignment unless the request asks for its own. The total is rounded up
 * to whole pages since every kernel allocator works in pages.
 */
Result<ImageLayout> requestLayout(const AllocationRequest &request,
				  uint32_t defaultStrideAlign,
				  const std::string &source);

/*
 * ENOMEM for sizes no machine of this RAM can back. The system heap
 * (as of 7.2) and tmpfs do not check: they allocate until the OOM killer
 * ends the caller.
 */
Result<void> requireFitsInRam(const AllocationRequest &request, uint64_t size,
			      const std::string &source);

/* Linear is the only modifier a CPU-laid-out buffer can claim. */
Result<void> requireLinear(const AllocationRequest &request,
			   const std::string &source);

/* Names a dma-buf for fdinfo and debugfs; truncates to the kernel limit. */
int setDmaBufName(int fd, const std::string &name);

/* memfd of `size` bytes, sealed against shrinking (and growing if asked). */
Result<UniqueFd> createSealedMemfd(const std::string &name, uint64_t size,
				   bool sealGrow);

Buffer makeBuffer(const AllocationRequest &request, const ImageLayout &layout,
		  UniqueFd fd, AllocatorKind kind, const std::string &source,
		  bool isDmaBuf, bool contiguous);

uint64_t pageSize();

} /* namespace bufmgr::internal */
