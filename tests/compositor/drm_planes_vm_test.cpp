/* SPDX-License-Identifier: MIT */
/*
 * Client buffers on VKMS's overlay planes: a video-player-like window —
 * a fullscreen wl_shm window with a dma-buf subsurface — shows the
 * subsurface on a plane of its own above the composed window, with
 * ZERO_COPY, and what the display read through writeback is checked
 * pixel by pixel as the subsurface goes on and off its plane.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <drm_fourcc.h>

#include <bufmgr/allocators.h>

#include "drm_player.h"
#include "dmabuf_buffer.h"
#include "dmabuf_feedback.h"
#include "fd_count.h"
#include "presentation_record.h"
#include "scene/output_repaint.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

class DrmPlanesTest : public DrmPlayerTest
{
protected:
	/*
	 * surface shows, at rect, a buffer of width x height its client
	 * turned by transform: from the system heap (composed, the display
	 * taking only contiguous memory), then from the CMA heap (on a
	 * plane). The display shows the same pixels both times.
	 */
	void planeShowsWhatCompositionDoes(wl_surface *surface, uint32_t transform, uint32_t width,
					   uint32_t height, const comp::Rect &rect)
	{
		auto system = bufmgr::createDmaHeapAllocator("/dev/dma_heap/system", false);
		auto contiguous = bufmgr::createDmaHeapAllocator(cmaHeapPath(), true);
		ASSERT_TRUE(system && contiguous);
		/* Red grows to the right, green downwards: any turn or flip shows. */
		auto pattern = [&](uint32_t x, uint32_t y) {
			return 0xff000000u | (x * 255 / width) << 16 | (y * 255 / height) << 8 |
			       (x < width / 4 ? 0xffu : 0u);
		};
		bufmgr::Buffer buffers[2];
		bufmgr::Allocator *allocators[2] = { system->get(), contiguous->get() };
		for (int i = 0; i < 2; i++) {
			auto buffer = allocators[i]->allocate(bufmgr::AllocationRequest::image(
				width, height, DRM_FORMAT_XRGB8888, bufmgr::Usage::Scanout, "turned"));
			ASSERT_TRUE(buffer) << buffer.error().message();
			buffers[i] = std::move(*buffer);
			ASSERT_TRUE(fill(buffers[i], pattern));
		}
		Proxy<wl_buffer> composedBuffer = wrap(*client, buffers[0]);
		Proxy<wl_buffer> planeBuffer = wrap(*client, buffers[1]);
		wl_surface_set_buffer_transform(surface, int32_t(transform));
		PresentationRecord composed = presentAndRecord(*client, surface, composedBuffer);
		ASSERT_TRUE(composed.presented);
		EXPECT_FALSE(composed.zeroCopy());
		const comp::Screenshot reference = capture();
		ASSERT_EQ(reference.width, kWidth);

		PresentationRecord direct = presentAndRecord(*client, surface, planeBuffer);
		for (int i = 0; i < 3 && !direct.zeroCopy(); i++)
			direct = presentAndRecord(*client, surface, planeBuffer);
		EXPECT_TRUE(direct.zeroCopy()) << describePlace(rect);
		EXPECT_EQ(differences(capture(),
				      [&](int32_t x, int32_t y) {
					      return reference.at(uint32_t(x), uint32_t(y));
				      }),
			  "");
	}
};

/*
 * The video on an overlay plane: ZERO_COPY for it, not for the window
 * below; new video frames reach the display with nothing composed.
 */
TEST_F(DrmPlanesTest, ClientBufferOnAnOverlayPlaneIsZeroCopy)
{
	ASSERT_NO_FATAL_FAILURE(startPlayer());
	PresentationRecord first = presentAndRecord(*client, video, wlFrames[0]);
	ASSERT_TRUE(first.presented);
	/* The first may be composed while no composed frame was there to test it over. */
	PresentationRecord onPlane = presentAndRecord(*client, video, wlFrames[1]);
	ASSERT_TRUE(onPlane.presented);
	EXPECT_TRUE(onPlane.zeroCopy()) << describePlace(kVideo);
	auto place = placeAt(kVideo);
	ASSERT_TRUE(place);
	EXPECT_EQ(place->where, comp::SurfacePlace::Where::Overlay) << place->reason;
	EXPECT_EQ(drmStats().clientPlanesShown, 1u);
	EXPECT_EQ(differences(capture(), player(1)), "");

	/* The window below is composed: no ZERO_COPY for it, and the video is not drawn under its plane. */
	const uint64_t imports = textureStats().dmaBufImports;
	PresentationRecord parent = presentAndRecord(*client, window->surface(), background->buffer());
	ASSERT_TRUE(parent.presented);
	EXPECT_FALSE(parent.zeroCopy());

	/* Ten video frames: each on the plane, none composed, no import or test after the first two. */
	const comp::RepaintStats before = repaintStats();
	const comp::DrmStats drmBefore = drmStats();
	for (int i = 0; i < 10; i++) {
		PresentationRecord frame = presentAndRecord(*client, video, wlFrames[i % 2]);
		ASSERT_TRUE(frame.presented);
		EXPECT_TRUE(frame.zeroCopy()) << "frame " << i << ": " << describePlace(kVideo);
	}
	const comp::RepaintStats after = repaintStats();
	EXPECT_EQ(after.rendered, before.rendered) << "video frames were composed";
	EXPECT_GE(after.planesUpdated, before.planesUpdated + 10);
	const comp::DrmStats drmAfter = drmStats();
	EXPECT_EQ(drmAfter.framebuffersImported, drmBefore.framebuffersImported);
	EXPECT_EQ(drmAfter.testCommits, drmBefore.testCommits);
	/* Only the display read the video's buffers since: the renderer imported none. */
	EXPECT_EQ(textureStats().dmaBufImports, imports);
	EXPECT_EQ(differences(capture(), player(1)), "");
}

/*
 * Planes only: a fullscreen dma-buf window on the primary plane and its
 * video subsurface on an overlay plane, nothing composed. Both get
 * ZERO_COPY, and the display shows the video over the window.
 */
TEST_F(DrmPlanesTest, FullscreenBufferAndVideoOnPlanesNothingComposed)
{
	ASSERT_NO_FATAL_FAILURE(start());
	ASSERT_GE(drmStats().clientPlanes, 1u) << "no overlay plane for client buffers";
	Fullscreen f = showFullscreen();
	ASSERT_TRUE(f.first.zeroCopy()) << lastRefusal();
	ASSERT_NO_FATAL_FAILURE(makeVideo(*client, f.surface()));
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[0]).presented);

	const comp::RepaintStats before = repaintStats();
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(presentAndRecord(*client, video, wlFrames[i % 2]).zeroCopy())
			<< i << ": " << describePlace(kVideo);
	EXPECT_TRUE(presentAndRecord(*client, f.surface(), f.wlBuffer).zeroCopy()) << lastRefusal();
	EXPECT_EQ(repaintStats().rendered, before.rendered) << "composed";
	auto videoPlace = placeAt(kVideo);
	ASSERT_TRUE(videoPlace);
	EXPECT_EQ(videoPlace->where, comp::SurfacePlace::Where::Overlay) << videoPlace->reason;
	auto windowPlace = placeAt(comp::Rect{ 0, 0, int32_t(kWidth), int32_t(kHeight) });
	ASSERT_TRUE(windowPlace);
	EXPECT_EQ(windowPlace->where, comp::SurfacePlace::Where::Primary) << windowPlace->reason;
	EXPECT_EQ(drmStats().clientPlanesShown, 1u);
	EXPECT_EQ(differences(capture(),
			      [](int32_t x, int32_t y) {
				      if (inside(kVideo, x, y))
					      return y < kVideo.y + kVideo.height / 2 ? kBlue : kRed;
				      return y < int32_t(kHeight) / 2 ? kRed : kBlue;
			      }),
		  "");
}

/*
 * A display that takes only contiguous memory, and a fullscreen window
 * from the system heap under as many tiles from the CMA heap as there
 * are overlay planes. The tiles go on the overlay planes, so the window
 * has none to try: composed, its feedback still offers a scanout tranche
 * with what the primary plane takes. From the CMA heap too, the window
 * goes on the primary plane: nothing is composed.
 */
TEST_F(DrmPlanesTest, WindowUnderClientPlanesGetsAScanoutTranche)
{
	const std::string cma = cmaHeapPath();
	if (cma.empty())
		SKIP_OR_FAIL_WITHOUT("no CMA heap");
	ASSERT_NO_FATAL_FAILURE(start(true));
	const size_t planes = drmStats().clientPlanes;
	ASSERT_GE(planes, 1u) << "no overlay plane for client buffers";
	Fullscreen f = showFullscreen();
	ASSERT_FALSE(f.first.zeroCopy()) << "system-heap memory scanned out";

	auto contiguous = bufmgr::createDmaHeapAllocator(cma, true);
	ASSERT_TRUE(contiguous) << contiguous.error().message();
	constexpr int32_t kTile = 48;
	auto tileAt = [](size_t i) {
		return comp::Rect{ 16 + int32_t(i % 8) * (kTile + 16), 64 + int32_t(i / 8) * (kTile + 16),
				   kTile, kTile };
	};
	struct Tile {
		Proxy<wl_surface> surface;
		Proxy<wl_subsurface> role;
		bufmgr::Buffer buffer;
		Proxy<wl_buffer> wlBuffer;
	};
	std::vector<Tile> tiles(planes);
	for (size_t i = 0; i < planes; i++) {
		Tile &t = tiles[i];
		auto buffer = (*contiguous)->allocate(bufmgr::AllocationRequest::image(
			kTile, kTile, DRM_FORMAT_XRGB8888, bufmgr::Usage::Scanout, "tile"));
		ASSERT_TRUE(buffer) << buffer.error().message();
		t.buffer = std::move(*buffer);
		ASSERT_TRUE(fill(t.buffer, kWhite, kWhite));
		t.wlBuffer = wrap(*client, t.buffer);
		t.surface = Proxy<wl_surface>(wl_compositor_create_surface(client->compositor));
		t.role = Proxy<wl_subsurface>(
			wl_subcompositor_get_subsurface(client->subcompositor, t.surface, f.surface()));
		wl_subsurface_set_position(t.role, tileAt(i).x, tileAt(i).y);
		wl_subsurface_set_desync(t.role);
	}
	wl_surface_commit(f.surface());
	for (Tile &t : tiles)
		ASSERT_TRUE(presentAndRecord(*client, t.surface, t.wlBuffer).presented);
	ASSERT_TRUE(presentAndRecord(*client, tiles.back().surface, tiles.back().wlBuffer).zeroCopy())
		<< describePlace(tileAt(planes - 1));
	for (size_t i = 0; i < planes; i++) {
		auto place = placeAt(tileAt(i));
		ASSERT_TRUE(place) << "tile " << i;
		EXPECT_EQ(place->where, comp::SurfacePlace::Where::Overlay) << i << ": " << place->reason;
	}
	const comp::Rect whole{ 0, 0, int32_t(kWidth), int32_t(kHeight) };
	auto windowPlace = placeAt(whole);
	ASSERT_TRUE(windowPlace);
	EXPECT_EQ(windowPlace->where, comp::SurfacePlace::Where::Composed);
	/* The primary plane's refusal, not the overlay planes' (none left to try). */
	EXPECT_NE(windowPlace->reason.find("not contiguous"), std::string::npos)
		<< windowPlace->reason;

	DmabufFeedback feedback;
	Proxy<zwp_linux_dmabuf_feedback_v1> object(
		zwp_linux_dmabuf_v1_get_surface_feedback(client->dmabuf, f.surface()));
	feedback.listen(object);
	/* Made now, it tells the decision of now at once. */
	ASSERT_TRUE(client->dispatchUntil([&] { return feedback.dones >= 1; }));
	ASSERT_EQ(feedback.tranches.size(), 2u) << "no scanout tranche for the window";
	const DmabufFeedback::Tranche &scanout = feedback.tranches[0];
	EXPECT_TRUE(scanout.flags & ZWP_LINUX_DMABUF_FEEDBACK_V1_TRANCHE_FLAGS_SCANOUT);
	EXPECT_TRUE(feedback.has(scanout, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR));

	/* What the tranche says, from contiguous memory: planes only (as before the tranche was offered). */
	bufmgr::Buffer window = heapBuffer(cma, true);
	ASSERT_TRUE(window.isValid());
	Proxy<wl_buffer> wlWindow = wrap(*client, window);
	EXPECT_TRUE(presentAndRecord(*client, f.surface(), wlWindow).zeroCopy()) << lastRefusal();
	const comp::RepaintStats before = repaintStats();
	EXPECT_TRUE(presentAndRecord(*client, tiles[0].surface, tiles[0].wlBuffer).zeroCopy())
		<< describePlace(tileAt(0));
	EXPECT_EQ(repaintStats().rendered, before.rendered) << "composed";
	windowPlace = placeAt(whole);
	ASSERT_TRUE(windowPlace);
	EXPECT_EQ(windowPlace->where, comp::SurfacePlace::Where::Primary) << windowPlace->reason;
	EXPECT_EQ(differences(capture(),
			      [&](int32_t x, int32_t y) {
				      for (size_t i = 0; i < planes; i++)
					      if (inside(tileAt(i), x, y))
						      return kWhite;
				      return y < int32_t(kHeight) / 2 ? kRed : kBlue;
			      }),
		  "");
	EXPECT_EQ(feedback.tranches.size(), 2u) << "the tranche went while the buffer is on it";
}

/*
 * A video the client turned or flipped (wl_surface.set_buffer_transform)
 * goes on an overlay plane whose "rotation" undoes it, and the display
 * shows exactly what composition shows: the same picture from the
 * system heap (composed: the display takes only contiguous memory) and
 * from the CMA heap (on the plane), for each transform but the identity.
 */
TEST_F(DrmPlanesTest, TransformedVideoOnAPlaneShowsWhatCompositionDoes)
{
	if (cmaHeapPath().empty())
		SKIP_OR_FAIL_WITHOUT("no CMA heap");
	ASSERT_NO_FATAL_FAILURE(startPlayer(true));
	for (uint32_t t = WL_OUTPUT_TRANSFORM_90; t <= WL_OUTPUT_TRANSFORM_FLIPPED_270; t++) {
		SCOPED_TRACE("transform " + std::to_string(t));
		/* The buffer's size before the turn: the video's once turned. */
		const bool swapped = t & 1;
		const uint32_t width = uint32_t(swapped ? kVideo.height : kVideo.width);
		const uint32_t height = uint32_t(swapped ? kVideo.width : kVideo.height);
		ASSERT_NO_FATAL_FAILURE(planeShowsWhatCompositionDoes(video, t, width, height, kVideo));
	}
}

/*
 * A fullscreen client that turned or flipped its buffer goes on the
 * primary plane, whose "rotation" undoes it, and the display shows
 * exactly what composition shows, as for an overlay plane above.
 */
TEST_F(DrmPlanesTest, TransformedFullscreenBufferOnThePrimaryPlane)
{
	if (cmaHeapPath().empty())
		SKIP_OR_FAIL_WITHOUT("no CMA heap");
	ASSERT_NO_FATAL_FAILURE(start(true));
	Window window(*client, "turned");
	ASSERT_TRUE(mapFullscreen(window));
	for (uint32_t t = WL_OUTPUT_TRANSFORM_90; t <= WL_OUTPUT_TRANSFORM_FLIPPED_270; t++) {
		SCOPED_TRACE("transform " + std::to_string(t));
		const bool swapped = t & 1;
		ASSERT_NO_FATAL_FAILURE(planeShowsWhatCompositionDoes(
			window.surface(), t, swapped ? kHeight : kWidth, swapped ? kWidth : kHeight,
			comp::Rect{ 0, 0, int32_t(kWidth), int32_t(kHeight) }));
		auto place = placeAt(comp::Rect{ 0, 0, int32_t(kWidth), int32_t(kHeight) });
		ASSERT_TRUE(place);
		EXPECT_EQ(place->where, comp::SurfacePlace::Where::Primary) << place->reason;
	}
}

/*
 * A translucent video (ARGB, no opaque region) on VKMS's overlay plane:
 * the display blends it over the composed window, premultiplied, as the
 * renderer would; the window is drawn below it when it changes, and the
 * video's own frames compose nothing.
 */
TEST_F(DrmPlanesTest, TranslucentBufferIsBlendedByThePlane)
{
	ASSERT_NO_FATAL_FAILURE(startPlayer());
	/* Half-transparent red and blue, premultiplied. */
	constexpr uint32_t kHalfRed = 0x80800000u, kHalfBlue = 0x80000080u;
	const std::string system = "/dev/dma_heap/system";
	bufmgr::Buffer argb[2] = {
		videoBuffer(kHalfRed, kHalfBlue, system, false, DRM_FORMAT_ARGB8888),
		videoBuffer(kHalfBlue, kHalfRed, system, false, DRM_FORMAT_ARGB8888),
	};
	ASSERT_TRUE(argb[0].isValid() && argb[1].isValid());
	Proxy<wl_buffer> wlArgb[2] = { wrap(*client, argb[0]), wrap(*client, argb[1]) };

	ASSERT_TRUE(presentAndRecord(*client, video, wlArgb[0]).presented);
	PresentationRecord onPlane = presentAndRecord(*client, video, wlArgb[0]);
	ASSERT_TRUE(onPlane.presented);
	EXPECT_TRUE(onPlane.zeroCopy()) << describePlace(kVideo);
	EXPECT_EQ(drmStats().clientPlanesShown, 1u);
	/* The display's blending, in 16 bits a channel, may round otherwise than pixman. */
	constexpr int kTolerance = 2;
	auto blended = [&](int frame, uint32_t window) -> Expected {
		return [frame, window](int32_t x, int32_t y) {
			if (!inside(kVideo, x, y))
				return window;
			const bool top = y < kVideo.y + kVideo.height / 2;
			return over(top == (frame == 0) ? kHalfRed : kHalfBlue, window);
		};
	};
	EXPECT_EQ(differences(capture(), blended(0, kGreen), kTolerance), "");

	/* The window changes: below the video too. */
	background->fill(kWhite);
	ASSERT_FALSE(presentAndRecord(*client, window->surface(), background->buffer()).zeroCopy());
	EXPECT_EQ(differences(capture(), blended(0, kWhite), kTolerance), "");

	const comp::RepaintStats before = repaintStats();
	for (int i = 1; i <= 4; i++) {
		PresentationRecord frame = presentAndRecord(*client, video, wlArgb[i % 2]);
		ASSERT_TRUE(frame.presented);
		EXPECT_TRUE(frame.zeroCopy()) << "frame " << i << ": " << describePlace(kVideo);
	}
	EXPECT_EQ(repaintStats().rendered, before.rendered) << "video frames were composed";
	EXPECT_EQ(differences(capture(), blended(0, kWhite), kTolerance), "");
}

/*
 * Composed content over the video (an wl_shm subsurface above it) keeps
 * it composed, with the reason; moved away, the video goes back on its
 * plane and no stale pixels stay where the cover was.
 */
TEST_F(DrmPlanesTest, ComposedContentAboveKeepsItComposed)
{
	ASSERT_NO_FATAL_FAILURE(startPlayer());
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[0]).presented);
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[1]).zeroCopy()) << describePlace(kVideo);
	/* The window redrawn around it into every output buffer: none holds the video. */
	for (int i = 0; i < 3; i++) {
		PresentationRecord parent =
			presentAndRecord(*client, window->surface(), background->buffer());
		ASSERT_TRUE(parent.presented);
		EXPECT_FALSE(parent.zeroCopy());
	}
	EXPECT_EQ(placeAt(kVideo)->where, comp::SurfacePlace::Where::Overlay);

	/* A white 40x40 label over the video's top-left corner, as subtitles would be. */
	const comp::Rect label{ kVideo.x - 10, kVideo.y - 10, 40, 40 };
	Proxy<wl_surface> labelSurface(wl_compositor_create_surface(client->compositor));
	Proxy<wl_subsurface> labelRole(wl_subcompositor_get_subsurface(
		client->subcompositor, labelSurface, window->surface()));
	wl_subsurface_set_position(labelRole, label.x, label.y);
	wl_subsurface_set_desync(labelRole);
	ShmBuffer white(client->shm, uint32_t(label.width), uint32_t(label.height));
	white.fill(kWhite);
	wl_surface_commit(window->surface());
	ASSERT_TRUE(client->roundtrip());
	/* The video's pixels leave its plane with no new frame of its own: all drawn from it. */
	ASSERT_TRUE(presentAndRecord(*client, labelSurface, white.buffer()).presented);
	auto place = placeAt(kVideo);
	ASSERT_TRUE(place);
	EXPECT_EQ(place->where, comp::SurfacePlace::Where::Composed);
	EXPECT_EQ(place->reason, "under composed content");
	EXPECT_EQ(drmStats().clientPlanesShown, 0u);
	EXPECT_EQ(differences(capture(), [&](int32_t x, int32_t y) {
			  return inside(label, x, y) ? kWhite : player(1)(x, y);
		  }),
		  "");

	PresentationRecord covered = presentAndRecord(*client, video, wlFrames[0]);
	ASSERT_TRUE(covered.presented);
	EXPECT_FALSE(covered.zeroCopy());
	EXPECT_EQ(differences(capture(), [&](int32_t x, int32_t y) {
			  return inside(label, x, y) ? kWhite : player(0)(x, y);
		  }),
		  "");

	/* The label moves off the video: back on the plane, every pixel right. */
	const comp::Rect moved{ 400, 300, 40, 40 };
	wl_subsurface_set_position(labelRole, moved.x, moved.y);
	wl_surface_commit(window->surface());
	ASSERT_TRUE(client->roundtrip());
	const Expected labelMoved = [&](int32_t x, int32_t y) {
		return inside(moved, x, y) ? kWhite : player(1)(x, y);
	};
	/* Three frames: every output buffer is drawn once more. */
	for (int i = 0; i < 3; i++) {
		PresentationRecord frame = presentAndRecord(*client, video, wlFrames[1]);
		ASSERT_TRUE(frame.presented);
		EXPECT_TRUE(frame.zeroCopy()) << describePlace(kVideo);
		EXPECT_EQ(differences(capture(), labelMoved), "") << "frame " << i;
	}

	/* Gone from its plane for good (the window unmapped): nothing of it stays. */
	wl_surface_attach(video, nullptr, 0, 0);
	wl_surface_commit(video);
	ASSERT_TRUE(client->roundtrip());
	PresentationRecord parent = presentAndRecord(*client, window->surface(), background->buffer());
	ASSERT_TRUE(parent.presented);
	EXPECT_EQ(drmStats().clientPlanesShown, 0u);
	EXPECT_EQ(differences(capture(), [&](int32_t x, int32_t y) {
			  return inside(moved, x, y) ? kWhite : kGreen;
		  }),
		  "");
}

/*
 * The player's client goes while its video is on a plane: the plane goes
 * off, the display shows what is left, and every framebuffer and fd the
 * client's buffers took is given back.
 */
TEST_F(DrmPlanesTest, ClientGoneWhileOnAnOverlayPlane)
{
	ASSERT_NO_FATAL_FAILURE(start());
	ASSERT_TRUE(server->waitFrames(2));
	/* The capture buffer stays once made: made before the count. */
	ASSERT_EQ(capture().width, kWidth);
	const int fds = countOpenFds();
	{
		TestClient other(server->socket());
		ASSERT_NO_FATAL_FAILURE(makePlayer(other));
		ASSERT_TRUE(presentAndRecord(other, video, wlFrames[0]).presented);
		ASSERT_TRUE(presentAndRecord(other, video, wlFrames[1]).zeroCopy())
			<< describePlace(kVideo);
		EXPECT_EQ(drmStats().clientPlanesShown, 1u);
		dropPlayer();
	}
	ASSERT_TRUE(server->waitFrames(3));
	EXPECT_EQ(differences(capture(), [](int32_t, int32_t) { return kBlack; }), "");
	EXPECT_EQ(drmStats().clientPlanesShown, 0u);
	EXPECT_EQ(drmStats().liveClientFramebuffers, 0u);
	EXPECT_EQ(countOpenFds(), fds);
}

/*
 * A display that takes only contiguous memory: the video from the
 * system heap is composed, and its dma-buf feedback offers a scanout
 * tranche with what the overlay planes take; from the CMA heap it goes
 * on a plane. Covered by composed content, it loses the tranche.
 */
TEST_F(DrmPlanesTest, OverlayCandidateGetsAScanoutTranche)
{
	const std::string cma = cmaHeapPath();
	if (cma.empty())
		SKIP_OR_FAIL_WITHOUT("no CMA heap");
	ASSERT_NO_FATAL_FAILURE(startPlayer(true));
	DmabufFeedback feedback;
	Proxy<zwp_linux_dmabuf_feedback_v1> object(
		zwp_linux_dmabuf_v1_get_surface_feedback(client->dmabuf, video));
	feedback.listen(object);
	ASSERT_TRUE(client->dispatchUntil([&] { return feedback.dones >= 1; }));
	ASSERT_EQ(feedback.tranches.size(), 1u) << "a scanout tranche before any buffer";

	PresentationRecord composed = presentAndRecord(*client, video, wlFrames[0]);
	ASSERT_TRUE(composed.presented);
	EXPECT_FALSE(composed.zeroCopy());
	EXPECT_NE(describePlace(kVideo).find("not contiguous"), std::string::npos)
		<< describePlace(kVideo);
	/* After the hysteresis: the scanout tranche first. */
	ASSERT_TRUE(client->dispatchUntil([&] { return feedback.tranches.size() == 2; }))
		<< describePlace(kVideo);
	const DmabufFeedback::Tranche &scanout = feedback.tranches[0];
	EXPECT_TRUE(scanout.flags & ZWP_LINUX_DMABUF_FEEDBACK_V1_TRANCHE_FLAGS_SCANOUT);
	EXPECT_TRUE(feedback.has(scanout, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR));

	/* What the tranche says, from contiguous memory: on the plane. */
	bufmgr::Buffer contiguous = videoBuffer(kBlue, kRed, cma, true);
	ASSERT_TRUE(contiguous.isValid());
	Proxy<wl_buffer> cmaBuffer = wrap(*client, contiguous);
	PresentationRecord direct = presentAndRecord(*client, video, cmaBuffer);
	for (int i = 0; i < 3 && !direct.zeroCopy(); i++)
		direct = presentAndRecord(*client, video, cmaBuffer);
	EXPECT_TRUE(direct.zeroCopy()) << describePlace(kVideo);
	EXPECT_EQ(differences(capture(), player(1)), "");
	EXPECT_EQ(feedback.tranches.size(), 2u) << "the tranche went while the buffer is on it";

	/* The window's wl_shm content over it: composed, and no scanout tranche. */
	Proxy<wl_surface> labelSurface(wl_compositor_create_surface(client->compositor));
	Proxy<wl_subsurface> labelRole(wl_subcompositor_get_subsurface(
		client->subcompositor, labelSurface, window->surface()));
	wl_subsurface_set_position(labelRole, kVideo.x, kVideo.y);
	wl_subsurface_set_desync(labelRole);
	ShmBuffer white(client->shm, 40, 40);
	white.fill(kWhite);
	wl_surface_commit(window->surface());
	ASSERT_TRUE(presentAndRecord(*client, labelSurface, white.buffer()).presented);
	EXPECT_EQ(describePlace(kVideo), "composed (under composed content)");
	EXPECT_TRUE(client->dispatchUntil([&] { return feedback.tranches.size() == 1; }));
}

/*
 * heapcomp's own overlay stays above client planes: where it overlaps
 * the video it shows, and neither is composed.
 */
TEST_F(DrmPlanesTest, StatsOverlayStaysAboveClientPlanes)
{
	ASSERT_NO_FATAL_FAILURE(startPlayer());
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[0]).presented);
	ASSERT_TRUE(presentAndRecord(*client, video, wlFrames[1]).zeroCopy()) << describePlace(kVideo);

	const comp::Rect rect{ kVideo.x + 100, kVideo.y + 50, 160, 120 };
	SolidOverlay overlay(rect, kWhite);
	server->run([&](comp::Server &s) { s.setOverlay(&overlay); });
	PresentationRecord frame = presentAndRecord(*client, video, wlFrames[0]);
	ASSERT_TRUE(frame.presented);
	EXPECT_TRUE(server->run([](comp::Server &s) { return s.overlayOnPlane(); }));
	/* The overlay changed planes' verdicts: a frame or two to settle on them again. */
	for (int i = 0; i < 3 && !frame.zeroCopy(); i++)
		frame = presentAndRecord(*client, video, wlFrames[0]);
	EXPECT_TRUE(frame.zeroCopy()) << describePlace(kVideo);

	const comp::RepaintStats before = repaintStats();
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(presentAndRecord(*client, video, wlFrames[i % 2]).zeroCopy());
	EXPECT_EQ(repaintStats().rendered, before.rendered);
	EXPECT_EQ(differences(capture(), [&](int32_t x, int32_t y) {
			  return inside(rect, x, y) ? kWhite : player(1)(x, y);
		  }),
		  "");
	server->run([](comp::Server &s) { s.setOverlay(nullptr); });
}

} /* namespace */
} /* namespace heapcomp::test */
