/* SPDX-License-Identifier: MIT */
#include "backend/drm/drm_backend.h"

#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include <drm_fourcc.h>
#include <wayland-server-core.h>

#include <bufmgr/mapping.h>

#include "backend/output_swapchain.h"
#include "backend/render_device.h"
#include "backend/scanout_memory.h"
#include "buffer.h"
#include "log.h"
#include "render/transform.h"
#include "surface.h"

namespace comp {

namespace {

/*
 * The plane "rotation" that undoes a buffer transform: the client
 * flipped the content around the vertical axis (FLIPPED_*), then rotated
 * it counter-clockwise; a plane reflects its framebuffer first, then
 * rotates it counter-clockwise.
 */
uint64_t planeRotation(Transform transform)
{
	static constexpr uint64_t kRotate[4] = { DRM_MODE_ROTATE_0, DRM_MODE_ROTATE_90,
						 DRM_MODE_ROTATE_180, DRM_MODE_ROTATE_270 };
	const unsigned quarters = unsigned(transform) & 3;
	/* A rotation is undone by the opposite one; a reflection then a rotation undoes itself. */
	if (unsigned(transform) & 4)
		return DRM_MODE_REFLECT_X | kRotate[quarters];
	return kRotate[(4 - quarters) & 3];
}

/* Whether a plane offering rotations (planeRotations()) can undo transform. */
bool undoes(uint64_t rotations, Transform transform)
{
	const uint64_t rotation = planeRotation(transform);
	return (rotations & rotation) == rotation;
}

/* What a plane's "rotation" offers; a plane without the property shows buffers unturned. */
uint64_t planeRotations(int fd, const kms::Properties &props)
{
	return props.bitmaskBits(fd, "rotation") | DRM_MODE_ROTATE_0;
}

/* On screen, flipping to, and drawing: three buffers keep the GPU and display busy. */
constexpr uint32_t kOutputSlots = 3;
/* Refused commits in a row that make a client buffer composed though TEST_ONLY took it. */
constexpr int kScanoutCommitRefusals = 3;
/* A writeback completes at the next refresh; one this late was lost, and frames wait for it. */
constexpr int kCaptureTimeoutMs = 3000;
/*
 * How long an overlay or cursor plane that went off keeps its scanout
 * memory: a cursor hidden while typing, an overlay toggled, comes back
 * without allocating (CMA is slow and fragments).
 */
constexpr std::chrono::milliseconds kPlaneMemoryKept{ 5000 };

uint32_t refreshMilliHz(const drmModeModeInfo &mode)
{
	if (!mode.htotal || !mode.vtotal)
		return 0;
	uint64_t refresh = (uint64_t(mode.clock) * 1000000ull / mode.htotal + mode.vtotal / 2) /
			   mode.vtotal;
	if (mode.flags & DRM_MODE_FLAG_INTERLACE)
		refresh *= 2;
	if (mode.flags & DRM_MODE_FLAG_DBLSCAN)
		refresh /= 2;
	if (mode.vscan > 1)
		refresh /= mode.vscan;
	return uint32_t(refresh);
}

/* A refresh as --mode names it, to the nearest hertz. */
uint32_t wholeHz(uint32_t milliHz)
{
	return (milliHz + 500) / 1000;
}

/* Virtual connectors may not know (vkms says "unknown"): one with modes is taken. */
bool hasDisplay(const drmModeConnector &connector)
{
	return connector.connection != DRM_MODE_DISCONNECTED && connector.count_modes;
}

std::string connectorName(const drmModeConnector &connector)
{
	const char *type = drmModeGetConnectorTypeName(connector.connector_type);
	return std::string(type ? type : "Unknown") + "-" + std::to_string(connector.connector_type_id);
}

/* Bit mask of the CRTC indices a connector's encoders can drive. */
uint32_t possibleCrtcs(int fd, const drmModeConnector &connector)
{
	uint32_t crtcs = 0;
	for (int i = 0; i < connector.count_encoders; i++) {
		kms::EncoderPtr encoder(drmModeGetEncoder(fd, connector.encoders[i]));
		if (encoder)
			crtcs |= encoder->possible_crtcs;
	}
	return crtcs;
}

const drmModeModeInfo *chooseMode(const drmModeConnector &connector, const DrmConfig &config)
{
	const drmModeModeInfo *preferred = connector.count_modes ? &connector.modes[0] : nullptr;
	for (int i = 0; i < connector.count_modes; i++) {
		const drmModeModeInfo &mode = connector.modes[i];
		if (config.width && (mode.hdisplay != config.width || mode.vdisplay != config.height))
			continue;
		if (config.width && config.refreshMilliHz &&
		    wholeHz(refreshMilliHz(mode)) != wholeHz(config.refreshMilliHz))
			continue;
		if (config.width || (mode.type & DRM_MODE_TYPE_PREFERRED))
			return &mode;
	}
	return config.width ? nullptr : preferred;
}

/*
 * Why the display cannot read a client dma-buf's memory on plane (named
 * for the reason): not contiguous where that is required, a format or
 * modifier formats lacks, a refused import; "" if it can, with its
 * framebuffer in entry. Each reason is the buffer's own.
 */
std::string memoryUnfit(DrmBackend &backend, const ClientBuffer &buffer,
			const std::vector<FormatModifier> &formats, const std::string &plane,
			DrmBackend::ClientFb *&entry)
{
	if (backend.config().scanoutRequiresContiguous &&
	    !isContiguousMemory(backend.bufferManager().heaps(), buffer))
		return "memory from " + buffer.exporter() + " is not contiguous";
	if (!kms::planeTakes(formats, { buffer.format(), buffer.dmaBuf()->modifier() }))
		return "format/modifier not supported by " + plane;
	entry = backend.clientFramebuffer(buffer);
	if (!entry->fb)
		return "framebuffer import failed: " + entry->error;
	return {};
}

/*
 * Why a primary plane of mode taking formats cannot show buffer as it
 * is, "" if it may, with its framebuffer in entry. ofBuffer: the reason
 * is the buffer's format or memory (another buffer could go).
 */
std::string primaryUnfit(DrmBackend &backend, const ClientBuffer &buffer, Transform transform,
			 uint64_t rotations, const Output::Mode &mode,
			 const std::vector<FormatModifier> &formats, DrmBackend::ClientFb *&entry,
			 bool &ofBuffer)
{
	ofBuffer = false;
	if (!(buffer.caps() & BufferCapDmaBuf))
		return "wl_shm memory, which the display cannot read";
	if (!undoes(rotations, transform))
		return "transformed, which the primary plane cannot undo";
	const auto [width, height] = shownSize(transform, buffer.width(), buffer.height());
	if (width != mode.width || height != mode.height)
		return "scaled: " + std::to_string(width) + "x" + std::to_string(height) + " on a " +
		       std::to_string(mode.width) + "x" + std::to_string(mode.height) + " plane";
	if (buffer.yInverted())
		return "transformed (y-inverted)";
	std::string why = memoryUnfit(backend, buffer, formats, "the primary plane", entry);
	ofBuffer = !why.empty();
	return why;
}

/* A CRTC's free overlay planes, bottom to top, and whether that order is known. */
struct OverlayStack {
	std::vector<uint32_t> planes;
	bool ordered = false;
};

OverlayStack overlayStack(int fd, const drmModePlaneRes &planes, int crtcIndex,
			  const std::vector<uint32_t> &used, const std::string &driver,
			  std::optional<uint64_t> primaryZpos)
{
	struct Found {
		uint32_t id;
		std::optional<uint64_t> zpos;
	};
	std::vector<Found> found;
	for (uint32_t p = 0; p < planes.count_planes; p++) {
		kms::PlanePtr plane(drmModeGetPlane(fd, planes.planes[p]));
		if (!plane || !(plane->possible_crtcs & (1u << crtcIndex)) ||
		    std::count(used.begin(), used.end(), plane->plane_id))
			continue;
		kms::Properties props = kms::Properties::read(fd, plane->plane_id, DRM_MODE_OBJECT_PLANE);
		if (props.value("type") != DRM_PLANE_TYPE_OVERLAY)
			continue;
		const std::optional<uint64_t> zpos =
			props.has("zpos") ? std::optional(props.value("zpos")) : std::nullopt;
		/* Below the primary plane (an underlay): it would hide what it shows. */
		if (zpos && primaryZpos && *zpos <= *primaryZpos)
			continue;
		found.push_back({ plane->plane_id, zpos });
	}
	OverlayStack stack;
	const bool allZpos = std::all_of(found.begin(), found.end(),
					 [](const Found &f) { return f.zpos.has_value(); });
	if (allZpos) {
		/* zpos as the driver set it: distinct values stack in their order. */
		std::stable_sort(found.begin(), found.end(),
				 [](const Found &a, const Found &b) { return *a.zpos < *b.zpos; });
		stack.ordered = std::adjacent_find(found.begin(), found.end(),
						   [](const Found &a, const Found &b) {
							   return *a.zpos == *b.zpos;
						   }) == found.end();
	} else {
		/* VKMS has no zpos: it blends the planes in the order of their indices. */
		stack.ordered = driver == "vkms" || found.size() <= 1;
	}
	for (const Found &f : found)
		stack.planes.push_back(f.id);
	return stack;
}

std::string describeMode(const drmModeModeInfo &mode)
{
	uint32_t mhz = refreshMilliHz(mode);
	char text[64];
	snprintf(text, sizeof(text), "%ux%u@%u.%03u", mode.hdisplay, mode.vdisplay, mhz / 1000,
		 mhz % 1000);
	return text;
}

/* What --mode asked for and what the connector has instead, for the log. */
std::string describeMissingMode(const drmModeConnector &connector, const DrmConfig &config)
{
	auto size = [](uint32_t width, uint32_t height) {
		return std::to_string(width) + "x" + std::to_string(height);
	};
	std::string text = "no mode " + size(config.width, config.height);
	if (config.refreshMilliHz)
		text += "@" + std::to_string(wholeHz(config.refreshMilliHz));
	std::vector<std::string> modes;
	for (int i = 0; i < connector.count_modes; i++) {
		const drmModeModeInfo &mode = connector.modes[i];
		std::string one = size(mode.hdisplay, mode.vdisplay) + "@" +
				  std::to_string(wholeHz(refreshMilliHz(mode)));
		if (std::find(modes.begin(), modes.end(), one) == modes.end())
			modes.push_back(std::move(one));
	}
	text += "; it has";
	for (const std::string &mode : modes)
		text += " " + mode;
	return text;
}

} /* namespace */

DrmOutput::DrmOutput(DrmBackend &backend, uint32_t connector, std::string name)
	: backend_(backend), eventTarget_(backend.eventTargets_.emplace_back(DrmEventTarget{ this })),
	  connector_(connector), name_(std::move(name))
{
}

DrmOutput::~DrmOutput()
{
	eventTarget_.output = nullptr;
	captureSource_.reset();
	retry_.reset();
	refreshTimer_.reset();
	if (idle_)
		wl_event_source_remove(idle_);
	/* Before its buffers go, blocking: no framebuffer is removed while shown. */
	switchOff("switching off");
	if (modeBlob_)
		drmModeDestroyPropertyBlob(backend_.fd(), modeBlob_);
}

bool DrmOutput::switchOff(const char *why)
{
	if (!modesetDone_)
		return true;
	/* Blocking: it waits for a flip still in flight. */
	kms::AtomicRequest req;
	req.set(primary_, primaryProps_, "FB_ID", 0);
	req.set(primary_, primaryProps_, "CRTC_ID", 0);
	for (const ImagePlane *plane : { &overlay_, &cursor_ })
		if (plane->id())
			plane->addOff(req);
	for (const ClientPlane &plane : clientPlanes_) {
		req.set(plane.id, plane.props, "FB_ID", 0);
		req.set(plane.id, plane.props, "CRTC_ID", 0);
	}
	req.set(connector_, connectorProps_, "CRTC_ID", 0);
	if (writeback_)
		req.set(writeback_, writebackProps_, "CRTC_ID", 0);
	req.set(crtc_, crtcProps_, "ACTIVE", 0);
	req.set(crtc_, crtcProps_, "MODE_ID", 0);
	if (auto ret = req.commit(backend_.fd(), DRM_MODE_ATOMIC_ALLOW_MODESET, nullptr,
				  name_ + ": " + why);
	    !ret) {
		LOG_WARNING("%s", ret.error().message().c_str());
		return false;
	}
	modesetDone_ = false;
	/* The client buffers stay locked: the next commit shows them again. */
	restatePlanes_ = true;
	return true;
}

bool DrmOutput::live() const
{
	return connected_ && backend_.active();
}

void DrmOutput::setConnected(bool connected, const drmModeConnector &connector)
{
	if (connected == connected_)
		return;
	if (!connected) {
		LOG_INFO("%s: display unplugged: switched off", name_.c_str());
		connected_ = false;
		if (backend_.active())
			switchOff("switching off the unplugged output");
		return;
	}
	/* Its buffers are of this mode: a display that does not take it stays dark. */
	const bool hasMode = std::any_of(connector.modes, connector.modes + connector.count_modes,
					 [&](const drmModeModeInfo &m) {
						 return m.hdisplay == modeInfo_.hdisplay &&
							m.vdisplay == modeInfo_.vdisplay &&
							refreshMilliHz(m) == mode_.refreshMilliHz;
					 });
	if (!hasMode) {
		LOG_WARNING("%s: display plugged in without mode %s: left off", name_.c_str(),
			    describeMode(modeInfo_).c_str());
		return;
	}
	LOG_INFO("%s: display plugged in: setting the mode again", name_.c_str());
	connected_ = true;
	if (backend_.active())
		resume();
}

Result<void> DrmOutput::init(wl_event_loop *loop, const drmModeModeInfo &mode, uint32_t crtc,
			     uint32_t crtcIndex, uint32_t primaryPlane, uint32_t overlayPlane,
			     uint32_t cursorPlane, uint32_t writeback,
			     const std::vector<uint32_t> &clientPlanes)
{
	loop_ = loop;
	int fd = backend_.fd();
	modeInfo_ = mode;
	mode_.width = mode.hdisplay;
	mode_.height = mode.vdisplay;
	mode_.refreshMilliHz = refreshMilliHz(mode);
	crtc_ = crtc;
	crtcIndex_ = crtcIndex;
	primary_ = primaryPlane;
	writeback_ = writeback;
	model_ = backend_.device().driver;
	description_ = backend_.device().driver + " " + name_ + " " + describeMode(mode);

	crtcProps_ = kms::Properties::read(fd, crtc_, DRM_MODE_OBJECT_CRTC);
	connectorProps_ = kms::Properties::read(fd, connector_, DRM_MODE_OBJECT_CONNECTOR);
	primaryProps_ = kms::Properties::read(fd, primary_, DRM_MODE_OBJECT_PLANE);
	if (overlayPlane)
		overlay_ = ImagePlane(fd, overlayPlane, { "overlay", 0, 0, true });
	if (cursorPlane) {
		/* The size cursor buffers must have; 64x64 where the driver does not say. */
		uint64_t width = 64, height = 64;
		drmGetCap(fd, DRM_CAP_CURSOR_WIDTH, &width);
		drmGetCap(fd, DRM_CAP_CURSOR_HEIGHT, &height);
		cursor_ = ImagePlane(fd, cursorPlane, { "cursor", uint32_t(width), uint32_t(height), false });
	}
	if (writeback_)
		writebackProps_ = kms::Properties::read(fd, writeback_, DRM_MODE_OBJECT_CONNECTOR);
	kms::PlanePtr plane(drmModeGetPlane(fd, primary_));
	if (!plane)
		return bufmgr::unexpected(errno, name_ + ": reading primary plane " +
						 std::to_string(primary_));
	primaryFormats_ = kms::planeFormats(fd, *plane, primaryProps_);
	primaryRotations_ = planeRotations(fd, primaryProps_);
	for (uint32_t id : clientPlanes) {
		kms::PlanePtr overlay(drmModeGetPlane(fd, id));
		if (!overlay)
			continue;
		ClientPlane client;
		client.id = id;
		client.props = kms::Properties::read(fd, id, DRM_MODE_OBJECT_PLANE);
		client.formats = kms::planeFormats(fd, *overlay, client.props);
		/*
		 * Premultiplied blending where the property offers it. Without
		 * the property older drivers blended otherwise (by coverage);
		 * VKMS's composer blends premultiplied.
		 */
		client.premultiplied = client.props.enumValue(fd, "pixel blend mode", "Pre-multiplied");
		client.blends = client.premultiplied ||
				(!client.props.has("pixel blend mode") && backend_.device().driver == "vkms");
		client.rotations = planeRotations(fd, client.props);
		clientPlanes_.push_back(std::move(client));
	}
	if (drmModeCreatePropertyBlob(fd, &modeInfo_, sizeof(modeInfo_), &modeBlob_) < 0)
		return bufmgr::unexpected(errno, name_ + ": mode blob");

	if (auto ret = allocateSwapchain(); !ret)
		return ret;
	std::string clientList;
	for (const ClientPlane &client : clientPlanes_)
		clientList += (clientList.empty() ? "" : " ") + std::to_string(client.id);
	LOG_INFO("%s: %s on CRTC %u, primary plane %u (%zu formats)%s%s%s%s; %zu scanout buffers "
		 "from %s",
		 name_.c_str(), describeMode(mode).c_str(), crtc_, primary_, primaryFormats_.size(),
		 (clientList.empty() ? std::string()
				     : ", client buffers on overlay planes " + clientList)
			 .c_str(),
		 (overlay_.id() ? ", overlay plane " + std::to_string(overlay_.id()) : std::string())
			 .c_str(),
		 (cursor_.id() ? ", cursor plane " + std::to_string(cursor_.id()) : std::string())
			 .c_str(),
		 writeback_ ? ", writeback connector" : "", swapchain_->numAllocated(),
		 bufferSource().c_str());
	return {};
}

Result<void> DrmOutput::allocateSwapchain()
{
	bufmgr::BufferManager &manager = backend_.bufferManager();
	/* Scanout memory: contiguous first, which any display controller reads. */
	bufmgr::SwapchainConfig config =
		outputSwapchainConfig(mode_, bufmgr::Usage::Scanout, "drm-" + name_);
	config.numSlots = kOutputSlots;
	/*
	 * From the pool first, where a swapchain's buffers go when it is
	 * dropped: a display plugged in again takes its old buffers back.
	 * Never from memory the display was found to refuse, unless it
	 * refused every kind: then the probe is not to be trusted.
	 */
	bufmgr::Constraints constraints = backend_.scanoutConstraints(&ScanoutProbe::primary, "primary");
	const auto &probes = backend_.scanoutProbes();
	if (!constraints.refused.empty() &&
	    std::none_of(probes.begin(), probes.end(),
			 [](const ScanoutProbe &p) { return p.primary == std::optional<bool>(true); })) {
		LOG_WARNING("%s: the primary plane took no memory the probe offered; "
			    "allocating as if it had refused nothing",
			    name_.c_str());
		constraints = {};
	}
	auto allocate = [&manager, constraints](const bufmgr::AllocationRequest &request)
		-> Result<bufmgr::Buffer> {
		auto pooled = manager.allocatePooled(request, constraints);
		if (!pooled)
			return bufmgr::unexpected(std::move(pooled).error());
		return pooled->release();
	};
	auto swapchain = createOutputSwapchain(backend_, config, allocate);
	if (!swapchain)
		return bufmgr::unexpected(std::move(swapchain).error());
	swapchain_ = std::move(*swapchain);
	return {};
}

Result<void> DrmOutput::applyScanoutProbe()
{
	overlay_.setMemoryConstraints(backend_.scanoutConstraints(&ScanoutProbe::overlay, "overlay"));
	cursor_.setMemoryConstraints(backend_.scanoutConstraints(&ScanoutProbe::cursor, "cursor"));
	const bufmgr::Constraints primary =
		backend_.scanoutConstraints(&ScanoutProbe::primary, "primary");
	/* Any slot may have come from refused memory, where an allocation fell back. */
	const std::vector<bufmgr::Swapchain::SourceCount> sources = swapchain_->sources();
	std::vector<const bufmgr::SkippedSource *> refused;
	for (const bufmgr::SkippedSource &r : primary.refused)
		if (std::any_of(sources.begin(), sources.end(),
				[&](const auto &s) { return s.source == r.source; }))
			refused.push_back(&r);
	if (refused.empty())
		return {};
	if (auto ret = allocateSwapchain(); !ret)
		return ret;
	for (const bufmgr::SkippedSource *r : refused) {
		LOG_WARNING("%s: %s: %s; %zu scanout buffers from %s instead", name_.c_str(),
			    r->source.c_str(), r->why.c_str(), swapchain_->numAllocated(),
			    bufferSource().c_str());
		/* The old buffers went to the pool: no display here shows them, so free them. */
		backend_.bufferManager().pool().trimSource(r->source);
	}
	return {};
}

void DrmOutput::scheduleFrame()
{
	if (frameScheduled_)
		return;
	frameScheduled_ = true;
	/*
	 * With a flip in flight the frame runs when it completes; with a
	 * writeback in flight, when that completes; while the session is
	 * away, when it comes back (resume()).
	 */
	if (flipPending_ || capturing() || !live())
		return;
	/*
	 * A frame that asks for another with no flip in flight (no free
	 * buffer, no vblank event) waits a millisecond: libwayland runs idle
	 * sources until none is left, so an idle source would never let the
	 * loop back to its fds.
	 */
	if (inFrame_) {
		if (!retry_)
			retry_.reset(wl_event_loop_add_timer(loop_, &DrmOutput::onRetry, this));
		if (retry_)
			wl_event_source_timer_update(retry_.get(), 1);
		else
			LOG_ERROR("%s: no timer for the next frame", name_.c_str());
		return;
	}
	/*
	 * Once the loop has handled what is ready (the client's commits):
	 * an idle source, which costs no system call.
	 */
	if (!idle_)
		idle_ = wl_event_loop_add_idle(loop_, &DrmOutput::onIdle, this);
	if (!idle_)
		LOG_ERROR("%s: no idle source for the frame", name_.c_str());
}

void DrmOutput::onIdle(void *data)
{
	auto *self = static_cast<DrmOutput *>(data);
	self->idle_ = nullptr;
	self->runFrameIfDue();
}

int DrmOutput::onRetry(void *data)
{
	auto *self = static_cast<DrmOutput *>(data);
	self->runFrameIfDue();
	return 0;
}

void DrmOutput::runFrameIfDue()
{
	if (frameScheduled_ && !flipPending_ && !capturing() && live())
		runFrame();
}

void DrmOutput::runFrame()
{
	frameScheduled_ = false;
	inFrame_ = true;
	frame();
	/*
	 * Nothing to repaint, but a capture, the overlay or a mode to set
	 * again waits: show the same buffer again.
	 */
	if (!flipPending_ && (!captureWaiting_.empty() || imagePlanesPending() || !modesetDone_))
		recommit("same frame");
	inFrame_ = false;
}

ProbePipe DrmOutput::probePipe()
{
	ProbePipe pipe;
	pipe.crtc = crtc_;
	pipe.crtcIndex = crtcIndex_;
	pipe.connector = connector_;
	pipe.modeBlob = modeBlob_;
	pipe.width = mode_.width;
	pipe.height = mode_.height;
	pipe.primary = primary_;
	return pipe;
}

bool DrmOutput::recommit(const char *why)
{
	std::optional<LayerFb> primary;
	if (scanout_)
		if (auto *entry = backend_.clientFramebuffer(*scanout_.get()))
			primary = primaryFb(*scanout_.get(), scanoutTransform_, entry->fb->id());
	if (front_)
		if (kms::Framebuffer *fb = slotFramebuffer(*front_))
			primary = composedFb(fb->id());
	if (!primary)
		return false;
	if (auto ret = commitFb(*primary, true, -1, why, shownLayerFbs()); !ret) {
		LOG_WARNING("%s", ret.error().message().c_str());
		return false;
	}
	flipShowsNew_ = false;
	return true;
}

Result<std::optional<OutputFrame>> DrmOutput::beginFrame()
{
	return acquireOutputFrame(*swapchain_);
}

void DrmOutput::rollback(const OutputFrame &frame)
{
	swapchain_->rollback(static_cast<bufmgr::SwapchainSlot *>(frame.backendData));
}

const bufmgr::Buffer *DrmOutput::frontBuffer() const
{
	return front_ ? &front_->buffer() : nullptr;
}

void DrmOutput::refused(std::string why, bool ofBuffer) const
{
	if (why != lastRefusal_)
		LOG_DEBUG("%s: client buffer composed: %s", name_.c_str(), why.c_str());
	lastRefusal_ = std::move(why);
	refusalOfBuffer_ = ofBuffer;
}

bool DrmOutput::test(const OutputState &state) const
{
	if (!state.layers.empty())
		return testLayers(state);
	if (!state.scanout)
		return state.frame.has_value() || (state.keepPrimary && hasFront());
	if (state.frame)
		return false;
	const ClientBuffer &buffer = *state.scanout.get();
	const DrmConfig &config = backend_.config();
	if (!config.directScanout) {
		refused("direct scanout is off");
		return false;
	}
	DrmBackend::ClientFb *entry = nullptr;
	bool ofBuffer = false;
	if (std::string why = primaryUnfit(backend_, buffer, state.scanoutTransform, primaryRotations_,
					   mode_, primaryFormats_, entry, ofBuffer);
	    !why.empty()) {
		refused(std::move(why), ofBuffer);
		return false;
	}
	const LayerFb primary = primaryFb(buffer, state.scanoutTransform, entry->fb->id());
	/* The verdict was on the buffer turned another way: asked again (not after refused flips). */
	if (entry->accepted && entry->acceptedRotation != primary.rotation && !entry->flipsRefused)
		entry->accepted.reset();
	if (!entry->accepted) {
		/* Once per buffer: a client cycling two buffers costs two tests. */
		kms::AtomicRequest req;
		uint32_t flags = DRM_MODE_ATOMIC_TEST_ONLY;
		if (!modesetDone_) {
			addModeset(req);
			flags |= DRM_MODE_ATOMIC_ALLOW_MODESET;
		}
		addPlane(req, primary, -1);
		/* As the commit will: client planes off, whatever they show now. */
		addClientPlanes(req, {});
		auto ret = req.commit(backend_.fd(), flags, nullptr, "TEST_ONLY commit");
		backend_.stats_.testCommits++;
		entry->accepted = bool(ret);
		entry->acceptedRotation = primary.rotation;
		if (!ret) {
			backend_.stats_.testRefusals++;
			/* Any errno (E2BIG, ENOSPC...) is a refusal, not a failure. */
			entry->refusal = ret.error().message();
		}
	}
	if (!*entry->accepted) {
		refused(entry->refusal);
		return false;
	}
	lastRefusal_.clear();
	refusalOfBuffer_ = false;
	return true;
}

size_t DrmOutput::clientPlaneCount() const
{
	return backend_.config().directScanout ? clientPlanes_.size() : 0;
}

bool DrmOutput::clientPlanesBlend() const
{
	return !clientPlanes_.empty() &&
	       std::all_of(clientPlanes_.begin(), clientPlanes_.end(),
			   [](const ClientPlane &plane) { return plane.blends; });
}

bool DrmOutput::clientPlanesTransform(Transform transform) const
{
	return !clientPlanes_.empty() &&
	       std::all_of(clientPlanes_.begin(), clientPlanes_.end(), [&](const ClientPlane &plane) {
		       return undoes(plane.rotations, transform);
	       });
}

DrmOutput::LayerFb DrmOutput::layerFb(const PlaneLayer &layer, uint32_t fbId)
{
	const ClientBuffer &buffer = *layer.buffer.get();
	return LayerFb{ fbId, layer.destination, planeRotation(layer.transform), buffer.width(),
			buffer.height() };
}

DrmOutput::LayerFb DrmOutput::primaryFb(const ClientBuffer &buffer, Transform transform,
					uint32_t fbId) const
{
	return LayerFb{ fbId, Rect{ 0, 0, int32_t(mode_.width), int32_t(mode_.height) },
			planeRotation(transform), buffer.width(), buffer.height() };
}

DrmOutput::LayerFb DrmOutput::composedFb(uint32_t fbId) const
{
	return LayerFb{ fbId, Rect{ 0, 0, int32_t(mode_.width), int32_t(mode_.height) },
			DRM_MODE_ROTATE_0, mode_.width, mode_.height };
}

bool DrmOutput::primaryTransform(Transform transform) const
{
	return undoes(primaryRotations_, transform);
}

std::vector<uint32_t> DrmOutput::clientPlanes() const
{
	std::vector<uint32_t> ids;
	for (const ClientPlane &plane : clientPlanes_)
		ids.push_back(plane.id);
	return ids;
}

std::vector<Output::ShownLayer> DrmOutput::frontLayers() const
{
	std::vector<ShownLayer> shown;
	for (size_t i = 0; i < layers_.size() && i < layerFbs_.size(); i++)
		shown.push_back({ layers_[i].get(), layerFbs_[i].destination });
	return shown;
}

std::vector<DrmOutput::LayerFb> DrmOutput::shownLayerFbs() const
{
	return layerFbs_;
}

std::vector<FormatModifier> DrmOutput::clientPlaneFormats() const
{
	std::vector<FormatModifier> formats;
	for (const ClientPlane &plane : clientPlanes_)
		for (const FormatModifier &f : plane.formats)
			if (std::find(formats.begin(), formats.end(), f) == formats.end())
				formats.push_back(f);
	return formats;
}

std::string DrmOutput::layerUnfit(const PlaneLayer &layer, size_t index, LayerFb &fb,
				  bool &ofBuffer) const
{
	ofBuffer = false;
	const ClientBuffer &buffer = *layer.buffer.get();
	const Rect &d = layer.destination;
	if (!(buffer.caps() & BufferCapDmaBuf))
		return "wl_shm memory, which the display cannot read";
	if (buffer.yInverted())
		return "transformed (y-inverted)";
	const ClientPlane &plane = clientPlanes_[index];
	if (!undoes(plane.rotations, layer.transform))
		return "transformed, which overlay plane " + std::to_string(plane.id) +
		       " cannot undo";
	const auto [width, height] = shownSize(layer.transform, buffer.width(), buffer.height());
	if (d.width != int32_t(width) || d.height != int32_t(height))
		return "scaled: " + std::to_string(width) + "x" + std::to_string(height) +
		       " shown at " + std::to_string(d.width) + "x" + std::to_string(d.height);
	if (d.x < 0 || d.y < 0 || d.right() > int32_t(mode_.width) ||
	    d.bottom() > int32_t(mode_.height))
		return "partly off the output";
	DrmBackend::ClientFb *entry = nullptr;
	if (std::string why = memoryUnfit(backend_, buffer, plane.formats,
					  "overlay plane " + std::to_string(plane.id), entry);
	    !why.empty()) {
		ofBuffer = true;
		return why;
	}
	if (entry->flipsRefused)
		return entry->refusal;
	fb = layerFb(layer, entry->fb->id());
	return {};
}

bool DrmOutput::testLayers(const OutputState &state) const
{
	if (!backend_.config().directScanout) {
		refused("direct scanout is off");
		return false;
	}
	if (state.layers.size() > clientPlanes_.size()) {
		refused("no free overlay plane");
		return false;
	}
	/*
	 * Over a client buffer on the primary plane (nothing composed), or
	 * over the composed frame: the one to show, or the one on screen it
	 * will be like.
	 */
	LayerFb primary;
	std::string key = modesetDone_ ? "" : "modeset;";
	if (state.scanout) {
		DrmBackend::ClientFb *entry = nullptr;
		bool ofBuffer = false;
		std::string why = state.frame ? "a composed frame and a client buffer at once"
					      : primaryUnfit(backend_, *state.scanout.get(),
							     state.scanoutTransform, primaryRotations_,
							     mode_, primaryFormats_, entry, ofBuffer);
		if (why.empty()) {
			primary = primaryFb(*state.scanout.get(), state.scanoutTransform,
					    entry->fb->id());
			if (entry->flipsRefused ||
			    (entry->accepted && !*entry->accepted &&
			     entry->acceptedRotation == primary.rotation))
				why = entry->refusal;
		}
		if (!why.empty()) {
			refused("the buffer for the primary plane: " + why);
			return false;
		}
		key += "scanout " + std::to_string(primary.fbId) + "r" +
		       std::to_string(primary.rotation) + ";";
	} else {
		bufmgr::SwapchainSlot *slot = state.frame
			? static_cast<bufmgr::SwapchainSlot *>(state.frame->backendData)
			: front_;
		kms::Framebuffer *fb =
			slot ? const_cast<DrmOutput *>(this)->slotFramebuffer(*slot) : nullptr;
		if (!fb) {
			refused("no composed frame to show it over yet");
			return false;
		}
		primary = composedFb(fb->id());
	}
	std::vector<LayerFb> fbs(state.layers.size());
	for (size_t i = 0; i < state.layers.size(); i++) {
		bool ofBuffer = false;
		if (std::string why = layerUnfit(state.layers[i], i, fbs[i], ofBuffer); !why.empty()) {
			refused(std::move(why), ofBuffer);
			return false;
		}
		const Rect &d = fbs[i].destination;
		key += std::to_string(fbs[i].fbId) + "@" + std::to_string(d.x) + "," +
		       std::to_string(d.y) + "r" + std::to_string(fbs[i].rotation) + ";";
	}
	layersTested_ = key;
	auto verdict = layerVerdicts_.find(key);
	if (verdict == layerVerdicts_.end()) {
		/* Once per set of buffers and places: a client cycling buffers in place costs a test each. */
		kms::AtomicRequest req;
		uint32_t flags = DRM_MODE_ATOMIC_TEST_ONLY;
		if (!modesetDone_) {
			addModeset(req);
			flags |= DRM_MODE_ATOMIC_ALLOW_MODESET;
		}
		addPlane(req, primary, -1);
		addClientPlanes(req, fbs);
		auto ret = req.commit(backend_.fd(), flags, nullptr, "TEST_ONLY commit");
		backend_.stats_.testCommits++;
		if (!ret)
			backend_.stats_.testRefusals++;
		/* Bounded: places change as windows move. */
		if (layerVerdicts_.size() >= 64)
			layerVerdicts_.clear();
		verdict = layerVerdicts_.emplace(key, ret ? std::string() : ret.error().message()).first;
	}
	if (!verdict->second.empty()) {
		refused(verdict->second);
		return false;
	}
	lastRefusal_.clear();
	refusalOfBuffer_ = false;
	return true;
}

void DrmOutput::addClientPlanes(kms::AtomicRequest &req, const std::vector<LayerFb> &layers) const
{
	for (size_t i = 0; i < clientPlanes_.size(); i++) {
		const ClientPlane &plane = clientPlanes_[i];
		if (i < layers.size()) {
			const LayerFb &layer = layers[i];
			kms::placePlane(req, plane.id, plane.props, crtc_, layer.fbId, layer.width,
					layer.height, layer.destination, layer.rotation);
			/* Another session may have left other blending: Wayland's, and no plane alpha. */
			if (plane.premultiplied)
				req.set(plane.id, plane.props, "pixel blend mode", *plane.premultiplied);
			if (plane.props.has("alpha"))
				req.set(plane.id, plane.props, "alpha", 0xffff);
		} else if (restatePlanes_ || i < layerFbs_.size()) {
			req.set(plane.id, plane.props, "FB_ID", 0);
			req.set(plane.id, plane.props, "CRTC_ID", 0);
		}
	}
}

void DrmOutput::addModeset(kms::AtomicRequest &req) const
{
	req.set(crtc_, crtcProps_, "MODE_ID", modeBlob_);
	req.set(crtc_, crtcProps_, "ACTIVE", 1);
	req.set(connector_, connectorProps_, "CRTC_ID", crtc_);
	/* Bound for good, so a capture needs no modeset. */
	if (writeback_)
		req.set(writeback_, writebackProps_, "CRTC_ID", crtc_);
}

void DrmOutput::addPlane(kms::AtomicRequest &req, const LayerFb &primary, int inFence) const
{
	kms::placePlane(req, primary_, primaryProps_, crtc_, primary.fbId, primary.width,
			primary.height, primary.destination, primary.rotation);
	/* The display waits for the renderer, not the CPU. */
	if (inFence >= 0 && primaryProps_.has("IN_FENCE_FD"))
		req.set(primary_, primaryProps_, "IN_FENCE_FD", uint64_t(inFence));
}

bool DrmOutput::showOverlay(const OverlayLayer::Image &image, const Rect &rect)
{
	/* The first commit sets the mode: until then there is nothing to test against. */
	if (!modesetDone_)
		return false;
	const PlaneImage plane{ reinterpret_cast<const uint8_t *>(image.pixels), image.width * 4,
				image.width, image.height, image.opaque, image.generation,
				image.damage };
	const bool shown = overlay_.show(plane, rect, crtc_, backend_.bufferManager(),
					 backend_.stats_, name_);
	checkToggled(overlay_);
	return shown;
}

void DrmOutput::hideOverlay()
{
	overlay_.hide();
	checkToggled(overlay_);
	keepPlaneMemoryAWhile();
}

bool DrmOutput::showCursor(const PlaneImage &image, int32_t x, int32_t y)
{
	if (!modesetDone_)
		return false;
	const bool shown = cursor_.show(image, Rect{ x, y, int32_t(image.width), int32_t(image.height) },
					crtc_, backend_.bufferManager(), backend_.stats_, name_);
	checkToggled(cursor_);
	return shown;
}

void DrmOutput::hideCursor()
{
	cursor_.hide();
	checkToggled(cursor_);
	keepPlaneMemoryAWhile();
}

void DrmOutput::keepPlaneMemoryAWhile()
{
	if (!overlay_.holdsIdleMemory() && !cursor_.holdsIdleMemory())
		return;
	if (!planeMemoryTimer_)
		planeMemoryTimer_.reset(
			wl_event_loop_add_timer(loop_, &DrmOutput::onPlaneMemoryTimer, this));
	/* Without a timer the memory goes back at once. */
	if (!planeMemoryTimer_ ||
	    wl_event_source_timer_update(planeMemoryTimer_.get(), int(kPlaneMemoryKept.count())) < 0)
		onPlaneMemoryTimer(this);
}

int DrmOutput::onPlaneMemoryTimer(void *data)
{
	auto *self = static_cast<DrmOutput *>(data);
	self->overlay_.releaseIdleMemory();
	self->cursor_.releaseIdleMemory();
	return 0;
}

void DrmOutput::checkToggled(ImagePlane &plane)
{
	if (plane.takeToggled())
		forgetScanoutVerdicts();
}

void DrmOutput::forgetScanoutVerdicts()
{
	/*
	 * Client buffers were tested with the overlay plane as it was: test
	 * them again, but for those whose flips the kernel kept refusing.
	 */
	for (auto &[buffer, entry] : backend_.clientFbs_)
		if (!entry.flipsRefused)
			entry.accepted.reset();
	layerVerdicts_.clear();
}

std::string DrmOutput::bufferSource() const
{
	if (!swapchain_)
		return {};
	const std::vector<bufmgr::Swapchain::SourceCount> sources = swapchain_->sources();
	if (sources.size() == 1)
		return sources[0].source;
	std::string all;
	for (const auto &s : sources)
		all += (all.empty() ? "" : ", ") + s.source + " (" + std::to_string(s.buffers) + ")";
	return all;
}

kms::Framebuffer *DrmOutput::slotFramebuffer(bufmgr::SwapchainSlot &slot)
{
	if (auto *fb = slot.userDataAs<kms::Framebuffer>(this))
		return fb;
	auto fb = kms::Framebuffer::import(backend_.fd(), slot.buffer());
	if (!fb) {
		LOG_ERROR("%s: output buffer from %s: %s", name_.c_str(),
			  slot.buffer().source().c_str(), fb.error().message().c_str());
		return nullptr;
	}
	backend_.stats_.framebuffersImported++;
	kms::Framebuffer *raw = fb->get();
	slot.setUserData(this, std::shared_ptr<kms::Framebuffer>(std::move(*fb)));
	return raw;
}

uint32_t DrmOutput::damageClipsBlob(const std::vector<Rect> &damage, size_t *count) const
{
	/* The kernel refuses clips outside the framebuffer, or empty ones. */
	const Rect screen{ 0, 0, int32_t(mode_.width), int32_t(mode_.height) };
	std::vector<drm_mode_rect> clips;
	for (const Rect &r : damage) {
		const Rect c = intersect(r, screen);
		if (!c.isEmpty())
			clips.push_back({ c.x, c.y, int32_t(c.right()), int32_t(c.bottom()) });
	}
	uint32_t blob = 0;
	if (clips.empty() ||
	    drmModeCreatePropertyBlob(backend_.fd(), clips.data(), clips.size() * sizeof(clips[0]),
				      &blob) < 0)
		return 0;
	*count = clips.size();
	return blob;
}

Result<void> DrmOutput::commitFb(const LayerFb &primary, bool shownAlready, int inFence,
				 const char *what,
				 const std::vector<LayerFb> &layers,
				 const std::optional<std::vector<Rect>> &damage)
{
	kms::AtomicRequest req;
	uint32_t flags = DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT;
	if (!modesetDone_) {
		addModeset(req);
		flags |= DRM_MODE_ATOMIC_ALLOW_MODESET;
	}
	addClientPlanes(req, layers);
	for (const ImagePlane *plane : { &overlay_, &cursor_ })
		if (plane->id())
			plane->addTo(req, crtc_);
	int32_t outFence = -1;
	/* None waits once the connector is given up (onCaptureTimeout(), captureNextFrame()). */
	const bool capture = !captureWaiting_.empty() && captureFb_ && !captureFence_.isValid();
	if (capture) {
		req.set(writeback_, writebackProps_, "WRITEBACK_FB_ID", captureFb_->id());
		req.set(writeback_, writebackProps_, "WRITEBACK_OUT_FENCE_PTR",
			uint64_t(reinterpret_cast<uintptr_t>(&outFence)));
	}
	/*
	 * Displays that send each frame on (USB, SPI, virtual) send only
	 * what changed: nothing of a primary plane the commit leaves out,
	 * all of one it names without damage clips. Not after a modeset or
	 * a restate: what the display holds then is not the last frame.
	 * Nor in a request that would be empty: it would bring no event.
	 */
	const bool primaryAsIs = shownAlready && modesetDone_ && !restatePlanes_ && !req.empty();
	if (!primaryAsIs)
		addPlane(req, primary, inFence);
	uint32_t clipsBlob = 0;
	size_t clips = 0;
	if (!primaryAsIs && damage && modesetDone_ && !restatePlanes_ &&
	    primaryProps_.has("FB_DAMAGE_CLIPS"))
		clipsBlob = damageClipsBlob(*damage, &clips);
	if (clipsBlob)
		req.set(primary_, primaryProps_, "FB_DAMAGE_CLIPS", clipsBlob);
	auto ret = req.commit(backend_.fd(), flags, &eventTarget_, name_ + ": " + what + " commit");
	/* The commit holds its own reference. */
	if (clipsBlob)
		drmModeDestroyPropertyBlob(backend_.fd(), clipsBlob);
	if (!ret) {
		backend_.stats_.commitFailures++;
		/*
		 * A configuration the kernel refused (not a lost DRM master or a
		 * busy CRTC): the next tries go without the planes that changed,
		 * and the repaint composes them from now on.
		 */
		for (ImagePlane *plane : { &overlay_, &cursor_ })
			if (kms::configurationRefused(ret.error().code) && plane->changePending()) {
				plane->refused(ret.error().message(), name_);
				checkToggled(*plane);
			}
		return ret;
	}
	backend_.stats_.commits++;
	if (clipsBlob) {
		backend_.stats_.damageClipCommits++;
		backend_.stats_.damageClipRects += clips;
	}
	if (!modesetDone_)
		LOG_INFO("%s: mode set, %s", name_.c_str(), describeMode(modeInfo_).c_str());
	modesetDone_ = true;
	restatePlanes_ = false;
	flipPending_ = true;
	overlay_.committed();
	cursor_.committed();
	if (capture) {
		/*
		 * No commit until the writeback completes: VKMS forgets a
		 * writeback whose CRTC state the next commit replaces before
		 * its composer has run; the lost job stays first in the
		 * connector's queue, so every later one completes a job late
		 * and a capture waiting for its own fence waits for good.
		 * Weston's DRM backend waits the same way.
		 */
		captureFence_ = bufmgr::UniqueFd(outFence);
		captureInFlight_ = std::move(captureWaiting_);
		captureWaiting_.clear();
		if (!captureFence_.isValid()) {
			failCaptures(captureInFlight_, EIO, "the kernel gave no writeback fence");
			return {};
		}
		captureSource_.reset(wl_event_loop_add_fd(loop_, captureFence_.get(), WL_EVENT_READABLE,
							  &DrmOutput::onCaptureFence, this));
		if (!captureTimer_)
			captureTimer_.reset(wl_event_loop_add_timer(loop_, &DrmOutput::onCaptureTimeout, this));
		if (captureTimer_)
			wl_event_source_timer_update(captureTimer_.get(), kCaptureTimeoutMs);
	}
	return {};
}

Result<void> DrmOutput::commit(OutputState state)
{
	auto *slot = state.frame ? static_cast<bufmgr::SwapchainSlot *>(state.frame->backendData)
				 : nullptr;
	auto fail = [&](bufmgr::Error error) -> Result<void> {
		if (slot)
			swapchain_->rollback(slot);
		return bufmgr::unexpected(std::move(error));
	};
	if (flipPending_)
		return fail(bufmgr::makeError(EBUSY, name_ + ": commit while a flip is pending"));
	if (!test(state))
		return fail(bufmgr::makeError(EINVAL, name_ + ": commit of a state test() refuses"));

	/* A refusal while an image plane changes is that plane's: commitFb() takes it off. */
	const bool planesChange = imagePlanesPending();
	std::vector<LayerFb> layerFbs;
	std::vector<DrmBackend::ClientFb *> layerEntries;
	for (const PlaneLayer &layer : state.layers) {
		DrmBackend::ClientFb *entry = backend_.clientFramebuffer(*layer.buffer.get());
		layerEntries.push_back(entry);
		layerFbs.push_back(layerFb(layer, entry->fb->id()));
	}
	/*
	 * A refused configuration with client buffers new on planes: theirs,
	 * unless an image plane changed too. Refused often, they are composed.
	 */
	auto blameLayers = [&](const bufmgr::Error &error) {
		if (planesChange || layerEntries.empty())
			return;
		layerVerdicts_.clear();
		bool blamed = false;
		for (size_t i = 0; i < layerEntries.size(); i++) {
			const bool isNew = i >= layerFbs_.size() || layerFbs_[i].fbId != layerFbs[i].fbId ||
					   layerFbs_[i].destination != layerFbs[i].destination ||
					   layerFbs_[i].rotation != layerFbs[i].rotation;
			if (isNew) {
				backend_.scanoutRefused(*layerEntries[i], error, name_);
				blamed = true;
			}
		}
		if (!blamed)
			for (DrmBackend::ClientFb *entry : layerEntries)
				backend_.scanoutRefused(*entry, error, name_);
	};

	if (state.scanout) {
		DrmBackend::ClientFb *entry = backend_.clientFramebuffer(*state.scanout.get());
		const bool shown = state.keepPrimary && scanout_.get() == state.scanout.get();
		if (auto ret = commitFb(primaryFb(*state.scanout.get(), state.scanoutTransform,
						  entry->fb->id()),
					shown, -1, "scanout", layerFbs, state.primaryDamage);
		    !ret) {
			/*
			 * Planes only, refused: not these buffers' fault alone
			 * (each may go on a plane over a composed frame). The
			 * set goes composed, as if TEST_ONLY had refused it.
			 */
			if (!layerEntries.empty() && kms::configurationRefused(ret.error().code))
				layerVerdicts_[layersTested_] = ret.error().message();
			else if (layerEntries.empty() && !planesChange)
				backend_.scanoutRefused(*entry, ret.error(), name_);
			return ret;
		}
		entry->commitRefusals = 0;
		pending_ = nullptr;
		pendingScanout_ = std::move(state.scanout);
		pendingScanoutTransform_ = state.scanoutTransform;
	} else if (!state.frame) {
		/* Only the client planes change: the primary shows what it shows. */
		kms::Framebuffer *fb = front_ ? slotFramebuffer(*front_) : nullptr;
		if (!fb)
			return fail(bufmgr::makeError(EINVAL, name_ + ": no composed frame to keep"));
		if (auto ret = commitFb(composedFb(fb->id()), true, -1, "planes", layerFbs); !ret) {
			blameLayers(ret.error());
			return ret;
		}
		primaryKept_ = true;
	} else {
		kms::Framebuffer *fb = slotFramebuffer(*slot);
		if (!fb)
			return fail(bufmgr::makeError(EINVAL, name_ + ": output buffer has no framebuffer"));
		if (auto ret = commitFb(composedFb(fb->id()), false, state.frame->renderDone.get(), "frame",
					layerFbs,
					state.primaryDamage);
		    !ret) {
			blameLayers(ret.error());
			return fail(std::move(ret).error());
		}
		swapchain_->submit(slot);
		pending_ = slot;
		pendingScanout_.reset();
	}
	for (DrmBackend::ClientFb *entry : layerEntries)
		entry->commitRefusals = 0;
	pendingLayers_.clear();
	for (PlaneLayer &layer : state.layers)
		pendingLayers_.push_back(std::move(layer.buffer));
	pendingLayerFbs_ = std::move(layerFbs);
	flipShowsNew_ = true;
	return {};
}

void DrmOutput::skipFrame()
{
	/* A capture, the overlay or a mode to set again needs a commit: show the same buffer. */
	if ((!captureWaiting_.empty() || imagePlanesPending() || !modesetDone_) &&
	    recommit(!captureWaiting_.empty() ? "capture" : modesetDone_ ? "plane" : "modeset"))
		return;
	/* Nothing new on screen: the next vblank paces the frame clock. */
	drmVBlank vbl = {};
	vbl.request.type = drmVBlankSeqType(DRM_VBLANK_RELATIVE | DRM_VBLANK_EVENT);
	if (crtcIndex_ == 1)
		vbl.request.type = drmVBlankSeqType(vbl.request.type | DRM_VBLANK_SECONDARY);
	else if (crtcIndex_ > 1)
		vbl.request.type = drmVBlankSeqType(
			vbl.request.type |
			((crtcIndex_ << DRM_VBLANK_HIGH_CRTC_SHIFT) & DRM_VBLANK_HIGH_CRTC_MASK));
	vbl.request.sequence = 1;
	vbl.request.signal = reinterpret_cast<unsigned long>(&eventTarget_);
	if (drmWaitVBlank(backend_.fd(), &vbl) == 0) {
		flipPending_ = true;
		flipShowsNew_ = false;
		return;
	}
	/* A driver without vblank events: a timer of one refresh stands in, so clients stay paced. */
	if (!vblankWarned_)
		LOG_WARNING("%s: no vblank event (%s); timing the refresh instead", name_.c_str(),
			    strerror(errno));
	vblankWarned_ = true;
	if (!refreshTimer_)
		refreshTimer_.reset(wl_event_loop_add_timer(loop_, &DrmOutput::onRefreshTimer, this));
	if (!refreshTimer_) {
		LOG_ERROR("%s: no timer for the refresh; presenting at once", name_.c_str());
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		PresentInfo info;
		info.time = now;
		info.sequence = ++lastSequence_;
		presented(info);
		return;
	}
	const uint32_t mhz = mode_.refreshMilliHz ? mode_.refreshMilliHz : 60000;
	wl_event_source_timer_update(refreshTimer_.get(), int(std::max<uint32_t>(1, 1000000 / mhz)));
	flipPending_ = true;
	flipShowsNew_ = false;
}

int DrmOutput::onRefreshTimer(void *data)
{
	auto *self = static_cast<DrmOutput *>(data);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	self->flipPending_ = false;
	self->backend_.stats_.vblanks++;
	/* Buffers gone since the last refresh give their framebuffers back. */
	self->backend_.pruneClientFramebuffers();
	/* One refresh has gone by: the counter goes on as the display's would. */
	PresentInfo info;
	info.time = now;
	info.sequence = ++self->lastSequence_;
	self->presented(info);
	self->runFrameIfDue();
	return 0;
}

void DrmOutput::flipDone(uint32_t sequence, uint32_t sec, uint32_t usec)
{
	flipPending_ = false;
	const bool overlayOff = overlay_.flipped();
	if (cursor_.flipped() || overlayOff)
		keepPlaneMemoryAWhile();
	if (flipShowsNew_) {
		/* The previous buffers left the screen. */
		if (!primaryKept_) {
			if (front_)
				swapchain_->release(front_);
			front_ = pending_;
			pending_ = nullptr;
			scanout_ = std::move(pendingScanout_);
			scanoutTransform_ = pendingScanoutTransform_;
			pendingScanout_.reset();
		}
		primaryKept_ = false;
		layers_ = std::move(pendingLayers_);
		pendingLayers_.clear();
		layerFbs_ = std::move(pendingLayerFbs_);
		pendingLayerFbs_.clear();
		flipShowsNew_ = false;
		backend_.stats_.flips++;
	} else {
		backend_.stats_.vblanks++;
	}
	/* Past refreshes the timer counted, the kernel's count may lag: it never goes back. */
	lastSequence_ = sequence > lastSequence_ ? sequence : lastSequence_ + 1;
	/* Buffers gone since the last refresh give their framebuffers back. */
	backend_.pruneClientFramebuffers();

	PresentInfo info;
	info.time.tv_sec = sec;
	info.time.tv_nsec = long(usec) * 1000;
	info.sequence = lastSequence_;
	info.refreshNs = mode_.refreshMilliHz ? uint32_t(1000000000000ull / mode_.refreshMilliHz) : 0;
	info.flags = PresentVsync | PresentHwClock | PresentHwCompletion;
	if (scanout_ || !layers_.empty())
		info.flags |= PresentZeroCopy;
	presented(info);
	runFrameIfDue();
}

void DrmOutput::resume()
{
	/* Another session may have set any mode and planes: set ours again, whole. */
	modesetDone_ = false;
	/* A display plugged in again, or given back, may take what it refused: ask again. */
	backend_.forgetRefusedFlips();
	restatePlanes_ = true;
	layerVerdicts_.clear();
	overlay_.restate();
	cursor_.restate();
	frameScheduled_ = false;
	scheduleFrame();
}

bool DrmOutput::captureNextFrame(CaptureHandler handler)
{
	if (!writeback_ || writebackStalled_)
		return false;
	if (!captureFb_) {
		auto buffer = backend_.bufferManager().allocate(bufmgr::AllocationRequest::image(
			mode_.width, mode_.height, DRM_FORMAT_XRGB8888, bufmgr::Usage::Render,
			"writeback-" + name_));
		if (!buffer) {
			handler(bufmgr::unexpected(std::move(buffer).error()));
			return true;
		}
		auto fb = kms::Framebuffer::import(backend_.fd(), *buffer);
		if (!fb) {
			handler(bufmgr::unexpected(std::move(fb).error()));
			return true;
		}
		captureBuffer_ = std::move(*buffer);
		captureFb_ = std::move(*fb);
	}
	captureWaiting_.push_back(std::move(handler));
	scheduleFrame();
	return true;
}

int DrmOutput::onCaptureFence(int, uint32_t, void *data)
{
	static_cast<DrmOutput *>(data)->finishCapture();
	return 0;
}

int DrmOutput::onCaptureTimeout(void *data)
{
	auto *self = static_cast<DrmOutput *>(data);
	if (!self->capturing())
		return 0;
	LOG_WARNING("%s: the writeback did not complete in %d ms; screenshots read the output "
		    "buffers from now on",
		    self->name_.c_str(), kCaptureTimeoutMs);
	self->backend_.stats_.captureTimeouts++;
	self->writebackStalled_ = true;
	self->captureSource_.reset();
	self->captureFence_.reset();
	/* Those waiting behind it would wait on the same connector: they fail too. */
	const std::string why =
		"writeback did not complete in " + std::to_string(kCaptureTimeoutMs) + " ms";
	self->failCaptures(self->captureInFlight_, ETIMEDOUT, why);
	self->failCaptures(self->captureWaiting_, ETIMEDOUT, why);
	self->resumeAfterCapture();
	return 0;
}

void DrmOutput::failCaptures(std::vector<CaptureHandler> &handlers, int error,
			     const std::string &why)
{
	std::vector<CaptureHandler> failing = std::move(handlers);
	handlers.clear();
	for (CaptureHandler &handler : failing)
		handler(bufmgr::unexpected(error, name_ + ": " + why));
}

void DrmOutput::finishCapture()
{
	captureSource_.reset();
	captureFence_.reset();
	if (captureTimer_)
		wl_event_source_timer_update(captureTimer_.get(), 0);
	std::vector<CaptureHandler> handlers = std::move(captureInFlight_);
	captureInFlight_.clear();

	Result<Screenshot> result = [&]() -> Result<Screenshot> {
		const bufmgr::Buffer &buffer = *captureBuffer_;
		auto mapping = bufmgr::Mapping::map(buffer, { bufmgr::Access::Read, false });
		if (!mapping)
			return bufmgr::unexpected(std::move(mapping).error());
		auto access = mapping->beginAccess(bufmgr::Access::Read);
		if (!access)
			return bufmgr::unexpected(std::move(access).error());
		Screenshot shot;
		shot.width = buffer.width();
		shot.height = buffer.height();
		shot.pixels.resize(size_t(shot.width) * shot.height);
		std::span<uint8_t> bytes = mapping->plane(0);
		const uint32_t stride = buffer.plane(0).stride;
		for (uint32_t y = 0; y < shot.height; y++) {
			const auto *row = reinterpret_cast<const uint32_t *>(bytes.data() +
									     size_t(y) * stride);
			for (uint32_t x = 0; x < shot.width; x++)
				shot.pixels[size_t(y) * shot.width + x] = row[x] | 0xff000000u;
		}
		if (auto ended = access->end(); !ended)
			return bufmgr::unexpected(std::move(ended).error());
		return shot;
	}();
	backend_.stats_.captures++;
	for (CaptureHandler &handler : handlers)
		handler(result);
	resumeAfterCapture();
}

void DrmOutput::resumeAfterCapture()
{
	/* A frame that came due meanwhile waited for the writeback: it runs now. */
	if (frameScheduled_)
		backend_.stats_.captureHolds++;
	runFrameIfDue();
}

DrmBackend::DrmBackend(wl_event_loop *loop, bufmgr::BufferManager &manager, DrmConfig config,
		       BufferDropHook dropHook)
	: Backend(manager, std::move(dropHook)), loop_(loop), config_(std::move(config))
{
}

DrmBackend::~DrmBackend()
{
	/* Outputs switch their pipes off before any framebuffer goes. */
	outputs_.clear();
	clientFbs_.clear();
}

Result<void> DrmBackend::start()
{
	auto session = Session::open(loop_);
	if (!session)
		return bufmgr::unexpected(std::move(session).error());
	session_ = std::move(*session);
	session_->setActiveHandler([this](bool active) { sessionChanged(active); });

	auto device = kms::openKmsDevice(config_.device, [this](const std::string &path) {
		return session_->openDevice(path);
	});
	if (!device)
		return bufmgr::unexpected(std::move(device).error());
	device_ = std::move(*device);
	if (!config_.renderNode.empty()) {
		auto render = renderDeviceAt(config_.renderNode);
		if (!render)
			return bufmgr::unexpected(std::move(render).error());
		renderDevice_ = *render;
	} else {
		renderDevice_ = kms::findRenderDevice(device_);
	}
	if (!renderDevice_)
		renderDevice_ = device_.devnum;
	LOG_INFO("KMS device %s (%s); clients render for device %u:%u", device_.path.c_str(),
		 device_.driver.c_str(), major(*renderDevice_), minor(*renderDevice_));

	if (auto ret = createOutputs(); !ret)
		return ret;
	/* Which memory the display takes, asked of the kernel rather than guessed. */
	probes_ = probeScanout(device_.fd.get(), bufferManager(), outputs_.front()->probePipe());
	for (const auto &output : outputs_)
		if (auto ret = output->applyScanoutProbe(); !ret)
			return ret;
	drmSource_.reset(wl_event_loop_add_fd(loop_, device_.fd.get(), WL_EVENT_READABLE,
					      &DrmBackend::onDrmEvent, this));
	if (!drmSource_)
		return bufmgr::unexpected(ENOMEM, "event source for " + device_.path);

	/* A display without input still shows its clients: a kiosk, a signage board. */
	auto input = InputDevices::create(
		loop_, *session_, [this] { return inputSink(); },
		[this] {
			std::vector<Rect> layout;
			for (const auto &output : outputs_)
				layout.push_back(output->layoutRect());
			return layout;
		});
	if (input)
		input_ = std::move(*input);
	else
		LOG_WARNING("no input: %s", input.error().message().c_str());

	auto hotplug = DrmHotplug::create(loop_, device_.devnum, [this] {
		if (active())
			connectorsChanged();
	});
	if (hotplug)
		hotplug_ = std::move(*hotplug);
	else
		LOG_WARNING("no hotplug events: %s", hotplug.error().message().c_str());
	return {};
}

bool DrmBackend::hasTouch() const
{
	return input_ && input_->hasTouch();
}

bool DrmBackend::active() const
{
	return !session_ || session_->active();
}

Result<void> DrmBackend::switchSession(int session)
{
	if (!session_)
		return bufmgr::unexpected(ENOTSUP, "no seat to switch sessions on");
	return session_->switchTo(session);
}

void DrmBackend::sessionChanged(bool active)
{
	if (!active) {
		/* Frames wait (scheduleFrame() checks active()); the seat takes the devices. */
		if (input_)
			input_->suspend();
		LOG_INFO("%s: session paused: no commits until it is back", device_.path.c_str());
		return;
	}
	LOG_INFO("%s: session resumed: setting the mode again", device_.path.c_str());
	if (input_)
		input_->resume();
	switchOffOthers();
	/* Displays may have come or gone while another session had them: those first. */
	connectorsChanged();
	for (const auto &output : outputs_)
		if (output->connected())
			output->resume();
}

void DrmBackend::switchOffOthers()
{
	const int fd = device_.fd.get();
	kms::ResourcesPtr res(drmModeGetResources(fd));
	kms::PlaneResourcesPtr planes(drmModeGetPlaneResources(fd));
	if (!res || !planes)
		return;
	std::vector<uint32_t> ourPlanes, ourCrtcs;
	for (const auto &output : outputs_) {
		ourCrtcs.push_back(output->crtc_);
		/* Client planes are not: the next commit places them again, or leaves them off. */
		for (uint32_t plane : { output->primary_, output->overlay_.id(), output->cursor_.id() })
			if (plane)
				ourPlanes.push_back(plane);
	}
	auto ours = [](const std::vector<uint32_t> &list, uint32_t id) {
		return std::find(list.begin(), list.end(), id) != list.end();
	};
	kms::AtomicRequest req;
	std::string what;
	for (uint32_t p = 0; p < planes->count_planes; p++) {
		kms::PlanePtr plane(drmModeGetPlane(fd, planes->planes[p]));
		if (!plane || !plane->crtc_id || ours(ourPlanes, plane->plane_id))
			continue;
		const auto props = kms::Properties::read(fd, plane->plane_id, DRM_MODE_OBJECT_PLANE);
		req.set(plane->plane_id, props, "FB_ID", 0);
		req.set(plane->plane_id, props, "CRTC_ID", 0);
		what += " plane " + std::to_string(plane->plane_id);
	}
	for (int i = 0; i < res->count_connectors; i++) {
		const uint32_t id = res->connectors[i];
		const auto props = kms::Properties::read(fd, id, DRM_MODE_OBJECT_CONNECTOR);
		const uint64_t crtc = props.value("CRTC_ID");
		if (crtc && !ours(ourCrtcs, uint32_t(crtc))) {
			req.set(id, props, "CRTC_ID", 0);
			what += " connector " + std::to_string(id);
		}
	}
	for (int i = 0; i < res->count_crtcs; i++) {
		const uint32_t id = res->crtcs[i];
		const auto props = kms::Properties::read(fd, id, DRM_MODE_OBJECT_CRTC);
		if (!ours(ourCrtcs, id) && props.value("ACTIVE")) {
			req.set(id, props, "ACTIVE", 0);
			req.set(id, props, "MODE_ID", 0);
			what += " CRTC " + std::to_string(id);
		}
	}
	if (what.empty())
		return;
	if (auto ret = req.commit(fd, DRM_MODE_ATOMIC_ALLOW_MODESET, nullptr,
				  device_.path + ": switching off what another session left on");
	    !ret)
		LOG_WARNING("%s", ret.error().message().c_str());
	else
		LOG_INFO("%s: switched off what another session left on:%s", device_.path.c_str(),
			 what.c_str());
}

void DrmBackend::connectorsChanged()
{
	const int fd = device_.fd.get();
	kms::ResourcesPtr res(drmModeGetResources(fd));
	if (!res)
		return;
	for (int i = 0; i < res->count_connectors; i++) {
		kms::ConnectorPtr conn(drmModeGetConnector(fd, res->connectors[i]));
		if (!conn || conn->connector_type == DRM_MODE_CONNECTOR_WRITEBACK)
			continue;
		auto output = std::find_if(outputs_.begin(), outputs_.end(), [&](const auto &o) {
			return o->connector_ == conn->connector_id;
		});
		if (output != outputs_.end()) {
			(*output)->setConnected(hasDisplay(*conn), *conn);
			continue;
		}
		if (!hasDisplay(*conn))
			continue;
		/* A display plugged in that was not there at start: a new output. */
		auto added = makeOutput(*res, *conn);
		if (!added || !added->output) {
			LOG_WARNING("%s: %s connected, not driven: %s", device_.path.c_str(),
				    connectorName(*conn).c_str(),
				    added ? added->leftOff.c_str() : added.error().message().c_str());
			continue;
		}
		DrmOutput *raw = added->output.get();
		outputs_.push_back(std::move(added->output));
		LOG_INFO("%s: %s connected: a new output", device_.path.c_str(), raw->name().c_str());
		outputAdded(*raw);
	}
	/* Unplugged displays lose their outputs while one with a display remains. */
	auto unplugged = [](const auto &o) { return !o->connected(); };
	if (std::all_of(outputs_.begin(), outputs_.end(), unplugged))
		return;
	for (auto gone = std::find_if(outputs_.begin(), outputs_.end(), unplugged);
	     gone != outputs_.end(); gone = std::find_if(outputs_.begin(), outputs_.end(), unplugged))
		removeOutput(**gone);
}

void DrmBackend::removeOutput(DrmOutput &output)
{
	auto it = std::find_if(outputs_.begin(), outputs_.end(),
			       [&](const auto &o) { return o.get() == &output; });
	std::unique_ptr<DrmOutput> gone = std::move(*it);
	outputs_.erase(it);
	LOG_INFO("%s: %s unplugged: its output goes", device_.path.c_str(), gone->name().c_str());
	outputRemoved(*gone);
	/* A cursor on that display moves to one still there. */
	if (input_)
		input_->layoutChanged();
	/* Its destructor switches the pipe off (done already) and frees its buffers. */
}

Result<void> DrmBackend::createOutputs()
{
	const int fd = device_.fd.get();
	kms::ResourcesPtr res(drmModeGetResources(fd));
	if (!res)
		return bufmgr::unexpected(errno, device_.path + ": drmModeGetResources");
	std::string skipped;
	for (int i = 0; i < res->count_connectors; i++) {
		kms::ConnectorPtr conn(drmModeGetConnector(fd, res->connectors[i]));
		if (!conn || conn->connector_type == DRM_MODE_CONNECTOR_WRITEBACK)
			continue;
		auto output = makeOutput(*res, *conn);
		if (!output)
			return bufmgr::unexpected(std::move(output).error());
		if (output->output)
			outputs_.push_back(std::move(output->output));
		else
			skipped += " " + connectorName(*conn) + " (" + output->leftOff + ")";
	}
	if (!skipped.empty())
		LOG_INFO("%s: connectors left off:%s", device_.path.c_str(), skipped.c_str());
	if (outputs_.empty())
		return bufmgr::unexpected(ENODEV, device_.path + ": no connected connector to use");
	return {};
}

Result<DrmBackend::NewOutput> DrmBackend::makeOutput(const drmModeRes &res,
						     const drmModeConnector &conn)
{
	const int fd = device_.fd.get();
	auto leaveOff = [](std::string why) { return NewOutput{ nullptr, std::move(why) }; };
	if (!hasDisplay(conn))
		return leaveOff(conn.count_modes ? "disconnected" : "no modes");
	const drmModeModeInfo *mode = chooseMode(conn, config_);
	if (!mode)
		return leaveOff(describeMissingMode(conn, config_));
	kms::PlaneResourcesPtr planes(drmModeGetPlaneResources(fd));
	if (!planes)
		return bufmgr::unexpected(errno, device_.path + ": drmModeGetPlaneResources");

	/* What the outputs so far hold, and whether one has the writeback connector. */
	uint32_t usedCrtcs = 0;
	std::vector<uint32_t> usedPlanes;
	bool writebackTaken = false;
	for (const auto &other : outputs_) {
		usedCrtcs |= 1u << other->crtcIndex_;
		for (uint32_t plane : { other->primary_, other->overlay_.id(), other->cursor_.id() })
			if (plane)
				usedPlanes.push_back(plane);
		for (const DrmOutput::ClientPlane &plane : other->clientPlanes_)
			usedPlanes.push_back(plane.id);
		writebackTaken = writebackTaken || other->writeback_;
	}
	uint32_t writeback = 0, writebackCrtcs = 0;
	for (int i = 0; i < res.count_connectors && !writebackTaken && !writeback; i++) {
		kms::ConnectorPtr wb(drmModeGetConnector(fd, res.connectors[i]));
		if (wb && wb->connector_type == DRM_MODE_CONNECTOR_WRITEBACK) {
			writeback = wb->connector_id;
			writebackCrtcs = possibleCrtcs(fd, *wb);
		}
	}

	/* A CRTC the writeback connector shares first: captures need no second pipe. */
	const uint32_t crtcs = possibleCrtcs(fd, conn) & ~usedCrtcs;
	int crtcIndex = -1;
	for (int c = 0; c < res.count_crtcs && crtcIndex < 0; c++)
		if (crtcs & writebackCrtcs & (1u << c))
			crtcIndex = c;
	for (int c = 0; c < res.count_crtcs && crtcIndex < 0; c++)
		if (crtcs & (1u << c))
			crtcIndex = c;
	if (crtcIndex < 0)
		return leaveOff("no free CRTC");
	/* The first unused plane of the CRTC of that type that takes format (0: any). */
	auto findPlane = [&](uint64_t type, uint32_t format) -> uint32_t {
		for (uint32_t p = 0; p < planes->count_planes; p++) {
			kms::PlanePtr plane(drmModeGetPlane(fd, planes->planes[p]));
			if (!plane || !(plane->possible_crtcs & (1u << crtcIndex)) ||
			    std::count(usedPlanes.begin(), usedPlanes.end(), plane->plane_id))
				continue;
			kms::Properties props =
				kms::Properties::read(fd, plane->plane_id, DRM_MODE_OBJECT_PLANE);
			if (props.value("type") != type)
				continue;
			const std::vector<FormatModifier> formats =
				format ? kms::planeFormats(fd, *plane, props)
				       : std::vector<FormatModifier>();
			if (!format || std::count(formats.begin(), formats.end(),
						  FormatModifier{ format, DRM_FORMAT_MOD_LINEAR }))
				return plane->plane_id;
		}
		return 0;
	};
	const uint32_t primary = findPlane(DRM_PLANE_TYPE_PRIMARY, 0);
	if (!primary)
		return leaveOff("no primary plane");
	/*
	 * The CRTC's free overlay planes, bottom to top. heapcomp's own
	 * overlay, which the first output shows, takes the topmost that
	 * takes XRGB8888; client buffers the ones below it.
	 */
	const kms::Properties primaryProps = kms::Properties::read(fd, primary, DRM_MODE_OBJECT_PLANE);
	const OverlayStack stack =
		overlayStack(fd, *planes, crtcIndex, usedPlanes, device_.driver,
			     primaryProps.has("zpos") ? std::optional(primaryProps.value("zpos"))
						      : std::nullopt);
	uint32_t overlay = 0;
	std::vector<uint32_t> clientPlanes = stack.planes;
	if (outputs_.empty()) {
		for (size_t i = stack.planes.size(); i-- > 0 && !overlay;) {
			kms::PlanePtr plane(drmModeGetPlane(fd, stack.planes[i]));
			kms::Properties props =
				kms::Properties::read(fd, stack.planes[i], DRM_MODE_OBJECT_PLANE);
			const std::vector<FormatModifier> formats =
				plane ? kms::planeFormats(fd, *plane, props) : std::vector<FormatModifier>();
			if (std::count(formats.begin(), formats.end(),
				       FormatModifier{ DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR })) {
				overlay = stack.planes[i];
				clientPlanes.resize(i);
			}
		}
	}
	if (!stack.ordered && !clientPlanes.empty()) {
		LOG_INFO("%s: overlay planes' stacking unknown (no zpos): client buffers go on the "
			 "primary plane only",
			 connectorName(conn).c_str());
		clientPlanes.clear();
	}
	/* Every output's own cursor plane, where its CRTC has one. */
	const uint32_t cursor = findPlane(DRM_PLANE_TYPE_CURSOR, DRM_FORMAT_ARGB8888);
	const bool withWriteback = writeback && (writebackCrtcs & (1u << crtcIndex));
	const std::string name = connectorName(conn);
	auto output = std::make_unique<DrmOutput>(*this, conn.connector_id, name);
	output->widthMm_ = conn.mmWidth;
	output->heightMm_ = conn.mmHeight;
	if (auto ret = output->init(loop_, *mode, res.crtcs[crtcIndex], uint32_t(crtcIndex), primary,
				    overlay, cursor, withWriteback ? writeback : 0, clientPlanes);
	    !ret)
		return bufmgr::unexpected(std::move(ret).error());
	if (auto ret = output->applyScanoutProbe(); !ret)
		return bufmgr::unexpected(std::move(ret).error());
	/* Right of the others, in the order they came; unplugged ones leave a gap. */
	int32_t x = 0;
	for (const auto &other : outputs_)
		x = std::max(x, other->x() + int32_t(other->mode().width));
	output->setPosition(x, 0);
	return NewOutput{ std::move(output), {} };
}

int DrmBackend::onDrmEvent(int fd, uint32_t, void *)
{
	drmEventContext ctx = {};
	ctx.version = 3;
	ctx.vblank_handler = [](int, unsigned int sequence, unsigned int sec, unsigned int usec,
				void *data) {
		if (DrmOutput *output = static_cast<DrmEventTarget *>(data)->output)
			output->flipDone(sequence, sec, usec);
	};
	ctx.page_flip_handler2 = [](int, unsigned int sequence, unsigned int sec,
				    unsigned int usec, unsigned int, void *data) {
		if (DrmOutput *output = static_cast<DrmEventTarget *>(data)->output)
			output->flipDone(sequence, sec, usec);
	};
	if (drmHandleEvent(fd, &ctx) < 0)
		LOG_ERROR("reading DRM events: %s", strerror(errno));
	return 0;
}

std::vector<Output *> DrmBackend::outputs() const
{
	std::vector<Output *> list;
	for (const auto &output : outputs_)
		list.push_back(output.get());
	return list;
}

std::vector<DrmOutput *> DrmBackend::drmOutputs() const
{
	std::vector<DrmOutput *> list;
	for (const auto &output : outputs_)
		list.push_back(output.get());
	return list;
}

DrmStats DrmBackend::stats() const
{
	DrmStats stats = stats_;
	stats.liveClientFramebuffers = 0;
	for (const auto &[key, entry] : clientFbs_)
		stats.liveClientFramebuffers += entry.fb && !entry.buffer.expired();
	stats.imagePlaneBuffers = 0;
	for (const auto &output : outputs_) {
		stats.imagePlaneBuffers += output->overlay_.buffersHeld() + output->cursor_.buffersHeld();
		stats.clientPlanes += output->clientPlanes_.size();
		stats.clientPlanesShown += output->layers_.size();
	}
	return stats;
}

void DrmBackend::pruneClientFramebuffers()
{
	/* A framebuffer id freed may name another buffer next: verdicts on it go too. */
	if (std::erase_if(clientFbs_, [](const auto &item) { return item.second.buffer.expired(); }))
		for (const auto &output : outputs_)
			output->layerVerdicts_.clear();
}

DrmBackend::ClientFb *DrmBackend::clientFramebuffer(const ClientBuffer &buffer)
{
	const bufmgr::Buffer *dmaBuf = buffer.dmaBuf();
	if (!dmaBuf)
		return nullptr;
	auto it = clientFbs_.find(&buffer);
	if (it != clientFbs_.end()) {
		if (!it->second.buffer.expired())
			return &it->second;
		/* A new buffer where a freed one was: not its framebuffer, nor verdicts on its id. */
		clientFbs_.erase(it);
		for (const auto &output : outputs_)
			output->layerVerdicts_.clear();
	}
	ClientFb entry;
	entry.buffer = const_cast<ClientBuffer &>(buffer).weak_from_this();
	auto fb = kms::Framebuffer::import(device_.fd.get(), *dmaBuf);
	if (fb) {
		entry.fb = std::move(*fb);
		stats_.framebuffersImported++;
	} else {
		entry.error = fb.error().message();
		stats_.framebufferFailures++;
		LOG_DEBUG("client dma-buf %ux%u from %s: %s", dmaBuf->width(), dmaBuf->height(),
			  buffer.exporter().c_str(), entry.error.c_str());
	}
	return &clientFbs_.emplace(&buffer, std::move(entry)).first->second;
}

void DrmBackend::scanoutRefused(ClientFb &entry, const bufmgr::Error &error,
				const std::string &output)
{
	/*
	 * A lost DRM master or a busy CRTC says nothing of the buffer. A
	 * configuration refused again and again, though TEST_ONLY took it
	 * (bandwidth, a driver's own limits), does: it is composed from now on.
	 */
	if (!kms::configurationRefused(error.code))
		return;
	if (++entry.commitRefusals < kScanoutCommitRefusals)
		return;
	entry.accepted = false;
	entry.flipsRefused = true;
	entry.refusal = "the kernel refused " + std::to_string(entry.commitRefusals) +
			" commits of it in a row: " + error.message();
	LOG_WARNING("%s: a client buffer goes composed: %s", output.c_str(), entry.refusal.c_str());
}

void DrmBackend::forgetRefusedFlips()
{
	for (auto &[buffer, entry] : clientFbs_) {
		if (!entry.flipsRefused)
			continue;
		entry.flipsRefused = false;
		entry.commitRefusals = 0;
		entry.accepted.reset();
		entry.refusal.clear();
	}
}

bufmgr::Constraints
DrmBackend::scanoutConstraints(std::optional<bool> ScanoutProbe::*plane, const char *what) const
{
	bufmgr::Constraints constraints;
	for (const ScanoutProbe &probe : probes_) {
		if (probe.*plane == false)
			constraints.refused.push_back(
				{ probe.source, std::string("the ") + what + " plane refused its buffer (" +
							(probe.note.empty() ? "TEST_ONLY" : probe.note) +
							")" });
	}
	return constraints;
}

std::optional<ScanoutTranche> DrmBackend::scanoutTranche(const Surface &surface) const
{
	if (!config_.directScanout)
		return std::nullopt;
	for (const auto &output : outputs_) {
		ScanoutTranche tranche;
		tranche.device = device_.devnum;
		if (output->scanoutCandidate() == surface.id())
			tranche.formats = output->primaryFormats();
		else if (std::count(output->planeCandidates().begin(), output->planeCandidates().end(),
				    surface.id()))
			tranche.formats = output->clientPlaneFormats();
		else
			continue;
		return tranche;
	}
	return std::nullopt;
}

std::vector<std::string>
DrmBackend::scanoutHeaps(const std::vector<bufmgr::HeapInfo> &heaps) const
{
	/* The policy's order, less the heaps whose buffers the primary plane refused. */
	std::vector<std::string> names = scanoutHeapOrder(heaps, config_.scanoutRequiresContiguous);
	std::erase_if(names, [this](const std::string &name) {
		auto probe = std::find_if(probes_.begin(), probes_.end(),
					  [&](const ScanoutProbe &p) { return p.heap == name; });
		return probe != probes_.end() && !probe->primary.value_or(false);
	});
	return names;
}

} /* namespace comp */
