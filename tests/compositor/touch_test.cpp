/* SPDX-License-Identifier: MIT */
/* wl_touch: the capability, points that stay with their surface, frames, cancel. */
#include <gtest/gtest.h>

#include <optional>

#include "input_test.h"

namespace heapcomp::test {
namespace {

using Events = std::vector<std::string>;

class TouchTest : public InputTest
{
protected:
	void place(const char *title, int32_t x, int32_t y)
	{
		server.run([&](comp::Server &s) { s.findView(title)->setPosition(x, y); });
	}

	/* a's red window at (0, 0) and b's green one at (100, 0), 64x64 each. */
	void mapTwoWindows()
	{
		wa.emplace(a, "a", 64, 64, 0xffff0000);
		wb.emplace(b, "b", 64, 64, 0xff00ff00);
		ASSERT_TRUE(wa->ok && wb->ok);
		place("a", 0, 0);
		place("b", 100, 0);
		ASSERT_TRUE(a.roundtrip() && b.roundtrip());
		a.touchEvents.clear();
		b.touchEvents.clear();
	}

	std::optional<MappedWindow> wa, wb;
};

TEST(Touch, NoCapabilityWithoutATouchScreen)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(client.seatCapabilities,
		  uint32_t(WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD));
}

TEST_F(TouchTest, CapabilityWithATouchScreen)
{
	EXPECT_EQ(a.seatCapabilities, uint32_t(WL_SEAT_CAPABILITY_POINTER |
					       WL_SEAT_CAPABILITY_KEYBOARD |
					       WL_SEAT_CAPABILITY_TOUCH));
}

TEST_F(TouchTest, PointStaysWithTheSurfaceItWentDownOn)
{
	mapTwoWindows();
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(0, 10, 20);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchEvents.size() == 2; }));
	ASSERT_EQ(a.touchPoints.count(0), 1u);
	EXPECT_EQ(a.touchPoints[0].surface, wa->window.surface());
	EXPECT_DOUBLE_EQ(a.touchPoints[0].x, 10);
	EXPECT_DOUBLE_EQ(a.touchPoints[0].y, 20);

	/* Over b's window now, but the point is still a's, in a's coordinates. */
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchMotion(0, 130.5, 30);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchEvents.size() == 4; }));
	EXPECT_DOUBLE_EQ(a.touchPoints[0].x, 130.5);
	EXPECT_DOUBLE_EQ(a.touchPoints[0].y, 30);

	inject([](comp::HeadlessBackend &h) {
		h.injectTouchUp(0);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchEvents.size() == 6; }));
	EXPECT_EQ(a.touchEvents,
		  (Events{ "down 0", "frame", "motion 0", "frame", "up 0", "frame" }));
	EXPECT_TRUE(a.touchPoints.empty());
	ASSERT_TRUE(b.roundtrip());
	EXPECT_TRUE(b.touchEvents.empty());
}

TEST_F(TouchTest, FingersOnTwoClientsShareAFrame)
{
	mapTwoWindows();
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(3, 5, 5);
		h.injectTouchDown(7, 110, 40);
		h.injectTouchFrame();
		h.injectTouchMotion(3, 6, 6);
		h.injectTouchMotion(7, 111, 41);
		h.injectTouchFrame();
		h.injectTouchUp(7);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchEvents.size() == 4; }));
	ASSERT_TRUE(b.dispatchUntil([&] { return b.touchEvents.size() == 6; }));
	EXPECT_EQ(a.touchEvents, (Events{ "down 3", "frame", "motion 3", "frame" }));
	EXPECT_EQ(b.touchEvents,
		  (Events{ "down 7", "frame", "motion 7", "frame", "up 7", "frame" }));
	EXPECT_DOUBLE_EQ(a.touchPoints[3].x, 6);
	EXPECT_EQ(b.touchPoints.count(7), 0u);
	/* The last frame had nothing of a's: a got no frame for it. */
	ASSERT_TRUE(a.roundtrip());
	EXPECT_EQ(a.touchEvents.size(), 4u);
}

TEST_F(TouchTest, TouchRaisesTheWindowAndFocusesIt)
{
	MappedWindow wa(a, "a", 64, 64, 0xffff0000);
	MappedWindow wb(b, "b", 64, 64, 0xff00ff00);
	ASSERT_TRUE(wa.ok && wb.ok);
	/* Cascaded: b at (32, 32) covers a's lower right and has the keyboard. */
	ASSERT_TRUE(b.dispatchUntil([&] { return b.keyboardFocus == wb.window.surface(); }));

	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(0, 5, 5);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == wa.window.surface(); }));
	ASSERT_TRUE(server.waitFrames(1));
	EXPECT_EQ(server.screenshot().at(40, 40), 0xffff0000u);
}

TEST_F(TouchTest, SurfaceDestroyedUnderAFingerEndsItsPoint)
{
	mapTwoWindows();
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(0, 10, 10);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchEvents.size() == 2; }));

	wa.reset();
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchEvents.size() == 4; }));
	EXPECT_EQ(a.touchEvents, (Events{ "down 0", "frame", "up 0", "frame" }));

	/* The finger's own motion and up are no news to anyone. */
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchMotion(0, 110, 10);
		h.injectTouchUp(0);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.roundtrip() && b.roundtrip());
	EXPECT_EQ(a.touchEvents.size(), 4u);
	EXPECT_TRUE(b.touchEvents.empty());
}

TEST_F(TouchTest, CancelEndsEveryPoint)
{
	mapTwoWindows();
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(0, 10, 10);
		h.injectTouchDown(1, 110, 10);
		h.injectTouchFrame();
		h.injectTouchCancel();
		/* Gone with the cancel: these are dropped. */
		h.injectTouchMotion(0, 12, 12);
		h.injectTouchUp(1);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchEvents.size() == 3; }));
	ASSERT_TRUE(b.dispatchUntil([&] { return b.touchEvents.size() == 3; }));
	ASSERT_TRUE(a.roundtrip() && b.roundtrip());
	EXPECT_EQ(a.touchEvents, (Events{ "down 0", "frame", "cancel" }));
	EXPECT_EQ(b.touchEvents, (Events{ "down 1", "frame", "cancel" }));
}

TEST_F(TouchTest, ClientGoneWithAFingerDownLeavesNothingBehind)
{
	mapTwoWindows();
	ASSERT_TRUE(server.drawFrames(2));
	Holdings before = holdings();
	{
		TestClient c(server.socket());
		c.bindTouch();
		MappedWindow wc(c, "c", 64, 64, 0xff0000ff);
		ASSERT_TRUE(wc.ok);
		place("c", 200, 100);
		ASSERT_TRUE(c.roundtrip());
		inject([](comp::HeadlessBackend &h) {
			h.injectTouchDown(4, 210, 110);
			h.injectTouchFrame();
		});
		ASSERT_TRUE(c.dispatchUntil([&] { return c.touchEvents.size() == 2; }));
	}
	/* The finger outlives its client; the next one still works for b. */
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchMotion(4, 220, 120);
		h.injectTouchFrame();
		h.injectTouchUp(4);
		h.injectTouchDown(5, 120, 10);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(b.dispatchUntil([&] { return b.touchEvents.size() == 2; }));
	EXPECT_EQ(b.touchEvents, (Events{ "down 5", "frame" }));
	EXPECT_EQ(holdings(), before);
}

TEST_F(TouchTest, ShapeAndOrientationGoWithTheirPointsFrame)
{
	mapTwoWindows();
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(2, 10, 10);
		h.injectTouchShape(2, 12.5, 6.25);
		h.injectTouchOrientation(2, -30.5);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchEvents.size() == 4; }));
	EXPECT_EQ(a.touchEvents, (Events{ "down 2", "shape 2", "orientation 2", "frame" }));
	EXPECT_DOUBLE_EQ(a.touchPoints[2].major, 12.5);
	EXPECT_DOUBLE_EQ(a.touchPoints[2].minor, 6.25);
	EXPECT_DOUBLE_EQ(a.touchPoints[2].orientation, -30.5);
	/* Only for points that are down, and only to the point's client. */
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchShape(9, 1, 1);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.roundtrip() && b.roundtrip());
	EXPECT_EQ(a.touchEvents.size(), 4u);
	EXPECT_TRUE(b.touchEvents.empty());
}

/* wl_touch before version 6 has neither event: such objects get none. */
TEST_F(TouchTest, NoShapeForOldTouchObjects)
{
	mapTwoWindows();
	Proxy<wl_registry> registry(wl_display_get_registry(a.display()));
	Proxy<wl_seat> seat5;
	static const wl_registry_listener listener = {
		.global = [](void *data, wl_registry *r, uint32_t name, const char *iface,
			     uint32_t) {
			if (std::string(iface) == wl_seat_interface.name)
				static_cast<Proxy<wl_seat> *>(data)->reset(static_cast<wl_seat *>(
					wl_registry_bind(r, name, &wl_seat_interface, 5)));
		},
		.global_remove = [](void *, wl_registry *, uint32_t) {},
	};
	wl_registry_add_listener(registry, &listener, &seat5);
	ASSERT_TRUE(a.roundtrip());
	ASSERT_TRUE(seat5);
	Proxy<wl_touch> touch5(wl_seat_get_touch(seat5));
	/* The v7 listener, so any event the old object gets is counted. */
	std::vector<std::string> events5;
	static const wl_touch_listener countShapes = {
		.down = [](void *, wl_touch *, uint32_t, uint32_t, wl_surface *, int32_t,
			   wl_fixed_t, wl_fixed_t) {},
		.up = [](void *, wl_touch *, uint32_t, uint32_t, int32_t) {},
		.motion = [](void *, wl_touch *, uint32_t, int32_t, wl_fixed_t, wl_fixed_t) {},
		.frame = [](void *, wl_touch *) {},
		.cancel = [](void *, wl_touch *) {},
		.shape = [](void *data, wl_touch *, int32_t, wl_fixed_t, wl_fixed_t) {
			static_cast<std::vector<std::string> *>(data)->push_back("shape");
		},
		.orientation = [](void *data, wl_touch *, int32_t, wl_fixed_t) {
			static_cast<std::vector<std::string> *>(data)->push_back("orientation");
		},
	};
	wl_touch_add_listener(touch5, &countShapes, &events5);
	ASSERT_TRUE(a.roundtrip());

	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(1, 10, 10);
		h.injectTouchShape(1, 4, 2);
		h.injectTouchOrientation(1, 45);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchEvents.size() == 4; }));
	ASSERT_TRUE(a.roundtrip());
	EXPECT_TRUE(events5.empty());
}

} /* namespace */
} /* namespace heapcomp::test */
