/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>

namespace comp {

class Server;

/*
 * What the command line asks for at counted frames of the first output
 * and on SIGUSR1: the screenshot after ServerConfig::screenshotFrames
 * frames, the stop after exitAfterFrames, a screenshot on each SIGUSR1.
 */
class FrameActions
{
public:
	explicit FrameActions(Server &server);
	FrameActions(const FrameActions &) = delete;
	FrameActions &operator=(const FrameActions &) = delete;

	/* Whether frames must run with nothing to draw: something waits for them. */
	bool counting() const;
	/* The first output presented its frames-th frame. */
	void presented(uint64_t frames);
	/* SIGUSR1 came. */
	void userSignal();

private:
	Server &server_;
	bool screenshotWritten_ = false;
};

} /* namespace comp */
