/* SPDX-License-Identifier: MIT */
#include <bufmgr/unique_fd.h>

#include <fcntl.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fd_count.h"

using bufmgr::SharedFd;
using bufmgr::UniqueFd;
using heapcomp::test::countOpenFds;

namespace {

bool isOpen(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

TEST(UniqueFd, ClosesOnDestruction)
{
	int raw;
	{
		UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
		ASSERT_TRUE(fd.isValid());
		raw = fd.get();
		EXPECT_TRUE(isOpen(raw));
	}
	EXPECT_FALSE(isOpen(raw));
}

TEST(UniqueFd, MoveTransfersOwnership)
{
	const int before = countOpenFds();
	UniqueFd a(open("/dev/null", O_RDONLY | O_CLOEXEC));
	int raw = a.get();
	UniqueFd b(std::move(a));
	EXPECT_FALSE(a.isValid());
	EXPECT_EQ(b.get(), raw);

	UniqueFd c;
	c = std::move(b);
	EXPECT_EQ(c.get(), raw);
	EXPECT_TRUE(isOpen(raw));
	c.reset();
	EXPECT_FALSE(isOpen(raw));
	EXPECT_EQ(countOpenFds(), before);
}

TEST(UniqueFd, ReleaseGivesUpOwnership)
{
	UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
	int raw = fd.release();
	EXPECT_FALSE(fd.isValid());
	EXPECT_TRUE(isOpen(raw));
	close(raw);
}

TEST(UniqueFd, DupIsIndependentAndCloexec)
{
	UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
	UniqueFd copy = fd.dup();
	ASSERT_TRUE(copy.isValid());
	EXPECT_NE(copy.get(), fd.get());
	EXPECT_TRUE(fcntl(copy.get(), F_GETFD) & FD_CLOEXEC);
	fd.reset();
	EXPECT_TRUE(isOpen(copy.get()));

	UniqueFd empty;
	EXPECT_FALSE(empty.dup().isValid());
}

TEST(SharedFd, ClosesWithLastCopy)
{
	const int before = countOpenFds();
	int raw;
	{
		SharedFd a(UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC)));
		raw = a.get();
		{
			SharedFd b = a;
			EXPECT_EQ(b.get(), raw);
			EXPECT_TRUE(a == b);
		}
		EXPECT_TRUE(isOpen(raw));
	}
	EXPECT_FALSE(isOpen(raw));
	EXPECT_EQ(countOpenFds(), before);
}

/* The count is made by the first copy: threads copying at once share one. */
TEST(SharedFd, ConcurrentCopiesOfOneOwner)
{
	const int before = countOpenFds();
	int raw;
	{
		const SharedFd owner(UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC)));
		raw = owner.get();
		std::vector<std::thread> threads;
		std::vector<SharedFd> kept(4);
		for (size_t t = 0; t < kept.size(); t++) {
			threads.emplace_back([&, t] {
				for (int i = 0; i < 1000; i++) {
					SharedFd copy = owner;
					if (i == 999)
						kept[t] = copy;
				}
			});
		}
		for (auto &thread : threads)
			thread.join();
		EXPECT_TRUE(isOpen(raw));
		for (const SharedFd &fd : kept)
			EXPECT_TRUE(fd == owner);
		kept.clear();
		EXPECT_TRUE(isOpen(raw));
	}
	EXPECT_FALSE(isOpen(raw));
	EXPECT_EQ(countOpenFds(), before);
}

TEST(SharedFd, MovedFromOwnsNothing)
{
	int raw;
	{
		SharedFd a(UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC)));
		raw = a.get();
		SharedFd b = a;
		SharedFd c = std::move(a);
		EXPECT_FALSE(a.isValid());
		EXPECT_EQ(c.get(), raw);
		b = SharedFd();
		EXPECT_TRUE(isOpen(raw));
	}
	EXPECT_FALSE(isOpen(raw));
}

TEST(SharedFd, DuplicateLeavesBorrowedFdAlone)
{
	int borrowed = open("/dev/null", O_RDONLY | O_CLOEXEC);
	{
		SharedFd fd = SharedFd::duplicate(borrowed);
		ASSERT_TRUE(fd.isValid());
		EXPECT_NE(fd.get(), borrowed);
	}
	EXPECT_TRUE(isOpen(borrowed));
	close(borrowed);
	EXPECT_FALSE(SharedFd::duplicate(-1).isValid());
}

} /* namespace */
