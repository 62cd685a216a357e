/* SPDX-License-Identifier: MIT */
/* wl_seat and wl_data_device: focus, input events, the clipboard. */
#include <gtest/gtest.h>

#include <cstring>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <unistd.h>

#include "data_device_events.h"
#include "input_test.h"
#include "protocols/seat.h"

namespace heapcomp::test {
namespace {

using SeatTest = InputTest;
using DataDeviceTest = InputTest;

TEST_F(SeatTest, PointerFocusAndClickToFocus)
{
	MappedWindow wa(a, "a", 64, 64, 0xffff0000);
	MappedWindow wb(b, "b", 64, 64, 0xff00ff00);
	ASSERT_TRUE(wa.ok && wb.ok);

	/* The last window mapped has the keyboard. */
	ASSERT_TRUE(b.dispatchUntil([&] { return b.keyboardFocus == wb.window.surface(); }));
	EXPECT_EQ(server.screenshot().at(40, 40), 0xff00ff00u);

	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(10.5, 12.25); });
	ASSERT_TRUE(a.dispatchUntil([&] {
		return a.pointerFocus == wa.window.surface() && a.pointerX == 10.5;
	}));
	EXPECT_DOUBLE_EQ(a.pointerX, 10.5);
	EXPECT_DOUBLE_EQ(a.pointerY, 12.25);

	inject([](comp::HeadlessBackend &h) {
		h.injectPointerMotion(40, 40);
	});
	/* (40, 40) is in b's window, which is on top. */
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == wb.window.surface(); }));
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerFocus == nullptr; }));

	inject([](comp::HeadlessBackend &h) {
		h.injectPointerMotion(5, 5);
		h.injectPointerButton(BTN_LEFT, true);
		h.injectPointerButton(BTN_LEFT, false);
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == wa.window.surface(); }));
	ASSERT_TRUE(a.dispatchUntil([&] { return !a.buttonsPressed.empty(); }));
	EXPECT_EQ(a.buttonsPressed[0], uint32_t(BTN_LEFT));
	ASSERT_TRUE(b.dispatchUntil([&] { return b.keyboardFocus == nullptr; }));
	/* Raised: a's window now covers b's where they overlap. */
	ASSERT_TRUE(server.waitFrames(1));
	EXPECT_EQ(server.screenshot().at(40, 40), 0xffff0000u);
	/* And activated, b deactivated. */
	ASSERT_TRUE(wa.window.waitConfigure());
	EXPECT_TRUE(wa.window.hasState(XDG_TOPLEVEL_STATE_ACTIVATED));
}

TEST_F(SeatTest, SurfaceMovingUnderAStillPointerGetsMotion)
{
	MappedWindow wa(a, "a", 64, 64, 0xffff0000);
	ASSERT_TRUE(wa.ok);

	/* No pointer position reported yet: the window at (0, 0) has no pointer. */
	ASSERT_TRUE(a.roundtrip());
	EXPECT_EQ(a.pointerFocus, nullptr);

	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(20, 20); });
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerFocus == wa.window.surface(); }));
	EXPECT_DOUBLE_EQ(a.pointerX, 20);

	server.run([](comp::Server &s) { s.findView("a")->setPosition(10, 5); });
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerX == 10 && a.pointerY == 15; }));
	EXPECT_EQ(a.pointerFocus, wa.window.surface());
}

TEST_F(SeatTest, InputRegionDecidesWherePointerAndTouchLand)
{
	MappedWindow wa(a, "a", 64, 64, 0xffff0000);
	MappedWindow wb(b, "b", 64, 64, 0xff00ff00);
	ASSERT_TRUE(wa.ok && wb.ok);
	/* Cascaded: b at (32, 32), on top of a. Only b's lower right takes input. */
	wl_region *region = wl_compositor_create_region(b.compositor);
	wl_region_add(region, 0, 0, 64, 64);
	wl_region_subtract(region, 0, 0, 32, 32);
	wl_surface_set_input_region(wb.window.surface(), region);
	wl_region_destroy(region);
	ASSERT_TRUE(b.roundtrip());

	/* Double-buffered: nothing changes before the commit. */
	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(40, 40); });
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == wb.window.surface(); }));

	wl_surface_commit(wb.window.surface());
	ASSERT_TRUE(b.roundtrip());
	inject([](comp::HeadlessBackend &h) {
		h.injectPointerMotion(41, 41);
		h.injectTouchDown(0, 70, 70);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] {
		return a.pointerFocus == wa.window.surface() && a.pointerX == 41;
	}));
	ASSERT_TRUE(b.dispatchUntil([&] { return b.touchPoints.count(0) == 1; }));
	EXPECT_DOUBLE_EQ(b.touchPoints[0].x, 38);

	/* A null region is the whole surface again. */
	wl_surface_set_input_region(wb.window.surface(), nullptr);
	wl_surface_commit(wb.window.surface());
	ASSERT_TRUE(b.roundtrip());
	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(40, 40); });
	ASSERT_TRUE(b.dispatchUntil([&] {
		return b.pointerFocus == wb.window.surface() && b.pointerX == 8;
	}));
}

/*
 * Scrolls say what made them; a wheel's clicks go as 120ths to clients
 * of wl_pointer 8 and as whole clicks to older ones; a finger's lift is
 * axis_stop, never a scroll by 0.
 */
TEST_F(SeatTest, ScrollSaysItsSourceItsClicksAndItsEnd)
{
	using Axis = comp::PointerAxis;
	using Events = std::vector<std::string>;
	MappedWindow wa(a, "a", 64, 64, 0xffff0000);
	ASSERT_TRUE(wa.ok);
	TestClient::maxSeatVersion = 7;
	TestClient old(server.socket());
	TestClient::maxSeatVersion = 8;
	old.bindInput();
	MappedWindow wold(old, "old", 64, 64, 0xff00ff00);
	ASSERT_TRUE(wold.ok);
	server.run([](comp::Server &s) { s.findView("old")->setPosition(200, 0); });

	const Axis click{ .horizontal = false, .value = 15, .source = Axis::Source::Wheel, .value120 = 120 };
	const Axis halfClick{ .horizontal = false, .value = 7.5, .source = Axis::Source::Wheel, .value120 = 60 };
	const Axis finger{ .horizontal = true, .value = -3, .source = Axis::Source::Finger };
	const Axis lift{ .horizontal = true, .value = 0, .source = Axis::Source::Finger };
	auto scroll = [&](double x, std::initializer_list<Axis> events) {
		inject([&](comp::HeadlessBackend &h) {
			h.injectPointerMotion(x, 20);
			for (const Axis &e : events)
				h.injectPointerAxis(e);
		});
	};

	scroll(20, { click, halfClick, halfClick, finger, lift });
	const Events expected = {
		"source 0", "value120 0 120", "axis 0 15.00", "frame",
		"source 0", "value120 0 60",  "axis 0 7.50",  "frame",
		"source 0", "value120 0 60",  "axis 0 7.50",  "frame",
		"source 1", "axis 1 -3.00",   "frame",
		"source 1", "stop 1",	      "frame",
	};
	ASSERT_TRUE(a.dispatchUntil([&] { return a.axisEvents.size() >= expected.size(); }));
	EXPECT_EQ(a.axisEvents, expected);

	scroll(220, { halfClick, halfClick, click, lift });
	const Events expectedOld = {
		"source 0", "axis 0 7.50",		       "frame",
		"source 0", "discrete 0 1", "axis 0 7.50",  "frame",
		"source 0", "discrete 0 1", "axis 0 15.00", "frame",
		"source 1", "stop 1",			       "frame",
	};
	ASSERT_TRUE(old.dispatchUntil([&] { return old.axisEvents.size() >= expectedOld.size(); }));
	EXPECT_EQ(old.axisEvents, expectedOld);
	EXPECT_EQ(a.axisEvents.size(), expected.size()) << "scrolls went to the unfocused client";
}

TEST_F(SeatTest, KeysGoToTheFocusedClient)
{
	MappedWindow wa(a, "a", 32, 32, 0xffff0000);
	ASSERT_TRUE(wa.ok);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == wa.window.surface(); }));
	inject([](comp::HeadlessBackend &h) {
		h.injectKey(KEY_H, true);
		h.injectKey(KEY_H, false);
		h.injectKey(KEY_I, true);
		h.injectKey(KEY_I, false);
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keysPressed.size() == 2; }));
	EXPECT_EQ(a.keysPressed, (std::vector<uint32_t>{ KEY_H, KEY_I }));
}

/*
 * Ctrl+Alt+F3 asks the backend for session 3 (where it has sessions) and
 * the client never sees F3; without the modifiers F3 is the client's.
 */
TEST_F(SeatTest, CtrlAltFnSwitchesSessionsAndNotTheClientsKey)
{
	MappedWindow wa(a, "a", 32, 32, 0xffff0000);
	ASSERT_TRUE(wa.ok);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == wa.window.surface(); }));
	std::vector<int> asked;
	server.run([&](comp::Server &s) {
		s.seat().setSessionSwitch([&](int session) { asked.push_back(session); });
	});
	inject([](comp::HeadlessBackend &h) {
		for (uint32_t key : { KEY_LEFTCTRL, KEY_LEFTALT, KEY_F3 })
			h.injectKey(key, true);
		for (uint32_t key : { KEY_F3, KEY_LEFTALT, KEY_LEFTCTRL })
			h.injectKey(key, false);
		h.injectKey(KEY_F3, true);
		h.injectKey(KEY_F3, false);
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keysPressed.size() == 3; }));
	EXPECT_EQ(a.keysPressed, (std::vector<uint32_t>{ KEY_LEFTCTRL, KEY_LEFTALT, KEY_F3 }));
	EXPECT_EQ(server.run([&](comp::Server &) { return asked; }), std::vector<int>{ 3 });
	server.run([](comp::Server &s) { s.seat().setSessionSwitch({}); });
}

TEST_F(DataDeviceTest, CopyAndPasteBetweenClients)
{
	DeviceEvents offerA, offerB;
	offerA.listen(a.dataDeviceManager, a.seat);
	offerB.listen(b.dataDeviceManager, b.seat);
	wl_data_device *deviceA = offerA.device, *deviceB = offerB.device;

	MappedWindow wa(a, "a", 32, 32, 0xffff0000);
	ASSERT_TRUE(wa.ok);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == wa.window.surface(); }));

	SourceEvents source;
	source.text = "hello from heapcomp";
	Proxy<wl_data_source> dataSource(
		wl_data_device_manager_create_data_source(a.dataDeviceManager));
	source.listen(dataSource);
	wl_data_source_offer(dataSource, "text/plain;charset=utf-8");
	wl_data_source_offer(dataSource, "TEXT");
	wl_data_device_set_selection(deviceA, dataSource, a.keyboardEnterSerial);
	ASSERT_TRUE(a.roundtrip());
	EXPECT_FALSE(source.cancelled);

	/* b gets the keyboard, and with it the selection. */
	MappedWindow wb(b, "b", 32, 32, 0xff00ff00);
	ASSERT_TRUE(wb.ok);
	ASSERT_TRUE(b.dispatchUntil([&] { return offerB.selection && offerB.offer; }));
	EXPECT_EQ(offerB.mimeTypes,
		  (std::vector<std::string>{ "text/plain;charset=utf-8", "TEXT" }));

	int fds[2];
	ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
	wl_data_offer_receive(offerB.offer, "text/plain;charset=utf-8", fds[1]);
	close(fds[1]);
	ASSERT_TRUE(b.roundtrip());
	ASSERT_TRUE(a.dispatchUntil([&] { return source.sends == 1; }));
	EXPECT_EQ(readAll(fds[0]), "hello from heapcomp");
	close(fds[0]);

	/* A stale serial does not take the selection. */
	SourceEvents other;
	Proxy<wl_data_source> otherSource(
		wl_data_device_manager_create_data_source(b.dataDeviceManager));
	other.listen(otherSource);
	wl_data_source_offer(otherSource, "text/plain");
	wl_data_device_set_selection(deviceB, otherSource, 0x7fffffff);
	ASSERT_TRUE(b.dispatchUntil([&] { return other.cancelled; }));

	/* The owner going away clears the selection. */
	offerB.selection = false;
	dataSource.reset();
	ASSERT_TRUE(a.roundtrip());
	ASSERT_TRUE(b.dispatchUntil([&] { return offerB.selection; }));
	EXPECT_EQ(offerB.offer.get(), nullptr);
}

} /* namespace */
} /* namespace heapcomp::test */
