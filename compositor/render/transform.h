/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>

#include "renderer.h"

namespace comp {

/* Whether the buffer's width is the displayed image's height. */
constexpr bool swapsAxes(Transform transform)
{
	return static_cast<uint8_t>(transform) & 1;
}

/* A buffer of width x height as the displayed image: a quarter turn swaps the two. */
struct ShownSize {
	uint32_t width;
	uint32_t height;
};
constexpr ShownSize shownSize(Transform transform, uint32_t width, uint32_t height)
{
	return swapsAxes(transform) ? ShownSize{ height, width } : ShownSize{ width, height };
}

Transform inverse(Transform transform);

/*
 * Where a point of the displayed image lies in the buffer. width and
 * height are the displayed image's size, in the units of x and y.
 */
void toBuffer(Transform transform, double width, double height, double *x, double *y);

/*
 * A box of the displayed image (width x height) as a box of the buffer,
 * and a box of the buffer (bufferWidth x bufferHeight) as a box of the
 * displayed image.
 */
SourceBox toBuffer(Transform transform, double width, double height, const SourceBox &box);
Rect toBuffer(Transform transform, int32_t width, int32_t height, const Rect &rect);
Rect fromBuffer(Transform transform, int32_t bufferWidth, int32_t bufferHeight, const Rect &rect);

} /* namespace comp */
