/* SPDX-License-Identifier: MIT */
#include "protocols/viewporter.h"

#include <cmath>

#include <viewporter-server-protocol.h>

#include "server.h"
#include "surface.h"

namespace comp {

namespace {

Viewport *viewportFrom(wl_resource *resource)
{
	return fromResource<Viewport>(resource);
}

void viewportSetSource(wl_client *, wl_resource *resource, wl_fixed_t x, wl_fixed_t y,
		       wl_fixed_t width, wl_fixed_t height)
{
	viewportFrom(resource)->setSource(x, y, width, height);
}

void viewportSetDestination(wl_client *, wl_resource *resource, int32_t width, int32_t height)
{
	viewportFrom(resource)->setDestination(width, height);
}

const struct wp_viewport_interface viewportImpl = {
	.destroy = destroyResource,
	.set_source = viewportSetSource,
	.set_destination = viewportSetDestination,
};

void getViewport(wl_client *client, wl_resource *resource, uint32_t id,
		 wl_resource *surfaceResource)
{
	Surface *surface = Surface::fromResource(surfaceResource);
	if (surface->viewport()) {
		wl_resource_post_error(resource, WP_VIEWPORTER_ERROR_VIEWPORT_EXISTS,
				       "wl_surface@%u already has a viewport",
				       wl_resource_get_id(surfaceResource));
		return;
	}
	wl_resource *viewport = wl_resource_create(client, &wp_viewport_interface,
						   wl_resource_get_version(resource), id);
	if (!viewport) {
		wl_client_post_no_memory(client);
		return;
	}
	bindToResource(viewport, &viewportImpl, new Viewport(surface, viewport));
}

const struct wp_viewporter_interface viewporterImpl = {
	.destroy = destroyResource,
	.get_viewport = getViewport,
};

} /* namespace */

Viewporter::Viewporter(Server &server)
	: server_(server),
	  global_(server.display(), &wp_viewporter_interface, 1, this, &bind)
{
}

void Viewporter::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	wl_resource *resource = wl_resource_create(client, &wp_viewporter_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &viewporterImpl, data, nullptr);
}

Viewport::Viewport(Surface *surface, wl_resource *resource)
	: surface_(surface), resource_(resource)
{
	surface_->setViewport(this);
	surfaceDestroy_.connect(surface_->destroySignal(), [this](void *) {
		surface_->setViewport(nullptr);
		surface_ = nullptr;
		surfaceDestroy_.disconnect();
	});
}

Viewport::~Viewport()
{
	if (!surface_)
		return;
	/* Destroying the viewport removes crop and scale at the next commit. */
	SurfaceState &pending = surface_->pendingState();
	pending.viewport = {};
	pending.fields |= SurfaceState::FieldViewport;
	surface_->setViewport(nullptr);
}

void Viewport::setSource(wl_fixed_t x, wl_fixed_t y, wl_fixed_t width, wl_fixed_t height)
{
	if (!surface_) {
		wl_resource_post_error(resource_, WP_VIEWPORT_ERROR_NO_SURFACE,
				       "the wl_surface of this viewport is gone");
		return;
	}
	SurfaceState &pending = surface_->pendingState();
	bool unset = x == wl_fixed_from_int(-1) && y == wl_fixed_from_int(-1) &&
		     width == wl_fixed_from_int(-1) && height == wl_fixed_from_int(-1);
	if (unset) {
		pending.viewport.hasSource = false;
	} else if (x < 0 || y < 0 || width <= 0 || height <= 0) {
		wl_resource_post_error(resource_, WP_VIEWPORT_ERROR_BAD_VALUE,
				       "source %f,%f %fx%f is invalid", wl_fixed_to_double(x),
				       wl_fixed_to_double(y), wl_fixed_to_double(width),
				       wl_fixed_to_double(height));
		return;
	} else {
		pending.viewport.hasSource = true;
		pending.viewport.srcX = wl_fixed_to_double(x);
		pending.viewport.srcY = wl_fixed_to_double(y);
		pending.viewport.srcWidth = wl_fixed_to_double(width);
		pending.viewport.srcHeight = wl_fixed_to_double(height);
	}
	/* The other half of the viewport keeps its current value. */
	if (!(pending.fields & SurfaceState::FieldViewport)) {
		ViewportState current = surface_->current().viewport;
		pending.viewport.hasDestination = current.hasDestination;
		pending.viewport.dstWidth = current.dstWidth;
		pending.viewport.dstHeight = current.dstHeight;
	}
	pending.fields |= SurfaceState::FieldViewport;
}

void Viewport::setDestination(int32_t width, int32_t height)
{
	if (!surface_) {
		wl_resource_post_error(resource_, WP_VIEWPORT_ERROR_NO_SURFACE,
				       "the wl_surface of this viewport is gone");
		return;
	}
	SurfaceState &pending = surface_->pendingState();
	if (width == -1 && height == -1) {
		pending.viewport.hasDestination = false;
	} else if (width <= 0 || height <= 0) {
		wl_resource_post_error(resource_, WP_VIEWPORT_ERROR_BAD_VALUE,
				       "destination %dx%d is invalid", width, height);
		return;
	} else {
		pending.viewport.hasDestination = true;
		pending.viewport.dstWidth = width;
		pending.viewport.dstHeight = height;
	}
	if (!(pending.fields & SurfaceState::FieldViewport)) {
		ViewportState current = surface_->current().viewport;
		pending.viewport.hasSource = current.hasSource;
		pending.viewport.srcX = current.srcX;
		pending.viewport.srcY = current.srcY;
		pending.viewport.srcWidth = current.srcWidth;
		pending.viewport.srcHeight = current.srcHeight;
	}
	pending.fields |= SurfaceState::FieldViewport;
}

} /* namespace comp */
