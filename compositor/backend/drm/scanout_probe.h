/* SPDX-License-Identifier: MIT */
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <bufmgr/manager.h>

#include "backend/drm/kms.h"

namespace comp {

/* What one allocation source's buffers can do on one CRTC's planes. */
struct ScanoutProbe {
	std::string source;	/* "dma-heap:system", "gbm:/dev/dri/renderD128" */
	std::string heap;	/* the heap's name for dma-heap sources, else "" */
	/* TEST_ONLY verdicts; nullopt: no such plane, or no buffer to try. */
	std::optional<bool> primary;
	std::optional<bool> overlay;
	std::optional<bool> cursor;
	/* Why a buffer could not be allocated or imported, or a plane refused it. */
	std::string note;
};

/* The planes of one CRTC, with its mode, as a probe tests them. */
struct ProbePipe {
	uint32_t crtc = 0;
	uint32_t crtcIndex = 0;
	uint32_t connector = 0;
	uint32_t modeBlob = 0;
	uint32_t width = 0;
	uint32_t height = 0;
	uint32_t primary = 0;
};

/*
 * At startup, for every source that gives dma-bufs: allocates a buffer
 * for each plane type, imports it (PRIME + AddFB2) and asks a TEST_ONLY
 * commit whether the plane takes it; overlay and cursor planes over a
 * probe buffer the primary plane took (none took one: not tried).
 * Nothing is shown; every buffer is freed before this returns.
 */
std::vector<ScanoutProbe> probeScanout(int fd, bufmgr::BufferManager &manager,
				       const ProbePipe &pipe);

/* "yes", "no" or "-" for a verdict. */
const char *verdictText(const std::optional<bool> &verdict);

/* The plane types ("primary", "overlay", "cursor") that took the source's buffer. */
std::vector<std::string_view> acceptingPlanes(const ScanoutProbe &probe);

} /* namespace comp */
