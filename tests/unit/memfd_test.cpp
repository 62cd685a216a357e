/* SPDX-License-Identifier: MIT */
#include <bufmgr/allocators.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

#include "fd_count.h"

using namespace bufmgr;
using heapcomp::test::countOpenFds;

namespace {

class MemfdAllocatorTest : public ::testing::Test
{
protected:
	void SetUp() override { fdsBefore_ = countOpenFds(); }
	void TearDown() override
	{
		allocator_.reset();
		EXPECT_EQ(countOpenFds(), fdsBefore_);
	}

	std::unique_ptr<Allocator> allocator_ = createMemfdAllocator();
	int fdsBefore_ = 0;
};

TEST_F(MemfdAllocatorTest, ImageLayoutAndSize)
{
	auto buffer = allocator_->allocate(
		AllocationRequest::image(1920, 1080, DRM_FORMAT_XRGB8888, Usage::Cpu, "frame"));
	ASSERT_TRUE(buffer) << buffer.error().message();
	EXPECT_EQ(buffer->allocator(), AllocatorKind::Memfd);
	EXPECT_EQ(buffer->source(), "memfd");
	EXPECT_EQ(buffer->name(), "frame");
	EXPECT_FALSE(buffer->isDmaBuf());
	ASSERT_EQ(buffer->numPlanes(), 1u);
	EXPECT_EQ(buffer->plane(0).stride, 7680u);
	EXPECT_EQ(buffer->size(), 8294400u);

	struct stat st;
	ASSERT_EQ(fstat(buffer->plane(0).fd.get(), &st), 0);
	EXPECT_EQ(static_cast<uint64_t>(st.st_size), buffer->size());
}

TEST_F(MemfdAllocatorTest, SealedAgainstShrinkAndGrow)
{
	auto buffer = allocator_->allocate(AllocationRequest::blob(10000, "blob"));
	ASSERT_TRUE(buffer);
	int fd = buffer->plane(0).fd.get();
	/* Page-rounded so every kernel allocator agrees on the size. */
	EXPECT_EQ(buffer->size() % sysconf(_SC_PAGESIZE), 0u);
	EXPECT_GE(buffer->size(), 10000u);

	int seals = fcntl(fd, F_GET_SEALS);
	EXPECT_TRUE(seals & F_SEAL_SHRINK);
	EXPECT_TRUE(seals & F_SEAL_GROW);
	EXPECT_LT(ftruncate(fd, 0), 0);
	EXPECT_EQ(errno, EPERM);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

TEST_F(MemfdAllocatorTest, BlobsRoundUpToWholePages)
{
	const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
	for (auto [request, expected] : { std::pair<uint64_t, uint64_t>{ 1, page },
					  { page, page },
					  { page + 1, 2 * page } }) {
		SCOPED_TRACE(request);
		auto buffer = allocator_->allocate(AllocationRequest::blob(request));
		ASSERT_TRUE(buffer) << buffer.error().message();
		EXPECT_EQ(buffer->size(), expected);
		ASSERT_EQ(buffer->numPlanes(), 1u);
		EXPECT_EQ(buffer->plane(0).offset, 0u);
	}
}

TEST_F(MemfdAllocatorTest, MultiPlanarSharesOneFd)
{
	auto buffer = allocator_->allocate(
		AllocationRequest::image(640, 480, DRM_FORMAT_NV12, Usage::Cpu));
	ASSERT_TRUE(buffer);
	ASSERT_EQ(buffer->numPlanes(), 2u);
	EXPECT_TRUE(buffer->plane(0).fd == buffer->plane(1).fd);
	EXPECT_EQ(buffer->plane(1).offset, 640u * 480);
}

TEST_F(MemfdAllocatorTest, BadRequestsFailClearly)
{
	auto zero = allocator_->allocate(AllocationRequest::blob(0));
	ASSERT_FALSE(zero);
	EXPECT_EQ(zero.error().code, EINVAL);
	EXPECT_NE(zero.error().context.find("memfd"), std::string::npos);

	auto unknown = allocator_->allocate(
		AllocationRequest::image(64, 64, fourcc_code('Z', 'Z', 'Z', 'Z'), Usage::Cpu));
	ASSERT_FALSE(unknown);
	EXPECT_EQ(unknown.error().code, EINVAL);

	auto overflow = allocator_->allocate(AllocationRequest::blob(UINT64_MAX - 5));
	ASSERT_FALSE(overflow);
	EXPECT_EQ(overflow.error().code, EOVERFLOW);

	/* tmpfs would take a sparse 4 EiB file; no machine can back it. */
	auto huge = allocator_->allocate(AllocationRequest::blob(1ull << 62));
	ASSERT_FALSE(huge);
	EXPECT_EQ(huge.error().code, ENOMEM) << huge.error().message();
	EXPECT_NE(huge.error().context.find("RAM"), std::string::npos);
	EXPECT_NE(huge.error().context.find("memfd"), std::string::npos);

	auto tiled = AllocationRequest::image(64, 64, DRM_FORMAT_XRGB8888, Usage::Cpu);
	tiled.modifiers = { I915_FORMAT_MOD_X_TILED };
	auto refused = allocator_->allocate(tiled);
	ASSERT_FALSE(refused);
	EXPECT_EQ(refused.error().code, ENOTSUP);
}

} /* namespace */
