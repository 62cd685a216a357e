/* SPDX-License-Identifier: MIT */
/* OutputDamage on its own: buffer ages and what a scene change damages. */
#include <gtest/gtest.h>

#include "output_damage.h"

namespace heapcomp::test {
namespace {

using comp::OutputDamage;
using comp::PixelRegion;
using comp::Rect;
using comp::ScenePlacement;

bool sameRegion(const PixelRegion &region, std::initializer_list<Rect> rects)
{
	PixelRegion want;
	for (const Rect &r : rects)
		want.add(r);
	return region == want;
}

TEST(PixelRegion, SubtractAndContainsForOcclusion)
{
	/* An output with two opaque windows: the background is what is left. */
	PixelRegion background(Rect{ 0, 0, 100, 50 });
	PixelRegion covered;
	covered.add({ 10, 10, 30, 30 });
	covered.add({ 30, 20, 40, 20 });
	EXPECT_TRUE(covered.contains({ 10, 10, 30, 30 }));
	EXPECT_TRUE(covered.contains({ 35, 25, 30, 10 }));	/* across both */
	EXPECT_FALSE(covered.contains({ 35, 15, 30, 10 }));	/* partly bare */
	EXPECT_FALSE(covered.contains({ 0, 0, 5, 5 }));
	EXPECT_TRUE(covered.contains({ 0, 0, 0, 5 }));		/* empty */
	/* Far edges past INT32_MAX are not wrapped into a small rect. */
	EXPECT_FALSE(covered.contains({ 20, 20, INT32_MAX, 5 }));

	for (const Rect &r : covered.rects())
		background.subtract(r);
	EXPECT_EQ(background.area(), 100u * 50 - (30 * 30 + 40 * 20 - 10 * 20));
	for (const Rect &r : background.rects()) {
		PixelRegion overlap = covered;
		overlap.intersect(r);
		EXPECT_TRUE(overlap.empty());
	}
	background.subtract({ -5, -5, 200, 200 });
	EXPECT_TRUE(background.empty());
}

TEST(OutputDamage, BufferAgeAddsWhatTheBufferMissed)
{
	OutputDamage damage(100, 50);
	damage.add({ 0, 0, 10, 10 });
	damage.frameSubmitted();
	damage.add({ 20, 0, 10, 10 });
	damage.frameSubmitted();
	damage.add({ 40, 0, 10, 10 });

	EXPECT_TRUE(sameRegion(damage.repaintRegion(1), { { 40, 0, 10, 10 } }));
	EXPECT_TRUE(sameRegion(damage.repaintRegion(2), { { 40, 0, 10, 10 }, { 20, 0, 10, 10 } }));
	EXPECT_TRUE(sameRegion(damage.repaintRegion(3),
			       { { 40, 0, 10, 10 }, { 20, 0, 10, 10 }, { 0, 0, 10, 10 } }));
	/* Unknown content, or older than remembered: everything. */
	EXPECT_TRUE(sameRegion(damage.repaintRegion(0), { { 0, 0, 100, 50 } }));
	EXPECT_TRUE(sameRegion(damage.repaintRegion(4), { { 0, 0, 100, 50 } }));

	/* Damage outside the output is dropped. */
	damage.add({ 90, 40, 50, 50 });
	EXPECT_EQ(damage.pending().area(), 10u * 10 + 10u * 10);
}

TEST(OutputDamage, HistoryIsBounded)
{
	OutputDamage damage(100, 50);
	for (size_t i = 0; i < OutputDamage::kHistory + 3; i++) {
		damage.add({ int32_t(i), 0, 1, 1 });
		damage.frameSubmitted();
	}
	EXPECT_FALSE(damage.hasPending());
	EXPECT_EQ(damage.repaintRegion(int(OutputDamage::kHistory) + 1).area(), 8u);
	EXPECT_EQ(damage.repaintRegion(int(OutputDamage::kHistory) + 2).area(), 5000u);
}

TEST(OutputDamage, SceneChangesDamageOldAndNewPlaces)
{
	OutputDamage damage(100, 100);
	ScenePlacement a{ 1, { 0, 0, 20, 20 } }, b{ 2, { 10, 10, 20, 20 } };
	damage.updateScene({ a, b });
	EXPECT_TRUE(sameRegion(damage.pending(), { a.rect, b.rect }));
	damage.frameSubmitted();

	/* The same scene again: nothing. */
	damage.updateScene({ a, b });
	EXPECT_FALSE(damage.hasPending());

	/* b moves: where it was and where it is. */
	ScenePlacement moved = b;
	moved.rect = { 50, 50, 20, 20 };
	damage.updateScene({ a, moved });
	EXPECT_TRUE(sameRegion(damage.pending(), { b.rect, moved.rect }));
	damage.frameSubmitted();

	/* Restacked: both, since either may now cover the other. */
	damage.updateScene({ moved, a });
	EXPECT_TRUE(sameRegion(damage.pending(), { a.rect, moved.rect }));
	damage.frameSubmitted();

	/* A new crop or transform redraws it in place. */
	ScenePlacement rotated = a;
	rotated.transform = comp::Transform::Rotate90;
	damage.updateScene({ moved, rotated });
	EXPECT_TRUE(sameRegion(damage.pending(), { a.rect }));
	damage.frameSubmitted();

	/* Gone: where it was. */
	damage.updateScene({ rotated });
	EXPECT_TRUE(sameRegion(damage.pending(), { moved.rect }));
}

} /* namespace */
} /* namespace heapcomp::test */
