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

/* Counts live instances, to check the union constructs and destroys once. */
struct Tracked {
	static inline int live = 0;
	int value;
	explicit Tracked(int v) : value(v) { live++; }
	Tracked(const Tracked &other) : value(other.value) { live++; }
	Tracked(Tracked &&other) noexcept : value(other.value) { live++; }
	~Tracked() { live--; }
};

TEST(Result, CopiesMovesAndAssignsBetweenStates)
{
	{
		Result<Tracked> value(std::in_place, 5);
		Result<Tracked> error = unexpected(EIO, "read");
		EXPECT_EQ(Tracked::live, 1);

		Result<Tracked> copy = value;
		ASSERT_TRUE(copy);
		EXPECT_EQ(copy->value, 5);
		EXPECT_EQ(Tracked::live, 2);

		/* A value replaced by an error is destroyed, and back. */
		copy = error;
		ASSERT_FALSE(copy);
		EXPECT_EQ(copy.error().context, "read");
		EXPECT_EQ(Tracked::live, 1);
		copy = std::move(value);
		ASSERT_TRUE(copy);
		EXPECT_EQ(copy->value, 5);
		EXPECT_EQ(Tracked::live, 2);

		Result<Tracked> moved = std::move(error);
		ASSERT_FALSE(moved);
		EXPECT_EQ(moved.error().code, EIO);
	}
	EXPECT_EQ(Tracked::live, 0);
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
