/* SPDX-License-Identifier: MIT */
#include "backend/headless/headless_backend.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>

#include <drm_fourcc.h>
#include <wayland-server-core.h>

#include <bufmgr/clock.h>

#include "backend/output_swapchain.h"
#include "backend/render_device.h"
#include "backend/scanout_memory.h"
#include "log.h"
#include "render/renderer.h"
#include "scene/screenshot.h"
#include "surface.h"

namespace comp {

uint32_t monotonicMs()
{
	return static_cast<uint32_t>(bufmgr::clockNs() / 1000000ull);
}

namespace {

/* A time long past: a timer set to it fires in the event loop's next round. */
constexpr uint64_t kAtOnceNs = 1;

struct timespec toTimespec(uint64_t ns)
{
	struct timespec ts;
	ts.tv_sec = static_cast<time_t>(ns / 1000000000ull);
	ts.tv_nsec = static_cast<long>(ns % 1000000000ull);
	return ts;
}

} /* namespace */

HeadlessOutput::HeadlessOutput(HeadlessBackend &backend, std::string name,
			       const HeadlessConfig &config)
	: backend_(backend), name_(std::move(name))
{
	mode_.width = config.width;
	mode_.height = config.height;
	mode_.refreshMilliHz = config.refreshMilliHz;
	directScanout_ = config.directScanout;
	overlayPlanes_ = config.overlayPlanes;
	overlayPlanesBlend_ = config.overlayPlanesBlend;
	periodNs_ = 1000000000000ull / config.refreshMilliHz;
	clock_ = config.frameClock;
	description_ = "heapcomp headless output " + std::to_string(mode_.width) + "x" +
		       std::to_string(mode_.height);
}

HeadlessOutput::~HeadlessOutput()
{
	/* The slots go with the swapchain; nothing reads them any more. */
	timerSource_.reset();
}

Result<void> HeadlessOutput::resize(uint32_t width, uint32_t height)
{
	if (auto ret = resizeOutputSwapchain(*swapchain_, width, height); !ret)
		return ret;
	mode_.width = width;
	mode_.height = height;
	return {};
}

Result<void> HeadlessOutput::init(wl_event_loop *loop)
{
	bufmgr::BufferManager &manager = backend_.bufferManager();
	/*
	 * A display that needs contiguous memory gets scanout memory (CMA
	 * first); otherwise any render-capable memory will do.
	 */
	const bufmgr::SwapchainConfig config = outputSwapchainConfig(
		mode_, backend_.requiresContiguousScanout() ? bufmgr::Usage::Scanout
							    : bufmgr::Usage::Render,
		"headless-" + name_);
	/*
	 * The renderer draws into these buffers and the CPU reads them back
	 * for screenshots: any render-capable memory does, and plain memfds
	 * where no dma-buf source exists.
	 */
	auto allocate = [this, &manager](const bufmgr::AllocationRequest &request)
		-> Result<bufmgr::Buffer> {
		auto buffer = manager.allocate(request);
		if (!buffer) {
			bufmgr::AllocationRequest cpu = request;
			cpu.usage = bufmgr::Usage::Cpu;
			LOG_DEBUG("%s: no render memory (%s), using CPU memory",
				  name_.c_str(), buffer.error().message().c_str());
			buffer = manager.allocate(cpu);
		}
		if (buffer && bufferSource_ != buffer->source()) {
			bufferSource_ = buffer->source();
			LOG_INFO("%s: output buffers from %s", name_.c_str(),
				 bufferSource_.c_str());
		}
		return buffer;
	};
	/* Every buffer now: clients exhausting CMA later cannot starve the output. */
	auto swapchain = createOutputSwapchain(backend_, config, allocate);
	if (!swapchain)
		return bufmgr::unexpected(std::move(swapchain).error());
	swapchain_ = std::move(*swapchain);
	LOG_INFO("%s: %zu output buffers of %ux%u reserved from %s", name_.c_str(),
		 swapchain_->numAllocated(), mode_.width, mode_.height, bufferSource_.c_str());

	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return bufmgr::unexpected(errno, "timerfd_create for " + name_);
	timerFd_ = bufmgr::UniqueFd(fd);
	timerSource_.reset(wl_event_loop_add_fd(loop, timerFd_.get(), WL_EVENT_READABLE,
						&HeadlessOutput::onTimer, this));
	if (!timerSource_)
		return bufmgr::unexpected(ENOMEM, "frame clock source for " + name_);
	epochNs_ = bufmgr::clockNs();
	return {};
}

uint64_t HeadlessOutput::nextTickNs(uint64_t nowNs) const
{
	uint64_t periods = (nowNs - epochNs_ + periodNs_ - 1) / periodNs_;
	uint64_t next = epochNs_ + periods * periodNs_;
	/* One frame per refresh: never present twice at one tick. */
	while (next <= lastPresentedNs_)
		next += periodNs_;
	return next;
}

bool HeadlessOutput::armTimer(uint64_t whenNs, uint64_t intervalNs)
{
	struct itimerspec spec = {};
	spec.it_value = toTimespec(whenNs);
	spec.it_interval = toTimespec(intervalNs);
	if (timerfd_settime(timerFd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) < 0) {
		LOG_ERROR("%s: timerfd_settime: %s", name_.c_str(), strerror(errno));
		return false;
	}
	return true;
}

void HeadlessOutput::scheduleFrame()
{
	if (armed_)
		return;
	switch (clock_) {
	case FrameClock::Refresh:
		/*
		 * The timer ticks every refresh while frames keep coming, so a
		 * client drawing on every frame costs no system call to set it.
		 */
		if (!ticking_) {
			if (!armTimer(nextTickNs(bufmgr::clockNs()), periodNs_))
				return;
			ticking_ = true;
		}
		break;
	case FrameClock::Idle:
		/*
		 * Not an idle source: those run before the loop sleeps but
		 * after it flushed the clients, so the frame's events would
		 * wait for the next wakeup.
		 */
		if (!armTimer(kAtOnceNs))
			return;
		break;
	case FrameClock::Manual:
		break;
	}
	armed_ = true;
}

bool HeadlessOutput::stepFrame()
{
	if (clock_ != FrameClock::Manual || !armed_)
		return false;
	return armTimer(kAtOnceNs);
}

int HeadlessOutput::onTimer(int fd, uint32_t, void *data)
{
	auto *self = static_cast<HeadlessOutput *>(data);
	uint64_t expirations;
	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return 0;
	if (self->clock_ == FrameClock::Refresh) {
		/* The refresh that just went: the latest tick, however many passed. */
		const uint64_t now = bufmgr::clockNs();
		const uint64_t tick =
			self->epochNs_ + (now - self->epochNs_) / self->periodNs_ * self->periodNs_;
		/* A tick with no frame to show: the timer stops until one is asked for. */
		if (!self->armed_ || tick <= self->lastPresentedNs_) {
			if (!self->armed_ && self->armTimer(0, 0))
				self->ticking_ = false;
			return 0;
		}
		self->lastTickNs_ = tick;
	} else {
		/* A stepped clock has no ticks: the frame shows when it runs. */
		self->lastTickNs_ = bufmgr::clockNs();
	}
	self->armed_ = false;
	self->inTick_ = true;
	self->frame();
	self->inTick_ = false;
	return 0;
}

Result<std::optional<OutputFrame>> HeadlessOutput::beginFrame()
{
	return acquireOutputFrame(*swapchain_);
}

bool HeadlessOutput::refuse(std::string why, bool ofBuffer) const
{
	refusal_ = std::move(why);
	refusalOfBuffer_ = ofBuffer;
	return false;
}

bool HeadlessOutput::testLayers(const OutputState &state) const
{
	if (!directScanout_)
		return refuse("direct scanout is off");
	if (state.layers.size() > overlayPlanes_)
		return refuse("no free overlay plane");
	/* Over a client buffer on the primary plane (nothing composed), or over a composed frame. */
	if (state.scanout && (state.frame || !primaryTakes(*state.scanout.get())))
		return refuse("its primary plane cannot show the buffer below it");
	if (!state.scanout && !state.frame && !front_)
		return refuse("no composed frame to show it over yet");
	const Rect output{ 0, 0, int32_t(mode_.width), int32_t(mode_.height) };
	for (const PlaneLayer &layer : state.layers) {
		const ClientBuffer &buffer = *layer.buffer.get();
		if (layer.destination.width != int32_t(buffer.width()) ||
		    layer.destination.height != int32_t(buffer.height()))
			return refuse("scaled");
		if (!output.contains(layer.destination))
			return refuse("partly off the output");
		if (!isScreenshotFormat(buffer.format()))
			return refuse("format not supported by the overlay planes", true);
		if (!backend_.canScanOutMemory(buffer))
			return refuse("memory from " + buffer.exporter() + " is not contiguous", true);
	}
	refusal_.clear();
	refusalOfBuffer_ = false;
	return true;
}

bool HeadlessOutput::test(const OutputState &state) const
{
	if (!state.layers.empty())
		return testLayers(state);
	if (!state.scanout)
		return state.frame.has_value() || (state.keepPrimary && front_);
	return directScanout_ && !state.frame && primaryTakes(*state.scanout.get());
}

bool HeadlessOutput::primaryTakes(const ClientBuffer &buffer) const
{
	/* Like a primary plane: the whole output, in a format screenshots read. */
	return buffer.width() == mode_.width && buffer.height() == mode_.height &&
	       isScreenshotFormat(buffer.format()) && backend_.canScanOutMemory(buffer);
}

Result<void> HeadlessOutput::commit(OutputState state)
{
	if (!test(state))
		return bufmgr::unexpected(EINVAL, name_ + ": commit of a state test() refuses");
	/* The previous buffers leave the (virtual) screen. */
	layers_ = std::move(state.layers);
	if (state.keepPrimary && !state.frame && !state.scanout) {
		presentNow();
		return {};
	}
	if (front_)
		swapchain_->release(front_);
	front_ = nullptr;
	scanout_ = std::move(state.scanout);
	if (state.frame) {
		/* A virtual screen shows the frame at once: once it is drawn. */
		if (auto drawn = waitForSyncFile(state.frame->renderDone.get()); !drawn)
			LOG_WARNING("%s: %s", name_.c_str(), drawn.error().message().c_str());
		auto *slot = static_cast<bufmgr::SwapchainSlot *>(state.frame->backendData);
		swapchain_->submit(slot);
		front_ = slot;
	}
	presentNow();
	return {};
}

void HeadlessOutput::skipFrame()
{
	presentNow();
}

void HeadlessOutput::presentNow()
{
	/* Outside a tick (a forced repaint) the frame shows now. */
	uint64_t when = inTick_ ? lastTickNs_ : bufmgr::clockNs();
	if (when <= lastPresentedNs_)
		when = lastPresentedNs_ + 1;
	lastPresentedNs_ = when;

	PresentInfo info;
	info.time = toTimespec(when);
	info.sequence = (when - epochNs_) / periodNs_;
	info.refreshNs = static_cast<uint32_t>(periodNs_);
	/* No vblank and no hardware clock; a client buffer shown as it is. */
	info.flags = scanout_ || !layers_.empty() ? uint32_t(PresentZeroCopy) : 0u;
	presented(info);
}

void HeadlessOutput::rollback(const OutputFrame &frame)
{
	swapchain_->rollback(static_cast<bufmgr::SwapchainSlot *>(frame.backendData));
}

std::vector<Output::ShownLayer> HeadlessOutput::frontLayers() const
{
	std::vector<ShownLayer> shown;
	for (const PlaneLayer &layer : layers_)
		shown.push_back({ layer.buffer.get(), layer.destination });
	return shown;
}

const bufmgr::Buffer *HeadlessOutput::frontBuffer() const
{
	return front_ ? &front_->buffer() : nullptr;
}

HeadlessBackend::HeadlessBackend(wl_event_loop *loop, bufmgr::BufferManager &manager,
				 HeadlessConfig config, BufferDropHook dropHook)
	: Backend(manager, std::move(dropHook)), loop_(loop), config_(config)
{
}

HeadlessBackend::~HeadlessBackend() = default;

Result<void> HeadlessBackend::start()
{
	if (config_.width == 0 || config_.height == 0 || config_.width > 16384 ||
	    config_.height > 16384)
		return bufmgr::unexpected(EINVAL, "headless output size " +
					  std::to_string(config_.width) + "x" +
					  std::to_string(config_.height));
	if (config_.refreshMilliHz < 1000 || config_.refreshMilliHz > 1000000)
		return bufmgr::unexpected(EINVAL, "headless refresh " +
					  std::to_string(config_.refreshMilliHz) + " mHz");
	for (uint32_t i = 0; i < std::max<uint32_t>(config_.numOutputs, 1); i++) {
		auto output = makeOutput();
		if (!output)
			return bufmgr::unexpected(std::move(output).error());
		outputs_.push_back(std::move(*output));
	}
	if (config_.renderNode.empty()) {
		mainDevice_ = firstRenderDevice();
	} else {
		auto device = renderDeviceAt(config_.renderNode);
		if (!device)
			return bufmgr::unexpected(std::move(device).error());
		mainDevice_ = *device;
	}
	return {};
}

std::optional<ScanoutTranche> HeadlessBackend::scanoutTranche(const Surface &surface) const
{
	if (!config_.directScanout)
		return std::nullopt;
	bool candidate = std::any_of(outputs_.begin(), outputs_.end(), [&](const auto &output) {
		return output->scanoutCandidate() == surface.id();
	});
	if (!candidate)
		return std::nullopt;
	ScanoutTranche tranche;
	tranche.device = mainDevice_.value_or(0);
	for (uint32_t format : { DRM_FORMAT_XRGB8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_XBGR8888,
				 DRM_FORMAT_ABGR8888 })
		tranche.formats.push_back({ format, DRM_FORMAT_MOD_LINEAR });
	return tranche;
}

std::vector<std::string>
HeadlessBackend::scanoutHeaps(const std::vector<bufmgr::HeapInfo> &heaps) const
{
	return scanoutHeapOrder(heaps, config_.scanoutRequiresContiguous);
}

bool HeadlessBackend::canScanOutMemory(const ClientBuffer &buffer) const
{
	return !config_.scanoutRequiresContiguous || isContiguousMemory(bufferManager().heaps(), buffer);
}

std::vector<Output *> HeadlessBackend::outputs() const
{
	std::vector<Output *> list;
	for (const auto &output : outputs_)
		list.push_back(output.get());
	return list;
}

Result<std::unique_ptr<HeadlessOutput>> HeadlessBackend::makeOutput()
{
	/* The lowest number free: a display plugged in again gets its name back. */
	uint32_t number = 1;
	auto taken = [&](uint32_t n) {
		return std::any_of(outputs_.begin(), outputs_.end(), [&](const auto &output) {
			return output->name() == "HEADLESS-" + std::to_string(n);
		});
	};
	while (taken(number))
		number++;
	auto output = std::make_unique<HeadlessOutput>(*this, "HEADLESS-" + std::to_string(number),
						       config_);
	if (auto ret = output->init(loop_); !ret)
		return bufmgr::unexpected(std::move(ret).error());
	/* Side by side, left to right. */
	int32_t x = 0;
	for (const auto &other : outputs_)
		x = std::max(x, other->x() + int32_t(other->mode().width));
	output->setPosition(x, 0);
	return output;
}

Result<void> HeadlessBackend::addOutput()
{
	auto output = makeOutput();
	if (!output)
		return bufmgr::unexpected(std::move(output).error());
	HeadlessOutput *raw = output->get();
	outputs_.push_back(std::move(*output));
	outputAdded(*raw);
	return {};
}

bool HeadlessBackend::removeOutput(size_t index)
{
	if (index >= outputs_.size() || outputs_.size() == 1)
		return false;
	std::unique_ptr<HeadlessOutput> gone = std::move(outputs_[index]);
	outputs_.erase(outputs_.begin() + ptrdiff_t(index));
	outputRemoved(*gone);
	return true;
}

Result<void> HeadlessBackend::resizeOutput(size_t index, uint32_t width, uint32_t height)
{
	if (index >= outputs_.size())
		return bufmgr::unexpected(EINVAL, "no output " + std::to_string(index));
	HeadlessOutput &output = *outputs_[index];
	const Output::Mode old = output.mode();
	if (auto ret = output.resize(width, height); !ret)
		return ret;
	outputResized(output, old);
	return {};
}

size_t HeadlessBackend::stepFrames()
{
	size_t stepped = 0;
	for (const auto &output : outputs_)
		stepped += output->stepFrame();
	return stepped;
}

void HeadlessBackend::injectPointerMotion(double x, double y)
{
	if (inputSink())
		inputSink()->pointerMotion(x, y, monotonicMs());
}

void HeadlessBackend::injectPointerButton(uint32_t button, bool pressed)
{
	if (inputSink())
		inputSink()->pointerButton(button, pressed, monotonicMs());
}

void HeadlessBackend::injectPointerAxis(bool horizontal, double value)
{
	PointerAxis axis;
	axis.horizontal = horizontal;
	axis.value = value;
	injectPointerAxis(axis);
}

void HeadlessBackend::injectPointerAxis(const PointerAxis &axis)
{
	if (inputSink())
		inputSink()->pointerAxis(axis, monotonicMs());
}

void HeadlessBackend::injectKey(uint32_t key, bool pressed)
{
	if (inputSink())
		inputSink()->key(key, pressed, monotonicMs());
}

void HeadlessBackend::injectTouchDown(int32_t id, double x, double y)
{
	if (inputSink() && config_.touch)
		inputSink()->touchDown(id, x, y, monotonicMs());
}

void HeadlessBackend::injectTouchMotion(int32_t id, double x, double y)
{
	if (inputSink() && config_.touch)
		inputSink()->touchMotion(id, x, y, monotonicMs());
}

void HeadlessBackend::injectTouchUp(int32_t id)
{
	if (inputSink() && config_.touch)
		inputSink()->touchUp(id, monotonicMs());
}

void HeadlessBackend::injectTouchShape(int32_t id, double major, double minor)
{
	if (inputSink() && config_.touch)
		inputSink()->touchShape(id, major, minor);
}

void HeadlessBackend::injectTouchOrientation(int32_t id, double degrees)
{
	if (inputSink() && config_.touch)
		inputSink()->touchOrientation(id, degrees);
}

void HeadlessBackend::injectTouchFrame()
{
	if (inputSink() && config_.touch)
		inputSink()->touchFrame();
}

void HeadlessBackend::injectTouchCancel()
{
	if (inputSink() && config_.touch)
		inputSink()->touchCancel();
}

} /* namespace comp */
