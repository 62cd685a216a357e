/* SPDX-License-Identifier: MIT */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <wayland-server-protocol.h>

#include "alloc_benchmark.h"
#include "client.h"
#include "log.h"
#include "protocols/heap_hints.h"
#include "protocols/linux_dmabuf.h"
#include "protocols/output.h"
#include "protocols/seat.h"
#include "render/png.h"
#include "shell/window_policy.h"
#include "surface.h"

namespace comp {

uint32_t nextSerial(wl_display *display)
{
	return wl_display_next_serial(display);
}

/* Server --------------------------------------------------------------- */

Result<std::unique_ptr<Server>> Server::create(ServerConfig config)
{
	std::unique_ptr<Server> server(new Server(std::move(config)));
	auto ret = server->init();
	if (!ret)
		return bufmgr::unexpected(std::move(ret).error());
	return server;
}

Server::Server(ServerConfig config)
	: config_(std::move(config))
{
}

Server::~Server()
{
	if (!display_)
		return;
	/* Clients first: their resources refer to everything below. */
	wl_display_destroy_clients(display_);
	clientCreated_.disconnect();
	clients_.clear();
	for (auto &output : outputs_)
		output->clearFrames();

	/* The globals in their order (globals.cpp); outputs only borrowed theirs. */
	globals_.reset();
	outputs_.clear();

	/* Output buffers go back through the renderer, so it goes after them. */
	backend_.reset();
	renderer_.reset();

	tasksSource_.reset();
	signalSources_.clear();
	wl_display_destroy(display_);
	allocBenchmark_.reset();
	manager_.reset();
}

Result<void> Server::init()
{
	installLibraryLogHandlers();

	display_ = wl_display_create();
	if (!display_)
		return bufmgr::unexpected(ENOMEM, "wl_display_create");
	loop_ = wl_display_get_event_loop(display_);

	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return bufmgr::unexpected(errno, "eventfd for the task queue");
	tasksFd_ = bufmgr::UniqueFd(efd);
	tasksSource_.reset(wl_event_loop_add_fd(loop_, tasksFd_.get(), WL_EVENT_READABLE,
						&Server::onTasks, this));
	if (config_.handleSignals) {
		addSignal(SIGINT);
		addSignal(SIGTERM);
		addSignal(SIGUSR1);
	}

	auto manager = bufmgr::BufferManager::create(config_.bufferManager);
	if (!manager)
		return bufmgr::unexpected(std::move(manager).error());
	manager_ = std::move(*manager);

	if (!config_.createRenderer)
		return bufmgr::unexpected(EINVAL, "no renderer factory configured");
	auto renderer = config_.createRenderer(*manager_);
	if (!renderer)
		return bufmgr::unexpected(std::move(renderer).error());
	renderer_ = std::move(*renderer);
	LOG_INFO("renderer: %s, client dma-bufs via the %s path",
		 std::string(renderer_->name()).c_str(),
		 std::string(toString(renderer_->dmaBufPath())).c_str());

	HeadlessBackend::BufferDropHook dropHook = [this](const bufmgr::Buffer &buffer) {
		renderer_->releaseTarget(buffer);
	};
	if (config_.createBackend)
		backend_ = config_.createBackend(loop_, *manager_, config_, dropHook);
	else
		backend_ = std::make_unique<HeadlessBackend>(loop_, *manager_, config_.headless,
							      dropHook);
	if (!backend_)
		return bufmgr::unexpected(ENODEV, "no backend");
	headless_ = dynamic_cast<HeadlessBackend *>(backend_.get());
	backend_->setStopHandler([this](bool failed) {
		failed_ = failed_ || failed;
		terminate();
	});
	auto started = backend_->start();
	if (!started)
		return started;

	windowPolicy_ = std::make_unique<WindowPolicy>(*this);
	auto globals = Globals::create(*this);
	if (!globals)
		return bufmgr::unexpected(std::move(globals).error());
	globals_ = std::move(*globals);
	createOutputs();
	if (backend_->canSwitchSession())
		seat().setSessionSwitch([this](int session) {
			if (auto ret = backend_->switchSession(session); !ret)
				LOG_WARNING("%s", ret.error().message().c_str());
		});

	/* A record per client from its connection on. */
	clientCreated_.connectClientCreated(display_, [this](void *client) {
		clientState(static_cast<wl_client *>(client));
	});
	if (config_.socketName.empty()) {
		const char *name = wl_display_add_socket_auto(display_);
		if (!name)
			return bufmgr::unexpected(errno ? errno : EADDRINUSE,
						  "no free wayland-N socket in $XDG_RUNTIME_DIR");
		socketName_ = name;
	} else {
		if (wl_display_add_socket(display_, config_.socketName.c_str()) < 0)
			return bufmgr::unexpected(errno ? errno : EADDRINUSE,
						  "socket '" + config_.socketName +
						  "' in $XDG_RUNTIME_DIR");
		socketName_ = config_.socketName;
	}
	LOG_INFO("listening on WAYLAND_DISPLAY=%s", socketName_.c_str());
	/* Counted frames run even with no client to ask for them. */
	if (frameActions_.counting())
		scheduleRepaint();
	return {};
}

void Server::createOutputs()
{
	const std::vector<Output *> &outputs = backend_->outputs();
	for (size_t i = 0; i < outputs.size(); i++)
		addOutput(*outputs[i], *globals_->outputs()[i]);
	/* Displays plugged in later: a wl_output each, and frames from the next refresh. */
	backend_->setOutputAddedHandler([this](Output &output) {
		addOutput(output, globals_->addOutput(output));
		outputs_.back()->damageWhole();
		scheduleRepaint();
	});
	backend_->setOutputRemovedHandler([this](Output &output) { removeOutput(output); });
	backend_->setOutputResizedHandler(
		[this](Output &output, const Output::Mode &old) { resizeOutput(output, old); });
}

void Server::resizeOutput(Output &output, const Output::Mode &old)
{
	auto it = std::find_if(outputs_.begin(), outputs_.end(),
			       [&](const auto &o) { return &o->output() == &output; });
	if (it == outputs_.end())
		return;
	const Output::Mode mode = output.mode();
	LOG_INFO("output %s: %ux%u, was %ux%u", output.name().c_str(), mode.width, mode.height,
		 old.width, old.height);
	const Rect was{ output.x(), output.y(), int32_t(old.width), int32_t(old.height) };
	shiftOutputsRightOf(was, int32_t(mode.width) - int32_t(old.width));
	(*it)->resized();
	(*it)->global()->modeChanged();
	outputLayoutChanged(it == outputs_.begin());
}

void Server::outputLayoutChanged(bool firstChanged)
{
	/* Windows follow: fullscreen and maximized ones fill the first output, others stay on one. */
	for (View *view : std::vector<View *>(views().begin(), views().end()))
		view->outputsChanged();
	/* The overlay sits on the first output. */
	if (firstChanged && !outputs_.empty()) {
		outputs_.front()->overlayChanged();
		if (overlay_)
			overlay_->outputChanged();
	}
	for (const auto &repaint : outputs_)
		repaint->damageWhole();
	sceneChanged();
	scheduleRepaint();
}

void Server::removeOutput(Output &output)
{
	auto it = std::find_if(outputs_.begin(), outputs_.end(),
			       [&](const auto &o) { return &o->output() == &output; });
	if (it == outputs_.end())
		return;
	std::unique_ptr<OutputRepaint> gone = std::move(*it);
	const bool wasFirst = it == outputs_.begin();
	const Rect goneRect = output.layoutRect();
	outputs_.erase(it);
	output.setFrameHandler({});
	output.setPresentedHandler({});
	/* No client waits for a frame that will not come there. */
	gone->discardRendered();
	/* Nothing is shown there any more: every surface leaves it. */
	updateOutputMembership(*gone, {});
	OutputGlobal *global = gone->global();
	gone.reset();
	globals_->removeOutput(*global);
	LOG_INFO("output %s removed; %zu left", output.name().c_str(), outputs_.size());
	shiftOutputsRightOf(goneRect, -goneRect.width);
	/* The first output (the work area, the overlay's) may be another. */
	outputLayoutChanged(wasFirst);
}

void Server::shiftOutputsRightOf(const Rect &was, int32_t dx)
{
	if (!dx)
		return;
	/* The outputs right of it in its row, and the windows on them, all move. */
	std::vector<OutputRepaint *> moving;
	for (const auto &repaint : outputs_) {
		const Output &o = repaint->output();
		if (o.y() == was.y && o.x() >= was.right())
			moving.push_back(repaint.get());
	}
	std::vector<View *> carried;
	for (View *view : views()) {
		for (const OutputRepaint *repaint : moving) {
			if (repaint->output().layoutRect().contains(Rect{ view->x(), view->y(), 1, 1 })) {
				carried.push_back(view);
				break;
			}
		}
	}
	for (OutputRepaint *repaint : moving) {
		Output &o = repaint->output();
		o.setPosition(o.x() + dx, o.y());
		LOG_INFO("output %s moves to %d,%d", o.name().c_str(), o.x(), o.y());
	}
	for (View *view : carried)
		view->setPosition(view->x() + dx, view->y());
	for (OutputRepaint *repaint : moving)
		repaint->global()->positionChanged();
}

void Server::addOutput(Output &output, OutputGlobal &global)
{
	auto outputRepaint = std::make_unique<OutputRepaint>(*this, output, global);
	OutputRepaint *raw = outputRepaint.get();
	output.setFrameHandler([this, raw]() {
		if (!raw->repaintNeeded())
			return;
		auto ret = repaint(*raw);
		/* A refusal that lasts is retried every refresh: said once a minute. */
		if (!ret && (raw->failedFrames() % 3600 == 1 || !raw->failedFrames()))
			LOG_ERROR("%s: repaint: %s%s", raw->output().name().c_str(),
				  ret.error().message().c_str(),
				  raw->failedFrames() ? "; trying again every refresh" : "");
	});
	output.setPresentedHandler([this, raw](const PresentInfo &info) { presented(*raw, info); });
	const Output::Mode mode = output.mode();
	LOG_INFO("output %s: %ux%u @ %.3f Hz", output.name().c_str(), mode.width, mode.height,
		 mode.refreshMilliHz / 1000.0);
	outputs_.push_back(std::move(outputRepaint));
}

void Server::addSignal(int signal)
{
	wl_event_source *source = wl_event_loop_add_signal(loop_, signal, &Server::onSignal, this);
	if (source)
		signalSources_.emplace_back(source);
	else
		LOG_WARNING("cannot handle signal %d", signal);
}

int Server::onSignal(int signal, void *data)
{
	auto *self = static_cast<Server *>(data);
	if (signal == SIGUSR1) {
		self->frameActions_.userSignal();
		return 0;
	}
	LOG_INFO("signal %d: stopping", signal);
	self->terminate();
	return 0;
}

void Server::run()
{
	wl_display_run(display_);
	frameActions_.stopped();
}

void Server::terminate()
{
	wl_display_terminate(display_);
}

void Server::post(std::function<void()> f)
{
	{
		std::lock_guard lock(tasksMutex_);
		tasks_.push_back(std::move(f));
	}
	uint64_t one = 1;
	ssize_t n = write(tasksFd_.get(), &one, sizeof(one));
	(void)n;
}

int Server::onTasks(int fd, uint32_t, void *data)
{
	uint64_t count;
	ssize_t n = read(fd, &count, sizeof(count));
	(void)n;
	static_cast<Server *>(data)->runTasks();
	return 0;
}

void Server::runTasks()
{
	std::vector<std::function<void()>> tasks;
	{
		std::lock_guard lock(tasksMutex_);
		tasks.swap(tasks_);
	}
	for (auto &task : tasks)
		task();
}

std::vector<const ClientState *> Server::clientStates() const
{
	std::vector<const ClientState *> states;
	for (const auto &[client, state] : clients_)
		states.push_back(state.get());
	return states;
}

ClientState *Server::clientState(wl_client *client)
{
	if (!client)
		return nullptr;
	auto it = clients_.find(client);
	if (it != clients_.end())
		return it->second.get();
	auto state = std::make_unique<ClientState>(*this, client);
	state->account().totals = clientBuffers_;
	state->destroyListener().connectClientDestroy(client, [this, client](void *) {
		clients_.erase(client);
	});
	ClientState *raw = state.get();
	clients_.emplace(client, std::move(state));
	return raw;
}

uint32_t Server::maxBufferSize() const
{
	return std::min(config_.limits.bufferSize, renderer_->maxTextureSize());
}

/* Scene ---------------------------------------------------------------- */

Seat *Server::seatIfAny() const
{
	return globals_ ? &globals_->seat() : nullptr;
}

void Server::viewMapped(View *view)
{
	views_.add(view);
	if (Seat *seat = seatIfAny())
		seat->viewMapped(view);
	scheduleRepaint();
}

void Server::viewUnmapped(View *view)
{
	views_.remove(view);
	if (Seat *seat = seatIfAny())
		seat->viewUnmapped(view);
	scheduleRepaint();
}

void Server::raiseView(View *view)
{
	if (views_.raise(view))
		scheduleRepaint();
}

bool Server::surfacePosition(const Surface *surface, int32_t *x, int32_t *y) const
{
	return comp::surfacePosition(sceneRoots(), surface, x, y);
}

std::vector<SceneRoot> Server::sceneRoots() const
{
	std::vector<SceneRoot> roots = views_.sceneRoots();
	/* Above everything. */
	Seat *seat = seatIfAny();
	if (auto cursor = seat ? seat->cursorImage() : std::nullopt)
		roots.push_back({ cursor->surface, cursor->x, cursor->y });
	return roots;
}

/* Repaint -------------------------------------------------------------- */

void Server::sceneChanged()
{
	if (Seat *seat = seatIfAny())
		seat->updatePointerFocus();
	/* What the backend could scan out may have changed with it. */
	scanoutCandidatesChanged();
}

void Server::scanoutCandidatesChanged()
{
	scanoutGeneration_++;
	if (LinuxDmabuf *dmabuf = linuxDmabuf())
		dmabuf->sceneChanged();
	if (HeapHints *hints = heapHints())
		hints->sceneChanged();
}

void Server::scheduleRepaint()
{
	for (auto &output : outputs_) {
		output->setRepaintNeeded();
		output->output().scheduleFrame();
	}
}

void Server::surfaceDamaged(const Surface &surface, const PixelRegion &damage)
{
	int32_t x, y;
	if (damage.empty() || !surfacePosition(&surface, &x, &y))
		return;
	for (auto &output : outputs_) {
		/* Only what lies on the output: pixman translates in 32 bits. */
		const Rect on = output->output().layoutRect();
		PixelRegion region = damage;
		region.intersect(Rect{ clampInt32(int64_t(on.x) - x), clampInt32(int64_t(on.y) - y),
				       on.width, on.height });
		if (region.empty())
			continue;
		region.translate(clampInt32(int64_t(x) - on.x), clampInt32(int64_t(y) - on.y));
		output->surfaceDamaged(surface.id(), region);
	}
}

void Server::damageAll()
{
	for (auto &output : outputs_)
		output->damageWhole();
	scheduleRepaint();
}

void Server::updateOutputMembership(OutputRepaint &output, const std::set<Surface *> &shown)
{
	for (Surface *surface : shown) {
		if (surface->enterOutput(output.global()))
			onOutputs_.insert(surface);
	}
	for (Surface *surface : std::vector<Surface *>(onOutputs_.begin(), onOutputs_.end())) {
		if (shown.count(surface) || !surface->leaveOutput(output.global()))
			continue;
		if (!surface->isOnAnyOutput())
			onOutputs_.erase(surface);
	}
}

Result<void> Server::repaint(OutputRepaint &output)
{
	std::vector<SceneRoot> roots = sceneRoots();
	OutputScene scene = OutputScene::build(roots, output.output());
	updateOutputMembership(output, scene.shown);
	return output.repaint(std::move(scene));
}

void Server::presented(OutputRepaint &output, const PresentInfo &info)
{
	output.presented(info);

	if (&output == outputs_.front().get())
		frameActions_.presented(output.frames());
	/* Frames keep coming while someone waits for them. */
	bool counting = frameActions_.counting();
	if (output.repaintNeeded() || counting)
		output.output().scheduleFrame();
	if (counting)
		output.setRepaintNeeded();
}

Result<Screenshot> Server::screenshot(size_t index)
{
	if (index >= outputs_.size())
		return bufmgr::unexpected(ENODEV, "no output " + std::to_string(index));
	OutputRepaint &output = *outputs_[index];
	if (!output.output().hasFront()) {
		auto ret = repaint(output);
		if (!ret)
			return bufmgr::unexpected(std::move(ret).error());
	}
	return output.screenshot();
}

void Server::writeScreenshot(const std::string &path, std::function<void(Result<void>)> done,
			     size_t index)
{
	auto write = [path, done = std::move(done)](Result<Screenshot> shot) {
		if (!shot)
			done(bufmgr::unexpected(std::move(shot).error()));
		else
			done(writePng(path, shot->width, shot->height, shot->pixels));
	};
	/* What the display really read, where it can say. */
	if (index < outputs_.size() && outputs_[index]->output().captureNextFrame(write))
		return;
	write(screenshot(index));
}

uint64_t Server::frameCount(size_t index) const
{
	return index < outputs_.size() ? outputs_[index]->frames() : 0;
}

const RepaintStats &Server::repaintStats(size_t index) const
{
	static const RepaintStats none;
	return index < outputs_.size() ? outputs_[index]->stats() : none;
}

std::vector<SurfacePlace> Server::surfacePlaces(size_t index) const
{
	return index < outputs_.size() ? outputs_[index]->places() : std::vector<SurfacePlace>();
}

uint64_t Server::failedFrames(size_t index) const
{
	return index < outputs_.size() ? outputs_[index]->failedFrames() : 0;
}

AllocBenchmark &Server::allocBenchmark()
{
	if (!allocBenchmark_)
		allocBenchmark_ = std::make_unique<AllocBenchmark>(*manager_);
	return *allocBenchmark_;
}

bool Server::overlayOnPlane(size_t index) const
{
	return index < outputs_.size() && outputs_[index]->overlayOnPlane();
}

bool Server::cursorOnPlane(size_t index) const
{
	return index < outputs_.size() && outputs_[index]->cursorOnPlane();
}

std::string Server::cursorRefusal(size_t index) const
{
	return index < outputs_.size() ? outputs_[index]->cursorRefusal() : std::string();
}

const FrameTimeline &Server::frameTimeline(size_t index) const
{
	static const FrameTimeline none;
	return index < outputs_.size() ? outputs_[index]->timeline() : none;
}

void Server::setOverlay(OverlayLayer *overlay)
{
	overlayChanged();
	overlay_ = overlay;
	overlayChanged();
}

const OverlayLayer *Server::overlayFor(const OutputRepaint &output) const
{
	return !outputs_.empty() && &output == outputs_.front().get() ? overlay_ : nullptr;
}

void Server::overlayChanged()
{
	if (!outputs_.empty())
		outputs_.front()->overlayChanged();
}

} /* namespace comp */
