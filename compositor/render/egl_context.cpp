/* SPDX-License-Identifier: MIT */
#include "egl_context.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include <gbm.h>

#include <bufmgr/dri_nodes.h>
#include <bufmgr/log.h>

namespace comp {

namespace {

using bufmgr::unexpected;

/*
 * eglGetPlatformDisplay() hands every caller on the same native display
 * (all surfaceless users) the same EGLDisplay, and eglTerminate() is not
 * reference counted before EGL_KHR_display_reference: count here, so one
 * renderer's teardown does not pull the display from under another.
 */
std::mutex displayMutex;
std::map<EGLDisplay, int> displayUsers;

bool acquireDisplay(EGLDisplay display, EGLint *major, EGLint *minor)
{
	std::lock_guard lock(displayMutex);
	if (!eglInitialize(display, major, minor))
		return false;
	displayUsers[display]++;
	return true;
}

void releaseDisplay(EGLDisplay display)
{
	std::lock_guard lock(displayMutex);
	auto it = displayUsers.find(display);
	if (it == displayUsers.end())
		return;
	if (--it->second == 0) {
		displayUsers.erase(it);
		eglTerminate(display);
	}
}

std::set<std::string, std::less<>> splitExtensions(const char *list)
{
	std::set<std::string, std::less<>> names;
	if (!list)
		return names;
	std::istringstream stream(list);
	std::string name;
	while (stream >> name)
		names.insert(name);
	return names;
}

std::string eglErrorString(EGLint error)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "0x%04x", error);
	return buf;
}

template<typename T>
T proc(const char *name)
{
	return reinterpret_cast<T>(eglGetProcAddress(name));
}

} /* namespace */

std::string findRenderNode()
{
	std::vector<std::string> nodes = bufmgr::driNodes("renderD");
	return nodes.empty() ? std::string() : nodes.front();
}

GLenum takeGlError()
{
	GLenum first = glGetError();
	if (first != GL_NO_ERROR) {
		/* Drain the other flags; bounded in case the context is lost. */
		for (int i = 0; i < 16 && glGetError() != GL_NO_ERROR; i++)
			;
	}
	return first;
}

Result<std::shared_ptr<EglContext>> EglContext::create(const std::string &renderNode,
						      bool bareGles2)
{
	std::shared_ptr<EglContext> context(new EglContext());
	auto ret = context->init(renderNode, bareGles2);
	if (!ret)
		return unexpected(std::move(ret).error());
	return context;
}

Result<void> EglContext::init(const std::string &renderNode, bool bareGles2)
{
	const std::string where = renderNode.empty()
				  ? std::string("EGL surfaceless")
				  : "EGL on GBM " + renderNode;

	auto clientExtensions = splitExtensions(eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS));
	auto getPlatformDisplay =
		proc<PFNEGLGETPLATFORMDISPLAYEXTPROC>("eglGetPlatformDisplayEXT");
	if (!clientExtensions.count("EGL_EXT_platform_base") || !getPlatformDisplay)
		return unexpected(ENOTSUP, where + ": no EGL_EXT_platform_base");

	if (renderNode.empty()) {
		if (!clientExtensions.count("EGL_MESA_platform_surfaceless"))
			return unexpected(ENOTSUP, where + ": no EGL_MESA_platform_surfaceless");
		display_ = getPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA,
					      EGL_DEFAULT_DISPLAY, nullptr);
	} else {
		if (!clientExtensions.count("EGL_KHR_platform_gbm") &&
		    !clientExtensions.count("EGL_MESA_platform_gbm"))
			return unexpected(ENOTSUP, where + ": no EGL GBM platform");
		nodeFd_.reset(::open(renderNode.c_str(), O_RDWR | O_CLOEXEC));
		if (!nodeFd_)
			return unexpected(errno, where + ": open");
		gbm_ = gbm_create_device(nodeFd_.get());
		if (!gbm_)
			return unexpected(errno ? errno : ENODEV, where + ": gbm_create_device");
		display_ = getPlatformDisplay(EGL_PLATFORM_GBM_KHR, gbm_, nullptr);
	}
	if (display_ == EGL_NO_DISPLAY)
		return unexpected(ENODEV, where + ": no display (EGL error " +
					  eglErrorString(eglGetError()) + ")");

	EGLint major = 0, minor = 0;
	if (!acquireDisplay(display_, &major, &minor)) {
		display_ = EGL_NO_DISPLAY;
		return unexpected(ENODEV, where + ": eglInitialize failed (EGL error " +
					  eglErrorString(eglGetError()) + ")");
	}
	renderNode_ = renderNode;
	eglExtensions_ = splitExtensions(eglQueryString(display_, EGL_EXTENSIONS));

	if (!hasEglExtension("EGL_KHR_surfaceless_context"))
		return unexpected(ENOTSUP, where + ": no EGL_KHR_surfaceless_context");
	if (!eglBindAPI(EGL_OPENGL_ES_API))
		return unexpected(ENOTSUP, where + ": cannot bind the GLES API");

	EGLConfig config = EGL_NO_CONFIG_KHR;
	if (!hasEglExtension("EGL_KHR_no_config_context") &&
	    !hasEglExtension("EGL_MESA_configless_context")) {
		const EGLint attribs[] = {
			EGL_RENDERABLE_TYPE, EGL_OPENGL_ES2_BIT,
			EGL_SURFACE_TYPE, 0,
			EGL_NONE,
		};
		EGLint count = 0;
		if (!eglChooseConfig(display_, attribs, &config, 1, &count) || count < 1)
			return unexpected(ENOTSUP, where + ": no GLES2 config");
	}

	/* GLES3 brings row lengths for both directions; GLES2 will do. */
	for (int version : { 3, 2 }) {
		const EGLint attribs[] = {
			EGL_CONTEXT_MAJOR_VERSION_KHR, version,
			EGL_NONE,
		};
		context_ = eglCreateContext(display_, config, EGL_NO_CONTEXT, attribs);
		if (context_ != EGL_NO_CONTEXT) {
			caps_.major = version;
			break;
		}
	}
	if (context_ == EGL_NO_CONTEXT)
		return unexpected(ENOTSUP, where + ": no GLES context (EGL error " +
					   eglErrorString(eglGetError()) + ")");
	if (!makeCurrent())
		return unexpected(EIO, where + ": eglMakeCurrent failed (EGL error " +
				       eglErrorString(eglGetError()) + ")");

	glExtensions_ = splitExtensions(reinterpret_cast<const char *>(
		glGetString(GL_EXTENSIONS)));

	caps_.bgraTextures = hasGlExtension("GL_EXT_texture_format_BGRA8888");
	caps_.bgraRead = hasGlExtension("GL_EXT_read_format_bgra");
	caps_.unpackRowLength = caps_.major >= 3 || hasGlExtension("GL_EXT_unpack_subimage");
	caps_.packRowLength = caps_.major >= 3 || hasGlExtension("GL_NV_pack_subimage");
	caps_.externalImages = hasGlExtension("GL_OES_EGL_image_external");
	if (bareGles2) {
		caps_.bgraTextures = caps_.bgraRead = false;
		caps_.unpackRowLength = caps_.packRowLength = false;
	}
	glGetIntegerv(GL_MAX_TEXTURE_SIZE, &caps_.maxTextureSize);

	if (hasEglExtension("EGL_KHR_image_base") && hasGlExtension("GL_OES_EGL_image")) {
		procs_.createImage = proc<PFNEGLCREATEIMAGEKHRPROC>("eglCreateImageKHR");
		procs_.destroyImage = proc<PFNEGLDESTROYIMAGEKHRPROC>("eglDestroyImageKHR");
		procs_.imageTargetTexture2D =
			proc<PFNGLEGLIMAGETARGETTEXTURE2DOESPROC>("glEGLImageTargetTexture2DOES");
		procs_.imageTargetRenderbufferStorage =
			proc<PFNGLEGLIMAGETARGETRENDERBUFFERSTORAGEOESPROC>(
				"glEGLImageTargetRenderbufferStorageOES");
		caps_.eglImages = procs_.createImage && procs_.destroyImage &&
				  procs_.imageTargetTexture2D;
	}
	caps_.dmaBufImport = caps_.eglImages &&
			     hasEglExtension("EGL_EXT_image_dma_buf_import");
	if (caps_.dmaBufImport && hasEglExtension("EGL_EXT_image_dma_buf_import_modifiers")) {
		procs_.queryDmaBufFormats =
			proc<PFNEGLQUERYDMABUFFORMATSEXTPROC>("eglQueryDmaBufFormatsEXT");
		procs_.queryDmaBufModifiers =
			proc<PFNEGLQUERYDMABUFMODIFIERSEXTPROC>("eglQueryDmaBufModifiersEXT");
		caps_.dmaBufModifiers = procs_.queryDmaBufFormats && procs_.queryDmaBufModifiers;
	}

	if (hasEglExtension("EGL_ANDROID_native_fence_sync")) {
		procs_.createSync = proc<PFNEGLCREATESYNCKHRPROC>("eglCreateSyncKHR");
		procs_.destroySync = proc<PFNEGLDESTROYSYNCKHRPROC>("eglDestroySyncKHR");
		procs_.dupNativeFenceFd =
			proc<PFNEGLDUPNATIVEFENCEFDANDROIDPROC>("eglDupNativeFenceFDANDROID");
		caps_.nativeFenceSync = procs_.createSync && procs_.destroySync &&
					procs_.dupNativeFenceFd;
	}

	glRenderer_ = reinterpret_cast<const char *>(glGetString(GL_RENDERER));
	description_ = (renderNode.empty() ? std::string("EGL surfaceless")
					   : "GBM on " + renderNode) +
		       ", EGL " + std::to_string(major) + "." + std::to_string(minor) +
		       ", " + reinterpret_cast<const char *>(glGetString(GL_VERSION)) +
		       ", " + glRenderer_ +
		       (bareGles2 ? " (as bare GLES2)" : "");
	takeGlError();
	return {};
}

EglContext::~EglContext()
{
	if (display_ != EGL_NO_DISPLAY) {
		if (context_ != EGL_NO_CONTEXT) {
			if (eglGetCurrentContext() == context_)
				eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE,
					       EGL_NO_CONTEXT);
			eglDestroyContext(display_, context_);
		}
		releaseDisplay(display_);
	}
	if (gbm_)
		gbm_device_destroy(gbm_);
}

bool EglContext::makeCurrent() const
{
	if (eglGetCurrentContext() == context_ && eglGetCurrentDisplay() == display_)
		return true;
	return eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_);
}

bool EglContext::hasEglExtension(std::string_view name) const
{
	return eglExtensions_.find(name) != eglExtensions_.end();
}

bool EglContext::hasGlExtension(std::string_view name) const
{
	return glExtensions_.find(name) != glExtensions_.end();
}

} /* namespace comp */
