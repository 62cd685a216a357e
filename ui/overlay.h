/* SPDX-License-Identifier: MIT */
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <bufmgr/result.h>

#include "options.h"
#include "scene/overlay_layer.h"
#include "ui/overlay_model.h"
#include "ui/overlay_renderer.h"
#include "wayland_util.h"

struct ImGuiContext;

namespace comp {

class Server;

/* A new ImGui context, current, styled as the overlay draws. */
ImGuiContext *createOverlayImGui();

struct OverlayConfig {
	bool shown = false;
	/* How often the panels are redrawn while shown: 2 Hz. */
	std::chrono::milliseconds period{ 500 };
	/* Largest size; smaller outputs get a smaller overlay. */
	uint32_t width = 680;
	uint32_t height = 560;
	/* Who rasterizes ImGui's triangles. */
	OverlayRendererKind renderer = OverlayRendererKind::Auto;
	/* Where CMA areas are read from (tests point it elsewhere). */
	bufmgr::SystemPaths paths;
};

/*
 * The statistics overlay: Dear ImGui panels of buffer memory per heap
 * and CMA area, per client, per output and frame timing, in the top
 * right corner of the first output. While shown, it is redrawn a few
 * times a second into its own pixels and only its rectangle is damaged,
 * so the frames under it keep their cost; ImGui and its GLES context
 * are made the first time it is shown. Super+F12 shows and hides it.
 */
class Overlay : public OverlayLayer
{
public:
	static std::unique_ptr<Overlay> create(Server &server, OverlayConfig config);
	~Overlay() override;
	Overlay(const Overlay &) = delete;
	Overlay &operator=(const Overlay &) = delete;

	/* OverlayLayer */
	bool visible() const override { return shown_ && !pixels_.empty(); }
	Rect rect() const override { return rect_; }
	Image image() const override;

	/* Shows (drawing it at once) or hides; false and a log line if it cannot draw. */
	bool setShown(bool shown);
	bool shown() const { return shown_; }
	/* The key binding: Super+F12 toggles. */
	static bool isToggleKey(uint32_t keysym, uint32_t modifiers);
	/* Takes the seat's key binding for the toggle, until this goes. */
	void bindToggleKey();

	/* Draws the panels now from the current statistics. */
	bufmgr::Result<void> redraw();
	/* What the last redraw drew, one line per table row (see drawOverlayPanels()). */
	const std::vector<std::string> &dump() const { return dump_; }
	uint64_t redraws() const { return redraws_; }
	/* Who draws the panels ("cpu", "gles (...)"); empty until first shown. */
	std::string rendererName() const;

private:
	Overlay(Server &server, OverlayConfig config);
	bufmgr::Result<void> start();
	bufmgr::Result<std::unique_ptr<OverlayRenderer>> createRenderer();
	static int onTimer(void *data);
	void placeOnOutput();

	Server &server_;
	OverlayConfig config_;
	bool shown_ = false;
	bool keyBound_ = false;
	ImGuiContext *imgui_ = nullptr;
	std::unique_ptr<OverlayRenderer> renderer_;
	/* Set when ImGui or its GLES context could not start: no retry every frame. */
	std::string startError_;
	EventSource timer_;
	Rect rect_;
	/* Opaque: the overlay hides what is below it, which then costs nothing. */
	float background_[4] = { 0.06f, 0.06f, 0.06f, 1.0f };
	/* Height the panels took in the last redraw; 0: none yet. */
	uint32_t contentHeight_ = 0;
	std::vector<uint32_t> pixels_;
	uint64_t generation_ = 0;
	std::vector<std::string> dump_;
	/* CMA areas are read at most once a second: sysfs and debugfs reads. */
	std::vector<CmaRow> cmaAreas_;
	std::chrono::steady_clock::time_point cmaRead_;
	uint64_t redraws_ = 0;
	uint64_t lastCpuNs_ = 0;
	uint64_t totalCpuNs_ = 0;
	std::chrono::steady_clock::time_point lastFrame_;
};

} /* namespace comp */
