/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <bufmgr/format.h>
#include <bufmgr/unique_fd.h>

namespace bufmgr {

enum class AllocatorKind : uint8_t {
	DmaHeap,
	Udmabuf,
	Gbm,
	DumbBuffer,
	Memfd,
	/* Imported from an exporter bufmgr does not allocate from (a GPU driver). */
	Foreign,
};

std::string_view toString(AllocatorKind kind);

/*
 * The name of an allocation source ("dma-heap:system", "memfd", ...),
 * stored once per process: copying one copies a pointer, so buffers can
 * carry their source without a string copy. There are few such names
 * (one per heap, device or client exporter) and they are never freed.
 */
class SourceName
{
public:
	SourceName() = default;
	SourceName(std::string_view name);
	SourceName(const std::string &name) : SourceName(std::string_view(name)) {}
	SourceName(const char *name) : SourceName(std::string_view(name)) {}

	const std::string &str() const { return name_ ? *name_ : emptyString(); }
	bool empty() const { return str().empty(); }

	/* One stored string per name: equal names are the same pointer. */
	bool operator==(const SourceName &other) const { return name_ == other.name_; }

private:
	static const std::string &emptyString();

	const std::string *name_ = nullptr;	/* null for the empty name */
};

struct BufferPlane {
	SharedFd fd;
	uint32_t offset = 0;
	uint32_t stride = 0;
};

class SourceStats;
struct AllocationRequest;

/*
 * Keeps a buffer's memory counted as live in its source's statistics;
 * counts it as freed (or, if imported, released) when destroyed.
 * Move-only.
 */
class LiveAccount
{
public:
	enum class Origin : uint8_t {
		Allocated,	/* pairs with SourceStats::recordAllocation() */
		Imported,	/* pairs with SourceStats::recordImport() */
	};

	LiveAccount() = default;
	LiveAccount(std::shared_ptr<SourceStats> stats, uint64_t bytes,
		    Origin origin = Origin::Allocated)
		: stats_(std::move(stats)), bytes_(bytes), origin_(origin) {}
	~LiveAccount()
	{
		if (stats_)
			release();
	}
	/* A moved-from shared_ptr is empty: the old account counts nothing. */
	LiveAccount(LiveAccount &&other) noexcept = default;
	LiveAccount &operator=(LiveAccount &&other) noexcept
	{
		if (this != &other) {
			if (stats_)
				release();
			stats_ = std::move(other.stats_);
			bytes_ = other.bytes_;
			origin_ = other.origin_;
		}
		return *this;
	}
	LiveAccount(const LiveAccount &) = delete;
	LiveAccount &operator=(const LiveAccount &) = delete;

private:
	/* Counts the memory as no longer held, as its origin says. */
	void release();

	std::shared_ptr<SourceStats> stats_;
	uint64_t bytes_ = 0;
	Origin origin_ = Origin::Allocated;
};

/*
 * Memory described for the DRM and Wayland APIs: an image (or blob) of
 * 1-4 planes, each an fd with an offset and a stride. The fds keep the
 * memory alive; a Buffer is move-only so its accounting stays exact.
 * Share one with std::shared_ptr when several parties need it.
 *
 * Planes are stored inline: building a Buffer allocates nothing beyond
 * the fds' shared count.
 */
class Buffer
{
public:
	struct Description {
		uint32_t width = 0;
		uint32_t height = 0;
		uint32_t format = 0;	/* DRM fourcc, 0 for a blob */
		uint64_t modifier = 0;	/* DRM_FORMAT_MOD_LINEAR */
		uint64_t size = 0;	/* bytes of memory behind the fds */
		AllocatorKind allocator = AllocatorKind::Memfd;
		SourceName source;	/* "dma-heap:system", "gbm", ... */
		std::string name;
		bool isDmaBuf = false;	/* false: memfd (wl_shm) */
		bool contiguous = false;
	};

	/* Where the memory comes from, as an allocator tells every buffer. */
	struct Origin {
		AllocatorKind allocator = AllocatorKind::Memfd;
		SourceName source;
		bool isDmaBuf = false;
		bool contiguous = false;
	};

	static constexpr size_t kMaxPlanes = 4;

	Buffer() = default;
	/* More than kMaxPlanes planes make an invalid buffer. */
	Buffer(Description description, std::span<const BufferPlane> planes);
	/* Planes at offsets into one memory object, as most allocators give. */
	Buffer(Description &&description, SharedFd &&fd, std::span<const PlaneLayout> layouts);
	/*
	 * A linear buffer of the request's shape and name, its planes at the
	 * layout's offsets in fd. The description is built in place, so the
	 * name is copied once and nothing is moved: at 4 KiB, every copy of
	 * a Buffer or of its name shows. Build it inside a Result.
	 */
	Buffer(const AllocationRequest &request, const ImageLayout &layout, SharedFd &&fd,
	       const Origin &origin);
	Buffer(Buffer &&) noexcept = default;
	Buffer &operator=(Buffer &&) noexcept = default;
	Buffer(const Buffer &) = delete;
	Buffer &operator=(const Buffer &) = delete;

	uint32_t width() const { return desc_.width; }
	uint32_t height() const { return desc_.height; }
	uint32_t format() const { return desc_.format; }
	uint64_t modifier() const { return desc_.modifier; }
	uint64_t size() const { return desc_.size; }
	AllocatorKind allocator() const { return desc_.allocator; }
	const std::string &source() const { return desc_.source.str(); }
	const std::string &name() const { return desc_.name; }
	bool isDmaBuf() const { return desc_.isDmaBuf; }
	bool isContiguous() const { return desc_.contiguous; }
	const Description &description() const { return desc_; }

	std::span<const BufferPlane> planes() const { return { planes_.data(), numPlanes_ }; }
	/* Throws std::out_of_range from numPlanes() on. */
	const BufferPlane &plane(size_t i) const;
	size_t numPlanes() const { return numPlanes_; }

	bool isValid() const { return numPlanes_ && planes_[0].fd.isValid(); }

	void setAccount(LiveAccount account) { account_ = std::move(account); }

private:
	void setPlanes(SharedFd &&fd, std::span<const PlaneLayout> layouts);

	Description desc_;
	std::array<BufferPlane, kMaxPlanes> planes_;
	size_t numPlanes_ = 0;
	LiveAccount account_;
};

} /* namespace bufmgr */
