/* SPDX-License-Identifier: MIT */
#include "ui/overlay.h"

#include <time.h>

#include <algorithm>

#include <imgui.h>
#include <xkbcommon/xkbcommon-keysyms.h>

#include "log.h"
#include "protocols/seat.h"
#include "render/gles_renderer.h"
#include "render/renderer_choice.h"
#include "server.h"
#include "ui/overlay_panels.h"

namespace comp {

namespace {

constexpr int32_t kMargin = 8;

/* The whole process's: a software GL rasterizes on threads of its own. */
uint64_t processCpuNs()
{
	timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
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
	ImGui::StyleColorsDark();
	ImGuiStyle &style = ImGui::GetStyle();
	style.WindowRounding = 4.0f;
	/* Lines as polygons: textured ones need bilinear filtering, which the CPU path has not. */
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
	server.setOverlay(overlay.get());
	if (overlay->config_.shown)
		overlay->setShown(true);
	return overlay;
}

Overlay::Overlay(Server &server, OverlayConfig config)
	: server_(server), config_(std::move(config))
{
}

Overlay::~Overlay()
{
	if (keyBound_)
		server_.seat().setKeyBinding({});
	server_.setOverlay(nullptr);
	timer_.reset();
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
	return image;
}

bool Overlay::isToggleKey(uint32_t keysym, uint32_t modifiers)
{
	return keysym == XKB_KEY_F12 && (modifiers & Seat::ModLogo);
}

void Overlay::bindToggleKey()
{
	server_.seat().setKeyBinding([this](uint32_t keysym, uint32_t modifiers) {
		if (!isToggleKey(keysym, modifiers))
			return false;
		setShown(!shown_);
		return true;
	});
	keyBound_ = true;
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
		auto ret = redraw();
		if (ret && redraws_ == 1)
			ret = redraw();
		if (!ret) {
			LOG_ERROR("overlay: %s", ret.error().message().c_str());
			shown_ = false;
			return false;
		}
		wl_event_source_timer_update(timer_.get(), int(config_.period.count()));
	} else {
		shown_ = false;
		wl_event_source_timer_update(timer_.get(), 0);
	}
	LOG_INFO("overlay %s", shown ? "shown" : "hidden");
	server_.overlayChanged();
	return true;
}

void Overlay::placeOnOutput()
{
	const std::vector<Output *> &outputs = server_.backend().outputs();
	if (outputs.empty())
		return;
	const Output::Mode mode = outputs.front()->mode();
	const int32_t width = std::clamp<int32_t>(int32_t(mode.width) - 2 * kMargin, 1,
						  int32_t(config_.width));
	const uint32_t wanted = contentHeight_ ? std::min(contentHeight_, config_.height)
					       : config_.height;
	const int32_t height = std::clamp<int32_t>(int32_t(mode.height) - 2 * kMargin, 1,
						   int32_t(wanted));
	rect_ = Rect{ int32_t(mode.width) - width - kMargin, kMargin, width, height };
}

bufmgr::Result<void> Overlay::redraw()
{
	if (auto ret = start(); !ret)
		return ret;
	const uint64_t cpuStart = processCpuNs();
	placeOnOutput();

	OverlayModel model = gatherModel(server_);
	const auto now = std::chrono::steady_clock::now();
	if (redraws_ == 0 || now - cmaRead_ >= std::chrono::seconds(1)) {
		cmaAreas_ = gatherCmaAreas(config_.paths);
		cmaRead_ = now;
	}
	model.cmaAreas = cmaAreas_;
	model.overlayRedraws = redraws_;
	model.overlayLastCpuNs = lastCpuNs_;
	model.overlayTotalCpuNs = totalCpuNs_;

	ImGui::SetCurrentContext(imgui_);
	ImGuiIO &io = ImGui::GetIO();
	io.DisplaySize = ImVec2(float(rect_.width), float(rect_.height));
	const float dt = redraws_ ? std::chrono::duration<float>(now - lastFrame_).count() : 0.0f;
	io.DeltaTime = std::max(dt, 1.0f / 1000.0f);
	lastFrame_ = now;
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
	drawOverlayPanels(model, dump);
	/* The next redraw's height: what the panels took, no more. */
	contentHeight_ = uint32_t(ImGui::GetCursorPosY() + ImGui::GetStyle().WindowPadding.y);
	ImGui::End();
	ImGui::Render();

	std::vector<uint32_t> pixels;
	auto ret = renderer_->render(ImGui::GetDrawData(), uint32_t(rect_.width),
				     uint32_t(rect_.height), background_, pixels);
	if (!ret)
		return ret;
	dump_ = std::move(dump);
	/* Unchanged pixels: the output has nothing to redraw. */
	if (pixels != pixels_) {
		pixels_ = std::move(pixels);
		generation_++;
		server_.overlayChanged();
	}
	redraws_++;
	lastCpuNs_ = processCpuNs() - cpuStart;
	totalCpuNs_ += lastCpuNs_;
	return {};
}

int Overlay::onTimer(void *data)
{
	auto *overlay = static_cast<Overlay *>(data);
	if (!overlay->shown_)
		return 0;
	if (auto ret = overlay->redraw(); !ret)
		LOG_ERROR("overlay: %s", ret.error().message().c_str());
	wl_event_source_timer_update(overlay->timer_.get(), int(overlay->config_.period.count()));
	return 0;
}

} /* namespace comp */
