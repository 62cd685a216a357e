/* SPDX-License-Identifier: MIT */
#include <bufmgr/allocators.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <unistd.h>

#include <drm_fourcc.h>
#include <gbm.h>
#include <xf86drm.h>

#include <bufmgr/stats.h>

#include "allocator_util.h"

namespace bufmgr {

namespace {

struct GbmDeviceDeleter {
	void operator()(gbm_device *dev) const { gbm_device_destroy(dev); }
};
struct GbmBoDeleter {
	void operator()(gbm_bo *bo) const { gbm_bo_destroy(bo); }
};
using GbmDevicePtr = std::unique_ptr<gbm_device, GbmDeviceDeleter>;
using GbmBoPtr = std::unique_ptr<gbm_bo, GbmBoDeleter>;

/* libgbm's calls that allocate, behind the fault-injection seam (sys.h). */
gbm_device *createDevice(int fd)
{
	return internal::faultable(SysCall::GbmCreateDevice, static_cast<gbm_device *>(nullptr),
				   [&] { return gbm_create_device(fd); });
}

gbm_bo *createBo(gbm_device *device, uint32_t width, uint32_t height, uint32_t format,
		 uint32_t flags)
{
	return internal::faultable(SysCall::GbmBoCreate, static_cast<gbm_bo *>(nullptr), [&] {
		return gbm_bo_create(device, width, height, format, flags);
	});
}

gbm_bo *createBoWithModifiers(gbm_device *device, uint32_t width, uint32_t height,
			      uint32_t format, const std::vector<uint64_t> &modifiers,
			      uint32_t flags)
{
	return internal::faultable(SysCall::GbmBoCreate, static_cast<gbm_bo *>(nullptr), [&] {
		return gbm_bo_create_with_modifiers2(
			device, width, height, format, modifiers.data(),
			static_cast<unsigned int>(modifiers.size()), flags);
	});
}

int boFd(gbm_bo *bo, int plane)
{
	return internal::faultable(SysCall::GbmBoGetFd, -1,
				   [&] { return gbm_bo_get_fd_for_plane(bo, plane); });
}

uint32_t gbmUsage(Usage usage)
{
	switch (usage) {
	case Usage::Scanout:
		return GBM_BO_USE_SCANOUT | GBM_BO_USE_RENDERING;
	case Usage::Render:
	case Usage::Video:
	case Usage::Camera:
		return GBM_BO_USE_RENDERING;
	case Usage::Cpu:
		return GBM_BO_USE_LINEAR;
	}
	return GBM_BO_USE_RENDERING;
}

/*
 * GBM picks tiling and placement for its device; the only allocator here
 * that honours non-linear modifiers. Every plane is exported as its own
 * dma-buf fd, as linux-dmabuf clients send them.
 */
class GbmAllocator final : public Allocator
{
public:
	GbmAllocator(UniqueFd drm, GbmDevicePtr device, std::string node)
		: drm_(std::move(drm)), device_(std::move(device)),
		  source_("gbm:" + node)
	{
	}

	AllocatorKind kind() const override { return AllocatorKind::Gbm; }
	const std::string &source() const override { return source_.str(); }
	uint32_t capabilities() const override
	{
		return CapDmaBuf | CapCpuMap | CapModifiers;
	}

	Result<Buffer> allocate(const AllocationRequest &request) override
	{
		const std::string what = "allocate " + internal::describe(request) +
					 " " + std::string(toString(request.usage)) +
					 " from " + source_.str();

		if (request.isBlob())
			return unexpected(ENOTSUP, what + ": GBM allocates images only");
		if (request.width == 0 || request.height == 0)
			return unexpected(EINVAL, what + ": zero size");
		if (!formatInfo(request.format))
			return unexpected(EINVAL, what + ": unknown format");

		/* libgbm is not thread-safe; the manager is. */
		std::lock_guard<std::mutex> lock(mutex_);
		uint32_t flags = gbmUsage(request.usage);
		bool linearOnly = request.modifiers.empty() ||
				  (request.modifiers.size() == 1 &&
				   request.modifiers[0] == DRM_FORMAT_MOD_LINEAR);
		bool linearAllowed = request.modifiers.empty() ||
				     std::find(request.modifiers.begin(), request.modifiers.end(),
					       DRM_FORMAT_MOD_LINEAR) != request.modifiers.end();

		GbmBoPtr bo;
		bool forcedLinear = false;
		errno = 0;
		if (!linearOnly) {
			/* The modifier list decides the layout; LINEAR is a usage bit. */
			bo.reset(createBoWithModifiers(device_.get(), request.width,
						       request.height, request.format,
						       request.modifiers,
						       flags & ~GBM_BO_USE_LINEAR));
		}
		const int modifiersErr = errno;
		/* Drivers without modifier support (ENOSYS) can still do linear. */
		if (!bo && linearAllowed) {
			errno = 0;
			bo.reset(createBo(device_.get(), request.width, request.height,
					  request.format, flags | GBM_BO_USE_LINEAR));
			forcedLinear = true;
		}
		if (!bo) {
			int err = errno ? errno : ENOMEM;
			std::string how = linearAllowed ? "gbm_bo_create (linear)"
							: "gbm_bo_create_with_modifiers2";
			if (!linearOnly && linearAllowed)
				how = "gbm_bo_create_with_modifiers2 (" +
				      errnoName(modifiersErr ? modifiersErr : ENOMEM) +
				      ") and then " + how;
			return unexpected(err, what + ": " + how);
		}

		const int numPlanes = gbm_bo_get_plane_count(bo.get());
		if (numPlanes < 1 || numPlanes > 4)
			return unexpected(EINVAL, what + ": " + std::to_string(numPlanes) +
						  " planes");

		std::vector<BufferPlane> planes;
		for (int i = 0; i < numPlanes; i++) {
			auto fd = exportPlane(bo.get(), i);
			if (!fd)
				return unexpected(fd.error().code, what + ": " + fd.error().context);
			planes.push_back({ SharedFd(std::move(*fd)),
					   gbm_bo_get_offset(bo.get(), i),
					   gbm_bo_get_stride_for_plane(bo.get(), i) });
		}

		/* The dma-buf's own size, which covers every plane it carries. */
		off_t size = ::lseek(planes[0].fd.get(), 0, SEEK_END);
		::lseek(planes[0].fd.get(), 0, SEEK_SET);

		Buffer::Description desc;
		desc.width = request.width;
		desc.height = request.height;
		desc.format = request.format;
		desc.modifier = gbm_bo_get_modifier(bo.get());
		/* An implicit layout asked to be linear is linear. */
		if (desc.modifier == DRM_FORMAT_MOD_INVALID && forcedLinear)
			desc.modifier = DRM_FORMAT_MOD_LINEAR;
		desc.size = size > 0 ? static_cast<uint64_t>(size) : 0;
		desc.allocator = AllocatorKind::Gbm;
		desc.source = source_;
		desc.name = request.name;
		desc.isDmaBuf = true;

		for (const BufferPlane &plane : planes)
			internal::setDmaBufName(plane.fd.get(), request.name);

		return Buffer(std::move(desc), std::move(planes));
	}

private:
	/*
	 * Mesa exports read-only fds, which the CPU cannot map for writing;
	 * export the plane's handle ourselves with DRM_RDWR.
	 */
	Result<UniqueFd> exportPlane(gbm_bo *bo, int plane)
	{
		struct drm_prime_handle prime = {};
		prime.handle = gbm_bo_get_handle_for_plane(bo, plane).u32;
		prime.flags = DRM_CLOEXEC | DRM_RDWR;
		int primeErr = EINVAL;
		if (prime.handle) {
			if (sys::ioctl(drm_.get(), DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime) == 0)
				return UniqueFd(prime.fd);
			primeErr = errno;
			/*
			 * Only a driver that cannot export this way is worth the
			 * read-only fd below; out of memory or fds, it would fail
			 * too, or give a buffer that maps with EACCES later.
			 */
			if (primeErr != EINVAL && primeErr != EOPNOTSUPP && primeErr != ENOSYS)
				return unexpected(primeErr, "export plane " + std::to_string(plane) +
							    ": PRIME export");
		}

		errno = 0;
		UniqueFd fallback(boFd(bo, plane));
		if (!fallback)
			return unexpected(errno ? errno : EIO,
					  "export plane " + std::to_string(plane) +
					  ": PRIME export (" + errnoName(primeErr) +
					  ") and then gbm_bo_get_fd_for_plane");
		return fallback;
	}

	std::mutex mutex_;
	UniqueFd drm_;	/* outlives device_, which borrows it */
	GbmDevicePtr device_;
	const SourceName source_;
};

} /* namespace */

Result<std::unique_ptr<Allocator>> createGbmAllocator(const std::string &drmNode)
{
	UniqueFd fd = internal::openDrmNodeForAllocation(drmNode);
	if (!fd)
		return unexpected(errno, "open DRM node " + drmNode);

	errno = 0;
	GbmDevicePtr device(createDevice(fd.get()));
	if (!device)
		return unexpected(errno ? errno : ENODEV,
				  "create GBM device on " + drmNode);

	return std::unique_ptr<Allocator>(
		new GbmAllocator(std::move(fd), std::move(device), drmNode));
}

} /* namespace bufmgr */
