/* SPDX-License-Identifier: MIT */
/* wl_seat and wl_data_device: focus, input events, the clipboard. */
#include <gtest/gtest.h>

#include <cstring>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <unistd.h>

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

struct Offer {
	wl_data_offer *offer = nullptr;
	std::vector<std::string> mimeTypes;
	bool selection = false;
};

const wl_data_offer_listener offerListener = {
	.offer = [](void *data, wl_data_offer *, const char *mime) {
		static_cast<Offer *>(data)->mimeTypes.emplace_back(mime);
	},
	.source_actions = [](void *, wl_data_offer *, uint32_t) {},
	.action = [](void *, wl_data_offer *, uint32_t) {},
};

const wl_data_device_listener deviceListener = {
	.data_offer = [](void *data, wl_data_device *, wl_data_offer *offer) {
		auto *o = static_cast<Offer *>(data);
		o->offer = offer;
		o->mimeTypes.clear();
		wl_data_offer_add_listener(offer, &offerListener, o);
	},
	.enter = [](void *, wl_data_device *, uint32_t, wl_surface *, wl_fixed_t, wl_fixed_t,
		    wl_data_offer *) {},
	.leave = [](void *, wl_data_device *) {},
	.motion = [](void *, wl_data_device *, uint32_t, wl_fixed_t, wl_fixed_t) {},
	.drop = [](void *, wl_data_device *) {},
	.selection = [](void *data, wl_data_device *, wl_data_offer *offer) {
		auto *o = static_cast<Offer *>(data);
		o->selection = true;
		if (!offer)
			o->offer = nullptr;
	},
};

struct Source {
	int sends = 0;
	bool cancelled = false;
	std::string text;
};

const wl_data_source_listener sourceListener = {
	.target = [](void *, wl_data_source *, const char *) {},
	.send = [](void *data, wl_data_source *, const char *, int32_t fd) {
		auto *s = static_cast<Source *>(data);
		s->sends++;
		ssize_t n = write(fd, s->text.data(), s->text.size());
		(void)n;
		close(fd);
	},
	.cancelled = [](void *data, wl_data_source *) {
		static_cast<Source *>(data)->cancelled = true;
	},
	.dnd_drop_performed = [](void *, wl_data_source *) {},
	.dnd_finished = [](void *, wl_data_source *) {},
	.action = [](void *, wl_data_source *, uint32_t) {},
};

TEST_F(DataDeviceTest, CopyAndPasteBetweenClients)
{
	Offer offerA, offerB;
	wl_data_device *deviceA = wl_data_device_manager_get_data_device(a.dataDeviceManager, a.seat);
	wl_data_device_add_listener(deviceA, &deviceListener, &offerA);
	wl_data_device *deviceB = wl_data_device_manager_get_data_device(b.dataDeviceManager, b.seat);
	wl_data_device_add_listener(deviceB, &deviceListener, &offerB);

	MappedWindow wa(a, "a", 32, 32, 0xffff0000);
	ASSERT_TRUE(wa.ok);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.keyboardFocus == wa.window.surface(); }));

	Source source;
	source.text = "hello from heapcomp";
	wl_data_source *dataSource = wl_data_device_manager_create_data_source(a.dataDeviceManager);
	wl_data_source_add_listener(dataSource, &sourceListener, &source);
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
	Source other;
	wl_data_source *otherSource = wl_data_device_manager_create_data_source(
		b.dataDeviceManager);
	wl_data_source_add_listener(otherSource, &sourceListener, &other);
	wl_data_source_offer(otherSource, "text/plain");
	wl_data_device_set_selection(deviceB, otherSource, 0x7fffffff);
	ASSERT_TRUE(b.dispatchUntil([&] { return other.cancelled; }));

	/* The owner going away clears the selection. */
	offerB.selection = false;
	wl_data_source_destroy(dataSource);
	ASSERT_TRUE(a.roundtrip());
	ASSERT_TRUE(b.dispatchUntil([&] { return offerB.selection; }));
	EXPECT_EQ(offerB.offer, nullptr);
}

} /* namespace */
} /* namespace heapcomp::test */
