/* SPDX-License-Identifier: MIT */
/*
 * The control socket: heapctl asking a heapcomp process over a real
 * socket, and the socket's own rules (owner only, bounded requests, no
 * client able to stall the compositor, gone at exit).
 */
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include <bufmgr/unique_fd.h>

#include "child_process.h"
#include "control_socket.h"
#include "json.h"

namespace heapcomp::test {
namespace {

/*
 * heapcomp headless, its control socket alone in a temporary directory;
 * or, with a runtime directory, both its sockets there where it puts them
 * by default.
 */
class HeapcompProcess
{
public:
	enum Place { PrivateDir, RuntimeDir };

	explicit HeapcompProcess(const std::string &name, Place place = PrivateDir)
	{
		std::string dir = testing::TempDir() + "heapcomp-ctl-XXXXXX";
		if (!mkdtemp(dir.data()))
			return;
		dir_ = dir;
		socket_ = "heapcomp-ctl-" + name + "-" + std::to_string(getpid());
		log_ = outputPath("ctl-" + name + ".txt");
		std::vector<std::string> argv = { HEAPCOMP_BINARY, "--socket", socket_, "--width",
						  "320", "--height", "240" };
		if (place == PrivateDir) {
			control_ = dir_ + "/control";
			argv.insert(argv.end(), { "--control-socket", control_ });
		} else {
			control_ = dir_ + "/heapcomp-" + socket_ + ".control";
			argv.insert(argv.begin(), { "/usr/bin/env", "XDG_RUNTIME_DIR=" + dir_ });
		}
		child_ = std::make_unique<Child>(argv, "unused", log_);
		/* The Wayland socket is logged before the control socket listens: wait for both. */
		ready_ = child_->running() && waitForText(log_, "WAYLAND_DISPLAY=" + socket_, 30000);
		for (int waited = 0; ready_ && access(control_.c_str(), F_OK) != 0; waited += 10) {
			if (waited > 10000 || !child_->running())
				ready_ = false;
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		}
	}

	~HeapcompProcess()
	{
		child_.reset();
		if (!dir_.empty()) {
			unlink(control_.c_str());
			rmdir(dir_.c_str());
		}
	}

	bool ready() const { return ready_; }
	Child &child() { return *child_; }
	const std::string &control() const { return control_; }
	const std::string &socket() const { return socket_; }
	const std::string &dir() const { return dir_; }
	std::string log() const { return readFile(log_); }

private:
	std::string dir_, control_, socket_, log_;
	std::unique_ptr<Child> child_;
	bool ready_ = false;
};

struct HeapctlRun {
	int status = -1;
	std::string output;	/* stdout and stderr */
};

HeapctlRun heapctl(const std::vector<std::string> &args)
{
	/* Each test is a process of its own, and ctest runs two at once: the pid keeps them apart. */
	static int runs;
	std::string out = outputPath("heapctl-" + std::to_string(getpid()) + "-" +
				     std::to_string(runs++) + ".txt");
	std::vector<std::string> argv = { HEAPCTL_PATH };
	argv.insert(argv.end(), args.begin(), args.end());
	Child child(argv, "unused", out);
	HeapctlRun run;
	run.status = child.wait(20000);
	run.output = readFile(out);
	return run;
}

Json heapctlJson(const std::string &command, const std::string &control)
{
	HeapctlRun run = heapctl({ command, "--json", "--socket", control });
	EXPECT_EQ(run.status, 0) << run.output;
	std::optional<Json> json = parseJson(run.output);
	EXPECT_TRUE(json) << run.output;
	return json.value_or(Json{});
}

bufmgr::UniqueFd connectTo(const std::string &path)
{
	sockaddr_un address = {};
	address.sun_family = AF_UNIX;
	std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
	bufmgr::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (fd && connect(fd.get(), reinterpret_cast<const sockaddr *>(&address),
			  sizeof(address)) < 0)
		fd.reset();
	return fd;
}

/* Everything until the server closes; what came if it did not within timeoutMs. */
std::string readAll(int fd, int timeoutMs)
{
	std::string answer;
	char buffer[4096];
	pollfd pfd = { fd, POLLIN, 0 };
	while (poll(&pfd, 1, timeoutMs) > 0) {
		ssize_t n = read(fd, buffer, sizeof(buffer));
		if (n <= 0)
			break;
		answer.append(buffer, size_t(n));
	}
	return answer;
}

std::string ask(const std::string &path, const std::string &bytes)
{
	bufmgr::UniqueFd fd = connectTo(path);
	if (!fd)
		return "connect: " + std::string(strerror(errno));
	if (send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) != ssize_t(bytes.size()))
		return "send: " + std::string(strerror(errno));
	return readAll(fd.get(), 5000);
}

/* The client in `clients` with that pid; a null Json if none. */
const Json &findClient(const Json &clients, pid_t pid)
{
	static const Json none;
	for (const Json &client : at(clients, { "clients" }).array) {
		if (number(client, { "pid" }) == uint64_t(pid))
			return client;
	}
	return none;
}

TEST(ControlSocket, HeapctlReportsARunningClient)
{
	std::string program = findProgram("weston-simple-shm");
	if (program.empty())
		GTEST_SKIP() << "weston-simple-shm (weston) is not installed";
	HeapcompProcess heapcomp("client");
	ASSERT_TRUE(heapcomp.ready()) << heapcomp.log();
	Child client({ program }, heapcomp.socket(), outputPath("ctl-simple-shm.txt"));
	ASSERT_TRUE(client.running());

	/* Until the client has drawn: its buffers exist from its first frame. */
	Json clients;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
	do {
		clients = heapctlJson("clients", heapcomp.control());
		if (number(findClient(clients, client.pid()), { "shm", "buffers" }).value_or(0) > 0)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	} while (std::chrono::steady_clock::now() < deadline);
	const Json &shown = findClient(clients, client.pid());
	ASSERT_EQ(shown.type, Json::Type::Object) << heapcomp.log();
	EXPECT_GT(number(shown, { "shm", "buffers" }).value_or(0), 0u);
	EXPECT_GT(number(shown, { "shm", "bytes" }).value_or(0), 0u);
	EXPECT_EQ(number(shown, { "dma_buf", "buffers" }), 0u);
	EXPECT_EQ(string(shown, { "name" }).value_or("").rfind("weston-simple", 0), 0u);

	Json stats = heapctlJson("stats", heapcomp.control());
	const std::vector<Json> &outputs = at(stats, { "outputs" }).array;
	ASSERT_FALSE(outputs.empty());
	EXPECT_GT(number(outputs[0], { "frames" }).value_or(0), 0u);
	EXPECT_GE(number(stats, { "clients" }).value_or(0), 1u);

	Json planes = heapctlJson("planes", heapcomp.control());
	ASSERT_FALSE(at(planes, { "outputs" }).array.empty());
	EXPECT_GT(number(at(planes, { "outputs" }).array[0], { "frames" }).value_or(0), 0u);

	/* The tables: the client by its pid, the headless backend's reason for no probe. */
	HeapctlRun table = heapctl({ "clients", "--socket", heapcomp.control() });
	EXPECT_EQ(table.status, 0);
	EXPECT_NE(table.output.find(std::to_string(client.pid())), std::string::npos) << table.output;
	EXPECT_NE(table.output.find("SHM BUFFERS"), std::string::npos) << table.output;
	HeapctlRun probe = heapctl({ "probe", "--socket", heapcomp.control() });
	EXPECT_EQ(probe.status, 0);
	EXPECT_NE(probe.output.find("headless backend has no planes"), std::string::npos)
		<< probe.output;
	Json probeJson = heapctlJson("probe", heapcomp.control());
	EXPECT_EQ(at(probeJson, { "scanout_probe" }).type, Json::Type::Array);
	EXPECT_TRUE(at(probeJson, { "scanout_probe" }).array.empty());
}

/*
 * By default the control socket sits beside the Wayland socket, where
 * heapctl looks for it from WAYLAND_DISPLAY, under a name that a search
 * for wayland-* display sockets does not take.
 */
TEST(ControlSocket, HeapctlFindsItBesideTheWaylandSocket)
{
	HeapcompProcess heapcomp("default", HeapcompProcess::RuntimeDir);
	ASSERT_TRUE(heapcomp.ready()) << heapcomp.log();
	struct stat st = {};
	ASSERT_EQ(stat(heapcomp.control().c_str(), &st), 0) << heapcomp.log();
	EXPECT_TRUE(S_ISSOCK(st.st_mode));

	std::string out = outputPath("heapctl-default.txt");
	Child child({ "/usr/bin/env", "XDG_RUNTIME_DIR=" + heapcomp.dir(), HEAPCTL_PATH, "stats",
		      "--json" },
		    heapcomp.socket(), out);
	EXPECT_EQ(child.wait(20000), 0) << readFile(out);
	std::optional<Json> stats = parseJson(readFile(out));
	ASSERT_TRUE(stats) << readFile(out);
	EXPECT_FALSE(at(*stats, { "outputs" }).array.empty()) << readFile(out);
}

TEST(ControlSocket, OwnerOnlyAndGoneAfterSigterm)
{
	HeapcompProcess heapcomp("sigterm");
	ASSERT_TRUE(heapcomp.ready()) << heapcomp.log();
	struct stat st;
	ASSERT_EQ(stat(heapcomp.control().c_str(), &st), 0);
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	EXPECT_EQ(st.st_mode & 0777, 0600u);

	ASSERT_EQ(heapcomp.child().signal(SIGTERM), 0);
	EXPECT_EQ(heapcomp.child().wait(20000), 0) << heapcomp.log();
	EXPECT_NE(access(heapcomp.control().c_str(), F_OK), 0);
	EXPECT_EQ(errno, ENOENT);
}

TEST(ControlSocket, BadRequestsGetAnError)
{
	HeapcompProcess heapcomp("errors");
	ASSERT_TRUE(heapcomp.ready()) << heapcomp.log();

	std::string answer = ask(heapcomp.control(), "bogus\n");
	std::optional<Json> json = parseJson(answer);
	ASSERT_TRUE(json) << answer;
	EXPECT_EQ(string(*json, { "error" }), "unknown command \"bogus\"");

	/* No newline within the limit: an error at once, not a wait for more. */
	answer = ask(heapcomp.control(), std::string(300, 'a'));
	json = parseJson(answer);
	ASSERT_TRUE(json) << answer;
	EXPECT_NE(string(*json, { "error" }).value_or("").find("longer than 256"),
		  std::string::npos)
		<< answer;

	/* A request ended by closing, not by a newline, is still one. */
	bufmgr::UniqueFd fd = connectTo(heapcomp.control());
	ASSERT_TRUE(fd);
	ASSERT_EQ(send(fd.get(), "clients", 7, MSG_NOSIGNAL), 7);
	shutdown(fd.get(), SHUT_WR);
	json = parseJson(readAll(fd.get(), 5000));
	ASSERT_TRUE(json);
	EXPECT_EQ(at(*json, { "clients" }).type, Json::Type::Array);
}

/*
 * heapctl overlay shows and hides the statistics overlay of a running
 * heapcomp: it is drawn, its output composes a frame with it, and the
 * stats say what the answer said.
 */
TEST(ControlSocket, HeapctlShowsAndHidesTheOverlay)
{
	HeapcompProcess heapcomp("overlay");
	ASSERT_TRUE(heapcomp.ready()) << heapcomp.log();
	const std::string &control = heapcomp.control();
	HeapctlRun run = heapctl({ "overlay", "--socket", control });
	EXPECT_EQ(run.status, 0) << run.output;
	EXPECT_EQ(run.output, "overlay: hidden\n");
	auto rendered = [&] {
		Json stats = heapctlJson("stats", control);
		return number(at(stats, { "outputs" }).array.at(0), { "repaint", "rendered" })
			.value_or(0);
	};
	const uint64_t before = rendered();

	run = heapctl({ "overlay", "show", "--json", "--socket", control });
	ASSERT_EQ(run.status, 0) << run.output;
	std::optional<Json> json = parseJson(run.output);
	ASSERT_TRUE(json) << run.output;
	EXPECT_TRUE(at(*json, { "overlay", "shown" }).boolean) << run.output;
	EXPECT_GT(number(*json, { "overlay", "width" }).value_or(0), 0u) << run.output;
	EXPECT_GT(number(*json, { "overlay", "redraws" }).value_or(0), 0u) << run.output;
	bool drawn = false;
	for (int i = 0; i < 100 && !drawn; i++) {
		drawn = rendered() > before;
		if (!drawn)
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
	EXPECT_TRUE(drawn) << "no frame composed with the overlay";
	EXPECT_TRUE(at(heapctlJson("stats", control), { "overlay", "shown" }).boolean);

	run = heapctl({ "overlay", "hide", "--socket", control });
	EXPECT_EQ(run.status, 0) << run.output;
	EXPECT_EQ(run.output, "overlay: hidden\n");
	EXPECT_FALSE(at(heapctlJson("stats", control), { "overlay", "shown" }).boolean);

	run = heapctl({ "overlay", "blink", "--socket", control });
	EXPECT_EQ(run.status, 2) << run.output;
	std::string answer = ask(control, "overlay blink\n");
	EXPECT_NE(answer.find("unknown command"), std::string::npos) << answer;
}

TEST(ControlSocket, HeapctlSaysWhenNoHeapcompListens)
{
	std::string path = outputPath("no-such-control-" + std::to_string(getpid()));
	HeapctlRun run = heapctl({ "stats", "--socket", path });
	EXPECT_EQ(run.status, 1);
	EXPECT_NE(run.output.find("heapctl: cannot connect to " + path +
				  ": No such file or directory (is heapcomp running?)"),
		  std::string::npos)
		<< run.output;
}

TEST(ControlSocket, IdleAndNonReadingClientsStallNothing)
{
	HeapcompProcess heapcomp("stall");
	ASSERT_TRUE(heapcomp.ready()) << heapcomp.log();

	/*
	 * More silent connections than the cap, then one that asks and never
	 * reads and one that sends half a word: the newest, they stay open.
	 */
	std::vector<bufmgr::UniqueFd> held;
	for (size_t i = 0; i < comp::ControlSocket::kMaxConnections + 4; i++) {
		held.push_back(connectTo(heapcomp.control()));
		ASSERT_TRUE(held.back()) << i;
	}
	held.push_back(connectTo(heapcomp.control()));
	ASSERT_TRUE(held.back());
	ASSERT_EQ(send(held.back().get(), "stats\n", 6, MSG_NOSIGNAL), 6);
	held.push_back(connectTo(heapcomp.control()));
	ASSERT_TRUE(held.back());
	ASSERT_EQ(send(held.back().get(), "sta", 3, MSG_NOSIGNAL), 3);
	/* heapcomp has read the half word before the next request comes. */
	std::this_thread::sleep_for(std::chrono::milliseconds(200));

	for (int i = 0; i < 3; i++) {
		auto start = std::chrono::steady_clock::now();
		std::string answer = ask(heapcomp.control(), "stats\n");
		auto took = std::chrono::steady_clock::now() - start;
		EXPECT_LT(took, std::chrono::seconds(1));
		std::optional<Json> json = parseJson(answer);
		ASSERT_TRUE(json) << answer;
		EXPECT_FALSE(at(*json, { "outputs" }).array.empty());
	}
	EXPECT_TRUE(heapcomp.child().running());
}

/*
 * In the process, on an event loop the test turns: an answer far larger
 * than a socket buffer, to a client that does not read, waits in its
 * connection's buffer while the next client is answered.
 */
TEST(ControlSocket, ABigAnswerWaitsForItsReader)
{
	std::string dir = testing::TempDir() + "heapcomp-ctl-XXXXXX";
	ASSERT_TRUE(mkdtemp(dir.data()));
	std::string path = dir + "/control";
	/* Many times what a socket buffers (some hundred KiB). */
	constexpr size_t kBig = 4 << 20;
	wl_event_loop *loop = wl_event_loop_create();
	ASSERT_TRUE(loop);
	auto control = comp::ControlSocket::create(loop, path, [](std::string_view request) {
		return request == "big" ? std::string(kBig, 'x') : std::string("{}\n");
	});
	ASSERT_TRUE(control) << control.error().message();
	auto turn = [&]() {
		for (int i = 0; i < 10; i++)
			wl_event_loop_dispatch(loop, 10);
	};

	bufmgr::UniqueFd slow = connectTo(path);
	ASSERT_TRUE(slow);
	ASSERT_EQ(send(slow.get(), "big\n", 4, MSG_NOSIGNAL), 4);
	turn();
	bufmgr::UniqueFd quick = connectTo(path);
	ASSERT_TRUE(quick);
	ASSERT_EQ(send(quick.get(), "small\n", 6, MSG_NOSIGNAL), 6);
	turn();
	/* Answered and closed: a read sees the answer, then the end. */
	EXPECT_EQ(readAll(quick.get(), 0), "{}\n");
	EXPECT_EQ((*control)->connections(), 1u);

	/* The slow reader still gets all of it. */
	size_t received = 0;
	char buffer[65536];
	while (received < kBig) {
		wl_event_loop_dispatch(loop, 0);
		ssize_t n = recv(slow.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;
		received += n > 0 ? size_t(n) : 0;
	}
	EXPECT_EQ(received, kBig);
	turn();
	EXPECT_EQ((*control)->connections(), 0u);

	control->reset();
	EXPECT_NE(access(path.c_str(), F_OK), 0);
	wl_event_loop_destroy(loop);
	rmdir(dir.c_str());
}

TEST(ControlSocket, NoRuntimeDirMeansNoControlSocket)
{
	std::string env = findProgram("env");
	if (env.empty())
		GTEST_SKIP() << "no env program";
	std::string out = outputPath("ctl-no-runtime-dir.txt");
	Child child({ env, "-u", "XDG_RUNTIME_DIR", HEAPCOMP_BINARY, "--width", "64", "--height",
		      "64", "--exit-after-frames", "3" },
		    "unused", out);
	ASSERT_TRUE(child.running());
	EXPECT_EQ(child.wait(30000), 0) << readFile(out);
	EXPECT_NE(readFile(out).find("no control socket: XDG_RUNTIME_DIR is not set"),
		  std::string::npos)
		<< readFile(out);
}

} /* namespace */
} /* namespace heapcomp::test */

namespace heapcomp::test {
namespace {

/* The benchmark entry named alloc/<source>/..., or a null Json. */
const Json &findBenchmark(const Json &results, const std::string &source)
{
	static const Json none;
	for (const Json &entry : at(results, { "benchmarks" }).array) {
		if (string(entry, { "name" }).value_or("").rfind("alloc/" + source + "/", 0) == 0)
			return entry;
	}
	return none;
}

/*
 * heapctl bench: the run is heapcomp's, on its worker threads; the result
 * is Google Benchmark JSON with its context, memfd the baseline.
 */
TEST(ControlSocket, BenchReportsGoogleBenchmarkJson)
{
	HeapcompProcess heapcomp("bench");
	ASSERT_TRUE(heapcomp.ready()) << heapcomp.log();
	HeapctlRun run = heapctl({ "bench", "size=65536", "count=4", "rounds=2", "threads=2",
				   "sources=memfd", "--json", "--socket", heapcomp.control() });
	ASSERT_EQ(run.status, 0) << run.output;
	std::optional<Json> results = parseJson(run.output);
	ASSERT_TRUE(results) << run.output;
	EXPECT_TRUE(at(*results, { "context", "complete" }).boolean);
	EXPECT_GT(number(*results, { "context", "num_cpus" }).value_or(0), 0u);
	EXPECT_FALSE(string(*results, { "context", "kernel" }).value_or("").empty());
	EXPECT_EQ(at(*results, { "context", "cma_bytes" }).type, Json::Type::Number);
	EXPECT_EQ(at(*results, { "context", "board" }).type, Json::Type::String);
	/* Where the CMA size was read; nowhere, said so, when there is none. */
	const std::string statsSource = string(*results, { "context", "stats_source" }).value_or("");
	if (number(*results, { "context", "cma_bytes" }).value_or(0) == 0)
		EXPECT_EQ(statsSource.rfind("none", 0), 0u) << statsSource;
	else
		EXPECT_NE(statsSource.find("fs"), std::string::npos) << statsSource;
	const Json &memfd = findBenchmark(*results, "memfd");
	ASSERT_EQ(memfd.type, Json::Type::Object) << run.output;
	EXPECT_EQ(string(memfd, { "name" }), "alloc/memfd/65536/threads:2");
	EXPECT_EQ(number(memfd, { "iterations" }), 4u * 2 * 2);
	EXPECT_EQ(number(memfd, { "failures" }), 0u);
	EXPECT_EQ(string(memfd, { "time_unit" }), "ns");
	EXPECT_GE(number(memfd, { "p99_ns" }).value_or(0), number(memfd, { "p50_ns" }).value_or(1));
	EXPECT_GT(number(memfd, { "max_ns" }).value_or(0), 0u);

	/* The table names the run and its baseline. */
	HeapctlRun table = heapctl({ "bench", "size=8192", "count=2", "rounds=1",
				     "sources=memfd", "--socket", heapcomp.control() });
	EXPECT_EQ(table.status, 0) << table.output;
	EXPECT_NE(table.output.find("alloc/memfd/8192/threads:1"), std::string::npos)
		<< table.output;
	EXPECT_NE(table.output.find("1.00x"), std::string::npos) << table.output;

	/* Bad words and unknown sources are refused before anything runs. */
	for (const char *bad : { "size=0", "threads=99", "pattern=zigzag", "colour=red",
				 "size=268435456 count=1024" }) {
		std::string answer = ask(heapcomp.control(), std::string("bench start ") + bad + "\n");
		EXPECT_NE(answer.find("\"error\""), std::string::npos) << bad << ": " << answer;
	}
	std::string unknown = ask(heapcomp.control(), "bench start sources=dma-heap:nonesuch\n");
	EXPECT_NE(unknown.find("no allocation source 'dma-heap:nonesuch'"), std::string::npos)
		<< unknown;
}

/* A long run leaves heapcomp answering, a second start waits its turn. */
TEST(ControlSocket, BenchRunsBesideTheEventLoop)
{
	HeapcompProcess heapcomp("bench-long");
	ASSERT_TRUE(heapcomp.ready()) << heapcomp.log();
	std::string started = ask(heapcomp.control(),
				  "bench start sources=memfd size=4096 count=64 rounds=1000\n");
	std::optional<Json> progress = parseJson(started);
	ASSERT_TRUE(progress) << started;
	ASSERT_TRUE(at(*progress, { "running" }).boolean) << started;

	std::string busy = ask(heapcomp.control(), "bench start sources=memfd\n");
	EXPECT_NE(busy.find("still going"), std::string::npos) << busy;
	/* The event loop answers at once while the worker allocates. */
	auto before = std::chrono::steady_clock::now();
	std::optional<Json> stats = parseJson(ask(heapcomp.control(), "stats\n"));
	EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(1));
	ASSERT_TRUE(stats);
	/* The worker gets on with it, however loaded the machine. */
	std::optional<Json> later;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
	do {
		later = parseJson(ask(heapcomp.control(), "bench\n"));
		ASSERT_TRUE(later);
	} while (number(*later, { "done" }).value_or(0) == 0 &&
		 std::chrono::steady_clock::now() < deadline);
	EXPECT_GT(number(*later, { "done" }).value_or(0), 0u);
	EXPECT_EQ(number(*later, { "total" }), 64u * 1000);

	/* SIGTERM mid-run: heapcomp stops the worker and exits cleanly. */
	ASSERT_EQ(heapcomp.child().signal(SIGTERM), 0);
	EXPECT_EQ(heapcomp.child().wait(20000), 0) << heapcomp.log();
}

/*
 * In the test VM, the system and CMA heaps: each source gets figures and
 * a ratio to memfd. A skip on hosts without heaps, a failure in the VM.
 */
TEST(ControlSocket, BenchAllocatesFromTheHeaps)
{
	if (access("/dev/dma_heap/system", R_OK) != 0) {
		if (getenv("HEAPCOMP_VM"))
			FAIL() << "no /dev/dma_heap/system in the VM";
		GTEST_SKIP() << "no DMA-BUF heaps on this kernel";
	}
	HeapcompProcess heapcomp("bench-heaps");
	ASSERT_TRUE(heapcomp.ready()) << heapcomp.log();
	HeapctlRun run = heapctl({ "bench", "size=262144", "count=4", "rounds=2", "--json",
				   "--socket", heapcomp.control() });
	ASSERT_EQ(run.status, 0) << run.output;
	std::optional<Json> results = parseJson(run.output);
	ASSERT_TRUE(results) << run.output;
	EXPECT_GT(number(*results, { "context", "cma_bytes" }).value_or(0), 0u) << run.output;
	/* The VM's kernel has total_pages in sysfs. */
	EXPECT_EQ(string(*results, { "context", "stats_source" }).value_or("").rfind("sysfs", 0), 0u)
		<< run.output;
	for (const char *source : { "dma-heap:system", "dma-heap:default_cma_region", "memfd" }) {
		const Json &entry = findBenchmark(*results, source);
		ASSERT_EQ(entry.type, Json::Type::Object) << source << ": " << run.output;
		EXPECT_EQ(number(entry, { "iterations" }), 8u) << source;
		EXPECT_EQ(number(entry, { "failures" }), 0u) << source;
		EXPECT_EQ(at(entry, { "vs_memfd" }).type, Json::Type::Number) << source;
	}
}

} /* namespace */
} /* namespace heapcomp::test */
