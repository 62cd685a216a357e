/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>

#include "rect.h"

namespace comp {

/* A planar YUV image as the CPU reads it: NV12 (Y, then UV pairs) or YUV420 (Y, U, V). */
struct YuvImage {
	uint32_t format = 0;	/* DRM fourcc */
	uint32_t width = 0;
	uint32_t height = 0;
	const uint8_t *planes[3] = {};
	uint32_t strides[3] = {};
};

/* Whether convertYuv() reads this format. */
bool isConvertibleYuv(uint32_t format);

/*
 * Converts rect (clipped to the image) to XRGB8888, BT.601 limited range
 * as the GLES renderer's shader does, into dst, whose first row is the
 * image's row 0 and first pixel its column 0. Chroma is taken from the
 * sample covering each pixel.
 */
void convertYuv(const YuvImage &image, const Rect &rect, uint32_t *dst, uint32_t dstStride);

} /* namespace comp */
