/* SPDX-License-Identifier: MIT */
#include "presentation_record.h"

#include <cstdint>

namespace heapcomp::test {

namespace {

const wp_presentation_feedback_listener kListener = {
	.sync_output = [](void *, struct wp_presentation_feedback *, wl_output *) {},
	.presented = [](void *data, struct wp_presentation_feedback *feedback, uint32_t, uint32_t,
			uint32_t, uint32_t, uint32_t seqHi, uint32_t seqLo, uint32_t flags) {
		auto *record = static_cast<PresentationRecord *>(data);
		record->presented = true;
		record->flags = flags;
		record->sequence = uint64_t(seqHi) << 32 | seqLo;
		wp_presentation_feedback_destroy(feedback);
	},
	.discarded = [](void *data, struct wp_presentation_feedback *feedback) {
		static_cast<PresentationRecord *>(data)->discarded = true;
		wp_presentation_feedback_destroy(feedback);
	},
};

} /* namespace */

PresentationRecord presentAndRecord(TestClient &client, wl_surface *surface, wl_buffer *buffer)
{
	PresentationRecord record;
	struct wp_presentation_feedback *f = wp_presentation_feedback(client.presentation, surface);
	wp_presentation_feedback_add_listener(f, &kListener, &record);
	if (buffer) {
		wl_surface_attach(surface, buffer, 0, 0);
		wl_surface_damage_buffer(surface, 0, 0, INT32_MAX, INT32_MAX);
	}
	if (!client.commitAndWaitFrame(surface))
		return record;
	client.dispatchUntil([&] { return record.presented || record.discarded; });
	return record;
}

bool setFullscreen(Window &window, bool fullscreen)
{
	if (fullscreen)
		xdg_toplevel_set_fullscreen(window.toplevel(), nullptr);
	else
		xdg_toplevel_unset_fullscreen(window.toplevel());
	/* Configures sent before this one (activation) may come first. */
	for (int i = 0; i < 4; i++) {
		if (!window.waitConfigure())
			return false;
		window.ack();
		if (window.hasState(XDG_TOPLEVEL_STATE_FULLSCREEN) == fullscreen)
			return true;
	}
	return false;
}

bool mapFullscreen(Window &window)
{
	if (!window.waitConfigure())
		return false;
	window.ack();
	return setFullscreen(window, true);
}

} /* namespace heapcomp::test */
