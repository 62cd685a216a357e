/* SPDX-License-Identifier: MIT */
#include "protocols/compositor.h"

#include <wayland-server-protocol.h>

#include "client.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

/* A wl_region with the limit of its client's. */
struct RegionResource {
	Region region;
	uint32_t maxRects;
};

void checkRegion(wl_client *client, wl_resource *resource)
{
	auto *r = fromResource<RegionResource>(resource);
	if (r->region.numRects() > r->maxRects)
		disconnectOverLimit(client, "region-rects",
				    "wl_region@" + std::to_string(wl_resource_get_id(resource)) +
					    " rectangles",
				    r->region.numRects(), r->maxRects);
}

void regionAdd(wl_client *client, wl_resource *resource, int32_t x, int32_t y, int32_t w,
	       int32_t h)
{
	fromResource<RegionResource>(resource)->region.add({ x, y, w, h });
	checkRegion(client, resource);
}

void regionSubtract(wl_client *client, wl_resource *resource, int32_t x, int32_t y, int32_t w,
		    int32_t h)
{
	fromResource<RegionResource>(resource)->region.subtract({ x, y, w, h });
	checkRegion(client, resource);
}

const struct wl_region_interface regionImpl = {
	.destroy = destroyResource,
	.add = regionAdd,
	.subtract = regionSubtract,
};

void createSurface(wl_client *client, wl_resource *resource, uint32_t id)
{
	auto *global = fromResource<CompositorGlobal>(resource);
	Surface::create(global->server(), client, wl_resource_get_version(resource), id);
}

void createRegion(wl_client *client, wl_resource *resource, uint32_t id)
{
	wl_resource *region = wl_resource_create(client, &wl_region_interface,
						 wl_resource_get_version(resource), id);
	if (!region) {
		wl_client_post_no_memory(client);
		return;
	}
	auto *global = fromResource<CompositorGlobal>(resource);
	bindToResource(region, &regionImpl,
		       new RegionResource{ {}, global->server().config().limits.regionRects });
}

const struct wl_compositor_interface compositorImpl = {
	.create_surface = createSurface,
	.create_region = createRegion,
};

} /* namespace */

const Region *regionOfResource(wl_resource *resource)
{
	return &fromResource<RegionResource>(resource)->region;
}

CompositorGlobal::CompositorGlobal(Server &server)
	: server_(server),
	  global_(server.display(), &wl_compositor_interface, kVersion, this, &bind)
{
}

void CompositorGlobal::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	wl_resource *resource = wl_resource_create(client, &wl_compositor_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &compositorImpl, data, nullptr);
}

} /* namespace comp */
