/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A video-player-like client on the DRM backend: a fullscreen green
 * wl_shm window with a dma-buf subsurface (the video) of its own frames,
 * and what the display shows, pixel by pixel, through writeback.
 */
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <drm_fourcc.h>

#include <bufmgr/allocators.h>

#include "colour.h"
#include "drm_fixture.h"
#include "dmabuf_buffer.h"
#include "presentation_record.h"
#include "scene/output_repaint.h"
#include "test_client.h"

namespace heapcomp::test {

constexpr comp::Rect kVideo{ 100, 80, 200, 150 };
constexpr uint32_t kWhite = 0xffffffffu;

/* A video-sized dma-buf from a heap, top half one colour, bottom the other. */
inline bufmgr::Buffer videoBuffer(uint32_t top, uint32_t bottom,
				  const std::string &heap = "/dev/dma_heap/system", bool contiguous = false,
				  uint32_t format = DRM_FORMAT_XRGB8888)
{
	auto allocator = bufmgr::createDmaHeapAllocator(heap, contiguous);
	EXPECT_TRUE(allocator) << allocator.error().message();
	if (!allocator)
		return {};
	auto buffer = (*allocator)->allocate(bufmgr::AllocationRequest::image(
		uint32_t(kVideo.width), uint32_t(kVideo.height), format, bufmgr::Usage::Scanout,
		"drm-planes-test"));
	EXPECT_TRUE(buffer) << buffer.error().message();
	if (!buffer)
		return {};
	EXPECT_TRUE(fill(*buffer, top, bottom));
	return std::move(*buffer);
}

/* What a test expects at each pixel of the display. */
using Expected = std::function<uint32_t(int32_t x, int32_t y)>;

/* Pixels (on a grid) differing from expected by more than tolerance, with the first described. */
inline std::string differences(const comp::Screenshot &shot, const Expected &expected,
			       int tolerance = 0)
{
	if (shot.width != kWidth || shot.height != kHeight)
		return "no capture";
	size_t wrong = 0;
	std::ostringstream first;
	for (int32_t y = 0; y < int32_t(kHeight); y += 3)
		for (int32_t x = 0; x < int32_t(kWidth); x += 3) {
			const uint32_t want = expected(x, y);
			const uint32_t got = shot.at(uint32_t(x), uint32_t(y));
			if (near(got, want, tolerance))
				continue;
			if (!wrong++)
				first << " first at (" << x << "," << y << "): " << std::hex << got
				      << " for " << want;
			}
	if (!wrong)
		return {};
	return std::to_string(wrong) + " pixels differ;" + first.str();
}

inline bool inside(const comp::Rect &r, int32_t x, int32_t y)
{
	return x >= r.x && x < r.right() && y >= r.y && y < r.bottom();
}

class DrmPlayerTest : public DrmBackendTest
{
protected:
	/* The fullscreen green window with the video subsurface (none attached yet). */
	void startPlayer(bool requiresContiguous = false)
	{
		ASSERT_NO_FATAL_FAILURE(start(requiresContiguous));
		ASSERT_GE(drmStats().clientPlanes, 1u) << "no overlay plane for client buffers";
		ASSERT_NO_FATAL_FAILURE(makePlayer(*client));
	}

	/* The player's window and video, of c. */
	void makePlayer(TestClient &c)
	{
		window = std::make_unique<Window>(c, "player");
		ASSERT_TRUE(mapFullscreen(*window));
		background = std::make_unique<ShmBuffer>(c.shm, kWidth, kHeight);
		background->fill(kGreen);
		PresentationRecord composed = presentAndRecord(c, window->surface(), background->buffer());
		ASSERT_TRUE(composed.presented);
		EXPECT_FALSE(composed.zeroCopy());
		ASSERT_NO_FATAL_FAILURE(makeVideo(c, window->surface()));
	}

	/* The video subsurface of parent at kVideo, and its two frames (none attached yet). */
	void makeVideo(TestClient &c, wl_surface *parent)
	{
		video = Proxy<wl_surface>(wl_compositor_create_surface(c.compositor));
		videoRole = Proxy<wl_subsurface>(
			wl_subcompositor_get_subsurface(c.subcompositor, video, parent));
		wl_subsurface_set_position(videoRole, kVideo.x, kVideo.y);
		/* Its own frames, as a video player's. */
		wl_subsurface_set_desync(videoRole);
		frames[0] = videoBuffer(kRed, kBlue);
		frames[1] = videoBuffer(kBlue, kRed);
		ASSERT_TRUE(frames[0].isValid() && frames[1].isValid());
		wlFrames[0] = wrap(c, frames[0]);
		wlFrames[1] = wrap(c, frames[1]);
		/* The position takes effect with the parent's next commit. */
		wl_surface_commit(parent);
		ASSERT_TRUE(c.roundtrip());
	}

	/* Everything makePlayer() or makeVideo() made, gone (before its client). */
	void dropPlayer()
	{
		for (int i = 0; i < 2; i++) {
			wlFrames[i] = {};
			frames[i] = {};
		}
		videoRole = {};
		video = {};
		background.reset();
		window.reset();
	}

	/* The display: green, the video's frame i at rect (top and bottom halves). */
	static Expected player(int i, comp::Rect rect = kVideo)
	{
		return [i, rect](int32_t x, int32_t y) {
			if (!inside(rect, x, y))
				return kGreen;
			const bool top = y < rect.y + rect.height / 2;
			return (top == (i == 0)) ? kRed : kBlue;
		};
	}

	/* Where the surface at rect went in the last frame built. */
	std::optional<comp::SurfacePlace> placeAt(const comp::Rect &rect)
	{
		const auto places = server->run([](comp::Server &s) { return s.surfacePlaces(); });
		for (const comp::SurfacePlace &place : places)
			if (place.destination == rect)
				return place;
		return std::nullopt;
	}

	std::string describePlace(const comp::Rect &rect)
	{
		auto place = placeAt(rect);
		if (!place)
			return "not in the scene";
		static const char *const where[] = { "composed", "primary", "overlay" };
		return std::string(where[int(place->where)]) + " (" + place->reason + ")";
	}

	std::unique_ptr<Window> window;
	std::unique_ptr<ShmBuffer> background;
	Proxy<wl_surface> video;
	Proxy<wl_subsurface> videoRole;
	bufmgr::Buffer frames[2];
	Proxy<wl_buffer> wlFrames[2];
};

} /* namespace heapcomp::test */
