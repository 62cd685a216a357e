/* SPDX-License-Identifier: MIT */
#include "backend/render_device.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

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
	DIR *dir = opendir("/dev/dri");
	if (!dir)
		return std::nullopt;
	std::string render, card;
	while (struct dirent *entry = readdir(dir)) {
		std::string name = entry->d_name;
		if (name.rfind("renderD", 0) == 0 && (render.empty() || name < render))
			render = name;
		else if (name.rfind("card", 0) == 0 && (card.empty() || name < card))
			card = name;
	}
	closedir(dir);
	std::string node = !render.empty() ? render : card;
	if (node.empty())
		return std::nullopt;
	auto device = renderDeviceAt("/dev/dri/" + node);
	return device ? std::optional<dev_t>(*device) : std::nullopt;
}

} /* namespace comp */
