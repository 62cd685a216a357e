/* SPDX-License-Identifier: MIT */
#pragma once

#include "wayland_util.h"

namespace comp {

class Server;

/* wl_subcompositor; the subsurface state lives in surface.h. */
class SubcompositorGlobal
{
public:
	explicit SubcompositorGlobal(Server &server);

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);

	Global global_;
};

} /* namespace comp */
