/* SPDX-License-Identifier: MIT */
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

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
	~UniqueFd()
	{
		if (fd_ >= 0)
			reset();
	}

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
 *
 * A sole owner needs no count: the first copy allocates it. Most buffers'
 * fds are never copied, and an allocation per buffer would cost as much
 * as the rest of the library's work for a 4 KiB buffer.
 */
class SharedFd
{
public:
	SharedFd() = default;
	explicit SharedFd(UniqueFd &&fd) : fd_(fd.release()) {}
	~SharedFd()
	{
		if (fd_ >= 0)
			release();
	}

	SharedFd(const SharedFd &other) : fd_(other.fd_), count_(other.share()) {}
	/* Moves, like destruction, may not race with copies of `other`. */
	SharedFd(SharedFd &&other) noexcept
		: fd_(std::exchange(other.fd_, -1)), count_(other.takeCount())
	{
	}
	SharedFd &operator=(const SharedFd &other);
	SharedFd &operator=(SharedFd &&other) noexcept
	{
		if (this != &other) {
			if (fd_ >= 0)
				release();
			fd_ = std::exchange(other.fd_, -1);
			count_.store(other.takeCount(), std::memory_order_relaxed);
		}
		return *this;
	}

	/* Duplicates a borrowed fd (e.g. one received in a protocol request). */
	static SharedFd duplicate(int fd);

	int get() const { return fd_; }
	bool isValid() const { return fd_ >= 0; }
	explicit operator bool() const { return isValid(); }

	/* A new, independently owned descriptor for the same file. */
	UniqueFd dup() const;

	/* Open fd numbers are unique: the same number is the same owner group. */
	bool operator==(const SharedFd &other) const { return fd_ == other.fd_; }

private:
	using Count = std::atomic<uint32_t>;

	/* The count with one more owner, allocated by the first copy. */
	Count *share() const;
	/* Drops this owner, closing the fd if it was the last; fd_ must be valid. */
	void release();
	Count *takeCount()
	{
		Count *count = count_.load(std::memory_order_acquire);
		count_.store(nullptr, std::memory_order_relaxed);
		return count;
	}

	int fd_ = -1;
	/* Null while this is the only owner; copies of a const SharedFd set it. */
	mutable std::atomic<Count *> count_{ nullptr };
};

} /* namespace bufmgr */
