/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>

#include "test_client.h"

namespace heapcomp::test {

/* What one wp_presentation_feedback said. */
struct PresentationRecord {
	bool presented = false;
	bool discarded = false;
	uint32_t flags = 0;
	/* The output's refresh counter when it showed. */
	uint64_t sequence = 0;

	bool zeroCopy() const { return flags & WP_PRESENTATION_FEEDBACK_KIND_ZERO_COPY; }
};

/*
 * Attaches buffer whole (none: commits nothing new), commits with
 * presentation feedback and waits for the frame and the feedback's outcome.
 */
PresentationRecord presentAndRecord(TestClient &client, wl_surface *surface, wl_buffer *buffer);

/* Asks for fullscreen (or not) and acks configures until it holds; false if it never does. */
bool setFullscreen(Window &window, bool fullscreen);

/* A new window's first configure acked, then fullscreen; false if either never comes. */
bool mapFullscreen(Window &window);

} /* namespace heapcomp::test */
