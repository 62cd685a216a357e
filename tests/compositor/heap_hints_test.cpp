/* SPDX-License-Identifier: MIT */
/*
 * heapcomp_heaps_v1 on any host: the heap list against bufmgr's
 * discovery of a fixture /dev/dma_heap, its resend on memory changes,
 * feedback tranches mirroring linux-dmabuf's, every protocol error and
 * the failures a client can recover from. Allocation that succeeds needs
 * real heaps: heap_hints_vm_test.cpp.
 */
#include <gtest/gtest.h>

#include <chrono>
#include <drm_fourcc.h>

#include "device_tree_fixture.h"
#include "heap_hints_events.h"
#include "json.h"
#include "protocols/heap_hints.h"
#include "server_runner.h"
#include "stats_json.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

constexpr uint32_t kWidth = 320;
constexpr uint32_t kHeight = 240;

/* system, the default CMA area under its new name and its legacy alias. */
void makeBoard(const FixtureTree &tree)
{
	tree.heap("system");
	tree.heap("default_cma_region");
	tree.heap("reserved");
	tree.file("sys/kernel/mm/cma/reserved/total_pages", "4096\n");
	tree.file("sys/kernel/mm/cma/reserved/available_pages", "1024\n");
	tree.file("proc/meminfo", "MemTotal:        1000000 kB\n"
				  "MemFree:          400000 kB\n"
				  "MemAvailable:     500000 kB\n");
}

/*
 * A heapcomp on that board, scanout tranches settling at once, with a
 * client bound to heapcomp_heaps_v1.
 */
class Board
{
public:
	using Adjust = std::function<void(comp::ServerConfig &)>;
	/* More of the board's files, written before heapcomp starts. */
	using Furnish = std::function<void(const FixtureTree &)>;

	explicit Board(const Adjust &adjust = {}, const Furnish &furnish = {})
		: server(configure(tree, adjust, furnish))
	{
		EXPECT_TRUE(server.ok()) << server.error();
	}

	/* Another client, bound. */
	std::unique_ptr<HeapsClient> connect() const
	{
		auto c = std::make_unique<HeapsClient>(server.socket());
		EXPECT_TRUE(c->heaps) << "heapcomp_heaps_v1 is not advertised";
		return c;
	}

	FixtureTree tree;
	ServerRunner server;

private:
	static comp::ServerConfig configure(const FixtureTree &tree, const Adjust &adjust,
					    const Furnish &furnish)
	{
		makeBoard(tree);
		if (furnish)
			furnish(tree);
		comp::ServerConfig config = ServerRunner::defaultConfig();
		config.bufferManager.paths = tree.paths();
		config.scanoutHysteresis = std::chrono::milliseconds(0);
		if (adjust)
			adjust(config);
		return config;
	}
};

TEST(HeapHints, ListMatchesDiscoveryWithAliasesInOnePool)
{
	Board board;
	auto client = board.connect();
	ASSERT_TRUE(client->heaps);
	HeapsClient &c = *client;
	ServerRunner &server = board.server;
	ASSERT_EQ(c.list.dones, 1);

	auto discovered = server.run([](comp::Server &s) { return s.bufferManager().heaps(); });
	ASSERT_EQ(c.list.heaps.size(), discovered.size());
	for (size_t i = 0; i < discovered.size(); i++)
		EXPECT_EQ(c.list.heaps[i].name, discovered[i].name);

	const HeapList::Heap *system = c.list.find("system");
	const HeapList::Heap *cma = c.list.find("default_cma_region");
	const HeapList::Heap *alias = c.list.find("reserved");
	ASSERT_TRUE(system && cma && alias);
	/* Ids are distinct; the alias shares the primary's pool. */
	EXPECT_NE(system->id, cma->id);
	EXPECT_NE(cma->id, alias->id);
	EXPECT_EQ(cma->pool, cma->id);
	EXPECT_EQ(alias->pool, cma->id);
	EXPECT_EQ(system->pool, system->id);

	EXPECT_TRUE(cma->properties & HEAPCOMP_HEAPS_V1_PROPERTIES_CONTIGUOUS);
	EXPECT_FALSE(cma->properties & HEAPCOMP_HEAPS_V1_PROPERTIES_SCATTERED);
	EXPECT_TRUE(system->properties & HEAPCOMP_HEAPS_V1_PROPERTIES_SCATTERED);
	EXPECT_FALSE(system->properties & HEAPCOMP_HEAPS_V1_PROPERTIES_CONTIGUOUS);
	EXPECT_FALSE(system->properties & HEAPCOMP_HEAPS_V1_PROPERTIES_PROTECTED);

	/* Memory: the CMA area's pages (4 KiB each here) and the system's. */
	EXPECT_EQ(cma->totalBytes, std::optional<uint64_t>(4096ull * 4096));
	EXPECT_EQ(cma->availableBytes, std::optional<uint64_t>(1024ull * 4096));
	EXPECT_EQ(alias->totalBytes, cma->totalBytes);
	EXPECT_EQ(system->totalBytes, std::optional<uint64_t>(1000000ull * 1024));
	EXPECT_EQ(system->availableBytes, std::optional<uint64_t>(500000ull * 1024));
}

TEST(HeapHints, ListIsResentWhenAvailableMemoryCrossesALevel)
{
	Board board;
	auto client = board.connect();
	ASSERT_TRUE(client->heaps);
	HeapsClient &c = *client;
	ServerRunner &server = board.server;
	FixtureTree &tree = board.tree;
	ASSERT_EQ(c.list.dones, 1);
	auto refresh = [&] {
		server.run([](comp::Server &s) { s.heapHints()->refreshMemory(); });
		ASSERT_TRUE(c.client.roundtrip());
	};

	/* 1024 → 1100 of 4096 pages: the same eighth, nothing is sent. */
	tree.file("sys/kernel/mm/cma/reserved/available_pages", "1100\n");
	refresh();
	EXPECT_EQ(c.list.dones, 1);

	/* 1100 → 3000: another eighth; the whole list comes again. */
	tree.file("sys/kernel/mm/cma/reserved/available_pages", "3000\n");
	refresh();
	EXPECT_EQ(c.list.dones, 2);
	ASSERT_NE(c.list.find("default_cma_region"), nullptr);
	EXPECT_EQ(c.list.find("default_cma_region")->availableBytes,
		  std::optional<uint64_t>(3000ull * 4096));
	EXPECT_EQ(c.list.heaps.size(), 3u);
}

TEST(HeapHints, SaysWhatEachHeapsMemoryIsForAndWhoPays)
{
	Board board({}, displayRegionBoard);
	auto client = board.connect();
	ASSERT_TRUE(client->heaps);
	const HeapList &list = client->list;

	const HeapList::Heap *display = list.find("display@94000000");
	ASSERT_NE(display, nullptr);
	EXPECT_EQ(display->region, "/reserved-memory/display@94000000");
	ASSERT_EQ(display->devices.size(), 1u);
	EXPECT_EQ(display->devices[0].first, "/soc/lcd-controller@32e80000");
	EXPECT_EQ(display->devices[0].second, "imx-lcdif");
	EXPECT_EQ(display->accounting, std::optional<uint32_t>(HEAPCOMP_HEAPS_V1_ACCOUNTING_DMEM));
	EXPECT_EQ(display->dmemRegion, "cma/display@94000000");

	const HeapList::Heap *system = list.find("system");
	ASSERT_NE(system, nullptr);
	EXPECT_TRUE(system->region.empty());
	EXPECT_TRUE(system->devices.empty());
	EXPECT_EQ(system->accounting, std::optional<uint32_t>(HEAPCOMP_HEAPS_V1_ACCOUNTING_MEMCG));
	EXPECT_TRUE(system->dmemRegion.empty());

	/* The tree has no default CMA node: no region, and nothing pays. */
	const HeapList::Heap *cma = list.find("default_cma_region");
	ASSERT_NE(cma, nullptr);
	EXPECT_TRUE(cma->region.empty());
	EXPECT_EQ(cma->accounting, std::optional<uint32_t>(HEAPCOMP_HEAPS_V1_ACCOUNTING_NONE));

	/* A version 1 client hears none of it, and is not disconnected for it. */
	HeapsClient old(board.server.socket(), 1);
	ASSERT_TRUE(old.heaps);
	EXPECT_EQ(old.list.heaps.size(), list.heaps.size());
	EXPECT_EQ(old.list.versionTwoEvents, 0);
	EXPECT_GT(list.versionTwoEvents, 0);
	EXPECT_TRUE(old.client.roundtrip());

	/* The control socket's heaps and the stats snapshot say the same. */
	for (bool stats : { false, true }) {
		std::string text = board.server.run([stats](comp::Server &s) {
			return stats ? comp::statsJson(s) : comp::heapsJson(s);
		});
		std::optional<Json> json = parseJson(text);
		ASSERT_TRUE(json) << text;
		const Json *entry = nullptr;
		for (const Json &heap : at(*json, { "heaps" }).array)
			if (string(heap, { "name" }) == "display@94000000")
				entry = &heap;
		ASSERT_NE(entry, nullptr) << text;
		EXPECT_EQ(string(*entry, { "region" }), "/reserved-memory/display@94000000") << text;
		const Json &devices = at(*entry, { "devices" });
		ASSERT_EQ(devices.array.size(), 1u) << text;
		EXPECT_EQ(string(devices.array[0], { "driver" }), "imx-lcdif") << text;
		EXPECT_EQ(string(*entry, { "accounting", "controller" }), "dmem") << text;
		EXPECT_EQ(string(*entry, { "accounting", "dmem_region" }), "cma/display@94000000")
			<< text;
		EXPECT_NE(string(*entry, { "origin" }).value_or("").find("lcd-controller@32e80000"),
			  std::string::npos)
			<< text;
		/* Headless has no planes to probe. */
		EXPECT_EQ(at(*entry, { "scans_out_on" }).type, Json::Type::Null) << text;
	}
}

/* linux-dmabuf's and the heap hints' feedback of one surface, side by side. */
struct FeedbackPair {
	FeedbackPair(HeapsClient &c, wl_surface *surface)
	{
		if (surface) {
			dmabufObject.reset(
				zwp_linux_dmabuf_v1_get_surface_feedback(c.client.dmabuf, surface));
			heapObject.reset(heapcomp_heaps_v1_get_surface_feedback(c.heaps, surface));
		} else {
			dmabufObject.reset(zwp_linux_dmabuf_v1_get_default_feedback(c.client.dmabuf));
			heapObject.reset(heapcomp_heaps_v1_get_default_feedback(c.heaps));
		}
		dmabuf.listen(dmabufObject);
		heap.listen(heapObject);
	}

	bool waitBoth(TestClient &client, int dones)
	{
		return client.dispatchUntil(
			[&] { return dmabuf.dones >= dones && heap.dones >= dones; });
	}

	Proxy<zwp_linux_dmabuf_feedback_v1> dmabufObject;
	Proxy<heapcomp_heap_feedback_v1> heapObject;
	DmabufFeedback dmabuf;
	HeapFeedback heap;
};

TEST(HeapHints, DefaultFeedbackMirrorsLinuxDmabufWithThePolicysHeaps)
{
	Board board;
	auto client = board.connect();
	HeapsClient &c = *client;
	ASSERT_TRUE(c.heaps && c.client.dmabuf);
	FeedbackPair pair(c, nullptr);
	ASSERT_TRUE(pair.waitBoth(c.client, 1));
	EXPECT_TRUE(pair.heap.mirrors(pair.dmabuf));
	ASSERT_EQ(pair.heap.tranches.size(), 1u);
	/* Rendering: scattered system memory first, scarce CMA after; aliases never. */
	EXPECT_EQ(pair.heap.tranches[0].heaps,
		  (std::vector<uint32_t>{ c.heapId("system"), c.heapId("default_cma_region") }));
}

class HeapHintsScanout : public testing::TestWithParam<bool>
{
};

/*
 * A fullscreen window becomes the scanout candidate: both feedbacks gain
 * the scanout tranche at once, the heap one listing the heaps the backend
 * scans out from; windowed again, both lose it. Nothing else resends.
 */
TEST_P(HeapHintsScanout, SurfaceFeedbackFollowsTheScanoutDecision)
{
	const bool requireContiguous = GetParam();
	Board board([&](comp::ServerConfig &config) {
		config.headless.scanoutRequiresContiguous = requireContiguous;
	});
	auto client = board.connect();
	HeapsClient &c = *client;
	ASSERT_TRUE(c.heaps && c.client.dmabuf);

	Window window(c.client, "heap hints");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	FeedbackPair pair(c, window.surface());
	ASSERT_TRUE(pair.waitBoth(c.client, 1));
	ASSERT_TRUE(pair.heap.mirrors(pair.dmabuf));
	ASSERT_EQ(pair.heap.tranches.size(), 1u);

	/* Windowed frames change nothing. */
	ShmBuffer small(c.client.shm, 100, 80);
	small.fill(0xff204060);
	ASSERT_TRUE(window.present(small.buffer(), 100, 80));
	ASSERT_TRUE(c.client.roundtrip());
	EXPECT_EQ(pair.heap.dones, 1);
	EXPECT_EQ(pair.dmabuf.dones, 1);

	xdg_toplevel_set_fullscreen(window.toplevel(), nullptr);
	for (int i = 0; i < 4 && !window.hasState(XDG_TOPLEVEL_STATE_FULLSCREEN); i++) {
		ASSERT_TRUE(window.waitConfigure());
		window.ack();
	}
	ShmBuffer full(c.client.shm, kWidth, kHeight);
	full.fill(0xff102030);
	ASSERT_TRUE(window.present(full.buffer(), kWidth, kHeight));
	ASSERT_TRUE(pair.waitBoth(c.client, 2));
	ASSERT_TRUE(pair.heap.mirrors(pair.dmabuf));
	ASSERT_EQ(pair.heap.tranches.size(), 2u);
	EXPECT_TRUE(pair.heap.tranches[0].flags & ZWP_LINUX_DMABUF_FEEDBACK_V1_TRANCHE_FLAGS_SCANOUT);
	std::vector<uint32_t> scanoutHeaps{ c.heapId("default_cma_region") };
	if (!requireContiguous)
		scanoutHeaps.push_back(c.heapId("system"));
	EXPECT_EQ(pair.heap.tranches[0].heaps, scanoutHeaps);
	EXPECT_EQ(pair.heap.tranches[1].heaps,
		  (std::vector<uint32_t>{ c.heapId("system"), c.heapId("default_cma_region") }));

	/* More frames of the same: no resend. */
	ASSERT_TRUE(window.present(full.buffer(), kWidth, kHeight));
	ASSERT_TRUE(window.present(full.buffer(), kWidth, kHeight));
	ASSERT_TRUE(c.client.roundtrip());
	EXPECT_EQ(pair.heap.dones, 2);
	EXPECT_EQ(pair.dmabuf.dones, 2);

	xdg_toplevel_unset_fullscreen(window.toplevel());
	for (int i = 0; i < 4 && window.hasState(XDG_TOPLEVEL_STATE_FULLSCREEN); i++) {
		ASSERT_TRUE(window.waitConfigure());
		window.ack();
	}
	ASSERT_TRUE(window.present(small.buffer(), 100, 80));
	ASSERT_TRUE(pair.waitBoth(c.client, 3));
	EXPECT_TRUE(pair.heap.mirrors(pair.dmabuf));
	EXPECT_EQ(pair.heap.tranches.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(, HeapHintsScanout, testing::Bool(),
			 [](const testing::TestParamInfo<bool> &info) {
				 return info.param ? "ContiguousOnly" : "AnyMemory";
			 });

TEST(HeapHints, FeedbackOfADestroyedSurfaceIsInert)
{
	Board board;
	auto client = board.connect();
	ASSERT_TRUE(client->heaps);
	HeapsClient &c = *client;
	ServerRunner &server = board.server;
	Proxy<wl_surface> surface(wl_compositor_create_surface(c.client.compositor));
	HeapFeedback feedback;
	Proxy<heapcomp_heap_feedback_v1> object(
		heapcomp_heaps_v1_get_surface_feedback(c.heaps, surface));
	feedback.listen(object);
	ASSERT_TRUE(c.client.dispatchUntil([&] { return feedback.dones == 1; }));
	surface.reset();
	server.run([](comp::Server &s) { s.scanoutCandidatesChanged(); });
	object.reset();
	ASSERT_TRUE(c.client.roundtrip());
	EXPECT_EQ(feedback.dones, 1);
	EXPECT_FALSE(c.client.error());
}

struct ErrorCase {
	const char *name;
	uint32_t error;
	std::function<heapcomp_heap_buffer_v1 *(HeapsClient &)> request;
};

class HeapHintsError : public testing::TestWithParam<ErrorCase>
{
};

/* Never-valid requests end the client with the XML's error; others go on. */
TEST_P(HeapHintsError, RaisesTheNamedErrorOnlyForTheOffender)
{
	Board board;
	auto bystanderClient = board.connect(), offenderClient = board.connect();
	HeapsClient &bystander = *bystanderClient, &offender = *offenderClient;
	ASSERT_TRUE(offender.heaps && bystander.heaps);

	offender.client.own(GetParam().request(offender));
	auto error = offender.client.expectError();
	ASSERT_TRUE(error);
	EXPECT_EQ(error->interface, "heapcomp_heaps_v1");
	EXPECT_EQ(error->code, GetParam().error);

	/* The bystander still gets answers. */
	HeapAllocation allocation;
	Proxy<heapcomp_heap_buffer_v1> buffer(bystander.allocate(bystander.heapId("system")));
	allocation.listen(buffer);
	ASSERT_TRUE(bystander.client.dispatchUntil([&] { return allocation.done(); }));
	EXPECT_FALSE(bystander.client.error());
}

INSTANTIATE_TEST_SUITE_P(
	, HeapHintsError,
	testing::Values(
		ErrorCase{ "UnknownHeap", HEAPCOMP_HEAPS_V1_ERROR_INVALID_HEAP,
			   [](HeapsClient &c) { return c.allocate(999); } },
		ErrorCase{ "HeapZero", HEAPCOMP_HEAPS_V1_ERROR_INVALID_HEAP,
			   [](HeapsClient &c) { return c.allocate(0); } },
		ErrorCase{ "ZeroWidth", HEAPCOMP_HEAPS_V1_ERROR_INVALID_SIZE,
			   [](HeapsClient &c) { return c.allocate(c.heapId("system"), 0, 64); } },
		ErrorCase{ "NegativeHeight", HEAPCOMP_HEAPS_V1_ERROR_INVALID_SIZE,
			   [](HeapsClient &c) { return c.allocate(c.heapId("system"), 64, -1); } },
		ErrorCase{ "SizeOverflows32Bits", HEAPCOMP_HEAPS_V1_ERROR_INVALID_SIZE,
			   [](HeapsClient &c) {
				   return c.allocate(c.heapId("system"), 65536, 65536);
			   } },
		ErrorCase{ "UnknownFormat", HEAPCOMP_HEAPS_V1_ERROR_INVALID_FORMAT,
			   [](HeapsClient &c) {
				   return c.allocate(c.heapId("system"), 64, 64, 0x31313131);
			   } },
		ErrorCase{ "UnknownUsage", HEAPCOMP_HEAPS_V1_ERROR_INVALID_USAGE,
			   [](HeapsClient &c) {
				   return c.allocate(c.heapId("system"), 64, 64, DRM_FORMAT_XRGB8888,
						     DRM_FORMAT_MOD_LINEAR, 5);
			   } }),
	[](const testing::TestParamInfo<ErrorCase> &info) { return info.param.name; });

struct FailureCase {
	const char *name;
	uint32_t reason;
	const char *inMessage;
	std::function<heapcomp_heap_buffer_v1 *(HeapsClient &)> request;
};

class HeapHintsFailure : public testing::TestWithParam<FailureCase>
{
};

/*
 * What another heap or another time could satisfy fails without harm: a
 * reason, a message naming the heap and the cause, the client connected.
 * The fixture heaps are plain files: their ioctl fails as a heap that
 * cannot allocate this would.
 */
TEST_P(HeapHintsFailure, FailsWithAReasonAndTheClientGoesOn)
{
	Board board([](comp::ServerConfig &config) { config.limits.bufferSize = 1024; });
	auto client = board.connect();
	HeapsClient &c = *client;
	ASSERT_TRUE(c.heaps);

	HeapAllocation allocation;
	Proxy<heapcomp_heap_buffer_v1> buffer(GetParam().request(c));
	allocation.listen(buffer);
	ASSERT_TRUE(c.client.dispatchUntil([&] { return allocation.done(); }));
	EXPECT_FALSE(allocation.ready);
	EXPECT_EQ(allocation.failure, std::optional<uint32_t>(GetParam().reason));
	EXPECT_NE(allocation.message.find(GetParam().inMessage), std::string::npos)
		<< allocation.message;
	EXPECT_TRUE(allocation.planes.empty());
	buffer.reset();
	ASSERT_TRUE(c.client.roundtrip());
	EXPECT_FALSE(c.client.error());
}

INSTANTIATE_TEST_SUITE_P(
	, HeapHintsFailure,
	testing::Values(
		FailureCase{ "TiledModifier", HEAPCOMP_HEAP_BUFFER_V1_REASON_UNSUPPORTED, "linear",
			     [](HeapsClient &c) {
				     return c.allocate(c.heapId("system"), 64, 64, DRM_FORMAT_XRGB8888,
						       I915_FORMAT_MOD_X_TILED);
			     } },
		FailureCase{ "LargerThanTheLimit", HEAPCOMP_HEAP_BUFFER_V1_REASON_UNSUPPORTED,
			     "larger than 1024",
			     [](HeapsClient &c) { return c.allocate(c.heapId("system"), 2048, 64); } },
		FailureCase{ "HeapCannotAllocate", HEAPCOMP_HEAP_BUFFER_V1_REASON_UNSUPPORTED,
			     "default_cma_region",
			     [](HeapsClient &c) {
				     return c.allocate(c.heapId("default_cma_region"));
			     } }),
	[](const testing::TestParamInfo<FailureCase> &info) { return info.param.name; });

} /* namespace */
} /* namespace heapcomp::test */
