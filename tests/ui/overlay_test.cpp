/* SPDX-License-Identifier: MIT */
/* The statistics overlay on the real server, over a real client. */
#include <gtest/gtest.h>

#include <linux/input-event-codes.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "alloc_benchmark.h"
#include "client.h"
#include "server_runner.h"
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
		return config;
	}

	void SetUp() override
	{
		ASSERT_TRUE(runner.ok()) << runner.error();
		overlay = runner.run([](comp::Server &server) {
			auto overlay = comp::Overlay::create(server, {});
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

	ServerRunner runner{ config() };
	std::unique_ptr<comp::Overlay> overlay;
};

/* "key=value" of a dump line, or "" when the line has no such key. */
std::string field(const std::string &line, const std::string &key)
{
	size_t at = line.find(" " + key + "=");
	if (at == std::string::npos)
		return "";
	at += key.size() + 2;
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
	};
	Seen seen = runner.run([this](comp::Server &server) {
		EXPECT_TRUE(overlay->redraw());
		Seen seen;
		seen.dump = overlay->dump();
		seen.stats = server.bufferManager().stats().snapshot();
		for (const comp::ClientState *state : server.clientStates())
			seen.clientBytes.emplace_back(state->label(), state->account().bytes);
		return seen;
	});
	ASSERT_FALSE(seen.stats.sources.empty());
	for (const bufmgr::SourceSnapshot &source : seen.stats.sources) {
		const std::string *line = findLine(seen.dump, "heap " + source.source);
		ASSERT_NE(line, nullptr) << source.source;
		EXPECT_EQ(field(*line, "live_buffers"), std::to_string(source.liveBuffers)) << *line;
		EXPECT_EQ(field(*line, "live_bytes"), std::to_string(source.liveBytes)) << *line;
		EXPECT_EQ(field(*line, "failures"), std::to_string(source.failures)) << *line;
	}
	ASSERT_EQ(seen.clientBytes.size(), 1u);
	const std::string *clientLine = findLine(seen.dump, "client " + seen.clientBytes[0].first);
	ASSERT_NE(clientLine, nullptr);
	EXPECT_EQ(field(*clientLine, "bytes"), std::to_string(seen.clientBytes[0].second));
	EXPECT_EQ(field(*clientLine, "bytes"), std::to_string(64 * 32 * 4));
	const std::string *outputLine = findLine(seen.dump, "output HEADLESS-1");
	ASSERT_NE(outputLine, nullptr);
	EXPECT_NE(field(*outputLine, "composed"), "0");

	/* Hidden: its rectangle is background again. */
	ASSERT_TRUE(runner.run([this](comp::Server &) { return overlay->setShown(false); }));
	ASSERT_TRUE(runner.drawFrames(2));
	EXPECT_EQ(litPixels(rect), 0u);
	EXPECT_EQ(runner.screenshot().at(4, 4), kRed);
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

	auto press = [this](std::vector<uint32_t> keys) {
		runner.run([&](comp::Server &server) {
			for (uint32_t key : keys)
				server.headlessBackend()->injectKey(key, true);
			for (auto it = keys.rbegin(); it != keys.rend(); ++it)
				server.headlessBackend()->injectKey(*it, false);
		});
	};
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

} /* namespace */
} /* namespace heapcomp::test */
