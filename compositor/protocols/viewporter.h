/* SPDX-License-Identifier: MIT */
#pragma once

#include "wayland_util.h"

namespace comp {

class Server;
class Surface;

/* wp_viewporter: crop and scale surfaces. */
class Viewporter
{
public:
	explicit Viewporter(Server &server);
	Server &server() const { return server_; }

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);

	Server &server_;
	Global global_;
};

/*
 * One surface's wp_viewport. The state is double-buffered in the
 * surface; this object validates the requests and goes inert when the
 * surface does.
 */
class Viewport
{
public:
	Viewport(Surface *surface, wl_resource *resource);
	~Viewport();

	Surface *surface() const { return surface_; }
	wl_resource *resource() const { return resource_; }

	void setSource(wl_fixed_t x, wl_fixed_t y, wl_fixed_t width, wl_fixed_t height);
	void setDestination(int32_t width, int32_t height);

private:
	Surface *surface_;
	wl_resource *resource_;
	Listener surfaceDestroy_;
};

} /* namespace comp */
