/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Where the DRM backend's tests start: heapcomp on the VM's VKMS at a
 * small mode, a client, and what the display read through writeback.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <unistd.h>

#include <drm_fourcc.h>

#include <bufmgr/allocators.h>

#include "backend/drm/drm_backend.h"
#include "dmabuf_buffer.h"
#include "log.h"
#include "presentation_record.h"
#include "seat_daemons.h"
#include "server_runner.h"
#include "test_client.h"
#include "vm_env.h"

namespace heapcomp::test {

/* A mode every VKMS offers, small enough for the emulated CPU. */
constexpr uint32_t kWidth = 640;
constexpr uint32_t kHeight = 480;

constexpr uint32_t kRed = 0xffff0000u;
constexpr uint32_t kGreen = 0xff00ff00u;
constexpr uint32_t kBlue = 0xff0000ffu;
constexpr uint32_t kBlack = 0xff000000u;

/* device: the KMS node; empty: the first with a connector. */
inline comp::ServerConfig drmConfig(bool requiresContiguous = false, const std::string &device = {},
				    uint32_t width = kWidth, uint32_t height = kHeight)
{
	comp::ServerConfig config = ServerRunner::realClockConfig();
	config.headless.scanoutRequiresContiguous = requiresContiguous;
	config.createBackend = [requiresContiguous, device, width,
				height](wl_event_loop *loop, bufmgr::BufferManager &manager,
						    const comp::ServerConfig &,
						    comp::HeadlessBackend::BufferDropHook dropHook) {
		comp::DrmConfig drm;
		drm.device = device;
		drm.width = width;
		drm.height = height;
		drm.scanoutRequiresContiguous = requiresContiguous;
		return std::make_unique<comp::DrmBackend>(loop, manager, drm, std::move(dropHook));
	};
	return config;
}

/* One colour, opaque: what the statistics overlay is to the backend. */
class SolidOverlay : public comp::OverlayLayer
{
public:
	SolidOverlay(comp::Rect rect, uint32_t colour)
		: rect_(rect), pixels_(size_t(rect.width) * size_t(rect.height), colour)
	{
	}
	bool visible() const override { return visible_; }
	comp::Rect rect() const override { return rect_; }
	Image image() const override
	{
		return Image{ pixels_.data(), uint32_t(rect_.width), uint32_t(rect_.height),
			      generation_, true, damage_ };
	}
	Cost cost() const override { return { generation_, 0 }; }
	bool setShown(bool shown) override
	{
		visible_ = shown;
		return true;
	}
	void fill(uint32_t colour) { paint({ 0, 0, rect_.width, rect_.height }, colour); }
	/* box: in the image's pixels. */
	void paint(comp::Rect box, uint32_t colour)
	{
		for (int32_t y = box.y; y < box.bottom(); y++)
			std::fill_n(pixels_.begin() + y * rect_.width + box.x, box.width, colour);
		damage_.insert(damage_.begin(), box);
		damage_.resize(std::min<size_t>(damage_.size(), 4));
		generation_++;
	}
	uint32_t at(int32_t x, int32_t y) const { return pixels_[size_t(y * rect_.width + x)]; }
	bool visible_ = true;

private:
	comp::Rect rect_;
	std::vector<uint32_t> pixels_;
	uint64_t generation_ = 1;
	std::vector<comp::Rect> damage_;
};

/* Allocations the compositor's buffer manager made, from every source. */
inline uint64_t allocationCount(comp::Server &server)
{
	uint64_t count = 0;
	for (const bufmgr::SourceSnapshot &source : server.bufferManager().stats().snapshot().sources)
		count += source.allocations;
	return count;
}

/* Buffers the compositor's buffer manager holds now, from every source. */
inline uint64_t liveBufferCount(comp::Server &server)
{
	uint64_t count = 0;
	for (const bufmgr::SourceSnapshot &source : server.bufferManager().stats().snapshot().sources)
		count += source.liveBuffers;
	return count;
}

inline bool haveKms()
{
	return bool(comp::kms::openKmsDevice(""));
}

inline std::string cmaHeapPath()
{
	for (const char *name : { "default_cma_region", "reserved", "linux,cma" }) {
		std::string path = std::string("/dev/dma_heap/") + name;
		if (access(path.c_str(), R_OK) == 0)
			return path;
	}
	return {};
}

/* Keeps what the compositor logs, for the test to look through. */
class LogRecord
{
public:
	LogRecord()
	{
		comp::setLogSink([this](comp::LogLevel, std::string_view line) {
			std::lock_guard lock(mutex_);
			lines_.emplace_back(line);
		});
	}
	~LogRecord() { comp::setLogSink(nullptr); }

	size_t count(const std::string &text) const
	{
		std::lock_guard lock(mutex_);
		return size_t(std::count_if(lines_.begin(), lines_.end(), [&](const std::string &l) {
			return l.find(text) != std::string::npos;
		}));
	}
	/* Whether one line holds every word. */
	bool has(std::initializer_list<std::string> words) const
	{
		std::lock_guard lock(mutex_);
		return std::any_of(lines_.begin(), lines_.end(), [&](const std::string &line) {
			return std::all_of(words.begin(), words.end(), [&](const std::string &w) {
				return line.find(w) != std::string::npos;
			});
		});
	}
	std::string all() const
	{
		std::lock_guard lock(mutex_);
		std::string text;
		for (const std::string &line : lines_)
			text += line + "\n";
		return text;
	}

private:
	mutable std::mutex mutex_;
	std::vector<std::string> lines_;
};

class DrmBackendTest : public testing::Test
{
protected:
	void SetUp() override
	{
		if (!haveKms())
			SKIP_OR_FAIL_WITHOUT("no KMS device with a connector");
	}

	void start(bool requiresContiguous = false, const std::string &device = {})
	{
		startWithMode(kWidth, kHeight, requiresContiguous, device);
	}

	void startWithMode(uint32_t width, uint32_t height, bool requiresContiguous = false,
			   const std::string &device = {})
	{
		/* libseat's own builtin seatd would fork this threaded process. */
		if (!seatd) {
			seatd = std::make_unique<Seatd>();
			ASSERT_TRUE(seatd->ok()) << seatd->error();
		}
		server = std::make_unique<ServerRunner>(drmConfig(requiresContiguous, device, width, height));
		ASSERT_TRUE(server->ok()) << server->error();
		client = std::make_unique<TestClient>(server->socket());
	}

	/* A writeback of the next refresh, asked for; invalid if the output cannot. */
	std::future<bufmgr::Result<comp::Screenshot>> requestCapture()
	{
		auto promise = std::make_shared<std::promise<bufmgr::Result<comp::Screenshot>>>();
		auto future = promise->get_future();
		bool can = server->run([promise](comp::Server &s) {
			return s.backend().outputs()[0]->captureNextFrame(
				[promise](bufmgr::Result<comp::Screenshot> shot) {
					promise->set_value(std::move(shot));
				});
		});
		return can ? std::move(future) : std::future<bufmgr::Result<comp::Screenshot>>();
	}

	/* What the display controller read at its next refresh, through writeback. */
	comp::Screenshot capture()
	{
		auto future = requestCapture();
		const bool can = future.valid();
		EXPECT_TRUE(can) << "no writeback connector";
		if (!can || future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
			ADD_FAILURE() << "no writeback capture in 30 s";
			return {};
		}
		auto shot = future.get();
		EXPECT_TRUE(shot) << shot.error().message();
		return shot ? std::move(*shot) : comp::Screenshot();
	}

	comp::DrmStats drmStats()
	{
		return server->run([](comp::Server &s) {
			return static_cast<comp::DrmBackend &>(s.backend()).stats();
		});
	}

	comp::RepaintStats repaintStats()
	{
		return server->run([](comp::Server &s) { return s.repaintStats(); });
	}

	comp::TextureStats textureStats()
	{
		return server->run([](comp::Server &s) { return s.textureStats(); });
	}

	std::string lastRefusal()
	{
		return server->run([](comp::Server &s) {
			return static_cast<comp::DrmBackend &>(s.backend()).drmOutputs()[0]->lastRefusal();
		});
	}

	/* A fullscreen window's output-sized dma-buf from a heap, top red, bottom blue. */
	bufmgr::Buffer heapBuffer(const std::string &heap, bool contiguous)
	{
		auto allocator = bufmgr::createDmaHeapAllocator(heap, contiguous);
		EXPECT_TRUE(allocator) << allocator.error().message();
		if (!allocator)
			return {};
		auto buffer = (*allocator)->allocate(bufmgr::AllocationRequest::image(
			kWidth, kHeight, DRM_FORMAT_XRGB8888, bufmgr::Usage::Scanout, "drm-test"));
		EXPECT_TRUE(buffer) << buffer.error().message();
		if (!buffer)
			return {};
		EXPECT_TRUE(fill(*buffer, kRed, kBlue));
		return std::move(*buffer);
	}

	/* A fullscreen window of client's showing a system-heap heapBuffer(). */
	struct Fullscreen {
		std::unique_ptr<Window> window;
		bufmgr::Buffer buffer;
		Proxy<wl_buffer> wlBuffer;
		/* With showFullscreen(true): another like it, to flip between. */
		bufmgr::Buffer spare;
		Proxy<wl_buffer> wlSpare;
		/* Its first frame: presented, and with ZERO_COPY or not. */
		PresentationRecord first;
		wl_surface *surface() const { return window->surface(); }
		wl_buffer *flip(size_t i) const { return i % 2 ? wlSpare.get() : wlBuffer.get(); }
	};
	/* Fails the test unless the first frame was presented. */
	Fullscreen showFullscreen(bool withSpare = false)
	{
		Fullscreen f;
		EXPECT_TRUE(client->dmabuf);
		f.window = std::make_unique<Window>(*client, "fullscreen");
		EXPECT_TRUE(mapFullscreen(*f.window));
		EXPECT_EQ(f.window->configuredWidth(), int32_t(kWidth));
		f.buffer = heapBuffer("/dev/dma_heap/system", false);
		if (!client->dmabuf || !f.buffer.isValid())
			return f;
		f.wlBuffer = wrap(*client, f.buffer);
		if (withSpare) {
			f.spare = heapBuffer("/dev/dma_heap/system", false);
			if (f.spare.isValid())
				f.wlSpare = wrap(*client, f.spare);
		}
		f.first = presentAndRecord(*client, f.surface(), f.wlBuffer);
		EXPECT_TRUE(f.first.presented);
		return f;
	}

	/*
	 * The fullscreen client scanned out, and planeOverlay, of one colour
	 * at rect, on a plane of its own above it.
	 */
	void showOverlayOverFullscreen(comp::Rect rect, uint32_t colour, Fullscreen &f)
	{
		ASSERT_NO_FATAL_FAILURE(start());
		f = showFullscreen();
		ASSERT_TRUE(f.first.zeroCopy()) << lastRefusal();
		planeOverlay = std::make_unique<SolidOverlay>(rect, colour);
		server->run([this](comp::Server &s) { s.setOverlay(planeOverlay.get()); });
		EXPECT_TRUE(presentAndRecord(*client, f.surface(), f.wlBuffer).zeroCopy()) << lastRefusal();
		ASSERT_TRUE(server->run([](comp::Server &s) { return s.overlayOnPlane(); }));
	}

	/* Changes the overlay on the server and waits for the commit that shows it. */
	void changeOverlay(const std::function<void()> &change)
	{
		const uint64_t commits = drmStats().commits;
		server->run([&](comp::Server &s) {
			change();
			s.overlayChanged();
		});
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
		while (drmStats().commits == commits && std::chrono::steady_clock::now() < deadline)
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
		ASSERT_GT(drmStats().commits, commits);
	}

	/* The server lets go of the overlay before it goes, whichever way the test ended. */
	~DrmBackendTest() override
	{
		if (server && planeOverlay)
			server->run([](comp::Server &s) { s.setOverlay(nullptr); });
	}

	/* Destroyed after the server, which gives its devices back to it. */
	std::unique_ptr<Seatd> seatd;
	std::unique_ptr<ServerRunner> server;
	std::unique_ptr<TestClient> client;
	std::unique_ptr<SolidOverlay> planeOverlay;
};

} /* namespace heapcomp::test */
