/* SPDX-License-Identifier: MIT */
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <GLES2/gl2ext.h>

#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

struct gbm_device;

namespace comp {

using bufmgr::Result;

/* Extension entry points, null when the extension is missing. */
struct EglProcs {
	PFNEGLCREATEIMAGEKHRPROC createImage = nullptr;
	PFNEGLDESTROYIMAGEKHRPROC destroyImage = nullptr;
	PFNEGLQUERYDMABUFFORMATSEXTPROC queryDmaBufFormats = nullptr;
	PFNEGLQUERYDMABUFMODIFIERSEXTPROC queryDmaBufModifiers = nullptr;
	PFNGLEGLIMAGETARGETTEXTURE2DOESPROC imageTargetTexture2D = nullptr;
	PFNGLEGLIMAGETARGETRENDERBUFFERSTORAGEOESPROC imageTargetRenderbufferStorage = nullptr;
	PFNEGLCREATESYNCKHRPROC createSync = nullptr;
	PFNEGLDESTROYSYNCKHRPROC destroySync = nullptr;
	PFNEGLDUPNATIVEFENCEFDANDROIDPROC dupNativeFenceFd = nullptr;
};

/* What the context can do, read once from the extension strings. */
struct GlesCaps {
	int major = 2;
	bool bgraTextures = false;	/* GL_EXT_texture_format_BGRA8888 */
	bool bgraRead = false;		/* GL_EXT_read_format_bgra */
	bool unpackRowLength = false;	/* ES3 or GL_EXT_unpack_subimage */
	bool packRowLength = false;	/* ES3 or GL_NV_pack_subimage */
	bool externalImages = false;	/* GL_OES_EGL_image_external */
	bool eglImages = false;		/* GL_OES_EGL_image + EGL_KHR_image_base */
	bool dmaBufImport = false;	/* EGL_EXT_image_dma_buf_import */
	bool dmaBufModifiers = false;	/* ..._modifiers */
	bool nativeFenceSync = false;	/* EGL_ANDROID_native_fence_sync */
	int maxTextureSize = 0;
};

/*
 * An EGL display and a GLES context without surfaces: on GBM for a
 * render node, or EGL_PLATFORM_SURFACELESS_MESA. Shared (shared_ptr) by
 * the renderer and every texture it made, so the GL objects of a texture
 * that outlives its renderer can still be deleted.
 */
class EglContext
{
public:
	/*
	 * renderNode "" for surfaceless. bareGles2 ignores the optional
	 * upload/readback extensions (see GlesRendererOptions).
	 */
	static Result<std::shared_ptr<EglContext>> create(const std::string &renderNode,
							  bool bareGles2 = false);
	~EglContext();

	EglContext(const EglContext &) = delete;
	EglContext &operator=(const EglContext &) = delete;

	/* Makes the context current on this thread if it is not already. */
	bool makeCurrent() const;

	EGLDisplay display() const { return display_; }
	EGLContext context() const { return context_; }
	const std::string &renderNode() const { return renderNode_; }
	const EglProcs &procs() const { return procs_; }
	const GlesCaps &caps() const { return caps_; }

	bool hasEglExtension(std::string_view name) const;
	bool hasGlExtension(std::string_view name) const;

	/* GL_RENDERER: "llvmpipe (LLVM 15.0.6, 256 bits)" */
	const std::string &glRenderer() const { return glRenderer_; }
	/* "GBM on /dev/dri/renderD128, OpenGL ES 3.2 Mesa, llvmpipe" */
	const std::string &description() const { return description_; }

private:
	EglContext() = default;
	Result<void> init(const std::string &renderNode, bool bareGles2);

	bufmgr::UniqueFd nodeFd_;
	gbm_device *gbm_ = nullptr;
	EGLDisplay display_ = EGL_NO_DISPLAY;
	EGLContext context_ = EGL_NO_CONTEXT;
	std::string renderNode_;
	std::set<std::string, std::less<>> eglExtensions_;
	std::set<std::string, std::less<>> glExtensions_;
	EglProcs procs_;
	GlesCaps caps_;
	std::string glRenderer_;
	std::string description_;
};

/* The first /dev/dri/renderD* in name order, "" if none. */
std::string findRenderNode();

/* Clears the GL error flags; returns the first one, GL_NO_ERROR if none. */
GLenum takeGlError();

} /* namespace comp */
