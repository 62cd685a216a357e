/* SPDX-License-Identifier: MIT */
#include "ui/overlay.h"

#include <linux/input-event-codes.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <cinttypes>
#include <utility>

#include <imgui.h>
#include <xkbcommon/xkbcommon-keysyms.h>

#include <bufmgr/clock.h>

#include "log.h"
#include "protocols/seat.h"
#include "render/gles_renderer.h"
#include "render/renderer_choice.h"
#include "server.h"
#include "stats_json.h"

namespace comp {

namespace {

constexpr int32_t kMargin = 8;
/* How often the panels are redrawn while the allocation benchmark runs. */
constexpr std::chrono::milliseconds kBenchPeriod(200);
/* Changes whose damage is kept: a plane's three buffers are at most two behind. */
constexpr size_t kDamageKept = 4;

/* ImGui's keys by evdev code: 1.86 indexes io.KeysDown with what io.KeyMap says. */
void mapKeys(ImGuiIO &io)
{
	static constexpr std::pair<ImGuiKey_, int> keys[] = {
		{ ImGuiKey_Tab, KEY_TAB },		{ ImGuiKey_LeftArrow, KEY_LEFT },
		{ ImGuiKey_RightArrow, KEY_RIGHT },	{ ImGuiKey_UpArrow, KEY_UP },
		{ ImGuiKey_DownArrow, KEY_DOWN },	{ ImGuiKey_PageUp, KEY_PAGEUP },
		{ ImGuiKey_PageDown, KEY_PAGEDOWN },	{ ImGuiKey_Home, KEY_HOME },
		{ ImGuiKey_End, KEY_END },		{ ImGuiKey_Insert, KEY_INSERT },
		{ ImGuiKey_Delete, KEY_DELETE },	{ ImGuiKey_Backspace, KEY_BACKSPACE },
		{ ImGuiKey_Space, KEY_SPACE },		{ ImGuiKey_Enter, KEY_ENTER },
		{ ImGuiKey_Escape, KEY_ESC },		{ ImGuiKey_KeyPadEnter, KEY_KPENTER },
		{ ImGuiKey_A, KEY_A },			{ ImGuiKey_C, KEY_C },
		{ ImGuiKey_V, KEY_V },			{ ImGuiKey_X, KEY_X },
		{ ImGuiKey_Y, KEY_Y },			{ ImGuiKey_Z, KEY_Z },
	};
	for (const auto &[key, code] : keys)
		io.KeyMap[key] = code;
}

} /* namespace */

ImGuiContext *createOverlayImGui()
{
	ImGuiContext *imgui = ImGui::CreateContext();
	ImGui::SetCurrentContext(imgui);
	ImGuiIO &io = ImGui::GetIO();
	/* Nothing of the overlay is kept between runs. */
	io.IniFilename = nullptr;
	io.LogFilename = nullptr;
	mapKeys(io);
	ImGui::StyleColorsDark();
	ImGuiStyle &style = ImGui::GetStyle();
	/* The overlay is a rectangle on the screen: its corners are drawn anyway. */
	style.WindowRounding = 0.0f;
	/*
	 * Borders and table lines run along the pixel grid: anti-aliasing
	 * them adds fringes a CPU raster walks row by row, for nothing. The
	 * plots turn it on for their slanted lines (drawOverlayPanels()).
	 * Lines as polygons: textured ones need bilinear filtering, which
	 * the CPU path has not.
	 */
	style.AntiAliasedLines = false;
	style.AntiAliasedLinesUseTex = false;
	/* Wide tables in a corner of a small screen. */
	style.CellPadding = ImVec2(3.0f, 1.0f);
	return imgui;
}

std::unique_ptr<Overlay> Overlay::create(Server &server, OverlayConfig config)
{
	std::unique_ptr<Overlay> overlay(new Overlay(server, std::move(config)));
	overlay->timer_ = EventSource(wl_event_loop_add_timer(server.loop(), &Overlay::onTimer,
							      overlay.get()));
	overlay->inputTimer_ = EventSource(
		wl_event_loop_add_timer(server.loop(), &Overlay::onInputTimer, overlay.get()));
	for (const bufmgr::SourceInfo &info : server.bufferManager().sources()) {
		if (info.kind != bufmgr::AllocatorKind::Memfd && !info.restricted)
			overlay->benchControls_.sources.push_back(info.source);
	}
	/* Small enough to finish in a blink on any source. */
	overlay->benchControls_.config.size = 64 << 10;
	overlay->benchControls_.config.count = 16;
	server.setOverlay(overlay.get());
	if (overlay->config_.shown)
		overlay->setShown(true);
	return overlay;
}

Overlay::Overlay(Server &server, OverlayConfig config)
	: server_(server), config_(std::move(config)), cmaReader_(config_.paths)
{
}

Overlay::~Overlay()
{
	if (keyBound_)
		server_.seat().setKeyBinding({});
	if (server_.seat().inputLayer() == this)
		server_.seat().setInputLayer(nullptr);
	server_.setOverlay(nullptr);
	timer_.reset();
	inputTimer_.reset();
	/* The backend's GL objects go while their ImGui context still exists. */
	renderer_.reset();
	if (imgui_)
		ImGui::DestroyContext(imgui_);
}

OverlayLayer::Image Overlay::image() const
{
	Image image;
	image.pixels = pixels_.data();
	image.width = uint32_t(rect_.width);
	image.height = uint32_t(rect_.height);
	image.generation = generation_;
	image.opaque = true;
	image.damage = damage_;
	return image;
}

Overlay::KeyAction Overlay::keyAction(uint32_t keysym, uint32_t modifiers)
{
	if (keysym != XKB_KEY_F12 || !(modifiers & Seat::ModLogo))
		return KeyAction::None;
	return modifiers & Seat::ModShift ? KeyAction::ToggleInteractive : KeyAction::Toggle;
}

void Overlay::bindToggleKey()
{
	server_.seat().setKeyBinding([this](uint32_t keysym, uint32_t modifiers) {
		switch (keyAction(keysym, modifiers)) {
		case KeyAction::None:
			return false;
		case KeyAction::Toggle:
			setShown(!shown_);
			return true;
		case KeyAction::ToggleInteractive:
			setInteractive(!interactive_);
			return true;
		}
		return false;
	});
	keyBound_ = true;
}

bool Overlay::setInteractive(bool interactive)
{
	if (interactive == interactive_)
		return true;
	if (interactive && !setShown(true))
		return false;
	interactive_ = interactive;
	input_.clear();
	finger_.reset();
	pointerX_ = pointerY_ = -1;
	/* ImGui draws its own cursor: no client's is shown over the overlay. */
	if (imgui_) {
		ImGui::SetCurrentContext(imgui_);
		ImGuiIO &io = ImGui::GetIO();
		io.MouseDrawCursor = interactive;
		io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
		std::fill(std::begin(io.MouseDown), std::end(io.MouseDown), false);
		std::fill(std::begin(io.KeysDown), std::end(io.KeysDown), false);
	}
	server_.seat().setInputLayer(interactive ? this : nullptr);
	LOG_INFO("overlay: interactive mode %s", interactive ? "on" : "off");
	/* The controls appear or go. */
	if (shown_) {
		if (auto ret = redrawSettled(); !ret)
			LOG_ERROR("overlay: %s", ret.error().message().c_str());
	}
	return true;
}

bool Overlay::takesInputAt(double x, double y) const
{
	/* The overlay is drawn on the first output, which sits at the origin. */
	return interactive_ && visible() && x >= rect_.x && y >= rect_.y &&
	       x < rect_.x + rect_.width && y < rect_.y + rect_.height;
}

void Overlay::queue(InputEvent event)
{
	input_.push_back(event);
	scheduleInputRedraw();
}

void Overlay::pointerMotion(double x, double y)
{
	const float lx = float(x - rect_.x), ly = float(y - rect_.y);
	/* The seat reports the pointer again whenever the scene changes. */
	if (lx == pointerX_ && ly == pointerY_)
		return;
	pointerX_ = lx;
	pointerY_ = ly;
	queue({ .kind = InputEvent::Move, .x = lx, .y = ly });
}

void Overlay::pointerButton(uint32_t button, bool pressed)
{
	uint32_t index;
	switch (button) {
	case BTN_LEFT:
		index = 0;
		break;
	case BTN_RIGHT:
		index = 1;
		break;
	case BTN_MIDDLE:
		index = 2;
		break;
	default:
		return;
	}
	queue({ .kind = InputEvent::Button, .down = pressed, .code = index });
}

void Overlay::pointerAxis(bool horizontal, double value)
{
	/* wl_pointer's 10 units a wheel step, positive down; ImGui's steps, positive up. */
	const float steps = float(-value / 10.0);
	queue({ .kind = InputEvent::Wheel, .down = horizontal, .x = steps });
}

void Overlay::pointerLeave()
{
	pointerX_ = pointerY_ = -1;
	queue({ .kind = InputEvent::Move, .x = -FLT_MAX, .y = -FLT_MAX });
}

void Overlay::key(uint32_t key, uint32_t utf32, uint32_t modifiers, bool pressed)
{
	queue({ .kind = InputEvent::Key, .down = pressed, .code = key, .modifiers = modifiers });
	/* Text: printable characters only, as ImGui's platform backends do. */
	if (pressed && utf32 >= 0x20 && utf32 != 0x7f && !(modifiers & (Seat::ModCtrl | Seat::ModLogo)))
		queue({ .kind = InputEvent::Char, .code = utf32 });
}

void Overlay::touchDown(int32_t id, double x, double y)
{
	/* One finger is ImGui's pointer; a second one does nothing. */
	if (finger_)
		return;
	finger_ = id;
	pointerMotion(x, y);
	queue({ .kind = InputEvent::Button, .down = true, .code = 0 });
}

void Overlay::touchMotion(int32_t id, double x, double y)
{
	if (finger_ == id)
		pointerMotion(x, y);
}

void Overlay::touchUp(int32_t id)
{
	if (finger_ != id)
		return;
	finger_.reset();
	queue({ .kind = InputEvent::Button, .down = false, .code = 0 });
	/* A lifted finger hovers over nothing. */
	pointerLeave();
}

void Overlay::touchCancel()
{
	if (!finger_)
		return;
	finger_.reset();
	/* Lifted away from every widget: nothing is clicked. */
	pointerLeave();
	queue({ .kind = InputEvent::Button, .down = false, .code = 0 });
}

void Overlay::applyInput()
{
	ImGuiIO &io = ImGui::GetIO();
	/*
	 * One frame sees one state per button and key: a press and its
	 * release in one frame would be no click, so a second change (and a
	 * move after a button change) waits for the next frame.
	 */
	bool buttonChanged = false;
	std::vector<uint32_t> keysChanged;
	while (!input_.empty()) {
		const InputEvent &event = input_.front();
		switch (event.kind) {
		case InputEvent::Move:
			if (buttonChanged)
				return;
			io.MousePos = ImVec2(event.x, event.y);
			break;
		case InputEvent::Button:
			if (buttonChanged)
				return;
			io.MouseDown[event.code] = event.down;
			buttonChanged = true;
			break;
		case InputEvent::Wheel:
			(event.down ? io.MouseWheelH : io.MouseWheel) += event.x;
			break;
		case InputEvent::Key:
			if (std::find(keysChanged.begin(), keysChanged.end(), event.code) !=
			    keysChanged.end())
				return;
			keysChanged.push_back(event.code);
			if (event.code < std::size(io.KeysDown))
				io.KeysDown[event.code] = event.down;
			io.KeyShift = event.modifiers & Seat::ModShift;
			io.KeyCtrl = event.modifiers & Seat::ModCtrl;
			io.KeyAlt = event.modifiers & Seat::ModAlt;
			io.KeySuper = event.modifiers & Seat::ModLogo;
			break;
		case InputEvent::Char:
			io.AddInputCharacter(event.code);
			break;
		}
		input_.pop_front();
	}
}

void Overlay::scheduleInputRedraw()
{
	/* At most once a refresh: a 1000 Hz mouse must not redraw 1000 times a second. */
	const std::vector<Output *> &outputs = server_.backend().outputs();
	const uint32_t milliHz = outputs.empty() ? 0 : outputs.front()->mode().refreshMilliHz;
	const std::chrono::milliseconds period(milliHz ? 1000000 / milliHz : 16);
	const auto since = std::chrono::steady_clock::now() - lastRedraw_;
	const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(period - since);
	/* 0 would disarm the timer: 1 ms is the soonest. */
	wl_event_source_timer_update(inputTimer_.get(), int(std::max<int64_t>(wait.count(), 1)));
}

void Overlay::outputChanged()
{
	/* At its new place at once, not at the next periodic redraw. */
	if (shown_ && wantedRect() != rect_)
		wl_event_source_timer_update(inputTimer_.get(), 1);
}

int Overlay::onInputTimer(void *data)
{
	auto *overlay = static_cast<Overlay *>(data);
	if (!overlay->shown_)
		return 0;
	if (auto ret = overlay->redraw(); !ret) {
		/* The periodic redraw tries again; input until then is dropped, not spun on. */
		LOG_ERROR("overlay: %s", ret.error().message().c_str());
		overlay->input_.clear();
		return 0;
	}
	/* What this frame could not take goes into the next. */
	if (!overlay->input_.empty())
		overlay->scheduleInputRedraw();
	return 0;
}

void Overlay::runBenchControls()
{
	BenchControls &controls = benchControls_;
	if (std::exchange(controls.start, false)) {
		auto ret = server_.allocBenchmark().start(controls.config);
		controls.status = ret ? "started" : ret.error().message();
		LOG_INFO("overlay: benchmark %s: %s", controls.config.toString().c_str(),
			 controls.status.c_str());
	}
	if (std::exchange(controls.exportJson, false)) {
		const AllocBenchProgress progress = server_.allocBenchmark().progress();
		/* heapcomp's pid: run numbers start again with each heapcomp. */
		const std::string path = config_.exportDir + "/heapcomp-bench-" +
					 std::to_string(getpid()) + "-" + std::to_string(progress.run) +
					 ".json";
		auto ret = writeFileWhole(path, server_.allocBenchmark().resultsJson() + "\n");
		controls.status = ret ? "wrote " + path : ret.error().message();
		LOG_INFO("overlay: benchmark export: %s", controls.status.c_str());
	}
}

bufmgr::Result<std::unique_ptr<OverlayRenderer>> Overlay::createRenderer()
{
	OverlayRendererKind kind = config_.renderer;
	if (kind == OverlayRendererKind::Auto) {
		/* GLES only on a GPU: on a software GL it costs more than the CPU path. */
		const auto *gles = dynamic_cast<const GlesRenderer *>(&server_.renderer());
		kind = gles && !isSoftwareGl(gles->glRenderer()) ? OverlayRendererKind::Gles
								 : OverlayRendererKind::Cpu;
	}
	if (kind == OverlayRendererKind::Cpu)
		return createCpuOverlayRenderer();
	return createGlesOverlayRenderer(imgui_);
}

std::string Overlay::rendererName() const
{
	return renderer_ ? renderer_->name() : std::string();
}

bufmgr::Result<void> Overlay::start()
{
	if (renderer_)
		return {};
	if (!startError_.empty())
		return bufmgr::unexpected(ENOTSUP, startError_);
	imgui_ = createOverlayImGui();
	const ImVec4 &bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
	background_[0] = bg.x;
	background_[1] = bg.y;
	background_[2] = bg.z;
	auto renderer = createRenderer();
	if (!renderer) {
		startError_ = renderer.error().message();
		ImGui::DestroyContext(imgui_);
		imgui_ = nullptr;
		return bufmgr::unexpected(std::move(renderer).error());
	}
	renderer_ = std::move(*renderer);
	LOG_INFO("overlay: drawn by %s", renderer_->name().c_str());
	return {};
}

bool Overlay::setShown(bool shown)
{
	if (shown == shown_)
		return true;
	if (shown) {
		if (auto ret = start(); !ret) {
			LOG_ERROR("overlay: cannot show: %s", ret.error().message().c_str());
			return false;
		}
		shown_ = true;
		/* ImGui lays a new window out over two frames: draw the first unseen. */
		auto ret = redrawSettled();
		if (!ret) {
			LOG_ERROR("overlay: %s", ret.error().message().c_str());
			shown_ = false;
			return false;
		}
		wl_event_source_timer_update(timer_.get(), int(config_.period.count()));
	} else {
		shown_ = false;
		setInteractive(false);
		wl_event_source_timer_update(timer_.get(), 0);
	}
	LOG_INFO("overlay %s", shown ? "shown" : "hidden");
	server_.overlayChanged();
	return true;
}

bufmgr::Result<void> Overlay::redrawSettled()
{
	/* ImGui lays a new window out over two frames; new content may need a new height. */
	for (int i = 0; i < 3; i++) {
		if (auto ret = redraw(); !ret)
			return ret;
		if (redraws_ > 1 && wantedRect() == rect_)
			break;
	}
	return {};
}

Rect Overlay::wantedRect() const
{
	const std::vector<Output *> &outputs = server_.backend().outputs();
	if (outputs.empty())
		return rect_;
	const Output::Mode mode = outputs.front()->mode();
	const int32_t width = std::clamp<int32_t>(int32_t(mode.width) - 2 * kMargin, 1,
						  int32_t(config_.width));
	const uint32_t wanted = contentHeight_ ? std::min(contentHeight_, config_.height)
					       : config_.height;
	const int32_t height = std::clamp<int32_t>(int32_t(mode.height) - 2 * kMargin, 1,
						   int32_t(wanted));
	return Rect{ int32_t(mode.width) - width - kMargin, kMargin, width, height };
}

bufmgr::Result<void> Overlay::redraw()
{
	if (auto ret = start(); !ret)
		return ret;
	/* The whole process's CPU: a software GL rasterizes on threads of its own. */
	const uint64_t cpuStart = bufmgr::clockNs(CLOCK_PROCESS_CPUTIME_ID);
	/* Where this redraw goes; rect_ follows with the pixels, so the two always agree. */
	const Rect next = wantedRect();

	OverlayModel model = gatherModel(server_);
	const auto now = std::chrono::steady_clock::now();
	if (redraws_ == 0 || now - cmaRead_ >= std::chrono::seconds(1)) {
		cmaAreas_ = cmaReader_.read();
		cmaRead_ = now;
		const double at = std::chrono::duration<double>(now.time_since_epoch()).count();
		for (CmaRow &area : cmaAreas_) {
			if (!area.freeBytes)
				continue;
			CmaTrend &trend = cmaTrends_[area.name];
			trend.add(at, *area.freeBytes);
			area.usedHistory = trend.usedHistory(area.totalBytes);
			area.secondsToExhaustion = trend.secondsToExhaustion();
		}
	}
	model.cmaAreas = cmaAreas_;
	const double seconds = std::chrono::duration<double>(now.time_since_epoch()).count();
	for (HeapRow &heap : model.heaps) {
		auto [previous, fresh] = allocationsSeen_.try_emplace(heap.source, seconds, heap.allocations);
		if (!fresh && seconds > previous->second.first)
			heap.allocationsPerSecond = double(heap.allocations - previous->second.second) /
						    (seconds - previous->second.first);
		previous->second = { seconds, heap.allocations };
	}
	benchTrace_.add(model.bench);
	benchRunning_ = model.bench.running;
	model.benchSeries = benchTrace_.series();
	model.overlayRedraws = redraws_;
	model.overlayLastCpuNs = lastCpuNs_;
	model.overlayTotalCpuNs = totalCpuNs_;

	const uint64_t gathered = bufmgr::clockNs(CLOCK_PROCESS_CPUTIME_ID);
	ImGui::SetCurrentContext(imgui_);
	ImGuiIO &io = ImGui::GetIO();
	io.DisplaySize = ImVec2(float(next.width), float(next.height));
	const float dt = redraws_ ? std::chrono::duration<float>(now - lastFrame_).count() : 0.0f;
	io.DeltaTime = std::max(dt, 1.0f / 1000.0f);
	lastFrame_ = now;
	applyInput();
	renderer_->newFrame();
	ImGui::NewFrame();
	ImGui::SetNextWindowPos(ImVec2(0, 0));
	ImGui::SetNextWindowSize(io.DisplaySize);
	/* The background is the renderer's clear colour: ImGui draws none. */
	ImGui::SetNextWindowBgAlpha(0.0f);
	std::vector<std::string> dump;
	ImGui::Begin("heapcomp", nullptr,
		     ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoMove |
			     ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoSavedSettings |
			     ImGuiWindowFlags_NoFocusOnAppearing);
	drawOverlayPanels(model, config_.keepDump ? &dump : nullptr,
			  interactive_ ? &benchControls_ : nullptr);
	/* The next redraw's height: what the panels took, no more. */
	contentHeight_ = uint32_t(ImGui::GetCursorPosY() + ImGui::GetStyle().WindowPadding.y);
	ImGui::End();
	ImGui::Render();
	runBenchControls();
	lastRedraw_ = now;

	/* Drawn again where the panels changed; the outputs copy what image() gives them. */
	const uint64_t laidOut = bufmgr::clockNs(CLOCK_PROCESS_CPUTIME_ID);
	auto changed = renderer_->render(ImGui::GetDrawData(), uint32_t(next.width),
					 uint32_t(next.height), background_, pixels_);
	if (!changed)
		return bufmgr::unexpected(std::move(changed).error());
	const uint64_t drawn = bufmgr::clockNs(CLOCK_PROCESS_CPUTIME_ID);
	LOG_DEBUG("overlay redraw %dx%d: statistics %" PRIu64 " us, layout %" PRIu64
		  " us, pixels %" PRIu64 " us%s",
		  next.width, next.height, (gathered - cpuStart) / 1000, (laidOut - gathered) / 1000,
		  (drawn - laidOut) / 1000, changed->isEmpty() ? " (unchanged)" : "");
	dump_ = std::move(dump);
	/* Unchanged pixels: the output has nothing to redraw. */
	const bool moved = next != rect_;
	if (!changed->isEmpty() || moved) {
		/* A plane's copy of the image takes only the damage of the changes it missed. */
		const bool resized = next.width != rect_.width || next.height != rect_.height;
		damage_.insert(damage_.begin(), resized ? Rect{ 0, 0, next.width, next.height } : *changed);
		damage_.resize(std::min(damage_.size(), kDamageKept));
		rect_ = next;
		generation_++;
		server_.overlayChanged();
		/* A pointer standing still may be over it now, or no longer. */
		if (moved && interactive_)
			server_.seat().updatePointerFocus();
	}
	redraws_++;
	lastCpuNs_ = bufmgr::clockNs(CLOCK_PROCESS_CPUTIME_ID) - cpuStart;
	totalCpuNs_ += lastCpuNs_;
	/* The panels grew or shrank: show them at their new height soon, not in half a second. */
	if (wantedRect() != rect_)
		wl_event_source_timer_update(inputTimer_.get(), 1);
	return {};
}

int Overlay::onTimer(void *data)
{
	auto *overlay = static_cast<Overlay *>(data);
	if (!overlay->shown_)
		return 0;
	if (auto ret = overlay->redraw(); !ret)
		LOG_ERROR("overlay: %s", ret.error().message().c_str());
	/* A benchmark under way is plotted live: five points a second, the most the overlay redraws. */
	const auto period = overlay->benchRunning_ ? std::min(overlay->config_.period, kBenchPeriod)
						   : overlay->config_.period;
	wl_event_source_timer_update(overlay->timer_.get(), int(period.count()));
	return 0;
}

} /* namespace comp */
