/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <bufmgr/result.h>

#include "backend/drm/session.h"
#include "backend/drm/udev_ptr.h"
#include "rect.h"
#include "wayland_util.h"

struct libinput;
struct libinput_event;
struct wl_event_loop;

namespace comp {

class InputSink;

/*
 * The seat's keyboards, pointers and touch screens through libinput's
 * udev backend, each device opened through the session. libinput finds
 * devices by the tags udev gives them: without a running udev there are
 * none. Relative pointer motion moves a cursor clamped to the outputs;
 * absolute pointers and touch screens map onto the first output.
 */
class InputDevices
{
public:
	/* Where events go (null: dropped) and the outputs' rectangles in global space. */
	using SinkGetter = std::function<InputSink *()>;
	using LayoutGetter = std::function<std::vector<Rect>()>;

	static Result<std::unique_ptr<InputDevices>> create(wl_event_loop *loop, Session &session,
							    SinkGetter sink, LayoutGetter layout);
	~InputDevices();
	InputDevices(const InputDevices &) = delete;
	InputDevices &operator=(const InputDevices &) = delete;

	/*
	 * While the session is away: devices closed, and opened again on
	 * resume. The seat sees no device go and come back meanwhile: what
	 * it is offered changes only if the devices differ after resume.
	 */
	void suspend();
	void resume();

	/* An output went or came: a cursor left on no output moves onto the nearest. */
	void layoutChanged();

	/* As the seat was last told. */
	bool hasTouch() const { return touchTold_; }
	/* Devices libinput has now, by name. */
	std::vector<std::string> deviceNames() const;

private:
	InputDevices(Session &session, SinkGetter sink, LayoutGetter layout);
	static int openRestricted(const char *path, int flags, void *data);
	static void closeRestricted(int fd, void *data);
	static int onReadable(int fd, uint32_t mask, void *data);
	void dispatch();
	void handle(libinput_event *event);
	/* Tells the seat if touch came or went. */
	void checkDevices();
	static int onRemovalCheck(void *data);
	void moveBy(double dx, double dy, uint32_t timeMs);
	/* Moves the cursor onto the nearest point of an output; false if there are none. */
	bool clampCursor();
	/* The first output, where absolute devices map to. */
	Rect firstOutput() const;

	Session &session_;
	SinkGetter sink_;
	LayoutGetter layout_;
	struct LibinputUnref {
		void operator()(libinput *li) const;
	};
	UdevPtr udev_;
	std::unique_ptr<libinput, LibinputUnref> libinput_;
	EventSource source_;
	/* Devices the seat opened for libinput, by fd. */
	std::unordered_map<int, SessionDevice> open_;
	std::unordered_map<std::string, int> devices_;	/* name: how many */
	int touchDevices_ = 0;
	bool suspended_ = false;
	/* Whether the seat was told of a touch device, and the check after a removal. */
	bool touchTold_ = false;
	EventSource removalCheck_;
	double cursorX_ = 0;
	double cursorY_ = 0;
	bool cursorPlaced_ = false;
};

} /* namespace comp */
