/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "refuse_commits.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

static atomic_int refusals;
static atomic_int refusalError = EINVAL;
static atomic_int importError = EINVAL;
static atomic_int vblankError;
static atomic_int vblanksRefused;

/*
 * The exporter of each GEM handle PRIME made and of each framebuffer
 * AddFB2 made, by id (modulo the table's size; ids are small and few).
 */
#define TRACKED 1024
struct origin {
	uint32_t id;
	char exporter[64];
};
static struct origin handleOrigin[TRACKED], fbOrigin[TRACKED];
/* Guards the tables and the two exporters, which the test's thread sets while the server's reads. */
static pthread_mutex_t originLock = PTHREAD_MUTEX_INITIALIZER;
static char refusedExporter[64];
static char refusedFlips[64];
static atomic_int flipError = EINVAL;
static char refusedTests[64];
static atomic_int testError = EINVAL;
/* The FB_ID property's id, learnt from GETPROPERTY (0 until then). */
static atomic_uint fbIdProperty;
static atomic_uint outFenceProperty;
static atomic_int writebacksToLose;
static atomic_uint countedObject;
static atomic_int commitsCounted;
static atomic_int commitsNaming;

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
	pthread_mutex_lock(&originLock);
	snprintf(refusedExporter, sizeof(refusedExporter), "%s", exporter ? exporter : "");
	pthread_mutex_unlock(&originLock);
	atomic_store(&importError, error);
}

void heapcomp_refuse_vblank_events(int error)
{
	atomic_store(&vblankError, error);
}

void heapcomp_lose_writebacks(int count)
{
	atomic_store(&writebacksToLose, count);
}

void heapcomp_count_commits_naming(uint32_t object)
{
	atomic_store(&countedObject, 0);
	atomic_store(&commitsCounted, 0);
	atomic_store(&commitsNaming, 0);
	atomic_store(&countedObject, object);
}

int heapcomp_commits_counted(void)
{
	return atomic_load(&commitsCounted);
}

int heapcomp_commits_naming_object(void)
{
	return atomic_load(&commitsNaming);
}

/* Counts a commit the kernel took (heapcomp_count_commits_naming()). */
static void countCommit(const struct drm_mode_atomic *atomic)
{
	const uint32_t object = atomic_load(&countedObject);
	if (!object)
		return;
	atomic_fetch_add(&commitsCounted, 1);
	const uint32_t *objects = (const uint32_t *)(uintptr_t)atomic->objs_ptr;
	for (uint32_t i = 0; i < atomic->count_objs; i++) {
		if (objects[i] == object) {
			atomic_fetch_add(&commitsNaming, 1);
			return;
		}
	}
}

int heapcomp_vblank_events_refused(void)
{
	return atomic_load(&vblanksRefused);
}

void heapcomp_refuse_flips_of(const char *exporter, int error)
{
	pthread_mutex_lock(&originLock);
	snprintf(refusedFlips, sizeof(refusedFlips), "%s", exporter ? exporter : "");
	pthread_mutex_unlock(&originLock);
	atomic_store(&flipError, error);
}

void heapcomp_refuse_tests_of(const char *exporter, int error)
{
	pthread_mutex_lock(&originLock);
	snprintf(refusedTests, sizeof(refusedTests), "%s", exporter ? exporter : "");
	pthread_mutex_unlock(&originLock);
	atomic_store(&testError, error);
}

/* The exporter of dma-buf fd (exp_name in fdinfo), "" if none. */
static void exporterOf(int fd, char name[64])
{
	char path[64], line[256];
	name[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *info = fopen(path, "re");
	if (!info)
		return;
	while (!name[0] && fgets(line, sizeof(line), info)) {
		if (sscanf(line, "exp_name: %63s", name) != 1)
			name[0] = '\0';
	}
	fclose(info);
}

/* Whether fd is a dma-buf of the refused exporter. */
static bool refusedImport(int fd)
{
	char refused[64];
	pthread_mutex_lock(&originLock);
	memcpy(refused, refusedExporter, sizeof(refused));
	pthread_mutex_unlock(&originLock);
	if (!refused[0])
		return false;
	char name[64];
	exporterOf(fd, name);
	return strcmp(name, refused) == 0;
}

static void remember(struct origin *table, uint32_t id, const char *exporter)
{
	pthread_mutex_lock(&originLock);
	table[id % TRACKED].id = id;
	snprintf(table[id % TRACKED].exporter, sizeof(table[0].exporter), "%s", exporter);
	pthread_mutex_unlock(&originLock);
}

/* The property values of a commit, all objects' in one run. */
struct commitValues {
	const uint32_t *props;
	const uint64_t *values;
	size_t count;
};

static struct commitValues valuesOf(const struct drm_mode_atomic *atomic)
{
	const uint32_t *counts = (const uint32_t *)(uintptr_t)atomic->count_props_ptr;
	struct commitValues all = { (const uint32_t *)(uintptr_t)atomic->props_ptr,
				    (const uint64_t *)(uintptr_t)atomic->prop_values_ptr, 0 };
	for (uint32_t i = 0; i < atomic->count_objs; i++)
		all.count += counts[i];
	return all;
}

/* Whether atomic shows a framebuffer made from exporter's memory (one of refusedFlips, refusedTests). */
static bool showsMemoryOf(const struct drm_mode_atomic *atomic, const char *exporter)
{
	bool refused = false;
	const uint32_t fbId = atomic_load(&fbIdProperty);
	pthread_mutex_lock(&originLock);
	if (exporter[0]) {
		const struct commitValues all = valuesOf(atomic);
		for (size_t i = 0; i < all.count && !refused; i++) {
			if (all.props[i] != fbId)
				continue;
			const struct origin *fb = &fbOrigin[all.values[i] % TRACKED];
			refused = all.values[i] && fb->id == all.values[i] &&
				  strcmp(fb->exporter, exporter) == 0;
		}
	}
	pthread_mutex_unlock(&originLock);
	return refused;
}

/* Where a commit asks the kernel to put its writeback out-fence, if it does. */
static int32_t *writebackFence(const struct drm_mode_atomic *atomic)
{
	const uint32_t property = atomic_load(&outFenceProperty);
	const struct commitValues all = valuesOf(atomic);
	for (size_t i = 0; property && i < all.count; i++)
		if (all.props[i] == property && all.values[i])
			return (int32_t *)(uintptr_t)all.values[i];
	return NULL;
}

static int (*next)(int, unsigned long, ...);

static void findNext(void)
{
	next = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
}

static void forgetFramebuffer(uint32_t id)
{
	pthread_mutex_lock(&originLock);
	if (fbOrigin[id % TRACKED].id == id)
		fbOrigin[id % TRACKED].id = 0;
	pthread_mutex_unlock(&originLock);
}

/* Found before libc's (and a sanitizer's) by the dynamic linker: the executable exports it. */
int ioctl(int fd, unsigned long request, ...)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	va_list args;
	va_start(args, request);
	void *arg = va_arg(args, void *);
	va_end(args);
	pthread_once(&once, findNext);

	if (request == DRM_IOCTL_WAIT_VBLANK && atomic_load(&vblankError) &&
	    (((union drm_wait_vblank *)arg)->request.type & _DRM_VBLANK_EVENT)) {
		atomic_fetch_add(&vblanksRefused, 1);
		errno = atomic_load(&vblankError);
		return -1;
	}
	if (request == DRM_IOCTL_MODE_GETPROPERTY) {
		int ret = next(fd, request, arg);
		struct drm_mode_get_property *prop = arg;
		if (ret == 0 && strcmp(prop->name, "FB_ID") == 0)
			atomic_store(&fbIdProperty, prop->prop_id);
		if (ret == 0 && strcmp(prop->name, "WRITEBACK_OUT_FENCE_PTR") == 0)
			atomic_store(&outFenceProperty, prop->prop_id);
		return ret;
	}
	if (request == DRM_IOCTL_MODE_RMFB) {
		int ret = next(fd, request, arg);
		if (ret == 0)
			forgetFramebuffer(*(unsigned int *)arg);
		return ret;
	}
#ifdef DRM_IOCTL_MODE_CLOSEFB
	if (request == DRM_IOCTL_MODE_CLOSEFB) {
		int ret = next(fd, request, arg);
		if (ret == 0)
			forgetFramebuffer(((struct drm_mode_closefb *)arg)->fb_id);
		return ret;
	}
#endif

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
	if (request == DRM_IOCTL_MODE_ATOMIC) {
		const bool test = ((struct drm_mode_atomic *)arg)->flags & DRM_MODE_ATOMIC_TEST_ONLY;
		if (showsMemoryOf(arg, test ? refusedTests : refusedFlips)) {
			errno = atomic_load(test ? &testError : &flipError);
			return -1;
		}
		int32_t *outFence = test ? NULL : writebackFence(arg);
		int ret = next(fd, request, arg);
		if (ret == 0 && !test)
			countCommit(arg);
		int left = atomic_load(&writebacksToLose);
		if (ret == 0 && outFence && *outFence >= 0 && left > 0 &&
		    atomic_compare_exchange_strong(&writebacksToLose, &left, left - 1)) {
			close(*outFence);
			*outFence = eventfd(0, EFD_CLOEXEC);
		}
		return ret;
	}
	if (request == DRM_IOCTL_PRIME_FD_TO_HANDLE) {
		struct drm_prime_handle *prime = arg;
		if (refusedImport(prime->fd)) {
			errno = atomic_load(&importError);
			return -1;
		}
		int ret = next(fd, request, arg);
		if (ret == 0) {
			char name[64];
			exporterOf(prime->fd, name);
			remember(handleOrigin, prime->handle, name);
		}
		return ret;
	}
	if (request == DRM_IOCTL_MODE_ADDFB2) {
		struct drm_mode_fb_cmd2 *cmd = arg;
		int ret = next(fd, request, arg);
		if (ret == 0) {
			char name[64] = "";
			pthread_mutex_lock(&originLock);
			struct origin *handle = &handleOrigin[cmd->handles[0] % TRACKED];
			if (handle->id == cmd->handles[0])
				snprintf(name, sizeof(name), "%s", handle->exporter);
			/* heapcomp closes the handle now: its number may name a dumb buffer next. */
			handle->id = 0;
			pthread_mutex_unlock(&originLock);
			remember(fbOrigin, cmd->fb_id, name);
		}
		return ret;
	}
	return next(fd, request, arg);
}
