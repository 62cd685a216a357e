/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <span>

#include "rect.h"

namespace comp {

/*
 * An image the compositor draws above every client on the first output:
 * the statistics overlay (ui/). The backend shows it on a plane of its
 * own where it can; otherwise the repaint composes it last, from its own
 * pixels. Server::overlayChanged() tells the repaint it changed.
 * An opaque one is drawn into each output buffer once per change: the
 * client damage it covers is not drawn at all.
 */
class OverlayLayer
{
public:
	virtual ~OverlayLayer() = default;

	/* Premultiplied ARGB8888 rows, width pixels apart. */
	struct Image {
		const uint32_t *pixels = nullptr;
		uint32_t width = 0;
		uint32_t height = 0;
		/* Changes whenever the pixels do: a cached texture is stale. */
		uint64_t generation = 0;
		/*
		 * Every pixel's alpha is 1: nothing below shows through, so what
		 * changes below it needs no redraw.
		 */
		bool opaque = false;
		/*
		 * What the last changes touched, newest first: damage[i] holds
		 * the pixels that differ between generation - i - 1 and
		 * generation - i. Anything older: the whole image.
		 */
		std::span<const Rect> damage;
	};

	/* What drawing it has cost so far, apart from the frames it shows in. */
	struct Cost {
		uint64_t redraws = 0;
		uint64_t cpuNs = 0;
	};

	virtual bool visible() const = 0;
	/* Where the image goes, in output pixels; the image's size. */
	virtual Rect rect() const = 0;
	virtual Image image() const = 0;
	virtual Cost cost() const = 0;
	/* Shows it (drawing it at once) or hides it; false if it cannot be drawn. */
	virtual bool setShown(bool shown) = 0;
	/* Its output changed size, or another output became the first: it may move. */
	virtual void outputChanged() {}
};

} /* namespace comp */
