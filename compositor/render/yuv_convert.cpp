/* SPDX-License-Identifier: MIT */
#include "render/yuv_convert.h"

#include <algorithm>

#include <drm_fourcc.h>

namespace comp {

namespace {

uint32_t clampChannel(int value)
{
	return uint32_t(std::clamp(value, 0, 255));
}

/* Fixed point of 1.164, 1.596, 0.392, 0.813 and 2.017, scaled by 256. */
uint32_t toXrgb(int y, int u, int v)
{
	const int c = 298 * (y - 16);
	const int d = u - 128;
	const int e = v - 128;
	const uint32_t r = clampChannel((c + 409 * e + 128) >> 8);
	const uint32_t g = clampChannel((c - 100 * d - 208 * e + 128) >> 8);
	const uint32_t b = clampChannel((c + 516 * d + 128) >> 8);
	return 0xff000000u | (r << 16) | (g << 8) | b;
}

} /* namespace */

bool isConvertibleYuv(uint32_t format)
{
	return format == DRM_FORMAT_NV12 || format == DRM_FORMAT_YUV420;
}

void convertYuv(const YuvImage &image, const Rect &rect, uint32_t *dst, uint32_t dstStride)
{
	const Rect r = intersect(rect, { 0, 0, int32_t(image.width), int32_t(image.height) });
	const bool nv12 = image.format == DRM_FORMAT_NV12;
	for (int32_t y = r.y; y < r.y + r.height; y++) {
		const uint8_t *luma = image.planes[0] + size_t(y) * image.strides[0];
		const uint8_t *chroma1 = image.planes[1] + size_t(y / 2) * image.strides[1];
		const uint8_t *chroma2 =
			nv12 ? nullptr : image.planes[2] + size_t(y / 2) * image.strides[2];
		auto *row = reinterpret_cast<uint32_t *>(reinterpret_cast<uint8_t *>(dst) +
							 size_t(y) * dstStride);
		for (int32_t x = r.x; x < r.x + r.width; x++) {
			int u, v;
			if (nv12) {
				u = chroma1[(x / 2) * 2];
				v = chroma1[(x / 2) * 2 + 1];
			} else {
				u = chroma1[x / 2];
				v = chroma2[x / 2];
			}
			row[x] = toXrgb(luma[x], u, v);
		}
	}
}

} /* namespace comp */
