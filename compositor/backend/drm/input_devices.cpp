/* SPDX-License-Identifier: MIT */
#include "backend/drm/input_devices.h"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include <libinput.h>
#include <libudev.h>
#include <wayland-server-core.h>

#include <bufmgr/clock.h>

#include "backend/backend.h"
#include "log.h"

namespace comp {

namespace {

void logFromLibinput(libinput *, enum libinput_log_priority priority, const char *format,
		     va_list args)
{
	char line[512];
	vsnprintf(line, sizeof(line), format, args);
	/* libinput ends its lines with a newline; the log adds its own. */
	if (size_t n = strlen(line); n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	if (priority >= LIBINPUT_LOG_PRIORITY_ERROR)
		LOG_WARNING("libinput: %s", line);
	else
		LOG_DEBUG("libinput: %s", line);
}

std::string capabilities(libinput_device *device)
{
	std::string caps;
	auto add = [&](libinput_device_capability cap, const char *name) {
		if (libinput_device_has_capability(device, cap))
			caps += (caps.empty() ? "" : ", ") + std::string(name);
	};
	add(LIBINPUT_DEVICE_CAP_KEYBOARD, "keyboard");
	add(LIBINPUT_DEVICE_CAP_POINTER, "pointer");
	add(LIBINPUT_DEVICE_CAP_TOUCH, "touch");
	return caps.empty() ? "nothing heapcomp uses" : caps;
}

/* Long enough for the seat's word that the session went to arrive. */
constexpr int kRemovalDelayMs = 200;

} /* namespace */

void InputDevices::LibinputUnref::operator()(libinput *li) const
{
	libinput_unref(li);
}

InputDevices::InputDevices(Session &session, SinkGetter sink, LayoutGetter layout)
	: session_(session), sink_(std::move(sink)), layout_(std::move(layout))
{
}

InputDevices::~InputDevices()
{
	source_.reset();
	removalCheck_.reset();
	/* Closes every device through closeRestricted() while open_ still exists. */
	libinput_.reset();
}

Result<std::unique_ptr<InputDevices>> InputDevices::create(wl_event_loop *loop, Session &session,
							   SinkGetter sink, LayoutGetter layout)
{
	static const libinput_interface interface = {
		.open_restricted = &InputDevices::openRestricted,
		.close_restricted = &InputDevices::closeRestricted,
	};
	std::unique_ptr<InputDevices> input(
		new InputDevices(session, std::move(sink), std::move(layout)));
	input->udev_.reset(udev_new());
	if (!input->udev_)
		return bufmgr::unexpected(errno ? errno : ENOMEM, "udev_new");
	input->libinput_.reset(
		libinput_udev_create_context(&interface, input.get(), input->udev_.get()));
	if (!input->libinput_)
		return bufmgr::unexpected(ENOMEM, "libinput_udev_create_context");
	libinput_log_set_handler(input->libinput_.get(), logFromLibinput);
	libinput_log_set_priority(input->libinput_.get(), LIBINPUT_LOG_PRIORITY_ERROR);
	if (libinput_udev_assign_seat(input->libinput_.get(), session.seatName().c_str()) < 0)
		return bufmgr::unexpected(EINVAL, "libinput: assigning seat " + session.seatName());
	input->removalCheck_.reset(
		wl_event_loop_add_timer(loop, &InputDevices::onRemovalCheck, input.get()));
	if (!input->removalCheck_)
		return bufmgr::unexpected(ENOMEM, "timer for input device removals");
	input->source_.reset(wl_event_loop_add_fd(loop, libinput_get_fd(input->libinput_.get()),
						  WL_EVENT_READABLE, &InputDevices::onReadable,
						  input.get()));
	if (!input->source_)
		return bufmgr::unexpected(ENOMEM, "event source for libinput");
	/* The devices found so far, logged now rather than at the first event. */
	input->dispatch();
	if (input->devices_.empty())
		LOG_WARNING("no input devices on %s (libinput takes those udev tagged: is udev "
			    "running?)",
			    session.seatName().c_str());
	return input;
}

int InputDevices::openRestricted(const char *path, int, void *data)
{
	auto *self = static_cast<InputDevices *>(data);
	auto device = self->session_.openDevice(path);
	if (!device) {
		LOG_WARNING("%s", device.error().message().c_str());
		return -device.error().code;
	}
	const int fd = device->get();
	self->open_.emplace(fd, std::move(*device));
	return fd;
}

void InputDevices::closeRestricted(int fd, void *data)
{
	static_cast<InputDevices *>(data)->open_.erase(fd);
}

int InputDevices::onReadable(int, uint32_t, void *data)
{
	static_cast<InputDevices *>(data)->dispatch();
	return 0;
}

void InputDevices::suspend()
{
	if (suspended_)
		return;
	suspended_ = true;
	/* libinput removes every device: handled now, while the seat is not told. */
	libinput_suspend(libinput_.get());
	dispatch();
	LOG_INFO("input devices closed while the session is away");
}

void InputDevices::resume()
{
	if (!suspended_)
		return;
	if (libinput_resume(libinput_.get()) < 0)
		LOG_WARNING("libinput: resuming the input devices failed");
	dispatch();
	suspended_ = false;
	LOG_INFO("input devices opened again: %zu", deviceNames().size());
	/* A touch screen unplugged or plugged in while away. */
	checkDevices();
}

void InputDevices::checkDevices()
{
	if (suspended_ || touchTold_ == (touchDevices_ > 0))
		return;
	touchTold_ = touchDevices_ > 0;
	if (InputSink *sink = sink_())
		sink->devicesChanged();
}

int InputDevices::onRemovalCheck(void *data)
{
	static_cast<InputDevices *>(data)->checkDevices();
	return 0;
}

std::vector<std::string> InputDevices::deviceNames() const
{
	std::vector<std::string> names;
	for (const auto &[name, count] : devices_)
		names.insert(names.end(), size_t(count), name);
	std::sort(names.begin(), names.end());
	return names;
}

void InputDevices::dispatch()
{
	if (libinput_dispatch(libinput_.get()) < 0)
		LOG_WARNING("libinput: dispatch: %s", strerror(errno));
	while (libinput_event *event = libinput_get_event(libinput_.get())) {
		handle(event);
		libinput_event_destroy(event);
	}
}

Rect InputDevices::firstOutput() const
{
	const std::vector<Rect> outputs = layout_();
	return outputs.empty() ? Rect{ 0, 0, 1, 1 } : outputs.front();
}

void InputDevices::moveBy(double dx, double dy, uint32_t timeMs)
{
	const std::vector<Rect> outputs = layout_();
	if (outputs.empty())
		return;
	if (!cursorPlaced_) {
		cursorX_ = outputs.front().x + outputs.front().width / 2.0;
		cursorY_ = outputs.front().y + outputs.front().height / 2.0;
		cursorPlaced_ = true;
	}
	cursorX_ += dx;
	cursorY_ += dy;
	clampCursor();
	if (InputSink *sink = sink_())
		sink->pointerMotion(cursorX_, cursorY_, timeMs);
}

bool InputDevices::clampCursor()
{
	/* Onto the nearest point of any output, so the cursor never leaves them. */
	const double x = cursorX_, y = cursorY_;
	double bestDistance = -1;
	for (const Rect &r : layout_()) {
		const double cx = std::clamp(x, double(r.x), double(r.right()) - 1);
		const double cy = std::clamp(y, double(r.y), double(r.bottom()) - 1);
		const double distance = (cx - x) * (cx - x) + (cy - y) * (cy - y);
		if (bestDistance < 0 || distance < bestDistance) {
			bestDistance = distance;
			cursorX_ = cx;
			cursorY_ = cy;
		}
	}
	return bestDistance >= 0;
}

void InputDevices::layoutChanged()
{
	if (!cursorPlaced_)
		return;
	const double x = cursorX_, y = cursorY_;
	if (!clampCursor() || (cursorX_ == x && cursorY_ == y))
		return;
	/* On libinput's clock, as its events' times. */
	const auto timeMs = uint32_t(bufmgr::clockNs(CLOCK_MONOTONIC) / 1000000);
	if (InputSink *sink = sink_())
		sink->pointerMotion(cursorX_, cursorY_, timeMs);
}

void InputDevices::handle(libinput_event *event)
{
	InputSink *sink = sink_();
	switch (libinput_event_get_type(event)) {
	case LIBINPUT_EVENT_DEVICE_ADDED:
	case LIBINPUT_EVENT_DEVICE_REMOVED: {
		libinput_device *device = libinput_event_get_device(event);
		const bool added = libinput_event_get_type(event) == LIBINPUT_EVENT_DEVICE_ADDED;
		const std::string name = libinput_device_get_name(device);
		const int step = added ? 1 : -1;
		if ((devices_[name] += step) <= 0)
			devices_.erase(name);
		if (libinput_device_has_capability(device, LIBINPUT_DEVICE_CAP_TOUCH))
			touchDevices_ += step;
		/* Every device goes and comes back with the session: no news. */
		if (suspended_)
			LOG_DEBUG("input device %s with the session: %s", added ? "back" : "closed",
				  name.c_str());
		else
			LOG_INFO("input device %s: %s (%s, %s)", added ? "added" : "removed",
				 name.c_str(), libinput_device_get_sysname(device),
				 capabilities(device).c_str());
		/*
		 * A removal waits a little before the seat hears of it: when the
		 * session goes, the seat revokes the devices, and libinput may see
		 * that before we hear the session went. They come back with it.
		 */
		if (added)
			checkDevices();
		else if (removalCheck_)
			wl_event_source_timer_update(removalCheck_.get(), kRemovalDelayMs);
		break;
	}
	case LIBINPUT_EVENT_KEYBOARD_KEY: {
		libinput_event_keyboard *key = libinput_event_get_keyboard_event(event);
		const bool pressed =
			libinput_event_keyboard_get_key_state(key) == LIBINPUT_KEY_STATE_PRESSED;
		/* The same key on two keyboards: the seat hears the first press and last release. */
		const uint32_t held = libinput_event_keyboard_get_seat_key_count(key);
		if (sink && held == (pressed ? 1u : 0u))
			sink->key(libinput_event_keyboard_get_key(key), pressed,
				  libinput_event_keyboard_get_time(key));
		break;
	}
	case LIBINPUT_EVENT_POINTER_MOTION: {
		libinput_event_pointer *p = libinput_event_get_pointer_event(event);
		moveBy(libinput_event_pointer_get_dx(p), libinput_event_pointer_get_dy(p),
		       libinput_event_pointer_get_time(p));
		break;
	}
	case LIBINPUT_EVENT_POINTER_MOTION_ABSOLUTE: {
		libinput_event_pointer *p = libinput_event_get_pointer_event(event);
		const Rect out = firstOutput();
		cursorX_ = out.x + libinput_event_pointer_get_absolute_x_transformed(p, uint32_t(out.width));
		cursorY_ = out.y + libinput_event_pointer_get_absolute_y_transformed(p, uint32_t(out.height));
		cursorPlaced_ = true;
		if (sink)
			sink->pointerMotion(cursorX_, cursorY_, libinput_event_pointer_get_time(p));
		break;
	}
	case LIBINPUT_EVENT_POINTER_BUTTON: {
		libinput_event_pointer *p = libinput_event_get_pointer_event(event);
		const bool pressed =
			libinput_event_pointer_get_button_state(p) == LIBINPUT_BUTTON_STATE_PRESSED;
		const uint32_t held = libinput_event_pointer_get_seat_button_count(p);
		if (sink && held == (pressed ? 1u : 0u))
			sink->pointerButton(libinput_event_pointer_get_button(p), pressed,
					    libinput_event_pointer_get_time(p));
		break;
	}
	/* The scroll events of libinput 1.19 on; the older AXIS event repeats them. */
	case LIBINPUT_EVENT_POINTER_SCROLL_WHEEL:
	case LIBINPUT_EVENT_POINTER_SCROLL_FINGER:
	case LIBINPUT_EVENT_POINTER_SCROLL_CONTINUOUS: {
		libinput_event_pointer *p = libinput_event_get_pointer_event(event);
		const libinput_event_type type = libinput_event_get_type(event);
		PointerAxis scroll;
		scroll.source = type == LIBINPUT_EVENT_POINTER_SCROLL_FINGER ? PointerAxis::Source::Finger
				: type == LIBINPUT_EVENT_POINTER_SCROLL_CONTINUOUS
					? PointerAxis::Source::Continuous
					: PointerAxis::Source::Wheel;
		for (auto axis : { LIBINPUT_POINTER_AXIS_SCROLL_VERTICAL,
				   LIBINPUT_POINTER_AXIS_SCROLL_HORIZONTAL }) {
			if (!sink || !libinput_event_pointer_has_axis(p, axis))
				continue;
			scroll.horizontal = axis == LIBINPUT_POINTER_AXIS_SCROLL_HORIZONTAL;
			/* A finger's or a continuous scroll's 0 is its end: axis_stop. */
			scroll.value = libinput_event_pointer_get_scroll_value(p, axis);
			scroll.value120 =
				type == LIBINPUT_EVENT_POINTER_SCROLL_WHEEL
					? int32_t(libinput_event_pointer_get_scroll_value_v120(p, axis))
					: 0;
			sink->pointerAxis(scroll, libinput_event_pointer_get_time(p));
		}
		break;
	}
	case LIBINPUT_EVENT_TOUCH_DOWN:
	case LIBINPUT_EVENT_TOUCH_MOTION: {
		libinput_event_touch *t = libinput_event_get_touch_event(event);
		const Rect out = firstOutput();
		const double x = out.x + libinput_event_touch_get_x_transformed(t, uint32_t(out.width));
		const double y = out.y + libinput_event_touch_get_y_transformed(t, uint32_t(out.height));
		const int32_t id = libinput_event_touch_get_seat_slot(t);
		const uint32_t time = libinput_event_touch_get_time(t);
		if (!sink)
			break;
		if (libinput_event_get_type(event) == LIBINPUT_EVENT_TOUCH_DOWN)
			sink->touchDown(id, x, y, time);
		else
			sink->touchMotion(id, x, y, time);
		break;
	}
	case LIBINPUT_EVENT_TOUCH_UP: {
		libinput_event_touch *t = libinput_event_get_touch_event(event);
		if (sink)
			sink->touchUp(libinput_event_touch_get_seat_slot(t),
				      libinput_event_touch_get_time(t));
		break;
	}
	case LIBINPUT_EVENT_TOUCH_FRAME:
		if (sink)
			sink->touchFrame();
		break;
	case LIBINPUT_EVENT_TOUCH_CANCEL:
		if (sink)
			sink->touchCancel();
		break;
	default:
		break;
	}
}

} /* namespace comp */
