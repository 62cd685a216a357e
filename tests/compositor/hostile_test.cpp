/* SPDX-License-Identifier: MIT */
/*
 * Clients that send what no well-behaved client would: coordinates at the
 * ends of int32, regions built to be expensive, piles of requests that
 * cost the compositor memory. Whatever the offender gets (nothing, a
 * protocol error, a disconnect), the compositor keeps drawing for a
 * bystander; the sanitizer build aborts on any signed overflow.
 */
#include <climits>
#include <sys/mman.h>
#include <unistd.h>
#include <functional>

#include <gtest/gtest.h>

#include "bystander.h"
#include "fd_count.h"
#include "protocols/xdg_shell/xdg_surface.h"
#include "protocols/xdg_shell/xdg_toplevel.h"
#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

constexpr int32_t kMax = INT32_MAX;
constexpr int32_t kMin = INT32_MIN;

struct HostileCase {
	std::string name;
	std::function<void(TestClient &, ServerRunner &)> act;
	/* The wl_display error the offender must get, or 0 if none. */
	uint32_t displayError = 0;
};

wl_surface *newSurface(TestClient &c)
{
	return c.own(wl_compositor_create_surface(c.compositor));
}

/* A mapped toplevel with a 32x32 buffer; its wl_surface. */
struct Mapped {
	wl_surface *surface;
	xdg_surface *xdg;
	xdg_toplevel *toplevel;
};

Mapped mappedToplevel(TestClient &c)
{
	auto *window = c.own(std::make_unique<Window>(c, "offender"));
	EXPECT_TRUE(window->waitConfigure());
	window->ack();
	auto *buffer = c.own(std::make_unique<ShmBuffer>(c.shm, 32, 32));
	buffer->fill(0xffff0000);
	EXPECT_TRUE(window->present(buffer->buffer(), 32, 32));
	return { window->surface(), window->xdgSurface(), window->toplevel() };
}

/* A new buffer, moved by (dx, dy) with wl_surface.offset (attach's own must be 0 since v5). */
void attachNew(TestClient &c, wl_surface *s, int32_t w, int32_t h, int32_t dx = 0,
	       int32_t dy = 0)
{
	auto *buffer = c.own(std::make_unique<ShmBuffer>(c.shm, w, h));
	buffer->fill(0xff00ff00);
	wl_surface_attach(s, buffer->buffer(), 0, 0);
	wl_surface_offset(s, dx, dy);
	wl_surface_damage(s, kMin, kMin, kMax, kMax);
	wl_surface_damage_buffer(s, kMax, kMax, kMax, kMax);
	wl_surface_commit(s);
}

std::vector<HostileCase> hostileCases()
{
	std::vector<HostileCase> cases;
	cases.push_back({ "SubsurfacesAtTheEndsOfInt32", [](TestClient &c, ServerRunner &) {
		Mapped w = mappedToplevel(c);
		wl_surface *parent = w.surface;
		const int32_t positions[][2] = { { kMax, kMax }, { kMax, kMax }, { kMin, kMin },
						 { kMin, kMax }, { kMax, kMin } };
		for (const auto &p : positions) {
			wl_surface *child = newSurface(c);
			auto *sub = c.own(wl_subcompositor_get_subsurface(c.subcompositor, child,
									  parent));
			wl_subsurface_set_position(sub, p[0], p[1]);
			wl_subsurface_set_desync(sub);
			attachNew(c, child, 8, 8);
			parent = child;
		}
		wl_surface_commit(w.surface);
	} });
	cases.push_back({ "BufferOffsetsAccumulatePastInt32", [](TestClient &c, ServerRunner &) {
		Mapped w = mappedToplevel(c);
		for (int i = 0; i < 4; i++)
			attachNew(c, w.surface, 32, 32, kMax, kMax);
		for (int i = 0; i < 4; i++) {
			/* Twice before a commit: the pending offset adds up too. */
			wl_surface_offset(w.surface, kMin, kMin);
			wl_surface_offset(w.surface, kMin, kMax);
			wl_surface_commit(w.surface);
		}
		/* Whatever happened, the offender was not cut off for it. */
		EXPECT_TRUE(c.roundtrip());
	} });
	cases.push_back({ "WindowGeometryAtTheEnds", [](TestClient &c, ServerRunner &) {
		Mapped w = mappedToplevel(c);
		xdg_surface_set_window_geometry(w.xdg, kMax, kMax, kMax, kMax);
		wl_surface_commit(w.surface);
		xdg_surface_set_window_geometry(w.xdg, kMin, kMin, kMax, kMax);
		wl_surface_commit(w.surface);
		xdg_toplevel_set_min_size(w.toplevel, kMax, kMax);
		xdg_toplevel_set_max_size(w.toplevel, kMax, kMax);
		wl_surface_commit(w.surface);
	} });
	cases.push_back({ "WindowGeometryAtTheEndsThroughMaximize", [](TestClient &c, ServerRunner &) {
		/* Placed first, then filled and placed back, with the offset at either end. */
		auto *window = c.own(std::make_unique<Window>(c, "offender"));
		EXPECT_TRUE(window->waitConfigure());
		window->ack();
		xdg_surface_set_window_geometry(window->xdgSurface(), kMin, kMin, 32, 32);
		auto *buffer = c.own(std::make_unique<ShmBuffer>(c.shm, 32, 32));
		buffer->fill(0xffff0000);
		EXPECT_TRUE(window->present(buffer->buffer(), 32, 32));
		for (int32_t at : { kMax, kMin }) {
			xdg_toplevel_set_maximized(window->toplevel());
			c.roundtrip();
			window->ack();
			xdg_surface_set_window_geometry(window->xdgSurface(), at, at, 32, 32);
			wl_surface_commit(window->surface());
			xdg_toplevel_unset_maximized(window->toplevel());
			c.roundtrip();
			window->ack();
			wl_surface_commit(window->surface());
		}
		EXPECT_TRUE(c.roundtrip());
	} });
	cases.push_back({ "TransformedBufferDamageAtTheEnds", [](TestClient &c, ServerRunner &) {
		Mapped w = mappedToplevel(c);
		for (int32_t transform = 0; transform < 8; transform++) {
			wl_surface_set_buffer_transform(w.surface, transform);
			attachNew(c, w.surface, 32, 32);
			wl_surface_damage_buffer(w.surface, kMin, kMin, 1, 1);
			wl_surface_damage_buffer(w.surface, kMin, 0, kMax, 1);
			wl_surface_damage_buffer(w.surface, 0, kMin, 1, kMax);
			wl_surface_commit(w.surface);
		}
		EXPECT_TRUE(c.roundtrip());
	} });
	cases.push_back({ "PopupPositionerAtTheEnds", [](TestClient &c, ServerRunner &) {
		Mapped w = mappedToplevel(c);
		xdg_positioner *p = c.own(xdg_wm_base_create_positioner(c.wmBase));
		xdg_positioner_set_size(p, kMax, kMax);
		xdg_positioner_set_anchor_rect(p, kMax, kMax, kMax, kMax);
		xdg_positioner_set_offset(p, kMax, kMin);
		xdg_positioner_set_anchor(p, XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT);
		xdg_positioner_set_gravity(p, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT);
		xdg_positioner_set_constraint_adjustment(p, 0x3f);
		wl_surface *surface = newSurface(c);
		xdg_surface *xdg = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, surface));
		c.own(xdg_surface_get_popup(xdg, w.xdg, p));
		wl_surface_commit(surface);
		c.roundtrip();
		xdg_positioner_set_offset(p, kMin, kMax);
		xdg_positioner_set_anchor_rect(p, kMin, kMin, kMax, kMax);
		xdg_surface *xdg2 = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		c.own(xdg_surface_get_popup(xdg2, w.xdg, p));
	} });
	cases.push_back({ "RegionsAtTheEnds", [](TestClient &c, ServerRunner &) {
		Mapped w = mappedToplevel(c);
		wl_region *region = c.own(wl_compositor_create_region(c.compositor));
		wl_region_add(region, kMax, kMax, kMax, kMax);
		wl_region_add(region, kMin, kMin, kMax, kMax);
		wl_region_subtract(region, kMin, kMax, kMax, kMax);
		wl_region_add(region, 0, 0, kMax, kMax);
		wl_surface_set_opaque_region(w.surface, region);
		wl_surface_set_input_region(w.surface, region);
		wl_surface_commit(w.surface);
		EXPECT_TRUE(c.roundtrip());
	} });
	cases.push_back({ "ViewportDestinationAtTheEnds", [](TestClient &c, ServerRunner &) {
		Mapped w = mappedToplevel(c);
		wp_viewport *viewport = c.own(wp_viewporter_get_viewport(c.viewporter, w.surface));
		wp_viewport_set_destination(viewport, kMax, kMax);
		wl_surface_commit(w.surface);
		wl_surface_set_buffer_scale(w.surface, kMax);
		wl_surface_commit(w.surface);
	} });
	cases.push_back({ "SynchronizedOffsetsAccumulatePastInt32", [](TestClient &c, ServerRunner &) {
		Mapped w = mappedToplevel(c);
		wl_surface *child = newSurface(c);
		c.own(wl_subcompositor_get_subsurface(c.subcompositor, child, w.surface));
		/* Synchronized: each commit merges into a cache the parent never applies. */
		for (int i = 0; i < 4; i++)
			attachNew(c, child, 8, 8, kMax, kMin);
		for (int i = 0; i < 4; i++) {
			wl_surface_offset(child, kMax, kMax);
			wl_surface_commit(child);
		}
		wl_surface_commit(w.surface);
		EXPECT_TRUE(c.roundtrip());
	} });
	cases.push_back({ "RepeatedRegionRequestsCostNothing", [](TestClient &c, ServerRunner &) {
		/* Merged as they come: 20,000 requests are one rectangle, copied per commit. */
		Mapped w = mappedToplevel(c);
		wl_region *region = c.own(wl_compositor_create_region(c.compositor));
		for (int i = 0; i < 20000; i++) {
			wl_region_add(region, 0, 0, 32, 32);
			if (i % 1000 == 0)
				c.roundtrip();
		}
		for (int i = 0; i < 50; i++) {
			wl_surface_set_opaque_region(w.surface, region);
			wl_surface_set_input_region(w.surface, region);
			wl_surface_commit(w.surface);
		}
	} });
	cases.push_back({ "ThousandsOfDamageRects", [](TestClient &c, ServerRunner &) {
		Mapped w = mappedToplevel(c);
		wl_surface *child = newSurface(c);
		c.own(wl_subcompositor_get_subsurface(c.subcompositor, child, w.surface));
		for (int commit = 0; commit < 20; commit++) {
			for (int i = 0; i < 1000; i++) {
				wl_surface_damage(child, i, commit, 1, 1);
				wl_surface_damage_buffer(child, commit, i, 1, 1);
			}
			wl_surface_commit(child);
			c.roundtrip();
		}
		attachNew(c, child, 8, 8);
		wl_surface_commit(w.surface);
	} });
	cases.push_back({ "ARegionOfTooManyRectangles", [](TestClient &c, ServerRunner &) {
		/* A checkerboard cannot merge: 5,000 rectangles, over the default limit. */
		wl_region *region = c.own(wl_compositor_create_region(c.compositor));
		for (int y = 0; y < 100; y++)
			for (int x = y % 2; x < 100; x += 2)
				wl_region_add(region, x, y, 1, 1);
	}, WL_DISPLAY_ERROR_NO_MEMORY });
	cases.push_back({ "DmabufParamsHoardingFds", [](TestClient &c, ServerRunner &) {
		/* Each params object keeps the fd it was given until it is used. */
		ASSERT_TRUE(c.dmabuf);
		for (int i = 0; i < 600 && !c.error(); i++) {
			bufmgr::UniqueFd fd(memfd_create("hoarded", MFD_CLOEXEC));
			ASSERT_TRUE(fd);
			ASSERT_EQ(ftruncate(fd.get(), 4096), 0);
			auto *params = c.own(zwp_linux_dmabuf_v1_create_params(c.dmabuf));
			zwp_linux_buffer_params_v1_add(params, fd.get(), 0, 0, 64, 0, 0);
			/*
			 * libwayland-client flushes by itself every 28 fds; a flush
			 * after the disconnect would fail with EPIPE before the
			 * error is read. Flushing sooner keeps the offending
			 * request and the read of its error in one round trip.
			 */
			if (i % 16 == 0)
				c.roundtrip();
		}
	}, WL_DISPLAY_ERROR_NO_MEMORY });
	cases.push_back({ "ASelectionOfTooManyMimeTypes", [](TestClient &c, ServerRunner &) {
		auto *source = c.own(wl_data_device_manager_create_data_source(c.dataDeviceManager));
		for (int i = 0; i < 20000 && !c.error(); i++) {
			wl_data_source_offer(source, ("application/x-flood-" + std::to_string(i)).c_str());
			/* Flushed as it goes: the client's own buffer holds only so much. */
			if (i % 64 == 0)
				c.roundtrip();
		}
	}, WL_DISPLAY_ERROR_NO_MEMORY });
	cases.push_back({ "ObjectsBeyondTheLimit", [](TestClient &c, ServerRunner &) {
		/* Regions are the cheapest object to make; any kind counts. */
		const uint32_t limit = comp::ClientLimits().objects;
		for (uint32_t i = 0; i <= limit && !c.error(); i++) {
			c.own(wl_compositor_create_region(c.compositor));
			if (i % 1024 == 0)
				c.roundtrip();
		}
	}, WL_DISPLAY_ERROR_NO_MEMORY });
	cases.push_back({ "ShmPoolsBeyondTheMappingLimit", [](TestClient &c, ServerRunner &) {
		/* Sparse: the compositor maps what the client never filled. */
		constexpr int32_t kPool = INT32_MAX;
		bufmgr::UniqueFd fd(memfd_create("pools", MFD_CLOEXEC));
		ASSERT_EQ(ftruncate(fd.get(), kPool), 0);
		const uint64_t pools = (uint64_t(comp::ClientLimits().shmMib) << 20) / kPool + 1;
		for (uint32_t i = 0; i < pools && !c.error(); i++) {
			c.own(wl_shm_create_pool(c.shm, fd.get(), kPool));
			c.roundtrip();
		}
	}, WL_DISPLAY_ERROR_NO_MEMORY });
	cases.push_back({ "ShmPoolGrownBeyondTheMappingLimit", [](TestClient &c, ServerRunner &) {
		constexpr int32_t kPool = INT32_MAX;
		bufmgr::UniqueFd fd(memfd_create("pools", MFD_CLOEXEC));
		ASSERT_EQ(ftruncate(fd.get(), kPool), 0);
		/* Mapped up to 8 KiB short of the limit, then a 4 KiB pool grown by 1 byte too many. */
		const uint64_t max = uint64_t(comp::ClientLimits().shmMib) << 20;
		const uint64_t full = max / kPool - 1;
		for (uint32_t i = 0; i < full; i++)
			c.own(wl_shm_create_pool(c.shm, fd.get(), kPool));
		c.own(wl_shm_create_pool(c.shm, fd.get(), int32_t(max - full * kPool - 8192)));
		auto *small = c.own(wl_shm_create_pool(c.shm, fd.get(), 4096));
		wl_shm_pool_resize(small, 8192);
		ASSERT_TRUE(c.roundtrip()) << "refused at the limit";
		wl_shm_pool_resize(small, 8193);
	}, WL_DISPLAY_ERROR_NO_MEMORY });
	cases.push_back({ "ShmBufferWiderThanTheRendererDraws", [](TestClient &c, ServerRunner &) {
		const int32_t width = int32_t(comp::ClientLimits().bufferSize) + 1;
		bufmgr::UniqueFd fd(memfd_create("wide", MFD_CLOEXEC));
		ASSERT_EQ(ftruncate(fd.get(), width * 4), 0);
		auto *pool = c.own(wl_shm_create_pool(c.shm, fd.get(), width * 4));
		c.own(wl_shm_pool_create_buffer(pool, 0, width, 1, width * 4,
						WL_SHM_FORMAT_XRGB8888));
	}, WL_DISPLAY_ERROR_NO_MEMORY });
	cases.push_back({ "LargestBuffersOnManySurfaces", [](TestClient &c, ServerRunner &) {
		/* Sparse: what the compositor reads of it costs the client nothing. */
		const int32_t size = int32_t(comp::ClientLimits().bufferSize);
		const int32_t poolSize = size * size * 4;
		bufmgr::UniqueFd fd(memfd_create("largest", MFD_CLOEXEC));
		ASSERT_EQ(ftruncate(fd.get(), poolSize), 0);
		auto *pool = c.own(wl_shm_create_pool(c.shm, fd.get(), poolSize));
		wl_buffer *buffer = c.own(wl_shm_pool_create_buffer(pool, 0, size, size, size * 4,
								    WL_SHM_FORMAT_XRGB8888));
		for (int i = 0; i < 3; i++) {
			auto *window = c.own(std::make_unique<Window>(c, "largest"));
			ASSERT_TRUE(window->waitConfigure());
			window->ack();
			wl_surface_attach(window->surface(), buffer, 0, 0);
			wl_surface_damage_buffer(window->surface(), 0, 0, size, size);
			wl_surface_commit(window->surface());
		}
		EXPECT_TRUE(c.roundtrip());
	} });
	cases.push_back({ "FrameCallbacksPiledUp", [](TestClient &c, ServerRunner &) {
		wl_surface *surface = newSurface(c);
		for (int i = 0; i < 300; i++)
			c.own(wl_surface_frame(surface));
	}, WL_DISPLAY_ERROR_NO_MEMORY });
	cases.push_back({ "CursorHotspotsAtTheEnds", [](TestClient &c, ServerRunner &server) {
		c.bindInput();
		Mapped w = mappedToplevel(c);
		auto pointAt = [&](int32_t dx) {
			server.run([&](comp::Server &s) {
				comp::View *view = s.findView("offender");
				if (view)
					s.headlessBackend()->injectPointerMotion(view->x() + 8 + dx,
										 view->y() + 8);
			});
			c.roundtrip();
		};
		pointAt(0);
		ASSERT_EQ(c.pointerFocus, w.surface);
		wl_surface *cursor = newSurface(c);
		wl_pointer_set_cursor(c.pointer, c.lastSerial, cursor, kMax, kMin);
		c.roundtrip();
		ASSERT_FALSE(c.error());
		attachNew(c, cursor, 8, 8, kMin, kMax);
		attachNew(c, cursor, 8, 8, kMin, kMax);
		pointAt(1);
		wl_pointer_set_cursor(c.pointer, c.lastSerial, cursor, kMin, kMax);
		attachNew(c, cursor, 8, 8, kMax, kMin);
		pointAt(2);
		EXPECT_TRUE(c.roundtrip());
	} });
	return cases;
}

class HostileInput : public testing::TestWithParam<HostileCase>
{
};

TEST_P(HostileInput, TheCompositorKeepsServingOthers)
{
	const HostileCase &c = GetParam();
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();

	Bystander bystander(server);
	ASSERT_TRUE(bystander.ready());
	const int fds = countOpenFds();
	const size_t clients = server.run([](comp::Server &s) { return s.numClients(); });

	{
		TestClient offender(server.socket());
		ASSERT_TRUE(offender.connected());
		c.act(offender, server);
		if (c.displayError) {
			auto error = offender.expectError();
			ASSERT_TRUE(error) << c.name << ": no error";
			EXPECT_EQ(error->interface, "wl_display");
			EXPECT_EQ(error->code, c.displayError);
		}
		offender.roundtrip();
		/* Frames are drawn with whatever the offender left in the scene. */
		ASSERT_TRUE(server.drawFrames(2));
		(void)server.screenshot();
	}

	EXPECT_TRUE(bystander.stillServed());
	/* Nothing of the offender's is left behind. */
	ASSERT_TRUE(server.waitFrames(2));
	EXPECT_EQ(countOpenFds(), fds);
	EXPECT_EQ(server.run([](comp::Server &s) { return s.numClients(); }), clients);
}

INSTANTIATE_TEST_SUITE_P(Protocol, HostileInput, testing::ValuesIn(hostileCases()),
			 [](const testing::TestParamInfo<HostileCase> &info) {
				 return info.param.name;
			 });

} /* namespace */
} /* namespace heapcomp::test */

namespace heapcomp::test {
namespace {

/*
 * A client that asks for configures and never acks keeps the compositor's
 * record of them bounded; every serial it was sent stays ackable, each
 * only once.
 */
TEST(HostileConfigure, UnackedConfiguresStayBounded)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow win(client, "never acks", 64, 48, 0xff00ff00);
	ASSERT_TRUE(win.ok);

	std::vector<uint32_t> serials;
	for (int i = 0; i < 300; i++) {
		if (i % 2)
			xdg_toplevel_unset_maximized(win.window.toplevel());
		else
			xdg_toplevel_set_maximized(win.window.toplevel());
		ASSERT_TRUE(client.roundtrip());
		if (serials.empty() || serials.back() != win.window.configureSerial())
			serials.push_back(win.window.configureSerial());
	}
	ASSERT_GT(serials.size(), comp::XdgSurface::kMaxExactSerials * 4);
	auto kept = server.run([](comp::Server &s) {
		auto *toplevel = dynamic_cast<comp::XdgToplevel *>(s.findView("never acks"));
		return toplevel && toplevel->xdgSurface() ? toplevel->xdgSurface()->exactSerials()
							   : size_t(0);
	});
	EXPECT_GT(kept, 0u);
	EXPECT_LE(kept, comp::XdgSurface::kMaxExactSerials);

	/* The oldest is still valid, and so is the newest after it. */
	xdg_surface_ack_configure(win.window.xdgSurface(), serials.front());
	xdg_surface_ack_configure(win.window.xdgSurface(), serials[serials.size() / 2]);
	xdg_surface_ack_configure(win.window.xdgSurface(), serials.back());
	ASSERT_TRUE(client.roundtrip());
	EXPECT_FALSE(client.error());

	/* Acked already: invalid. */
	xdg_surface_ack_configure(win.window.xdgSurface(), serials.front());
	auto error = client.expectError();
	ASSERT_TRUE(error);
	EXPECT_EQ(error->interface, "xdg_surface");
	EXPECT_EQ(error->code, uint32_t(XDG_SURFACE_ERROR_INVALID_SERIAL));
}

} /* namespace */
} /* namespace heapcomp::test */
