/* SPDX-License-Identifier: MIT */
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <wayland-server-core.h>

#include <bufmgr/manager.h>
#include <bufmgr/unique_fd.h>

#include "backend/backend.h"
#include "backend/headless/headless_backend.h"
#include "buffer.h"
#include "client.h"
#include "frame_actions.h"
#include "globals.h"
#include "render/renderer.h"
#include "scene/output_repaint.h"
#include "scene/scene.h"
#include "scene/screenshot.h"
#include "scene/surface_texture.h"
#include "scene/view_stack.h"
#include "wayland_util.h"

namespace comp {

class AllocBenchmark;
class ClientState;
class HeapHints;
class LinuxDmabuf;
class OutputGlobal;
class Presentation;
class Seat;
class Surface;
class WindowPolicy;

using RendererFactory =
	std::function<Result<std::unique_ptr<Renderer>>(bufmgr::BufferManager &manager)>;

/*
 * Makes the backend; dropHook must see every output buffer before it is
 * freed (the renderer forgets it). Unset: headless with config.headless.
 */
struct ServerConfig;
using BackendFactory = std::function<std::unique_ptr<Backend>(
	wl_event_loop *loop, bufmgr::BufferManager &manager, const ServerConfig &config,
	HeadlessBackend::BufferDropHook dropHook)>;

struct ServerConfig {
	/* Socket in $XDG_RUNTIME_DIR; empty: the first free wayland-N. */
	std::string socketName;
	HeadlessConfig headless;
	bufmgr::ManagerConfig bufferManager;
	RendererFactory createRenderer;
	BackendFactory createBackend;

	/* xkb RMLVO names of the keymap; empty: libxkbcommon's defaults. */
	std::string xkbLayout = "us";
	std::string xkbVariant;
	std::string xkbOptions;

	/* SIGINT/SIGTERM stop, SIGUSR1 screenshots; for the executable. */
	bool handleSignals = false;
	/* PNG written after screenshotFrames frames (0: only on SIGUSR1). */
	std::string screenshotPath;
	uint64_t screenshotFrames = 0;
	/* Stop after this many frames on the first output (0: never). */
	uint64_t exitAfterFrames = 0;
	/* JSON statistics written on SIGUSR1 and when run() returns (empty: never). */
	std::string statsPath;
	/*
	 * Accept an xdg_surface buffer before the first configure is acked,
	 * as if it were: only for wlcs, whose client helpers do that.
	 */
	bool allowUnconfiguredBuffers = false;
	/* What each client may make the compositor hold. */
	ClientLimits limits;
	/* A scanout tranche reaches a client once stable this long. */
	std::chrono::milliseconds scanoutHysteresis{ 2000 };
	/*
	 * A removed output's wl_output global stays bindable this long, for
	 * clients that have not yet read its global_remove (wlroots: 5 s).
	 */
	std::chrono::milliseconds outputRetirement{ 5000 };
};

/*
 * The compositor: the Wayland display and its event loop, the backend,
 * renderer and buffer manager, the repaint of each output, and the
 * per-client records. The protocol globals are in Globals, the stacked
 * views in ViewStack, what counted frames and signals trigger in
 * FrameActions. Everything runs on the thread that runs the event loop;
 * post() is the only call other threads may make.
 */
class Server
{
public:
	static Result<std::unique_ptr<Server>> create(ServerConfig config);
	~Server();
	Server(const Server &) = delete;
	Server &operator=(const Server &) = delete;

	const ServerConfig &config() const { return config_; }
	wl_display *display() const { return display_; }
	wl_event_loop *loop() const { return loop_; }
	const std::string &socketName() const { return socketName_; }

	/* Runs the event loop until terminate(). */
	void run();
	void terminate();
	/* The backend stopped the compositor because it could not go on. */
	bool failed() const { return failed_; }
	/* Runs f on the event loop's thread; callable from any thread. */
	void post(std::function<void()> f);

	bufmgr::BufferManager &bufferManager() { return *manager_; }
	/* The allocation benchmark heapctl bench and the overlay run, made on first use. */
	AllocBenchmark &allocBenchmark();
	Renderer &renderer() { return *renderer_; }
	/* Width and height a client buffer may have: --limit buffer-size, or less. */
	uint32_t maxBufferSize() const;
	Backend &backend() { return *backend_; }
	HeadlessBackend *headlessBackend() { return headless_; }
	Seat &seat() { return globals_->seat(); }
	/* The seat, while it exists (not while the globals are made or go). */
	Seat *seatIfAny() const;
	Presentation &presentation() { return globals_->presentation(); }
	WindowPolicy &windowPolicy() { return *windowPolicy_; }
	LinuxDmabuf *linuxDmabuf() { return globals_ ? globals_->linuxDmabuf() : nullptr; }
	HeapHints *heapHints() { return globals_ ? globals_->heapHints() : nullptr; }
	const std::vector<OutputGlobal *> &outputGlobals() const { return globals_->outputs(); }
	/* wl_output globals withdrawn and still bindable. */
	size_t retiredOutputGlobals() const { return globals_->retiredOutputs(); }

	/* The record of a client, created on its first use. */
	ClientState *clientState(wl_client *client);
	size_t numClients() const { return clients_.size(); }
	/* Every connected client's record, in no particular order. */
	std::vector<const ClientState *> clientStates() const;
	/* False from the moment a client starts going away. */
	bool isClientConnected(wl_client *client) const { return clients_.count(client) > 0; }
	/* Every client's live buffers, by type and exporter. */
	const ClientBufferTotals &clientBuffers() const { return *clientBuffers_; }

	/* Scene: the views (ViewStack tells more), the cursor above them. */
	const std::vector<View *> &views() const { return views_.views(); }
	void raiseView(View *view);
	View *viewAt(double x, double y, Surface **surface, double *localX, double *localY)
	{
		return views_.viewAt(x, y, surface, localX, localY);
	}
	/* Global position of a mapped surface (in any view's tree or the cursor's). */
	bool surfacePosition(const Surface *surface, int32_t *x, int32_t *y) const;
	View *viewContaining(const Surface *surface) const { return views_.viewContaining(surface); }
	View *findView(std::string_view title) const { return views_.findView(title); }

	/* Forgets a surface going away (output membership). */
	void surfaceDestroyed(Surface *surface) { onOutputs_.erase(surface); }
	/* The surfaces that are on at least one output. */
	const std::set<Surface *> &surfacesOnOutputs() const { return onOutputs_; }

	/* The scene changed under the pointer: re-pick its focus. */
	void sceneChanged();
	/* What a backend would scan out may differ: feedbacks ask it again. */
	void scanoutCandidatesChanged();
	/* Moves on with each scanoutCandidatesChanged(): a surface's hint asks once per value. */
	uint64_t scanoutGeneration() const { return scanoutGeneration_; }

	/* Requests a repaint of every output at its next refresh. */
	void scheduleRepaint();
	/*
	 * A surface's content changed: damage, in surface-local pixels,
	 * reaches the outputs that show it. Moves, stacking and (un)mapping
	 * need no call: each repaint compares the scene with the last one.
	 */
	void surfaceDamaged(const Surface &surface, const PixelRegion &damage);
	/* The next frame of every output is drawn whole. */
	void damageAll();

	/* The first output's current frame; renders one if none exists yet. */
	Result<Screenshot> screenshot(size_t output = 0);
	/*
	 * A PNG of an output; done runs once it is written: at once, or
	 * after the next refresh where the display captures what it shows.
	 */
	void writeScreenshot(const std::string &path, std::function<void(Result<void>)> done,
			     size_t output = 0);
	/* Frames presented on an output, drawn or not (RepaintStats tells). */
	uint64_t frameCount(size_t output = 0) const;
	const RepaintStats &repaintStats(size_t output = 0) const;
	/* What composing client buffers made the renderer import and copy, all outputs. */
	TextureStats &textureStats() { return textureStats_; }
	const TextureStats &textureStats() const { return textureStats_; }
	/* Where each surface of an output's last frame went (a plane or composed), and why. */
	std::vector<SurfacePlace> surfacePlaces(size_t output = 0) const;
	/* Frames in a row that could not be shown on an output, drawn or committed; 0: it shows. */
	uint64_t failedFrames(size_t output = 0) const;
	size_t numOutputs() const { return outputs_.size(); }
	const FrameTimeline &frameTimeline(size_t output = 0) const;
	/* Whether the overlay is on a plane of its own on that output (not composed). */
	bool overlayOnPlane(size_t output = 0) const;
	/*
	 * Whether the pointer's cursor is on the output's cursor plane, and
	 * if not why it was composed ("" when there is no cursor).
	 */
	bool cursorOnPlane(size_t output = 0) const;
	std::string cursorRefusal(size_t output = 0) const;

	/*
	 * The overlay drawn above the clients on the first output (null:
	 * none); it must outlive the server or be unset first.
	 */
	void setOverlay(OverlayLayer *overlay);
	/* The overlay on output, or null. */
	const OverlayLayer *overlayFor(const OutputRepaint &output) const;
	/* The overlay, shown or not; null when there is none. */
	const OverlayLayer *overlay() const { return overlay_; }
	OverlayLayer *overlay() { return overlay_; }
	/* The overlay appeared, went or has new pixels: its output redraws it. */
	void overlayChanged();

private:
	friend class View;

	explicit Server(ServerConfig config);
	Result<void> init();
	void createOutputs();
	void addSignal(int signal);
	static int onSignal(int signal, void *data);
	static int onTasks(int fd, uint32_t mask, void *data);
	void runTasks();

	void viewMapped(View *view);
	void viewUnmapped(View *view);

	/* Global roots of the scene, back to front: views, then the cursor. */
	std::vector<SceneRoot> sceneRoots() const;
	void updateOutputMembership(OutputRepaint &output, const std::set<Surface *> &shown);
	/* Frames for an output, shown through global. */
	void addOutput(Output &output, OutputGlobal &global);
	/* The backend is about to destroy output: its frames, wl_output and windows move on. */
	void removeOutput(Output &output);
	/* The backend resized output (from old): clients hear its mode, the layout follows. */
	void resizeOutput(Output &output, const Output::Mode &old);
	/*
	 * An output at `was` grew by dx (negative: shrank, or went): the ones
	 * right of it in its row move along with their windows.
	 */
	void shiftOutputsRightOf(const Rect &was, int32_t dx);
	/* Outputs came, went or changed size (the first among them, or not): windows and frames follow. */
	void outputLayoutChanged(bool firstChanged);
	Result<void> repaint(OutputRepaint &output);
	void presented(OutputRepaint &output, const PresentInfo &info);

	ServerConfig config_;
	wl_display *display_ = nullptr;
	wl_event_loop *loop_ = nullptr;
	std::string socketName_;

	std::unique_ptr<bufmgr::BufferManager> manager_;
	/* After the manager: its worker stops before the manager goes. */
	std::unique_ptr<AllocBenchmark> allocBenchmark_;
	std::unique_ptr<Renderer> renderer_;
	TextureStats textureStats_;
	std::unique_ptr<Backend> backend_;
	HeadlessBackend *headless_ = nullptr;
	bool failed_ = false;

	std::vector<std::unique_ptr<OutputRepaint>> outputs_;
	OverlayLayer *overlay_ = nullptr;
	std::unique_ptr<WindowPolicy> windowPolicy_;
	std::unique_ptr<Globals> globals_;

	std::map<wl_client *, std::unique_ptr<ClientState>> clients_;
	std::shared_ptr<ClientBufferTotals> clientBuffers_ = std::make_shared<ClientBufferTotals>();
	Listener clientCreated_;

	ViewStack views_;
	std::set<Surface *> onOutputs_;	/* surfaces that got wl_surface.enter */
	uint64_t scanoutGeneration_ = 0;

	std::mutex tasksMutex_;
	std::vector<std::function<void()>> tasks_;
	bufmgr::UniqueFd tasksFd_;
	EventSource tasksSource_;
	std::vector<EventSource> signalSources_;
	FrameActions frameActions_{ *this };
};

/* wl_display_get_serial's successor, for events that carry a serial. */
uint32_t nextSerial(wl_display *display);

} /* namespace comp */
