/* SPDX-License-Identifier: MIT */
#pragma once

#include "wayland_util.h"

namespace comp {

class Region;
class Server;

/* The region of a wl_region resource. */
const Region *regionOfResource(wl_resource *resource);

/* wl_compositor: surfaces and regions. */
class CompositorGlobal
{
public:
	static constexpr int kVersion = 5;

	explicit CompositorGlobal(Server &server);
	Server &server() const { return server_; }

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);

	Server &server_;
	Global global_;
};

} /* namespace comp */
