/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "gles_renderer.h"
#include "renderer.h"

namespace comp {

enum class RendererKind : uint8_t {
	/* GLES where the GL is a GPU's, pixman where it would be software. */
	Auto,
	Gles,
	Pixman,
};

std::string_view toString(RendererKind kind);
std::optional<RendererKind> parseRendererKind(std::string_view name);

/* Whether a GL_RENDERER string names one of Mesa's software rasterizers. */
bool isSoftwareGl(std::string_view glRenderer);

/*
 * The renderer of that kind. Auto takes pixman without loading any GL
 * when there is no DRM render node (the only GL would be llvmpipe on
 * EGL surfaceless), and gives up GLES for pixman when the render node's
 * GL turns out to be a software one (vgem, kms_swrast) or fails; the
 * log says which it took and why.
 */
Result<std::unique_ptr<Renderer>> createRenderer(RendererKind kind,
						 const GlesRendererOptions &gles = {});

} /* namespace comp */
