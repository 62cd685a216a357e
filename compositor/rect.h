/* SPDX-License-Identifier: MIT */
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>

namespace comp {

/*
 * A box of whole pixels, y down: surface, buffer or output coordinates
 * as its user says. Far edges are computed in 64 bits, as clients send
 * any int32 position and size.
 */
struct Rect {
	int32_t x = 0;
	int32_t y = 0;
	int32_t width = 0;
	int32_t height = 0;

	bool isEmpty() const { return width <= 0 || height <= 0; }
	int64_t right() const { return int64_t(x) + width; }
	int64_t bottom() const { return int64_t(y) + height; }
	/* Whether inner lies wholly inside, per axis or both. */
	bool containsX(const Rect &inner) const { return inner.x >= x && inner.right() <= right(); }
	bool containsY(const Rect &inner) const { return inner.y >= y && inner.bottom() <= bottom(); }
	bool contains(const Rect &inner) const { return containsX(inner) && containsY(inner); }

	bool operator==(const Rect &) const = default;
};

/*
 * A coordinate computed in 64 bits, held to int32's range: sums of
 * positions clients choose (subsurface offsets, popup anchors, window
 * geometry) must saturate, not wrap.
 */
constexpr int32_t clampInt32(int64_t value)
{
	return int32_t(std::clamp<int64_t>(value, INT32_MIN, INT32_MAX));
}

/* The pixels in both; an empty Rect when there are none. */
inline Rect intersect(const Rect &a, const Rect &b)
{
	const int64_t x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
	const int64_t x1 = std::min(a.right(), b.right()), y1 = std::min(a.bottom(), b.bottom());
	if (x1 <= x0 || y1 <= y0)
		return {};
	return { int32_t(x0), int32_t(y0), int32_t(x1 - x0), int32_t(y1 - y0) };
}

inline bool overlaps(const Rect &a, const Rect &b)
{
	return !intersect(a, b).isEmpty();
}

/* The smallest box holding both. */
inline Rect boundingBox(const Rect &a, const Rect &b)
{
	const int64_t x0 = std::min(a.x, b.x), y0 = std::min(a.y, b.y);
	const int64_t x1 = std::max(a.right(), b.right()), y1 = std::max(a.bottom(), b.bottom());
	return { int32_t(x0), int32_t(y0), clampInt32(x1 - x0), clampInt32(y1 - y0) };
}

} /* namespace comp */
