/* SPDX-License-Identifier: MIT */
#include "allocator_util.h"

#include <cerrno>
#include <cstring>
#include <limits>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <drm_fourcc.h>

namespace bufmgr::internal {

uint64_t pageSize()
{
	static const uint64_t size = [] {
		long s = ::sysconf(_SC_PAGESIZE);
		return s > 0 ? static_cast<uint64_t>(s) : 4096;
	}();
	return size;
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

Result<ImageLayout> requestLayout(const AllocationRequest &request,
				  uint32_t defaultStrideAlign,
				  const std::string &source)
{
	ImageLayout layout;

	if (request.isBlob()) {
		if (request.size == 0)
			return unexpected(EINVAL, "allocate 0 B from " + source +
						  ": size must not be zero");
		layout.numPlanes = 1;
		layout.planes[0].size = request.size;
		layout.totalSize = request.size;
	} else {
		uint32_t align = request.strideAlign ? request.strideAlign
						     : defaultStrideAlign;
		auto computed = computeLinearLayout(request.format, request.width,
						    request.height, align);
		if (!computed)
			return unexpected(computed.error().code,
					  "allocate from " + source + ": " +
					  computed.error().context);
		layout = *computed;
	}

	const uint64_t page = pageSize();
	if (__builtin_add_overflow(layout.totalSize, page - 1, &layout.totalSize))
		return unexpected(EOVERFLOW, "allocate " + describe(request) + " from " +
					     source + ": size overflows");
	layout.totalSize &= ~(page - 1);
	return layout;
}

Result<void> requireFitsInRam(const AllocationRequest &request, uint64_t size,
			      const std::string &source)
{
	/* Read once: a syscall per allocation would be measurable at 4 KiB. */
	static const uint64_t ram = [] {
		struct sysinfo info;
		if (::sysinfo(&info) < 0)
			return UINT64_MAX;
		return static_cast<uint64_t>(info.totalram) * info.mem_unit;
	}();
	if (size <= ram)
		return {};
	return unexpected(ENOMEM, "allocate " + describe(request, size) + " from " + source +
				  ": more than the " + std::to_string(ram) + " B of RAM");
}

Result<void> requireLinear(const AllocationRequest &request,
			   const std::string &source)
{
	if (request.modifiers.empty())
		return {};
	for (uint64_t mod : request.modifiers) {
		if (mod == DRM_FORMAT_MOD_LINEAR)
			return {};
	}
	return unexpected(ENOTSUP, "allocate " + describe(request) + " from " + source +
				   ": only the LINEAR modifier is possible, not among "
				   "the " + std::to_string(request.modifiers.size()) +
				   " requested");
}

int setDmaBufName(int fd, const std::string &name)
{
	if (name.empty())
		return 0;
	char buf[DMA_BUF_NAME_LEN] = {};
	std::strncpy(buf, name.c_str(), sizeof(buf) - 1);
	return ::ioctl(fd, DMA_BUF_SET_NAME_B, buf) < 0 ? -errno : 0;
}

Result<UniqueFd> createSealedMemfd(const std::string &name, uint64_t size,
				   bool sealGrow)
{
	const std::string ctx = "memfd '" + name + "' of " + std::to_string(size) + " B";

	UniqueFd fd(::memfd_create(name.empty() ? "bufmgr" : name.c_str(),
				   MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!fd)
		return unexpected(errno, "memfd_create for " + ctx);
	if (size > static_cast<uint64_t>(std::numeric_limits<off_t>::max()))
		return unexpected(EFBIG, "ftruncate " + ctx);
	if (::ftruncate(fd.get(), static_cast<off_t>(size)) < 0)
		return unexpected(errno, "ftruncate " + ctx);

	/* A peer that shrank the file would make our mappings SIGBUS. */
	int seals = F_SEAL_SHRINK | (sealGrow ? F_SEAL_GROW : 0);
	if (::fcntl(fd.get(), F_ADD_SEALS, seals) < 0)
		return unexpected(errno, "seal " + ctx);
	return fd;
}

Buffer makeBuffer(const AllocationRequest &request, const ImageLayout &layout,
		  UniqueFd fd, AllocatorKind kind, const std::string &source,
		  bool isDmaBuf, bool contiguous)
{
	Buffer::Description desc;
	desc.width = request.width;
	desc.height = request.height;
	desc.format = request.format;
	desc.modifier = DRM_FORMAT_MOD_LINEAR;
	desc.size = layout.totalSize;
	desc.allocator = kind;
	desc.source = source;
	desc.name = request.name;
	desc.isDmaBuf = isDmaBuf;
	desc.contiguous = contiguous;

	SharedFd shared(std::move(fd));
	std::vector<BufferPlane> planes;
	for (unsigned int i = 0; i < layout.numPlanes; i++)
		planes.push_back({ shared, layout.planes[i].offset,
				   layout.planes[i].stride });
	return Buffer(std::move(desc), std::move(planes));
}

} /* namespace bufmgr::internal */
