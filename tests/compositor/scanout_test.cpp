/* SPDX-License-Identifier: MIT */
/*
 * Direct scanout on the headless backend: a fullscreen, opaque client
 * buffer is the frame itself (no composition, ZERO_COPY), and anything
 * else is composed.
 */
#include <gtest/gtest.h>

#include <map>

#include <drm_fourcc.h>

#include "backend/drm/kms.h"
#include "picture.h"
#include "presentation_record.h"
#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

using Feedback = PresentationRecord;

constexpr uint32_t kWidth = 320;
constexpr uint32_t kHeight = 240;

class Scanout : public testing::Test
{
protected:
	void SetUp() override { ASSERT_TRUE(server.ok()) << server.error(); }

	/* Configured fullscreen (or not), acked. */
	void setFullscreen(Window &window, bool fullscreen)
	{
		ASSERT_TRUE(test::setFullscreen(window, fullscreen))
			<< "no configure with fullscreen " << fullscreen;
	}

	/* Attaches buffer whole and commits; the frame's presentation feedback. */
	Feedback present(wl_surface *surface, wl_buffer *buffer)
	{
		Feedback feedback = presentAndRecord(client, surface, buffer);
		EXPECT_TRUE(feedback.presented || feedback.discarded);
		return feedback;
	}

	comp::RepaintStats stats()
	{
		return server.run([](comp::Server &s) { return s.repaintStats(); });
	}

	ServerRunner server;
	TestClient client{ server.socket() };
};

TEST_F(Scanout, FullscreenClientBufferIsTheFrame)
{
	Window window(client, "fullscreen");
	ASSERT_TRUE(mapFullscreen(window));
	ASSERT_EQ(window.configuredWidth(), int32_t(kWidth));
	ShmBuffer buffer(client.shm, kWidth, kHeight);
	buffer.fill(kRed);

	Feedback first = present(window.surface(), buffer.buffer());
	EXPECT_TRUE(first.presented);
	EXPECT_TRUE(first.zeroCopy());
	comp::RepaintStats before = stats();
	EXPECT_GE(before.scannedOut, 1u);

	/* The screen reads the client's memory itself: a change shows with no composition. */
	buffer.fillRect(100, 100, 8, 8, kBlue);
	Feedback second = present(window.surface(), buffer.buffer());
	EXPECT_TRUE(second.zeroCopy());
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(0, 0), kRed);
	EXPECT_EQ(shot.at(kWidth - 1, kHeight - 1), kRed);
	EXPECT_EQ(shot.at(103, 103), kBlue);
	comp::RepaintStats after = stats();
	EXPECT_EQ(after.rendered, before.rendered);
	EXPECT_GT(after.scannedOut, before.scannedOut);
}

TEST_F(Scanout, WindowedClientIsComposed)
{
	MappedWindow win(client, "windowed", 64, 48, kRed);
	ASSERT_TRUE(win.ok);
	Feedback feedback = present(win.window.surface(), win.buffer.buffer());
	EXPECT_TRUE(feedback.presented);
	EXPECT_FALSE(feedback.zeroCopy());
	EXPECT_EQ(stats().scannedOut, 0u);
	EXPECT_EQ(server.screenshot().at(100, 100), kBackground);
}

/* Only a buffer with nothing to blend can be the frame by itself. */
TEST_F(Scanout, TranslucentBufferNeedsAnOpaqueRegion)
{
	Window window(client, "argb");
	ASSERT_TRUE(mapFullscreen(window));
	ShmBuffer buffer(client.shm, kWidth, kHeight, WL_SHM_FORMAT_ARGB8888);
	buffer.fill(kGreen);
	EXPECT_FALSE(present(window.surface(), buffer.buffer()).zeroCopy());

	Proxy<wl_region> opaque(wl_compositor_create_region(client.compositor));
	wl_region_add(opaque, 0, 0, kWidth, kHeight);
	wl_surface_set_opaque_region(window.surface(), opaque);
	EXPECT_TRUE(present(window.surface(), buffer.buffer()).zeroCopy());

	/* A hole in the opaque region: what is below could show. */
	wl_region_subtract(opaque, 10, 10, 1, 1);
	wl_surface_set_opaque_region(window.surface(), opaque);
	EXPECT_FALSE(present(window.surface(), buffer.buffer()).zeroCopy());
}

TEST_F(Scanout, SurfaceAboveIsComposed)
{
	Window window(client, "covered");
	ASSERT_TRUE(mapFullscreen(window));
	ShmBuffer buffer(client.shm, kWidth, kHeight);
	buffer.fill(kRed);
	ASSERT_TRUE(present(window.surface(), buffer.buffer()).zeroCopy());

	/* A subsurface on top: the frame must be composed to show both. */
	Proxy<wl_surface> child(wl_compositor_create_surface(client.compositor));
	Proxy<wl_subsurface> sub(
		wl_subcompositor_get_subsurface(client.subcompositor, child, window.surface()));
	wl_subsurface_set_position(sub, 20, 30);
	wl_subsurface_set_desync(sub);
	ShmBuffer small(client.shm, 16, 16);
	small.fill(kGreen);
	wl_surface_attach(child, small.buffer(), 0, 0);
	wl_surface_damage_buffer(child, 0, 0, 16, 16);
	wl_surface_commit(child);
	Feedback composed = present(window.surface(), buffer.buffer());
	EXPECT_TRUE(composed.presented);
	EXPECT_FALSE(composed.zeroCopy());
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(25, 35), kGreen);
	EXPECT_EQ(shot.at(5, 5), kRed);

	/* Gone again: scanned out again. */
	wl_surface_attach(child, nullptr, 0, 0);
	wl_surface_commit(child);
	EXPECT_TRUE(present(window.surface(), buffer.buffer()).zeroCopy());
	EXPECT_EQ(server.screenshot().at(25, 35), kRed);
}

TEST_F(Scanout, CursorAboveIsComposed)
{
	client.bindInput();
	Window window(client, "cursor");
	ASSERT_TRUE(mapFullscreen(window));
	ShmBuffer buffer(client.shm, kWidth, kHeight);
	buffer.fill(kRed);
	ASSERT_TRUE(present(window.surface(), buffer.buffer()).zeroCopy());

	server.run([](comp::Server &s) { s.headlessBackend()->injectPointerMotion(50, 60); });
	ASSERT_TRUE(client.dispatchUntil([&] { return client.pointerFocus == window.surface(); }));
	Proxy<wl_surface> cursor(wl_compositor_create_surface(client.compositor));
	ShmBuffer image(client.shm, 8, 8);
	image.fill(kBlue);
	wl_pointer_set_cursor(client.pointer, client.lastSerial, cursor, 0, 0);
	wl_surface_attach(cursor, image.buffer(), 0, 0);
	wl_surface_damage_buffer(cursor, 0, 0, 8, 8);
	ASSERT_TRUE(client.commitAndWaitFrame(cursor));
	Feedback composed = present(window.surface(), buffer.buffer());
	EXPECT_FALSE(composed.zeroCopy());
	EXPECT_EQ(server.screenshot().at(52, 62), kBlue);

	/* Hidden cursor: the window alone again. */
	wl_pointer_set_cursor(client.pointer, client.lastSerial, nullptr, 0, 0);
	EXPECT_TRUE(present(window.surface(), buffer.buffer()).zeroCopy());
	EXPECT_EQ(server.screenshot().at(52, 62), kRed);
}

/*
 * Back and forth between scanout and composition: every commit's frame
 * comes, every feedback is presented, the screen always shows the last
 * buffer, and every buffer the client attached comes back released.
 */
TEST_F(Scanout, SwitchingLosesNoFrameAndReleasesEveryBuffer)
{
	Window window(client, "switch");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	const uint32_t colours[] = { kRed, kGreen, kBlue };
	std::vector<std::unique_ptr<ShmBuffer>> full, small;
	for (uint32_t colour : colours) {
		full.push_back(std::make_unique<ShmBuffer>(client.shm, kWidth, kHeight));
		full.back()->fill(colour);
		small.push_back(std::make_unique<ShmBuffer>(client.shm, 40, 30));
		small.back()->fill(colour);
	}
	int attached = 0;
	std::map<const ShmBuffer *, int> attaches;
	for (int round = 0; round < 4; round++) {
		bool fullscreen = round % 2 == 0;
		setFullscreen(window, fullscreen);
		auto &buffers = fullscreen ? full : small;
		for (size_t i = 0; i < buffers.size(); i++) {
			Feedback f = present(window.surface(), buffers[i]->buffer());
			attached++;
			attaches[buffers[i].get()]++;
			ASSERT_TRUE(f.presented) << "round " << round << " buffer " << i;
			EXPECT_EQ(f.zeroCopy(), fullscreen) << "round " << round << " buffer " << i;
			EXPECT_EQ(server.screenshot().at(1, 1), colours[i]) << "round " << round;
			/* The frame on screen is this buffer: it stays the client's to keep until replaced. */
			if (fullscreen) {
				ASSERT_TRUE(client.roundtrip());
				EXPECT_EQ(buffers[i]->releases(), attaches[buffers[i].get()] - 1)
					<< "round " << round << " buffer " << i << " released on screen";
			}
		}
	}
	comp::RepaintStats s = stats();
	EXPECT_GE(s.scannedOut, 6u);
	EXPECT_GE(s.rendered, 6u);

	/* The window goes: what it showed is released once a frame without it is shown. */
	wl_surface_attach(window.surface(), nullptr, 0, 0);
	wl_surface_commit(window.surface());
	ASSERT_TRUE(server.waitFrames(2));
	int released = 0;
	ASSERT_TRUE(client.dispatchUntil([&] {
		released = 0;
		for (auto *list : { &full, &small })
			for (auto &b : *list)
				released += b->releases();
		return released == attached;
	})) << released << " of " << attached << " attaches released";
	EXPECT_EQ(server.screenshot().at(1, 1), kBackground);
}

/* With direct scanout off, the same client is composed. */
TEST(ScanoutOff, FullscreenIsComposed)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.directScanout = false;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Window window(client, "off");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	xdg_toplevel_set_fullscreen(window.toplevel(), nullptr);
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ShmBuffer buffer(client.shm, kWidth, kHeight);
	buffer.fill(kGreen);
	ASSERT_TRUE(window.present(buffer.buffer(), kWidth, kHeight));
	ASSERT_TRUE(server.waitFrames(2));
	comp::RepaintStats s = server.run([](comp::Server &srv) { return srv.repaintStats(); });
	EXPECT_EQ(s.scannedOut, 0u);
	EXPECT_GE(s.rendered, 1u);
	EXPECT_EQ(server.screenshot().at(5, 5), kGreen);
}

/*
 * A plane's format list against a client buffer: an implicit modifier is
 * the driver's own layout (a display without modifiers, as bochs, gets
 * GBM buffers with one); an explicit one must be listed.
 */
TEST(ScanoutPlaneFormats, ImplicitModifierOfAListedFormatIsTaken)
{
	const std::vector<comp::FormatModifier> linearOnly = {
		{ DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR },
		{ DRM_FORMAT_BGRX8888, DRM_FORMAT_MOD_LINEAR },
	};
	EXPECT_TRUE(comp::kms::planeTakes(linearOnly, { DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR }));
	EXPECT_TRUE(comp::kms::planeTakes(linearOnly, { DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_INVALID }));
	EXPECT_FALSE(comp::kms::planeTakes(linearOnly, { DRM_FORMAT_ARGB8888, DRM_FORMAT_MOD_INVALID }));
	EXPECT_FALSE(comp::kms::planeTakes(linearOnly, { DRM_FORMAT_ARGB8888, DRM_FORMAT_MOD_LINEAR }));
	EXPECT_FALSE(comp::kms::planeTakes(linearOnly,
					   { DRM_FORMAT_XRGB8888, I915_FORMAT_MOD_X_TILED }));
	EXPECT_FALSE(comp::kms::planeTakes({}, { DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_INVALID }));
}

} /* namespace */
} /* namespace heapcomp::test */
