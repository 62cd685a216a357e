/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

#include "backend/backend.h"
#include "wayland_util.h"

struct xkb_context;
struct xkb_keymap;
struct xkb_state;

namespace comp {

class Server;
class Surface;
class View;

/*
 * What an interactive move, resize or drag does while it holds the
 * pointer or a finger: the clients see none of that input until it ends.
 * Positions are global.
 */
class InteractiveGrab
{
public:
	virtual ~InteractiveGrab() = default;
	/* Where the input is as the grab starts. */
	virtual void begin(double x, double y) = 0;
	virtual void motion(double x, double y) = 0;
	/* Button or finger up; the grab is destroyed right after. */
	virtual void end() = 0;
	/* Touch cancelled; the grab is destroyed right after. */
	virtual void cancel() { end(); }
};

/*
 * Compositor-drawn UI that takes input before the clients (the overlay in
 * its interactive mode): the pointer while it is over the layer or holds
 * a press that began there, fingers that go down on it, and the keyboard
 * from a press or touch on it until one elsewhere. No client sees what it
 * takes. Positions are global.
 */
class InputLayer
{
public:
	virtual ~InputLayer() = default;
	/* Whether a pointer or finger at (x, y) is the layer's now. */
	virtual bool takesInputAt(double x, double y) const = 0;
	virtual void pointerMotion(double x, double y) = 0;
	virtual void pointerButton(uint32_t button, bool pressed) = 0;
	virtual void pointerAxis(bool horizontal, double value) = 0;
	/* The pointer went back to the clients. */
	virtual void pointerLeave() = 0;
	/* utf32: the character the key types, 0 for none; modifiers: Seat::Modifier bits. */
	virtual void key(uint32_t key, uint32_t utf32, uint32_t modifiers, bool pressed) = 0;
	virtual void touchDown(int32_t id, double x, double y) = 0;
	virtual void touchMotion(int32_t id, double x, double y) = 0;
	virtual void touchUp(int32_t id) = 0;
	/* The fingers it holds were cancelled: nothing they pressed happens. */
	virtual void touchCancel() = 0;
};

struct KeymapNames {
	std::string layout;
	std::string variant;
	std::string options;
};

/*
 * wl_seat "seat0" (v7) with a pointer, a keyboard and, when the backend
 * has a touch device, touch. Input from the backend goes to the surface
 * under the pointer or the finger; a click or a touch raises its window
 * and gives it the keyboard. The keymap is compiled once and sent
 * to every keyboard as a sealed, read-only memfd.
 */
class Seat : public InputSink
{
public:
	static constexpr int kVersion = 8;

	static bufmgr::Result<std::unique_ptr<Seat>> create(Server &server, const KeymapNames &names);
	~Seat() override;

	/* InputSink: what the backend reports. */
	void pointerMotion(double x, double y, uint32_t timeMs) override;
	void pointerButton(uint32_t button, bool pressed, uint32_t timeMs) override;
	void pointerAxis(const PointerAxis &axis, uint32_t timeMs) override;
	void key(uint32_t key, bool pressed, uint32_t timeMs) override;
	void touchDown(int32_t id, double x, double y, uint32_t timeMs) override;
	void touchMotion(int32_t id, double x, double y, uint32_t timeMs) override;
	void touchUp(int32_t id, uint32_t timeMs) override;
	void touchShape(int32_t id, double major, double minor) override;
	void touchOrientation(int32_t id, double degrees) override;
	void touchFrame() override;
	void touchCancel() override;
	void devicesChanged() override;
	/* What wl_seat.capabilities says now; remembers that touch was offered. */
	uint32_t capabilities();

	/* Modifier bits a key binding sees. */
	enum Modifier : uint32_t {
		ModShift = 1u << 0,
		ModCtrl = 1u << 1,
		ModAlt = 1u << 2,
		ModLogo = 1u << 3,
	};
	/*
	 * Compositor shortcuts: called on each key press with its keysym (so
	 * a remapped layout moves the shortcut with it) and the effective
	 * modifiers; true takes the key, and its release, from the clients.
	 */
	using KeyBinding = std::function<bool(uint32_t keysym, uint32_t modifiers)>;
	void setKeyBinding(KeyBinding binding) { keyBinding_ = std::move(binding); }
	/*
	 * Where the backend can change sessions (a VT on the DRM backend):
	 * the keymap's XF86Switch_VT_n keysyms (Ctrl+Alt+Fn) go there, n
	 * from 1, before any other binding.
	 */
	using SessionSwitch = std::function<void(int session)>;
	void setSessionSwitch(SessionSwitch handler) { sessionSwitch_ = std::move(handler); }

	/* Routes input to layer first (see InputLayer); null gives it all back to the clients. */
	void setInputLayer(InputLayer *layer);
	InputLayer *inputLayer() const { return inputLayer_; }
	/* Whether the layer has the keyboard now. */
	bool layerHasKeyboard() const { return inputLayer_ && layerKeyboard_; }

	void setKeyboardFocus(Surface *surface);
	Surface *keyboardFocus() const { return keyboardFocus_; }
	Surface *pointerFocus() const { return pointerFocus_; }
	wl_client *keyboardFocusClient() const;
	double pointerX() const { return pointerX_; }
	double pointerY() const { return pointerY_; }
	/* The surface touch point id went down on; null if none or gone. */
	Surface *touchFocus(int32_t id) const;

	/* Re-picks the surface under the pointer after the scene changed. */
	void updatePointerFocus();
	/* What the pointer shows: a client's cursor surface, its origin global. */
	struct CursorImage {
		Surface *surface = nullptr;
		int32_t x = 0, y = 0;
	};
	/* The cursor the client with the pointer set; nullopt for none. */
	std::optional<CursorImage> cursorImage() const;
	/* A commit on a cursor surface: its offset moves the hotspot. */
	void cursorCommitted(Surface &surface);

	/* Scene changes that move focus. */
	void viewMapped(View *view);
	void viewUnmapped(View *view);

	/*
	 * An xdg_popup grab, on a popup just mapped; it ends as the popup
	 * unmaps. While one lasts, the pointer goes only to the grabbing
	 * client's surfaces, the topmost grabbing popup has the keyboard,
	 * and a press or touch anywhere else dismisses the popups.
	 */
	void addPopupGrab(View *popup);

	/* Whether serial is one this seat recently sent to client. */
	bool isRecentSerial(wl_client *client, uint32_t serial) const;

	/*
	 * Gives grab the pointer, if serial is client's press of a button
	 * still held on a surface that onTarget accepts, or the finger that
	 * serial put down on one and that is still down. False (and grab
	 * dropped) otherwise, or while another grab runs. With a view, the
	 * view going away ends the grab without end().
	 */
	bool startGrab(wl_client *client, uint32_t serial,
		       const std::function<bool(Surface *)> &onTarget,
		       std::unique_ptr<InteractiveGrab> grab, View *view = nullptr);
	/* A grab on a press or finger on view's surfaces. */
	bool startGrab(View *view, uint32_t serial, std::unique_ptr<InteractiveGrab> grab);
	bool isGrabbed() const { return grab_ != nullptr; }
	/* Ends grab with cancel() if it is the one running. */
	void cancelGrab(InteractiveGrab *grab);

	/* Called with the client that gets keyboard focus (or null). */
	using FocusListener = std::function<void(wl_client *)>;
	void addKeyboardFocusListener(FocusListener listener);

	/* The keymap memfd, for tests. */
	int keymapFd() const { return keymapFd_.get(); }
	uint32_t keymapSize() const { return keymapSize_; }

private:
	explicit Seat(Server &server);
	bufmgr::Result<void> init(const KeymapNames &names);
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);

	void getPointer(wl_client *client, wl_resource *seat, uint32_t id);
	void getKeyboard(wl_client *client, wl_resource *seat, uint32_t id);
	void getTouch(wl_client *client, wl_resource *seat, uint32_t id);
	void setCursor(wl_resource *pointer, uint32_t serial, wl_resource *surface,
		       int32_t hotspotX, int32_t hotspotY);
	Surface *cursorSurface() const;

	uint32_t serialFor(wl_client *client);
	void repickPointer(uint32_t timeMs);
	void setPointerFocus(Surface *surface, double x, double y);
	void sendPointerFrame(wl_client *client);
	void sendModifiers(wl_client *client, uint32_t serial);
	/* Whether the pointer's input is the layer's now. */
	bool pointerOnLayer() const;
	/* Gives the keyboard to the layer, or back to the focused client. */
	void setLayerKeyboard(bool layer);
	bool isLayerTouch(int32_t id) const;
	/* Modifier bits of the keyboard state, for key bindings. */
	uint32_t activeModifiers() const;
	/* The window (view without a parent) that surface's view belongs to. */
	View *windowOf(Surface *surface) const;
	/* A press or touch at (x, y): raise that window and give it the keyboard. */
	void activateAt(double x, double y);
	/* Closes the popups of the clients not at (x, y); the view there. */
	View *closePopupsAt(double x, double y);
	/* Raises view's window and gives it the keyboard. */
	void activate(View *view);
	/* Whether (x, y) is off the popup grab's client, while one lasts. */
	bool isOffPopupGrab(double x, double y) const;
	/* Dismisses every grabbing popup, topmost first. */
	void dismissPopupGrab();
	wl_client *popupGrabClient() const;

	/* One finger on the screen: it stays with the surface it went down on. */
	struct TouchPoint {
		int32_t id = 0;
		Surface *surface = nullptr;
		Listener surfaceDestroy;
		double x = 0, y = 0;	/* global */
		uint32_t downSerial = 0;
	};
	TouchPoint *findTouchPoint(int32_t id);
	template<typename F>
	void forEachTouch(wl_client *client, F &&f);
	void touchEventFor(wl_client *client);
	/* f on the wl_touch objects of point id's client that are version >= since. */
	template<typename F>
	void sendToTouchPoint(int32_t id, int since, F &&f);
	void touchSurfaceGone(TouchPoint &point);
	/* Ends the client's view of a point: up and frame. */
	void sendTouchUp(TouchPoint &point, wl_client *client);
	/* Ends the grab, dropping (end()) or cancelling it. */
	void endGrab(bool cancelled = false);

	Server &server_;
	Global global_;
	ResourceList seats_;
	/* Touch was offered once: wl_seat.get_touch is no error from then on. */
	bool touchEver_ = false;
	ResourceList pointers_;
	ResourceList keyboards_;
	ResourceList touches_;

	xkb_context *context_ = nullptr;
	xkb_keymap *keymap_ = nullptr;
	xkb_state *state_ = nullptr;
	bufmgr::UniqueFd keymapFd_;
	uint32_t keymapSize_ = 0;
	std::vector<uint32_t> pressedKeys_;
	KeyBinding keyBinding_;
	SessionSwitch sessionSwitch_;
	/* Pressed keys a binding took: their releases are not sent either. */
	std::vector<uint32_t> boundKeys_;

	InputLayer *inputLayer_ = nullptr;
	/* The layer has the pointer: no client has pointer focus. */
	bool layerPointer_ = false;
	/* A press began on the layer: it keeps the pointer until every button is up. */
	bool layerPress_ = false;
	bool layerKeyboard_ = false;
	/* Keys pressed while the layer had the keyboard: their releases are its too. */
	std::vector<uint32_t> layerKeys_;
	/* Fingers that went down on the layer. */
	std::vector<int32_t> layerTouches_;

	double pointerX_ = 0, pointerY_ = 0;
	bool pointerKnown_ = false;
	/* Where the focused surface last heard the pointer was. */
	double pointerLocalX_ = 0, pointerLocalY_ = 0;
	/* Held buttons: the implicit grab keeps the focus until all are up. */
	std::vector<uint32_t> buttons_;
	/* The last press sent to a client, for grabs that name it. */
	uint32_t pressSerial_ = 0;
	/*
	 * No one gets the buttons until all are up: a press off a popup grab
	 * ended it, or the input layer holding a press went away.
	 */
	bool pressGoesNowhere_ = false;
	/* Grabbing popups, topmost last; all of one client. */
	std::vector<View *> popupGrabs_;

	/* An interactive grab, on the pointer or on one finger. */
	std::unique_ptr<InteractiveGrab> grab_;
	View *grabView_ = nullptr;
	std::optional<int32_t> grabTouchId_;
	Surface *pointerFocus_ = nullptr;
	/* Wheel turns short of a click, in 120ths, vertical then horizontal. */
	int32_t wheelRemainder_[2] = {};
	Surface *keyboardFocus_ = nullptr;
	Listener pointerFocusDestroy_;
	Listener keyboardFocusDestroy_;
	Surface *cursor_ = nullptr;
	int32_t hotspotX_ = 0, hotspotY_ = 0;
	Listener cursorDestroy_;

	/* Not movable (the listener): a list keeps their addresses. */
	std::list<TouchPoint> touchPoints_;
	/* Clients sent touch events since the last wl_touch.frame. */
	std::vector<wl_client *> touchFrameClients_;

	struct SentSerial {
		wl_client *client;
		uint32_t serial;
	};
	std::deque<SentSerial> serials_;
	std::vector<FocusListener> focusListeners_;
	friend struct SeatRequests;
};

} /* namespace comp */
