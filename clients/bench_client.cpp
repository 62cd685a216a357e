/* SPDX-License-Identifier: MIT */
/*
 * bench_client: an xdg toplevel that redraws on every frame callback, the
 * workload the compositor benchmark runs against each compositor. Each
 * frame either repaints the whole buffer or paints one 64 px column, the
 * column moving right by its width every frame; only that is damaged.
 *
 * Buffers are wl_shm (XRGB8888) or, with --dmabuf-heap, dma-bufs from a
 * DMA-BUF heap sent through zwp_linux_dmabuf_v1; with --format argb they
 * are ARGB8888 and the surface declares itself opaque. With --progress-fd the
 * client writes one byte per event to that fd, so that a driver can
 * measure the compositor frame by frame:
 *   'f' frame callback   'p' presented   'z' presented with ZERO_COPY
 *   'd' presentation discarded
 */
#include <drm_fourcc.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <wayland-client.h>

#include <linux-dmabuf-unstable-v1-client-protocol.h>
#include <presentation-time-client-protocol.h>
#include <xdg-shell-client-protocol.h>

#include <bufmgr/manager.h>
#include <bufmgr/mapping.h>
#include <bufmgr/unique_fd.h>

namespace {

constexpr int kColumnWidth = 64;
constexpr uint32_t kBackground = 0xff202020;

struct Options {
	int width = 1280;
	int height = 720;
	bool fullscreen = false;
	bool columnDamage = false;
	int buffers = 2;
	long frames = 0;	/* 0: until --seconds */
	double seconds = 0;	/* 0: until --frames */
	int progressFd = -1;
	std::string dmabufHeap;	/* empty: wl_shm */
	/* ARGB8888 with the whole surface declared opaque, as toolkits draw windows. */
	bool argb = false;
	std::string appId = "heapcomp-bench";
};

void usage(FILE *out)
{
	std::fputs(
		"Usage: bench_client [OPTION]...\n"
		"Redraws an xdg toplevel on every frame callback and reports how many\n"
		"frames were done, how long it took, and how many were presented zero-copy.\n\n"
		"  --width N --height N   buffer size when not fullscreen (default 1280x720)\n"
		"  --fullscreen           ask for fullscreen and use the configured size\n"
		"  --damage full|column   repaint everything, or a moving 64 px column\n"
		"                         (default full)\n"
		"  --buffers 2|3          buffers to cycle through (default 2)\n"
		"  --frames N             stop after N frame callbacks\n"
		"  --seconds T            stop after T seconds\n"
		"  --progress-fd FD       write f/p/z/d per frame, presentation, zero-copy\n"
		"                         presentation and discarded presentation to FD\n"
		"  --dmabuf-heap NAME     buffers from /dev/dma_heap/NAME via linux-dmabuf\n"
		"  --format xrgb|argb     XRGB8888 (default), or ARGB8888 with an opaque region\n"
		"  --app-id ID            xdg_toplevel app id (default heapcomp-bench)\n",
		out);
}

template<typename T>
bool parseNumber(const char *text, T *value)
{
	const char *end = text + std::strlen(text);
	auto [ptr, ec] = std::from_chars(text, end, *value);
	return ec == std::errc() && ptr == end;
}

std::optional<Options> parseOptions(int argc, char **argv)
{
	Options o;
	for (int i = 1; i < argc; i++) {
		std::string arg = argv[i];
		const char *value = i + 1 < argc ? argv[i + 1] : nullptr;
		bool ok = true;
		if (arg == "--help") {
			usage(stdout);
			std::exit(0);
		} else if (arg == "--fullscreen") {
			o.fullscreen = true;
			continue;
		} else if (!value) {
			ok = false;
		} else if (arg == "--width") {
			ok = parseNumber(value, &o.width) && o.width > 0 && o.width <= 16384;
		} else if (arg == "--height") {
			ok = parseNumber(value, &o.height) && o.height > 0 && o.height <= 16384;
		} else if (arg == "--damage") {
			ok = !std::strcmp(value, "full") || !std::strcmp(value, "column");
			o.columnDamage = !std::strcmp(value, "column");
		} else if (arg == "--buffers") {
			ok = parseNumber(value, &o.buffers) && o.buffers >= 2 && o.buffers <= 3;
		} else if (arg == "--frames") {
			ok = parseNumber(value, &o.frames) && o.frames > 0;
		} else if (arg == "--seconds") {
			char *end = nullptr;
			o.seconds = std::strtod(value, &end);
			ok = *end == '\0' && o.seconds > 0;
		} else if (arg == "--progress-fd") {
			ok = parseNumber(value, &o.progressFd) && o.progressFd >= 0;
		} else if (arg == "--dmabuf-heap") {
			o.dmabufHeap = value;
			ok = !o.dmabufHeap.empty() && o.dmabufHeap.find('/') == std::string::npos;
		} else if (arg == "--format") {
			ok = !std::strcmp(value, "xrgb") || !std::strcmp(value, "argb");
			o.argb = !std::strcmp(value, "argb");
		} else if (arg == "--app-id") {
			o.appId = value;
		} else {
			ok = false;
		}
		if (!ok) {
			std::fprintf(stderr, "bench_client: bad option %s\n", arg.c_str());
			usage(stderr);
			return std::nullopt;
		}
		i++;
	}
	if (!o.frames && !o.seconds) {
		std::fprintf(stderr, "bench_client: give --frames or --seconds\n");
		return std::nullopt;
	}
	return o;
}

double now()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

/* The colour of the column painted in frame `frame`, or of the whole frame. */
uint32_t frameColour(long frame)
{
	uint32_t v = uint32_t(frame) * 2654435761u;
	return 0xff000000 | (v >> 8);
}

struct Buffer {
	wl_buffer *buffer = nullptr;
	uint32_t *pixels = nullptr;
	int stride = 0;			/* bytes */
	bool busy = false;		/* attached and not yet released */
	long drawnFrame = -1;		/* the frame its contents show */
	/* dma-buf buffers: the memory, its mapping for the CPU. */
	std::optional<bufmgr::Buffer> dmabuf;
	std::optional<bufmgr::Mapping> mapping;
};

class BenchClient
{
public:
	explicit BenchClient(Options options) : o_(std::move(options)) {}
	~BenchClient();

	bool connect();
	bool run();
	void printSummary() const;

private:
	static const wl_registry_listener registryListener;
	static const xdg_wm_base_listener wmBaseListener;
	static const xdg_surface_listener xdgSurfaceListener;
	static const xdg_toplevel_listener toplevelListener;
	static const wl_callback_listener frameListener;
	static const wl_buffer_listener bufferListener;
	static const wp_presentation_feedback_listener feedbackListener;

	bool createBuffers();
	bool createShmBuffers();
	bool createDmabufBuffers();
	void draw(Buffer &buffer);
	void paintColumn(Buffer &buffer, long frame);
	uint32_t format() const { return o_.argb ? DRM_FORMAT_ARGB8888 : DRM_FORMAT_XRGB8888; }
	bool submitFrame();
	void progress(char event);
	bool done() const;

	Options o_;
	wl_display *display_ = nullptr;
	wl_registry *registry_ = nullptr;
	wl_compositor *compositor_ = nullptr;
	wl_shm *shm_ = nullptr;
	xdg_wm_base *wmBase_ = nullptr;
	wp_presentation *presentation_ = nullptr;
	zwp_linux_dmabuf_v1 *linuxDmabuf_ = nullptr;
	wl_surface *surface_ = nullptr;
	xdg_surface *xdgSurface_ = nullptr;
	xdg_toplevel *toplevel_ = nullptr;
	wl_callback *frameCallback_ = nullptr;

	std::unique_ptr<bufmgr::BufferManager> manager_;
	std::vector<Buffer> buffers_;
	void *shmData_ = nullptr;
	size_t shmSize_ = 0;

	int width_ = 0, height_ = 0;
	int configuredWidth_ = 0, configuredHeight_ = 0;
	bool configured_ = false;
	bool closed_ = false;
	bool waitingForBuffer_ = false;

	long frame_ = 0;		/* frames drawn and committed */
	long framesDone_ = 0;		/* frame callbacks received */
	long presented_ = 0, zeroCopy_ = 0, discarded_ = 0;
	double start_ = 0, end_ = 0;
};

const wl_registry_listener BenchClient::registryListener = {
	.global = [](void *data, wl_registry *registry, uint32_t name, const char *interface,
		     uint32_t version) {
		auto *self = static_cast<BenchClient *>(data);
		auto bind = [&](const wl_interface &iface, uint32_t max) {
			return wl_registry_bind(registry, name, &iface, std::min(version, max));
		};
		std::string_view i = interface;
		if (i == wl_compositor_interface.name)
			self->compositor_ = static_cast<wl_compositor *>(bind(wl_compositor_interface, 4));
		else if (i == wl_shm_interface.name)
			self->shm_ = static_cast<wl_shm *>(bind(wl_shm_interface, 1));
		else if (i == xdg_wm_base_interface.name)
			self->wmBase_ = static_cast<xdg_wm_base *>(bind(xdg_wm_base_interface, 1));
		else if (i == wp_presentation_interface.name)
			self->presentation_ = static_cast<wp_presentation *>(
				bind(wp_presentation_interface, 1));
		else if (i == zwp_linux_dmabuf_v1_interface.name && version >= 2)
			self->linuxDmabuf_ = static_cast<zwp_linux_dmabuf_v1 *>(
				bind(zwp_linux_dmabuf_v1_interface, 3));
	},
	.global_remove = [](void *, wl_registry *, uint32_t) {},
};

const xdg_wm_base_listener BenchClient::wmBaseListener = {
	.ping = [](void *, xdg_wm_base *base, uint32_t serial) { xdg_wm_base_pong(base, serial); },
};

const xdg_surface_listener BenchClient::xdgSurfaceListener = {
	.configure = [](void *data, xdg_surface *surface, uint32_t serial) {
		auto *self = static_cast<BenchClient *>(data);
		xdg_surface_ack_configure(surface, serial);
		self->configured_ = true;
	},
};

const xdg_toplevel_listener BenchClient::toplevelListener = {
	.configure = [](void *data, xdg_toplevel *, int32_t width, int32_t height, wl_array *) {
		auto *self = static_cast<BenchClient *>(data);
		self->configuredWidth_ = width;
		self->configuredHeight_ = height;
	},
	.close = [](void *data, xdg_toplevel *) { static_cast<BenchClient *>(data)->closed_ = true; },
};

const wl_callback_listener BenchClient::frameListener = {
	.done = [](void *data, wl_callback *callback, uint32_t) {
		auto *self = static_cast<BenchClient *>(data);
		wl_callback_destroy(callback);
		self->frameCallback_ = nullptr;
		self->framesDone_++;
		self->progress('f');
		if (self->done())
			return;
		if (!self->submitFrame())
			self->waitingForBuffer_ = true;
	},
};

const wl_buffer_listener BenchClient::bufferListener = {
	.release = [](void *data, wl_buffer *) {
		auto *buffer = static_cast<Buffer *>(data);
		buffer->busy = false;
	},
};

const wp_presentation_feedback_listener BenchClient::feedbackListener = {
	.sync_output = [](void *, struct wp_presentation_feedback *, wl_output *) {},
	.presented = [](void *data, struct wp_presentation_feedback *feedback, uint32_t, uint32_t,
			uint32_t, uint32_t, uint32_t, uint32_t, uint32_t flags) {
		auto *self = static_cast<BenchClient *>(data);
		wp_presentation_feedback_destroy(feedback);
		self->presented_++;
		bool zeroCopy = flags & WP_PRESENTATION_FEEDBACK_KIND_ZERO_COPY;
		self->zeroCopy_ += zeroCopy;
		self->progress(zeroCopy ? 'z' : 'p');
	},
	.discarded = [](void *data, struct wp_presentation_feedback *feedback) {
		auto *self = static_cast<BenchClient *>(data);
		wp_presentation_feedback_destroy(feedback);
		self->discarded_++;
		self->progress('d');
	},
};

BenchClient::~BenchClient()
{
	for (Buffer &b : buffers_) {
		if (b.buffer)
			wl_buffer_destroy(b.buffer);
	}
	if (shmData_)
		munmap(shmData_, shmSize_);
	if (frameCallback_)
		wl_callback_destroy(frameCallback_);
	if (toplevel_)
		xdg_toplevel_destroy(toplevel_);
	if (xdgSurface_)
		xdg_surface_destroy(xdgSurface_);
	if (surface_)
		wl_surface_destroy(surface_);
	if (linuxDmabuf_)
		zwp_linux_dmabuf_v1_destroy(linuxDmabuf_);
	if (presentation_)
		wp_presentation_destroy(presentation_);
	if (wmBase_)
		xdg_wm_base_destroy(wmBase_);
	if (shm_)
		wl_shm_destroy(shm_);
	if (compositor_)
		wl_compositor_destroy(compositor_);
	if (registry_)
		wl_registry_destroy(registry_);
	if (display_)
		wl_display_disconnect(display_);
}

bool BenchClient::connect()
{
	display_ = wl_display_connect(nullptr);
	if (!display_) {
		std::fprintf(stderr, "bench_client: cannot connect to the compositor: %s\n",
			     std::strerror(errno));
		return false;
	}
	registry_ = wl_display_get_registry(display_);
	wl_registry_add_listener(registry_, &registryListener, this);
	wl_display_roundtrip(display_);
	const char *missing = !compositor_ ? "wl_compositor" : !wmBase_ ? "xdg_wm_base"
			    : !shm_ && o_.dmabufHeap.empty() ? "wl_shm"
			    : !linuxDmabuf_ && !o_.dmabufHeap.empty() ? "zwp_linux_dmabuf_v1 v2+"
			    : nullptr;
	if (missing) {
		std::fprintf(stderr, "bench_client: the compositor has no %s\n", missing);
		return false;
	}
	xdg_wm_base_add_listener(wmBase_, &wmBaseListener, this);

	surface_ = wl_compositor_create_surface(compositor_);
	xdgSurface_ = xdg_wm_base_get_xdg_surface(wmBase_, surface_);
	xdg_surface_add_listener(xdgSurface_, &xdgSurfaceListener, this);
	toplevel_ = xdg_surface_get_toplevel(xdgSurface_);
	xdg_toplevel_add_listener(toplevel_, &toplevelListener, this);
	xdg_toplevel_set_title(toplevel_, "bench_client");
	xdg_toplevel_set_app_id(toplevel_, o_.appId.c_str());
	if (o_.fullscreen)
		xdg_toplevel_set_fullscreen(toplevel_, nullptr);
	wl_surface_commit(surface_);
	while (!configured_ && !closed_) {
		if (wl_display_dispatch(display_) < 0) {
			std::fprintf(stderr, "bench_client: connection lost before the first configure\n");
			return false;
		}
	}
	/* Fullscreen takes the output's size; a window keeps the size asked for. */
	width_ = o_.fullscreen && configuredWidth_ > 0 ? configuredWidth_ : o_.width;
	height_ = o_.fullscreen && configuredHeight_ > 0 ? configuredHeight_ : o_.height;
	if (o_.argb) {
		wl_region *opaque = wl_compositor_create_region(compositor_);
		wl_region_add(opaque, 0, 0, width_, height_);
		wl_surface_set_opaque_region(surface_, opaque);
		wl_region_destroy(opaque);
	}
	return createBuffers();
}

bool BenchClient::createBuffers()
{
	buffers_.resize(size_t(o_.buffers));
	bool ok = o_.dmabufHeap.empty() ? createShmBuffers() : createDmabufBuffers();
	for (Buffer &b : buffers_) {
		if (b.buffer)
			wl_buffer_add_listener(b.buffer, &bufferListener, &b);
	}
	return ok;
}

bool BenchClient::createShmBuffers()
{
	const int stride = width_ * 4;
	const size_t bufferSize = size_t(stride) * size_t(height_);
	shmSize_ = bufferSize * buffers_.size();
	bufmgr::UniqueFd fd(memfd_create("bench_client", MFD_CLOEXEC));
	if (!fd || ftruncate(fd.get(), off_t(shmSize_)) < 0) {
		std::fprintf(stderr, "bench_client: shm: %s\n", std::strerror(errno));
		return false;
	}
	shmData_ = mmap(nullptr, shmSize_, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
	if (shmData_ == MAP_FAILED) {
		shmData_ = nullptr;
		std::fprintf(stderr, "bench_client: mmap: %s\n", std::strerror(errno));
		return false;
	}
	wl_shm_pool *pool = wl_shm_create_pool(shm_, fd.get(), int32_t(shmSize_));
	for (size_t i = 0; i < buffers_.size(); i++) {
		Buffer &b = buffers_[i];
		b.buffer = wl_shm_pool_create_buffer(pool, int32_t(i * bufferSize), width_, height_,
						     stride, o_.argb ? WL_SHM_FORMAT_ARGB8888
								     : WL_SHM_FORMAT_XRGB8888);
		b.pixels = reinterpret_cast<uint32_t *>(static_cast<uint8_t *>(shmData_) +
							i * bufferSize);
		b.stride = stride;
	}
	wl_shm_pool_destroy(pool);
	return true;
}

bool BenchClient::createDmabufBuffers()
{
	auto manager = bufmgr::BufferManager::create();
	if (!manager) {
		std::fprintf(stderr, "bench_client: bufmgr: %s\n", manager.error().message().c_str());
		return false;
	}
	manager_ = std::move(*manager);
	const std::string source = "dma-heap:" + o_.dmabufHeap;
	bufmgr::Constraints constraints;
	constraints.preferredSource = source;
	constraints.dmaBuf = true;
	constraints.cpuAccess = true;
	auto request = bufmgr::AllocationRequest::image(uint32_t(width_), uint32_t(height_),
							format(),
							bufmgr::Usage::Scanout, "bench_client");
	for (Buffer &b : buffers_) {
		auto buffer = manager_->allocate(request, constraints);
		if (!buffer) {
			std::fprintf(stderr, "bench_client: %s: %s\n", source.c_str(),
				     buffer.error().message().c_str());
			return false;
		}
		/* A fallback would measure other memory than the one asked for. */
		if (buffer->source() != source) {
			std::fprintf(stderr, "bench_client: %s unavailable (bufmgr chose %s)\n",
				     source.c_str(), buffer->source().c_str());
			return false;
		}
		auto mapping = bufmgr::Mapping::map(*buffer, { bufmgr::Access::Write, true });
		if (!mapping) {
			std::fprintf(stderr, "bench_client: map: %s\n",
				     mapping.error().message().c_str());
			return false;
		}
		const bufmgr::BufferPlane &plane = buffer->plane(0);
		zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(linuxDmabuf_);
		zwp_linux_buffer_params_v1_add(params, plane.fd.get(), 0, plane.offset, plane.stride,
					       uint32_t(buffer->modifier() >> 32),
					       uint32_t(buffer->modifier() & 0xffffffff));
		b.buffer = zwp_linux_buffer_params_v1_create_immed(params, width_, height_,
								   format(), 0);
		zwp_linux_buffer_params_v1_destroy(params);
		b.pixels = reinterpret_cast<uint32_t *>(mapping->plane(0).data());
		b.stride = int(plane.stride);
		b.dmabuf = std::move(*buffer);
		b.mapping = std::move(*mapping);
	}
	return true;
}

void BenchClient::paintColumn(Buffer &buffer, long frame)
{
	const int columns = (width_ + kColumnWidth - 1) / kColumnWidth;
	const int x0 = int(frame % columns) * kColumnWidth;
	const int x1 = std::min(x0 + kColumnWidth, width_);
	const uint32_t colour = frameColour(frame);
	for (int y = 0; y < height_; y++) {
		uint32_t *row = buffer.pixels + size_t(y) * size_t(buffer.stride / 4);
		std::fill(row + x0, row + x1, colour);
	}
}

/*
 * Brings the buffer to frame_: in column mode the columns of the frames it
 * missed since it was last drawn are painted too, so every frame shows
 * the same picture whichever buffer carries it.
 */
void BenchClient::draw(Buffer &buffer)
{
	std::optional<bufmgr::Mapping::CpuAccess> access;
	if (buffer.mapping) {
		auto begun = buffer.mapping->beginAccess(bufmgr::Access::Write);
		if (begun)
			access = std::move(*begun);
	}
	if (!o_.columnDamage) {
		const uint32_t colour = frameColour(frame_);
		for (int y = 0; y < height_; y++) {
			uint32_t *row = buffer.pixels + size_t(y) * size_t(buffer.stride / 4);
			std::fill(row, row + width_, colour);
		}
	} else {
		const long columns = (width_ + kColumnWidth - 1) / kColumnWidth;
		long from = buffer.drawnFrame + 1;
		if (buffer.drawnFrame < 0 || frame_ - buffer.drawnFrame >= columns) {
			for (int y = 0; y < height_; y++) {
				uint32_t *row = buffer.pixels + size_t(y) * size_t(buffer.stride / 4);
				std::fill(row, row + width_, kBackground);
			}
			from = std::max(0L, frame_ - columns + 1);
		}
		for (long f = from; f <= frame_; f++)
			paintColumn(buffer, f);
	}
	buffer.drawnFrame = frame_;
}

/* Draws and commits the next frame; false when every buffer is busy. */
bool BenchClient::submitFrame()
{
	auto free = std::find_if(buffers_.begin(), buffers_.end(),
				 [](const Buffer &b) { return !b.busy; });
	if (free == buffers_.end())
		return false;
	draw(*free);
	wl_surface_attach(surface_, free->buffer, 0, 0);
	free->busy = true;
	if (o_.columnDamage && frame_ > 0) {
		const int columns = (width_ + kColumnWidth - 1) / kColumnWidth;
		wl_surface_damage_buffer(surface_, int(frame_ % columns) * kColumnWidth, 0,
					 kColumnWidth, height_);
	} else {
		wl_surface_damage_buffer(surface_, 0, 0, width_, height_);
	}
	frameCallback_ = wl_surface_frame(surface_);
	wl_callback_add_listener(frameCallback_, &frameListener, this);
	if (presentation_) {
		struct wp_presentation_feedback *feedback = wp_presentation_feedback(presentation_, surface_);
		wp_presentation_feedback_add_listener(feedback, &feedbackListener, this);
	}
	wl_surface_commit(surface_);
	frame_++;
	return true;
}

void BenchClient::progress(char event)
{
	if (o_.progressFd < 0)
		return;
	/* A driver that went away must not stop the client: it just ends. */
	if (write(o_.progressFd, &event, 1) < 0 && errno == EPIPE)
		o_.progressFd = -1;
}

bool BenchClient::done() const
{
	if (closed_)
		return true;
	if (o_.frames && framesDone_ >= o_.frames)
		return true;
	return o_.seconds && now() - start_ >= o_.seconds;
}

bool BenchClient::run()
{
	start_ = now();
	submitFrame();
	while (!done()) {
		if (waitingForBuffer_) {
			waitingForBuffer_ = !submitFrame();
			if (!waitingForBuffer_)
				continue;
		}
		wl_display_flush(display_);
		pollfd pfd = { wl_display_get_fd(display_), POLLIN, 0 };
		/* Wake up now and then so --seconds holds without frames. */
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			break;
		if (pfd.revents & POLLIN) {
			if (wl_display_dispatch(display_) < 0) {
				std::fprintf(stderr, "bench_client: connection lost: %s\n",
					     std::strerror(errno));
				end_ = now();
				return false;
			}
		} else {
			wl_display_dispatch_pending(display_);
		}
	}
	end_ = now();
	/* Collects the feedback of frames already on screen. */
	wl_display_roundtrip(display_);
	return !closed_;
}

void BenchClient::printSummary() const
{
	double elapsed = end_ - start_;
	std::printf("frames %ld elapsed %.3f s fps %.1f size %dx%d presented %ld zero-copy %ld "
		    "discarded %ld%s\n",
		    framesDone_, elapsed, elapsed > 0 ? double(framesDone_) / elapsed : 0.0, width_,
		    height_, presented_, zeroCopy_, discarded_,
		    presentation_ ? "" : " (no wp_presentation)");
	std::fflush(stdout);
}

} /* namespace */

int main(int argc, char **argv)
{
	auto options = parseOptions(argc, argv);
	if (!options)
		return 2;
	/* A progress reader that went away is a write error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	BenchClient client(std::move(*options));
	if (!client.connect())
		return 1;
	bool ok = client.run();
	client.printSummary();
	return ok ? 0 : 1;
}
