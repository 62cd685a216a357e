/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <bufmgr/allocator.h>
#include <bufmgr/buffer.h>

#include "render/renderer.h"

namespace heapcomp::test {

constexpr uint32_t argb(uint32_t a, uint32_t r, uint32_t g, uint32_t b)
{
	return a << 24 | r << 16 | g << 8 | b;
}

/* Every channel of got within tolerance of want. */
::testing::AssertionResult pixelNear(uint32_t got, uint32_t want, int tolerance = 1);

/* pixels[y * width + x] near want, with the position in the message. */
::testing::AssertionResult pixelAt(const std::vector<uint32_t> &pixels, uint32_t width,
				   uint32_t x, uint32_t y, uint32_t want, int tolerance = 1);

/* Every pixel of rect near want. */
::testing::AssertionResult rectIs(const std::vector<uint32_t> &pixels, uint32_t width,
				  const comp::Rect &rect, uint32_t want, int tolerance = 1);

/*
 * CPU pixels in a 4-byte-per-pixel DRM format, with a stride of the
 * caller's choice; padding bytes hold garbage (0x5a) to catch readers
 * that ignore the stride.
 */
class Image
{
public:
	Image(uint32_t width, uint32_t height, uint32_t format, uint32_t stride = 0);

	/* Stores 0xAARRGGBB in the image's byte order (A ignored by X formats). */
	void set(uint32_t x, uint32_t y, uint32_t argbValue);
	void fill(uint32_t argbValue);
	void fillRect(const comp::Rect &rect, uint32_t argbValue);

	uint32_t width() const { return width_; }
	uint32_t height() const { return height_; }
	uint32_t stride() const { return stride_; }
	uint32_t format() const { return format_; }
	const uint8_t *data() const { return bytes_.data(); }
	uint8_t *data() { return bytes_.data(); }

private:
	uint32_t width_, height_, format_, stride_;
	std::vector<uint8_t> bytes_;
};

/* Writes 0xAARRGGBB into 4 bytes of memory in a format's byte order. */
void storePixel(uint32_t format, uint8_t *p, uint32_t argbValue);
/* Reads 4 bytes of memory in a format's byte order as 0xAARRGGBB. */
uint32_t loadPixel(uint32_t format, const uint8_t *p);

/* Copies an Image into a buffer's plane 0 through a mapping (with sync). */
void upload(const bufmgr::Buffer &buffer, const Image &image);
/*
 * Reads a buffer's plane 0 through a mapping, as 0xAARRGGBB pixels; X
 * formats read as opaque.
 */
std::vector<uint32_t> download(const bufmgr::Buffer &buffer);

/* An output buffer from memfd, stride aligned to strideAlign. */
bufmgr::Buffer memfdTarget(uint32_t width, uint32_t height, uint32_t format,
			   uint32_t strideAlign = 0);

/* The renderers the pixel tests run on. */
enum class TestRenderer {
	Gles,		/* default options */
	BareGles2,	/* GLES ignoring its upload and read-back extensions */
	Pixman,
};

/* A renderer of that kind; fails the test if there is none. */
std::unique_ptr<comp::Renderer> makeRenderer(TestRenderer which = TestRenderer::Gles);

/* Every TestRenderer, and their names, for INSTANTIATE_TEST_SUITE_P. */
const std::vector<TestRenderer> &allRenderers();
std::string rendererName(const ::testing::TestParamInfo<TestRenderer> &info);

} /* namespace heapcomp::test */
