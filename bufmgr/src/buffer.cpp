/* SPDX-License-Identifier: MIT */
#include <bufmgr/buffer.h>

#include <mutex>
#include <set>
#include <stdexcept>

#include <bufmgr/allocator.h>
#include <bufmgr/stats.h>

#include <drm_fourcc.h>

namespace bufmgr {

std::string_view toString(AllocatorKind kind)
{
	switch (kind) {
	case AllocatorKind::DmaHeap: return "dma-heap";
	case AllocatorKind::Udmabuf: return "udmabuf";
	case AllocatorKind::Gbm: return "gbm";
	case AllocatorKind::DumbBuffer: return "dumb";
	case AllocatorKind::Memfd: return "memfd";
	case AllocatorKind::Foreign: return "foreign";
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

void LiveAccount::release()
{
	if (origin_ == Origin::Imported)
		stats_->recordImportRelease(bytes_);
	else
		stats_->recordFree(bytes_);
}

namespace {

/* Never destroyed: buffers may be freed during static destruction. */
struct SourceNames {
	std::mutex mutex;
	std::set<std::string, std::less<>> names;
};

SourceNames &sourceNames()
{
	static SourceNames *names = new SourceNames;
	return *names;
}

} /* namespace */

SourceName::SourceName(std::string_view name)
{
	if (name.empty())
		return;
	SourceNames &names = sourceNames();
	std::lock_guard lock(names.mutex);
	auto it = names.names.find(name);
	if (it == names.names.end())
		it = names.names.emplace(name).first;
	name_ = &*it;
}

const std::string &SourceName::emptyString()
{
	static const std::string *empty = new std::string;
	return *empty;
}

Buffer::Buffer(Description description, std::span<const BufferPlane> planes)
	: desc_(std::move(description))
{
	if (planes.size() > kMaxPlanes)
		return;
	std::copy(planes.begin(), planes.end(), planes_.begin());
	numPlanes_ = planes.size();
}

Buffer::Buffer(Description &&description, SharedFd &&fd,
	       std::span<const PlaneLayout> layouts)
	: desc_(std::move(description))
{
	setPlanes(std::move(fd), layouts);
}

Buffer::Buffer(const AllocationRequest &request, const ImageLayout &layout, SharedFd &&fd,
	       const Origin &origin)
	: desc_{
		.width = request.width,
		.height = request.height,
		.format = request.format,
		.modifier = DRM_FORMAT_MOD_LINEAR,
		.size = layout.totalSize,
		.allocator = origin.allocator,
		.source = origin.source,
		/* Even copying an empty string is a call into libstdc++. */
		.name = request.name.empty() ? std::string() : request.name,
		.isDmaBuf = origin.isDmaBuf,
		.contiguous = origin.contiguous,
	}
{
	setPlanes(std::move(fd), std::span(layout.planes.data(), layout.numPlanes));
}

void Buffer::setPlanes(SharedFd &&fd, std::span<const PlaneLayout> layouts)
{
	if (layouts.empty() || layouts.size() > kMaxPlanes)
		return;
	numPlanes_ = layouts.size();
	for (size_t i = 0; i < numPlanes_; i++) {
		planes_[i].offset = layouts[i].offset;
		planes_[i].stride = layouts[i].stride;
	}
	/* The last plane takes the caller's reference: one count fewer to drop. */
	for (size_t i = 0; i + 1 < numPlanes_; i++)
		planes_[i].fd = fd;
	planes_[numPlanes_ - 1].fd = std::move(fd);
}

const BufferPlane &Buffer::plane(size_t i) const
{
	if (i >= numPlanes_)
		throw std::out_of_range("plane " + std::to_string(i) + " of a buffer with " +
					std::to_string(numPlanes_));
	return planes_[i];
}

} /* namespace bufmgr */
