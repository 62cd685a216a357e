/* SPDX-License-Identifier: MIT */
#pragma once

#include <memory>
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

/* What the GLES renderer tells beyond the Renderer interface. */
class GlesRenderer : public Renderer
{
public:
	/* How the GPU path was decided: the probe's outcome and its detail. */
	virtual const DmaBufProbeResult &probeResult() const = 0;
	/* "GBM on /dev/dri/renderD128, EGL 1.5, OpenGL ES 3.2 Mesa ..., llvmpipe" */
	virtual const std::string &description() const = 0;
	/* Whether render() draws straight into dma-buf targets (else copies). */
	virtual bool rendersIntoDmaBufs() const = 0;
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
