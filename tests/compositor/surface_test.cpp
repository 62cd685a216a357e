/* SPDX-License-Identifier: MIT */
/* Subsurfaces (stacking, sync/desync) and wp_viewporter. */
#include <gtest/gtest.h>

#include "picture.h"
#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

TEST(Subsurface, StackingAndPosition)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow parent(client, "parent", 100, 100, kRed);
	ASSERT_TRUE(parent.ok);

	Proxy<wl_surface> childSurface(wl_compositor_create_surface(client.compositor));
	Proxy<wl_subsurface> child(wl_subcompositor_get_subsurface(
		client.subcompositor, childSurface, parent.window.surface()));
	wl_subsurface_set_position(child, 10, 20);
	ShmBuffer green(client.shm, 40, 40);
	green.fill(kGreen);
	wl_surface_attach(childSurface, green.buffer(), 0, 0);
	wl_surface_damage_buffer(childSurface, 0, 0, 40, 40);
	/* Synchronized: nothing shows until the parent commits. */
	wl_surface_commit(childSurface);
	ASSERT_TRUE(client.roundtrip());
	ASSERT_TRUE(server.waitFrames(1));
	EXPECT_EQ(server.screenshot().at(15, 25), kRed);

	ASSERT_TRUE(client.commitAndWaitFrame(parent.window.surface()));
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(10, 20), kGreen);
	EXPECT_EQ(shot.at(49, 59), kGreen);
	EXPECT_EQ(shot.at(9, 20), kRed);
	EXPECT_EQ(shot.at(50, 60), kRed);

	/* A second child above the first, overlapping it. */
	Proxy<wl_surface> topSurface(wl_compositor_create_surface(client.compositor));
	Proxy<wl_subsurface> top(wl_subcompositor_get_subsurface(
		client.subcompositor, topSurface, parent.window.surface()));
	wl_subsurface_set_position(top, 30, 40);
	ShmBuffer blue(client.shm, 40, 40);
	blue.fill(kBlue);
	wl_surface_attach(topSurface, blue.buffer(), 0, 0);
	wl_surface_damage_buffer(topSurface, 0, 0, 40, 40);
	wl_surface_commit(topSurface);
	ASSERT_TRUE(client.commitAndWaitFrame(parent.window.surface()));
	EXPECT_EQ(server.screenshot().at(35, 45), kBlue);

	/* Restack: the first child above the second. */
	wl_subsurface_place_above(child, topSurface);
	ASSERT_TRUE(client.commitAndWaitFrame(parent.window.surface()));
	EXPECT_EQ(server.screenshot().at(35, 45), kGreen);

	/* Below the parent: hidden behind it. */
	wl_subsurface_place_below(child, parent.window.surface());
	ASSERT_TRUE(client.commitAndWaitFrame(parent.window.surface()));
	shot = server.screenshot();
	EXPECT_EQ(shot.at(15, 25), kRed);
	EXPECT_EQ(shot.at(35, 45), kBlue);

	/* Desynchronized: the child's own commit shows at once. */
	wl_subsurface_set_desync(top);
	blue.fill(kGreen);
	wl_surface_attach(topSurface, blue.buffer(), 0, 0);
	wl_surface_damage_buffer(topSurface, 0, 0, 40, 40);
	ASSERT_TRUE(client.commitAndWaitFrame(topSurface));
	EXPECT_EQ(server.screenshot().at(35, 45), kGreen);

	/*
	 * Destroying a subsurface unmaps it: where it was, the parent shows
	 * (the first child is below the parent). (65, 75) only it covered.
	 */
	shot = server.screenshot();
	ASSERT_EQ(shot.at(35, 45), kGreen);
	ASSERT_EQ(shot.at(65, 75), kGreen);
	top.reset();
	ASSERT_TRUE(client.commitAndWaitFrame(parent.window.surface()));
	shot = server.screenshot();
	EXPECT_EQ(shot.at(35, 45), kRed);
	EXPECT_EQ(shot.at(65, 75), kRed);
	EXPECT_EQ(shot.at(75, 75), kRed);
	EXPECT_EQ(shot.at(120, 120), kBackground);
}

TEST(Subsurface, ChildExtendsBeyondParent)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow parent(client, "parent", 20, 20, kRed);
	ASSERT_TRUE(parent.ok);
	Proxy<wl_surface> childSurface(wl_compositor_create_surface(client.compositor));
	Proxy<wl_subsurface> child(wl_subcompositor_get_subsurface(
		client.subcompositor, childSurface, parent.window.surface()));
	wl_subsurface_set_position(child, 100, 100);
	ShmBuffer green(client.shm, 10, 10);
	green.fill(kGreen);
	wl_surface_attach(childSurface, green.buffer(), 0, 0);
	wl_surface_commit(childSurface);
	ASSERT_TRUE(client.commitAndWaitFrame(parent.window.surface()));
	EXPECT_EQ(server.screenshot().at(105, 105), kGreen);
}

TEST(Viewporter, CropAndScale)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Window window(client, "viewport");
	ShmBuffer buffer(client.shm, 64, 64);
	/* Four quadrants. */
	buffer.fillRect(0, 0, 32, 32, kRed);
	buffer.fillRect(32, 0, 32, 32, kGreen);
	buffer.fillRect(0, 32, 32, 32, kBlue);
	buffer.fillRect(32, 32, 32, 32, 0xffffffff);
	Proxy<wp_viewport> viewport(wp_viewporter_get_viewport(client.viewporter, window.surface()));
	ASSERT_TRUE(window.waitConfigure());
	window.ack();

	/* Only the green quadrant, scaled to 100x50. */
	wp_viewport_set_source(viewport, wl_fixed_from_int(32), 0, wl_fixed_from_int(32),
			       wl_fixed_from_int(32));
	wp_viewport_set_destination(viewport, 100, 50);
	ASSERT_TRUE(window.present(buffer.buffer(), 64, 64));
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(2, 2), kGreen);
	EXPECT_EQ(shot.at(97, 47), kGreen);
	EXPECT_EQ(shot.at(101, 10), kBackground);
	EXPECT_EQ(shot.at(10, 51), kBackground);

	/* Destination only: the whole buffer scaled down. */
	wp_viewport_set_source(viewport, wl_fixed_from_int(-1), wl_fixed_from_int(-1),
			       wl_fixed_from_int(-1), wl_fixed_from_int(-1));
	wp_viewport_set_destination(viewport, 32, 32);
	ASSERT_TRUE(window.present(buffer.buffer(), 64, 64));
	shot = server.screenshot();
	EXPECT_EQ(shot.at(4, 4), kRed);
	EXPECT_EQ(shot.at(28, 28), 0xffffffffu);
	EXPECT_EQ(shot.at(40, 10), kBackground);

	/* The viewport gone: the buffer's own size at the next commit. */
	viewport.reset();
	ASSERT_TRUE(window.present(buffer.buffer(), 64, 64));
	shot = server.screenshot();
	EXPECT_EQ(shot.at(60, 60), 0xffffffffu);
	EXPECT_FALSE(client.error());
}

TEST(Surface, BufferScaleHalvesTheSize)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Window window(client, "scale");
	ShmBuffer buffer(client.shm, 64, 64);
	buffer.fill(kRed);
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	wl_surface_set_buffer_scale(window.surface(), 2);
	ASSERT_TRUE(window.present(buffer.buffer(), 64, 64));
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(31, 31), kRed);
	EXPECT_EQ(shot.at(33, 33), kBackground);
}

TEST(Surface, NullAttachUnmapsAndAllowsRemap)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow parent(client, "parent", 30, 30, kRed);
	ASSERT_TRUE(parent.ok);
	wl_surface_attach(parent.window.surface(), nullptr, 0, 0);
	wl_surface_commit(parent.window.surface());
	ASSERT_TRUE(client.roundtrip());
	ASSERT_TRUE(server.waitFrames(1));
	EXPECT_EQ(server.screenshot().at(5, 5), kBackground);
	EXPECT_EQ(server.run([](comp::Server &s) { return s.views().size(); }), 0u);

	/* Unmapped xdg surfaces start over: an initial commit, then configure. */
	wl_surface_commit(parent.window.surface());
	/* The newest configure counts: those before the unmap are void. */
	ASSERT_TRUE(client.roundtrip());
	ASSERT_TRUE(parent.window.waitConfigure());
	parent.window.ack();
	parent.buffer.fill(kGreen);
	ASSERT_TRUE(parent.window.present(parent.buffer.buffer(), 30, 30));
	EXPECT_EQ(server.screenshot().at(5, 5), kGreen);
}

} /* namespace */
} /* namespace heapcomp::test */
