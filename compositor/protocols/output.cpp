/* SPDX-License-Identifier: MIT */
#include "protocols/output.h"

#include <wayland-server-protocol.h>
#include <xdg-output-unstable-v1-server-protocol.h>

#include "backend/backend.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

const struct wl_output_interface outputImpl = {
	.release = destroyResource,
};

const struct zxdg_output_v1_interface xdgOutputImpl = {
	.destroy = destroyResource,
};

void getXdgOutput(wl_client *client, wl_resource *resource, uint32_t id,
		  wl_resource *outputResource)
{
	wl_resource *xdgOutput = wl_resource_create(client, &zxdg_output_v1_interface,
						    wl_resource_get_version(resource), id);
	if (!xdgOutput) {
		wl_client_post_no_memory(client);
		return;
	}
	OutputGlobal *global = OutputGlobal::fromResource(outputResource);
	/* An output removed meanwhile: the object stays inert. */
	if (!global) {
		wl_resource_set_implementation(xdgOutput, &xdgOutputImpl, nullptr, nullptr);
		return;
	}
	global->addXdgOutput(xdgOutput);
	Output *output = global->output();
	Output::Mode mode = output->mode();
	zxdg_output_v1_send_logical_position(xdgOutput, output->x(), output->y());
	zxdg_output_v1_send_logical_size(xdgOutput, int32_t(mode.width), int32_t(mode.height));
	if (wl_resource_get_version(xdgOutput) >= ZXDG_OUTPUT_V1_NAME_SINCE_VERSION) {
		zxdg_output_v1_send_name(xdgOutput, output->name().c_str());
		zxdg_output_v1_send_description(xdgOutput, output->description().c_str());
	}
	/* Since v3 wl_output.done ends the xdg_output's atomic group. */
	if (wl_resource_get_version(xdgOutput) >= 3)
		wl_output_send_done(outputResource);
	else
		zxdg_output_v1_send_done(xdgOutput);
}

const struct zxdg_output_manager_v1_interface xdgOutputManagerImpl = {
	.destroy = destroyResource,
	.get_xdg_output = getXdgOutput,
};

} /* namespace */

OutputGlobal::OutputGlobal(Server &server, Output *output)
	: server_(server), output_(output),
	  global_(server.display(), &wl_output_interface, kVersion, this, &bind)
{
}

OutputGlobal::~OutputGlobal()
{
	withdraw();
}

void OutputGlobal::withdraw()
{
	/* Clients keep their wl_output and xdg_output objects; they go inert. */
	resources_.forEach([](wl_resource *resource) {
		wl_resource_set_user_data(resource, nullptr);
	});
	resources_.unlinkAll();
	xdgOutputs_.unlinkAll();
	if (output_ && global_)
		wl_global_remove(global_.get());
	output_ = nullptr;
}

OutputGlobal *OutputGlobal::fromResource(wl_resource *resource)
{
	return static_cast<OutputGlobal *>(wl_resource_get_user_data(resource));
}

void OutputGlobal::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	auto *self = static_cast<OutputGlobal *>(data);
	wl_resource *resource = wl_resource_create(client, &wl_output_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	if (!self->output_) {
		/* Bound as it went: an object that hears nothing. */
		wl_resource_set_implementation(resource, &outputImpl, nullptr, nullptr);
		return;
	}
	self->resources_.add(resource, &outputImpl, self);
	self->sendState(resource);
	/*
	 * Surfaces already shown here entered before this wl_output existed:
	 * a display plugged in while its client was still binding, or a second bind.
	 */
	for (Surface *surface : self->server_.surfacesOnOutputs())
		surface->outputBound(self, resource);
}

void OutputGlobal::addXdgOutput(wl_resource *resource)
{
	xdgOutputs_.add(resource, &xdgOutputImpl, nullptr);
}

void OutputGlobal::positionChanged()
{
	if (!output_)
		return;
	xdgOutputs_.forEach([&](wl_resource *resource) {
		zxdg_output_v1_send_logical_position(resource, output_->x(), output_->y());
		if (wl_resource_get_version(resource) < 3)
			zxdg_output_v1_send_done(resource);
	});
	/* Its done ends the xdg_outputs' groups too (v3). */
	resources_.forEach([&](wl_resource *resource) {
		sendGeometry(resource);
		if (wl_resource_get_version(resource) >= WL_OUTPUT_DONE_SINCE_VERSION)
			wl_output_send_done(resource);
	});
}

void OutputGlobal::modeChanged()
{
	if (!output_)
		return;
	const Output::Mode mode = output_->mode();
	xdgOutputs_.forEach([&](wl_resource *resource) {
		zxdg_output_v1_send_logical_size(resource, int32_t(mode.width), int32_t(mode.height));
		if (wl_resource_get_version(resource) < 3)
			zxdg_output_v1_send_done(resource);
	});
	resources_.forEach([&](wl_resource *resource) {
		sendMode(resource);
		if (wl_resource_get_version(resource) >= WL_OUTPUT_DONE_SINCE_VERSION)
			wl_output_send_done(resource);
	});
}

void OutputGlobal::sendGeometry(wl_resource *resource)
{
	wl_output_send_geometry(resource, output_->x(), output_->y(),
				int32_t(output_->physicalWidthMm()),
				int32_t(output_->physicalHeightMm()),
				WL_OUTPUT_SUBPIXEL_UNKNOWN, output_->make().c_str(),
				output_->model().c_str(), WL_OUTPUT_TRANSFORM_NORMAL);
}

void OutputGlobal::sendMode(wl_resource *resource)
{
	const Output::Mode mode = output_->mode();
	wl_output_send_mode(resource, WL_OUTPUT_MODE_CURRENT | WL_OUTPUT_MODE_PREFERRED,
			    int32_t(mode.width), int32_t(mode.height), int32_t(mode.refreshMilliHz));
}

void OutputGlobal::sendState(wl_resource *resource)
{
	sendGeometry(resource);
	sendMode(resource);
	int version = wl_resource_get_version(resource);
	if (version >= WL_OUTPUT_SCALE_SINCE_VERSION)
		wl_output_send_scale(resource, 1);
	if (version >= WL_OUTPUT_NAME_SINCE_VERSION) {
		wl_output_send_name(resource, output_->name().c_str());
		wl_output_send_description(resource, output_->description().c_str());
	}
	if (version >= WL_OUTPUT_DONE_SINCE_VERSION)
		wl_output_send_done(resource);
}

XdgOutputManager::XdgOutputManager(Server &server)
	: global_(server.display(), &zxdg_output_manager_v1_interface, 3, this, &bind)
{
}

void XdgOutputManager::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	wl_resource *resource = wl_resource_create(client, &zxdg_output_manager_v1_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &xdgOutputManagerImpl, data, nullptr);
}

} /* namespace comp */
