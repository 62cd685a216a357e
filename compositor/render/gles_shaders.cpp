/* SPDX-License-Identifier: MIT */
#include "gles_shaders.h"

#include <cerrno>
#include <string>
#include <vector>

namespace comp {

namespace {

using bufmgr::unexpected;

constexpr const char *kVertexSource = R"(
attribute vec2 position;
attribute vec2 texcoord;
varying vec2 v_texcoord;
void main()
{
	gl_Position = vec4(position, 0.0, 1.0);
	v_texcoord = texcoord;
}
)";

/* Texture coordinates of large buffers need more than mediump's 10 bits. */
constexpr const char *kPrecision = R"(
#ifdef GL_FRAGMENT_PRECISION_HIGH
precision highp float;
#else
precision mediump float;
#endif
uniform float alpha;
/* Texel centres at the source box's edges: filtering stays inside it. */
uniform vec4 texClamp;
varying vec2 v_texcoord;
)";

/* Pixels are premultiplied: the item's alpha scales all four channels. */
constexpr const char *kFragmentBody = R"(
#if defined(SOLID)
uniform vec4 color;
void main()
{
	gl_FragColor = color;
}
#elif defined(YUV_NV12) || defined(YUV_420)
uniform sampler2D tex0;
uniform sampler2D tex1;
#ifdef YUV_420
uniform sampler2D tex2;
#endif
void main()
{
	vec2 tc = clamp(v_texcoord, texClamp.xy, texClamp.zw);
	float y = texture2D(tex0, tc).r;
#ifdef YUV_NV12
	vec2 uv = texture2D(tex1, tc).ra;
#else
	vec2 uv = vec2(texture2D(tex1, tc).r, texture2D(tex2, tc).r);
#endif
	/* BT.601, limited range: what clients without color metadata mean. */
	vec3 yuv = vec3(y - 16.0 / 255.0, uv.x - 0.5, uv.y - 0.5);
	vec3 rgb = mat3(1.164, 1.164, 1.164,
			0.0, -0.392, 2.017,
			1.596, -0.813, 0.0) * yuv;
	gl_FragColor = vec4(clamp(rgb, 0.0, 1.0), 1.0) * alpha;
}
#else
uniform SAMPLER tex0;
void main()
{
	vec4 c = texture2D(tex0, clamp(v_texcoord, texClamp.xy, texClamp.zw));
#ifdef SWIZZLE_BGRA
	c = c.bgra;
#endif
#ifdef NO_ALPHA
	c.a = 1.0;
#endif
	gl_FragColor = c * alpha;
}
#endif
)";

std::string fragmentSource(ShaderKind kind)
{
	std::string src;
	bool external = kind == ShaderKind::ExternalRgba || kind == ShaderKind::ExternalRgbx;
	/* #extension must precede everything but other directives. */
	if (external)
		src += "#extension GL_OES_EGL_image_external : require\n"
		       "#define SAMPLER samplerExternalOES\n";
	else
		src += "#define SAMPLER sampler2D\n";
	switch (kind) {
	case ShaderKind::Rgbx:
	case ShaderKind::ExternalRgbx:
		src += "#define NO_ALPHA\n";
		break;
	case ShaderKind::Bgra:
		src += "#define SWIZZLE_BGRA\n";
		break;
	case ShaderKind::Bgrx:
		src += "#define SWIZZLE_BGRA\n#define NO_ALPHA\n";
		break;
	case ShaderKind::Nv12:
		src += "#define YUV_NV12\n";
		break;
	case ShaderKind::Yuv420:
		src += "#define YUV_420\n";
		break;
	case ShaderKind::Solid:
		src += "#define SOLID\n";
		break;
	default:
		break;
	}
	return src + kPrecision + kFragmentBody;
}

Result<GLuint> compile(GLenum type, const std::string &source)
{
	GLuint shader = glCreateShader(type);
	const char *text = source.c_str();
	glShaderSource(shader, 1, &text, nullptr);
	glCompileShader(shader);
	GLint ok = GL_FALSE;
	glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
	if (ok)
		return shader;

	GLint length = 0;
	glGetShaderiv(shader, GL_INFO_LOG_LENGTH, &length);
	std::vector<char> log(std::max(length, 1));
	glGetShaderInfoLog(shader, log.size(), nullptr, log.data());
	glDeleteShader(shader);
	return unexpected(EINVAL, std::string("compile ") +
			  (type == GL_VERTEX_SHADER ? "vertex" : "fragment") +
			  " shader: " + log.data());
}

} /* namespace */

Result<std::unique_ptr<ShaderProgram>> ShaderProgram::create(ShaderKind kind)
{
	auto vertex = compile(GL_VERTEX_SHADER, kVertexSource);
	if (!vertex)
		return unexpected(std::move(vertex).error());
	auto fragment = compile(GL_FRAGMENT_SHADER, fragmentSource(kind));
	if (!fragment) {
		glDeleteShader(*vertex);
		return unexpected(std::move(fragment).error());
	}

	std::unique_ptr<ShaderProgram> program(new ShaderProgram());
	GLuint id = glCreateProgram();
	program->program_ = id;
	glAttachShader(id, *vertex);
	glAttachShader(id, *fragment);
	glBindAttribLocation(id, kPositionAttrib, "position");
	glBindAttribLocation(id, kTexcoordAttrib, "texcoord");
	glLinkProgram(id);
	/* The program keeps what it needs; flag the shaders for deletion. */
	glDeleteShader(*vertex);
	glDeleteShader(*fragment);

	GLint ok = GL_FALSE;
	glGetProgramiv(id, GL_LINK_STATUS, &ok);
	if (!ok) {
		GLint length = 0;
		glGetProgramiv(id, GL_INFO_LOG_LENGTH, &length);
		std::vector<char> log(std::max(length, 1));
		glGetProgramInfoLog(id, log.size(), nullptr, log.data());
		return unexpected(EINVAL, std::string("link shader program: ") + log.data());
	}

	static const char *const names[] = { "tex0", "tex1", "tex2" };
	for (size_t i = 0; i < 3; i++)
		program->samplers_[i] = glGetUniformLocation(id, names[i]);
	program->alpha_ = glGetUniformLocation(id, "alpha");
	program->texClamp_ = glGetUniformLocation(id, "texClamp");
	program->color_ = glGetUniformLocation(id, "color");
	if (kind == ShaderKind::ExternalRgba || kind == ShaderKind::ExternalRgbx)
		program->target_ = GL_TEXTURE_EXTERNAL_OES;
	return program;
}

ShaderProgram::~ShaderProgram()
{
	if (program_)
		glDeleteProgram(program_);
}

void drawQuad(const std::array<float, 8> &positions, const std::array<float, 8> &texcoords)
{
	/* Client-side arrays: one quad per draw is not worth a buffer object. */
	glBindBuffer(GL_ARRAY_BUFFER, 0);
	glVertexAttribPointer(kPositionAttrib, 2, GL_FLOAT, GL_FALSE, 0, positions.data());
	glVertexAttribPointer(kTexcoordAttrib, 2, GL_FLOAT, GL_FALSE, 0, texcoords.data());
	glEnableVertexAttribArray(kPositionAttrib);
	glEnableVertexAttribArray(kTexcoordAttrib);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
	glDisableVertexAttribArray(kPositionAttrib);
	glDisableVertexAttribArray(kTexcoordAttrib);
}

Result<const ShaderProgram *> ShaderCache::get(ShaderKind kind)
{
	size_t index = static_cast<size_t>(kind);
	if (index >= programs_.size())
		return unexpected(EINVAL, "no such shader");
	if (!programs_[index]) {
		if ((kind == ShaderKind::ExternalRgba || kind == ShaderKind::ExternalRgbx) &&
		    !caps_.externalImages)
			return unexpected(ENOTSUP, "external textures need GL_OES_EGL_image_external");
		auto program = ShaderProgram::create(kind);
		if (!program)
			return unexpected(std::move(program).error());
		programs_[index] = std::move(*program);
	}
	return programs_[index].get();
}

} /* namespace comp */
