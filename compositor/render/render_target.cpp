/* SPDX-License-Identifier: MIT */
#include "render_target.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <drm_fourcc.h>

#include <bufmgr/format.h>

namespace comp {

namespace {

using bufmgr::unexpected;

/* GLES3's GL_PACK_ROW_LENGTH, also GL_NV_pack_subimage's. */
constexpr GLenum kPackRowLength = 0x0D02;

std::string describe(const TargetKey &key)
{
	return "target " + std::to_string(key.width) + "x" + std::to_string(key.height) +
	       " " + bufmgr::fourccToString(key.format);
}

} /* namespace */

void toArgb(const TargetFormat &format, const uint8_t *src, uint32_t stride,
	    uint32_t width, uint32_t height, uint32_t *dst)
{
	const uint32_t opaque = format.hasAlpha ? 0 : 0xff000000u;
	for (uint32_t y = 0; y < height; y++) {
		const uint8_t *row = src + static_cast<size_t>(y) * stride;
		uint32_t *out = dst + static_cast<size_t>(y) * width;
		for (uint32_t x = 0; x < width; x++) {
			const uint8_t *p = row + x * 4;
			uint32_t r, g, b;
			if (format.bgraBytes) {
				b = p[0]; g = p[1]; r = p[2];
			} else {
				r = p[0]; g = p[1]; b = p[2];
			}
			out[x] = (uint32_t(p[3]) << 24 | r << 16 | g << 8 | b) | opaque;
		}
	}
}

RenderTarget::RenderTarget(std::shared_ptr<EglContext> context, const TargetKey &key,
			   const TargetFormat *format)
	: context_(std::move(context)), key_(key), format_(format)
{
}

RenderTarget::~RenderTarget()
{
	if (framebuffer_)
		glDeleteFramebuffers(1, &framebuffer_);
	if (renderbuffer_)
		glDeleteRenderbuffers(1, &renderbuffer_);
	if (texture_)
		glDeleteTextures(1, &texture_);
}

Result<void> RenderTarget::createFramebuffer(GLenum attachment, GLuint object, const char *what)
{
	glGenFramebuffers(1, &framebuffer_);
	glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
	if (attachment == GL_RENDERBUFFER)
		glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
					  GL_RENDERBUFFER, object);
	else
		glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
				       GL_TEXTURE_2D, object, 0);
	GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
	glBindFramebuffer(GL_FRAMEBUFFER, 0);
	if (status != GL_FRAMEBUFFER_COMPLETE) {
		char code[16];
		snprintf(code, sizeof(code), "0x%04x", status);
		return unexpected(EIO, describe(key_) + ": " + what +
				       " framebuffer incomplete (" + code + ")");
	}
	return {};
}

Result<std::unique_ptr<RenderTarget>>
RenderTarget::createDirect(std::shared_ptr<EglContext> context, const bufmgr::Buffer &buffer,
			   const TargetKey &key)
{
	const TargetFormat *format = lookupTargetFormat(key.format);
	if (!format)
		return unexpected(ENOTSUP, describe(key) + ": format not renderable");
	if (!context->procs().imageTargetRenderbufferStorage)
		return unexpected(ENOTSUP, describe(key) +
				  ": no glEGLImageTargetRenderbufferStorageOES");

	auto image = EglImage::import(context, buffer);
	if (!image)
		return unexpected(std::move(image).error());

	std::unique_ptr<RenderTarget> target(new RenderTarget(context, key, format));
	target->image_ = std::move(*image);
	glGenRenderbuffers(1, &target->renderbuffer_);
	glBindRenderbuffer(GL_RENDERBUFFER, target->renderbuffer_);
	context->procs().imageTargetRenderbufferStorage(GL_RENDERBUFFER,
							target->image_->get());
	glBindRenderbuffer(GL_RENDERBUFFER, 0);
	if (GLenum error = takeGlError())
		return unexpected(EIO, describe(key) + ": EGLImage renderbuffer failed (GL error " +
				       std::to_string(error) + ")");

	auto ret = target->createFramebuffer(GL_RENDERBUFFER, target->renderbuffer_, "EGLImage");
	if (!ret)
		return unexpected(std::move(ret).error());
	return target;
}

Result<std::unique_ptr<RenderTarget>>
RenderTarget::createOffscreen(std::shared_ptr<EglContext> context, const bufmgr::Buffer &buffer,
			      const TargetKey &key)
{
	const TargetFormat *format = lookupTargetFormat(key.format);
	if (!format)
		return unexpected(ENOTSUP, describe(key) + ": format not renderable");
	if (key.modifier != DRM_FORMAT_MOD_LINEAR && key.modifier != DRM_FORMAT_MOD_INVALID)
		return unexpected(ENOTSUP, describe(key) + ": the CPU copy needs a linear buffer");

	auto mapping = bufmgr::Mapping::map(buffer, { bufmgr::Access::ReadWrite });
	if (!mapping)
		return unexpected(std::move(mapping).error());
	const uint64_t needed = static_cast<uint64_t>(key.stride) * (key.height - 1) +
				static_cast<uint64_t>(key.width) * 4;
	if (mapping->plane(0).size() < needed)
		return unexpected(EINVAL, describe(key) + ": " +
				  std::to_string(mapping->plane(0).size()) +
				  " B mapped, rows need " + std::to_string(needed));

	std::unique_ptr<RenderTarget> target(new RenderTarget(context, key, format));
	target->mapping_.emplace(std::move(*mapping));
	glGenTextures(1, &target->texture_);
	glBindTexture(GL_TEXTURE_2D, target->texture_);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, key.width, key.height, 0, GL_RGBA,
		     GL_UNSIGNED_BYTE, nullptr);
	if (GLenum error = takeGlError())
		return unexpected(ENOMEM, describe(key) + ": offscreen texture failed (GL error " +
					  std::to_string(error) + ")");

	auto ret = target->createFramebuffer(GL_TEXTURE_2D, target->texture_, "offscreen");
	if (!ret)
		return unexpected(std::move(ret).error());
	return target;
}

void RenderTarget::bind() const
{
	glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
	glViewport(0, 0, key_.width, key_.height);
}

Result<void> RenderTarget::finish(const Rect &drawn)
{
	if (isDirect()) {
		/* No fences yet: the backend may scan out as soon as we return. */
		glFinish();
		return {};
	}
	/* Whole rows of what changed: one read, and the memory holds the rest. */
	const int64_t y0 = std::clamp<int64_t>(drawn.y, 0, key_.height);
	const int64_t y1 = std::clamp<int64_t>(int64_t(drawn.y) + drawn.height, y0, key_.height);
	if (y1 == y0)
		return {};
	return copyToMemory(uint32_t(y0), uint32_t(y1 - y0));
}

Result<void> RenderTarget::copyToMemory(uint32_t firstRow, uint32_t rows)
{
	const GlesCaps &caps = context_->caps();
	const uint32_t w = key_.width, h = rows, stride = key_.stride;
	const size_t rowBytes = static_cast<size_t>(w) * 4;

	/* The frame's rows in memory order are GL's bottom-up rows. */
	bool swizzle = format_->bgraBytes && !caps.bgraRead;
	GLenum glFormat = format_->bgraBytes && !swizzle ? GL_BGRA_EXT : GL_RGBA;

	auto access = mapping_->beginAccess(bufmgr::Access::Write);
	if (!access)
		return unexpected(std::move(access).error());
	uint8_t *dst = mapping_->plane(0).data() + static_cast<size_t>(firstRow) * stride;

	glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
	glPixelStorei(GL_PACK_ALIGNMENT, 4);
	if (!swizzle && stride == rowBytes) {
		glReadPixels(0, firstRow, w, h, glFormat, GL_UNSIGNED_BYTE, dst);
	} else if (!swizzle && caps.packRowLength && stride % 4 == 0) {
		glPixelStorei(kPackRowLength, stride / 4);
		glReadPixels(0, firstRow, w, h, glFormat, GL_UNSIGNED_BYTE, dst);
		glPixelStorei(kPackRowLength, 0);
	} else {
		scratch_.resize(rowBytes * h);
		glReadPixels(0, firstRow, w, h, glFormat, GL_UNSIGNED_BYTE, scratch_.data());
		for (uint32_t y = 0; y < h; y++) {
			uint8_t *out = dst + static_cast<size_t>(y) * stride;
			const uint8_t *in = scratch_.data() + y * rowBytes;
			if (!swizzle) {
				std::memcpy(out, in, rowBytes);
				continue;
			}
			for (uint32_t x = 0; x < w; x++) {
				out[x * 4 + 0] = in[x * 4 + 2];
				out[x * 4 + 1] = in[x * 4 + 1];
				out[x * 4 + 2] = in[x * 4 + 0];
				out[x * 4 + 3] = in[x * 4 + 3];
			}
		}
	}

	if (GLenum error = takeGlError())
		return unexpected(EIO, describe(key_) + ": glReadPixels failed (GL error " +
				       std::to_string(error) + ")");
	return access->end();
}

Result<std::vector<uint32_t>> RenderTarget::read()
{
	const uint32_t w = key_.width, h = key_.height;
	std::vector<uint32_t> pixels(static_cast<size_t>(w) * h);

	glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
	glPixelStorei(GL_PACK_ALIGNMENT, 4);
	/* BGRA bytes read as little-endian uint32 are 0xAARRGGBB. */
	const bool bgra = context_->caps().bgraRead;
	glReadPixels(0, 0, w, h, bgra ? GL_BGRA_EXT : GL_RGBA, GL_UNSIGNED_BYTE,
		     pixels.data());
	if (GLenum error = takeGlError())
		return unexpected(EIO, describe(key_) + ": glReadPixels failed (GL error " +
				       std::to_string(error) + ")");

	const TargetFormat logical = { 0, format_->hasAlpha, bgra };
	toArgb(logical, reinterpret_cast<const uint8_t *>(pixels.data()), w * 4, w, h,
	       pixels.data());
	return pixels;
}

} /* namespace comp */
