/* SPDX-License-Identifier: MIT */
#include <cstdio>
#include <cstdlib>
#include <string>
#include <cstring>
#include <memory>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "control_socket.h"
#include "control_socket_path.h"
#include "log.h"
#include "options.h"
#include "render/renderer_choice.h"
#include "server.h"
#include "session_command.h"
#include "ui/overlay.h"

namespace {

/* libwayland needs XDG_RUNTIME_DIR; a bare board shell may not have one. */
bool ensureRuntimeDir()
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	if (dir && *dir)
		return true;
	std::string path = "/tmp/heapcomp-runtime-" + std::to_string(getuid());
	if (mkdir(path.c_str(), 0700) < 0 && errno != EEXIST)
		return false;
	struct stat st;
	if (stat(path.c_str(), &st) < 0 || st.st_uid != getuid() || (st.st_mode & 077))
		return false;
	setenv("XDG_RUNTIME_DIR", path.c_str(), 1);
	LOG_WARNING("XDG_RUNTIME_DIR was not set; using %s (export it for clients)",
		    path.c_str());
	return true;
}

/*
 * Client fds (dma-buf planes, pools being mapped) count against our
 * limit: take the hard limit, which per-client limits then share out.
 */
void raiseFdLimit()
{
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur == limit.rlim_max)
		return;
	const rlim_t before = limit.rlim_cur;
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
		LOG_WARNING("cannot raise the fd limit from %llu: %s",
			    static_cast<unsigned long long>(before), strerror(errno));
	else
		LOG_DEBUG("fd limit raised from %llu to %llu", static_cast<unsigned long long>(before),
			  static_cast<unsigned long long>(limit.rlim_max));
}

/*
 * The control socket heapctl asks: at --control-socket's path, else
 * beside the Wayland socket. heapcomp runs on without it, saying why.
 */
std::unique_ptr<comp::ControlSocket> startControlSocket(comp::Server &server,
							 const std::string &option,
							 bool runtimeDirGiven)
{
	std::string path = option;
	if (path.empty()) {
		/* A private directory made up for us is no place heapctl would look. */
		if (!runtimeDirGiven) {
			LOG_WARNING("no control socket: XDG_RUNTIME_DIR is not set "
				    "(--control-socket PATH gives one)");
			return nullptr;
		}
		path = comp::controlSocketPath(getenv("XDG_RUNTIME_DIR"), server.socketName());
	}
	auto control = comp::ControlSocket::create(
		server.loop(), path, [&server](std::string_view request) {
			return comp::answerControlRequest(server, request);
		});
	if (!control) {
		LOG_WARNING("no control socket: %s", control.error().message().c_str());
		return nullptr;
	}
	LOG_INFO("control socket: %s", path.c_str());
	return std::move(*control);
}

} /* namespace */

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv + 1, argv + argc);
	auto options = comp::parseOptions(args);
	if (!options) {
		fprintf(stderr, "heapcomp: %s\n", options.error().context.c_str());
		return 2;
	}
	if (options->help) {
		fputs(comp::usage("heapcomp").c_str(), stdout);
		return 0;
	}
	comp::setLogLevel(options->logLevel);
	comp::installLibraryLogHandlers();
	raiseFdLimit();
	const char *runtimeDir = getenv("XDG_RUNTIME_DIR");
	const bool runtimeDirGiven = runtimeDir && *runtimeDir;
	if (!ensureRuntimeDir()) {
		LOG_ERROR("XDG_RUNTIME_DIR is not set and no private directory could be made");
		return 1;
	}

	comp::GlesRendererOptions rendererOptions;
	rendererOptions.renderNode = options->renderNode;
	rendererOptions.surfaceless = options->surfaceless;
	rendererOptions.forceCpuDmaBuf = options->cpuDmaBuf;
	options->server.createRenderer = [kind = options->renderer,
					  rendererOptions](bufmgr::BufferManager &) {
		return comp::createRenderer(kind, rendererOptions);
	};

	auto server = comp::Server::create(std::move(options->server));
	if (!server) {
		LOG_ERROR("cannot start: %s", server.error().message().c_str());
		return 1;
	}
	comp::OverlayConfig overlayConfig;
	overlayConfig.shown = options->overlay;
	overlayConfig.renderer = options->overlayRenderer;
	std::unique_ptr<comp::Overlay> overlay = comp::Overlay::create(**server, overlayConfig);
	overlay->bindToggleKey();
	if (options->overlayInteractive)
		overlay->setInteractive(true);
	/* Declared after the server: it goes first, its sources are in the server's loop. */
	std::unique_ptr<comp::ControlSocket> control =
		startControlSocket(**server, options->controlSocket, runtimeDirGiven);
	printf("WAYLAND_DISPLAY=%s\n", (*server)->socketName().c_str());
	fflush(stdout);
	std::unique_ptr<comp::SessionCommand> session;
	if (!options->command.empty()) {
		auto started = comp::SessionCommand::start(**server, options->command);
		if (!started) {
			LOG_ERROR("%s", started.error().message().c_str());
			return 1;
		}
		session = std::move(*started);
	}
	(*server)->run();
	/* The backend's display went away: said in the log, and in the status. */
	if ((*server)->failed())
		return 1;
	/* A kiosk exits as its command did. */
	return session && session->exitStatus() >= 0 ? session->exitStatus() : 0;
}
