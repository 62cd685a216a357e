/* SPDX-License-Identifier: MIT */
#pragma once

#include <memory>

#include <libudev.h>

namespace comp {

/* libudev's objects, unreferenced when their owner goes. */
struct UdevUnref {
	void operator()(udev *u) const { udev_unref(u); }
	void operator()(udev_monitor *m) const { udev_monitor_unref(m); }
};
using UdevPtr = std::unique_ptr<udev, UdevUnref>;
using UdevMonitorPtr = std::unique_ptr<udev_monitor, UdevUnref>;

} /* namespace comp */
