/* SPDX-License-Identifier: MIT */
#include <bufmgr/unique_fd.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

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
	return UniqueFd(::fcntl(fd_, F_DUPFD_CLOEXEC, 0));
}

SharedFd::SharedFd(UniqueFd &&fd)
{
	if (fd.isValid())
		fd_ = std::make_shared<UniqueFd>(std::move(fd));
}

SharedFd SharedFd::duplicate(int fd)
{
	if (fd < 0)
		return SharedFd();
	return SharedFd(UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)));
}

UniqueFd SharedFd::dup() const
{
	if (!fd_) {
		errno = EBADF;
		return UniqueFd();
	}
	return fd_->dup();
}

} /* namespace bufmgr */
