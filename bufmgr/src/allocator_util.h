/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <bufmgr/allocator.h>
#include <bufmgr/format.h>
#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

namespace bufmgr::internal {

/* "8294400 B" or "1920x1080 XR24 (8294400 B)" for error contexts. */
std::string describe(const AllocationRequest &request, uint64_t size = 0);

/*
 * What an allocator of linear, CPU-laid-out memory checks before it asks
 * the kernel, in one call since it runs on every allocation:
 *  - the request allows the LINEAR modifier (no modifiers counts as linear);
 *  - its layout as one memory object: a blob is one plane, an image gets a
 *    linear layout with the given stride alignment unless the request asks
 *    for its own; the total is rounded up to whole pages, as every kernel
 *    allocator works in pages;
 *  - RAM can back it: ENOMEM for sizes no machine of this RAM can back. The
 *    system heap (as of 7.2) and tmpfs do not check: they allocate until
 *    the OOM killer ends the caller.
 * Errors name the source the request was for.
 */
Result<ImageLayout> linearLayout(const AllocationRequest &request,
				 uint32_t defaultStrideAlign, std::string_view source);

/* Names a dma-buf for fdinfo and debugfs; truncates to the kernel limit. */
int setDmaBufName(int fd, const std::string &name);

/* memfd of `size` bytes, sealed against shrinking (and growing if asked). */
Result<UniqueFd> createSealedMemfd(const std::string &name, uint64_t size,
				   bool sealGrow);

/* A buffer of the request's shape, its planes at the layout's offsets in fd. */
Result<Buffer> makeBuffer(const AllocationRequest &request, const ImageLayout &layout,
			  UniqueFd fd, AllocatorKind kind, SourceName source,
			  bool isDmaBuf, bool contiguous);

uint64_t pageSize();

} /* namespace bufmgr::internal */
