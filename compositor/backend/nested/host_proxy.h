/* SPDX-License-Identifier: MIT */
#pragma once

#include <memory>

#include <wayland-client.h>

#include <linux-dmabuf-unstable-v1-client-protocol.h>
#include <presentation-time-client-protocol.h>
#include <xdg-shell-client-protocol.h>

namespace comp {

/*
 * The nested backend's objects in the host compositor, each gone with
 * its destructor request (release where the interface has one).
 * libwayland-client frees no proxy at disconnect: every one must go here
 * before the connection does.
 */
inline void destroyHostProxy(wl_registry *p) { wl_registry_destroy(p); }
inline void destroyHostProxy(wl_compositor *p) { wl_compositor_destroy(p); }
inline void destroyHostProxy(wl_shm *p) { wl_shm_destroy(p); }
inline void destroyHostProxy(wl_surface *p) { wl_surface_destroy(p); }
inline void destroyHostProxy(wl_buffer *p) { wl_buffer_destroy(p); }
inline void destroyHostProxy(wl_callback *p) { wl_callback_destroy(p); }
inline void destroyHostProxy(xdg_wm_base *p) { xdg_wm_base_destroy(p); }
inline void destroyHostProxy(xdg_surface *p) { xdg_surface_destroy(p); }
inline void destroyHostProxy(xdg_toplevel *p) { xdg_toplevel_destroy(p); }
inline void destroyHostProxy(wp_presentation *p) { wp_presentation_destroy(p); }
inline void destroyHostProxy(struct wp_presentation_feedback *p) { wp_presentation_feedback_destroy(p); }
inline void destroyHostProxy(zwp_linux_dmabuf_v1 *p) { zwp_linux_dmabuf_v1_destroy(p); }
inline void destroyHostProxy(zwp_linux_buffer_params_v1 *p) { zwp_linux_buffer_params_v1_destroy(p); }

/* Input objects: release from version 3 (wl_seat: 5) on, else client-side only. */
inline bool hostHasRelease(void *p, uint32_t since)
{
	return wl_proxy_get_version(static_cast<wl_proxy *>(p)) >= since;
}
inline void destroyHostProxy(wl_seat *p)
{
	hostHasRelease(p, WL_SEAT_RELEASE_SINCE_VERSION) ? wl_seat_release(p) : wl_seat_destroy(p);
}
inline void destroyHostProxy(wl_pointer *p)
{
	hostHasRelease(p, WL_POINTER_RELEASE_SINCE_VERSION) ? wl_pointer_release(p)
							    : wl_pointer_destroy(p);
}
inline void destroyHostProxy(wl_keyboard *p)
{
	hostHasRelease(p, WL_KEYBOARD_RELEASE_SINCE_VERSION) ? wl_keyboard_release(p)
							     : wl_keyboard_destroy(p);
}
inline void destroyHostProxy(wl_touch *p)
{
	hostHasRelease(p, WL_TOUCH_RELEASE_SINCE_VERSION) ? wl_touch_release(p)
							  : wl_touch_destroy(p);
}

template<typename T>
struct HostProxyDeleter {
	void operator()(T *proxy) const { destroyHostProxy(proxy); }
};

template<typename T>
using HostProxy = std::unique_ptr<T, HostProxyDeleter<T>>;

} /* namespace comp */
