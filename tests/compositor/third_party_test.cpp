/* SPDX-License-Identifier: MIT */
/*
 * Real third-party clients from Debian against the compositor: the
 * weston demo clients, wayland-info and foot. A client that is not
 * installed is a skip.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <bufmgr/manager.h>
#include <bufmgr/provenance.h>
#include <xf86drm.h>

#include "child_process.h"
#include "fd_count.h"
#include "json.h"
#include "render/png.h"
#include "server_runner.h"
#include "surface.h"

namespace heapcomp::test {
namespace {

/*
 * The DRM node on which GBM really allocates, as bufmgr found it by
 * probing: a render node on real hardware, a KMS card node in the test
 * VM (Mesa's kms_swrast can't allocate on vgem's render node).
 */
std::string gbmNode()
{
	auto manager = bufmgr::BufferManager::create();
	if (!manager)
		return {};
	for (const bufmgr::SourceInfo &source : (*manager)->sources()) {
		if (source.kind == bufmgr::AllocatorKind::Gbm)
			return source.device;
	}
	return {};
}

/*
 * The card node of the first DRM device libdrm lists (drmGetDevices2), as
 * clients that look up the compositor's main device need. libdrm 2.4.114
 * skips the faux bus, where VKMS and VGEM are since Linux 6.15: in the test
 * VM, only its PCI display (scripts/vm/run --pci-display) is listed.
 */
std::string listedCardNode()
{
	drmDevicePtr devices[16];
	const int count = std::min(drmGetDevices2(0, devices, 16), 16);
	std::string node;
	for (int i = 0; i < count && node.empty(); i++) {
		if (devices[i]->available_nodes & (1 << DRM_NODE_PRIMARY))
			node = devices[i]->nodes[DRM_NODE_PRIMARY];
	}
	if (count > 0)
		drmFreeDevices(devices, count);
	return node;
}

/* Why a test of a client that looks its device up cannot run: a failure in a VM with a PCI display. */
#define SKIP_UNLESS_LISTED_CARD(card)                                                          \
	do {                                                                                   \
		if (!(card).empty())                                                           \
			break;                                                                 \
		if (getenv("HEAPCOMP_VM_PCI_DISPLAY"))                                         \
			FAIL() << "the VM has a PCI display, but libdrm lists no DRM device";  \
		GTEST_SKIP() << "libdrm lists no DRM device (VKMS and VGEM are on the faux "   \
				"bus, which it skips: run in the VM with --pci-display)";      \
	} while (0)

/* Client dma-bufs the compositor holds, whatever exported them. */
uint64_t liveClientBuffers(ServerRunner &server)
{
	return server.run([](comp::Server &s) {
		uint64_t live = 0;
		for (const auto &source : s.bufferManager().stats().snapshot().sources) {
			if (source.source.rfind("client:", 0) == 0)
				live += source.liveBuffers;
		}
		return live;
	});
}

/* Waits until a view is mapped and has content, then a few frames more. */
bool waitForWindow(ServerRunner &server, int timeoutMs = 20000)
{
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
	while (std::chrono::steady_clock::now() < deadline) {
		bool mapped = server.run([](comp::Server &s) {
			for (comp::View *view : s.views()) {
				if (view->isMapped() && view->surface()->hasBuffer())
					return true;
			}
			return false;
		});
		if (mapped)
			return server.waitFrames(10, 10000);
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
	return false;
}

/* Pixels of the first view's box that are not the background. */
double coverage(ServerRunner &server, const comp::Screenshot &shot)
{
	comp::Rect box = server.run([](comp::Server &s) {
		comp::View *view = s.views().front();
		return comp::Rect{ view->x(), view->y(), view->surface()->width(),
				   view->surface()->height() };
	});
	uint64_t total = 0, drawn = 0;
	for (int32_t y = std::max(box.y, 0); y < std::min<int32_t>(box.y + box.height, shot.height); y++) {
		for (int32_t x = std::max(box.x, 0); x < std::min<int32_t>(box.x + box.width, shot.width); x++) {
			total++;
			if ((shot.at(uint32_t(x), uint32_t(y)) & 0xffffff) != 0)
				drawn++;
		}
	}
	return total ? double(drawn) / double(total) : 0.0;
}

/*
 * Screenshots until the first view's box is at least `fraction` drawn:
 * clients may show a few empty frames first. The last screenshot.
 */
comp::Screenshot waitForCoverage(ServerRunner &server, double fraction, double *reached,
				 int timeoutMs = 20000)
{
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
	comp::Screenshot shot;
	do {
		server.waitFrames(1);
		shot = server.screenshot();
		*reached = coverage(server, shot);
		if (*reached >= fraction)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	} while (std::chrono::steady_clock::now() < deadline);
	return shot;
}

comp::ServerConfig bigOutput()
{
	comp::ServerConfig config = ServerRunner::realClockConfig();
	config.headless.width = 800;
	config.headless.height = 600;
	return config;
}

void saveScreenshot(const comp::Screenshot &shot, const std::string &name)
{
	auto ret = comp::writePng(outputPath(name + ".png"), shot.width, shot.height, shot.pixels);
	EXPECT_TRUE(ret) << ret.error().message();
}

TEST(ThirdParty, WaylandInfoListsEveryGlobal)
{
	std::string program = findProgram("wayland-info");
	if (program.empty())
		GTEST_SKIP() << "wayland-info (wayland-utils) is not installed";
	ServerRunner server(ServerRunner::realClockConfig());
	ASSERT_TRUE(server.ok()) << server.error();
	std::string out = outputPath("wayland-info.txt");
	Child child({ program }, server.socket(), out);
	ASSERT_TRUE(child.running());
	EXPECT_EQ(child.wait(20000), 0);
	std::string text = readFile(out);
	for (const char *global : { "wl_compositor", "wl_subcompositor", "wl_shm", "wl_output",
				    "zxdg_output_manager_v1", "xdg_wm_base", "wl_seat",
				    "wl_data_device_manager", "wp_viewporter", "wp_presentation",
				    "zwp_linux_dmabuf_v1", "heapcomp_heaps_v1" })
		EXPECT_NE(text.find(std::string("'") + global + "'"), std::string::npos) << global;
	EXPECT_NE(text.find("HEADLESS-1"), std::string::npos);
}

TEST(ThirdParty, WestonSimpleShm)
{
	std::string program = findProgram("weston-simple-shm");
	if (program.empty())
		GTEST_SKIP() << "weston-simple-shm (weston) is not installed";
	ServerRunner server(bigOutput());
	ASSERT_TRUE(server.ok()) << server.error();
	ASSERT_TRUE(server.drawFrames(2));
	int fds = countOpenFds();
	{
		Child child({ program }, server.socket(), outputPath("simple-shm.txt"));
		ASSERT_TRUE(child.running());
		ASSERT_TRUE(waitForWindow(server)) << readFile(outputPath("simple-shm.txt"));
		double drawn = 0;
		comp::Screenshot shot = waitForCoverage(server, 0.5, &drawn);
		saveScreenshot(shot, "simple-shm");
		EXPECT_GE(drawn, 0.5);
		EXPECT_EQ(server.run([](comp::Server &s) {
			return s.views().empty() ? std::string() : s.views().front()->title();
		}),
			  "simple-shm");
	}
	/* The client's exit leaves nothing in the compositor. */
	ASSERT_TRUE(server.waitFrames(3));
	EXPECT_EQ(countOpenFds(), fds);
	EXPECT_EQ(server.run([](comp::Server &s) { return s.views().size(); }), 0u);
}

TEST(ThirdParty, WestonSimpleEgl)
{
	std::string program = findProgram("weston-simple-egl");
	if (program.empty())
		GTEST_SKIP() << "weston-simple-egl (weston) is not installed";
	ServerRunner server(bigOutput());
	ASSERT_TRUE(server.ok()) << server.error();
	/* -o: opaque, so coverage does not depend on the clear alpha. */
	Child child({ program, "-o" }, server.socket(), outputPath("simple-egl.txt"));
	ASSERT_TRUE(child.running());
	ASSERT_TRUE(waitForWindow(server, 30000)) << readFile(outputPath("simple-egl.txt"));
	/* A triangle on a black background: some of the window is drawn. */
	double drawn = 0;
	comp::Screenshot shot = waitForCoverage(server, 0.05, &drawn);
	saveScreenshot(shot, "simple-egl");
	EXPECT_GE(drawn, 0.05);
}

TEST(ThirdParty, Foot)
{
	std::string program = findProgram("foot");
	if (program.empty())
		GTEST_SKIP() << "foot is not installed";
	ServerRunner server(bigOutput());
	ASSERT_TRUE(server.ok()) << server.error();
	Child child({ program, "-o", "colors.background=336699", "sh", "-c", "sleep 30" },
		    server.socket(), outputPath("foot.txt"));
	ASSERT_TRUE(child.running());
	ASSERT_TRUE(waitForWindow(server, 30000)) << readFile(outputPath("foot.txt"));
	ASSERT_TRUE(server.waitFrames(10));
	comp::Screenshot shot = server.screenshot();
	saveScreenshot(shot, "foot");
	EXPECT_EQ(server.run([](comp::Server &s) {
		return s.views().empty() ? std::string() : s.views().front()->appId();
	}), "foot");
	/* The terminal's background colour fills most of its window. */
	comp::Rect box = server.run([](comp::Server &s) {
		comp::View *view = s.views().front();
		return comp::Rect{ view->x(), view->y(), view->surface()->width(),
				   view->surface()->height() };
	});
	uint32_t centre = shot.at(uint32_t(box.x + box.width / 2), uint32_t(box.y + box.height / 2));
	EXPECT_EQ(centre & 0xffffff, 0x336699u);
}

/*
 * weston-simple-dmabuf-feedback allocates with GBM on the main device it is
 * told, fullscreen, for three seconds, and asserts what the feedback says:
 * headless offers a fullscreen surface a scanout tranche, and the client
 * must find a format there other than its first and allocate again in it.
 *
 * Its three seconds start before its first frame, drawn by llvmpipe: under
 * emulation that frame took 1.4-2.8 s, mostly compiling shaders, and the
 * client ended 2-3 s in (it counts whole seconds). Ending while a buffer it
 * reallocated is not yet created, it destroys that buffer's old, already
 * destroyed wl_buffer again and crashes. So llvmpipe compiles without
 * optimising, and a first run offered no scanout tranche warms Mesa's
 * shader cache (for its first format; the second still compiles): the
 * first frame then came in 0.7-1.5 s, the tranche at once, and the
 * reallocation was done 0.5 s or more before the end. Less likely to
 * crash, not impossible.
 */
TEST(ThirdParty, WestonSimpleDmabufFeedback)
{
	std::string program = findProgram("weston-simple-dmabuf-feedback");
	if (program.empty())
		GTEST_SKIP() << "weston-simple-dmabuf-feedback (weston) is not installed";
	const std::string card = listedCardNode();
	SKIP_UNLESS_LISTED_CARD(card);
	comp::ServerConfig config = ServerRunner::realClockConfig();
	/* Small frames: less of its three seconds goes to drawing. */
	config.headless.width = 320;
	config.headless.height = 240;
	config.headless.renderNode = card;
	/* It runs three seconds: the tranche comes at once. */
	config.scanoutHysteresis = std::chrono::milliseconds(0);
	const std::string cache = outputPath("simple-dmabuf-feedback-shader-cache");
	std::filesystem::remove_all(cache);
	struct RemoveAtEnd {
		const std::string &path;
		~RemoveAtEnd()
		{
			std::error_code ignored;
			std::filesystem::remove_all(path, ignored);
		}
	} removeCache{ cache };
	const std::vector<std::string> env = { "MESA_SHADER_CACHE_DIR=" + cache,
					       "GALLIVM_PERF=nopt" };
	{
		comp::ServerConfig warmup = config;
		warmup.headless.directScanout = false;
		ServerRunner server(warmup);
		ASSERT_TRUE(server.ok()) << server.error();
		const std::string out = outputPath("simple-dmabuf-feedback-warmup.txt");
		Child child({ program }, server.socket(), out, env);
		ASSERT_TRUE(child.running());
		ASSERT_EQ(child.wait(120000), 0) << readFile(out);
		const std::string log = readFile(out);
		EXPECT_NE(log.find("scanout tranche? no"), std::string::npos) << log;
		EXPECT_EQ(log.find("scanout tranche? yes"), std::string::npos) << log;
	}
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	const std::string out = outputPath("simple-dmabuf-feedback.txt");
	Child child({ program }, server.socket(), out, env);
	ASSERT_TRUE(child.running());
	EXPECT_EQ(child.wait(120000), 0) << readFile(out);
	const std::string log = readFile(out);
	EXPECT_NE(log.find("main_device event for dma-buf feedback - " + card), std::string::npos)
		<< log;
	EXPECT_NE(log.find("scanout tranche? yes"), std::string::npos) << log;
	/* Its buffers, first and second allocation, were all released at its exit. */
	ASSERT_TRUE(server.waitFrames(3));
	EXPECT_EQ(liveClientBuffers(server), 0u);
}

TEST(ThirdParty, WestonSimpleDmabufEgl)
{
	std::string program = findProgram("weston-simple-dmabuf-egl");
	if (program.empty())
		GTEST_SKIP() << "weston-simple-dmabuf-egl (weston) is not installed";
	std::string node = gbmNode();
	if (node.empty() && getenv("HEAPCOMP_VM"))
		FAIL() << "the test VM has a DRM node for GBM, but bufmgr found none";
	if (node.empty())
		GTEST_SKIP() << "no DRM node where GBM can allocate";
	ServerRunner server(bigOutput());
	ASSERT_TRUE(server.ok()) << server.error();
	ASSERT_TRUE(server.drawFrames(2));
	int fds = countOpenFds();
	{
		Child child({ program, "--drm-render-node=" + node }, server.socket(),
			    outputPath("simple-dmabuf-egl.txt"));
		ASSERT_TRUE(child.running());
		ASSERT_TRUE(waitForWindow(server, 60000))
			<< readFile(outputPath("simple-dmabuf-egl.txt"));
		double drawn = 0;
		comp::Screenshot shot = waitForCoverage(server, 0.05, &drawn);
		saveScreenshot(shot, "simple-dmabuf-egl");
		/* A square moving over a transparent window. */
		EXPECT_GE(drawn, 0.05);
		EXPECT_GT(liveClientBuffers(server), 0u) << "its buffers are not dma-bufs";
	}
	ASSERT_TRUE(server.waitFrames(3));
	EXPECT_EQ(liveClientBuffers(server), 0u);
	EXPECT_EQ(countOpenFds(), fds);
}

/* Whether heapcomp, its output going to out, said before deadline that it listens on socket. */
bool listening(const std::string &out, const std::string &socket,
	       std::chrono::steady_clock::time_point deadline)
{
	const std::string line = "WAYLAND_DISPLAY=" + socket;
	while (readFile(out).find(line) == std::string::npos &&
	       std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	return readFile(out).find(line) != std::string::npos;
}

/* The heapcomp executable itself, as scripts use it. */
TEST(Executable, ScreenshotAndExitAfterFrames)
{
	std::string png = outputPath("exe-shot.png");
	std::string out = outputPath("exe-shot.txt");
	unlink(png.c_str());
	std::string socket = "heapcomp-exe-" + std::to_string(getpid());
	Child child({ HEAPCOMP_BINARY, "--socket", socket, "--width", "200", "--height", "100",
		      "--refresh", "120", "--screenshot", png, "--screenshot-frames", "5",
		      "--exit-after-frames", "10" },
		    "unused", out);
	ASSERT_TRUE(child.running());
	EXPECT_EQ(child.wait(30000), 0) << readFile(out);
	EXPECT_NE(readFile(out).find("WAYLAND_DISPLAY=" + socket), std::string::npos);
	auto image = comp::readPng(png);
	ASSERT_TRUE(image) << image.error().message();
	EXPECT_EQ(image->width, 200u);
	EXPECT_EQ(image->height, 100u);
	EXPECT_EQ(image->argb[0], 0xff000000u);
}

TEST(Executable, SignalsScreenshotAndStop)
{
	std::string png = outputPath("exe-signal.png");
	std::string out = outputPath("exe-signal.txt");
	unlink(png.c_str());
	/* No socket name: the first free wayland-N, printed for clients. */
	Child child({ HEAPCOMP_BINARY, "--width", "64", "--height", "64", "--screenshot", png },
		    "unused", out);
	ASSERT_TRUE(child.running());
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
	while (readFile(out).find("WAYLAND_DISPLAY=wayland-") == std::string::npos &&
	       std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	ASSERT_NE(readFile(out).find("WAYLAND_DISPLAY=wayland-"), std::string::npos) << readFile(out);
	ASSERT_EQ(child.signal(SIGUSR1), 0);
	while (access(png.c_str(), R_OK) != 0 && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	std::this_thread::sleep_for(std::chrono::milliseconds(200));
	auto image = comp::readPng(png);
	ASSERT_TRUE(image) << image.error().message() << readFile(out);
	EXPECT_EQ(image->width, 64u);
	ASSERT_EQ(child.signal(SIGTERM), 0);
	EXPECT_EQ(child.wait(10000), 0);
}

/*
 * --overlay: the statistics overlay is shown from the start, in the top
 * right corner of the screenshot, and the statistics say so.
 */
TEST(Executable, OverlayShownFromTheStart)
{
	std::string png = outputPath("exe-overlay.png");
	std::string stats = outputPath("exe-overlay.json");
	std::string out = outputPath("exe-overlay.txt");
	unlink(png.c_str());
	unlink(stats.c_str());
	std::string socket = "heapcomp-overlay-" + std::to_string(getpid());
	Child child({ HEAPCOMP_BINARY, "--socket", socket, "--width", "800", "--height", "600",
		      "--overlay", "--screenshot", png, "--stats", stats },
		    "unused", out);
	ASSERT_TRUE(child.running());
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
	ASSERT_TRUE(listening(out, socket, deadline)) << readFile(out);
	ASSERT_EQ(child.signal(SIGUSR1), 0);
	while ((access(png.c_str(), R_OK) != 0 || access(stats.c_str(), R_OK) != 0) &&
	       std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	std::this_thread::sleep_for(std::chrono::milliseconds(200));
	ASSERT_EQ(child.signal(SIGTERM), 0);
	EXPECT_EQ(child.wait(10000), 0) << readFile(out);

	std::optional<Json> json = parseJson(readFile(stats));
	ASSERT_TRUE(json) << readFile(stats);
	EXPECT_TRUE(at(*json, { "overlay", "shown" }).boolean) << readFile(stats);
	EXPECT_GE(number(*json, { "overlay", "redraws" }).value_or(0), 1u) << readFile(stats);
	const uint64_t x = number(*json, { "overlay", "x" }).value_or(0);
	const uint64_t width = number(*json, { "overlay", "width" }).value_or(0);
	EXPECT_EQ(x + width, 800u - 8u) << readFile(stats);

	auto image = comp::readPng(png);
	ASSERT_TRUE(image) << image.error().message() << readFile(out);
	ASSERT_EQ(image->width, 800u);
	/* Its panels are drawn over the background; the left edge shows none of it. */
	size_t lit = 0, leftLit = 0;
	for (uint32_t y = 0; y < image->height; y++)
		for (uint32_t x = 0; x < image->width; x++) {
			const bool on = (image->argb[y * image->width + x] & 0x00ffffffu) != 0;
			lit += on;
			leftLit += on && x < 100;
		}
	EXPECT_GT(lit, size_t(680) * 200) << "the overlay is not in the screenshot";
	EXPECT_EQ(leftLit, 0u);
}

/*
 * heapcomp --backend drm (the VM's VKMS) with argv as its client: what
 * SIGUSR1 screenshots (read through the writeback connector, so what the
 * display read) until one shows the client, judged by shown() between 0
 * and 1, reaching want. A failure in the VM, a skip elsewhere.
 */
void expectShownOnDrm(const std::vector<std::string> &argv, const std::string &name,
		      const std::function<double(const comp::PngImage &)> &shown, double want)
{
	if (access("/dev/dri/card0", R_OK) != 0 || argv.front().empty()) {
		if (getenv("HEAPCOMP_VM"))
			FAIL() << "no KMS device or no " << name << " in the VM";
		GTEST_SKIP() << "no KMS device or no " << name;
	}
	std::string png = outputPath("exe-drm-" + name + ".png");
	std::string out = outputPath("exe-drm-" + name + ".txt");
	unlink(png.c_str());
	std::string socket = "heapcomp-drm-" + std::to_string(getpid());
	Child compositor({ HEAPCOMP_BINARY, "--backend", "drm", "--mode", "640x480", "--socket",
			   socket, "--screenshot", png },
			 "unused", out);
	ASSERT_TRUE(compositor.running());
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
	ASSERT_TRUE(listening(out, socket, deadline)) << readFile(out);

	const std::string clientOut = outputPath("exe-drm-" + name + "-client.txt");
	Child client(argv, socket, clientOut);
	ASSERT_TRUE(client.running());
	double drawn = 0;
	while (std::chrono::steady_clock::now() < deadline) {
		unlink(png.c_str());
		ASSERT_EQ(compositor.signal(SIGUSR1), 0);
		auto shotDeadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
		while (access(png.c_str(), R_OK) != 0 && std::chrono::steady_clock::now() < shotDeadline)
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
		auto image = comp::readPng(png);
		ASSERT_TRUE(image) << image.error().message() << readFile(out);
		ASSERT_EQ(image->width, 640u);
		ASSERT_EQ(image->height, 480u);
		drawn = shown(*image);
		if (drawn >= want)
			break;
	}
	EXPECT_GE(drawn, want) << readFile(out) << readFile(clientOut);
	EXPECT_NE(readFile(out).find("mode set"), std::string::npos) << readFile(out);
	ASSERT_EQ(client.signal(SIGTERM), 0);
	client.wait(10000);
	ASSERT_EQ(compositor.signal(SIGTERM), 0);
	EXPECT_EQ(compositor.wait(20000), 0) << readFile(out);
}

/* The share of the top-left w x h pixels that are not black. */
double litShare(const comp::PngImage &image, uint32_t w, uint32_t h)
{
	size_t lit = 0;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			lit += (image.argb[size_t(y) * image.width + x] & 0xffffff) != 0;
	return double(lit) / (double(w) * h);
}

/*
 * --overlay on the DRM backend: the statistics overlay goes on an overlay
 * plane of its own over heapcomp-demo-client fullscreen, whose frames stay
 * scanned out while it shows, and the display (writeback) shows its panels.
 */
TEST(Executable, DrmOverlayOnItsPlaneKeepsTheClientScannedOut)
{
	if (access("/dev/dri/card0", R_OK) != 0) {
		if (getenv("HEAPCOMP_VM"))
			FAIL() << "no KMS device in the VM";
		GTEST_SKIP() << "no KMS device";
	}
	std::string png = outputPath("exe-drm-overlay.png");
	std::string stats = outputPath("exe-drm-overlay.json");
	std::string out = outputPath("exe-drm-overlay.txt");
	std::string socket = "heapcomp-drm-overlay-" + std::to_string(getpid());
	Child compositor({ HEAPCOMP_BINARY, "--backend", "drm", "--mode", "640x480", "--overlay",
			   "--socket", socket, "--screenshot", png, "--stats", stats },
			 "unused", out);
	ASSERT_TRUE(compositor.running());
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
	ASSERT_TRUE(listening(out, socket, deadline)) << readFile(out);
	const std::string clientOut = outputPath("exe-drm-overlay-client.txt");
	Child client({ HEAPCOMP_DEMO_CLIENT, "--fullscreen", "--frames", "100000" }, socket,
		     clientOut);
	ASSERT_TRUE(client.running());

	/* A screenshot and the statistics at this moment. */
	auto snapshot = [&]() -> std::optional<Json> {
		unlink(png.c_str());
		unlink(stats.c_str());
		if (compositor.signal(SIGUSR1) != 0)
			return std::nullopt;
		auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
		while ((access(png.c_str(), R_OK) != 0 || access(stats.c_str(), R_OK) != 0) &&
		       std::chrono::steady_clock::now() < until)
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
		return parseJson(readFile(stats));
	};
	auto scannedOut = [](const Json &json) {
		return number(at(json, { "outputs" }).array.at(0), { "repaint", "scanned_out" })
			.value_or(0);
	};
	std::optional<Json> json;
	while (std::chrono::steady_clock::now() < deadline) {
		json = snapshot();
		ASSERT_TRUE(json) << readFile(out);
		if (scannedOut(*json) >= 30 && at(*json, { "overlay", "on_plane" }).boolean)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(500));
	}
	ASSERT_TRUE(at(*json, { "overlay", "shown" }).boolean) << readFile(stats);
	ASSERT_TRUE(at(*json, { "overlay", "on_plane" }).boolean) << readFile(stats);
	const uint64_t before = scannedOut(*json);
	ASSERT_GE(before, 30u) << readFile(stats) << readFile(clientOut);

	/* A second on, the client's frames still go to the display as they are. */
	std::this_thread::sleep_for(std::chrono::seconds(1));
	json = snapshot();
	ASSERT_TRUE(json) << readFile(out);
	EXPECT_TRUE(at(*json, { "overlay", "on_plane" }).boolean) << readFile(stats);
	EXPECT_GE(scannedOut(*json), before + 10) << readFile(stats);

	/* What the display read has the panels where the overlay is. */
	auto image = comp::readPng(png);
	ASSERT_TRUE(image) << image.error().message() << readFile(out);
	ASSERT_EQ(image->width, 640u);
	const uint64_t x = number(*json, { "overlay", "x" }).value_or(0);
	const uint64_t y = number(*json, { "overlay", "y" }).value_or(0);
	const uint64_t w = number(*json, { "overlay", "width" }).value_or(0);
	const uint64_t h = number(*json, { "overlay", "height" }).value_or(0);
	ASSERT_GT(w * h, 0u) << readFile(stats);
	ASSERT_LE(x + w, 640u);
	ASSERT_LE(y + h, 480u);
	/* Its background is near black; the demo client's gradient under it is brighter. */
	size_t panel = 0;
	for (uint64_t py = y; py < y + h; py++)
		for (uint64_t px = x; px < x + w; px++) {
			const uint32_t p = image->argb[py * image->width + px];
			panel += ((p >> 16) & 0xff) < 0x30 && ((p >> 8) & 0xff) < 0x30 && (p & 0xff) < 0x30;
		}
	EXPECT_GT(double(panel) / double(w * h), 0.5) << "the overlay is not on the display";

	ASSERT_EQ(client.signal(SIGTERM), 0);
	client.wait(10000);
	ASSERT_EQ(compositor.signal(SIGTERM), 0);
	EXPECT_EQ(compositor.wait(20000), 0) << readFile(out);
}

TEST(Executable, DrmBackendShowsWestonSimpleShm)
{
	/* simple-shm draws 250x250 at the top left. */
	expectShownOnDrm({ findProgram("weston-simple-shm") }, "simple-shm",
			 [](const comp::PngImage &image) { return litShare(image, 250, 250); }, 0.5);
}

TEST(Executable, DrmBackendShowsWestonSimpleDmabufEgl)
{
	/* Its dma-bufs from GBM on the render node; it draws a 256x256 window. */
	const std::string node = gbmNode();
	if (node.empty() && getenv("HEAPCOMP_VM"))
		FAIL() << "the test VM has a DRM node for GBM, but bufmgr found none";
	if (node.empty())
		GTEST_SKIP() << "no DRM node where GBM can allocate";
	expectShownOnDrm({ findProgram("weston-simple-dmabuf-egl"), "--drm-render-node=" + node },
			 "simple-dmabuf-egl",
			 [](const comp::PngImage &image) { return litShare(image, 256, 256); }, 0.05);
}

/*
 * weston-simple-dmabuf-feedback on a display libdrm lists (the VM's PCI
 * display, which has no render node: its card node is the main device).
 * Its fullscreen dma-bufs from GBM on that device go to the primary plane
 * as they are.
 */
TEST(Executable, DrmBackendRunsWestonSimpleDmabufFeedback)
{
	std::string program = findProgram("weston-simple-dmabuf-feedback");
	if (program.empty())
		GTEST_SKIP() << "weston-simple-dmabuf-feedback (weston) is not installed";
	const std::string card = listedCardNode();
	SKIP_UNLESS_LISTED_CARD(card);
	const std::string out = outputPath("exe-drm-simple-dmabuf-feedback.txt");
	const std::string clientOut = outputPath("exe-drm-simple-dmabuf-feedback-client.txt");
	const std::string stats = outputPath("exe-drm-simple-dmabuf-feedback.json");
	const std::string socket = "heapcomp-drm-" + std::to_string(getpid());
	unlink(stats.c_str());
	Child compositor({ HEAPCOMP_BINARY, "--backend", "drm", "--drm-device", card, "--render-node",
			   card, "--mode", "640x480", "--socket", socket, "--stats", stats },
			 "unused", out);
	ASSERT_TRUE(compositor.running());
	ASSERT_TRUE(waitForText(out, "WAYLAND_DISPLAY=" + socket, 90000)) << readFile(out);

	Child client({ program }, socket, clientOut);
	ASSERT_TRUE(client.running());
	EXPECT_EQ(client.wait(120000), 0) << readFile(clientOut) << readFile(out);
	const std::string log = readFile(clientOut);
	EXPECT_NE(log.find("main_device event for dma-buf feedback - " + card), std::string::npos)
		<< log;
	ASSERT_EQ(compositor.signal(SIGTERM), 0);
	ASSERT_EQ(compositor.wait(20000), 0) << readFile(out);

	auto json = parseJson(readFile(stats));
	ASSERT_TRUE(json) << readFile(stats);
	const Json &outputs = at(*json, { "outputs" });
	ASSERT_EQ(outputs.array.size(), 1u) << readFile(stats);
	EXPECT_GT(number(outputs.array[0], { "repaint", "scanned_out" }).value_or(0), 0u)
		<< readFile(stats) << readFile(out);
	EXPECT_EQ(number(*json, { "client_buffers", "dma_buf", "buffers" }), 0u) << readFile(stats);
}

/*
 * heapcomp --backend drm with args, stopped after a few frames: the mode
 * its output had (width, height, mHz), or a failure.
 */
void expectDrmMode(const std::vector<std::string> &args, const std::string &name, uint64_t width,
		   uint64_t height, double refreshMilliHz)
{
	const std::string stats = outputPath("exe-drm-mode-" + name + ".json");
	const std::string out = outputPath("exe-drm-mode-" + name + ".txt");
	unlink(stats.c_str());
	std::vector<std::string> argv = { HEAPCOMP_BINARY, "--backend", "drm", "--exit-after-frames",
					  "3", "--socket", "heapcomp-drm-mode-" + std::to_string(getpid()),
					  "--stats", stats };
	argv.insert(argv.end(), args.begin(), args.end());
	Child compositor(argv, "unused", out);
	ASSERT_TRUE(compositor.running());
	ASSERT_EQ(compositor.wait(120000), 0) << readFile(out);
	auto json = parseJson(readFile(stats));
	ASSERT_TRUE(json) << readFile(stats) << readFile(out);
	const Json &outputs = at(*json, { "outputs" });
	ASSERT_EQ(outputs.array.size(), 1u) << readFile(stats);
	EXPECT_EQ(number(outputs.array[0], { "mode", "width" }), width) << readFile(stats);
	EXPECT_EQ(number(outputs.array[0], { "mode", "height" }), height) << readFile(stats);
	EXPECT_NEAR(double(number(outputs.array[0], { "mode", "refresh_mhz" }).value_or(0)),
		    refreshMilliHz, 500.0)
		<< readFile(stats);
}

/*
 * Without --mode the connector's preferred mode (VKMS: 1024x768); with
 * one, that size at that refresh (VKMS also has 800x600 at 56 Hz); with
 * a mode the connector lacks, a failed start that says what it has.
 */
TEST(Executable, DrmModeIsThePreferredOneOrTheOneAskedFor)
{
	if (access("/dev/dri/card0", R_OK) != 0) {
		if (getenv("HEAPCOMP_VM"))
			FAIL() << "no KMS device in the VM";
		GTEST_SKIP() << "no KMS device";
	}
	expectDrmMode({}, "preferred", 1024, 768, 60000);
	expectDrmMode({ "--mode", "800x600@56" }, "56hz", 800, 600, 56250);

	const std::string missingOut = outputPath("exe-drm-mode-missing.txt");
	Child missing({ HEAPCOMP_BINARY, "--backend", "drm", "--mode", "640x480@75", "--socket",
			"heapcomp-drm-mode-missing-" + std::to_string(getpid()) },
		      "unused", missingOut);
	ASSERT_TRUE(missing.running());
	EXPECT_NE(missing.wait(120000), 0) << readFile(missingOut);
	const std::string log = readFile(missingOut);
	EXPECT_NE(log.find("no mode 640x480@75; it has "), std::string::npos) << log;
	EXPECT_NE(log.find(" 640x480@60"), std::string::npos) << log;
}

TEST(Executable, DrmBackendShowsFoot)
{
	/* A terminal in its own background colour, all over its window. */
	expectShownOnDrm({ findProgram("foot"), "-o", "colors.background=336699", "sh", "-c",
			   "sleep 60" },
			 "foot",
			 [](const comp::PngImage &image) {
				 size_t match = 0;
				 for (uint32_t y = 100; y < 200; y++)
					 for (uint32_t x = 100; x < 200; x++)
						 match += (image.argb[size_t(y) * image.width + x] &
							   0xffffff) == 0x336699u;
				 return double(match) / 10000.0;
			 },
			 0.5);
}

/* heapcomp -- COMMAND: the command is its client, and its exit stops heapcomp with its status. */
TEST(Executable, KioskCommand)
{
	std::string info = findProgram("wayland-info");
	if (info.empty())
		GTEST_SKIP() << "wayland-info (wayland-utils) is not installed";
	std::string out = outputPath("exe-kiosk.txt");
	Child child({ HEAPCOMP_BINARY, "--width", "64", "--height", "64", "--", info }, "unused", out);
	ASSERT_TRUE(child.running());
	EXPECT_EQ(child.wait(30000), 0) << readFile(out);
	/* wayland-info's listing, through the socket heapcomp gave it. */
	EXPECT_NE(readFile(out).find("heapcomp_heaps_v1"), std::string::npos) << readFile(out);

	Child failing({ HEAPCOMP_BINARY, "--width", "64", "--height", "64", "--", "sh", "-c",
			"exit 3" },
		      "unused", outputPath("exe-kiosk-3.txt"));
	ASSERT_TRUE(failing.running());
	EXPECT_EQ(failing.wait(30000), 3) << readFile(outputPath("exe-kiosk-3.txt"));
}

TEST(Executable, HelpAndBadOptions)
{
	std::string out = outputPath("exe-help.txt");
	Child help({ HEAPCOMP_BINARY, "--help" }, "unused", out);
	EXPECT_EQ(help.wait(10000), 0);
	EXPECT_NE(readFile(out).find("--exit-after-frames"), std::string::npos);
	Child bad({ HEAPCOMP_BINARY, "--no-such-option" }, "unused", out);
	EXPECT_EQ(bad.wait(10000), 2);
	EXPECT_NE(readFile(out).find("unknown option"), std::string::npos);
}


/*
 * heapcomp-demo-client on a display that needs contiguous memory: when
 * it follows the hints its fullscreen frames are its own CMA buffers
 * (ZERO_COPY); when it ignores them they come from the system heap and
 * are composed. Needs real heaps: skipped on a host without them, a
 * failure in the VM.
 */
TEST(ThirdParty, DemoClientFollowingHintsIsScannedOut)
{
	if (access("/dev/dma_heap/system", R_OK) != 0 ||
	    access("/dev/dma_heap/default_cma_region", R_OK) != 0) {
		if (getenv("HEAPCOMP_VM"))
			FAIL() << "no system or CMA heap in the VM";
		GTEST_SKIP() << "no DMA-BUF heaps here";
	}
	comp::ServerConfig config = ServerRunner::realClockConfig();
	config.headless.scanoutRequiresContiguous = true;
	config.scanoutHysteresis = std::chrono::milliseconds(0);
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();

	auto run = [&](const std::string &name, std::vector<std::string> extra) {
		std::vector<std::string> argv{ HEAPCOMP_DEMO_CLIENT, "--fullscreen", "--frames", "90" };
		argv.insert(argv.end(), extra.begin(), extra.end());
		std::string out = outputPath(name + ".txt");
		Child child(argv, server.socket(), out);
		EXPECT_TRUE(child.running());
		EXPECT_EQ(child.wait(120000), 0) << readFile(out);
		return readFile(out);
	};
	auto value = [](const std::string &text, const std::string &key) {
		size_t at = text.find(key + "=");
		if (at == std::string::npos)
			return std::string();
		at += key.size() + 1;
		return text.substr(at, text.find_first_of(" \n", at) - at);
	};

	std::string follow = run("demo-follow", {});
	EXPECT_EQ(value(follow, "heap"), "default_cma_region") << follow;
	EXPECT_EQ(value(follow, "presented"), "90") << follow;
	/* The first frames are composed until the hint moves it to CMA. */
	EXPECT_GE(std::atoi(value(follow, "zero_copy").c_str()), 60) << follow;
	/* Who pays for that memory, as heapcomp read it from the kernel's files. */
	auto heaps = bufmgr::discoverHeaps();
	ASSERT_TRUE(heaps) << heaps.error().message();
	for (const bufmgr::HeapAccounting &paid : bufmgr::heapAccounting(*heaps)) {
		if (paid.heap != "default_cma_region")
			continue;
		std::string expected(bufmgr::toString(paid.controller));
		if (paid.controller == bufmgr::Accounting::Dmem)
			expected += ":" + paid.dmemRegion;
		EXPECT_EQ(value(follow, "paid_by"), expected) << follow;
	}

	std::string ignore = run("demo-ignore", { "--ignore-hints" });
	EXPECT_EQ(value(ignore, "heap"), "system") << ignore;
	EXPECT_EQ(value(ignore, "zero_copy"), "0") << ignore;
}

} /* namespace */
} /* namespace heapcomp::test */
