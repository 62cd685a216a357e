/* SPDX-License-Identifier: MIT */
#include <bufmgr/buffer.h>

#include <bufmgr/allocator.h>
#include <bufmgr/stats.h>

namespace bufmgr {

std::string_view toString(AllocatorKind kind)
{
	switch (kind) {
	case AllocatorKind::DmaHeap: return "dma-heap";
	case AllocatorKind::Udmabuf: return "udmabuf";
	case AllocatorKind::Gbm: return "gbm";
	case AllocatorKind::DumbBuffer: return "dumb";
	case AllocatorKind::Memfd: return "memfd";
	}
	return "unknown";
}

std::string_view toString(Usage usage)
{
	switch (usage) {
	case Usage::Scanout: return "scanout";
	case Usage::Render: return "render";
	case Usage::Video: return "video";
	case Usage::Camera: return "camera";
	case Usage::Cpu: return "cpu";
	}
	return "unknown";
}

AllocationRequest AllocationRequest::blob(uint64_t size, std::string name)
{
	AllocationRequest r;
	r.size = size;
	r.name = std::move(name);
	return r;
}

AllocationRequest AllocationRequest::image(uint32_t width, uint32_t height,
					   uint32_t format, Usage usage,
					   std::string name)
{
	AllocationRequest r;
	r.width = width;
	r.height = height;
	r.format = format;
	r.usage = usage;
	r.name = std::move(name);
	return r;
}

LiveAccount::LiveAccount(std::shared_ptr<SourceStats> stats, uint64_t bytes)
	: stats_(std::move(stats)), bytes_(bytes)
{
}

LiveAccount::~LiveAccount()
{
	if (stats_)
		stats_->recordFree(bytes_);
}

LiveAccount::LiveAccount(LiveAccount &&other) noexcept
	: stats_(std::move(other.stats_)), bytes_(other.bytes_)
{
	other.stats_.reset();
}

LiveAccount &LiveAccount::operator=(LiveAccount &&other) noexcept
{
	if (this != &other) {
		if (stats_)
			stats_->recordFree(bytes_);
		stats_ = std::move(other.stats_);
		bytes_ = other.bytes_;
		other.stats_.reset();
	}
	return *this;
}

Buffer::Buffer(Description description, std::vector<BufferPlane> planes)
	: desc_(std::move(description)), planes_(std::move(planes))
{
}

} /* namespace bufmgr */
