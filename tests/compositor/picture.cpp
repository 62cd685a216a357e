/* SPDX-License-Identifier: MIT */
#include "picture.h"

#include <algorithm>
#include <cstdio>

namespace heapcomp::test {

Picture::Picture(int w, int h, uint32_t colour)
	: width(w), height(h), pixels(size_t(w) * h, colour)
{
}

void Picture::fillRect(int x, int y, int w, int h, uint32_t colour)
{
	for (int row = std::max(y, 0); row < std::min(y + h, height); row++)
		for (int col = std::max(x, 0); col < std::min(x + w, width); col++)
			at(col, row) = colour;
}

void Picture::paste(const Picture &other, int x, int y)
{
	for (int row = std::max(y, 0); row < std::min(y + other.height, height); row++)
		for (int col = std::max(x, 0); col < std::min(x + other.width, width); col++)
			at(col, row) = other.at(col - x, row - y);
}

void copyInto(ShmBuffer &buffer, const Picture &picture)
{
	ASSERT_EQ(int(buffer.width()), picture.width);
	ASSERT_EQ(int(buffer.height()), picture.height);
	std::copy(picture.pixels.begin(), picture.pixels.end(), buffer.pixels());
}

::testing::AssertionResult shows(const comp::Screenshot &shot, int x0, int y0,
				 const Picture &want)
{
	if (x0 < 0 || y0 < 0 || uint32_t(x0 + want.width) > shot.width ||
	    uint32_t(y0 + want.height) > shot.height)
		return ::testing::AssertionFailure() << "picture outside the screenshot";
	for (int y = 0; y < want.height; y++) {
		for (int x = 0; x < want.width; x++) {
			uint32_t got = shot.at(uint32_t(x0 + x), uint32_t(y0 + y));
			if (got != want.at(x, y)) {
				char text[96];
				snprintf(text, sizeof(text), "at (%d, %d): 0x%08x, want 0x%08x",
					 x0 + x, y0 + y, got, want.at(x, y));
				return ::testing::AssertionFailure() << text;
			}
		}
	}
	return ::testing::AssertionSuccess();
}

} /* namespace heapcomp::test */
