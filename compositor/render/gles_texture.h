/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include <bufmgr/buffer.h>
#include <bufmgr/mapping.h>

#include "egl_context.h"
#include "egl_image.h"
#include "gles_format.h"
#include "renderer.h"

namespace comp {

/*
 * The GL side of a client buffer: one GL texture per plane uploaded from
 * CPU memory (wl_shm, or a mapped dma-buf), or one texture bound to an
 * EGLImage of the dma-buf. Keeps its context alive so it can always
 * delete its GL objects.
 */
class GlesTexture final : public Texture
{
public:
	enum class Source : uint8_t {
		Shm,		/* uploaded from wl_shm memory */
		DmaBufCpu,	/* uploaded from a mapping of a dma-buf */
		DmaBufGpu,	/* an EGLImage of a dma-buf */
	};

	GlesTexture(std::shared_ptr<EglContext> context, Source source,
		    uint32_t width, uint32_t height, const GlFormat &format);
	~GlesTexture() override;

	uint32_t width() const override { return width_; }
	uint32_t height() const override { return height_; }
	bool hasAlpha() const override { return format_.hasAlpha; }

	Source source() const { return source_; }
	const GlFormat &format() const { return format_; }
	const EglContext *context() const { return context_.get(); }

	GLuint glTexture(size_t plane) const { return textures_[plane]; }
	size_t numTextures() const { return format_.numPlanes; }
	/* GL_TEXTURE_2D, or GL_TEXTURE_EXTERNAL_OES for EGLImage imports. */
	GLenum glTarget() const { return target_; }

	/* Sets min/mag filtering of every plane if it changed. */
	void setFilter(GLint filter) const;

	/* For EGLImage imports: owns the image the texture is bound to. */
	void setImage(std::unique_ptr<EglImage> image, GLenum target);

	/* For CPU-path dma-bufs: the mapping kept for updates, and its buffer. */
	void setMapping(bufmgr::Mapping mapping, std::vector<bufmgr::BufferPlane> planes);
	const bufmgr::Mapping *mapping() const { return mapping_ ? &*mapping_ : nullptr; }
	const std::vector<bufmgr::BufferPlane> &planes() const { return planes_; }
	bool isSameMemory(const bufmgr::Buffer &buffer) const;

private:
	std::shared_ptr<EglContext> context_;
	Source source_;
	uint32_t width_;
	uint32_t height_;
	GlFormat format_;
	GLenum target_ = GL_TEXTURE_2D;
	std::array<GLuint, 3> textures_{};
	mutable GLint filter_ = 0;
	std::unique_ptr<EglImage> image_;
	std::optional<bufmgr::Mapping> mapping_;
	std::vector<bufmgr::BufferPlane> planes_;
};

} /* namespace comp */
