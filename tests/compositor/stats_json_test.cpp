/* SPDX-License-Identifier: MIT */
/* The statistics snapshot (--stats) after a real client drew. */
#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <tuple>
#include <unistd.h>

#include "json.h"
#include "presentation_record.h"
#include "protocols/heap_hints.h"
#include "server_runner.h"
#include "stats_json.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

constexpr uint32_t kRed = 0xffff0000;
constexpr uint32_t kGreen = 0xff00ff00;


std::string readFile(const std::string &path)
{
	std::ifstream file(path);
	std::ostringstream text;
	text << file.rdbuf();
	return text.str();
}

/* A window of 64x32 shown three times, and a second buffer never shown. */
struct Drawing {
	static constexpr uint64_t kShownBytes = 64 * 32 * 4;
	static constexpr uint64_t kSpareBytes = 16 * 8 * 4;

	explicit Drawing(TestClient &client)
		: window(client, "stats", 64, 32, kRed), spare(client.shm, 16, 8)
	{
		ok = window.ok;
		for (uint32_t colour : { kGreen, kRed }) {
			window.buffer.fill(colour);
			ok = ok && window.window.present(window.buffer.buffer(), 64, 32);
		}
		ok = ok && client.roundtrip();
	}

	MappedWindow window;
	ShmBuffer spare;
	bool ok = false;
};

void expectClientBuffers(const Json &json)
{
	EXPECT_EQ(number(json, { "client_buffers", "shm", "buffers" }), 2u);
	EXPECT_EQ(number(json, { "client_buffers", "shm", "bytes" }),
		  Drawing::kShownBytes + Drawing::kSpareBytes);
	EXPECT_EQ(number(json, { "client_buffers", "dma_buf", "buffers" }), 0u);
	EXPECT_EQ(number(json, { "client_buffers", "dma_buf", "bytes" }), 0u);
	EXPECT_EQ(at(json, { "client_buffers", "dma_buf", "by_exporter" }).type,
		  Json::Type::Object);
}

TEST(StatsJson, CountsWhatTheClientDid)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Drawing drawing(client);
	ASSERT_TRUE(drawing.ok);

	auto [text, frames, repaint, renderer, hinted, textures, inPlace] =
		server.run([](comp::Server &s) {
			const bool hinted = s.heapHints() && !s.heapHints()->heaps().empty();
			return std::tuple(comp::statsJson(s), s.frameCount(), s.repaintStats(),
					  std::string(s.renderer().name()), hinted, s.textureStats(),
					  s.renderer().readsShmInPlace());
		});
	std::optional<Json> json = parseJson(text);
	ASSERT_TRUE(json) << text;

	/* Without heaps the heap list says why, under its own name. */
	EXPECT_EQ(at(*json, { "heaps" }).array.empty(), !hinted) << text;
	EXPECT_EQ(string(*json, { "heaps_reason" }).has_value(), !hinted) << text;
	EXPECT_FALSE(json->get("reason")) << text;

	EXPECT_EQ(at(*json, { "backend", "name" }).text, "headless") << text;
	const Json &outputs = at(*json, { "outputs" });
	ASSERT_EQ(outputs.type, Json::Type::Array) << text;
	ASSERT_EQ(outputs.array.size(), 1u) << text;
	const Json &output = outputs.array[0];
	EXPECT_TRUE(string(output, { "name" }).has_value());
	EXPECT_EQ(number(output, { "mode", "width" }), 320u);
	EXPECT_EQ(number(output, { "mode", "height" }), 240u);
	EXPECT_EQ(number(output, { "mode", "refresh_mhz" }), 60000u);
	/* A frame for each of the three presents at least, each composed. */
	EXPECT_GE(frames, 3u);
	EXPECT_GE(repaint.rendered, 3u);
	EXPECT_EQ(number(output, { "frames" }), frames);
	EXPECT_EQ(number(output, { "repaint", "rendered" }), repaint.rendered);
	EXPECT_EQ(number(output, { "repaint", "scanned_out" }), repaint.scannedOut);
	EXPECT_EQ(number(output, { "repaint", "skipped" }), repaint.skipped);
	EXPECT_EQ(number(output, { "repaint", "pixels" }), repaint.pixels);
	EXPECT_EQ(number(output, { "repaint", "rects" }), repaint.rects);

	EXPECT_EQ(string(*json, { "renderer", "name" }), renderer);
	EXPECT_TRUE(string(*json, { "renderer", "dma_buf_path" }).has_value());
	EXPECT_EQ(number(*json, { "renderer", "dma_buf_imports" }), 0u);
	EXPECT_EQ(number(*json, { "renderer", "dma_buf_import_failures" }), 0u);
	/* The window's wl_shm content: copied into a texture, or read where it is. */
	EXPECT_EQ(number(*json, { "renderer", "shm_copies" }), textures.shmCopies);
	EXPECT_EQ(textures.shmCopies > 0, !inPlace) << text;
	EXPECT_EQ(number(*json, { "clients" }), 1u);
	/* This server has no statistics overlay. */
	EXPECT_EQ(at(*json, { "overlay" }).type, Json::Type::Null) << text;
	expectClientBuffers(*json);
	EXPECT_EQ(at(*json, { "buffer_manager", "stats", "sources" }).type, Json::Type::Array)
		<< text;
}

TEST(StatsJson, BuffersAreCountedUntilTheyGo)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	auto snapshot = [&server]() {
		std::string text = server.run([](comp::Server &s) { return comp::statsJson(s); });
		return parseJson(text).value_or(Json());
	};
	{
		TestClient client(server.socket());
		Drawing drawing(client);
		ASSERT_TRUE(drawing.ok);
		expectClientBuffers(snapshot());
	}
	/* The frame on screen held the shown buffer; the next one lets it go. */
	ASSERT_TRUE(server.drawFrames(2));
	Json after = snapshot();
	EXPECT_EQ(number(after, { "clients" }), 0u);
	EXPECT_EQ(number(after, { "client_buffers", "shm", "buffers" }), 0u);
	EXPECT_EQ(number(after, { "client_buffers", "shm", "bytes" }), 0u);
}

TEST(StatsJson, WrittenWhenTheServerStops)
{
	std::string path = testing::TempDir() + "heapcomp-stats-" + std::to_string(getpid()) +
			   ".json";
	unlink(path.c_str());
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.statsPath = path;
	auto server = std::make_unique<ServerRunner>(config);
	ASSERT_TRUE(server->ok()) << server->error();
	TestClient client(server->socket());
	Drawing drawing(client);
	ASSERT_TRUE(drawing.ok);
	uint64_t frames = server->frames();
	EXPECT_NE(access(path.c_str(), F_OK), 0) << "written before the server stopped";

	server.reset();
	std::string text = readFile(path);
	std::optional<Json> json = parseJson(text);
	ASSERT_TRUE(json) << path << ": " << text;
	const Json &outputs = at(*json, { "outputs" });
	ASSERT_EQ(outputs.array.size(), 1u) << text;
	EXPECT_GE(number(outputs.array[0], { "frames" }).value_or(0), frames);
	EXPECT_EQ(number(*json, { "clients" }), 1u);
	expectClientBuffers(*json);
	EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0) << "the temporary file stayed";
	unlink(path.c_str());
}

/* Per client: its buffers, and frames it covered the output shown as they are or composed. */
TEST(StatsJson, PerClientScanoutOutcomes)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient windowed(server.socket());
	Drawing drawing(windowed);
	ASSERT_TRUE(drawing.ok);

	TestClient fullscreen(server.socket());
	Window window(fullscreen, "fullscreen");
	ASSERT_TRUE(mapFullscreen(window));
	ShmBuffer opaque(fullscreen.shm, 320, 240);
	opaque.fill(kGreen);
	for (int i = 0; i < 3; i++)
		EXPECT_TRUE(presentAndRecord(fullscreen, window.surface(), opaque.buffer()).zeroCopy());
	ShmBuffer translucent(fullscreen.shm, 320, 240, WL_SHM_FORMAT_ARGB8888);
	translucent.fill(0x80008000);
	EXPECT_FALSE(
		presentAndRecord(fullscreen, window.surface(), translucent.buffer()).zeroCopy());

	std::string text = server.run([](comp::Server &s) { return comp::statsJson(s); });
	std::optional<Json> json = parseJson(text);
	ASSERT_TRUE(json) << text;
	const Json &clients = at(*json, { "per_client" });
	ASSERT_EQ(clients.array.size(), 2u) << text;
	uint64_t scannedOut = 0, buffers = 0;
	for (const Json &client : clients.array) {
		EXPECT_EQ(number(client, { "pid" }), uint64_t(getpid())) << text;
		EXPECT_EQ(number(client, { "heap_hint_hits" }), 0u) << "wl_shm is no heap's";
		EXPECT_EQ(number(client, { "heap_hint_misses" }), 0u) << text;
		/* A translucent buffer is never a candidate: nothing to refuse. */
		EXPECT_EQ(number(client, { "scanout_refused_frames" }), 0u) << text;
		scannedOut += number(client, { "scanned_out_frames" }).value_or(0);
		buffers += number(client, { "buffers" }).value_or(0);
		/* All of them wl_shm. */
		EXPECT_EQ(number(client, { "shm", "buffers" }), number(client, { "buffers" })) << text;
		EXPECT_EQ(number(client, { "shm", "bytes" }), number(client, { "bytes" })) << text;
		EXPECT_EQ(number(client, { "dma_buf", "buffers" }), 0u) << text;
	}
	EXPECT_EQ(scannedOut, 3u) << text;
	EXPECT_EQ(buffers, 4u) << text;
}

} /* namespace */
} /* namespace heapcomp::test */
