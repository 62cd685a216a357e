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

} /* namespace comp */
