/* SPDX-License-Identifier: MIT */
#include "server_runner.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "render/renderer_choice.h"

namespace heapcomp::test {

namespace {

std::atomic<int> gCounter{ 0 };

/* The XDG_RUNTIME_DIR made here, if one was, and by which process. */
std::string gOwnRuntimeDir;
pid_t gOwnRuntimeDirPid = 0;

/* Before any thread exists: setenv is not thread-safe. */
struct RuntimeDirInit {
	RuntimeDirInit() { ensureRuntimeDir(); }
	/*
	 * Ours alone, but not empty if a death test's child died with a
	 * server; a forked child exiting must leave it to its parent.
	 */
	~RuntimeDirInit()
	{
		std::error_code ignored;
		if (!gOwnRuntimeDir.empty() && gOwnRuntimeDirPid == getpid())
			std::filesystem::remove_all(gOwnRuntimeDir, ignored);
	}
} gRuntimeDirInit;

} /* namespace */

void ensureRuntimeDir()
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	if (dir && *dir && access(dir, W_OK) == 0)
		return;
	char path[] = "/tmp/heapcomp-test-runtime-XXXXXX";
	if (mkdtemp(path)) {
		setenv("XDG_RUNTIME_DIR", path, 1);
		gOwnRuntimeDir = path;
		gOwnRuntimeDirPid = getpid();
	}
}

comp::ServerConfig ServerRunner::defaultConfig()
{
	comp::ServerConfig config;
	config.socketName = "heapcomp-test-" + std::to_string(getpid()) + "-" +
			    std::to_string(gCounter++);
	config.headless.width = 320;
	config.headless.height = 240;
	config.headless.refreshMilliHz = 60000;
	config.headless.frameClock = comp::FrameClock::Idle;
	/* The same tests run on each renderer: ctest sets this for pixman. */
	const char *name = getenv("HEAPCOMP_TEST_RENDERER");
	auto kind = comp::parseRendererKind(name ? name : "gles");
	if (!kind)
		ADD_FAILURE() << "HEAPCOMP_TEST_RENDERER=" << name << ": not auto, gles or pixman";
	config.createRenderer = [kind = kind.value_or(comp::RendererKind::Gles)](
					bufmgr::BufferManager &) { return comp::createRenderer(kind); };
	return config;
}

comp::ServerConfig ServerRunner::realClockConfig()
{
	comp::ServerConfig config = defaultConfig();
	config.headless.frameClock = comp::FrameClock::Refresh;
	return config;
}

ServerRunner::ServerRunner(comp::ServerConfig config)
{
	thread_ = std::thread(&ServerRunner::thread, this, std::move(config));
	std::unique_lock lock(mutex_);
	ready_.wait(lock, [this] { return started_; });
}

ServerRunner::~ServerRunner()
{
	if (server_) {
		comp::Server *server = server_;
		server->post([server]() { server->terminate(); });
	}
	if (thread_.joinable())
		thread_.join();
}

void ServerRunner::thread(comp::ServerConfig config)
{
	/* The renderer belongs to this thread: create, run and destroy here. */
	auto server = comp::Server::create(std::move(config));
	{
		std::lock_guard lock(mutex_);
		if (server) {
			server_ = server->get();
			socket_ = server_->socketName();
		} else {
			error_ = server.error().message();
		}
		started_ = true;
	}
	ready_.notify_all();
	if (!server)
		return;
	(*server)->run();
	server->reset();
}

comp::Screenshot ServerRunner::screenshot()
{
	return run([](comp::Server &server) {
		auto shot = server.screenshot();
		return shot ? std::move(*shot) : comp::Screenshot();
	});
}

uint64_t ServerRunner::frames()
{
	return run([](comp::Server &server) { return server.frameCount(); });
}

bool ServerRunner::waitFrames(uint64_t n, int timeoutMs)
{
	uint64_t target = frames() + n;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
	/* An output with nothing to show presents nothing: ask for each frame. */
	auto repaint = [](comp::Server &server) {
		server.scheduleRepaint();
		return server.frameCount();
	};
	while (run(repaint) < target) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	return true;
}

bool ServerRunner::drawFrames(uint64_t n, int timeoutMs)
{
	for (uint64_t i = 0; i < n; i++) {
		run([](comp::Server &server) { server.damageAll(); });
		if (!waitFrames(1, timeoutMs))
			return false;
	}
	return true;
}

} /* namespace heapcomp::test */
