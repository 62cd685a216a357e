/* SPDX-License-Identifier: MIT */
/*
 * heapcomp --backend nested inside a real host compositor: Debian's
 * weston on its headless backend, with a private XDG_RUNTIME_DIR. What
 * heapcomp shows is checked from the host's side, in weston's own
 * screenshot (weston-screenshooter, allowed by weston --debug).
 *
 * Weston's headless backend has no input devices to inject host input
 * with: host input is tested with heapcomp itself as the host (its
 * headless backend injects input), in-process.
 *
 * scripts/install-deps installs weston: a missing weston fails.
 */
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <memory>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <linux/input-event-codes.h>

#include "child_process.h"
#include "picture.h"
#include "render/png.h"
#include "render/renderer_choice.h"
#include "server_runner.h"
#include "surface.h"
#include "test_client.h"
#include "vm_env.h"

namespace heapcomp::test {
namespace {

using Clock = std::chrono::steady_clock;

/* heapcomp's window and the inner client's, in pixels. */
constexpr int kOutputWidth = 320, kOutputHeight = 240;
constexpr int kClientWidth = 200, kClientHeight = 150;
/* Neither weston's desktop nor heapcomp draws this. */
constexpr uint32_t kClientColour = 0xff3a7bd5;

std::string program(const std::string &name)
{
	std::string path = findProgram(name);
	EXPECT_FALSE(path.empty()) << name << " is not installed (scripts/install-deps installs weston)";
	return path;
}

/* Whether heapcomp's log shows a sanitizer report or a crash. */
bool sanitizerReport(const std::string &log)
{
	return log.find("Sanitizer") != std::string::npos ||
	       log.find("runtime error:") != std::string::npos;
}

/*
 * Weston on its headless backend in a runtime directory of its own,
 * which this process and its children (heapcomp, the clients) share.
 */
class Host
{
public:
	Host()
	{
		std::string dir = testing::TempDir() + "heapcomp-nested-XXXXXX";
		if (!mkdtemp(dir.data()))
			return;
		dir_ = dir;
		chmod(dir_.c_str(), 0700);
		setenv("XDG_RUNTIME_DIR", dir_.c_str(), 1);
		socket_ = "host-" + std::to_string(getpid());
		log_ = outputPath("nested-weston.txt");
		std::string weston = program("weston");
		if (weston.empty())
			return;
		/* pixman: headless weston renders nothing without; --debug: screenshots for clients. */
		weston_ = std::make_unique<Child>(
			std::vector<std::string>{ weston, "--backend=headless-backend.so",
						  "--socket=" + socket_, "--width=640", "--height=480",
						  "--use-pixman", "--debug", "--idle-time=0" },
			"", log_);
		auto deadline = Clock::now() + std::chrono::seconds(30);
		while (weston_->running() && !exists(socket_) && Clock::now() < deadline)
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
		ready_ = exists(socket_);
	}

	bool ready() const { return ready_; }
	const std::string &socket() const { return socket_; }
	const std::string &dir() const { return dir_; }
	std::string log() const { return readFile(log_); }
	Child &weston() { return *weston_; }

	bool exists(const std::string &name) const
	{
		struct stat st;
		return stat((dir_ + "/" + name).c_str(), &st) == 0;
	}

	/* weston's screenshot of its output, taken by weston-screenshooter. */
	std::optional<comp::PngImage> screenshot()
	{
		std::string shots = dir_ + "/shots";
		mkdir(shots.c_str(), 0700);
		removePngs(shots);
		std::string screenshooter = program("weston-screenshooter");
		/* It writes wayland-screenshot-<time>.png into its working directory. */
		Child child({ "/bin/sh", "-c", "cd \"$1\" && exec \"$2\"", "sh", shots, screenshooter },
			    socket_, outputPath("nested-screenshooter.txt"));
		if (child.wait(20000) != 0)
			return std::nullopt;
		for (const std::string &png : pngs(shots)) {
			auto image = comp::readPng(shots + "/" + png);
			if (image)
				return std::move(*image);
		}
		return std::nullopt;
	}

private:
	static std::vector<std::string> pngs(const std::string &dir)
	{
		std::vector<std::string> names;
		if (DIR *d = opendir(dir.c_str())) {
			while (dirent *entry = readdir(d)) {
				std::string name = entry->d_name;
				if (name.size() > 4 && name.compare(name.size() - 4, 4, ".png") == 0)
					names.push_back(name);
			}
			closedir(d);
		}
		return names;
	}

	static void removePngs(const std::string &dir)
	{
		for (const std::string &png : pngs(dir))
			unlink((dir + "/" + png).c_str());
	}

	std::string dir_, socket_, log_;
	std::unique_ptr<Child> weston_;
	bool ready_ = false;
};

/* heapcomp --backend nested in the host, its own socket beside the host's. */
std::unique_ptr<Child> startNested(Host &host, const std::string &socket, const std::string &log,
				   const std::vector<std::string> &extra = {})
{
	std::vector<std::string> argv = { HEAPCOMP_BINARY, "--backend", "nested", "--socket", socket,
					  "--width", std::to_string(kOutputWidth), "--height",
					  std::to_string(kOutputHeight) };
	argv.insert(argv.end(), extra.begin(), extra.end());
	auto child = std::make_unique<Child>(argv, host.socket(), log);
	if (!child->running() || !waitForText(log, "WAYLAND_DISPLAY=" + socket, 60000))
		return nullptr;
	return child;
}

struct Box {
	int x0 = INT32_MAX, y0 = INT32_MAX, x1 = -1, y1 = -1;
	size_t count = 0;

	void add(int x, int y)
	{
		x0 = std::min(x0, x);
		y0 = std::min(y0, y);
		x1 = std::max(x1, x);
		y1 = std::max(y1, y);
		count++;
	}
	int width() const { return x1 - x0 + 1; }
	int height() const { return y1 - y0 + 1; }
};

/* Where colour is in the image (alpha ignored: weston's PNGs are RGB). */
Box find(const comp::PngImage &image, uint32_t colour)
{
	Box box;
	for (int y = 0; y < int(image.height); y++) {
		for (int x = 0; x < int(image.width); x++) {
			if ((image.argb[size_t(y) * image.width + x] & 0xffffff) == (colour & 0xffffff))
				box.add(x, y);
		}
	}
	return box;
}

/* The pixels of either colour connected to (x, y): one window's. */
Box region(const comp::PngImage &image, int x, int y, uint32_t a, uint32_t b)
{
	Box box;
	const int w = int(image.width), h = int(image.height);
	auto wanted = [&](int px, int py) {
		uint32_t rgb = image.argb[size_t(py) * w + px] & 0xffffff;
		return rgb == (a & 0xffffff) || rgb == (b & 0xffffff);
	};
	std::vector<bool> seen(size_t(w) * h);
	std::vector<std::pair<int, int>> todo = { { x, y } };
	while (!todo.empty()) {
		auto [px, py] = todo.back();
		todo.pop_back();
		if (px < 0 || py < 0 || px >= w || py >= h || seen[size_t(py) * w + px] ||
		    !wanted(px, py))
			continue;
		seen[size_t(py) * w + px] = true;
		box.add(px, py);
		todo.insert(todo.end(), { { px + 1, py }, { px - 1, py }, { px, py + 1 }, { px, py - 1 } });
	}
	return box;
}

/*
 * A client inside heapcomp draws a colour; weston's screenshot shows it,
 * at its size, inside heapcomp's window: heapcomp's black background
 * around it, the two together exactly the output's size.
 */
TEST(Nested, HostScreenshotShowsTheInnerClient)
{
	Host host;
	ASSERT_TRUE(host.ready()) << host.log();
	std::string socket = "inner-" + std::to_string(getpid());
	std::string log = outputPath("nested-heapcomp.txt");
	std::string png = outputPath("nested-heapcomp.png");
	unlink(png.c_str());
	std::unique_ptr<Child> heapcomp = startNested(host, socket, log, { "--screenshot", png });
	ASSERT_TRUE(heapcomp) << readFile(log);
	EXPECT_NE(readFile(log).find("nested in the host compositor at WAYLAND_DISPLAY=" +
				     host.socket()),
		  std::string::npos)
		<< readFile(log);
	/*
	 * No dma-bufs here (weston 10's pixman renderer imports none, and
	 * this machine may have no dma-buf source): memfds, and the log says why.
	 */
	EXPECT_NE(readFile(log).find("frames go to the host through wl_shm: no dma-bufs, "),
		  std::string::npos)
		<< readFile(log);

	TestClient client(socket);
	ASSERT_TRUE(client.connected());
	MappedWindow inner(client, "nested-client", kClientWidth, kClientHeight, kClientColour);
	ASSERT_TRUE(inner.ok) << readFile(log);

	Box drawn, window;
	auto deadline = Clock::now() + std::chrono::seconds(30);
	while (Clock::now() < deadline) {
		std::optional<comp::PngImage> shot = host.screenshot();
		ASSERT_TRUE(shot) << readFile(outputPath("nested-screenshooter.txt")) << host.log();
		drawn = find(*shot, kClientColour);
		if (drawn.count == size_t(kClientWidth) * kClientHeight) {
			window = region(*shot, drawn.x0, drawn.y0, kClientColour, kBackground);
			break;
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	}
	ASSERT_EQ(drawn.count, size_t(kClientWidth) * kClientHeight) << readFile(log);
	EXPECT_EQ(drawn.width(), kClientWidth);
	EXPECT_EQ(drawn.height(), kClientHeight);
	/* heapcomp's window: the client and heapcomp's background around it, all of it. */
	EXPECT_EQ(window.count, size_t(kOutputWidth) * kOutputHeight);
	EXPECT_EQ(window.width(), kOutputWidth);
	EXPECT_EQ(window.height(), kOutputHeight);

	/* heapcomp's own screenshot (SIGUSR1): the frame it presented last. */
	ASSERT_EQ(heapcomp->signal(SIGUSR1), 0);
	auto shotDeadline = Clock::now() + std::chrono::seconds(20);
	while (access(png.c_str(), R_OK) != 0 && Clock::now() < shotDeadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	std::this_thread::sleep_for(std::chrono::milliseconds(200));
	auto own = comp::readPng(png);
	ASSERT_TRUE(own) << own.error().message() << readFile(log);
	EXPECT_EQ(own->width, uint32_t(kOutputWidth));
	EXPECT_EQ(own->height, uint32_t(kOutputHeight));
	EXPECT_EQ(find(*own, kClientColour).count, size_t(kClientWidth) * kClientHeight);

	ASSERT_EQ(heapcomp->signal(SIGTERM), 0);
	EXPECT_EQ(heapcomp->wait(20000), 0) << readFile(log);
	EXPECT_FALSE(sanitizerReport(readFile(log))) << readFile(log);
}

/* Pixels of colour in a screenshot of the host heapcomp. */
size_t countColour(const comp::Screenshot &shot, uint32_t colour)
{
	size_t count = 0;
	for (uint32_t y = 0; y < shot.height; y++)
		for (uint32_t x = 0; x < shot.width; x++)
			count += (shot.at(x, y) & 0xffffff) == (colour & 0xffffff);
	return count;
}

/*
 * --fullscreen: heapcomp's window asks weston for fullscreen and its
 * output takes weston's size, not the one it started with. A fullscreen
 * client inside is configured to that size, and weston's screenshot is
 * that client's colour, all of it.
 */
TEST(Nested, FullscreenWindowTakesTheHostsSize)
{
	Host host;
	ASSERT_TRUE(host.ready()) << host.log();
	std::string socket = "inner-full-" + std::to_string(getpid());
	std::string log = outputPath("nested-fullscreen.txt");
	std::unique_ptr<Child> heapcomp = startNested(host, socket, log, { "--fullscreen" });
	ASSERT_TRUE(heapcomp) << readFile(log);

	TestClient client(socket);
	ASSERT_TRUE(client.connected());
	Window window(client, "nested-fullscreen");
	xdg_toplevel_set_fullscreen(window.toplevel(), nullptr);
	constexpr int32_t kHostWidth = 640, kHostHeight = 480;
	ASSERT_TRUE(fullscreenAt(window, kHostWidth, kHostHeight))
		<< window.configuredWidth() << "x" << window.configuredHeight() << "\n"
		<< readFile(log);
	ShmBuffer buffer(client.shm, kHostWidth, kHostHeight);
	buffer.fill(kClientColour);
	ASSERT_TRUE(window.present(buffer.buffer(), kHostWidth, kHostHeight));

	Box drawn;
	auto deadline = Clock::now() + std::chrono::seconds(30);
	while (Clock::now() < deadline) {
		std::optional<comp::PngImage> shot = host.screenshot();
		ASSERT_TRUE(shot) << readFile(outputPath("nested-screenshooter.txt")) << host.log();
		drawn = find(*shot, kClientColour);
		if (drawn.count == size_t(kHostWidth) * kHostHeight)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	}
	EXPECT_EQ(drawn.count, size_t(kHostWidth) * kHostHeight) << readFile(log) << host.log();

	ASSERT_EQ(heapcomp->signal(SIGTERM), 0);
	EXPECT_EQ(heapcomp->wait(20000), 0) << readFile(log);
	EXPECT_FALSE(sanitizerReport(readFile(log))) << readFile(log);
}

/*
 * The host resizes heapcomp's window while it runs (here a heapcomp host
 * whose display changes size, so its fullscreen window follows): the
 * nested output takes the new size, its fullscreen client is configured
 * to it, and the host shows that client's frames at the new size.
 */
TEST(Nested, HostResizingTheWindowResizesTheOutput)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.width = 800;
	config.headless.height = 600;
	ServerRunner host(config);
	ASSERT_TRUE(host.ok()) << host.error();
	std::string socket = "inner-resize-" + std::to_string(getpid());
	std::string log = outputPath("nested-resize.txt");
	Child heapcomp({ HEAPCOMP_BINARY, "--backend", "nested", "--fullscreen", "--socket", socket,
			 "--width", std::to_string(kOutputWidth), "--height",
			 std::to_string(kOutputHeight) },
		       host.socket(), log);
	ASSERT_TRUE(waitForText(log, "WAYLAND_DISPLAY=" + socket, 60000)) << readFile(log);

	TestClient client(socket);
	ASSERT_TRUE(client.connected());
	Window window(client, "nested-fullscreen");
	xdg_toplevel_set_fullscreen(window.toplevel(), nullptr);
	ASSERT_TRUE(fullscreenAt(window, 800, 600)) << readFile(log);
	ShmBuffer large(client.shm, 800, 600);
	large.fill(kClientColour);
	ASSERT_TRUE(window.present(large.buffer(), 800, 600));
	ASSERT_TRUE(waitFor([&] { return countColour(host.screenshot(), kClientColour) == 800u * 600u; },
			    30000))
		<< readFile(log);

	ASSERT_TRUE(host.run([](comp::Server &s) {
		return bool(s.headlessBackend()->resizeOutput(0, 640, 480));
	}));
	ASSERT_TRUE(fullscreenAt(window, 640, 480)) << readFile(log);
	ShmBuffer small(client.shm, 640, 480);
	small.fill(kClientColour);
	ASSERT_TRUE(window.present(small.buffer(), 640, 480));
	ASSERT_TRUE(waitFor([&] {
		const comp::Screenshot shot = host.screenshot();
		return shot.width == 640 && countColour(shot, kClientColour) == 640u * 480u;
	}, 30000)) << readFile(log);
	EXPECT_NE(readFile(log).find("640x480, was 800x600"), std::string::npos) << readFile(log);

	ASSERT_EQ(heapcomp.signal(SIGTERM), 0);
	EXPECT_EQ(heapcomp.wait(20000), 0) << readFile(log);
	EXPECT_FALSE(sanitizerReport(readFile(log))) << readFile(log);
}

/* The host going away: heapcomp says so and exits 1, no crash, no hang. */
TEST(Nested, HostGoneIsAnError)
{
	Host host;
	ASSERT_TRUE(host.ready()) << host.log();
	std::string socket = "inner-gone-" + std::to_string(getpid());
	std::string log = outputPath("nested-gone.txt");
	std::unique_ptr<Child> heapcomp = startNested(host, socket, log);
	ASSERT_TRUE(heapcomp) << readFile(log);
	/* A client drawing, so that frames are in flight when the host dies. */
	TestClient client(socket);
	ASSERT_TRUE(client.connected());
	MappedWindow window(client, "nested-client", kClientWidth, kClientHeight, kClientColour);
	ASSERT_TRUE(window.ok) << readFile(log);

	ASSERT_EQ(host.weston().signal(SIGKILL), 0);
	EXPECT_EQ(heapcomp->wait(20000), 1) << readFile(log);
	EXPECT_NE(readFile(log).find("lost the host compositor at WAYLAND_DISPLAY=" +
				     host.socket()),
		  std::string::npos)
		<< readFile(log);
	EXPECT_FALSE(sanitizerReport(readFile(log))) << readFile(log);
}

/*
 * Input injected into the host (heapcomp on its headless backend) over
 * heapcomp's window reaches the client inside it: pointer motion at the
 * right place, a click, a key.
 */
TEST(Nested, HostInputReachesTheInnerClient)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.width = 800;
	config.headless.height = 600;
	ServerRunner host(config);
	ASSERT_TRUE(host.ok()) << host.error();
	std::string socket = "inner-input-" + std::to_string(getpid());
	std::string log = outputPath("nested-input.txt");
	Child heapcomp({ HEAPCOMP_BINARY, "--backend", "nested", "--socket", socket, "--width",
			 std::to_string(kOutputWidth), "--height", std::to_string(kOutputHeight) },
		       host.socket(), log);
	ASSERT_TRUE(waitForText(log, "WAYLAND_DISPLAY=" + socket, 60000)) << readFile(log);

	TestClient client(socket);
	ASSERT_TRUE(client.connected());
	client.bindInput();
	MappedWindow inner(client, "nested-client", kClientWidth, kClientHeight, kClientColour);
	ASSERT_TRUE(inner.ok) << readFile(log);

	/* Where the host shows the client: the middle of its colour. */
	Box drawn;
	auto deadline = Clock::now() + std::chrono::seconds(30);
	while (drawn.count != size_t(kClientWidth) * kClientHeight && Clock::now() < deadline) {
		comp::Screenshot shot = host.screenshot();
		drawn = {};
		for (uint32_t y = 0; y < shot.height; y++) {
			for (uint32_t x = 0; x < shot.width; x++) {
				if ((shot.at(x, y) & 0xffffff) == (kClientColour & 0xffffff))
					drawn.add(int(x), int(y));
			}
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
	ASSERT_EQ(drawn.count, size_t(kClientWidth) * kClientHeight) << readFile(log);

	const double x = drawn.x0 + 10.5, y = drawn.y0 + 20.5;
	host.run([&](comp::Server &server) {
		comp::HeadlessBackend *backend = server.headlessBackend();
		backend->injectPointerMotion(x, y);
		backend->injectPointerButton(BTN_LEFT, true);
		backend->injectPointerButton(BTN_LEFT, false);
		return 0;
	});
	ASSERT_TRUE(client.dispatchUntil([&]() {
		return client.pointerFocus == inner.window.surface() && !client.pointerEvents.empty() &&
		       client.pointerEvents.back() == "button";
	})) << readFile(log);
	EXPECT_DOUBLE_EQ(client.pointerX, 10.5);
	EXPECT_DOUBLE_EQ(client.pointerY, 20.5);

	host.run([&](comp::Server &server) {
		server.headlessBackend()->injectKey(KEY_A, true);
		server.headlessBackend()->injectKey(KEY_A, false);
		return 0;
	});
	ASSERT_TRUE(client.dispatchUntil([&]() {
		return client.keysPressed == std::vector<uint32_t>{ KEY_A };
	})) << readFile(log);
	EXPECT_EQ(client.keyboardFocus, inner.window.surface());

	ASSERT_EQ(heapcomp.signal(SIGTERM), 0);
	EXPECT_EQ(heapcomp.wait(20000), 0) << readFile(log);
	EXPECT_FALSE(sanitizerReport(readFile(log))) << readFile(log);
}

/*
 * Two nested outputs with the statistics overlay on, in a heapcomp host:
 * each output is a window of the host at its own size; the overlay is
 * drawn on the first output only, above the client inside it, and both
 * reach the host.
 */
TEST(Nested, TwoOutputsAndTheOverlayReachTheHost)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.width = 1280;
	config.headless.height = 800;
	ServerRunner host(config);
	ASSERT_TRUE(host.ok()) << host.error();
	constexpr int kWidth = 480, kHeight = 360;
	std::string socket = "inner-overlay-" + std::to_string(getpid());
	std::string log = outputPath("nested-overlay.txt");
	Child heapcomp({ HEAPCOMP_BINARY, "--backend", "nested", "--socket", socket, "--outputs", "2",
			 "--overlay", "--width", std::to_string(kWidth), "--height",
			 std::to_string(kHeight) },
		       host.socket(), log);
	ASSERT_TRUE(waitForText(log, "WAYLAND_DISPLAY=" + socket, 60000)) << readFile(log);

	TestClient client(socket);
	ASSERT_TRUE(client.connected());
	MappedWindow inner(client, "nested-client", kClientWidth, kClientHeight, kClientColour);
	ASSERT_TRUE(inner.ok) << readFile(log);

	/* The host's view of each nested output's window: where, how large. */
	struct Shown {
		comp::Rect rect;
		bool found = false;
	};
	auto windowOf = [&host](const std::string &output) {
		return host.run([output](comp::Server &s) {
			Shown shown;
			comp::View *view = s.findView("heapcomp — " + output);
			if (view && view->surface()) {
				shown.rect = { view->x(), view->y(), view->surface()->width(),
					       view->surface()->height() };
				shown.found = true;
			}
			return shown;
		});
	};
	/*
	 * Pixels of a window that are neither heapcomp's background nor the
	 * client's, outside another window that may lie over it (the host
	 * cascades them).
	 */
	auto overlayPixels = [](const comp::Screenshot &shot, const comp::Rect &r,
				const comp::Rect &other) {
		size_t lit = 0;
		for (int32_t y = r.y; y < r.bottom(); y++)
			for (int32_t x = r.x; x < r.right(); x++) {
				if (x >= other.x && x < other.right() && y >= other.y && y < other.bottom())
					continue;
				const uint32_t rgb = shot.at(uint32_t(x), uint32_t(y)) & 0xffffff;
				lit += rgb != 0 && rgb != (kClientColour & 0xffffff);
			}
		return lit;
	};
	Shown first, second;
	size_t firstLit = 0, secondLit = 0, clientShown = 0;
	ASSERT_TRUE(waitFor([&] {
		first = windowOf("NESTED-1");
		second = windowOf("NESTED-2");
		if (!first.found || !second.found)
			return false;
		const comp::Screenshot shot = host.screenshot();
		firstLit = overlayPixels(shot, first.rect, second.rect);
		secondLit = overlayPixels(shot, second.rect, first.rect);
		clientShown = countColour(shot, kClientColour);
		/* The overlay is drawn over the client where they meet. */
		return firstLit > 0 && clientShown > 0;
	}, 30000)) << "windows " << first.found << second.found << ", overlay " << firstLit
		   << ", client " << clientShown << "\n"
		   << readFile(log);
	EXPECT_EQ(first.rect.width, kWidth);
	EXPECT_EQ(first.rect.height, kHeight);
	EXPECT_EQ(second.rect.width, kWidth);
	EXPECT_EQ(second.rect.height, kHeight);
	EXPECT_FALSE(first.rect == second.rect);
	/* Panels of text and plots, not a stray pixel; and none on the second output. */
	EXPECT_GT(firstLit, size_t(kWidth) * kHeight / 20) << readFile(log);
	EXPECT_EQ(secondLit, 0u) << readFile(log);
	EXPECT_NE(readFile(log).find("overlay shown"), std::string::npos) << readFile(log);

	ASSERT_EQ(heapcomp.signal(SIGTERM), 0);
	EXPECT_EQ(heapcomp.wait(20000), 0) << readFile(log);
	EXPECT_FALSE(sanitizerReport(readFile(log))) << readFile(log);
}

/*
 * Dma-bufs insisted on where there are none (weston 10's pixman renderer
 * imports none): heapcomp does not start, and says why.
 */
TEST(Nested, DmaBufsInsistedOnWithoutThemAreAnError)
{
	Host host;
	ASSERT_TRUE(host.ready()) << host.log();
	std::string log = outputPath("nested-no-dmabuf.txt");
	Child heapcomp({ HEAPCOMP_BINARY, "--backend", "nested", "--nested-buffers", "dma-buf",
			 "--socket", "inner-no-dmabuf-" + std::to_string(getpid()) },
		       host.socket(), log);
	EXPECT_EQ(heapcomp.wait(30000), 1) << readFile(log);
	EXPECT_NE(readFile(log).find("cannot start: --nested-buffers dma-buf: "), std::string::npos)
		<< readFile(log);
	EXPECT_FALSE(sanitizerReport(readFile(log))) << readFile(log);
}

/*
 * Where dma-bufs can be had (the test VM), heapcomp's frames reach a host
 * that imports them (heapcomp on its headless backend) as dma-bufs: the
 * host holds dma-bufs of heapcomp's and no wl_shm buffer, shows the client
 * inside, and, the window being fullscreen, scans heapcomp's frames out
 * as they are. With --nested-buffers shm the same counters show wl_shm
 * buffers and no dma-buf, so they do tell the two apart.
 */
TEST(Nested, DmaBufFramesReachTheHost)
{
	if (access("/dev/dma_heap/system", R_OK) != 0 && access("/dev/udmabuf", R_OK) != 0)
		SKIP_OR_FAIL_WITHOUT("no dma-buf source: no /dev/dma_heap/system, no /dev/udmabuf");

	for (const std::string how : { "dma-buf", "shm" }) {
		SCOPED_TRACE("--nested-buffers " + how);
		comp::ServerConfig config = ServerRunner::realClockConfig();
		config.createRenderer = [](bufmgr::BufferManager &) {
			return comp::createRenderer(comp::RendererKind::Pixman);
		};
		ServerRunner host(config);
		ASSERT_TRUE(host.ok()) << host.error();
		std::string socket = "inner-" + how + "-" + std::to_string(getpid());
		std::string log = outputPath("nested-" + how + ".txt");
		Child heapcomp({ HEAPCOMP_BINARY, "--backend", "nested", "--fullscreen",
				 "--nested-buffers", how, "--socket", socket },
			       host.socket(), log);
		ASSERT_TRUE(waitForText(log, "WAYLAND_DISPLAY=" + socket, 60000)) << readFile(log);
		const std::string via = how == "shm" ? "wl_shm (--nested-buffers shm)"
						     : "zwp_linux_dmabuf_v1, output buffers from ";
		EXPECT_NE(readFile(log).find("frames go to the host through " + via),
			  std::string::npos)
			<< readFile(log);

		TestClient client(socket);
		ASSERT_TRUE(client.connected());
		MappedWindow inner(client, "nested-client", kClientWidth, kClientHeight,
				   kClientColour);
		ASSERT_TRUE(inner.ok) << readFile(log);
		ASSERT_TRUE(waitFor([&] {
			return countColour(host.screenshot(), kClientColour) ==
			       size_t(kClientWidth) * kClientHeight;
		}, 30000)) << readFile(log);

		/* What the host holds of heapcomp's, and how it showed heapcomp's frames. */
		struct Held {
			uint64_t dmaBufs = 0, shm = 0, scannedOut = 0;
		};
		auto held = [&host]() {
			return host.run([](comp::Server &server) {
				Held h;
				h.dmaBufs = server.clientBuffers().dmaBuf().buffers;
				h.shm = server.clientBuffers().shm().buffers;
				for (const comp::ClientState *state : server.clientStates())
					h.scannedOut += state->account().scannedOutFrames;
				return h;
			});
		};
		if (how == "dma-buf") {
			ASSERT_TRUE(waitFor([&] { return held().scannedOut > 0; }, 30000))
				<< readFile(log);
			EXPECT_GT(held().dmaBufs, 0u);
			EXPECT_EQ(held().shm, 0u);
		} else {
			EXPECT_GT(held().shm, 0u);
			EXPECT_EQ(held().dmaBufs, 0u);
		}

		ASSERT_EQ(heapcomp.signal(SIGTERM), 0);
		EXPECT_EQ(heapcomp.wait(20000), 0) << readFile(log);
		EXPECT_FALSE(sanitizerReport(readFile(log))) << readFile(log);
	}
}

/*
 * A host that refuses heapcomp's dma-bufs (failed, as for memory it cannot
 * identify) still gets every frame: heapcomp hears the refusal of its
 * probe, says so, and presents through wl_shm from the start.
 */
TEST(Nested, RefusedDmaBufsFallBackToShm)
{
	if (access("/dev/dma_heap/system", R_OK) != 0 && access("/dev/udmabuf", R_OK) != 0)
		SKIP_OR_FAIL_WITHOUT("no dma-buf source: no /dev/dma_heap/system, no /dev/udmabuf");

	/* A proc without fdinfo: the host can name no client fd's exporter. */
	char dir[] = "/tmp/heapcomp-noproc-XXXXXX";
	ASSERT_TRUE(mkdtemp(dir));
	comp::ServerConfig config = ServerRunner::realClockConfig();
	config.bufferManager.paths.procDir = dir;
	config.createRenderer = [](bufmgr::BufferManager &) {
		return comp::createRenderer(comp::RendererKind::Pixman);
	};
	ServerRunner host(config);
	ASSERT_TRUE(host.ok()) << host.error();
	std::string socket = "inner-refused-" + std::to_string(getpid());
	std::string log = outputPath("nested-refused.txt");
	Child heapcomp({ HEAPCOMP_BINARY, "--backend", "nested", "--socket", socket },
		       host.socket(), log);
	ASSERT_TRUE(waitForText(log, "WAYLAND_DISPLAY=" + socket, 60000)) << readFile(log);
	EXPECT_NE(readFile(log).find("frames go to the host through wl_shm: no dma-bufs, the "
				     "host compositor refused a "),
		  std::string::npos)
		<< readFile(log);

	TestClient client(socket);
	ASSERT_TRUE(client.connected());
	MappedWindow inner(client, "nested-client", kClientWidth, kClientHeight, kClientColour);
	ASSERT_TRUE(inner.ok) << readFile(log);
	ASSERT_TRUE(waitFor([&] {
		return countColour(host.screenshot(), kClientColour) ==
		       size_t(kClientWidth) * kClientHeight;
	}, 30000)) << readFile(log);
	auto [dmaBufs, shm] = host.run([](comp::Server &server) {
		return std::pair(server.clientBuffers().dmaBuf().buffers,
				 server.clientBuffers().shm().buffers);
	});
	EXPECT_EQ(dmaBufs, 0u);
	EXPECT_GT(shm, 0u);

	ASSERT_EQ(heapcomp.signal(SIGTERM), 0);
	EXPECT_EQ(heapcomp.wait(20000), 0) << readFile(log);
	EXPECT_FALSE(sanitizerReport(readFile(log))) << readFile(log);
	rmdir(dir);
}

/* No host at all: heapcomp does not start, and says why. */
TEST(Nested, NoHostIsAnError)
{
	std::string log = outputPath("nested-nohost.txt");
	Child heapcomp({ HEAPCOMP_BINARY, "--backend", "nested", "--socket",
			 "inner-nohost-" + std::to_string(getpid()) },
		       "no-such-host-" + std::to_string(getpid()), log);
	EXPECT_EQ(heapcomp.wait(30000), 1) << readFile(log);
	EXPECT_NE(readFile(log).find("cannot connect to the host compositor"), std::string::npos)
		<< readFile(log);
	EXPECT_FALSE(sanitizerReport(readFile(log))) << readFile(log);
}

} /* namespace */
} /* namespace heapcomp::test */
