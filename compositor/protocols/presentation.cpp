/* SPDX-License-Identifier: MIT */
#include "protocols/presentation.h"

#include <presentation-time-server-protocol.h>

#include "protocols/output.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

void feedback(wl_client *client, wl_resource *resource, wl_resource *surfaceResource,
	      uint32_t id)
{
	wl_resource *feedback = wl_resource_create(client, &wp_presentation_feedback_interface,
						   wl_resource_get_version(resource), id);
	if (!feedback) {
		wl_client_post_no_memory(client);
		return;
	}
	SurfaceState &pending = Surface::fromResource(surfaceResource)->pendingState();
	pending.feedbacks.add(feedback);
	pending.fields |= SurfaceState::FieldFeedback;
}

const struct wp_presentation_interface presentationImpl = {
	.destroy = destroyResource,
	.feedback = feedback,
};

} /* namespace */

Presentation::Presentation(Server &server)
	: server_(server),
	  global_(server.display(), &wp_presentation_interface, 1, this, &bind)
{
}

void Presentation::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	auto *self = static_cast<Presentation *>(data);
	wl_resource *resource = wl_resource_create(client, &wp_presentation_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &presentationImpl, data, nullptr);
	wp_presentation_send_clock_id(resource, static_cast<uint32_t>(self->clock_));
}

void Presentation::presented(ResourceList &feedbacks, OutputGlobal *output,
			     const PresentInfo &info)
{
	uint32_t flags = 0;
	if (info.flags & PresentVsync)
		flags |= WP_PRESENTATION_FEEDBACK_KIND_VSYNC;
	if (info.flags & PresentHwClock)
		flags |= WP_PRESENTATION_FEEDBACK_KIND_HW_CLOCK;
	if (info.flags & PresentHwCompletion)
		flags |= WP_PRESENTATION_FEEDBACK_KIND_HW_COMPLETION;
	if (info.flags & PresentZeroCopy)
		flags |= WP_PRESENTATION_FEEDBACK_KIND_ZERO_COPY;
	uint64_t sec = static_cast<uint64_t>(info.time.tv_sec);
	feedbacks.forEach([&](wl_resource *resource) {
		if (output) {
			output->forEachResource(wl_resource_get_client(resource),
						[&](wl_resource *outputResource) {
				wp_presentation_feedback_send_sync_output(resource, outputResource);
			});
		}
		wp_presentation_feedback_send_presented(
			resource, uint32_t(sec >> 32), uint32_t(sec & 0xffffffff),
			uint32_t(info.time.tv_nsec), info.refreshNs,
			uint32_t(info.sequence >> 32), uint32_t(info.sequence & 0xffffffff), flags);
		wl_resource_destroy(resource);
	});
}

void Presentation::discard(ResourceList &feedbacks)
{
	feedbacks.forEach([](wl_resource *resource) {
		wp_presentation_feedback_send_discarded(resource);
		wl_resource_destroy(resource);
	});
}

} /* namespace comp */
