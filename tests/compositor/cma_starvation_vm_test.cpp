/* SPDX-License-Identifier: MIT */
/*
 * A client that takes the whole CMA area cannot starve the output: on a
 * display that needs contiguous memory, the output reserves its buffers
 * from CMA at start and keeps presenting frames to the other clients;
 * the area is whole again once the hog lets go.
 */
#include <gtest/gtest.h>

#include <bufmgr/allocators.h>
#include <bufmgr/heap.h>

#include "cma_hog.h"
#include "server_runner.h"
#include "test_client.h"
#include "vm_env.h"

namespace heapcomp::test {
namespace {

constexpr const char *kCmaHeap = "/dev/dma_heap/default_cma_region";

/* Free pages of the CMA area behind the default CMA heap. */
std::optional<uint64_t> cmaFreePages()
{
	auto heaps = bufmgr::discoverHeaps();
	if (!heaps)
		return std::nullopt;
	const bufmgr::HeapInfo *heap = bufmgr::findHeap(*heaps, "default_cma_region");
	if (!heap)
		return std::nullopt;
	auto area = bufmgr::readCmaArea(bufmgr::SystemPaths{}, heap->cmaArea);
	return area ? area->freePages() : std::nullopt;
}

TEST(CmaStarvation, TheOutputKeepsPresentingWhenAClientTakesAllCma)
{
	auto hog = bufmgr::createDmaHeapAllocator(kCmaHeap, true);
	if (!hog)
		SKIP_OR_FAIL_WITHOUT(std::string("no CMA heap: ") + hog.error().message());
	const std::optional<uint64_t> freeAtStart = cmaFreePages();
	ASSERT_TRUE(freeAtStart);

	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.scanoutRequiresContiguous = true;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	std::string source = server.run([](comp::Server &s) {
		auto *output = dynamic_cast<comp::HeadlessOutput *>(s.backend().outputs()[0]);
		return output ? output->bufferSource() : std::string();
	});
	ASSERT_EQ(source, "dma-heap:default_cma_region") << "the output's buffers are not CMA";

	std::vector<bufmgr::Buffer> taken = takeEverything(**hog);
	ASSERT_FALSE(taken.empty());
	const std::optional<uint64_t> freeWhenTaken = cmaFreePages();
	ASSERT_TRUE(freeWhenTaken);
	EXPECT_LT(*freeWhenTaken, 8u) << "the hog left CMA free";

	/* Another client's frames are still composed and shown, colour by colour. */
	TestClient client(server.socket());
	MappedWindow win(client, "bystander", 64, 48, 0xff102030);
	ASSERT_TRUE(win.ok);
	for (uint32_t colour : { 0xffff0000u, 0xff00ff00u, 0xff0000ffu, 0xffffff00u, 0xff00ffffu }) {
		win.buffer.fill(colour);
		ASSERT_TRUE(win.window.present(win.buffer.buffer(), 64, 48));
		auto [x, y] = server.run([](comp::Server &s) {
			comp::View *view = s.findView("bystander");
			return std::pair<int32_t, int32_t>(view ? view->x() : -1,
							   view ? view->y() : -1);
		});
		ASSERT_GE(x, 0);
		EXPECT_EQ(server.screenshot().at(uint32_t(x) + 4, uint32_t(y) + 4), colour);
	}
	EXPECT_FALSE(client.error());
	/* From the reserve, never from a fallback. */
	EXPECT_EQ(server.run([](comp::Server &s) {
		auto *output = dynamic_cast<comp::HeadlessOutput *>(s.backend().outputs()[0]);
		return output ? output->bufferSource() : std::string();
	}),
		  "dma-heap:default_cma_region");

	taken.clear();
	const std::optional<uint64_t> freeAtEnd = cmaFreePages();
	ASSERT_TRUE(freeAtEnd);
	/* The output's reserve stays; everything the hog took is back. */
	EXPECT_GT(*freeAtEnd, *freeWhenTaken);
	EXPECT_LE(*freeAtEnd, *freeAtStart);
}

} /* namespace */
} /* namespace heapcomp::test */
