/* SPDX-License-Identifier: MIT */
#include "scene/scene.h"

#include <drm_fourcc.h>

#include <bufmgr/format.h>

#include "backend/backend.h"
#include "render/transform.h"
#include "surface.h"

namespace comp {

bool formatHasAlpha(uint32_t format)
{
	const bufmgr::FormatInfo *info = bufmgr::formatInfo(format);
	return !info || info->hasAlpha;
}

namespace {

/*
 * A declared region of many rects (a client's, so maybe hostile) would
 * make every frame clip many draws: past kMaxOpaqueRects only its largest
 * rect is taken as opaque. Less is hidden then, never more.
 */
PixelRegion boundedOpaqueRegion(const PixelRegion &declared)
{
	constexpr size_t kMaxOpaqueRects = 16;
	if (declared.numRects() <= kMaxOpaqueRects)
		return declared;
	Rect largest;
	for (const Rect &r : declared.rects()) {
		if (int64_t(r.width) * r.height > int64_t(largest.width) * largest.height)
			largest = r;
	}
	return PixelRegion(largest);
}

} /* namespace */

OutputScene OutputScene::build(std::span<const SceneRoot> roots, const Output &output)
{
	OutputScene scene;
	const Output::Mode mode = output.mode();
	for (const SceneRoot &root : roots) {
		root.surface->forEachSurface([&](Surface *surface, int32_t sx, int32_t sy) {
			scene.surfaces.push_back(surface);
			ClientBuffer *buffer = surface->buffer()
				? const_cast<ClientBuffer *>(surface->buffer()) : nullptr;
			if (!buffer || surface->width() <= 0 || surface->height() <= 0)
				return;
			SceneElement element;
			element.surface = surface;
			element.buffer = buffer;
			element.destination = {
				clampInt32(int64_t(root.x) + sx - output.x()),
				clampInt32(int64_t(root.y) + sy - output.y()),
				surface->width(), surface->height() };
			const Rect &d = element.destination;
			if (d.x >= int32_t(mode.width) || d.y >= int32_t(mode.height) ||
			    d.right() <= 0 || d.bottom() <= 0)
				return;
			element.source = surface->sourceBox();
			element.transform = surface->bufferTransform();
			element.yInvert = buffer->yInverted();
			const Region &declared = surface->current().opaque;
			element.opaque = !formatHasAlpha(buffer->format()) ||
					 declared.covers({ 0, 0, surface->width(), surface->height() });
			if (element.opaque) {
				element.opaqueRegion.add(d);
			} else if (!declared.empty()) {
				element.opaqueRegion = boundedOpaqueRegion(declared.pixels());
				/* Surface-local, as the region came. */
				element.opaqueRegion.translate(d.x, d.y);
				element.opaqueRegion.intersect(d);
			}
			scene.elements.push_back(element);
			scene.shown.insert(surface);
		});
	}
	return scene;
}

std::vector<ScenePlacement> OutputScene::placements() const
{
	std::vector<ScenePlacement> placements;
	placements.reserve(elements.size());
	for (const SceneElement &e : elements)
		placements.push_back({ e.surface->id(), e.destination, e.source, e.transform });
	return placements;
}

namespace {

/* Opaque, covering the output with its whole buffer, unscaled, turned by one of transforms. */
bool fillsOutputAsIs(const SceneElement &e, uint32_t width, uint32_t height, uint8_t transforms)
{
	const Rect &d = e.destination;
	const SourceBox &s = e.source;
	const bool wholeBuffer = s.width == 0 || (s.x == 0 && s.y == 0 && s.width == e.buffer->width() &&
						  s.height == e.buffer->height());
	const bool fillsOutput = d.x == 0 && d.y == 0 && d.width == int32_t(width) &&
				 d.height == int32_t(height);
	const ShownSize shown = shownSize(e.transform, e.buffer->width(), e.buffer->height());
	return e.opaque && fillsOutput && wholeBuffer && !e.yInvert &&
	       (transforms & (1u << unsigned(e.transform))) && shown.width == width &&
	       shown.height == height;
}

} /* namespace */

const SceneElement *OutputScene::scanoutCandidate(uint32_t width, uint32_t height,
						       uint8_t transforms) const
{
	if (elements.empty() || !fillsOutputAsIs(elements.back(), width, height, transforms))
		return nullptr;
	return &elements.back();
}

size_t OutputScene::scanoutBase(uint32_t width, uint32_t height, uint8_t transforms) const
{
	for (size_t i = elements.size(); i-- > 0;)
		if (fillsOutputAsIs(elements[i], width, height, transforms))
			return i;
	return elements.size();
}

} /* namespace comp */
