/* SPDX-License-Identifier: MIT */
#include <bufmgr/result.h>

#include <cerrno>
#include <memory>

#include <gtest/gtest.h>

using bufmgr::Result;
using bufmgr::unexpected;

namespace {

Result<int> half(int v)
{
	if (v % 2)
		return unexpected(EINVAL, "half of " + std::to_string(v));
	return v / 2;
}

TEST(Result, CarriesValueOrError)
{
	auto ok = half(8);
	ASSERT_TRUE(ok);
	EXPECT_EQ(*ok, 4);
	EXPECT_EQ(ok.value_or(-1), 4);

	auto bad = half(3);
	ASSERT_FALSE(bad);
	EXPECT_EQ(bad.error().code, EINVAL);
	EXPECT_EQ(bad.error().context, "half of 3");
	EXPECT_EQ(bad.error().message(), "half of 3: Invalid argument");
	EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(Result, HoldsMoveOnlyTypes)
{
	Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
	ASSERT_TRUE(r);
	std::unique_ptr<int> p = std::move(r).value();
	EXPECT_EQ(*p, 7);
}

TEST(Result, VoidSpecialisation)
{
	Result<void> ok;
	EXPECT_TRUE(ok);
	Result<void> bad = unexpected(ENOMEM, "alloc");
	ASSERT_FALSE(bad);
	EXPECT_EQ(bad.error().code, ENOMEM);
}

} /* namespace */
