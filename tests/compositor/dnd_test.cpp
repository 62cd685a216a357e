/* SPDX-License-Identifier: MIT */
/*
 * Drag and drop between two clients: a drags from its window at (0, 0)
 * to b's at (100, 0). Offers, actions (dnd v3), drop, finish, the ways a
 * drag is cancelled, a target with two data devices, the drag icon, and
 * the protocol errors the spec names.
 */
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <optional>
#include <string.h>
#include <unistd.h>

#include "data_device_events.h"
#include "input_test.h"
#include "picture.h"

namespace heapcomp::test {
namespace {

constexpr uint32_t kCopy = WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY;
constexpr uint32_t kMove = WL_DATA_DEVICE_MANAGER_DND_ACTION_MOVE;

/* client's wl_compositor bound once more, at version (attach offsets need 4). */
Proxy<wl_compositor> bindCompositor(TestClient &client, uint32_t version)
{
	static const wl_registry_listener listener = {
		.global = [](void *data, wl_registry *, uint32_t name, const char *interface,
			     uint32_t) {
			if (strcmp(interface, wl_compositor_interface.name) == 0)
				*static_cast<uint32_t *>(data) = name;
		},
		.global_remove = [](void *, wl_registry *, uint32_t) {},
	};
	uint32_t name = 0;
	Proxy<wl_registry> registry(wl_display_get_registry(client.display()));
	wl_registry_add_listener(registry, &listener, &name);
	if (!client.roundtrip() || !name)
		return {};
	return Proxy<wl_compositor>(static_cast<wl_compositor *>(
		wl_registry_bind(registry, name, &wl_compositor_interface, version)));
}

class DragTest : public InputTest
{
protected:
	void SetUp() override
	{
		InputTest::SetUp();
		devA.listen(a.dataDeviceManager, a.seat);
		devB.listen(b.dataDeviceManager, b.seat);
		wa.emplace(a, "a", 64, 64, 0xffff0000);
		wb.emplace(b, "b", 64, 64, 0xff00ff00);
		ASSERT_TRUE(wa->ok && wb->ok);
		server.run([](comp::Server &s) {
			s.findView("a")->setPosition(0, 0);
			s.findView("b")->setPosition(100, 0);
		});
		ASSERT_TRUE(a.roundtrip() && b.roundtrip());
	}

	/* a's source with one type and copy or move, not yet used. */
	wl_data_source *makeSource()
	{
		wl_data_source *source = sources.emplace_back(
			wl_data_device_manager_create_data_source(a.dataDeviceManager));
		src.listen(source);
		wl_data_source_offer(source, "text/plain");
		wl_data_source_set_actions(source, kCopy | kMove);
		return source;
	}

	/* Presses on a's window and starts a drag there; returns the source. */
	wl_data_source *startDrag(wl_surface *icon = nullptr)
	{
		inject([](comp::HeadlessBackend &h) {
			h.injectPointerMotion(10, 10);
			h.injectPointerButton(BTN_LEFT, true);
		});
		EXPECT_TRUE(a.dispatchUntil([&] { return !a.buttonsPressed.empty(); }));
		wl_data_source *source = makeSource();
		wl_data_device_start_drag(devA.device, source, wa->window.surface(), icon,
					  a.lastSerial);
		EXPECT_TRUE(a.dispatchUntil([&] { return a.pointerFocus == nullptr; }));
		return source;
	}

	void moveTo(double x, double y)
	{
		inject([&](comp::HeadlessBackend &h) { h.injectPointerMotion(x, y); });
	}

	void release()
	{
		inject([](comp::HeadlessBackend &h) { h.injectPointerButton(BTN_LEFT, false); });
	}

	/* b, the target, takes text/plain and prefers action, through d's offer. */
	void acceptThrough(DeviceEvents &d, uint32_t action)
	{
		ASSERT_TRUE(d.offer);
		wl_data_offer_accept(d.offer, d.enterSerial, "text/plain");
		wl_data_offer_set_actions(d.offer, kCopy | kMove, action);
		ASSERT_TRUE(b.roundtrip());
		ASSERT_TRUE(a.dispatchUntil([&] { return src.action == action; }));
	}

	/* b over its window: accepts text/plain and prefers move. */
	void enterAndAccept()
	{
		moveTo(120, 20);
		ASSERT_TRUE(b.dispatchUntil([&] { return !devB.events.empty(); }));
		acceptThrough(devB, kMove);
	}

	/* b reads the dropped text through offer, then finishes with it. */
	void receiveAndFinish(wl_data_offer *offer)
	{
		int fds[2];
		ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
		wl_data_offer_receive(offer, "text/plain", fds[1]);
		close(fds[1]);
		ASSERT_TRUE(b.roundtrip());
		ASSERT_TRUE(a.roundtrip());
		EXPECT_EQ(readAll(fds[0]), "dragged text");
		close(fds[0]);
		wl_data_offer_finish(offer);
		ASSERT_TRUE(b.roundtrip());
		ASSERT_TRUE(a.dispatchUntil([&] { return src.finished; }));
		EXPECT_FALSE(src.cancelled);
	}

	/* A drop, then b destroys d's offer unfinished: the transfer failed. */
	void dropAndAbandon(DeviceEvents &d)
	{
		release();
		ASSERT_TRUE(a.dispatchUntil([&] { return src.dropPerformed; }));
		d.offer.reset();
		ASSERT_TRUE(b.roundtrip());
		ASSERT_TRUE(a.dispatchUntil([&] { return src.cancelled; }));
		EXPECT_FALSE(src.finished);
	}

	DeviceEvents devA, devB;
	std::vector<Proxy<wl_data_source>> sources;	/* a's, made by makeSource() */
	SourceEvents src{ .text = "dragged text" };
	std::optional<MappedWindow> wa, wb;
};

using Events = std::vector<std::string>;

TEST_F(DragTest, DropMovesTheDataAndFinishes)
{
	startDrag();
	enterAndAccept();
	EXPECT_EQ(devB.entered, wb->window.surface());
	EXPECT_DOUBLE_EQ(devB.x, 20);
	EXPECT_EQ(devB.mimeTypes, (Events{ "text/plain" }));
	EXPECT_EQ(devB.sourceActions, kCopy | kMove);
	EXPECT_EQ(devB.action, kMove);
	EXPECT_EQ(src.targets, (Events{ "text/plain" }));

	moveTo(125.5, 30);
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.events.size() == 2; }));
	EXPECT_DOUBLE_EQ(devB.x, 25.5);
	EXPECT_DOUBLE_EQ(devB.y, 30);

	release();
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.events.size() == 3; }));
	EXPECT_EQ(devB.events, (Events{ "enter", "motion", "drop" }));
	ASSERT_TRUE(a.dispatchUntil([&] { return src.dropPerformed; }));

	receiveAndFinish(devB.offer);
	/* The drag is over: the pointer is b's again. */
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == wb->window.surface(); }));
	ASSERT_TRUE(b.roundtrip());
	EXPECT_EQ(devB.events.size(), 3u);
}

TEST_F(DragTest, LeavingAndDroppingOnNothingCancels)
{
	startDrag();
	enterAndAccept();
	moveTo(250, 200);
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.events.size() == 2; }));
	EXPECT_EQ(devB.events, (Events{ "enter", "leave" }));
	/* With the target gone nothing is accepted. */
	ASSERT_TRUE(a.dispatchUntil([&] { return src.targets.size() == 2; }));
	EXPECT_EQ(src.targets.back(), "");
	release();
	ASSERT_TRUE(a.dispatchUntil([&] { return src.cancelled; }));
	EXPECT_FALSE(src.dropPerformed);
}

TEST_F(DragTest, DropWithoutAnAcceptedTypeCancels)
{
	startDrag();
	moveTo(120, 20);
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.offer && !devB.events.empty(); }));
	wl_data_offer_set_actions(devB.offer, kCopy, kCopy);
	ASSERT_TRUE(b.roundtrip());
	ASSERT_TRUE(a.dispatchUntil([&] { return src.action == kCopy; }));
	release();
	ASSERT_TRUE(a.dispatchUntil([&] { return src.cancelled; }));
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.events.size() == 2; }));
	EXPECT_EQ(devB.events, (Events{ "enter", "leave" }));
}

TEST_F(DragTest, NoCommonActionMeansNoDrop)
{
	startDrag();
	moveTo(120, 20);
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.offer && !devB.events.empty(); }));
	wl_data_offer_accept(devB.offer, devB.enterSerial, "text/plain");
	/* a offers copy or move; b takes only ask. */
	wl_data_offer_set_actions(devB.offer, WL_DATA_DEVICE_MANAGER_DND_ACTION_ASK,
				  WL_DATA_DEVICE_MANAGER_DND_ACTION_ASK);
	ASSERT_TRUE(b.roundtrip());
	release();
	ASSERT_TRUE(a.dispatchUntil([&] { return src.cancelled; }));
	EXPECT_EQ(src.action, 0u);
}

TEST_F(DragTest, OfferDestroyedUnfinishedCancelsTheSource)
{
	startDrag();
	enterAndAccept();
	dropAndAbandon(devB);
}

TEST_F(DragTest, SourceDestroyedMidDragEndsIt)
{
	startDrag();
	enterAndAccept();
	sources.back().reset();
	ASSERT_TRUE(a.roundtrip());
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.events.size() == 2; }));
	EXPECT_EQ(devB.events, (Events{ "enter", "leave" }));
	/* The pointer goes back to the clients before the button is up. */
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == wb->window.surface(); }));
	release();
	ASSERT_TRUE(b.roundtrip());
	EXPECT_EQ(devB.events.size(), 2u);
}

TEST_F(DragTest, StaleSerialCancelsAtOnce)
{
	wl_data_source *source = makeSource();
	wl_data_device_start_drag(devA.device, source, wa->window.surface(), nullptr,
				  a.keyboardEnterSerial);
	ASSERT_TRUE(a.dispatchUntil([&] { return src.cancelled; }));
	moveTo(120, 20);
	ASSERT_TRUE(b.dispatchUntil([&] { return b.pointerFocus == wb->window.surface(); }));
	EXPECT_TRUE(devB.events.empty());
}

TEST_F(DragTest, IconFollowsTheDragAndGoesWithIt)
{
	wl_surface *icon = wl_compositor_create_surface(a.compositor);
	ShmBuffer pixels(a.shm, 8, 8);
	pixels.fill(0xff0000ff);
	wl_surface_attach(icon, pixels.buffer(), 0, 0);
	wl_surface_commit(icon);
	startDrag(icon);
	enterAndAccept();
	ASSERT_TRUE(server.waitFrames(2));
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(121, 21), 0xff0000ffu);
	EXPECT_EQ(shot.at(130, 30), 0xff00ff00u);
	/* Above b's window, but not in the way: b is still the target. */
	moveTo(140, 40);
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.x == 40; }));
	release();
	ASSERT_TRUE(a.dispatchUntil([&] { return src.dropPerformed; }));
	ASSERT_TRUE(server.waitFrames(2));
	EXPECT_EQ(server.screenshot().at(141, 41), 0xff00ff00u);
	wl_surface_destroy(icon);
}

/* The icon's surface at a wl_compositor version: 4 moves it by attach, 5 by offset. */
class DragIconTest : public DragTest, public testing::WithParamInterface<uint32_t>
{
};

TEST_P(DragIconTest, EachCommitsOffsetMovesTheHotspot)
{
	const uint32_t version = GetParam();
	constexpr uint32_t kIcon = 0xff0000ff;
	Proxy<wl_compositor> compositor = bindCompositor(a, version);
	ASSERT_TRUE(compositor);
	Proxy<wl_surface> icon(wl_compositor_create_surface(compositor));
	ShmBuffer pixels(a.shm, 16, 16);
	pixels.fill(kIcon);
	/* A commit of the icon that moves it by (dx, dy). */
	auto commitMove = [&](int32_t dx, int32_t dy) {
		if (version >= WL_SURFACE_OFFSET_SINCE_VERSION) {
			wl_surface_attach(icon, pixels.buffer(), 0, 0);
			wl_surface_offset(icon, dx, dy);
		} else {
			wl_surface_attach(icon, pixels.buffer(), dx, dy);
		}
		wl_surface_damage_buffer(icon, 0, 0, 16, 16);
		wl_surface_commit(icon);
		EXPECT_TRUE(a.roundtrip());
	};
	/* The icon's pixels with their top-left corner at (x, y), and nothing around. */
	auto iconAt = [&](int x, int y) {
		EXPECT_TRUE(server.waitFrames(2));
		Picture want(24, 24, kBackground);
		want.fillRect(4, 4, 16, 16, kIcon);
		return shows(server.screenshot(), x - 4, y - 4, want);
	};

	startDrag(icon);
	moveTo(200, 150);
	/* The hotspot at (8, 8) of the icon. */
	commitMove(-8, -8);
	EXPECT_TRUE(iconAt(192, 142));
	/* A later commit moves it on from there. */
	commitMove(3, -2);
	EXPECT_TRUE(iconAt(195, 140));
	moveTo(220, 160);
	EXPECT_TRUE(iconAt(215, 150));
	release();
	ASSERT_TRUE(a.dispatchUntil([&] { return src.cancelled; }));
	EXPECT_FALSE(a.error());
}

INSTANTIATE_TEST_SUITE_P(Surface, DragIconTest, testing::Values(4u, 5u),
			 [](const testing::TestParamInfo<uint32_t> &info) {
				 bool offset = info.param >= WL_SURFACE_OFFSET_SINCE_VERSION;
				 return offset ? "Offset" : "Attach";
			 });

/* b with a second wl_data_device, as toolkits make: each hears the drag. */
class TwoDeviceDragTest : public DragTest
{
protected:
	void SetUp() override
	{
		DragTest::SetUp();
		devB2.listen(b.dataDeviceManager, b.seat);
		ASSERT_TRUE(b.roundtrip());
	}

	/* The drag enters b's window: both devices get an offer of their own. */
	void enterBoth()
	{
		startDrag();
		moveTo(120, 20);
		ASSERT_TRUE(b.dispatchUntil([&] {
			return !devB.events.empty() && !devB2.events.empty();
		}));
		ASSERT_TRUE(devB.offer && devB2.offer);
		EXPECT_NE(devB.offer.get(), devB2.offer.get());
	}

	DeviceEvents devB2;
};

TEST_F(TwoDeviceDragTest, EachDeviceGetsItsOfferAndTheEvents)
{
	enterBoth();
	for (DeviceEvents *d : { &devB, &devB2 }) {
		EXPECT_EQ(d->entered, wb->window.surface());
		EXPECT_DOUBLE_EQ(d->x, 20);
		EXPECT_EQ(d->mimeTypes, (Events{ "text/plain" }));
		EXPECT_EQ(d->sourceActions, kCopy | kMove);
	}
	moveTo(130, 25);
	ASSERT_TRUE(b.dispatchUntil([&] {
		return devB.events.size() == 2 && devB2.events.size() == 2;
	}));
	EXPECT_DOUBLE_EQ(devB2.x, 30);
	EXPECT_DOUBLE_EQ(devB2.y, 25);
	moveTo(250, 200);
	ASSERT_TRUE(b.dispatchUntil([&] {
		return devB.events.size() == 3 && devB2.events.size() == 3;
	}));
	EXPECT_EQ(devB.events, (Events{ "enter", "motion", "leave" }));
	EXPECT_EQ(devB2.events, (Events{ "enter", "motion", "leave" }));
	release();
	ASSERT_TRUE(a.dispatchUntil([&] { return src.cancelled; }));
}

TEST_F(TwoDeviceDragTest, TheTargetActsThroughTheSecondDevicesOffer)
{
	enterBoth();
	acceptThrough(devB2, kMove);
	EXPECT_EQ(src.targets, (Events{ "text/plain" }));
	/* The offers stand for one target: both hear the action agreed. */
	ASSERT_TRUE(b.dispatchUntil([&] {
		return devB.action == kMove && devB2.action == kMove;
	}));

	release();
	ASSERT_TRUE(b.dispatchUntil([&] {
		return devB.events.size() == 2 && devB2.events.size() == 2;
	}));
	EXPECT_EQ(devB.events, (Events{ "enter", "drop" }));
	EXPECT_EQ(devB2.events, (Events{ "enter", "drop" }));
	ASSERT_TRUE(a.dispatchUntil([&] { return src.dropPerformed; }));

	/* The offer b never used goes: that is no failed transfer. */
	devB.offer.reset();
	ASSERT_TRUE(b.roundtrip());
	ASSERT_TRUE(a.roundtrip());
	EXPECT_FALSE(src.cancelled);

	receiveAndFinish(devB2.offer);
	EXPECT_FALSE(b.error());
}

TEST_F(TwoDeviceDragTest, TheUsedOfferGoingUnfinishedCancels)
{
	enterBoth();
	acceptThrough(devB2, kCopy);
	dropAndAbandon(devB2);
}

TEST_F(TwoDeviceDragTest, ADeviceDestroyedMidDragDropsOut)
{
	enterBoth();
	devB2.device.reset();
	ASSERT_TRUE(b.roundtrip());
	moveTo(130, 30);
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.events.size() == 2; }));
	acceptThrough(devB, kCopy);
	release();
	ASSERT_TRUE(a.dispatchUntil([&] { return src.dropPerformed; }));
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.events.size() == 3; }));
	EXPECT_EQ(devB.events, (Events{ "enter", "motion", "drop" }));
	EXPECT_EQ(devB2.events, (Events{ "enter" }));
	wl_data_offer_finish(devB.offer);
	ASSERT_TRUE(b.roundtrip());
	ASSERT_TRUE(a.dispatchUntil([&] { return src.finished; }));
	EXPECT_FALSE(src.cancelled);
}

TEST_F(TwoDeviceDragTest, WithEveryDeviceGoneTheDropCancels)
{
	enterBoth();
	acceptThrough(devB, kCopy);
	devB.device.reset();
	devB2.device.reset();
	ASSERT_TRUE(b.roundtrip());
	moveTo(130, 30);
	release();
	ASSERT_TRUE(a.dispatchUntil([&] { return src.cancelled; }));
	EXPECT_FALSE(src.dropPerformed);
	EXPECT_FALSE(b.error());
}

TEST_F(DragTest, FingerDragsToo)
{
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchDown(0, 10, 10);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchPoints.count(0) == 1; }));
	wl_data_source *source = makeSource();
	wl_data_device_start_drag(devA.device, source, wa->window.surface(), nullptr,
				  a.touchDownSerial);
	ASSERT_TRUE(a.dispatchUntil([&] { return a.touchPoints.empty(); }));
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchMotion(0, 120, 20);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(b.dispatchUntil([&] { return !devB.events.empty(); }));
	acceptThrough(devB, kCopy);
	inject([](comp::HeadlessBackend &h) {
		h.injectTouchUp(0);
		h.injectTouchFrame();
	});
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.events.size() == 2; }));
	EXPECT_EQ(devB.events, (Events{ "enter", "drop" }));
	ASSERT_TRUE(a.dispatchUntil([&] { return src.dropPerformed; }));
	EXPECT_TRUE(b.touchEvents.empty());
}

/* Bad requests during a drag: the offender goes, the drag's other side stays. */
struct DragError {
	std::string name;
	std::string interface;
	uint32_t code;
	/* Run by b, the target, with the offer of its enter. */
	std::function<void(TestClient &, DeviceEvents &)> provoke;
};

class DragErrorTest : public DragTest, public testing::WithParamInterface<DragError>
{
};

TEST_P(DragErrorTest, DisconnectsTheOffenderOnly)
{
	const DragError &c = GetParam();
	startDrag();
	moveTo(120, 20);
	ASSERT_TRUE(b.dispatchUntil([&] { return devB.offer && !devB.events.empty(); }));
	Holdings before = holdings();

	c.provoke(b, devB);
	auto error = b.expectError();
	ASSERT_TRUE(error) << c.name << ": no protocol error";
	EXPECT_EQ(error->interface, c.interface);
	EXPECT_EQ(error->code, c.code);

	/* a's drag goes on over the place b's window was, then is cancelled. */
	ASSERT_TRUE(a.roundtrip());
	release();
	ASSERT_TRUE(a.dispatchUntil([&] { return src.cancelled; }));
	EXPECT_EQ(holdings().clients, before.clients - 1);
}

std::vector<DragError> dragErrors()
{
	return {
		{ "PreferredIsTwoActions", "wl_data_offer", WL_DATA_OFFER_ERROR_INVALID_ACTION,
		  [](TestClient &, DeviceEvents &d) {
			  wl_data_offer_set_actions(d.offer, kCopy | kMove, kCopy | kMove);
		  } },
		{ "ActionMaskOutOfRange", "wl_data_offer", WL_DATA_OFFER_ERROR_INVALID_ACTION_MASK,
		  [](TestClient &, DeviceEvents &d) {
			  wl_data_offer_set_actions(d.offer, 0x10, 0);
		  } },
		{ "FinishBeforeTheDrop", "wl_data_offer", WL_DATA_OFFER_ERROR_INVALID_FINISH,
		  [](TestClient &, DeviceEvents &d) {
			  wl_data_offer_accept(d.offer, d.enterSerial, "text/plain");
			  wl_data_offer_finish(d.offer);
		  } },
		{ "DragWithAUsedSource", "wl_data_source", WL_DATA_SOURCE_ERROR_INVALID_SOURCE,
		  [](TestClient &c, DeviceEvents &d) {
			  wl_data_source *source =
				  c.own(wl_data_device_manager_create_data_source(c.dataDeviceManager));
			  wl_data_source_offer(source, "text/plain");
			  wl_surface *origin = c.own(wl_compositor_create_surface(c.compositor));
			  wl_data_device_start_drag(d.device, source, origin, nullptr, 1);
			  wl_data_device_start_drag(d.device, source, origin, nullptr, 1);
		  } },
		{ "ActionsAfterUse", "wl_data_source", WL_DATA_SOURCE_ERROR_INVALID_SOURCE,
		  [](TestClient &c, DeviceEvents &d) {
			  wl_data_source *source =
				  c.own(wl_data_device_manager_create_data_source(c.dataDeviceManager));
			  wl_surface *origin = c.own(wl_compositor_create_surface(c.compositor));
			  wl_data_device_start_drag(d.device, source, origin, nullptr, 1);
			  wl_data_source_set_actions(source, kCopy);
		  } },
	};
}

INSTANTIATE_TEST_SUITE_P(Protocol, DragErrorTest, testing::ValuesIn(dragErrors()),
			 [](const testing::TestParamInfo<DragError> &info) { return info.param.name; });

} /* namespace */
} /* namespace heapcomp::test */
