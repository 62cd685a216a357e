/* SPDX-License-Identifier: MIT */
#pragma once

#include <dirent.h>

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

} /* namespace heapcomp::test */
