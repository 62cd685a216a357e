/* SPDX-License-Identifier: MIT */
#include <heapcomp/heap_client.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <memory>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <drm_fourcc.h>
#include <wayland-client.h>

#include <heapcomp-heaps-v1-client-protocol.h>
#include <linux-dmabuf-unstable-v1-client-protocol.h>

namespace {

/* An fd this code owns; closed when it goes. */
class Fd
{
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	~Fd() { reset(); }
	Fd(Fd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
	Fd &operator=(Fd &&other) noexcept
	{
		std::swap(fd_, other.fd_);
		return *this;
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;

	int get() const { return fd_; }
	explicit operator bool() const { return fd_ >= 0; }
	void reset()
	{
		if (fd_ >= 0)
			close(fd_);
		fd_ = -1;
	}

private:
	int fd_ = -1;
};

struct Device {
	std::string node;
	std::string driver;
};

struct Heap {
	uint32_t id = 0;
	std::string name;
	uint32_t properties = 0;
	/* Version 2: where the memory comes from and who pays for it. */
	std::string region;
	std::vector<Device> devices;
	hc_accounting accounting = HC_ACCOUNTING_UNKNOWN;
	std::string dmemRegion;
};

struct Tranche {
	std::vector<uint16_t> indices;
	std::vector<uint32_t> heaps;
	uint32_t flags = 0;
};

struct FormatEntry {
	uint32_t format;
	uint32_t pad;
	uint64_t modifier;
};

/* One heapcomp_heap_feedback_v1: what it last said whole, and what is coming. */
struct Hint {
	hc_client *client = nullptr;
	wl_surface *surface = nullptr;	/* null: the default hint */
	heapcomp_heap_feedback_v1 *feedback = nullptr;
	std::vector<FormatEntry> table;
	std::vector<Tranche> tranches, pending;
	Tranche tranche;
	int dones = 0;
};

/* How a format's planes are laid out: bytes per sample and subsampling, per plane. */
struct FormatLayout {
	uint32_t format;
	uint32_t planes;
	uint32_t bytes[3];
	uint32_t subsampling[3];	/* 2: half the width and height (4:2:0 chroma) */
};

constexpr FormatLayout kLayouts[] = {
	{ DRM_FORMAT_XRGB8888, 1, { 4 }, { 1 } },
	{ DRM_FORMAT_ARGB8888, 1, { 4 }, { 1 } },
	{ DRM_FORMAT_XBGR8888, 1, { 4 }, { 1 } },
	{ DRM_FORMAT_ABGR8888, 1, { 4 }, { 1 } },
	/* Video: Y, then interleaved CbCr / Y, Cb, Cr, each chroma plane halved both ways. */
	{ DRM_FORMAT_NV12, 2, { 1, 2 }, { 1, 2 } },
	{ DRM_FORMAT_YUV420, 3, { 1, 1, 1 }, { 1, 2, 2 } },
};

const FormatLayout *layoutOf(uint32_t format)
{
	for (const FormatLayout &layout : kLayouts)
		if (layout.format == format)
			return &layout;
	return nullptr;
}

template<typename T>
std::vector<T> arrayValues(const wl_array *array)
{
	std::vector<T> values(array->size / sizeof(T));
	if (!values.empty())
		memcpy(values.data(), array->data, values.size() * sizeof(T));
	return values;
}

} /* namespace */

struct hc_client {
	wl_display *display = nullptr;
	wl_event_queue *queue = nullptr;
	wl_display *wrapper = nullptr;	/* the display, on our queue */
	wl_registry *registry = nullptr;
	heapcomp_heaps_v1 *heaps = nullptr;
	zwp_linux_dmabuf_v1 *dmabuf = nullptr;
	uint32_t flags = 0;
	std::vector<Heap> heapList, pendingHeaps;
	bool replacingHeaps = true;
	int heapDones = 0;
	std::vector<std::unique_ptr<Hint>> hints;	/* [0]: the default */
	bool changed = false;
	std::string forcedHeap;
	std::string error;

	bool fail(std::string message)
	{
		error = std::move(message);
		return false;
	}
	Hint *hintFor(wl_surface *surface) const
	{
		for (const auto &hint : hints)
			if (hint->surface == surface)
				return hint.get();
		return hints.empty() ? nullptr : hints[0].get();
	}
	const Heap *heapById(uint32_t id) const
	{
		for (const Heap &heap : heapList)
			if (heap.id == id)
				return &heap;
		return nullptr;
	}
	const Heap *heapByName(const std::string &name) const
	{
		for (const Heap &heap : heapList)
			if (heap.name == name)
				return &heap;
		return nullptr;
	}
	/* The heaps to try for format on surface, most preferred first. */
	std::vector<const Heap *> candidates(wl_surface *surface, uint32_t format) const;
};

struct Plane {
	uint32_t offset = 0, stride = 0;
	Fd fd;	/* a plane heapcomp sent in an fd of its own; else the buffer's fd */
};

struct hc_buffer {
	hc_client *client = nullptr;
	Fd fd;
	std::vector<Plane> planes;
	uint32_t width = 0, height = 0, format = 0;
	uint64_t size = 0;
	std::string heap;
	hc_alloc_path path = HC_ALLOC_DIRECT;
	heapcomp_heap_buffer_v1 *lent = nullptr;
	wl_buffer *buffer = nullptr;
	void *map = nullptr;
};

namespace {

void heapEvent(void *data, heapcomp_heaps_v1 *, uint32_t id, const char *name,
	       uint32_t properties, uint32_t, uint32_t)
{
	auto *c = static_cast<hc_client *>(data);
	if (c->replacingHeaps)
		c->pendingHeaps.clear();
	c->replacingHeaps = false;
	Heap heap;
	heap.id = id;
	heap.name = name;
	heap.properties = properties;
	c->pendingHeaps.push_back(std::move(heap));
}

Heap *pendingHeap(hc_client *c, uint32_t id)
{
	for (Heap &heap : c->pendingHeaps)
		if (heap.id == id)
			return &heap;
	return nullptr;
}

void heapRegionEvent(void *data, heapcomp_heaps_v1 *, uint32_t id, const char *node)
{
	if (Heap *heap = pendingHeap(static_cast<hc_client *>(data), id))
		heap->region = node;
}

void heapDeviceEvent(void *data, heapcomp_heaps_v1 *, uint32_t id, const char *node,
		     const char *driver)
{
	if (Heap *heap = pendingHeap(static_cast<hc_client *>(data), id))
		heap->devices.push_back({ node, driver });
}

void heapAccountingEvent(void *data, heapcomp_heaps_v1 *, uint32_t id, uint32_t controller,
			 const char *region)
{
	Heap *heap = pendingHeap(static_cast<hc_client *>(data), id);
	if (!heap)
		return;
	switch (controller) {
	case HEAPCOMP_HEAPS_V1_ACCOUNTING_NONE:
		heap->accounting = HC_ACCOUNTING_NONE;
		break;
	case HEAPCOMP_HEAPS_V1_ACCOUNTING_MEMCG:
		heap->accounting = HC_ACCOUNTING_MEMCG;
		break;
	case HEAPCOMP_HEAPS_V1_ACCOUNTING_DMEM:
		heap->accounting = HC_ACCOUNTING_DMEM;
		break;
	default:	/* a value of a later version */
		heap->accounting = HC_ACCOUNTING_UNKNOWN;
		break;
	}
	heap->dmemRegion = region;
}

void heapMemoryEvent(void *, heapcomp_heaps_v1 *, uint32_t, uint32_t, uint32_t, uint32_t,
		     uint32_t)
{
}

void heapsDone(void *data, heapcomp_heaps_v1 *)
{
	auto *c = static_cast<hc_client *>(data);
	c->heapList = c->pendingHeaps;
	c->replacingHeaps = true;
	c->heapDones++;
}

const heapcomp_heaps_v1_listener heapsListener = {
	.heap = heapEvent,
	.heap_memory = heapMemoryEvent,
	.done = heapsDone,
	.heap_region = heapRegionEvent,
	.heap_device = heapDeviceEvent,
	.heap_accounting = heapAccountingEvent,
};

const heapcomp_heap_feedback_v1_listener feedbackListener = {
	.format_table = [](void *data, heapcomp_heap_feedback_v1 *, int32_t fd, uint32_t size) {
		Fd owned(fd);
		auto *hint = static_cast<Hint *>(data);
		hint->table.clear();
		void *map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED)
			return;
		const auto *entries = static_cast<const FormatEntry *>(map);
		hint->table.assign(entries, entries + size / sizeof(FormatEntry));
		munmap(map, size);
	},
	.main_device = [](void *, heapcomp_heap_feedback_v1 *, wl_array *) {},
	.tranche_target_device = [](void *, heapcomp_heap_feedback_v1 *, wl_array *) {},
	.tranche_formats = [](void *data, heapcomp_heap_feedback_v1 *, wl_array *indices) {
		static_cast<Hint *>(data)->tranche.indices = arrayValues<uint16_t>(indices);
	},
	.tranche_flags = [](void *data, heapcomp_heap_feedback_v1 *, uint32_t flags) {
		static_cast<Hint *>(data)->tranche.flags = flags;
	},
	.tranche_heaps = [](void *data, heapcomp_heap_feedback_v1 *, wl_array *heaps) {
		static_cast<Hint *>(data)->tranche.heaps = arrayValues<uint32_t>(heaps);
	},
	.tranche_done = [](void *data, heapcomp_heap_feedback_v1 *) {
		auto *hint = static_cast<Hint *>(data);
		hint->pending.push_back(std::move(hint->tranche));
		hint->tranche = {};
	},
	.done = [](void *data, heapcomp_heap_feedback_v1 *) {
		auto *hint = static_cast<Hint *>(data);
		hint->tranches = std::move(hint->pending);
		hint->pending.clear();
		if (hint->dones++ > 0)
			hint->client->changed = true;
	},
};

void registryGlobal(void *data, wl_registry *registry, uint32_t name, const char *interface,
		    uint32_t version)
{
	auto *c = static_cast<hc_client *>(data);
	if (strcmp(interface, heapcomp_heaps_v1_interface.name) == 0) {
		c->heaps = static_cast<heapcomp_heaps_v1 *>(
			wl_registry_bind(registry, name, &heapcomp_heaps_v1_interface,
					 std::min(version, 2u)));
		heapcomp_heaps_v1_add_listener(c->heaps, &heapsListener, c);
	} else if (strcmp(interface, zwp_linux_dmabuf_v1_interface.name) == 0 && version >= 4) {
		c->dmabuf = static_cast<zwp_linux_dmabuf_v1 *>(
			wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, 4));
	}
}

const wl_registry_listener registryListener = {
	.global = registryGlobal,
	.global_remove = [](void *, wl_registry *, uint32_t) {},
};

/* Waits on our queue until done() holds; false when the connection fails. */
template<typename F>
bool dispatchUntil(hc_client *c, F done)
{
	while (!done()) {
		if (wl_display_dispatch_queue(c->display, c->queue) < 0)
			return false;
	}
	return true;
}

Hint *watch(hc_client *c, wl_surface *surface)
{
	auto hint = std::make_unique<Hint>();
	hint->client = c;
	hint->surface = surface;
	hint->feedback = surface ? heapcomp_heaps_v1_get_surface_feedback(c->heaps, surface)
				 : heapcomp_heaps_v1_get_default_feedback(c->heaps);
	heapcomp_heap_feedback_v1_add_listener(hint->feedback, &feedbackListener, hint.get());
	c->hints.push_back(std::move(hint));
	return c->hints.back().get();
}

std::string errnoText(int err)
{
	const char *name = strerrorname_np(err);
	return std::string(name ? name : "errno " + std::to_string(err)) + " (" + strerror(err) + ")";
}

/* DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/<name>; an invalid Fd with *why on failure. */
Fd allocateDirect(const std::string &heap, uint64_t size, std::string *why)
{
	std::string path = "/dev/dma_heap/" + heap;
	Fd dev(open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!dev) {
		*why = "open " + path + ": " + errnoText(errno);
		return {};
	}
	dma_heap_allocation_data data{};
	data.len = size;
	data.fd_flags = O_RDWR | O_CLOEXEC;
	int ret;
	do {
		ret = ioctl(dev.get(), DMA_HEAP_IOCTL_ALLOC, &data);
	} while (ret < 0 && (errno == EINTR || errno == EAGAIN));
	if (ret < 0) {
		*why = "allocate " + std::to_string(size) + " B from " + path + ": " + errnoText(errno);
		return {};
	}
	return Fd(int(data.fd));
}

/* heapcomp_heaps_v1.allocate and its outcome. */
struct Lent {
	std::vector<Plane> planes;
	uint64_t size = 0;
	bool ready = false, failed = false;
	std::string message;
};

const heapcomp_heap_buffer_v1_listener lentListener = {
	.plane = [](void *data, heapcomp_heap_buffer_v1 *, uint32_t index, int32_t fd,
		    uint32_t offset, uint32_t stride) {
		auto *lent = static_cast<Lent *>(data);
		Fd owned(fd);
		/* At most three planes; more is a compositor bug, not memory to keep. */
		if (index >= 3)
			return;
		if (lent->planes.size() <= index)
			lent->planes.resize(index + 1);
		lent->planes[index].fd = std::move(owned);
		lent->planes[index].offset = offset;
		lent->planes[index].stride = stride;
	},
	.ready = [](void *data, heapcomp_heap_buffer_v1 *, uint32_t hi, uint32_t lo) {
		auto *lent = static_cast<Lent *>(data);
		lent->size = (uint64_t(hi) << 32) | lo;
		lent->ready = true;
	},
	.failed = [](void *data, heapcomp_heap_buffer_v1 *, uint32_t, const char *message) {
		auto *lent = static_cast<Lent *>(data);
		lent->failed = true;
		lent->message = message;
	},
};

} /* namespace */

std::vector<const Heap *> hc_client::candidates(wl_surface *surface, uint32_t format) const
{
	std::vector<const Heap *> out;
	auto add = [&](const Heap *heap) {
		if (heap && std::find(out.begin(), out.end(), heap) == out.end())
			out.push_back(heap);
	};
	if (!forcedHeap.empty()) {
		add(heapByName(forcedHeap));
		return out;
	}
	if (flags & HC_CLIENT_IGNORE_HINTS) {
		if (!heapList.empty())
			add(&heapList[0]);
		return out;
	}
	const Hint *hint = hintFor(surface);
	if (!hint)
		return out;
	for (const Tranche &tranche : hint->tranches) {
		bool hasFormat = std::any_of(tranche.indices.begin(), tranche.indices.end(),
					     [&](uint16_t i) {
						     return i < hint->table.size() &&
							    hint->table[i].format == format &&
							    (hint->table[i].modifier == DRM_FORMAT_MOD_LINEAR ||
							     hint->table[i].modifier == DRM_FORMAT_MOD_INVALID);
					     });
		if (!hasFormat)
			continue;
		for (uint32_t id : tranche.heaps)
			add(heapById(id));
	}
	return out;
}

extern "C" {

hc_client *hc_client_create(wl_display *display, uint32_t flags)
{
	auto c = std::make_unique<hc_client>();
	c->display = display;
	c->flags = flags;
	c->queue = wl_display_create_queue(display);
	c->wrapper = static_cast<wl_display *>(wl_proxy_create_wrapper(display));
	if (!c->queue || !c->wrapper) {
		hc_client_destroy(c.release());
		errno = ENOMEM;
		return nullptr;
	}
	wl_proxy_set_queue(reinterpret_cast<wl_proxy *>(c->wrapper), c->queue);
	c->registry = wl_display_get_registry(c->wrapper);
	wl_registry_add_listener(c->registry, &registryListener, c.get());
	if (wl_display_roundtrip_queue(display, c->queue) < 0 || !c->heaps || !c->dmabuf) {
		errno = c->heaps && c->dmabuf ? EIO : ENOTSUP;
		hc_client_destroy(c.release());
		return nullptr;
	}
	Hint *hint = watch(c.get(), nullptr);
	if (!dispatchUntil(c.get(), [&] { return c->heapDones > 0 && hint->dones > 0; })) {
		hc_client_destroy(c.release());
		errno = EIO;
		return nullptr;
	}
	return c.release();
}

void hc_client_destroy(hc_client *client)
{
	if (!client)
		return;
	for (auto &hint : client->hints)
		heapcomp_heap_feedback_v1_destroy(hint->feedback);
	client->hints.clear();
	if (client->heaps)
		heapcomp_heaps_v1_destroy(client->heaps);
	if (client->dmabuf)
		zwp_linux_dmabuf_v1_destroy(client->dmabuf);
	if (client->registry)
		wl_registry_destroy(client->registry);
	if (client->wrapper)
		wl_proxy_wrapper_destroy(client->wrapper);
	if (client->queue)
		wl_event_queue_destroy(client->queue);
	delete client;
}

const char *hc_client_error(const hc_client *client)
{
	return client->error.c_str();
}

size_t hc_client_heap_count(const hc_client *client)
{
	return client->heapList.size();
}

const char *hc_client_heap_name(const hc_client *client, size_t index)
{
	return index < client->heapList.size() ? client->heapList[index].name.c_str() : nullptr;
}

uint32_t hc_client_heap_properties(const hc_client *client, size_t index)
{
	return index < client->heapList.size() ? client->heapList[index].properties : 0;
}

const char *hc_client_heap_region(const hc_client *client, size_t index)
{
	return index < client->heapList.size() ? client->heapList[index].region.c_str() : "";
}

size_t hc_client_heap_device_count(const hc_client *client, size_t index)
{
	return index < client->heapList.size() ? client->heapList[index].devices.size() : 0;
}

const char *hc_client_heap_device(const hc_client *client, size_t index, size_t device,
				  const char **driver)
{
	if (index >= client->heapList.size() || device >= client->heapList[index].devices.size())
		return nullptr;
	const Device &found = client->heapList[index].devices[device];
	if (driver)
		*driver = found.driver.c_str();
	return found.node.c_str();
}

enum hc_accounting hc_client_heap_accounting(const hc_client *client, size_t index,
					     const char **dmem_region)
{
	if (index >= client->heapList.size())
		return HC_ACCOUNTING_UNKNOWN;
	if (dmem_region)
		*dmem_region = client->heapList[index].dmemRegion.c_str();
	return client->heapList[index].accounting;
}

int hc_client_watch_surface(hc_client *client, wl_surface *surface)
{
	if (!surface)
		return 0;
	for (const auto &hint : client->hints)
		if (hint->surface == surface)
			return 0;
	Hint *hint = watch(client, surface);
	if (!dispatchUntil(client, [&] { return hint->dones > 0; }))
		return client->fail("connection lost waiting for the surface's heap hint") ? 0 : -1;
	return 0;
}

void hc_client_unwatch_surface(hc_client *client, wl_surface *surface)
{
	auto &hints = client->hints;
	for (auto it = hints.begin() + 1; it != hints.end(); ++it) {
		if ((*it)->surface == surface) {
			heapcomp_heap_feedback_v1_destroy((*it)->feedback);
			hints.erase(it);
			return;
		}
	}
}

int hc_client_dispatch(hc_client *client)
{
	if (wl_display_dispatch_queue_pending(client->display, client->queue) < 0)
		return -1;
	/* Read what arrived without blocking, then handle ours. */
	while (wl_display_prepare_read_queue(client->display, client->queue) != 0)
		if (wl_display_dispatch_queue_pending(client->display, client->queue) < 0)
			return -1;
	wl_display_flush(client->display);
	if (wl_display_read_events(client->display) < 0)
		return -1;
	if (wl_display_dispatch_queue_pending(client->display, client->queue) < 0)
		return -1;
	int changed = client->changed ? 1 : 0;
	client->changed = false;
	return changed;
}

const char *hc_client_hinted_heap(const hc_client *client, wl_surface *surface, uint32_t format)
{
	std::vector<const Heap *> heaps = client->candidates(surface, format);
	return heaps.empty() ? nullptr : heaps[0]->name.c_str();
}

void hc_client_force_heap(hc_client *client, const char *name)
{
	client->forcedHeap = name ? name : "";
}

hc_buffer *hc_buffer_create(hc_client *client, wl_surface *surface, uint32_t width,
			    uint32_t height, uint32_t format)
{
	const FormatLayout *layout = layoutOf(format);
	if (!layout || width == 0 || height == 0 || width > 16384 || height > 16384) {
		client->fail("only linear XRGB/ARGB/XBGR/ABGR8888, NV12 and YUV420 buffers of "
			     "1-16384 pixels a side");
		return nullptr;
	}
	if (layout->planes > 1 && (width % 2 || height % 2)) {
		client->fail("NV12 and YUV420 buffers need an even width and height");
		return nullptr;
	}
	std::vector<const Heap *> heaps = client->candidates(surface, format);
	if (heaps.empty()) {
		client->fail("no heap is hinted for this format");
		return nullptr;
	}
	auto buffer = std::make_unique<hc_buffer>();
	buffer->client = client;
	buffer->width = width;
	buffer->height = height;
	buffer->format = format;
	/* 64-byte rows and planes suit every display controller and GPU we know of. */
	uint64_t size = 0;
	for (uint32_t i = 0; i < layout->planes; i++) {
		const uint32_t sub = layout->subsampling[i];
		Plane plane;
		plane.offset = uint32_t(size);
		plane.stride = ((width + sub - 1) / sub * layout->bytes[i] + 63) & ~63u;
		size += uint64_t(plane.stride) * ((height + sub - 1) / sub);
		buffer->planes.push_back(std::move(plane));
	}

	std::string errors;
	for (const Heap *heap : heaps) {
		if (!(client->flags & HC_CLIENT_NO_DIRECT)) {
			std::string why;
			Fd fd = allocateDirect(heap->name, size, &why);
			if (fd) {
				buffer->fd = std::move(fd);
				buffer->size = size;
				buffer->heap = heap->name;
				buffer->path = HC_ALLOC_DIRECT;
				break;
			}
			errors += why + "; ";
		}
		/* Not allowed to open it (a sandbox), or it failed: ask heapcomp. */
		Lent lent;
		auto *object = heapcomp_heaps_v1_allocate(client->heaps, heap->id, int32_t(width),
							  int32_t(height), format, 0, 0,
							  HEAPCOMP_HEAPS_V1_USAGE_SCANOUT);
		heapcomp_heap_buffer_v1_add_listener(object, &lentListener, &lent);
		if (!dispatchUntil(client, [&] { return lent.ready || lent.failed; })) {
			heapcomp_heap_buffer_v1_destroy(object);
			client->fail("connection lost while heapcomp allocated");
			return nullptr;
		}
		/* Every plane the format has, each with its fd and rows: no gaps. */
		const bool whole = lent.planes.size() == layout->planes &&
				   std::all_of(lent.planes.begin(), lent.planes.end(),
					       [](const Plane &p) { return p.fd && p.stride; });
		if (lent.ready && whole) {
			buffer->fd = std::move(lent.planes[0].fd);
			buffer->planes = std::move(lent.planes);
			buffer->size = lent.size;
			buffer->heap = heap->name;
			buffer->path = HC_ALLOC_COMPOSITOR;
			buffer->lent = object;
			break;
		}
		heapcomp_heap_buffer_v1_destroy(object);
		errors += "heapcomp: " +
			  (lent.ready ? std::string("planes not as the format has them") : lent.message) +
			  "; ";
	}
	if (!buffer->fd) {
		client->fail("no heap could allocate " + std::to_string(width) + "x" +
			     std::to_string(height) + ": " + errors);
		return nullptr;
	}

	/* The wl_buffer, on the application's queue like its other objects. */
	auto *params = zwp_linux_dmabuf_v1_create_params(client->dmabuf);
	for (uint32_t i = 0; i < buffer->planes.size(); i++) {
		const Plane &plane = buffer->planes[i];
		zwp_linux_buffer_params_v1_add(params, plane.fd ? plane.fd.get() : buffer->fd.get(),
					       i, plane.offset, plane.stride,
					       uint32_t(DRM_FORMAT_MOD_LINEAR >> 32),
					       uint32_t(DRM_FORMAT_MOD_LINEAR & 0xffffffff));
	}
	buffer->buffer = zwp_linux_buffer_params_v1_create_immed(params, int32_t(width),
								 int32_t(height), format, 0);
	zwp_linux_buffer_params_v1_destroy(params);
	wl_proxy_set_queue(reinterpret_cast<wl_proxy *>(buffer->buffer), nullptr);
	client->error.clear();
	return buffer.release();
}

void hc_buffer_destroy(hc_buffer *buffer)
{
	if (!buffer)
		return;
	if (buffer->map)
		munmap(buffer->map, buffer->size);
	if (buffer->buffer)
		wl_buffer_destroy(buffer->buffer);
	if (buffer->lent)
		heapcomp_heap_buffer_v1_destroy(buffer->lent);
	delete buffer;
}

wl_buffer *hc_buffer_wl_buffer(const hc_buffer *buffer)
{
	return buffer->buffer;
}

const char *hc_buffer_heap(const hc_buffer *buffer)
{
	return buffer->heap.c_str();
}

hc_alloc_path hc_buffer_path(const hc_buffer *buffer)
{
	return buffer->path;
}

int hc_buffer_fd(const hc_buffer *buffer)
{
	return buffer->fd.get();
}

uint32_t hc_buffer_stride(const hc_buffer *buffer)
{
	return buffer->planes[0].stride;
}

uint32_t hc_buffer_plane_count(const hc_buffer *buffer)
{
	return uint32_t(buffer->planes.size());
}

uint32_t hc_buffer_plane_offset(const hc_buffer *buffer, uint32_t plane)
{
	return plane < buffer->planes.size() ? buffer->planes[plane].offset : 0;
}

uint32_t hc_buffer_plane_stride(const hc_buffer *buffer, uint32_t plane)
{
	return plane < buffer->planes.size() ? buffer->planes[plane].stride : 0;
}

uint64_t hc_buffer_size(const hc_buffer *buffer)
{
	return buffer->size;
}

void *hc_buffer_begin_cpu_access(hc_buffer *buffer)
{
	if (!buffer->map) {
		void *map = mmap(nullptr, buffer->size, PROT_READ | PROT_WRITE, MAP_SHARED,
				 buffer->fd.get(), 0);
		if (map == MAP_FAILED) {
			buffer->client->fail("mmap: " + errnoText(errno));
			return nullptr;
		}
		buffer->map = map;
	}
	dma_buf_sync sync{ DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	while (ioctl(buffer->fd.get(), DMA_BUF_IOCTL_SYNC, &sync) < 0) {
		if (errno != EINTR && errno != EAGAIN) {
			buffer->client->fail("DMA_BUF_IOCTL_SYNC start: " + errnoText(errno));
			return nullptr;
		}
	}
	return buffer->map;
}

int hc_buffer_end_cpu_access(hc_buffer *buffer)
{
	dma_buf_sync sync{ DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW };
	while (ioctl(buffer->fd.get(), DMA_BUF_IOCTL_SYNC, &sync) < 0) {
		if (errno != EINTR && errno != EAGAIN)
			return buffer->client->fail("DMA_BUF_IOCTL_SYNC end: " + errnoText(errno)) ? 0 : -1;
	}
	return 0;
}

} /* extern "C" */
