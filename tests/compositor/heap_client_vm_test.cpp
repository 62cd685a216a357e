/* SPDX-License-Identifier: MIT */
/*
 * libheapcomp-client on the VM's real heaps: a client that may open
 * /dev/dma_heap allocates from the hinted heap itself; one that cannot
 * (a sandbox without the heap devices, made here with a mount namespace
 * that hides them) gets the same heap's memory through heapcomp.
 */
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <drm_fourcc.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <heapcomp/heap_client.h>

#include <bufmgr/exporter.h>

#include "colour.h"
#include "render/yuv_convert.h"
#include "server_runner.h"
#include "test_client.h"
#include "vm_env.h"

namespace heapcomp::test {
namespace {

struct ClientDeleter {
	void operator()(hc_client *client) const { hc_client_destroy(client); }
};
struct BufferDeleter {
	void operator()(hc_buffer *buffer) const { hc_buffer_destroy(buffer); }
};
using HeapClient = std::unique_ptr<hc_client, ClientDeleter>;
using HeapBuffer = std::unique_ptr<hc_buffer, BufferDeleter>;

class HeapClientVm : public testing::Test
{
protected:
	void SetUp() override
	{
		if (access("/dev/dma_heap/system", R_OK) != 0)
			SKIP_OR_FAIL_WITHOUT("no /dev/dma_heap/system");
	}
};

TEST_F(HeapClientVm, DirectFromTheHintedHeapAndOnScreen)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient app(server.socket());
	HeapClient client(hc_client_create(app.display(), 0));
	ASSERT_TRUE(client) << strerror(errno);
	HeapBuffer buffer(hc_buffer_create(client.get(), nullptr, 64, 48, DRM_FORMAT_XRGB8888));
	ASSERT_TRUE(buffer) << hc_client_error(client.get());
	EXPECT_EQ(hc_buffer_path(buffer.get()), HC_ALLOC_DIRECT);
	EXPECT_STREQ(hc_buffer_heap(buffer.get()), "system");
	auto info = bufmgr::identifyDmaBuf(hc_buffer_fd(buffer.get()));
	ASSERT_TRUE(info) << info.error().message();
	EXPECT_EQ(info->exporter, "system");

	auto *pixels = static_cast<uint8_t *>(hc_buffer_begin_cpu_access(buffer.get()));
	ASSERT_NE(pixels, nullptr) << hc_client_error(client.get());
	for (uint32_t y = 0; y < 48; y++)
		for (uint32_t x = 0; x < 64; x++)
			reinterpret_cast<uint32_t *>(pixels + y * hc_buffer_stride(buffer.get()))[x] =
				0xff336699;
	ASSERT_EQ(hc_buffer_end_cpu_access(buffer.get()), 0);

	MappedWindow win(app, "library buffer", 64, 48, 0xff000000);
	ASSERT_TRUE(win.ok);
	ASSERT_TRUE(win.window.present(hc_buffer_wl_buffer(buffer.get()), 64, 48));
	auto [x, y] = server.run([](comp::Server &s) {
		comp::View *view = s.findView("library buffer");
		return std::pair<int32_t, int32_t>(view ? view->x() : -1, view ? view->y() : -1);
	});
	ASSERT_GE(x, 0);
	EXPECT_EQ(server.screenshot().at(uint32_t(x) + 5, uint32_t(y) + 5), 0xff336699u);
	EXPECT_FALSE(app.error());
}

/*
 * Video buffers, NV12 and YUV420 in one dma-buf, laid out by the library
 * (direct) or by heapcomp (allocate): on screen as the renderer converts
 * them, so every plane was where the library said.
 */
TEST_F(HeapClientVm, VideoFormatsDirectAndThroughHeapcomp)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient app(server.socket());
	/* BT.601 limited range: a red. */
	constexpr uint8_t kY = 82, kU = 90, kV = 240;
	struct Case {
		uint32_t format;
		uint32_t flags;
		hc_alloc_path path;
	};
	const Case cases[] = {
		{ DRM_FORMAT_NV12, 0, HC_ALLOC_DIRECT },
		{ DRM_FORMAT_YUV420, 0, HC_ALLOC_DIRECT },
		{ DRM_FORMAT_NV12, HC_CLIENT_NO_DIRECT, HC_ALLOC_COMPOSITOR },
		{ DRM_FORMAT_YUV420, HC_CLIENT_NO_DIRECT, HC_ALLOC_COMPOSITOR },
	};
	for (const Case &c : cases) {
		const bool nv12 = c.format == DRM_FORMAT_NV12;
		const std::string title = std::string(nv12 ? "nv12" : "yuv420") +
					  (c.path == HC_ALLOC_DIRECT ? " direct" : " heapcomp");
		SCOPED_TRACE(title);
		HeapClient client(hc_client_create(app.display(), c.flags));
		ASSERT_TRUE(client) << strerror(errno);
		HeapBuffer buffer(hc_buffer_create(client.get(), nullptr, 64, 48, c.format));
		ASSERT_TRUE(buffer) << hc_client_error(client.get());
		EXPECT_EQ(hc_buffer_path(buffer.get()), c.path);
		ASSERT_EQ(hc_buffer_plane_count(buffer.get()), nv12 ? 2u : 3u);
		EXPECT_EQ(hc_buffer_plane_stride(buffer.get(), 3), 0u);

		auto *base = static_cast<uint8_t *>(hc_buffer_begin_cpu_access(buffer.get()));
		ASSERT_NE(base, nullptr) << hc_client_error(client.get());
		auto plane = [&](uint32_t i, uint32_t row) {
			return base + hc_buffer_plane_offset(buffer.get(), i) +
			       size_t(row) * hc_buffer_plane_stride(buffer.get(), i);
		};
		for (uint32_t y = 0; y < 48; y++)
			memset(plane(0, y), kY, 64);
		for (uint32_t y = 0; y < 24; y++) {
			for (uint32_t x = 0; x < 32; x++) {
				if (nv12) {
					plane(1, y)[2 * x] = kU;
					plane(1, y)[2 * x + 1] = kV;
				} else {
					plane(1, y)[x] = kU;
					plane(2, y)[x] = kV;
				}
			}
		}
		ASSERT_EQ(hc_buffer_end_cpu_access(buffer.get()), 0);

		MappedWindow win(app, title, 64, 48, 0xff000000);
		ASSERT_TRUE(win.ok);
		ASSERT_TRUE(win.window.present(hc_buffer_wl_buffer(buffer.get()), 64, 48));
		auto [x, y] = server.run([&title](comp::Server &s) {
			comp::View *view = s.findView(title);
			return std::pair<int32_t, int32_t>(view ? view->x() : -1, view ? view->y() : -1);
		});
		ASSERT_GE(x, 0);
		/* What the compositor's own conversion makes of one such pixel. */
		const uint8_t luma[4] = { kY, kY, kY, kY }, u[1] = { kU }, v[1] = { kV };
		const uint8_t uv[2] = { kU, kV };
		comp::YuvImage one{ c.format, 2, 2, {}, {} };
		one.planes[0] = luma;
		one.strides[0] = 2;
		one.planes[1] = nv12 ? uv : u;
		one.strides[1] = nv12 ? 2 : 1;
		one.planes[2] = v;
		one.strides[2] = 1;
		uint32_t expected[4] = {};
		comp::convertYuv(one, comp::Rect{ 0, 0, 2, 2 }, expected, 8);
		const uint32_t shown = server.screenshot().at(uint32_t(x) + 5, uint32_t(y) + 5);
		EXPECT_TRUE(near(shown, expected[0] | 0xff000000u, 3))
			<< std::hex << shown << " against " << expected[0];
		EXPECT_GT((shown >> 16) & 0xff, 200u) << std::hex << shown;
		EXPECT_FALSE(app.error());
	}
}

/*
 * In a child whose mount namespace hides /dev/dma_heap: the direct path
 * fails and heapcomp allocates the hinted heap's memory instead. The
 * child's verdict comes back as its exit status and a line on a pipe.
 */
TEST_F(HeapClientVm, WithoutTheHeapDevicesHeapcompAllocates)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	int report[2];
	ASSERT_EQ(pipe(report), 0);
	const std::string socket = server.socket();
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(report[0]);
		auto say = [&](const std::string &text, int status) {
			ssize_t n = write(report[1], text.data(), text.size());
			_exit(n == ssize_t(text.size()) ? status : 9);
		};
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
		    mount("tmpfs", "/dev/dma_heap", "tmpfs", 0, nullptr) != 0)
			say(std::string("hiding the heaps: ") + strerror(errno), 2);
		if (access("/dev/dma_heap/system", F_OK) == 0)
			say("the heap is still visible", 3);
		wl_display *display = wl_display_connect(socket.c_str());
		if (!display)
			say("connect failed", 4);
		hc_client *client = hc_client_create(display, 0);
		if (!client)
			say("no heap client", 5);
		hc_buffer *buffer = hc_buffer_create(client, nullptr, 64, 48, DRM_FORMAT_XRGB8888);
		if (!buffer)
			say(std::string("no buffer: ") + hc_client_error(client), 6);
		auto info = bufmgr::identifyDmaBuf(hc_buffer_fd(buffer));
		std::string verdict = std::string(hc_buffer_path(buffer) == HC_ALLOC_COMPOSITOR
							  ? "compositor"
							  : "direct") +
				      " " + hc_buffer_heap(buffer) + " " +
				      (info ? info->exporter : "unidentified");
		hc_buffer_destroy(buffer);
		hc_client_destroy(client);
		wl_display_disconnect(display);
		say(verdict, 0);
	}
	close(report[1]);
	std::string verdict;
	char chunk[256];
	ssize_t n;
	while ((n = read(report[0], chunk, sizeof(chunk))) > 0)
		verdict.append(chunk, size_t(n));
	close(report[0]);
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << verdict;
	EXPECT_EQ(verdict, "compositor system system");
}

} /* namespace */
} /* namespace heapcomp::test */
