/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <bufmgr/buffer.h>
#include <bufmgr/result.h>

namespace bufmgr {

enum class Access : uint8_t {
	Read = 1,
	Write = 2,
	ReadWrite = 3,
};

/*
 * Brackets CPU access to a dma-buf with DMA_BUF_IOCTL_SYNC: START on
 * construction, END on destruction, so caches are flushed/invalidated
 * even on early returns. Both ioctls retry EINTR/EAGAIN. The fd is
 * borrowed and must outlive this object.
 */
class DmaBufSync
{
public:
	static Result<DmaBufSync> begin(int fd, Access access);
	~DmaBufSync();
	DmaBufSync(DmaBufSync &&other) noexcept;
	DmaBufSync &operator=(DmaBufSync &&) = delete;
	DmaBufSync(const DmaBufSync &) = delete;

	/* Ends access now; the result the destructor would drop. */
	Result<void> end();

private:
	DmaBufSync(int fd, uint64_t flags) : fd_(fd), flags_(flags) {}
	int fd_ = -1;
	uint64_t flags_ = 0;
};

struct MapOptions {
	Access access = Access::ReadWrite;
	/* Prefault every page: worth it when the whole buffer is touched. */
	bool populate = false;
};

/*
 * A buffer mapped into the CPU's address space, one mmap per distinct fd
 * (GBM may give each plane its own). Access to the contents goes through
 * beginAccess(), which does the dma-buf cache maintenance; memfd buffers
 * need none and get a no-op sync.
 */
class Mapping
{
public:
	static Result<Mapping> map(const Buffer &buffer, MapOptions options = {});

	Mapping(Mapping &&) noexcept;
	Mapping &operator=(Mapping &&) noexcept;
	Mapping(const Mapping &) = delete;
	Mapping &operator=(const Mapping &) = delete;
	~Mapping();

	/* The bytes of plane i, from its offset to the end of its mapping. */
	std::span<uint8_t> plane(size_t i) const;
	size_t numPlanes() const { return planes_.size(); }

	/* Cache-coherent access to every fd of the buffer until destroyed. */
	class CpuAccess;
	Result<CpuAccess> beginAccess(Access access) const;

private:
	struct Region {
		SharedFd fd;	/* keeps the memory alive while mapped */
		void *addr = nullptr;
		size_t length = 0;
		bool isDmaBuf = false;
	};
	struct PlaneView {
		size_t region;
		size_t offset;
	};

	Mapping() = default;
	void unmap();

	std::vector<Region> regions_;
	std::vector<PlaneView> planes_;
	std::string what_;	/* "map buffer 'x' from y", for errors */
};

class Mapping::CpuAccess
{
public:
	Result<void> end();

private:
	friend class Mapping;
	std::vector<DmaBufSync> syncs_;
};

} /* namespace bufmgr */
