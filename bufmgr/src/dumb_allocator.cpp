/* SPDX-License-Identifier: MIT */
#include <bufmgr/allocators.h>

#include <cerrno>
#include <fcntl.h>

#include <xf86drm.h>

#include <bufmgr/log.h>
#include <bufmgr/stats.h>

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
		if (sys::ioctl(drm_.get(), DRM_IOCTL_MODE_CREATE_DUMB, &create) < 0) {
			int err = errno;
			return unexpected(err, what() + ": create dumb buffer");
		}

		/* The PRIME export holds the object; the handle can go right away. */
		struct drm_prime_handle prime = {};
		prime.handle = create.handle;
		prime.flags = DRM_CLOEXEC | DRM_RDWR;
		int ret = sys::ioctl(drm_.get(), DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime);
		int exportErr = errno;
		UniqueFd fd(ret < 0 ? -1 : prime.fd);
		destroyHandle(create.handle, what);
		if (ret < 0)
			return unexpected(exportErr, what() + ": PRIME export");

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
	/*
	 * Drops our handle; a failure leaves the memory held by the DRM fd
	 * until the allocator goes, which the log says.
	 */
	template<typename What>
	void destroyHandle(uint32_t handle, const What &what)
	{
		struct drm_mode_destroy_dumb destroy = {};
		destroy.handle = handle;
		if (sys::ioctl(drm_.get(), DRM_IOCTL_MODE_DESTROY_DUMB, &destroy) < 0) {
			const int err = errno;
			log(LogLevel::Warning, what() + ": destroy dumb handle " +
					       std::to_string(handle) + ": " + errnoName(err) +
					       "; its memory stays until the DRM fd closes");
		}
	}

	UniqueFd drm_;
	const Buffer::Origin origin_;
};

} /* namespace */

Result<std::unique_ptr<Allocator>> createDumbAllocator(const std::string &drmNode)
{
	UniqueFd fd = internal::openDrmNodeForAllocation(drmNode);
	if (!fd)
		return unexpected(errno, "open DRM node " + drmNode);

	struct drm_get_cap cap = {};
	cap.capability = DRM_CAP_DUMB_BUFFER;
	if (sys::ioctl(fd.get(), DRM_IOCTL_GET_CAP, &cap) < 0) {
		int err = errno;
		return unexpected(err, "DRM node " + drmNode + ": DRM_CAP_DUMB_BUFFER");
	}
	if (!cap.value)
		return unexpected(ENOTSUP, "DRM node " + drmNode + " has no dumb buffers");

	return std::unique_ptr<Allocator>(new DumbAllocator(std::move(fd), drmNode));
}

} /* namespace bufmgr */
