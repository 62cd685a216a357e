/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <vector>

#include "buffer.h"
#include "output_damage.h"
#include "pixel_region.h"
#include "render/renderer.h"

namespace comp {

class Output;
class Surface;

/*
 * One client buffer placed on an output: the unit a renderer composes
 * and a backend may show on a plane as it is.
 */
struct SceneElement {
	Surface *surface = nullptr;
	/* Its current buffer, whose caps() say what may read it; the surface holds its lock. */
	ClientBuffer *buffer = nullptr;
	Rect destination;	/* output pixels, y down */
	SourceBox source;	/* buffer pixels before the transform; width 0: all */
	Transform transform = Transform::Normal;
	bool yInvert = false;
	/* Every destination pixel is opaque: nothing below shows through. */
	bool opaque = false;
	/*
	 * The pixels that are opaque (output pixels, inside destination): all
	 * of it for formats without alpha, else what the client declared
	 * opaque (wl_surface.set_opaque_region; its largest rect alone if it
	 * has more than 16). Drawn without blending; nothing below is drawn.
	 */
	PixelRegion opaqueRegion;
	/*
	 * What the surface's commits changed since the output's last frame
	 * (output pixels, inside destination). Moves, restacking and crops
	 * are the scene's to find (OutputDamage::updateScene()).
	 */
	PixelRegion damage;
};

/* Whether a DRM fourcc carries alpha; unknown formats do: never wrongly opaque. */
bool formatHasAlpha(uint32_t format);

/* A surface tree to place: root and its subsurfaces, root's origin at (x, y). */
struct SceneRoot {
	Surface *surface = nullptr;
	int32_t x = 0;
	int32_t y = 0;
};

/* What one output shows in one frame, built anew for every repaint. */
struct OutputScene {
	/* Back to front, each at least partly on the output. */
	std::vector<SceneElement> elements;
	/* Every surface of the trees, shown or not: the frame completes their callbacks. */
	std::vector<Surface *> surfaces;
	std::set<Surface *> shown;

	/* Global roots back to front (windows, popups, then the cursor). */
	static OutputScene build(std::span<const SceneRoot> roots, const Output &output);

	/* Where each element is, for OutputDamage::updateScene(). */
	std::vector<ScenePlacement> placements() const;

	/*
	 * The element the output could show as it is, with nothing composed:
	 * the topmost one, opaque, covering the whole output with its whole
	 * buffer, unscaled, and untransformed or turned by one of transforms
	 * (a bit per Transform value the primary plane can undo). Null when
	 * there is none.
	 */
	const SceneElement *scanoutCandidate(uint32_t width, uint32_t height,
					     uint8_t transforms = 1) const;
	/*
	 * The topmost element that could be shown as it is on the primary
	 * plane (as scanoutCandidate() asks) with others above it: what is
	 * above would need planes of their own. Its index, or elements.size().
	 */
	size_t scanoutBase(uint32_t width, uint32_t height, uint8_t transforms = 1) const;
};

} /* namespace comp */
