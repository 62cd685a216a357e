/* SPDX-License-Identifier: MIT */
/*
 * The DRM backend's seat and hotplug: input devices made through uinput,
 * tagged by a running udev and read through libinput, reach clients; a
 * VT switch through seatd pauses the display and gives it back; a VKMS
 * connector unplugged and plugged in through configfs does the same.
 * Needs the test VM's kernel (VKMS, uinput, VTs) and root.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <linux/vt.h>
#include <mutex>
#include <sys/ioctl.h>
#include <tuple>
#include <cstring>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "child_process.h"
#include "drm_fixture.h"
#include "drm_player.h"
#include "fd_count.h"
#include "json.h"
#include "log.h"
#include "protocols/seat.h"
#include "seat_daemons.h"
#include "stats_json.h"
#include "uinput_device.h"
#include "vkms_configfs.h"

namespace heapcomp::test {
namespace {

/* An overlay plane of crtc's other than skip, seen through fd; 0 if none. */
uint32_t otherOverlayPlane(int fd, uint32_t crtc, uint32_t skip)
{
	comp::kms::ResourcesPtr res(drmModeGetResources(fd));
	comp::kms::PlaneResourcesPtr planes(drmModeGetPlaneResources(fd));
	if (!res || !planes)
		return 0;
	const int index = int(std::find(res->crtcs, res->crtcs + res->count_crtcs, crtc) - res->crtcs);
	for (uint32_t p = 0; p < planes->count_planes; p++) {
		comp::kms::PlanePtr plane(drmModeGetPlane(fd, planes->planes[p]));
		if (!plane || plane->plane_id == skip || !(plane->possible_crtcs & (1u << index)))
			continue;
		const auto props = comp::kms::Properties::read(fd, plane->plane_id, DRM_MODE_OBJECT_PLANE);
		if (props.value("type") == DRM_PLANE_TYPE_OVERLAY)
			return plane->plane_id;
	}
	return 0;
}

/* The VT the kernel shows now; -1 if there are none. */
int activeVt()
{
	bufmgr::UniqueFd tty(open("/dev/tty0", O_RDWR | O_CLOEXEC | O_NOCTTY));
	vt_stat state = {};
	if (!tty || ioctl(tty.get(), VT_GETSTATE, &state) < 0)
		return -1;
	return state.v_active;
}

/* Switches VTs as a user on the other VT would (chvt). */
bool activateVt(int vt)
{
	bufmgr::UniqueFd tty(open("/dev/tty0", O_RDWR | O_CLOEXEC | O_NOCTTY));
	return tty && ioctl(tty.get(), VT_ACTIVATE, vt) == 0;
}

class DrmSessionTest : public DrmBackendTest
{
protected:
	/* heapcomp goes before the udevd it uses. */
	void TearDown() override
	{
		client.reset();
		server.reset();
		udevd.reset();
	}

	/* A window over the whole output, drawn in colour. */
	void showWindow(Window &window, ShmBuffer &buffer, uint32_t colour)
	{
		ASSERT_TRUE(window.waitConfigure());
		window.ack();
		buffer.fill(colour);
		ASSERT_TRUE(window.present(buffer.buffer(), int32_t(kWidth), int32_t(kHeight)));
	}

	/* A new frame while the display is away, and a second for it not to show. */
	void drawUnseen(Window &window, ShmBuffer &buffer, uint32_t colour)
	{
		buffer.fill(colour);
		wl_surface_attach(window.surface(), buffer.buffer(), 0, 0);
		wl_surface_damage_buffer(window.surface(), 0, 0, int32_t(kWidth), int32_t(kHeight));
		wl_surface_commit(window.surface());
		ASSERT_TRUE(client->roundtrip());
		std::this_thread::sleep_for(std::chrono::seconds(1));
	}

	/* Commits the kernel took and those it refused (a lost DRM master fails them). */
	uint64_t commitsTried()
	{
		const comp::DrmStats stats = drmStats();
		return stats.commits + stats.commitFailures;
	}

	bool connected()
	{
		return server->run([](comp::Server &s) {
			return static_cast<comp::DrmBackend &>(s.backend()).drmOutputs()[0]->connected();
		});
	}

	bool active()
	{
		return server->run([](comp::Server &s) {
			return static_cast<comp::DrmBackend &>(s.backend()).active();
		});
	}

	std::vector<std::string> inputDevices()
	{
		return server->run([](comp::Server &s) {
			auto *input = static_cast<comp::DrmBackend &>(s.backend()).inputDevices();
			return input ? input->deviceNames() : std::vector<std::string>();
		});
	}

	std::unique_ptr<Udevd> udevd;
};

/*
 * A keyboard, a mouse and a touch screen made through uinput and tagged
 * by udev reach a client through libinput and the seat: pointer motion
 * clamped to the output, a button, a key, a touch point mapped onto the
 * output. The touch screen comes and goes while heapcomp runs: the
 * seat's capabilities follow it.
 */
TEST_F(DrmSessionTest, UinputDevicesReachClients)
{
	udevd = std::make_unique<Udevd>();
	ASSERT_TRUE(udevd->ok()) << udevd->error();
	UinputDevice keyboard(UinputDevice::Kind::Keyboard, "heapcomp-test keyboard");
	UinputDevice mouse(UinputDevice::Kind::Mouse, "heapcomp-test mouse");
	for (const UinputDevice *device : { &keyboard, &mouse })
		ASSERT_TRUE(device->ok()) << device->error();
	ASSERT_TRUE(udevd->settle());

	LogRecord log;
	start();
	ASSERT_FALSE(HasFatalFailure());
	std::vector<std::string> devices = inputDevices();
	for (const UinputDevice *device : { &keyboard, &mouse })
		EXPECT_EQ(std::count(devices.begin(), devices.end(), device->name()), 1)
			<< device->name() << " missing:\n" << log.all();
	client->bindInput();
	ASSERT_TRUE(client->roundtrip());
	EXPECT_FALSE(client->seatCapabilities & WL_SEAT_CAPABILITY_TOUCH);

	/* Plugged in now: udev tags it, libinput's monitor hears of it, the seat offers touch. */
	auto touch = std::make_unique<UinputDevice>(UinputDevice::Kind::TouchScreen,
						    "heapcomp-test touch screen");
	ASSERT_TRUE(touch->ok()) << touch->error();
	ASSERT_TRUE(client->dispatchUntil(
		[&] { return client->seatCapabilities & WL_SEAT_CAPABILITY_TOUCH; }, 30000))
		<< log.all();
	devices = inputDevices();
	EXPECT_EQ(std::count(devices.begin(), devices.end(), touch->name()), 1) << log.all();
	/* The stats name the seat and every device. */
	const std::string stats = server->run([](comp::Server &s) { return comp::statsJson(s); });
	std::optional<Json> json = parseJson(stats);
	ASSERT_TRUE(json) << stats;
	EXPECT_EQ(string(*json, { "backend", "seat" }), "seat0");
	const std::vector<Json> &listed = at(*json, { "backend", "input_devices" }).array;
	EXPECT_EQ(std::count_if(listed.begin(), listed.end(),
				[](const Json &name) { return name.text.rfind("heapcomp-test", 0) == 0; }),
		  3)
		<< stats;
	EXPECT_EQ(log.count("input device added: heapcomp-test"), 3u) << log.all();
	client->bindTouch();
	ASSERT_TRUE(client->roundtrip());
	Window window(*client, "input");
	ShmBuffer buffer(client->shm, kWidth, kHeight);
	showWindow(window, buffer, kGreen);
	ASSERT_FALSE(HasFatalFailure());

	/* Far past the top-left corner: the cursor stops at the output's edge. */
	for (int i = 0; i < 20; i++)
		mouse.move(-200, -200);
	ASSERT_TRUE(client->dispatchUntil([&] {
		return client->pointerFocus == window.surface() && client->pointerX == 0 &&
		       client->pointerY == 0;
	})) << "pointer at " << client->pointerX << "," << client->pointerY;
	for (int i = 0; i < 20; i++)
		mouse.move(200, 200);
	ASSERT_TRUE(client->dispatchUntil([&] {
		return client->pointerX == kWidth - 1 && client->pointerY == kHeight - 1;
	})) << "pointer at " << client->pointerX << "," << client->pointerY;

	mouse.key(BTN_LEFT, true);
	mouse.key(BTN_LEFT, false);
	ASSERT_TRUE(client->dispatchUntil([&] {
		return std::count(client->buttonsPressed.begin(), client->buttonsPressed.end(),
				  uint32_t(BTN_LEFT)) == 1;
	}));
	/* One click down: a wheel's scroll, a whole click in 120ths, then how far. */
	mouse.wheel(-1);
	ASSERT_TRUE(client->dispatchUntil([&] { return client->axisEvents.size() >= 4; }));
	ASSERT_EQ(client->axisEvents.size(), 4u);
	EXPECT_EQ(client->axisEvents[0], "source 0");
	EXPECT_EQ(client->axisEvents[1], "value120 0 120");
	EXPECT_EQ(client->axisEvents[2].rfind("axis 0 ", 0), 0u) << client->axisEvents[2];
	EXPECT_GT(std::stod(client->axisEvents[2].substr(7)), 0) << client->axisEvents[2];
	EXPECT_EQ(client->axisEvents[3], "frame");

	ASSERT_TRUE(client->dispatchUntil([&] { return client->keyboardFocus == window.surface(); }));
	keyboard.chord({ KEY_H });
	ASSERT_TRUE(client->dispatchUntil([&] {
		return std::count(client->keysPressed.begin(), client->keysPressed.end(),
				  uint32_t(KEY_H)) == 1;
	}));

	/* A quarter across, three quarters down: the output's pixels, not the panel's units. */
	touch->touchDown(UinputDevice::kTouchMax / 4, UinputDevice::kTouchMax * 3 / 4);
	ASSERT_TRUE(client->dispatchUntil([&] { return client->touchPoints.count(0) == 1; }))
		<< log.all();
	EXPECT_EQ(client->touchPoints[0].surface, window.surface());
	EXPECT_NEAR(client->touchPoints[0].x, kWidth / 4.0, 1.0);
	EXPECT_NEAR(client->touchPoints[0].y, kHeight * 3 / 4.0, 1.0);
	touch->touchUp();
	ASSERT_TRUE(client->dispatchUntil([&] { return client->touchPoints.empty(); }));

	/* Unplugged: touch is no longer offered. */
	touch.reset();
	ASSERT_TRUE(client->dispatchUntil(
		[&] { return !(client->seatCapabilities & WL_SEAT_CAPABILITY_TOUCH); }, 30000))
		<< log.all();
	EXPECT_EQ(log.count("input device removed: heapcomp-test touch screen"), 1u) << log.all();
}

/*
 * Ctrl+Alt+F2 from a uinput keyboard asks seatd for VT 2: heapcomp stops
 * committing until VT 1 is back, then sets its mode again and shows what
 * the client drew meanwhile. The input devices close and open again with
 * the session, and clients see no capability go and come back.
 */
TEST_F(DrmSessionTest, VtSwitchPausesTheDisplayAndResumeShowsTheLatestFrame)
{
	if (activeVt() < 0)
		SKIP_OR_FAIL_WITHOUT("no virtual terminals");
	udevd = std::make_unique<Udevd>();
	ASSERT_TRUE(udevd->ok()) << udevd->error();
	UinputDevice keyboard(UinputDevice::Kind::Keyboard, "heapcomp-test keyboard");
	UinputDevice touch(UinputDevice::Kind::TouchScreen, "heapcomp-test touch screen");
	for (const UinputDevice *device : { &keyboard, &touch })
		ASSERT_TRUE(device->ok()) << device->error();
	ASSERT_TRUE(udevd->settle());
	const int ourVt = activeVt();
	ASSERT_NE(ourVt, 2) << "Ctrl+Alt+F2 would switch to the VT heapcomp is on";

	LogRecord log;
	start();
	ASSERT_FALSE(HasFatalFailure());
	EXPECT_EQ(log.count("libseat: "), 0u) << "libseat complained:\n" << log.all();
	client->bindInput();
	ASSERT_TRUE(client->dispatchUntil(
		[&] { return client->seatCapabilities & WL_SEAT_CAPABILITY_TOUCH; }, 30000))
		<< log.all();
	const int capabilityEvents = client->seatCapabilityEvents;
	const std::vector<std::string> devices = inputDevices();
	Window window(*client, "session");
	ShmBuffer green(client->shm, kWidth, kHeight);
	showWindow(window, green, kGreen);
	ASSERT_FALSE(HasFatalFailure());
	EXPECT_EQ(capture().at(kWidth / 2, kHeight / 2), kGreen);

	keyboard.chord({ KEY_LEFTCTRL, KEY_LEFTALT, KEY_F2 });
	ASSERT_TRUE(waitFor([&] { return !active(); }, 30000))
		<< "still active after Ctrl+Alt+F2:\n" << log.all() << seatd->log();
	ASSERT_TRUE(waitFor([&] { return activeVt() == 2; }, 30000)) << "VT " << activeVt();
	EXPECT_EQ(log.count("session paused"), 1u) << log.all();

	/*
	 * Meanwhile another session (this process, DRM master now) shows the
	 * red and blue halves on an overlay plane heapcomp does not use.
	 */
	const auto [path, crtc, ourOverlay] = server->run([](comp::Server &s) {
		auto &drm = static_cast<comp::DrmBackend &>(s.backend());
		const comp::DrmOutput *output = drm.drmOutputs()[0];
		return std::tuple(drm.device().path, output->crtc(), output->overlayPlane());
	});
	bufmgr::UniqueFd other(open(path.c_str(), O_RDWR | O_CLOEXEC));
	ASSERT_TRUE(other);
	ASSERT_EQ(drmSetMaster(other.get()), 0) << strerror(errno);
	ASSERT_EQ(drmSetClientCap(other.get(), DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1), 0);
	ASSERT_EQ(drmSetClientCap(other.get(), DRM_CLIENT_CAP_ATOMIC, 1), 0);
	const uint32_t foreign = otherOverlayPlane(other.get(), crtc, ourOverlay);
	ASSERT_NE(foreign, 0u) << "VKMS has no second overlay plane";
	bufmgr::Buffer halves = heapBuffer("/dev/dma_heap/system", false);
	auto fb = comp::kms::Framebuffer::import(other.get(), halves);
	ASSERT_TRUE(fb) << fb.error().message();
	comp::kms::AtomicRequest req;
	comp::kms::placePlane(req, foreign,
			      comp::kms::Properties::read(other.get(), foreign, DRM_MODE_OBJECT_PLANE),
			      crtc, (*fb)->id(), kWidth, kHeight);
	ASSERT_TRUE(req.commit(other.get(), 0, nullptr, "another session's plane"));
	ASSERT_EQ(drmDropMaster(other.get()), 0);

	/* While away: the client draws, nothing reaches the display. */
	const uint64_t commits = commitsTried();
	ShmBuffer red(client->shm, kWidth, kHeight);
	drawUnseen(window, red, kRed);
	EXPECT_EQ(commitsTried(), commits) << "committed while another session had the display";

	/* Someone on VT 2 goes back: the mode is set again and the red frame shows. */
	ASSERT_TRUE(activateVt(ourVt));
	ASSERT_TRUE(waitFor([&] { return active(); }, 30000)) << log.all() << seatd->log();
	EXPECT_EQ(log.count("session resumed"), 1u) << log.all();
	/* Red all over: the other session's plane went off. */
	const comp::Screenshot shot = capture();
	EXPECT_EQ(shot.at(kWidth / 2, kHeight / 4), kRed);
	EXPECT_EQ(shot.at(kWidth / 2, kHeight * 3 / 4), kRed) << "the other session's plane is still on";
	EXPECT_EQ(log.count("switched off what another session left on: plane " +
			    std::to_string(foreign)),
		  1u)
		<< log.all();
	EXPECT_GT(drmStats().commits, commits);
	EXPECT_EQ(log.count("mode set"), 2u) << log.all();

	/* The same devices, and clients heard nothing of them going and coming back. */
	EXPECT_EQ(inputDevices(), devices) << log.all();
	ASSERT_TRUE(client->roundtrip());
	EXPECT_EQ(client->seatCapabilityEvents, capabilityEvents);
	EXPECT_TRUE(client->seatCapabilities & WL_SEAT_CAPABILITY_TOUCH);
}

/*
 * The only display unplugged (VKMS's connector status through configfs):
 * its output stays, stops committing, and plugged in again it sets its
 * mode and shows what the client drew meanwhile.
 */
TEST_F(DrmSessionTest, UnpluggedDisplayWaitsAndPluggedInShowsTheLatestFrame)
{
	udevd = std::make_unique<Udevd>();
	ASSERT_TRUE(udevd->ok()) << udevd->error();
	ConfigfsVkms vkms("heapcomp-hotplug");
	ASSERT_TRUE(vkms.ok()) << vkms.error();
	ASSERT_TRUE(udevd->settle());

	LogRecord log;
	start(false, vkms.card());
	ASSERT_FALSE(HasFatalFailure());
	Window window(*client, "hotplug");
	ShmBuffer green(client->shm, kWidth, kHeight);
	showWindow(window, green, kGreen);
	ASSERT_FALSE(HasFatalFailure());
	EXPECT_EQ(capture().at(kWidth / 2, kHeight / 2), kGreen);

	ASSERT_TRUE(vkms.plug(false));
	ASSERT_TRUE(waitFor([&] { return !connected(); }, 30000)) << log.all();
	const uint64_t commits = commitsTried();
	ShmBuffer red(client->shm, kWidth, kHeight);
	drawUnseen(window, red, kRed);
	EXPECT_EQ(commitsTried(), commits) << "committed to an unplugged display";

	ASSERT_TRUE(vkms.plug(true));
	ASSERT_TRUE(waitFor([&] { return connected(); }, 30000)) << log.all();
	EXPECT_EQ(capture().at(kWidth / 2, kHeight / 2), kRed);
	EXPECT_EQ(log.count("display unplugged"), 1u) << log.all();
	EXPECT_EQ(log.count("display plugged in: setting the mode again"), 1u) << log.all();
	EXPECT_EQ(log.count("mode set"), 2u) << log.all();
	/* heapcomp goes before the device it drives: removing that switches its CRTCs off. */
	server.reset();
}

/*
 * A client buffer on an overlay plane when the display is unplugged is
 * on its plane again once it is plugged back in.
 */
TEST_F(DrmSessionTest, PluggedInAgainShowsTheOverlayPlaneAgain)
{
	udevd = std::make_unique<Udevd>();
	ASSERT_TRUE(udevd->ok()) << udevd->error();
	/* Two overlay planes: heapcomp's overlay takes the top one, clients the other. */
	ConfigfsVkms vkms("heapcomp-hotplug-planes", 1, 2);
	ASSERT_TRUE(vkms.ok()) << vkms.error();
	ASSERT_TRUE(udevd->settle());

	LogRecord log;
	start(false, vkms.card());
	ASSERT_FALSE(HasFatalFailure());
	ASSERT_EQ(drmStats().clientPlanes, 1u) << log.all();
	Window window(*client, "player");
	ShmBuffer green(client->shm, kWidth, kHeight);
	showWindow(window, green, kGreen);
	ASSERT_FALSE(HasFatalFailure());
	Proxy<wl_surface> video(wl_compositor_create_surface(client->compositor));
	Proxy<wl_subsurface> role(
		wl_subcompositor_get_subsurface(client->subcompositor, video, window.surface()));
	wl_subsurface_set_position(role, kVideo.x, kVideo.y);
	wl_subsurface_set_desync(role);
	wl_surface_commit(window.surface());
	bufmgr::Buffer frame = videoBuffer(kRed, kBlue);
	ASSERT_TRUE(frame.isValid());
	Proxy<wl_buffer> wlFrame = wrap(*client, frame);
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrame).presented);
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrame).zeroCopy()) << log.all();
	const Expected shown = [](int32_t x, int32_t y) {
		if (!inside(kVideo, x, y))
			return kGreen;
		return y < kVideo.y + kVideo.height / 2 ? kRed : kBlue;
	};
	EXPECT_EQ(differences(capture(), shown), "");

	ASSERT_TRUE(vkms.plug(false));
	ASSERT_TRUE(waitFor([&] { return !connected(); }, 30000)) << log.all();
	ASSERT_TRUE(vkms.plug(true));
	ASSERT_TRUE(waitFor([&] { return connected(); }, 30000)) << log.all();
	EXPECT_EQ(differences(capture(), shown), "");
	EXPECT_EQ(drmStats().clientPlanesShown, 1u);
	EXPECT_EQ(log.count("mode set"), 2u) << log.all();
	server.reset();
}

class DrmSessionPlayerTest : public DrmPlayerTest
{
protected:
	bool active()
	{
		return server->run([](comp::Server &s) {
			return static_cast<comp::DrmBackend &>(s.backend()).active();
		});
	}
};

/*
 * The video on its overlay plane when another VT takes the display is on
 * its plane again when heapcomp's VT comes back, though the session there
 * switched that plane off and the player sent no frame meanwhile.
 */
TEST_F(DrmSessionPlayerTest, VtSwitchBackShowsTheOverlayPlaneAgain)
{
	const int ourVt = activeVt();
	if (ourVt < 0)
		SKIP_OR_FAIL_WITHOUT("no virtual terminals");
	ASSERT_NE(ourVt, 2);
	/* Whatever fails, heapcomp's VT is given back for the tests after this one. */
	struct BackToOurVt {
		int vt;
		~BackToOurVt()
		{
			if (activeVt() != vt)
				activateVt(vt);
		}
	} back{ ourVt };
	LogRecord log;
	ASSERT_NO_FATAL_FAILURE(startPlayer());
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[0]).presented);
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[0]).zeroCopy()) << describePlace(kVideo);
	EXPECT_EQ(differences(capture(), player(0)), "");

	/* Someone switches to VT 2 (seatd gives the display away)... */
	ASSERT_TRUE(activateVt(2));
	ASSERT_TRUE(waitFor([&] { return !active(); }, 30000)) << log.all() << seatd->log();
	/* ...where another session (this process, DRM master now) switches the video's plane off... */
	const auto [path, plane] = server->run([](comp::Server &s) {
		auto &drm = static_cast<comp::DrmBackend &>(s.backend());
		return std::pair(drm.device().path, drm.drmOutputs()[0]->clientPlanes().at(0));
	});
	bufmgr::UniqueFd other(open(path.c_str(), O_RDWR | O_CLOEXEC));
	ASSERT_TRUE(other);
	ASSERT_EQ(drmSetMaster(other.get()), 0) << strerror(errno);
	ASSERT_EQ(drmSetClientCap(other.get(), DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1), 0);
	ASSERT_EQ(drmSetClientCap(other.get(), DRM_CLIENT_CAP_ATOMIC, 1), 0);
	const comp::kms::Properties props =
		comp::kms::Properties::read(other.get(), plane, DRM_MODE_OBJECT_PLANE);
	comp::kms::AtomicRequest off;
	off.set(plane, props, "FB_ID", 0);
	off.set(plane, props, "CRTC_ID", 0);
	ASSERT_TRUE(off.commit(other.get(), 0, nullptr, "another session's commit"));
	ASSERT_EQ(drmDropMaster(other.get()), 0);
	/* ...and back. */
	ASSERT_TRUE(activateVt(ourVt));
	ASSERT_TRUE(waitFor([&] { return active(); }, 30000)) << log.all() << seatd->log();

	EXPECT_EQ(differences(capture(), player(0)), "");
	auto place = placeAt(kVideo);
	ASSERT_TRUE(place);
	EXPECT_EQ(place->where, comp::SurfacePlace::Where::Overlay) << describePlace(kVideo);
	EXPECT_EQ(log.count("session resumed"), 1u) << log.all();
}

/*
 * One of two displays unplugged: its wl_output leaves the registry, the
 * window on it leaves it and comes to the display left, and nothing of
 * the output stays behind. Plugged in again, it is a new output.
 */
TEST_F(DrmSessionTest, UnpluggedSecondDisplayLosesItsOutputAndItsWindowMoves)
{
	udevd = std::make_unique<Udevd>();
	ASSERT_TRUE(udevd->ok()) << udevd->error();
	ConfigfsVkms vkms("heapcomp-unplug-second", 2);
	ASSERT_TRUE(vkms.ok()) << vkms.error();
	UinputDevice mouse(UinputDevice::Kind::Mouse, "heapcomp-test mouse");
	ASSERT_TRUE(mouse.ok()) << mouse.error();
	ASSERT_TRUE(udevd->settle());

	LogRecord log;
	start(false, vkms.card());
	ASSERT_FALSE(HasFatalFailure());
	auto outputs = [&] { return server->run([](comp::Server &s) { return s.numOutputs(); }); };
	ASSERT_EQ(outputs(), 2u) << log.all();
	ASSERT_TRUE(client->roundtrip());
	ASSERT_EQ(client->outputs.size(), 2u);
	const uint32_t secondName = client->outputNames[1];
	wl_output *second = client->outputs[1].get();

	Window window(*client, "unplugged");
	SurfaceOutputs events(window.surface());
	ShmBuffer green(client->shm, kWidth, kHeight);
	showWindow(window, green, kGreen);
	ASSERT_FALSE(HasFatalFailure());
	/* The window goes to the second display only. */
	server->run([](comp::Server &s) { s.findView("unplugged")->setPosition(kWidth, 0); });
	ASSERT_TRUE(client->dispatchUntil(
		[&] { return events.left.size() == 1 && events.entered.size() == 2; }))
		<< log.all();
	ASSERT_EQ(events.left[0], client->outputs[0].get());
	ASSERT_EQ(events.entered[1], second);
	ASSERT_TRUE(waitFor([&] { return capture().at(kWidth / 2, kHeight / 2) == kBlack; }, 30000));
	/* The cursor to the second display too. */
	auto pointerX = [&] { return server->run([](comp::Server &s) { return s.seat().pointerX(); }); };
	ASSERT_TRUE(waitFor(
		[&] {
			mouse.move(200, 0);
			return pointerX() >= double(kWidth);
		},
		30000))
		<< "the mouse did not move the cursor onto the second display\n" << log.all();
	const int fds = countOpenFds();
	const std::string fdsBefore = describeOpenFds();

	ASSERT_TRUE(vkms.plug(false, 1));
	ASSERT_TRUE(waitFor([&] { return outputs() == 1; }, 30000)) << log.all();
	ASSERT_TRUE(client->dispatchUntil([&] { return client->outputsRemoved.size() == 1; }))
		<< "the unplugged display's wl_output stayed in the registry";
	EXPECT_EQ(client->outputsRemoved[0], secondName);
	EXPECT_EQ(client->outputs.size(), 1u);
	EXPECT_EQ(log.count("unplugged: its output goes"), 1u) << log.all();
	/* The window left the gone display and shows on the one left. */
	ASSERT_TRUE(client->dispatchUntil([&] { return events.left.size() == 2; })) << log.all();
	EXPECT_EQ(events.left.back(), second);
	ASSERT_TRUE(waitFor([&] { return capture().at(kWidth / 2, kHeight / 2) == kGreen; }, 30000))
		<< log.all();
	ASSERT_TRUE(client->dispatchUntil([&] { return events.entered.size() == 3; }));
	EXPECT_EQ(events.entered.back(), client->outputs[0].get());
	/* So did the cursor, without waiting for the mouse to move. */
	EXPECT_LT(pointerX(), double(kWidth));
	const std::string stats = server->run([](comp::Server &s) { return comp::statsJson(s); });
	std::optional<Json> json = parseJson(stats);
	ASSERT_TRUE(json) << stats;
	EXPECT_EQ(at(*json, { "outputs" }).array.size(), 1u) << stats;

	/* Back again: a new wl_output where the old one was, and its buffers as before. */
	ASSERT_TRUE(vkms.plug(true, 1));
	ASSERT_TRUE(waitFor([&] { return outputs() == 2; }, 30000)) << log.all();
	ASSERT_TRUE(client->dispatchUntil([&] { return client->outputs.size() == 2; }))
		<< "no wl_output for the display plugged in again";
	EXPECT_NE(client->outputNames[1], secondName);
	auto presented = [&] {
		return server->run([](comp::Server &s) { return s.repaintStats(1).rendered; });
	};
	ASSERT_TRUE(waitFor([&] { return presented() >= 1; }, 30000)) << log.all();
	server->run([](comp::Server &s) { s.findView("unplugged")->setPosition(kWidth, 0); });
	ASSERT_TRUE(waitFor([&] { return capture().at(kWidth / 2, kHeight / 2) == kBlack; }, 30000));
	EXPECT_EQ(countOpenFds(), fds) << "the removed output left file descriptors open; before:\n"
				       << fdsBefore << "now:\n" << describeOpenFds();
	server.reset();
}

/* A display plugged in after start: a new wl_output right of the first, and frames on it. */
TEST_F(DrmSessionTest, DisplayPluggedInAfterStartBecomesAnOutput)
{
	udevd = std::make_unique<Udevd>();
	ASSERT_TRUE(udevd->ok()) << udevd->error();
	ConfigfsVkms vkms("heapcomp-second-display", 2);
	ASSERT_TRUE(vkms.ok()) << vkms.error();
	ASSERT_TRUE(vkms.plug(false, 1));
	ASSERT_TRUE(udevd->settle());

	LogRecord log;
	start(false, vkms.card());
	ASSERT_FALSE(HasFatalFailure());
	auto outputs = [&] { return server->run([](comp::Server &s) { return s.numOutputs(); }); };
	ASSERT_EQ(outputs(), 1u) << log.all();
	ASSERT_TRUE(client->roundtrip());
	EXPECT_EQ(client->outputs.size(), 1u);
	Window window(*client, "two displays");
	ShmBuffer green(client->shm, kWidth, kHeight);
	showWindow(window, green, kGreen);
	ASSERT_FALSE(HasFatalFailure());

	ASSERT_TRUE(vkms.plug(true, 1));
	ASSERT_TRUE(waitFor([&] { return outputs() == 2; }, 30000)) << log.all();
	ASSERT_TRUE(client->dispatchUntil([&] { return client->outputs.size() == 2; }))
		<< "no wl_output for the new display";
	/* Its mode is set; the window moved onto it is drawn there. */
	auto drawn = [&] { return server->run([](comp::Server &s) { return s.repaintStats(1).rendered; }); };
	ASSERT_TRUE(waitFor([&] { return drawn() >= 1; }, 30000)) << "no frame on the new display:\n"
								 << log.all();
	const uint64_t before = drawn();
	server->run([](comp::Server &s) { s.findView("two displays")->setPosition(kWidth + 8, 8); });
	ASSERT_TRUE(waitFor([&] { return drawn() > before; }, 30000)) << log.all();
	EXPECT_EQ(log.count("mode set"), 2u) << log.all();
	const std::string stats = server->run([](comp::Server &s) { return comp::statsJson(s); });
	std::optional<Json> json = parseJson(stats);
	ASSERT_TRUE(json) << stats;
	const std::vector<Json> &listed = at(*json, { "outputs" }).array;
	ASSERT_EQ(listed.size(), 2u) << stats;
	EXPECT_EQ(number(listed[1], { "x" }), std::optional<uint64_t>(kWidth)) << stats;
	EXPECT_EQ(log.count("a new output"), 1u) << log.all();
	/* The window left the first display: the background shows there. */
	EXPECT_EQ(capture().at(kWidth / 2, kHeight / 2), kBlack);
	server.reset();
}

} /* namespace */
} /* namespace heapcomp::test */
