/* SPDX-License-Identifier: MIT */
#pragma once

#include <time.h>

#include "backend/backend.h"
#include "wayland_util.h"

namespace comp {

class OutputGlobal;
class Server;

/*
 * wp_presentation: feedback objects ride in a surface's state until a
 * frame shows the content (presented) or a later commit replaces it
 * before any frame did (discarded).
 */
class Presentation
{
public:
	explicit Presentation(Server &server);

	clockid_t clock() const { return clock_; }

	/* Sends presented to each feedback, then destroys it. */
	void presented(ResourceList &feedbacks, OutputGlobal *output, const PresentInfo &info);
	static void discard(ResourceList &feedbacks);

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);

	Server &server_;
	clockid_t clock_ = CLOCK_MONOTONIC;
	Global global_;
};

} /* namespace comp */
