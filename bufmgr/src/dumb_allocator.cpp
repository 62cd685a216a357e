/* SPDX-License-Identifier: MIT */
#include <bufmgr/allocators.h>

#include <cerrno>
#include <fcntl.h>

#include <xf86drm.h>
#include <xf86drmMode.h>

#include "allocator_util.h"

namespace bufmgr {

namespace {

/*
 * DRM dumb buffers: linear, CPU-mappable scanout memory that any KMS
 * driver provides, exported as dma-bufs with PRIME.
 */
class DumbAllocator final : public Allocator
{
public:
	DumbAllocator(UniqueFd drm, std::string node)
		: drm_(std::move(drm)), origin_{ AllocatorKind::DumbBuffer, "dumb:" + node, true, false }
	{
	}

	AllocatorKind kind() const override { return AllocatorKind::DumbBuffer; }
	const std::string &source() const override { return origin_.source.str(); }
	uint32_t capabilities() const override { return CapDmaBuf | CapCpuMap; }

	Result<Buffer> allocate(const AllocationRequest &request) override
	{
		auto layout = internal::linearLayout(request, 256, origin_.source.str());
		if (!layout)
			return unexpected(std::move(layout).error());

		/* Built only on failure: the message costs more than a success. */
		auto what = [&] {
			return "allocate " + internal::describe(request, layout->totalSize) +
			       " from " + origin_.source.str();
		};

		/*
		 * The kernel knows only bpp x width x height: ask for 8-bit rows
		 * of our stride so that multi-planar layouts fit unchanged.
		 */
		const uint32_t rowBytes = request.isBlob()
			? static_cast<uint32_t>(internal::pageSize())
			: layout->planes[0].stride;
		const uint64_t rows = (layout->totalSize + rowBytes - 1) / rowBytes;
		if (rows > UINT32_MAX)
			return unexpected(EOVERFLOW, what() + ": too many rows");

		struct drm_mode_create_dumb create = {};
		create.width = rowBytes;
		create.height = static_cast<uint32_t>(rows);
		create.bpp = 8;
		if (drmIoctl(drm_.get(), DRM_IOCTL_MODE_CREATE_DUMB, &create) < 0) {
			int err = errno;
			return unexpected(err, what());
		}

		/* The PRIME export holds the object; the handle can go right away. */
		int primeFd = -1;
		int ret = drmPrimeHandleToFD(drm_.get(), create.handle,
					     DRM_CLOEXEC | DRM_RDWR, &primeFd);
		int exportErr = errno;
		struct drm_mode_destroy_dumb destroy = {};
		destroy.handle = create.handle;
		drmIoctl(drm_.get(), DRM_IOCTL_MODE_DESTROY_DUMB, &destroy);
		if (ret < 0)
			return unexpected(exportErr, what() + ": PRIME export");
		UniqueFd fd(primeFd);

		if (create.pitch != rowBytes)
			return unexpected(ENOTSUP, what() + ": driver pitch " +
					  std::to_string(create.pitch) +
					  " differs from the layout's " +
					  std::to_string(rowBytes));

		ImageLayout actual = *layout;
		actual.totalSize = create.size;
		return internal::makeBuffer(request, actual, std::move(fd), origin_);
	}

private:
	UniqueFd drm_;
	const Buffer::Origin origin_;
};

} /* namespace */

Result<std::unique_ptr<Allocator>> createDumbAllocator(const std::string &drmNode)
{
	UniqueFd fd(::open(drmNode.c_str(), O_RDWR | O_CLOEXEC));
	if (!fd)
		return unexpected(errno, "open DRM node " + drmNode);

	uint64_t hasDumb = 0;
	if (drmGetCap(fd.get(), DRM_CAP_DUMB_BUFFER, &hasDumb) < 0 || !hasDumb)
		return unexpected(ENOTSUP, "DRM node " + drmNode +
					   " has no dumb buffers");

	return std::unique_ptr<Allocator>(new DumbAllocator(std::move(fd), drmNode));
}

} /* namespace bufmgr */
