/* SPDX-License-Identifier: MIT */
#include <bufmgr/dri_nodes.h>

#include <dirent.h>

#include <algorithm>
#include <cstring>

namespace bufmgr {

std::vector<std::string> driNodes(const char *prefix, const std::string &dir)
{
	std::vector<std::string> nodes;
	DIR *d = opendir(dir.c_str());
	if (!d)
		return nodes;
	const size_t length = std::strlen(prefix);
	while (struct dirent *e = readdir(d)) {
		if (std::strncmp(e->d_name, prefix, length) == 0)
			nodes.push_back(dir + "/" + e->d_name);
	}
	closedir(d);
	std::sort(nodes.begin(), nodes.end(), [](const std::string &a, const std::string &b) {
		return a.size() != b.size() ? a.size() < b.size() : a < b;
	});
	return nodes;
}

} /* namespace bufmgr */
