/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <bufmgr/manager.h>
#include <bufmgr/mapping.h>
#include <bufmgr/swapchain.h>
#include <bufmgr/unique_fd.h>

#include "backend/backend.h"
#include "backend/drm/kms.h"
#include "backend/drm/hotplug.h"
#include "backend/drm/image_plane.h"
#include "backend/drm/input_devices.h"
#include "backend/drm/scanout_probe.h"
#include "backend/drm/session.h"
#include "scene/screenshot.h"
#include "wayland_util.h"

struct wl_event_loop;

namespace comp {

struct DrmConfig {
	/* The KMS node; empty: the first /dev/dri/card* with a connector. */
	std::string device;
	/* 0: the connector's preferred mode. refreshMilliHz 0: any refresh. */
	uint32_t width = 0;
	uint32_t height = 0;
	uint32_t refreshMilliHz = 0;
	/* Put client buffers on the primary and overlay planes when a TEST_ONLY commit accepts them. */
	bool directScanout = true;
	/* Scan out only contiguous memory, as a display controller without an IOMMU. */
	bool scanoutRequiresContiguous = false;
	/* Ctrl+Alt+Fn switches VTs; a kiosk turns it off. */
	bool vtSwitch = true;
	/* The device clients allocate for; empty: the KMS driver's render node, else another. */
	std::string renderNode;
};

/* What the backend did, for statistics and tests of the steady state. */
struct DrmStats {
	uint64_t commits = 0;		/* page flips and modesets */
	uint64_t commitFailures = 0;	/* flips and modesets the kernel refused */
	uint64_t testCommits = 0;	/* TEST_ONLY commits */
	uint64_t testRefusals = 0;
	uint64_t framebuffersImported = 0;	/* AddFB2 calls that succeeded */
	uint64_t framebufferFailures = 0;	/* imports refused (cached, not retried) */
	uint64_t liveClientFramebuffers = 0;
	uint64_t flips = 0;		/* page-flip events */
	uint64_t vblanks = 0;		/* frames with nothing new: a vblank event */
	uint64_t captures = 0;		/* writeback captures completed */
	uint64_t captureHolds = 0;	/* writebacks a frame waited for */
	uint64_t captureTimeouts = 0;	/* writebacks the kernel never completed */
	uint64_t imagePlaneBytes = 0;	/* copied into overlay and cursor plane buffers */
	uint64_t imagePlaneBuffers = 0;	/* scanout buffers the overlay and cursor planes hold */
	uint64_t clientPlanes = 0;	/* overlay planes the outputs may put client buffers on */
	uint64_t clientPlanesShown = 0;	/* of them, showing a client buffer now */
	/* Flips whose primary plane named its damage (FB_DAMAGE_CLIPS), and the rects named. */
	uint64_t damageClipCommits = 0;
	uint64_t damageClipRects = 0;
};

class DrmBackend;
class DrmOutput;

/*
 * What a page-flip or vblank event names. It outlives its output, so an
 * event still queued when the display was unplugged finds no output
 * rather than freed memory.
 */
struct DrmEventTarget {
	DrmOutput *output = nullptr;
};

/*
 * One connector on one CRTC with its primary plane. Frames are rendered
 * into a bufmgr swapchain of scanout memory, or a client dma-buf goes on
 * the primary plane as it is; each shows with a non-blocking atomic
 * commit whose page-flip event drives the frame clock.
 */
class DrmOutput : public Output
{
public:
	DrmOutput(DrmBackend &backend, uint32_t connector, std::string name);
	~DrmOutput() override;

	/*
	 * overlayPlane, cursorPlane 0: none for this output. clientPlanes:
	 * overlay planes for client buffers, bottom to top, all below
	 * overlayPlane.
	 */
	Result<void> init(wl_event_loop *loop, const drmModeModeInfo &mode, uint32_t crtc,
			  uint32_t crtcIndex, uint32_t primaryPlane, uint32_t overlayPlane,
			  uint32_t cursorPlane, uint32_t writeback,
			  const std::vector<uint32_t> &clientPlanes);
	/*
	 * The output's buffers, anew: from the scanout policy, less the
	 * memory the backend's probe found the display refuses.
	 */
	Result<void> allocateSwapchain();
	/*
	 * After the backend's probe: the planes' buffers avoid what it found
	 * refused, and the output's are made again if they were of it.
	 */
	Result<void> applyScanoutProbe();

	const std::string &name() const override { return name_; }
	const std::string &description() const override { return description_; }
	const std::string &make() const override { return make_; }
	const std::string &model() const override { return model_; }
	Mode mode() const override { return mode_; }
	uint32_t physicalWidthMm() const override { return widthMm_; }
	uint32_t physicalHeightMm() const override { return heightMm_; }

	void scheduleFrame() override;
	Result<std::optional<OutputFrame>> beginFrame() override;
	bool test(const OutputState &state) const override;
	std::string refusal() const override { return lastRefusal_; }
	bool refusedTheBuffer() const override { return refusalOfBuffer_; }
	size_t clientPlaneCount() const override;
	bool clientPlanesBlend() const override;
	bool clientPlanesTransform(Transform transform) const override;
	bool primaryTransform(Transform transform) const override;
	Result<void> commit(OutputState state) override;
	void rollback(const OutputFrame &frame) override;
	void skipFrame() override;
	const bufmgr::Buffer *frontBuffer() const override;
	const ClientBuffer *frontScanout() const override { return scanout_.get(); }
	std::vector<ShownLayer> frontLayers() const override;
	/* The overlay planes client buffers may go on, bottom to top. */
	std::vector<uint32_t> clientPlanes() const;
	uint32_t primaryPlane() const { return primary_; }

	/* Through the device's writeback connector, where it has one. */
	bool captureNextFrame(CaptureHandler handler) override;
	/* On the output's overlay plane, in scanout memory of its own, where it has one. */
	bool showOverlay(const OverlayLayer::Image &image, const Rect &rect) override;
	void hideOverlay() override;
	uint32_t overlayPlane() const { return overlay_.id(); }
	uint32_t crtc() const { return crtc_; }
	/* Whether its connector has a display (frames wait while it has none). */
	bool connected() const { return connected_; }
	/* On the CRTC's cursor plane, where it has one and the image fits. */
	bool showCursor(const PlaneImage &image, int32_t x, int32_t y) override;
	void hideCursor() override;
	uint32_t cursorPlane() const { return cursor_.id(); }
	bool cursorOnPlane() const { return cursor_.shown(); }
	std::string cursorRefusal() const override { return cursor_.why(); }
	bool canCapture() const { return writeback_ != 0; }

	/* The primary plane's formats: the scanout tranche. */
	const std::vector<FormatModifier> &primaryFormats() const { return primaryFormats_; }
	/* What any client plane takes: an overlay candidate's scanout tranche. */
	std::vector<FormatModifier> clientPlaneFormats() const;
	/*
	 * The memory its scanout buffers are in: "dma-heap:system", or each
	 * source with its count where a fallback mixed them
	 * ("dma-heap:default_cma_region (1), gbm:/dev/dri/card1 (2)").
	 */
	std::string bufferSource() const;
	/* Why the last client buffer offered was not scanned out ("" if it was). */
	const std::string &lastRefusal() const { return lastRefusal_; }

private:
	friend class DrmBackend;

	/* A framebuffer on a plane, at its place. */
	struct LayerFb {
		uint32_t fbId = 0;
		Rect destination;
		/* The plane's "rotation" (DRM_MODE_ROTATE_*, DRM_MODE_REFLECT_*) that undoes the buffer's transform. */
		uint64_t rotation = DRM_MODE_ROTATE_0;
		/* The framebuffer's size: the destination's, swapped by a rotation of 90 or 270. */
		uint32_t width = 0;
		uint32_t height = 0;
	};
	static LayerFb layerFb(const PlaneLayer &layer, uint32_t fbId);
	/* A client buffer on the primary plane, turned back; a composed frame. */
	LayerFb primaryFb(const ClientBuffer &buffer, Transform transform, uint32_t fbId) const;
	LayerFb composedFb(uint32_t fbId) const;
	/* Adds the primary plane showing primary to req. */
	void addPlane(kms::AtomicRequest &req, const LayerFb &primary, int inFence) const;
	/*
	 * The client planes for layers, bottom up; every other one that
	 * shows something, or may (restatePlanes_), goes off.
	 */
	void addClientPlanes(kms::AtomicRequest &req, const std::vector<LayerFb> &layers) const;
	/*
	 * Why layer cannot go on the plane at index; "" if it may (a TEST_ONLY
	 * has the last word). ofBuffer: the reason is the buffer's.
	 */
	std::string layerUnfit(const PlaneLayer &layer, size_t index, LayerFb &fb, bool &ofBuffer) const;
	bool testLayers(const OutputState &state) const;
	/* What the client planes show now, as committed. */
	std::vector<LayerFb> shownLayerFbs() const;
	void addModeset(kms::AtomicRequest &req) const;
	/* The overlay or cursor plane has a change for the next commit. */
	bool imagePlanesPending() const { return overlay_.changePending() || cursor_.changePending(); }
	/* Where plane went on or off: cached scanout verdicts no longer hold. */
	void checkToggled(ImagePlane &plane);
	/*
	 * primary goes on the primary plane; with shownAlready it is there
	 * now. damage: what it changes of the primary plane's last
	 * (OutputState::primaryDamage).
	 */
	Result<void> commitFb(const LayerFb &primary, bool shownAlready, int inFence, const char *what,
			      const std::vector<LayerFb> &layers,
			      const std::optional<std::vector<Rect>> &damage = std::nullopt);
	/* A FB_DAMAGE_CLIPS blob of damage inside the mode, and its rects; 0 if none could be made. */
	uint32_t damageClipsBlob(const std::vector<Rect> &damage, size_t *count) const;
	/* ofBuffer: the buffer's format, modifier or memory (another buffer could go). */
	void refused(std::string why, bool ofBuffer = false) const;
	kms::Framebuffer *slotFramebuffer(bufmgr::SwapchainSlot &slot);
	void flipDone(uint32_t sequence, uint32_t sec, uint32_t usec);
	void runFrame();
	/* Runs the frame scheduled, if no flip is in flight and the display may show it. */
	void runFrameIfDue();
	/* This output's CRTC and planes for probeScanout(). */
	ProbePipe probePipe();
	/* Commits what is on screen again: for a writeback capture, or the overlay plane's change. */
	bool recommit(const char *why);
	void forgetScanoutVerdicts();
	static void onIdle(void *data);
	static int onRetry(void *data);
	static int onRefreshTimer(void *data);
	/* An overlay or cursor plane just went off: its memory goes back unless it comes on soon. */
	void keepPlaneMemoryAWhile();
	static int onPlaneMemoryTimer(void *data);
	static int onCaptureFence(int fd, uint32_t mask, void *data);
	static int onCaptureTimeout(void *data);
	void finishCapture();
	void resumeAfterCapture();
	/* Calls and empties handlers with that error. */
	void failCaptures(std::vector<CaptureHandler> &handlers, int error, const std::string &why);
	/* A writeback in flight holds the next commit: see commitFb(). */
	bool capturing() const { return captureFence_.isValid(); }
	/* The session is back: set the mode and planes again at the next frame. */
	void resume();
	/* Frames may go to the display: the session has it and a display is plugged in. */
	bool live() const;
	/* The connector's display went or came back (a hotplug event). */
	void setConnected(bool connected, const drmModeConnector &connector);
	/* Turns the pipe off, blocking until it is; false if the kernel refused. */
	bool switchOff(const char *why);

	DrmBackend &backend_;
	DrmEventTarget &eventTarget_;
	uint32_t connector_;
	std::string name_;
	std::string description_;
	std::string make_ = "heapcomp";
	std::string model_;
	Mode mode_;
	uint32_t widthMm_ = 0;
	uint32_t heightMm_ = 0;

	drmModeModeInfo modeInfo_ = {};
	uint32_t modeBlob_ = 0;
	uint32_t crtc_ = 0;
	uint32_t crtcIndex_ = 0;
	uint32_t primary_ = 0;
	uint32_t writeback_ = 0;
	kms::Properties crtcProps_;
	kms::Properties connectorProps_;
	kms::Properties primaryProps_;
	kms::Properties writebackProps_;
	std::vector<FormatModifier> primaryFormats_;
	/* The rotations and reflections the primary plane's "rotation" offers. */
	uint64_t primaryRotations_ = DRM_MODE_ROTATE_0;
	bool modesetDone_ = false;
	bool connected_ = true;

	std::unique_ptr<bufmgr::Swapchain> swapchain_;
	/* On screen, and committed but not yet flipped to. */
	bufmgr::SwapchainSlot *front_ = nullptr;
	bufmgr::SwapchainSlot *pending_ = nullptr;
	ClientBuffer::Lock scanout_;
	/* The transform the primary plane undoes for scanout_, and for pendingScanout_. */
	Transform scanoutTransform_ = Transform::Normal;
	Transform pendingScanoutTransform_ = Transform::Normal;
	ClientBuffer::Lock pendingScanout_;
	/* The flip in flight shows a new buffer (else it is a vblank or the same one). */
	bool flipShowsNew_ = false;
	bool flipPending_ = false;
	bool frameScheduled_ = false;
	uint64_t lastSequence_ = 0;
	mutable std::string lastRefusal_;
	mutable bool refusalOfBuffer_ = false;

	/* The frame scheduled to run once the loop is idle; removed with the output. */
	wl_event_source *idle_ = nullptr;
	/* A frame scheduled by a frame, which waits for the loop to poll. */
	EventSource retry_;
	bool inFrame_ = false;
	/* Stands in for the vblank event where the driver has none. */
	EventSource refreshTimer_;
	bool vblankWarned_ = false;

	/* A writeback capture: asked for, then in flight until its fence signals. */
	std::vector<CaptureHandler> captureWaiting_;
	std::vector<CaptureHandler> captureInFlight_;
	std::optional<bufmgr::Buffer> captureBuffer_;
	std::unique_ptr<kms::Framebuffer> captureFb_;
	bufmgr::UniqueFd captureFence_;
	EventSource captureSource_;
	EventSource captureTimer_;
	/* The connector lost a writeback: captures read the output buffers instead. */
	bool writebackStalled_ = false;
	wl_event_loop *loop_ = nullptr;

	/* Overlay planes for client buffers, bottom to top, above the primary. */
	struct ClientPlane {
		uint32_t id = 0;
		kms::Properties props;
		std::vector<FormatModifier> formats;
		/* Its "pixel blend mode" value for Wayland's premultiplied alpha, where it has one. */
		std::optional<uint64_t> premultiplied;
		/* It blends a buffer's alpha premultiplied, as the renderer would. */
		bool blends = false;
		/* The rotations and reflections its "rotation" property offers (DRM_MODE_ROTATE_*...). */
		uint64_t rotations = DRM_MODE_ROTATE_0;
	};
	std::vector<ClientPlane> clientPlanes_;
	/* Client buffers on them: on screen, and in the commit in flight. */
	std::vector<ClientBuffer::Lock> layers_;
	std::vector<ClientBuffer::Lock> pendingLayers_;
	std::vector<LayerFb> layerFbs_;
	std::vector<LayerFb> pendingLayerFbs_;
	/* The commit in flight left the primary plane as it was. */
	bool primaryKept_ = false;
	/* Client planes may show what another session left: the next commit sets them all. */
	bool restatePlanes_ = true;
	/*
	 * TEST_ONLY verdicts on sets of layers over a composed primary or a
	 * client buffer, by their framebuffers and places: "" took them, else
	 * why not. layersTested_: the key of the set tested last.
	 */
	mutable std::map<std::string, std::string> layerVerdicts_;
	mutable std::string layersTested_;

	/* heapcomp's overlay above the client planes, and the pointer's cursor above that. */
	ImagePlane overlay_;
	ImagePlane cursor_;
	EventSource planeMemoryTimer_;
};

/*
 * Linux DRM/KMS with atomic modesetting: every connected connector gets
 * a CRTC and its primary plane; client dma-bufs go on the primary plane
 * when the kernel accepts them.
 */
class DrmBackend : public Backend
{
public:

	DrmBackend(wl_event_loop *loop, bufmgr::BufferManager &manager, DrmConfig config,
		   BufferDropHook dropHook = {});
	~DrmBackend() override;

	std::string_view name() const override { return "drm"; }
	Result<void> start() override;
	std::vector<Output *> outputs() const override;
	std::optional<dev_t> mainDevice() const override { return renderDevice_; }
	bool hasTouch() const override;
	/* Null when libinput could not start. */
	const InputDevices *inputDevices() const { return input_.get(); }
	/* The seat the session took ("" before start). */
	std::string seatName() const { return session_ ? session_->seatName() : std::string(); }
	std::optional<ScanoutTranche> scanoutTranche(const Surface &surface) const override;
	std::vector<std::string> scanoutHeaps(const std::vector<bufmgr::HeapInfo> &heaps) const override;

	int fd() const { return device_.fd.get(); }
	/* Whether the session has the display now (it does not while another VT has it). */
	bool active() const;
	bool canSwitchSession() const override { return session_ && config_.vtSwitch; }
	Result<void> switchSession(int session) override;
	const kms::Device &device() const { return device_; }
	const DrmConfig &config() const { return config_; }
	DrmStats stats() const;
	std::vector<DrmOutput *> drmOutputs() const;
	/* What each source's buffers did on the first output's planes, at start. */
	const std::vector<ScanoutProbe> &scanoutProbes() const { return probes_; }
	/*
	 * Memory the probe found a plane (&ScanoutProbe::primary, ::overlay,
	 * ::cursor) refuses, as constraints: never allocated for that plane.
	 */
	bufmgr::Constraints scanoutConstraints(std::optional<bool> ScanoutProbe::*plane,
					       const char *what) const;

	/*
	 * A client dma-buf's framebuffer, imported once and cached while the
	 * buffer lives; a refused import is cached too, with its reason.
	 */
	struct ClientFb {
		std::weak_ptr<ClientBuffer> buffer;
		std::unique_ptr<kms::Framebuffer> fb;
		std::string error;	/* why it could not be imported */
		/* The last TEST_ONLY verdict on the primary plane: reused, not retried. */
		std::optional<bool> accepted;
		uint64_t acceptedRotation = DRM_MODE_ROTATE_0;	/* the plane rotation it was tested with */
		std::string refusal;
		/* Commits showing it that the kernel refused in a row, though TEST_ONLY took it. */
		int commitRefusals = 0;
		/* Refused that often: composed until the display is set again, whatever the other planes do. */
		bool flipsRefused = false;
	};
	/* Null for a wl_shm buffer. */
	ClientFb *clientFramebuffer(const ClientBuffer &buffer);
	/* A commit showing it the kernel refused: refused often enough, the buffer is composed. */
	void scanoutRefused(ClientFb &entry, const bufmgr::Error &error, const std::string &output);
	/* Buffers composed for their refused flips get a new chance (a display came back). */
	void forgetRefusedFlips();

private:
	friend class DrmOutput;
	static int onDrmEvent(int fd, uint32_t mask, void *data);
	Result<void> createOutputs();
	/* The output for a connector, or why it is left off. */
	struct NewOutput {
		std::unique_ptr<DrmOutput> output;
		std::string leftOff;
	};
	/* With a CRTC and planes no output holds yet. */
	Result<NewOutput> makeOutput(const drmModeRes &res, const drmModeConnector &conn);
	/* The unplugged display's output goes; the server hears of it first. */
	void removeOutput(DrmOutput &output);
	void pruneClientFramebuffers();
	void sessionChanged(bool active);
	/*
	 * A hotplug event: a display new since start becomes an output, and
	 * an unplugged display's output goes while another output is
	 * connected; the last one waits for a display.
	 */
	void connectorsChanged();
	/* Planes, CRTCs and connectors another session left on, and heapcomp does not use, go off. */
	void switchOffOthers();

	wl_event_loop *loop_;
	DrmConfig config_;
	/* Before every device it opened: they close first. */
	std::unique_ptr<Session> session_;
	kms::Device device_;
	std::unique_ptr<InputDevices> input_;
	std::unique_ptr<DrmHotplug> hotplug_;
	std::optional<dev_t> renderDevice_;
	EventSource drmSource_;
	std::vector<std::unique_ptr<DrmOutput>> outputs_;
	/* One per output ever made: events hold their addresses. */
	std::deque<DrmEventTarget> eventTargets_;
	std::vector<ScanoutProbe> probes_;
	std::unordered_map<const ClientBuffer *, ClientFb> clientFbs_;
	mutable DrmStats stats_;
};

} /* namespace comp */
