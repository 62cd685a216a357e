/* SPDX-License-Identifier: MIT */
#include "backend/nested/nested_backend.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include <drm_fourcc.h>
#include <wayland-server-core.h>

#include <bufmgr/clock.h>

#include "backend/headless/headless_backend.h"
#include "backend/output_swapchain.h"
#include "log.h"
#include "render/renderer.h"

namespace comp {

namespace {

/* Versions whose events the listeners below handle. */
constexpr uint32_t kCompositorVersion = 4;	/* wl_surface.damage_buffer */
constexpr uint32_t kSeatVersion = 6;		/* touch shape and orientation */

struct timespec toTimespec(uint64_t ns)
{
	struct timespec ts;
	ts.tv_sec = static_cast<time_t>(ns / 1000000000ull);
	ts.tv_nsec = static_cast<long>(ns % 1000000000ull);
	return ts;
}

/*
 * A frame callback's milliseconds have no defined clock; hosts use their
 * presentation clock, CLOCK_MONOTONIC in practice. Taken as such when
 * they are within a second before now, else the tick is now.
 */
uint64_t callbackTimeNs(uint32_t timeMs)
{
	const uint64_t now = bufmgr::clockNs();
	const uint32_t ageMs = static_cast<uint32_t>(now / 1000000ull) - timeMs;
	return ageMs <= 1000 ? now - uint64_t(ageMs) * 1000000ull : now;
}

} /* namespace */

/* NestedOutput --------------------------------------------------------- */

struct NestedOutput::SlotBuffer {
	NestedOutput *output = nullptr;
	bufmgr::SwapchainSlot *slot = nullptr;
	HostProxy<wl_buffer> buffer;
	/* Attached and not released by the host yet: not ours to draw into. */
	bool hostHolds = false;
};

const xdg_surface_listener NestedOutput::xdgSurfaceListener = {
	.configure = &NestedOutput::onXdgConfigure,
};

const xdg_toplevel_listener NestedOutput::toplevelListener = {
	.configure = &NestedOutput::onToplevelConfigure,
	.close = &NestedOutput::onClose,
	.configure_bounds = [](void *, xdg_toplevel *, int32_t, int32_t) {},
	.wm_capabilities = [](void *, xdg_toplevel *, wl_array *) {},
};

const wl_callback_listener NestedOutput::frameListener = {
	.done = &NestedOutput::onFrameDone,
};

const wl_buffer_listener NestedOutput::bufferListener = {
	.release = &NestedOutput::onBufferRelease,
};

const wp_presentation_feedback_listener NestedOutput::feedbackListener = {
	.sync_output = [](void *, struct wp_presentation_feedback *, wl_output *) {},
	.presented = &NestedOutput::onPresented,
	.discarded = &NestedOutput::onDiscarded,
};

NestedOutput::NestedOutput(NestedBackend &backend, std::string name, const NestedConfig &config)
	: backend_(backend), name_(std::move(name)), fullscreen_(config.fullscreen)
{
	mode_.width = config.width;
	mode_.height = config.height;
	/* Nominal: the host's refresh is only known from its feedback. */
	mode_.refreshMilliHz = 60000;
	description_ = "heapcomp nested output, a window of the host compositor";
}

NestedOutput::~NestedOutput()
{
	if (idle_)
		wl_event_source_remove(idle_);
}

Result<void> NestedOutput::init(wl_event_loop *loop)
{
	loop_ = loop;
	bufmgr::BufferManager &manager = backend_.bufferManager();
	const std::string &dmaBufSource = backend_.dmaBufSource();
	const bufmgr::SwapchainConfig config = outputSwapchainConfig(
		mode_, dmaBufSource.empty() ? bufmgr::Usage::Cpu : bufmgr::Usage::Render,
		"nested-" + name_);
	/*
	 * Dma-bufs from the source whose buffer the host imported at start,
	 * else memfds: every host maps those as wl_shm.
	 */
	auto allocate = [&manager, source = dmaBufSource.empty() ? std::string("memfd")
								  : dmaBufSource](
				const bufmgr::AllocationRequest &request) {
		return manager.allocateFromSource(source, request);
	};
	auto swapchain = createOutputSwapchain(backend_, config, allocate);
	if (!swapchain)
		return bufmgr::unexpected(std::move(swapchain).error());
	swapchain_ = std::move(*swapchain);

	surface_.reset(wl_compositor_create_surface(backend_.compositor()));
	xdgSurface_.reset(xdg_wm_base_get_xdg_surface(backend_.wmBase(), surface_.get()));
	toplevel_.reset(xdg_surface_get_toplevel(xdgSurface_.get()));
	if (!surface_ || !xdgSurface_ || !toplevel_)
		return bufmgr::unexpected(ENOMEM, "host window for " + name_);
	xdg_surface_add_listener(xdgSurface_.get(), &xdgSurfaceListener, this);
	xdg_toplevel_add_listener(toplevel_.get(), &toplevelListener, this);
	xdg_toplevel_set_title(toplevel_.get(), ("heapcomp — " + name_).c_str());
	xdg_toplevel_set_app_id(toplevel_.get(), "heapcomp");
	if (fullscreen_)
		xdg_toplevel_set_fullscreen(toplevel_.get(), nullptr);
	/* The initial commit, without a buffer: the host answers with a configure. */
	wl_surface_commit(surface_.get());
	return {};
}

void NestedOutput::onXdgConfigure(void *data, xdg_surface *surface, uint32_t serial)
{
	auto *self = static_cast<NestedOutput *>(data);
	xdg_surface_ack_configure(surface, serial);
	const uint32_t width = std::exchange(self->configuredWidth_, 0);
	const uint32_t height = std::exchange(self->configuredHeight_, 0);
	self->configured_ = true;
	/* Another size: the next frame, drawn at it, takes the ack with it. */
	if (width && height && (width != self->mode_.width || height != self->mode_.height) &&
	    self->resize(width, height))
		return;
	/* A mapped window takes the ack with a commit; an unmapped one with its first frame. */
	if (self->front_)
		wl_surface_commit(self->surface_.get());
}

void NestedOutput::onToplevelConfigure(void *data, xdg_toplevel *, int32_t width,
				       int32_t height, wl_array *)
{
	auto *self = static_cast<NestedOutput *>(data);
	/* 0 in either: that one is ours to pick, and we keep what we have. */
	if (width <= 0 || height <= 0)
		return;
	/* As large as the backend takes at start. */
	self->configuredWidth_ = uint32_t(std::min(width, 16384));
	self->configuredHeight_ = uint32_t(std::min(height, 16384));
}

bool NestedOutput::resize(uint32_t width, uint32_t height)
{
	if (auto ret = resizeOutputSwapchain(*swapchain_, width, height); !ret) {
		LOG_WARNING("%s: the host asks for %ux%u, but: %s; the window stays %ux%u",
			    name_.c_str(), width, height, ret.error().message().c_str(),
			    mode_.width, mode_.height);
		return false;
	}
	const Mode old = mode_;
	mode_.width = width;
	mode_.height = height;
	backend_.windowResized(*this, old);
	/*
	 * The ack goes with the next frame, drawn at the new size: no commit
	 * that only asks for a refresh may carry it with the old buffer
	 * (hosts refuse a maximized window's buffer of the wrong size).
	 */
	tickReady_ = true;
	scheduleFrame();
	return true;
}

void NestedOutput::onClose(void *data, xdg_toplevel *)
{
	auto *self = static_cast<NestedOutput *>(data);
	self->backend_.windowClosed(*self);
}

/*
 * The frame clock. A frame runs when it is scheduled, the host's frame
 * callback came (a refresh passed; before the window maps there is no
 * callback to wait for) and the last commit's presentation is reported,
 * so that frames and presented events alternate as on a display. It runs
 * from an idle source, never inside whatever scheduled it.
 */
void NestedOutput::scheduleFrame()
{
	if (!backend_.connected())
		return;
	frameScheduled_ = true;
	pump();
}

void NestedOutput::pump()
{
	if (!frameScheduled_ || inFrame_ || !backend_.connected())
		return;
	if (tickReady_ && !awaitingPresent_) {
		if (!idle_)
			idle_ = wl_event_loop_add_idle(loop_, &NestedOutput::onIdle, this);
		return;
	}
	if (!tickReady_ && !frameCallback_) {
		/* Nothing new to show: a commit that only asks for the next refresh. */
		requestTick();
		wl_surface_commit(surface_.get());
		backend_.flush();
	}
}

void NestedOutput::onIdle(void *data)
{
	auto *self = static_cast<NestedOutput *>(data);
	self->idle_ = nullptr;
	self->runFrame();
}

void NestedOutput::runFrame()
{
	if (!frameScheduled_ || !tickReady_ || awaitingPresent_ || !backend_.connected())
		return;
	frameScheduled_ = false;
	tickReady_ = false;
	if (!tickNs_)
		tickNs_ = bufmgr::clockNs();
	inFrame_ = true;
	frame();
	inFrame_ = false;
	/* Scheduled again while it ran (a skipped frame's presented handler). */
	pump();
}

void NestedOutput::requestTick()
{
	frameCallback_.reset(wl_surface_frame(surface_.get()));
	wl_callback_add_listener(frameCallback_.get(), &frameListener, this);
}

void NestedOutput::onFrameDone(void *data, wl_callback *, uint32_t timeMs)
{
	auto *self = static_cast<NestedOutput *>(data);
	self->frameCallback_.reset();
	self->tickNs_ = callbackTimeNs(timeMs);
	self->tickReady_ = true;
	/* Without wp_presentation, the refresh after a commit is when it showed. */
	if (self->awaitingPresent_ && !self->feedback_) {
		self->awaitingPresent_ = false;
		self->reportPresented(self->tickInfo());
	}
	self->pump();
}

void NestedOutput::onPresented(void *data, struct wp_presentation_feedback *, uint32_t secHi,
			       uint32_t secLo, uint32_t nsec, uint32_t refreshNs, uint32_t seqHi,
			       uint32_t seqLo, uint32_t flags)
{
	auto *self = static_cast<NestedOutput *>(data);
	self->feedback_.reset();
	self->awaitingPresent_ = false;
	PresentInfo info = self->tickInfo();
	if (self->backend_.hostClockIsOurs()) {
		info.time.tv_sec = static_cast<time_t>((uint64_t(secHi) << 32) | secLo);
		info.time.tv_nsec = nsec;
	}
	info.refreshNs = refreshNs;
	info.sequence = (uint64_t(seqHi) << 32) | seqLo;
	/* The host's vsync and clock; zero-copy is about client buffers, and ours are composed. */
	info.flags = flags & (PresentVsync | PresentHwClock | PresentHwCompletion);
	self->reportPresented(info);
	self->pump();
}

void NestedOutput::onDiscarded(void *data, struct wp_presentation_feedback *)
{
	auto *self = static_cast<NestedOutput *>(data);
	self->feedback_.reset();
	self->awaitingPresent_ = false;
	/* Not shown (hidden, or replaced): clients still get their frame, now. */
	PresentInfo info;
	info.time = toTimespec(bufmgr::clockNs());
	self->reportPresented(info);
	self->pump();
}

PresentInfo NestedOutput::tickInfo() const
{
	PresentInfo info;
	info.time = toTimespec(tickNs_ ? tickNs_ : bufmgr::clockNs());
	return info;
}

void NestedOutput::reportPresented(const PresentInfo &info)
{
	PresentInfo shown = info;
	shown.sequence = info.sequence ? info.sequence : sequence_ + 1;
	sequence_ = shown.sequence;
	presented(shown);
}

Result<std::optional<OutputFrame>> NestedOutput::beginFrame()
{
	return acquireOutputFrame(*swapchain_);
}

bool NestedOutput::test(const OutputState &state) const
{
	/* No client buffer goes to the host as it is: every frame is composed. */
	return state.frame.has_value() && !state.scanout;
}

NestedOutput::SlotBuffer *NestedOutput::slotBuffer(bufmgr::SwapchainSlot &slot)
{
	if (auto *cached = slot.userDataAs<SlotBuffer>(this))
		return cached;
	auto data = std::make_shared<SlotBuffer>();
	data->output = this;
	data->slot = &slot;
	data->buffer.reset(backend_.createHostBuffer(slot.buffer()));
	if (!data->buffer)
		return nullptr;
	wl_buffer_add_listener(data->buffer.get(), &bufferListener, data.get());
	slot.setUserData(this, data);
	return data.get();
}

void NestedOutput::onBufferRelease(void *data, wl_buffer *)
{
	auto *buffer = static_cast<SlotBuffer *>(data);
	buffer->hostHolds = false;
	if (buffer->slot != buffer->output->front_)
		buffer->output->swapchain_->release(buffer->slot);
}

void NestedOutput::releaseSlot(bufmgr::SwapchainSlot *slot)
{
	auto *buffer = slot->userDataAs<SlotBuffer>(this);
	/* The host still reading it: its release event gives it back. */
	if (!buffer || !buffer->hostHolds)
		swapchain_->release(slot);
}

Result<void> NestedOutput::commit(OutputState state)
{
	if (!test(state))
		return bufmgr::unexpected(EINVAL, name_ + ": commit of a state test() refuses");
	auto *slot = static_cast<bufmgr::SwapchainSlot *>(state.frame->backendData);
	if (!backend_.connected()) {
		swapchain_->rollback(slot);
		return bufmgr::unexpected(ENOTCONN, name_ + ": no host compositor");
	}
	SlotBuffer *buffer = slotBuffer(*slot);
	if (!buffer) {
		swapchain_->rollback(slot);
		return bufmgr::unexpected(ENOMEM, name_ + ": no buffer in the host for the frame");
	}
	/* The host reads the buffer as soon as it gets the commit. */
	if (auto drawn = waitForSyncFile(state.frame->renderDone.get()); !drawn)
		LOG_WARNING("%s: %s", name_.c_str(), drawn.error().message().c_str());

	wl_surface_attach(surface_.get(), buffer->buffer.get(), 0, 0);
	wl_surface_damage_buffer(surface_.get(), 0, 0, INT32_MAX, INT32_MAX);
	if (!frameCallback_)
		requestTick();
	if (wp_presentation *presentation = backend_.presentation()) {
		feedback_.reset(wp_presentation_feedback(presentation, surface_.get()));
		wp_presentation_feedback_add_listener(feedback_.get(), &feedbackListener, this);
	}
	wl_surface_commit(surface_.get());
	backend_.flush();

	swapchain_->submit(slot);
	bufmgr::SwapchainSlot *previous = std::exchange(front_, slot);
	buffer->hostHolds = true;
	if (previous)
		releaseSlot(previous);
	awaitingPresent_ = true;
	return {};
}

void NestedOutput::rollback(const OutputFrame &frame)
{
	swapchain_->rollback(static_cast<bufmgr::SwapchainSlot *>(frame.backendData));
}

void NestedOutput::skipFrame()
{
	reportPresented(tickInfo());
}

const bufmgr::Buffer *NestedOutput::frontBuffer() const
{
	return front_ ? &front_->buffer() : nullptr;
}

/* NestedBackend -------------------------------------------------------- */

void NestedBackend::DisplayDeleter::operator()(wl_display *display) const
{
	wl_display_disconnect(display);
}

const wl_registry_listener NestedBackend::registryListener = {
	.global = &NestedBackend::onGlobal,
	.global_remove = &NestedBackend::onGlobalRemove,
};

const xdg_wm_base_listener NestedBackend::wmBaseListener = {
	.ping = &NestedBackend::onPing,
};

const wp_presentation_listener NestedBackend::presentationListener = {
	.clock_id = &NestedBackend::onClockId,
};

const zwp_linux_dmabuf_v1_listener NestedBackend::dmabufListener = {
	.format = [](void *, zwp_linux_dmabuf_v1 *, uint32_t) {},
	.modifier = &NestedBackend::onDmaBufModifier,
};

const wl_seat_listener NestedBackend::seatListener = {
	.capabilities = &NestedBackend::onSeatCapabilities,
	.name = [](void *, wl_seat *, const char *) {},
};

const wl_pointer_listener NestedBackend::pointerListener = {
	.enter = &NestedBackend::onPointerEnter,
	.leave = [](void *data, wl_pointer *, uint32_t, wl_surface *) {
		static_cast<NestedBackend *>(data)->pointerOutput_ = nullptr;
	},
	.motion = &NestedBackend::onPointerMotion,
	.button = &NestedBackend::onPointerButton,
	.axis = &NestedBackend::onPointerAxis,
	.frame = [](void *data, wl_pointer *) { static_cast<NestedBackend *>(data)->sendAxes(); },
	.axis_source = [](void *data, wl_pointer *, uint32_t source) {
		if (source <= uint32_t(PointerAxis::Source::WheelTilt))
			static_cast<NestedBackend *>(data)->axisSource_ = PointerAxis::Source(source);
	},
	.axis_stop = [](void *data, wl_pointer *, uint32_t time, uint32_t axis) {
		PendingAxis &pending =
			static_cast<NestedBackend *>(data)->axes_[axis == WL_POINTER_AXIS_HORIZONTAL_SCROLL];
		pending.stopped = true;
		pending.timeMs = time;
	},
	.axis_discrete = [](void *data, wl_pointer *, uint32_t axis, int32_t clicks) {
		static_cast<NestedBackend *>(data)->axes_[axis == WL_POINTER_AXIS_HORIZONTAL_SCROLL].clicks =
			clicks;
	},
	.axis_value120 = [](void *, wl_pointer *, uint32_t, int32_t) {},
};

const wl_keyboard_listener NestedBackend::keyboardListener = {
	/* heapcomp compiles its own keymap and reads evdev codes. */
	.keymap = [](void *, wl_keyboard *, uint32_t, int32_t fd, uint32_t) { close(fd); },
	/* Keys held as the window gets the focus stay the host's. */
	.enter = [](void *, wl_keyboard *, uint32_t, wl_surface *, wl_array *) {},
	.leave = &NestedBackend::onKeyboardLeave,
	.key = &NestedBackend::onKey,
	.modifiers = [](void *, wl_keyboard *, uint32_t, uint32_t, uint32_t, uint32_t,
			uint32_t) {},
	.repeat_info = [](void *, wl_keyboard *, int32_t, int32_t) {},
};

const wl_touch_listener NestedBackend::touchListener = {
	.down = &NestedBackend::onTouchDown,
	.up = &NestedBackend::onTouchUp,
	.motion = &NestedBackend::onTouchMotion,
	.frame = [](void *data, wl_touch *) {
		if (InputSink *sink = static_cast<NestedBackend *>(data)->inputSink())
			sink->touchFrame();
	},
	.cancel = [](void *data, wl_touch *) {
		auto *self = static_cast<NestedBackend *>(data);
		self->touchOutputs_.clear();
		if (InputSink *sink = self->inputSink())
			sink->touchCancel();
	},
	.shape = [](void *data, wl_touch *, int32_t id, wl_fixed_t major, wl_fixed_t minor) {
		if (InputSink *sink = static_cast<NestedBackend *>(data)->inputSink())
			sink->touchShape(id, wl_fixed_to_double(major), wl_fixed_to_double(minor));
	},
	.orientation = [](void *data, wl_touch *, int32_t id, wl_fixed_t degrees) {
		if (InputSink *sink = static_cast<NestedBackend *>(data)->inputSink())
			sink->touchOrientation(id, wl_fixed_to_double(degrees));
	},
};

NestedBackend::NestedBackend(wl_event_loop *loop, bufmgr::BufferManager &manager,
			     NestedConfig config, BufferDropHook dropHook)
	: Backend(manager, std::move(dropHook)), loop_(loop), config_(std::move(config))
{
}

NestedBackend::~NestedBackend()
{
	/* The windows and their buffers go before the globals they were made from. */
	outputs_.clear();
	hostSource_.reset();
}

Result<void> NestedBackend::start()
{
	if (config_.width == 0 || config_.height == 0 || config_.width > 16384 ||
	    config_.height > 16384)
		return bufmgr::unexpected(EINVAL, "nested output size " +
					  std::to_string(config_.width) + "x" +
					  std::to_string(config_.height));
	/*
	 * The host is the compositor of the environment heapcomp started in;
	 * its own clients get heapcomp's socket later, never this process.
	 */
	hostName_ = config_.display;
	if (const char *env = getenv("WAYLAND_DISPLAY"); hostName_.empty() && env)
		hostName_ = env;
	if (hostName_.empty())
		return bufmgr::unexpected(EINVAL, "the nested backend runs in a Wayland session: "
					  "WAYLAND_DISPLAY is not set");
	errno = 0;
	host_.reset(wl_display_connect(hostName_.c_str()));
	if (!host_)
		return bufmgr::unexpected(errno ? errno : ECONNREFUSED,
					  "cannot connect to the host compositor at WAYLAND_DISPLAY=" +
					  hostName_);
	registry_.reset(wl_display_get_registry(host_.get()));
	wl_registry_add_listener(registry_.get(), &registryListener, this);
	/* The globals, then what binding them sent (seat capabilities, clock). */
	for (int i = 0; i < 2; i++) {
		if (wl_display_roundtrip(host_.get()) < 0)
			return bufmgr::unexpected(errno ? errno : EPIPE,
						  "host compositor " + hostName_);
	}
	if (!compositor_ || !shm_ || !wmBase_)
		return bufmgr::unexpected(ENOTSUP, "host compositor " + hostName_ + " lacks " +
					  (!compositor_ ? "wl_compositor v4" :
					   !shm_ ? "wl_shm" : "xdg_wm_base"));

	if (auto ret = choosePresentation(); !ret)
		return ret;

	for (uint32_t i = 0; i < std::max<uint32_t>(config_.numOutputs, 1); i++) {
		auto output = std::make_unique<NestedOutput>(
			*this, "NESTED-" + std::to_string(i + 1), config_);
		auto ret = output->init(loop_);
		if (!ret)
			return ret;
		output->setPosition(static_cast<int32_t>(i * config_.width), 0);
		outputs_.push_back(std::move(output));
	}
	/* A window may show its first frame once the host configured it. */
	auto configured = [this]() {
		return std::all_of(outputs_.begin(), outputs_.end(),
				   [](const auto &output) { return output->configured(); });
	};
	for (int i = 0; i < 10 && !configured(); i++) {
		if (wl_display_roundtrip(host_.get()) < 0)
			return bufmgr::unexpected(errno ? errno : EPIPE,
						  "host compositor " + hostName_);
	}
	if (!configured())
		return bufmgr::unexpected(ETIMEDOUT, "host compositor " + hostName_ +
					  " configured no window");

	hostSource_.reset(wl_event_loop_add_fd(loop_, wl_display_get_fd(host_.get()),
					       WL_EVENT_READABLE, &NestedBackend::onHostEvent,
					       this));
	if (!hostSource_)
		return bufmgr::unexpected(ENOMEM, "event source for the host compositor");
	LOG_INFO("nested in the host compositor at WAYLAND_DISPLAY=%s (%s)", hostName_.c_str(),
		 presentation_ ? "wp_presentation timing" : "frame callback timing");
	LOG_INFO("frames go to the host through %s", presentedVia_.c_str());
	flush();
	return {};
}

Result<void> NestedBackend::choosePresentation()
{
	if (config_.buffers == HostBuffers::Shm) {
		presentedVia_ = "wl_shm (--nested-buffers shm)";
		return {};
	}
	auto probed = probeDmaBuf();
	if (probed) {
		presentedVia_ = "zwp_linux_dmabuf_v1, output buffers from " + dmaBufSource_;
		return {};
	}
	/* The host gone, or a protocol error: no way of showing frames at all. */
	if (int error = wl_display_get_error(host_.get())) {
		lost(strerror(error));
		return bufmgr::unexpected(error, "host compositor " + hostName_ +
					  " while importing a dma-buf");
	}
	if (config_.buffers == HostBuffers::DmaBuf)
		return bufmgr::unexpected(probed.error().code, "--nested-buffers dma-buf: " +
					  probed.error().context);
	presentedVia_ = "wl_shm: no dma-bufs, " + probed.error().message();
	return {};
}

const zwp_linux_buffer_params_v1_listener NestedBackend::probeListener = {
	.created = &NestedBackend::onProbeCreated,
	.failed = &NestedBackend::onProbeFailed,
};

Result<void> NestedBackend::probeDmaBuf()
{
	if (!dmabuf_)
		return bufmgr::unexpected(ENOTSUP, "the host compositor " + hostName_ +
					  " has no zwp_linux_dmabuf_v1 of version 3 or later");

	/* The outputs' request, from the same plan: what works here works for them. */
	auto request = bufmgr::AllocationRequest::image(config_.width, config_.height,
							 DRM_FORMAT_XRGB8888, bufmgr::Usage::Render,
							 "nested-probe");
	auto buffer = bufferManager().allocate(request);
	if (!buffer)
		return bufmgr::unexpected(std::move(buffer).error());
	const std::optional<uint64_t> modifier = hostModifier(*buffer);
	if (!modifier) {
		char name[24];
		snprintf(name, sizeof(name), "0x%" PRIx64, buffer->modifier());
		return bufmgr::unexpected(ENOTSUP, "the host compositor " + hostName_ +
					  " takes no XRGB8888 dma-buf of modifier " + name);
	}

	/*
	 * Not create_immed: a buffer the host cannot import is then a failed
	 * event, not a fatal error (wrong arguments stay fatal either way).
	 */
	probeParams_ = dmaBufParams(*buffer, *modifier);
	zwp_linux_buffer_params_v1_add_listener(probeParams_.get(), &probeListener, this);
	zwp_linux_buffer_params_v1_create(probeParams_.get(), static_cast<int32_t>(buffer->width()),
					  static_cast<int32_t>(buffer->height()),
					  DRM_FORMAT_XRGB8888, 0);
	for (int i = 0; i < 10 && !probeAnswered_; i++) {
		if (wl_display_roundtrip(host_.get()) < 0)
			break;
	}
	probeOver_ = true;
	const bool imported = probeBuffer_ != nullptr;
	probeBuffer_.reset();
	/* Unanswered: kept, so that a late answer is cleaned up (onProbeCreated). */
	if (probeAnswered_)
		probeParams_.reset();
	if (!imported)
		return bufmgr::unexpected(EINVAL, std::string("the host compositor ") +
					  (probeAnswered_ ? "refused" : "did not answer") + " a " +
					  buffer->source() + " dma-buf");
	dmaBufSource_ = buffer->source();
	return {};
}

void NestedBackend::onProbeCreated(void *data, zwp_linux_buffer_params_v1 *, wl_buffer *buffer)
{
	auto *self = static_cast<NestedBackend *>(data);
	self->probeAnswered_ = true;
	self->probeBuffer_.reset(buffer);
	/* An answer after the probe gave up: nothing will use the buffer. */
	if (self->probeOver_) {
		self->probeBuffer_.reset();
		self->probeParams_.reset();
	}
}

void NestedBackend::onProbeFailed(void *data, zwp_linux_buffer_params_v1 *)
{
	auto *self = static_cast<NestedBackend *>(data);
	self->probeAnswered_ = true;
	if (self->probeOver_)
		self->probeParams_.reset();
}

std::optional<uint64_t> NestedBackend::hostModifier(const bufmgr::Buffer &buffer) const
{
	const auto listed = [this](uint64_t modifier) {
		return std::find(hostModifiers_.begin(), hostModifiers_.end(), modifier) !=
		       hostModifiers_.end();
	};
	if (listed(buffer.modifier()))
		return buffer.modifier();
	/* A host that lists no modifier takes a linear buffer as an implicit one. */
	if (buffer.modifier() == DRM_FORMAT_MOD_LINEAR && listed(DRM_FORMAT_MOD_INVALID))
		return DRM_FORMAT_MOD_INVALID;
	return std::nullopt;
}

HostProxy<zwp_linux_buffer_params_v1> NestedBackend::dmaBufParams(const bufmgr::Buffer &buffer,
								  uint64_t modifier)
{
	HostProxy<zwp_linux_buffer_params_v1> params(
		zwp_linux_dmabuf_v1_create_params(dmabuf_.get()));
	for (size_t i = 0; i < buffer.numPlanes(); i++) {
		const bufmgr::BufferPlane &plane = buffer.plane(i);
		/* libwayland sends a dup of the fd: ours stays with the buffer. */
		zwp_linux_buffer_params_v1_add(params.get(), plane.fd.get(), static_cast<uint32_t>(i),
					       plane.offset, plane.stride,
					       static_cast<uint32_t>(modifier >> 32),
					       static_cast<uint32_t>(modifier));
	}
	return params;
}

wl_buffer *NestedBackend::createHostBuffer(const bufmgr::Buffer &buffer)
{
	if (buffer.isDmaBuf()) {
		const std::optional<uint64_t> modifier = hostModifier(buffer);
		if (!dmabuf_ || !modifier)
			return nullptr;
		/*
		 * create_immed: the host imported one of these at start. One it
		 * refuses after all ends the connection, and heapcomp says why.
		 */
		HostProxy<zwp_linux_buffer_params_v1> params = dmaBufParams(buffer, *modifier);
		return zwp_linux_buffer_params_v1_create_immed(
			params.get(), static_cast<int32_t>(buffer.width()),
			static_cast<int32_t>(buffer.height()), buffer.format(), 0);
	}
	const bufmgr::BufferPlane &plane = buffer.plane(0);
	if (buffer.size() > uint64_t(INT32_MAX))
		return nullptr;
	wl_shm_pool *pool = wl_shm_create_pool(shm_.get(), plane.fd.get(),
					       static_cast<int32_t>(buffer.size()));
	if (!pool)
		return nullptr;
	wl_buffer *created = wl_shm_pool_create_buffer(
		pool, static_cast<int32_t>(plane.offset), static_cast<int32_t>(buffer.width()),
		static_cast<int32_t>(buffer.height()), static_cast<int32_t>(plane.stride),
		WL_SHM_FORMAT_XRGB8888);
	/* The buffer keeps the pool's memory mapped in the host. */
	wl_shm_pool_destroy(pool);
	return created;
}

std::vector<Output *> NestedBackend::outputs() const
{
	std::vector<Output *> list;
	for (const auto &output : outputs_)
		list.push_back(output.get());
	return list;
}

void NestedBackend::onGlobal(void *data, wl_registry *registry, uint32_t name,
			     const char *interface, uint32_t version)
{
	auto *self = static_cast<NestedBackend *>(data);
	auto bind = [&](const wl_interface *type, uint32_t want) {
		return wl_registry_bind(registry, name, type, std::min(version, want));
	};
	const std::string_view which = interface;
	if (which == wl_compositor_interface.name && version >= kCompositorVersion) {
		self->compositor_.reset(static_cast<wl_compositor *>(
			bind(&wl_compositor_interface, kCompositorVersion)));
	} else if (which == wl_shm_interface.name) {
		self->shm_.reset(static_cast<wl_shm *>(bind(&wl_shm_interface, 1)));
	} else if (which == xdg_wm_base_interface.name) {
		self->wmBase_.reset(static_cast<xdg_wm_base *>(bind(&xdg_wm_base_interface, 1)));
		xdg_wm_base_add_listener(self->wmBase_.get(), &wmBaseListener, self);
	} else if (which == wp_presentation_interface.name) {
		self->presentation_.reset(static_cast<wp_presentation *>(
			bind(&wp_presentation_interface, 1)));
		wp_presentation_add_listener(self->presentation_.get(), &presentationListener,
					     self);
	} else if (which == zwp_linux_dmabuf_v1_interface.name && version >= 3) {
		/* v3: the modifier events; v4's feedback adds nothing a linear buffer needs. */
		self->dmabuf_.reset(static_cast<zwp_linux_dmabuf_v1 *>(
			bind(&zwp_linux_dmabuf_v1_interface, 3)));
		zwp_linux_dmabuf_v1_add_listener(self->dmabuf_.get(), &dmabufListener, self);
	} else if (which == wl_seat_interface.name && !self->seat_) {
		/* The first seat: heapcomp has one. */
		self->seat_.reset(static_cast<wl_seat *>(bind(&wl_seat_interface, kSeatVersion)));
		self->seatName_ = name;
		wl_seat_add_listener(self->seat_.get(), &seatListener, self);
	}
}

void NestedBackend::onGlobalRemove(void *data, wl_registry *, uint32_t name)
{
	auto *self = static_cast<NestedBackend *>(data);
	if (!self->seat_ || name != self->seatName_)
		return;
	onSeatCapabilities(self, self->seat_.get(), 0);
	self->seat_.reset();
}

void NestedBackend::onPing(void *, xdg_wm_base *wmBase, uint32_t serial)
{
	xdg_wm_base_pong(wmBase, serial);
}

void NestedBackend::onClockId(void *data, wp_presentation *, uint32_t clock)
{
	static_cast<NestedBackend *>(data)->hostClock_ = static_cast<clockid_t>(clock);
}

void NestedBackend::onDmaBufModifier(void *data, zwp_linux_dmabuf_v1 *, uint32_t format,
				     uint32_t modifierHi, uint32_t modifierLo)
{
	auto *self = static_cast<NestedBackend *>(data);
	if (format == DRM_FORMAT_XRGB8888)
		self->hostModifiers_.push_back((uint64_t(modifierHi) << 32) | modifierLo);
}

void NestedBackend::onSeatCapabilities(void *data, wl_seat *seat, uint32_t caps)
{
	auto *self = static_cast<NestedBackend *>(data);
	const bool pointer = caps & WL_SEAT_CAPABILITY_POINTER;
	const bool keyboard = caps & WL_SEAT_CAPABILITY_KEYBOARD;
	const bool touch = caps & WL_SEAT_CAPABILITY_TOUCH;
	if (pointer && !self->pointer_) {
		self->pointer_.reset(wl_seat_get_pointer(seat));
		wl_pointer_add_listener(self->pointer_.get(), &pointerListener, self);
	} else if (!pointer) {
		self->pointer_.reset();
		self->pointerOutput_ = nullptr;
	}
	if (keyboard && !self->keyboard_) {
		self->keyboard_.reset(wl_seat_get_keyboard(seat));
		wl_keyboard_add_listener(self->keyboard_.get(), &keyboardListener, self);
	} else if (!keyboard && self->keyboard_) {
		onKeyboardLeave(self, self->keyboard_.get(), 0, nullptr);
		self->keyboard_.reset();
	}
	if (touch && !self->touch_) {
		self->touch_.reset(wl_seat_get_touch(seat));
		wl_touch_add_listener(self->touch_.get(), &touchListener, self);
	} else if (!touch) {
		self->touch_.reset();
		self->touchOutputs_.clear();
	}
}

NestedOutput *NestedBackend::outputOf(wl_surface *surface) const
{
	for (const auto &output : outputs_) {
		if (surface && output->surface() == surface)
			return output.get();
	}
	return nullptr;
}

void NestedBackend::toGlobal(const NestedOutput *output, wl_fixed_t x, wl_fixed_t y,
			     double *gx, double *gy) const
{
	*gx = output->x() + wl_fixed_to_double(x);
	*gy = output->y() + wl_fixed_to_double(y);
}

void NestedBackend::onPointerEnter(void *data, wl_pointer *pointer, uint32_t serial,
				   wl_surface *surface, wl_fixed_t x, wl_fixed_t y)
{
	auto *self = static_cast<NestedBackend *>(data);
	self->pointerOutput_ = self->outputOf(surface);
	/* heapcomp draws its clients' cursors into the frame: no second one above. */
	wl_pointer_set_cursor(pointer, serial, nullptr, 0, 0);
	onPointerMotion(data, pointer, monotonicMs(), x, y);
}

void NestedBackend::onPointerMotion(void *data, wl_pointer *, uint32_t time, wl_fixed_t x,
				    wl_fixed_t y)
{
	auto *self = static_cast<NestedBackend *>(data);
	InputSink *sink = self->inputSink();
	if (!sink || !self->pointerOutput_)
		return;
	double gx, gy;
	self->toGlobal(self->pointerOutput_, x, y, &gx, &gy);
	sink->pointerMotion(gx, gy, time);
}

void NestedBackend::onPointerButton(void *data, wl_pointer *, uint32_t, uint32_t time,
				    uint32_t button, uint32_t state)
{
	auto *self = static_cast<NestedBackend *>(data);
	if (InputSink *sink = self->inputSink())
		sink->pointerButton(button, state == WL_POINTER_BUTTON_STATE_PRESSED, time);
}

void NestedBackend::onPointerAxis(void *data, wl_pointer *, uint32_t time, uint32_t axis,
				  wl_fixed_t value)
{
	PendingAxis &pending =
		static_cast<NestedBackend *>(data)->axes_[axis == WL_POINTER_AXIS_HORIZONTAL_SCROLL];
	pending.scrolled = true;
	pending.value += wl_fixed_to_double(value);
	pending.timeMs = time;
}

void NestedBackend::sendAxes()
{
	InputSink *sink = inputSink();
	for (int horizontal = 0; horizontal < 2; horizontal++) {
		PendingAxis &pending = axes_[horizontal];
		PointerAxis scroll;
		scroll.horizontal = horizontal;
		scroll.source = axisSource_;
		if (sink && pending.scrolled) {
			scroll.value = pending.value;
			scroll.value120 = pending.clicks * 120;
			sink->pointerAxis(scroll, pending.timeMs);
		}
		if (sink && pending.stopped) {
			scroll.value = 0;
			scroll.value120 = 0;
			if (scroll.stops())
				sink->pointerAxis(scroll, pending.timeMs);
		}
		pending = {};
	}
	axisSource_ = PointerAxis::Source::Wheel;
}

void NestedBackend::onKey(void *data, wl_keyboard *, uint32_t, uint32_t time, uint32_t key,
			  uint32_t state)
{
	auto *self = static_cast<NestedBackend *>(data);
	const bool pressed = state == WL_KEYBOARD_KEY_STATE_PRESSED;
	if (pressed)
		self->keysDown_.insert(key);
	else
		self->keysDown_.erase(key);
	if (InputSink *sink = self->inputSink())
		sink->key(key, pressed, time);
}

void NestedBackend::onKeyboardLeave(void *data, wl_keyboard *, uint32_t, wl_surface *)
{
	auto *self = static_cast<NestedBackend *>(data);
	/* Releases the host will not send us: no key stays down inside. */
	std::set<uint32_t> keys = std::move(self->keysDown_);
	self->keysDown_.clear();
	InputSink *sink = self->inputSink();
	for (uint32_t key : keys) {
		if (sink)
			sink->key(key, false, monotonicMs());
	}
}

void NestedBackend::onTouchDown(void *data, wl_touch *, uint32_t, uint32_t time,
				wl_surface *surface, int32_t id, wl_fixed_t x, wl_fixed_t y)
{
	auto *self = static_cast<NestedBackend *>(data);
	NestedOutput *output = self->outputOf(surface);
	InputSink *sink = self->inputSink();
	if (!output || !sink)
		return;
	self->touchOutputs_[id] = output;
	double gx, gy;
	self->toGlobal(output, x, y, &gx, &gy);
	sink->touchDown(id, gx, gy, time);
}

void NestedBackend::onTouchUp(void *data, wl_touch *, uint32_t, uint32_t time, int32_t id)
{
	auto *self = static_cast<NestedBackend *>(data);
	InputSink *sink = self->inputSink();
	if (self->touchOutputs_.erase(id) && sink)
		sink->touchUp(id, time);
}

void NestedBackend::onTouchMotion(void *data, wl_touch *, uint32_t time, int32_t id,
				  wl_fixed_t x, wl_fixed_t y)
{
	auto *self = static_cast<NestedBackend *>(data);
	auto it = self->touchOutputs_.find(id);
	InputSink *sink = self->inputSink();
	if (it == self->touchOutputs_.end() || !sink)
		return;
	double gx, gy;
	self->toGlobal(it->second, x, y, &gx, &gy);
	sink->touchMotion(id, gx, gy, time);
}

/*
 * The host's events, read and dispatched from heapcomp's event loop;
 * what handling them queued for the host is flushed before returning.
 */
int NestedBackend::onHostEvent(int, uint32_t mask, void *data)
{
	auto *self = static_cast<NestedBackend *>(data);
	wl_display *host = self->host_.get();
	if (mask & WL_EVENT_READABLE) {
		/* -1: events are queued already; they are dispatched below. */
		if (wl_display_prepare_read(host) == 0 && wl_display_read_events(host) < 0) {
			self->lost(strerror(errno));
			return 0;
		}
	}
	if (wl_display_dispatch_pending(host) < 0) {
		self->lost(strerror(errno));
		return 0;
	}
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		self->lost("the host closed the connection");
		return 0;
	}
	self->flush();
	return 0;
}

void NestedBackend::flush()
{
	if (!connected())
		return;
	const bool drained = wl_display_flush(host_.get()) >= 0;
	if (!drained && errno != EAGAIN) {
		lost(strerror(errno));
		return;
	}
	/* A full socket: wait until it takes more, then flush the rest. */
	if (hostSource_ && writable_ == drained) {
		writable_ = !drained;
		wl_event_source_fd_update(hostSource_.get(),
					  WL_EVENT_READABLE | (writable_ ? WL_EVENT_WRITABLE : 0));
	}
}

void NestedBackend::lost(const std::string &why)
{
	if (lost_)
		return;
	lost_ = true;
	std::string detail = why;
	const wl_interface *interface = nullptr;
	uint32_t id = 0;
	if (wl_display_get_error(host_.get()) == EPROTO) {
		uint32_t code = wl_display_get_protocol_error(host_.get(), &interface, &id);
		detail = "protocol error " + std::to_string(code) + " on " +
			 (interface ? interface->name : "?") + "@" + std::to_string(id);
	}
	LOG_ERROR("lost the host compositor at WAYLAND_DISPLAY=%s: %s; stopping",
		  hostName_.c_str(), detail.c_str());
	/* Removing the source from its own callback is safe: the loop frees it later. */
	hostSource_.reset();
	requestStop(true);
}

void NestedBackend::windowClosed(const NestedOutput &output)
{
	LOG_INFO("the host closed the window of %s: stopping", output.name().c_str());
	requestStop(false);
}

} /* namespace comp */
