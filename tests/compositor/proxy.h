/* SPDX-License-Identifier: MIT */
#pragma once

#include <utility>

#include <wayland-client.h>

#include <heapcomp-heaps-v1-client-protocol.h>
#include <linux-dmabuf-unstable-v1-client-protocol.h>
#include <presentation-time-client-protocol.h>
#include <viewporter-client-protocol.h>
#include <xdg-output-unstable-v1-client-protocol.h>
#include <xdg-shell-client-protocol.h>

namespace heapcomp::test {

/*
 * How each interface's proxy goes: its destructor request where it has
 * one, else client-side only. libwayland-client frees no live proxy at
 * wl_display_disconnect(), so every proxy a test makes must come here.
 */
template<typename T>
void destroyProxy(T *proxy)
{
	/* Interfaces without a destructor request: wl_callback, wl_registry... */
	wl_proxy_destroy(reinterpret_cast<wl_proxy *>(proxy));
}

namespace detail {

/* Interfaces whose destructor is "release", added in a later version. */
template<typename T>
void releaseOrDestroy(T *proxy, uint32_t since, void (*release)(T *), void (*destroy)(T *))
{
	if (wl_proxy_get_version(reinterpret_cast<wl_proxy *>(proxy)) >= since)
		release(proxy);
	else
		destroy(proxy);
}

} /* namespace detail */

inline void destroyProxy(wl_surface *p) { wl_surface_destroy(p); }
inline void destroyProxy(wl_region *p) { wl_region_destroy(p); }
inline void destroyProxy(wl_subcompositor *p) { wl_subcompositor_destroy(p); }
inline void destroyProxy(wl_subsurface *p) { wl_subsurface_destroy(p); }
inline void destroyProxy(wl_shm_pool *p) { wl_shm_pool_destroy(p); }
inline void destroyProxy(wl_buffer *p) { wl_buffer_destroy(p); }
inline void destroyProxy(wl_data_source *p) { wl_data_source_destroy(p); }
inline void destroyProxy(wl_data_offer *p) { wl_data_offer_destroy(p); }
inline void destroyProxy(xdg_wm_base *p) { xdg_wm_base_destroy(p); }
inline void destroyProxy(xdg_positioner *p) { xdg_positioner_destroy(p); }
inline void destroyProxy(xdg_surface *p) { xdg_surface_destroy(p); }
inline void destroyProxy(xdg_toplevel *p) { xdg_toplevel_destroy(p); }
inline void destroyProxy(xdg_popup *p) { xdg_popup_destroy(p); }
inline void destroyProxy(wp_viewporter *p) { wp_viewporter_destroy(p); }
inline void destroyProxy(wp_viewport *p) { wp_viewport_destroy(p); }
inline void destroyProxy(wp_presentation *p) { wp_presentation_destroy(p); }
inline void destroyProxy(zwp_linux_dmabuf_v1 *p) { zwp_linux_dmabuf_v1_destroy(p); }
inline void destroyProxy(zwp_linux_buffer_params_v1 *p) { zwp_linux_buffer_params_v1_destroy(p); }
inline void destroyProxy(zwp_linux_dmabuf_feedback_v1 *p) { zwp_linux_dmabuf_feedback_v1_destroy(p); }
inline void destroyProxy(heapcomp_heaps_v1 *p) { heapcomp_heaps_v1_destroy(p); }
inline void destroyProxy(heapcomp_heap_feedback_v1 *p) { heapcomp_heap_feedback_v1_destroy(p); }
inline void destroyProxy(heapcomp_heap_buffer_v1 *p) { heapcomp_heap_buffer_v1_destroy(p); }
inline void destroyProxy(zxdg_output_manager_v1 *p) { zxdg_output_manager_v1_destroy(p); }
inline void destroyProxy(zxdg_output_v1 *p) { zxdg_output_v1_destroy(p); }

inline void destroyProxy(wl_seat *p)
{
	detail::releaseOrDestroy(p, WL_SEAT_RELEASE_SINCE_VERSION, wl_seat_release, wl_seat_destroy);
}

inline void destroyProxy(wl_pointer *p)
{
	detail::releaseOrDestroy(p, WL_POINTER_RELEASE_SINCE_VERSION, wl_pointer_release,
				 wl_pointer_destroy);
}

inline void destroyProxy(wl_touch *p)
{
	detail::releaseOrDestroy(p, WL_TOUCH_RELEASE_SINCE_VERSION, wl_touch_release,
				 wl_touch_destroy);
}

inline void destroyProxy(wl_keyboard *p)
{
	detail::releaseOrDestroy(p, WL_KEYBOARD_RELEASE_SINCE_VERSION, wl_keyboard_release,
				 wl_keyboard_destroy);
}

inline void destroyProxy(wl_output *p)
{
	detail::releaseOrDestroy(p, WL_OUTPUT_RELEASE_SINCE_VERSION, wl_output_release,
				 wl_output_destroy);
}

inline void destroyProxy(wl_data_device *p)
{
	detail::releaseOrDestroy(p, WL_DATA_DEVICE_RELEASE_SINCE_VERSION, wl_data_device_release,
				 wl_data_device_destroy);
}

/*
 * Owns one proxy (move-only) and destroys it with destroyProxy(). Converts
 * to the raw pointer, so it passes straight to the generated request
 * functions.
 */
template<typename T>
class Proxy
{
public:
	Proxy() = default;
	explicit Proxy(T *proxy) : proxy_(proxy) {}
	~Proxy() { reset(); }

	Proxy(Proxy &&other) noexcept : proxy_(other.release()) {}
	Proxy &operator=(Proxy &&other) noexcept
	{
		reset(other.release());
		return *this;
	}
	Proxy(const Proxy &) = delete;
	Proxy &operator=(const Proxy &) = delete;

	T *get() const { return proxy_; }
	operator T *() const { return proxy_; }

	void reset(T *proxy = nullptr)
	{
		T *old = std::exchange(proxy_, proxy);
		if (old)
			destroyProxy(old);
	}
	[[nodiscard]] T *release() { return std::exchange(proxy_, nullptr); }

private:
	T *proxy_ = nullptr;
};

} /* namespace heapcomp::test */
