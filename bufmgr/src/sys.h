/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * bufmgr's calls into the kernel, each a thin wrapper that a test can make
 * fail (bufmgr/fault_injection.h). Every allocator and mapping path calls
 * these instead of the libc functions, so every failure path is testable.
 *
 * Calls that a signal can interrupt are retried here, so that no caller
 * forgets: open and ftruncate on EINTR; ioctl on EINTR and EAGAIN, as
 * libdrm's drmIoctl() does (DMA_HEAP_IOCTL_ALLOC, UDMABUF_CREATE and
 * DMA_BUF_IOCTL_SYNC all ask for it).
 */

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include <bufmgr/fault_injection.h>

namespace bufmgr::internal {

extern std::atomic<bool> faultsArmed;
/* The errno a rule gives this call, or 0: make it. Counts the call. */
int injectFault(SysCall call, unsigned long ioctlRequest);

/* Inline and one relaxed load: this runs on every allocation. */
inline int injectedError(SysCall call, unsigned long ioctlRequest = 0)
{
	if (__builtin_expect(faultsArmed.load(std::memory_order_relaxed), false))
		return injectFault(call, ioctlRequest);
	return 0;
}

/*
 * `made()` unless a rule fails this call: then `failed`, with errno set
 * as the rule says.
 */
template<typename T, typename Call>
inline T faultable(SysCall call, T failed, Call &&made, unsigned long ioctlRequest = 0)
{
	if (int err = injectedError(call, ioctlRequest)) {
		errno = err;
		return failed;
	}
	return made();
}

} /* namespace bufmgr::internal */

namespace bufmgr::sys {

inline int open(const char *path, int flags)
{
	int fd;
	do {
		fd = internal::faultable(SysCall::Open, -1, [&] { return ::open(path, flags); });
	} while (fd < 0 && errno == EINTR);
	return fd;
}

inline int ioctl(int fd, unsigned long request, void *arg)
{
	int ret;
	do {
		ret = internal::faultable(SysCall::Ioctl, -1,
					  [&] { return ::ioctl(fd, request, arg); }, request);
	} while (ret < 0 && (errno == EINTR || errno == EAGAIN));
	return ret;
}

inline void *mmap(size_t length, int prot, int flags, int fd, off_t offset)
{
	return internal::faultable(SysCall::Mmap, MAP_FAILED, [&] {
		return ::mmap(nullptr, length, prot, flags, fd, offset);
	});
}

inline int munmap(void *addr, size_t length)
{
	return internal::faultable(SysCall::Munmap, -1, [&] { return ::munmap(addr, length); });
}

inline int memfdCreate(const char *name, unsigned int flags)
{
	return internal::faultable(SysCall::MemfdCreate, -1,
				   [&] { return ::memfd_create(name, flags); });
}

inline int ftruncate(int fd, off_t length)
{
	int ret;
	do {
		ret = internal::faultable(SysCall::Ftruncate, -1,
					  [&] { return ::ftruncate(fd, length); });
	} while (ret < 0 && errno == EINTR);
	return ret;
}

inline int fcntl(int fd, int cmd, int arg)
{
	return internal::faultable(SysCall::Fcntl, -1, [&] { return ::fcntl(fd, cmd, arg); });
}

/* A new fd for the same file, close-on-exec; -1 and errno on failure. */
inline int dup(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

inline ssize_t write(int fd, const void *data, size_t size)
{
	return internal::faultable(SysCall::Write, ssize_t(-1),
				   [&] { return ::write(fd, data, size); });
}

} /* namespace bufmgr::sys */
