/* SPDX-License-Identifier: MIT */
#include "compositor_session.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <bufmgr/json_reader.h>

#include "control_client.h"
#include "control_socket_path.h"

namespace heapcomp::bench {

namespace {

constexpr int kColumnWidth = 64;	/* as bench_client paints */
/* Where every compositor serves Wayland, in its own runtime directory. */
constexpr const char *kSocketName = "wayland-bench";

/*
 * The Wayland socket a compositor made in dir ("" while there is none);
 * sway's IPC socket is there too.
 */
std::string findSocket(const std::string &dir)
{
	std::error_code ec;
	for (const auto &entry : std::filesystem::directory_iterator(dir, ec)) {
		std::string name = entry.path().filename().string();
		if (entry.is_socket(ec) && name.rfind("wayland-", 0) == 0)
			return name;
	}
	return {};
}

std::string readFile(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream text;
	text << in.rdbuf();
	return text.str();
}

std::string tail(const std::string &text, size_t chars)
{
	std::string t = text.size() > chars ? "..." + text.substr(text.size() - chars) : text;
	while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
		t.pop_back();
	std::replace(t.begin(), t.end(), '\n', '|');
	return t;
}

/*
 * Compositors and clients get only what they need from the driver's
 * environment: never its WAYLAND_DISPLAY, but the Mesa and llvmpipe
 * knobs (LP_NUM_THREADS, ...) a user may have set for the whole run.
 */
std::vector<std::string> baseEnvironment()
{
	static const char *const keep[] = { "PATH=", "HOME=", "LANG=", "LC_ALL=", "MESA_",
					    "LIBGL_", "GALLIUM_", "LP_", "EGL_" };
	std::vector<std::string> env;
	for (char **e = environ; *e; e++) {
		for (const char *prefix : keep) {
			if (!std::strncmp(*e, prefix, std::strlen(prefix)))
				env.emplace_back(*e);
		}
	}
	return env;
}

void sleepMs(int ms)
{
	timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, nullptr);
}

double monotonicMs()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

CompositorCommand heapcompCommand(const Compositor &self, const Workload &w, const std::string &)
{
	CompositorCommand c;
	c.argv = { self.program, "--socket", kSocketName, "--width",
		   std::to_string(w.outputWidth()), "--height", std::to_string(w.outputHeight()),
		   "--refresh", "60", "--log-level", "warning" };
	if (!self.renderer.empty()) {
		c.argv.push_back("--renderer");
		c.argv.push_back(self.renderer);
	}
	c.argv.insert(c.argv.end(), self.options.begin(), self.options.end());
	return c;
}

/* On a real display: the DRM backend, in the mode of the workload's output. */
CompositorCommand heapcompDrmCommand(const Compositor &self, const Workload &w,
				     const std::string &runtimeDir)
{
	CompositorCommand c = heapcompCommand(self, w, runtimeDir);
	c.argv = { self.program, "--socket", kSocketName, "--backend", "drm", "--mode",
		   std::to_string(w.outputWidth()) + "x" + std::to_string(w.outputHeight()) + "@60",
		   "--log-level", "warning" };
	if (!self.renderer.empty()) {
		c.argv.push_back("--renderer");
		c.argv.push_back(self.renderer);
	}
	c.argv.insert(c.argv.end(), self.options.begin(), self.options.end());
	return c;
}

/*
 * sway tiles windows: a windowed client floats instead, at the size it
 * draws, without borders, so that every compositor composes the same
 * pixels.
 */
CompositorCommand swayCommand(const Compositor &self, const Workload &w,
			      const std::string &runtimeDir)
{
	CompositorCommand c;
	c.argv = { self.program, "--config", runtimeDir + "/sway.conf" };
	c.env = { "WLR_BACKENDS=headless", "WLR_RENDERER=pixman", "WLR_LIBINPUT_NO_DEVICES=1" };
	std::ostringstream config;
	config << "xwayland disable\n"
	       << "output HEADLESS-1 mode " << w.outputWidth() << "x" << w.outputHeight()
	       << "@60Hz\n"
	       << "default_border none\n"
	       << "default_floating_border none\n"
	       << "floating_maximum_size -1 x -1\n"
	       << "for_window [app_id=\"heapcomp-bench\"] floating enable\n";
	c.files.emplace_back("sway.conf", config.str());
	return c;
}

CompositorCommand westonCommand(const Compositor &self, const Workload &w, const std::string &)
{
	CompositorCommand c;
	c.argv = { self.program, "--backend=headless-backend.so",
		   self.renderer == "gl" ? "--use-gl" : "--use-pixman",
		   "--width=" + std::to_string(w.outputWidth()),
		   "--height=" + std::to_string(w.outputHeight()),
		   std::string("--socket=") + kSocketName, "--no-config", "--idle-time=0" };
	return c;
}

/* Runs program with args; its stdout, "" if it cannot run. */
std::string captureOutput(const std::string &program, const std::string &arg)
{
	std::string command = "'" + program + "' " + arg + " 2>/dev/null";
	FILE *p = popen(command.c_str(), "r");
	if (!p)
		return {};
	std::string out;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		out.append(buf, n);
	pclose(p);
	return out;
}

/* An executable on PATH, or "". */
std::string findProgram(const std::string &name)
{
	const char *path = getenv("PATH");
	std::stringstream dirs(path ? path : "/usr/bin:/bin");
	std::string dir;
	while (std::getline(dirs, dir, ':')) {
		std::string candidate = dir + "/" + name;
		if (access(candidate.c_str(), X_OK) == 0)
			return candidate;
	}
	return {};
}

} /* namespace */

std::string Workload::name() const
{
	return std::string(fullscreen ? "fullscreen" : "windowed") + "/" +
	       (columnDamage ? "column" : "full") + "/" + std::to_string(width) + "x" +
	       std::to_string(height);
}

size_t Workload::damagedBytes() const
{
	size_t columns = columnDamage ? size_t(std::min(kColumnWidth, width)) : size_t(width);
	return columns * size_t(height) * 4;
}

std::vector<Compositor> knownCompositors(const std::string &heapcomp)
{
	std::vector<Compositor> all;

	/* Older heapcomp builds lack these options: their variants are skipped. */
	std::string help = captureOutput(heapcomp, "--help");
	bool hasRendererOption = help.find("--renderer") != std::string::npos;
	bool hasComposeOption = help.find("--no-direct-scanout") != std::string::npos;
	bool hasDrmBackend = help.find("--backend") != std::string::npos;
	bool hasOverlay = help.find("--overlay") != std::string::npos;
	bool hasKms = access("/dev/dri/card0", R_OK) == 0 || access("/dev/dri/card1", R_OK) == 0;
	struct Variant {
		const char *name;
		const char *renderer;
		bool composeAll;
		bool drm;
		bool overlay = false;
	};
	/*
	 * -composed against the plain one: direct scanout against composition.
	 * -overlay: the statistics overlay, shown and hidden in turns. Headless
	 * it is composed, so it composes every frame, shown or not; on DRM it
	 * has a plane of its own, and a fullscreen client stays scanned out.
	 */
	for (Variant v : { Variant{ "heapcomp-gles", "gles", false, false },
			   Variant{ "heapcomp-gles-composed", "gles", true, false },
			   Variant{ "heapcomp-pixman", "pixman", false, false },
			   Variant{ "heapcomp-pixman-composed", "pixman", true, false },
			   Variant{ "heapcomp-pixman-overlay", "pixman", false, false, true },
			   Variant{ "heapcomp-drm-pixman", "pixman", false, true },
			   Variant{ "heapcomp-drm-pixman-composed", "pixman", true, true },
			   Variant{ "heapcomp-drm-pixman-overlay", "pixman", false, true, true } }) {
		Compositor c{ v.name, v.drm ? heapcompDrmCommand : heapcompCommand, heapcomp,
			      hasRendererOption ? v.renderer : "", {}, "" };
		const std::string plain = std::string(v.drm ? "heapcomp-drm-" : "heapcomp-") +
					  v.renderer;
		if (v.composeAll) {
			c.options.push_back("--no-direct-scanout");
			c.scanoutVariant = plain;
		}
		if (v.overlay) {
			c.options.push_back("--overlay");
			if (!v.drm)
				c.options.push_back("--no-direct-scanout");
			c.overlayInTurns = true;
		}
		/* Without the option heapcomp has its GLES renderer only. */
		if (help.empty())
			c.skipReason = heapcomp + " does not run (build the heapcomp target)";
		else if (!hasRendererOption && std::string(v.renderer) != "gles")
			c.skipReason = "this heapcomp has no --renderer option, so no " +
				       std::string(v.renderer) + " renderer";
		else if (v.drm && !hasDrmBackend)
			c.skipReason = "this heapcomp has no DRM backend";
		else if (v.drm && !hasKms)
			c.skipReason = "no KMS device (/dev/dri/card*): run it in the test VM";
		else if (v.composeAll && !hasComposeOption)
			c.skipReason = "this heapcomp has no --no-direct-scanout option";
		else if (v.overlay && !hasOverlay)
			c.skipReason = "this heapcomp has no --overlay option";
		all.push_back(c);
	}

	std::string sway = findProgram("sway");
	/* sway will not run as root: it could not drop privileges it keeps. */
	all.push_back({ "sway", swayCommand, sway, "pixman", {}, "", false,
			sway.empty() ? "sway is not installed (scripts/install-deps --bench)" : "",
			true });
	std::string weston = findProgram("weston");
	for (const char *renderer : { "pixman", "gl" }) {
		all.push_back({ std::string("weston-") + renderer, westonCommand, weston, renderer,
				{}, "", false, weston.empty() ? "weston is not installed" : "" });
	}
	return all;
}

bufmgr::Result<std::unique_ptr<Process>> Process::spawn(const std::vector<std::string> &argv,
							 const std::vector<std::string> &env,
							 const std::string &logPath, int keepFd,
							 const Credentials *user)
{
	/* Everything the child needs is built before fork: it only execs. */
	std::vector<char *> args, envp;
	for (const std::string &a : argv)
		args.push_back(const_cast<char *>(a.c_str()));
	args.push_back(nullptr);
	for (const std::string &e : env)
		envp.push_back(const_cast<char *>(e.c_str()));
	envp.push_back(nullptr);

	bufmgr::UniqueFd log(open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
	bufmgr::UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (!log || !null)
		return bufmgr::unexpected(errno, "open " + logPath);

	pid_t pid = fork();
	if (pid < 0)
		return bufmgr::unexpected(errno, "fork for " + argv[0]);
	if (pid == 0) {
		setpgid(0, 0);
		if (user && (setgroups(0, nullptr) < 0 || setgid(user->gid) < 0 ||
			     setuid(user->uid) < 0))
			_exit(126);
		/* Nothing outlives a driver that was killed (set after setuid, which clears it). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null.get(), 0);
		dup2(log.get(), 1);
		dup2(log.get(), 2);
		if (keepFd >= 0) {
			if (keepFd == 3)
				fcntl(3, F_SETFD, 0);
			else
				dup2(keepFd, 3);
		}
		execve(args[0], args.data(), envp.data());
		static const char msg[] = "exec failed\n";
		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(127);
	}
	/* Also here, so that a stop right after spawn finds the group. */
	setpgid(pid, pid);
	return std::unique_ptr<Process>(new Process(pid));
}

Process::~Process()
{
	stop();
}

bool Process::running()
{
	if (reaped_)
		return false;
	pid_t r = waitpid(pid_, nullptr, WNOHANG);
	if (r == pid_ || (r < 0 && errno == ECHILD))
		reaped_ = true;
	return !reaped_;
}

bool Process::waitExit(int timeoutMs)
{
	double deadline = monotonicMs() + timeoutMs;
	while (running()) {
		if (monotonicMs() >= deadline)
			return false;
		sleepMs(5);
	}
	return true;
}

void Process::stop(int timeoutMs)
{
	if (running()) {
		kill(pid_, SIGTERM);
		if (!waitExit(timeoutMs)) {
			kill(-pid_, SIGKILL);
			while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
			}
			reaped_ = true;
		}
	}
	/*
	 * Whatever it launched in its group (a shell client) goes too, and
	 * is reaped here: the driver is their subreaper.
	 */
	if (groupKilled_)
		return;
	groupKilled_ = true;
	kill(-pid_, SIGKILL);
	double deadline = monotonicMs() + timeoutMs;
	while (kill(-pid_, 0) == 0 && monotonicMs() < deadline) {
		while (waitpid(-pid_, nullptr, WNOHANG) > 0) {
		}
		sleepMs(5);
	}
}

void Process::adoptOrphans()
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

CpuClock::CpuClock(pid_t pid)
{
	/* Parent of every process, to find the root's descendants. */
	std::map<pid_t, std::vector<pid_t>> children;
	if (DIR *proc = opendir("/proc")) {
		while (dirent *e = readdir(proc)) {
			pid_t child = pid_t(std::atoi(e->d_name));
			if (child <= 0)
				continue;
			std::string stat = readFile("/proc/" + std::string(e->d_name) + "/stat");
			/* Fields after the command name, which may hold spaces. */
			size_t close = stat.rfind(')');
			if (close == std::string::npos)
				continue;
			char state;
			int ppid;
			if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2)
				children[ppid].push_back(child);
		}
		closedir(proc);
	}
	std::vector<pid_t> todo = { pid };
	while (!todo.empty()) {
		pid_t p = todo.back();
		todo.pop_back();
		track(p);
		for (pid_t c : children[p])
			todo.push_back(c);
	}
}

void CpuClock::track(pid_t pid)
{
	clockid_t clock;
	if (clock_getcpuclockid(pid, &clock) == 0)
		tracked_.push_back({ pid, clock, 0 });
}

double CpuClock::seconds()
{
	double total = 0;
	for (Tracked &t : tracked_) {
		timespec ts;
		if (clock_gettime(t.clock, &ts) == 0)
			t.last = double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
		total += t.last;
	}
	return total;
}

double CpuClock::kernelSeconds()
{
	static const double tick = double(sysconf(_SC_CLK_TCK));
	double total = 0;
	for (Tracked &t : tracked_) {
		std::string stat = readFile("/proc/" + std::to_string(t.pid) + "/stat");
		size_t close = stat.rfind(')');
		unsigned long utime = 0, stime = 0;
		/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
		if (close != std::string::npos &&
		    std::sscanf(stat.c_str() + close + 1,
				" %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
				&stime) == 2)
			t.lastKernel = double(stime) / tick;
		total += t.lastKernel;
	}
	return total;
}

bufmgr::Result<std::unique_ptr<Session>> Session::start(const Compositor &compositor,
							const Workload &workload,
							const Params &params)
{
	std::unique_ptr<Session> s(new Session());
	s->params_ = params;
	char dir[] = "/tmp/heapcomp-bench-XXXXXX";
	if (!mkdtemp(dir))
		return bufmgr::unexpected(errno, "mkdtemp");
	s->runtimeDir_ = dir;

	CompositorCommand command = compositor.command(compositor, workload, s->runtimeDir_);
	for (const auto &[name, text] : command.files) {
		std::ofstream out(s->runtimeDir_ + "/" + name);
		out << text;
	}
	Credentials nobody;
	const Credentials *user = nullptr;
	if (compositor.refusesRoot && geteuid() == 0) {
		const passwd *pw = getpwnam("nobody");
		if (!pw)
			return bufmgr::unexpected(ENOENT, compositor.name +
							  " refuses root, and there is no user nobody");
		nobody = { pw->pw_uid, pw->pw_gid };
		user = &nobody;
		/* Its runtime dir and config become its own. */
		std::error_code ec;
		for (const auto &entry : std::filesystem::directory_iterator(s->runtimeDir_, ec))
			(void)!chown(entry.path().c_str(), nobody.uid, nobody.gid);
		if (chown(s->runtimeDir_.c_str(), nobody.uid, nobody.gid) < 0)
			return bufmgr::unexpected(errno, "chown " + s->runtimeDir_);
	}
	std::vector<std::string> env = baseEnvironment();
	env.push_back("XDG_RUNTIME_DIR=" + s->runtimeDir_);
	env.insert(env.end(), command.env.begin(), command.env.end());

	auto process = Process::spawn(command.argv, env, s->runtimeDir_ + "/compositor.log", -1,
				      user);
	if (!process)
		return bufmgr::unexpected(process.error());
	s->compositor_ = std::move(*process);

	std::string socket;
	double deadline = monotonicMs() + params.startTimeoutMs;
	while ((socket = findSocket(s->runtimeDir_)).empty()) {
		if (!s->compositor_->running())
			return bufmgr::unexpected(ECHILD, compositor.name + " exited at start: " +
							  s->logTail());
		if (monotonicMs() >= deadline)
			return bufmgr::unexpected(ETIMEDOUT, compositor.name +
							     " made no Wayland socket: " +
							     s->logTail());
		sleepMs(20);
	}

	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return bufmgr::unexpected(errno, "pipe");
	s->progress_ = bufmgr::UniqueFd(fds[0]);
	bufmgr::UniqueFd progressWrite(fds[1]);

	std::vector<std::string> argv = { params.client, "--width", std::to_string(workload.width),
					  "--height", std::to_string(workload.height), "--damage",
					  workload.columnDamage ? "column" : "full", "--frames",
					  std::to_string(params.frames), "--progress-fd", "3" };
	if (workload.fullscreen)
		argv.push_back("--fullscreen");
	argv.push_back("--format");
	argv.push_back(params.format);
	if (!params.dmabufHeap.empty()) {
		argv.push_back("--dmabuf-heap");
		argv.push_back(params.dmabufHeap);
	}
	env.push_back("WAYLAND_DISPLAY=" + socket);
	auto client = Process::spawn(argv, env, s->runtimeDir_ + "/client.log",
				     progressWrite.get());
	if (!client)
		return bufmgr::unexpected(client.error());
	s->client_ = std::move(*client);
	return s;
}

Session::~Session()
{
	client_.reset();
	compositor_.reset();
	std::error_code ec;
	if (!runtimeDir_.empty())
		std::filesystem::remove_all(runtimeDir_, ec);
}

bool Session::nextFrame(FrameTally *tally)
{
	double deadline = monotonicMs() + params_.frameTimeoutMs;
	for (;;) {
		char event;
		pollfd pfd = { progress_.get(), POLLIN, 0 };
		int left = int(deadline - monotonicMs());
		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return false;
		if (read(progress_.get(), &event, 1) != 1)
			return false;	/* the client has gone */
		switch (event) {
		case 'f':
			tally->frames++;
			return true;
		case 'z':
			tally->zeroCopy++;
			[[fallthrough]];
		case 'p':
			tally->presented++;
			break;
		case 'd':
			tally->discarded++;
			break;
		}
	}
}

double Session::compositorCpuSeconds()
{
	/* Created late, so that the clients a compositor starts are there. */
	if (!cpu_)
		cpu_ = std::make_unique<CpuClock>(compositor_->pid());
	return cpu_->seconds();
}

double Session::compositorKernelSeconds()
{
	if (!cpu_)
		cpu_ = std::make_unique<CpuClock>(compositor_->pid());
	return cpu_->kernelSeconds();
}

std::string Session::finish()
{
	if (!client_->waitExit(3000))
		client_->stop();
	compositor_->stop();
	std::string log = readFile(runtimeDir_ + "/client.log");
	size_t line = log.rfind("frames ");
	return line == std::string::npos ? tail(log, 200) : tail(log.substr(line), 200);
}

bufmgr::Result<bufmgr::Json> Session::askControl(const std::string &request) const
{
	const std::string path = comp::controlSocketPath(runtimeDir_, kSocketName);
	auto answer = comp::askHeapcomp(path, request);
	if (!answer)
		return bufmgr::unexpected(std::move(answer).error());
	std::optional<bufmgr::Json> json = bufmgr::parseJson(*answer);
	if (!json)
		return bufmgr::unexpected(EBADMSG, path + ": answered \"" + request + "\" with no JSON");
	if (const bufmgr::Json *error = json->get("error"))
		return bufmgr::unexpected(EIO, path + ": " + error->text);
	return std::move(*json);
}

bufmgr::Result<Session::OverlayCost> Session::overlayCost() const
{
	/* Not "stats": asked beside the frames measured, it should cost heapcomp little. */
	auto answer = askControl("overlay");
	if (!answer)
		return bufmgr::unexpected(std::move(answer).error());
	const bufmgr::Json &overlay = bufmgr::jsonAt(*answer, { "overlay" });
	if (overlay.type != bufmgr::Json::Type::Object)
		return bufmgr::unexpected(ENOENT, "heapcomp has no overlay");
	return OverlayCost{ bufmgr::jsonNumber(overlay, { "redraws" }).value_or(0),
			    bufmgr::jsonNumber(overlay, { "cpu_ns" }).value_or(0) };
}

bufmgr::Result<void> Session::showOverlay(bool shown) const
{
	auto answer = askControl(shown ? "overlay show" : "overlay hide");
	if (!answer)
		return bufmgr::unexpected(std::move(answer).error());
	if (bufmgr::jsonAt(*answer, { "overlay", "shown" }).boolean != shown)
		return bufmgr::unexpected(EIO, "heapcomp's overlay did not switch");
	return {};
}

std::string Session::logTail() const
{
	std::string text = tail(readFile(runtimeDir_ + "/compositor.log"), 300);
	std::string client = readFile(runtimeDir_ + "/client.log");
	if (!client.empty())
		text += " | client: " + tail(client, 200);
	return text;
}

} /* namespace heapcomp::bench */
