/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <bufmgr/manager.h>
#include <bufmgr/swapchain.h>
#include <bufmgr/unique_fd.h>

#include "backend/backend.h"
#include "wayland_util.h"

struct wl_event_loop;

namespace comp {

/* When a scheduled frame runs. */
enum class FrameClock : uint8_t {
	Refresh,	/* at the next tick of the refresh rate, like a display */
	Idle,		/* as soon as the event loop has handled what is ready */
	Manual,		/* when HeadlessBackend::stepFrames() says so */
};

struct HeadlessConfig {
	uint32_t width = 1280;
	uint32_t height = 720;
	uint32_t refreshMilliHz = 60000;
	uint32_t numOutputs = 1;
	/* A virtual touch screen, driven by injectTouch*(). */
	bool touch = false;
	/*
	 * Show a client buffer of the output's size as it is, as a display
	 * plane would; off: every frame is composed.
	 */
	bool directScanout = true;
	/*
	 * Scan out only buffers whose exporter is a physically contiguous
	 * heap, as a display controller without an IOMMU would
	 * (--scanout-requires contiguous).
	 */
	bool scanoutRequiresContiguous = false;
	/*
	 * Overlay planes above the composed frame that show client buffers
	 * as they are (unscaled, in a format screenshots read), as a display
	 * would; 0: none, everything not fullscreen is composed.
	 */
	uint32_t overlayPlanes = 0;
	/*
	 * They blend buffers with alpha over what is below, premultiplied,
	 * as most displays' (VKMS's) do; false: only opaque ones go on them.
	 */
	bool overlayPlanesBlend = true;
	/*
	 * The device clients are told to allocate for (--render-node), also
	 * the DRM backend's; empty: found.
	 */
	std::string renderNode;
	/*
	 * Refresh for the executable and for tests of timing; tests of
	 * protocol behaviour need not wait for a 60 Hz tick.
	 */
	FrameClock frameClock = FrameClock::Refresh;
};

class HeadlessBackend;

/*
 * An output with no display: frames are rendered into a bufmgr swapchain
 * and "presented" at the ticks of a timerfd frame clock.
 */
class HeadlessOutput : public Output
{
public:
	HeadlessOutput(HeadlessBackend &backend, std::string name, const HeadlessConfig &config);
	~HeadlessOutput() override;

	Result<void> init(wl_event_loop *loop);

	const std::string &name() const override { return name_; }
	const std::string &description() const override { return description_; }
	const std::string &make() const override { return make_; }
	const std::string &model() const override { return model_; }
	Mode mode() const override { return mode_; }

	void scheduleFrame() override;
	Result<std::optional<OutputFrame>> beginFrame() override;
	bool test(const OutputState &state) const override;
	std::string refusal() const override { return refusal_; }
	bool refusedTheBuffer() const override { return refusalOfBuffer_; }
	size_t clientPlaneCount() const override { return directScanout_ ? overlayPlanes_ : 0; }
	bool clientPlanesReadShm() const override { return true; }
	bool clientPlanesBlend() const override { return overlayPlanesBlend_; }
	Result<void> commit(OutputState state) override;
	void rollback(const OutputFrame &frame) override;
	void skipFrame() override;
	const bufmgr::Buffer *frontBuffer() const override;
	const ClientBuffer *frontScanout() const override { return scanout_.get(); }
	std::vector<ShownLayer> frontLayers() const override;

	/* For tests: which bufmgr source the output buffers came from. */
	const std::string &bufferSource() const { return bufferSource_; }
	uint64_t refreshNs() const { return periodNs_; }
	/* With FrameClock::Manual: runs the scheduled frame, if any, next. */
	bool stepFrame();
	/* Frames from now on are of this size; the old buffers go once off screen. */
	Result<void> resize(uint32_t width, uint32_t height);

private:
	static int onTimer(int fd, uint32_t mask, void *data);
	uint64_t nextTickNs(uint64_t nowNs) const;
	bool armTimer(uint64_t whenNs, uint64_t intervalNs = 0);
	/* Reports the frame on screen as presented now: at this tick, or at once. */
	void presentNow();
	bool testLayers(const OutputState &state) const;
	/* Whether the (virtual) primary plane shows buffer as it is. */
	bool primaryTakes(const ClientBuffer &buffer) const;
	bool refuse(std::string why, bool ofBuffer = false) const;

	HeadlessBackend &backend_;
	std::string name_;
	std::string description_;
	std::string make_ = "heapcomp";
	std::string model_ = "headless";
	Mode mode_;
	uint64_t periodNs_;
	bool directScanout_;
	FrameClock clock_;

	std::unique_ptr<bufmgr::Swapchain> swapchain_;
	std::string bufferSource_;
	bufmgr::SwapchainSlot *front_ = nullptr;
	/* Or the client buffer on screen, read as it is. */
	ClientBuffer::Lock scanout_;
	uint32_t overlayPlanes_ = 0;
	bool overlayPlanesBlend_ = true;
	/* Client buffers on the overlay planes, bottom to top. */
	std::vector<PlaneLayer> layers_;
	mutable std::string refusal_;
	mutable bool refusalOfBuffer_ = false;

	bufmgr::UniqueFd timerFd_;
	EventSource timerSource_;
	/* The refresh timer runs, periodic, while frames are asked for. */
	bool ticking_ = false;
	bool armed_ = false;
	uint64_t epochNs_ = 0;
	uint64_t lastTickNs_ = 0;	/* vblank of the frame being rendered */
	uint64_t lastPresentedNs_ = 0;
	bool inTick_ = false;
};

class HeadlessBackend : public Backend
{
public:
	/* Called with each output buffer before it is freed or pooled. */

	HeadlessBackend(wl_event_loop *loop, bufmgr::BufferManager &manager,
			HeadlessConfig config, BufferDropHook dropHook = {});
	~HeadlessBackend() override;

	std::string_view name() const override { return "headless"; }
	Result<void> start() override;
	std::vector<Output *> outputs() const override;
	std::optional<dev_t> mainDevice() const override { return mainDevice_; }
	/* Offered to the surface that covers an output, in the formats test() takes. */
	std::optional<ScanoutTranche> scanoutTranche(const Surface &surface) const override;
	std::vector<std::string> scanoutHeaps(const std::vector<bufmgr::HeapInfo> &heaps) const override;
	bool requiresContiguousScanout() const { return config_.scanoutRequiresContiguous; }
	/* Whether the memory behind a client buffer suits the (virtual) display. */
	bool canScanOutMemory(const ClientBuffer &buffer) const;

	/* Fake input, in global coordinates; for tests and scripts. */
	void injectPointerMotion(double x, double y);
	void injectPointerButton(uint32_t button, bool pressed);
	void injectPointerAxis(bool horizontal, double value);
	void injectPointerAxis(const PointerAxis &axis);
	void injectKey(uint32_t key, bool pressed);
	/* The virtual touch screen's points; frames are the caller's to send. */
	void injectTouchDown(int32_t id, double x, double y);
	void injectTouchMotion(int32_t id, double x, double y);
	void injectTouchUp(int32_t id);
	void injectTouchShape(int32_t id, double major, double minor);
	void injectTouchOrientation(int32_t id, double degrees);
	void injectTouchFrame();
	void injectTouchCancel();
	bool hasTouch() const override { return config_.touch; }

	/* With FrameClock::Manual: how many outputs had a frame to run. */
	size_t stepFrames();
	/* A display plugged in, as a DRM hotplug would: a new output right of the others. */
	Result<void> addOutput();
	/* The display of output index unplugged, as a DRM hotplug would; not the last. */
	bool removeOutput(size_t index);
	/* The display of output index took another size, as a resized nested window does. */
	Result<void> resizeOutput(size_t index, uint32_t width, uint32_t height);


private:
	Result<std::unique_ptr<HeadlessOutput>> makeOutput();

	wl_event_loop *loop_;
	HeadlessConfig config_;
	std::vector<std::unique_ptr<HeadlessOutput>> outputs_;
	std::optional<dev_t> mainDevice_;
};

/* Milliseconds of CLOCK_MONOTONIC, as wl_pointer/wl_keyboard events carry. */
uint32_t monotonicMs();

} /* namespace comp */
