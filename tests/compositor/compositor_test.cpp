/* SPDX-License-Identifier: MIT */
/*
 * The compositor core end to end: real clients over real sockets, the
 * server on the headless backend with the real renderer.
 */
#include <gtest/gtest.h>

#include <bufmgr/clock.h>

#include <cstdlib>
#include <thread>
#include <time.h>

#include "fd_count.h"
#include "log.h"
#include "picture.h"
#include "protocols/xdg_shell.h"
#include "server_runner.h"
#include "surface.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

/* What a client heard of one output, through wl_output and an xdg_output of it. */
struct OutputEvents {
	int32_t x = -1, logicalX = -1;
	int32_t width = 0, height = 0, refresh = 0, scale = 0;
	int32_t logicalWidth = 0, logicalHeight = 0;
	std::string name;
	int done = 0;
	Proxy<zxdg_output_v1> xdgOutput;

	/* Listens on output, which must have no listener yet, and on a new xdg_output of it. */
	OutputEvents(TestClient &client, wl_output *output)
	{
		static const wl_output_listener listener = {
			.geometry = [](void *data, wl_output *, int32_t x, int32_t, int32_t, int32_t,
				       int32_t, const char *, const char *,
				       int32_t) { static_cast<OutputEvents *>(data)->x = x; },
			.mode = [](void *data, wl_output *, uint32_t, int32_t w, int32_t h, int32_t r) {
				auto *e = static_cast<OutputEvents *>(data);
				e->width = w;
				e->height = h;
				e->refresh = r;
			},
			.done = [](void *data, wl_output *) { static_cast<OutputEvents *>(data)->done++; },
			.scale = [](void *data, wl_output *,
				    int32_t s) { static_cast<OutputEvents *>(data)->scale = s; },
			.name = [](void *data, wl_output *,
				   const char *n) { static_cast<OutputEvents *>(data)->name = n; },
			.description = [](void *, wl_output *, const char *) {},
		};
		static const zxdg_output_v1_listener xdgListener = {
			.logical_position = [](void *data, zxdg_output_v1 *, int32_t x,
					       int32_t) { static_cast<OutputEvents *>(data)->logicalX = x; },
			.logical_size = [](void *data, zxdg_output_v1 *, int32_t w, int32_t h) {
				auto *e = static_cast<OutputEvents *>(data);
				e->logicalWidth = w;
				e->logicalHeight = h;
			},
			.done = [](void *, zxdg_output_v1 *) {},
			.name = [](void *data, zxdg_output_v1 *,
				   const char *n) { static_cast<OutputEvents *>(data)->name = n; },
			.description = [](void *, zxdg_output_v1 *, const char *) {},
		};
		wl_output_add_listener(output, &listener, this);
		xdgOutput.reset(zxdg_output_manager_v1_get_xdg_output(client.xdgOutputManager, output));
		zxdg_output_v1_add_listener(xdgOutput, &xdgListener, this);
	}
	OutputEvents(const OutputEvents &) = delete;
	OutputEvents &operator=(const OutputEvents &) = delete;
};

TEST(Compositor, StartsWithGlobals)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_TRUE(client.connected());
	EXPECT_TRUE(client.compositor);
	EXPECT_TRUE(client.subcompositor);
	EXPECT_TRUE(client.shm);
	EXPECT_TRUE(client.wmBase);
	EXPECT_TRUE(client.seat);
	EXPECT_TRUE(client.dataDeviceManager);
	EXPECT_TRUE(client.viewporter);
	EXPECT_TRUE(client.presentation);
	EXPECT_TRUE(client.xdgOutputManager);
	EXPECT_EQ(client.outputs.size(), 1u);
	EXPECT_NE(std::find(client.shmFormats.begin(), client.shmFormats.end(),
			    uint32_t(WL_SHM_FORMAT_XRGB8888)), client.shmFormats.end());
	EXPECT_NE(std::find(client.shmFormats.begin(), client.shmFormats.end(),
			    uint32_t(WL_SHM_FORMAT_ARGB8888)), client.shmFormats.end());
	EXPECT_EQ(client.presentationClock, CLOCK_MONOTONIC);
}

TEST(Compositor, OutputDescribesHeadlessMode)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_EQ(client.outputs.size(), 1u);
	/* The first binding's events already arrived; the xdg_output's end in a done. */
	OutputEvents info(client, client.outputs[0]);
	ASSERT_TRUE(client.dispatchUntil([&] { return info.done > 0; }));
	EXPECT_EQ(info.logicalWidth, 320);
	EXPECT_EQ(info.logicalHeight, 240);
	EXPECT_EQ(info.logicalX, 0);
	EXPECT_EQ(info.name, "HEADLESS-1");
}

TEST(Compositor, ShmPixelsReachTheScreen)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow win(client, "shm", 64, 48, kRed);
	ASSERT_TRUE(win.ok);

	comp::Screenshot shot = server.screenshot();
	ASSERT_EQ(shot.width, 320u);
	ASSERT_EQ(shot.height, 240u);
	EXPECT_EQ(shot.at(0, 0), kRed);
	EXPECT_EQ(shot.at(63, 47), kRed);
	EXPECT_EQ(shot.at(64, 10), kBackground);
	EXPECT_EQ(shot.at(10, 48), kBackground);
	EXPECT_EQ(shot.at(300, 200), kBackground);

	/* Partial damage updates only what changed. */
	win.buffer.fillRect(8, 8, 8, 8, kBlue);
	wl_surface_attach(win.window.surface(), win.buffer.buffer(), 0, 0);
	wl_surface_damage_buffer(win.window.surface(), 8, 8, 8, 8);
	ASSERT_TRUE(client.commitAndWaitFrame(win.window.surface()));
	shot = server.screenshot();
	EXPECT_EQ(shot.at(10, 10), kBlue);
	EXPECT_EQ(shot.at(20, 20), kRed);
}

TEST(Compositor, ArgbBlendsOverBackground)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Window window(client, "argb");
	ShmBuffer buffer(client.shm, 32, 32, WL_SHM_FORMAT_ARGB8888);
	/* Premultiplied half-transparent green over black. */
	buffer.fill(0x80008000);
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ASSERT_TRUE(window.present(buffer.buffer(), 32, 32));
	comp::Screenshot shot = server.screenshot();
	uint32_t p = shot.at(5, 5);
	EXPECT_NEAR(double((p >> 8) & 0xff), 128.0, 2.0);
	EXPECT_EQ(p >> 16 & 0xff, 0u);
}

/*
 * What a client declares opaque is drawn without blending (its alpha
 * ignored, as promised) and hides what is below; the rest blends.
 */
TEST(Compositor, OpaqueRegionOfAnArgbSurfaceIsNotBlended)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow win(client, "below", 64, 48, kRed);
	ASSERT_TRUE(win.ok);

	Proxy<wl_surface> child(wl_compositor_create_surface(client.compositor));
	Proxy<wl_subsurface> sub(
		wl_subcompositor_get_subsurface(client.subcompositor, child, win.window.surface()));
	wl_subsurface_set_position(sub, 8, 8);
	wl_subsurface_set_desync(sub);
	ShmBuffer buffer(client.shm, 32, 32, WL_SHM_FORMAT_ARGB8888);
	/* Premultiplied half-transparent green: a promise the region breaks. */
	buffer.fill(0x80008000);
	wl_surface_attach(child, buffer.buffer(), 0, 0);
	wl_surface_damage_buffer(child, 0, 0, 32, 32);
	wl_surface_commit(child);
	ASSERT_TRUE(client.commitAndWaitFrame(win.window.surface()));
	/* Blended over red at first, in every output buffer: a stale pixel would show. */
	for (int i = 0; i < 4; i++) {
		wl_surface_attach(child, buffer.buffer(), 0, 0);
		wl_surface_damage_buffer(child, 0, 0, 32, 32);
		ASSERT_TRUE(client.commitAndWaitFrame(child));
	}
	uint32_t first = server.screenshot().at(18, 18);
	EXPECT_NEAR(double(first >> 16 & 0xff), 127.0, 2.0);

	Proxy<wl_region> opaque(wl_compositor_create_region(client.compositor));
	wl_region_add(opaque, 8, 8, 16, 16);
	wl_surface_set_opaque_region(child, opaque);
	wl_surface_attach(child, buffer.buffer(), 0, 0);
	wl_surface_damage_buffer(child, 0, 0, 32, 32);
	ASSERT_TRUE(client.commitAndWaitFrame(child));

	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(4, 4), kRed);
	/* Opaque: the buffer's colour as it is, nothing of the red below. */
	EXPECT_EQ(shot.at(18, 18), 0xff008000u);
	EXPECT_EQ(shot.at(31, 31), 0xff008000u);
	/* Outside the region: half green over red. */
	auto blended = [](uint32_t p) {
		return std::abs(int(p >> 16 & 0xff) - 127) <= 2 &&
		       std::abs(int(p >> 8 & 0xff) - 128) <= 2;
	};
	for (auto [x, y] : { std::pair(10u, 10u), std::pair(35u, 20u), std::pair(20u, 35u) })
		EXPECT_TRUE(blended(shot.at(x, y))) << x << "," << y << ": " << shot.at(x, y);

	/* A region of 17 rects: only its largest, the first row, is taken as opaque. */
	Proxy<wl_region> rows(wl_compositor_create_region(client.compositor));
	wl_region_add(rows, 0, 0, 32, 1);
	for (int32_t y = 2; y < 32; y += 2)
		wl_region_add(rows, 0, y, 16, 1);
	wl_region_add(rows, 20, 31, 4, 1);
	wl_surface_set_opaque_region(child, rows);
	/* No buffer damage: the new region alone redraws the surface. */
	ASSERT_TRUE(client.commitAndWaitFrame(child));
	shot = server.screenshot();
	EXPECT_EQ(shot.at(13, 8), 0xff008000u);
	EXPECT_TRUE(blended(shot.at(13, 10))) << shot.at(13, 10);
	EXPECT_TRUE(blended(shot.at(18, 18))) << shot.at(18, 18);
}

/*
 * A buffer stays the compositor's while it is what the surface shows: it
 * is read when a frame needs it (or shown as it is). The next buffer's
 * frame gives it back.
 */
TEST(Compositor, ShmBufferIsReleasedWhenReplaced)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Window window(client, "release");
	ShmBuffer a(client.shm, 16, 16), b(client.shm, 16, 16);
	a.fill(kRed);
	b.fill(kGreen);
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ASSERT_TRUE(window.present(a.buffer(), 16, 16));
	ASSERT_TRUE(server.waitFrames(2));
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(a.releases(), 0);
	ASSERT_TRUE(window.present(b.buffer(), 16, 16));
	/* Released before the frame callback that follows b's frame. */
	EXPECT_EQ(a.releases(), 1);
	EXPECT_EQ(b.releases(), 0);
	EXPECT_EQ(server.screenshot().at(1, 1), kGreen);
}

TEST(Compositor, FrameCallbacksFollowTheRefresh)
{
	ServerRunner server(ServerRunner::realClockConfig());
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow win(client, "frames", 16, 16, kRed);
	ASSERT_TRUE(win.ok);
	std::vector<uint32_t> times;
	uint64_t start = bufmgr::clockNs();
	for (int i = 0; i < 10; i++) {
		wl_surface_damage_buffer(win.window.surface(), 0, 0, 1, 1);
		auto t = client.commitAndWaitFrame(win.window.surface());
		ASSERT_TRUE(t);
		times.push_back(*t);
	}
	uint64_t elapsed = bufmgr::clockNs() - start;
	for (size_t i = 1; i < times.size(); i++)
		EXPECT_GT(times[i], times[i - 1]);
	/* One frame per refresh at most: ten frames take at least ~9 periods. */
	EXPECT_GE(elapsed, 9ull * 16000000ull);
	/* Timestamps are CLOCK_MONOTONIC milliseconds. */
	EXPECT_NEAR(double(times.back()), double(bufmgr::clockNs() / 1000000ull), 1000.0);
}

/* The clock protocol tests run on: a frame as soon as one is scheduled. */
TEST(Compositor, IdleFrameClockDoesNotWaitForTheRefresh)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.refreshMilliHz = 1000;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow win(client, "idle clock", 16, 16, kRed);
	ASSERT_TRUE(win.ok);
	/* At 1 Hz, ten frames would take nine seconds. */
	uint64_t start = bufmgr::clockNs();
	for (int i = 0; i < 10; i++) {
		wl_surface_damage_buffer(win.window.surface(), 0, 0, 1, 1);
		ASSERT_TRUE(client.commitAndWaitFrame(win.window.surface()));
	}
	EXPECT_LT(bufmgr::clockNs() - start, 3000000000ull);
}

TEST(Compositor, ManualFrameClockRunsAFrameWhenStepped)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.frameClock = comp::FrameClock::Manual;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Window window(client, "manual clock");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ShmBuffer buffer(client.shm, 16, 16);
	buffer.fill(kGreen);
	wl_surface_attach(window.surface(), buffer.buffer(), 0, 0);
	wl_surface_damage_buffer(window.surface(), 0, 0, 16, 16);
	bool done = false;
	static const wl_callback_listener listener = {
		.done = [](void *data, wl_callback *, uint32_t) { *static_cast<bool *>(data) = true; },
	};
	Proxy<wl_callback> callback(wl_surface_frame(window.surface()));
	wl_callback_add_listener(callback, &listener, &done);
	wl_surface_commit(window.surface());
	ASSERT_TRUE(client.roundtrip());

	/* Scheduled, not run: no frame until the test steps the clock. */
	auto step = [](comp::Server &s) { return s.headlessBackend()->stepFrames(); };
	std::this_thread::sleep_for(std::chrono::milliseconds(50));
	ASSERT_TRUE(client.roundtrip());
	EXPECT_FALSE(done);
	EXPECT_EQ(server.frames(), 0u);
	EXPECT_EQ(server.run(step), 1u);
	ASSERT_TRUE(client.dispatchUntil([&] { return done; }));
	EXPECT_EQ(server.frames(), 1u);
	/* Nothing scheduled: a step runs nothing. */
	EXPECT_EQ(server.run(step), 0u);
}

struct FeedbackRecord {
	bool presented = false;
	bool discarded = false;
	bool syncOutput = false;
	uint64_t ns = 0;
	uint32_t refresh = 0;
	uint64_t seq = 0;
	uint32_t flags = 0;
};

const wp_presentation_feedback_listener feedbackListener = {
	.sync_output = [](void *data, struct wp_presentation_feedback *, wl_output *) {
		static_cast<FeedbackRecord *>(data)->syncOutput = true;
	},
	.presented = [](void *data, struct wp_presentation_feedback *feedback, uint32_t secHi,
			uint32_t secLo, uint32_t nsec, uint32_t refresh, uint32_t seqHi,
			uint32_t seqLo, uint32_t flags) {
		auto *r = static_cast<FeedbackRecord *>(data);
		r->presented = true;
		r->ns = ((uint64_t(secHi) << 32) | secLo) * 1000000000ull + nsec;
		r->refresh = refresh;
		r->seq = (uint64_t(seqHi) << 32) | seqLo;
		r->flags = flags;
		wp_presentation_feedback_destroy(feedback);
	},
	.discarded = [](void *data, struct wp_presentation_feedback *feedback) {
		static_cast<FeedbackRecord *>(data)->discarded = true;
		wp_presentation_feedback_destroy(feedback);
	},
};

TEST(Compositor, PresentationFeedback)
{
	ServerRunner server(ServerRunner::realClockConfig());
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow win(client, "presentation", 16, 16, kRed);
	ASSERT_TRUE(win.ok);

	FeedbackRecord first, second, third;
	uint64_t before = bufmgr::clockNs();
	struct wp_presentation_feedback *f1 = wp_presentation_feedback(client.presentation,
								 win.window.surface());
	wp_presentation_feedback_add_listener(f1, &feedbackListener, &first);
	wl_surface_damage_buffer(win.window.surface(), 0, 0, 1, 1);
	wl_surface_commit(win.window.surface());
	/* Replaced before any frame showed it: discarded. */
	struct wp_presentation_feedback *f2 = wp_presentation_feedback(client.presentation,
								 win.window.surface());
	wp_presentation_feedback_add_listener(f2, &feedbackListener, &second);
	wl_surface_damage_buffer(win.window.surface(), 0, 0, 1, 1);
	wl_surface_commit(win.window.surface());
	ASSERT_TRUE(client.dispatchUntil([&] { return (first.presented || first.discarded) &&
							  (second.presented || second.discarded); }));
	uint64_t after = bufmgr::clockNs();
	EXPECT_TRUE(first.discarded);
	EXPECT_TRUE(second.presented);
	EXPECT_TRUE(second.syncOutput);
	EXPECT_GE(second.ns, before);
	EXPECT_LE(second.ns, after);
	EXPECT_EQ(second.refresh, 16666666u);
	/* Headless copies everything: never zero-copy, no vsync hardware. */
	EXPECT_EQ(second.flags & WP_PRESENTATION_FEEDBACK_KIND_ZERO_COPY, 0u);
	EXPECT_EQ(second.flags, 0u);

	struct wp_presentation_feedback *f3 = wp_presentation_feedback(client.presentation,
								 win.window.surface());
	wp_presentation_feedback_add_listener(f3, &feedbackListener, &third);
	wl_surface_damage_buffer(win.window.surface(), 0, 0, 1, 1);
	wl_surface_commit(win.window.surface());
	ASSERT_TRUE(client.dispatchUntil([&] { return third.presented; }));
	EXPECT_GT(third.seq, second.seq);
	EXPECT_GE(third.ns - second.ns, 16000000u);
}

/*
 * Size limits are double-buffered: they hold from the commit on, and
 * min and max are checked against each other there, so either may come
 * first.
 */
TEST(Compositor, XdgSizeLimitsApplyWithTheCommitInAnyOrder)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow mapped(client, "limits", 40, 30, kGreen);
	ASSERT_TRUE(mapped.ok);
	Window &window = mapped.window;
	using Limits = std::pair<std::pair<int32_t, int32_t>, std::pair<int32_t, int32_t>>;
	auto limits = [&] {
		return server.run([](comp::Server &s) {
			auto *toplevel = dynamic_cast<comp::XdgToplevel *>(s.findView("limits"));
			if (!toplevel)
				return Limits{ { -1, -1 }, { -1, -1 } };
			const auto min = toplevel->minSize(), max = toplevel->maxSize();
			return Limits{ { min.width, min.height }, { max.width, max.height } };
		});
	};
	const Limits none{ { 0, 0 }, { 0, 0 } };

	xdg_toplevel_set_min_size(window.toplevel(), 100, 100);
	xdg_toplevel_set_max_size(window.toplevel(), 200, 200);
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(limits(), none) << "limits in force before their commit";
	wl_surface_commit(window.surface());
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(limits(), (Limits{ { 100, 100 }, { 200, 200 } }));

	/* Growing: the min passes the old max before the max follows. */
	xdg_toplevel_set_min_size(window.toplevel(), 300, 300);
	xdg_toplevel_set_max_size(window.toplevel(), 400, 400);
	wl_surface_commit(window.surface());
	ASSERT_TRUE(client.roundtrip()) << "limits valid at their commit were refused";
	EXPECT_EQ(limits(), (Limits{ { 300, 300 }, { 400, 400 } }));

	/* Shrinking: the max goes below the old min first. */
	xdg_toplevel_set_max_size(window.toplevel(), 50, 50);
	xdg_toplevel_set_min_size(window.toplevel(), 20, 20);
	wl_surface_commit(window.surface());
	ASSERT_TRUE(client.roundtrip()) << "limits valid at their commit were refused";
	EXPECT_EQ(limits(), (Limits{ { 20, 20 }, { 50, 50 } }));
}

TEST(Compositor, XdgConfigureAndAck)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Window window(client, "configure");
	ASSERT_TRUE(window.waitConfigure());
	EXPECT_EQ(window.configuredWidth(), 0);
	EXPECT_EQ(window.configuredHeight(), 0);
	window.ack();
	ShmBuffer buffer(client.shm, 40, 30);
	buffer.fill(kGreen);
	ASSERT_TRUE(window.present(buffer.buffer(), 40, 30));
	/* Mapped and focused: activated. */
	ASSERT_TRUE(window.waitConfigure());
	EXPECT_TRUE(window.hasState(XDG_TOPLEVEL_STATE_ACTIVATED));
	window.ack();

	xdg_toplevel_set_maximized(window.toplevel());
	ASSERT_TRUE(window.waitConfigure());
	EXPECT_TRUE(window.hasState(XDG_TOPLEVEL_STATE_MAXIMIZED));
	EXPECT_EQ(window.configuredWidth(), 320);
	EXPECT_EQ(window.configuredHeight(), 240);
	window.ack();
	ShmBuffer big(client.shm, 320, 240);
	big.fill(kBlue);
	ASSERT_TRUE(window.present(big.buffer(), 320, 240));
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(319, 239), kBlue);

	xdg_toplevel_unset_maximized(window.toplevel());
	ASSERT_TRUE(window.waitConfigure());
	EXPECT_FALSE(window.hasState(XDG_TOPLEVEL_STATE_MAXIMIZED));
	window.ack();
	ASSERT_TRUE(window.present(buffer.buffer(), 40, 30));

	xdg_toplevel_set_fullscreen(window.toplevel(), nullptr);
	ASSERT_TRUE(window.waitConfigure());
	EXPECT_TRUE(window.hasState(XDG_TOPLEVEL_STATE_FULLSCREEN));
	EXPECT_EQ(window.configuredWidth(), 320);
	window.ack();
	ASSERT_TRUE(window.present(big.buffer(), 320, 240));
	EXPECT_FALSE(client.error());
}

TEST(Compositor, SecondWindowIsCascadedAndStacksOnTop)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow a(client, "a", 64, 64, kRed);
	MappedWindow b(client, "b", 64, 64, kGreen);
	ASSERT_TRUE(a.ok && b.ok);
	auto positions = server.run([](comp::Server &s) {
		comp::View *va = s.findView("a"), *vb = s.findView("b");
		return std::vector<int32_t>{ va->x(), va->y(), vb->x(), vb->y() };
	});
	EXPECT_EQ(positions, (std::vector<int32_t>{ 0, 0, 32, 32 }));
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(10, 10), kRed);
	EXPECT_EQ(shot.at(40, 40), kGreen);
}

TEST(Compositor, ClientGoneLeavesNothingBehind)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	/* Let the output's buffers and the renderer's caches settle first. */
	{
		TestClient warm(server.socket());
		MappedWindow win(warm, "warm", 32, 32, kRed);
		ASSERT_TRUE(win.ok);
	}
	ASSERT_TRUE(server.waitFrames(3));
	int fds = countOpenFds();
	size_t clients = server.run([](comp::Server &s) { return s.numClients(); });
	{
		TestClient client(server.socket());
		MappedWindow win(client, "leak", 64, 64, kRed);
		ASSERT_TRUE(win.ok);
		client.bindInput();
		ASSERT_GT(countOpenFds(), fds);
	}
	ASSERT_TRUE(server.waitFrames(3));
	EXPECT_EQ(countOpenFds(), fds);
	EXPECT_EQ(server.run([](comp::Server &s) { return s.numClients(); }), clients);
	EXPECT_EQ(server.run([](comp::Server &s) { return s.views().size(); }), 0u);
	EXPECT_EQ(server.screenshot().at(10, 10), kBackground);
}

TEST(Compositor, SurfaceEntersAndLeavesTheOutput)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	struct Events {
		int enters = 0, leaves = 0;
		wl_output *output = nullptr;
	} events;
	static const wl_surface_listener listener = {
		.enter = [](void *data, wl_surface *, wl_output *o) {
			auto *e = static_cast<Events *>(data);
			e->enters++;
			e->output = o;
		},
		.leave = [](void *data, wl_surface *, wl_output *) {
			static_cast<Events *>(data)->leaves++;
		},
	};
	MappedWindow win(client, "enter", 16, 16, kRed);
	ASSERT_TRUE(win.ok);
	wl_surface_add_listener(win.window.surface(), &listener, &events);
	/* The listener came late: map again so the enter is seen. */
	wl_surface_attach(win.window.surface(), nullptr, 0, 0);
	wl_surface_commit(win.window.surface());
	ASSERT_TRUE(client.roundtrip());
	ASSERT_TRUE(server.waitFrames(1));
	ASSERT_TRUE(client.dispatchUntil([&] { return events.leaves == 1; }));
	wl_surface_commit(win.window.surface());
	ASSERT_TRUE(client.roundtrip());
	ASSERT_TRUE(win.window.waitConfigure());
	win.window.ack();
	ASSERT_TRUE(win.window.present(win.buffer.buffer(), 16, 16));
	ASSERT_TRUE(client.dispatchUntil([&] { return events.enters == 1; }));
	EXPECT_EQ(events.output, client.outputs[0].get());
}

/*
 * A wl_output bound after the surface was shown still hears of it: the
 * client of a display plugged in binds it only after the first frame there.
 */
TEST(Compositor, SurfaceEntersAnOutputBoundAfterItWasShown)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Window window(client, "late bind");
	/* No buffer yet, so no enter has come. */
	SurfaceOutputs events(window.surface());
	std::vector<wl_output *> &entered = events.entered;
	ShmBuffer buffer(client.shm, 16, 16);
	buffer.fill(kRed);
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ASSERT_TRUE(window.present(buffer.buffer(), 16, 16));
	ASSERT_TRUE(client.dispatchUntil([&] { return entered.size() == 1; }));
	ASSERT_EQ(client.outputNames.size(), 1u);

	Proxy<wl_output> again(static_cast<wl_output *>(
		wl_registry_bind(client.registry(), client.outputNames[0], &wl_output_interface, 4)));
	ASSERT_TRUE(client.dispatchUntil([&] { return entered.size() == 2; }));
	EXPECT_EQ(entered[1], again.get());
	/* Once for each wl_output, and no more. */
	ASSERT_TRUE(server.waitFrames(2));
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(entered.size(), 2u);
}

/*
 * An output whose display went: its wl_output leaves the registry, the
 * surface leaves it and the window comes to the output left. A late
 * bind of the gone global, and xdg_output on it, give inert objects.
 */
TEST(Compositor, RemovedOutputLeavesTheRegistryAndItsWindowMoves)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.numOutputs = 2;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_EQ(client.outputs.size(), 2u);
	const uint32_t secondName = client.outputNames[1];
	wl_output *second = client.outputs[1].get();
	Window window(client, "moved");
	SurfaceOutputs events(window.surface());
	ShmBuffer buffer(client.shm, 64, 64);
	buffer.fill(kRed);
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ASSERT_TRUE(window.present(buffer.buffer(), 64, 64));
	/* To the second output only. */
	const uint32_t width = config.headless.width;
	server.run([&](comp::Server &s) { s.findView("moved")->setPosition(int32_t(width) + 10, 10); });
	ASSERT_TRUE(client.dispatchUntil(
		[&] { return events.entered.size() == 2 && events.left.size() == 1; }));
	ASSERT_EQ(events.entered[1], second);
	/* A window on the first output, whose work area stays. */
	MappedWindow stays(client, "stays", 32, 32, kGreen);
	ASSERT_TRUE(stays.ok);
	const int32_t height = int32_t(config.headless.height);
	server.run([&](comp::Server &s) {
		s.findView("stays")->setPosition(int32_t(width) - 32, height - 32);
	});
	const int staysConfigures = stays.window.configures();

	ASSERT_TRUE(server.run([](comp::Server &s) { return s.headlessBackend()->removeOutput(1); }));
	ASSERT_TRUE(client.dispatchUntil([&] { return client.outputsRemoved.size() == 1; }));
	EXPECT_EQ(client.outputsRemoved[0], secondName);
	ASSERT_EQ(events.left.size(), 2u);
	EXPECT_EQ(events.left[1], second);
	EXPECT_EQ(server.run([](comp::Server &s) { return s.numOutputs(); }), 1u);
	/* The window came to the first output: it enters it and shows there. */
	ASSERT_TRUE(server.waitFrames(2));
	ASSERT_TRUE(client.dispatchUntil([&] { return events.entered.size() == 3; }));
	EXPECT_EQ(events.entered[2], client.outputs[0].get());
	const comp::Rect box = server.run([](comp::Server &s) {
		comp::View *view = s.findView("moved");
		return comp::Rect{ view->x(), view->y(), 64, 64 };
	});
	EXPECT_LT(box.x, int32_t(width));
	EXPECT_EQ(server.screenshot().at(uint32_t(box.x + 32), uint32_t(box.y + 32)), kRed);

	/* Bound after it went: nothing is sent, nothing breaks. */
	Proxy<wl_output> late(static_cast<wl_output *>(
		wl_registry_bind(client.registry(), secondName, &wl_output_interface, 4)));
	Proxy<zxdg_output_v1> xdgOutput(
		zxdg_output_manager_v1_get_xdg_output(client.xdgOutputManager, late));
	ASSERT_TRUE(client.roundtrip());
	EXPECT_FALSE(client.error());
	ASSERT_TRUE(server.waitFrames(2));
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(events.entered.size(), 3u);
	EXPECT_EQ(stays.window.configures(), staysConfigures) << "configured for a work area that stayed";
}

/*
 * A display unplugged between two others leaves no gap: the one right of
 * it moves left, its clients hear the new position (wl_output geometry,
 * xdg_output logical position), and its windows move with it.
 */
TEST(Compositor, OutputsRightOfARemovedOneMoveLeft)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.numOutputs = 3;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_EQ(client.outputs.size(), 3u);
	const int32_t width = int32_t(config.headless.width);
	OutputEvents third(client, client.outputs[2]);
	ASSERT_TRUE(client.dispatchUntil([&] { return third.done == 1; }));
	EXPECT_EQ(third.logicalX, 2 * width);

	Window window(client, "right");
	SurfaceOutputs events(window.surface());
	ShmBuffer buffer(client.shm, 64, 64);
	buffer.fill(kRed);
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ASSERT_TRUE(window.present(buffer.buffer(), 64, 64));
	server.run([&](comp::Server &s) { s.findView("right")->setPosition(2 * width + 10, 20); });
	ASSERT_TRUE(client.dispatchUntil([&] { return !events.entered.empty() && events.entered.back() == client.outputs[2].get(); }));
	const size_t entered = events.entered.size(), left = events.left.size();
	const int configures = window.configures();

	ASSERT_TRUE(server.run([](comp::Server &s) { return s.headlessBackend()->removeOutput(1); }));
	ASSERT_TRUE(client.dispatchUntil([&] { return third.done == 2; }));
	EXPECT_EQ(third.x, width);
	EXPECT_EQ(third.logicalX, width);
	const auto [x, y] = server.run([](comp::Server &s) {
		comp::View *view = s.findView("right");
		return std::pair(view->x(), view->y());
	});
	EXPECT_EQ(x, width + 10);
	EXPECT_EQ(y, 20);
	/* Still on the same output: no leave, no enter, no new configure. */
	ASSERT_TRUE(server.waitFrames(2));
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(events.entered.size(), entered);
	EXPECT_EQ(events.left.size(), left);
	EXPECT_EQ(window.configures(), configures);
	const auto positions = server.run([](comp::Server &s) {
		std::vector<int32_t> xs;
		for (const comp::Output *o : s.backend().outputs())
			xs.push_back(o->x());
		return xs;
	});
	EXPECT_EQ(positions, (std::vector<int32_t>{ 0, width }));
}

/*
 * The fullscreen window is configured to width x height and, drawn at
 * that size, fills the first output to its far corner.
 */
void fillsTheOutput(ServerRunner &server, TestClient &client, Window &window, int32_t width,
		    int32_t height)
{
	ASSERT_TRUE(fullscreenAt(window, width, height));
	ShmBuffer buffer(client.shm, width, height);
	buffer.fill(kBlue);
	ASSERT_TRUE(window.present(buffer.buffer(), width, height));
	ASSERT_TRUE(server.drawFrames(2));
	const comp::Screenshot shot = server.screenshot();
	ASSERT_EQ(shot.width, uint32_t(width));
	ASSERT_EQ(shot.height, uint32_t(height));
	EXPECT_EQ(shot.at(uint32_t(width) - 1, uint32_t(height) - 1), kBlue);
}

/*
 * A display that takes another size (a nested window resized by its
 * host): its clients hear the mode and logical size, the display right
 * of it moves along, and a fullscreen window there is configured to the
 * new size and shown at it.
 */
TEST(Compositor, ResizedOutputIsHeardAndFullscreenWindowsFollow)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.numOutputs = 2;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_EQ(client.outputs.size(), 2u);
	const int32_t width = int32_t(config.headless.width), height = int32_t(config.headless.height);
	OutputEvents first(client, client.outputs[0]), second(client, client.outputs[1]);
	ASSERT_TRUE(client.dispatchUntil([&] { return first.done == 1 && second.done == 1; }));

	Window window(client, "fullscreen");
	xdg_toplevel_set_fullscreen(window.toplevel(), client.outputs[0]);
	ASSERT_TRUE(fullscreenAt(window, width, height));
	ShmBuffer small(client.shm, width, height);
	small.fill(kRed);
	ASSERT_TRUE(window.present(small.buffer(), width, height));

	const int32_t wider = width + 160, taller = height + 80;
	ASSERT_TRUE(server.run([&](comp::Server &s) {
		return bool(s.headlessBackend()->resizeOutput(0, uint32_t(wider), uint32_t(taller)));
	}));
	ASSERT_TRUE(client.dispatchUntil([&] { return first.done == 2 && second.done == 2; }));
	EXPECT_EQ(first.width, wider);
	EXPECT_EQ(first.height, taller);
	EXPECT_EQ(first.logicalWidth, wider);
	EXPECT_EQ(first.logicalHeight, taller);
	EXPECT_EQ(second.x, wider);
	EXPECT_EQ(second.logicalX, wider);

	ASSERT_NO_FATAL_FAILURE(fillsTheOutput(server, client, window, wider, taller));

	/* Back to the old size: the second display comes back beside it. */
	ASSERT_TRUE(server.run([&](comp::Server &s) {
		return bool(s.headlessBackend()->resizeOutput(0, uint32_t(width), uint32_t(height)));
	}));
	ASSERT_TRUE(client.dispatchUntil([&] { return first.done == 3 && second.done == 3; }));
	EXPECT_EQ(first.width, width);
	EXPECT_EQ(second.x, width);
	ASSERT_TRUE(fullscreenAt(window, width, height));
}

/*
 * Configured fullscreen, then the output grows before the window maps:
 * mapping activates it, and that configure carries the new size.
 */
TEST(Compositor, WindowMappedAfterTheOutputResizedTakesTheNewSize)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	const comp::ServerConfig config = ServerRunner::defaultConfig();
	const int32_t width = int32_t(config.headless.width), height = int32_t(config.headless.height);
	Window window(client, "fullscreen");
	xdg_toplevel_set_fullscreen(window.toplevel(), nullptr);
	ASSERT_TRUE(fullscreenAt(window, width, height));

	const int32_t wider = width + 160, taller = height + 80;
	ASSERT_TRUE(server.run([&](comp::Server &s) {
		return bool(s.headlessBackend()->resizeOutput(0, uint32_t(wider), uint32_t(taller)));
	}));
	ASSERT_TRUE(client.roundtrip());
	/* It draws what it was asked for, which is no longer the output's size. */
	ShmBuffer small(client.shm, width, height);
	small.fill(kRed);
	ASSERT_TRUE(window.present(small.buffer(), width, height));
	ASSERT_NO_FATAL_FAILURE(fillsTheOutput(server, client, window, wider, taller));
}

/*
 * A withdrawn wl_output global is destroyed at its own deadline: displays
 * that keep going away do not keep the globals of earlier ones alive.
 */
TEST(Compositor, WithdrawnOutputGlobalsGoAtTheirOwnDeadlines)
{
	using namespace std::chrono;
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.numOutputs = 3;
	config.outputRetirement = milliseconds(400);
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	auto retired = [&] { return server.run([](comp::Server &s) { return s.retiredOutputGlobals(); }); };

	ASSERT_TRUE(server.run([](comp::Server &s) { return s.headlessBackend()->removeOutput(2); }));
	std::this_thread::sleep_for(milliseconds(200));
	ASSERT_TRUE(server.run([](comp::Server &s) { return s.headlessBackend()->removeOutput(1); }));
	const auto second = steady_clock::now();
	ASSERT_EQ(retired(), 2u);
	size_t left = 2;
	while (left == 2 && steady_clock::now() - second < seconds(5)) {
		std::this_thread::sleep_for(milliseconds(2));
		left = retired();
	}
	/* The first went about 200 ms after the second was withdrawn, the second not yet. */
	EXPECT_EQ(left, 1u);
	EXPECT_LT(steady_clock::now() - second, milliseconds(400));
	while (left && steady_clock::now() - second < seconds(5)) {
		std::this_thread::sleep_for(milliseconds(2));
		left = retired();
	}
	EXPECT_EQ(left, 0u);
	/* At its own deadline (withdrawn just before `second`), well after the first's. */
	EXPECT_GE(steady_clock::now() - second, milliseconds(300));
}

/* Maximized from a display that then went: restored onto one still there, not onto nothing. */
TEST(Compositor, UnmaximizedWindowReturnsToAnOutputStillThere)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.numOutputs = 2;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow win(client, "restored", 40, 30, kGreen);
	ASSERT_TRUE(win.ok);
	const int32_t width = int32_t(config.headless.width);
	server.run([&](comp::Server &s) { s.findView("restored")->setPosition(width + 10, 10); });
	/* Acks configures until one with (or without) the maximized state. */
	auto configured = [&](bool maximized) {
		do {
			if (!win.window.waitConfigure())
				return false;
			win.window.ack();
		} while (win.window.hasState(XDG_TOPLEVEL_STATE_MAXIMIZED) != maximized);
		return true;
	};
	xdg_toplevel_set_maximized(win.window.toplevel());
	ASSERT_TRUE(configured(true));
	ShmBuffer big(client.shm, uint32_t(win.window.configuredWidth()),
		      uint32_t(win.window.configuredHeight()));
	big.fill(kBlue);
	ASSERT_TRUE(win.window.present(big.buffer(), win.window.configuredWidth(),
				       win.window.configuredHeight()));

	ASSERT_TRUE(server.run([](comp::Server &s) { return s.headlessBackend()->removeOutput(1); }));
	xdg_toplevel_unset_maximized(win.window.toplevel());
	ASSERT_TRUE(configured(false));
	ASSERT_TRUE(win.window.present(win.buffer.buffer(), 40, 30));
	const comp::Rect box = server.run([](comp::Server &s) {
		comp::View *view = s.findView("restored");
		return comp::Rect{ view->x(), view->y(), 40, 30 };
	});
	EXPECT_GE(box.x, 0);
	EXPECT_LE(box.x + box.width, width);
	ASSERT_TRUE(server.waitFrames(2));
	EXPECT_EQ(server.screenshot().at(uint32_t(std::max(box.x, 0) + 20), uint32_t(std::max(box.y, 0) + 15)),
		  kGreen);
}

/* A red 64x64 window at (0, 0) with the pointer on it at (20, 20). */
class CursorTest : public testing::Test
{
protected:
	void SetUp() override
	{
		ASSERT_TRUE(server.ok()) << server.error();
		client.bindInput();
		ASSERT_TRUE(win.ok);
		movePointer(20, 20);
		ASSERT_EQ(client.pointerFocus, win.window.surface());
	}

	void movePointer(double x, double y)
	{
		server.run([&](comp::Server &s) { s.headlessBackend()->injectPointerMotion(x, y); });
		ASSERT_TRUE(client.roundtrip());
		ASSERT_TRUE(server.waitFrames(2));
	}

	ServerRunner server;
	TestClient client{ server.socket() };
	MappedWindow win{ client, "cursor", 64, 64, kRed };
	Proxy<wl_surface> cursor{ wl_compositor_create_surface(client.compositor) };
};

/* A client animating its cursor paces itself by its frames. */
TEST_F(CursorTest, SurfaceFramesComplete)
{
	ShmBuffer image(client.shm, 16, 16);
	image.fill(kGreen);
	wl_pointer_set_cursor(client.pointer, client.lastSerial, cursor, 0, 0);
	for (int i = 0; i < 3; i++) {
		wl_surface_attach(cursor, image.buffer(), 0, 0);
		wl_surface_damage_buffer(cursor, 0, 0, 16, 16);
		ASSERT_TRUE(client.commitAndWaitFrame(cursor)) << "frame " << i;
	}

	/* Without the pointer the cursor is not shown: its frames wait. */
	movePointer(200, 200);
	ASSERT_EQ(client.pointerFocus, nullptr);
	bool done = false;
	static const wl_callback_listener listener = {
		.done = [](void *data, wl_callback *, uint32_t) { *static_cast<bool *>(data) = true; },
	};
	Proxy<wl_callback> callback(wl_surface_frame(cursor));
	wl_callback_add_listener(callback, &listener, &done);
	wl_surface_commit(cursor);
	ASSERT_TRUE(server.waitFrames(3));
	ASSERT_TRUE(client.roundtrip());
	EXPECT_FALSE(done);
	EXPECT_FALSE(client.error());
}

/*
 * The cursor is drawn above the window with its hotspot at the pointer;
 * set_cursor and wl_surface.offset move the hotspot, and the cursor
 * goes when the pointer leaves its client.
 */
TEST_F(CursorTest, DrawnWithItsHotspotAtThePointer)
{
	ShmBuffer image(client.shm, 4, 4);
	image.fill(kGreen);
	wl_pointer_set_cursor(client.pointer, client.lastSerial, cursor, 1, 2);
	wl_surface_attach(cursor, image.buffer(), 0, 0);
	wl_surface_damage_buffer(cursor, 0, 0, 4, 4);
	ASSERT_TRUE(client.commitAndWaitFrame(cursor));
	const Picture arrow(4, 4, kGreen);
	/* Where the cursor's top-left pixel is expected, and the red around it. */
	auto cursorAt = [&](int x, int y) {
		ASSERT_TRUE(client.roundtrip());
		ASSERT_TRUE(server.waitFrames(2));
		comp::Screenshot shot = server.screenshot();
		EXPECT_TRUE(shows(shot, x, y, arrow));
		EXPECT_EQ(shot.at(x - 1, y), kRed);
		EXPECT_EQ(shot.at(x + 4, y + 3), kRed);
	};
	cursorAt(19, 18);

	movePointer(40, 30);
	cursorAt(39, 28);
	EXPECT_EQ(server.screenshot().at(19, 18), kRed);

	/* Offsets accumulate against the hotspot: (1, 2) becomes (3, 5). */
	wl_surface_offset(cursor, -2, -3);
	ASSERT_TRUE(client.commitAndWaitFrame(cursor));
	cursorAt(37, 25);

	/* The same surface again, with a new hotspot. */
	wl_pointer_set_cursor(client.pointer, client.lastSerial, cursor, 0, 0);
	cursorAt(40, 30);

	movePointer(200, 200);
	ASSERT_EQ(client.pointerFocus, nullptr);
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(40, 30), kRed);
	EXPECT_NE(shot.at(200, 200), kGreen);
}

TEST(Compositor, KeymapIsSealed)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	client.bindInput();
	ASSERT_TRUE(client.dispatchUntil([&] { return client.keymapSize > 0; }));
	EXPECT_EQ(client.keymapHead.rfind("xkb_keymap", 0), 0u) << client.keymapHead;
	EXPECT_FALSE(client.keymapWritable);
}

} /* namespace */
} /* namespace heapcomp::test */
