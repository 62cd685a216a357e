/* SPDX-License-Identifier: MIT */
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <bufmgr/result.h>

#include "options.h"
#include "protocols/seat.h"
#include "scene/overlay_layer.h"
#include "ui/overlay_model.h"
#include "ui/overlay_panels.h"
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
	uint32_t height = 680;
	/* Who rasterizes ImGui's triangles. */
	OverlayRendererKind renderer = OverlayRendererKind::Auto;
	/* Where CMA areas are read from (tests point it elsewhere). */
	bufmgr::SystemPaths paths;
	/* Where the benchmark panel's Export writes (heapcomp-bench-<pid>-<run>.json). */
	std::string exportDir = ".";
	/* Keep what each redraw drew as text (dump()), for tests: the strings cost every redraw. */
	bool keepDump = false;
};

/*
 * The statistics overlay: Dear ImGui panels of buffer memory per heap
 * and CMA area, per client, per output and frame timing, in the top
 * right corner of the first output. While shown, it is redrawn a few
 * times a second into its own pixels and only its rectangle is damaged,
 * so the frames under it keep their cost; ImGui and its GLES context
 * are made the first time it is shown. Super+F12 shows and hides it.
 *
 * In interactive mode (Super+Shift+F12) it is also an InputLayer: the
 * pointer over it, fingers on it and then the keyboard drive its
 * widgets (the benchmark panel's controls), clients get the rest, and
 * it redraws at once on input, at most once a refresh.
 */
class Overlay : public OverlayLayer, public InputLayer
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
	Cost cost() const override { return { redraws_, totalCpuNs_ }; }
	void outputChanged() override;

	/* InputLayer, while interactive */
	bool takesInputAt(double x, double y) const override;
	void pointerMotion(double x, double y) override;
	void pointerButton(uint32_t button, bool pressed) override;
	void pointerAxis(bool horizontal, double value) override;
	void pointerLeave() override;
	void key(uint32_t key, uint32_t utf32, uint32_t modifiers, bool pressed) override;
	void touchDown(int32_t id, double x, double y) override;
	void touchMotion(int32_t id, double x, double y) override;
	void touchUp(int32_t id) override;
	void touchCancel() override;

	/* Shows (drawing it at once) or hides; false and a log line if it cannot draw. */
	bool setShown(bool shown) override;
	bool shown() const { return shown_; }
	/* Interactive mode on (showing it) or off; hiding it turns it off too. */
	bool setInteractive(bool interactive);
	bool interactive() const { return interactive_; }
	/* The key bindings: Super+F12 shows or hides, Super+Shift+F12 turns interactive mode on or off. */
	enum class KeyAction { None, Toggle, ToggleInteractive };
	static KeyAction keyAction(uint32_t keysym, uint32_t modifiers);
	/* Takes the seat's key binding for these, until this goes. */
	void bindToggleKey();
	/* The benchmark panel's controls and the outcome of their last use. */
	const BenchControls &benchControls() const { return benchControls_; }

	/* Draws the panels now from the current statistics. */
	bufmgr::Result<void> redraw();
	/* With keepDump, what the last redraw drew, one line per table row (see drawOverlayPanels()). */
	const std::vector<std::string> &dump() const { return dump_; }
	uint64_t redraws() const { return redraws_; }
	/* Who draws the panels ("cpu", "gles (...)"); empty until first shown. */
	std::string rendererName() const;

private:
	Overlay(Server &server, OverlayConfig config);
	bufmgr::Result<void> start();
	bufmgr::Result<std::unique_ptr<OverlayRenderer>> createRenderer();
	static int onTimer(void *data);
	/* Input, or a new height, waits for a redraw. */
	static int onInputTimer(void *data);
	/* Where the overlay goes: the top right of the first output, as tall as its panels. */
	Rect wantedRect() const;
	/* Redraws until the layout and the height stop changing (a few frames at most). */
	bufmgr::Result<void> redrawSettled();
	/* Feeds queued input to ImGui up to the first change it would merge with one before. */
	void applyInput();
	/* A redraw for new input: at once, or when a refresh has passed since the last. */
	void scheduleInputRedraw();
	/* Starts or exports what the benchmark panel asked for. */
	void runBenchControls();

	/* Input for ImGui, in the overlay's pixels; ImGui 1.86 reads state, not events. */
	struct InputEvent {
		enum Kind : uint8_t { Move, Button, Wheel, Key, Char } kind;
		bool down = false;
		float x = 0, y = 0;	/* Move: position; Wheel: steps */
		uint32_t code = 0;	/* Button: ImGui's index; Key: evdev code; Char: UTF-32 */
		uint32_t modifiers = 0;
	};
	void queue(InputEvent event);

	Server &server_;
	OverlayConfig config_;
	bool shown_ = false;
	bool interactive_ = false;
	bool keyBound_ = false;
	EventSource inputTimer_;
	std::deque<InputEvent> input_;
	/* The finger that drives ImGui's pointer; others are ignored. */
	std::optional<int32_t> finger_;
	/* Last queued pointer position, to drop repeats. */
	float pointerX_ = -1, pointerY_ = -1;
	BenchControls benchControls_;
	std::chrono::steady_clock::time_point lastRedraw_;
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
	/* What the last few changes touched, newest first (Image::damage). */
	std::vector<Rect> damage_;
	std::vector<std::string> dump_;
	/* CMA areas are read at most once a second: sysfs and debugfs reads. */
	CmaAreaReader cmaReader_;
	std::vector<CmaRow> cmaAreas_;
	std::map<std::string, CmaTrend> cmaTrends_;
	/* Each source's allocations at the last redraw, and when: the rate column. */
	std::map<std::string, std::pair<double, uint64_t>> allocationsSeen_;
	BenchTrace benchTrace_;
	/* Whether the benchmark ran at the last redraw: the next one comes sooner. */
	bool benchRunning_ = false;
	std::chrono::steady_clock::time_point cmaRead_;
	uint64_t redraws_ = 0;
	uint64_t lastCpuNs_ = 0;
	uint64_t totalCpuNs_ = 0;
	std::chrono::steady_clock::time_point lastFrame_;
};

} /* namespace comp */
