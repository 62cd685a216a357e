/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <bufmgr/unique_fd.h>

#include "proxy.h"

namespace heapcomp::test {

/* A wl_shm buffer in its own pool, filled from the CPU. */
class ShmBuffer
{
public:
	ShmBuffer(wl_shm *shm, uint32_t width, uint32_t height,
		  uint32_t format = WL_SHM_FORMAT_XRGB8888);
	~ShmBuffer();
	ShmBuffer(const ShmBuffer &) = delete;
	ShmBuffer &operator=(const ShmBuffer &) = delete;

	wl_buffer *buffer() const { return buffer_; }
	uint32_t width() const { return width_; }
	uint32_t height() const { return height_; }
	uint32_t *pixels() const { return static_cast<uint32_t *>(data_); }
	void fill(uint32_t argb);
	void fillRect(int x, int y, int w, int h, uint32_t argb);
	/* Counted wl_buffer.release events. */
	int releases() const { return releases_; }
	void resetReleases() { releases_ = 0; }

private:
	static void onRelease(void *data, wl_buffer *buffer);

	uint32_t width_, height_;
	size_t size_ = 0;
	void *data_ = nullptr;
	Proxy<wl_shm_pool> pool_;
	Proxy<wl_buffer> buffer_;
	int releases_ = 0;
};

struct ProtocolError {
	uint32_t code = 0;
	std::string interface;	/* "" when the connection died otherwise */
	uint32_t id = 0;
};

class TestClient;

/* An xdg_toplevel with its configure state. */
class Window
{
public:
	Window(TestClient &client, const std::string &title, bool initialCommit = true);
	Window(const Window &) = delete;
	Window &operator=(const Window &) = delete;

	wl_surface *surface() const { return surface_; }
	xdg_surface *xdgSurface() const { return xdgSurface_; }
	xdg_toplevel *toplevel() const { return toplevel_; }

	/* Waits for a configure not yet acked; false on timeout or error. */
	bool waitConfigure();
	/* Acks the last configure received. */
	void ack();
	/* attach + damage + commit, then waits for the frame callback. */
	bool present(wl_buffer *buffer, int32_t width, int32_t height);
	/* Destroys the toplevel, and with xdgSurfaceToo its xdg_surface. */
	void destroyToplevel(bool xdgSurfaceToo);
	/* A toplevel on the wl_surface (and a new xdg_surface if it has none), not committed. */
	void makeToplevel(const std::string &title);

	uint32_t configureSerial() const { return serial_; }
	int configures() const { return configures_; }
	int32_t configuredWidth() const { return width_; }
	int32_t configuredHeight() const { return height_; }
	const std::vector<uint32_t> &states() const { return states_; }
	bool hasState(uint32_t state) const;

private:
	static const xdg_surface_listener xdgSurfaceListener;
	static const xdg_toplevel_listener toplevelListener;

	TestClient &client_;
	/* Destroyed bottom up: the role objects before the surface. */
	Proxy<wl_surface> surface_;
	Proxy<xdg_surface> xdgSurface_;
	Proxy<xdg_toplevel> toplevel_;
	uint32_t serial_ = 0;
	bool pendingAck_ = false;
	int configures_ = 0;
	int32_t width_ = 0, height_ = 0;
	int32_t pendingWidth_ = 0, pendingHeight_ = 0;
	std::vector<uint32_t> states_, pendingStates_;
};

/* Acks configures until window is fullscreen at w x h; false if it never is. */
bool fullscreenAt(Window &window, int32_t w, int32_t h);

/*
 * A toplevel of one colour, configured, acked and presented: the window
 * most tests start from. ok is false if the configure or the frame did
 * not come.
 */
struct MappedWindow {
	MappedWindow(TestClient &client, const std::string &title, uint32_t w, uint32_t h,
		     uint32_t colour);

	Window window;
	ShmBuffer buffer;
	bool ok = false;
};

/* The wl_surface.enter and leave events of one surface, in order. */
struct SurfaceOutputs {
	/* Listens on surface, which must have no listener yet. */
	explicit SurfaceOutputs(wl_surface *surface);
	SurfaceOutputs(const SurfaceOutputs &) = delete;
	SurfaceOutputs &operator=(const SurfaceOutputs &) = delete;

	std::vector<wl_output *> entered, left;
};

/*
 * A real Wayland client on its own connection, with the globals bound
 * and the events the tests look at recorded.
 */
class TestClient
{
	struct Disconnect {
		void operator()(wl_display *display) const { wl_display_disconnect(display); }
	};
	/* First, so destroyed last: every proxy goes before the connection. */
	std::unique_ptr<wl_display, Disconnect> display_;
	Proxy<wl_registry> registry_;

public:
	explicit TestClient(const std::string &socket);
	~TestClient();
	TestClient(const TestClient &) = delete;
	TestClient &operator=(const TestClient &) = delete;

	bool connected() const { return display_ != nullptr; }
	wl_display *display() const { return display_.get(); }

	Proxy<wl_compositor> compositor;
	Proxy<wl_subcompositor> subcompositor;
	Proxy<wl_shm> shm;
	Proxy<xdg_wm_base> wmBase;
	Proxy<wl_seat> seat;
	Proxy<wl_data_device_manager> dataDeviceManager;
	Proxy<wp_viewporter> viewporter;
	Proxy<wp_presentation> presentation;
	Proxy<zwp_linux_dmabuf_v1> dmabuf;
	Proxy<zxdg_output_manager_v1> xdgOutputManager;
	std::vector<Proxy<wl_output>> outputs;
	/* The registry names of outputs[i], and of outputs whose global went. */
	std::vector<uint32_t> outputNames;
	std::vector<uint32_t> outputsRemoved;
	wl_registry *registry() const { return registry_.get(); }
	uint32_t dmabufVersion = 0;
	std::vector<uint32_t> shmFormats;
	clockid_t presentationClock = CLOCK_MONOTONIC;

	/*
	 * Keeps a proxy, or an object holding proxies, until the client
	 * goes: for objects a test makes and never touches again, such as
	 * those of a client about to get a protocol error. Returns it.
	 */
	template<typename T>
	T *own(T *proxy);
	template<typename T>
	T *own(std::unique_ptr<T> object);

	/* false once the connection has an error. */
	bool roundtrip();
	/* Dispatches until cond() holds; false on timeout or error. */
	bool dispatchUntil(const std::function<bool()> &cond, int timeoutMs = 20000);
	/* The protocol error that ended the connection, if any. */
	std::optional<ProtocolError> error() const;
	/* Roundtrips until the server's error arrives. */
	std::optional<ProtocolError> expectError();

	/* Commit with a frame callback and wait for it; its timestamp. */
	std::optional<uint32_t> commitAndWaitFrame(wl_surface *surface);

	/* Input state (pointer and keyboard). */
	Proxy<wl_pointer> pointer;
	Proxy<wl_keyboard> keyboard;
	wl_surface *pointerFocus = nullptr;
	wl_surface *keyboardFocus = nullptr;
	uint32_t lastSerial = 0;
	uint32_t keyboardEnterSerial = 0;
	std::vector<uint32_t> keysPressed;
	std::vector<uint32_t> buttonsPressed;
	double pointerX = 0, pointerY = 0;
	/* "enter", "leave", "motion", "button", in order */
	std::vector<std::string> pointerEvents;
	/*
	 * Scroll events in order, each pointer frame ending in "frame":
	 * "source S", "value120 AXIS N", "discrete AXIS N", "axis AXIS V.VV", "stop AXIS".
	 */
	std::vector<std::string> axisEvents;
	/* The newest wl_seat a client made from now on binds. */
	static inline uint32_t maxSeatVersion = 8;
	int keymapSize = 0;
	std::string keymapHead;	/* first bytes of the keymap */
	bool keymapWritable = true;
	uint32_t seatCapabilities = 0;
	int seatCapabilityEvents = 0;
	void bindInput();

	/* Touch state: the points down now, and every event in order. */
	struct TouchPoint {
		wl_surface *surface = nullptr;
		double x = 0, y = 0;
		double major = 0, minor = 0, orientation = 0;
	};
	Proxy<wl_touch> touch;
	std::map<int32_t, TouchPoint> touchPoints;
	/* "down 0", "motion 0", "shape 0", "orientation 0", "up 0", "frame", "cancel" */
	std::vector<std::string> touchEvents;
	uint32_t touchDownSerial = 0;
	void bindTouch();

private:
	static const wl_registry_listener registryListener;
	static void global(void *data, wl_registry *registry, uint32_t name,
			   const char *interface, uint32_t version);
	static void globalRemove(void *data, wl_registry *registry, uint32_t name);

	/* Released newest first by the destructor, before the globals. */
	std::vector<std::shared_ptr<void>> owned_;
};

template<typename T>
T *TestClient::own(T *proxy)
{
	if (proxy)
		owned_.emplace_back(proxy, [](T *p) { destroyProxy(p); });
	return proxy;
}

template<typename T>
T *TestClient::own(std::unique_ptr<T> object)
{
	T *raw = object.get();
	owned_.emplace_back(std::move(object));
	return raw;
}

/* Reads a pipe to the end (for clipboard tests). */
std::string readAll(int fd, int timeoutMs = 5000);

} /* namespace heapcomp::test */
