/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <wayland-client.h>

#include "proxy.h"

namespace heapcomp::test {

/* What a client's wl_data_device and its latest offer have told it. */
struct DeviceEvents {
	/* Binds the client's device for seat and records into this. */
	void listen(wl_data_device_manager *manager, wl_seat *seat);

	Proxy<wl_data_device> device;
	/* The newest offer; the one before it is destroyed when it comes. */
	Proxy<wl_data_offer> offer;
	std::vector<std::string> mimeTypes;
	bool selection = false;		/* a selection event came */
	uint32_t sourceActions = 0;
	uint32_t action = 0;
	uint32_t enterSerial = 0;
	wl_surface *entered = nullptr;
	double x = 0, y = 0;
	/* Drag and drop: "enter", "motion", "leave", "drop" */
	std::vector<std::string> events;
};

/* What a wl_data_source has been told; send writes text and closes. */
struct SourceEvents {
	void listen(wl_data_source *source);

	std::string text;
	int sends = 0;
	std::vector<std::string> targets;	/* "" for null */
	uint32_t action = 0;
	bool dropPerformed = false;
	bool finished = false;
	bool cancelled = false;
};

} /* namespace heapcomp::test */
