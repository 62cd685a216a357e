/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <bufmgr/json_reader.h>
#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

namespace heapcomp::bench {

/*
 * What the client draws, and on an output of which size. A window is
 * smaller than its output, so that no compositor can show its buffer as
 * the output's frame: windowed is always composition.
 */
struct Workload {
	bool fullscreen = false;
	bool columnDamage = false;	/* a 64 px column, else the whole buffer */
	int width = 1280;		/* the client's buffer */
	int height = 720;

	static constexpr int kWindowMargin = 64;	/* output minus window, each way */

	std::string name() const;	/* "fullscreen/column/1280x720" */
	int outputWidth() const { return fullscreen ? width : width + kWindowMargin; }
	int outputHeight() const { return fullscreen ? height : height + kWindowMargin; }
	/* Bytes the client changes per frame: what the baseline copies. */
	size_t damagedBytes() const;
};

/* How to start one compositor on a headless output of the workload's size. */
struct CompositorCommand {
	std::vector<std::string> argv;
	std::vector<std::string> env;		/* NAME=value, added to a clean environment */
	std::vector<std::pair<std::string, std::string>> files;	/* written to the runtime dir */
};

struct Compositor {
	std::string name;			/* "heapcomp-gles", "sway", ... */
	/* The command for a workload; runtimeDir is where its files go. */
	CompositorCommand (*command)(const Compositor &self, const Workload &w,
				     const std::string &runtimeDir);
	std::string program;			/* executable, e.g. build/compositor/heapcomp */
	std::string renderer;			/* heapcomp: --renderer value, "" for none */
	std::vector<std::string> options;	/* more options, e.g. --no-direct-scanout */
	/*
	 * Not "" when this one composes every frame: the name of the same
	 * compositor allowed direct scanout, which it is compared with.
	 */
	std::string scanoutVariant;
	/*
	 * Shows the statistics overlay, hidden every other turn of frames
	 * (Session::showOverlay): its cost is measured against the same
	 * session's frames without it.
	 */
	bool overlayInTurns = false;
	std::string skipReason;			/* not "" when it cannot run here */
	bool refusesRoot = false;		/* run as nobody when the driver is root */
};

/* A user to run a child as; its runtime dir is given to it. */
struct Credentials {
	uid_t uid;
	gid_t gid;
};

/*
 * heapcomp with each renderer, also composing what it could scan out;
 * sway; weston with pixman or GL.
 */
std::vector<Compositor> knownCompositors(const std::string &heapcomp);

/* A child process in its own process group, stopped and reaped on destruction. */
class Process
{
public:
	/*
	 * Starts argv[0] with a clean environment plus env; stdout and stderr
	 * go to logPath. keepFd, when valid, becomes the child's fd 3. With
	 * user, the child runs as that user.
	 */
	static bufmgr::Result<std::unique_ptr<Process>> spawn(const std::vector<std::string> &argv,
							      const std::vector<std::string> &env,
							      const std::string &logPath,
							      int keepFd = -1,
							      const Credentials *user = nullptr);
	~Process();

	pid_t pid() const { return pid_; }
	/* True while it runs; reaps it when it has exited. */
	bool running();
	/* Waits up to timeoutMs for it to exit by itself; true if it did. */
	bool waitExit(int timeoutMs);
	/*
	 * SIGTERM, then SIGKILL after timeoutMs; then kills what is left of
	 * its process group (clients a compositor launched) and reaps it.
	 */
	void stop(int timeoutMs = 3000);

	/*
	 * Makes this process the parent of the orphans of its children, so
	 * that stop() reaps a compositor's clients too.
	 */
	static void adoptOrphans();

private:
	explicit Process(pid_t pid) : pid_(pid) {}
	pid_t pid_;
	bool reaped_ = false;
	bool groupKilled_ = false;
};

/*
 * CPU time (user + system, all threads, nanosecond resolution) of a
 * process and of the processes it started, e.g. weston's shell client.
 */
class CpuClock
{
public:
	explicit CpuClock(pid_t pid);
	/* Seconds; processes that are gone count what they had used when last read. */
	double seconds();
	/*
	 * Seconds spent in the kernel (system time, in clock ticks): with
	 * seconds(), how much of the cost is system calls, such as a DRM
	 * driver's atomic commit.
	 */
	double kernelSeconds();

private:
	struct Tracked {
		pid_t pid;
		clockid_t clock;
		double last = 0;
		double lastKernel = 0;
	};
	void track(pid_t pid);

	std::vector<Tracked> tracked_;
};

/* Events the client reports on its progress fd. */
struct FrameTally {
	long frames = 0;
	long presented = 0;
	long zeroCopy = 0;
	long discarded = 0;
};

/*
 * One compositor in a private XDG_RUNTIME_DIR with one bench_client
 * connected to it. Everything it started is stopped when it goes.
 */
class Session
{
public:
	struct Params {
		std::string client;		/* bench_client */
		std::string dmabufHeap;		/* its buffers from this heap; "": wl_shm */
		std::string format = "xrgb";	/* bench_client --format */
		long frames = 0;		/* the client stops after these */
		int frameTimeoutMs = 2000;
		int startTimeoutMs = 15000;
	};

	static bufmgr::Result<std::unique_ptr<Session>> start(const Compositor &compositor,
							      const Workload &workload,
							      const Params &params);
	~Session();

	/* Reads progress until the next frame callback; false on timeout or exit. */
	bool nextFrame(FrameTally *tally);
	/* CPU seconds of the compositor and what it started, from the first call on. */
	double compositorCpuSeconds();
	/* Of those, the seconds in the kernel. */
	double compositorKernelSeconds();
	/* Stops both; returns the client's summary line. */
	std::string finish();
	/* Why it failed: the end of the compositor's and the client's logs. */
	std::string logTail() const;

	/* The statistics overlay's redraws so far and their CPU time, apart from frames. */
	struct OverlayCost {
		uint64_t redraws = 0;
		uint64_t cpuNs = 0;
	};
	/* Asked of heapcomp's control socket; an error from a compositor without one. */
	bufmgr::Result<OverlayCost> overlayCost() const;
	/* Shows or hides it through the control socket (heapctl overlay show|hide). */
	bufmgr::Result<void> showOverlay(bool shown) const;

private:
	Session() = default;
	/* heapcomp's answer on its control socket, parsed; an {"error"} answer is an error. */
	bufmgr::Result<bufmgr::Json> askControl(const std::string &request) const;

	std::string runtimeDir_;
	Params params_;
	std::unique_ptr<Process> compositor_;
	std::unique_ptr<Process> client_;
	std::unique_ptr<CpuClock> cpu_;
	bufmgr::UniqueFd progress_;
};

} /* namespace heapcomp::bench */
