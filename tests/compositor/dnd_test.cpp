/* SPDX-License-Identifier: MIT */
/*
 * Drag and drop between two clients: a drags from its window at (0, 0)
 * to b's at (100, 0). Offers, actions (dnd v3), drop, finish, the ways a
 * drag is cancelled, and the protocol errors the spec names.
 */
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <optional>
#include <unistd.h>

#include "data_device_events.h"
#include "input_test.h"

namespace heapcomp::test {
namespace {

constexpr uint32_t kCopy = WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY;
constexpr uint32_t kMove = WL_DATA_DEVICE_MANAGER_DND_ACTION_MOVE;

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

	/* b over its window: accepts text/plain and prefers move. */
	void enterAndAccept()
	{
		moveTo(120, 20);
		ASSERT_TRUE(b.dispatchUntil([&] { return !devB.events.empty(); }));
		ASSERT_TRUE(devB.offer);
		wl_data_offer_accept(devB.offer, devB.enterSerial, "text/plain");
		wl_data_offer_set_actions(devB.offer, kCopy | kMove, kMove);
		ASSERT_TRUE(b.roundtrip());
		ASSERT_TRUE(a.dispatchUntil([&] { return src.action == kMove; }));
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

	int fds[2];
	ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
	wl_data_offer_receive(devB.offer, "text/plain", fds[1]);
	close(fds[1]);
	ASSERT_TRUE(b.roundtrip());
	ASSERT_TRUE(a.roundtrip());
	EXPECT_EQ(readAll(fds[0]), "dragged text");
	close(fds[0]);

	wl_data_offer_finish(devB.offer);
	ASSERT_TRUE(b.roundtrip());
	ASSERT_TRUE(a.dispatchUntil([&] { return src.finished; }));
	EXPECT_FALSE(src.cancelled);
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
	release();
	ASSERT_TRUE(a.dispatchUntil([&] { return src.dropPerformed; }));
	devB.offer.reset();
	ASSERT_TRUE(b.roundtrip());
	ASSERT_TRUE(a.dispatchUntil([&] { return src.cancelled; }));
	EXPECT_FALSE(src.finished);
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
	wl_data_offer_accept(devB.offer, devB.enterSerial, "text/plain");
	wl_data_offer_set_actions(devB.offer, kCopy, kCopy);
	ASSERT_TRUE(b.roundtrip());
	ASSERT_TRUE(a.dispatchUntil([&] { return src.action == kCopy; }));
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
