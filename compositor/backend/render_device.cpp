/* SPDX-License-Identifier: MIT */
#include "backend/render_device.h"

#include <errno.h>
#include <sys/stat.h>

#include <bufmgr/dri_nodes.h>

namespace comp {

bufmgr::Result<dev_t> renderDeviceAt(const std::string &path)
{
	struct stat st;
	if (stat(path.c_str(), &st) < 0)
		return bufmgr::unexpected(errno, "render node " + path);
	if (!S_ISCHR(st.st_mode))
		return bufmgr::unexpected(ENOTTY, "render node " + path + ": not a device");
	return st.st_rdev;
}

std::optional<dev_t> firstRenderDevice()
{
	std::vector<std::string> nodes = bufmgr::driNodes("renderD");
	if (nodes.empty())
		nodes = bufmgr::driNodes("card");
	if (nodes.empty())
		return std::nullopt;
	auto device = renderDeviceAt(nodes.front());
	return device ? std::optional<dev_t>(*device) : std::nullopt;
}

} /* namespace comp */
