/* SPDX-License-Identifier: MIT */
#pragma once

#include <dirent.h>
#include <string>
#include <unistd.h>

namespace heapcomp::test {

/* Open descriptors of this process, not counting the one used to count. */
inline int countOpenFds()
{
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	int n = 0;
	while (struct dirent *entry = readdir(dir)) {
		if (entry->d_name[0] != '.')
			n++;
	}
	closedir(dir);
	return n - 1;
}

/* What each open descriptor refers to, one per line: for failure messages. */
inline std::string describeOpenFds()
{
	std::string out;
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return out;
	while (struct dirent *entry = readdir(dir)) {
		if (entry->d_name[0] == '.')
			continue;
		char target[256];
		std::string link = std::string("/proc/self/fd/") + entry->d_name;
		ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		out += std::string(entry->d_name) + " -> " + target + "\n";
	}
	closedir(dir);
	return out;
}

} /* namespace heapcomp::test */
