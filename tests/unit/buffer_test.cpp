/* SPDX-License-Identifier: MIT */
#include <bufmgr/buffer.h>

#include <fcntl.h>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

using namespace bufmgr;

namespace {

SharedFd devNull()
{
	return SharedFd(UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC)));
}

TEST(SourceName, EqualNamesAreOneString)
{
	SourceName a("dma-heap:system");
	SourceName b(std::string("dma-heap:") + "system");
	EXPECT_TRUE(a == b);
	EXPECT_EQ(&a.str(), &b.str());
	EXPECT_FALSE(a == SourceName("memfd"));

	SourceName empty;
	EXPECT_TRUE(empty.empty());
	EXPECT_EQ(empty.str(), "");
	EXPECT_TRUE(empty == SourceName(""));
}

TEST(Buffer, PlanesOfOneMemoryObjectShareTheFd)
{
	SharedFd fd = devNull();
	const int raw = fd.get();
	const PlaneLayout layouts[] = { { 0, 64, 4096 }, { 4096, 64, 2048 } };
	Buffer buffer(Buffer::Description{ .source = "memfd" }, std::move(fd), layouts);

	ASSERT_TRUE(buffer.isValid());
	ASSERT_EQ(buffer.numPlanes(), 2u);
	EXPECT_EQ(buffer.planes().size(), 2u);
	EXPECT_EQ(buffer.plane(0).fd.get(), raw);
	EXPECT_TRUE(buffer.plane(0).fd == buffer.plane(1).fd);
	EXPECT_EQ(buffer.plane(1).offset, 4096u);
	EXPECT_EQ(buffer.plane(1).stride, 64u);
	EXPECT_EQ(buffer.source(), "memfd");
	EXPECT_THROW((void)buffer.plane(2), std::out_of_range);
}

TEST(Buffer, MoreThanFourPlanesIsInvalid)
{
	std::vector<BufferPlane> planes(Buffer::kMaxPlanes + 1, BufferPlane{ devNull(), 0, 64 });
	Buffer tooMany({}, planes);
	EXPECT_FALSE(tooMany.isValid());
	EXPECT_EQ(tooMany.numPlanes(), 0u);

	planes.resize(Buffer::kMaxPlanes);
	Buffer four({}, planes);
	EXPECT_TRUE(four.isValid());
	EXPECT_EQ(four.numPlanes(), 4u);
}

} /* namespace */
