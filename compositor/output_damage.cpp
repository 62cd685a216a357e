/* SPDX-License-Identifier: MIT */
#include "output_damage.h"

#include <algorithm>

namespace comp {

namespace {

bool samePlace(const ScenePlacement &a, const ScenePlacement &b)
{
	const Rect &r = a.rect, &s = b.rect;
	const SourceBox &p = a.source, &q = b.source;
	return r.x == s.x && r.y == s.y && r.width == s.width && r.height == s.height &&
	       p.x == q.x && p.y == q.y && p.width == q.width && p.height == q.height &&
	       a.transform == b.transform;
}

const ScenePlacement *find(const std::vector<ScenePlacement> &scene, uint64_t surface)
{
	auto it = std::find_if(scene.begin(), scene.end(),
			       [surface](const ScenePlacement &p) { return p.surface == surface; });
	return it == scene.end() ? nullptr : &*it;
}

} /* namespace */

OutputDamage::OutputDamage(uint32_t width, uint32_t height)
	: box_{ 0, 0, int32_t(width), int32_t(height) }
{
}

void OutputDamage::add(const Rect &rect)
{
	PixelRegion region(rect);
	region.intersect(box_);
	pending_.add(region);
}

void OutputDamage::add(const PixelRegion &region)
{
	PixelRegion clipped = region;
	clipped.intersect(box_);
	pending_.add(clipped);
}

void OutputDamage::addWhole()
{
	pending_.add(box_);
}

void OutputDamage::updateScene(std::vector<ScenePlacement> scene)
{
	for (const ScenePlacement &now : scene) {
		const ScenePlacement *before = find(scene_, now.surface);
		if (!before) {
			add(now.rect);
		} else if (!samePlace(*before, now)) {
			add(before->rect);
			add(now.rect);
		}
	}
	for (const ScenePlacement &before : scene_) {
		if (!find(scene, before.surface))
			add(before.rect);
	}

	/*
	 * Restacking: from the first surface whose place among those in both
	 * scenes changed, everything above may now cover or uncover another.
	 */
	std::vector<uint64_t> oldOrder, newOrder;
	for (const ScenePlacement &p : scene_) {
		if (find(scene, p.surface))
			oldOrder.push_back(p.surface);
	}
	for (const ScenePlacement &p : scene) {
		if (find(scene_, p.surface))
			newOrder.push_back(p.surface);
	}
	auto mismatch = std::mismatch(oldOrder.begin(), oldOrder.end(), newOrder.begin());
	for (auto it = mismatch.second; it != newOrder.end(); ++it) {
		add(find(scene_, *it)->rect);
		add(find(scene, *it)->rect);
	}

	scene_ = std::move(scene);
}

PixelRegion OutputDamage::repaintRegion(int bufferAge) const
{
	/* A buffer of age n missed the n - 1 frames submitted after it. */
	if (historyLost_ || bufferAge <= 0 || size_t(bufferAge - 1) > history_.size())
		return PixelRegion(box_);
	PixelRegion region = pending_;
	for (size_t i = 0; i + 1 < size_t(bufferAge); i++)
		region.add(history_[i]);
	return region;
}

void OutputDamage::frameSubmitted()
{
	/* Buffers drawn before a scanout missed everything since. */
	if (historyLost_)
		history_.assign(kHistory, PixelRegion(box_));
	historyLost_ = false;
	history_.push_front(pending_);
	if (history_.size() > kHistory)
		history_.pop_back();
	pending_.clear();
}

void OutputDamage::frameScannedOut()
{
	historyLost_ = true;
	pending_.clear();
}

} /* namespace comp */
