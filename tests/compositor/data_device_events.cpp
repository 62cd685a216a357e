/* SPDX-License-Identifier: MIT */
#include "data_device_events.h"

#include <unistd.h>

namespace heapcomp::test {

namespace {

const wl_data_offer_listener offerListener = {
	.offer = [](void *data, wl_data_offer *, const char *mime) {
		static_cast<DeviceEvents *>(data)->mimeTypes.emplace_back(mime);
	},
	.source_actions = [](void *data, wl_data_offer *, uint32_t actions) {
		static_cast<DeviceEvents *>(data)->sourceActions = actions;
	},
	.action = [](void *data, wl_data_offer *, uint32_t action) {
		static_cast<DeviceEvents *>(data)->action = action;
	},
};

const wl_data_device_listener deviceListener = {
	.data_offer = [](void *data, wl_data_device *, wl_data_offer *offer) {
		auto *d = static_cast<DeviceEvents *>(data);
		d->offer.reset(offer);
		d->mimeTypes.clear();
		wl_data_offer_add_listener(offer, &offerListener, d);
	},
	.enter = [](void *data, wl_data_device *, uint32_t serial, wl_surface *surface,
		    wl_fixed_t x, wl_fixed_t y, wl_data_offer *offer) {
		auto *d = static_cast<DeviceEvents *>(data);
		d->enterSerial = serial;
		d->entered = surface;
		d->x = wl_fixed_to_double(x);
		d->y = wl_fixed_to_double(y);
		if (offer != d->offer.get())
			d->offer.reset(offer);
		d->events.push_back("enter");
	},
	.leave = [](void *data, wl_data_device *) {
		static_cast<DeviceEvents *>(data)->events.push_back("leave");
	},
	.motion = [](void *data, wl_data_device *, uint32_t, wl_fixed_t x, wl_fixed_t y) {
		auto *d = static_cast<DeviceEvents *>(data);
		d->x = wl_fixed_to_double(x);
		d->y = wl_fixed_to_double(y);
		d->events.push_back("motion");
	},
	.drop = [](void *data, wl_data_device *) {
		static_cast<DeviceEvents *>(data)->events.push_back("drop");
	},
	.selection = [](void *data, wl_data_device *, wl_data_offer *offer) {
		auto *d = static_cast<DeviceEvents *>(data);
		d->selection = true;
		if (!offer)
			d->offer.reset();
	},
};

const wl_data_source_listener sourceListener = {
	.target = [](void *data, wl_data_source *, const char *mime) {
		static_cast<SourceEvents *>(data)->targets.emplace_back(mime ? mime : "");
	},
	.send = [](void *data, wl_data_source *, const char *, int32_t fd) {
		auto *s = static_cast<SourceEvents *>(data);
		s->sends++;
		ssize_t n = write(fd, s->text.data(), s->text.size());
		(void)n;
		close(fd);
	},
	.cancelled = [](void *data, wl_data_source *) {
		static_cast<SourceEvents *>(data)->cancelled = true;
	},
	.dnd_drop_performed = [](void *data, wl_data_source *) {
		static_cast<SourceEvents *>(data)->dropPerformed = true;
	},
	.dnd_finished = [](void *data, wl_data_source *) {
		static_cast<SourceEvents *>(data)->finished = true;
	},
	.action = [](void *data, wl_data_source *, uint32_t action) {
		static_cast<SourceEvents *>(data)->action = action;
	},
};

} /* namespace */

void DeviceEvents::listen(wl_data_device_manager *manager, wl_seat *seat)
{
	device.reset(wl_data_device_manager_get_data_device(manager, seat));
	wl_data_device_add_listener(device, &deviceListener, this);
}

void SourceEvents::listen(wl_data_source *source)
{
	wl_data_source_add_listener(source, &sourceListener, this);
}

} /* namespace heapcomp::test */
