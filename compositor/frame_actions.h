/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>

namespace comp {

class Server;

/*
 * What the command line asks for at counted frames of the first output,
 * on SIGUSR1 and at the end: the screenshot after
 * ServerConfig::screenshotFrames frames, the stop after exitAfterFrames,
 * a screenshot and the statistics (statsPath) on each SIGUSR1, the
 * statistics again once the event loop stopped.
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
	/* The event loop returned. */
	void stopped();

private:
	void writeStats();

	Server &server_;
	bool screenshotWritten_ = false;
};

} /* namespace comp */
