/* SPDX-License-Identifier: MIT */
/*
 * Objects destroyed in every order a client may choose: a wl_surface
 * before its role objects, a parent before its popups or subsurfaces, a
 * focused, grabbed, dragged or cursor surface while the seat holds it, a
 * drag's source or icon mid-drag, or the whole client mid-way. The
 * offender gets the error xdg-shell's XML names for the order, or none;
 * the compositor keeps drawing for a bystander and holds nothing of the
 * offender's once it is gone. Under the sanitizers a stale pointer aborts.
 */
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "bystander.h"
#include "data_device_events.h"
#include "fd_count.h"
#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

/* Where the offender's window goes: clear of the bystander's at (0, 0). */
constexpr int32_t kWindowX = 100, kWindowY = 60;
/* A spot on the window, off its popups. */
constexpr double kOnWindowX = 105, kOnWindowY = 65;
constexpr uint32_t kCopy = WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY;

/*
 * The interface of the last object a case destroyed: an error on its
 * destroy request reaches the client naming no interface (the proxy is
 * gone), and the cases that expect one end with that request.
 */
struct LastDestroyed {
	std::string interface;
};

template<typename T>
void noteDestroyed(LastDestroyed &last, T *proxy)
{
	last.interface = wl_proxy_get_class(reinterpret_cast<wl_proxy *>(proxy));
}

/* A wl_surface, its xdg_surface and role object, each destroyed when a case says. */
struct XdgObjects {
	XdgObjects(TestClient &client, LastDestroyed &last) : c(client), destroyed(last) {}
	/* What the case left: the client is about to go. */
	~XdgObjects()
	{
		if (toplevel)
			xdg_toplevel_destroy(toplevel);
		if (popup)
			xdg_popup_destroy(popup);
		if (xdg)
			xdg_surface_destroy(xdg);
		if (surface)
			wl_surface_destroy(surface);
	}
	XdgObjects(const XdgObjects &) = delete;
	XdgObjects &operator=(const XdgObjects &) = delete;

	void destroySurface()
	{
		if (!surface)
			return;
		noteDestroyed(destroyed, surface);
		wl_surface_destroy(std::exchange(surface, nullptr));
	}
	void destroyXdg()
	{
		if (!xdg)
			return;
		noteDestroyed(destroyed, xdg);
		xdg_surface_destroy(std::exchange(xdg, nullptr));
	}
	void destroyRole()
	{
		if (toplevel) {
			noteDestroyed(destroyed, toplevel);
			xdg_toplevel_destroy(std::exchange(toplevel, nullptr));
		}
		if (popup) {
			noteDestroyed(destroyed, popup);
			xdg_popup_destroy(std::exchange(popup, nullptr));
		}
	}

	/* Initial commit, configure, ack, a buffer and its frame. */
	bool map(uint32_t width, uint32_t height, uint32_t colour)
	{
		wl_surface_commit(surface);
		if (!c.dispatchUntil([&] { return configured; }))
			return false;
		xdg_surface_ack_configure(xdg, serial);
		buffer = std::make_unique<ShmBuffer>(c.shm, width, height);
		buffer->fill(colour);
		wl_surface_attach(surface, buffer->buffer(), 0, 0);
		wl_surface_damage_buffer(surface, 0, 0, int32_t(width), int32_t(height));
		return c.commitAndWaitFrame(surface).has_value();
	}

	TestClient &c;
	LastDestroyed &destroyed;
	wl_surface *surface = nullptr;
	xdg_surface *xdg = nullptr;
	xdg_toplevel *toplevel = nullptr;
	xdg_popup *popup = nullptr;
	std::unique_ptr<ShmBuffer> buffer;
	uint32_t serial = 0;
	bool configured = false;
	bool done = false;	/* popup_done */
};

const xdg_surface_listener xdgSurfaceListener = {
	.configure = [](void *data, xdg_surface *, uint32_t serial) {
		auto *o = static_cast<XdgObjects *>(data);
		o->serial = serial;
		o->configured = true;
	},
};

const xdg_popup_listener popupListener = {
	.configure = [](void *, xdg_popup *, int32_t, int32_t, int32_t, int32_t) {},
	.popup_done = [](void *data, xdg_popup *) { static_cast<XdgObjects *>(data)->done = true; },
	.repositioned = [](void *, xdg_popup *, uint32_t) {},
};

/* A wl_data_source of text/plain that answers send; destroyed when a case says. */
struct Source {
	Source(TestClient &c, uint32_t actions)
		: proxy(wl_data_device_manager_create_data_source(c.dataDeviceManager))
	{
		events.listen(proxy);
		wl_data_source_offer(proxy, "text/plain");
		if (actions)
			wl_data_source_set_actions(proxy, actions);
	}
	~Source() { destroy(); }
	void destroy()
	{
		if (proxy)
			wl_data_source_destroy(std::exchange(proxy, nullptr));
	}

	wl_data_source *proxy;
	SourceEvents events;
};

/* What a case works with: the server and the offending client. */
struct Scene {
	ServerRunner &server;
	TestClient &c;
	LastDestroyed &destroyed;

	void inject(const std::function<void(comp::HeadlessBackend &)> &f)
	{
		server.run([&](comp::Server &s) { f(*s.headlessBackend()); });
	}
	void pointerTo(double x, double y)
	{
		inject([&](comp::HeadlessBackend &h) { h.injectPointerMotion(x, y); });
	}
	void button(bool pressed)
	{
		inject([&](comp::HeadlessBackend &h) { h.injectPointerButton(BTN_LEFT, pressed); });
		c.roundtrip();
	}
	/* A press at (x, y), held: its serial is the client's last. */
	void pressAt(double x, double y)
	{
		pointerTo(x, y);
		button(true);
	}
	void clickAt(double x, double y)
	{
		pressAt(x, y);
		button(false);
	}
	/* The compositor hears the requests so far and draws what they left. */
	void settle()
	{
		c.roundtrip();
		EXPECT_TRUE(server.drawFrames(1));
	}
	/* Input over where the offender's things were, whatever is left of them. */
	void stir()
	{
		inject([](comp::HeadlessBackend &h) {
			h.injectPointerMotion(kOnWindowX + 1, kOnWindowY + 1);
			h.injectPointerMotion(130, 90);
			h.injectPointerMotion(230, 90);
			h.injectTouchMotion(0, 130, 90);
			h.injectTouchFrame();
		});
		c.roundtrip();
	}

	template<typename T>
	T *own(std::unique_ptr<T> object)
	{
		return c.own(std::move(object));
	}
};

/* A mapped 64x64 toplevel at (x, y). */
XdgObjects *mapToplevel(Scene &s, const char *title, int32_t x = kWindowX, int32_t y = kWindowY)
{
	auto *w = s.own(std::make_unique<XdgObjects>(s.c, s.destroyed));
	w->surface = wl_compositor_create_surface(s.c.compositor);
	w->xdg = xdg_wm_base_get_xdg_surface(s.c.wmBase, w->surface);
	xdg_surface_add_listener(w->xdg, &xdgSurfaceListener, w);
	w->toplevel = xdg_surface_get_toplevel(w->xdg);
	xdg_toplevel_set_title(w->toplevel, title);
	EXPECT_TRUE(w->map(64, 64, 0xffff0000));
	s.server.run([&](comp::Server &server) {
		if (comp::View *view = server.findView(title))
			view->setPosition(x, y);
	});
	s.c.roundtrip();
	return w;
}

/*
 * A mapped 30x20 popup of parent at (ax + 10, ay + 10) in the parent's
 * window geometry, grabbing with the client's last serial if grab.
 */
XdgObjects *mapPopup(Scene &s, XdgObjects &parent, int32_t ax, int32_t ay, bool grab = true)
{
	auto *p = s.own(std::make_unique<XdgObjects>(s.c, s.destroyed));
	xdg_positioner *positioner = xdg_wm_base_create_positioner(s.c.wmBase);
	xdg_positioner_set_size(positioner, 30, 20);
	xdg_positioner_set_anchor_rect(positioner, ax, ay, 10, 10);
	xdg_positioner_set_anchor(positioner, XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT);
	xdg_positioner_set_gravity(positioner, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT);
	p->surface = wl_compositor_create_surface(s.c.compositor);
	p->xdg = xdg_wm_base_get_xdg_surface(s.c.wmBase, p->surface);
	xdg_surface_add_listener(p->xdg, &xdgSurfaceListener, p);
	p->popup = xdg_surface_get_popup(p->xdg, parent.xdg, positioner);
	xdg_popup_add_listener(p->popup, &popupListener, p);
	xdg_positioner_destroy(positioner);
	if (grab)
		xdg_popup_grab(p->popup, s.c.seat, s.c.lastSerial);
	EXPECT_TRUE(p->map(30, 20, 0xff00ff00));
	return p;
}

/* parent's popup's new place: the same positioner at another anchor. */
void reposition(Scene &s, XdgObjects &popup, int32_t ax, int32_t ay)
{
	if (!popup.popup)
		return;
	xdg_positioner *positioner = xdg_wm_base_create_positioner(s.c.wmBase);
	xdg_positioner_set_size(positioner, 30, 20);
	xdg_positioner_set_anchor_rect(positioner, ax, ay, 10, 10);
	xdg_popup_reposition(popup.popup, positioner, 1);
	xdg_positioner_destroy(positioner);
	if (popup.surface)
		wl_surface_commit(popup.surface);
}

/* A desynchronized 16x16 subsurface of parent at (x, y), drawn. */
struct Child {
	wl_surface *surface = nullptr;
	wl_subsurface *subsurface = nullptr;
	std::unique_ptr<ShmBuffer> buffer;

	~Child()
	{
		destroySubsurface();
		destroySurface();
	}
	void destroySurface()
	{
		if (surface)
			wl_surface_destroy(std::exchange(surface, nullptr));
	}
	void destroySubsurface()
	{
		if (subsurface)
			wl_subsurface_destroy(std::exchange(subsurface, nullptr));
	}
};

Child *addChild(Scene &s, wl_surface *parent, int32_t x, int32_t y)
{
	auto *child = s.own(std::make_unique<Child>());
	child->surface = wl_compositor_create_surface(s.c.compositor);
	child->subsurface = wl_subcompositor_get_subsurface(s.c.subcompositor, child->surface,
							    parent);
	wl_subsurface_set_position(child->subsurface, x, y);
	wl_subsurface_set_desync(child->subsurface);
	child->buffer = std::make_unique<ShmBuffer>(s.c.shm, 16, 16);
	child->buffer->fill(0xff0000ff);
	wl_surface_attach(child->surface, child->buffer->buffer(), 0, 0);
	wl_surface_damage_buffer(child->surface, 0, 0, 16, 16);
	wl_surface_commit(child->surface);
	wl_surface_commit(parent);
	return child;
}

DeviceEvents *listenDevice(Scene &s)
{
	auto *device = s.own(std::make_unique<DeviceEvents>());
	device->listen(s.c.dataDeviceManager, s.c.seat);
	return device;
}

/* A 16x16 surface drawn, for a drag icon or a cursor; no role yet. */
wl_surface *drawnSurface(Scene &s, ShmBuffer *&buffer)
{
	wl_surface *surface = wl_compositor_create_surface(s.c.compositor);
	buffer = s.own(std::make_unique<ShmBuffer>(s.c.shm, 16, 16));
	buffer->fill(0xff00ffff);
	wl_surface_attach(surface, buffer->buffer(), 0, 0);
	wl_surface_damage_buffer(surface, 0, 0, 16, 16);
	wl_surface_commit(surface);
	return surface;
}

/* A drag from w with source (null: within the client) and icon, on a held press. */
void startDrag(Scene &s, DeviceEvents &device, XdgObjects &w, Source *source,
	       wl_surface *icon = nullptr)
{
	s.pressAt(kOnWindowX, kOnWindowY);
	wl_data_device_start_drag(device.device, source ? source->proxy : nullptr, w.surface, icon,
				  s.c.lastSerial);
	s.settle();
}

/* The error the offender must get; a null interface for none. */
struct Expected {
	const char *interface = nullptr;
	uint32_t code = 0;
};

constexpr Expected kNoError{};
constexpr Expected kDefunctRoleObject{ "xdg_surface", XDG_SURFACE_ERROR_DEFUNCT_ROLE_OBJECT };
constexpr Expected kNotTheTopmostPopup{ "xdg_wm_base", XDG_WM_BASE_ERROR_NOT_THE_TOPMOST_POPUP };

struct DestroyCase {
	std::string name;
	std::function<void(Scene &)> act;
	Expected error;
	/* Whether the button and finger come up after the offender went, ending any grab. */
	bool releaseAfter = true;
};

/* The three objects of a toplevel, in the order a case destroys them. */
enum class Part { Surface, Toplevel, XdgSurface };

const char *partName(Part part)
{
	switch (part) {
	case Part::Surface:
		return "Surface";
	case Part::Toplevel:
		return "Toplevel";
	case Part::XdgSurface:
		return "XdgSurface";
	}
	return "";
}

void destroyPart(XdgObjects &w, Part part)
{
	switch (part) {
	case Part::Surface:
		w.destroySurface();
		break;
	case Part::Toplevel:
		w.destroyRole();
		break;
	case Part::XdgSurface:
		w.destroyXdg();
		break;
	}
}

/*
 * Destroys parts in order, the scene settling after each; stops at the
 * xdg_surface if its role object is still there (the error ends the client).
 */
void destroyInOrder(Scene &s, XdgObjects &w, const std::vector<Part> &parts)
{
	for (Part part : parts) {
		bool defunct = part == Part::XdgSurface && (w.toplevel || w.popup);
		destroyPart(w, part);
		if (defunct)
			return;
		s.pointerTo(kOnWindowX + 2, kOnWindowY + 2);
		s.settle();
	}
}

/* The error destroying these parts in this order must give. */
Expected errorOf(const std::vector<Part> &parts)
{
	for (Part part : parts) {
		if (part == Part::Toplevel)
			return kNoError;
		if (part == Part::XdgSurface)
			return kDefunctRoleObject;
	}
	return kNoError;
}

const std::vector<Part> kSTX = { Part::Surface, Part::Toplevel, Part::XdgSurface };
const std::vector<Part> kTXS = { Part::Toplevel, Part::XdgSurface, Part::Surface };

/*
 * A mapped toplevel with the pointer and the keyboard, destroyed in each
 * order, whole or in part before the client disconnects. An order stops
 * where it destroys the xdg_surface before the toplevel: the error ends
 * the client there.
 */
void addToplevelCases(std::vector<DestroyCase> &cases)
{
	std::vector<Part> order = { Part::Surface, Part::Toplevel, Part::XdgSurface };
	std::set<std::vector<Part>> seen;
	do {
		for (size_t steps = 1; steps <= order.size(); steps++) {
			std::vector<Part> parts(order.begin(), order.begin() + long(steps));
			auto defunct = std::find(parts.begin(), parts.end(), Part::XdgSurface);
			bool failed = errorOf(parts).interface != nullptr;
			if (failed)
				parts.erase(defunct + 1, parts.end());
			if (!seen.insert(parts).second)
				continue;
			std::string name = "Toplevel";
			for (Part part : parts)
				name += partName(part);
			if (parts.size() < order.size() && !failed)
				name += "_Disconnect";
			cases.push_back({ name, [parts](Scene &s) {
				XdgObjects *w = mapToplevel(s, "offender");
				s.pointerTo(kOnWindowX, kOnWindowY);
				s.c.roundtrip();
				ASSERT_EQ(s.c.pointerFocus, w->surface);
				ASSERT_EQ(s.c.keyboardFocus, w->surface);
				destroyInOrder(s, *w, parts);
			}, errorOf(parts) });
		}
	} while (std::next_permutation(order.begin(), order.end()));

	cases.push_back({ "ToplevelMadeAfterItsSurfaceWent", [](Scene &s) {
		/* libwayland allows it; the role object is inert, not missing. */
		auto *w = s.own(std::make_unique<XdgObjects>(s.c, s.destroyed));
		w->surface = wl_compositor_create_surface(s.c.compositor);
		w->xdg = xdg_wm_base_get_xdg_surface(s.c.wmBase, w->surface);
		w->destroySurface();
		w->toplevel = xdg_surface_get_toplevel(w->xdg);
		xdg_toplevel_set_title(w->toplevel, "inert");
		xdg_toplevel_set_maximized(w->toplevel);
		s.settle();
		w->destroyRole();
		w->destroyXdg();
	} });
}

/* A toplevel with a grabbing menu, clicked on first for the serial. */
struct Menu {
	XdgObjects *window;
	XdgObjects *menu;
};

Menu openMenu(Scene &s)
{
	XdgObjects *w = mapToplevel(s, "offender");
	s.clickAt(kOnWindowX, kOnWindowY);
	XdgObjects *menu = mapPopup(s, *w, 10, 10);
	s.settle();
	EXPECT_EQ(s.c.keyboardFocus, menu->surface);
	return { w, menu };
}

void addPopupCases(std::vector<DestroyCase> &cases)
{
	cases.push_back({ "PopupParentGoesSurfaceFirstThenPopupMoves", [](Scene &s) {
		Menu m = openMenu(s);
		destroyInOrder(s, *m.window, kSTX);
		/* The parent is gone: placing the popup has nothing to go by. */
		reposition(s, *m.menu, 20, 20);
		s.settle();
		EXPECT_TRUE(m.menu->done);
		destroyInOrder(s, *m.menu, kTXS);
	} });
	cases.push_back({ "PopupParentGoesSurfaceFirst_Disconnect", [](Scene &s) {
		Menu m = openMenu(s);
		destroyInOrder(s, *m.window, { Part::Surface, Part::Toplevel });
		reposition(s, *m.menu, 20, 20);
		s.settle();
	} });
	cases.push_back({ "PopupParentGoesInOrderThenPopupMoves", [](Scene &s) {
		Menu m = openMenu(s);
		destroyInOrder(s, *m.window, kTXS);
		EXPECT_TRUE(m.menu->done);
		reposition(s, *m.menu, 20, 20);
		s.settle();
		destroyInOrder(s, *m.menu, kTXS);
	} });
	cases.push_back({ "GrabbingPopupSurfaceFirst", [](Scene &s) {
		Menu m = openMenu(s);
		destroyInOrder(s, *m.menu, kSTX);
		s.clickAt(kOnWindowX, kOnWindowY);
		s.settle();
		EXPECT_EQ(s.c.keyboardFocus, m.window->surface);
	} });
	cases.push_back({ "GrabbingPopupSurfaceFirst_Disconnect", [](Scene &s) {
		Menu m = openMenu(s);
		destroyInOrder(s, *m.menu, { Part::Surface, Part::Toplevel });
	} });
	cases.push_back({ "GrabbingPopupXdgSurfaceFirst", [](Scene &s) {
		Menu m = openMenu(s);
		destroyInOrder(s, *m.menu, { Part::XdgSurface });
	}, kDefunctRoleObject });
	cases.push_back({ "NestedPopupsParentFirst", [](Scene &s) {
		Menu m = openMenu(s);
		XdgObjects *submenu = mapPopup(s, *m.menu, 5, 5);
		s.settle();
		m.menu->destroyRole();
		(void)submenu;
	}, kNotTheTopmostPopup });
	cases.push_back({ "NestedPopupsParentSurfaceFirst", [](Scene &s) {
		Menu m = openMenu(s);
		XdgObjects *submenu = mapPopup(s, *m.menu, 5, 5);
		s.settle();
		/* The menu's content goes: the submenu above it closes. */
		m.menu->destroySurface();
		s.settle();
		EXPECT_TRUE(submenu->done);
		reposition(s, *submenu, 6, 6);
		s.settle();
		destroyInOrder(s, *submenu, kTXS);
		destroyInOrder(s, *m.menu, { Part::Toplevel, Part::XdgSurface });
	} });
	cases.push_back({ "NestedPopupsSurfacesFirst_Disconnect", [](Scene &s) {
		Menu m = openMenu(s);
		XdgObjects *submenu = mapPopup(s, *m.menu, 5, 5);
		s.settle();
		submenu->destroySurface();
		m.menu->destroySurface();
		m.window->destroySurface();
		s.settle();
	} });
	cases.push_back({ "NestedPopupsWindowGoesFirst", [](Scene &s) {
		Menu m = openMenu(s);
		XdgObjects *submenu = mapPopup(s, *m.menu, 5, 5);
		s.settle();
		destroyInOrder(s, *m.window, kSTX);
		EXPECT_TRUE(m.menu->done && submenu->done);
		reposition(s, *submenu, 6, 6);
		reposition(s, *m.menu, 6, 6);
		s.settle();
		destroyInOrder(s, *submenu, kSTX);
		destroyInOrder(s, *m.menu, kSTX);
	} });
}

void addSubsurfaceCases(std::vector<DestroyCase> &cases)
{
	cases.push_back({ "SubsurfaceParentSurfaceFirst", [](Scene &s) {
		XdgObjects *w = mapToplevel(s, "offender");
		Child *child = addChild(s, w->surface, 8, 8);
		s.pointerTo(kWindowX + 10, kWindowY + 10);
		s.settle();
		EXPECT_EQ(s.c.pointerFocus, child->surface);
		w->destroySurface();
		s.settle();
		wl_subsurface_set_position(child->subsurface, 20, 20);
		wl_subsurface_set_sync(child->subsurface);
		wl_surface_commit(child->surface);
		s.pointerTo(kWindowX + 11, kWindowY + 11);
		s.settle();
		child->destroySubsurface();
		child->destroySurface();
		destroyInOrder(s, *w, { Part::Toplevel, Part::XdgSurface });
	} });
	cases.push_back({ "NestedSubsurfaceMiddleFirst", [](Scene &s) {
		XdgObjects *w = mapToplevel(s, "offender");
		Child *middle = addChild(s, w->surface, 8, 8);
		Child *inner = addChild(s, middle->surface, 4, 4);
		wl_surface_commit(w->surface);
		s.pointerTo(kWindowX + 14, kWindowY + 14);
		s.settle();
		middle->destroySurface();
		s.settle();
		wl_subsurface_set_desync(inner->subsurface);
		wl_subsurface_set_position(inner->subsurface, 1, 1);
		wl_surface_commit(inner->surface);
		wl_surface_commit(w->surface);
		s.settle();
		inner->destroySurface();
		middle->destroySubsurface();
		inner->destroySubsurface();
		destroyInOrder(s, *w, kTXS);
	} });
	cases.push_back({ "SubsurfaceParentGone_Disconnect", [](Scene &s) {
		XdgObjects *w = mapToplevel(s, "offender");
		Child *child = addChild(s, w->surface, 8, 8);
		s.pointerTo(kWindowX + 10, kWindowY + 10);
		s.settle();
		w->destroySurface();
		child->destroySubsurface();
		s.settle();
	} });
}

void addSeatCases(std::vector<DestroyCase> &cases)
{
	cases.push_back({ "ButtonHeldOnSurfaceThatGoes", [](Scene &s) {
		XdgObjects *w = mapToplevel(s, "offender");
		s.pressAt(kOnWindowX, kOnWindowY);
		destroyInOrder(s, *w, kSTX);
		s.pointerTo(200, 200);
		s.button(false);
		s.settle();
	} });
	cases.push_back({ "TouchedSurfaceGoes", [](Scene &s) {
		XdgObjects *w = mapToplevel(s, "offender");
		s.inject([](comp::HeadlessBackend &h) {
			h.injectTouchDown(0, kOnWindowX, kOnWindowY);
			h.injectTouchFrame();
		});
		s.settle();
		destroyInOrder(s, *w, kSTX);
		s.inject([](comp::HeadlessBackend &h) {
			h.injectTouchMotion(0, kOnWindowX + 5, kOnWindowY + 5);
			h.injectTouchFrame();
			h.injectTouchUp(0);
			h.injectTouchFrame();
		});
		s.settle();
	} });
	cases.push_back({ "CursorSurfaceGoesWhileSet", [](Scene &s) {
		XdgObjects *w = mapToplevel(s, "offender");
		s.pointerTo(kOnWindowX, kOnWindowY);
		s.c.roundtrip();
		ShmBuffer *buffer = nullptr;
		wl_surface *cursor = drawnSurface(s, buffer);
		wl_pointer_set_cursor(s.c.pointer, s.c.lastSerial, cursor, 2, 2);
		s.settle();
		wl_surface_destroy(cursor);
		s.pointerTo(kOnWindowX + 3, kOnWindowY + 3);
		s.settle();
		/* Another cursor, and the window under it goes first this time. */
		cursor = drawnSurface(s, buffer);
		wl_pointer_set_cursor(s.c.pointer, s.c.lastSerial, cursor, 1, 1);
		s.settle();
		destroyInOrder(s, *w, kSTX);
		wl_surface_destroy(cursor);
		s.settle();
	} });
	cases.push_back({ "CursorSurfaceSet_Disconnect", [](Scene &s) {
		mapToplevel(s, "offender");
		s.pointerTo(kOnWindowX, kOnWindowY);
		s.c.roundtrip();
		ShmBuffer *buffer = nullptr;
		wl_surface *cursor = s.c.own(drawnSurface(s, buffer));
		wl_pointer_set_cursor(s.c.pointer, s.c.lastSerial, cursor, 2, 2);
		s.settle();
	} });
}

/* A drag from the offender's window, on a held press. */
struct Dragging {
	XdgObjects *window;
	DeviceEvents *device;
	Source *source;		/* null for a drag within the client */
	wl_surface *icon;	/* null without one; the case destroys it */
};

Dragging beginDrag(Scene &s, bool withSource, bool withIcon)
{
	Dragging d{ mapToplevel(s, "offender"), listenDevice(s), nullptr, nullptr };
	if (withSource)
		d.source = s.own(std::make_unique<Source>(s.c, kCopy));
	if (withIcon) {
		ShmBuffer *buffer = nullptr;
		d.icon = drawnSurface(s, buffer);
	}
	startDrag(s, *d.device, *d.window, d.source, d.icon);
	return d;
}

/* The pointer to (x, y), then the button up: a drop or a cancel. */
void moveAndRelease(Scene &s, double x, double y)
{
	s.pointerTo(x, y);
	s.settle();
	s.button(false);
	s.settle();
}

void addDragCases(std::vector<DestroyCase> &cases)
{
	cases.push_back({ "DragIconGoesMidDrag", [](Scene &s) {
		Dragging d = beginDrag(s, true, true);
		s.pointerTo(140, 100);
		s.settle();
		wl_surface_destroy(d.icon);
		moveAndRelease(s, 150, 110);
	} });
	cases.push_back({ "DragSourceGoesMidDrag", [](Scene &s) {
		Dragging d = beginDrag(s, true, false);
		s.pointerTo(kOnWindowX + 10, kOnWindowY + 10);
		s.settle();
		d.source->destroy();
		moveAndRelease(s, 10, 10);
	} });
	cases.push_back({ "StartDragRefusedDuringADrag", [](Scene &s) {
		Dragging d = beginDrag(s, true, false);
		/* The same press again: another grab runs, so this one is refused. */
		Source *second = s.own(std::make_unique<Source>(s.c, kCopy));
		wl_data_device_start_drag(d.device->device, second->proxy, d.window->surface,
					  nullptr, s.c.lastSerial);
		s.settle();
		EXPECT_TRUE(second->events.cancelled);
		EXPECT_FALSE(d.source->events.cancelled);
		/* The drag still running is the first's: its source going ends it. */
		d.source->destroy();
		s.settle();
		s.pointerTo(10, 10);
		moveAndRelease(s, kOnWindowX, kOnWindowY);
	} });
	cases.push_back({ "DragTargetGoesMidDrag", [](Scene &s) {
		Dragging d = beginDrag(s, true, false);
		XdgObjects *target = mapToplevel(s, "target", 200, 60);
		s.pointerTo(220, 80);
		s.settle();
		EXPECT_EQ(d.device->entered, target->surface);
		destroyInOrder(s, *target, kSTX);
		moveAndRelease(s, 221, 81);
	} });
	cases.push_back({ "DragOriginGoesMidDrag", [](Scene &s) {
		Dragging d = beginDrag(s, true, true);
		s.c.own(d.icon);
		destroyInOrder(s, *d.window, kSTX);
		moveAndRelease(s, 10, 10);
	} });
	cases.push_back({ "Drag_Disconnect", [](Scene &s) {
		Dragging d = beginDrag(s, true, true);
		s.c.own(d.icon);
		s.pointerTo(kOnWindowX + 3, kOnWindowY + 3);
		s.settle();
	} });
	cases.push_back({ "DragWithoutSource_Disconnect", [](Scene &s) {
		/* Nothing of the client's ends such a drag but the client going. */
		beginDrag(s, false, false);
		s.pointerTo(kOnWindowX + 3, kOnWindowY + 3);
		s.settle();
	}, kNoError, false });
	cases.push_back({ "SelectionSourceGoes", [](Scene &s) {
		mapToplevel(s, "offender");
		DeviceEvents *device = listenDevice(s);
		s.clickAt(kOnWindowX, kOnWindowY);
		Source *source = s.own(std::make_unique<Source>(s.c, 0));
		wl_data_device_set_selection(device->device, source->proxy, s.c.lastSerial);
		s.c.roundtrip();
		ASSERT_TRUE(device->offer);
		/* The offer outlives its source: reading it gives nothing. */
		int fds[2];
		ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
		source->destroy();
		wl_data_offer_receive(device->offer, "text/plain", fds[1]);
		close(fds[1]);
		s.settle();
		EXPECT_EQ(readAll(fds[0]), "");
		close(fds[0]);
		/* Focus goes away and back: the selection is empty now. */
		s.clickAt(5, 5);
		s.clickAt(kOnWindowX, kOnWindowY);
		s.settle();
		EXPECT_FALSE(device->offer);
	} });
}

/* The offender's window pressed on and moved (no edges) or resized by edges, a little. */
XdgObjects *grabbedWindow(Scene &s, uint32_t edges)
{
	XdgObjects *w = mapToplevel(s, "offender");
	s.pressAt(kOnWindowX, kOnWindowY);
	if (edges == XDG_TOPLEVEL_RESIZE_EDGE_NONE)
		xdg_toplevel_move(w->toplevel, s.c.seat, s.c.lastSerial);
	else
		xdg_toplevel_resize(w->toplevel, s.c.seat, s.c.lastSerial, edges);
	s.pointerTo(kOnWindowX + 10, kOnWindowY + 5);
	s.settle();
	return w;
}

void addMoveResizeCases(std::vector<DestroyCase> &cases)
{
	cases.push_back({ "MoveInProgressWindowGoes", [](Scene &s) {
		XdgObjects *w = grabbedWindow(s, XDG_TOPLEVEL_RESIZE_EDGE_NONE);
		destroyInOrder(s, *w, kSTX);
		moveAndRelease(s, kOnWindowX + 20, kOnWindowY + 10);
	} });
	cases.push_back({ "ResizeInProgressWindowGoes", [](Scene &s) {
		XdgObjects *w = grabbedWindow(s, XDG_TOPLEVEL_RESIZE_EDGE_TOP_LEFT);
		destroyInOrder(s, *w, kTXS);
		moveAndRelease(s, kOnWindowX - 20, kOnWindowY - 10);
	} });
	cases.push_back({ "ResizeInProgress_Disconnect", [](Scene &s) {
		XdgObjects *w = grabbedWindow(s, XDG_TOPLEVEL_RESIZE_EDGE_BOTTOM_RIGHT);
		w->destroySurface();
		s.settle();
	} });
	cases.push_back({ "TouchMoveInProgressWindowGoes", [](Scene &s) {
		XdgObjects *w = mapToplevel(s, "offender");
		s.inject([](comp::HeadlessBackend &h) {
			h.injectTouchDown(0, kOnWindowX, kOnWindowY);
			h.injectTouchFrame();
		});
		s.c.roundtrip();
		xdg_toplevel_move(w->toplevel, s.c.seat, s.c.touchDownSerial);
		s.settle();
		destroyInOrder(s, *w, { Part::Surface, Part::XdgSurface });
	}, kDefunctRoleObject });
}

std::vector<DestroyCase> destroyCases()
{
	std::vector<DestroyCase> cases;
	addToplevelCases(cases);
	addPopupCases(cases);
	addSubsurfaceCases(cases);
	addSeatCases(cases);
	addDragCases(cases);
	addMoveResizeCases(cases);
	return cases;
}

class DestroyOrder : public testing::TestWithParam<DestroyCase>
{
protected:
	static comp::ServerConfig touchScreenConfig()
	{
		comp::ServerConfig config = ServerRunner::defaultConfig();
		config.headless.touch = true;
		return config;
	}
};

TEST_P(DestroyOrder, TheSpecsErrorOrNoneAndNothingLeft)
{
	const DestroyCase &param = GetParam();
	ServerRunner server(touchScreenConfig());
	ASSERT_TRUE(server.ok()) << server.error();

	Bystander bystander(server);
	ASSERT_TRUE(bystander.ready());
	const int fds = countOpenFds();
	const size_t clients = server.run([](comp::Server &s) { return s.numClients(); });

	{
		LastDestroyed destroyed;
		TestClient offender(server.socket());
		ASSERT_TRUE(offender.connected());
		offender.bindInput();
		offender.bindTouch();
		Scene scene{ server, offender, destroyed };
		param.act(scene);
		if (param.error.interface) {
			auto error = offender.expectError();
			ASSERT_TRUE(error) << "no error";
			if (error->interface.empty())
				error->interface = destroyed.interface;
			EXPECT_EQ(error->interface, param.error.interface);
			EXPECT_EQ(error->code, param.error.code);
		} else {
			EXPECT_TRUE(offender.roundtrip());
			EXPECT_FALSE(offender.error()) << offender.error()->interface << " error "
						       << offender.error()->code;
		}
		ASSERT_TRUE(server.drawFrames(2));
	}

	/* Whatever the seat still held of the offender's meets more input. */
	LastDestroyed none;
	Scene after{ server, bystander.client, none };
	after.stir();
	if (param.releaseAfter) {
		after.inject([](comp::HeadlessBackend &h) {
			h.injectPointerButton(BTN_LEFT, false);
			h.injectTouchUp(0);
			h.injectTouchFrame();
		});
	}
	EXPECT_TRUE(bystander.stillServed());
	ASSERT_TRUE(server.waitFrames(2));
	EXPECT_EQ(countOpenFds(), fds);
	EXPECT_EQ(server.run([](comp::Server &s) { return s.numClients(); }), clients);
}

INSTANTIATE_TEST_SUITE_P(Clients, DestroyOrder, testing::ValuesIn(destroyCases()),
			 [](const testing::TestParamInfo<DestroyCase> &info) {
				 return info.param.name;
			 });

} /* namespace */
} /* namespace heapcomp::test */
