/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "dmabuf_probe.h"
#include "renderer.h"

namespace comp {

struct GlesRendererOptions {
	/*
	 * DRM render node for a GBM display, "" to use the first
	 * /dev/dri/renderD* if there is one. Without a node (or if GBM
	 * fails) the renderer runs on EGL surfaceless (llvmpipe on hosts
	 * without a GPU).
	 */
	std::string renderNode;
	/* Use EGL surfaceless even when a render node exists. */
	bool surfaceless = false;
	/* Never import client dma-bufs as EGLImages: skip the probe. */
	bool forceCpuDmaBuf = false;
	/* How long the dma-buf import probe may take before it is killed. */
	int probeTimeoutMs = 20000;
	/*
	 * Ignore the extensions a bare GLES2 context lacks (BGRA textures and
	 * reads, unpack/pack row lengths), so the fallbacks can be tested on
	 * any driver.
	 */
	bool bareGles2 = false;
};

/* What a caller drawing with GL inside a pass is given. */
struct GlPassState {
	uint32_t framebuffer = 0;	/* GLuint, bound */
	uint32_t width = 0;		/* the target's size, also the viewport */
	uint32_t height = 0;
	/* Output pixels the pass draws; scissor each draw to these. */
	std::span<const Rect> clip;
};

/*
 * A pass of the GLES renderer (beginPass() returns one). drawWithGl() is
 * the escape hatch for drawing triangles in GL directly, in order with
 * the pass's other draws: the target's framebuffer is bound with the
 * viewport on the whole target, GL's y = 0 is the output's first row,
 * blending is premultiplied (ONE, ONE_MINUS_SRC_ALPHA) and the scissor
 * test is on. The callback may change any GL state; the pass restores
 * what it relies on afterwards.
 */
class GlesRenderPass : public RenderPass
{
public:
	virtual void drawWithGl(const std::function<void(const GlPassState &)> &draw) = 0;
};

/* What the GLES renderer tells beyond the Renderer interface. */
class GlesRenderer : public Renderer
{
public:
	/* How the GPU path was decided: the probe's outcome and its detail. */
	virtual const DmaBufProbeResult &probeResult() const = 0;
	/* "GBM on /dev/dri/renderD128, EGL 1.5, OpenGL ES 3.2 Mesa ..., llvmpipe" */
	virtual const std::string &description() const = 0;
	/* Whether passes draw straight into dma-buf targets (else copy). */
	virtual bool rendersIntoDmaBufs() const = 0;
	/* GL_RENDERER, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
	virtual const std::string &glRenderer() const = 0;
};

/*
 * A GLES2/3 renderer on EGL (a GlesRenderer). Client dma-bufs take the
 * GPU path (EGLImage) only when a probe in a child process has imported
 * a known pattern and read it back intact; otherwise the CPU path (map
 * and upload). The probe runs before this process's first EGL display is
 * created, once per render node per process.
 */
Result<std::unique_ptr<Renderer>> createGlesRenderer(const GlesRendererOptions &options = {});

} /* namespace comp */
