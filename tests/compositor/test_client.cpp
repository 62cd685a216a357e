/* SPDX-License-Identifier: MIT */
#include "test_client.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

namespace heapcomp::test {

/* ShmBuffer ------------------------------------------------------------ */

ShmBuffer::ShmBuffer(wl_shm *shm, uint32_t width, uint32_t height, uint32_t format)
	: width_(width), height_(height)
{
	size_ = size_t(width) * height * 4;
	bufmgr::UniqueFd fd(memfd_create("test-shm", MFD_CLOEXEC));
	if (!fd || ftruncate(fd.get(), off_t(size_)) < 0)
		return;
	data_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
	if (data_ == MAP_FAILED) {
		data_ = nullptr;
		return;
	}
	pool_.reset(wl_shm_create_pool(shm, fd.get(), int32_t(size_)));
	buffer_.reset(wl_shm_pool_create_buffer(pool_, 0, int32_t(width), int32_t(height),
						int32_t(width * 4), format));
	static const wl_buffer_listener listener = { .release = &ShmBuffer::onRelease };
	wl_buffer_add_listener(buffer_, &listener, this);
}

ShmBuffer::~ShmBuffer()
{
	buffer_.reset();
	pool_.reset();
	if (data_)
		munmap(data_, size_);
}

void ShmBuffer::onRelease(void *data, wl_buffer *)
{
	static_cast<ShmBuffer *>(data)->releases_++;
}

void ShmBuffer::fill(uint32_t argb)
{
	fillRect(0, 0, int(width_), int(height_), argb);
}

void ShmBuffer::fillRect(int x, int y, int w, int h, uint32_t argb)
{
	for (int row = std::max(y, 0); row < std::min<int>(y + h, int(height_)); row++)
		for (int col = std::max(x, 0); col < std::min<int>(x + w, int(width_)); col++)
			pixels()[size_t(row) * width_ + size_t(col)] = argb;
}

/* Window --------------------------------------------------------------- */

const xdg_surface_listener Window::xdgSurfaceListener = {
	.configure = [](void *data, xdg_surface *, uint32_t serial) {
		auto *self = static_cast<Window *>(data);
		self->serial_ = serial;
		self->pendingAck_ = true;
		self->configures_++;
		self->width_ = self->pendingWidth_;
		self->height_ = self->pendingHeight_;
		self->states_ = self->pendingStates_;
	},
};

const xdg_toplevel_listener Window::toplevelListener = {
	.configure = [](void *data, xdg_toplevel *, int32_t width, int32_t height,
			wl_array *states) {
		auto *self = static_cast<Window *>(data);
		self->pendingWidth_ = width;
		self->pendingHeight_ = height;
		self->pendingStates_.clear();
		const uint32_t *state;
		for (state = static_cast<const uint32_t *>(states->data);
		     reinterpret_cast<const char *>(state) <
		     static_cast<const char *>(states->data) + states->size; state++)
			self->pendingStates_.push_back(*state);
	},
	.close = [](void *, xdg_toplevel *) {},
	.configure_bounds = [](void *, xdg_toplevel *, int32_t, int32_t) {},
	.wm_capabilities = [](void *, xdg_toplevel *, wl_array *) {},
};

Window::Window(TestClient &client, const std::string &title, bool initialCommit)
	: client_(client)
{
	surface_.reset(wl_compositor_create_surface(client.compositor));
	makeToplevel(title);
	if (initialCommit)
		wl_surface_commit(surface_);
}

void Window::destroyToplevel(bool xdgSurfaceToo)
{
	toplevel_.reset();
	if (xdgSurfaceToo)
		xdgSurface_.reset();
}

void Window::makeToplevel(const std::string &title)
{
	if (!xdgSurface_) {
		xdgSurface_.reset(xdg_wm_base_get_xdg_surface(client_.wmBase, surface_));
		xdg_surface_add_listener(xdgSurface_, &xdgSurfaceListener, this);
	}
	toplevel_.reset(xdg_surface_get_toplevel(xdgSurface_));
	xdg_toplevel_add_listener(toplevel_, &toplevelListener, this);
	xdg_toplevel_set_title(toplevel_, title.c_str());
	/* Configures sent to the old role object no longer count. */
	serial_ = 0;
	pendingAck_ = false;
	configures_ = 0;
	width_ = height_ = pendingWidth_ = pendingHeight_ = 0;
	states_.clear();
	pendingStates_.clear();
}

bool fullscreenAt(Window &window, int32_t w, int32_t h)
{
	/* Configures sent before (activation, the work area) may come first. */
	for (int i = 0; i < 4; i++) {
		if (!window.waitConfigure())
			return false;
		window.ack();
		if (window.hasState(XDG_TOPLEVEL_STATE_FULLSCREEN) && window.configuredWidth() == w &&
		    window.configuredHeight() == h)
			return true;
	}
	return false;
}

bool Window::waitConfigure()
{
	return client_.dispatchUntil([this] { return pendingAck_; });
}

void Window::ack()
{
	xdg_surface_ack_configure(xdgSurface_, serial_);
	pendingAck_ = false;
}

bool Window::present(wl_buffer *buffer, int32_t width, int32_t height)
{
	wl_surface_attach(surface_, buffer, 0, 0);
	wl_surface_damage_buffer(surface_, 0, 0, width, height);
	return client_.commitAndWaitFrame(surface_).has_value();
}

bool Window::hasState(uint32_t state) const
{
	return std::find(states_.begin(), states_.end(), state) != states_.end();
}

/* TestClient ----------------------------------------------------------- */

const wl_registry_listener TestClient::registryListener = {
	.global = &TestClient::global,
	.global_remove = &TestClient::globalRemove,
};

namespace {

const wl_shm_listener shmListener = {
	.format = [](void *data, wl_shm *, uint32_t format) {
		static_cast<TestClient *>(data)->shmFormats.push_back(format);
	},
};

const wl_seat_listener seatListener = {
	.capabilities = [](void *data, wl_seat *, uint32_t caps) {
		static_cast<TestClient *>(data)->seatCapabilities = caps;
		static_cast<TestClient *>(data)->seatCapabilityEvents++;
	},
	.name = [](void *, wl_seat *, const char *) {},
};

const xdg_wm_base_listener wmBaseListener = {
	.ping = [](void *, xdg_wm_base *base, uint32_t serial) { xdg_wm_base_pong(base, serial); },
};

const wp_presentation_listener presentationListener = {
	.clock_id = [](void *data, wp_presentation *, uint32_t clock) {
		static_cast<TestClient *>(data)->presentationClock = clockid_t(clock);
	},
};

} /* namespace */

SurfaceOutputs::SurfaceOutputs(wl_surface *surface)
{
	static const wl_surface_listener listener = {
		.enter = [](void *data, wl_surface *, wl_output *o) {
			static_cast<SurfaceOutputs *>(data)->entered.push_back(o);
		},
		.leave = [](void *data, wl_surface *, wl_output *o) {
			static_cast<SurfaceOutputs *>(data)->left.push_back(o);
		},
	};
	wl_surface_add_listener(surface, &listener, this);
}

void TestClient::global(void *data, wl_registry *registry, uint32_t name,
			const char *interface, uint32_t version)
{
	auto *self = static_cast<TestClient *>(data);
	std::string iface = interface;
	/* Binds the global named by iface into proxy, at most at version max. */
	auto bind = [&]<typename T>(Proxy<T> &proxy, const wl_interface &type, uint32_t max) {
		if (iface != type.name)
			return false;
		proxy.reset(static_cast<T *>(wl_registry_bind(registry, name, &type,
							      std::min(version, max))));
		return true;
	};
	if (bind(self->compositor, wl_compositor_interface, 5) ||
	    bind(self->subcompositor, wl_subcompositor_interface, 1) ||
	    bind(self->dataDeviceManager, wl_data_device_manager_interface, 3) ||
	    bind(self->viewporter, wp_viewporter_interface, 1) ||
	    bind(self->xdgOutputManager, zxdg_output_manager_v1_interface, 3))
		return;
	if (bind(self->shm, wl_shm_interface, 1)) {
		wl_shm_add_listener(self->shm, &shmListener, self);
	} else if (bind(self->wmBase, xdg_wm_base_interface, 5)) {
		xdg_wm_base_add_listener(self->wmBase, &wmBaseListener, self);
	} else if (bind(self->seat, wl_seat_interface, maxSeatVersion)) {
		wl_seat_add_listener(self->seat, &seatListener, self);
	} else if (bind(self->presentation, wp_presentation_interface, 1)) {
		wp_presentation_add_listener(self->presentation, &presentationListener, self);
	} else if (bind(self->dmabuf, zwp_linux_dmabuf_v1_interface, 4)) {
		self->dmabufVersion = std::min(version, 4u);
	} else {
		Proxy<wl_output> output;
		if (bind(output, wl_output_interface, 4)) {
			self->outputs.push_back(std::move(output));
			self->outputNames.push_back(name);
		}
	}
}

void TestClient::globalRemove(void *data, wl_registry *, uint32_t name)
{
	auto *self = static_cast<TestClient *>(data);
	auto it = std::find(self->outputNames.begin(), self->outputNames.end(), name);
	if (it == self->outputNames.end())
		return;
	/* As a client should: the object is released, not kept on a gone global. */
	self->outputs.erase(self->outputs.begin() + (it - self->outputNames.begin()));
	self->outputNames.erase(it);
	self->outputsRemoved.push_back(name);
}

TestClient::TestClient(const std::string &socket)
{
	display_.reset(wl_display_connect(socket.c_str()));
	if (!display_)
		return;
	registry_.reset(wl_display_get_registry(display()));
	wl_registry_add_listener(registry_, &registryListener, this);
	roundtrip();
	roundtrip();
}

TestClient::~TestClient()
{
	while (!owned_.empty())
		owned_.pop_back();
}

bool TestClient::roundtrip()
{
	return display_ && wl_display_roundtrip(display()) >= 0;
}

bool TestClient::dispatchUntil(const std::function<bool()> &cond, int timeoutMs)
{
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
	while (!cond()) {
		if (wl_display_get_error(display()))
			return false;
		while (wl_display_prepare_read(display()) != 0) {
			if (wl_display_dispatch_pending(display()) < 0)
				return false;
		}
		if (cond()) {
			wl_display_cancel_read(display());
			return true;
		}
		wl_display_flush(display());
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - std::chrono::steady_clock::now()).count();
		if (left <= 0) {
			wl_display_cancel_read(display());
			return false;
		}
		struct pollfd pfd = { wl_display_get_fd(display()), POLLIN, 0 };
		int n = poll(&pfd, 1, int(left));
		if (n <= 0) {
			wl_display_cancel_read(display());
			continue;
		}
		if (wl_display_read_events(display()) < 0)
			return false;
		if (wl_display_dispatch_pending(display()) < 0)
			return false;
	}
	return true;
}

std::optional<ProtocolError> TestClient::error() const
{
	if (!display_ || !wl_display_get_error(display()))
		return std::nullopt;
	ProtocolError error;
	const wl_interface *iface = nullptr;
	error.code = wl_display_get_protocol_error(display(), &iface, &error.id);
	if (iface)
		error.interface = iface->name;
	return error;
}

std::optional<ProtocolError> TestClient::expectError()
{
	for (int i = 0; i < 10 && !wl_display_get_error(display()); i++)
		roundtrip();
	return error();
}

std::optional<uint32_t> TestClient::commitAndWaitFrame(wl_surface *surface)
{
	struct State {
		bool done = false;
		uint32_t time = 0;
	} state;
	static const wl_callback_listener listener = {
		.done = [](void *data, wl_callback *, uint32_t time) {
			auto *s = static_cast<State *>(data);
			s->done = true;
			s->time = time;
		},
	};
	/* Destroyed on return, so a late done after a timeout finds no listener. */
	Proxy<wl_callback> callback(wl_surface_frame(surface));
	wl_callback_add_listener(callback, &listener, &state);
	wl_surface_commit(surface);
	if (!dispatchUntil([&] { return state.done; }))
		return std::nullopt;
	return state.time;
}

namespace {

const wl_pointer_listener pointerListener = {
	.enter = [](void *data, wl_pointer *, uint32_t serial, wl_surface *surface,
		    wl_fixed_t x, wl_fixed_t y) {
		auto *c = static_cast<TestClient *>(data);
		c->pointerEvents.push_back("enter");
		c->pointerFocus = surface;
		c->lastSerial = serial;
		c->pointerX = wl_fixed_to_double(x);
		c->pointerY = wl_fixed_to_double(y);
	},
	.leave = [](void *data, wl_pointer *, uint32_t serial, wl_surface *) {
		auto *c = static_cast<TestClient *>(data);
		c->pointerEvents.push_back("leave");
		c->pointerFocus = nullptr;
		c->lastSerial = serial;
	},
	.motion = [](void *data, wl_pointer *, uint32_t, wl_fixed_t x, wl_fixed_t y) {
		auto *c = static_cast<TestClient *>(data);
		c->pointerEvents.push_back("motion");
		c->pointerX = wl_fixed_to_double(x);
		c->pointerY = wl_fixed_to_double(y);
	},
	.button = [](void *data, wl_pointer *, uint32_t serial, uint32_t, uint32_t button,
		     uint32_t state) {
		auto *c = static_cast<TestClient *>(data);
		c->pointerEvents.push_back("button");
		c->lastSerial = serial;
		if (state == WL_POINTER_BUTTON_STATE_PRESSED)
			c->buttonsPressed.push_back(button);
	},
	.axis = [](void *data, wl_pointer *, uint32_t, uint32_t axis, wl_fixed_t value) {
		char text[64];
		snprintf(text, sizeof(text), "axis %u %.2f", axis, wl_fixed_to_double(value));
		static_cast<TestClient *>(data)->axisEvents.push_back(text);
	},
	.frame = [](void *data, wl_pointer *) {
		auto &events = static_cast<TestClient *>(data)->axisEvents;
		if (!events.empty() && events.back() != "frame")
			events.push_back("frame");
	},
	.axis_source = [](void *data, wl_pointer *, uint32_t source) {
		static_cast<TestClient *>(data)->axisEvents.push_back("source " +
								      std::to_string(source));
	},
	.axis_stop = [](void *data, wl_pointer *, uint32_t, uint32_t axis) {
		static_cast<TestClient *>(data)->axisEvents.push_back("stop " + std::to_string(axis));
	},
	.axis_discrete = [](void *data, wl_pointer *, uint32_t axis, int32_t clicks) {
		static_cast<TestClient *>(data)->axisEvents.push_back(
			"discrete " + std::to_string(axis) + " " + std::to_string(clicks));
	},
	.axis_value120 = [](void *data, wl_pointer *, uint32_t axis, int32_t value) {
		static_cast<TestClient *>(data)->axisEvents.push_back(
			"value120 " + std::to_string(axis) + " " + std::to_string(value));
	},
};

const wl_keyboard_listener keyboardListener = {
	.keymap = [](void *data, wl_keyboard *, uint32_t, int32_t fd, uint32_t size) {
		auto *c = static_cast<TestClient *>(data);
		bufmgr::UniqueFd owned(fd);
		c->keymapSize = int(size);
		void *map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			c->keymapHead.assign(static_cast<const char *>(map), std::min<size_t>(size, 64));
			munmap(map, size);
		}
		/* A sealed keymap cannot be mapped writable and shared. */
		void *w = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		c->keymapWritable = w != MAP_FAILED;
		if (w != MAP_FAILED)
			munmap(w, size);
	},
	.enter = [](void *data, wl_keyboard *, uint32_t serial, wl_surface *surface, wl_array *) {
		auto *c = static_cast<TestClient *>(data);
		c->keyboardFocus = surface;
		c->keyboardEnterSerial = serial;
		c->lastSerial = serial;
	},
	.leave = [](void *data, wl_keyboard *, uint32_t, wl_surface *) {
		static_cast<TestClient *>(data)->keyboardFocus = nullptr;
	},
	.key = [](void *data, wl_keyboard *, uint32_t serial, uint32_t, uint32_t key,
		  uint32_t state) {
		auto *c = static_cast<TestClient *>(data);
		c->lastSerial = serial;
		if (state == WL_KEYBOARD_KEY_STATE_PRESSED)
			c->keysPressed.push_back(key);
	},
	.modifiers = [](void *, wl_keyboard *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) {},
	.repeat_info = [](void *, wl_keyboard *, int32_t, int32_t) {},
};

const wl_touch_listener touchListener = {
	.down = [](void *data, wl_touch *, uint32_t serial, uint32_t, wl_surface *surface,
		   int32_t id, wl_fixed_t x, wl_fixed_t y) {
		auto *c = static_cast<TestClient *>(data);
		c->touchPoints[id] = { surface, wl_fixed_to_double(x), wl_fixed_to_double(y) };
		c->touchDownSerial = serial;
		c->lastSerial = serial;
		c->touchEvents.push_back("down " + std::to_string(id));
	},
	.up = [](void *data, wl_touch *, uint32_t serial, uint32_t, int32_t id) {
		auto *c = static_cast<TestClient *>(data);
		c->touchPoints.erase(id);
		c->lastSerial = serial;
		c->touchEvents.push_back("up " + std::to_string(id));
	},
	.motion = [](void *data, wl_touch *, uint32_t, int32_t id, wl_fixed_t x, wl_fixed_t y) {
		auto *c = static_cast<TestClient *>(data);
		c->touchPoints[id].x = wl_fixed_to_double(x);
		c->touchPoints[id].y = wl_fixed_to_double(y);
		c->touchEvents.push_back("motion " + std::to_string(id));
	},
	.frame = [](void *data, wl_touch *) {
		static_cast<TestClient *>(data)->touchEvents.push_back("frame");
	},
	.cancel = [](void *data, wl_touch *) {
		auto *c = static_cast<TestClient *>(data);
		c->touchPoints.clear();
		c->touchEvents.push_back("cancel");
	},
	.shape = [](void *data, wl_touch *, int32_t id, wl_fixed_t major, wl_fixed_t minor) {
		auto *c = static_cast<TestClient *>(data);
		c->touchPoints[id].major = wl_fixed_to_double(major);
		c->touchPoints[id].minor = wl_fixed_to_double(minor);
		c->touchEvents.push_back("shape " + std::to_string(id));
	},
	.orientation = [](void *data, wl_touch *, int32_t id, wl_fixed_t degrees) {
		auto *c = static_cast<TestClient *>(data);
		c->touchPoints[id].orientation = wl_fixed_to_double(degrees);
		c->touchEvents.push_back("orientation " + std::to_string(id));
	},
};

} /* namespace */

void TestClient::bindTouch()
{
	touch.reset(wl_seat_get_touch(seat));
	wl_touch_add_listener(touch, &touchListener, this);
	roundtrip();
}

void TestClient::bindInput()
{
	pointer.reset(wl_seat_get_pointer(seat));
	wl_pointer_add_listener(pointer, &pointerListener, this);
	keyboard.reset(wl_seat_get_keyboard(seat));
	wl_keyboard_add_listener(keyboard, &keyboardListener, this);
	roundtrip();
}

std::string readAll(int fd, int timeoutMs)
{
	std::string out;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
	for (;;) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - std::chrono::steady_clock::now()).count();
		if (left <= 0)
			break;
		struct pollfd pfd = { fd, POLLIN, 0 };
		if (poll(&pfd, 1, int(left)) <= 0)
			break;
		char buf[256];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		out.append(buf, size_t(n));
	}
	return out;
}

MappedWindow::MappedWindow(TestClient &client, const std::string &title, uint32_t w,
			   uint32_t h, uint32_t colour)
	: window(client, title), buffer(client.shm, w, h)
{
	buffer.fill(colour);
	ok = window.waitConfigure();
	window.ack();
	ok = ok && window.present(buffer.buffer(), int32_t(w), int32_t(h));
}

} /* namespace heapcomp::test */
