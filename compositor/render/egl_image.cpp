/* SPDX-License-Identifier: MIT */
#include "egl_image.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include <drm_fourcc.h>

#include <bufmgr/format.h>

namespace comp {

namespace {

using bufmgr::unexpected;

struct PlaneAttribs {
	EGLint fd, offset, pitch, modifierLo, modifierHi;
};

constexpr PlaneAttribs kPlaneAttribs[] = {
	{ EGL_DMA_BUF_PLANE0_FD_EXT, EGL_DMA_BUF_PLANE0_OFFSET_EXT, EGL_DMA_BUF_PLANE0_PITCH_EXT,
	  EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT, EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT },
	{ EGL_DMA_BUF_PLANE1_FD_EXT, EGL_DMA_BUF_PLANE1_OFFSET_EXT, EGL_DMA_BUF_PLANE1_PITCH_EXT,
	  EGL_DMA_BUF_PLANE1_MODIFIER_LO_EXT, EGL_DMA_BUF_PLANE1_MODIFIER_HI_EXT },
	{ EGL_DMA_BUF_PLANE2_FD_EXT, EGL_DMA_BUF_PLANE2_OFFSET_EXT, EGL_DMA_BUF_PLANE2_PITCH_EXT,
	  EGL_DMA_BUF_PLANE2_MODIFIER_LO_EXT, EGL_DMA_BUF_PLANE2_MODIFIER_HI_EXT },
	{ EGL_DMA_BUF_PLANE3_FD_EXT, EGL_DMA_BUF_PLANE3_OFFSET_EXT, EGL_DMA_BUF_PLANE3_PITCH_EXT,
	  EGL_DMA_BUF_PLANE3_MODIFIER_LO_EXT, EGL_DMA_BUF_PLANE3_MODIFIER_HI_EXT },
};

} /* namespace */

Result<std::unique_ptr<EglImage>> EglImage::import(std::shared_ptr<EglContext> context,
						   const bufmgr::Buffer &buffer)
{
	const std::string what = "import dma-buf " + bufmgr::fourccToString(buffer.format()) +
				 " " + std::to_string(buffer.width()) + "x" +
				 std::to_string(buffer.height()) + " as EGLImage";
	const GlesCaps &caps = context->caps();
	if (!caps.dmaBufImport)
		return unexpected(ENOTSUP, what + ": no EGL_EXT_image_dma_buf_import");
	const size_t maxPlanes = caps.dmaBufModifiers ? 4 : 3;
	if (!buffer.isValid() || buffer.numPlanes() > maxPlanes)
		return unexpected(EINVAL, what + ": " + std::to_string(buffer.numPlanes()) +
					  " planes");

	/* Implicit modifiers (INVALID) are left out: the driver guesses. */
	const bool explicitModifier = caps.dmaBufModifiers &&
				      buffer.modifier() != DRM_FORMAT_MOD_INVALID;
	if (!caps.dmaBufModifiers && buffer.modifier() != DRM_FORMAT_MOD_LINEAR &&
	    buffer.modifier() != DRM_FORMAT_MOD_INVALID)
		return unexpected(ENOTSUP, what + ": modifiers need "
					   "EGL_EXT_image_dma_buf_import_modifiers");

	std::vector<EGLint> attribs = {
		EGL_WIDTH, static_cast<EGLint>(buffer.width()),
		EGL_HEIGHT, static_cast<EGLint>(buffer.height()),
		EGL_LINUX_DRM_FOURCC_EXT, static_cast<EGLint>(buffer.format()),
	};
	for (size_t i = 0; i < buffer.numPlanes(); i++) {
		const bufmgr::BufferPlane &plane = buffer.plane(i);
		const PlaneAttribs &names = kPlaneAttribs[i];
		attribs.insert(attribs.end(), {
			names.fd, plane.fd.get(),
			names.offset, static_cast<EGLint>(plane.offset),
			names.pitch, static_cast<EGLint>(plane.stride),
		});
		if (explicitModifier)
			attribs.insert(attribs.end(), {
				names.modifierLo,
				static_cast<EGLint>(buffer.modifier() & 0xffffffff),
				names.modifierHi, static_cast<EGLint>(buffer.modifier() >> 32),
			});
	}
	attribs.push_back(EGL_NONE);

	/* EGL_LINUX_DMA_BUF_EXT takes no context. */
	EGLImageKHR image = context->procs().createImage(context->display(), EGL_NO_CONTEXT,
							 EGL_LINUX_DMA_BUF_EXT, nullptr,
							 attribs.data());
	if (image == EGL_NO_IMAGE_KHR) {
		char code[16];
		snprintf(code, sizeof(code), "0x%04x", eglGetError());
		return unexpected(EINVAL, what + ": eglCreateImageKHR failed (EGL error " +
					  code + ")");
	}
	return std::unique_ptr<EglImage>(new EglImage(std::move(context), image));
}

EglImage::~EglImage()
{
	context_->procs().destroyImage(context_->display(), image_);
}

std::vector<Renderer::FormatModifier>
queryDmaBufFormats(const EglContext &context, const std::vector<uint32_t> &fallback)
{
	std::vector<Renderer::FormatModifier> pairs;
	const EglProcs &procs = context.procs();
	if (!context.caps().dmaBufModifiers) {
		for (uint32_t format : fallback) {
			pairs.push_back({ format, DRM_FORMAT_MOD_LINEAR });
			pairs.push_back({ format, DRM_FORMAT_MOD_INVALID });
		}
		return pairs;
	}

	EGLint count = 0;
	if (!procs.queryDmaBufFormats(context.display(), 0, nullptr, &count) || count <= 0)
		return pairs;
	std::vector<EGLint> formats(count);
	procs.queryDmaBufFormats(context.display(), count, formats.data(), &count);
	formats.resize(count);

	for (EGLint format : formats) {
		EGLint n = 0;
		procs.queryDmaBufModifiers(context.display(), format, 0, nullptr, nullptr, &n);
		std::vector<EGLuint64KHR> modifiers(std::max(n, 0));
		std::vector<EGLBoolean> externalOnly(std::max(n, 0));
		if (n > 0)
			procs.queryDmaBufModifiers(context.display(), format, n, modifiers.data(),
						   externalOnly.data(), &n);
		modifiers.resize(std::max(n, 0));
		/* External-only modifiers need samplerExternalOES. */
		for (EGLint i = 0; i < n; i++) {
			if (externalOnly[i] && !context.caps().externalImages)
				continue;
			pairs.push_back({ static_cast<uint32_t>(format), modifiers[i] });
		}
		/* No explicit modifiers: the driver takes implicit (linear) layouts. */
		if (n == 0)
			pairs.push_back({ static_cast<uint32_t>(format), DRM_FORMAT_MOD_LINEAR });
		/* An import without modifier attributes is always possible. */
		pairs.push_back({ static_cast<uint32_t>(format), DRM_FORMAT_MOD_INVALID });
	}
	return pairs;
}

} /* namespace comp */
