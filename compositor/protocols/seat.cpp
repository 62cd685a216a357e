/* SPDX-License-Identifier: MIT */
#include "protocols/seat.h"

#include <algorithm>
#include <cmath>
#include <errno.h>
#include <linux/input-event-codes.h>
#include <span>
#include <string.h>

#include <wayland-server-protocol.h>
#include <xkbcommon/xkbcommon.h>

#include <bufmgr/memfd.h>

#include "log.h"
#include "protocols/xdg_shell.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

/* The role of cursor surfaces; the seat keeps their hotspot. */
class CursorRole : public SurfaceRole
{
public:
	const char *roleName() const override { return "wl_pointer-cursor"; }
	void committed(Surface &surface, RoleState *) override
	{
		surface.server().seat().cursorCommitted(surface);
	}
};

CursorRole cursorRole;

constexpr size_t kRememberedSerials = 64;

wl_fixed_t toFixed(double v)
{
	return wl_fixed_from_double(v);
}

} /* namespace */

struct SeatRequests {
	static Seat *from(wl_resource *resource)
	{
		return static_cast<Seat *>(wl_resource_get_user_data(resource));
	}

	static void getPointer(wl_client *client, wl_resource *resource, uint32_t id)
	{
		from(resource)->getPointer(client, resource, id);
	}

	static void getKeyboard(wl_client *client, wl_resource *resource, uint32_t id)
	{
		from(resource)->getKeyboard(client, resource, id);
	}

	static void getTouch(wl_client *client, wl_resource *resource, uint32_t id)
	{
		from(resource)->getTouch(client, resource, id);
	}

	static void setCursor(wl_client *, wl_resource *resource, uint32_t serial,
			      wl_resource *surface, int32_t hotspotX, int32_t hotspotY)
	{
		if (Seat *seat = from(resource))
			seat->setCursor(resource, serial, surface, hotspotX, hotspotY);
	}
};

namespace {

const struct wl_seat_interface seatImpl = {
	.get_pointer = SeatRequests::getPointer,
	.get_keyboard = SeatRequests::getKeyboard,
	.get_touch = SeatRequests::getTouch,
	.release = destroyResource,
};

const struct wl_pointer_interface pointerImpl = {
	.set_cursor = SeatRequests::setCursor,
	.release = destroyResource,
};

const struct wl_keyboard_interface keyboardImpl = {
	.release = destroyResource,
};

const struct wl_touch_interface touchImpl = {
	.release = destroyResource,
};

} /* namespace */

bufmgr::Result<std::unique_ptr<Seat>> Seat::create(Server &server, const KeymapNames &names)
{
	std::unique_ptr<Seat> seat(new Seat(server));
	auto ret = seat->init(names);
	if (!ret)
		return bufmgr::unexpected(std::move(ret).error());
	return seat;
}

Seat::Seat(Server &server)
	: server_(server),
	  global_(server.display(), &wl_seat_interface, kVersion, this, &bind)
{
}

Seat::~Seat()
{
	/* Clients keep their objects; they go inert. */
	for (ResourceList *list : { &seats_, &pointers_, &keyboards_, &touches_ }) {
		list->forEach([](wl_resource *r) { wl_resource_set_user_data(r, nullptr); });
		list->unlinkAll();
	}
	if (state_)
		xkb_state_unref(state_);
	if (keymap_)
		xkb_keymap_unref(keymap_);
	if (context_)
		xkb_context_unref(context_);
}

bufmgr::Result<void> Seat::init(const KeymapNames &names)
{
	context_ = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	if (!context_)
		return bufmgr::unexpected(ENOMEM, "xkb_context_new");
	struct xkb_rule_names rmlvo = {};
	rmlvo.layout = names.layout.empty() ? nullptr : names.layout.c_str();
	rmlvo.variant = names.variant.empty() ? nullptr : names.variant.c_str();
	rmlvo.options = names.options.empty() ? nullptr : names.options.c_str();
	keymap_ = xkb_keymap_new_from_names(context_, &rmlvo, XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (!keymap_)
		return bufmgr::unexpected(EINVAL, "compile xkb keymap for layout '" +
					  names.layout + "'");
	state_ = xkb_state_new(keymap_);
	if (!state_)
		return bufmgr::unexpected(ENOMEM, "xkb_state_new");

	char *text = xkb_keymap_get_as_string(keymap_, XKB_KEYMAP_FORMAT_TEXT_V1);
	if (!text)
		return bufmgr::unexpected(ENOMEM, "serialize xkb keymap");
	size_t size = strlen(text) + 1;
	/* Sealed so that no client can change what the others read. */
	auto fd = bufmgr::createSealedMemfd("heapcomp-keymap",
					    std::as_bytes(std::span(text, size)));
	free(text);
	if (!fd)
		return bufmgr::unexpected(std::move(fd).error());
	keymapFd_ = std::move(*fd);
	keymapSize_ = static_cast<uint32_t>(size);
	return {};
}

void Seat::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	auto *self = static_cast<Seat *>(data);
	wl_resource *resource = wl_resource_create(client, &wl_seat_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	self->seats_.add(resource, &seatImpl, self);
	wl_seat_send_capabilities(resource, self->capabilities());
	if (version >= WL_SEAT_NAME_SINCE_VERSION)
		wl_seat_send_name(resource, "seat0");
}

void Seat::getPointer(wl_client *client, wl_resource *seat, uint32_t id)
{
	wl_resource *resource = wl_resource_create(client, &wl_pointer_interface,
						   wl_resource_get_version(seat), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	pointers_.add(resource, &pointerImpl, this);
	if (pointerFocus_ && pointerFocus_->client() == client) {
		/* A new pointer object learns where the pointer already is. */
		View *view = nullptr;
		Surface *surface = nullptr;
		double lx = 0, ly = 0;
		view = server_.viewAt(pointerX_, pointerY_, &surface, &lx, &ly);
		if (view && surface == pointerFocus_) {
			wl_pointer_send_enter(resource, serialFor(client),
					      pointerFocus_->resource(), toFixed(lx), toFixed(ly));
			if (wl_resource_get_version(resource) >= WL_POINTER_FRAME_SINCE_VERSION)
				wl_pointer_send_frame(resource);
		}
	}
}

void Seat::getKeyboard(wl_client *client, wl_resource *seat, uint32_t id)
{
	wl_resource *resource = wl_resource_create(client, &wl_keyboard_interface,
						   wl_resource_get_version(seat), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	keyboards_.add(resource, &keyboardImpl, this);
	wl_keyboard_send_keymap(resource, WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1, keymapFd_.get(),
				keymapSize_);
	if (wl_resource_get_version(resource) >= WL_KEYBOARD_REPEAT_INFO_SINCE_VERSION)
		wl_keyboard_send_repeat_info(resource, 25, 600);
	if (keyboardFocus_ && keyboardFocus_->client() == client) {
		wl_array keys;
		wl_array_init(&keys);
		for (uint32_t key : pressedKeys_) {
			auto *slot = static_cast<uint32_t *>(wl_array_add(&keys, sizeof(uint32_t)));
			if (slot)
				*slot = key;
		}
		uint32_t serial = serialFor(client);
		wl_keyboard_send_enter(resource, serial, keyboardFocus_->resource(), &keys);
		wl_array_release(&keys);
		wl_keyboard_send_modifiers(resource, serial,
					   xkb_state_serialize_mods(state_, XKB_STATE_MODS_DEPRESSED),
					   xkb_state_serialize_mods(state_, XKB_STATE_MODS_LATCHED),
					   xkb_state_serialize_mods(state_, XKB_STATE_MODS_LOCKED),
					   xkb_state_serialize_layout(state_, XKB_STATE_LAYOUT_EFFECTIVE));
	}
}

uint32_t Seat::capabilities()
{
	uint32_t caps = WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD;
	if (server_.backend().hasTouch()) {
		caps |= WL_SEAT_CAPABILITY_TOUCH;
		touchEver_ = true;
	}
	return caps;
}

void Seat::devicesChanged()
{
	const uint32_t caps = capabilities();
	seats_.forEach([caps](wl_resource *seat) { wl_seat_send_capabilities(seat, caps); });
}

void Seat::getTouch(wl_client *client, wl_resource *seat, uint32_t id)
{
	/* After a touch screen went away a client may still ask: it gets a wl_touch that stays silent. */
	if (!server_.backend().hasTouch() && !touchEver_) {
		wl_resource_post_error(seat, WL_SEAT_ERROR_MISSING_CAPABILITY,
				       "seat0 has no touch capability");
		return;
	}
	wl_resource *resource = wl_resource_create(client, &wl_touch_interface,
						   wl_resource_get_version(seat), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	/* Points already down stay with the objects that saw them go down. */
	touches_.add(resource, &touchImpl, this);
}

void Seat::setCursor(wl_resource *pointer, uint32_t, wl_resource *surfaceResource,
		     int32_t hotspotX, int32_t hotspotY)
{
	Surface *surface = surfaceResource ? Surface::fromResource(surfaceResource) : nullptr;
	if (surface && surface->role() != &cursorRole &&
	    !surface->setRole(&cursorRole, cursorRole.roleName(), pointer, WL_POINTER_ERROR_ROLE))
		return;
	/* Only the client with the pointer sets the cursor. */
	if (!pointerFocus_ || pointerFocus_->client() != wl_resource_get_client(pointer))
		return;
	hotspotX_ = hotspotX;
	hotspotY_ = hotspotY;
	server_.scheduleRepaint();
	if (surface == cursor_)
		return;
	cursor_ = surface;
	cursorDestroy_.disconnect();
	if (!surface)
		return;
	cursorDestroy_.connect(surface->destroySignal(), [this](void *) {
		cursor_ = nullptr;
		cursorDestroy_.disconnect();
		server_.scheduleRepaint();
	});
}

void Seat::cursorCommitted(Surface &surface)
{
	if (&surface != cursor_)
		return;
	hotspotX_ = clampInt32(int64_t(hotspotX_) - surface.current().dx);
	hotspotY_ = clampInt32(int64_t(hotspotY_) - surface.current().dy);
}

Surface *Seat::cursorSurface() const
{
	if (!cursor_ || !pointerFocus_ || cursor_->client() != pointerFocus_->client())
		return nullptr;
	return cursor_;
}

std::optional<Seat::CursorImage> Seat::cursorImage() const
{
	Surface *surface = cursorSurface();
	if (!surface)
		return std::nullopt;
	/* Whole pixels, as the output draws them: the hotspot lands where the pointer is. */
	return CursorImage{ surface, clampInt32(int64_t(std::floor(pointerX_)) - hotspotX_),
			    clampInt32(int64_t(std::floor(pointerY_)) - hotspotY_) };
}

uint32_t Seat::serialFor(wl_client *client)
{
	uint32_t serial = nextSerial(server_.display());
	serials_.push_back({ client, serial });
	if (serials_.size() > kRememberedSerials)
		serials_.pop_front();
	return serial;
}

bool Seat::isRecentSerial(wl_client *client, uint32_t serial) const
{
	return std::any_of(serials_.begin(), serials_.end(), [&](const SentSerial &s) {
		return s.client == client && s.serial == serial;
	});
}

wl_client *Seat::keyboardFocusClient() const
{
	return keyboardFocus_ ? keyboardFocus_->client() : nullptr;
}

void Seat::addKeyboardFocusListener(FocusListener listener)
{
	focusListeners_.push_back(std::move(listener));
}

void Seat::sendPointerFrame(wl_client *client)
{
	pointers_.forEach([&](wl_resource *resource) {
		if (wl_resource_get_client(resource) == client &&
		    wl_resource_get_version(resource) >= WL_POINTER_FRAME_SINCE_VERSION)
			wl_pointer_send_frame(resource);
	});
}

void Seat::setPointerFocus(Surface *surface, double x, double y)
{
	if (surface == pointerFocus_)
		return;
	if (pointerFocus_ && !pointerFocus_->isDestroying()) {
		wl_client *client = pointerFocus_->client();
		uint32_t serial = serialFor(client);
		pointers_.forEach([&](wl_resource *resource) {
			if (wl_resource_get_client(resource) == client)
				wl_pointer_send_leave(resource, serial, pointerFocus_->resource());
		});
		sendPointerFrame(client);
	}
	pointerFocus_ = surface;
	wheelRemainder_[0] = wheelRemainder_[1] = 0;
	pointerFocusDestroy_.disconnect();
	if (!surface)
		return;
	pointerFocusDestroy_.connect(surface->destroySignal(), [this](void *) {
		pointerFocus_ = nullptr;
		pointerFocusDestroy_.disconnect();
	});
	pointerLocalX_ = x;
	pointerLocalY_ = y;
	wl_client *client = surface->client();
	uint32_t serial = serialFor(client);
	pointers_.forEach([&](wl_resource *resource) {
		if (wl_resource_get_client(resource) == client)
			wl_pointer_send_enter(resource, serial, surface->resource(), toFixed(x),
					      toFixed(y));
	});
	sendPointerFrame(client);
}

void Seat::pointerMotion(double x, double y, uint32_t timeMs)
{
	pointerX_ = x;
	pointerY_ = y;
	pointerKnown_ = true;
	/* The cursor follows. */
	if (cursor_)
		server_.scheduleRepaint();
	if (grab_ && !grabTouchId_) {
		grab_->motion(x, y);
		return;
	}
	repickPointer(timeMs);
}

void Seat::updatePointerFocus()
{
	repickPointer(monotonicMs());
}

void Seat::repickPointer(uint32_t timeMs)
{
	/* Until the backend reports a position the pointer is nowhere. */
	if (!pointerKnown_ || (grab_ && !grabTouchId_))
		return;
	if (pointerOnLayer()) {
		if (!layerPointer_) {
			setPointerFocus(nullptr, 0, 0);
			layerPointer_ = true;
		}
		inputLayer_->pointerMotion(pointerX_, pointerY_);
		return;
	}
	if (layerPointer_) {
		layerPointer_ = false;
		inputLayer_->pointerLeave();
	}
	Surface *surface = nullptr;
	double lx = 0, ly = 0;
	int32_t sx = 0, sy = 0;
	if (!buttons_.empty() && pointerFocus_) {
		/* Dragging: the surface the press went to keeps the pointer. */
		if (!server_.surfacePosition(pointerFocus_, &sx, &sy))
			return;
		surface = pointerFocus_;
		lx = pointerX_ - sx;
		ly = pointerY_ - sy;
	} else {
		server_.viewAt(pointerX_, pointerY_, &surface, &lx, &ly);
	}
	/* A popup grab keeps the pointer to its client; a press that goes nowhere, to no one. */
	if (surface && ((!popupGrabs_.empty() && surface->client() != popupGrabClient()) ||
			pressGoesNowhere_))
		surface = nullptr;
	if (surface != pointerFocus_) {
		setPointerFocus(surface, lx, ly);
		return;
	}
	/* The pointer or the surface moved: either way the client hears of it. */
	if (!surface || (lx == pointerLocalX_ && ly == pointerLocalY_))
		return;
	pointerLocalX_ = lx;
	pointerLocalY_ = ly;
	wl_client *client = surface->client();
	pointers_.forEach([&](wl_resource *resource) {
		if (wl_resource_get_client(resource) == client)
			wl_pointer_send_motion(resource, timeMs, toFixed(lx), toFixed(ly));
	});
	sendPointerFrame(client);
}

void Seat::pointerButton(uint32_t button, bool pressed, uint32_t timeMs)
{
	bool wasHeld = !buttons_.empty();
	if (pressed) {
		if (std::find(buttons_.begin(), buttons_.end(), button) == buttons_.end())
			buttons_.push_back(button);
	} else {
		std::erase(buttons_, button);
	}
	if (grab_ && !grabTouchId_) {
		/* The clients saw the pointer leave; the last button up ends the grab. */
		if (buttons_.empty()) {
			endGrab();
			updatePointerFocus();
		}
		return;
	}
	if (layerPointer_) {
		if (pressed && !wasHeld) {
			layerPress_ = true;
			setLayerKeyboard(true);
		}
		inputLayer_->pointerButton(button, pressed);
		if (buttons_.empty() && layerPress_) {
			layerPress_ = false;
			updatePointerFocus();
		}
		return;
	}
	if (pressed && !wasHeld)
		setLayerKeyboard(false);
	if (pressGoesNowhere_) {
		if (buttons_.empty()) {
			pressGoesNowhere_ = false;
			updatePointerFocus();
		}
		return;
	}
	if (pressed && !wasHeld) {
		/* Off the grabbing client a press only closes the popups: no one gets it. */
		pressGoesNowhere_ = isOffPopupGrab(pointerX_, pointerY_);
		View *view = closePopupsAt(pointerX_, pointerY_);
		if (pressGoesNowhere_) {
			updatePointerFocus();
			return;
		}
		activate(view);
		updatePointerFocus();
	}
	if (!pointerFocus_)
		return;
	wl_client *client = pointerFocus_->client();
	uint32_t serial = serialFor(client);
	if (pressed)
		pressSerial_ = serial;
	pointers_.forEach([&](wl_resource *resource) {
		if (wl_resource_get_client(resource) == client)
			wl_pointer_send_button(resource, serial, timeMs, button,
					       pressed ? WL_POINTER_BUTTON_STATE_PRESSED
						       : WL_POINTER_BUTTON_STATE_RELEASED);
	});
	sendPointerFrame(client);
	/* The grab ends with the last button: focus follows the pointer again. */
	if (buttons_.empty() && wasHeld)
		updatePointerFocus();
}

void Seat::activateAt(double x, double y)
{
	activate(closePopupsAt(x, y));
}

View *Seat::closePopupsAt(double x, double y)
{
	Surface *surface = nullptr;
	double lx = 0, ly = 0;
	View *view = server_.viewAt(x, y, &surface, &lx, &ly);
	/* A press outside a popup's client closes its popups. */
	for (View *v : std::vector<View *>(server_.views())) {
		if (v->isPopup() && v->isMapped() &&
		    (!view || v->surface()->client() != view->surface()->client()))
			v->dismiss();
	}
	return view;
}

bool Seat::isOffPopupGrab(double x, double y) const
{
	if (popupGrabs_.empty())
		return false;
	Surface *surface = nullptr;
	double lx = 0, ly = 0;
	server_.viewAt(x, y, &surface, &lx, &ly);
	return !surface || surface->client() != popupGrabClient();
}

void Seat::activate(View *view)
{
	if (!view || view->isPopup())
		return;
	View *toplevel = view;
	while (toplevel->parentView())
		toplevel = toplevel->parentView();
	server_.raiseView(toplevel);
	/* The topmost grabbing popup keeps the keyboard. */
	if (popupGrabs_.empty())
		setKeyboardFocus(toplevel->surface());
}

void Seat::addPopupGrab(View *popup)
{
	/* One client grabs at a time: the newest user action wins. */
	if (!popupGrabs_.empty() && popupGrabClient() != popup->surface()->client())
		dismissPopupGrab();
	popupGrabs_.push_back(popup);
	setKeyboardFocus(popup->surface());
	updatePointerFocus();
}

wl_client *Seat::popupGrabClient() const
{
	return popupGrabs_.empty() ? nullptr : popupGrabs_.front()->surface()->client();
}

void Seat::dismissPopupGrab()
{
	/* A popup dismisses those above it first; unmapping ends each grab. */
	for (View *popup : std::vector<View *>(popupGrabs_))
		popup->dismiss();
}

void Seat::pointerAxis(const PointerAxis &event, uint32_t timeMs)
{
	if (layerPointer_) {
		if (!event.stops())
			inputLayer_->pointerAxis(event.horizontal, event.value);
		return;
	}
	const size_t index = event.horizontal ? 1 : 0;
	/* Versions before 8 count whole clicks: high-resolution ones add up to them. */
	int32_t clicks = 0;
	if (event.value120) {
		/* A turn the other way starts counting afresh. */
		if ((wheelRemainder_[index] < 0) != (event.value120 < 0))
			wheelRemainder_[index] = 0;
		wheelRemainder_[index] += event.value120;
		clicks = wheelRemainder_[index] / 120;
		wheelRemainder_[index] %= 120;
	}
	if (!pointerFocus_)
		return;
	wl_client *client = pointerFocus_->client();
	const uint32_t axis = event.horizontal ? WL_POINTER_AXIS_HORIZONTAL_SCROLL
					       : WL_POINTER_AXIS_VERTICAL_SCROLL;
	pointers_.forEach([&](wl_resource *resource) {
		if (wl_resource_get_client(resource) != client)
			return;
		const int version = wl_resource_get_version(resource);
		if (version >= WL_POINTER_AXIS_SOURCE_SINCE_VERSION) {
			/* Tilt is wl_pointer 6's; older clients see a wheel. */
			uint32_t source = uint32_t(event.source);
			if (event.source == PointerAxis::Source::WheelTilt &&
			    version < WL_POINTER_AXIS_SOURCE_WHEEL_TILT_SINCE_VERSION)
				source = WL_POINTER_AXIS_SOURCE_WHEEL;
			wl_pointer_send_axis_source(resource, source);
		}
		if (event.stops()) {
			/* Before axis_stop, a client has no way to tell; it needs none. */
			if (version >= WL_POINTER_AXIS_STOP_SINCE_VERSION)
				wl_pointer_send_axis_stop(resource, timeMs, axis);
			return;
		}
		if (event.value120 && version >= WL_POINTER_AXIS_VALUE120_SINCE_VERSION)
			wl_pointer_send_axis_value120(resource, axis, event.value120);
		else if (clicks && version >= WL_POINTER_AXIS_DISCRETE_SINCE_VERSION)
			wl_pointer_send_axis_discrete(resource, axis, clicks);
		wl_pointer_send_axis(resource, timeMs, axis, toFixed(event.value));
	});
	sendPointerFrame(client);
}

/* Interactive grabs ------------------------------------------------------ */

bool Seat::startGrab(View *view, uint32_t serial, std::unique_ptr<InteractiveGrab> grab)
{
	if (!view || !view->isMapped())
		return false;
	auto onView = [&](Surface *surface) { return server_.viewContaining(surface) == view; };
	return startGrab(view->surface()->client(), serial, onView, std::move(grab), view);
}

bool Seat::startGrab(wl_client *client, uint32_t serial,
		     const std::function<bool(Surface *)> &onTarget,
		     std::unique_ptr<InteractiveGrab> grab, View *view)
{
	if (grab_)
		return false;
	auto matches = [&](Surface *surface) {
		return surface && surface->client() == client && onTarget(surface);
	};
	double x, y;
	if (!buttons_.empty() && serial == pressSerial_ && matches(pointerFocus_)) {
		grabTouchId_.reset();
		x = pointerX_;
		y = pointerY_;
		setPointerFocus(nullptr, 0, 0);
	} else {
		auto it = std::find_if(touchPoints_.begin(), touchPoints_.end(),
				       [&](const TouchPoint &p) {
					       return p.downSerial == serial && matches(p.surface);
				       });
		if (it == touchPoints_.end())
			return false;
		grabTouchId_ = it->id;
		x = it->x;
		y = it->y;
		/* The finger is the grab's now: its client sees it lift. */
		sendTouchUp(*it, client);
		it->surface = nullptr;
		it->surfaceDestroy.disconnect();
	}
	grab_ = std::move(grab);
	grabView_ = view;
	grab_->begin(x, y);
	return true;
}

void Seat::cancelGrab(InteractiveGrab *grab)
{
	if (!grab_ || grab_.get() != grab)
		return;
	bool pointerGrab = !grabTouchId_;
	endGrab(true);
	if (pointerGrab)
		updatePointerFocus();
}

void Seat::endGrab(bool cancelled)
{
	std::unique_ptr<InteractiveGrab> grab = std::move(grab_);
	grabView_ = nullptr;
	grabTouchId_.reset();
	if (cancelled)
		grab->cancel();
	else
		grab->end();
}

/* Touch ------------------------------------------------------------------ */

Seat::TouchPoint *Seat::findTouchPoint(int32_t id)
{
	for (TouchPoint &point : touchPoints_) {
		if (point.id == id)
			return &point;
	}
	return nullptr;
}

Surface *Seat::touchFocus(int32_t id) const
{
	for (const TouchPoint &point : touchPoints_) {
		if (point.id == id)
			return point.surface;
	}
	return nullptr;
}

template<typename F>
void Seat::forEachTouch(wl_client *client, F &&f)
{
	touches_.forEach([&](wl_resource *resource) {
		if (wl_resource_get_client(resource) == client)
			f(resource);
	});
}

void Seat::touchEventFor(wl_client *client)
{
	if (std::find(touchFrameClients_.begin(), touchFrameClients_.end(), client) ==
	    touchFrameClients_.end())
		touchFrameClients_.push_back(client);
}

void Seat::touchDown(int32_t id, double x, double y, uint32_t timeMs)
{
	if (findTouchPoint(id) || isLayerTouch(id)) {
		LOG_WARNING("touch point %d went down twice", id);
		return;
	}
	if (inputLayer_ && inputLayer_->takesInputAt(x, y)) {
		layerTouches_.push_back(id);
		setLayerKeyboard(true);
		inputLayer_->touchDown(id, x, y);
		return;
	}
	setLayerKeyboard(false);
	/* Off the grabbing client a finger only closes the popups: no one gets it. */
	bool offGrab = isOffPopupGrab(x, y);
	activateAt(x, y);
	TouchPoint &point = touchPoints_.emplace_back();
	point.id = id;
	point.x = x;
	point.y = y;
	double lx = 0, ly = 0;
	if (!offGrab)
		server_.viewAt(x, y, &point.surface, &lx, &ly);
	/* A finger on no window is still tracked, so that its up is not news. */
	Surface *surface = point.surface;
	if (!surface)
		return;
	point.surfaceDestroy.connect(surface->destroySignal(), [this, &point](void *) {
		touchSurfaceGone(point);
	});
	wl_client *client = surface->client();
	uint32_t serial = serialFor(client);
	point.downSerial = serial;
	forEachTouch(client, [&](wl_resource *resource) {
		wl_touch_send_down(resource, serial, timeMs, surface->resource(), id, toFixed(lx),
				   toFixed(ly));
	});
	touchEventFor(client);
}

void Seat::touchSurfaceGone(TouchPoint &point)
{
	/* The client hears the point end; the finger's real up is then no news. */
	wl_client *client = point.surface->client();
	point.surface = nullptr;
	point.surfaceDestroy.disconnect();
	if (server_.isClientConnected(client))
		sendTouchUp(point, client);
}

void Seat::sendTouchUp(TouchPoint &point, wl_client *client)
{
	uint32_t serial = serialFor(client);
	forEachTouch(client, [&](wl_resource *resource) {
		wl_touch_send_up(resource, serial, monotonicMs(), point.id);
		wl_touch_send_frame(resource);
	});
}

void Seat::touchMotion(int32_t id, double x, double y, uint32_t timeMs)
{
	if (isLayerTouch(id)) {
		inputLayer_->touchMotion(id, x, y);
		return;
	}
	TouchPoint *point = findTouchPoint(id);
	if (!point)
		return;
	point->x = x;
	point->y = y;
	if (grab_ && grabTouchId_ == id) {
		grab_->motion(x, y);
		return;
	}
	int32_t sx = 0, sy = 0;
	/* Off the surface, or the surface unmapped: the point stays its. */
	if (!point->surface || !server_.surfacePosition(point->surface, &sx, &sy))
		return;
	wl_client *client = point->surface->client();
	forEachTouch(client, [&](wl_resource *resource) {
		wl_touch_send_motion(resource, timeMs, id, toFixed(x - sx), toFixed(y - sy));
	});
	touchEventFor(client);
}

void Seat::touchUp(int32_t id, uint32_t timeMs)
{
	if (isLayerTouch(id)) {
		std::erase(layerTouches_, id);
		inputLayer_->touchUp(id);
		return;
	}
	auto it = std::find_if(touchPoints_.begin(), touchPoints_.end(),
			       [id](const TouchPoint &p) { return p.id == id; });
	if (it == touchPoints_.end())
		return;
	if (grab_ && grabTouchId_ == id)
		endGrab();
	if (Surface *surface = it->surface) {
		wl_client *client = surface->client();
		uint32_t serial = serialFor(client);
		forEachTouch(client, [&](wl_resource *resource) {
			wl_touch_send_up(resource, serial, timeMs, id);
		});
		touchEventFor(client);
	}
	touchPoints_.erase(it);
}

template<typename F>
void Seat::sendToTouchPoint(int32_t id, int since, F &&f)
{
	TouchPoint *point = findTouchPoint(id);
	/* A grab holds the point; a gone surface has nobody to tell. */
	if (!point || !point->surface || (grab_ && grabTouchId_ == id))
		return;
	wl_client *client = point->surface->client();
	forEachTouch(client, [&](wl_resource *resource) {
		if (wl_resource_get_version(resource) >= since)
			f(resource);
	});
	touchEventFor(client);
}

void Seat::touchShape(int32_t id, double major, double minor)
{
	sendToTouchPoint(id, WL_TOUCH_SHAPE_SINCE_VERSION, [&](wl_resource *resource) {
		wl_touch_send_shape(resource, id, toFixed(major), toFixed(minor));
	});
}

void Seat::touchOrientation(int32_t id, double degrees)
{
	sendToTouchPoint(id, WL_TOUCH_ORIENTATION_SINCE_VERSION, [&](wl_resource *resource) {
		wl_touch_send_orientation(resource, id, toFixed(degrees));
	});
}

void Seat::touchFrame()
{
	for (wl_client *client : touchFrameClients_) {
		/* A client gone since its events went out has no objects left. */
		forEachTouch(client, [](wl_resource *resource) { wl_touch_send_frame(resource); });
	}
	touchFrameClients_.clear();
}

void Seat::touchCancel()
{
	std::vector<wl_client *> clients;
	for (const TouchPoint &point : touchPoints_) {
		if (point.surface && std::find(clients.begin(), clients.end(),
					       point.surface->client()) == clients.end())
			clients.push_back(point.surface->client());
	}
	for (wl_client *client : clients)
		forEachTouch(client, [](wl_resource *resource) { wl_touch_send_cancel(resource); });
	if (grab_ && grabTouchId_)
		endGrab(true);
	if (inputLayer_ && !layerTouches_.empty())
		inputLayer_->touchCancel();
	layerTouches_.clear();
	touchPoints_.clear();
	touchFrameClients_.clear();
}

void Seat::sendModifiers(wl_client *client, uint32_t serial)
{
	uint32_t depressed = xkb_state_serialize_mods(state_, XKB_STATE_MODS_DEPRESSED);
	uint32_t latched = xkb_state_serialize_mods(state_, XKB_STATE_MODS_LATCHED);
	uint32_t locked = xkb_state_serialize_mods(state_, XKB_STATE_MODS_LOCKED);
	uint32_t group = xkb_state_serialize_layout(state_, XKB_STATE_LAYOUT_EFFECTIVE);
	keyboards_.forEach([&](wl_resource *resource) {
		if (wl_resource_get_client(resource) == client)
			wl_keyboard_send_modifiers(resource, serial, depressed, latched, locked, group);
	});
}

uint32_t Seat::activeModifiers() const
{
	static constexpr std::pair<const char *, uint32_t> names[] = {
		{ XKB_MOD_NAME_SHIFT, ModShift },
		{ XKB_MOD_NAME_CTRL, ModCtrl },
		{ XKB_MOD_NAME_ALT, ModAlt },
		{ XKB_MOD_NAME_LOGO, ModLogo },
	};
	uint32_t mods = 0;
	for (const auto &[name, bit] : names) {
		if (xkb_state_mod_name_is_active(state_, name, XKB_STATE_MODS_EFFECTIVE) > 0)
			mods |= bit;
	}
	return mods;
}

void Seat::key(uint32_t key, bool pressed, uint32_t timeMs)
{
	if (auto bound = std::find(boundKeys_.begin(), boundKeys_.end(), key);
	    !pressed && bound != boundKeys_.end()) {
		boundKeys_.erase(bound);
		xkb_state_update_key(state_, key + 8, XKB_KEY_UP);
		return;
	}
	if (auto taken = std::find(layerKeys_.begin(), layerKeys_.end(), key);
	    !pressed && taken != layerKeys_.end()) {
		layerKeys_.erase(taken);
		const xkb_state_component changed = xkb_state_update_key(state_, key + 8, XKB_KEY_UP);
		if (layerHasKeyboard()) {
			inputLayer_->key(key, 0, activeModifiers(), false);
		} else if (keyboardFocus_ &&
			   (changed & (XKB_STATE_MODS_EFFECTIVE | XKB_STATE_LAYOUT_EFFECTIVE))) {
			/* Held since the layer had the keyboard: the client saw it in the modifiers. */
			sendModifiers(keyboardFocus_->client(), serialFor(keyboardFocus_->client()));
		}
		return;
	}
	if (pressed) {
		if (std::find(pressedKeys_.begin(), pressedKeys_.end(), key) != pressedKeys_.end())
			return;
		pressedKeys_.push_back(key);
	} else {
		auto it = std::find(pressedKeys_.begin(), pressedKeys_.end(), key);
		if (it == pressedKeys_.end())
			return;
		pressedKeys_.erase(it);
	}
	/* xkb keycodes are evdev codes + 8. */
	xkb_state_component changed = xkb_state_update_key(state_, key + 8,
							   pressed ? XKB_KEY_DOWN : XKB_KEY_UP);
	const xkb_keysym_t keysym = pressed ? xkb_state_key_get_one_sym(state_, key + 8) : 0;
	const bool switchesSession = sessionSwitch_ && keysym >= XKB_KEY_XF86Switch_VT_1 &&
				     keysym <= XKB_KEY_XF86Switch_VT_12;
	if (pressed && (switchesSession || (keyBinding_ && keyBinding_(keysym, activeModifiers())))) {
		pressedKeys_.pop_back();
		boundKeys_.push_back(key);
		if (switchesSession)
			sessionSwitch_(int(keysym - XKB_KEY_XF86Switch_VT_1) + 1);
		return;
	}
	if (pressed && layerHasKeyboard()) {
		pressedKeys_.pop_back();
		layerKeys_.push_back(key);
		inputLayer_->key(key, xkb_state_key_get_utf32(state_, key + 8), activeModifiers(),
				 true);
		return;
	}
	if (!keyboardFocus_)
		return;
	wl_client *client = keyboardFocus_->client();
	uint32_t serial = serialFor(client);
	keyboards_.forEach([&](wl_resource *resource) {
		if (wl_resource_get_client(resource) == client)
			wl_keyboard_send_key(resource, serial, timeMs, key,
					     pressed ? WL_KEYBOARD_KEY_STATE_PRESSED
						     : WL_KEYBOARD_KEY_STATE_RELEASED);
	});
	if (changed & (XKB_STATE_MODS_EFFECTIVE | XKB_STATE_LAYOUT_EFFECTIVE))
		sendModifiers(client, serial);
}

void Seat::setInputLayer(InputLayer *layer)
{
	if (layer == inputLayer_)
		return;
	if (inputLayer_ && !layerTouches_.empty())
		inputLayer_->touchCancel();
	if (inputLayer_ && layerPointer_)
		inputLayer_->pointerLeave();
	setLayerKeyboard(false);
	/* The buttons it held go to no client: none saw them pressed. */
	if (layerPress_ && !buttons_.empty())
		pressGoesNowhere_ = true;
	inputLayer_ = layer;
	layerPointer_ = false;
	layerPress_ = false;
	layerTouches_.clear();
	updatePointerFocus();
}

bool Seat::pointerOnLayer() const
{
	if (!inputLayer_ || !pointerKnown_)
		return false;
	if (layerPress_)
		return true;
	/* Buttons held since a press elsewhere: that implicit grab is not the layer's. */
	return buttons_.empty() && inputLayer_->takesInputAt(pointerX_, pointerY_);
}

void Seat::setLayerKeyboard(bool layer)
{
	if (layer == layerKeyboard_)
		return;
	layerKeyboard_ = layer;
	/* Modifiers may have changed while the client heard no keys. */
	if (!layer && keyboardFocus_)
		sendModifiers(keyboardFocus_->client(), serialFor(keyboardFocus_->client()));
}

bool Seat::isLayerTouch(int32_t id) const
{
	return inputLayer_ && std::find(layerTouches_.begin(), layerTouches_.end(), id) !=
				      layerTouches_.end();
}

void Seat::setKeyboardFocus(Surface *surface)
{
	if (surface == keyboardFocus_)
		return;
	Surface *old = keyboardFocus_;
	wl_client *oldClient = old ? old->client() : nullptr;
	/* A window stays active while its grabbing popup has the keyboard. */
	View *oldWindow = old && !old->isDestroying() ? windowOf(old) : nullptr;
	View *newWindow = surface ? windowOf(surface) : nullptr;
	if (old && !old->isDestroying()) {
		uint32_t serial = serialFor(oldClient);
		keyboards_.forEach([&](wl_resource *resource) {
			if (wl_resource_get_client(resource) == oldClient)
				wl_keyboard_send_leave(resource, serial, old->resource());
		});
		if (oldWindow && oldWindow != newWindow)
			oldWindow->setActivated(false);
	}
	keyboardFocus_ = surface;
	keyboardFocusDestroy_.disconnect();
	if (surface) {
		keyboardFocusDestroy_.connect(surface->destroySignal(), [this](void *) {
			keyboardFocus_ = nullptr;
			keyboardFocusDestroy_.disconnect();
		});
		wl_client *client = surface->client();
		uint32_t serial = serialFor(client);
		wl_array keys;
		wl_array_init(&keys);
		for (uint32_t key : pressedKeys_) {
			auto *slot = static_cast<uint32_t *>(wl_array_add(&keys, sizeof(uint32_t)));
			if (slot)
				*slot = key;
		}
		keyboards_.forEach([&](wl_resource *resource) {
			if (wl_resource_get_client(resource) == client)
				wl_keyboard_send_enter(resource, serial, surface->resource(), &keys);
		});
		wl_array_release(&keys);
		sendModifiers(client, serial);
		if (newWindow)
			newWindow->setActivated(true);
	}
	wl_client *newClient = surface ? surface->client() : nullptr;
	if (newClient != oldClient) {
		for (const FocusListener &listener : focusListeners_)
			listener(newClient);
	}
}

View *Seat::windowOf(Surface *surface) const
{
	for (View *view : server_.views()) {
		if (view->surface() != surface)
			continue;
		while (view->parentView())
			view = view->parentView();
		return view;
	}
	return nullptr;
}

void Seat::viewMapped(View *view)
{
	if (!view->isPopup() && view->takesInput()) {
		/* A new window closes the menus open elsewhere. */
		for (View *v : std::vector<View *>(server_.views())) {
			if (v->isPopup() && v->isMapped())
				v->dismiss();
		}
		setKeyboardFocus(view->surface());
	}
	updatePointerFocus();
}

void Seat::viewUnmapped(View *view)
{
	if (grabView_ == view) {
		/* No end(): the view is going; the input goes back to the clients. */
		bool pointerGrab = !grabTouchId_;
		grab_.reset();
		grabView_ = nullptr;
		grabTouchId_.reset();
		if (pointerGrab)
			updatePointerFocus();
	}
	bool endsGrab = std::erase(popupGrabs_, view) && popupGrabs_.empty();
	if (keyboardFocus_ == view->surface()) {
		/* A popup gives the keyboard back to the grab below it, or to its window. */
		View *next = popupGrabs_.empty() ? nullptr : popupGrabs_.back();
		if (!next && view->isPopup()) {
			next = view;
			while (next->parentView())
				next = next->parentView();
			if (next == view || !next->isMapped())
				next = nullptr;
		}
		const std::vector<View *> &views = server_.views();
		for (auto it = views.rbegin(); !next && it != views.rend(); ++it) {
			if (*it != view && (*it)->isMapped() && !(*it)->isPopup() &&
			    (*it)->takesInput())
				next = *it;
		}
		setKeyboardFocus(next ? next->surface() : nullptr);
	}
	if (pointerFocus_) {
		Surface *root = pointerFocus_;
		while (Subsurface *sub = root->asSubsurface()) {
			if (!sub->parent())
				break;
			root = sub->parent();
		}
		if (root == view->surface())
			setPointerFocus(nullptr, 0, 0);
	}
	/* The other clients may have the pointer again. */
	if (endsGrab)
		updatePointerFocus();
}

} /* namespace comp */
