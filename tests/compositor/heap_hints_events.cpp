/* SPDX-License-Identifier: MIT */
#include "heap_hints_events.h"

#include <algorithm>
#include <cstring>

namespace heapcomp::test {

namespace {

dev_t deviceFrom(const wl_array *array)
{
	dev_t device = 0;
	if (array->size == sizeof(dev_t))
		memcpy(&device, array->data, sizeof(dev_t));
	return device;
}

template<typename T>
std::vector<T> valuesFrom(const wl_array *array)
{
	std::vector<T> values(array->size / sizeof(T));
	if (!values.empty())
		memcpy(values.data(), array->data, values.size() * sizeof(T));
	return values;
}

uint64_t u64(uint32_t hi, uint32_t lo)
{
	return (uint64_t(hi) << 32) | lo;
}

} /* namespace */

const HeapList::Heap *HeapList::find(const std::string &name) const
{
	for (const Heap &heap : heaps)
		if (heap.name == name)
			return &heap;
	return nullptr;
}

HeapList::Heap *HeapList::pending(uint32_t id)
{
	for (Heap &heap : pending_)
		if (heap.id == id)
			return &heap;
	return nullptr;
}

void HeapList::listen(heapcomp_heaps_v1 *global)
{
	static const heapcomp_heaps_v1_listener listener = {
		.heap = [](void *data, heapcomp_heaps_v1 *, uint32_t id, const char *name,
			   uint32_t properties, uint32_t pool, uint32_t accessible) {
			auto *self = static_cast<HeapList *>(data);
			if (self->replacing_)
				self->pending_.clear();
			self->replacing_ = false;
			Heap heap;
			heap.id = id;
			heap.name = name;
			heap.properties = properties;
			heap.pool = pool;
			heap.accessible = accessible != 0;
			self->pending_.push_back(std::move(heap));
		},
		.heap_memory = [](void *data, heapcomp_heaps_v1 *, uint32_t id, uint32_t totalHi,
				  uint32_t totalLo, uint32_t availableHi, uint32_t availableLo) {
			if (Heap *heap = static_cast<HeapList *>(data)->pending(id)) {
				heap->totalBytes = u64(totalHi, totalLo);
				heap->availableBytes = u64(availableHi, availableLo);
			}
		},
		.done = [](void *data, heapcomp_heaps_v1 *) {
			auto *self = static_cast<HeapList *>(data);
			self->heaps = self->pending_;
			self->replacing_ = true;
			self->dones++;
		},
		.heap_region = [](void *data, heapcomp_heaps_v1 *, uint32_t id, const char *node) {
			auto *self = static_cast<HeapList *>(data);
			self->versionTwoEvents++;
			if (Heap *heap = self->pending(id))
				heap->region = node;
		},
		.heap_device = [](void *data, heapcomp_heaps_v1 *, uint32_t id, const char *node,
				  const char *driver) {
			auto *self = static_cast<HeapList *>(data);
			self->versionTwoEvents++;
			if (Heap *heap = self->pending(id))
				heap->devices.emplace_back(node, driver);
		},
		.heap_accounting = [](void *data, heapcomp_heaps_v1 *, uint32_t id,
				      uint32_t controller, const char *region) {
			auto *self = static_cast<HeapList *>(data);
			self->versionTwoEvents++;
			if (Heap *heap = self->pending(id)) {
				heap->accounting = controller;
				heap->dmemRegion = region;
			}
		},
	};
	heapcomp_heaps_v1_add_listener(global, &listener, this);
}

void HeapFeedback::listen(heapcomp_heap_feedback_v1 *feedback)
{
	static const heapcomp_heap_feedback_v1_listener listener = {
		.format_table = [](void *data, heapcomp_heap_feedback_v1 *, int32_t fd,
				   uint32_t size) {
			bufmgr::UniqueFd owned(fd);
			static_cast<HeapFeedback *>(data)->tableSize = size;
		},
		.main_device = [](void *data, heapcomp_heap_feedback_v1 *, wl_array *device) {
			static_cast<HeapFeedback *>(data)->mainDevice = deviceFrom(device);
		},
		.tranche_target_device = [](void *data, heapcomp_heap_feedback_v1 *,
					    wl_array *device) {
			static_cast<HeapFeedback *>(data)->tranche_.device = deviceFrom(device);
		},
		.tranche_formats = [](void *data, heapcomp_heap_feedback_v1 *, wl_array *indices) {
			static_cast<HeapFeedback *>(data)->tranche_.indices =
				valuesFrom<uint16_t>(indices);
		},
		.tranche_flags = [](void *data, heapcomp_heap_feedback_v1 *, uint32_t flags) {
			static_cast<HeapFeedback *>(data)->tranche_.flags = flags;
		},
		.tranche_heaps = [](void *data, heapcomp_heap_feedback_v1 *, wl_array *heaps) {
			static_cast<HeapFeedback *>(data)->tranche_.heaps = valuesFrom<uint32_t>(heaps);
		},
		.tranche_done = [](void *data, heapcomp_heap_feedback_v1 *) {
			auto *self = static_cast<HeapFeedback *>(data);
			self->pending_.push_back(std::move(self->tranche_));
			self->tranche_ = {};
		},
		.done = [](void *data, heapcomp_heap_feedback_v1 *) {
			auto *self = static_cast<HeapFeedback *>(data);
			self->tranches = std::move(self->pending_);
			self->pending_.clear();
			self->dones++;
		},
	};
	heapcomp_heap_feedback_v1_add_listener(feedback, &listener, this);
}

bool HeapFeedback::mirrors(const DmabufFeedback &dmabuf) const
{
	if (tranches.size() != dmabuf.tranches.size() || mainDevice != dmabuf.mainDevice ||
	    tableSize != dmabuf.tableSize)
		return false;
	for (size_t i = 0; i < tranches.size(); i++) {
		const Tranche &ours = tranches[i];
		const DmabufFeedback::Tranche &theirs = dmabuf.tranches[i];
		if (ours.device != theirs.device || ours.flags != theirs.flags ||
		    ours.indices != theirs.indices)
			return false;
	}
	return true;
}

void HeapAllocation::listen(heapcomp_heap_buffer_v1 *buffer)
{
	static const heapcomp_heap_buffer_v1_listener listener = {
		.plane = [](void *data, heapcomp_heap_buffer_v1 *, uint32_t index, int32_t fd,
			    uint32_t offset, uint32_t stride) {
			auto *self = static_cast<HeapAllocation *>(data);
			if (self->planes.size() <= index)
				self->planes.resize(index + 1);
			self->planes[index] = { bufmgr::UniqueFd(fd), offset, stride };
		},
		.ready = [](void *data, heapcomp_heap_buffer_v1 *, uint32_t sizeHi, uint32_t sizeLo) {
			auto *self = static_cast<HeapAllocation *>(data);
			self->size = u64(sizeHi, sizeLo);
			self->ready = true;
		},
		.failed = [](void *data, heapcomp_heap_buffer_v1 *, uint32_t reason,
			     const char *message) {
			auto *self = static_cast<HeapAllocation *>(data);
			self->failure = reason;
			self->message = message;
		},
	};
	heapcomp_heap_buffer_v1_add_listener(buffer, &listener, this);
}

HeapsClient::HeapsClient(const std::string &socket, uint32_t version)
	: client(socket), version_(version)
{
	registry.reset(wl_display_get_registry(client.display()));
	static const wl_registry_listener listener = {
		.global = [](void *data, wl_registry *registry, uint32_t name, const char *interface,
			     uint32_t advertised) {
			auto *self = static_cast<HeapsClient *>(data);
			if (std::string(interface) != heapcomp_heaps_v1_interface.name)
				return;
			self->heaps.reset(static_cast<heapcomp_heaps_v1 *>(wl_registry_bind(
				registry, name, &heapcomp_heaps_v1_interface,
				std::min(advertised, self->version_))));
			self->list.listen(self->heaps);
		},
		.global_remove = [](void *, wl_registry *, uint32_t) {},
	};
	wl_registry_add_listener(registry, &listener, this);
	client.roundtrip();
	if (heaps)
		client.dispatchUntil([this] { return list.dones > 0; });
}

uint32_t HeapsClient::heapId(const std::string &name) const
{
	const HeapList::Heap *heap = list.find(name);
	return heap ? heap->id : 0;
}

heapcomp_heap_buffer_v1 *HeapsClient::allocate(uint32_t heap, int32_t width, int32_t height,
					       uint32_t format, uint64_t modifier, uint32_t usage)
{
	return heapcomp_heaps_v1_allocate(heaps, heap, width, height, format,
					  uint32_t(modifier >> 32), uint32_t(modifier), usage);
}

} /* namespace heapcomp::test */
