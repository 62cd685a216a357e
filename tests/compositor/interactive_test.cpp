/* SPDX-License-Identifier: MIT */
/*
 * xdg_toplevel.move and .resize: grabs on the press or the finger whose
 * serial the client names, configures with the resizing state, and what
 * happens when the window or its client goes mid-grab.
 */
#include <gtest/gtest.h>

#include <linux/input-event-codes.h>
#include <optional>

#include "input_test.h"

namespace heapcomp::test {
namespace {

class InteractiveTest : public InputTest
{
protected:
	/* a's 64x64 window at (100, 100), the pointer pressed at (110, 110). */
	void pressOnWindow()
	{
		wa.emplace(a, "a", 64, 64, 0xffff0000);
		ASSERT_TRUE(wa->ok);
		place(100, 100);
		inject([](comp::HeadlessBackend &h) {
			h.injectPointerMotion(110, 110);
			h.injectPointerButton(BTN_LEFT, true);
		});
		ASSERT_TRUE(a.dispatchUntil([&] { return !a.buttonsPressed.empty(); }));
		pressSerial = a.lastSerial;
	}

	void place(int32_t x, int32_t y)
	{
		server.run([&](comp::Server &s) { s.findView("a")->setPosition(x, y); });
	}

	std::pair<int32_t, int32_t> position()
	{
		return server.run([](comp::Server &s) {
			comp::View *view = s.findView("a");
			return std::make_pair(view->x(), view->y());
		});
	}

	/* Acks the last configure and draws a buffer of its size. */
	bool drawConfiguredSize()
	{
		Window &w = wa->window;
		w.ack();
		buffer.emplace(a.shm, uint32_t(w.configuredWidth()), uint32_t(w.configuredHeight()));
		buffer->fill(0xffff0000);
		return w.present(buffer->buffer(), w.configuredWidth(), w.configuredHeight());
	}

	std::optional<MappedWindow> wa;
	std::optional<ShmBuffer> buffer;
	uint32_t pressSerial = 0;
};

TEST_F(InteractiveTest, MoveFollowsThePointerUntilTheButtonIsUp)
{
	pressOnWindow();
	xdg_toplevel_move(wa->window.toplevel(), a.seat, pressSerial);
	/* The grab takes the pointer from the client. */
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerFocus == nullptr; }));

	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(150.4, 80.6); });
	EXPECT_EQ(position(), std::make_pair(140, 71));
	inject([](comp::HeadlessBackend &h) {
		h.injectPointerMotion(160, 90);
		h.injectPointerButton(BTN_LEFT, false);
	});
	EXPECT_EQ(position(), std::make_pair(150, 80));
	/* Over the window it moved with, at the spot it was grabbed. */
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerFocus == wa->window.surface(); }));
	EXPECT_DOUBLE_EQ(a.pointerX, 10);
	EXPECT_DOUBLE_EQ(a.pointerY, 10);

	/* Over: the pointer moves alone again. */
	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(170, 100); });
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerX == 20; }));
	EXPECT_EQ(position(), std::make_pair(150, 80));
}

TEST_F(InteractiveTest, MoveNeedsTheSerialOfAButtonStillHeld)
{
	pressOnWindow();
	/* Not a press: the keyboard's enter serial. */
	xdg_toplevel_move(wa->window.toplevel(), a.seat, a.keyboardEnterSerial);
	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(130, 130); });
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerX == 30; }));
	EXPECT_EQ(position(), std::make_pair(100, 100));

	/* The press, but the button is up already. */
	inject([](comp::HeadlessBackend &h) { h.injectPointerButton(BTN_LEFT, false); });
	ASSERT_TRUE(a.roundtrip());
	xdg_toplevel_move(wa->window.toplevel(), a.seat, pressSerial);
	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(140, 140); });
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerX == 40; }));
	EXPECT_EQ(position(), std::make_pair(100, 100));
	EXPECT_EQ(a.pointerFocus, wa->window.surface());
}

TEST_F(InteractiveTest, MoveWithAnotherClientsPressIsIgnored)
{
	pressOnWindow();
	MappedWindow wb(b, "b", 32, 32, 0xff00ff00);
	ASSERT_TRUE(wb.ok);
	/* a's press serial, from b: b's window is not where the press went. */
	xdg_toplevel_move(wb.window.toplevel(), b.seat, pressSerial);
	ASSERT_TRUE(b.roundtrip());
	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(120, 120); });
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerX == 20; }));
	EXPECT_EQ(server.run([](comp::Server &s) { return s.findView("b")->x(); }), 32);
}

TEST_F(InteractiveTest, ResizeConfiguresTheDraggedSizeAndKeepsTheOppositeCorner)
{
	pressOnWindow();
	ASSERT_TRUE(a.dispatchUntil([&] { return wa->window.hasState(XDG_TOPLEVEL_STATE_ACTIVATED); }));
	int configures = wa->window.configures();
	xdg_toplevel_resize(wa->window.toplevel(), a.seat, pressSerial,
			    XDG_TOPLEVEL_RESIZE_EDGE_TOP_LEFT);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerFocus == nullptr; }));

	/* 10 left and 20 up: 74x84, resizing. */
	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(100, 90); });
	ASSERT_TRUE(a.dispatchUntil([&] { return wa->window.configures() > configures; }));
	EXPECT_EQ(wa->window.configuredWidth(), 74);
	EXPECT_EQ(wa->window.configuredHeight(), 84);
	EXPECT_TRUE(wa->window.hasState(XDG_TOPLEVEL_STATE_RESIZING));
	/* Nothing moves before the client draws the new size. */
	EXPECT_EQ(position(), std::make_pair(100, 100));
	ASSERT_TRUE(drawConfiguredSize());
	EXPECT_EQ(position(), std::make_pair(90, 80));

	/* The end: the same size without the resizing state. */
	configures = wa->window.configures();
	inject([](comp::HeadlessBackend &h) { h.injectPointerButton(BTN_LEFT, false); });
	ASSERT_TRUE(a.dispatchUntil([&] { return wa->window.configures() > configures; }));
	EXPECT_EQ(wa->window.configuredWidth(), 74);
	EXPECT_EQ(wa->window.configuredHeight(), 84);
	EXPECT_FALSE(wa->window.hasState(XDG_TOPLEVEL_STATE_RESIZING));
	ASSERT_TRUE(drawConfiguredSize());
	EXPECT_EQ(position(), std::make_pair(90, 80));
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerFocus == wa->window.surface(); }));
	/* The bottom-right corner stayed at (164, 164). */
	ASSERT_TRUE(server.waitFrames(1));
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(90, 80), 0xffff0000u);
	EXPECT_EQ(shot.at(163, 163), 0xffff0000u);
	EXPECT_EQ(shot.at(164, 164), 0xff000000u);
	EXPECT_EQ(shot.at(89, 79), 0xff000000u);
}

TEST_F(InteractiveTest, ResizeStaysWithinTheMinAndMaxSize)
{
	pressOnWindow();
	xdg_toplevel_set_min_size(wa->window.toplevel(), 50, 40);
	xdg_toplevel_set_max_size(wa->window.toplevel(), 90, 0);
	wl_surface_commit(wa->window.surface());
	int configures = wa->window.configures();
	xdg_toplevel_resize(wa->window.toplevel(), a.seat, pressSerial,
			    XDG_TOPLEVEL_RESIZE_EDGE_BOTTOM_RIGHT);
	ASSERT_TRUE(a.roundtrip());
	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(60, 60); });
	ASSERT_TRUE(a.dispatchUntil([&] { return wa->window.configures() > configures; }));
	EXPECT_EQ(wa->window.configuredWidth(), 50);
	EXPECT_EQ(wa->window.configuredHeight(), 40);
	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(200, 200); });
	ASSERT_TRUE(a.dispatchUntil([&] { return wa->window.configuredWidth() == 90; }));
	EXPECT_EQ(wa->window.configuredHeight(), 154);
}

TEST_F(InteractiveTest, FingerMovesTheWindowItWentDownOn)
{
	wa.emplace(a, "a", 64, 64, 0xffff0000);
	ASSERT_TRUE(wa->ok);
	place(100, 100);
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(2, 120, 130);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchPoints.count(2) == 1; }));
	a.touchEvents.clear();
	xdg_toplevel_move(wa->window.toplevel(), a.seat, a.touchDownSerial);
	/* The finger is the grab's: the client sees it lift. */
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchPoints.empty(); }));
	EXPECT_EQ(a.touchEvents, (std::vector<std::string>{ "up 2", "frame" }));

	inject([](comp::HeadlessBackend &h) {
		h.injectTouchMotion(2, 50, 60);
		h.injectTouchFrame();
	});
	EXPECT_EQ(position(), std::make_pair(30, 30));
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchUp(2);
		h.injectTouchFrame();
		h.injectTouchMotion(2, 0, 0);
	});
	EXPECT_EQ(position(), std::make_pair(30, 30));
	ASSERT_TRUE(a.roundtrip());
	EXPECT_EQ(a.touchEvents.size(), 2u);
}

TEST_F(InteractiveTest, MaximizedWindowDoesNotMove)
{
	pressOnWindow();
	xdg_toplevel_set_maximized(wa->window.toplevel());
	ASSERT_TRUE(a.dispatchUntil([&] {
		return wa->window.hasState(XDG_TOPLEVEL_STATE_MAXIMIZED);
	}));
	buffer.emplace(a.shm, 320, 240);
	wa->window.ack();
	ASSERT_TRUE(wa->window.present(buffer->buffer(), 320, 240));
	xdg_toplevel_move(wa->window.toplevel(), a.seat, pressSerial);
	ASSERT_TRUE(a.roundtrip());
	inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(50, 50); });
	ASSERT_TRUE(a.dispatchUntil([&] { return a.pointerX == 50; }));
	EXPECT_EQ(position(), std::make_pair(0, 0));
}

TEST_F(InteractiveTest, ClientGoneMidMoveGivesThePointerBack)
{
	/* Smaller than the output: composed, not scanned out, like c's frames. */
	MappedWindow wb(b, "b", 200, 200, 0xff00ff00);
	ASSERT_TRUE(wb.ok);
	/* Both output buffers exist before the count: c's frames need no new one. */
	ASSERT_TRUE(server.drawFrames(2));
	Holdings before = holdings();
	{
		TestClient c(server.socket());
		c.bindInput();
		MappedWindow wc(c, "c", 64, 64, 0xff0000ff);
		ASSERT_TRUE(wc.ok);
		inject([](comp::HeadlessBackend &h) {
			h.injectPointerMotion(40, 40);
			h.injectPointerButton(BTN_LEFT, true);
		});
		ASSERT_TRUE(c.dispatchUntil([&] { return !c.buttonsPressed.empty(); }));
		xdg_toplevel_move(wc.window.toplevel(), c.seat, c.lastSerial);
		ASSERT_TRUE(c.dispatchUntil([&] { return c.pointerFocus == nullptr; }));
		inject([](comp::HeadlessBackend &h) { h.injectPointerMotion(60, 60); });
	}
	/* b's window is under the pointer: it gets the pointer and the button up. */
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == wb.window.surface(); }));
	inject([](comp::HeadlessBackend &h) {
		h.injectPointerButton(BTN_LEFT, false);
		h.injectPointerMotion(70, 70);
	});
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerX == 70; }));
	EXPECT_EQ(holdings(), before);
}

} /* namespace */
} /* namespace heapcomp::test */
