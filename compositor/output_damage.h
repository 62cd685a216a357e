/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "pixel_region.h"
#include "render/renderer.h"

namespace comp {

/* Where one surface is drawn on an output, to tell what a frame moved. */
struct ScenePlacement {
	uint64_t surface = 0;	/* Surface::id(): never reused, unlike addresses */
	Rect rect;		/* output pixels */
	SourceBox source;
	Transform transform = Transform::Normal;
};

/*
 * An output's damage: the pixels that changed since its last frame, and
 * those each of the frames before changed, so that a buffer of any age
 * learns what it misses. Output pixels throughout.
 */
class OutputDamage
{
public:
	/* Frames remembered; a buffer older than that is repainted whole. */
	static constexpr size_t kHistory = 8;

	OutputDamage(uint32_t width, uint32_t height);

	void add(const Rect &rect);
	void add(const PixelRegion &region);
	void addWhole();

	/*
	 * The scene drawn back to front, compared with the last one given:
	 * what appeared, went, moved, changed its crop or transform, or
	 * changed its place in the stack is damaged where it was and where
	 * it is.
	 */
	void updateScene(std::vector<ScenePlacement> scene);

	/*
	 * What rect covers needs no drawing this frame (a client buffer on
	 * a plane above, opaque): it leaves the pending damage.
	 */
	void subtractPending(const Rect &rect) { pending_.subtract(rect); }

	/* Whether anything changed since the last frame. */
	bool hasPending() const { return !pending_.empty(); }
	const PixelRegion &pending() const { return pending_; }

	/*
	 * What a buffer of this age (EGL_EXT_buffer_age: 0 unknown, n the
	 * frame n frames ago) must repaint to show the current scene.
	 */
	PixelRegion repaintRegion(int bufferAge) const;

	/* A frame with the pending damage went out: it becomes history. */
	void frameSubmitted();
	/*
	 * The screen showed a client buffer instead of a composed frame: the
	 * pending damage is on screen, but no composed buffer has it, so the
	 * next composed frame is drawn whole, whatever its age.
	 */
	void frameScannedOut();

private:
	Rect box_;
	PixelRegion pending_;
	std::deque<PixelRegion> history_;	/* newest first */
	std::vector<ScenePlacement> scene_;
	bool historyLost_ = false;
};

} /* namespace comp */
