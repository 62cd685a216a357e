/* SPDX-License-Identifier: MIT */
#include "renderer_choice.h"

#include <bufmgr/log.h>

#include "egl_context.h"
#include "pixman_renderer.h"

namespace comp {

std::string_view toString(RendererKind kind)
{
	switch (kind) {
	case RendererKind::Auto: return "auto";
	case RendererKind::Gles: return "gles";
	case RendererKind::Pixman: return "pixman";
	}
	return "unknown";
}

std::optional<RendererKind> parseRendererKind(std::string_view name)
{
	for (RendererKind kind : { RendererKind::Auto, RendererKind::Gles, RendererKind::Pixman }) {
		if (name == toString(kind))
			return kind;
	}
	return std::nullopt;
}

bool isSoftwareGl(std::string_view glRenderer)
{
	for (std::string_view name : { "llvmpipe", "softpipe", "swrast" }) {
		if (glRenderer.find(name) != std::string_view::npos)
			return true;
	}
	return false;
}

Result<std::unique_ptr<Renderer>> createRenderer(RendererKind kind,
						 const GlesRendererOptions &gles)
{
	using bufmgr::LogLevel;
	auto pixman = [](const std::string &why) {
		bufmgr::log(LogLevel::Info, "render: pixman, as " + why);
		return createPixmanRenderer();
	};
	switch (kind) {
	case RendererKind::Pixman:
		return pixman("asked for");
	case RendererKind::Gles:
		return createGlesRenderer(gles);
	case RendererKind::Auto:
		break;
	}

	const std::string node = gles.surfaceless ? std::string()
			       : gles.renderNode.empty() ? findRenderNode() : gles.renderNode;
	if (node.empty())
		return pixman("there is no DRM render node: the only GL would be a software "
			      "rasterizer");
	auto renderer = createGlesRenderer(gles);
	if (!renderer)
		return pixman("GLES on " + node + " failed: " + renderer.error().message());
	const auto &glRenderer = static_cast<GlesRenderer &>(**renderer).glRenderer();
	if (isSoftwareGl(glRenderer))
		return pixman("the GL on " + node + " is " + glRenderer +
			      ", a software rasterizer");
	return renderer;
}

} /* namespace comp */
