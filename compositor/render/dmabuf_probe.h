/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace comp {

enum class ProbeStatus : uint8_t {
	Passed,		/* the pattern came back intact */
	Failed,		/* the probe ran: import failed or pixels were wrong */
	Crashed,	/* the probe process died (the driver crashed) */
	TimedOut,	/* the probe process hung and was killed */
	Unsupported,	/* EGL_EXT_image_dma_buf_import not advertised */
	NotRun,		/* no dma-buf to probe with, disabled, or fork failed */
};

std::string_view toString(ProbeStatus status);

struct DmaBufProbeOptions {
	std::string renderNode;		/* "" for EGL surfaceless */
	int timeoutMs = 20000;
	std::string heapPath = "/dev/dma_heap/system";
	std::string udmabufPath = "/dev/udmabuf";
};

struct DmaBufProbeResult {
	ProbeStatus status = ProbeStatus::NotRun;
	/* A dma-buf imported as an EGLImage samples as the CPU wrote it. */
	bool canSample = false;
	/* Drawing into an EGLImage of a dma-buf lands in its memory. */
	bool canRender = false;
	std::string source;	/* the allocator of the probe buffers */
	std::string detail;	/* what happened, for the log */
	int64_t durationMs = 0;	/* from fork to the answer */

	/* The probe got as far as an answer from a child process. */
	bool completed() const { return status != ProbeStatus::NotRun; }
};

/*
 * Whether this EGL driver really imports dma-bufs: drivers advertise
 * EGL_EXT_image_dma_buf_import and then crash or read zeros. A child
 * process opens its own EGL display, imports a small buffer from a
 * DMA-BUF heap (else udmabuf) holding a known pattern, draws it and reads
 * it back, then renders into an imported buffer and checks its memory.
 *
 * The child is forked, not exec'ed: no helper binary to find or install,
 * and it works from any program linking the renderer (the compositor,
 * tests). Call it before this process creates its own EGL display, so the
 * child starts without driver threads or state; the parent only waits on
 * a pipe with a deadline and reaps the child, so a driver that crashes or
 * hangs costs the probe, never the compositor.
 */
DmaBufProbeResult probeDmaBufImport(const DmaBufProbeOptions &options);

/* probeDmaBufImport() once per process and render node; later calls reuse it. */
DmaBufProbeResult cachedDmaBufProbe(const DmaBufProbeOptions &options);

/* The probe's body, run in the calling process (the child). */
DmaBufProbeResult runDmaBufProbeInProcess(const DmaBufProbeOptions &options);

} /* namespace comp */
