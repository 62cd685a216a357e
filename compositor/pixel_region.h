/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <vector>

#include <pixman.h>

#include "rect.h"

namespace comp {

/*
 * A set of whole pixels, kept as non-overlapping rectangles (pixman's
 * region): damage, what to repaint. Empty rects add nothing.
 */
class PixelRegion
{
public:
	PixelRegion();
	explicit PixelRegion(const Rect &rect);
	~PixelRegion();
	PixelRegion(const PixelRegion &other);
	PixelRegion &operator=(const PixelRegion &other);

	void add(const Rect &rect);
	void add(const PixelRegion &other);
	void intersect(const Rect &rect);
	void subtract(const Rect &rect);
	void subtract(const PixelRegion &other);
	void intersect(const PixelRegion &other);
	void translate(int32_t dx, int32_t dy);
	void clear();
	/* Past maxRects rectangles, the bounding box: fewer draws, a few more pixels. */
	void simplify(size_t maxRects);

	bool empty() const;
	size_t numRects() const;
	/* Whether every pixel of rect is in the set (an empty rect is). */
	bool contains(const Rect &rect) const;
	/* Whether any pixel of rect is in the region. */
	bool intersects(const Rect &rect) const;
	Rect bounds() const;
	std::vector<Rect> rects() const;
	/* Pixels in the set. */
	uint64_t area() const;

	bool operator==(const PixelRegion &other) const;

private:
	pixman_region32_t region_;
};

} /* namespace comp */
