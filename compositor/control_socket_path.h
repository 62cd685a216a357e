/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>
#include <string_view>

namespace comp {

/*
 * Where heapcomp serving Wayland socket `display` (a name in runtimeDir,
 * or an absolute path) listens for heapctl: beside that socket, as
 * heapcomp-<name>.control, so that nothing looking for wayland-* display
 * sockets takes it for one.
 */
inline std::string controlSocketPath(std::string_view runtimeDir, std::string_view display)
{
	std::string dir(runtimeDir);
	std::string_view name = display;
	/* As libwayland: only an absolute name is a path. */
	if (size_t slash = display.rfind('/'); display.starts_with('/')) {
		dir = std::string(display.substr(0, slash));
		name = display.substr(slash + 1);
	}
	return dir + "/heapcomp-" + std::string(name) + ".control";
}

} /* namespace comp */
