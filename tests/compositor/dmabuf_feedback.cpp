/* SPDX-License-Identifier: MIT */
#include "dmabuf_feedback.h"

#include <cstring>
#include <sys/mman.h>

#include <bufmgr/unique_fd.h>

#include "proxy.h"
#include "test_client.h"

namespace heapcomp::test {

namespace {

dev_t deviceFrom(wl_array *array, size_t *bytes)
{
	dev_t device = 0;
	*bytes = array->size;
	if (array->size == sizeof(dev_t))
		memcpy(&device, array->data, sizeof(dev_t));
	return device;
}

} /* namespace */

std::vector<DmabufFeedback::Format> DmabufFeedback::formats(const Tranche &tranche) const
{
	std::vector<Format> out;
	for (uint16_t index : tranche.indices) {
		if (index < table.size())
			out.push_back(table[index]);
	}
	return out;
}

bool DmabufFeedback::has(const Tranche &tranche, uint32_t format, uint64_t modifier) const
{
	for (const Format &f : formats(tranche)) {
		if (f.format == format && f.modifier == modifier)
			return true;
	}
	return false;
}

void DmabufFeedback::listen(zwp_linux_dmabuf_feedback_v1 *feedback)
{
	static const zwp_linux_dmabuf_feedback_v1_listener listener = {
		.done = [](void *data, zwp_linux_dmabuf_feedback_v1 *) {
			auto *self = static_cast<DmabufFeedback *>(data);
			/* Each batch replaces the last whole. */
			self->tranches = std::move(self->batch_);
			self->batch_.clear();
			self->dones++;
		},
		.format_table = [](void *data, zwp_linux_dmabuf_feedback_v1 *, int32_t fd,
				   uint32_t size) {
			auto *self = static_cast<DmabufFeedback *>(data);
			bufmgr::UniqueFd owned(fd);
			self->tableSize = size;
			self->table.clear();
			void *map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (map != MAP_FAILED) {
				struct Entry {
					uint32_t format;
					uint32_t pad;
					uint64_t modifier;
				};
				const auto *entries = static_cast<const Entry *>(map);
				for (size_t i = 0; i < size / sizeof(Entry); i++)
					self->table.push_back({ entries[i].format, entries[i].modifier });
				munmap(map, size);
			}
			void *w = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			self->tableWritable = w != MAP_FAILED;
			if (w != MAP_FAILED)
				munmap(w, size);
		},
		.main_device = [](void *data, zwp_linux_dmabuf_feedback_v1 *, wl_array *device) {
			auto *self = static_cast<DmabufFeedback *>(data);
			self->mainDevice = deviceFrom(device, &self->mainDeviceBytes);
		},
		.tranche_done = [](void *data, zwp_linux_dmabuf_feedback_v1 *) {
			auto *self = static_cast<DmabufFeedback *>(data);
			self->batch_.push_back(self->pending_);
			self->pending_ = {};
		},
		.tranche_target_device = [](void *data, zwp_linux_dmabuf_feedback_v1 *,
					    wl_array *device) {
			auto *self = static_cast<DmabufFeedback *>(data);
			size_t bytes;
			self->pending_.device = deviceFrom(device, &bytes);
		},
		.tranche_formats = [](void *data, zwp_linux_dmabuf_feedback_v1 *, wl_array *indices) {
			auto *self = static_cast<DmabufFeedback *>(data);
			const auto *p = static_cast<const uint16_t *>(indices->data);
			for (size_t i = 0; i < indices->size / sizeof(uint16_t); i++)
				self->pending_.indices.push_back(p[i]);
		},
		.tranche_flags = [](void *data, zwp_linux_dmabuf_feedback_v1 *, uint32_t flags) {
			static_cast<DmabufFeedback *>(data)->pending_.flags = flags;
		},
	};
	zwp_linux_dmabuf_feedback_v1_add_listener(feedback, &listener, this);
}

bool receiveDefaultFeedback(TestClient &client, DmabufFeedback &feedback)
{
	Proxy<zwp_linux_dmabuf_feedback_v1> object(
		zwp_linux_dmabuf_v1_get_default_feedback(client.dmabuf));
	feedback.listen(object);
	return client.dispatchUntil([&] { return feedback.dones == 1; });
}

} /* namespace heapcomp::test */
