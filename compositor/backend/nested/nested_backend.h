/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <bufmgr/manager.h>
#include <bufmgr/swapchain.h>

#include "backend/backend.h"
#include "backend/nested/host_proxy.h"
#include "wayland_util.h"

struct wl_event_loop;

namespace comp {

/* How frames go to the host: wl_shm memfds, or dma-bufs the host imports. */
enum class HostBuffers {
	Auto,		/* dma-bufs where the host takes them and bufmgr has a source */
	Shm,
	DmaBuf,		/* or heapcomp does not start */
};

struct NestedConfig {
	/* The host's socket; empty: $WAYLAND_DISPLAY when start() runs. */
	std::string display;
	uint32_t width = 1280;
	uint32_t height = 720;
	uint32_t numOutputs = 1;
	/* Each window asks the host for fullscreen, and takes the size it is given. */
	bool fullscreen = false;
	HostBuffers buffers = HostBuffers::Auto;
};

class NestedBackend;

/*
 * One output shown as an xdg_toplevel of the host compositor. Frames are
 * rendered into a swapchain the host reads as it is: dma-bufs it imports
 * through zwp_linux_dmabuf_v1, else memfds as wl_shm buffers (see
 * NestedBackend::choosePresentation()). The host's frame callbacks
 * are the frame clock and its wp_presentation feedback (else the next
 * frame callback) says when a frame was shown.
 *
 * A host configure of another size (the user resized the window, or
 * made it fullscreen) resizes the output: its clients hear the new mode,
 * and the next frame is drawn at that size.
 */
class NestedOutput : public Output
{
public:
	NestedOutput(NestedBackend &backend, std::string name, const NestedConfig &config);
	~NestedOutput() override;

	Result<void> init(wl_event_loop *loop);
	bool configured() const { return configured_; }
	wl_surface *surface() const { return surface_.get(); }

	const std::string &name() const override { return name_; }
	const std::string &description() const override { return description_; }
	const std::string &make() const override { return make_; }
	const std::string &model() const override { return model_; }
	Mode mode() const override { return mode_; }

	void scheduleFrame() override;
	Result<std::optional<OutputFrame>> beginFrame() override;
	bool test(const OutputState &state) const override;
	Result<void> commit(OutputState state) override;
	void rollback(const OutputFrame &frame) override;
	void skipFrame() override;
	const bufmgr::Buffer *frontBuffer() const override;
	const ClientBuffer *frontScanout() const override { return nullptr; }

private:
	/* What the host holds of one swapchain slot: its wl_buffer. */
	struct SlotBuffer;

	static const xdg_surface_listener xdgSurfaceListener;
	static const xdg_toplevel_listener toplevelListener;
	static const wl_callback_listener frameListener;
	static const wl_buffer_listener bufferListener;
	static const wp_presentation_feedback_listener feedbackListener;

	static void onXdgConfigure(void *data, xdg_surface *surface, uint32_t serial);
	static void onToplevelConfigure(void *data, xdg_toplevel *toplevel, int32_t width,
					int32_t height, wl_array *states);
	static void onClose(void *data, xdg_toplevel *toplevel);
	static void onFrameDone(void *data, wl_callback *callback, uint32_t timeMs);
	static void onBufferRelease(void *data, wl_buffer *buffer);
	static void onPresented(void *data, struct wp_presentation_feedback *feedback, uint32_t secHi,
				uint32_t secLo, uint32_t nsec, uint32_t refreshNs, uint32_t seqHi,
				uint32_t seqLo, uint32_t flags);
	static void onDiscarded(void *data, struct wp_presentation_feedback *feedback);
	static void onIdle(void *data);

	SlotBuffer *slotBuffer(bufmgr::SwapchainSlot &slot);
	void releaseSlot(bufmgr::SwapchainSlot *slot);
	/* Asks the host for a frame callback with the next commit. */
	void requestTick();
	/* Runs the scheduled frame once a tick came and the last frame was shown. */
	void pump();
	void runFrame();
	void reportPresented(const PresentInfo &info);
	PresentInfo tickInfo() const;
	/* Takes the size the host configured; false if the buffers for it could not be had. */
	bool resize(uint32_t width, uint32_t height);

	NestedBackend &backend_;
	std::string name_;
	std::string description_;
	std::string make_ = "heapcomp";
	std::string model_ = "nested";
	Mode mode_;
	wl_event_loop *loop_ = nullptr;

	HostProxy<wl_surface> surface_;
	HostProxy<xdg_surface> xdgSurface_;
	HostProxy<xdg_toplevel> toplevel_;
	bool configured_ = false;
	bool fullscreen_ = false;
	/* The size of the configure under way; 0: the host leaves it to us. */
	uint32_t configuredWidth_ = 0;
	uint32_t configuredHeight_ = 0;

	std::unique_ptr<bufmgr::Swapchain> swapchain_;
	bufmgr::SwapchainSlot *front_ = nullptr;

	/* The frame clock: see pump(). */
	HostProxy<wl_callback> frameCallback_;
	HostProxy<struct wp_presentation_feedback> feedback_;
	wl_event_source *idle_ = nullptr;
	bool frameScheduled_ = false;
	/* A refresh passed since the last frame (true before the window maps). */
	bool tickReady_ = true;
	/* A committed frame whose presentation is not reported yet. */
	bool awaitingPresent_ = false;
	bool inFrame_ = false;
	uint64_t tickNs_ = 0;
	uint64_t sequence_ = 0;
};

/*
 * heapcomp as a client of another Wayland compositor (the host): each
 * output a window there, the host's seat input delivered as heapcomp's
 * own. For developing and showing heapcomp on a desktop.
 */
class NestedBackend : public Backend
{
public:

	NestedBackend(wl_event_loop *loop, bufmgr::BufferManager &manager, NestedConfig config,
		      BufferDropHook dropHook = {});
	~NestedBackend() override;

	std::string_view name() const override { return "nested"; }
	Result<void> start() override;
	std::vector<Output *> outputs() const override;
	bool hasTouch() const override { return touch_ != nullptr; }

	wl_compositor *compositor() const { return compositor_.get(); }
	wl_shm *shm() const { return shm_.get(); }
	xdg_wm_base *wmBase() const { return wmBase_.get(); }
	wp_presentation *presentation() const { return presentation_.get(); }
	/* Frames go to the host as dma-bufs from this bufmgr source; empty: as wl_shm buffers. */
	const std::string &dmaBufSource() const { return dmaBufSource_; }
	/* The host's buffer for one of ours (a dma-buf, or a memfd as wl_shm); null on failure. */
	wl_buffer *createHostBuffer(const bufmgr::Buffer &buffer);
	/* The host's presentation clock is ours (CLOCK_MONOTONIC): its times can be passed on. */
	bool hostClockIsOurs() const { return hostClock_ == CLOCK_MONOTONIC; }
	bool connected() const { return host_ && !lost_; }

	/* Sends what is queued for the host; waits for the socket to drain if it is full. */
	void flush();
	/* The host closed a window: heapcomp stops. */
	void windowClosed(const NestedOutput &output);
	/* The host resized a window: the compositor hears of its output's new size. */
	void windowResized(NestedOutput &output, const Output::Mode &old) { outputResized(output, old); }

private:
	struct DisplayDeleter {
		void operator()(wl_display *display) const;
	};

	static const wl_registry_listener registryListener;
	static const wl_seat_listener seatListener;
	static const wl_pointer_listener pointerListener;
	static const wl_keyboard_listener keyboardListener;
	static const wl_touch_listener touchListener;
	static const xdg_wm_base_listener wmBaseListener;
	static const wp_presentation_listener presentationListener;
	static const zwp_linux_dmabuf_v1_listener dmabufListener;
	static const zwp_linux_buffer_params_v1_listener probeListener;

	static void onGlobal(void *data, wl_registry *registry, uint32_t name,
			     const char *interface, uint32_t version);
	static void onGlobalRemove(void *data, wl_registry *registry, uint32_t name);
	static void onSeatCapabilities(void *data, wl_seat *seat, uint32_t caps);
	static void onPing(void *data, xdg_wm_base *wmBase, uint32_t serial);
	static void onClockId(void *data, wp_presentation *presentation, uint32_t clock);
	static void onDmaBufModifier(void *data, zwp_linux_dmabuf_v1 *dmabuf, uint32_t format,
				     uint32_t modifierHi, uint32_t modifierLo);
	static int onHostEvent(int fd, uint32_t mask, void *data);

	static void onPointerEnter(void *data, wl_pointer *pointer, uint32_t serial,
				   wl_surface *surface, wl_fixed_t x, wl_fixed_t y);
	static void onPointerMotion(void *data, wl_pointer *pointer, uint32_t time, wl_fixed_t x,
				    wl_fixed_t y);
	static void onPointerButton(void *data, wl_pointer *pointer, uint32_t serial,
				    uint32_t time, uint32_t button, uint32_t state);
	static void onPointerAxis(void *data, wl_pointer *pointer, uint32_t time, uint32_t axis,
				  wl_fixed_t value);
	static void onKey(void *data, wl_keyboard *keyboard, uint32_t serial, uint32_t time,
			  uint32_t key, uint32_t state);
	static void onKeyboardLeave(void *data, wl_keyboard *keyboard, uint32_t serial,
				    wl_surface *surface);
	static void onTouchDown(void *data, wl_touch *touch, uint32_t serial, uint32_t time,
				wl_surface *surface, int32_t id, wl_fixed_t x, wl_fixed_t y);
	static void onTouchUp(void *data, wl_touch *touch, uint32_t serial, uint32_t time,
			      int32_t id);
	static void onTouchMotion(void *data, wl_touch *touch, uint32_t time, int32_t id,
				  wl_fixed_t x, wl_fixed_t y);

	/* The output a host surface shows; null for none of ours. */
	NestedOutput *outputOf(wl_surface *surface) const;
	/* Global compositor coordinates of a point on an output's window. */
	void toGlobal(const NestedOutput *output, wl_fixed_t x, wl_fixed_t y, double *gx,
		      double *gy) const;
	void lost(const std::string &why);
	/*
	 * Sets dmaBufSource_ from the config and a probe; fails for
	 * HostBuffers::DmaBuf without dma-bufs, or when the host is gone.
	 */
	Result<void> choosePresentation();
	/* A buffer as the outputs' will be, imported by the host once: whether dma-bufs work. */
	Result<void> probeDmaBuf();
	static void onProbeCreated(void *data, zwp_linux_buffer_params_v1 *params, wl_buffer *buffer);
	static void onProbeFailed(void *data, zwp_linux_buffer_params_v1 *params);
	/* The modifier the host takes the buffer with: its own, or INVALID (implicit) for linear. */
	std::optional<uint64_t> hostModifier(const bufmgr::Buffer &buffer) const;
	/* The buffer's dma-buf in a zwp_linux_buffer_params_v1, ready to create. */
	HostProxy<zwp_linux_buffer_params_v1> dmaBufParams(const bufmgr::Buffer &buffer,
							   uint64_t modifier);

	wl_event_loop *loop_;
	NestedConfig config_;

	/* First, so gone last: every proxy below goes before the connection. */
	std::unique_ptr<wl_display, DisplayDeleter> host_;
	std::string hostName_;
	HostProxy<wl_registry> registry_;
	HostProxy<wl_compositor> compositor_;
	HostProxy<wl_shm> shm_;
	HostProxy<xdg_wm_base> wmBase_;
	HostProxy<wp_presentation> presentation_;
	HostProxy<zwp_linux_dmabuf_v1> dmabuf_;
	/* The modifiers the host takes XRGB8888 with (zwp_linux_dmabuf_v1 v3 events). */
	std::vector<uint64_t> hostModifiers_;
	std::string dmaBufSource_;
	std::string presentedVia_;	/* for the log: how, and why not dma-bufs */
	/*
	 * The probe's import. Kept past the probe if the host has not
	 * answered yet, so that a late wl_buffer is destroyed, not leaked.
	 */
	HostProxy<zwp_linux_buffer_params_v1> probeParams_;
	HostProxy<wl_buffer> probeBuffer_;
	bool probeAnswered_ = false;
	bool probeOver_ = false;
	HostProxy<wl_seat> seat_;
	uint32_t seatName_ = 0;
	HostProxy<wl_pointer> pointer_;
	/*
	 * The host's scroll this pointer frame, vertical then horizontal,
	 * sent at its end: axis_source may come after the axis events.
	 */
	struct PendingAxis {
		bool scrolled = false;
		bool stopped = false;
		double value = 0;
		int32_t clicks = 0;
		uint32_t timeMs = 0;
	};
	PointerAxis::Source axisSource_ = PointerAxis::Source::Wheel;
	PendingAxis axes_[2];
	void sendAxes();
	HostProxy<wl_keyboard> keyboard_;
	HostProxy<wl_touch> touch_;
	clockid_t hostClock_ = CLOCK_MONOTONIC;

	EventSource hostSource_;
	bool lost_ = false;
	bool writable_ = false;	/* waiting for the socket to drain */

	/* The output under the pointer, and each touch point's. */
	NestedOutput *pointerOutput_ = nullptr;
	std::unordered_map<int32_t, NestedOutput *> touchOutputs_;
	/* Keys pressed in our windows, released when the keyboard leaves. */
	std::set<uint32_t> keysDown_;

	std::vector<std::unique_ptr<NestedOutput>> outputs_;
};

} /* namespace comp */
