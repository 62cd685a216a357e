/* SPDX-License-Identifier: MIT */
/*
 * The DRM/KMS backend on VKMS: what the display really shows is captured
 * through the writeback connector and checked pixel by pixel, composed
 * frames and client buffers on the primary plane alike. Needs the test
 * VM's kernel; elsewhere a missing KMS device is a skip, in the VM a
 * failure.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <thread>
#include <memory>
#include <mutex>

#include <drm_fourcc.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <xf86drm.h>

#include <bufmgr/allocators.h>
#include <bufmgr/heap.h>

#include "drm_fixture.h"
#include "cma_hog.h"
#include "dmabuf_buffer.h"
#include "fd_count.h"
#include "json.h"
#include "log.h"
#include "seat_daemons.h"
#include "presentation_record.h"
#include "protocols/seat.h"
#include "server_runner.h"
#include "stats_json.h"
#include "surface.h"
#include "test_client.h"
#include "vm_env.h"

namespace heapcomp::test {
namespace {

/* Red on top, blue below, as heapBuffer() paints. */
void expectHalves(const comp::Screenshot &shot)
{
	ASSERT_EQ(shot.width, kWidth);
	ASSERT_EQ(shot.height, kHeight);
	size_t wrong = 0;
	for (uint32_t y = 0; y < kHeight; y += 7)
		for (uint32_t x = 0; x < kWidth; x += 5)
			wrong += shot.at(x, y) != (y < kHeight / 2 ? kRed : kBlue);
	EXPECT_EQ(wrong, 0u) << "pixels differing from the client's buffer; (1,1) is "
			     << std::hex << shot.at(1, 1);
}

TEST_F(DrmBackendTest, ComposedWindowReachesTheDisplay)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Window window(*client, "composed");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ShmBuffer buffer(client->shm, 64, 48);
	buffer.fill(kGreen);
	PresentationRecord feedback = presentAndRecord(*client, window.surface(), buffer.buffer());
	ASSERT_TRUE(feedback.presented);
	EXPECT_FALSE(feedback.zeroCopy());
	/* A page flip: the display's clock, at vblank. */
	EXPECT_TRUE(feedback.flags & WP_PRESENTATION_FEEDBACK_KIND_VSYNC);
	EXPECT_TRUE(feedback.flags & WP_PRESENTATION_FEEDBACK_KIND_HW_CLOCK);

	comp::Screenshot shot = capture();
	ASSERT_EQ(shot.width, kWidth);
	EXPECT_EQ(shot.at(1, 1), kGreen);
	EXPECT_EQ(shot.at(63, 47), kGreen);
	EXPECT_EQ(shot.at(64, 10), kBlack);
	EXPECT_EQ(shot.at(kWidth - 1, kHeight - 1), kBlack);
	EXPECT_GE(drmStats().flips, 1u);
	EXPECT_GE(drmStats().captures, 1u);
}

TEST_F(DrmBackendTest, FullscreenDmaBufGoesOnThePrimaryPlane)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Fullscreen f = showFullscreen();
	ASSERT_TRUE(f.first.presented);
	EXPECT_TRUE(f.first.zeroCopy()) << "composed: " << lastRefusal();
	const comp::RepaintStats before = repaintStats();
	PresentationRecord second = presentAndRecord(*client, f.surface(), f.wlBuffer);
	EXPECT_TRUE(second.zeroCopy());
	expectHalves(capture());
	const comp::RepaintStats after = repaintStats();
	EXPECT_GT(after.scannedOut, before.scannedOut);
	EXPECT_EQ(after.rendered, before.rendered) << "a scanned-out frame was composed";
	/* Only the display read the client's buffer: the renderer never imported it. */
	EXPECT_EQ(textureStats().dmaBufImports, 0u);
	EXPECT_FALSE(server->run([](comp::Server &s) {
		const comp::View *view = s.findView("fullscreen");
		const comp::ClientBuffer *buffer = view ? view->surface()->buffer() : nullptr;
		return !buffer || buffer->texture() != nullptr;
	})) << "the buffer has a texture";
}

/*
 * A display without an IOMMU, simulated: memory from the system heap is
 * composed, memory from the CMA heap goes on the plane.
 */
TEST_F(DrmBackendTest, ContiguousOnlyDisplayScansOutCmaNotSystem)
{
	const std::string cma = cmaHeapPath();
	if (cma.empty())
		SKIP_OR_FAIL_WITHOUT("no CMA heap");
	ASSERT_NO_FATAL_FAILURE(start(true));
	Window window(*client, "fullscreen");
	ASSERT_TRUE(mapFullscreen(window));

	bufmgr::Buffer system = heapBuffer("/dev/dma_heap/system", false);
	bufmgr::Buffer contiguous = heapBuffer(cma, true);
	ASSERT_TRUE(system.isValid() && contiguous.isValid());
	Proxy<wl_buffer> systemBuffer = wrap(*client, system);
	Proxy<wl_buffer> cmaBuffer = wrap(*client, contiguous);

	PresentationRecord composed = presentAndRecord(*client, window.surface(), systemBuffer);
	ASSERT_TRUE(composed.presented);
	EXPECT_FALSE(composed.zeroCopy());
	EXPECT_NE(lastRefusal().find("not contiguous"), std::string::npos) << lastRefusal();
	expectHalves(capture());
	/* The composed buffer was imported when first composed, and once. */
	EXPECT_EQ(textureStats().dmaBufImports, 1u);

	PresentationRecord direct = presentAndRecord(*client, window.surface(), cmaBuffer);
	ASSERT_TRUE(direct.presented);
	EXPECT_TRUE(direct.zeroCopy()) << lastRefusal();
	expectHalves(capture());
	EXPECT_EQ(textureStats().dmaBufImports, 1u) << "the scanned-out buffer was imported";
	EXPECT_EQ(textureStats().dmaBufImportFailures, 0u);
}

/*
 * The memory of the first output's scanout buffers, as the output says
 * (DrmOutput::bufferSource()); the stats must say the same.
 */
std::string scanoutMemory(ServerRunner &server)
{
	auto [source, stats] = server.run([](comp::Server &s) {
		auto &drm = static_cast<comp::DrmBackend &>(s.backend());
		const std::vector<comp::DrmOutput *> outputs = drm.drmOutputs();
		return std::pair(outputs.empty() ? std::string() : outputs[0]->bufferSource(),
				 comp::statsJson(s));
	});
	std::optional<Json> json = parseJson(stats);
	EXPECT_TRUE(json) << stats;
	if (!json)
		return source;
	const Json &outputs = at(*json, { "backend", "outputs" });
	EXPECT_FALSE(outputs.array.empty()) << stats;
	if (!outputs.array.empty()) {
		EXPECT_EQ(string(outputs.array[0], { "scanout_memory" }), source) << stats;
	}
	return source;
}

/*
 * CMA all taken before heapcomp starts: its scanout buffers come from
 * the next source, the log says which heap failed, how and what came
 * instead, the stats name the memory used, and frames still reach the
 * display.
 */
TEST_F(DrmBackendTest, CmaTakenAtStartScanoutFallsBackAndSaysSo)
{
	const std::string cma = cmaHeapPath();
	if (cma.empty())
		SKIP_OR_FAIL_WITHOUT("no CMA heap");
	auto hog = bufmgr::createDmaHeapAllocator(cma, true);
	ASSERT_TRUE(hog) << hog.error().message();
	std::vector<bufmgr::Buffer> taken = takeEverything(**hog);
	ASSERT_FALSE(taken.empty());

	const std::string heap = cma.substr(cma.rfind('/') + 1);
	std::string all;
	bool fellBack = false;
	{
		LogRecord log;
		start();
		all = log.all();
		fellBack = log.has({ heap, "ENOMEM", "falling back to" });
	}
	ASSERT_FALSE(HasFatalFailure());

	const std::string source = scanoutMemory(*server);
	/* The policy's next scanout source: the system heap or GBM, never CMA again. */
	EXPECT_NE(source, "");
	EXPECT_NE(source, "dma-heap:" + heap);
	EXPECT_TRUE(fellBack) << "no line says that " << heap << " failed and what came next:\n"
			      << all;
	EXPECT_NE(all.find("scanout buffers from " + source), std::string::npos) << all;

	/* The display shows what a client draws, from the fallback memory. */
	Window window(*client, "composed");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ShmBuffer buffer(client->shm, 64, 48);
	buffer.fill(kGreen);
	ASSERT_TRUE(presentAndRecord(*client, window.surface(), buffer.buffer()).presented);
	comp::Screenshot shot = capture();
	EXPECT_EQ(shot.at(1, 1), kGreen);
	EXPECT_EQ(shot.at(64, 10), kBlack);
}

/* The card node (cardN) whose kernel driver is driver; "" if none. */
std::string cardOf(std::string_view driver)
{
	for (int i = 0; i < 16; i++) {
		const std::string card = "card" + std::to_string(i);
		bufmgr::UniqueFd fd(open(("/dev/dri/" + card).c_str(), O_RDWR | O_CLOEXEC));
		if (!fd)
			continue;
		drmVersionPtr version = drmGetVersion(fd.get());
		const bool found = version && std::string_view(version->name) == driver;
		drmFreeVersion(version);
		if (found)
			return card;
	}
	return {};
}

/* What the display shows: the first width x height pixels of its video memory (PCI BAR 0). */
std::optional<comp::Screenshot> readVram(const std::string &resource, uint32_t width, uint32_t height)
{
	bufmgr::UniqueFd fd(open(resource.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		return std::nullopt;
	const size_t size = size_t(width) * height * 4;
	void *map = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
	if (map == MAP_FAILED)
		return std::nullopt;
	comp::Screenshot shot;
	shot.width = width;
	shot.height = height;
	shot.pixels.resize(size_t(width) * height);
	const auto *vram = static_cast<const volatile uint32_t *>(map);
	for (size_t i = 0; i < shot.pixels.size(); i++)
		shot.pixels[i] = vram[i] | 0xff000000u;
	munmap(map, size);
	return shot;
}

/* Pixels of the screen as a test expects them, and how many of shot's differ. */
struct ExpectedScreen {
	std::vector<uint32_t> pixels = std::vector<uint32_t>(size_t(kWidth) * kHeight, kBlack);

	void fill(int32_t x, int32_t y, int32_t w, int32_t h, uint32_t colour)
	{
		for (int32_t row = y; row < y + h; row++)
			for (int32_t col = x; col < x + w; col++)
				pixels[size_t(row) * kWidth + col] = colour;
	}
	/* "" when they match; else the first pixel that does not. */
	std::string differences(const comp::Screenshot &shot) const
	{
		for (uint32_t y = 0; y < kHeight; y++)
			for (uint32_t x = 0; x < kWidth; x++)
				if (shot.at(x, y) != pixels[size_t(y) * kWidth + x])
					return "at (" + std::to_string(x) + ", " + std::to_string(y) +
					       "): " + std::to_string(shot.at(x, y)) + " instead of " +
					       std::to_string(pixels[size_t(y) * kWidth + x]);
		return {};
	}
};

/*
 * A CMA area too small for the output's buffers, as on a board whose
 * device tree reserves too little (the VM booted with cma=4M: the entry
 * compositor_board_vm_tests): what CMA cannot hold comes from the
 * next source, the log and the stats say which memory each buffer is
 * in, and frames reach the display.
 */
TEST_F(DrmBackendTest, SmallCmaAreaScanoutFallsBackAndSaysSo)
{
	if (!getenv("HEAPCOMP_SMALL_CMA"))
		GTEST_SKIP() << "needs a VM booted with a small CMA area (compositor_board_vm_tests)";
	const std::string cma = cmaHeapPath();
	ASSERT_FALSE(cma.empty()) << "no CMA heap";
	const std::string heap = cma.substr(cma.rfind('/') + 1);
	auto heaps = bufmgr::discoverHeaps();
	ASSERT_TRUE(heaps) << heaps.error().message();
	const bufmgr::HeapInfo *info = bufmgr::findHeap(*heaps, heap);
	ASSERT_TRUE(info && !info->cmaArea.empty()) << heap << " names no CMA area";
	auto area = bufmgr::readCmaArea(bufmgr::SystemPaths{}, info->cmaArea);
	ASSERT_TRUE(area) << area.error().message();
	/* A mode whose buffers CMA holds one of, and not two. */
	constexpr uint32_t width = 1024, height = 768;
	const uint64_t frameBytes = uint64_t(width) * height * 4;
	ASSERT_GE(area->totalBytes(), frameBytes) << "the CMA area holds no buffer";
	ASSERT_LT(area->totalBytes(), 2 * frameBytes) << "the CMA area is not small";

	std::string all;
	bool fellBack = false;
	{
		LogRecord log;
		/* VKMS, whose writeback shows what it scans out. */
		startWithMode(width, height, false, "/dev/dri/" + cardOf("vkms"));
		all = log.all();
		fellBack = log.has({ heap, std::to_string(frameBytes) + " B", "ENOMEM",
				     "falling back to" });
	}
	ASSERT_FALSE(HasFatalFailure());

	const std::string source = scanoutMemory(*server);
	/* The first buffer fits; the next two come from the policy's next source. */
	const std::string inCma = "dma-heap:" + heap + " (1), ";
	EXPECT_EQ(source.rfind(inCma, 0), 0u) << source;
	EXPECT_EQ(source.find(" (2)"), source.size() - 4) << source;
	EXPECT_EQ(source.find("dma-heap:" + heap, inCma.size()), std::string::npos) << source;
	EXPECT_TRUE(fellBack) << all;
	EXPECT_NE(all.find("3 scanout buffers from " + source), std::string::npos) << all;

	/* Frames from both kinds of memory reach the display. */
	Window window(*client, "composed");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ShmBuffer buffer(client->shm, 64, 48);
	for (uint32_t colour : { kGreen, kBlue, kRed, kGreen }) {
		buffer.fill(colour);
		ASSERT_TRUE(presentAndRecord(*client, window.surface(), buffer.buffer()).presented);
		comp::Screenshot shot = capture();
		EXPECT_EQ(shot.at(1, 1), colour);
		EXPECT_EQ(shot.at(64, 10), kBlack);
	}
}

/*
 * heapcomp on the VM's PCI display (bochs), which copies each frame
 * into its video memory as USB and SPI panels do: what it shows is read
 * back from there.
 */
class PciDisplayTest : public DrmBackendTest
{
protected:
	void SetUp() override
	{
		DrmBackendTest::SetUp();
		if (IsSkipped() || HasFatalFailure())
			return;
		if (!getenv("HEAPCOMP_VM_PCI_DISPLAY"))
			GTEST_SKIP() << "needs the VM's PCI display (compositor_board_vm_tests)";
		const std::string card = cardOf("bochs-drm");
		ASSERT_NE(card, "") << "no bochs-drm card";
		/* The PCI BAR its frames are copied to. */
		vram = "/sys/class/drm/" + card + "/device/resource0";
		ASSERT_NO_FATAL_FAILURE(start(false, "/dev/dri/" + card));
	}

	std::string vram;
};

/*
 * Told what changed (FB_DAMAGE_CLIPS), the display copies only that:
 * its memory still matches the frames, pixel for pixel, as a window
 * changes and moves.
 */
TEST_F(PciDisplayTest, CopiesOnlyWhatChanged)
{
	Window window(*client, "window");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ShmBuffer buffer(client->shm, 64, 48);
	buffer.fill(kGreen);
	ASSERT_TRUE(presentAndRecord(*client, window.surface(), buffer.buffer()).presented);
	const comp::DrmStats before = drmStats();

	/* A patch at a time, then the window moved: each frame names its change. */
	ExpectedScreen screen;
	screen.fill(0, 0, 64, 48, kGreen);
	const uint32_t colours[] = { kRed, kBlue, kRed };
	for (int i = 0; i < 3; i++) {
		buffer.fillRect(8 * i, 8, 8, 8, colours[i]);
		screen.fill(8 * i, 8, 8, 8, colours[i]);
		wl_surface_attach(window.surface(), buffer.buffer(), 0, 0);
		wl_surface_damage_buffer(window.surface(), 8 * i, 8, 8, 8);
		ASSERT_TRUE(presentAndRecord(*client, window.surface(), nullptr).presented);
		std::optional<comp::Screenshot> shot = readVram(vram, kWidth, kHeight);
		ASSERT_TRUE(shot) << "cannot map " << vram << ": " << strerror(errno);
		EXPECT_EQ(screen.differences(*shot), "") << "after patch " << i;
	}
	server->run([](comp::Server &s) { s.findView("window")->setPosition(300, 200); });
	ASSERT_TRUE(presentAndRecord(*client, window.surface(), nullptr).presented);
	ExpectedScreen moved;
	moved.fill(300, 200, 64, 48, kGreen);
	for (int i = 0; i < 3; i++)
		moved.fill(300 + 8 * i, 208, 8, 8, colours[i]);
	std::optional<comp::Screenshot> shot = readVram(vram, kWidth, kHeight);
	ASSERT_TRUE(shot);
	EXPECT_EQ(moved.differences(*shot), "") << "after the move";

	const comp::DrmStats after = drmStats();
	EXPECT_GE(after.damageClipCommits - before.damageClipCommits, 4u);
	EXPECT_GE(after.damageClipRects - before.damageClipRects, 5u);
}

/*
 * A fullscreen client's buffers scanned out: the
 * next one's damage is all the display copies. This client's new
 * buffer differs everywhere but says it changed one square, so the
 * display shows the old buffer with the new square.
 */
TEST_F(PciDisplayTest, CopiesOnlyTheDamageOfAScannedOutBuffer)
{
	Fullscreen f = showFullscreen(true);
	ASSERT_TRUE(f.first.zeroCopy()) << "composed: " << lastRefusal();
	ASSERT_TRUE(fill(f.spare, kGreen, kGreen));
	const comp::DrmStats before = drmStats();

	wl_surface_attach(f.surface(), f.wlSpare, 0, 0);
	wl_surface_damage_buffer(f.surface(), 100, 100, 16, 16);
	PresentationRecord record = presentAndRecord(*client, f.surface(), nullptr);
	ASSERT_TRUE(record.presented);
	EXPECT_TRUE(record.zeroCopy()) << "composed: " << lastRefusal();
	EXPECT_EQ(drmStats().damageClipCommits - before.damageClipCommits, 1u);

	ExpectedScreen screen;
	screen.fill(0, 0, kWidth, kHeight / 2, kRed);
	screen.fill(0, kHeight / 2, kWidth, kHeight / 2, kBlue);
	screen.fill(100, 100, 16, 16, kGreen);
	std::optional<comp::Screenshot> shot = readVram(vram, kWidth, kHeight);
	ASSERT_TRUE(shot) << "cannot map " << vram << ": " << strerror(errno);
	EXPECT_EQ(screen.differences(*shot), "");
}

/* Steady state: no framebuffer, test commit or allocation per frame. */
TEST_F(DrmBackendTest, SteadyStateImportsNothing)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Window window(*client, "fullscreen");
	ASSERT_TRUE(mapFullscreen(window));
	bufmgr::Buffer a = heapBuffer("/dev/dma_heap/system", false);
	bufmgr::Buffer b = heapBuffer("/dev/dma_heap/system", false);
	Proxy<wl_buffer> buffers[2] = { wrap(*client, a), wrap(*client, b) };
	for (int i = 0; i < 4; i++)
		ASSERT_TRUE(presentAndRecord(*client, window.surface(), buffers[i % 2]).zeroCopy());

	const comp::DrmStats before = drmStats();
	const uint64_t allocations = server->run(allocationCount);
	for (int i = 0; i < 20; i++)
		ASSERT_TRUE(presentAndRecord(*client, window.surface(), buffers[i % 2]).zeroCopy());
	const comp::DrmStats after = drmStats();
	EXPECT_EQ(after.framebuffersImported, before.framebuffersImported);
	EXPECT_EQ(after.testCommits, before.testCommits);
	EXPECT_GE(after.commits, before.commits + 20);
	EXPECT_EQ(after.liveClientFramebuffers, 2u);
	EXPECT_EQ(server->run(allocationCount), allocations);

	/* --stats says the same. */
	std::string text = server->run([](comp::Server &s) { return comp::statsJson(s); });
	std::optional<Json> json = parseJson(text);
	ASSERT_TRUE(json) << text;
	EXPECT_EQ(at(*json, { "backend", "name" }).text, "drm") << text;
	EXPECT_EQ(at(*json, { "backend", "driver" }).text, "vkms") << text;
	EXPECT_EQ(number(*json, { "backend", "live_client_framebuffers" }), 2u) << text;
	EXPECT_GE(number(*json, { "backend", "framebuffers_imported" }).value_or(0),
		  after.framebuffersImported)
		<< text;
}

/*
 * Writebacks asked for while a client flips a new buffer every frame all
 * complete. VKMS forgets a writeback whose CRTC state the next commit
 * replaces before its composer has run, and every later one then
 * completes a job late; so a capture in flight holds the next commit
 * until its fence signals.
 */
TEST_F(DrmBackendTest, CapturesWhileAClientFlipsEveryFrameAllComplete)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Fullscreen f = showFullscreen(true);
	ASSERT_TRUE(f.first.zeroCopy()) << "composed: " << lastRefusal();
	ASSERT_NE(f.wlSpare.get(), nullptr);

	size_t flips = 1;
	const comp::DrmStats before = drmStats();
	for (int i = 0; i < 20; i++) {
		auto future = requestCapture();
		ASSERT_TRUE(future.valid());
		/* The client goes on flipping while the capture is in flight. */
		const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
		while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
		       std::chrono::steady_clock::now() < deadline) {
			PresentationRecord record = presentAndRecord(*client, f.surface(), f.flip(flips));
			ASSERT_TRUE(record.presented) << "capture " << i;
			flips++;
		}
		ASSERT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready)
			<< "capture " << i << " not done in 20 s, after " << flips << " flips";
		bufmgr::Result<comp::Screenshot> shot = future.get();
		ASSERT_TRUE(shot) << shot.error().message();
		expectHalves(*shot);
	}
	const comp::DrmStats after = drmStats();
	EXPECT_EQ(after.captures, before.captures + 20);
	EXPECT_EQ(after.captureTimeouts, 0u);
}

/* A client that goes while its buffer is on the plane takes its framebuffer with it. */
TEST_F(DrmBackendTest, ClientGoneWhileOnThePlane)
{
	ASSERT_NO_FATAL_FAILURE(start());
	ASSERT_TRUE(server->waitFrames(2));
	/* The capture buffer stays once made: made before the count. */
	ASSERT_EQ(capture().width, kWidth);
	const int fds = countOpenFds();
	{
		TestClient scanned(server->socket());
		Window window(scanned, "fullscreen");
		ASSERT_TRUE(mapFullscreen(window));
		bufmgr::Buffer buffer = heapBuffer("/dev/dma_heap/system", false);
		Proxy<wl_buffer> wlBuffer = wrap(scanned, buffer);
		ASSERT_TRUE(presentAndRecord(scanned, window.surface(), wlBuffer).zeroCopy());
		EXPECT_EQ(drmStats().liveClientFramebuffers, 1u);
	}
	/* The next frame is composed (nothing to show) and the plane lets go. */
	ASSERT_TRUE(server->waitFrames(3));
	comp::Screenshot shot = capture();
	ASSERT_EQ(shot.width, kWidth);
	EXPECT_EQ(shot.at(kWidth / 2, kHeight / 2), kBlack);
	EXPECT_EQ(drmStats().liveClientFramebuffers, 0u);
	EXPECT_EQ(countOpenFds(), fds);
}

/*
 * At start every heap's buffers are tried on each plane type with
 * TEST_ONLY commits; the verdicts reach --stats and the heap hints.
 */
TEST_F(DrmBackendTest, ProbeTriesEveryHeapOnEveryPlane)
{
	const std::string cma = cmaHeapPath();
	if (cma.empty())
		SKIP_OR_FAIL_WITHOUT("no CMA heap");
	ASSERT_NO_FATAL_FAILURE(start());
	const std::string cmaSource = "dma-heap:" + cma.substr(cma.rfind('/') + 1);
	auto probes = server->run([](comp::Server &s) {
		return static_cast<comp::DrmBackend &>(s.backend()).scanoutProbes();
	});
	for (const std::string &source : { std::string("dma-heap:system"), cmaSource }) {
		auto probe = std::find_if(probes.begin(), probes.end(),
					  [&](const comp::ScanoutProbe &p) { return p.source == source; });
		ASSERT_NE(probe, probes.end()) << source << " was not probed";
		/* VKMS reads any memory on any plane. */
		EXPECT_EQ(probe->primary, std::optional<bool>(true)) << source << ": " << probe->note;
		EXPECT_EQ(probe->overlay, std::optional<bool>(true)) << source << ": " << probe->note;
		EXPECT_EQ(probe->cursor, std::optional<bool>(true)) << source << ": " << probe->note;
	}
	/* Contiguous memory first in what clients are told to allocate from. */
	auto heaps = server->run([](comp::Server &s) {
		return s.backend().scanoutHeaps(s.bufferManager().heaps());
	});
	ASSERT_GE(heaps.size(), 2u);
	EXPECT_EQ("dma-heap:" + heaps[0], cmaSource);
	EXPECT_NE(std::find(heaps.begin(), heaps.end(), "system"), heaps.end());

	std::string text = server->run([](comp::Server &s) { return comp::statsJson(s); });
	EXPECT_NE(text.find("\"scanout_probe\""), std::string::npos) << text;
	EXPECT_NE(text.find(cmaSource), std::string::npos) << text;
	/* Each heap names the planes the probe proved, where the heap is named. */
	std::optional<Json> json = parseJson(text);
	ASSERT_TRUE(json) << text;
	int named = 0;
	for (const Json &heap : at(*json, { "heaps" }).array) {
		const std::string source = string(heap, { "source" }).value_or("");
		if (source != cmaSource && source != "dma-heap:system")
			continue;
		named++;
		std::vector<std::string> planes;
		for (const Json &plane : at(heap, { "scans_out_on" }).array)
			planes.push_back(plane.text);
		EXPECT_EQ(planes, (std::vector<std::string>{ "primary", "overlay", "cursor" }))
			<< source << ": " << text;
	}
	EXPECT_EQ(named, 2) << text;
}

/* wl_shm cannot go on a plane: composed, with the reason kept. */
/*
 * The overlay on an overlay plane of its own: the fullscreen client
 * under it stays on the primary plane, nothing is composed, and what
 * the display reads has both (writeback sees every plane blended).
 * Hidden, the plane keeps its buffers a few seconds: shown again soon,
 * it allocates nothing; left off, its memory goes back.
 */
TEST_F(DrmBackendTest, OverlayOnItsOwnPlaneKeepsTheClientScannedOut)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Fullscreen f = showFullscreen();
	ASSERT_TRUE(f.first.zeroCopy()) << lastRefusal();
	wl_surface *surface = f.surface();
	wl_buffer *wlBuffer = f.wlBuffer;

	const comp::Rect rect{ 400, 40, 160, 120 };
	SolidOverlay overlay(rect, kGreen);
	/* Writeback's buffer is made at the first capture and kept. */
	ASSERT_EQ(capture().width, kWidth);
	const uint64_t liveWithout = server->run(liveBufferCount);
	server->run([&](comp::Server &s) { s.setOverlay(&overlay); });
	const comp::RepaintStats before = repaintStats();
	PresentationRecord shown = presentAndRecord(*client, surface, wlBuffer);
	EXPECT_TRUE(shown.zeroCopy()) << "composed: " << lastRefusal();
	EXPECT_TRUE(server->run([](comp::Server &s) { return s.overlayOnPlane(); }));

	/* The overlay, and the client around it. */
	auto expectOverlay = [&](const comp::Screenshot &shot, bool shownThere, uint32_t colour) {
		ASSERT_EQ(shot.width, kWidth);
		size_t wrong = 0;
		for (uint32_t y = 0; y < kHeight; y += 5)
			for (uint32_t x = 0; x < kWidth; x += 5) {
				const bool inside = x >= uint32_t(rect.x) && x < uint32_t(rect.right()) &&
						    y >= uint32_t(rect.y) && y < uint32_t(rect.bottom());
				const uint32_t want = inside && shownThere ? colour
							  : y < kHeight / 2 ? kRed : kBlue;
				wrong += shot.at(x, y) != want;
			}
		EXPECT_EQ(wrong, 0u) << "(" << rect.x + 1 << "," << rect.y + 1 << ") is " << std::hex
				     << shot.at(uint32_t(rect.x + 1), uint32_t(rect.y + 1));
	};
	expectOverlay(capture(), true, kGreen);

	/* New pixels reach the screen in a commit of their own: nothing is composed. */
	changeOverlay([&] { overlay.fill(0xffffffffu); });
	expectOverlay(capture(), true, 0xffffffffu);
	EXPECT_EQ(repaintStats().rendered, before.rendered) << "the overlay was composed";

	/* Hidden: the plane goes and the client shows whole, still scanned out. */
	changeOverlay([&] { overlay.visible_ = false; });
	expectOverlay(capture(), false, 0);
	EXPECT_FALSE(server->run([](comp::Server &s) { return s.overlayOnPlane(); }));
	EXPECT_TRUE(presentAndRecord(*client, surface, wlBuffer).zeroCopy());
	EXPECT_EQ(repaintStats().rendered, before.rendered);

	/* Shown again at once: the buffers it had, no allocation, no AddFB2. */
	const uint64_t held = drmStats().imagePlaneBuffers;
	EXPECT_GT(held, 0u);
	EXPECT_EQ(server->run(liveBufferCount), liveWithout + held);
	const uint64_t allocations = server->run(allocationCount);
	const uint64_t imported = drmStats().framebuffersImported;
	changeOverlay([&] { overlay.visible_ = true; });
	expectOverlay(capture(), true, 0xffffffffu);
	EXPECT_EQ(server->run(allocationCount), allocations);
	EXPECT_EQ(drmStats().framebuffersImported, imported);
	EXPECT_EQ(drmStats().imagePlaneBuffers, held);

	/* Off for good: a few seconds on, the plane holds no memory. */
	changeOverlay([&] { overlay.visible_ = false; });
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
	while (drmStats().imagePlaneBuffers > 0 && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	EXPECT_EQ(drmStats().imagePlaneBuffers, 0u);
	EXPECT_EQ(server->run(liveBufferCount), liveWithout);
	expectOverlay(capture(), false, 0);
	server->run([](comp::Server &s) { s.setOverlay(nullptr); });
}

/*
 * A change of a few rows copies those rows into the plane's buffer, not
 * the whole image; a buffer that missed several changes gets all of
 * them, so the display shows the image as it is after each.
 */
TEST_F(DrmBackendTest, OverlayPlaneTakesOnlyTheRowsThatChanged)
{
	const comp::Rect rect{ 400, 40, 160, 120 };
	Fullscreen f;
	ASSERT_NO_FATAL_FAILURE(showOverlayOverFullscreen(rect, kGreen, f));
	SolidOverlay &overlay = *planeOverlay;
	const comp::RepaintStats before = repaintStats();

	const uint32_t colours[] = { kRed, kBlue, 0xffffffffu, kBlack, 0xffffff00u, 0xff00ffffu };
	constexpr int32_t kBand = 10;
	const size_t bandBytes = size_t(rect.width) * kBand * 4;
	const size_t wholeBytes = size_t(rect.width) * size_t(rect.height) * 4;
	int firstFills = 0;
	for (int i = 0; i < 6; i++) {
		const uint64_t copied = drmStats().imagePlaneBytes;
		ASSERT_NO_FATAL_FAILURE(
			changeOverlay([&] { overlay.paint({ 0, i * kBand, rect.width, kBand }, colours[i]); }));
		/*
		 * Its own band and at most the two before it, which the buffer
		 * may lack; the whole image into a buffer filled for the first time.
		 */
		const uint64_t took = drmStats().imagePlaneBytes - copied;
		EXPECT_GE(took, bandBytes) << "change " << i;
		if (took > 3 * bandBytes) {
			EXPECT_EQ(took, wholeBytes) << "change " << i;
			firstFills++;
		}

		const comp::Screenshot shot = capture();
		ASSERT_EQ(shot.width, kWidth);
		size_t wrong = 0;
		for (int32_t y = 0; y < rect.height; y += 2)
			for (int32_t x = 0; x < rect.width; x += 8)
				wrong += shot.at(uint32_t(rect.x + x), uint32_t(rect.y + y)) != overlay.at(x, y);
		EXPECT_EQ(wrong, 0u) << "after change " << i;
	}
	/* Three buffers: two were never filled before. */
	EXPECT_LE(firstFills, 2);
	EXPECT_EQ(repaintStats().rendered, before.rendered) << "the overlay was composed";
}

/*
 * A client's wl_shm cursor on the CRTC's cursor plane: the display shows
 * it over the fullscreen client, which stays on the primary plane while
 * the pointer moves, and nothing is composed. Scaled, it is composed,
 * and the stats say why.
 */
TEST_F(DrmBackendTest, CursorOnItsPlaneKeepsTheClientScannedOut)
{
	ASSERT_NO_FATAL_FAILURE(start());
	client->bindInput();
	Fullscreen f = showFullscreen();
	ASSERT_TRUE(f.first.zeroCopy()) << lastRefusal();
	wl_surface *surface = f.surface();
	wl_buffer *wlBuffer = f.wlBuffer;

	auto movePointer = [&](int32_t x, int32_t y) {
		server->run([&](comp::Server &s) { s.seat().pointerMotion(x, y, 0); });
	};
	movePointer(100, 100);
	ASSERT_TRUE(client->dispatchUntil([&] { return client->pointerFocus == surface; }));

	/* 16x16 green, hotspot at (4, 4). */
	constexpr int32_t kSize = 16, kHot = 4;
	Proxy<wl_surface> cursor(wl_compositor_create_surface(client->compositor));
	ShmBuffer image(client->shm, kSize, kSize, WL_SHM_FORMAT_ARGB8888);
	image.fill(kGreen);
	wl_surface_attach(cursor, image.buffer(), 0, 0);
	wl_surface_damage_buffer(cursor, 0, 0, kSize, kSize);
	wl_surface_commit(cursor);
	wl_pointer_set_cursor(client->pointer, client->lastSerial, cursor, kHot, kHot);
	ASSERT_TRUE(client->roundtrip());

	auto onPlane = [&] { return server->run([](comp::Server &s) { return s.cursorOnPlane(); }); };
	ASSERT_TRUE(waitFor(onPlane, 10000))
		<< server->run([](comp::Server &s) { return s.cursorRefusal(); });
	/* The cursor where the pointer is, the client around it. */
	auto expectCursorAt = [&](const comp::Screenshot &shot, int32_t px, int32_t py) {
		ASSERT_EQ(shot.width, kWidth);
		size_t wrong = 0;
		for (uint32_t y = 0; y < kHeight; y += 3)
			for (uint32_t x = 0; x < kWidth; x += 3) {
				const bool inside = int32_t(x) >= px - kHot && int32_t(x) < px - kHot + kSize &&
						    int32_t(y) >= py - kHot && int32_t(y) < py - kHot + kSize;
				wrong += shot.at(x, y) != (inside ? kGreen : y < kHeight / 2 ? kRed : kBlue);
			}
		EXPECT_EQ(wrong, 0u) << "(" << px << "," << py << ") is " << std::hex
				     << shot.at(uint32_t(px), uint32_t(py));
	};
	expectCursorAt(capture(), 100, 100);

	/* Moving it commits the plane alone: nothing composed, the client still scanned out. */
	const comp::RepaintStats before = repaintStats();
	const uint64_t commits = drmStats().commits;
	for (int32_t step = 1; step <= 10; step++) {
		movePointer(100 + 30 * step, 100 + 20 * step);
		ASSERT_TRUE(waitFor([&] { return drmStats().commits > commits + uint64_t(step) - 1; },
				    10000));
	}
	expectCursorAt(capture(), 400, 300);
	EXPECT_EQ(repaintStats().rendered, before.rendered) << "the moving cursor was composed";
	EXPECT_TRUE(presentAndRecord(*client, surface, wlBuffer).zeroCopy())
		<< lastRefusal();

	/* At scale 2 it is composed over the client (ZERO_COPY goes) and the stats say why. */
	wl_surface_set_buffer_scale(cursor, 2);
	wl_surface_commit(cursor);
	ASSERT_TRUE(client->roundtrip());
	ASSERT_TRUE(waitFor([&] { return !onPlane(); }, 10000));
	EXPECT_FALSE(presentAndRecord(*client, surface, wlBuffer).zeroCopy());
	EXPECT_GT(repaintStats().rendered, before.rendered);
	std::optional<Json> json = parseJson(server->run([](comp::Server &s) { return comp::statsJson(s); }));
	ASSERT_TRUE(json);
	EXPECT_EQ(string(*json, { "cursor", "composed_because" }), "scaled, cropped or transformed");
	const Json &onPlaneField = at(*json, { "cursor", "on_plane" });
	EXPECT_TRUE(onPlaneField.type == Json::Type::Bool && !onPlaneField.boolean);
}

TEST_F(DrmBackendTest, ShmFullscreenIsComposed)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Window window(*client, "fullscreen");
	ASSERT_TRUE(mapFullscreen(window));
	ShmBuffer buffer(client->shm, kWidth, kHeight);
	buffer.fill(kGreen);
	PresentationRecord feedback = presentAndRecord(*client, window.surface(), buffer.buffer());
	ASSERT_TRUE(feedback.presented);
	EXPECT_FALSE(feedback.zeroCopy());
	EXPECT_NE(lastRefusal().find("wl_shm"), std::string::npos) << lastRefusal();
	comp::Screenshot shot = capture();
	ASSERT_EQ(shot.width, kWidth);
	EXPECT_EQ(shot.at(kWidth / 2, kHeight / 2), kGreen);
}

} /* namespace */
} /* namespace heapcomp::test */
