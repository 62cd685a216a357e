/* SPDX-License-Identifier: MIT */
/*
 * libheapcomp-client against a real heapcomp: the heap list, the hint for
 * a surface and its change when the surface becomes the scanout candidate,
 * and allocations that fail saying why. On the host the heaps are a
 * fixture, so allocations fail; heap_client_vm_test.cpp allocates.
 */
#include <gtest/gtest.h>

#include <chrono>
#include <drm_fourcc.h>
#include <string>

#include <heapcomp-heaps-v1-client-protocol.h>
#include <heapcomp/heap_client.h>

#include "device_tree_fixture.h"
#include "presentation_record.h"
#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

struct ClientDeleter {
	void operator()(hc_client *client) const { hc_client_destroy(client); }
};
using HeapClient = std::unique_ptr<hc_client, ClientDeleter>;

comp::ServerConfig fixtureConfig(const FixtureTree &tree)
{
	tree.heap("system");
	tree.heap("default_cma_region");
	tree.heap("reserved");
	tree.file("sys/kernel/mm/cma/reserved/total_pages", "4096\n");
	tree.file("sys/kernel/mm/cma/reserved/available_pages", "1024\n");
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.bufferManager.paths = tree.paths();
	config.scanoutHysteresis = std::chrono::milliseconds(0);
	return config;
}

TEST(HeapClient, ListsHeapsAndFollowsTheSurfacesHint)
{
	FixtureTree tree;
	ServerRunner server(fixtureConfig(tree));
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient app(server.socket());
	HeapClient client(hc_client_create(app.display(), 0));
	ASSERT_TRUE(client) << strerror(errno);

	ASSERT_EQ(hc_client_heap_count(client.get()), 3u);
	std::vector<std::string> names;
	for (size_t i = 0; i < 3; i++)
		names.push_back(hc_client_heap_name(client.get(), i));
	EXPECT_EQ(names, (std::vector<std::string>{ "system", "default_cma_region", "reserved" }));
	EXPECT_TRUE(hc_client_heap_properties(client.get(), 1) & HEAPCOMP_HEAPS_V1_PROPERTIES_CONTIGUOUS);

	/* Rendering: system memory first. */
	ASSERT_NE(hc_client_hinted_heap(client.get(), nullptr, DRM_FORMAT_XRGB8888), nullptr);
	EXPECT_STREQ(hc_client_hinted_heap(client.get(), nullptr, DRM_FORMAT_XRGB8888), "system");
	EXPECT_EQ(hc_client_hinted_heap(client.get(), nullptr, DRM_FORMAT_NV16), nullptr);

	Window window(app, "hinted");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ASSERT_EQ(hc_client_watch_surface(client.get(), window.surface()), 0);
	EXPECT_STREQ(hc_client_hinted_heap(client.get(), window.surface(), DRM_FORMAT_XRGB8888),
		     "system");
	EXPECT_EQ(hc_client_dispatch(client.get()), 0);

	/* Fullscreen, covering the output: the scanout tranche's heap comes first. */
	ASSERT_TRUE(setFullscreen(window, true));
	ShmBuffer full(app.shm, 320, 240);
	full.fill(0xff203040);
	ASSERT_TRUE(window.present(full.buffer(), 320, 240));
	int changed = 0;
	for (int i = 0; i < 100 && !changed; i++) {
		ASSERT_TRUE(app.roundtrip());
		changed = hc_client_dispatch(client.get());
	}
	EXPECT_EQ(changed, 1);
	EXPECT_STREQ(hc_client_hinted_heap(client.get(), window.surface(), DRM_FORMAT_XRGB8888),
		     "default_cma_region");

	/* Forced or ignored hints, for comparison. */
	hc_client_force_heap(client.get(), "system");
	EXPECT_STREQ(hc_client_hinted_heap(client.get(), window.surface(), DRM_FORMAT_XRGB8888),
		     "system");
	hc_client_force_heap(client.get(), nullptr);
	hc_client_unwatch_surface(client.get(), window.surface());
	EXPECT_FALSE(app.error());
}

/* The heap list says which device each heap's memory is for and who pays for it. */
TEST(HeapClient, SaysWhereEachHeapsMemoryComesFrom)
{
	FixtureTree tree;
	displayRegionBoard(tree);
	ServerRunner server(fixtureConfig(tree));
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient app(server.socket());
	HeapClient client(hc_client_create(app.display(), 0));
	ASSERT_TRUE(client) << strerror(errno);

	auto index = [&](const std::string &name) {
		for (size_t i = 0; i < hc_client_heap_count(client.get()); i++)
			if (name == hc_client_heap_name(client.get(), i))
				return i;
		ADD_FAILURE() << "no heap " << name;
		return size_t(-1);
	};
	const size_t display = index("display@94000000");
	EXPECT_STREQ(hc_client_heap_region(client.get(), display), "/reserved-memory/display@94000000");
	ASSERT_EQ(hc_client_heap_device_count(client.get(), display), 1u);
	const char *driver = nullptr;
	EXPECT_STREQ(hc_client_heap_device(client.get(), display, 0, &driver),
		     "/soc/lcd-controller@32e80000");
	EXPECT_STREQ(driver, "imx-lcdif");
	EXPECT_EQ(hc_client_heap_device(client.get(), display, 1, nullptr), nullptr);
	const char *dmem = nullptr;
	EXPECT_EQ(hc_client_heap_accounting(client.get(), display, &dmem), HC_ACCOUNTING_DMEM);
	EXPECT_STREQ(dmem, "cma/display@94000000");

	const size_t system = index("system");
	EXPECT_STREQ(hc_client_heap_region(client.get(), system), "");
	EXPECT_EQ(hc_client_heap_device_count(client.get(), system), 0u);
	EXPECT_EQ(hc_client_heap_accounting(client.get(), system, nullptr), HC_ACCOUNTING_MEMCG);
	EXPECT_EQ(hc_client_heap_accounting(client.get(), index("default_cma_region"), nullptr),
		  HC_ACCOUNTING_NONE);
	/* Past the end: nothing, not a crash. */
	EXPECT_EQ(hc_client_heap_accounting(client.get(), 99, nullptr), HC_ACCOUNTING_UNKNOWN);
}

/* The fixture heaps cannot allocate: NULL, and the error names what was tried. */
TEST(HeapClient, AllocationFailureSaysWhatWasTried)
{
	FixtureTree tree;
	ServerRunner server(fixtureConfig(tree));
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient app(server.socket());
	HeapClient client(hc_client_create(app.display(), HC_CLIENT_NO_DIRECT));
	ASSERT_TRUE(client);
	EXPECT_EQ(hc_buffer_create(client.get(), nullptr, 64, 64, DRM_FORMAT_XRGB8888), nullptr);
	std::string error = hc_client_error(client.get());
	EXPECT_NE(error.find("heapcomp:"), std::string::npos) << error;
	EXPECT_NE(error.find("system"), std::string::npos) << error;
	EXPECT_NE(error.find("default_cma_region"), std::string::npos) << error;

	/* Video: heapcomp is asked with the format's planes; refusals name the rule. */
	EXPECT_EQ(hc_buffer_create(client.get(), nullptr, 64, 64, DRM_FORMAT_NV12), nullptr);
	error = hc_client_error(client.get());
	EXPECT_NE(error.find("heapcomp:"), std::string::npos) << error;
	EXPECT_EQ(hc_buffer_create(client.get(), nullptr, 63, 64, DRM_FORMAT_NV12), nullptr);
	error = hc_client_error(client.get());
	EXPECT_NE(error.find("even width and height"), std::string::npos) << error;
	EXPECT_EQ(hc_buffer_create(client.get(), nullptr, 64, 64, DRM_FORMAT_NV16), nullptr);
	error = hc_client_error(client.get());
	EXPECT_NE(error.find("NV12 and YUV420"), std::string::npos) << error;
	EXPECT_FALSE(app.error());
}

} /* namespace */
} /* namespace heapcomp::test */
