/* SPDX-License-Identifier: MIT */
/*
 * Output damage: only what changed is drawn, a buffer that missed frames
 * gets their changes too (buffer age), and a refresh with nothing to
 * change draws nothing but still completes the clients' frames.
 */
#include <gtest/gtest.h>

#include "picture.h"
#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

constexpr int kScreenWidth = 320, kScreenHeight = 240;

comp::RepaintStats repaintStats(ServerRunner &server)
{
	return server.run([](comp::Server &s) { return s.repaintStats(); });
}

/* Attaches the buffer again with one damaged rect and waits for the frame. */
bool presentDamage(TestClient &client, MappedWindow &window, int x, int y, int w, int h)
{
	wl_surface_attach(window.window.surface(), window.buffer.buffer(), 0, 0);
	wl_surface_damage_buffer(window.window.surface(), x, y, w, h);
	return client.commitAndWaitFrame(window.window.surface()).has_value();
}

TEST(Damage, NothingChangedDrawsNothingButFramesComplete)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow window(client, "still", 64, 48, kRed);
	ASSERT_TRUE(window.ok);
	ASSERT_TRUE(server.waitFrames(2));
	comp::RepaintStats before = repaintStats(server);
	EXPECT_GE(before.rendered, 1u);

	/* A frame callback and nothing else: it comes, at the refresh, with nothing drawn. */
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(client.commitAndWaitFrame(window.window.surface()));
	ASSERT_TRUE(server.waitFrames(3));
	comp::RepaintStats after = repaintStats(server);
	EXPECT_EQ(after.rendered, before.rendered);
	EXPECT_GE(after.skipped, before.skipped + 6);
	EXPECT_EQ(after.pixels, before.pixels);
	EXPECT_EQ(server.screenshot().at(10, 10), kRed);
}

TEST(Damage, OnlyTheDamageIsDrawn)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow window(client, "patch", 64, 48, kRed);
	ASSERT_TRUE(window.ok);

	/*
	 * The same 8x8 patch twice: the second frame's buffer missed only the
	 * first one, which changed the same pixels.
	 */
	window.buffer.fillRect(8, 8, 8, 8, kBlue);
	ASSERT_TRUE(presentDamage(client, window, 8, 8, 8, 8));
	window.buffer.fillRect(8, 8, 8, 8, kGreen);
	ASSERT_TRUE(presentDamage(client, window, 8, 8, 8, 8));

	comp::RepaintStats stats = repaintStats(server);
	/* Headless alternates two buffers once both exist: the older one is drawn into. */
	EXPECT_EQ(stats.lastBufferAge, 2);
	EXPECT_EQ(stats.lastPixels, 64u);
	ASSERT_EQ(stats.lastRects.size(), 1u);
	EXPECT_EQ(stats.lastRects[0].x, 8);
	EXPECT_EQ(stats.lastRects[0].y, 8);
	EXPECT_EQ(stats.lastRects[0].width, 8);
	EXPECT_EQ(stats.lastRects[0].height, 8);

	Picture screen(kScreenWidth, kScreenHeight, kBackground);
	screen.fillRect(0, 0, 64, 48, kRed);
	screen.fillRect(8, 8, 8, 8, kGreen);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen));
}

/* A client that sends its scale and crop with every frame changes only what it damages. */
TEST(Damage, RepeatedScaleAndCropChangeNothing)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow window(client, "repeats", 64, 48, kRed);
	ASSERT_TRUE(window.ok);
	Proxy<wp_viewport> viewport(
		wp_viewporter_get_viewport(client.viewporter, window.window.surface()));

	/*
	 * The first frame sets the destination, damaging the whole window; the
	 * next repeat it. The third goes into the buffer the second missed.
	 */
	for (uint32_t colour : { kBlue, kGreen, kBlue }) {
		window.buffer.fillRect(8, 8, 8, 8, colour);
		wl_surface_set_buffer_scale(window.window.surface(), 1);
		wl_surface_set_buffer_transform(window.window.surface(), WL_OUTPUT_TRANSFORM_NORMAL);
		wp_viewport_set_destination(viewport, 64, 48);
		ASSERT_TRUE(presentDamage(client, window, 8, 8, 8, 8));
	}
	EXPECT_EQ(repaintStats(server).lastPixels, 64u);
	EXPECT_EQ(server.screenshot().at(10, 10), kBlue);
	EXPECT_EQ(server.screenshot().at(40, 40), kRed);
}

/* Each frame changes a new patch; every buffer must also get the patches it missed. */
TEST(Damage, OlderBuffersGetWhatTheyMissed)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow window(client, "patches", 64, 48, kRed);
	ASSERT_TRUE(window.ok);

	Picture content(64, 48, kRed);
	const uint32_t colours[] = { kBlue, kGreen, 0xffffffff, 0xff808000, 0xff008080 };
	int olderBuffers = 0;
	for (int i = 0; i < 8; i++) {
		const int x = 2 + 7 * i, y = 3 + 5 * i;
		content.fillRect(x, y, 6, 4, colours[i % 5]);
		copyInto(window.buffer, content);
		ASSERT_TRUE(presentDamage(client, window, x, y, 6, 4));

		Picture screen(kScreenWidth, kScreenHeight, kBackground);
		screen.paste(content, 0, 0);
		EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen)) << "after patch " << i;
		comp::RepaintStats stats = repaintStats(server);
		/* The first patch's buffer may have missed the window's mapping. */
		if (i > 0 && stats.lastBufferAge > 1) {
			olderBuffers++;
			/* This patch and the previous one: nothing else. */
			EXPECT_LE(stats.lastPixels, 2u * 6 * 4) << "after patch " << i;
		}
	}
	EXPECT_GT(olderBuffers, 0) << "no frame went into a buffer older than the last one";
}

TEST(Damage, MovedRaisedAndUnmappedWindowsLeaveNoTrace)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow a(client, "a", 64, 64, kRed);
	MappedWindow b(client, "b", 64, 64, kGreen);
	ASSERT_TRUE(a.ok && b.ok);

	/* Cascaded: a at (0, 0), b at (32, 32) above it. */
	Picture screen(kScreenWidth, kScreenHeight, kBackground);
	screen.fillRect(0, 0, 64, 64, kRed);
	screen.fillRect(32, 32, 64, 64, kGreen);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen));

	server.run([](comp::Server &s) { s.raiseView(s.findView("a")); });
	ASSERT_TRUE(server.waitFrames(2));
	screen.fillRect(0, 0, 64, 64, kRed);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen)) << "after raising a";

	server.run([](comp::Server &s) { s.findView("b")->setPosition(200, 100); });
	ASSERT_TRUE(server.waitFrames(2));
	screen = Picture(kScreenWidth, kScreenHeight, kBackground);
	screen.fillRect(0, 0, 64, 64, kRed);
	screen.fillRect(200, 100, 64, 64, kGreen);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen)) << "after moving b";

	wl_surface_attach(a.window.surface(), nullptr, 0, 0);
	wl_surface_commit(a.window.surface());
	ASSERT_TRUE(client.roundtrip());
	ASSERT_TRUE(server.waitFrames(2));
	screen.fillRect(0, 0, 64, 64, kBackground);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen)) << "after unmapping a";
}

/* What an opaque window hides is not drawn, however its owner redraws it. */
TEST(Damage, ChangesUnderAnOpaqueWindowDrawOnlyWhatShows)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow below(client, "below", 64, 64, kRed);
	MappedWindow above(client, "above", 64, 64, kGreen);
	ASSERT_TRUE(below.ok && above.ok);

	server.run([](comp::Server &s) { s.findView("above")->setPosition(0, 0); });
	ASSERT_TRUE(server.waitFrames(2));
	const comp::RepaintStats before = repaintStats(server);
	below.buffer.fill(kBlue);
	ASSERT_TRUE(presentDamage(client, below, 0, 0, 64, 64));
	ASSERT_TRUE(presentDamage(client, below, 0, 0, 64, 64));
	comp::RepaintStats stats = repaintStats(server);
	EXPECT_EQ(stats.rendered, before.rendered) << "a hidden change drew a frame";
	EXPECT_EQ(stats.pixels, before.pixels);

	/* Uncovered, the hidden change shows. */
	server.run([](comp::Server &s) { s.findView("above")->setPosition(32, 0); });
	ASSERT_TRUE(server.waitFrames(2));
	Picture screen(kScreenWidth, kScreenHeight, kBackground);
	screen.fillRect(0, 0, 32, 64, kBlue);
	screen.fillRect(32, 0, 64, 64, kGreen);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen)) << "after uncovering";

	/*
	 * Half covered, a change drawn twice (so that the older buffer, drawn
	 * into next, misses only it): only its visible half is drawn.
	 */
	below.buffer.fill(kRed);
	ASSERT_TRUE(presentDamage(client, below, 0, 0, 64, 64));
	ASSERT_TRUE(presentDamage(client, below, 0, 0, 64, 64));
	stats = repaintStats(server);
	EXPECT_EQ(stats.lastPixels, 32u * 64u);
	ASSERT_EQ(stats.lastRects.size(), 1u);
	EXPECT_EQ(stats.lastRects[0].x, 0);
	EXPECT_EQ(stats.lastRects[0].width, 32);

	screen.fillRect(0, 0, 32, 64, kRed);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen));
}

TEST(Damage, MovedSubsurfaceRepaintsWhereItWas)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow parent(client, "parent", 100, 100, kRed);
	ASSERT_TRUE(parent.ok);

	Proxy<wl_surface> childSurface(wl_compositor_create_surface(client.compositor));
	Proxy<wl_subsurface> child(wl_subcompositor_get_subsurface(
		client.subcompositor, childSurface, parent.window.surface()));
	ShmBuffer green(client.shm, 20, 20);
	green.fill(kGreen);
	wl_subsurface_set_position(child, 10, 10);
	wl_surface_attach(childSurface, green.buffer(), 0, 0);
	wl_surface_damage_buffer(childSurface, 0, 0, 20, 20);
	wl_surface_commit(childSurface);
	ASSERT_TRUE(client.commitAndWaitFrame(parent.window.surface()));

	wl_subsurface_set_position(child, 60, 50);
	ASSERT_TRUE(client.commitAndWaitFrame(parent.window.surface()));
	Picture screen(kScreenWidth, kScreenHeight, kBackground);
	screen.fillRect(0, 0, 100, 100, kRed);
	screen.fillRect(60, 50, 20, 20, kGreen);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen));

	/* Stacked below the parent: hidden, and drawn so. */
	wl_subsurface_place_below(child, parent.window.surface());
	ASSERT_TRUE(client.commitAndWaitFrame(parent.window.surface()));
	screen.fillRect(60, 50, 20, 20, kRed);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen));
}

/* A client that goes takes its pixels with it, however old the next buffer. */
TEST(Damage, ClientGoneIsRepaintedAway)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient stays(server.socket());
	MappedWindow kept(stays, "kept", 40, 40, kBlue);
	ASSERT_TRUE(kept.ok);
	{
		TestClient goes(server.socket());
		MappedWindow gone(goes, "gone", 80, 60, kGreen);
		ASSERT_TRUE(gone.ok);
	}
	ASSERT_TRUE(stays.roundtrip());
	ASSERT_TRUE(server.waitFrames(3));
	Picture screen(kScreenWidth, kScreenHeight, kBackground);
	screen.fillRect(0, 0, 40, 40, kBlue);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen));
}

} /* namespace */
} /* namespace heapcomp::test */
