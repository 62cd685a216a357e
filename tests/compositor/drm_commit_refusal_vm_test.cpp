/* SPDX-License-Identifier: MIT */
/*
 * Commits the kernel refuses, on VKMS: clients keep getting their frame
 * callbacks ("discarded" feedback, not a frame that never comes), the
 * output is tried again at the next refresh, and the display then shows
 * what the client drew last. Memory the display cannot import: its
 * buffers come from elsewhere; a client buffer whose flips keep being
 * refused: composed; no vblank events: a timed refresh. refuse_commits.c
 * makes the refusals.
 */
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <memory>
#include <optional>

#include "drm_fixture.h"
#include "drm_player.h"
#include "dmabuf_buffer.h"
#include "presentation_record.h"
#include "refuse_commits.h"
#include "seat_daemons.h"
#include "test_client.h"
#include "vkms_configfs.h"

namespace heapcomp::test {
namespace {

struct Outcome {
	int presented = 0;
	int discarded = 0;
	bool stalled = false;
};

/* Presents buffer until a frame is presented again: at most 30 frames. */
Outcome presentUntilShown(TestClient &client, wl_surface *surface, wl_buffer *buffer)
{
	Outcome outcome;
	for (int i = 0; i < 30 && !outcome.presented; i++) {
		PresentationRecord record = presentAndRecord(client, surface, buffer);
		if (!record.presented && !record.discarded) {
			outcome.stalled = true;
			break;
		}
		outcome.presented += record.presented;
		outcome.discarded += record.discarded;
	}
	return outcome;
}

class DrmCommitRefusalTest : public DrmBackendTest, public testing::WithParamInterface<int>
{
protected:
	void TearDown() override { heapcomp_refuse_atomic_commits(0, 0); }
};

TEST_P(DrmCommitRefusalTest, ComposedFramesGoOnAfterRefusals)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Window window(*client, "refused");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ShmBuffer green(client->shm, 64, 48), red(client->shm, 64, 48);
	green.fill(kGreen);
	red.fill(kRed);
	ASSERT_TRUE(presentAndRecord(*client, window.surface(), green.buffer()).presented);
	const uint64_t failures = drmStats().commitFailures;

	heapcomp_refuse_atomic_commits(3, GetParam());
	Outcome outcome = presentUntilShown(*client, window.surface(), red.buffer());
	ASSERT_FALSE(outcome.stalled) << "a frame callback never came after a refused commit";
	EXPECT_EQ(outcome.presented, 1);
	EXPECT_GE(outcome.discarded, 1);
	EXPECT_EQ(heapcomp_atomic_commits_to_refuse(), 0);
	EXPECT_EQ(drmStats().commitFailures, failures + 3);

	comp::Screenshot shot = capture();
	ASSERT_EQ(shot.width, kWidth);
	EXPECT_EQ(shot.at(1, 1), kRed);
	EXPECT_EQ(shot.at(63, 47), kRed);
	EXPECT_EQ(shot.at(64, 10), kBlack);
	EXPECT_EQ(server->run([](comp::Server &s) { return s.failedFrames(); }), 0u);

	/*
	 * A refusal that lasts is tried once a refresh, however fast the
	 * client commits: this one commits without waiting for frames.
	 */
	const uint64_t before = drmStats().commitFailures;
	heapcomp_refuse_atomic_commits(1 << 30, GetParam());
	const auto start = std::chrono::steady_clock::now();
	int commits = 0;
	while (std::chrono::steady_clock::now() < start + std::chrono::seconds(1)) {
		/* Many commits a refresh, however slow a round trip is here. */
		for (int i = 0; i < 16; i++, commits++) {
			wl_surface_attach(window.surface(), commits % 2 ? green.buffer() : red.buffer(), 0, 0);
			wl_surface_damage_buffer(window.surface(), 0, 0, INT32_MAX, INT32_MAX);
			wl_surface_commit(window.surface());
		}
		ASSERT_TRUE(client->roundtrip());
	}
	heapcomp_refuse_atomic_commits(0, 0);
	const uint64_t tried = drmStats().commitFailures - before;
	const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
		std::chrono::steady_clock::now() - start);
	/* VKMS refreshes at 60 Hz; spinning would try once a commit (and slow the client). */
	const uint64_t refreshes = uint64_t(elapsed.count()) * 60 / 1000;
	/* Tried again, not given up; under TCG how often depends on the host's load. */
	EXPECT_GE(tried, 2u);
	EXPECT_LE(tried, refreshes + refreshes / 4 + 2)
		<< commits << " commits in " << elapsed.count() << " ms";
	EXPECT_LT(tried * 4, uint64_t(commits)) << "a refused output is tried at every commit";
	EXPECT_TRUE(presentUntilShown(*client, window.surface(), red.buffer()).presented);
}

TEST_P(DrmCommitRefusalTest, ScannedOutFramesGoOnAfterRefusals)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Fullscreen f = showFullscreen();
	ASSERT_TRUE(f.first.zeroCopy()) << "composed: " << lastRefusal();
	const uint64_t failures = drmStats().commitFailures;

	heapcomp_refuse_atomic_commits(2, GetParam());
	Outcome outcome = presentUntilShown(*client, f.surface(), f.wlBuffer);
	ASSERT_FALSE(outcome.stalled) << "a frame callback never came after a refused commit";
	EXPECT_GE(outcome.discarded, 1);
	EXPECT_EQ(drmStats().commitFailures, failures + 2);
	/* A refusal is no verdict on the buffer: it goes on the plane again. */
	PresentationRecord after = presentAndRecord(*client, f.surface(), f.wlBuffer);
	ASSERT_TRUE(after.presented);
	EXPECT_TRUE(after.zeroCopy()) << "composed: " << lastRefusal();
}

/* EINVAL: what the display takes changed; EACCES: the DRM master is gone for a while. */
INSTANTIATE_TEST_SUITE_P(Errors, DrmCommitRefusalTest, testing::Values(EINVAL, EACCES),
			 [](const testing::TestParamInfo<int> &info) {
				 return std::string(info.param == EINVAL ? "EINVAL" : "EACCES");
			 });

class DrmMemoryRefusalTest : public DrmBackendTest
{
protected:
	void TearDown() override
	{
		heapcomp_refuse_imports_from(nullptr, 0);
		heapcomp_refuse_flips_of(nullptr, 0);
		heapcomp_refuse_tests_of(nullptr, 0);
	}
};

/*
 * A client buffer the display cannot import (PRIME refused, as for memory
 * its DMA cannot reach): composed, the failure given as the reason and
 * counted once, not tried again on each frame.
 */
TEST_F(DrmMemoryRefusalTest, ClientBufferTheDisplayCannotImportIsComposed)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Fullscreen f = showFullscreen();
	ASSERT_TRUE(f.first.zeroCopy()) << lastRefusal();
	/* Writeback's buffer first: it may come from the memory refused next. */
	ASSERT_EQ(capture().width, kWidth);
	const comp::DrmStats before = drmStats();
	heapcomp_refuse_imports_from("system", EINVAL);
	bufmgr::Buffer unreachable = heapBuffer("/dev/dma_heap/system", false);
	ASSERT_TRUE(unreachable.isValid());
	Proxy<wl_buffer> unreachableBuffer = wrap(*client, unreachable);
	PresentationRecord first = presentAndRecord(*client, f.surface(), unreachableBuffer);
	ASSERT_TRUE(first.presented);
	EXPECT_FALSE(first.zeroCopy());
	EXPECT_NE(lastRefusal().find("import"), std::string::npos) << lastRefusal();
	EXPECT_EQ(drmStats().framebufferFailures, before.framebufferFailures + 1);
	for (int i = 0; i < 5; i++) {
		PresentationRecord again = presentAndRecord(*client, f.surface(), unreachableBuffer);
		EXPECT_TRUE(again.presented) << "frame " << i;
		EXPECT_FALSE(again.zeroCopy()) << "frame " << i;
	}
	const comp::DrmStats after = drmStats();
	EXPECT_EQ(after.framebufferFailures, before.framebufferFailures + 1)
		<< "the import was tried again";
	EXPECT_EQ(after.commitFailures, before.commitFailures);
	comp::Screenshot shot = capture();
	ASSERT_EQ(shot.width, kWidth);
	EXPECT_EQ(shot.at(10, 10), kRed);
	EXPECT_EQ(shot.at(10, kHeight - 10), kBlue);
}

/*
 * A TEST_ONLY commit refuses the client's buffer, with E2BIG as msm's
 * does when a frame needs more than its planes can take: the buffer is
 * composed, every frame is shown, no flip fails, and the refusal is the
 * reason given. The verdict is kept, not tested again each frame; a
 * buffer of other memory is tested on its own and scanned out.
 */
TEST_F(DrmMemoryRefusalTest, BufferTestOnlyRefusesIsComposed)
{
	const std::string cma = cmaHeapPath();
	if (cma.empty())
		SKIP_OR_FAIL_WITHOUT("no CMA heap");
	ASSERT_NO_FATAL_FAILURE(start());
	const comp::DrmStats before = drmStats();
	heapcomp_refuse_tests_of("system", E2BIG);
	Fullscreen f = showFullscreen();
	ASSERT_TRUE(f.first.presented);
	EXPECT_FALSE(f.first.zeroCopy());
	EXPECT_NE(lastRefusal().find("TEST_ONLY"), std::string::npos) << lastRefusal();
	EXPECT_NE(lastRefusal().find(std::strerror(E2BIG)), std::string::npos) << lastRefusal();
	comp::DrmStats after = drmStats();
	EXPECT_EQ(after.testRefusals, before.testRefusals + 1);
	const uint64_t tests = after.testCommits;
	for (int i = 0; i < 5; i++) {
		PresentationRecord again = presentAndRecord(*client, f.surface(), f.wlBuffer);
		EXPECT_TRUE(again.presented) << "frame " << i;
		EXPECT_FALSE(again.zeroCopy()) << "frame " << i;
	}
	after = drmStats();
	EXPECT_EQ(after.testCommits, tests) << "the refused buffer was tested again";
	EXPECT_EQ(after.commitFailures, before.commitFailures);
	comp::Screenshot shot = capture();
	ASSERT_EQ(shot.width, kWidth);
	EXPECT_EQ(shot.at(10, 10), kRed);
	EXPECT_EQ(shot.at(10, kHeight - 10), kBlue);

	bufmgr::Buffer contiguous = heapBuffer(cma, true);
	ASSERT_TRUE(contiguous.isValid());
	Proxy<wl_buffer> cmaBuffer = wrap(*client, contiguous);
	PresentationRecord direct = presentAndRecord(*client, f.surface(), cmaBuffer);
	ASSERT_TRUE(direct.presented);
	EXPECT_TRUE(direct.zeroCopy()) << lastRefusal();
	EXPECT_EQ(drmStats().testCommits, tests + 1);
	shot = capture();
	ASSERT_EQ(shot.width, kWidth);
	EXPECT_EQ(shot.at(10, 10), kRed);
	EXPECT_EQ(shot.at(10, kHeight - 10), kBlue);
}

/*
 * A display whose DMA cannot reach the CMA area (a DMA mask short of it):
 * the kernel refuses to import its buffers. The probe finds that, and the
 * output's buffers, which the policy takes from CMA first, come from
 * memory the display reads.
 */
TEST_F(DrmMemoryRefusalTest, OutputBuffersAvoidMemoryTheDisplayCannotImport)
{
	heapcomp_refuse_imports_from("default_cma_region", EINVAL);
	ASSERT_NO_FATAL_FAILURE(start());
	const auto [cma, source] = server->run([](comp::Server &s) {
		auto &drm = static_cast<comp::DrmBackend &>(s.backend());
		std::optional<comp::ScanoutProbe> found;
		for (const comp::ScanoutProbe &probe : drm.scanoutProbes())
			if (probe.heap == "default_cma_region")
				found = probe;
		return std::pair(found, drm.drmOutputs()[0]->bufferSource());
	});
	ASSERT_TRUE(cma) << "no probe of the CMA heap";
	EXPECT_EQ(cma->primary, std::optional<bool>(false));
	EXPECT_NE(cma->note.find("import"), std::string::npos) << cma->note;
	EXPECT_NE(source, "dma-heap:default_cma_region");
	EXPECT_FALSE(source.empty());
	/* The CMA buffers it first had are freed, not kept in the pool. */
	const bufmgr::PoolSnapshot pool =
		server->run([](comp::Server &s) { return s.bufferManager().pool().snapshot(); });
	for (const bufmgr::PoolKeySnapshot &key : pool.keys)
		EXPECT_NE(key.source, "dma-heap:default_cma_region") << key.freeBuffers << " free";

	/* The display shows what is composed into them. */
	Window window(*client, "reachable");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ShmBuffer green(client->shm, 64, 48);
	green.fill(kGreen);
	ASSERT_TRUE(presentAndRecord(*client, window.surface(), green.buffer()).presented);
	comp::Screenshot shot = capture();
	ASSERT_EQ(shot.width, kWidth);
	EXPECT_EQ(shot.at(1, 1), kGreen);
	EXPECT_EQ(shot.at(64, 10), kBlack);
	EXPECT_EQ(server->run([](comp::Server &s) { return s.failedFrames(); }), 0u);
}

/*
 * Flips of a client buffer refused again and again though TEST_ONLY took
 * it (a display's bandwidth, a driver's own limits): after a few, the
 * buffer is composed and the client's frames are shown again.
 */
TEST_F(DrmMemoryRefusalTest, BufferWhoseFlipsAreRefusedIsComposed)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Fullscreen f = showFullscreen();
	ASSERT_TRUE(f.first.zeroCopy()) << "composed: " << lastRefusal();
	const uint64_t failures = drmStats().commitFailures;

	heapcomp_refuse_flips_of("system", EINVAL);
	Outcome outcome = presentUntilShown(*client, f.surface(), f.wlBuffer);
	ASSERT_FALSE(outcome.stalled) << "a frame callback never came after a refused commit";
	EXPECT_EQ(outcome.presented, 1);
	/* A refused frame is tried again at the next refresh: a slow client may see fewer go. */
	EXPECT_GE(outcome.discarded, 1);
	EXPECT_LE(outcome.discarded, 3);
	EXPECT_EQ(drmStats().commitFailures, failures + 3);
	EXPECT_NE(lastRefusal().find("refused 3 commits of it in a row"), std::string::npos)
		<< lastRefusal();
	PresentationRecord after = presentAndRecord(*client, f.surface(), f.wlBuffer);
	ASSERT_TRUE(after.presented);
	EXPECT_FALSE(after.zeroCopy());
	comp::Screenshot shot = capture();
	ASSERT_EQ(shot.width, kWidth);
	EXPECT_EQ(shot.at(10, 10), kRed);
	EXPECT_EQ(shot.at(10, kHeight - 10), kBlue);

	/*
	 * The verdict holds when another plane comes: scanout verdicts are
	 * otherwise tested again then, and this buffer would be refused again.
	 */
	SolidOverlay overlay(comp::Rect{ 400, 40, 160, 120 }, kGreen);
	server->run([&](comp::Server &s) { s.setOverlay(&overlay); });
	const uint64_t composedFailures = drmStats().commitFailures;
	for (int i = 0; i < 3; i++) {
		PresentationRecord again = presentAndRecord(*client, f.surface(), f.wlBuffer);
		EXPECT_TRUE(again.presented) << "frame " << i;
		EXPECT_FALSE(again.zeroCopy()) << "frame " << i;
	}
	EXPECT_TRUE(server->run([](comp::Server &s) { return s.overlayOnPlane(); }));
	EXPECT_EQ(drmStats().commitFailures, composedFailures);
	server->run([](comp::Server &s) { s.setOverlay(nullptr); });
}

class DrmLayerRefusalTest : public DrmPlayerTest
{
protected:
	void TearDown() override
	{
		heapcomp_refuse_flips_of(nullptr, 0);
		heapcomp_refuse_tests_of(nullptr, 0);
	}
};

/*
 * A TEST_ONLY commit refuses the video's system-heap buffers on an
 * overlay plane (E2BIG, as msm says): composed with the kernel's reason
 * for that surface, each buffer tested once; a CMA buffer then goes on
 * the plane.
 */
TEST_F(DrmLayerRefusalTest, TestOnlyRefusalHasAReasonPerSurface)
{
	const std::string cma = cmaHeapPath();
	if (cma.empty())
		SKIP_OR_FAIL_WITHOUT("no CMA heap");
	heapcomp_refuse_tests_of("system", E2BIG);
	ASSERT_NO_FATAL_FAILURE(startPlayer());
	for (int i = 0; i < 2; i++)
		ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[i]).presented);
	auto place = placeAt(kVideo);
	ASSERT_TRUE(place);
	EXPECT_EQ(place->where, comp::SurfacePlace::Where::Composed);
	EXPECT_NE(place->reason.find("TEST_ONLY"), std::string::npos) << place->reason;
	EXPECT_NE(place->reason.find(std::strerror(E2BIG)), std::string::npos) << place->reason;

	const comp::DrmStats before = drmStats();
	for (int i = 0; i < 6; i++) {
		PresentationRecord frame = presentAndRecord(*client, video, wlFrames[i % 2]);
		ASSERT_TRUE(frame.presented);
		EXPECT_FALSE(frame.zeroCopy());
	}
	EXPECT_EQ(drmStats().testCommits, before.testCommits) << "refused buffers were tested again";
	EXPECT_EQ(differences(capture(), player(1)), "");

	bufmgr::Buffer contiguous = videoBuffer(kRed, kBlue, cma, true);
	ASSERT_TRUE(contiguous.isValid());
	Proxy<wl_buffer> cmaBuffer = wrap(*client, contiguous);
	PresentationRecord direct = presentAndRecord(*client, video, cmaBuffer);
	EXPECT_TRUE(direct.zeroCopy()) << describePlace(kVideo);
	EXPECT_EQ(differences(capture(), player(0)), "");
}

/*
 * Flips with the video on its plane are refused though TEST_ONLY took
 * it: after three, each with "discarded" feedback and none stalled, the
 * video is composed, and shows.
 */
TEST_F(DrmLayerRefusalTest, RefusedLayerFlipsGoComposed)
{
	ASSERT_NO_FATAL_FAILURE(startPlayer());
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[0]).presented);
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[1]).zeroCopy()) << describePlace(kVideo);
	const uint64_t failures = drmStats().commitFailures;

	heapcomp_refuse_flips_of("system", EINVAL);
	Outcome outcome = presentUntilShown(*client, video, wlFrames[0]);
	ASSERT_FALSE(outcome.stalled) << "a frame callback never came after a refused commit";
	EXPECT_EQ(outcome.presented, 1);
	/* A refused frame is tried again at the next refresh: a slow client may see fewer go. */
	EXPECT_GE(outcome.discarded, 1);
	EXPECT_LE(outcome.discarded, 3);
	EXPECT_EQ(drmStats().commitFailures, failures + 3);
	EXPECT_NE(describePlace(kVideo).find("refused 3 commits of it in a row"), std::string::npos)
		<< describePlace(kVideo);
	PresentationRecord after = presentAndRecord(*client, video, wlFrames[0]);
	ASSERT_TRUE(after.presented);
	EXPECT_FALSE(after.zeroCopy());
	EXPECT_EQ(drmStats().clientPlanesShown, 0u);
	EXPECT_EQ(differences(capture(), player(0)), "");
}

/*
 * Commits that change only other planes leave the primary plane out: it
 * shows what it showed. A display that copies each frame (USB, SPI,
 * virtual) would copy all of a plane a commit names without damage clips.
 */
class DrmPrimaryLeftOutTest : public DrmPlayerTest
{
protected:
	void TearDown() override { heapcomp_count_commits_naming(0); }

	uint32_t primaryPlane()
	{
		return server->run([](comp::Server &s) {
			return static_cast<comp::DrmBackend &>(s.backend()).drmOutputs()[0]->primaryPlane();
		});
	}
};

/* The overlay on its plane changes over a client scanned out: the display shows both. */
TEST_F(DrmPrimaryLeftOutTest, OverlayChangesOverAScannedOutClient)
{
	const comp::Rect rect{ 400, 40, 160, 120 };
	Fullscreen f;
	ASSERT_NO_FATAL_FAILURE(showOverlayOverFullscreen(rect, kGreen, f));
	SolidOverlay &overlay = *planeOverlay;

	heapcomp_count_commits_naming(primaryPlane());
	for (uint32_t colour : { kBlue, 0xffffffffu }) {
		ASSERT_NO_FATAL_FAILURE(changeOverlay([&] { overlay.fill(colour); }));
		const comp::Screenshot shot = capture();
		ASSERT_EQ(shot.width, kWidth);
		EXPECT_EQ(shot.at(uint32_t(rect.x + 1), uint32_t(rect.y + 1)), colour);
		EXPECT_EQ(shot.at(uint32_t(rect.right() - 1), uint32_t(rect.bottom() - 1)), colour);
		EXPECT_EQ(shot.at(10, 10), kRed);
		EXPECT_EQ(shot.at(10, kHeight - 10), kBlue);
	}
	/* The overlay's commits and the captures'. */
	EXPECT_GE(heapcomp_commits_counted(), 2);
	EXPECT_EQ(heapcomp_commits_naming_object(), 0);
}

/* A video on its plane over a composed frame that stays: then the frame changes. */
TEST_F(DrmPrimaryLeftOutTest, VideoFramesOverAComposedFrameThatStays)
{
	ASSERT_NO_FATAL_FAILURE(startPlayer());
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[0]).presented);
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[1]).zeroCopy()) << describePlace(kVideo);
	const uint64_t rendered = repaintStats().rendered;

	heapcomp_count_commits_naming(primaryPlane());
	for (int i = 0; i < 4; i++)
		ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[i % 2]).zeroCopy()) << i;
	EXPECT_EQ(repaintStats().rendered, rendered);
	EXPECT_GE(heapcomp_commits_counted(), 4);
	EXPECT_EQ(heapcomp_commits_naming_object(), 0);
	EXPECT_EQ(differences(capture(), player(1)), "");

	/* The window under it changes: a composed frame, on the primary plane. */
	ASSERT_TRUE(presentAndRecord(*client, window->surface(), background->buffer()).presented);
	EXPECT_GT(repaintStats().rendered, rendered);
	EXPECT_GE(heapcomp_commits_naming_object(), 1);
	EXPECT_EQ(differences(capture(), player(1)), "");
}

class DrmReplugRefusalTest : public DrmMemoryRefusalTest
{
protected:
	/* heapcomp goes before the udevd and the device it uses. */
	void TearDown() override
	{
		client.reset();
		server.reset();
		udevd.reset();
		vkms.reset();
		DrmMemoryRefusalTest::TearDown();
	}

	bool connected()
	{
		return server->run([](comp::Server &s) {
			return static_cast<comp::DrmBackend &>(s.backend()).drmOutputs()[0]->connected();
		});
	}

	std::unique_ptr<Udevd> udevd;
	std::unique_ptr<ConfigfsVkms> vkms;
};

/*
 * "Composed from then on" lasts until the display is set again: plugged
 * in again, it is asked once more to show the buffer it kept refusing.
 */
TEST_F(DrmReplugRefusalTest, RefusedBufferIsTriedAgainAfterAReplug)
{
	udevd = std::make_unique<Udevd>();
	ASSERT_TRUE(udevd->ok()) << udevd->error();
	vkms = std::make_unique<ConfigfsVkms>("heapcomp-refused-replug");
	ASSERT_TRUE(vkms->ok()) << vkms->error();
	ASSERT_TRUE(udevd->settle());
	ASSERT_NO_FATAL_FAILURE(start(false, vkms->card()));
	Fullscreen f = showFullscreen();
	ASSERT_TRUE(f.first.zeroCopy()) << "composed: " << lastRefusal();

	heapcomp_refuse_flips_of("system", EINVAL);
	ASSERT_FALSE(presentUntilShown(*client, f.surface(), f.wlBuffer).stalled);
	heapcomp_refuse_flips_of(nullptr, 0);
	/* The kernel would take it now, but nothing has told heapcomp so. */
	EXPECT_FALSE(presentAndRecord(*client, f.surface(), f.wlBuffer).zeroCopy());

	ASSERT_TRUE(vkms->plug(false));
	ASSERT_TRUE(waitFor([&] { return !connected(); }, 30000));
	ASSERT_TRUE(vkms->plug(true));
	ASSERT_TRUE(waitFor([&] { return connected(); }, 30000));
	PresentationRecord again = presentAndRecord(*client, f.surface(), f.wlBuffer);
	ASSERT_TRUE(again.presented);
	EXPECT_TRUE(again.zeroCopy()) << "still composed: " << lastRefusal();
}

class DrmVblankRefusalTest : public DrmBackendTest
{
protected:
	void TearDown() override { heapcomp_refuse_vblank_events(0); }
};

/*
 * A driver without vblank events: a frame that shows nothing new still
 * completes one refresh later, timed, so a client that only asks for
 * frame callbacks is paced as on any display, and its next buffer shows.
 */
TEST_F(DrmVblankRefusalTest, FramesArePacedWithoutVblankEvents)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Window window(*client, "no vblank");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	ShmBuffer green(client->shm, 64, 48), red(client->shm, 64, 48);
	green.fill(kGreen);
	red.fill(kRed);
	ASSERT_TRUE(presentAndRecord(*client, window.surface(), green.buffer()).presented);

	heapcomp_refuse_vblank_events(EINVAL);
	const int refusedBefore = heapcomp_vblank_events_refused();
	const auto start = std::chrono::steady_clock::now();
	int frames = 0;
	for (; std::chrono::steady_clock::now() < start + std::chrono::seconds(1); frames++)
		ASSERT_TRUE(client->commitAndWaitFrame(window.surface())) << "frame " << frames;
	const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
		std::chrono::steady_clock::now() - start);
	/* 60 refreshes a second; unpaced, the client would spin. */
	const int refreshes = int(elapsed.count() * 60 / 1000);
	/* Paced, not stalled; under TCG how many depends on the host's load. */
	EXPECT_GE(frames, 2);
	EXPECT_LE(frames, refreshes + refreshes / 4 + 2) << elapsed.count() << " ms";
	/* Those frames waited for no vblank event: the driver "had" none. */
	EXPECT_GE(heapcomp_vblank_events_refused() - refusedBefore, 1);

	/* Each timed refresh counts as one, as the display's counter would. */
	const PresentationRecord first = presentAndRecord(*client, window.surface(), nullptr);
	const PresentationRecord second = presentAndRecord(*client, window.surface(), nullptr);
	ASSERT_TRUE(first.presented && second.presented);
	EXPECT_GT(second.sequence, first.sequence);

	ASSERT_TRUE(presentAndRecord(*client, window.surface(), red.buffer()).presented);
	comp::Screenshot shot = capture();
	ASSERT_EQ(shot.width, kWidth);
	EXPECT_EQ(shot.at(1, 1), kRed);
	EXPECT_EQ(server->run([](comp::Server &s) { return s.failedFrames(); }), 0u);
}

class DrmWritebackLossTest : public DrmBackendTest
{
protected:
	void TearDown() override { heapcomp_lose_writebacks(0); }
};

/*
 * A writeback the kernel never completes (VKMS can lose one) fails that
 * capture, and one asked for behind it, after a while instead of holding
 * the display's frames for good; later screenshots read the output
 * buffers.
 */
TEST_F(DrmWritebackLossTest, LostWritebackLetsFramesGoOn)
{
	ASSERT_NO_FATAL_FAILURE(start());
	Fullscreen f = showFullscreen();
	ASSERT_TRUE(f.first.zeroCopy()) << "composed: " << lastRefusal();

	heapcomp_lose_writebacks(1);
	auto future = requestCapture();
	ASSERT_TRUE(future.valid());
	/* Well after the first is in flight: it waits behind. */
	std::this_thread::sleep_for(std::chrono::milliseconds(500));
	auto behind = requestCapture();
	ASSERT_TRUE(behind.valid());
	for (auto *f : { &future, &behind }) {
		ASSERT_EQ(f->wait_for(std::chrono::seconds(30)), std::future_status::ready)
			<< "a lost writeback holds the capture for good";
		bufmgr::Result<comp::Screenshot> shot = f->get();
		ASSERT_FALSE(shot);
		EXPECT_NE(shot.error().message().find("writeback did not complete"), std::string::npos)
			<< shot.error().message();
	}
	EXPECT_EQ(drmStats().captureTimeouts, 1u);

	/* The client's frames reach the display again, on its plane. */
	for (int i = 0; i < 3; i++) {
		PresentationRecord record = presentAndRecord(*client, f.surface(), f.wlBuffer);
		ASSERT_TRUE(record.presented) << "frame " << i;
		EXPECT_TRUE(record.zeroCopy()) << "frame " << i;
	}
	/* No more writebacks on this connector: the server reads the buffers instead. */
	EXPECT_FALSE(requestCapture().valid());
}

} /* namespace */
} /* namespace heapcomp::test */
