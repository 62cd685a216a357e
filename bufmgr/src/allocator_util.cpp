/* SPDX-License-Identifier: MIT */
#include "allocator_util.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <fcntl.h>
#include <xf86drm.h>

namespace bufmgr::internal {

MachineMemory readMachineMemory()
{
	MachineMemory memory;
	long page = ::sysconf(_SC_PAGESIZE);
	memory.pageSize = page > 0 ? static_cast<uint64_t>(page) : 4096;

	struct sysinfo info;
	const uint64_t ram = ::sysinfo(&info) < 0
		? UINT64_MAX : static_cast<uint64_t>(info.totalram) * info.mem_unit;
	memory.ramBytes = ram & ~(memory.pageSize - 1);
	return memory;
}

std::string describe(const AllocationRequest &request, uint64_t size)
{
	const uint64_t bytes = size ? size : request.size;
	if (request.isBlob())
		return std::to_string(bytes) + " B";

	std::string s = std::to_string(request.width);
	s += 'x';
	s += std::to_string(request.height);
	s += ' ';
	s += fourccToString(request.format);
	if (size) {
		s += " (";
		s += std::to_string(bytes);
		s += " B)";
	}
	return s;
}

Result<ImageLayout> checkedLinearLayout(const AllocationRequest &request,
					uint32_t defaultStrideAlign, std::string_view source)
{
	/*
	 * One result for every outcome, so that the layout is returned
	 * without a copy; failures assign an error to it.
	 */
	Result<ImageLayout> result(std::in_place);
	ImageLayout &layout = *result;
	auto fail = [&](int code, const std::string &why, uint64_t size = 0) {
		result = unexpected(code, "allocate " + describe(request, size) + " from " +
					  std::string(source) + ": " + why);
	};

	if (!request.modifiers.empty() &&
	    std::find(request.modifiers.begin(), request.modifiers.end(),
		      DRM_FORMAT_MOD_LINEAR) == request.modifiers.end()) {
		fail(ENOTSUP, "only the LINEAR modifier is possible, not among the " +
			      std::to_string(request.modifiers.size()) + " requested");
		return result;
	}

	if (request.isBlob()) {
		if (request.size == 0) {
			fail(EINVAL, "size must not be zero");
			return result;
		}
		layout.numPlanes = 1;
		layout.planes[0].size = request.size;
		layout.totalSize = request.size;
	} else {
		uint32_t align = request.strideAlign ? request.strideAlign
						     : defaultStrideAlign;
		auto computed = computeLinearLayout(request.format, request.width,
						    request.height, align);
		if (!computed) {
			result = unexpected(computed.error().code,
					    "allocate from " + std::string(source) + ": " +
					    computed.error().context);
			return result;
		}
		layout = *computed;
	}

	const uint64_t page = pageSize();
	if (__builtin_add_overflow(layout.totalSize, page - 1, &layout.totalSize)) {
		fail(EOVERFLOW, "size overflows");
		return result;
	}
	layout.totalSize &= ~(page - 1);

	const uint64_t ram = machineMemory().ramBytes;
	if (layout.totalSize > ram)
		fail(ENOMEM, "more than the " + std::to_string(ram) + " B of RAM",
		     layout.totalSize);
	return result;
}

UniqueFd openDrmNodeForAllocation(const std::string &node)
{
	UniqueFd fd(sys::open(node.c_str(), O_RDWR | O_CLOEXEC));
	if (fd && drmGetNodeTypeFromFd(fd.get()) == DRM_NODE_PRIMARY)
		drmDropMaster(fd.get());	/* fails harmlessly when not master */
	return fd;
}

int setTruncatedDmaBufName(int fd, const std::string &name)
{
	char truncated[DMA_BUF_NAME_LEN];
	std::memcpy(truncated, name.data(), sizeof(truncated) - 1);
	truncated[sizeof(truncated) - 1] = '\0';
	return sys::ioctl(fd, DMA_BUF_SET_NAME_B, truncated) < 0 ? -errno : 0;
}

} /* namespace bufmgr::internal */
