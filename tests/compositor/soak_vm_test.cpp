/* SPDX-License-Identifier: MIT */
/*
 * The soak: thousands of clients connect, allocate (wl_shm, a system-heap
 * dma-buf of their own, a CMA buffer heapcomp allocates for them),
 * commit, wait for the frame and go — half cleanly, half by cutting the
 * connection mid-stream. The compositor's fd count, resident memory and
 * bufmgr's live bytes are sampled between clients and must stay flat;
 * the three curves are written as a PNG and a CSV next to the test's
 * results. HEAPCOMP_SOAK_CYCLES sets the number of clients (10000).
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <drm_fourcc.h>
#include <fstream>
#include <sys/socket.h>
#include <unistd.h>

#include <bufmgr/allocators.h>
#include <bufmgr/stats.h>

#include "fd_count.h"
#include "heap_hints_events.h"
#include "render/png.h"
#include "server_runner.h"
#include "test_client.h"
#include "vm_env.h"

/* Freed memory quarantined by ASan would read as growth: keep it small. */
extern "C" const char *__asan_default_options()
{
	return "quarantine_size_mb=8";
}

namespace heapcomp::test {
namespace {

struct Sample {
	uint64_t cycle = 0;
	uint64_t fds = 0;
	uint64_t rssKib = 0;
	uint64_t liveBytes = 0;
};

uint64_t rssKib()
{
	std::ifstream statm("/proc/self/statm");
	uint64_t size = 0, resident = 0;
	statm >> size >> resident;
	return resident * uint64_t(sysconf(_SC_PAGESIZE)) / 1024;
}

/* Every buffer bufmgr counts as live: the outputs', clients' imports, heap allocations. */
uint64_t liveBytes(ServerRunner &server)
{
	return server.run([](comp::Server &s) {
		uint64_t total = 0;
		for (const auto &source : s.bufferManager().stats().snapshot().sources)
			total += source.liveBytes;
		return total;
	});
}

std::string outputDir()
{
	const char *out = getenv("HEAPCOMP_VM_OUT");
	return out ? std::string(out) + "/" : testing::TempDir();
}

/* Three stacked line plots, each scaled to its own range, with a frame and mid line. */
bool plot(const std::vector<Sample> &samples, const std::string &path)
{
	constexpr uint32_t kWidth = 900, kPanel = 200, kMargin = 20;
	const uint32_t height = 3 * kPanel + 4 * kMargin;
	std::vector<uint32_t> pixels(size_t(kWidth) * height, 0xffffffff);
	auto set = [&](int x, int y, uint32_t colour) {
		if (x >= 0 && y >= 0 && uint32_t(x) < kWidth && uint32_t(y) < height)
			pixels[size_t(y) * kWidth + uint32_t(x)] = colour;
	};
	const uint32_t colours[3] = { 0xffc03030, 0xff3060c0, 0xff30a040 };
	for (int panel = 0; panel < 3; panel++) {
		auto value = [&](const Sample &s) {
			return double(panel == 0 ? s.fds : panel == 1 ? s.rssKib : s.liveBytes);
		};
		double lo = value(samples[0]), hi = lo;
		for (const Sample &s : samples) {
			lo = std::min(lo, value(s));
			hi = std::max(hi, value(s));
		}
		/* A flat curve sits mid-panel; a range of at least 1 keeps it drawable. */
		if (hi - lo < 1) {
			lo -= 1;
			hi += 1;
		}
		const int top = int(kMargin + panel * (kPanel + kMargin));
		for (uint32_t x = kMargin; x < kWidth - kMargin; x++) {
			set(int(x), top, 0xff000000);
			set(int(x), top + int(kPanel), 0xff000000);
			if (x % 8 < 4)
				set(int(x), top + int(kPanel) / 2, 0xffb0b0b0);
		}
		for (uint32_t y = 0; y <= kPanel; y++) {
			set(int(kMargin), top + int(y), 0xff000000);
			set(int(kWidth - kMargin), top + int(y), 0xff000000);
		}
		auto point = [&](size_t i) {
			double fx = samples.size() > 1 ? double(i) / double(samples.size() - 1) : 0;
			double fy = (value(samples[i]) - lo) / (hi - lo);
			return std::pair<int, int>(int(kMargin + fx * (kWidth - 2 * kMargin)),
						   top + int((1 - fy) * kPanel));
		};
		for (size_t i = 1; i < samples.size(); i++) {
			auto [x0, y0] = point(i - 1);
			auto [x1, y1] = point(i);
			int steps = std::max(std::abs(x1 - x0), std::abs(y1 - y0)) + 1;
			for (int t = 0; t <= steps; t++) {
				int x = x0 + (x1 - x0) * t / steps, y = y0 + (y1 - y0) * t / steps;
				for (int d = 0; d < 2; d++)
					set(x, y + d, colours[panel]);
			}
		}
	}
	return bool(comp::writePng(path, kWidth, height, pixels));
}

TEST(Soak, ClientsComeAndGoAndNothingGrows)
{
	auto systemHeap = bufmgr::createDmaHeapAllocator("/dev/dma_heap/system", false);
	if (!systemHeap)
		SKIP_OR_FAIL_WITHOUT("no system heap: " + systemHeap.error().message());
	const char *env = getenv("HEAPCOMP_SOAK_CYCLES");
	const uint64_t cycles = env ? std::strtoull(env, nullptr, 10) : 10000;
	const uint64_t every = std::max<uint64_t>(cycles / 100, 1);

	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	std::vector<Sample> samples;
	auto sample = [&](uint64_t cycle) {
		/* Between clients: the last one's hang-up handled (it may come a loop turn later). */
		const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
		while (server.run([](comp::Server &s) { return s.numClients(); }) != 0)
			ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "a client never left";
		/* Its last buffer stays on screen until a frame without it. */
		ASSERT_TRUE(server.drawFrames(2));
		/* Counted on the server's thread: nothing of it is half-way through a file. */
		auto [fds, list] = server.run([](comp::Server &) {
			return std::pair(uint64_t(countOpenFds()), describeOpenFds());
		});
		if (!samples.empty() && fds != samples.back().fds)
			printf("soak: %llu fds after %llu clients:\n%s", (unsigned long long)fds,
			       (unsigned long long)cycle, list.c_str());
		samples.push_back({ cycle, fds, rssKib(), liveBytes(server) });
	};
	sample(0);

	/* One client's life; everything of it is gone when this returns. */
	auto life = [&](uint64_t i) {
		HeapsClient c(server.socket());
		ASSERT_TRUE(c.client.dmabuf && c.heaps) << "cycle " << i;
		Window window(c.client, "soak");
		ASSERT_TRUE(window.waitConfigure()) << "cycle " << i;
		window.ack();
		std::optional<ShmBuffer> shm;
		std::optional<bufmgr::Buffer> own;
		HeapAllocation lent;
		Proxy<heapcomp_heap_buffer_v1> lentObject;
		Proxy<zwp_linux_buffer_params_v1> params;
		Proxy<wl_buffer> buffer;
		const uint32_t kind = i % 3;
		if (kind == 0) {
			shm.emplace(c.client.shm, 64, 48);
			shm->fill(0xff000000 | uint32_t(i));
		} else {
			if (kind == 1) {
				auto b = (*systemHeap)->allocate(bufmgr::AllocationRequest::image(
					64, 48, DRM_FORMAT_XRGB8888, bufmgr::Usage::Render, "soak"));
				ASSERT_TRUE(b) << b.error().message();
				own = std::move(*b);
			} else {
				lentObject.reset(c.allocate(c.heapId("default_cma_region"), 64, 48));
				lent.listen(lentObject);
				ASSERT_TRUE(c.client.dispatchUntil([&] { return lent.done(); }));
				ASSERT_TRUE(lent.ready) << lent.message;
			}
			params.reset(zwp_linux_dmabuf_v1_create_params(c.client.dmabuf));
			int fd = own ? own->plane(0).fd.get() : lent.planes[0].fd.get();
			uint32_t stride = own ? own->plane(0).stride : lent.planes[0].stride;
			zwp_linux_buffer_params_v1_add(params, fd, 0, 0, stride, 0, 0);
			buffer.reset(zwp_linux_buffer_params_v1_create_immed(params, 64, 48,
									     DRM_FORMAT_XRGB8888, 0));
		}
		ASSERT_TRUE(window.present(shm ? shm->buffer() : buffer.get(), 64, 48))
			<< "cycle " << i;
		/* Every other client goes mid-stream: requests sent, connection cut. */
		if (i % 2) {
			wl_surface_attach(window.surface(), nullptr, 0, 0);
			wl_surface_commit(window.surface());
			wl_display_flush(c.client.display());
			shutdown(wl_display_get_fd(c.client.display()), SHUT_RDWR);
		}
	};

	for (uint64_t i = 0; i < cycles; i++) {
		life(i);
		if (HasFatalFailure())
			return;
		if ((i + 1) % every == 0)
			sample(i + 1);
	}

	/* The curves, for people; the checks below, for the run. */
	const std::string base = outputDir() + "soak";
	ASSERT_TRUE(plot(samples, base + ".png")) << base << ".png";
	std::ofstream csv(base + ".csv");
	csv << "cycle,fds,rss_kib,bufmgr_live_bytes\n";
	for (const Sample &s : samples)
		csv << s.cycle << "," << s.fds << "," << s.rssKib << "," << s.liveBytes << "\n";
	const Sample &start = samples.front();
	/* Past warm-up (first tenth): caches, pools and the allocator's arenas filled. */
	const Sample &warm = samples[samples.size() / 10];
	const Sample &end = samples.back();
	printf("soak: %llu clients; fds %llu -> %llu -> %llu, RSS %llu -> %llu -> %llu KiB, "
	       "bufmgr live %llu -> %llu -> %llu B (start, after warm-up, end); %s.png\n",
	       (unsigned long long)cycles, (unsigned long long)start.fds,
	       (unsigned long long)warm.fds, (unsigned long long)end.fds,
	       (unsigned long long)start.rssKib, (unsigned long long)warm.rssKib,
	       (unsigned long long)end.rssKib, (unsigned long long)start.liveBytes,
	       (unsigned long long)warm.liveBytes, (unsigned long long)end.liveBytes, base.c_str());
	/* Buffers: never more than with no client at all. */
	for (const Sample &s : samples)
		EXPECT_EQ(s.liveBytes, start.liveBytes) << "after " << s.cycle << " clients";
	/* fds: the first clients open what stays open (heap devices); then not one more. */
	for (size_t i = samples.size() / 10; i < samples.size(); i++)
		EXPECT_EQ(samples[i].fds, warm.fds) << "after " << samples[i].cycle << " clients";
	EXPECT_LE(warm.fds, start.fds + 2) << "fds opened by the first clients";
	/* Resident memory: no growth past warm-up beyond noise (4 MiB). */
	EXPECT_LE(end.rssKib, warm.rssKib + 4096) << "RSS grew from " << warm.rssKib << " KiB";
}

} /* namespace */
} /* namespace heapcomp::test */
