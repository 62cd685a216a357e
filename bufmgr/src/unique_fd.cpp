/* SPDX-License-Identifier: MIT */
#include <bufmgr/unique_fd.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "sys.h"

namespace bufmgr {

void UniqueFd::reset(int fd)
{
	if (fd_ >= 0 && fd_ != fd) {
		/* close() must not be retried on EINTR on Linux: the fd is gone. */
		int saved = errno;
		::close(fd_);
		errno = saved;
	}
	fd_ = fd;
}

UniqueFd UniqueFd::dup() const
{
	if (fd_ < 0) {
		errno = EBADF;
		return UniqueFd();
	}
	return UniqueFd(sys::dup(fd_));
}

SharedFd::Count *SharedFd::share() const
{
	if (fd_ < 0)
		return nullptr;

	Count *count = count_.load(std::memory_order_acquire);
	if (!count) {
		/* This owner and the new copy. */
		Count *fresh = new Count(2);
		if (count_.compare_exchange_strong(count, fresh, std::memory_order_acq_rel,
						   std::memory_order_acquire))
			return fresh;
		/* Another thread copied first; count is now its count. */
		delete fresh;
	}
	count->fetch_add(1, std::memory_order_relaxed);
	return count;
}

SharedFd &SharedFd::operator=(const SharedFd &other)
{
	if (this != &other && fd_ != other.fd_) {
		SharedFd copy(other);
		*this = std::move(copy);
	}
	return *this;
}

void SharedFd::release()
{
	Count *count = takeCount();
	int fd = std::exchange(fd_, -1);
	if (count) {
		if (count->fetch_sub(1, std::memory_order_acq_rel) != 1)
			return;
		delete count;
	}
	/* As UniqueFd::reset(): keep errno, never retry close(). */
	int saved = errno;
	::close(fd);
	errno = saved;
}

SharedFd SharedFd::duplicate(int fd)
{
	if (fd < 0)
		return SharedFd();
	return SharedFd(UniqueFd(sys::dup(fd)));
}

UniqueFd SharedFd::dup() const
{
	if (fd_ < 0) {
		errno = EBADF;
		return UniqueFd();
	}
	return UniqueFd(sys::dup(fd_));
}

} /* namespace bufmgr */
