/* SPDX-License-Identifier: MIT */
#pragma once

#include <memory>
#include <vector>

#include <bufmgr/buffer.h>

#include "egl_context.h"
#include "renderer.h"

namespace comp {

/* A dma-buf imported as an EGLImage; destroyed with this object. */
class EglImage
{
public:
	static Result<std::unique_ptr<EglImage>> import(std::shared_ptr<EglContext> context,
							const bufmgr::Buffer &buffer);
	~EglImage();

	EglImage(const EglImage &) = delete;
	EglImage &operator=(const EglImage &) = delete;

	EGLImageKHR get() const { return image_; }

private:
	EglImage(std::shared_ptr<EglContext> context, EGLImageKHR image)
		: context_(std::move(context)), image_(image) {}

	std::shared_ptr<EglContext> context_;
	EGLImageKHR image_;
};

/*
 * The format/modifier pairs the driver imports, from
 * eglQueryDmaBufFormatsEXT/eglQueryDmaBufModifiersEXT; with only
 * EGL_EXT_image_dma_buf_import, linear buffers of `fallback` formats.
 */
std::vector<Renderer::FormatModifier>
queryDmaBufFormats(const EglContext &context, const std::vector<uint32_t> &fallback);

} /* namespace comp */
