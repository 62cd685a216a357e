/* SPDX-License-Identifier: MIT */
#include "renderer.h"

namespace comp {

std::string_view toString(DmaBufPath path)
{
	switch (path) {
	case DmaBufPath::None: return "none";
	case DmaBufPath::Gpu: return "gpu";
	case DmaBufPath::Cpu: return "cpu";
	}
	return "unknown";
}

Result<void> Renderer::render(const bufmgr::Buffer &target, std::span<const RenderItem> items,
			      const float clearColor[4])
{
	const Rect whole{ 0, 0, int32_t(target.width()), int32_t(target.height()) };
	return render(target, items, clearColor, std::span(&whole, 1));
}

} /* namespace comp */
