/* SPDX-License-Identifier: MIT */
#include <bufmgr/mapping.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <bufmgr/allocators.h>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

#include "fd_count.h"

using namespace bufmgr;
using heapcomp::test::countOpenFds;

namespace {

TEST(Mapping, RoundTripThroughTheFd)
{
	const int before = countOpenFds();
	{
		auto allocator = createMemfdAllocator();
		auto buffer = allocator->allocate(
			AllocationRequest::image(64, 32, DRM_FORMAT_NV12, Usage::Cpu));
		ASSERT_TRUE(buffer);

		auto mapping = Mapping::map(*buffer, { Access::Write, true });
		ASSERT_TRUE(mapping) << mapping.error().message();
		ASSERT_EQ(mapping->numPlanes(), 2u);
		{
			auto access = mapping->beginAccess(Access::Write);
			ASSERT_TRUE(access);
			std::memset(mapping->plane(0).data(), 0x10, 64 * 32);
			std::memset(mapping->plane(1).data(), 0x80, 64 * 16);
		}

		/* The bytes really went to the memory behind the fd. */
		uint8_t luma = 0, chroma = 0;
		ASSERT_EQ(pread(buffer->plane(0).fd.get(), &luma, 1, 64 * 32 - 1), 1);
		ASSERT_EQ(pread(buffer->plane(1).fd.get(), &chroma, 1,
				buffer->plane(1).offset), 1);
		EXPECT_EQ(luma, 0x10);
		EXPECT_EQ(chroma, 0x80);
		EXPECT_EQ(mapping->plane(1).data() - mapping->plane(0).data(),
			  buffer->plane(1).offset);
	}
	EXPECT_EQ(countOpenFds(), before);
}

TEST(Mapping, MappingKeepsMemoryAliveAfterBuffer)
{
	auto allocator = createMemfdAllocator();
	auto buffer = allocator->allocate(AllocationRequest::blob(4096));
	ASSERT_TRUE(buffer);
	auto mapping = Mapping::map(*buffer);
	ASSERT_TRUE(mapping);
	*buffer = Buffer();	/* drop the buffer first */
	mapping->plane(0)[100] = 42;	/* must not fault */
	EXPECT_EQ(mapping->plane(0)[100], 42);
}

TEST(Mapping, InvalidBufferIsAnError)
{
	Buffer empty;
	auto mapping = Mapping::map(empty);
	ASSERT_FALSE(mapping);
	EXPECT_EQ(mapping.error().code, EINVAL);
}

TEST(Mapping, OffsetBeyondFdIsRejected)
{
	auto allocator = createMemfdAllocator();
	auto buffer = allocator->allocate(AllocationRequest::blob(4096));
	ASSERT_TRUE(buffer);

	/* A description a client could send: a plane past the end of its fd. */
	Buffer::Description desc = buffer->description();
	std::vector<BufferPlane> planes = { { buffer->plane(0).fd, 8192, 0 } };
	Buffer bogus(desc, planes);
	auto mapping = Mapping::map(bogus);
	ASSERT_FALSE(mapping);
	EXPECT_EQ(mapping.error().code, EINVAL);
	EXPECT_NE(mapping.error().context.find("beyond"), std::string::npos);
}

TEST(DmaBufSync, NonDmaBufFdIsReported)
{
	/* A memfd does not implement DMA_BUF_IOCTL_SYNC: the error says so. */
	auto allocator = createMemfdAllocator();
	auto buffer = allocator->allocate(AllocationRequest::blob(4096));
	ASSERT_TRUE(buffer);
	auto sync = DmaBufSync::begin(buffer->plane(0).fd.get(), Access::Read);
	ASSERT_FALSE(sync);
	EXPECT_EQ(sync.error().code, ENOTTY);
	EXPECT_NE(sync.error().context.find("DMA_BUF_IOCTL_SYNC"), std::string::npos);
}

} /* namespace */
