/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <bufmgr/buffer.h>
#include <bufmgr/mapping.h>

#include "egl_context.h"
#include "egl_image.h"
#include "gles_format.h"
#include "target_key.h"

namespace comp {

/*
 * The framebuffer a GLES pass draws an output buffer with. Direct: a
 * renderbuffer on an EGLImage of the buffer, so drawing lands in its
 * memory. Offscreen: a texture the frame is drawn into and then read
 * back into a mapping of the buffer (memfds, or dma-bufs the GPU path
 * cannot render into). GL calls need the owner's context current.
 */
class RenderTarget
{
public:
	static Result<std::unique_ptr<RenderTarget>>
	createDirect(std::shared_ptr<EglContext> context, const bufmgr::Buffer &buffer,
		     const TargetKey &key);
	static Result<std::unique_ptr<RenderTarget>>
	createOffscreen(std::shared_ptr<EglContext> context, const bufmgr::Buffer &buffer,
			const TargetKey &key);
	~RenderTarget();

	RenderTarget(const RenderTarget &) = delete;
	RenderTarget &operator=(const RenderTarget &) = delete;

	const TargetKey &key() const { return key_; }
	bool isDirect() const { return image_ != nullptr; }

	GLuint framebuffer() const { return framebuffer_; }
	/* Binds the framebuffer and sets the viewport to the whole buffer. */
	void bind() const;
	/*
	 * Makes the drawn frame the buffer's content; drawn bounds what
	 * changed since the last finish() (the rest of the buffer has it).
	 */
	Result<void> finish(const Rect &drawn);
	/* The framebuffer as 0xAARRGGBB, rows top (first in memory) first. */
	Result<std::vector<uint32_t>> read();

	uint64_t lastUse = 0;

private:
	RenderTarget(std::shared_ptr<EglContext> context, const TargetKey &key,
		     const TargetFormat *format);
	Result<void> createFramebuffer(GLenum attachment, GLuint object, const char *what);
	Result<void> copyToMemory(uint32_t firstRow, uint32_t rows);

	std::shared_ptr<EglContext> context_;
	TargetKey key_;
	const TargetFormat *format_;
	GLuint framebuffer_ = 0;
	GLuint renderbuffer_ = 0;
	GLuint texture_ = 0;
	std::unique_ptr<EglImage> image_;
	std::optional<bufmgr::Mapping> mapping_;
	std::vector<uint8_t> scratch_;
};

/*
 * Converts rows of 4-byte pixels of a target format to 0xAARRGGBB,
 * forcing alpha opaque for formats without it.
 */
void toArgb(const TargetFormat &format, const uint8_t *src, uint32_t stride,
	    uint32_t width, uint32_t height, uint32_t *dst);

} /* namespace comp */
