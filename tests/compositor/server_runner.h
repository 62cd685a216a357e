/* SPDX-License-Identifier: MIT */
#pragma once

#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>

#include "server.h"

namespace heapcomp::test {

/*
 * The real compositor on the headless backend, on its own thread with its
 * own event loop and the GLES renderer (or the one HEAPCOMP_TEST_RENDERER
 * names: auto, gles, pixman); tests talk to it over its socket
 * and reach into it only through run().
 */
class ServerRunner
{
public:
	/*
	 * 320x240, a unique socket name, the real renderer; a frame runs as
	 * soon as one is scheduled (FrameClock::Idle): for tests of what
	 * happens, not of when.
	 */
	static comp::ServerConfig defaultConfig();
	/* The same at a real 60 Hz: for tests of timing and of real clients. */
	static comp::ServerConfig realClockConfig();

	explicit ServerRunner(comp::ServerConfig config = defaultConfig());
	~ServerRunner();
	ServerRunner(const ServerRunner &) = delete;
	ServerRunner &operator=(const ServerRunner &) = delete;

	bool ok() const { return server_ != nullptr; }
	const std::string &error() const { return error_; }
	const std::string &socket() const { return socket_; }

	/* Runs f(server) on the server's thread and returns its result. */
	template<typename F>
	auto run(F &&f) -> std::invoke_result_t<F, comp::Server &>
	{
		using R = std::invoke_result_t<F, comp::Server &>;
		std::packaged_task<R()> task([&]() { return f(*server_); });
		auto future = task.get_future();
		server_->post([&task]() { task(); });
		return future.get();
	}

	/* The first output's current frame. */
	comp::Screenshot screenshot();
	uint64_t frames();
	/* Waits until n more frames were presented (drawn or, with no damage, not). */
	bool waitFrames(uint64_t n, int timeoutMs = 20000);
	/*
	 * Draws n whole frames: every output buffer in use gets allocated and
	 * drawn, so fd and buffer counts taken afterwards stay put.
	 */
	bool drawFrames(uint64_t n, int timeoutMs = 20000);

private:
	void thread(comp::ServerConfig config);

	std::thread thread_;
	std::mutex mutex_;
	std::condition_variable ready_;
	bool started_ = false;
	comp::Server *server_ = nullptr;
	std::string socket_;
	std::string error_;
};

/* Creates a private XDG_RUNTIME_DIR once per process if none is set. */
void ensureRuntimeDir();

} /* namespace heapcomp::test */
