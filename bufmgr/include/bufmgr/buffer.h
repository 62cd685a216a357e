/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <bufmgr/unique_fd.h>

namespace bufmgr {

enum class AllocatorKind : uint8_t {
	DmaHeap,
	Udmabuf,
	Gbm,
	DumbBuffer,
	Memfd,
};

std::string_view toString(AllocatorKind kind);

struct BufferPlane {
	SharedFd fd;
	uint32_t offset = 0;
	uint32_t stride = 0;
};

class SourceStats;

/*
 * Keeps a buffer's memory counted as live in its source's statistics;
 * counts it as freed when destroyed. Move-only.
 */
class LiveAccount
{
public:
	LiveAccount() = default;
	LiveAccount(std::shared_ptr<SourceStats> stats, uint64_t bytes);
	~LiveAccount();
	LiveAccount(LiveAccount &&other) noexcept;
	LiveAccount &operator=(LiveAccount &&other) noexcept;
	LiveAccount(const LiveAccount &) = delete;
	LiveAccount &operator=(const LiveAccount &) = delete;

private:
	std::shared_ptr<SourceStats> stats_;
	uint64_t bytes_ = 0;
};

/*
 * Memory described for the DRM and Wayland APIs: an image (or blob) of
 * 1-4 planes, each an fd with an offset and a stride. The fds keep the
 * memory alive; a Buffer is move-only so its accounting stays exact.
 * Share one with std::shared_ptr when several parties need it.
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
		std::string source;	/* "dma-heap:system", "gbm", ... */
		std::string name;
		bool isDmaBuf = false;	/* false: memfd (wl_shm) */
		bool contiguous = false;
	};

	Buffer() = default;
	Buffer(Description description, std::vector<BufferPlane> planes);
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
	const std::string &source() const { return desc_.source; }
	const std::string &name() const { return desc_.name; }
	bool isDmaBuf() const { return desc_.isDmaBuf; }
	bool isContiguous() const { return desc_.contiguous; }
	const Description &description() const { return desc_; }

	const std::vector<BufferPlane> &planes() const { return planes_; }
	const BufferPlane &plane(size_t i) const { return planes_.at(i); }
	size_t numPlanes() const { return planes_.size(); }

	bool isValid() const { return !planes_.empty() && planes_[0].fd.isValid(); }

	void setAccount(LiveAccount account) { account_ = std::move(account); }

private:
	Description desc_;
	std::vector<BufferPlane> planes_;
	LiveAccount account_;
};

} /* namespace bufmgr */
