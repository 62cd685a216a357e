/* SPDX-License-Identifier: MIT */
/* The statistics overlay on the real server, over a real client. */
#include <gtest/gtest.h>

#include <linux/input-event-codes.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>
#include <thread>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <bufmgr/fault_injection.h>
#include <bufmgr/manager.h>

#include "alloc_benchmark.h"
#include "child_process.h"
#include "client.h"
#include "device_tree_fixture.h"
#include "fd_count.h"
#include "json.h"
#include "server_runner.h"
#include "stats_json.h"
#include "test_client.h"
#include "ui/overlay.h"

namespace heapcomp::test {
namespace {

constexpr uint32_t kRed = 0xffff0000;

class OverlayTest : public ::testing::Test
{
protected:
	static comp::ServerConfig config()
	{
		comp::ServerConfig config = ServerRunner::defaultConfig();
		config.headless.width = 800;
		config.headless.height = 600;
		/* Boards have touch screens: the overlay takes fingers too. */
		config.headless.touch = true;
		return config;
	}

	void SetUp() override
	{
		ASSERT_TRUE(runner.ok()) << runner.error();
		overlay = runner.run([](comp::Server &server) {
			comp::OverlayConfig config;
			config.exportDir = testing::TempDir();
			config.keepDump = true;
			auto overlay = comp::Overlay::create(server, config);
			overlay->bindToggleKey();
			return overlay;
		});
	}

	void TearDown() override
	{
		runner.run([this](comp::Server &) { overlay.reset(); });
	}

	/* Pixels of the last frame inside rect that are not the black background. */
	size_t litPixels(const comp::Rect &rect)
	{
		comp::Screenshot shot = runner.screenshot();
		size_t lit = 0;
		for (int32_t y = rect.y; y < rect.bottom(); y++)
			for (int32_t x = rect.x; x < rect.right(); x++)
				lit += (shot.at(uint32_t(x), uint32_t(y)) & 0xffffff) != 0;
		return lit;
	}

	/* Runs action on the server, then waits up to 5 s for done to hold there. */
	bool actUntil(const std::function<void(comp::Server &)> &action,
		      const std::function<bool(comp::Server &)> &done)
	{
		runner.run(action);
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
		while (!runner.run(done)) {
			if (std::chrono::steady_clock::now() > deadline)
				return false;
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
		}
		return true;
	}

	ServerRunner runner{ config() };
	std::unique_ptr<comp::Overlay> overlay;
};

/* "key=value" of a dump line, or "" when the line has no such key; a quoted value whole. */
std::string field(const std::string &line, const std::string &key)
{
	size_t at = line.find(" " + key + "=");
	if (at == std::string::npos)
		return "";
	at += key.size() + 2;
	if (at < line.size() && line[at] == '"') {
		size_t end = line.find('"', at + 1);
		return line.substr(at, end == std::string::npos ? end : end + 1 - at);
	}
	return line.substr(at, line.find(' ', at) - at);
}

const std::string *findLine(const std::vector<std::string> &dump, const std::string &prefix)
{
	auto it = std::find_if(dump.begin(), dump.end(), [&](const std::string &line) {
		return line.rfind(prefix + " ", 0) == 0;
	});
	return it == dump.end() ? nullptr : &*it;
}

TEST_F(OverlayTest, ShowsWhatTheStatisticsSay)
{
	TestClient client(runner.socket());
	MappedWindow window(client, "under", 64, 32, kRed);
	ASSERT_TRUE(window.ok);
	ASSERT_TRUE(client.roundtrip());

	ASSERT_TRUE(runner.run([this](comp::Server &) { return overlay->setShown(true); }));
	ASSERT_TRUE(runner.drawFrames(2));
	const comp::Rect rect = overlay->rect();
	EXPECT_EQ(rect.right(), 800 - 8);
	EXPECT_EQ(rect.y, 8);
	ASSERT_GT(rect.width, 100);
	ASSERT_GT(rect.height, 100);
	/* The panels are drawn, the client beside them is as it was, nothing else changed. */
	EXPECT_GT(litPixels(rect), size_t(rect.width) * rect.height / 2);
	EXPECT_EQ(runner.screenshot().at(4, 4), kRed);
	EXPECT_EQ(litPixels(comp::Rect{ 0, int32_t(rect.bottom()) + 1, 800,
					600 - int32_t(rect.bottom()) - 1 }),
		  0u);

	/* What one redraw showed against the statistics read at the same moment. */
	struct Seen {
		std::vector<std::string> dump;
		bufmgr::StatsSnapshot stats;
		std::vector<std::pair<std::string, uint64_t>> clientBytes;
		std::vector<std::pair<std::string, comp::ClientBufferTotals::Count>> clientBySource;
	};
	Seen seen = runner.run([this](comp::Server &server) {
		EXPECT_TRUE(overlay->redraw());
		Seen seen;
		seen.dump = overlay->dump();
		seen.stats = server.bufferManager().stats().snapshot();
		for (const comp::ClientState *state : server.clientStates()) {
			seen.clientBytes.emplace_back(state->label(), state->account().bytes);
			seen.clientBySource = state->account().held.bySource();
		}
		return seen;
	});
	ASSERT_FALSE(seen.stats.sources.empty());
	for (const bufmgr::SourceSnapshot &source : seen.stats.sources) {
		const std::string *line = findLine(seen.dump, "heap " + source.source);
		ASSERT_NE(line, nullptr) << source.source;
		EXPECT_EQ(field(*line, "live_buffers"), std::to_string(source.liveBuffers)) << *line;
		EXPECT_EQ(field(*line, "live_bytes"), std::to_string(source.liveBytes)) << *line;
		EXPECT_EQ(field(*line, "failures"), std::to_string(source.failures)) << *line;
		const uint64_t asked = source.poolHits + source.poolMisses;
		if (source.allocations || asked) {
			const std::string *latency = findLine(seen.dump, "latency " + source.source);
			ASSERT_NE(latency, nullptr) << source.source;
			char hitRate[32] = "\"-\"";
			if (asked)
				snprintf(hitRate, sizeof(hitRate), "\"%.0f%%\"",
					 100.0 * double(source.poolHits) / double(asked));
			EXPECT_EQ(field(*latency, "pool_hit_rate"), hitRate) << *latency;
		}
		/* Two redraws in: a rate, zero or not. */
		EXPECT_NE(field(*line, "allocations_per_second"), "\"-\"") << *line;
	}
	ASSERT_EQ(seen.clientBytes.size(), 1u);
	const std::string *clientLine = findLine(seen.dump, "client " + seen.clientBytes[0].first);
	ASSERT_NE(clientLine, nullptr);
	EXPECT_EQ(field(*clientLine, "bytes"), std::to_string(seen.clientBytes[0].second));
	EXPECT_EQ(field(*clientLine, "bytes"), std::to_string(64 * 32 * 4));
	/* Its memory by source: one wl_shm buffer, nothing heapcomp allocated for it. */
	ASSERT_EQ(seen.clientBySource.size(), 1u);
	const std::string *memoryLine =
		findLine(seen.dump, "clientmemory " + seen.clientBytes[0].first);
	ASSERT_NE(memoryLine, nullptr);
	EXPECT_EQ(field(*memoryLine, "source"), "\"wl_shm\"") << *memoryLine;
	ASSERT_EQ(seen.clientBySource[0].first, "wl_shm");
	EXPECT_EQ(field(*memoryLine, "buffers"), std::to_string(seen.clientBySource[0].second.buffers));
	EXPECT_EQ(field(*memoryLine, "bytes"), std::to_string(64 * 32 * 4));
	EXPECT_EQ(field(*memoryLine, "allocated"), "\"-\"") << *memoryLine;
	const std::string *outputLine = findLine(seen.dump, "output HEADLESS-1");
	ASSERT_NE(outputLine, nullptr);
	EXPECT_NE(field(*outputLine, "composed"), "0");
	/* The window, its memory, and how it reaches the screen (composed: the overlay is). */
	const std::string *surfaceLine = findLine(seen.dump, "surface under");
	ASSERT_NE(surfaceLine, nullptr);
	EXPECT_NE(surfaceLine->find(" client=\"" + seen.clientBytes[0].first + "\""), std::string::npos)
		<< *surfaceLine;
	EXPECT_EQ(field(*surfaceLine, "size"), "\"64x32\"");
	EXPECT_EQ(field(*surfaceLine, "memory"), "\"wl_shm\"");
	EXPECT_EQ(field(*surfaceLine, "on_screen"), "\"composed\"");
	const std::string *overlayLine = findLine(seen.dump, "overlay");
	ASSERT_NE(overlayLine, nullptr);
	EXPECT_EQ(field(*overlayLine, "on_plane"), "0");

	/* The statistics tell where it is and what its redraws cost. */
	auto [text, redraws] = runner.run([this](comp::Server &server) {
		return std::pair(comp::statsJson(server), overlay->redraws());
	});
	std::optional<Json> stats = parseJson(text);
	ASSERT_TRUE(stats) << text;
	EXPECT_TRUE(at(*stats, { "overlay", "shown" }).boolean) << text;
	EXPECT_FALSE(at(*stats, { "overlay", "on_plane" }).boolean) << text;
	EXPECT_EQ(number(*stats, { "overlay", "width" }), uint64_t(rect.width)) << text;
	EXPECT_EQ(number(*stats, { "overlay", "height" }), uint64_t(rect.height)) << text;
	EXPECT_EQ(number(*stats, { "overlay", "redraws" }), redraws) << text;
	EXPECT_GT(number(*stats, { "overlay", "cpu_ns" }).value_or(0), 0u) << text;

	/* Hidden: its rectangle is background again. */
	ASSERT_TRUE(runner.run([this](comp::Server &) { return overlay->setShown(false); }));
	ASSERT_TRUE(runner.drawFrames(2));
	EXPECT_EQ(litPixels(rect), 0u);
	EXPECT_EQ(runner.screenshot().at(4, 4), kRed);
}

/*
 * Hidden after frames that kept it from earlier ones (only the window
 * beside it changed, and the buffers held the overlay): its rectangle is
 * background again all the same.
 */
TEST_F(OverlayTest, HiddenAfterFramesThatKeptItLeavesNothingBehind)
{
	TestClient client(runner.socket());
	MappedWindow window(client, "beside", 64, 32, kRed);
	ASSERT_TRUE(window.ok);
	ASSERT_TRUE(runner.run([this](comp::Server &) { return overlay->setShown(true); }));
	ASSERT_TRUE(runner.drawFrames(2));
	const comp::Rect rect = overlay->rect();
	ASSERT_GT(litPixels(rect), size_t(rect.width) * rect.height / 2);

	/* Frames of the window alone, with no redraw of the overlay (2 Hz) among them. */
	auto redraws = [this] { return runner.run([this](comp::Server &) { return overlay->redraws(); }); };
	bool keptOnly = false;
	for (int attempt = 0; attempt < 5 && !keptOnly; attempt++) {
		const uint64_t before = redraws();
		for (int i = 0; i < 3; i++)
			ASSERT_TRUE(window.window.present(window.buffer.buffer(), 64, 32));
		keptOnly = redraws() == before;
	}
	ASSERT_TRUE(keptOnly);
	const uint64_t lastPixels =
		runner.run([](comp::Server &server) { return server.repaintStats().lastPixels; });
	EXPECT_LT(lastPixels, uint64_t(rect.width) * uint64_t(rect.height));

	/* The frame the hiding asks for, nothing else damaged. */
	ASSERT_TRUE(runner.run([this](comp::Server &) { return overlay->setShown(false); }));
	ASSERT_TRUE(runner.waitFrames(1));
	EXPECT_EQ(litPixels(rect), 0u);
	EXPECT_EQ(runner.screenshot().at(4, 4), kRed);
}

/* The output grows, then shrinks: the overlay keeps to its top right corner at once. */
TEST_F(OverlayTest, TakesItsPlaceAtOnceWhenTheOutputChangesSize)
{
	runner.run([this](comp::Server &server) {
		overlay.reset();
		comp::OverlayConfig config;
		/* No periodic redraw within the test: only the change of size may move it. */
		config.period = std::chrono::minutes(1);
		overlay = comp::Overlay::create(server, config);
	});
	ASSERT_TRUE(runner.run([this](comp::Server &) { return overlay->setShown(true); }));
	ASSERT_TRUE(runner.drawFrames(2));
	ASSERT_EQ(overlay->rect().right(), 800 - 8);

	auto resize = [](uint32_t width, uint32_t height) {
		return [=](comp::Server &server) {
			EXPECT_TRUE(server.headlessBackend()->resizeOutput(0, width, height));
		};
	};
	ASSERT_TRUE(actUntil(resize(1000, 600), [this](comp::Server &) {
		return overlay->rect().right() == 1000 - 8;
	})) << overlay->rect().x << "+" << overlay->rect().width;
	ASSERT_TRUE(runner.drawFrames(2));
	/* Drawn there, past where the old output ended. */
	const comp::Rect wider = overlay->rect();
	const comp::Rect beyond{ 800, wider.y, int32_t(wider.right() - 800), wider.height };
	EXPECT_GT(litPixels(beyond), size_t(beyond.width) * size_t(beyond.height) / 2);

	/* Narrower than the overlay's own width: it narrows with the output, within its margins. */
	ASSERT_TRUE(actUntil(resize(500, 400), [this](comp::Server &) {
		const comp::Rect rect = overlay->rect();
		return rect.x == 8 && rect.right() == 500 - 8 && rect.bottom() <= 400 - 8;
	})) << overlay->rect().x << "+" << overlay->rect().width;
	ASSERT_TRUE(runner.drawFrames(2));
	EXPECT_GT(litPixels(overlay->rect()), size_t(overlay->rect().width) * 100);
}

/* Each heap's memory: which device it is for, who pays, where it scans out. */
TEST(OverlayHeaps, ShowWhatTheirMemoryIsForAndWhoPays)
{
	FixtureTree tree;
	tree.heap("system");
	tree.heap("reserved");
	tree.cmaArea("reserved");
	displayRegionBoard(tree);
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.bufferManager.paths = tree.paths();
	ServerRunner runner(config);
	ASSERT_TRUE(runner.ok()) << runner.error();
	std::vector<std::string> dump = runner.run([](comp::Server &server) {
		comp::OverlayConfig config;
		config.keepDump = true;
		auto overlay = comp::Overlay::create(server, config);
		EXPECT_TRUE(overlay->setShown(true));
		EXPECT_TRUE(overlay->redraw());
		return overlay->dump();
	});
	const std::string *display = findLine(dump, "heaporigin display@94000000");
	ASSERT_NE(display, nullptr);
	EXPECT_EQ(field(*display, "for"), "\"lcd-controller@32e80000 (imx-lcdif)\"") << *display;
	EXPECT_EQ(field(*display, "paid_by"), "\"dmem cma/display@94000000\"") << *display;
	/* Headless probes no plane. */
	EXPECT_EQ(field(*display, "scans_out_on"), "\"-\"") << *display;
	const std::string *system = findLine(dump, "heaporigin system");
	ASSERT_NE(system, nullptr);
	EXPECT_EQ(field(*system, "for"), "\"system memory\"") << *system;
	EXPECT_EQ(field(*system, "paid_by"), "\"memcg\"") << *system;
	const std::string *cma = findLine(dump, "heaporigin reserved");
	ASSERT_NE(cma, nullptr);
	EXPECT_EQ(field(*cma, "for"), "\"default CMA: any device\"") << *cma;
	EXPECT_EQ(field(*cma, "paid_by"), "\"nothing\"") << *cma;
}

/*
 * A subsurface on an overlay plane of its own is listed as such, the
 * window under it as composed with the reason.
 */
TEST(OverlaySurfaces, TellWhichPlaneEachIsOnAndWhyNot)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.overlayPlanes = 1;
	ServerRunner runner(config);
	ASSERT_TRUE(runner.ok()) << runner.error();
	TestClient client(runner.socket());
	MappedWindow window(client, "player", 120, 90, 0xff00ff00u);
	ASSERT_TRUE(window.ok);
	Proxy<wl_surface> video(wl_compositor_create_surface(client.compositor));
	Proxy<wl_subsurface> role(
		wl_subcompositor_get_subsurface(client.subcompositor, video, window.window.surface()));
	wl_subsurface_set_position(role, 10, 10);
	wl_subsurface_set_desync(role);
	ShmBuffer frame(client.shm, 40, 30);
	frame.fill(0xff0000ffu);
	for (int i = 0; i < 2; i++) {
		wl_surface_attach(video, frame.buffer(), 0, 0);
		wl_surface_damage_buffer(video, 0, 0, 40, 30);
		ASSERT_TRUE(client.commitAndWaitFrame(video));
	}
	std::vector<std::string> dump = runner.run([](comp::Server &server) {
		comp::OverlayConfig config;
		config.keepDump = true;
		auto overlay = comp::Overlay::create(server, config);
		EXPECT_TRUE(overlay->redraw());
		return overlay->dump();
	});
	const std::string *parent = findLine(dump, "surface player");
	ASSERT_NE(parent, nullptr);
	EXPECT_EQ(field(*parent, "on_screen"), "\"composed: no free overlay plane\"") << *parent;
	auto subsurface = std::find_if(dump.begin(), dump.end(), [](const std::string &line) {
		return line.rfind("surface player / subsurface ", 0) == 0;
	});
	ASSERT_NE(subsurface, dump.end());
	EXPECT_EQ(field(*subsurface, "size"), "\"40x30\"");
	EXPECT_EQ(field(*subsurface, "on_screen"), "\"on an overlay plane\"") << *subsurface;
}

/* 64 pages, one bit each; used: the low bits of the first word. */
void writeCmaArea(const FixtureTree &tree, const std::string &name, uint32_t usedBits,
		  std::optional<uint64_t> allocated)
{
	const std::string debugfs = "sys/kernel/debug/cma/" + name + "/";
	tree.file(debugfs + "count", "64\n");
	tree.file(debugfs + "order_per_bit", "0\n");
	tree.file(debugfs + "bitmap", std::to_string((uint64_t(1) << usedBits) - 1) + " 0\n");
	if (!allocated)
		return;
	const std::string sysfs = "sys/kernel/mm/cma/" + name + "/";
	tree.file(sysfs + "alloc_pages_success", std::to_string(*allocated) + "\n");
	tree.file(sysfs + "alloc_pages_fail", "0\n");
	tree.file(sysfs + "release_pages_success", "0\n");
}

TEST(CmaAreaReader, ReadsABitmapAgainOnlyWhenItsCountersMove)
{
	FixtureTree tree;
	writeCmaArea(tree, "counted", 0, 0);
	writeCmaArea(tree, "uncounted", 0, std::nullopt);
	comp::CmaAreaReader reader(tree.paths());
	auto largestFree = [](const std::vector<comp::CmaRow> &rows, const std::string &name) {
		for (const comp::CmaRow &row : rows)
			if (row.name == name)
				return row.largestFreeBytes.value_or(0) / 4096;
		return uint64_t(0);
	};

	std::vector<comp::CmaRow> rows = reader.read();
	ASSERT_EQ(rows.size(), 2u);
	EXPECT_EQ(reader.bitmapReads(), 2u);
	EXPECT_EQ(largestFree(rows, "counted"), 64u);

	/* Nothing counted moved: only the area without counters is read again. */
	rows = reader.read();
	EXPECT_EQ(reader.bitmapReads(), 3u);
	EXPECT_EQ(largestFree(rows, "counted"), 64u);

	/* An allocation: its pages show at once. */
	writeCmaArea(tree, "counted", 4, 4);
	writeCmaArea(tree, "uncounted", 8, std::nullopt);
	rows = reader.read();
	EXPECT_EQ(reader.bitmapReads(), 5u);
	EXPECT_EQ(largestFree(rows, "counted"), 60u);
	EXPECT_EQ(largestFree(rows, "uncounted"), 56u);
	ASSERT_EQ(rows[0].name, "counted");
	ASSERT_FALSE(rows[0].occupancy.empty());
	EXPECT_GT(rows[0].occupancy.front(), 0u);
}

/* Each counted area's three counter files, opened once and closed with the reader. */
/*
 * A CMA area a quarter in use: the CMA panel draws its size, free space
 * and largest free run as the files say, and its map a quarter full.
 */
TEST(OverlayCma, ShowsTheAreaAndItsMap)
{
	FixtureTree tree;
	tree.heap("reserved");
	writeCmaArea(tree, "reserved", 16, 16);
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.bufferManager.paths = tree.paths();
	ServerRunner runner(config);
	ASSERT_TRUE(runner.ok()) << runner.error();
	std::vector<std::string> dump = runner.run([&tree](comp::Server &server) {
		comp::OverlayConfig config;
		config.keepDump = true;
		config.paths = tree.paths();
		auto overlay = comp::Overlay::create(server, config);
		EXPECT_TRUE(overlay->setShown(true));
		EXPECT_TRUE(overlay->redraw());
		return overlay->dump();
	});
	const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
	const std::string *area = findLine(dump, "cma reserved");
	ASSERT_NE(area, nullptr);
	EXPECT_EQ(field(*area, "total_bytes"), std::to_string(64 * page)) << *area;
	EXPECT_EQ(field(*area, "free_bytes"), std::to_string(48 * page)) << *area;
	EXPECT_EQ(field(*area, "largest_free_bytes"), std::to_string(48 * page)) << *area;
	const std::string *map = findLine(dump, "cmamap reserved");
	ASSERT_NE(map, nullptr);
	EXPECT_EQ(field(*map, "used_share"), "25%") << *map;
	EXPECT_EQ(field(*map, "fragmentation"), "0.00") << *map;
}

TEST(CmaAreaReader, HoldsItsCounterFilesOpenWhileItLives)
{
	FixtureTree tree;
	writeCmaArea(tree, "counted", 0, 0);
	writeCmaArea(tree, "uncounted", 0, std::nullopt);
	const int fds = countOpenFds();
	{
		comp::CmaAreaReader reader(tree.paths());
		ASSERT_EQ(reader.read().size(), 2u);
		EXPECT_EQ(countOpenFds(), fds + 3);
		for (int i = 0; i < 3; i++)
			ASSERT_EQ(reader.read().size(), 2u);
		writeCmaArea(tree, "counted", 2, 2);
		std::vector<comp::CmaRow> rows = reader.read();
		ASSERT_EQ(rows.size(), 2u);
		EXPECT_EQ(rows[0].freeBytes.value_or(0) / 4096, 62u);
		EXPECT_EQ(countOpenFds(), fds + 3);
	}
	EXPECT_EQ(countOpenFds(), fds);
}

/* Where a CMA area is heading, from its free bytes over the last minute. */
TEST(CmaTrend, TimeToExhaustionAtTheMinutesRate)
{
	comp::CmaTrend trend;
	EXPECT_FALSE(trend.secondsToExhaustion());
	trend.add(100.0, 64 << 20);
	EXPECT_FALSE(trend.secondsToExhaustion());
	/* 1 MiB a second taken, 54 MiB left: 54 s. */
	trend.add(110.0, 54 << 20);
	ASSERT_TRUE(trend.secondsToExhaustion());
	EXPECT_DOUBLE_EQ(*trend.secondsToExhaustion(), 54.0);
	EXPECT_EQ(trend.usedHistory(128 << 20), (std::vector<float>{ 0.5f, 1.0f - 54.0f / 128.0f }));
	/* Freed again: not filling. */
	trend.add(120.0, 80 << 20);
	EXPECT_FALSE(trend.secondsToExhaustion());
	/* Readings older than a minute leave: the rate is the last minute's. */
	trend.add(175.0, 40 << 20);
	EXPECT_EQ(trend.usedHistory(128 << 20).size(), 2u);
	ASSERT_TRUE(trend.secondsToExhaustion());
	/* 40 MiB taken in the 55 s since 120, 40 MiB left. */
	EXPECT_DOUBLE_EQ(*trend.secondsToExhaustion(), 55.0);
}

/* The frame-time graph's marks: late frames, and frames after which allocations failed or fell back. */
TEST(FrameSeries, MarksLateFramesAndAllocationTrouble)
{
	comp::FrameTimeline timeline;
	uint64_t now = 1000000000;
	/* A frame asked for waitUs before it was presented, intervalUs after the one before. */
	auto push = [&](uint64_t intervalUs, uint64_t waitUs, uint64_t failures, uint64_t fallbacks) {
		comp::FrameRecord record;
		now += intervalUs * 1000;
		record.presentedNs = now;
		record.intervalNs = intervalUs * 1000;
		record.requestedNs = waitUs ? now - waitUs * 1000 : 0;
		record.allocFailures = failures;
		record.allocFallbacks = fallbacks;
		record.kind = comp::FrameKind::Composed;
		timeline.push(record);
	};
	/* Counts from before the first frame kept are not this graph's. */
	push(16667, 20000, 5, 7);
	/* Idle half a second, then shown as soon as asked: not late. */
	push(500000, 16000, 5, 7);
	/* 41.6 ms at 60 Hz: two refreshes and a half, no more. */
	push(41600, 41600, 5, 7);
	push(41800, 41800, 5, 7);
	/* Asked for long ago, but its wait is unknown. */
	push(60000, 0, 5, 7);
	push(16667, 16667, 6, 7);
	push(16667, 16667, 6, 9);
	push(16667, 16667, 8, 10);

	const comp::FrameSeries series = comp::frameSeries(timeline, 60000);
	using Mark = comp::FrameSeries::Mark;
	EXPECT_EQ(series.marks,
		  (std::vector<uint8_t>{ 0, 0, 0, Mark::Missed, 0, Mark::AllocFailure, Mark::Fallback,
					 Mark::AllocFailure | Mark::Fallback }));
	EXPECT_EQ(series.missed, 1u);
	EXPECT_EQ(series.allocFailures, 3u);
	EXPECT_EQ(series.fallbacks, 3u);
	EXPECT_EQ(series.composed, 8u);
	/* An output of unknown refresh has no late frames. */
	EXPECT_EQ(comp::frameSeries(timeline, 0).missed, 0u);
}

/* A control's box as the overlay drew it, in global coordinates. */
struct Widget {
	double x = 0, y = 0, w = 0, h = 0;
	double centreX() const { return x + w / 2; }
	double centreY() const { return y + h / 2; }
};

std::optional<Widget> findWidget(const comp::Overlay &overlay, const std::string &name)
{
	const std::string *line = findLine(overlay.dump(), "widget " + name);
	if (!line)
		return std::nullopt;
	const comp::Rect rect = overlay.rect();
	return Widget{ rect.x + std::stod(field(*line, "x")), rect.y + std::stod(field(*line, "y")),
		       std::stod(field(*line, "w")), std::stod(field(*line, "h")) };
}

/* An allocation that fails while frames go by is marked on the frame graph, at its frame. */
TEST_F(OverlayTest, MarksAFailedAllocationOnTheFrameGraph)
{
	ASSERT_TRUE(runner.run([this](comp::Server &) { return overlay->setShown(true); }));
	ASSERT_TRUE(runner.drawFrames(3));
	{
		bufmgr::FaultInjection faults({ { bufmgr::SysCall::MemfdCreate, 1, ENOMEM } });
		const bool allocated = runner.run([](comp::Server &server) {
			return bool(server.bufferManager().allocateFromSource(
				"memfd", bufmgr::AllocationRequest::blob(4096, "doomed")));
		});
		EXPECT_FALSE(allocated);
		EXPECT_EQ(faults.injected().size(), 1u);
	}
	ASSERT_TRUE(runner.drawFrames(3));
	const std::vector<std::string> dump = runner.run([this](comp::Server &) {
		EXPECT_TRUE(overlay->redraw());
		return overlay->dump();
	});
	const std::string *marks = findLine(dump, "framemarks");
	ASSERT_NE(marks, nullptr);
	EXPECT_EQ(field(*marks, "failures"), "1") << *marks;
	EXPECT_EQ(field(*marks, "fallbacks"), "0") << *marks;
	/* Frames may be marked late too (the test draws them at its own pace): one failed. */
	std::vector<std::string> failed;
	for (const std::string &line : dump) {
		if (line.starts_with("framemark ") && field(line, "failure") == "1")
			failed.push_back(line);
	}
	ASSERT_EQ(failed.size(), 1u) << *marks;
	/* Not the first frame kept: one the graph has a frame before. */
	EXPECT_NE(field(failed[0], "frame"), "0") << failed[0];
}

/* The allocation benchmark's run, as its panel shows it. */
TEST_F(OverlayTest, ShowsTheAllocationBenchmark)
{
	ASSERT_TRUE(runner.run([this](comp::Server &server) {
		auto config = comp::AllocBenchConfig::parse("sources=memfd size=8192 count=4 rounds=3");
		return config && overlay->setShown(true) && server.allocBenchmark().start(*config);
	}));
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
	while (runner.run([](comp::Server &server) {
		return server.allocBenchmark().progress().running;
	}) && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	std::vector<std::string> dump = runner.run([this](comp::Server &) {
		EXPECT_TRUE(overlay->redraw());
		return overlay->dump();
	});
	const std::string *line = findLine(dump, "bench memfd");
	ASSERT_NE(line, nullptr);
	EXPECT_EQ(field(*line, "allocations"), "12") << *line;
	EXPECT_EQ(field(*line, "failures"), "0") << *line;
	EXPECT_EQ(field(*line, "vs_memfd"), "\"1.00x\"") << *line;
	/* Its live plot: memfd's mean latency, a point per look at the run. */
	const std::string *plot = findLine(dump, "benchplot memfd");
	ASSERT_NE(plot, nullptr);
	EXPECT_GE(std::stoi(field(*plot, "points")), 1) << *plot;
	EXPECT_GT(std::stod(field(*plot, "last_us")), 0.0) << *plot;
}

uint64_t monotonicNs()
{
	timespec now{};
	clock_gettime(CLOCK_MONOTONIC, &now);
	return uint64_t(now.tv_sec) * 1'000'000'000u + uint64_t(now.tv_nsec);
}

/*
 * The benchmark allocates on its own thread: a client presenting on every
 * frame callback keeps its frames at the refresh while a run goes on, as
 * the frame-time graph shows (its data, the output's frame timeline).
 */
TEST(OverlayBenchmark, RunStallsNoFrame)
{
	comp::ServerConfig config = ServerRunner::realClockConfig();
	config.headless.width = 800;
	config.headless.height = 600;
	ServerRunner runner(config);
	ASSERT_TRUE(runner.ok()) << runner.error();
	std::unique_ptr<comp::Overlay> overlay = runner.run([](comp::Server &server) {
		auto overlay = comp::Overlay::create(server, comp::OverlayConfig());
		overlay->setShown(true);
		return overlay;
	});
	/* Gone on the server's thread, which draws it, however the test ends. */
	struct Unset {
		ServerRunner &runner;
		std::unique_ptr<comp::Overlay> &overlay;
		~Unset() { runner.run([this](comp::Server &) { overlay.reset(); }); }
	} unset{ runner, overlay };
	TestClient client(runner.socket());
	MappedWindow win(client, "steady", 64, 48, kRed);
	ASSERT_TRUE(win.ok);

	/* Far more than the look below lasts: it is still going when the look ends. */
	ASSERT_TRUE(runner.run([](comp::Server &server) {
		auto run = comp::AllocBenchConfig::parse(
			"sources=memfd size=65536 count=1024 rounds=1000");
		return run && server.allocBenchmark().start(*run);
	}));
	const uint64_t start = monotonicNs();
	constexpr uint64_t kLookNs = 2'000'000'000;
	bool running = true;
	while (running && monotonicNs() - start < kLookNs) {
		ASSERT_TRUE(win.window.present(win.buffer.buffer(), 64, 48));
		running = runner.run([](comp::Server &server) {
			return server.allocBenchmark().progress().running;
		});
	}
	const uint64_t end = monotonicNs();
	ASSERT_GE(end - start, kLookNs / 4) << "the run ended after " << (end - start) / 1000000
					   << " ms: too soon to tell";

	auto [frames, longestNs] = runner.run([start, end](comp::Server &server) {
		const comp::FrameTimeline &timeline = server.frameTimeline();
		uint64_t frames = 0, longest = 0;
		for (size_t i = 0; i < timeline.size(); i++) {
			const comp::FrameRecord &frame = timeline[i];
			if (frame.presentedNs <= start || frame.presentedNs > end)
				continue;
			frames++;
			longest = std::max(longest, frame.intervalNs);
		}
		return std::pair(frames, longest);
	});
	/*
	 * A refresh every 16.7 ms. A run on the event loop would present
	 * none until it ended; one in four leaves a loaded machine room.
	 */
	EXPECT_GE(frames, (end - start) / 66'700'000) << (end - start) / 1000000 << " ms";
	EXPECT_LT(longestNs, 500'000'000u) << "a frame waited " << longestNs / 1000000 << " ms";
}

/* The live plot: each look at a run adds the mean latency since the one before. */
TEST(BenchTrace, AddsTheMeanSinceTheLastLook)
{
	comp::AllocBenchProgress progress;
	progress.run = 1;
	progress.running = true;
	comp::AllocBenchResult heap, memfd;
	heap.source = "dma-heap:system";
	memfd.source = "memfd";
	heap.allocations = 10;
	heap.allocNs = 10 * 50000;
	progress.results = { heap, memfd };
	comp::BenchTrace trace;
	trace.add(progress);
	/* 10 more at 30 us; memfd's first 4 at 5 us; nothing new is no point. */
	progress.results[0].allocations = 20;
	progress.results[0].allocNs = 10 * 50000 + 10 * 30000;
	progress.results[1].allocations = 4;
	progress.results[1].allocNs = 4 * 5000;
	trace.add(progress);
	trace.add(progress);
	ASSERT_EQ(trace.series().size(), 2u);
	EXPECT_EQ(trace.series()[0].source, "dma-heap:system");
	EXPECT_EQ(trace.series()[0].meanUs, (std::vector<float>{ 50.0f, 30.0f }));
	EXPECT_EQ(trace.series()[1].source, "memfd");
	EXPECT_EQ(trace.series()[1].meanUs, (std::vector<float>{ 5.0f }));
	/* A new run, a new plot. */
	progress.run = 2;
	progress.results = { memfd };
	progress.results[0].allocations = 1;
	progress.results[0].allocNs = 7000;
	trace.add(progress);
	ASSERT_EQ(trace.series().size(), 1u);
	EXPECT_EQ(trace.series()[0].meanUs, (std::vector<float>{ 7.0f }));
}

/* Keys pressed in order, then released in reverse. */
void pressKeys(ServerRunner &runner, const std::vector<uint32_t> &keys)
{
	runner.run([&](comp::Server &server) {
		for (uint32_t key : keys)
			server.headlessBackend()->injectKey(key, true);
		for (auto it = keys.rbegin(); it != keys.rend(); ++it)
			server.headlessBackend()->injectKey(*it, false);
	});
}

/*
 * Super+F12 shows and hides it; the client with the keyboard gets
 * neither press nor release of F12, and every other key as before.
 */
TEST_F(OverlayTest, SuperF12TogglesAndStaysWithTheCompositor)
{
	TestClient client(runner.socket());
	client.bindInput();
	MappedWindow window(client, "focused", 64, 32, kRed);
	ASSERT_TRUE(window.ok);
	ASSERT_TRUE(client.dispatchUntil([&] { return client.keyboardFocus == window.window.surface(); }));

	auto press = [this](std::vector<uint32_t> keys) { pressKeys(runner, keys); };
	press({ KEY_LEFTMETA, KEY_F12 });
	EXPECT_TRUE(overlay->shown());
	ASSERT_TRUE(runner.drawFrames(2));
	EXPECT_GT(litPixels(overlay->rect()), 0u);

	press({ KEY_F12 });	/* without Super: the client's */
	press({ KEY_LEFTMETA, KEY_F12 });
	EXPECT_FALSE(overlay->shown());
	press({ KEY_A });
	ASSERT_TRUE(client.dispatchUntil([&] {
		return std::count(client.keysPressed.begin(), client.keysPressed.end(), KEY_A) == 1;
	}));
	EXPECT_EQ(client.keysPressed,
		  (std::vector<uint32_t>{ KEY_LEFTMETA, KEY_F12, KEY_LEFTMETA, KEY_A }));
}

/*
 * The binding is matched on keysyms and modifiers, not keycodes: with the
 * left Alt and Super keys swapped in the keymap, the key labelled Alt is
 * Super, and the one labelled Super is Alt.
 */
TEST(OverlayKeys, FollowTheKeymapNotTheKeycodes)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.xkbOptions = "altwin:swap_lalt_lwin";
	ServerRunner runner(config);
	ASSERT_TRUE(runner.ok()) << runner.error();
	std::unique_ptr<comp::Overlay> overlay = runner.run([](comp::Server &server) {
		auto overlay = comp::Overlay::create(server, comp::OverlayConfig{});
		overlay->bindToggleKey();
		return overlay;
	});
	auto press = [&runner](std::vector<uint32_t> keys) { pressKeys(runner, keys); };
	press({ KEY_LEFTMETA, KEY_F12 });
	EXPECT_FALSE(runner.run([&](comp::Server &) { return overlay->shown(); }))
		<< "the Super keycode, Alt in this keymap, toggled it";
	press({ KEY_LEFTALT, KEY_F12 });
	EXPECT_TRUE(runner.run([&](comp::Server &) { return overlay->shown(); }))
		<< "the Alt keycode, Super in this keymap, did not toggle it";
	runner.run([&](comp::Server &) { overlay.reset(); });
}

} /* namespace */
} /* namespace heapcomp::test */

namespace heapcomp::test {
namespace {

/*
 * Interactive mode: the pointer over the overlay and the keyboard after
 * a click on it are the overlay's, and drive the benchmark panel (a count
 * typed in, Start, Export); the client under it hears nothing of that
 * and gets the pointer and keyboard back outside.
 */
TEST_F(OverlayTest, InteractiveModeRunsTheBenchmarkFromItsControls)
{
	TestClient client(runner.socket());
	client.bindInput();
	MappedWindow window(client, "under", 800, 600, kRed);
	ASSERT_TRUE(window.ok);
	ASSERT_TRUE(client.dispatchUntil([&] { return client.keyboardFocus == window.window.surface(); }));

	auto pointer = [](double x, double y) {
		return [x, y](comp::Server &server) {
			server.headlessBackend()->injectPointerMotion(x, y);
		};
	};
	auto click = [](double x, double y) {
		return [x, y](comp::Server &server) {
			auto *backend = server.headlessBackend();
			backend->injectPointerMotion(x, y);
			backend->injectPointerButton(BTN_LEFT, true);
			backend->injectPointerButton(BTN_LEFT, false);
		};
	};
	auto key = [](uint32_t code) {
		return [code](comp::Server &server) {
			server.headlessBackend()->injectKey(code, true);
			server.headlessBackend()->injectKey(code, false);
		};
	};

	/* Outside the overlay, the client has the pointer. */
	ASSERT_TRUE(actUntil(pointer(20, 20), [](comp::Server &) { return true; }));
	ASSERT_TRUE(client.dispatchUntil([&] { return client.pointerFocus == window.window.surface(); }));

	/* Super+Shift+F12: interactive, with the controls drawn. */
	runner.run([](comp::Server &server) {
		for (uint32_t code : { KEY_LEFTMETA, KEY_LEFTSHIFT, KEY_F12 })
			server.headlessBackend()->injectKey(code, true);
		for (uint32_t code : { KEY_F12, KEY_LEFTSHIFT, KEY_LEFTMETA })
			server.headlessBackend()->injectKey(code, false);
	});
	std::optional<Widget> count, start, exportButton;
	runner.run([&](comp::Server &) {
		EXPECT_TRUE(overlay->interactive());
		count = findWidget(*overlay, "bench.count");
		start = findWidget(*overlay, "bench.start");
		exportButton = findWidget(*overlay, "bench.export");
	});
	ASSERT_TRUE(count && start && exportButton);

	/* Into the overlay: the client sees the pointer leave. */
	ASSERT_TRUE(actUntil(pointer(count->x + 8, count->centreY()),
			     [](comp::Server &) { return true; }));
	ASSERT_TRUE(client.dispatchUntil([&] { return client.pointerFocus == nullptr; }));

	/* Click the count's field, type 3: the field takes it. */
	ASSERT_TRUE(actUntil(click(count->x + 8, count->centreY()),
			     [this](comp::Server &) { return overlay->redraws() > 3; }));
	ASSERT_TRUE(actUntil(
		[&](comp::Server &server) {
			key(KEY_3)(server);
			key(KEY_ENTER)(server);
		},
		[this](comp::Server &) { return overlay->benchControls().config.count == 3; }))
		<< overlay->benchControls().config.count;

	/* Start: a run of 3 buffers held, memfd beside whatever heaps there are. */
	ASSERT_TRUE(actUntil(click(start->centreX(), start->centreY()), [](comp::Server &server) {
		return server.allocBenchmark().progress().run == 1;
	})) << overlay->benchControls().status;
	ASSERT_TRUE(actUntil([](comp::Server &) {}, [](comp::Server &server) {
		return !server.allocBenchmark().progress().running;
	}));
	comp::AllocBenchProgress progress = runner.run(
		[](comp::Server &server) { return server.allocBenchmark().progress(); });
	EXPECT_EQ(progress.config.count, 3u);
	ASSERT_FALSE(progress.results.empty());
	EXPECT_EQ(progress.results.back().source, "memfd");
	EXPECT_EQ(progress.results.back().allocations, 3u * progress.config.rounds);

	/* Export: the run as Google Benchmark JSON. */
	const std::string path =
		testing::TempDir() + "heapcomp-bench-" + std::to_string(getpid()) + "-1.json";
	unlink(path.c_str());
	ASSERT_TRUE(actUntil(click(exportButton->centreX(), exportButton->centreY()),
			     [&](comp::Server &) { return access(path.c_str(), F_OK) == 0; }))
		<< overlay->benchControls().status;
	std::optional<Json> json = parseJson(readFile(path));
	ASSERT_TRUE(json) << readFile(path);
	bool memfd = false;
	for (const Json &benchmark : at(*json, { "benchmarks" }).array) {
		if (string(benchmark, { "name" }).value_or("") == "alloc/memfd/65536/threads:1")
			memfd = number(benchmark, { "iterations" }) == 3u * progress.config.rounds;
	}
	EXPECT_TRUE(memfd) << readFile(path);

	/* The client heard no button and no key of all that. */
	ASSERT_TRUE(client.roundtrip());
	EXPECT_TRUE(client.buttonsPressed.empty());
	EXPECT_EQ(std::count(client.keysPressed.begin(), client.keysPressed.end(), KEY_3), 0);

	/* A click on the client gives it the pointer and the keyboard again. */
	ASSERT_TRUE(actUntil(click(20, 580), [](comp::Server &) { return true; }));
	runner.run(key(KEY_B));
	ASSERT_TRUE(client.dispatchUntil([&] {
		return std::count(client.keysPressed.begin(), client.keysPressed.end(), KEY_B) == 1;
	}));
	EXPECT_EQ(client.pointerFocus, window.window.surface());
	EXPECT_EQ(client.buttonsPressed, std::vector<uint32_t>{ BTN_LEFT });
	EXPECT_EQ(std::count(client.keysPressed.begin(), client.keysPressed.end(), KEY_3), 0);

	/* Interactive mode off: the pointer over the overlay is the client's again. */
	runner.run([this](comp::Server &) { overlay->setInteractive(false); });
	ASSERT_TRUE(actUntil(pointer(start->centreX(), start->centreY()),
			     [](comp::Server &) { return true; }));
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(client.pointerFocus, window.window.surface());
}

/*
 * Interactive mode ends while a press on the overlay is held: the client
 * under the pointer gets neither that release nor the pointer until the
 * button is up, and then the pointer as usual.
 */
TEST_F(OverlayTest, PressHeldAsInteractiveModeEndsReachesNoClient)
{
	TestClient client(runner.socket());
	client.bindInput();
	MappedWindow window(client, "under", 800, 600, kRed);
	ASSERT_TRUE(window.ok);
	ASSERT_TRUE(client.roundtrip());
	ASSERT_TRUE(runner.run([this](comp::Server &) { return overlay->setInteractive(true); }));
	const comp::Rect rect = overlay->rect();
	runner.run([&](comp::Server &server) {
		server.headlessBackend()->injectPointerMotion(rect.x + 20, rect.y + 20);
		server.headlessBackend()->injectPointerButton(BTN_LEFT, true);
		overlay->setInteractive(false);
		server.headlessBackend()->injectPointerButton(BTN_LEFT, false);
		server.headlessBackend()->injectPointerMotion(rect.x + 21, rect.y + 21);
	});
	ASSERT_TRUE(client.dispatchUntil([&] { return client.pointerFocus == window.window.surface(); }));
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(std::count(client.pointerEvents.begin(), client.pointerEvents.end(), "button"), 0);
}

/*
 * A finger on the overlay is its pointer: a tap toggles a control and
 * the client under it gets no touch; a cancelled touch clicks nothing;
 * a finger on the client is the client's.
 */
TEST_F(OverlayTest, InteractiveModeTakesTouch)
{
	TestClient client(runner.socket());
	client.bindInput();
	client.bindTouch();
	MappedWindow window(client, "under", 800, 600, kRed);
	ASSERT_TRUE(window.ok);
	ASSERT_TRUE(client.roundtrip());
	ASSERT_TRUE(runner.run([this](comp::Server &) { return overlay->setInteractive(true); }));
	std::optional<Widget> pooled, start;
	runner.run([&](comp::Server &) {
		pooled = findWidget(*overlay, "bench.pooled");
		start = findWidget(*overlay, "bench.start");
	});
	ASSERT_TRUE(pooled && start);
	EXPECT_FALSE(runner.run([this](comp::Server &) { return overlay->benchControls().config.pooled; }));

	ASSERT_TRUE(actUntil(
		[&](comp::Server &server) {
			auto *backend = server.headlessBackend();
			backend->injectTouchDown(0, pooled->x + pooled->h / 2, pooled->centreY());
			backend->injectTouchFrame();
			backend->injectTouchUp(0);
			backend->injectTouchFrame();
		},
		[this](comp::Server &) { return overlay->benchControls().config.pooled; }));

	/* Down on Start, then cancelled: no run. */
	const uint64_t redraws = runner.run([this](comp::Server &) { return overlay->redraws(); });
	ASSERT_TRUE(actUntil(
		[&](comp::Server &server) {
			auto *backend = server.headlessBackend();
			backend->injectTouchDown(1, start->centreX(), start->centreY());
			backend->injectTouchFrame();
			backend->injectTouchCancel();
		},
		[&](comp::Server &) { return overlay->redraws() >= redraws + 2; }));
	EXPECT_EQ(runner.run([](comp::Server &server) {
		return server.allocBenchmark().progress().run;
	}), 0u);

	/* Off the overlay, the finger is the client's. */
	runner.run([](comp::Server &server) {
		auto *backend = server.headlessBackend();
		backend->injectTouchDown(2, 20, 580);
		backend->injectTouchFrame();
		backend->injectTouchUp(2);
		backend->injectTouchFrame();
	});
	ASSERT_TRUE(client.dispatchUntil([&] {
		return std::find(client.touchEvents.begin(), client.touchEvents.end(), "up 2") !=
		       client.touchEvents.end();
	}));
	EXPECT_EQ(client.touchEvents,
		  (std::vector<std::string>{ "down 2", "frame", "up 2", "frame" }));
}

} /* namespace */
} /* namespace heapcomp::test */
