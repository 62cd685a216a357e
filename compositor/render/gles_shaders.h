/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <memory>

#include <GLES2/gl2.h>

#include "egl_context.h"
#include "gles_format.h"

namespace comp {

/* Attribute locations every program binds before linking. */
constexpr GLuint kPositionAttrib = 0;
constexpr GLuint kTexcoordAttrib = 1;

/* A linked program drawing one textured quad of a given ShaderKind. */
class ShaderProgram
{
public:
	static Result<std::unique_ptr<ShaderProgram>> create(ShaderKind kind);
	~ShaderProgram();

	ShaderProgram(const ShaderProgram &) = delete;
	ShaderProgram &operator=(const ShaderProgram &) = delete;

	GLuint id() const { return program_; }
	GLint samplerLocation(size_t i) const { return samplers_[i]; }
	GLint alphaLocation() const { return alpha_; }
	/* vec4: min s, min t, max s, max t texture coordinates to sample. */
	GLint texClampLocation() const { return texClamp_; }
	/* vec4: the Solid kind's premultiplied color. */
	GLint colorLocation() const { return color_; }
	/* Texture target the samplers use: 2D or EXTERNAL_OES. */
	GLenum textureTarget() const { return target_; }

private:
	ShaderProgram() = default;

	GLuint program_ = 0;
	std::array<GLint, 3> samplers_{ -1, -1, -1 };
	GLint alpha_ = -1;
	GLint texClamp_ = -1;
	GLint color_ = -1;
	GLenum target_ = GL_TEXTURE_2D;
};

/*
 * Draws a quad with the bound program: corners in triangle-strip order,
 * positions in normalized device coordinates.
 */
void drawQuad(const std::array<float, 8> &positions, const std::array<float, 8> &texcoords);

/* Programs compiled on first use, one per ShaderKind. */
class ShaderCache
{
public:
	explicit ShaderCache(const GlesCaps &caps) : caps_(caps) {}
	Result<const ShaderProgram *> get(ShaderKind kind);

private:
	GlesCaps caps_;
	std::array<std::unique_ptr<ShaderProgram>, static_cast<size_t>(ShaderKind::Count)> programs_;
};

} /* namespace comp */
