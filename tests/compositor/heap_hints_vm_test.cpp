/* SPDX-License-Identifier: MIT */
/*
 * heapcomp_heaps_v1 against the test VM's real heaps: the advertised list
 * is the kernel's, buffers allocated on a client's behalf come from the
 * heap asked for and reach the screen, quotas fail the request and
 * nothing else, and a client that goes leaves nothing behind. End to
 * end: with --scanout-requires contiguous, a client that follows the
 * hints is scanned out and one that ignores them is composed.
 */
#include <gtest/gtest.h>

#include <chrono>
#include <drm_fourcc.h>
#include <sys/mman.h>

#include <bufmgr/exporter.h>
#include <bufmgr/provenance.h>
#include <bufmgr/stats.h>

#include "fd_count.h"
#include "heap_hints_events.h"
#include "json.h"
#include "presentation_record.h"
#include "server_runner.h"
#include "stats_json.h"
#include "test_client.h"
#include "vm_env.h"

namespace heapcomp::test {
namespace {

constexpr const char *kCmaHeap = "default_cma_region";
constexpr uint32_t kWidth = 320;
constexpr uint32_t kHeight = 240;

/* Waits for the outcome of one allocate. */
struct Allocation {
	Allocation(HeapsClient &c, heapcomp_heap_buffer_v1 *object)
		: proxy(object)
	{
		result.listen(proxy);
		c.client.dispatchUntil([this] { return result.done(); });
	}

	Proxy<heapcomp_heap_buffer_v1> proxy;
	HeapAllocation result;
};

/* Fills a single-plane 32-bit buffer from the CPU. */
bool fill(const HeapAllocation &allocation, uint32_t height, uint32_t argb)
{
	if (allocation.planes.size() != 1)
		return false;
	const auto &plane = allocation.planes[0];
	size_t size = size_t(plane.offset) + size_t(plane.stride) * height;
	void *map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, plane.fd.get(), 0);
	if (map == MAP_FAILED)
		return false;
	auto *bytes = static_cast<uint8_t *>(map) + plane.offset;
	for (uint32_t y = 0; y < height; y++) {
		auto *row = reinterpret_cast<uint32_t *>(bytes + size_t(y) * plane.stride);
		for (uint32_t x = 0; x < plane.stride / 4; x++)
			row[x] = argb;
	}
	munmap(map, size);
	return true;
}

/* The allocation as a wl_buffer, through linux-dmabuf as any dma-buf. */
Proxy<wl_buffer> wrap(TestClient &client, const HeapAllocation &allocation, uint32_t width,
		      uint32_t height, uint32_t format = DRM_FORMAT_XRGB8888)
{
	Proxy<zwp_linux_buffer_params_v1> params(zwp_linux_dmabuf_v1_create_params(client.dmabuf));
	for (size_t i = 0; i < allocation.planes.size(); i++) {
		const auto &plane = allocation.planes[i];
		zwp_linux_buffer_params_v1_add(params, plane.fd.get(), uint32_t(i), plane.offset,
					       plane.stride, 0, 0);
	}
	return Proxy<wl_buffer>(zwp_linux_buffer_params_v1_create_immed(
		params, int32_t(width), int32_t(height), format, 0));
}

uint64_t liveBytes(ServerRunner &server, const std::string &source)
{
	return server.run([&](comp::Server &s) {
		auto snapshot = s.bufferManager().stats().snapshot();
		const bufmgr::SourceSnapshot *found = snapshot.find(source);
		return found ? found->liveBytes : 0;
	});
}

class HeapHintsVm : public testing::Test
{
protected:
	void SetUp() override
	{
		if (access("/dev/dma_heap/system", R_OK) != 0)
			SKIP_OR_FAIL_WITHOUT("no /dev/dma_heap/system");
	}
};

TEST_F(HeapHintsVm, ListIsTheKernelsHeaps)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	HeapsClient c(server.socket());
	ASSERT_TRUE(c.heaps);
	auto discovered = bufmgr::discoverHeaps();
	ASSERT_TRUE(discovered) << discovered.error().message();
	ASSERT_EQ(c.list.heaps.size(), discovered->size());
	for (const bufmgr::HeapInfo &info : *discovered) {
		const HeapList::Heap *heap = c.list.find(info.name);
		ASSERT_NE(heap, nullptr) << info.name;
		EXPECT_EQ(heap->accessible, info.accessible && !info.isAlias()) << info.name;
		if (info.isAlias()) {
			EXPECT_EQ(heap->pool, c.heapId(info.aliasOf)) << info.name;
		}
	}
	/*
	 * Who pays, as the kernel's own files say (sysfs, cgroup root): x86
	 * has no device tree, so no region and no device.
	 */
	std::vector<bufmgr::HeapAccounting> accounting = bufmgr::heapAccounting(*discovered);
	ASSERT_EQ(accounting.size(), discovered->size());
	for (const bufmgr::HeapAccounting &paid : accounting) {
		const HeapList::Heap *heap = c.list.find(paid.heap);
		ASSERT_NE(heap, nullptr) << paid.heap;
		ASSERT_TRUE(heap->accounting.has_value()) << paid.heap << ": no heap_accounting";
		const uint32_t expected = paid.controller == bufmgr::Accounting::Dmem
						  ? HEAPCOMP_HEAPS_V1_ACCOUNTING_DMEM
					  : paid.controller == bufmgr::Accounting::Memcg
						  ? HEAPCOMP_HEAPS_V1_ACCOUNTING_MEMCG
						  : HEAPCOMP_HEAPS_V1_ACCOUNTING_NONE;
		EXPECT_EQ(*heap->accounting, expected) << paid.heap << ": " << paid.summary;
		EXPECT_EQ(heap->dmemRegion, paid.dmemRegion) << paid.heap;
		EXPECT_TRUE(heap->region.empty()) << paid.heap << ": " << heap->region;
		EXPECT_TRUE(heap->devices.empty()) << paid.heap;
	}
	const HeapList::Heap *cma = c.list.find(kCmaHeap);
	ASSERT_NE(cma, nullptr);
	EXPECT_TRUE(cma->properties & HEAPCOMP_HEAPS_V1_PROPERTIES_CONTIGUOUS);
	ASSERT_TRUE(cma->totalBytes && cma->availableBytes) << "CMA memory not reported";
	EXPECT_GT(*cma->totalBytes, 0u);
	EXPECT_LE(*cma->availableBytes, *cma->totalBytes);
}

class HeapHintsVmHeap : public testing::TestWithParam<const char *>
{
};

/*
 * The buffer is the heap's (its exporter says so), the compositor counts
 * it under that heap while the object lives, and its pixels reach the
 * screen like any dma-buf's.
 */
TEST_P(HeapHintsVmHeap, AllocationComesFromTheHeapAndReachesTheScreen)
{
	const std::string heapName = GetParam();
	if (access(("/dev/dma_heap/" + heapName).c_str(), R_OK) != 0)
		SKIP_OR_FAIL_WITHOUT("no /dev/dma_heap/" + heapName);
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	const std::string source = "dma-heap:" + heapName;
	const uint64_t before = liveBytes(server, source);
	{
		HeapsClient c(server.socket());
		ASSERT_TRUE(c.heaps && c.client.dmabuf);
		Allocation a(c, c.allocate(c.heapId(heapName), 64, 48));
		ASSERT_TRUE(a.result.ready) << a.result.message;
		ASSERT_EQ(a.result.planes.size(), 1u);
		EXPECT_GE(a.result.planes[0].stride, 64u * 4);
		EXPECT_GE(a.result.size, uint64_t(a.result.planes[0].stride) * 48);

		auto info = bufmgr::identifyDmaBuf(a.result.planes[0].fd.get());
		ASSERT_TRUE(info) << info.error().message();
		EXPECT_EQ(info->exporter, heapName);
		EXPECT_EQ(liveBytes(server, source), before + a.result.size);

		ASSERT_TRUE(fill(a.result, 48, 0xff00ff00));
		Proxy<wl_buffer> buffer = wrap(c.client, a.result, 64, 48);
		MappedWindow win(c.client, "heap buffer", 64, 48, 0xffff0000);
		ASSERT_TRUE(win.ok);
		ASSERT_TRUE(win.window.present(buffer, 64, 48));
		comp::Screenshot shot = server.screenshot();
		auto [x, y] = server.run([](comp::Server &s) {
			comp::View *view = s.findView("heap buffer");
			return std::pair<int32_t, int32_t>(view ? view->x() : -1, view ? view->y() : -1);
		});
		ASSERT_GE(x, 0);
		EXPECT_EQ(shot.at(uint32_t(x) + 10, uint32_t(y) + 10), 0xff00ff00u);
		EXPECT_FALSE(c.client.error());
	}
	/* Client gone: the compositor holds nothing of it. */
	EXPECT_TRUE(server.drawFrames(2));
	EXPECT_EQ(liveBytes(server, source), before);
}

INSTANTIATE_TEST_SUITE_P(, HeapHintsVmHeap, testing::Values("system", kCmaHeap),
			 [](const testing::TestParamInfo<const char *> &info) {
				 return std::string(info.param) == "system" ? "System" : "Cma";
			 });

/*
 * Over its quota a client gets failed(quota) and stays connected; other
 * clients allocate on. The charge lasts while the client holds the
 * buffer, object or fds, and ends when both are gone.
 */
TEST_F(HeapHintsVm, QuotaFailsTheRequestNotTheClient)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.limits.heapBuffers = 2;
	config.limits.heapMib = 1;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	HeapsClient c(server.socket());
	HeapsClient bystander(server.socket());
	ASSERT_TRUE(c.heaps && bystander.heaps);
	const uint32_t system = c.heapId("system");

	/* Bytes per pool: 1 MiB holds one 256x256 buffer (256 KiB) and not a 512x512 more. */
	auto first = std::make_unique<Allocation>(c, c.allocate(system, 256, 256));
	ASSERT_TRUE(first->result.ready) << first->result.message;
	Allocation tooBig(c, c.allocate(system, 512, 512));
	EXPECT_EQ(tooBig.result.failure, std::optional<uint32_t>(HEAPCOMP_HEAP_BUFFER_V1_REASON_QUOTA));
	EXPECT_NE(tooBig.result.message.find("quota"), std::string::npos) << tooBig.result.message;

	/* Buffers in all: the third fails. */
	Allocation second(c, c.allocate(system, 64, 64));
	ASSERT_TRUE(second.result.ready) << second.result.message;
	Allocation third(c, c.allocate(system, 64, 64));
	EXPECT_EQ(third.result.failure, std::optional<uint32_t>(HEAPCOMP_HEAP_BUFFER_V1_REASON_QUOTA));

	/* Not the others' quota. */
	Allocation other(bystander, bystander.allocate(system, 64, 64));
	EXPECT_TRUE(other.result.ready) << other.result.message;

	/* The object goes but the client keeps the fd: still charged. */
	HeapAllocation kept = std::move(first->result);
	first.reset();
	ASSERT_TRUE(c.client.roundtrip());
	Allocation stillOver(c, c.allocate(system, 64, 64));
	EXPECT_EQ(stillOver.result.failure,
		  std::optional<uint32_t>(HEAPCOMP_HEAP_BUFFER_V1_REASON_QUOTA));

	/* Fd closed too: the charge ends. */
	kept.planes.clear();
	Allocation again(c, c.allocate(system, 64, 64));
	EXPECT_TRUE(again.result.ready) << again.result.message;
	EXPECT_FALSE(c.client.error());
	EXPECT_FALSE(bystander.client.error());
}

/* More than the CMA area has: no_memory, a try-again, not an error. */
TEST_F(HeapHintsVm, ExhaustedCmaIsNoMemory)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.limits.heapMib = 4096;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	HeapsClient c(server.socket());
	const HeapList::Heap *cma = c.list.find(kCmaHeap);
	if (!cma || !cma->totalBytes)
		SKIP_OR_FAIL_WITHOUT("no CMA heap with a known size");
	/* 8192 pixels wide, tall enough to be more than the whole area. */
	const uint64_t rows = *cma->totalBytes / (8192 * 4) + 64;
	if (rows > 8192)
		SKIP_OR_FAIL_WITHOUT("CMA area larger than one 8192x8192 buffer");
	Allocation a(c, c.allocate(cma->id, 8192, int32_t(rows)));
	EXPECT_EQ(a.result.failure, std::optional<uint32_t>(HEAPCOMP_HEAP_BUFFER_V1_REASON_NO_MEMORY))
		<< a.result.message;
	EXPECT_NE(a.result.message.find(kCmaHeap), std::string::npos) << a.result.message;
	Allocation small(c, c.allocate(cma->id, 64, 64));
	EXPECT_TRUE(small.result.ready) << small.result.message;
	EXPECT_FALSE(c.client.error());
}

/* A client that goes with buffers, objects and fds leaves no fd and no byte behind. */
TEST_F(HeapHintsVm, DisconnectFreesEverything)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	const std::string cmaSource = std::string("dma-heap:") + kCmaHeap;
	const uint64_t system = liveBytes(server, "dma-heap:system");
	const uint64_t cma = liveBytes(server, cmaSource);
	/* Gone without destroying anything. */
	auto clientRound = [&] {
		HeapsClient c(server.socket());
		std::vector<std::unique_ptr<Allocation>> held;
		for (const char *heap : { "system", kCmaHeap, "system" }) {
			held.push_back(std::make_unique<Allocation>(c, c.allocate(c.heapId(heap), 128, 128)));
			EXPECT_TRUE(held.back()->result.ready) << held.back()->result.message;
		}
		EXPECT_GT(liveBytes(server, "dma-heap:system"), system);
		EXPECT_GT(liveBytes(server, cmaSource), cma);
	};
	/* The first round opens the heaps and grows the output's swapchain. */
	clientRound();
	ASSERT_TRUE(server.drawFrames(2));
	const int fds = countOpenFds();
	const std::string before = describeOpenFds();
	for (int i = 0; i < 3; i++)
		clientRound();
	EXPECT_TRUE(server.drawFrames(2));
	EXPECT_EQ(liveBytes(server, "dma-heap:system"), system);
	EXPECT_EQ(liveBytes(server, cmaSource), cma);
	EXPECT_EQ(countOpenFds(), fds) << "before:\n" << before << "after:\n" << describeOpenFds();
}

/*
 * A fullscreen client that reallocates from the heap its scanout tranche
 * names is scanned out on a display that needs contiguous memory; the
 * same client keeping its system-heap buffer is composed.
 */
TEST_F(HeapHintsVm, FollowingTheHintIsScannedOutIgnoringItIsComposed)
{
	if (access((std::string("/dev/dma_heap/") + kCmaHeap).c_str(), R_OK) != 0)
		SKIP_OR_FAIL_WITHOUT("no CMA heap");
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.width = kWidth;
	config.headless.height = kHeight;
	config.headless.scanoutRequiresContiguous = true;
	config.scanoutHysteresis = std::chrono::milliseconds(0);
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	HeapsClient c(server.socket());
	ASSERT_TRUE(c.heaps && c.client.dmabuf);

	Window window(c.client, "follows hints");
	ASSERT_TRUE(mapFullscreen(window));
	HeapFeedback feedback;
	Proxy<heapcomp_heap_feedback_v1> object(
		heapcomp_heaps_v1_get_surface_feedback(c.heaps, window.surface()));
	feedback.listen(object);
	ASSERT_TRUE(c.client.dispatchUntil([&] { return feedback.dones == 1; }));

	/* First from the render tranche's heap (system): composed. */
	ASSERT_EQ(feedback.tranches.size(), 1u);
	ASSERT_FALSE(feedback.tranches[0].heaps.empty());
	Allocation composed(c, c.allocate(feedback.tranches[0].heaps[0], kWidth, kHeight));
	ASSERT_TRUE(composed.result.ready) << composed.result.message;
	ASSERT_TRUE(fill(composed.result, kHeight, 0xff3050a0));
	Proxy<wl_buffer> systemBuffer = wrap(c.client, composed.result, kWidth, kHeight);
	for (int i = 0; i < 3; i++)
		EXPECT_FALSE(presentAndRecord(c.client, window.surface(), systemBuffer).zeroCopy());

	/* The surface is the scanout candidate: the feedback names the CMA heap for scanout. */
	ASSERT_TRUE(c.client.dispatchUntil([&] { return feedback.dones >= 2; }));
	ASSERT_EQ(feedback.tranches.size(), 2u);
	ASSERT_TRUE(feedback.tranches[0].flags & ZWP_LINUX_DMABUF_FEEDBACK_V1_TRANCHE_FLAGS_SCANOUT);
	ASSERT_EQ(feedback.tranches[0].heaps, std::vector<uint32_t>{ c.heapId(kCmaHeap) });

	Allocation scanout(c, c.allocate(feedback.tranches[0].heaps[0], kWidth, kHeight,
					 DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR,
					 HEAPCOMP_HEAPS_V1_USAGE_SCANOUT));
	ASSERT_TRUE(scanout.result.ready) << scanout.result.message;
	ASSERT_TRUE(fill(scanout.result, kHeight, 0xffa05030));
	Proxy<wl_buffer> cmaBuffer = wrap(c.client, scanout.result, kWidth, kHeight);
	int zeroCopy = 0;
	for (int i = 0; i < 5; i++)
		zeroCopy += presentAndRecord(c.client, window.surface(), cmaBuffer).zeroCopy();
	EXPECT_EQ(zeroCopy, 5);
	EXPECT_EQ(server.screenshot().at(10, 10), 0xffa05030u);

	/* Back on the system-heap buffer: composed again. */
	EXPECT_FALSE(presentAndRecord(c.client, window.surface(), systemBuffer).zeroCopy());

	/* A new system-heap buffer now that the hint says CMA: a miss. */
	Allocation ignored(c, c.allocate(c.heapId("system"), kWidth, kHeight));
	ASSERT_TRUE(ignored.result.ready) << ignored.result.message;
	Proxy<wl_buffer> ignoredBuffer = wrap(c.client, ignored.result, kWidth, kHeight);
	EXPECT_FALSE(presentAndRecord(c.client, window.surface(), ignoredBuffer).zeroCopy());
	EXPECT_FALSE(c.client.error());

	/* The statistics say so, per client. */
	std::string text = server.run([](comp::Server &s) { return comp::statsJson(s); });
	std::optional<Json> json = parseJson(text);
	ASSERT_TRUE(json) << text;
	const Json &clients = at(*json, { "per_client" });
	ASSERT_EQ(clients.array.size(), 1u) << text;
	const Json &client = clients.array[0];
	/* Hits: system while the hint was system, CMA once it was CMA. */
	EXPECT_EQ(number(client, { "heap_hint_hits" }), 2u) << text;
	EXPECT_EQ(number(client, { "heap_hint_misses" }), 1u) << text;
	EXPECT_EQ(number(client, { "scanned_out_frames" }), 5u) << text;
	EXPECT_GE(number(client, { "scanout_refused_frames" }).value_or(0), 5u) << text;
	const Json &allocations = at(client, { "heap_allocations" });
	ASSERT_EQ(allocations.array.size(), 2u) << text;
	/* Its buffers by memory add up to all of them, and the heaps it was allocated from are there. */
	uint64_t bySource = 0;
	for (const Json &source : at(client, { "by_source" }).array)
		bySource += number(source, { "buffers" }).value_or(0);
	EXPECT_EQ(bySource, number(client, { "buffers" }).value_or(0)) << text;
	for (const Json &charge : allocations.array) {
		bool held = false;
		for (const Json &source : at(client, { "by_source" }).array)
			held = held || string(source, { "source" }) == string(charge, { "pool" });
		EXPECT_TRUE(held) << string(charge, { "pool" }).value_or("?") << ": " << text;
	}
	EXPECT_EQ(number(client, { "heap_quota", "buffers" }), 64u) << text;
	EXPECT_EQ(number(client, { "heap_quota", "bytes_per_heap" }), 256u << 20) << text;
	/* Each charge names who pays for it in the kernel, as the heap list does. */
	for (const Json &charge : allocations.array) {
		const Json *heap = nullptr;
		for (const Json &entry : at(*json, { "heaps" }).array)
			if (string(entry, { "name" }) == string(charge, { "pool" }))
				heap = &entry;
		ASSERT_NE(heap, nullptr) << text;
		EXPECT_EQ(string(charge, { "accounting" }),
			  string(*heap, { "accounting", "controller" }))
			<< text;
	}
}

} /* namespace */
} /* namespace heapcomp::test */
