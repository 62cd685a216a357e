/* SPDX-License-Identifier: MIT */
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <sys/types.h>
#include <time.h>
#include <vector>

#include <bufmgr/buffer.h>
#include <bufmgr/heap.h>
#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

#include "buffer.h"
#include "format_modifier.h"
#include "scene/overlay_layer.h"
#include "scene/screenshot.h"

namespace bufmgr {
class BufferManager;
}

namespace comp {

using bufmgr::Result;

class Surface;

/* How a frame reached the screen (wp_presentation_feedback.kind). */
enum PresentFlags : uint32_t {
	PresentVsync = 1u << 0,
	PresentHwClock = 1u << 1,
	PresentHwCompletion = 1u << 2,
	/* A client buffer was scanned out directly, with no copy. */
	PresentZeroCopy = 1u << 3,
};

struct PresentInfo {
	struct timespec time {};	/* CLOCK_MONOTONIC */
	uint64_t sequence = 0;		/* the output's frame counter */
	uint32_t refreshNs = 0;		/* 0: unknown or variable */
	uint32_t flags = 0;		/* PresentFlags */
};

/*
 * A buffer the compositor renders one frame into. The backend owns it
 * (from a bufmgr Swapchain) and keeps it valid until the frame after the
 * next one is presented.
 */
struct OutputFrame {
	const bufmgr::Buffer *target = nullptr;
	int bufferAge = 0;
	void *backendData = nullptr;	/* the slot, for commit/rollback */
	/*
	 * The renderer's sync file (RenderPass::submit()): the frame is in
	 * target once it signals. A KMS commit hands it over as IN_FENCE_FD;
	 * invalid when the frame is already there.
	 */
	bufmgr::SharedFd renderDone;
};

/*
 * Pixels drawn on the CPU that a backend may put on a plane of their own:
 * ARGB8888 rows, premultiplied (XRGB8888 where opaque).
 */
struct PlaneImage {
	const uint8_t *pixels = nullptr;
	uint32_t stride = 0;
	uint32_t width = 0;
	uint32_t height = 0;
	bool opaque = false;
	/* Changes whenever the pixels do: a plane's copy is stale. */
	uint64_t generation = 0;
	/* What each of the last changes touched, newest first (OverlayLayer::Image's). */
	std::span<const Rect> damage;
};

/*
 * A client buffer shown as it is on an overlay plane above the primary
 * one: the whole buffer, unscaled, its top-left at destination's.
 */
struct PlaneLayer {
	ClientBuffer::Lock buffer;
	Rect destination;	/* output pixels */
	/* What the client did to the content (wl_surface.set_buffer_transform): the plane undoes it. */
	Transform transform = Transform::Normal;
};

/*
 * What an output shows from its next refresh on. On the primary plane:
 * a frame the renderer drew into (from beginFrame()), a client buffer
 * as it is with no copy (direct scanout), or, with keepPrimary, what it
 * shows now (with a client buffer: that buffer is there, unchanged).
 * Above it, layers: client buffers on overlay planes, bottom to top,
 * over a composed primary or a client buffer. The output keeps every
 * client buffer it shows locked until a later commit replaces it.
 */
struct OutputState {
	std::optional<OutputFrame> frame;
	ClientBuffer::Lock scanout;
	/* What the client did to the scanout buffer's content: the primary plane undoes it. */
	Transform scanoutTransform = Transform::Normal;
	std::vector<PlaneLayer> layers;
	bool keepPrimary = false;
	/*
	 * What the primary plane's new buffer changes of what it shows now
	 * (output pixels), for displays that send only that on (USB, SPI
	 * and virtual ones, through FB_DAMAGE_CLIPS); none, or an empty
	 * list: all of it.
	 */
	std::optional<std::vector<Rect>> primaryDamage;
};

/*
 * One display. The backend drives its frame clock: after scheduleFrame()
 * the frame handler runs at the next refresh, builds an OutputState (a
 * client buffer that test() accepts, or a frame rendered into a buffer
 * from beginFrame()) and passes it to commit(); the presented handler
 * then reports when it reached the screen.
 */
class Output
{
public:
	struct Mode {
		uint32_t width = 0;
		uint32_t height = 0;
		uint32_t refreshMilliHz = 0;
	};

	virtual ~Output() = default;

	virtual const std::string &name() const = 0;
	virtual const std::string &description() const = 0;
	virtual const std::string &make() const = 0;
	virtual const std::string &model() const = 0;
	virtual Mode mode() const = 0;
	/* Physical size in millimetres; 0 when unknown (headless). */
	virtual uint32_t physicalWidthMm() const { return 0; }
	virtual uint32_t physicalHeightMm() const { return 0; }
	/* Presentation timestamps' clock. */
	virtual clockid_t presentationClock() const { return CLOCK_MONOTONIC; }

	/* Requests one frame handler call at the next refresh. Idempotent. */
	virtual void scheduleFrame() = 0;

	/*
	 * A buffer to render the next frame into; nullopt when every buffer
	 * is still in use (try again at the next frame).
	 */
	virtual Result<std::optional<OutputFrame>> beginFrame() = 0;
	/*
	 * Whether commit(state) would show state: a composed frame always
	 * can; a client buffer only where the hardware reads it as it is.
	 * Layers are tested over the composed frame on screen now.
	 */
	virtual bool test(const OutputState &state) const = 0;
	/* Why the last test() refused a client buffer ("" if it took them all). */
	virtual std::string refusal() const { return {}; }
	/*
	 * Whether that refusal was of the buffer itself (its format,
	 * modifier or memory): one allocated otherwise could be shown.
	 */
	virtual bool refusedTheBuffer() const { return false; }
	/* Overlay planes that may show client buffers (OutputState::layers); 0: none. */
	virtual size_t clientPlaneCount() const { return 0; }
	/* Whether they read wl_shm memory (a display does not): else it is not offered. */
	virtual bool clientPlanesReadShm() const { return false; }
	/*
	 * Whether they blend a buffer with alpha over what is below them,
	 * premultiplied as Wayland's buffers are: else only opaque buffers
	 * in formats without alpha go on them.
	 */
	virtual bool clientPlanesBlend() const { return false; }
	/* Whether they undo a buffer transform other than Normal by rotating and reflecting. */
	virtual bool clientPlanesTransform(Transform) const { return false; }
	/* Whether the primary plane does (OutputState::scanoutTransform). */
	virtual bool primaryTransform(Transform) const { return false; }
	/* Shows state; the presented handler runs once it is on screen. */
	virtual Result<void> commit(OutputState state) = 0;
	/* Gives a frame back unshown (rendering failed). */
	virtual void rollback(const OutputFrame &frame) = 0;
	/*
	 * Nothing changed on screen this refresh: no buffer, but the
	 * presented handler runs as after a commit, with this refresh's time.
	 */
	virtual void skipFrame() = 0;

	/*
	 * What is on screen now: a composed buffer, or the client buffer
	 * scanned out; both null before the first frame.
	 */
	virtual const bufmgr::Buffer *frontBuffer() const = 0;
	virtual const ClientBuffer *frontScanout() const = 0;
	bool hasFront() const { return frontBuffer() || frontScanout(); }
	/* The client buffers on overlay planes now, bottom to top, and where. */
	struct ShownLayer {
		const ClientBuffer *buffer = nullptr;
		Rect destination;
	};
	virtual std::vector<ShownLayer> frontLayers() const { return {}; }

	/*
	 * Where the hardware can read back what it displays (a writeback
	 * connector): captures the next refresh and calls handler with it.
	 * false: it cannot; read frontBuffer() or frontScanout() instead.
	 */
	using CaptureHandler = std::function<void(Result<Screenshot>)>;
	virtual bool captureNextFrame(CaptureHandler) { return false; }

	/*
	 * Shows image at rect (output pixels) on a plane of its own above
	 * everything else from the next refresh on, so that frames below
	 * need not draw it and a client buffer can stay scanned out under
	 * it. Called every repaint while the overlay shows: cheap when
	 * nothing changed. false: there is no such plane or it refused; the
	 * repaint composes the overlay instead.
	 */
	virtual bool showOverlay(const OverlayLayer::Image &, const Rect &) { return false; }
	/* Takes the overlay off its plane from the next refresh on. */
	virtual void hideOverlay() {}
	/*
	 * Likewise the pointer's cursor, its top-left at (x, y) in output
	 * pixels (partly off the output is fine), on a cursor plane: moving
	 * it then redraws nothing. false: no plane takes it; it is composed.
	 */
	virtual bool showCursor(const PlaneImage &, int32_t, int32_t) { return false; }
	virtual void hideCursor() {}
	/* Why the last cursor showCursor() had was composed. */
	virtual std::string cursorRefusal() const { return "no cursor plane"; }

	using FrameHandler = std::function<void()>;
	using PresentedHandler = std::function<void(const PresentInfo &)>;
	void setFrameHandler(FrameHandler handler) { frameHandler_ = std::move(handler); }
	void setPresentedHandler(PresentedHandler handler) { presentedHandler_ = std::move(handler); }

	/*
	 * The surface (Surface::id()) the last repaint found on top of this
	 * output, opaque and covering it whole: the one the backend would
	 * scan out if it accepted its buffer. 0 for none. Set by the repaint.
	 */
	uint64_t scanoutCandidate() const { return scanoutCandidate_; }
	void setScanoutCandidate(uint64_t surface) { scanoutCandidate_ = surface; }
	/*
	 * The surfaces the last repaint found could go on an overlay plane
	 * (nothing composed above them, a plane free), whose buffers went
	 * there or were refused for what they are. Set by the repaint.
	 */
	const std::vector<uint64_t> &planeCandidates() const { return planeCandidates_; }
	void setPlaneCandidates(std::vector<uint64_t> surfaces) { planeCandidates_ = std::move(surfaces); }

	/* Position in the global compositor space; set by the server. */
	int32_t x() const { return x_; }
	int32_t y() const { return y_; }
	void setPosition(int32_t x, int32_t y) { x_ = x; y_ = y; }
	/* Where it lies in the global compositor space. */
	Rect layoutRect() const
	{
		const Mode m = mode();
		return Rect{ x_, y_, int32_t(m.width), int32_t(m.height) };
	}

protected:
	void frame() { if (frameHandler_) frameHandler_(); }
	void presented(const PresentInfo &info) { if (presentedHandler_) presentedHandler_(info); }

private:
	FrameHandler frameHandler_;
	PresentedHandler presentedHandler_;
	uint64_t scanoutCandidate_ = 0;
	std::vector<uint64_t> planeCandidates_;
	int32_t x_ = 0;
	int32_t y_ = 0;
};

/* One scroll on one axis, as the device made it. */
struct PointerAxis {
	/* What scrolled: wl_pointer's axis_source values. */
	enum class Source : uint32_t { Wheel = 0, Finger = 1, Continuous = 2, WheelTilt = 3 };

	bool horizontal = false;
	/* In surface pixels, positive down or right (wl_pointer.axis). */
	double value = 0;
	Source source = Source::Wheel;
	/* A wheel's clicks in 120ths of one (high-resolution wheels turn less); 0: none. */
	int32_t value120 = 0;

	/* A finger lifted, or a continuous scroll ended: wl_pointer.axis_stop. */
	bool stops() const { return value == 0 && source != Source::Wheel && source != Source::WheelTilt; }
};

/* Input the backend delivers, in global compositor coordinates. */
class InputSink
{
public:
	virtual ~InputSink() = default;
	virtual void pointerMotion(double x, double y, uint32_t timeMs) = 0;
	/* Linux input event codes (BTN_LEFT...). */
	virtual void pointerButton(uint32_t button, bool pressed, uint32_t timeMs) = 0;
	virtual void pointerAxis(const PointerAxis &axis, uint32_t timeMs) = 0;
	/* Evdev key codes (KEY_A...), without the +8 of xkb. */
	virtual void key(uint32_t key, bool pressed, uint32_t timeMs) = 0;

	/*
	 * Touch points, each with an id unique while it is down. A frame ends
	 * a group of point events that belong together; cancel ends every
	 * point (the touch went to something other than the clients).
	 */
	virtual void touchDown(int32_t id, double x, double y, uint32_t timeMs) = 0;
	virtual void touchMotion(int32_t id, double x, double y, uint32_t timeMs) = 0;
	virtual void touchUp(int32_t id, uint32_t timeMs) = 0;
	/*
	 * For devices that report them, after the point's down or motion:
	 * the contact ellipse's axes, and the angle of its major axis from
	 * the y axis in degrees.
	 */
	virtual void touchShape(int32_t id, double major, double minor) = 0;
	virtual void touchOrientation(int32_t id, double degrees) = 0;
	virtual void touchFrame() = 0;
	virtual void touchCancel() = 0;
	/* A device came or went: what the seat offers (Backend::hasTouch()) may differ. */
	virtual void devicesChanged() {}
};

/*
 * What a backend could scan out directly for one surface: a preference
 * tranche for its linux-dmabuf feedback (device, formats, scanout flag).
 */
struct ScanoutTranche {
	dev_t device = 0;
	std::vector<FormatModifier> formats;

	bool operator==(const ScanoutTranche &) const = default;
};

/*
 * The hardware side: outputs, input, and what the display hardware can
 * read directly. Headless, DRM/KMS and nested backends implement it.
 */
class Backend
{
public:
	/* Told of each output buffer a backend lets go of: the renderer forgets it. */
	using BufferDropHook = std::function<void(const bufmgr::Buffer &)>;

	virtual ~Backend() = default;
	Backend(const Backend &) = delete;
	Backend &operator=(const Backend &) = delete;

	virtual std::string_view name() const = 0;

	/* Creates outputs and input devices; outputs exist after this. */
	virtual Result<void> start() = 0;
	virtual std::vector<Output *> outputs() const = 0;

	void setInputSink(InputSink *sink) { inputSink_ = sink; }
	/*
	 * The backend cannot go on (failed: its display went away) or was
	 * told to stop (the host closed a nested window): the compositor stops.
	 */
	using StopHandler = std::function<void(bool failed)>;
	void setStopHandler(StopHandler handler) { stopHandler_ = std::move(handler); }
	/*
	 * A display plugged in after start: its output, now last in
	 * outputs(), for the compositor to show from then on.
	 */
	using OutputAddedHandler = std::function<void(Output &)>;
	void setOutputAddedHandler(OutputAddedHandler handler) { outputAdded_ = std::move(handler); }
	/*
	 * A display unplugged: its output has left outputs() and is
	 * destroyed once the handler returns. The last output stays.
	 */
	using OutputRemovedHandler = std::function<void(Output &)>;
	void setOutputRemovedHandler(OutputRemovedHandler handler)
	{
		outputRemoved_ = std::move(handler);
	}
	/*
	 * An output took another size (a nested window resized by its host):
	 * mode() says the new one, old the one it had.
	 */
	using OutputResizedHandler = std::function<void(Output &, const Output::Mode &old)>;
	void setOutputResizedHandler(OutputResizedHandler handler)
	{
		outputResized_ = std::move(handler);
	}
	/* Whether a touch device is there (wl_seat's touch capability). */
	virtual bool hasTouch() const { return false; }
	/*
	 * Where the backend runs in a session that can hand the display to
	 * another (a VT): asks the seat for that session. The backend pauses
	 * until this one is given back.
	 */
	virtual bool canSwitchSession() const { return false; }
	virtual Result<void> switchSession(int) { return bufmgr::unexpected(ENOTSUP, "no sessions"); }

	/*
	 * The DRM device clients should allocate for (linux-dmabuf
	 * main_device); nullopt when the backend has none.
	 */
	virtual std::optional<dev_t> mainDevice() const { return std::nullopt; }

	/*
	 * The scanout tranche the backend wants to offer a surface now, from
	 * its plane assignment; nullopt for none. The linux-dmabuf code
	 * applies hysteresis before a change reaches the client.
	 */
	virtual std::optional<ScanoutTranche> scanoutTranche(const Surface &) const
	{
		return std::nullopt;
	}

	/*
	 * The DMA-BUF heaps whose buffers this backend's scanout tranches can
	 * take, most preferred first, by name; empty when it knows none.
	 */
	virtual std::vector<std::string> scanoutHeaps(const std::vector<bufmgr::HeapInfo> &) const
	{
		return {};
	}

	/* Where the backend's output buffers come from. */
	bufmgr::BufferManager &bufferManager() const { return manager_; }
	const BufferDropHook &dropHook() const { return dropHook_; }

protected:
	Backend(bufmgr::BufferManager &manager, BufferDropHook dropHook)
		: manager_(manager), dropHook_(std::move(dropHook))
	{
	}

	InputSink *inputSink() const { return inputSink_; }
	void requestStop(bool failed)
	{
		if (stopHandler_)
			stopHandler_(failed);
	}
	void outputAdded(Output &output)
	{
		if (outputAdded_)
			outputAdded_(output);
	}
	void outputRemoved(Output &output)
	{
		if (outputRemoved_)
			outputRemoved_(output);
	}
	void outputResized(Output &output, const Output::Mode &old)
	{
		if (outputResized_)
			outputResized_(output, old);
	}

private:
	bufmgr::BufferManager &manager_;
	BufferDropHook dropHook_;
	InputSink *inputSink_ = nullptr;
	StopHandler stopHandler_;
	OutputAddedHandler outputAdded_;
	OutputRemovedHandler outputRemoved_;
	OutputResizedHandler outputResized_;
};

} /* namespace comp */
