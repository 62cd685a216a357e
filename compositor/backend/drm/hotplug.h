/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <memory>
#include <sys/types.h>

#include <bufmgr/result.h>

#include "backend/drm/udev_ptr.h"
#include "wayland_util.h"

struct wl_event_loop;

namespace comp {

using bufmgr::Result;

/*
 * The kernel's hotplug events for one DRM device (a connector plugged or
 * unplugged), as udev passes them on: each calls the handler, which
 * reads the connectors again.
 */
class DrmHotplug
{
public:
	static Result<std::unique_ptr<DrmHotplug>> create(wl_event_loop *loop, dev_t device,
							  std::function<void()> handler);
	~DrmHotplug();
	DrmHotplug(const DrmHotplug &) = delete;
	DrmHotplug &operator=(const DrmHotplug &) = delete;

private:
	DrmHotplug() = default;
	static int onReadable(int fd, uint32_t mask, void *data);

	UdevPtr udev_;
	UdevMonitorPtr monitor_;
	EventSource source_;
	dev_t device_ = 0;
	std::function<void()> handler_;
};

} /* namespace comp */
