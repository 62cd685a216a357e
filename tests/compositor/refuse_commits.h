/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The kernel refuses an atomic commit it tested a frame earlier when the
 * DRM master went to another process, or when what the display can take
 * changed under it. Neither can be brought about on VKMS at a chosen
 * frame, so a program linked with refuse_commits.c gets its own ioctl():
 * the next count commits that are not TEST_ONLY fail with error, as the
 * kernel's would, and so do imports of memory the display is told it
 * cannot reach, or flips of it, and vblank events of a driver that has
 * none, and writebacks it loses; every other ioctl reaches the kernel.
 * It also counts the commits that name a plane.
 */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void heapcomp_refuse_atomic_commits(int count, int error);
/* Refusals still to come. */
int heapcomp_atomic_commits_to_refuse(void);
/*
 * PRIME imports (DRM_IOCTL_PRIME_FD_TO_HANDLE) of dma-bufs whose exporter
 * (exp_name in fdinfo) is this one fail with error, as on a display
 * controller whose DMA cannot reach that memory; NULL: none.
 */
void heapcomp_refuse_imports_from(const char *exporter, int error);
/*
 * Commits that are not TEST_ONLY and show a framebuffer made from that
 * exporter's memory fail with error, while TEST_ONLY commits pass: a
 * display whose flips refuse what its tests took (bandwidth, a driver's
 * own limits). NULL: none.
 */
void heapcomp_refuse_flips_of(const char *exporter, int error);
/*
 * TEST_ONLY commits that show a framebuffer made from that exporter's
 * memory fail with error: a display that cannot take it on that plane
 * (a format, a size, more planes than it has). NULL: none.
 */
void heapcomp_refuse_tests_of(const char *exporter, int error);
/* Vblank events (DRM_IOCTL_WAIT_VBLANK with _DRM_VBLANK_EVENT) fail with error; 0: none. */
void heapcomp_refuse_vblank_events(int error);
/* Vblank events refused so far. */
int heapcomp_vblank_events_refused(void);
/*
 * The next count commits that ask for a writeback get an out-fence that
 * never signals, as when VKMS loses the job; the kernel's own is closed.
 */
void heapcomp_lose_writebacks(int count);
/*
 * From now on counts the commits that are not TEST_ONLY, and of them those
 * that name object (set any property of it); 0 stops counting.
 */
void heapcomp_count_commits_naming(uint32_t object);
int heapcomp_commits_counted(void);
int heapcomp_commits_naming_object(void);

#ifdef __cplusplus
}
#endif
