/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <bufmgr/result.h>

namespace bufmgr {

/* Static description of a DRM fourcc: what each plane holds. */
struct FormatInfo {
	uint32_t fourcc;
	const char *name;
	uint8_t numPlanes;
	std::array<uint8_t, 4> bytesPerPixel;	/* per plane, for its sample grid */
	uint8_t hsub;	/* horizontal subsampling of planes 1.. */
	uint8_t vsub;	/* vertical subsampling of planes 1.. */
	bool hasAlpha;
	bool isYuv;
};

/* nullptr for formats the library does not know. */
const FormatInfo *formatInfo(uint32_t fourcc);

/* "XR24" style four characters, printable even for unknown codes. */
std::string fourccToString(uint32_t fourcc);

struct PlaneLayout {
	uint32_t offset = 0;
	uint32_t stride = 0;
	uint64_t size = 0;	/* stride * rows of this plane */
};

/* Linear layout of a whole image, planes packed one after another. */
struct ImageLayout {
	uint8_t numPlanes = 0;
	std::array<PlaneLayout, 4> planes{};
	uint64_t totalSize = 0;
};

/*
 * Computes a linear layout with every stride rounded up to strideAlign
 * (a power of two, 1 for none) and every plane offset aligned the same
 * way. All arithmetic is overflow-checked: EINVAL for zero sizes, unknown
 * formats or bad alignment, EOVERFLOW when a size does not fit the
 * uint32 strides/offsets that DRM and Wayland carry.
 */
Result<ImageLayout> computeLinearLayout(uint32_t fourcc, uint32_t width,
					uint32_t height, uint32_t strideAlign = 1);

} /* namespace bufmgr */
