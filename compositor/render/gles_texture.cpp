/* SPDX-License-Identifier: MIT */
#include "gles_texture.h"

namespace comp {

GlesTexture::GlesTexture(std::shared_ptr<EglContext> context, Source source,
			 uint32_t width, uint32_t height, const GlFormat &format)
	: context_(std::move(context)), source_(source), width_(width),
	  height_(height), format_(format)
{
	glGenTextures(format_.numPlanes, textures_.data());
	for (size_t i = 0; i < format_.numPlanes; i++) {
		glBindTexture(GL_TEXTURE_2D, textures_[i]);
		glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
		glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
	}
}

GlesTexture::~GlesTexture()
{
	/* Another renderer's context may be current on this thread: restore it. */
	EGLDisplay previousDisplay = eglGetCurrentDisplay();
	EGLContext previous = eglGetCurrentContext();
	context_->makeCurrent();
	glDeleteTextures(format_.numPlanes, textures_.data());
	image_.reset();
	if (previous != EGL_NO_CONTEXT && previous != context_->context())
		eglMakeCurrent(previousDisplay, EGL_NO_SURFACE, EGL_NO_SURFACE, previous);
}

void GlesTexture::setFilter(GLint filter) const
{
	if (filter == filter_)
		return;
	for (size_t i = 0; i < format_.numPlanes; i++) {
		glBindTexture(target_, textures_[i]);
		glTexParameteri(target_, GL_TEXTURE_MIN_FILTER, filter);
		glTexParameteri(target_, GL_TEXTURE_MAG_FILTER, filter);
	}
	filter_ = filter;
}

void GlesTexture::setImage(std::unique_ptr<EglImage> image, GLenum target)
{
	image_ = std::move(image);
	target_ = target;
	glBindTexture(target_, textures_[0]);
	glTexParameteri(target_, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
	glTexParameteri(target_, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
	context_->procs().imageTargetTexture2D(target_, image_->get());
}

void GlesTexture::setMapping(bufmgr::Mapping mapping, std::vector<bufmgr::BufferPlane> planes)
{
	mapping_.emplace(std::move(mapping));
	planes_ = std::move(planes);
}

bool GlesTexture::isSameMemory(const bufmgr::Buffer &buffer) const
{
	if (buffer.numPlanes() != planes_.size())
		return false;
	for (size_t i = 0; i < planes_.size(); i++) {
		const bufmgr::BufferPlane &a = planes_[i], &b = buffer.plane(i);
		if (!(a.fd == b.fd) || a.offset != b.offset || a.stride != b.stride)
			return false;
	}
	return true;
}

} /* namespace comp */
