/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <list>

#include "wayland_util.h"

namespace comp {

class Server;
class XdgSurface;

/* xdg_wm_base (v5): desktop windows and popups. */
class XdgShell
{
public:
	static constexpr int kVersion = 5;

	explicit XdgShell(Server &server);
	Server &server() const { return server_; }

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);

	Server &server_;
	Global global_;
};

/* One client's xdg_wm_base: tracks its xdg_surfaces for defunct_surfaces. */
class XdgWmBase
{
public:
	XdgWmBase(XdgShell &shell, wl_resource *resource);
	~XdgWmBase();

	XdgShell &shell() const { return shell_; }
	wl_resource *resource() const { return resource_; }
	std::list<XdgSurface *> &surfaces() { return surfaces_; }

private:
	XdgShell &shell_;
	wl_resource *resource_;
	std::list<XdgSurface *> surfaces_;
};

} /* namespace comp */
