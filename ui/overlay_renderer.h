/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <bufmgr/result.h>

#include "rect.h"

struct ImDrawData;
struct ImGuiContext;

namespace comp {

/*
 * Turns Dear ImGui's frames into the overlay's pixels: premultiplied
 * ARGB8888, top row first. Used with one ImGui context, current on each
 * call, which must outlive it.
 */
class OverlayRenderer
{
public:
	virtual ~OverlayRenderer() = default;

	/* "cpu", or "gles (llvmpipe ...)": for logs and the panels. */
	virtual const std::string &name() const = 0;
	/* The backend's per-frame step, before ImGui::NewFrame(). */
	virtual void newFrame() = 0;
	/*
	 * data drawn over `clear` (premultiplied RGBA) into width x height
	 * pixels. pixels holds what the last call drew there (the caller
	 * leaves it alone in between), and may be drawn again only where it
	 * changes. Returns a box holding every pixel that changed (empty:
	 * none), so that copies of the image need only take that part.
	 */
	virtual bufmgr::Result<Rect> render(ImDrawData *data, uint32_t width, uint32_t height,
					    const float clear[4],
					    std::vector<uint32_t> &pixels) = 0;
};

/*
 * ImGui's own OpenGL3 backend (the source Debian ships with libimgui-dev,
 * built for GLES 3) in a surfaceless EGL context of its own, so the
 * compositor's renderer is left alone; the frame is read back.
 */
bufmgr::Result<std::unique_ptr<OverlayRenderer>> createGlesOverlayRenderer(ImGuiContext *imgui);

/*
 * ImGui's triangles rasterized by the CPU: rects and glyphs as spans,
 * anything else edge by edge. Needs no GPU; on a software GL it costs a
 * fraction of the GLES path. Incremental: a redraw draws again only the
 * 32x32 tiles whose primitives changed, the same pixels a whole one gives.
 */
std::unique_ptr<OverlayRenderer> createCpuOverlayRenderer(bool incremental = true);


} /* namespace comp */
