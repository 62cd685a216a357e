/* SPDX-License-Identifier: MIT */
#include "gles_format.h"

#include <drm_fourcc.h>

namespace comp {

namespace {

/* BGRA bytes: native with GL_EXT_texture_format_BGRA8888, else swizzled. */
GlPlaneFormat bgraPlane(const GlesCaps &caps)
{
	if (caps.bgraTextures)
		return { GL_BGRA_EXT, GL_BGRA_EXT, GL_UNSIGNED_BYTE, 4 };
	return { GL_RGBA, GL_RGBA, GL_UNSIGNED_BYTE, 4 };
}

constexpr GlPlaneFormat kRgbaPlane = { GL_RGBA, GL_RGBA, GL_UNSIGNED_BYTE, 4 };
/* Unsized luminance formats exist in both GLES2 and GLES3. */
constexpr GlPlaneFormat kLumaPlane = { GL_LUMINANCE, GL_LUMINANCE, GL_UNSIGNED_BYTE, 1 };

constexpr TargetFormat kTargetFormats[] = {
	{ DRM_FORMAT_XRGB8888, false, true },
	{ DRM_FORMAT_ARGB8888, true, true },
	{ DRM_FORMAT_XBGR8888, false, false },
	{ DRM_FORMAT_ABGR8888, true, false },
};

} /* namespace */

bool lookupGlFormat(uint32_t fourcc, const GlesCaps &caps, GlFormat *out)
{
	GlFormat f;
	f.fourcc = fourcc;
	switch (fourcc) {
	case DRM_FORMAT_ARGB8888:
	case DRM_FORMAT_XRGB8888:
		f.hasAlpha = fourcc == DRM_FORMAT_ARGB8888;
		f.numPlanes = 1;
		f.planes[0] = bgraPlane(caps);
		if (caps.bgraTextures)
			f.shader = f.hasAlpha ? ShaderKind::Rgba : ShaderKind::Rgbx;
		else
			f.shader = f.hasAlpha ? ShaderKind::Bgra : ShaderKind::Bgrx;
		break;
	case DRM_FORMAT_ABGR8888:
	case DRM_FORMAT_XBGR8888:
		f.hasAlpha = fourcc == DRM_FORMAT_ABGR8888;
		f.numPlanes = 1;
		f.planes[0] = kRgbaPlane;
		f.shader = f.hasAlpha ? ShaderKind::Rgba : ShaderKind::Rgbx;
		break;
	case DRM_FORMAT_RGB565:
		f.numPlanes = 1;
		f.planes[0] = { GL_RGB, GL_RGB, GL_UNSIGNED_SHORT_5_6_5, 2 };
		f.shader = ShaderKind::Rgbx;
		break;
	case DRM_FORMAT_NV12:
		f.numPlanes = 2;
		f.planes[0] = kLumaPlane;
		f.planes[1] = { GL_LUMINANCE_ALPHA, GL_LUMINANCE_ALPHA, GL_UNSIGNED_BYTE, 2, 2, 2 };
		f.shader = ShaderKind::Nv12;
		break;
	case DRM_FORMAT_YUV420:
		f.numPlanes = 3;
		f.planes[0] = kLumaPlane;
		f.planes[1] = { GL_LUMINANCE, GL_LUMINANCE, GL_UNSIGNED_BYTE, 1, 2, 2 };
		f.planes[2] = f.planes[1];
		f.shader = ShaderKind::Yuv420;
		break;
	default:
		return false;
	}
	*out = f;
	return true;
}

const std::vector<uint32_t> &cpuTextureFormats()
{
	static const std::vector<uint32_t> formats = {
		DRM_FORMAT_ARGB8888, DRM_FORMAT_XRGB8888,
		DRM_FORMAT_ABGR8888, DRM_FORMAT_XBGR8888,
		DRM_FORMAT_RGB565,
		DRM_FORMAT_NV12, DRM_FORMAT_YUV420,
	};
	return formats;
}

const std::vector<uint32_t> &shmTextureFormats()
{
	static const std::vector<uint32_t> formats = {
		DRM_FORMAT_ARGB8888, DRM_FORMAT_XRGB8888,
		DRM_FORMAT_ABGR8888, DRM_FORMAT_XBGR8888,
		DRM_FORMAT_RGB565,
	};
	return formats;
}

const TargetFormat *lookupTargetFormat(uint32_t fourcc)
{
	for (const TargetFormat &f : kTargetFormats) {
		if (f.fourcc == fourcc)
			return &f;
	}
	return nullptr;
}

} /* namespace comp */
