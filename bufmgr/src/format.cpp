/* SPDX-License-Identifier: MIT */
#include <bufmgr/format.h>

#include <cerrno>
#include <limits>

#include <drm_fourcc.h>

namespace bufmgr {

namespace {

/*
 * bytesPerPixel counts bytes per sample of the plane's own grid: NV12's
 * second plane holds one interleaved CbCr pair (2 bytes) per 2x2 block.
 */
constexpr FormatInfo kFormats[] = {
	{ DRM_FORMAT_XRGB8888, "XRGB8888", 1, { 4 }, 1, 1, false, false },
	{ DRM_FORMAT_ARGB8888, "ARGB8888", 1, { 4 }, 1, 1, true, false },
	{ DRM_FORMAT_XBGR8888, "XBGR8888", 1, { 4 }, 1, 1, false, false },
	{ DRM_FORMAT_ABGR8888, "ABGR8888", 1, { 4 }, 1, 1, true, false },
	{ DRM_FORMAT_RGBX8888, "RGBX8888", 1, { 4 }, 1, 1, false, false },
	{ DRM_FORMAT_RGBA8888, "RGBA8888", 1, { 4 }, 1, 1, true, false },
	{ DRM_FORMAT_BGRX8888, "BGRX8888", 1, { 4 }, 1, 1, false, false },
	{ DRM_FORMAT_BGRA8888, "BGRA8888", 1, { 4 }, 1, 1, true, false },
	{ DRM_FORMAT_XRGB2101010, "XRGB2101010", 1, { 4 }, 1, 1, false, false },
	{ DRM_FORMAT_ARGB2101010, "ARGB2101010", 1, { 4 }, 1, 1, true, false },
	{ DRM_FORMAT_XBGR2101010, "XBGR2101010", 1, { 4 }, 1, 1, false, false },
	{ DRM_FORMAT_ABGR2101010, "ABGR2101010", 1, { 4 }, 1, 1, true, false },
	{ DRM_FORMAT_RGB888, "RGB888", 1, { 3 }, 1, 1, false, false },
	{ DRM_FORMAT_BGR888, "BGR888", 1, { 3 }, 1, 1, false, false },
	{ DRM_FORMAT_RGB565, "RGB565", 1, { 2 }, 1, 1, false, false },
	{ DRM_FORMAT_BGR565, "BGR565", 1, { 2 }, 1, 1, false, false },
	{ DRM_FORMAT_R8, "R8", 1, { 1 }, 1, 1, false, false },
	{ DRM_FORMAT_GR88, "GR88", 1, { 2 }, 1, 1, false, false },
	{ DRM_FORMAT_YUYV, "YUYV", 1, { 2 }, 1, 1, false, true },
	{ DRM_FORMAT_NV12, "NV12", 2, { 1, 2 }, 2, 2, false, true },
	{ DRM_FORMAT_NV21, "NV21", 2, { 1, 2 }, 2, 2, false, true },
	{ DRM_FORMAT_NV16, "NV16", 2, { 1, 2 }, 2, 1, false, true },
	{ DRM_FORMAT_YUV420, "YUV420", 3, { 1, 1, 1 }, 2, 2, false, true },
	{ DRM_FORMAT_YVU420, "YVU420", 3, { 1, 1, 1 }, 2, 2, false, true },
};

bool isPowerOfTwo(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Rounds v up to a power-of-two alignment; false on overflow. */
bool alignUp(uint64_t v, uint64_t align, uint64_t *out)
{
	uint64_t sum;
	if (__builtin_add_overflow(v, align - 1, &sum))
		return false;
	*out = sum & ~(align - 1);
	return true;
}

} /* namespace */

const FormatInfo *formatInfo(uint32_t fourcc)
{
	for (const FormatInfo &info : kFormats) {
		if (info.fourcc == fourcc)
			return &info;
	}
	return nullptr;
}

std::string fourccToString(uint32_t fourcc)
{
	std::string s;
	for (int i = 0; i < 4; i++) {
		char c = static_cast<char>((fourcc >> (8 * i)) & 0xff);
		s += (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	return s;
}

Result<ImageLayout> computeLinearLayout(uint32_t fourcc, uint32_t width,
					uint32_t height, uint32_t strideAlign)
{
	const std::string what = std::to_string(width) + "x" +
				 std::to_string(height) + " " +
				 fourccToString(fourcc);

	const FormatInfo *info = formatInfo(fourcc);
	if (!info)
		return unexpected(EINVAL, "layout of " + what + ": unknown format");
	if (width == 0 || height == 0)
		return unexpected(EINVAL, "layout of " + what + ": zero size");
	if (!isPowerOfTwo(strideAlign))
		return unexpected(EINVAL, "layout of " + what + ": stride alignment " +
					  std::to_string(strideAlign) +
					  " is not a power of two");

	ImageLayout layout;
	layout.numPlanes = info->numPlanes;
	uint64_t offset = 0;

	for (unsigned int i = 0; i < info->numPlanes; i++) {
		uint64_t cols = width, rows = height;
		if (i > 0) {
			cols = (cols + info->hsub - 1) / info->hsub;
			rows = (rows + info->vsub - 1) / info->vsub;
		}

		uint64_t stride, size, aligned;
		if (__builtin_mul_overflow(cols, info->bytesPerPixel[i], &stride) ||
		    !alignUp(stride, strideAlign, &stride) ||
		    stride > std::numeric_limits<uint32_t>::max())
			return unexpected(EOVERFLOW, "layout of " + what +
						     ": stride of plane " +
						     std::to_string(i) +
						     " exceeds 32 bits");
		if (!alignUp(offset, strideAlign, &aligned) ||
		    aligned > std::numeric_limits<uint32_t>::max())
			return unexpected(EOVERFLOW, "layout of " + what +
						     ": offset of plane " +
						     std::to_string(i) +
						     " exceeds 32 bits");
		if (__builtin_mul_overflow(stride, rows, &size) ||
		    __builtin_add_overflow(aligned, size, &offset))
			return unexpected(EOVERFLOW, "layout of " + what +
						     ": size overflows");

		layout.planes[i] = { static_cast<uint32_t>(aligned),
				     static_cast<uint32_t>(stride), size };
	}

	layout.totalSize = offset;
	return layout;
}

} /* namespace bufmgr */
