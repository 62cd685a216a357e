/* SPDX-License-Identifier: MIT */
/*
 * heapcomp-client: allocate Wayland buffers from the DMA-BUF heap the
 * compositor hints (heapcomp_heaps_v1), directly from /dev/dma_heap where
 * the process may open it, otherwise through the compositor.
 *
 * The library binds heapcomp_heaps_v1 and zwp_linux_dmabuf_v1 itself on
 * a private event queue of the application's wl_display, so it never
 * dispatches the application's events and the application never
 * dispatches its own. Not thread-safe: use one client from one thread.
 *
 * Buffers are linear, in one dma-buf: 32-bit RGB in one plane
 * (DRM_FORMAT_XRGB8888, ARGB8888, XBGR8888, ABGR8888) or 4:2:0 video in
 * two (NV12) or three (YUV420) planes, of even width and height.
 */
#ifndef HEAPCOMP_HEAP_CLIENT_H
#define HEAPCOMP_HEAP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct wl_buffer;
struct wl_display;
struct wl_surface;

struct hc_client;
struct hc_buffer;

enum hc_client_flags {
	/* Pick the first heap heapcomp lists at all, ignoring the tranches. */
	HC_CLIENT_IGNORE_HINTS = 1 << 0,
	/* Never open /dev/dma_heap: always have the compositor allocate. */
	HC_CLIENT_NO_DIRECT = 1 << 1,
};

enum hc_alloc_path {
	HC_ALLOC_DIRECT = 0,	 /* DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/<name> */
	HC_ALLOC_COMPOSITOR = 1, /* heapcomp_heaps_v1.allocate */
};

/*
 * Binds the globals and waits for the heap list and the default hint.
 * NULL when the compositor has no heapcomp_heaps_v1 or linux-dmabuf v4
 * (errno set to ENOTSUP) or the connection failed.
 */
struct hc_client *hc_client_create(struct wl_display *display, uint32_t flags);
void hc_client_destroy(struct hc_client *client);

/* The last error, for logs; "" when none. Valid until the next call. */
const char *hc_client_error(const struct hc_client *client);

/* The heaps heapcomp advertised, in its order. */
size_t hc_client_heap_count(const struct hc_client *client);
const char *hc_client_heap_name(const struct hc_client *client, size_t index);
/* heapcomp_heaps_v1 property bits (contiguous = 1, scattered = 2, ...). */
uint32_t hc_client_heap_properties(const struct hc_client *client, size_t index);

/*
 * Where a heap's memory comes from, when the compositor says (heapcomp_heaps_v1
 * version 2): the device-tree node of its reserved region ("" when none),
 * and the devices that region was reserved for, each with its bound
 * driver ("" when none). hc_client_heap_device returns NULL past the end.
 */
const char *hc_client_heap_region(const struct hc_client *client, size_t index);
size_t hc_client_heap_device_count(const struct hc_client *client, size_t index);
const char *hc_client_heap_device(const struct hc_client *client, size_t index, size_t device,
				  const char **driver);

/* Which cgroup controller charges a heap's memory. */
enum hc_accounting {
	HC_ACCOUNTING_UNKNOWN = -1,	/* the compositor does not say */
	HC_ACCOUNTING_NONE = 0,		/* nothing: it escapes cgroup limits */
	HC_ACCOUNTING_MEMCG = 1,	/* the allocating process's memory cgroup */
	HC_ACCOUNTING_DMEM = 2,		/* a dmem region; *dmem_region names it */
};

/* dmem_region, when not NULL, gets the dmem region's name ("" unless DMEM). */
enum hc_accounting hc_client_heap_accounting(const struct hc_client *client, size_t index,
					     const char **dmem_region);

/*
 * Follows a surface's heap hint (its own feedback); surface NULL means
 * the default hint, which is always followed. Returns 0, or -1 on error.
 */
int hc_client_watch_surface(struct hc_client *client, struct wl_surface *surface);
void hc_client_unwatch_surface(struct hc_client *client, struct wl_surface *surface);

/*
 * Reads and handles what the compositor sent, without blocking. Returns
 * 1 when a watched hint changed since the last call (reallocate), 0 when
 * not, -1 when the connection failed.
 */
int hc_client_dispatch(struct hc_client *client);

/*
 * The heap to allocate a surface's buffers of format from: the first heap
 * of the first tranche that has the format with the linear modifier (or
 * the forced heap). NULL when no tranche names one.
 */
const char *hc_client_hinted_heap(const struct hc_client *client, struct wl_surface *surface,
				  uint32_t format);
/* Allocate from this heap whatever the hints say (NULL: follow them). */
void hc_client_force_heap(struct hc_client *client, const char *name);

/*
 * A buffer for surface (NULL: the default hint) from the hinted heap,
 * then the tranche's other heaps, and a wl_buffer made of it through
 * linux-dmabuf. NULL on failure, with hc_client_error() saying why.
 */
struct hc_buffer *hc_buffer_create(struct hc_client *client, struct wl_surface *surface,
				   uint32_t width, uint32_t height, uint32_t format);
void hc_buffer_destroy(struct hc_buffer *buffer);

struct wl_buffer *hc_buffer_wl_buffer(const struct hc_buffer *buffer);
const char *hc_buffer_heap(const struct hc_buffer *buffer);
enum hc_alloc_path hc_buffer_path(const struct hc_buffer *buffer);
int hc_buffer_fd(const struct hc_buffer *buffer);	/* the dma-buf; still the buffer's */
uint32_t hc_buffer_stride(const struct hc_buffer *buffer);	/* plane 0's */
/* Planes: 1, or 2 for NV12, 3 for YUV420; offset and stride in bytes, 0 past the last. */
uint32_t hc_buffer_plane_count(const struct hc_buffer *buffer);
uint32_t hc_buffer_plane_offset(const struct hc_buffer *buffer, uint32_t plane);
uint32_t hc_buffer_plane_stride(const struct hc_buffer *buffer, uint32_t plane);
uint64_t hc_buffer_size(const struct hc_buffer *buffer);

/*
 * The pixels for the CPU, inside DMA_BUF_IOCTL_SYNC: begin before
 * touching them, end after. NULL on failure.
 */
void *hc_buffer_begin_cpu_access(struct hc_buffer *buffer);
int hc_buffer_end_cpu_access(struct hc_buffer *buffer);

#ifdef __cplusplus
}
#endif

#endif /* HEAPCOMP_HEAP_CLIENT_H */
