/* SPDX-License-Identifier: MIT */
/*
 * wl_surface.set_buffer_transform and set_buffer_scale: a client draws
 * its content already flipped and rotated, and the screen shows it
 * upright, at the right size, cropped and hit where the client meant.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "picture.h"
#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

constexpr uint32_t kWhite = 0xffffffff;
constexpr uint32_t kYellow = 0xffffff00;

/*
 * The upright content: four quadrants of different colours and a white
 * mark near the top-left corner, so that every flip and rotation of it
 * looks different.
 */
Picture upright(int width, int height)
{
	Picture p(width, height);
	for (int y = 0; y < height; y++) {
		for (int x = 0; x < width; x++) {
			bool right = x >= width / 2, bottom = y >= height / 2;
			p.at(x, y) = bottom ? (right ? kYellow : kBlue) : (right ? kGreen : kRed);
		}
	}
	for (int y = 2; y < 4; y++)
		for (int x = 2; x < 6; x++)
			p.at(x, y) = kWhite;
	return p;
}

/* Mirrored around the vertical axis. */
Picture flipped(const Picture &in)
{
	Picture out(in.width, in.height);
	for (int y = 0; y < in.height; y++)
		for (int x = 0; x < in.width; x++)
			out.at(x, y) = in.at(in.width - 1 - x, y);
	return out;
}

/* Turned a quarter counter-clockwise: the top-right corner goes to the top-left. */
Picture rotatedCcw(const Picture &in)
{
	Picture out(in.height, in.width);
	for (int y = 0; y < out.height; y++)
		for (int x = 0; x < out.width; x++)
			out.at(x, y) = in.at(in.width - 1 - y, x);
	return out;
}

/* What a client draws for wl_output.transform t: flip first, then rotate. */
Picture clientDraws(const Picture &content, int32_t transform)
{
	Picture out = transform >= WL_OUTPUT_TRANSFORM_FLIPPED ? flipped(content) : content;
	for (int i = 0; i < (transform & 3); i++)
		out = rotatedCcw(out);
	return out;
}

/* Each buffer pixel repeated scale x scale times. */
Picture scaledUp(const Picture &in, int scale)
{
	Picture out(in.width * scale, in.height * scale);
	for (int y = 0; y < out.height; y++)
		for (int x = 0; x < out.width; x++)
			out.at(x, y) = in.at(x / scale, y / scale);
	return out;
}

const char *const kTransformNames[] = { "Normal",  "Rotate90",  "Rotate180",  "Rotate270",
					"Flipped", "Flipped90", "Flipped180", "Flipped270" };

struct TransformCase {
	int32_t transform;
	int32_t scale;
};

/*
 * Each case: a server, a client, and a toplevel whose buffer holds the
 * upright content as the client draws it for the case's transform and
 * scale, shown.
 */
class BufferTransform : public ::testing::TestWithParam<TransformCase>
{
protected:
	void SetUp() override
	{
		ASSERT_TRUE(server_.ok()) << server_.error();
		drawn_ = draw(content_);
		buffer_.emplace(client_.shm, uint32_t(drawn_.width), uint32_t(drawn_.height));
		copyInto(*buffer_, drawn_);
		ASSERT_TRUE(window_.waitConfigure());
		window_.ack();
		wl_surface_set_buffer_transform(window_.surface(), GetParam().transform);
		wl_surface_set_buffer_scale(window_.surface(), GetParam().scale);
		ASSERT_TRUE(window_.present(buffer_->buffer(), drawn_.width, drawn_.height));
	}

	Picture draw(const Picture &content) const
	{
		return scaledUp(clientDraws(content, GetParam().transform), GetParam().scale);
	}

	ServerRunner server_;
	TestClient client_{ server_.socket() };
	Window window_{ client_, "transform" };
	Picture content_ = upright(40, 20);
	Picture drawn_{ 0, 0 };
	std::optional<ShmBuffer> buffer_;
};

TEST_P(BufferTransform, ScreenShowsTheContentUpright)
{
	comp::Screenshot shot = server_.screenshot();
	EXPECT_TRUE(shows(shot, 0, 0, content_));
	/* Exactly the content's size: background right of and below it. */
	EXPECT_EQ(shot.at(40, 5), kBackground);
	EXPECT_EQ(shot.at(5, 20), kBackground);
	EXPECT_FALSE(client_.error());
}

/* Surface damage is in surface coordinates: it must reach the right buffer pixels. */
TEST_P(BufferTransform, SurfaceDamageUpdatesTheRightPixels)
{
	/* A 6x4 patch near the bottom-right corner changes; only it is damaged. */
	content_.fillRect(30, 13, 6, 4, kWhite);
	copyInto(*buffer_, draw(content_));
	wl_surface_attach(window_.surface(), buffer_->buffer(), 0, 0);
	wl_surface_damage(window_.surface(), 30, 13, 6, 4);
	ASSERT_TRUE(client_.commitAndWaitFrame(window_.surface()));
	EXPECT_TRUE(shows(server_.screenshot(), 0, 0, content_));
}

/* Buffer damage on a transformed surface: the screen repaints where the change shows. */
TEST_P(BufferTransform, BufferDamageRepaintsWhereTheChangeShows)
{
	/* Twice: the second frame goes into a buffer that already has the first. */
	for (uint32_t colour : { kWhite, kBlue }) {
		content_.fillRect(30, 13, 6, 4, colour);
		const Picture before = drawn_;
		drawn_ = draw(content_);
		copyInto(*buffer_, drawn_);
		/* The damage is what changed in the buffer, found by comparing. */
		int x0 = drawn_.width, y0 = drawn_.height, x1 = 0, y1 = 0;
		for (int y = 0; y < drawn_.height; y++) {
			for (int x = 0; x < drawn_.width; x++) {
				if (drawn_.at(x, y) == before.at(x, y))
					continue;
				x0 = std::min(x0, x);
				y0 = std::min(y0, y);
				x1 = std::max(x1, x + 1);
				y1 = std::max(y1, y + 1);
			}
		}
		ASSERT_LT(x0, x1);
		wl_surface_attach(window_.surface(), buffer_->buffer(), 0, 0);
		wl_surface_damage_buffer(window_.surface(), x0, y0, x1 - x0, y1 - y0);
		ASSERT_TRUE(client_.commitAndWaitFrame(window_.surface()));
		EXPECT_TRUE(shows(server_.screenshot(), 0, 0, content_));
	}
	comp::RepaintStats stats = server_.run([](comp::Server &s) { return s.repaintStats(); });
	EXPECT_EQ(stats.lastPixels, 6u * 4) << "not just the patch was drawn";
}

INSTANTIATE_TEST_SUITE_P(
	All, BufferTransform,
	::testing::Values(TransformCase{ 0, 1 }, TransformCase{ 1, 1 }, TransformCase{ 2, 1 },
			  TransformCase{ 3, 1 }, TransformCase{ 4, 1 }, TransformCase{ 5, 1 },
			  TransformCase{ 6, 1 }, TransformCase{ 7, 1 }, TransformCase{ 1, 2 },
			  TransformCase{ 6, 2 }, TransformCase{ 7, 3 }),
	[](const ::testing::TestParamInfo<TransformCase> &info) {
		return std::string(kTransformNames[info.param.transform]) + "Scale" +
		       std::to_string(info.param.scale);
	});

/* wp_viewport's source is in the transformed, scaled buffer: the upright content. */
TEST(BufferTransformViewport, CropIsInSurfaceCoordinates)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());

	const Picture content = upright(40, 20);
	const Picture drawn = scaledUp(clientDraws(content, WL_OUTPUT_TRANSFORM_90), 2);
	ShmBuffer buffer(client.shm, uint32_t(drawn.width), uint32_t(drawn.height));
	copyInto(buffer, drawn);
	Window window(client, "crop");
	Proxy<wp_viewport> viewport(wp_viewporter_get_viewport(client.viewporter, window.surface()));
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	wl_surface_set_buffer_transform(window.surface(), WL_OUTPUT_TRANSFORM_90);
	wl_surface_set_buffer_scale(window.surface(), 2);

	/* The content's right half, shown at its own size (20x20). */
	wp_viewport_set_source(viewport, wl_fixed_from_int(20), 0, wl_fixed_from_int(20),
			       wl_fixed_from_int(20));
	ASSERT_TRUE(window.present(buffer.buffer(), drawn.width, drawn.height));
	comp::Screenshot shot = server.screenshot();
	Picture right(20, 20);
	for (int y = 0; y < 20; y++)
		for (int x = 0; x < 20; x++)
			right.at(x, y) = content.at(20 + x, y);
	EXPECT_TRUE(shows(shot, 0, 0, right));
	EXPECT_EQ(shot.at(20, 5), kBackground);

	/* The top-left quadrant stretched to 40x20: its white mark lands at twice the size. */
	wp_viewport_set_source(viewport, 0, 0, wl_fixed_from_int(20), wl_fixed_from_int(10));
	wp_viewport_set_destination(viewport, 40, 20);
	ASSERT_TRUE(window.present(buffer.buffer(), drawn.width, drawn.height));
	shot = server.screenshot();
	EXPECT_EQ(shot.at(6, 5), kWhite);
	EXPECT_EQ(shot.at(20, 10), kRed);
	EXPECT_EQ(shot.at(39, 19), kRed);
	EXPECT_EQ(shot.at(40, 10), kBackground);
	EXPECT_FALSE(client.error());
}

/* Input follows the transformed size: a rotated buffer is a rotated target. */
TEST(BufferTransformInput, PointerHitsTheRotatedSurface)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	client.bindInput();

	/* 20 wide, 60 tall in the buffer: 60 wide, 20 tall on screen. */
	ShmBuffer buffer(client.shm, 20, 60);
	buffer.fill(kGreen);
	Window window(client, "input");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	wl_surface_set_buffer_transform(window.surface(), WL_OUTPUT_TRANSFORM_270);
	ASSERT_TRUE(window.present(buffer.buffer(), 20, 60));

	server.run([](comp::Server &s) { s.headlessBackend()->injectPointerMotion(50, 10); });
	ASSERT_TRUE(client.dispatchUntil([&] {
		return client.pointerFocus == window.surface() && client.pointerX == 50;
	}));
	EXPECT_DOUBLE_EQ(client.pointerY, 10);

	server.run([](comp::Server &s) { s.headlessBackend()->injectPointerMotion(10, 50); });
	ASSERT_TRUE(client.dispatchUntil([&] { return client.pointerFocus == nullptr; }));
}

} /* namespace */
} /* namespace heapcomp::test */
