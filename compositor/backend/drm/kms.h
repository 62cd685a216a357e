/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Thin ownership over libdrm's KMS objects: the device, object properties
 * by name, atomic requests and framebuffers. Nothing here decides what to
 * show; drm_backend.cpp does.
 */

#include <cerrno>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xf86drm.h>
#include <xf86drmMode.h>

#include <bufmgr/buffer.h>
#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

#include "backend/drm/session.h"
#include "format_modifier.h"
#include "rect.h"

namespace comp::kms {

using bufmgr::Result;
using comp::SessionDevice;

template<typename T, void (*Free)(T *)>
struct Deleter {
	void operator()(T *p) const { Free(p); }
};
template<typename T, void (*Free)(T *)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

using ResourcesPtr = Ptr<drmModeRes, drmModeFreeResources>;
using ConnectorPtr = Ptr<drmModeConnector, drmModeFreeConnector>;
using EncoderPtr = Ptr<drmModeEncoder, drmModeFreeEncoder>;
using PlaneResourcesPtr = Ptr<drmModePlaneRes, drmModeFreePlaneResources>;
using PlanePtr = Ptr<drmModePlane, drmModeFreePlane>;
using BlobPtr = Ptr<drmModePropertyBlobRes, drmModeFreePropertyBlob>;
using AtomicReqPtr = Ptr<drmModeAtomicReq, drmModeAtomicFree>;

/* A KMS object's properties: ids by name, and values when read. */
class Properties
{
public:
	static Properties read(int fd, uint32_t object, uint32_t type);

	uint32_t id(const std::string &name) const;
	uint64_t value(const std::string &name, uint64_t fallback = 0) const;
	bool has(const std::string &name) const { return id(name) != 0; }
	/* The value of an enum property's entry by its name ("Pre-multiplied"); none if not listed. */
	std::optional<uint64_t> enumValue(int fd, const std::string &name,
					  const std::string &entry) const;
	/* The bits a bitmask property ("rotation") may have set; 0 without the property. */
	uint64_t bitmaskBits(int fd, const std::string &name) const;

private:
	std::map<std::string, std::pair<uint32_t, uint64_t>> props_;
};

/* An atomic request that remembers the first property it could not name. */
class AtomicRequest
{
public:
	AtomicRequest();

	void set(uint32_t object, const Properties &props, const char *name, uint64_t value);
	/* Nothing set yet: libdrm would commit nothing, and no event would come. */
	bool empty() const { return !req_ || drmModeAtomicGetCursor(req_.get()) == 0; }
	/* Commits with flags; errno-style error with what was committed in the context. */
	Result<void> commit(int fd, uint32_t flags, void *userData, const std::string &what);

private:
	AtomicReqPtr req_;
	std::string missing_;
};

/* A whole framebuffer of width x height on plane, at (x, y) on the CRTC, unscaled. */
void placePlane(AtomicRequest &req, uint32_t plane, const Properties &props, uint32_t crtc,
		uint32_t fb, uint32_t width, uint32_t height, int32_t x = 0, int32_t y = 0);
/*
 * A whole framebuffer of width x height on plane at destination, turned
 * by rotation ("rotation": DRM_MODE_ROTATE_*, DRM_MODE_REFLECT_*; set
 * wherever the plane has it, since a plane keeps the last one it was
 * given, by this process or another).
 */
void placePlane(AtomicRequest &req, uint32_t plane, const Properties &props, uint32_t crtc,
		uint32_t fb, uint32_t width, uint32_t height, const Rect &destination,
		uint64_t rotation = DRM_MODE_ROTATE_0);

/* A DRM device node opened by this process, through its seat where it has one. */
struct Device {
	SessionDevice fd;
	std::string path;
	std::string driver;
	dev_t devnum = 0;
};

/* The node's kernel driver name ("vkms"), empty if it is not a DRM node. */
std::string driverName(int fd);

/* Opens a device node: through the session's seat, or (null) directly. */
using NodeOpener = std::function<Result<SessionDevice>(const std::string &path)>;

/*
 * The KMS device: path if given, else the first /dev/dri/card* with a
 * connector. Atomic, universal planes and writeback connectors enabled.
 */
Result<Device> openKmsDevice(const std::string &path, const NodeOpener &opener = {});

/* A render node other than the KMS device's, where one exists (vgem next to vkms). */
std::optional<dev_t> findRenderDevice(const Device &kms);

/* The formats and modifiers a plane takes, from IN_FORMATS (or LINEAR). */
std::vector<FormatModifier> planeFormats(int fd, const drmModePlane &plane,
					 const Properties &props);

/*
 * Whether a plane that lists these formats may take a buffer of that
 * format and modifier. An implicit modifier (INVALID) is the driver's own
 * layout, for any format listed: the TEST_ONLY commit has the last word.
 */
bool planeTakes(const std::vector<FormatModifier> &formats, FormatModifier buffer);

/*
 * Whether an atomic commit's errno refuses the configuration (a plane's
 * buffer, size or bandwidth) rather than the moment: EACCES (the DRM
 * master went) and EBUSY (a flip in flight) say nothing of what it shows.
 */
constexpr bool configurationRefused(int error)
{
	return error == EINVAL || error == ERANGE || error == ENOSPC || error == E2BIG;
}

/*
 * A framebuffer made from a dma-buf: PRIME import, AddFB2 with the
 * modifier (without one where the buffer's is implicit, or linear on a
 * driver that takes none), the GEM handles closed at once (the
 * framebuffer keeps the memory). Removed with CLOSEFB where the kernel
 * has it, so a CRTC still showing it stays on.
 */
class Framebuffer
{
public:
	static Result<std::unique_ptr<Framebuffer>> import(int fd, const bufmgr::Buffer &buffer);
	~Framebuffer();
	Framebuffer(const Framebuffer &) = delete;
	Framebuffer &operator=(const Framebuffer &) = delete;

	uint32_t id() const { return id_; }
	uint32_t width() const { return width_; }
	uint32_t height() const { return height_; }

private:
	Framebuffer(int fd, uint32_t id, uint32_t width, uint32_t height)
		: fd_(fd), id_(id), width_(width), height_(height)
	{
	}

	int fd_;
	uint32_t id_;
	uint32_t width_;
	uint32_t height_;
};

} /* namespace comp::kms */
