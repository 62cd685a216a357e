/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "refuse_commits.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <drm.h>
#include <drm_mode.h>

static atomic_int refusals;
static atomic_int refusalError = EINVAL;
/* Set before the server starts, read on its thread: no lock needed beyond that order. */
static char refusedExporter[64];
static atomic_int importError = EINVAL;

void heapcomp_refuse_atomic_commits(int count, int error)
{
	atomic_store(&refusalError, error);
	atomic_store(&refusals, count);
}

int heapcomp_atomic_commits_to_refuse(void)
{
	return atomic_load(&refusals);
}

void heapcomp_refuse_imports_from(const char *exporter, int error)
{
	snprintf(refusedExporter, sizeof(refusedExporter), "%s", exporter ? exporter : "");
	atomic_store(&importError, error);
}

/* Whether fd is a dma-buf of the refused exporter. */
static bool refusedImport(int fd)
{
	if (!refusedExporter[0])
		return false;
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *info = fopen(path, "re");
	if (!info)
		return false;
	bool refused = false;
	while (!refused && fgets(line, sizeof(line), info)) {
		char name[sizeof(refusedExporter)];
		if (sscanf(line, "exp_name: %63s", name) == 1)
			refused = strcmp(name, refusedExporter) == 0;
	}
	fclose(info);
	return refused;
}

/* Found before libc's (and a sanitizer's) by the dynamic linker: the executable exports it. */
int ioctl(int fd, unsigned long request, ...)
{
	static int (*next)(int, unsigned long, ...);
	va_list args;
	va_start(args, request);
	void *arg = va_arg(args, void *);
	va_end(args);
	if (!next)
		next = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");

	if (request == DRM_IOCTL_MODE_ATOMIC &&
	    !(((struct drm_mode_atomic *)arg)->flags & DRM_MODE_ATOMIC_TEST_ONLY)) {
		int left = atomic_load(&refusals);
		while (left > 0 && !atomic_compare_exchange_weak(&refusals, &left, left - 1)) {
		}
		if (left > 0) {
			errno = atomic_load(&refusalError);
			return -1;
		}
	}
	if (request == DRM_IOCTL_PRIME_FD_TO_HANDLE &&
	    refusedImport(((struct drm_prime_handle *)arg)->fd)) {
		errno = atomic_load(&importError);
		return -1;
	}
	return next(fd, request, arg);
}
