/* SPDX-License-Identifier: MIT */
#pragma once

#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include <bufmgr/result.h>

#include "wayland_util.h"

namespace comp {

class Server;

/*
 * `heapcomp -- COMMAND`: one client started with the compositor, whose
 * exit stops it, as a kiosk on a board runs (cage does the same).
 */
class SessionCommand
{
public:
	/* Spawns argv with WAYLAND_DISPLAY set to the server's socket. */
	static bufmgr::Result<std::unique_ptr<SessionCommand>> start(Server &server,
								      const std::vector<std::string> &argv);
	/* Kills the command if it still runs. */
	~SessionCommand();
	SessionCommand(const SessionCommand &) = delete;
	SessionCommand &operator=(const SessionCommand &) = delete;

	/* Its exit status, or 128 + the signal that killed it; -1 while it runs. */
	int exitStatus() const { return exitStatus_; }

private:
	explicit SessionCommand(Server &server) : server_(server) {}
	static int onChild(int signal, void *data);

	Server &server_;
	std::string name_;
	pid_t pid_ = -1;
	int exitStatus_ = -1;
	EventSource childSource_;
};

} /* namespace comp */
