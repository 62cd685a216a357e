/* SPDX-License-Identifier: MIT */
#include "protocols/xdg_shell/xdg_wm_base.h"

#include <xdg-shell-server-protocol.h>

#include "protocols/xdg_shell/xdg_positioner.h"
#include "protocols/xdg_shell/xdg_surface.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

void wmBaseDestroy(wl_client *, wl_resource *resource)
{
	auto *base = fromResource<XdgWmBase>(resource);
	if (!base->surfaces().empty()) {
		wl_resource_post_error(resource, XDG_WM_BASE_ERROR_DEFUNCT_SURFACES,
				       "xdg_wm_base destroyed with %zu xdg_surfaces left",
				       base->surfaces().size());
		return;
	}
	wl_resource_destroy(resource);
}

void wmBaseCreatePositioner(wl_client *, wl_resource *resource, uint32_t id)
{
	XdgPositionerState::create(resource, id);
}

void wmBaseGetXdgSurface(wl_client *, wl_resource *resource, uint32_t id,
			 wl_resource *surfaceResource)
{
	auto *base = fromResource<XdgWmBase>(resource);
	Surface *surface = Surface::fromResource(surfaceResource);
	if (!surface->canTakeRole("xdg_surface")) {
		wl_resource_post_error(resource, XDG_WM_BASE_ERROR_ROLE,
				       "wl_surface@%u already has role %s",
				       wl_resource_get_id(surfaceResource),
				       surface->roleName() ? surface->roleName() : "xdg_surface");
		return;
	}
	if (surface->hasCommittedBuffer() || (surface->hasPendingBuffer() && surface->pending().buffer)) {
		wl_resource_post_error(resource, XDG_WM_BASE_ERROR_INVALID_SURFACE_STATE,
				       "wl_surface@%u already has a buffer",
				       wl_resource_get_id(surfaceResource));
		return;
	}
	XdgSurface::create(base, surface, id);
}

void wmBasePong(wl_client *, wl_resource *, uint32_t)
{
}

const struct xdg_wm_base_interface wmBaseImpl = {
	.destroy = wmBaseDestroy,
	.create_positioner = wmBaseCreatePositioner,
	.get_xdg_surface = wmBaseGetXdgSurface,
	.pong = wmBasePong,
};

} /* namespace */

XdgShell::XdgShell(Server &server)
	: server_(server),
	  global_(server.display(), &xdg_wm_base_interface, kVersion, this, &bind)
{
}

void XdgShell::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	wl_resource *resource = wl_resource_create(client, &xdg_wm_base_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	bindToResource(resource, &wmBaseImpl,
		       new XdgWmBase(*static_cast<XdgShell *>(data), resource));
}

XdgWmBase::XdgWmBase(XdgShell &shell, wl_resource *resource)
	: shell_(shell), resource_(resource)
{
}

XdgWmBase::~XdgWmBase()
{
	/* At client teardown the surfaces may outlive this object briefly. */
	for (XdgSurface *surface : surfaces_)
		surface->baseGone();
}

} /* namespace comp */
