/* SPDX-License-Identifier: MIT */
#include "wakeup_floor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include <bufmgr/unique_fd.h>

#include "compositor_session.h"

namespace heapcomp::bench {

namespace {

constexpr size_t kMessageBytes = 64;

/* The compositor's part: the timer, one message out, the answer in. */
[[noreturn]] void runFloor(int socket)
{
	const int epoll = epoll_create1(EPOLL_CLOEXEC);
	const int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	const itimerspec period{ { 0, 1'000'000'000L / 60 }, { 0, 1'000'000'000L / 60 } };
	if (epoll < 0 || timer < 0 || timerfd_settime(timer, 0, &period, nullptr) < 0)
		_exit(1);
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = timer;
	epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &ev);
	ev.data.fd = socket;
	epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &ev);
	char message[kMessageBytes] = {};
	for (;;) {
		epoll_event ready[2];
		const int n = epoll_wait(epoll, ready, 2, -1);
		for (int i = 0; i < n; i++) {
			if (ready[i].data.fd == timer) {
				uint64_t expirations;
				if (read(timer, &expirations, sizeof(expirations)) < 0)
					_exit(1);
				if (send(socket, message, sizeof(message), MSG_NOSIGNAL) < 0)
					_exit(0);
			} else if (recv(socket, message, sizeof(message), 0) <= 0) {
				_exit(0);
			}
		}
	}
}

/* The client's part: answers each message at once, and tells progress. */
[[noreturn]] void runEcho(int socket, int progress)
{
	char message[kMessageBytes];
	for (;;) {
		if (recv(socket, message, sizeof(message), 0) <= 0 ||
		    send(socket, message, sizeof(message), MSG_NOSIGNAL) < 0 ||
		    write(progress, "f", 1) != 1)
			_exit(0);
	}
}

/* A forked process, killed and reaped when this goes. */
class Forked
{
public:
	template <typename Body> explicit Forked(Body body)
	{
		pid_ = fork();
		if (pid_ == 0) {
			body();
			_exit(127);
		}
	}
	~Forked()
	{
		if (pid_ > 0) {
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
		}
	}
	Forked(const Forked &) = delete;
	Forked &operator=(const Forked &) = delete;
	pid_t pid() const { return pid_; }

private:
	pid_t pid_ = -1;
};

/* One frame's progress byte; false after timeoutMs or at the echo's end. */
bool nextFrame(int progress, int timeoutMs)
{
	pollfd p{ progress, POLLIN, 0 };
	char byte;
	return poll(&p, 1, timeoutMs) == 1 && read(progress, &byte, 1) == 1;
}

} /* namespace */

void wakeupFloor(benchmark::State &state, int frameTimeoutMs, long warmupFrames)
{
	int pair[2], pipeFds[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		state.SkipWithError("no socket pair");
		return;
	}
	bufmgr::UniqueFd floorEnd(pair[0]), echoEnd(pair[1]);
	if (pipe2(pipeFds, O_CLOEXEC) < 0) {
		state.SkipWithError("no pipe");
		return;
	}
	bufmgr::UniqueFd progressIn(pipeFds[0]), progressOut(pipeFds[1]);
	/* Each child keeps only its own ends, so one's end is the other's EOF. */
	Forked echo([&] {
		close(floorEnd.get());
		close(progressIn.get());
		runEcho(echoEnd.get(), progressOut.get());
	});
	echoEnd.reset();
	progressOut.reset();
	Forked floor([&] {
		close(progressIn.get());
		runFloor(floorEnd.get());
	});
	floorEnd.reset();
	if (echo.pid() < 0 || floor.pid() < 0) {
		state.SkipWithError("fork failed");
		return;
	}
	for (long i = 0; i < warmupFrames; i++) {
		if (!nextFrame(progressIn.get(), frameTimeoutMs)) {
			state.SkipWithError("the floor's frames stopped in warm-up");
			return;
		}
	}
	CpuClock cpu(floor.pid());
	double last = cpu.seconds();
	for (auto _ : state) {
		if (!nextFrame(progressIn.get(), frameTimeoutMs)) {
			state.SkipWithError("the floor's frames stopped");
			break;
		}
		const double now = cpu.seconds();
		state.SetIterationTime(now - last);
		last = now;
	}
}

} /* namespace heapcomp::bench */
