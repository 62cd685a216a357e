/* SPDX-License-Identifier: MIT */
/*
 * Bad input: every request with arguments the protocol forbids gets the
 * error its XML names; that client is disconnected, a bystander keeps
 * running, and nothing the offender owned stays behind.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bufmgr/manager.h>
#include <bufmgr/stats.h>

#include "bystander.h"
#include "fd_count.h"
#include "render/renderer_choice.h"
#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

struct ErrorCase {
	std::string name;
	/*
	 * Empty when the error names an object the client destroyed itself:
	 * libwayland-client then reports the code without the interface.
	 */
	std::string interface;
	uint32_t code;
	std::function<void(TestClient &)> provoke;
};

/* A memfd of `size` bytes: lseek() knows its size, but it is no dma-buf. */
bufmgr::UniqueFd sizedMemfd(size_t size)
{
	bufmgr::UniqueFd fd(memfd_create("not-a-dmabuf", MFD_CLOEXEC));
	if (fd && ftruncate(fd.get(), off_t(size)) < 0)
		fd.reset();
	return fd;
}

zwp_linux_buffer_params_v1 *paramsWithPlane(TestClient &c, size_t size, uint32_t offset,
					    uint32_t stride, uint32_t plane = 0,
					    uint64_t modifier = DRM_FORMAT_MOD_LINEAR)
{
	zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(c.dmabuf);
	bufmgr::UniqueFd fd = sizedMemfd(size);
	zwp_linux_buffer_params_v1_add(params, fd.get(), plane, offset, stride,
				       uint32_t(modifier >> 32), uint32_t(modifier));
	return params;
}

/* A wl_shm_pool of `size` bytes over a memfd as large, kept by the client. */
wl_shm_pool *shmPool(TestClient &c, int32_t size)
{
	bufmgr::UniqueFd fd = sizedMemfd(size_t(std::max(size, 0)));
	return c.own(wl_shm_create_pool(c.shm, fd.get(), size));
}

/* Makes a buffer with these arguments in a new pool of poolSize bytes. */
std::function<void(TestClient &)> badBuffer(int32_t poolSize, int32_t offset, int32_t width,
					    int32_t height, int32_t stride,
					    uint32_t format = WL_SHM_FORMAT_XRGB8888)
{
	return [=](TestClient &c) {
		c.own(wl_shm_pool_create_buffer(shmPool(c, poolSize), offset, width, height,
						stride, format));
	};
}

/* A surface the client keeps until it disconnects. */
wl_surface *newSurface(TestClient &c)
{
	return c.own(wl_compositor_create_surface(c.compositor));
}

/* A toplevel that has been configured and acked but has no buffer. */
struct Configured {
	wl_surface *surface;
	xdg_surface *xdg;
	xdg_toplevel *toplevel;
};

Configured configuredToplevel(TestClient &c)
{
	Configured w;
	w.surface = newSurface(c);
	w.xdg = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, w.surface));
	struct Serial {
		uint32_t serial = 0;
		bool got = false;
	};
	static Serial serial;
	serial = {};
	static const xdg_surface_listener listener = {
		.configure = [](void *, xdg_surface *, uint32_t s) {
			serial.serial = s;
			serial.got = true;
		},
	};
	xdg_surface_add_listener(w.xdg, &listener, nullptr);
	w.toplevel = c.own(xdg_surface_get_toplevel(w.xdg));
	wl_surface_commit(w.surface);
	c.dispatchUntil([&] { return serial.got; });
	xdg_surface_ack_configure(w.xdg, serial.serial);
	return w;
}

/* Attaches a new w x h buffer to s and commits: state set before applies. */
void commitNewBuffer(TestClient &c, wl_surface *s, int32_t w, int32_t h)
{
	ShmBuffer *buffer = c.own(std::make_unique<ShmBuffer>(c.shm, w, h));
	wl_surface_attach(s, buffer->buffer(), 0, 0);
	wl_surface_commit(s);
}

xdg_positioner *completePositioner(TestClient &c)
{
	xdg_positioner *p = c.own(xdg_wm_base_create_positioner(c.wmBase));
	xdg_positioner_set_size(p, 10, 10);
	xdg_positioner_set_anchor_rect(p, 0, 0, 1, 1);
	return p;
}

std::vector<ErrorCase> errorCases()
{
	std::vector<ErrorCase> cases;
	auto add = [&](std::string name, std::string iface, uint32_t code,
		       std::function<void(TestClient &)> f) {
		cases.push_back({ std::move(name), std::move(iface), code, std::move(f) });
	};

	/* wl_surface */
	add("SurfaceInvalidScale", "wl_surface", WL_SURFACE_ERROR_INVALID_SCALE, [](TestClient &c) {
		wl_surface_set_buffer_scale(newSurface(c), 0);
	});
	add("SurfaceNegativeScale", "wl_surface", WL_SURFACE_ERROR_INVALID_SCALE, [](TestClient &c) {
		wl_surface_set_buffer_scale(newSurface(c), -2);
	});
	add("SurfaceInvalidTransform", "wl_surface", WL_SURFACE_ERROR_INVALID_TRANSFORM,
	    [](TestClient &c) {
		wl_surface_set_buffer_transform(newSurface(c), 8);
	});
	add("SurfaceNegativeTransform", "wl_surface", WL_SURFACE_ERROR_INVALID_TRANSFORM,
	    [](TestClient &c) {
		wl_surface_set_buffer_transform(newSurface(c), -1);
	});
	add("SurfaceInvalidOffset", "wl_surface", WL_SURFACE_ERROR_INVALID_OFFSET, [](TestClient &c) {
		ShmBuffer *buffer = c.own(std::make_unique<ShmBuffer>(c.shm, 4, 4));
		wl_surface_attach(newSurface(c), buffer->buffer(), 1, 1);
	});

	add("SurfaceSizeNotMultipleOfScale", "wl_surface", WL_SURFACE_ERROR_INVALID_SIZE,
	    [](TestClient &c) {
		wl_surface *surface = newSurface(c);
		wl_surface_set_buffer_scale(surface, 2);
		commitNewBuffer(c, surface, 5, 4);
	});
	/* The committed buffer stays; the new scale alone makes it invalid. */
	add("SurfaceScaleChangeInvalidatesSize", "wl_surface", WL_SURFACE_ERROR_INVALID_SIZE,
	    [](TestClient &c) {
		wl_surface *surface = newSurface(c);
		commitNewBuffer(c, surface, 4, 4);
		wl_surface_set_buffer_scale(surface, 3);
		wl_surface_commit(surface);
	});

	/* wl_shm: every buffer is checked at create_buffer, against its pool. */
	const uint32_t invalidStride = WL_SHM_ERROR_INVALID_STRIDE;
	add("ShmInvalidStride", "wl_shm_pool", invalidStride, badBuffer(4096, 0, 16, 16, 8));
	/* Rows of 16 pixels of 4 bytes need 64; 32 fits the pool at any height. */
	add("ShmStrideBelowRowBytes", "wl_shm_pool", invalidStride, badBuffer(4096, 0, 16, 4, 32));
	/* RGB565 has 2 bytes per pixel: 16 pixels need 32. */
	add("ShmStrideBelowRowBytesOf565", "wl_shm_pool", invalidStride,
	    badBuffer(4096, 0, 16, 4, 30, WL_SHM_FORMAT_RGB565));
	add("ShmZeroWidth", "wl_shm_pool", invalidStride, badBuffer(4096, 0, 0, 4, 64));
	add("ShmNegativeHeight", "wl_shm_pool", invalidStride, badBuffer(4096, 0, 16, -4, 64));
	add("ShmNegativeOffset", "wl_shm_pool", invalidStride, badBuffer(4096, -64, 16, 4, 64));
	/* 16x17 rows of 64 bytes: one row more than the pool holds. */
	add("ShmBufferBeyondPool", "wl_shm_pool", invalidStride, badBuffer(1024, 0, 16, 17, 64));
	add("ShmOffsetPushesBufferBeyondPool", "wl_shm_pool", invalidStride,
	    badBuffer(1024, 4, 16, 16, 64));
	/* 2^30 x 2^6 wraps to 0 in 32 bits. */
	add("ShmStrideTimesHeightOverflows", "wl_shm_pool", invalidStride,
	    badBuffer(4096, 0, 16, 0x40, 0x40000000));
	/* Offset + size wraps to a negative number in 32 bits. */
	add("ShmOffsetPlusSizeOverflows", "wl_shm_pool", invalidStride,
	    badBuffer(4096, 0x7fffff00, 16, 16, 64));
	add("ShmInvalidFormat", "wl_shm_pool", WL_SHM_ERROR_INVALID_FORMAT,
	    badBuffer(4096, 0, 4, 4, 16, 0x12345678));
	add("ShmZeroPoolSize", "wl_shm", invalidStride, [](TestClient &c) {
		shmPool(c, 0);
	});
	add("ShmNegativePoolSize", "wl_shm", invalidStride, [](TestClient &c) {
		bufmgr::UniqueFd fd = sizedMemfd(4096);
		c.own(wl_shm_create_pool(c.shm, fd.get(), -4096));
	});
	add("ShmPoolShrinks", "wl_shm_pool", invalidStride, [](TestClient &c) {
		wl_shm_pool *pool = shmPool(c, 4096);
		wl_shm_pool_resize(pool, 4096);
		wl_shm_pool_resize(pool, 2048);
	});
	add("ShmPoolOfAPipe", "wl_shm", WL_SHM_ERROR_INVALID_FD, [](TestClient &c) {
		int fds[2];
		if (pipe2(fds, O_CLOEXEC) < 0)
			return;
		bufmgr::UniqueFd read(fds[0]), write(fds[1]);
		c.own(wl_shm_create_pool(c.shm, read.get(), 4096));
	});
	/* A character device without mmap. */
	add("ShmPoolOfDevNull", "wl_shm", WL_SHM_ERROR_INVALID_FD, [](TestClient &c) {
		bufmgr::UniqueFd fd(open("/dev/null", O_RDWR | O_CLOEXEC));
		c.own(wl_shm_create_pool(c.shm, fd.get(), 4096));
	});

	/* A pool shrunk under the compositor: its read faults, and the fault is caught. */
	add("ShmTruncatedPool", "wl_buffer", WL_SHM_ERROR_INVALID_FD, [](TestClient &c) {
		bufmgr::UniqueFd fd = sizedMemfd(64 * 64 * 4);
		wl_shm_pool *pool = c.own(wl_shm_create_pool(c.shm, fd.get(), 64 * 64 * 4));
		wl_buffer *buffer = c.own(wl_shm_pool_create_buffer(pool, 0, 64, 64, 256,
								    WL_SHM_FORMAT_XRGB8888));
		c.roundtrip();
		if (ftruncate(fd.get(), 0) < 0)
			return;
		wl_surface *s = newSurface(c);
		wl_surface_attach(s, buffer, 0, 0);
		wl_surface_damage_buffer(s, 0, 0, 64, 64);
		wl_surface_commit(s);
	});

	/* wl_subcompositor, wl_subsurface */
	add("SubsurfaceOfItself", "wl_subcompositor", WL_SUBCOMPOSITOR_ERROR_BAD_SURFACE,
	    [](TestClient &c) {
		wl_surface *s = newSurface(c);
		c.own(wl_subcompositor_get_subsurface(c.subcompositor, s, s));
	});
	add("SubsurfaceCycle", "wl_subcompositor", WL_SUBCOMPOSITOR_ERROR_BAD_SURFACE,
	    [](TestClient &c) {
		wl_surface *a = newSurface(c);
		wl_surface *b = newSurface(c);
		c.own(wl_subcompositor_get_subsurface(c.subcompositor, b, a));
		c.own(wl_subcompositor_get_subsurface(c.subcompositor, a, b));
	});
	add("SubsurfaceWithOtherRole", "wl_subcompositor", WL_SUBCOMPOSITOR_ERROR_BAD_SURFACE,
	    [](TestClient &c) {
		wl_surface *s = newSurface(c);
		c.own(xdg_wm_base_get_xdg_surface(c.wmBase, s));
		c.own(wl_subcompositor_get_subsurface(c.subcompositor, s, newSurface(c)));
	});
	add("SubsurfacePlaceAboveStranger", "wl_subsurface", WL_SUBSURFACE_ERROR_BAD_SURFACE,
	    [](TestClient &c) {
		wl_surface *parent = newSurface(c);
		wl_subsurface *sub = c.own(wl_subcompositor_get_subsurface(
			c.subcompositor, newSurface(c), parent));
		wl_subsurface_place_above(sub, newSurface(c));
	});

	/* xdg_wm_base */
	add("XdgRoleTaken", "xdg_wm_base", XDG_WM_BASE_ERROR_ROLE, [](TestClient &c) {
		wl_surface *s = newSurface(c);
		c.own(wl_subcompositor_get_subsurface(c.subcompositor, s, newSurface(c)));
		c.own(xdg_wm_base_get_xdg_surface(c.wmBase, s));
	});
	add("XdgDefunctSurfaces", "", XDG_WM_BASE_ERROR_DEFUNCT_SURFACES,
	    [](TestClient &c) {
		c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		c.wmBase.reset();
	});
	add("XdgInvalidPositioner", "xdg_wm_base", XDG_WM_BASE_ERROR_INVALID_POSITIONER,
	    [](TestClient &c) {
		Configured parent = configuredToplevel(c);
		xdg_surface *popup = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		xdg_positioner *positioner = c.own(xdg_wm_base_create_positioner(c.wmBase));
		c.own(xdg_surface_get_popup(popup, parent.xdg, positioner));
	});
	add("XdgPopupWithoutParent", "xdg_wm_base", XDG_WM_BASE_ERROR_INVALID_POPUP_PARENT,
	    [](TestClient &c) {
		xdg_surface *popup = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		c.own(xdg_surface_get_popup(popup, nullptr, completePositioner(c)));
	});
	add("XdgSurfaceWithBuffer", "xdg_wm_base", XDG_WM_BASE_ERROR_INVALID_SURFACE_STATE,
	    [](TestClient &c) {
		wl_surface *s = newSurface(c);
		commitNewBuffer(c, s, 4, 4);
		c.own(xdg_wm_base_get_xdg_surface(c.wmBase, s));
	});
	add("XdgNotTheTopmostPopup", "xdg_wm_base", XDG_WM_BASE_ERROR_NOT_THE_TOPMOST_POPUP,
	    [](TestClient &c) {
		Configured parent = configuredToplevel(c);
		xdg_surface *first = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		xdg_popup *popup = xdg_surface_get_popup(first, parent.xdg, completePositioner(c));
		xdg_surface *second = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		c.own(xdg_surface_get_popup(second, first, completePositioner(c)));
		xdg_popup_destroy(popup);
	});

	/* Grabs nest along grabbing popups only. */
	add("XdgGrabAboveANonGrabbingPopup", "xdg_popup", XDG_POPUP_ERROR_INVALID_GRAB,
	    [](TestClient &c) {
		Configured parent = configuredToplevel(c);
		xdg_surface *tooltip = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		c.own(xdg_surface_get_popup(tooltip, parent.xdg, completePositioner(c)));
		xdg_surface *menu = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		xdg_popup *popup = c.own(xdg_surface_get_popup(menu, tooltip, completePositioner(c)));
		xdg_popup_grab(popup, c.seat, 0);
	});

	/* xdg_positioner */
	add("PositionerZeroSize", "xdg_positioner", XDG_POSITIONER_ERROR_INVALID_INPUT,
	    [](TestClient &c) {
		xdg_positioner_set_size(c.own(xdg_wm_base_create_positioner(c.wmBase)), 0, 10);
	});
	add("PositionerNegativeAnchorRect", "xdg_positioner", XDG_POSITIONER_ERROR_INVALID_INPUT,
	    [](TestClient &c) {
		xdg_positioner *positioner = c.own(xdg_wm_base_create_positioner(c.wmBase));
		xdg_positioner_set_anchor_rect(positioner, 0, 0, -1, 5);
	});
	add("PositionerBadAnchor", "xdg_positioner", XDG_POSITIONER_ERROR_INVALID_INPUT,
	    [](TestClient &c) {
		xdg_positioner_set_anchor(c.own(xdg_wm_base_create_positioner(c.wmBase)), 42);
	});

	/* xdg_surface */
	add("XdgNotConstructed", "xdg_surface", XDG_SURFACE_ERROR_NOT_CONSTRUCTED,
	    [](TestClient &c) {
		wl_surface *s = newSurface(c);
		c.own(xdg_wm_base_get_xdg_surface(c.wmBase, s));
		wl_surface_commit(s);
	});
	add("XdgAlreadyConstructed", "xdg_surface", XDG_SURFACE_ERROR_ALREADY_CONSTRUCTED,
	    [](TestClient &c) {
		xdg_surface *x = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		c.own(xdg_surface_get_toplevel(x));
		c.own(xdg_surface_get_toplevel(x));
	});
	add("XdgUnconfiguredBuffer", "xdg_surface", XDG_SURFACE_ERROR_UNCONFIGURED_BUFFER,
	    [](TestClient &c) {
		wl_surface *s = newSurface(c);
		xdg_surface *x = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, s));
		c.own(xdg_surface_get_toplevel(x));
		commitNewBuffer(c, s, 4, 4);
	});
	add("XdgInvalidSerial", "xdg_surface", XDG_SURFACE_ERROR_INVALID_SERIAL, [](TestClient &c) {
		xdg_surface *x = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		c.own(xdg_surface_get_toplevel(x));
		xdg_surface_ack_configure(x, 0xdeadbeef);
	});
	add("XdgInvalidGeometry", "xdg_surface", XDG_SURFACE_ERROR_INVALID_SIZE, [](TestClient &c) {
		xdg_surface *x = c.own(xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c)));
		xdg_surface_set_window_geometry(x, 0, 0, 0, 10);
	});
	add("XdgDefunctRoleObject", "", XDG_SURFACE_ERROR_DEFUNCT_ROLE_OBJECT,
	    [](TestClient &c) {
		xdg_surface *x = xdg_wm_base_get_xdg_surface(c.wmBase, newSurface(c));
		c.own(xdg_surface_get_toplevel(x));
		xdg_surface_destroy(x);
	});

	/* xdg_toplevel */
	add("ToplevelNegativeMinSize", "xdg_toplevel", XDG_TOPLEVEL_ERROR_INVALID_SIZE,
	    [](TestClient &c) {
		Configured w = configuredToplevel(c);
		xdg_toplevel_set_min_size(w.toplevel, -1, 10);
	});
	add("ToplevelMaxBelowMin", "xdg_toplevel", XDG_TOPLEVEL_ERROR_INVALID_SIZE,
	    [](TestClient &c) {
		Configured w = configuredToplevel(c);
		xdg_toplevel_set_min_size(w.toplevel, 100, 100);
		xdg_toplevel_set_max_size(w.toplevel, 50, 50);
		/* Checked at the commit, which takes both. */
		wl_surface_commit(w.surface);
	});
	add("ToplevelOwnParent", "xdg_toplevel", XDG_TOPLEVEL_ERROR_INVALID_PARENT,
	    [](TestClient &c) {
		Configured w = configuredToplevel(c);
		xdg_toplevel_set_parent(w.toplevel, w.toplevel);
	});
	add("ToplevelBadResizeEdge", "xdg_toplevel", XDG_TOPLEVEL_ERROR_INVALID_RESIZE_EDGE,
	    [](TestClient &c) {
		Configured w = configuredToplevel(c);
		xdg_toplevel_resize(w.toplevel, c.seat, 0, 3);
	});

	/* wp_viewporter, wp_viewport */
	add("ViewportExists", "wp_viewporter", WP_VIEWPORTER_ERROR_VIEWPORT_EXISTS,
	    [](TestClient &c) {
		wl_surface *s = newSurface(c);
		c.own(wp_viewporter_get_viewport(c.viewporter, s));
		c.own(wp_viewporter_get_viewport(c.viewporter, s));
	});
	add("ViewportBadSource", "wp_viewport", WP_VIEWPORT_ERROR_BAD_VALUE, [](TestClient &c) {
		wp_viewport *v = c.own(wp_viewporter_get_viewport(c.viewporter, newSurface(c)));
		wp_viewport_set_source(v, wl_fixed_from_int(-5), 0, wl_fixed_from_int(4),
				       wl_fixed_from_int(4));
	});
	add("ViewportBadDestination", "wp_viewport", WP_VIEWPORT_ERROR_BAD_VALUE,
	    [](TestClient &c) {
		wp_viewport *v = c.own(wp_viewporter_get_viewport(c.viewporter, newSurface(c)));
		wp_viewport_set_destination(v, 0, 5);
	});
	add("ViewportFractionalSizeWithoutDestination", "wp_viewport", WP_VIEWPORT_ERROR_BAD_SIZE,
	    [](TestClient &c) {
		wl_surface *s = newSurface(c);
		wp_viewport *v = c.own(wp_viewporter_get_viewport(c.viewporter, s));
		wp_viewport_set_source(v, 0, 0, wl_fixed_from_double(2.5), wl_fixed_from_int(2));
		wl_surface_commit(s);
	});
	add("ViewportOutOfBuffer", "wp_viewport", WP_VIEWPORT_ERROR_OUT_OF_BUFFER,
	    [](TestClient &c) {
		wl_surface *s = newSurface(c);
		wp_viewport *v = c.own(wp_viewporter_get_viewport(c.viewporter, s));
		wp_viewport_set_source(v, wl_fixed_from_int(4), 0, wl_fixed_from_int(8),
				       wl_fixed_from_int(8));
		commitNewBuffer(c, s, 8, 8);
	});
	/* 8x4 turned a quarter is 4 wide: a source 8 wide is outside it. */
	add("ViewportOutOfTransformedBuffer", "wp_viewport", WP_VIEWPORT_ERROR_OUT_OF_BUFFER,
	    [](TestClient &c) {
		wl_surface *s = newSurface(c);
		wp_viewport *v = c.own(wp_viewporter_get_viewport(c.viewporter, s));
		wp_viewport_set_source(v, 0, 0, wl_fixed_from_int(8), wl_fixed_from_int(4));
		wl_surface_set_buffer_transform(s, WL_OUTPUT_TRANSFORM_90);
		commitNewBuffer(c, s, 8, 4);
	});
	add("ViewportNoSurface", "wp_viewport", WP_VIEWPORT_ERROR_NO_SURFACE, [](TestClient &c) {
		wl_surface *s = wl_compositor_create_surface(c.compositor);
		wp_viewport *v = c.own(wp_viewporter_get_viewport(c.viewporter, s));
		wl_surface_destroy(s);
		wp_viewport_set_destination(v, 4, 4);
	});

	/* wl_seat, wl_pointer */
	add("SeatNoTouch", "wl_seat", WL_SEAT_ERROR_MISSING_CAPABILITY, [](TestClient &c) {
		c.own(wl_seat_get_touch(c.seat));
	});
	add("CursorWithOtherRole", "wl_pointer", WL_POINTER_ERROR_ROLE, [](TestClient &c) {
		wl_surface *s = newSurface(c);
		c.own(xdg_wm_base_get_xdg_surface(c.wmBase, s));
		wl_pointer_set_cursor(c.own(wl_seat_get_pointer(c.seat)), 0, s, 0, 0);
	});

	/* wl_data_device, wl_data_source */
	add("SelectionFromDragSource", "wl_data_source", WL_DATA_SOURCE_ERROR_INVALID_SOURCE,
	    [](TestClient &c) {
		wl_data_source *source = c.own(wl_data_device_manager_create_data_source(
			c.dataDeviceManager));
		wl_data_source_set_actions(source, WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY);
		wl_data_device *device = c.own(wl_data_device_manager_get_data_device(
			c.dataDeviceManager, c.seat));
		wl_data_device_set_selection(device, source, 0);
	});
	add("SourceBadActionMask", "wl_data_source", WL_DATA_SOURCE_ERROR_INVALID_ACTION_MASK,
	    [](TestClient &c) {
		wl_data_source *source = c.own(wl_data_device_manager_create_data_source(
			c.dataDeviceManager));
		wl_data_source_set_actions(source, 0x80);
	});
	add("DragIconWithRole", "wl_data_device", WL_DATA_DEVICE_ERROR_ROLE, [](TestClient &c) {
		wl_surface *icon = newSurface(c);
		c.own(xdg_wm_base_get_xdg_surface(c.wmBase, icon));
		wl_data_device *device = c.own(wl_data_device_manager_get_data_device(
			c.dataDeviceManager, c.seat));
		wl_data_device_start_drag(device, nullptr, newSurface(c), icon, 0);
	});

	/* zwp_linux_buffer_params_v1: every check before the import. */
	const std::string params = "zwp_linux_buffer_params_v1";
	add("DmabufPlaneIndex", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_IDX,
	    [](TestClient &c) { c.own(paramsWithPlane(c, 4096, 0, 64, 4)); });
	add("DmabufPlaneSet", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_SET, [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 64));
		bufmgr::UniqueFd fd = sizedMemfd(4096);
		zwp_linux_buffer_params_v1_add(p, fd.get(), 0, 0, 64, 0, 0);
	});
	add("DmabufAlreadyUsed", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 64));
		zwp_linux_buffer_params_v1_create(p, 16, 16, DRM_FORMAT_XRGB8888, 0);
		zwp_linux_buffer_params_v1_create(p, 16, 16, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufAddAfterUse", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 64));
		zwp_linux_buffer_params_v1_create(p, 16, 16, DRM_FORMAT_XRGB8888, 0);
		bufmgr::UniqueFd fd = sizedMemfd(4096);
		zwp_linux_buffer_params_v1_add(p, fd.get(), 1, 0, 64, 0, 0);
	});
	add("DmabufNoPlanes", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(zwp_linux_dmabuf_v1_create_params(c.dmabuf));
		zwp_linux_buffer_params_v1_create(p, 16, 16, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufPlaneGap", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 64, 1));
		zwp_linux_buffer_params_v1_create(p, 16, 16, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufTooManyPlanes", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 64));
		bufmgr::UniqueFd fd = sizedMemfd(4096);
		zwp_linux_buffer_params_v1_add(p, fd.get(), 1, 0, 64, 0, 0);
		zwp_linux_buffer_params_v1_create(p, 16, 16, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufUnknownFormat", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 64));
		zwp_linux_buffer_params_v1_create(p, 16, 16, 0x20202020, 0);
	});
	add("DmabufUnsupportedModifier", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 64, 0,
								I915_FORMAT_MOD_X_TILED));
		zwp_linux_buffer_params_v1_create(p, 16, 16, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufZeroWidth", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_DIMENSIONS,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 64));
		zwp_linux_buffer_params_v1_create(p, 0, 16, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufOffsetBeyondBuffer", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 8192, 64));
		zwp_linux_buffer_params_v1_create(p, 16, 16, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufRowsBeyondBuffer", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 64));
		zwp_linux_buffer_params_v1_create(p, 16, 65, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufStrideTooSmall", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 32));
		zwp_linux_buffer_params_v1_create(p, 16, 16, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufStrideTimesHeightOverflows", params,
	    ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS, [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 0x10000000));
		zwp_linux_buffer_params_v1_create(p, 16, 0x100, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufOffsetPlusStrideOverflows", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0xffffff00, 0x1000));
		zwp_linux_buffer_params_v1_create(p, 16, 1, DRM_FORMAT_XRGB8888, 0);
	});
	add("DmabufImmediateNotADmabuf", params, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
	    [](TestClient &c) {
		zwp_linux_buffer_params_v1 *p = c.own(paramsWithPlane(c, 4096, 0, 64));
		c.own(zwp_linux_buffer_params_v1_create_immed(p, 16, 16, DRM_FORMAT_XRGB8888, 0));
	});
	return cases;
}

class BadInput : public testing::TestWithParam<ErrorCase>
{
};

TEST_P(BadInput, ProtocolErrorDisconnectsOnlyTheOffender)
{
	const ErrorCase &c = GetParam();
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();

	Bystander bystander(server);
	ASSERT_TRUE(bystander.ready());
	int fds = countOpenFds();
	size_t clients = server.run([](comp::Server &s) { return s.numClients(); });

	{
		TestClient offender(server.socket());
		ASSERT_TRUE(offender.connected());
		c.provoke(offender);
		auto error = offender.expectError();
		ASSERT_TRUE(error) << c.name << ": no protocol error";
		EXPECT_EQ(error->interface, c.interface);
		EXPECT_EQ(error->code, c.code);
	}

	EXPECT_TRUE(bystander.stillServed());

	/*
	 * Nothing of the offender's is left: the fds it sent (shm pools,
	 * dma-buf planes) are closed with its objects.
	 */
	ASSERT_TRUE(server.waitFrames(2));
	EXPECT_EQ(countOpenFds(), fds);
	EXPECT_EQ(server.run([](comp::Server &s) { return s.numClients(); }), clients);
}

INSTANTIATE_TEST_SUITE_P(Protocol, BadInput, testing::ValuesIn(errorCases()),
			 [](const testing::TestParamInfo<ErrorCase> &info) { return info.param.name; });

/*
 * Stand-in dma-bufs for a host without exporters: every fd number below
 * kFds has an fdinfo saying "udmabuf, 4096 bytes", so the compositor's
 * exporter check takes a 4096-byte memfd for a dma-buf. The renderer then
 * refuses it (no DMA_BUF_IOCTL_SYNC on a memfd): the import path runs to
 * its end, with the buffer counted and dropped. The VM tests send real ones.
 */
class StandInDmabufs
{
public:
	static constexpr int kFds = 1024;
	static constexpr uint64_t kSize = 4096;

	StandInDmabufs()
	{
		char dir[] = "/tmp/heapcomp-fdinfo-XXXXXX";
		if (!mkdtemp(dir))
			return;
		root_ = dir;
		std::filesystem::path fdinfo = root_ / "self" / "fdinfo";
		std::filesystem::create_directories(fdinfo);
		for (int fd = 0; fd < kFds; fd++) {
			std::ofstream(fdinfo / std::to_string(fd))
				<< "pos:\t0\nflags:\t02\nmnt_id:\t1\nino:\t" << fd + 1
				<< "\nsize:\t" << kSize << "\ncount:\t1\nexp_name:\tudmabuf\n";
		}
	}
	~StandInDmabufs()
	{
		std::error_code ignored;
		if (!root_.empty())
			std::filesystem::remove_all(root_, ignored);
	}

	/* For SystemPaths::procDir. */
	std::string procDir() const { return root_.string(); }

private:
	std::filesystem::path root_;
};

/* What bufmgr's stats count of client dma-bufs, every exporter together. */
bufmgr::SourceSnapshot clientDmabufs(comp::Server &server)
{
	bufmgr::SourceSnapshot total;
	for (const auto &source : server.bufferManager().stats().snapshot().sources) {
		if (source.source.rfind("client:", 0) != 0)
			continue;
		total.liveBuffers += source.liveBuffers;
		total.liveBytes += source.liveBytes;
		total.peakBuffers += source.peakBuffers;
		total.imports += source.imports;
		total.importReleases += source.importReleases;
	}
	return total;
}

enum class CreateOutcome { Created, Failed, NoAnswer };

/*
 * zwp_linux_buffer_params_v1.create (not immediate) of a 16x16 XRGB8888
 * buffer on one plane of size bytes, rows stride apart: what the
 * compositor answered. A created buffer is destroyed again.
 */
CreateOutcome createDmabuf(TestClient &client, size_t size, uint32_t stride)
{
	CreateOutcome outcome = CreateOutcome::NoAnswer;
	static const zwp_linux_buffer_params_v1_listener listener = {
		.created = [](void *data, zwp_linux_buffer_params_v1 *, wl_buffer *buffer) {
			*static_cast<CreateOutcome *>(data) = CreateOutcome::Created;
			wl_buffer_destroy(buffer);
		},
		.failed = [](void *data, zwp_linux_buffer_params_v1 *) {
			*static_cast<CreateOutcome *>(data) = CreateOutcome::Failed;
		},
	};
	Proxy<zwp_linux_buffer_params_v1> p(paramsWithPlane(client, size, 0, stride));
	zwp_linux_buffer_params_v1_add_listener(p, &listener, &outcome);
	zwp_linux_buffer_params_v1_create(p, 16, 16, DRM_FORMAT_XRGB8888, 0);
	client.dispatchUntil([&] { return outcome != CreateOutcome::NoAnswer; });
	p.reset();
	client.roundtrip();
	return outcome;
}

/*
 * A dma-buf the renderer cannot read, found out when a frame first
 * composes it (imports are lazy): the window shows nothing of it, the
 * failure is counted once however many frames follow, the client goes
 * on, and once it goes nothing stays counted or open.
 */
TEST(Dmabuf, RefusedImportLeavesNothingCounted)
{
	StandInDmabufs standIn;
	ASSERT_FALSE(standIn.procDir().empty());
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.bufferManager.paths.procDir = standIn.procDir();
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	ASSERT_TRUE(server.drawFrames(2));
	int fds = countOpenFds();
	{
		TestClient offender(server.socket());
		ASSERT_TRUE(offender.dmabuf);
		constexpr uint32_t kRed = 0xffff0000;
		MappedWindow window(offender, "stand-in", 16, 16, kRed);
		ASSERT_TRUE(window.ok);
		auto [x, y] = server.run([](comp::Server &s) {
			comp::View *view = s.findView("stand-in");
			return std::pair(view ? view->x() : 0, view ? view->y() : 0);
		});
		ASSERT_EQ(server.screenshot().at(uint32_t(x) + 8, uint32_t(y) + 8), kRed);

		zwp_linux_buffer_params_v1 *p =
			offender.own(paramsWithPlane(offender, StandInDmabufs::kSize, 0, 64));
		wl_buffer *standIn = offender.own(zwp_linux_buffer_params_v1_create_immed(
			p, 16, 16, DRM_FORMAT_XRGB8888, 0));
		ASSERT_TRUE(window.window.present(standIn, 16, 16));
		/* Frames drawn whole, with no new commit: not tried again. */
		ASSERT_TRUE(server.drawFrames(3));
		ASSERT_TRUE(offender.roundtrip());
		EXPECT_FALSE(offender.error());
		EXPECT_EQ(server.screenshot().at(uint32_t(x) + 8, uint32_t(y) + 8), 0xff000000u);
		const comp::TextureStats textures =
			server.run([](comp::Server &s) { return s.textureStats(); });
		EXPECT_EQ(textures.dmaBufImportFailures, 1u);
		EXPECT_EQ(textures.dmaBufImports, 0u);
	}
	ASSERT_TRUE(server.waitFrames(2));
	bufmgr::SourceSnapshot counted = server.run(clientDmabufs);
	/* It was counted: the stand-in got past the exporter check. */
	EXPECT_EQ(counted.imports, 1u);
	EXPECT_EQ(counted.peakBuffers, 1u);
	EXPECT_EQ(counted.importReleases, 1u);
	EXPECT_EQ(counted.liveBuffers, 0u);
	EXPECT_EQ(counted.liveBytes, 0u);
	EXPECT_EQ(countOpenFds(), fds);
}

/*
 * A layout the renderer can never read is refused when the wl_buffer is
 * made, though imports wait for a composed frame: pixman addresses rows
 * in whole words, GLES uploads any stride. The client hears failed and
 * can fall back; nothing of the buffer is counted or kept.
 */
TEST(Dmabuf, StrideTheRendererCannotReadFailsCreate)
{
	StandInDmabufs standIn;
	ASSERT_FALSE(standIn.procDir().empty());
	for (comp::RendererKind kind : { comp::RendererKind::Pixman, comp::RendererKind::Gles }) {
		SCOPED_TRACE(kind == comp::RendererKind::Pixman ? "pixman" : "gles");
		comp::ServerConfig config = ServerRunner::defaultConfig();
		config.bufferManager.paths.procDir = standIn.procDir();
		config.createRenderer = [kind](bufmgr::BufferManager &) {
			return comp::createRenderer(kind);
		};
		ServerRunner server(config);
		ASSERT_TRUE(server.ok()) << server.error();
		TestClient client(server.socket());
		ASSERT_TRUE(client.dmabuf);
		int fds = countOpenFds();
		/* 16 XRGB8888 pixels are 64 bytes; rows 66 bytes apart. */
		EXPECT_EQ(createDmabuf(client, StandInDmabufs::kSize, 66),
			  kind == comp::RendererKind::Pixman ? CreateOutcome::Failed
							     : CreateOutcome::Created);
		EXPECT_FALSE(client.error());
		bufmgr::SourceSnapshot counted = server.run(clientDmabufs);
		EXPECT_EQ(counted.imports, kind == comp::RendererKind::Pixman ? 0u : 1u);
		EXPECT_EQ(counted.liveBuffers, 0u);
		EXPECT_EQ(countOpenFds(), fds);
	}
}

/* create() (not immediate) with memory that is not a dma-buf: failed, no error. */
TEST(Dmabuf, NotADmabufFailsCreate)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_TRUE(client.dmabuf);
	int fds = countOpenFds();
	EXPECT_EQ(createDmabuf(client, 4096, 64), CreateOutcome::Failed);
	EXPECT_FALSE(client.error());
	/* The plane's fd was closed on the server side. */
	EXPECT_EQ(countOpenFds(), fds);
}

} /* namespace */
} /* namespace heapcomp::test */
