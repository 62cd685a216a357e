/* SPDX-License-Identifier: MIT */
#include "pixel_region.h"

#include <algorithm>
#include <cstdint>

namespace comp {

PixelRegion::PixelRegion()
{
	pixman_region32_init(&region_);
}

PixelRegion::PixelRegion(const Rect &rect)
	: PixelRegion()
{
	add(rect);
}

PixelRegion::~PixelRegion()
{
	pixman_region32_fini(&region_);
}

PixelRegion::PixelRegion(const PixelRegion &other)
	: PixelRegion()
{
	pixman_region32_copy(&region_, &other.region_);
}

PixelRegion &PixelRegion::operator=(const PixelRegion &other)
{
	if (this != &other)
		pixman_region32_copy(&region_, &other.region_);
	return *this;
}

void PixelRegion::add(const Rect &rect)
{
	if (rect.width <= 0 || rect.height <= 0)
		return;
	/* pixman adds x + width in 32 bits: keep the far edge representable. */
	const int64_t x2 = std::min<int64_t>(int64_t(rect.x) + rect.width, INT32_MAX);
	const int64_t y2 = std::min<int64_t>(int64_t(rect.y) + rect.height, INT32_MAX);
	pixman_region32_union_rect(&region_, &region_, rect.x, rect.y, uint32_t(x2 - rect.x),
				   uint32_t(y2 - rect.y));
}

void PixelRegion::add(const PixelRegion &other)
{
	pixman_region32_union(&region_, &region_, &other.region_);
}

void PixelRegion::subtract(const Rect &rect)
{
	if (rect.isEmpty())
		return;
	PixelRegion other(rect);
	pixman_region32_subtract(&region_, &region_, &other.region_);
}

void PixelRegion::subtract(const PixelRegion &other)
{
	pixman_region32_subtract(&region_, &region_, &other.region_);
}

void PixelRegion::intersect(const PixelRegion &other)
{
	pixman_region32_intersect(&region_, &region_, &other.region_);
}

size_t PixelRegion::numRects() const
{
	return size_t(pixman_region32_n_rects(&region_));
}

bool PixelRegion::contains(const Rect &rect) const
{
	if (rect.isEmpty())
		return true;
	pixman_box32_t box{ rect.x, rect.y, int32_t(std::min<int64_t>(rect.right(), INT32_MAX)),
			    int32_t(std::min<int64_t>(rect.bottom(), INT32_MAX)) };
	return pixman_region32_contains_rectangle(&region_, &box) == PIXMAN_REGION_IN;
}

bool PixelRegion::intersects(const Rect &rect) const
{
	if (rect.isEmpty())
		return false;
	pixman_box32_t box{ rect.x, rect.y, int32_t(std::min<int64_t>(rect.right(), INT32_MAX)),
			    int32_t(std::min<int64_t>(rect.bottom(), INT32_MAX)) };
	return pixman_region32_contains_rectangle(&region_, &box) != PIXMAN_REGION_OUT;
}

void PixelRegion::intersect(const Rect &rect)
{
	if (rect.width <= 0 || rect.height <= 0) {
		clear();
		return;
	}
	pixman_region32_intersect_rect(&region_, &region_, rect.x, rect.y, uint32_t(rect.width),
				       uint32_t(rect.height));
}

void PixelRegion::translate(int32_t dx, int32_t dy)
{
	pixman_region32_translate(&region_, dx, dy);
}

void PixelRegion::clear()
{
	pixman_region32_clear(&region_);
}

void PixelRegion::simplify(size_t maxRects)
{
	if (size_t(pixman_region32_n_rects(&region_)) <= maxRects)
		return;
	Rect box = bounds();
	clear();
	add(box);
}

bool PixelRegion::empty() const
{
	return !pixman_region32_not_empty(&region_);
}

Rect PixelRegion::bounds() const
{
	const pixman_box32_t *box = pixman_region32_extents(&region_);
	/* A region may span more than int32 holds. */
	return { box->x1, box->y1, clampInt32(int64_t(box->x2) - box->x1),
		 clampInt32(int64_t(box->y2) - box->y1) };
}

std::vector<Rect> PixelRegion::rects() const
{
	int n = 0;
	const pixman_box32_t *boxes = pixman_region32_rectangles(&region_, &n);
	std::vector<Rect> out;
	out.reserve(size_t(n));
	for (int i = 0; i < n; i++)
		out.push_back({ boxes[i].x1, boxes[i].y1, clampInt32(int64_t(boxes[i].x2) - boxes[i].x1),
				clampInt32(int64_t(boxes[i].y2) - boxes[i].y1) });
	return out;
}

uint64_t PixelRegion::area() const
{
	uint64_t total = 0;
	for (const Rect &r : rects())
		total += uint64_t(r.width) * uint64_t(r.height);
	return total;
}

bool PixelRegion::operator==(const PixelRegion &other) const
{
	return pixman_region32_equal(&region_, &other.region_);
}

} /* namespace comp */
