/* SPDX-License-Identifier: MIT */
#pragma once

/* Arithmetic on 0xAARRGGBB pixels for what a test expects on screen. */
#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace heapcomp::test {

/* Whether each channel of a is within tolerance of b's. */
inline bool near(uint32_t a, uint32_t b, int tolerance)
{
	for (int shift = 0; shift < 32; shift += 8)
		if (std::abs(int((a >> shift) & 0xff) - int((b >> shift) & 0xff)) > tolerance)
			return false;
	return true;
}

/* src over dst, colour premultiplied as Wayland's buffers are; rounded as pixman does. */
inline uint32_t over(uint32_t src, uint32_t dst)
{
	const uint32_t keep = 255 - (src >> 24);
	uint32_t out = 0;
	for (int shift = 0; shift < 32; shift += 8) {
		const uint32_t t = ((dst >> shift) & 0xff) * keep + 0x80;
		out |= std::min<uint32_t>(((src >> shift) & 0xff) + (((t >> 8) + t) >> 8), 255)
		       << shift;
	}
	return out;
}

} /* namespace heapcomp::test */
