/* SPDX-License-Identifier: MIT */
#include "protocols/subcompositor.h"

#include <cstring>

#include <wayland-server-protocol.h>

#include "server.h"
#include "surface.h"

namespace comp {

namespace {

Subsurface *subsurfaceFrom(wl_resource *resource)
{
	auto *sub = fromResource<Subsurface>(resource);
	/* Inert once its surface is gone. */
	return sub && sub->surface() ? sub : nullptr;
}

void subsurfaceSetPosition(wl_client *, wl_resource *resource, int32_t x, int32_t y)
{
	if (Subsurface *sub = subsurfaceFrom(resource))
		sub->setPosition(x, y);
}

void subsurfacePlaceAbove(wl_client *, wl_resource *resource, wl_resource *sibling)
{
	if (Subsurface *sub = subsurfaceFrom(resource))
		sub->placeAbove(Surface::fromResource(sibling), true);
}

void subsurfacePlaceBelow(wl_client *, wl_resource *resource, wl_resource *sibling)
{
	if (Subsurface *sub = subsurfaceFrom(resource))
		sub->placeAbove(Surface::fromResource(sibling), false);
}

void subsurfaceSetSync(wl_client *, wl_resource *resource)
{
	if (Subsurface *sub = subsurfaceFrom(resource))
		sub->setSync(true);
}

void subsurfaceSetDesync(wl_client *, wl_resource *resource)
{
	if (Subsurface *sub = subsurfaceFrom(resource))
		sub->setSync(false);
}

const struct wl_subsurface_interface subsurfaceImpl = {
	.destroy = destroyResource,
	.set_position = subsurfaceSetPosition,
	.place_above = subsurfacePlaceAbove,
	.place_below = subsurfacePlaceBelow,
	.set_sync = subsurfaceSetSync,
	.set_desync = subsurfaceSetDesync,
};

/* Whether ancestor is surface or one of its subsurface ancestors. */
bool isAncestor(Surface *ancestor, Surface *surface)
{
	for (Surface *s = surface; s;) {
		if (s == ancestor)
			return true;
		Subsurface *sub = s->asSubsurface();
		s = sub ? sub->parent() : nullptr;
	}
	return false;
}

void getSubsurface(wl_client *client, wl_resource *resource, uint32_t id,
		   wl_resource *surfaceResource, wl_resource *parentResource)
{
	Surface *surface = Surface::fromResource(surfaceResource);
	Surface *parent = Surface::fromResource(parentResource);
	if (surface == parent || isAncestor(surface, parent)) {
		wl_resource_post_error(resource, WL_SUBCOMPOSITOR_ERROR_BAD_SURFACE,
				       "wl_surface@%u cannot be a subsurface of its own descendant",
				       wl_resource_get_id(surfaceResource));
		return;
	}
	if (!surface->canTakeRole("wl_subsurface")) {
		wl_resource_post_error(resource, WL_SUBCOMPOSITOR_ERROR_BAD_SURFACE,
				       "wl_surface@%u already has a role",
				       wl_resource_get_id(surfaceResource));
		return;
	}
	wl_resource *subResource = wl_resource_create(client, &wl_subsurface_interface,
						      wl_resource_get_version(resource), id);
	if (!subResource) {
		wl_client_post_no_memory(client);
		return;
	}
	auto *sub = new Subsurface(surface, parent, subResource);
	bindToResource(subResource, &subsurfaceImpl, sub);
	surface->setRole(sub, "wl_subsurface", resource, WL_SUBCOMPOSITOR_ERROR_BAD_SURFACE);
}

const struct wl_subcompositor_interface subcompositorImpl = {
	.destroy = destroyResource,
	.get_subsurface = getSubsurface,
};

} /* namespace */

SubcompositorGlobal::SubcompositorGlobal(Server &server)
	: global_(server.display(), &wl_subcompositor_interface, 1, this, &bind)
{
}

void SubcompositorGlobal::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	wl_resource *resource = wl_resource_create(client, &wl_subcompositor_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &subcompositorImpl, data, nullptr);
}

} /* namespace comp */
