/* SPDX-License-Identifier: MIT */
/*
 * heapcomp-demo-client: an animated xdg toplevel whose buffers come from
 * the DMA-BUF heap heapcomp hints (libheapcomp-client). When the hint
 * changes — the window became the one the display could scan out — it
 * reallocates from the new heap. Each presentation says whether the frame
 * was the client's buffer itself (ZERO_COPY); at the end one line of
 * key=value pairs sums it up:
 *
 *   frames=300 presented=300 zero_copy=290 zero_copy_share=0.967
 *   heap=default_cma_region path=direct reallocations=1 discarded=0
 *   paid_by=none
 *
 * paid_by is the cgroup controller that charges the heap's memory
 * (none, memcg, dmem:<region>), as heapcomp says.
 *
 * Options: --frames N (300), --size WxH (640x480, or the fullscreen
 * size), --fullscreen, --ignore-hints (first heap listed), --heap NAME
 * (always that heap), --no-direct (always through heapcomp).
 */
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <drm_fourcc.h>
#include <wayland-client.h>

#include <presentation-time-client-protocol.h>
#include <xdg-shell-client-protocol.h>

#include <heapcomp/heap_client.h>

namespace {

struct Demo {
	wl_display *display = nullptr;
	wl_compositor *compositor = nullptr;
	xdg_wm_base *wmBase = nullptr;
	wp_presentation *presentation = nullptr;
	wl_surface *surface = nullptr;
	xdg_surface *xdgSurface = nullptr;
	xdg_toplevel *toplevel = nullptr;
	hc_client *heaps = nullptr;
	hc_buffer *buffers[2] = {};
	bool busy[2] = {};

	uint32_t width = 640, height = 480;
	int32_t configuredWidth = 0, configuredHeight = 0;
	bool configured = false, closed = false, frameDone = true;
	uint32_t frames = 300;
	bool fullscreen = false;

	uint32_t presented = 0, zeroCopy = 0, discarded = 0, reallocations = 0;
};

const wl_buffer_listener bufferListener = {
	.release = [](void *data, wl_buffer *) { *static_cast<bool *>(data) = false; },
};

const wl_callback_listener frameListener = {
	.done = [](void *data, wl_callback *callback, uint32_t) {
		static_cast<Demo *>(data)->frameDone = true;
		wl_callback_destroy(callback);
	},
};

const wp_presentation_feedback_listener feedbackListener = {
	.sync_output = [](void *, struct wp_presentation_feedback *, wl_output *) {},
	.presented = [](void *data, struct wp_presentation_feedback *feedback, uint32_t, uint32_t,
			uint32_t, uint32_t, uint32_t, uint32_t, uint32_t flags) {
		auto *demo = static_cast<Demo *>(data);
		demo->presented++;
		if (flags & WP_PRESENTATION_FEEDBACK_KIND_ZERO_COPY)
			demo->zeroCopy++;
		wp_presentation_feedback_destroy(feedback);
	},
	.discarded = [](void *data, struct wp_presentation_feedback *feedback) {
		static_cast<Demo *>(data)->discarded++;
		wp_presentation_feedback_destroy(feedback);
	},
};

const xdg_wm_base_listener wmBaseListener = {
	.ping = [](void *, xdg_wm_base *base, uint32_t serial) { xdg_wm_base_pong(base, serial); },
};

const xdg_surface_listener xdgSurfaceListener = {
	.configure = [](void *data, xdg_surface *surface, uint32_t serial) {
		xdg_surface_ack_configure(surface, serial);
		static_cast<Demo *>(data)->configured = true;
	},
};

const xdg_toplevel_listener toplevelListener = {
	.configure = [](void *data, xdg_toplevel *, int32_t width, int32_t height, wl_array *) {
		auto *demo = static_cast<Demo *>(data);
		demo->configuredWidth = width;
		demo->configuredHeight = height;
	},
	.close = [](void *data, xdg_toplevel *) { static_cast<Demo *>(data)->closed = true; },
	.configure_bounds = [](void *, xdg_toplevel *, int32_t, int32_t) {},
	.wm_capabilities = [](void *, xdg_toplevel *, wl_array *) {},
};

void global(void *data, wl_registry *registry, uint32_t name, const char *interface, uint32_t)
{
	auto *demo = static_cast<Demo *>(data);
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		demo->compositor = static_cast<wl_compositor *>(
			wl_registry_bind(registry, name, &wl_compositor_interface, 4));
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		demo->wmBase = static_cast<xdg_wm_base *>(
			wl_registry_bind(registry, name, &xdg_wm_base_interface, 2));
		xdg_wm_base_add_listener(demo->wmBase, &wmBaseListener, demo);
	} else if (strcmp(interface, wp_presentation_interface.name) == 0) {
		demo->presentation = static_cast<wp_presentation *>(
			wl_registry_bind(registry, name, &wp_presentation_interface, 1));
	}
}

const wl_registry_listener registryListener = {
	.global = global,
	.global_remove = [](void *, wl_registry *, uint32_t) {},
};

/* Both buffers again from the heap the hint names now. */
bool allocate(Demo &demo)
{
	for (int i = 0; i < 2; i++) {
		hc_buffer_destroy(demo.buffers[i]);
		demo.busy[i] = false;
		demo.buffers[i] = hc_buffer_create(demo.heaps, demo.surface, demo.width,
						   demo.height, DRM_FORMAT_XRGB8888);
		if (!demo.buffers[i]) {
			fprintf(stderr, "heapcomp-demo-client: %s\n", hc_client_error(demo.heaps));
			return false;
		}
		wl_buffer_add_listener(hc_buffer_wl_buffer(demo.buffers[i]), &bufferListener,
				       &demo.busy[i]);
	}
	return true;
}

/* A bar sweeping across a gradient: every pixel changes every frame. */
bool draw(Demo &demo, hc_buffer *buffer, uint32_t frame)
{
	auto *pixels = static_cast<uint8_t *>(hc_buffer_begin_cpu_access(buffer));
	if (!pixels)
		return false;
	const uint32_t stride = hc_buffer_stride(buffer);
	const uint32_t bar = (frame * 8) % demo.width;
	for (uint32_t y = 0; y < demo.height; y++) {
		auto *row = reinterpret_cast<uint32_t *>(pixels + size_t(y) * stride);
		for (uint32_t x = 0; x < demo.width; x++) {
			bool inBar = x >= bar && x < bar + 32;
			row[x] = inBar ? 0xffffffff
				       : 0xff000000 | ((x * 255 / demo.width) << 16) |
						 ((y * 255 / demo.height) << 8) | (frame & 0xff);
		}
	}
	return hc_buffer_end_cpu_access(buffer) == 0;
}

bool parseSize(const char *text, uint32_t *width, uint32_t *height)
{
	return sscanf(text, "%ux%u", width, height) == 2 && *width > 0 && *height > 0 &&
	       *width <= 8192 && *height <= 8192;
}

/* Who pays for the heap's memory, as the compositor says: "dmem:<region>", "memcg", "none". */
std::string paidBy(const hc_client *heaps, const char *heap)
{
	for (size_t i = 0; heap && i < hc_client_heap_count(heaps); i++) {
		if (strcmp(hc_client_heap_name(heaps, i), heap) != 0)
			continue;
		const char *region = "";
		switch (hc_client_heap_accounting(heaps, i, &region)) {
		case HC_ACCOUNTING_DMEM:
			return std::string("dmem:") + region;
		case HC_ACCOUNTING_MEMCG:
			return "memcg";
		case HC_ACCOUNTING_NONE:
			return "none";
		case HC_ACCOUNTING_UNKNOWN:
			break;
		}
	}
	return "unknown";
}

} /* namespace */

int main(int argc, char **argv)
{
	Demo demo;
	uint32_t flags = 0;
	const char *forcedHeap = nullptr;
	for (int i = 1; i < argc; i++) {
		std::string arg = argv[i];
		bool more = i + 1 < argc;
		if (arg == "--frames" && more) {
			demo.frames = uint32_t(strtoul(argv[++i], nullptr, 10));
		} else if (arg == "--size" && more) {
			if (!parseSize(argv[++i], &demo.width, &demo.height)) {
				fprintf(stderr, "heapcomp-demo-client: --size needs WxH\n");
				return 2;
			}
		} else if (arg == "--fullscreen") {
			demo.fullscreen = true;
		} else if (arg == "--ignore-hints") {
			flags |= HC_CLIENT_IGNORE_HINTS;
		} else if (arg == "--no-direct") {
			flags |= HC_CLIENT_NO_DIRECT;
		} else if (arg == "--heap" && more) {
			forcedHeap = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--frames N] [--size WxH] [--fullscreen] "
					"[--ignore-hints] [--heap NAME] [--no-direct]\n",
				argv[0]);
			return 2;
		}
	}

	demo.display = wl_display_connect(nullptr);
	if (!demo.display) {
		fprintf(stderr, "heapcomp-demo-client: no Wayland display\n");
		return 1;
	}
	wl_registry *registry = wl_display_get_registry(demo.display);
	wl_registry_add_listener(registry, &registryListener, &demo);
	wl_display_roundtrip(demo.display);
	if (!demo.compositor || !demo.wmBase || !demo.presentation) {
		fprintf(stderr, "heapcomp-demo-client: the compositor lacks a global it needs\n");
		return 1;
	}
	demo.heaps = hc_client_create(demo.display, flags);
	if (!demo.heaps) {
		fprintf(stderr, "heapcomp-demo-client: no heap hints: %s\n", strerror(errno));
		return 1;
	}
	hc_client_force_heap(demo.heaps, forcedHeap);

	demo.surface = wl_compositor_create_surface(demo.compositor);
	demo.xdgSurface = xdg_wm_base_get_xdg_surface(demo.wmBase, demo.surface);
	xdg_surface_add_listener(demo.xdgSurface, &xdgSurfaceListener, &demo);
	demo.toplevel = xdg_surface_get_toplevel(demo.xdgSurface);
	xdg_toplevel_add_listener(demo.toplevel, &toplevelListener, &demo);
	xdg_toplevel_set_title(demo.toplevel, "heapcomp-demo-client");
	if (demo.fullscreen)
		xdg_toplevel_set_fullscreen(demo.toplevel, nullptr);
	wl_surface_commit(demo.surface);
	while (!demo.configured && wl_display_dispatch(demo.display) >= 0) {
	}
	if (demo.configuredWidth > 0 && demo.configuredHeight > 0) {
		demo.width = uint32_t(demo.configuredWidth);
		demo.height = uint32_t(demo.configuredHeight);
	}
	if (hc_client_watch_surface(demo.heaps, demo.surface) != 0 || !allocate(demo))
		return 1;

	for (uint32_t frame = 0; frame < demo.frames && !demo.closed; frame++) {
		/* A changed hint: the display could scan this window out from another heap. */
		int changed = hc_client_dispatch(demo.heaps);
		if (changed < 0)
			break;
		if (changed) {
			demo.reallocations++;
			if (!allocate(demo))
				return 1;
		}
		int slot = demo.busy[0] ? 1 : 0;
		if (demo.busy[slot]) {
			/* Both on screen or queued: wait for a release. */
			if (wl_display_dispatch(demo.display) < 0)
				break;
			frame--;
			continue;
		}
		if (!draw(demo, demo.buffers[slot], frame)) {
			fprintf(stderr, "heapcomp-demo-client: %s\n", hc_client_error(demo.heaps));
			return 1;
		}
		wp_presentation_feedback_add_listener(
			wp_presentation_feedback(demo.presentation, demo.surface), &feedbackListener,
			&demo);
		wl_callback_add_listener(wl_surface_frame(demo.surface), &frameListener, &demo);
		wl_surface_attach(demo.surface, hc_buffer_wl_buffer(demo.buffers[slot]), 0, 0);
		wl_surface_damage_buffer(demo.surface, 0, 0, INT32_MAX, INT32_MAX);
		demo.busy[slot] = true;
		demo.frameDone = false;
		wl_surface_commit(demo.surface);
		while (!demo.frameDone && wl_display_dispatch(demo.display) >= 0) {
		}
	}
	/* The last presentations. */
	wl_display_roundtrip(demo.display);

	const hc_buffer *last = demo.buffers[0];
	double share = demo.presented ? double(demo.zeroCopy) / demo.presented : 0.0;
	printf("frames=%u presented=%u zero_copy=%u zero_copy_share=%.3f heap=%s path=%s "
	       "reallocations=%u discarded=%u paid_by=%s\n",
	       demo.frames, demo.presented, demo.zeroCopy, share, hc_buffer_heap(last),
	       hc_buffer_path(last) == HC_ALLOC_DIRECT ? "direct" : "compositor",
	       demo.reallocations, demo.discarded, paidBy(demo.heaps, hc_buffer_heap(last)).c_str());

	for (hc_buffer *buffer : demo.buffers)
		hc_buffer_destroy(buffer);
	hc_client_destroy(demo.heaps);
	xdg_toplevel_destroy(demo.toplevel);
	xdg_surface_destroy(demo.xdgSurface);
	wl_surface_destroy(demo.surface);
	wp_presentation_destroy(demo.presentation);
	xdg_wm_base_destroy(demo.wmBase);
	wl_compositor_destroy(demo.compositor);
	wl_registry_destroy(registry);
	wl_display_disconnect(demo.display);
	return 0;
}
