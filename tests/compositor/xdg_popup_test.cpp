/* SPDX-License-Identifier: MIT */
/* xdg_popup: placement by the positioner, stacking, dismissal, grabs. */
#include <gtest/gtest.h>

#include <linux/input-event-codes.h>
#include <string>
#include <vector>

#include "input_test.h"
#include "protocols/xdg_shell.h"

namespace heapcomp::test {
namespace {

struct Popup {
	Proxy<wl_surface> surface;
	Proxy<xdg_surface> xdg;
	Proxy<xdg_popup> popup;
	uint32_t serial = 0;
	bool configured = false;
	int32_t x = 0, y = 0, width = 0, height = 0;
	bool done = false;
	/* If set, where popup_done events line up, popup after popup. */
	std::vector<Popup *> *doneOrder = nullptr;
};

const xdg_surface_listener popupSurfaceListener = {
	.configure = [](void *data, xdg_surface *, uint32_t serial) {
		auto *p = static_cast<Popup *>(data);
		p->serial = serial;
		p->configured = true;
	},
};

const xdg_popup_listener popupListener = {
	.configure = [](void *data, xdg_popup *, int32_t x, int32_t y, int32_t w, int32_t h) {
		auto *p = static_cast<Popup *>(data);
		p->x = x;
		p->y = y;
		p->width = w;
		p->height = h;
	},
	.popup_done = [](void *data, xdg_popup *) {
		auto *p = static_cast<Popup *>(data);
		p->done = true;
		if (p->doneOrder)
			p->doneOrder->push_back(p);
	},
	.repositioned = [](void *, xdg_popup *, uint32_t) {},
};

/*
 * A 40x30 green popup of parent that grabs with grabSerial, anchored to
 * the bottom right of (x, y, 10, 10) and offset by (2, 3): configured,
 * acked and drawn, all but the commit that would map it.
 */
bool preparePopup(TestClient &client, xdg_surface *parent, int32_t x, int32_t y, Popup &popup,
		  ShmBuffer &buffer, uint32_t grabSerial)
{
	Proxy<xdg_positioner> positioner(xdg_wm_base_create_positioner(client.wmBase));
	xdg_positioner_set_size(positioner, 40, 30);
	xdg_positioner_set_anchor_rect(positioner, x, y, 10, 10);
	xdg_positioner_set_anchor(positioner, XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT);
	xdg_positioner_set_gravity(positioner, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT);
	xdg_positioner_set_offset(positioner, 2, 3);

	popup.surface.reset(wl_compositor_create_surface(client.compositor));
	popup.xdg.reset(xdg_wm_base_get_xdg_surface(client.wmBase, popup.surface));
	xdg_surface_add_listener(popup.xdg, &popupSurfaceListener, &popup);
	popup.popup.reset(xdg_surface_get_popup(popup.xdg, parent, positioner));
	xdg_popup_add_listener(popup.popup, &popupListener, &popup);
	positioner.reset();
	xdg_popup_grab(popup.popup, client.seat, grabSerial);
	wl_surface_commit(popup.surface);
	if (!client.dispatchUntil([&] { return popup.configured; }))
		return false;
	xdg_surface_ack_configure(popup.xdg, popup.serial);
	buffer.fill(0xff00ff00);
	wl_surface_attach(popup.surface, buffer.buffer(), 0, 0);
	wl_surface_damage_buffer(popup.surface, 0, 0, 40, 30);
	return true;
}

/* preparePopup's popup, grabbing with the client's last serial, mapped. */
bool openPopup(TestClient &client, xdg_surface *parent, int32_t x, int32_t y, Popup &popup,
	       ShmBuffer &buffer)
{
	return preparePopup(client, parent, x, y, popup, buffer, client.lastSerial) &&
	       client.commitAndWaitFrame(popup.surface).has_value();
}

/* A menu of parent: its box is (62, 63, 40, 30) in parent's coordinates. */
bool openMenu(TestClient &client, MappedWindow &parent, Popup &popup, ShmBuffer &buffer)
{
	return openPopup(client, parent.window.xdgSurface(), 50, 50, popup, buffer);
}

void closeMenu(Popup &popup)
{
	popup.popup.reset();
	popup.xdg.reset();
	popup.surface.reset();
}

/* A client with a red 100x100 window and its menu open. */
class MenuTest : public testing::Test
{
protected:
	void SetUp() override
	{
		ASSERT_TRUE(server.ok()) << server.error();
		client.bindInput();
		ASSERT_TRUE(parent.ok);
		ASSERT_TRUE(openMenu(client, parent, popup, buffer));
	}

	ServerRunner server;
	TestClient client{ server.socket() };
	MappedWindow parent{ client, "parent", 100, 100, 0xffff0000 };
	Popup popup;
	ShmBuffer buffer{ client.shm, 40, 30 };
};

TEST_F(MenuTest, PlacedByThePositionerAndDismissedByAClickOutside)
{
	EXPECT_EQ(popup.x, 62);
	EXPECT_EQ(popup.y, 63);
	EXPECT_EQ(popup.width, 40);
	EXPECT_EQ(popup.height, 30);
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(62, 63), 0xff00ff00u);
	EXPECT_EQ(shot.at(101, 92), 0xff00ff00u);
	EXPECT_EQ(shot.at(61, 62), 0xffff0000u);

	/* The grab gives the menu the keyboard; its window stays active. */
	ASSERT_TRUE(client.dispatchUntil([&] { return client.keyboardFocus == popup.surface; }));
	int configures = parent.window.configures();
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(parent.window.configures(), configures);

	/* A grabbed popup closes when the user clicks elsewhere. */
	server.run([](comp::Server &s) {
		s.headlessBackend()->injectPointerMotion(300, 200);
		s.headlessBackend()->injectPointerButton(BTN_LEFT, true);
		s.headlessBackend()->injectPointerButton(BTN_LEFT, false);
	});
	ASSERT_TRUE(client.dispatchUntil([&] { return popup.done; }));
	ASSERT_TRUE(client.dispatchUntil([&] {
		return client.keyboardFocus == parent.window.surface();
	}));
	ASSERT_TRUE(server.waitFrames(1));
	EXPECT_EQ(server.screenshot().at(80, 80), 0xffff0000u);
	closeMenu(popup);
	ASSERT_TRUE(client.roundtrip());
	EXPECT_FALSE(client.error());
}

TEST_F(MenuTest, NewWindowClosesTheMenu)
{
	MappedWindow other(client, "other", 50, 50, 0xff0000ff);
	ASSERT_TRUE(other.ok);
	ASSERT_TRUE(client.dispatchUntil([&] { return popup.done; }));
	EXPECT_EQ(client.keyboardFocus, other.window.surface());
	closeMenu(popup);
	ASSERT_TRUE(client.roundtrip());
	EXPECT_FALSE(client.error());
}

using Events = std::vector<std::string>;

/*
 * Two clients: a's window at (0, 0) with its menu open at (62, 63),
 * b's window at (200, 0); both 100x100.
 */
class PopupGrabTest : public InputTest
{
protected:
	void SetUp() override
	{
		InputTest::SetUp();
		ASSERT_TRUE(wa.ok && wb.ok);
		server.run([](comp::Server &s) {
			s.findView("a")->setPosition(0, 0);
			s.findView("b")->setPosition(200, 0);
		});
		ASSERT_TRUE(a.roundtrip() && b.roundtrip());
	}

	void moveTo(double x, double y)
	{
		inject([&](comp::HeadlessBackend &h) { h.injectPointerMotion(x, y); });
	}

	void click(double x, double y)
	{
		inject([&](comp::HeadlessBackend &h) {
			h.injectPointerMotion(x, y);
			h.injectPointerButton(BTN_LEFT, true);
			h.injectPointerButton(BTN_LEFT, false);
		});
	}

	/* A tap at (x, y): the user action a grab answers, leaving the pointer be. */
	void tap(TestClient &c, double x, double y)
	{
		size_t seen = c.touchEvents.size();
		inject([&](comp::HeadlessBackend &h) {
			h.injectTouchDown(9, x, y);
			h.injectTouchFrame();
			h.injectTouchUp(9);
			h.injectTouchFrame();
		});
		ASSERT_TRUE(c.dispatchUntil([&] { return c.touchEvents.size() == seen + 4; }));
	}

	void showMenu()
	{
		tap(a, 20, 20);
		ASSERT_TRUE(openMenu(a, wa, menu, menuBuffer));
	}

	/* A submenu of the menu, at (94, 81) on the screen. */
	void showSubmenu()
	{
		ASSERT_TRUE(openPopup(a, menu.xdg, 20, 5, submenu, submenuBuffer));
	}

	MappedWindow wa{ a, "a", 100, 100, 0xffff0000 };
	MappedWindow wb{ b, "b", 100, 100, 0xff0000ff };
	Popup menu, submenu;
	ShmBuffer menuBuffer{ a.shm, 40, 30 };
	ShmBuffer submenuBuffer{ a.shm, 40, 30 };
};

TEST_F(PopupGrabTest, ThePointerStaysWithTheGrabbingClient)
{
	moveTo(250, 50);
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == wb.window.surface(); }));
	showMenu();
	/* The grab takes the pointer from b. */
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == nullptr; }));
	moveTo(260, 60);
	moveTo(150, 50);
	moveTo(250, 40);

	/* a's own surfaces get the pointer as ever. */
	moveTo(70, 70);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerFocus == menu.surface; }));
	moveTo(75, 72);
	moveTo(20, 20);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerFocus == wa.window.surface(); }));
	moveTo(250, 50);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerFocus == nullptr; }));
	EXPECT_EQ(a.pointerEvents, (Events{ "enter", "motion", "leave", "enter", "leave" }));

	ASSERT_TRUE(b.roundtrip());
	EXPECT_EQ(b.pointerEvents, (Events{ "enter", "leave" }));
	EXPECT_FALSE(menu.done);
}

TEST_F(PopupGrabTest, AClickOnAnotherClientOnlyDismissesThePopups)
{
	showMenu();
	showSubmenu();
	std::vector<Popup *> doneOrder;
	menu.doneOrder = submenu.doneOrder = &doneOrder;
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == submenu.surface; }));

	click(250, 50);
	ASSERT_TRUE(a.dispatchUntil([&] { return menu.done; }));
	/* Topmost first. */
	EXPECT_EQ(doneOrder, (std::vector<Popup *>{ &submenu, &menu }));
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == wa.window.surface(); }));

	/* b sees the pointer only once the button that closed the menus is up. */
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == wb.window.surface(); }));
	EXPECT_EQ(b.pointerEvents, (Events{ "enter" }));
	EXPECT_TRUE(b.buttonsPressed.empty());
	EXPECT_NE(b.keyboardFocus, wb.window.surface());

	/* With the grab over, b's window takes clicks again. */
	click(250, 50);
	ASSERT_TRUE(b.dispatchUntil([&] { return b.buttonsPressed.size() == 1; }));
	closeMenu(submenu);
	closeMenu(menu);
	ASSERT_TRUE(a.roundtrip());
	EXPECT_FALSE(a.error());
}

TEST_F(PopupGrabTest, AClickOnTheGrabbingClientKeepsThePopups)
{
	showMenu();
	click(70, 70);
	click(20, 20);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.buttonsPressed.size() == 2; }));
	EXPECT_FALSE(menu.done);
	/* The menu keeps the keyboard while it is open. */
	EXPECT_EQ(a.keyboardFocus, menu.surface);
}

TEST_F(PopupGrabTest, ClosingTheTopmostGivesTheKeyboardBack)
{
	showMenu();
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == menu.surface; }));
	showSubmenu();
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == submenu.surface; }));
	closeMenu(submenu);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == menu.surface; }));
	closeMenu(menu);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == wa.window.surface(); }));
	/* With no grab left, b gets the pointer again. */
	moveTo(250, 50);
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == wb.window.surface(); }));
	EXPECT_FALSE(a.error());
}

TEST_F(PopupGrabTest, AnotherClientsGrabEndsTheFirst)
{
	/* b's user action comes first: during a's grab b gets none. */
	tap(b, 250, 50);
	showMenu();
	Popup other;
	ShmBuffer otherBuffer(b.shm, 40, 30);
	ASSERT_TRUE(openMenu(b, wb, other, otherBuffer));
	ASSERT_TRUE(a.dispatchUntil([&] { return menu.done; }));
	EXPECT_FALSE(other.done);
	/* The pointer is for b's surfaces only now. */
	moveTo(20, 20);
	moveTo(250, 50);
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == wb.window.surface(); }));
	ASSERT_TRUE(a.roundtrip());
	EXPECT_TRUE(a.pointerEvents.empty());
	closeMenu(other);
	closeMenu(menu);
	ASSERT_TRUE(a.roundtrip() && b.roundtrip());
}

TEST_F(PopupGrabTest, ATouchOnAnotherClientDismissesThePopups)
{
	showMenu();
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(0, 250, 50);
		h.injectTouchFrame();
		h.injectTouchUp(0);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return menu.done; }));
	ASSERT_TRUE(b.roundtrip());
	EXPECT_TRUE(b.touchEvents.empty());
	/* With the menu gone, b's window takes fingers again. */
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(1, 250, 50);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(b.dispatchUntil([&] { return b.touchEvents.size() == 2; }));
	EXPECT_EQ(b.touchEvents, (Events{ "down 1", "frame" }));
	closeMenu(menu);
	ASSERT_TRUE(a.roundtrip());
	EXPECT_FALSE(a.error());
}

/* xdg_popup.grab must answer a user action: a serial never sent is denied. */
TEST_F(PopupGrabTest, AGrabWithoutARecentSerialIsDenied)
{
	tap(a, 20, 20);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == wa.window.surface(); }));
	ASSERT_TRUE(preparePopup(a, wa.window.xdgSurface(), 50, 50, menu, menuBuffer,
				 a.lastSerial + 1000));
	wl_surface_commit(menu.surface);
	ASSERT_TRUE(a.dispatchUntil([&] { return menu.done; }));
	ASSERT_TRUE(server.waitFrames(2));
	EXPECT_EQ(server.screenshot().at(80, 80), 0xffff0000u);
	EXPECT_EQ(a.keyboardFocus, wa.window.surface());
	closeMenu(menu);
	ASSERT_TRUE(a.roundtrip());
	EXPECT_FALSE(a.error());
}

TEST_F(PopupGrabTest, ASubmenuOfAClosedMenuIsDismissedAtOnce)
{
	showMenu();
	click(250, 50);
	ASSERT_TRUE(a.dispatchUntil([&] { return menu.done; }));
	ASSERT_TRUE(preparePopup(a, menu.xdg, 20, 5, submenu, submenuBuffer, a.lastSerial));
	wl_surface_commit(submenu.surface);
	ASSERT_TRUE(a.dispatchUntil([&] { return submenu.done; }));
	closeMenu(submenu);
	closeMenu(menu);
	ASSERT_TRUE(a.roundtrip());
	EXPECT_FALSE(a.error());
}

TEST(XdgPopup, ConstraintSlidesIntoTheOutput)
{
	comp::XdgPositionerState p;
	p.width = 50;
	p.height = 20;
	p.hasSize = true;
	p.anchorRect = { 300, 10, 10, 10 };
	p.hasAnchorRect = true;
	p.anchor = XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT;
	p.gravity = XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT;
	comp::Rect output{ 0, 0, 320, 240 };
	/* Unconstrained it would poke out at x = 310..360. */
	EXPECT_EQ(p.place({}).x, 310);
	p.constraintAdjustment = XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_SLIDE_X;
	EXPECT_EQ(p.place(output).x, 270);
	p.constraintAdjustment = XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_FLIP_X;
	EXPECT_EQ(p.place(output).x, 250);
}

} /* namespace */
} /* namespace heapcomp::test */
