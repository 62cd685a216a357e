/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <GLES2/gl2.h>

#include "egl_context.h"

namespace comp {

/* The fragment shader a texture is drawn with. */
enum class ShaderKind : uint8_t {
	Rgba,		/* premultiplied RGBA as sampled */
	Rgbx,		/* alpha forced to 1 */
	Bgra,		/* BGRA bytes uploaded as RGBA: swizzled */
	Bgrx,
	ExternalRgba,	/* samplerExternalOES (EGLImage imports) */
	ExternalRgbx,
	Nv12,		/* Y plane + interleaved CbCr plane, BT.601 limited */
	Yuv420,		/* Y, Cb, Cr planes */
	Solid,		/* no texture: one premultiplied color */
	Count,
};

/* The kind that samples the same texture with its alpha forced to 1. */
constexpr ShaderKind withoutAlpha(ShaderKind kind)
{
	switch (kind) {
	case ShaderKind::Rgba:
		return ShaderKind::Rgbx;
	case ShaderKind::Bgra:
		return ShaderKind::Bgrx;
	case ShaderKind::ExternalRgba:
		return ShaderKind::ExternalRgbx;
	default:
		return kind;
	}
}

/* How one plane of a format goes into a GL texture. */
struct GlPlaneFormat {
	GLint internalFormat = 0;
	GLenum format = 0;
	GLenum type = 0;
	uint8_t bytesPerPixel = 0;
	uint8_t hsub = 1;	/* this plane's subsampling against plane 0 */
	uint8_t vsub = 1;
};

/* A DRM fourcc the CPU path can upload, resolved for one context. */
struct GlFormat {
	uint32_t fourcc = 0;
	bool hasAlpha = false;
	ShaderKind shader = ShaderKind::Rgba;
	uint8_t numPlanes = 0;
	std::array<GlPlaneFormat, 3> planes{};

	uint32_t planeWidth(size_t plane, uint32_t width) const
	{
		return (width + planes[plane].hsub - 1) / planes[plane].hsub;
	}
	uint32_t planeHeight(size_t plane, uint32_t height) const
	{
		return (height + planes[plane].vsub - 1) / planes[plane].vsub;
	}
};

/* False for formats the CPU path cannot upload. */
bool lookupGlFormat(uint32_t fourcc, const GlesCaps &caps, GlFormat *out);

/* Formats lookupGlFormat() knows, single-plane RGB ones first. */
const std::vector<uint32_t> &cpuTextureFormats();
/* The single-plane subset: what wl_shm buffers may use. */
const std::vector<uint32_t> &shmTextureFormats();

/* Output buffer formats render() accepts and how to read them back. */
struct TargetFormat {
	uint32_t fourcc;
	bool hasAlpha;
	bool bgraBytes;		/* B,G,R,A in memory (ARGB/XRGB8888) */
};
const TargetFormat *lookupTargetFormat(uint32_t fourcc);

} /* namespace comp */
