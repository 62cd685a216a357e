/* SPDX-License-Identifier: MIT */
#include "transform.h"

#include <algorithm>
#include <cmath>

namespace comp {

Transform inverse(Transform transform)
{
	/* Flips are their own inverse; so are the flipped rotations. */
	switch (transform) {
	case Transform::Rotate90:
		return Transform::Rotate270;
	case Transform::Rotate270:
		return Transform::Rotate90;
	default:
		return transform;
	}
}

void toBuffer(Transform transform, double width, double height, double *x, double *y)
{
	const double px = *x, py = *y;
	switch (transform) {
	case Transform::Normal:
		break;
	case Transform::Rotate90:
		*x = py;
		*y = width - px;
		break;
	case Transform::Rotate180:
		*x = width - px;
		*y = height - py;
		break;
	case Transform::Rotate270:
		*x = height - py;
		*y = px;
		break;
	case Transform::Flipped:
		*x = width - px;
		break;
	case Transform::Flipped90:
		*x = py;
		*y = px;
		break;
	case Transform::Flipped180:
		*y = height - py;
		break;
	case Transform::Flipped270:
		*x = height - py;
		*y = width - px;
		break;
	}
}

SourceBox toBuffer(Transform transform, double width, double height, const SourceBox &box)
{
	double x0 = box.x, y0 = box.y;
	double x1 = box.x + box.width, y1 = box.y + box.height;
	toBuffer(transform, width, height, &x0, &y0);
	toBuffer(transform, width, height, &x1, &y1);
	return { std::min(x0, x1), std::min(y0, y1), std::abs(x1 - x0), std::abs(y1 - y0) };
}

Rect toBuffer(Transform transform, int32_t width, int32_t height, const Rect &rect)
{
	/* Corners of whole pixels map to corners of whole pixels: exact in doubles. */
	SourceBox box = toBuffer(transform, width, height,
				 SourceBox{ double(rect.x), double(rect.y), double(rect.width),
					    double(rect.height) });
	/* Converting a double beyond int32 is undefined: a client's rect may map past the ends. */
	auto clamped = [](double v) {
		return int32_t(std::clamp(v, double(INT32_MIN), double(INT32_MAX)));
	};
	return { clamped(box.x), clamped(box.y), clamped(box.width), clamped(box.height) };
}

Rect fromBuffer(Transform transform, int32_t bufferWidth, int32_t bufferHeight, const Rect &rect)
{
	return toBuffer(inverse(transform), bufferWidth, bufferHeight, rect);
}

} /* namespace comp */
