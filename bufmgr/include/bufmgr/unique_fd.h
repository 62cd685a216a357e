/* SPDX-License-Identifier: MIT */
#pragma once

#include <memory>

namespace bufmgr {

/*
 * Sole owner of a file descriptor. A plain `int` anywhere else in the
 * code base means "borrowed for the duration of this call".
 */
class UniqueFd
{
public:
	UniqueFd() = default;
	explicit UniqueFd(int fd) : fd_(fd) {}
	~UniqueFd() { reset(); }

	UniqueFd(UniqueFd &&other) noexcept : fd_(other.release()) {}
	UniqueFd &operator=(UniqueFd &&other) noexcept
	{
		reset(other.release());
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;

	int get() const { return fd_; }
	bool isValid() const { return fd_ >= 0; }
	explicit operator bool() const { return isValid(); }

	[[nodiscard]] int release()
	{
		int fd = fd_;
		fd_ = -1;
		return fd;
	}
	void reset(int fd = -1);

	/* dup(2) with O_CLOEXEC; invalid on failure (errno set). */
	UniqueFd dup() const;

private:
	int fd_ = -1;
};

/*
 * A file descriptor shared by several owners; closed when the last copy
 * goes. Adopting takes ownership of a UniqueFd; duplicating from a
 * borrowed int is explicit.
 */
class SharedFd
{
public:
	SharedFd() = default;
	explicit SharedFd(UniqueFd &&fd);

	/* Duplicates a borrowed fd (e.g. one received in a protocol request). */
	static SharedFd duplicate(int fd);

	int get() const { return fd_ ? fd_->get() : -1; }
	bool isValid() const { return fd_ && fd_->isValid(); }
	explicit operator bool() const { return isValid(); }

	/* A new, independently owned descriptor for the same file. */
	UniqueFd dup() const;

	bool operator==(const SharedFd &other) const { return fd_ == other.fd_; }

private:
	std::shared_ptr<UniqueFd> fd_;
};

} /* namespace bufmgr */
