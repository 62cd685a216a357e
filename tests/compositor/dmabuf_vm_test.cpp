/* SPDX-License-Identifier: MIT */
/*
 * Clients sending real dma-bufs (DMA-BUF heaps, udmabuf): their pixels
 * reach the screen, the compositor names the exporter, and everything is
 * released when the client goes. Needs the test VM's kernel; elsewhere a
 * missing device is a skip, in the VM (HEAPCOMP_VM set) a failure.
 */
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <sys/stat.h>
#include <drm_fourcc.h>

#include <bufmgr/allocators.h>
#include <bufmgr/manager.h>
#include <bufmgr/mapping.h>
#include <bufmgr/stats.h>

#include "dmabuf_buffer.h"
#include "dmabuf_feedback.h"
#include "fd_count.h"
#include "server_runner.h"
#include "surface.h"
#include "test_client.h"
#include "vm_env.h"

namespace heapcomp::test {
namespace {

struct DmabufSource {
	std::string name;
	std::string exporter;
	std::function<bufmgr::Result<std::unique_ptr<bufmgr::Allocator>>()> create;
};

std::vector<DmabufSource> sources()
{
	return {
		{ "SystemHeap", "system",
		  [] { return bufmgr::createDmaHeapAllocator("/dev/dma_heap/system", false); } },
		{ "CmaHeap", "default_cma_region",
		  [] {
			  return bufmgr::createDmaHeapAllocator("/dev/dma_heap/default_cma_region", true);
		  } },
		{ "Udmabuf", "udmabuf", [] { return bufmgr::createUdmabufAllocator(); } },
	};
}

class DmabufClient : public testing::TestWithParam<DmabufSource>
{
};

uint64_t liveClientBuffers(comp::Server &server, const std::string &exporter)
{
	auto snapshot = server.bufferManager().stats().snapshot();
	const bufmgr::SourceSnapshot *source = snapshot.find("client:" + exporter);
	return source ? source->liveBuffers : 0;
}

TEST_P(DmabufClient, PixelsReachTheScreen)
{
	const DmabufSource &param = GetParam();
	auto allocator = param.create();
	if (!allocator)
		SKIP_OR_FAIL_WITHOUT(param.name + ": " + allocator.error().message());

	ServerRunner server(ServerRunner::realClockConfig());
	ASSERT_TRUE(server.ok()) << server.error();
	ASSERT_TRUE(server.drawFrames(2));
	int fds = countOpenFds();
	{
		TestClient client(server.socket());
		ASSERT_TRUE(client.dmabuf) << "the renderer reads no dma-bufs";

		auto buffer = (*allocator)->allocate(bufmgr::AllocationRequest::image(
			64, 48, DRM_FORMAT_XRGB8888, bufmgr::Usage::Render, "dmabuf-client"));
		ASSERT_TRUE(buffer) << buffer.error().message();
		ASSERT_TRUE(fill(*buffer, 0xff00ff00, 0xffff00ff));

		Window window(client, "dmabuf");
		ASSERT_TRUE(window.waitConfigure());
		window.ack();
		Proxy<wl_buffer> wlBuffer = wrap(client, *buffer);
		ASSERT_TRUE(window.present(wlBuffer, 64, 48)) << "no frame (import failed?)";
		comp::Screenshot shot = server.screenshot();
		EXPECT_EQ(shot.at(1, 1), 0xff00ff00u);
		EXPECT_EQ(shot.at(62, 22), 0xff00ff00u);
		EXPECT_EQ(shot.at(1, 25), 0xffff00ffu);
		EXPECT_EQ(shot.at(62, 47), 0xffff00ffu);
		EXPECT_EQ(shot.at(64, 10), 0xff000000u);

		/* The compositor knows where the memory came from. */
		auto exporter = server.run([](comp::Server &s) {
			comp::View *view = s.findView("dmabuf");
			const comp::ClientBuffer *b = view ? view->surface()->buffer() : nullptr;
			return b ? b->exporter() : std::string();
		});
		EXPECT_EQ(exporter, param.exporter);
		EXPECT_EQ(server.run([&](comp::Server &s) { return liveClientBuffers(s, param.exporter); }),
			  1u);

		/* New content in the same buffer shows after a commit with damage. */
		ASSERT_TRUE(fill(*buffer, 0xff0000ff, 0xff0000ff));
		ASSERT_TRUE(window.present(wlBuffer, 64, 48));
		EXPECT_EQ(server.screenshot().at(30, 30), 0xff0000ffu);

		wlBuffer.reset();
		ASSERT_TRUE(client.roundtrip());
	}
	ASSERT_TRUE(server.waitFrames(3));
	EXPECT_EQ(countOpenFds(), fds);
	EXPECT_EQ(server.run([&](comp::Server &s) { return liveClientBuffers(s, param.exporter); }),
		  0u);
}

/*
 * Buffers as GL renders them (rows bottom first, the y_invert flag) and
 * with an implicit modifier (GBM without modifiers) show upright.
 */
TEST(DmabufVm, YInvertedAndImplicitModifierBuffers)
{
	auto allocator = bufmgr::createUdmabufAllocator();
	if (!allocator) {
		if (inVm())
			FAIL() << allocator.error().message();
		GTEST_SKIP() << allocator.error().message();
	}
	ServerRunner server(ServerRunner::realClockConfig());
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_TRUE(client.dmabuf);
	auto buffer = (*allocator)->allocate(bufmgr::AllocationRequest::image(
		64, 48, DRM_FORMAT_XRGB8888, bufmgr::Usage::Render, "y-invert"));
	ASSERT_TRUE(buffer) << buffer.error().message();
	ASSERT_TRUE(fill(*buffer, 0xff00ff00, 0xffff00ff));

	Window window(client, "y-invert");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	Proxy<wl_buffer> inverted = wrap(client, *buffer, ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_Y_INVERT);
	ASSERT_TRUE(window.present(inverted, 64, 48)) << "no frame (import failed?)";
	comp::Screenshot shot = server.screenshot();
	/* The buffer's last row is the top of the window. */
	EXPECT_EQ(shot.at(1, 1), 0xffff00ffu);
	EXPECT_EQ(shot.at(62, 22), 0xffff00ffu);
	EXPECT_EQ(shot.at(1, 25), 0xff00ff00u);
	EXPECT_EQ(shot.at(62, 47), 0xff00ff00u);

	Proxy<wl_buffer> implicit = wrap(client, *buffer, 0, DRM_FORMAT_MOD_INVALID);
	ASSERT_TRUE(window.present(implicit, 64, 48)) << "implicit modifier refused";
	shot = server.screenshot();
	EXPECT_EQ(shot.at(1, 1), 0xff00ff00u);
	EXPECT_EQ(shot.at(62, 47), 0xffff00ffu);

	/* Interlaced content has no path to the screen: refused, not misdrawn. */
	Proxy<zwp_linux_buffer_params_v1> params(zwp_linux_dmabuf_v1_create_params(client.dmabuf));
	const bufmgr::BufferPlane &plane = buffer->plane(0);
	zwp_linux_buffer_params_v1_add(params, plane.fd.get(), 0, plane.offset, plane.stride, 0, 0);
	bool failed = false;
	static const zwp_linux_buffer_params_v1_listener listener = {
		.created = [](void *, zwp_linux_buffer_params_v1 *, wl_buffer *) {},
		.failed = [](void *data, zwp_linux_buffer_params_v1 *) { *static_cast<bool *>(data) = true; },
	};
	zwp_linux_buffer_params_v1_add_listener(params, &listener, &failed);
	zwp_linux_buffer_params_v1_create(params, 64, 48, DRM_FORMAT_XRGB8888,
					  ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_INTERLACED);
	ASSERT_TRUE(client.dispatchUntil([&] { return failed; }));
}

/*
 * A dma-buf larger than --limit buffer-size is refused as an import that
 * failed; one over --limit dmabuf-mib disconnects its client only.
 */
TEST_P(DmabufClient, LimitsRefuseTheBufferNotTheOthers)
{
	const DmabufSource &param = GetParam();
	auto allocator = param.create();
	if (!allocator)
		SKIP_OR_FAIL_WITHOUT(param.name + ": " + allocator.error().message());
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.limits.bufferSize = 256;
	config.limits.dmaBufMib = 1;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	ASSERT_TRUE(server.drawFrames(1));
	const int fds = countOpenFds();

	auto image = [&](uint32_t width, uint32_t height) {
		return (*allocator)->allocate(bufmgr::AllocationRequest::image(
			width, height, DRM_FORMAT_XRGB8888, bufmgr::Usage::Render, "limits"));
	};
	{
		TestClient client(server.socket());
		ASSERT_TRUE(client.dmabuf);
		auto wide = image(257, 16);
		ASSERT_TRUE(wide) << wide.error().message();
		Proxy<wl_buffer> refused = wrap(client, *wide);
		auto error = client.expectError();
		ASSERT_TRUE(error);
		/* On the params, which wrap() destroyed: libwayland names no interface then. */
		EXPECT_NE(error->interface, "wl_display");
		EXPECT_EQ(error->code, uint32_t(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER));
	}
	{
		/* 256x256 XRGB is 256 KiB or a little more: the fifth is over 1 MiB. */
		TestClient client(server.socket());
		TestClient bystander(server.socket());
		std::vector<bufmgr::Buffer> buffers;
		std::vector<Proxy<wl_buffer>> wlBuffers;
		uint64_t sent = 0;
		while (!client.error() && buffers.size() < 8) {
			auto buffer = image(256, 256);
			ASSERT_TRUE(buffer) << buffer.error().message();
			sent += buffer->size();
			wlBuffers.push_back(wrap(client, *buffer));
			buffers.push_back(std::move(*buffer));
			client.roundtrip();
			EXPECT_EQ(bool(client.error()), sent > (1u << 20)) << sent << " bytes sent";
		}
		auto error = client.expectError();
		ASSERT_TRUE(error);
		EXPECT_EQ(error->interface, "wl_display");
		EXPECT_EQ(error->code, uint32_t(WL_DISPLAY_ERROR_NO_MEMORY));
		EXPECT_TRUE(bystander.roundtrip());
	}
	ASSERT_TRUE(server.waitFrames(2));
	EXPECT_EQ(countOpenFds(), fds);
	EXPECT_EQ(server.run([&](comp::Server &s) { return liveClientBuffers(s, param.exporter); }),
		  0u);
}

INSTANTIATE_TEST_SUITE_P(Exporters, DmabufClient, testing::ValuesIn(sources()),
			 [](const testing::TestParamInfo<DmabufSource> &info) { return info.param.name; });

TEST(DmabufVm, FeedbackNamesTheRenderNode)
{
	struct stat st;
	if (stat("/dev/dri", &st) < 0) {
		if (inVm())
			FAIL() << "no /dev/dri in the VM";
		GTEST_SKIP() << "no /dev/dri";
	}
	ServerRunner server(ServerRunner::realClockConfig());
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_TRUE(client.dmabuf);
	DmabufFeedback feedback;
	ASSERT_TRUE(receiveDefaultFeedback(client, feedback));
	EXPECT_NE(feedback.mainDevice, dev_t(0));
	ASSERT_FALSE(feedback.tranches.empty());
	EXPECT_EQ(feedback.tranches.back().device, feedback.mainDevice);
}

} /* namespace */
} /* namespace heapcomp::test */
