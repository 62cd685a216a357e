/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "server.h"
#include "test_client.h"

namespace heapcomp::test {

/* Colours the tests draw with, and what the screen shows behind windows. */
constexpr uint32_t kRed = 0xffff0000;
constexpr uint32_t kGreen = 0xff00ff00;
constexpr uint32_t kBlue = 0xff0000ff;
constexpr uint32_t kBackground = 0xff000000;

/*
 * Pixels (0xAARRGGBB), row after row: what a client draws, or what the
 * screen should show.
 */
struct Picture {
	int width = 0, height = 0;
	std::vector<uint32_t> pixels;

	Picture(int w, int h, uint32_t colour = 0);

	uint32_t &at(int x, int y) { return pixels[size_t(y) * width + x]; }
	uint32_t at(int x, int y) const { return pixels[size_t(y) * width + x]; }
	/* Clipped to the picture. */
	void fillRect(int x, int y, int w, int h, uint32_t colour);
	/* other with its top-left corner at (x, y), clipped. */
	void paste(const Picture &other, int x, int y);
};

/* The buffer's pixels become the picture's; the sizes must match. */
void copyInto(ShmBuffer &buffer, const Picture &picture);

/* Every pixel of want at (x0, y0) of the screenshot; the first mismatch named. */
::testing::AssertionResult shows(const comp::Screenshot &shot, int x0, int y0,
				 const Picture &want);

} /* namespace heapcomp::test */
