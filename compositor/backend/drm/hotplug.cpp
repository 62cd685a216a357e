/* SPDX-License-Identifier: MIT */
#include "backend/drm/hotplug.h"

#include <cerrno>
#include <cstring>

#include <libudev.h>
#include <wayland-server-core.h>

namespace comp {

Result<std::unique_ptr<DrmHotplug>> DrmHotplug::create(wl_event_loop *loop, dev_t device,
							std::function<void()> handler)
{
	std::unique_ptr<DrmHotplug> hotplug(new DrmHotplug());
	hotplug->device_ = device;
	hotplug->handler_ = std::move(handler);
	hotplug->udev_.reset(udev_new());
	if (!hotplug->udev_)
		return bufmgr::unexpected(errno ? errno : ENOMEM, "udev_new");
	/* Events udev has handled, as every compositor reads them (udev must run). */
	hotplug->monitor_.reset(udev_monitor_new_from_netlink(hotplug->udev_.get(), "udev"));
	if (!hotplug->monitor_)
		return bufmgr::unexpected(errno ? errno : ENOMEM, "udev monitor");
	udev_monitor *monitor = hotplug->monitor_.get();
	if (udev_monitor_filter_add_match_subsystem_devtype(monitor, "drm", nullptr) < 0 ||
	    udev_monitor_enable_receiving(monitor) < 0)
		return bufmgr::unexpected(EINVAL, "udev monitor for drm events");
	hotplug->source_.reset(wl_event_loop_add_fd(loop, udev_monitor_get_fd(monitor),
						    WL_EVENT_READABLE, &DrmHotplug::onReadable,
						    hotplug.get()));
	if (!hotplug->source_)
		return bufmgr::unexpected(ENOMEM, "event source for hotplug events");
	return hotplug;
}

DrmHotplug::~DrmHotplug()
{
	source_.reset();
}

int DrmHotplug::onReadable(int, uint32_t, void *data)
{
	auto *self = static_cast<DrmHotplug *>(data);
	bool changed = false;
	while (udev_device *event = udev_monitor_receive_device(self->monitor_.get())) {
		const char *hotplug = udev_device_get_property_value(event, "HOTPLUG");
		if (udev_device_get_devnum(event) == self->device_ && hotplug &&
		    std::strcmp(hotplug, "1") == 0)
			changed = true;
		udev_device_unref(event);
	}
	if (changed)
		self->handler_();
	return 0;
}

} /* namespace comp */
