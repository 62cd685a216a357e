/* SPDX-License-Identifier: MIT */
/*
 * wl_surface.set_buffer_transform and set_buffer_scale: a client draws
 * its content already flipped and rotated, and the screen shows it
 * upright, at the right size, cropped and hit where the client meant.
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

constexpr uint32_t kRed = 0xffff0000;
constexpr uint32_t kGreen = 0xff00ff00;
constexpr uint32_t kBlue = 0xff0000ff;
constexpr uint32_t kWhite = 0xffffffff;
constexpr uint32_t kYellow = 0xffffff00;
constexpr uint32_t kBackground = 0xff000000;

/* Pixels, row after row: what a client wants to show, or what it draws. */
struct Picture {
	int width = 0, height = 0;
	std::vector<uint32_t> pixels;

	Picture(int w, int h) : width(w), height(h), pixels(size_t(w) * h) {}
	uint32_t &at(int x, int y) { return pixels[size_t(y) * width + x]; }
	uint32_t at(int x, int y) const { return pixels[size_t(y) * width + x]; }
};

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

void copyInto(ShmBuffer &buffer, const Picture &picture)
{
	ASSERT_EQ(int(buffer.width()), picture.width);
	ASSERT_EQ(int(buffer.height()), picture.height);
	std::copy(picture.pixels.begin(), picture.pixels.end(), buffer.pixels());
}

/* Every pixel of want at (x0, y0) on the screen; the first mismatch named. */
::testing::AssertionResult shows(const comp::Screenshot &shot, int x0, int y0,
				 const Picture &want)
{
	for (int y = 0; y < want.height; y++) {
		for (int x = 0; x < want.width; x++) {
			uint32_t got = shot.at(uint32_t(x0 + x), uint32_t(y0 + y));
			if (got != want.at(x, y)) {
				char text[128];
				snprintf(text, sizeof(text), "at (%d, %d): 0x%08x, want 0x%08x",
					 x, y, got, want.at(x, y));
				return ::testing::AssertionFailure() << text;
			}
		}
	}
	return ::testing::AssertionSuccess();
}

const char *const kTransformNames[] = { "Normal",  "Rotate90",  "Rotate180",  "Rotate270",
					"Flipped", "Flipped90", "Flipped180", "Flipped270" };

struct TransformCase {
	int32_t transform;
	int32_t scale;
};

class BufferTransform : public ::testing::TestWithParam<TransformCase>
{
};

TEST_P(BufferTransform, ScreenShowsTheContentUpright)
{
	const auto [transform, scale] = GetParam();
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());

	const Picture content = upright(40, 20);
	const Picture drawn = scaledUp(clientDraws(content, transform), scale);
	ShmBuffer buffer(client.shm, uint32_t(drawn.width), uint32_t(drawn.height));
	copyInto(buffer, drawn);

	Window window(client, "transform");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	wl_surface_set_buffer_transform(window.surface(), transform);
	wl_surface_set_buffer_scale(window.surface(), scale);
	ASSERT_TRUE(window.present(buffer.buffer(), drawn.width, drawn.height));

	comp::Screenshot shot = server.screenshot();
	EXPECT_TRUE(shows(shot, 0, 0, content));
	/* Exactly the content's size: background right of and below it. */
	EXPECT_EQ(shot.at(40, 5), kBackground);
	EXPECT_EQ(shot.at(5, 20), kBackground);
	EXPECT_FALSE(client.error());
}

/* Surface damage is in surface coordinates: it must reach the right buffer pixels. */
TEST_P(BufferTransform, SurfaceDamageUpdatesTheRightPixels)
{
	const auto [transform, scale] = GetParam();
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());

	Picture content = upright(40, 20);
	Picture drawn = scaledUp(clientDraws(content, transform), scale);
	ShmBuffer buffer(client.shm, uint32_t(drawn.width), uint32_t(drawn.height));
	copyInto(buffer, drawn);
	Window window(client, "damage");
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	wl_surface_set_buffer_transform(window.surface(), transform);
	wl_surface_set_buffer_scale(window.surface(), scale);
	ASSERT_TRUE(window.present(buffer.buffer(), drawn.width, drawn.height));

	/* A 6x4 patch near the bottom-right corner changes; only it is damaged. */
	for (int y = 13; y < 17; y++)
		for (int x = 30; x < 36; x++)
			content.at(x, y) = kWhite;
	copyInto(buffer, scaledUp(clientDraws(content, transform), scale));
	wl_surface_attach(window.surface(), buffer.buffer(), 0, 0);
	wl_surface_damage(window.surface(), 30, 13, 6, 4);
	ASSERT_TRUE(client.commitAndWaitFrame(window.surface()));
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, content));
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
