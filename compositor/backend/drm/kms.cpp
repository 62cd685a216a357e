/* SPDX-License-Identifier: MIT */
#include "backend/drm/kms.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include <drm_fourcc.h>

#include <bufmgr/dri_nodes.h>

#include "log.h"

namespace comp::kms {

namespace {

/*
 * DRM_IOCTL_MODE_CLOSEFB (Linux 6.8): removes the framebuffer without
 * switching off a plane that still shows it, unlike RmFB. Debian's
 * libdrm 2.4.114 predates it.
 */
struct CloseFb {
	uint32_t fbId;
	uint32_t pad;
};
constexpr unsigned long kIoctlCloseFb = DRM_IOWR(0xD0, CloseFb);

} /* namespace */

Properties Properties::read(int fd, uint32_t object, uint32_t type)
{
	Properties props;
	drmModeObjectProperties *list = drmModeObjectGetProperties(fd, object, type);
	if (!list)
		return props;
	for (uint32_t i = 0; i < list->count_props; i++) {
		drmModePropertyRes *prop = drmModeGetProperty(fd, list->props[i]);
		if (!prop)
			continue;
		props.props_[prop->name] = { prop->prop_id, list->prop_values[i] };
		drmModeFreeProperty(prop);
	}
	drmModeFreeObjectProperties(list);
	return props;
}

uint32_t Properties::id(const std::string &name) const
{
	auto it = props_.find(name);
	return it == props_.end() ? 0 : it->second.first;
}

std::optional<uint64_t> Properties::enumValue(int fd, const std::string &name,
					      const std::string &entry) const
{
	const uint32_t propId = id(name);
	if (!propId)
		return std::nullopt;
	drmModePropertyRes *prop = drmModeGetProperty(fd, propId);
	if (!prop)
		return std::nullopt;
	std::optional<uint64_t> value;
	if (prop->flags & DRM_MODE_PROP_ENUM)
		for (int i = 0; i < prop->count_enums && !value; i++)
			if (entry == prop->enums[i].name)
				value = prop->enums[i].value;
	drmModeFreeProperty(prop);
	return value;
}

uint64_t Properties::bitmaskBits(int fd, const std::string &name) const
{
	const uint32_t propId = id(name);
	if (!propId)
		return 0;
	drmModePropertyRes *prop = drmModeGetProperty(fd, propId);
	if (!prop)
		return 0;
	uint64_t bits = 0;
	/* A bitmask property's entries are bit numbers. */
	if (prop->flags & DRM_MODE_PROP_BITMASK)
		for (int i = 0; i < prop->count_enums; i++)
			if (prop->enums[i].value < 64)
				bits |= uint64_t(1) << prop->enums[i].value;
	drmModeFreeProperty(prop);
	return bits;
}

uint64_t Properties::value(const std::string &name, uint64_t fallback) const
{
	auto it = props_.find(name);
	return it == props_.end() ? fallback : it->second.second;
}

AtomicRequest::AtomicRequest() : req_(drmModeAtomicAlloc()) {}

void AtomicRequest::set(uint32_t object, const Properties &props, const char *name,
			uint64_t value)
{
	uint32_t prop = props.id(name);
	if (!prop) {
		if (missing_.empty())
			missing_ = name;
		return;
	}
	if (req_ && drmModeAtomicAddProperty(req_.get(), object, prop, value) < 0 &&
	    missing_.empty())
		missing_ = std::string(name) + " (" + strerror(errno) + ")";
}

Result<void> AtomicRequest::commit(int fd, uint32_t flags, void *userData, const std::string &what)
{
	if (!req_)
		return bufmgr::unexpected(ENOMEM, what + ": drmModeAtomicAlloc");
	if (!missing_.empty())
		return bufmgr::unexpected(EINVAL, what + ": the driver has no property " + missing_);
	if (drmModeAtomicCommit(fd, req_.get(), flags, userData) < 0)
		return bufmgr::unexpected(errno, what);
	return {};
}

void placePlane(AtomicRequest &req, uint32_t plane, const Properties &props, uint32_t crtc,
		uint32_t fb, uint32_t width, uint32_t height, int32_t x, int32_t y)
{
	placePlane(req, plane, props, crtc, fb, width, height,
		   Rect{ x, y, int32_t(width), int32_t(height) });
}

void placePlane(AtomicRequest &req, uint32_t plane, const Properties &props, uint32_t crtc,
		uint32_t fb, uint32_t width, uint32_t height, const Rect &destination,
		uint64_t rotation)
{
	req.set(plane, props, "FB_ID", fb);
	req.set(plane, props, "CRTC_ID", crtc);
	req.set(plane, props, "SRC_X", 0);
	req.set(plane, props, "SRC_Y", 0);
	req.set(plane, props, "SRC_W", uint64_t(width) << 16);
	req.set(plane, props, "SRC_H", uint64_t(height) << 16);
	/* Signed properties: the kernel reads the low bits as an int. */
	req.set(plane, props, "CRTC_X", uint64_t(int64_t(destination.x)));
	req.set(plane, props, "CRTC_Y", uint64_t(int64_t(destination.y)));
	req.set(plane, props, "CRTC_W", uint64_t(destination.width));
	req.set(plane, props, "CRTC_H", uint64_t(destination.height));
	if (props.has("rotation"))
		req.set(plane, props, "rotation", rotation);
}

std::string driverName(int fd)
{
	drmVersion *version = drmGetVersion(fd);
	if (!version)
		return {};
	std::string name(version->name, version->name_len);
	drmFreeVersion(version);
	return name;
}

namespace {

Result<Device> openNode(const std::string &path, const NodeOpener &opener)
{
	Device device;
	if (opener) {
		auto node = opener(path);
		if (!node)
			return bufmgr::unexpected(std::move(node).error());
		device.fd = std::move(*node);
	} else {
		int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return bufmgr::unexpected(errno, "opening " + path);
		device.fd = SessionDevice(nullptr, -1, bufmgr::UniqueFd(fd));
	}
	const int fd = device.fd.get();
	device.path = path;
	device.driver = driverName(fd);
	struct stat st;
	if (fstat(fd, &st) == 0)
		device.devnum = st.st_rdev;
	if (device.driver.empty())
		return bufmgr::unexpected(ENODEV, path + " is not a DRM device");
	return device;
}

bool hasConnectors(int fd)
{
	ResourcesPtr res(drmModeGetResources(fd));
	return res && res->count_connectors > 0 && res->count_crtcs > 0;
}

} /* namespace */

Result<Device> openKmsDevice(const std::string &path, const NodeOpener &opener)
{
	std::vector<std::string> candidates = path.empty() ? bufmgr::driNodes("card")
							   : std::vector<std::string>{ path };
	if (candidates.empty())
		return bufmgr::unexpected(ENODEV, "no /dev/dri/card* (is a KMS driver loaded?)");
	std::string tried;
	for (const std::string &candidate : candidates) {
		auto device = openNode(candidate, opener);
		if (!device) {
			tried += (tried.empty() ? "" : "; ") + device.error().message();
			continue;
		}
		int fd = device->fd.get();
		if (drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) < 0 ||
		    drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) < 0) {
			tried += (tried.empty() ? "" : "; ") + candidate + " (" + device->driver +
				 "): no atomic modesetting";
			continue;
		}
		if (!hasConnectors(fd)) {
			tried += (tried.empty() ? "" : "; ") + candidate + " (" + device->driver +
				 "): no connectors";
			continue;
		}
		/* Modes are probed and set by the master only. */
		if (drmSetMaster(fd) < 0 && !drmIsMaster(fd))
			LOG_WARNING("%s: not DRM master (%s): another program drives the display",
				    candidate.c_str(), strerror(errno));
		/* Only for tests and screenshots; a display without one is fine. */
		drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1);
		return device;
	}
	return bufmgr::unexpected(ENODEV, "no KMS device: " + tried);
}

std::optional<dev_t> findRenderDevice(const Device &kms)
{
	/* The display controller's own render node, if it has one, comes first. */
	std::optional<dev_t> other;
	for (const std::string &path : bufmgr::driNodes("renderD")) {
		struct stat st;
		if (stat(path.c_str(), &st) < 0)
			continue;
		int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		std::string driver = driverName(fd);
		close(fd);
		if (driver == kms.driver)
			return st.st_rdev;
		if (!other)
			other = st.st_rdev;
	}
	return other;
}

std::vector<FormatModifier> planeFormats(int fd, const drmModePlane &plane,
					 const Properties &props)
{
	std::vector<FormatModifier> formats;
	if (uint64_t blobId = props.value("IN_FORMATS")) {
		BlobPtr blob(drmModeGetPropertyBlob(fd, uint32_t(blobId)));
		if (blob) {
			drmModeFormatModifierIterator iter = {};
			while (drmModeFormatModifierBlobIterNext(blob.get(), &iter))
				formats.push_back({ iter.fmt, iter.mod });
			if (!formats.empty())
				return formats;
		}
	}
	/* No IN_FORMATS: the driver takes linear buffers of its formats. */
	for (uint32_t i = 0; i < plane.count_formats; i++)
		formats.push_back({ plane.formats[i], DRM_FORMAT_MOD_LINEAR });
	return formats;
}

bool planeTakes(const std::vector<FormatModifier> &formats, FormatModifier buffer)
{
	return std::any_of(formats.begin(), formats.end(), [&](const FormatModifier &listed) {
		return listed.format == buffer.format &&
		       (listed.modifier == buffer.modifier ||
			buffer.modifier == DRM_FORMAT_MOD_INVALID);
	});
}

Result<std::unique_ptr<Framebuffer>> Framebuffer::import(int fd, const bufmgr::Buffer &buffer)
{
	if (!buffer.isDmaBuf() || !buffer.isValid())
		return bufmgr::unexpected(EINVAL, "not a dma-buf");
	uint64_t takesModifiers = 0;
	drmGetCap(fd, DRM_CAP_ADDFB2_MODIFIERS, &takesModifiers);
	const uint64_t modifier = buffer.modifier();
	const bool withModifiers = modifier != DRM_FORMAT_MOD_INVALID &&
				   (takesModifiers || modifier != DRM_FORMAT_MOD_LINEAR);
	/* Linear is what such a driver reads anyway; any other layout it cannot be told. */
	if (withModifiers && !takesModifiers)
		return bufmgr::unexpected(EOPNOTSUPP, "the driver takes no modifiers, and the buffer's "
					  "is not linear");
	uint32_t handles[4] = {}, pitches[4] = {}, offsets[4] = {};
	uint64_t modifiers[4] = {};
	for (size_t i = 0; i < buffer.numPlanes(); i++) {
		const bufmgr::BufferPlane &plane = buffer.plane(i);
		if (drmPrimeFDToHandle(fd, plane.fd.get(), &handles[i]) < 0) {
			int err = errno;
			for (size_t j = 0; j < i; j++)
				if (handles[j] && std::find(handles, handles + j, handles[j]) == handles + j)
					drmCloseBufferHandle(fd, handles[j]);
			return bufmgr::unexpected(err, "PRIME import of plane " + std::to_string(i));
		}
		pitches[i] = plane.stride;
		offsets[i] = plane.offset;
		modifiers[i] = buffer.modifier();
	}
	uint32_t id = 0;
	int ret = drmModeAddFB2WithModifiers(fd, buffer.width(), buffer.height(), buffer.format(),
					     handles, pitches, offsets,
					     withModifiers ? modifiers : nullptr, &id,
					     withModifiers ? DRM_MODE_FB_MODIFIERS : 0);
	int err = errno;
	/*
	 * The framebuffer holds the memory now. Planes of one dma-buf share
	 * a handle: close each handle once.
	 */
	for (size_t i = 0; i < buffer.numPlanes(); i++)
		if (handles[i] && std::find(handles, handles + i, handles[i]) == handles + i)
			drmCloseBufferHandle(fd, handles[i]);
	if (ret < 0)
		return bufmgr::unexpected(err, "AddFB2");
	return std::unique_ptr<Framebuffer>(new Framebuffer(fd, id, buffer.width(), buffer.height()));
}

Framebuffer::~Framebuffer()
{
	CloseFb arg = { id_, 0 };
	if (ioctl(fd_, kIoctlCloseFb, &arg) == 0)
		return;
	/* Older kernels: RmFB, which switches off a plane still showing it. */
	if (drmModeRmFB(fd_, id_) < 0)
		LOG_WARNING("removing framebuffer %u: %s", id_, strerror(errno));
}

} /* namespace comp::kms */
