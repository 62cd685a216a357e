/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <wayland-client.h>

#include <linux-dmabuf-unstable-v1-client-protocol.h>
#include <presentation-time-client-protocol.h>
#include <viewporter-client-protocol.h>
#include <xdg-output-unstable-v1-client-protocol.h>
#include <xdg-shell-client-protocol.h>

#include <bufmgr/unique_fd.h>

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
	wl_shm_pool *pool_ = nullptr;
	wl_buffer *buffer_ = nullptr;
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
	~Window();
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
	wl_surface *surface_ = nullptr;
	xdg_surface *xdgSurface_ = nullptr;
	xdg_toplevel *toplevel_ = nullptr;
	uint32_t serial_ = 0;
	bool pendingAck_ = false;
	int configures_ = 0;
	int32_t width_ = 0, height_ = 0;
	int32_t pendingWidth_ = 0, pendingHeight_ = 0;
	std::vector<uint32_t> states_, pendingStates_;
};

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

/*
 * A real Wayland client on its own connection, with the globals bound
 * and the events the tests look at recorded.
 */
class TestClient
{
public:
	explicit TestClient(const std::string &socket);
	~TestClient();
	TestClient(const TestClient &) = delete;
	TestClient &operator=(const TestClient &) = delete;

	bool connected() const { return display_ != nullptr; }
	wl_display *display() const { return display_; }

	wl_compositor *compositor = nullptr;
	wl_subcompositor *subcompositor = nullptr;
	wl_shm *shm = nullptr;
	xdg_wm_base *wmBase = nullptr;
	wl_seat *seat = nullptr;
	wl_data_device_manager *dataDeviceManager = nullptr;
	wp_viewporter *viewporter = nullptr;
	wp_presentation *presentation = nullptr;
	zwp_linux_dmabuf_v1 *dmabuf = nullptr;
	zxdg_output_manager_v1 *xdgOutputManager = nullptr;
	std::vector<wl_output *> outputs;
	uint32_t dmabufVersion = 0;
	std::vector<uint32_t> shmFormats;
	clockid_t presentationClock = CLOCK_MONOTONIC;

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
	wl_pointer *pointer = nullptr;
	wl_keyboard *keyboard = nullptr;
	wl_surface *pointerFocus = nullptr;
	wl_surface *keyboardFocus = nullptr;
	uint32_t lastSerial = 0;
	uint32_t keyboardEnterSerial = 0;
	std::vector<uint32_t> keysPressed;
	std::vector<uint32_t> buttonsPressed;
	double pointerX = 0, pointerY = 0;
	int keymapSize = 0;
	std::string keymapHead;	/* first bytes of the keymap */
	bool keymapWritable = true;
	uint32_t seatCapabilities = 0;
	void bindInput();

	/* Touch state: the points down now, and every event in order. */
	struct TouchPoint {
		wl_surface *surface = nullptr;
		double x = 0, y = 0;
	};
	wl_touch *touch = nullptr;
	std::map<int32_t, TouchPoint> touchPoints;
	/* "down 0", "motion 0", "up 0", "frame", "cancel" */
	std::vector<std::string> touchEvents;
	uint32_t touchDownSerial = 0;
	void bindTouch();

private:
	static const wl_registry_listener registryListener;
	static void global(void *data, wl_registry *registry, uint32_t name,
			   const char *interface, uint32_t version);
	static void globalRemove(void *data, wl_registry *registry, uint32_t name);

	wl_display *display_ = nullptr;
	wl_registry *registry_ = nullptr;
};

/* Reads a pipe to the end (for clipboard tests). */
std::string readAll(int fd, int timeoutMs = 5000);

} /* namespace heapcomp::test */
