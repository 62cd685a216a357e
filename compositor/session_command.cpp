/* SPDX-License-Identifier: MIT */
#include "session_command.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include <wayland-server-core.h>

#include "log.h"
#include "server.h"

extern char **environ;

namespace comp {

bufmgr::Result<std::unique_ptr<SessionCommand>>
SessionCommand::start(Server &server, const std::vector<std::string> &argv)
{
	if (argv.empty())
		return bufmgr::unexpected(EINVAL, "no command to run");
	std::unique_ptr<SessionCommand> session(new SessionCommand(server));
	session->name_ = argv[0];
	/* Watched before the spawn, so a command that exits at once is seen. */
	session->childSource_.reset(
		wl_event_loop_add_signal(server.loop(), SIGCHLD, &SessionCommand::onChild, session.get()));
	if (!session->childSource_)
		return bufmgr::unexpected(errno, "watching SIGCHLD");

	std::vector<std::string> env;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "WAYLAND_DISPLAY=", 16) != 0 && strncmp(*e, "WAYLAND_SOCKET=", 15) != 0)
			env.emplace_back(*e);
	env.push_back("WAYLAND_DISPLAY=" + server.socketName());
	std::vector<char *> args, envp;
	for (const std::string &a : argv)
		args.push_back(const_cast<char *>(a.c_str()));
	args.push_back(nullptr);
	for (const std::string &e : env)
		envp.push_back(const_cast<char *>(e.c_str()));
	envp.push_back(nullptr);

	/* The event loop blocks the signals it handles; the command gets none blocked. */
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	int err = posix_spawnp(&session->pid_, args[0], nullptr, &attr, args.data(), envp.data());
	posix_spawnattr_destroy(&attr);
	if (err)
		return bufmgr::unexpected(err, "starting " + argv[0]);
	LOG_INFO("started %s (pid %d); heapcomp stops when it exits", argv[0].c_str(),
		 int(session->pid_));
	return session;
}

SessionCommand::~SessionCommand()
{
	childSource_.reset();
	if (exitStatus_ < 0 && pid_ > 0) {
		kill(pid_, SIGTERM);
		waitpid(pid_, nullptr, 0);
	}
}

int SessionCommand::onChild(int, void *data)
{
	auto *self = static_cast<SessionCommand *>(data);
	int status = 0;
	if (self->exitStatus_ >= 0 || waitpid(self->pid_, &status, WNOHANG) != self->pid_)
		return 0;
	self->exitStatus_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	LOG_INFO("%s exited with status %d: stopping", self->name_.c_str(), self->exitStatus_);
	self->server_.terminate();
	return 0;
}

} /* namespace comp */
