/* SPDX-License-Identifier: MIT */
#include <bufmgr/mapping.h>

#include <cerrno>
#include <linux/dma-buf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bufmgr/log.h>
#include <bufmgr/stats.h>

#include "sys.h"

namespace bufmgr {

namespace {

uint64_t syncFlags(Access access)
{
	switch (access) {
	case Access::Read: return DMA_BUF_SYNC_READ;
	case Access::Write: return DMA_BUF_SYNC_WRITE;
	case Access::ReadWrite: return DMA_BUF_SYNC_RW;
	}
	return DMA_BUF_SYNC_RW;
}

int syncIoctl(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { flags };
	return sys::ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) < 0 ? errno : 0;
}

} /* namespace */

Result<DmaBufSync> DmaBufSync::begin(int fd, Access access)
{
	uint64_t flags = syncFlags(access);
	if (int err = syncIoctl(fd, DMA_BUF_SYNC_START | flags))
		return unexpected(err, "DMA_BUF_IOCTL_SYNC start on fd " +
				       std::to_string(fd));
	return DmaBufSync(fd, flags);
}

DmaBufSync::DmaBufSync(DmaBufSync &&other) noexcept
	: fd_(other.fd_), flags_(other.flags_)
{
	other.fd_ = -1;
}

Result<void> DmaBufSync::end()
{
	if (fd_ < 0)
		return {};
	int fd = fd_;
	fd_ = -1;
	if (int err = syncIoctl(fd, DMA_BUF_SYNC_END | flags_))
		return unexpected(err, "DMA_BUF_IOCTL_SYNC end on fd " +
				       std::to_string(fd));
	return {};
}

DmaBufSync::~DmaBufSync()
{
	(void)end();
}

Result<void> Mapping::CpuAccess::end()
{
	Result<void> result;
	for (DmaBufSync &sync : syncs_) {
		auto r = sync.end();
		if (!r && result)
			result = std::move(r);
	}
	return result;
}

Result<Mapping> Mapping::map(const Buffer &buffer, MapOptions options)
{
	std::string what = "map buffer '" + buffer.name() + "' from " + buffer.source();
	if (!buffer.isValid())
		return unexpected(EINVAL, what + ": no memory");

	int prot = 0;
	if (static_cast<int>(options.access) & static_cast<int>(Access::Read))
		prot |= PROT_READ;
	if (static_cast<int>(options.access) & static_cast<int>(Access::Write))
		prot |= PROT_WRITE;
	const int flags = MAP_SHARED | (options.populate ? MAP_POPULATE : 0);

	Mapping mapping;
	for (const BufferPlane &plane : buffer.planes()) {
		size_t region = mapping.regions_.size();
		for (size_t r = 0; r < mapping.regions_.size(); r++) {
			if (mapping.regions_[r].fd == plane.fd)
				region = r;
		}

		if (region == mapping.regions_.size()) {
			/* Each fd maps whole: its size is what the kernel says. */
			off_t end = ::lseek(plane.fd.get(), 0, SEEK_END);
			if (end <= 0) {
				struct stat st;
				if (::fstat(plane.fd.get(), &st) < 0 || st.st_size <= 0)
					return unexpected(end < 0 ? errno : EINVAL,
							  what + ": size of fd unknown");
				end = st.st_size;
			}
			void *addr = sys::mmap(static_cast<size_t>(end), prot, flags,
					       plane.fd.get(), 0);
			if (addr == MAP_FAILED)
				return unexpected(errno, what + ": mmap " +
							 std::to_string(end) + " B");
			mapping.regions_.push_back({ plane.fd, addr,
						     static_cast<size_t>(end),
						     buffer.isDmaBuf() });
		}

		if (plane.offset >= mapping.regions_[region].length)
			return unexpected(EINVAL, what + ": plane offset " +
						  std::to_string(plane.offset) +
						  " beyond the fd's " +
						  std::to_string(mapping.regions_[region].length) +
						  " B");
		mapping.planes_.push_back({ region, plane.offset });
	}
	mapping.what_ = std::move(what);
	return mapping;
}

Mapping::Mapping(Mapping &&other) noexcept
	: regions_(std::move(other.regions_)), planes_(std::move(other.planes_)),
	  what_(std::move(other.what_))
{
	other.regions_.clear();
	other.planes_.clear();
}

Mapping &Mapping::operator=(Mapping &&other) noexcept
{
	if (this != &other) {
		unmap();
		regions_ = std::move(other.regions_);
		planes_ = std::move(other.planes_);
		what_ = std::move(other.what_);
		other.regions_.clear();
		other.planes_.clear();
	}
	return *this;
}

Mapping::~Mapping()
{
	unmap();
}

void Mapping::unmap()
{
	for (Region &region : regions_) {
		/* Nothing to retry: say what stays mapped. */
		if (sys::munmap(region.addr, region.length) < 0) {
			const int err = errno;
			log(LogLevel::Warning, what_ + ": munmap " +
					       std::to_string(region.length) + " B: " +
					       errnoName(err) + "; the mapping stays");
		}
	}
	regions_.clear();
	planes_.clear();
}

std::span<uint8_t> Mapping::plane(size_t i) const
{
	const PlaneView &view = planes_.at(i);
	const Region &region = regions_[view.region];
	return { static_cast<uint8_t *>(region.addr) + view.offset,
		 region.length - view.offset };
}

Result<Mapping::CpuAccess> Mapping::beginAccess(Access access) const
{
	CpuAccess scope;
	for (const Region &region : regions_) {
		if (!region.isDmaBuf)
			continue;
		auto sync = DmaBufSync::begin(region.fd.get(), access);
		if (!sync)
			return unexpected(sync.error().code, what_ + ": " + sync.error().context);
		scope.syncs_.push_back(std::move(*sync));
	}
	return scope;
}

} /* namespace bufmgr */
