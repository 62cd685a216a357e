/* SPDX-License-Identifier: MIT */
#pragma once

#include <cerrno>
#include <cstdint>
#include <linux/dma-buf.h>
#include <string>
#include <string_view>
#include <sys/ioctl.h>

#include <bufmgr/allocator.h>
#include <bufmgr/format.h>
#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

#include "sys.h"

namespace bufmgr::internal {

/* "8294400 B" or "1920x1080 XR24 (8294400 B)" for error contexts. */
std::string describe(const AllocationRequest &request, uint64_t size = 0);

/* What every allocation asks of the machine. */
struct MachineMemory {
	uint64_t pageSize;
	/* In whole pages: any size up to it rounds up to whole pages within it. */
	uint64_t ramBytes;
};

MachineMemory readMachineMemory();

/*
 * Read once, and inline: every allocation asks, and a syscall (or even
 * a call) per allocation is measurable at 4 KiB.
 */
inline const MachineMemory &machineMemory()
{
	static const MachineMemory memory = readMachineMemory();
	return memory;
}

inline uint64_t pageSize()
{
	return machineMemory().pageSize;
}

/* linearLayout() with every check, for what its shortcut does not take. */
Result<ImageLayout> checkedLinearLayout(const AllocationRequest &request,
					uint32_t defaultStrideAlign, std::string_view source);

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
inline Result<ImageLayout> linearLayout(const AllocationRequest &request,
					uint32_t defaultStrideAlign, std::string_view source)
{
	/*
	 * Plain blobs, the most frequent small allocations, take a shortcut
	 * here, inline: one plane of whole pages, within RAM.
	 */
	const MachineMemory &memory = machineMemory();
	if (request.isBlob() && request.modifiers.empty() && request.size != 0 &&
	    request.size <= memory.ramBytes) {
		const uint64_t page = memory.pageSize;
		ImageLayout layout;
		layout.numPlanes = 1;
		layout.planes[0].size = request.size;
		layout.totalSize = (request.size + page - 1) & ~(page - 1);
		return layout;
	}
	return checkedLinearLayout(request, defaultStrideAlign, source);
}

/* setDmaBufName() for names longer than the kernel takes. */
int setTruncatedDmaBufName(int fd, const std::string &name);

/*
 * Opens a DRM node to allocate from. A card node's first opener becomes
 * its DRM master; an allocator never sets modes, so it gives that up
 * for the compositor's display backend.
 */
UniqueFd openDrmNodeForAllocation(const std::string &node);

/*
 * Names a dma-buf for fdinfo and debugfs; truncates to the kernel limit.
 * Inline, and a name that fits is passed as it is, without a copy: every
 * named allocation calls it.
 */
inline int setDmaBufName(int fd, const std::string &name)
{
	if (name.empty())
		return 0;
	/* The kernel refuses names that do not fit. */
	if (name.size() >= DMA_BUF_NAME_LEN)
		return setTruncatedDmaBufName(fd, name);
	return sys::ioctl(fd, DMA_BUF_SET_NAME_B, const_cast<char *>(name.c_str())) < 0
		? -errno : 0;
}

/* A buffer of the request's shape, its planes at the layout's offsets in fd. */
inline Result<Buffer> makeBuffer(const AllocationRequest &request, const ImageLayout &layout,
				 UniqueFd &&fd, const Buffer::Origin &origin)
{
	return Result<Buffer>(std::in_place, request, layout, SharedFd(std::move(fd)), origin);
}

} /* namespace bufmgr::internal */
