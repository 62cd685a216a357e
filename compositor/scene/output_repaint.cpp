/* SPDX-License-Identifier: MIT */
#include "scene/output_repaint.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <deque>
#include <tuple>
#include <utility>
#include <iterator>
#include <optional>
#include <time.h>

#include <drm_fourcc.h>
#include <wayland-server-protocol.h>

#include <bufmgr/clock.h>
#include <bufmgr/format.h>
#include <bufmgr/stats.h>

#include "log.h"
#include "protocols/output.h"
#include "protocols/presentation.h"
#include "protocols/seat.h"
#include "protocols/shm.h"
#include "render/transform.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

/* Premultiplied RGBA behind every window. */
constexpr float kClearColor[4] = { 0.0f, 0.0f, 0.0f, 1.0f };

/* e's source box with the whole buffer spelt out: x, y, width, height. */
SourceBox explicitSource(const SceneElement &e)
{
	if (e.source.width > 0 && e.source.height > 0)
		return e.source;
	return SourceBox{ 0, 0, double(e.buffer->width()), double(e.buffer->height()) };
}

/*
 * The pixels of e's buffer that the output shows, rounded out; nullopt
 * where the mapping is not a plain scale (a transform: all of it).
 */
std::optional<Rect> shownBufferRect(const SceneElement &e, const Rect &output)
{
	const Rect shown = intersect(e.destination, output);
	if (e.transform != Transform::Normal || e.yInvert || shown.isEmpty())
		return std::nullopt;
	const SourceBox source = explicitSource(e);
	const double kx = source.width / e.destination.width;
	const double ky = source.height / e.destination.height;
	const int32_t x0 = int32_t(std::floor(source.x + (shown.x - e.destination.x) * kx));
	const int32_t y0 = int32_t(std::floor(source.y + (shown.y - e.destination.y) * ky));
	const int32_t x1 = int32_t(std::ceil(source.x + (shown.right() - e.destination.x) * kx));
	const int32_t y1 = int32_t(std::ceil(source.y + (shown.bottom() - e.destination.y) * ky));
	return Rect{ x0, y0, x1 - x0, y1 - y0 };
}

/*
 * Where e is drawn from a texture that holds only held of its buffer:
 * the destination pixels whose source lies inside held (every pixel the
 * output shows, by shownBufferRect()'s margin), with their source box
 * in the texture's pixels. Where held reaches the source's edge so does
 * the destination, whatever the rounding of the scale.
 */
void drawFromPart(const SceneElement &e, const Rect &held, RenderItem *item)
{
	const SourceBox source = explicitSource(e);
	const double kx = source.width / e.destination.width;
	const double ky = source.height / e.destination.height;
	const Rect &d = e.destination;
	/* A hair of slack: a double's error must not drop a pixel that held holds. */
	constexpr double kSlack = 1e-6;
	auto first = [](double start, double edge, double k) {
		return edge <= start ? 0 : int32_t(std::ceil((edge - start) / k - kSlack));
	};
	auto last = [](double start, double size, double edge, double k, int32_t whole) {
		if (edge >= start + size)
			return whole;
		return std::min(whole, int32_t(std::floor((edge - start) / k + kSlack)));
	};
	const int32_t x0 = first(source.x, held.x, kx);
	const int32_t y0 = first(source.y, held.y, ky);
	const int32_t x1 = last(source.x, source.width, held.right(), kx, d.width);
	const int32_t y1 = last(source.y, source.height, held.bottom(), ky, d.height);
	item->destination = Rect{ d.x + x0, d.y + y0, std::max(0, x1 - x0), std::max(0, y1 - y0) };
	/* Inside the texture, as renderers require, that slack notwithstanding. */
	const double sx = std::clamp(source.x + x0 * kx - held.x, 0.0, double(held.width));
	const double sy = std::clamp(source.y + y0 * ky - held.y, 0.0, double(held.height));
	item->source = SourceBox{ sx, sy, std::min((x1 - x0) * kx, held.width - sx),
				  std::min((y1 - y0) * ky, held.height - sy) };
}

/* Why e cannot go on a cursor plane as it is (surfaces: its tree's); "" if it can. */
const char *unfitForCursorPlane(const SceneElement &e, int surfaces)
{
	const ClientBuffer &b = *e.buffer;
	const SourceBox &s = e.source;
	if (!b.shmBuffer())
		return "a dma-buf";
	if (surfaces != 1)
		return "it has subsurfaces";
	if (e.transform != Transform::Normal || e.yInvert ||
	    e.destination.width != int32_t(b.width()) || e.destination.height != int32_t(b.height()) ||
	    (s.width != 0 && (s.x != 0 || s.y != 0 || s.width != b.width() || s.height != b.height())))
		return "scaled, cropped or transformed";
	if (b.format() != DRM_FORMAT_ARGB8888 && b.format() != DRM_FORMAT_XRGB8888)
		return "not 32-bit RGB";
	return "";
}

/*
 * Draws an element where it shows (shown: output pixels): the part its
 * client declared opaque without blending, the rest blended.
 */
void addElement(RenderPass &pass, RenderItem item, const SceneElement &e, PixelRegion shown)
{
	/* Past this many rects a clip costs more than the pixels it spares. */
	constexpr size_t kMaxClipRects = 16;
	PixelRegion opaque;
	if (item.texture->hasAlpha() && !e.opaqueRegion.empty()) {
		opaque = shown;
		opaque.intersect(e.opaqueRegion);
		shown.subtract(opaque);
	}
	/*
	 * The blended rest first. Drawing more of it than shows is only
	 * wasted: the opaque part, and what covers the rest, is drawn after.
	 */
	std::vector<Rect> rects;
	if (!shown.empty()) {
		if (!shown.contains(e.destination)) {
			shown.simplify(kMaxClipRects);
			rects = shown.rects();
			item.clip = rects;
		}
		pass.addTexture(item);
	}
	/* Exactly the opaque part: nothing below it was drawn (scene.h bounds its rects). */
	if (!opaque.empty()) {
		rects = opaque.rects();
		item.clip = rects;
		item.opaque = true;
		pass.addTexture(item);
	}
}

/* Whether e hides what is below it on a plane: opaque, and no alpha a plane would blend by. */
bool hidesBelow(const SceneElement &e)
{
	return e.opaque && !formatHasAlpha(e.buffer->format());
}

/*
 * Why e cannot go on one of output's overlay planes as it is; "" if it
 * may (the backend has the last word).
 */
const char *unfitForPlane(const SceneElement &e, const Output &output)
{
	const ClientBuffer &b = *e.buffer;
	const SourceBox &s = e.source;
	/* A headless output's planes read wl_shm memory, a display's do not. */
	if (!output.clientPlanesReadShm() && !(b.caps() & BufferCapDmaBuf))
		return "wl_shm memory, which the display cannot read";
	const bool blends = output.clientPlanesBlend();
	if (!blends && !e.opaque)
		return "translucent";
	/* Opaque by its region only: a plane would still blend it by its alpha. */
	if (!blends && !hidesBelow(e))
		return "a format with alpha";
	if (e.yInvert ||
	    (e.transform != Transform::Normal && !output.clientPlanesTransform(e.transform)))
		return "transformed";
	const ShownSize shown = shownSize(e.transform, b.width(), b.height());
	if (e.destination.width != int32_t(shown.width) ||
	    e.destination.height != int32_t(shown.height) ||
	    (s.width != 0 && (s.x != 0 || s.y != 0 || s.width != b.width() || s.height != b.height())))
		return "scaled or cropped";
	const Output::Mode mode = output.mode();
	if (!Rect{ 0, 0, int32_t(mode.width), int32_t(mode.height) }.contains(e.destination))
		return "partly off the output";
	return "";
}

/* e's buffer on a plane, where e is on the output. */
PlaneLayer layerOf(const SceneElement &e)
{
	return PlaneLayer{ ClientBuffer::Lock(e.buffer->shared_from_this()), e.destination,
			   e.transform };
}

/* src over dst, 0xAARRGGBB with premultiplied colour, rounded as pixman does. */
uint32_t blendPremultiplied(uint32_t src, uint32_t dst)
{
	const uint32_t keep = 255 - (src >> 24);
	uint32_t out = 0;
	for (int shift = 0; shift < 32; shift += 8) {
		const uint32_t t = ((dst >> shift) & 0xff) * keep + 0x80;
		const uint32_t below = ((t >> 8) + t) >> 8;
		out |= std::min<uint32_t>(((src >> shift) & 0xff) + below, 255) << shift;
	}
	return out;
}

/* Frames the buffers of these surfaces went to the screen as they are, on their accounts. */
void countShownAsIs(const OutputScene &scene, std::span<const uint64_t> surfaces)
{
	for (const SceneElement &e : scene.elements)
		if (e.surface->account() && std::count(surfaces.begin(), surfaces.end(), e.surface->id()))
			e.surface->account()->scannedOutFrames++;
}

/* wl_surface.frame callbacks done at timeMs, and gone. */
void completeCallbacks(ResourceList &callbacks, uint32_t timeMs)
{
	callbacks.forEach([timeMs](wl_resource *callback) {
		wl_callback_send_done(callback, timeMs);
		wl_resource_destroy(callback);
	});
}

/* Past this many rects a repaint draws their bounding box: fewer passes. */
constexpr size_t kMaxRepaintRects = 16;

} /* namespace */

OutputRepaint::OutputRepaint(Server &server, Output &output, OutputGlobal &global)
	: server_(server), output_(output), global_(global),
	  damage_(output.mode().width, output.mode().height)
{
}

OutputRepaint::~OutputRepaint() = default;

void OutputRepaint::clearFrames()
{
	rendered_.reset();
	displayed_.reset();
}

std::unique_ptr<OutputRepaint::FrameState>
OutputRepaint::takeFrameState(const OutputScene &scene, std::span<const uint64_t> zeroCopy)
{
	auto fs = std::make_unique<FrameState>();
	for (Surface *surface : scene.surfaces) {
		surface->takeFrameCallbacks(fs->callbacks);
		const bool asItIs = std::find(zeroCopy.begin(), zeroCopy.end(), surface->id()) !=
				    zeroCopy.end();
		surface->takeFeedbacks(asItIs ? fs->zeroCopyFeedbacks : fs->feedbacks);
		if (scene.shown.count(surface) && surface->bufferLock())
			fs->locks.push_back(surface->bufferLock());
	}
	return fs;
}

void OutputRepaint::setRepaintNeeded()
{
	if (!requestedNs_)
		requestedNs_ = bufmgr::clockNs(CLOCK_MONOTONIC);
	repaintNeeded_ = true;
}

void OutputRepaint::repaintTaken()
{
	repaintNeeded_ = false;
	pending_.requestedNs = requestedNs_;
	requestedNs_ = 0;
}

void OutputRepaint::overlayChanged()
{
	/* On its plane it changes alone: the next refresh commits it, drawing nothing. */
	if (overlayOnPlane_) {
		setRepaintNeeded();
		output_.scheduleFrame();
		return;
	}
	overlayInBuffers_.clear();
	damage_.add(PixelRegion(overlayDrawn_));
	const OverlayLayer *overlay = server_.overlayFor(*this);
	if (overlay && overlay->visible())
		damage_.add(PixelRegion(overlay->rect()));
	setRepaintNeeded();
	output_.scheduleFrame();
}

void OutputRepaint::resized()
{
	damage_ = OutputDamage(output_.mode().width, output_.mode().height);
	damage_.addWhole();
	primaryKnown_ = false;
	/* The buffers the overlay was drawn into are gone; new ones may reuse their addresses. */
	overlayInBuffers_.clear();
	setRepaintNeeded();
}

Result<void> OutputRepaint::repaint(OutputScene scene)
{
	takeSurfaceDamage(scene);
	placeCursor(scene);
	/* Only the overlay's graph shows it, and the CPU-time clock is a syscall. */
	const OverlayLayer *overlay = server_.overlayFor(*this);
	if (!overlay || !overlay->visible())
		return repaintScene(scene);
	const uint64_t cpuStart = bufmgr::clockNs(CLOCK_THREAD_CPUTIME_ID);
	Result<void> ret = repaintScene(scene);
	pending_.repaintCpuNs = bufmgr::clockNs(CLOCK_THREAD_CPUTIME_ID) - cpuStart;
	return ret;
}

const SceneElement *OutputRepaint::scanoutCandidate(const OutputScene &scene) const
{
	/* A composed overlay is drawn over everything: nothing can be shown as it is. */
	const OverlayLayer *overlay = server_.overlayFor(*this);
	if (overlay && overlay->visible() && !overlayOnPlane_)
		return nullptr;
	const Output::Mode mode = output_.mode();
	return scene.scanoutCandidate(mode.width, mode.height, primaryTransforms());
}

uint8_t OutputRepaint::primaryTransforms() const
{
	uint8_t transforms = 1;
	for (unsigned t = 1; t < 8; t++)
		if (output_.primaryTransform(Transform(t)))
			transforms |= uint8_t(1u << t);
	return transforms;
}

void OutputRepaint::placeCursor(OutputScene &scene)
{
	Seat *seat = server_.seatIfAny();
	const auto cursor = seat ? seat->cursorImage() : std::nullopt;
	/* Topmost, one surface with no subsurfaces, a wl_shm buffer shown pixel for pixel. */
	const SceneElement *e = scene.elements.empty() ? nullptr : &scene.elements.back();
	const ShmBuffer *shm = e ? e->buffer->shmBuffer() : nullptr;
	cursorShown_ = cursor && e && e->surface == cursor->surface;
	cursorUnfit_ = "";
	if (cursorShown_) {
		int surfaces = 0;
		e->surface->forEachSurface([&](Surface *, int32_t, int32_t) { surfaces++; });
		cursorUnfit_ = unfitForCursorPlane(*e, surfaces);
	}
	const bool plain = cursorShown_ && !*cursorUnfit_;
	bool onPlane = false;
	if (plain) {
		ShmBuffer::Access access(*shm);
		if (access.data()) {
			const PlaneImage image{ access.data(), shm->stride(), e->buffer->width(),
						e->buffer->height(),
						e->buffer->format() == DRM_FORMAT_XRGB8888,
						e->surface->contentGeneration() };
			onPlane = output_.showCursor(image, e->destination.x, e->destination.y);
		}
		/* A pool shrunk under the read: the plane holds zeroes, composition would too. */
		access.end();
	}
	if (!onPlane && cursorOnPlane_)
		output_.hideCursor();
	cursorOnPlane_ = onPlane;
	if (onPlane)
		scene.elements.pop_back();
}

std::string OutputRepaint::cursorRefusal() const
{
	if (!cursorShown_ || cursorOnPlane_)
		return {};
	return *cursorUnfit_ ? cursorUnfit_ : output_.cursorRefusal();
}

void OutputRepaint::placeOverlay()
{
	const OverlayLayer *overlay = server_.overlayFor(*this);
	const bool visible = overlay && overlay->visible();
	const bool onPlane = visible && output_.showOverlay(overlay->image(), overlay->rect());
	if (onPlane == overlayOnPlane_)
		return;
	if (onPlane) {
		/* Buffers that hold it composed show it no more once it leaves the plane. */
		overlayInBuffers_.clear();
		damage_.add(PixelRegion(overlayDrawn_));
	} else {
		output_.hideOverlay();
		if (visible)
			damage_.add(PixelRegion(overlay->rect()));
	}
	overlayOnPlane_ = onPlane;
}

Result<void> OutputRepaint::repaintScene(const OutputScene &scene)
{
	damage_.updateScene(scene.placements());
	placeOverlay();

	/*
	 * Feedback offers a scanout tranche to the surface that could be
	 * scanned out: the topmost, or the one below buffers that could go
	 * on overlay planes.
	 */
	const SceneElement *candidate = scanoutCandidate(scene);
	const size_t base = candidate ? scene.elements.size() : planesOnlyBase(scene);
	const SceneElement *primaryCandidate =
		candidate ? candidate : base < scene.elements.size() ? &scene.elements[base] : nullptr;
	const uint64_t candidateId = primaryCandidate ? primaryCandidate->surface->id() : 0;
	if (candidateId != output_.scanoutCandidate()) {
		output_.setScanoutCandidate(candidateId);
		server_.scanoutCandidatesChanged();
	}

	/*
	 * The whole output as one client buffer; else what overlay planes
	 * take of it. A buffer covering the output that the primary plane
	 * refused goes on no other: it is composed, and so is all below it.
	 */
	const bool whole = candidate && primaryTakes(*candidate);
	std::vector<PlaneLayer> layers;
	std::vector<LayerShown> shown;
	OutputScene composed;
	std::vector<uint64_t> planeCandidates;
	bool planesOnly = false;
	if (candidate && !whole) {
		places_.assign(1, { candidateId, candidate->destination, SurfacePlace::Where::Composed,
				    output_.refusal() });
	} else if (!whole) {
		places_.clear();
		/* Why the base is not on the primary plane, kept as its reason. */
		std::string refusal;
		planesOnly = primaryCandidate &&
			     assignPlanesOnly(scene, base, layers, shown, planeCandidates, refusal);
		if (planesOnly) {
			/* What the frame shows of the scene's own: the buffer on the primary plane. */
			composed.surfaces = scene.surfaces;
			composed.shown = scene.shown;
			composed.elements.push_back(scene.elements[base]);
		} else if (output_.clientPlaneCount()) {
			assignPlanes(scene, layers, shown, composed, planeCandidates);
			for (SurfacePlace &place : places_)
				if (!refusal.empty() && place.surface == candidateId &&
				    place.where == SurfacePlace::Where::Composed)
					place.reason = refusal;
		}
	}
	if (planeCandidates != output_.planeCandidates()) {
		output_.setPlaneCandidates(std::move(planeCandidates));
		server_.scanoutCandidatesChanged();
	}
	/* What the renderer would draw: the scene less the buffers on planes. */
	const OutputScene &drawn = shown.empty() ? scene : composed;
	addElementDamage(drawn);
	planesChange(shown);

	/* The screen already shows the scene: complete the frame without drawing. */
	/* Planes only: the base's damage may lie under opaque layers, its new buffer not. */
	const bool baseShown = !planesOnly || output_.frontScanout() == scene.elements[base].buffer;
	if (!damage_.hasPending() && output_.hasFront() && shown == layersShown_ && baseShown) {
		repaintTaken();
		stats_.skipped++;
		pending_.kind = FrameKind::Skipped;
		std::vector<uint64_t> zeroCopy = surfacesOf(layersShown_);
		if (scannedOut_)
			zeroCopy.push_back(scannedOut_);
		rendered_ = takeFrameState(scene, zeroCopy);
		output_.skipFrame();
		return {};
	}

	if (whole)
		return scanOut(scene, *candidate);
	if (planesOnly)
		return scanOut(scene, scene.elements[base], std::move(layers), std::move(shown));
	if (candidate && candidate->surface->account())
		candidate->surface->account()->scanoutRefusedFrames++;
	/* Only plane buffers changed, over a composed frame that stays. */
	if (!layers.empty() && !damage_.hasPending() && output_.frontBuffer())
		return commitPlanes(scene, std::move(layers), std::move(shown));
	return compose(scene, drawn, std::move(layers), std::move(shown));
}

void OutputRepaint::assignPlanes(const OutputScene &scene, std::vector<PlaneLayer> &layers,
				 std::vector<LayerShown> &shown, OutputScene &composed,
				 std::vector<uint64_t> &candidates)
{
	const size_t planes = output_.clientPlaneCount();
	/* What the renderer draws above the element at hand: a plane below it would hide it. */
	PixelRegion composedAbove;
	const OverlayLayer *overlay = server_.overlayFor(*this);
	if (overlay && overlay->visible() && !overlayOnPlane_)
		composedAbove.add(overlay->rect());
	/* Top down; layers is bottom up, so each new one goes first. */
	std::vector<const SceneElement *> taken;
	std::vector<bool> onPlane(scene.elements.size());
	for (size_t i = scene.elements.size(); i-- > 0;) {
		const SceneElement &e = scene.elements[i];
		std::string why = unfitForPlane(e, output_);
		if (why.empty() && composedAbove.intersects(e.destination))
			why = "under composed content";
		if (why.empty() && taken.size() >= planes)
			why = "no free overlay plane";
		if (why.empty()) {
			OutputState state;
			state.keepPrimary = true;
			state.layers.push_back(layerOf(e));
			for (size_t j = taken.size(); j-- > 0;)
				state.layers.push_back(layerOf(*taken[j]));
			if (output_.test(state)) {
				taken.push_back(&e);
				onPlane[i] = true;
				layers = std::move(state.layers);
			} else {
				why = output_.refusal();
			}
			/* Its feedback offers the planes' formats: a buffer of those could go. */
			if (onPlane[i] || output_.refusedTheBuffer())
				candidates.push_back(e.surface->id());
		}
		if (!onPlane[i])
			composedAbove.add(e.destination);
		places_.push_back({ e.surface->id(), e.destination,
				    onPlane[i] ? SurfacePlace::Where::Overlay
					       : SurfacePlace::Where::Composed,
				    std::move(why) });
	}
	if (taken.empty())
		return;
	for (size_t j = taken.size(); j-- > 0;)
		shown.push_back(shownOf(*taken[j]));
	composed.surfaces = scene.surfaces;
	composed.shown = scene.shown;
	for (size_t i = 0; i < scene.elements.size(); i++)
		if (!onPlane[i])
			composed.elements.push_back(scene.elements[i]);
}

size_t OutputRepaint::planesOnlyBase(const OutputScene &scene) const
{
	const size_t none = scene.elements.size();
	/* A composed overlay needs a composed frame. */
	const OverlayLayer *overlay = server_.overlayFor(*this);
	if (!output_.clientPlaneCount() || (overlay && overlay->visible() && !overlayOnPlane_))
		return none;
	const Output::Mode mode = output_.mode();
	const size_t count = scene.elements.size();
	const size_t at = scene.scanoutBase(mode.width, mode.height, primaryTransforms());
	/* The topmost alone is the whole output (scanOut()); more than the planes, composition. */
	if (at + 1 >= count || count - at - 1 > output_.clientPlaneCount())
		return none;
	for (size_t i = at + 1; i < count; i++)
		if (*unfitForPlane(scene.elements[i], output_))
			return none;
	return at;
}

bool OutputRepaint::assignPlanesOnly(const OutputScene &scene, size_t at,
				     std::vector<PlaneLayer> &layers, std::vector<LayerShown> &shown,
				     std::vector<uint64_t> &candidates, std::string &refusal)
{
	const size_t count = scene.elements.size();
	/* Planes that cannot read wl_shm memory: nor can the primary (asked each frame, cheaply). */
	if (!output_.clientPlanesReadShm() && !(scene.elements[at].buffer->caps() & BufferCapDmaBuf)) {
		refusal = "wl_shm memory, which the display cannot read";
		return false;
	}
	OutputState state;
	state.scanout = ClientBuffer::Lock(scene.elements[at].buffer->shared_from_this());
	state.scanoutTransform = scene.elements[at].transform;
	for (size_t i = at + 1; i < count; i++)
		state.layers.push_back(layerOf(scene.elements[i]));
	if (!output_.test(state)) {
		/* The base's own refusal, if the primary plane refuses it alone (a verdict kept per buffer). */
		if (!primaryTakes(scene.elements[at]))
			refusal = output_.refusal();
		return false;
	}

	layers = std::move(state.layers);
	placeOverScanout(scene, at);
	for (size_t i = at + 1; i < count; i++) {
		candidates.push_back(scene.elements[i].surface->id());
		shown.push_back(shownOf(scene.elements[i]));
	}
	return true;
}

void OutputRepaint::placeOverScanout(const OutputScene &scene, size_t base)
{
	places_.clear();
	for (size_t i = scene.elements.size(); i-- > 0;) {
		const SceneElement &e = scene.elements[i];
		const SurfacePlace::Where where = i > base    ? SurfacePlace::Where::Overlay
						  : i == base ? SurfacePlace::Where::Primary
							      : SurfacePlace::Where::Composed;
		places_.push_back({ e.surface->id(), e.destination, where,
				    i < base ? "hidden by a client buffer on the primary plane" : "" });
	}
}

OutputRepaint::LayerShown OutputRepaint::shownOf(const SceneElement &e)
{
	return { e.surface->id(), e.buffer, e.destination, hidesBelow(e) };
}

std::vector<uint64_t> OutputRepaint::surfacesOf(const std::vector<LayerShown> &layers)
{
	std::vector<uint64_t> surfaces;
	for (const LayerShown &layer : layers)
		surfaces.push_back(layer.surface);
	return surfaces;
}

void OutputRepaint::planesChange(const std::vector<LayerShown> &next)
{
	auto on = [](const std::vector<LayerShown> &list, uint64_t surface) {
		return std::any_of(list.begin(), list.end(),
				   [surface](const LayerShown &l) { return l.surface == surface; });
	};
	/* Nothing was drawn under it in any buffer: drawn whole when it comes back. */
	for (const LayerShown &layer : layersShown_)
		if (!on(next, layer.surface))
			damage_.add(layer.destination);
	for (const LayerShown &layer : next) {
		if (layer.opaque) {
			damage_.subtractPending(layer.destination);
			continue;
		}
		/*
		 * Blended over the composed frame: that must hold what is
		 * below it, and not the surface itself, drawn there while it
		 * was composed (or stale while an opaque layer hid it).
		 */
		const bool wasBlendedThere =
			std::any_of(layersShown_.begin(), layersShown_.end(), [&](const LayerShown &l) {
				return l.surface == layer.surface && !l.opaque &&
				       l.destination == layer.destination;
			});
		if (!wasBlendedThere)
			damage_.add(layer.destination);
	}
}

void OutputRepaint::surfaceDamaged(uint64_t surface, const PixelRegion &region)
{
	/*
	 * An output that does not repaint (its session away, its display
	 * unplugged) would keep an entry per surface damaged meanwhile:
	 * past a bound, it draws everything instead.
	 */
	constexpr size_t kMaxDamagedSurfaces = 256;
	if (surfaceDamage_.size() >= kMaxDamagedSurfaces && !surfaceDamage_.contains(surface)) {
		damage_.addWhole();
		return;
	}
	surfaceDamage_[surface].add(region);
}

void OutputRepaint::takeSurfaceDamage(OutputScene &scene)
{
	std::erase_if(untextured_, [&](uint64_t id) {
		return std::none_of(scene.elements.begin(), scene.elements.end(),
				    [id](const SceneElement &e) { return e.surface->id() == id; });
	});
	if (surfaceDamage_.empty())
		return;
	for (SceneElement &e : scene.elements) {
		auto it = surfaceDamage_.find(e.surface->id());
		if (it == surfaceDamage_.end())
			continue;
		e.damage = std::move(it->second);
		e.damage.intersect(e.destination);
	}
	/* A surface not shown here has nothing to draw; it is drawn whole when it comes. */
	surfaceDamage_.clear();
}

void OutputRepaint::addElementDamage(const OutputScene &drawn)
{
	PixelRegion hidden;
	for (size_t i = drawn.elements.size(); i-- > 0;) {
		const SceneElement &e = drawn.elements[i];
		if (!e.damage.empty()) {
			PixelRegion shows = e.damage;
			shows.subtract(hidden);
			damage_.add(shows);
		}
		/* drawScene() draws what is below one it has no texture for. */
		if (!untextured_.contains(e.surface->id()))
			hidden.add(e.opaqueRegion);
	}
}

bool OutputRepaint::primaryTakes(const SceneElement &candidate)
{
	OutputState state;
	state.scanout = ClientBuffer::Lock(candidate.buffer->shared_from_this());
	state.scanoutTransform = candidate.transform;
	return output_.test(state);
}

Result<void> OutputRepaint::scanOut(const OutputScene &scene, const SceneElement &candidate,
				    std::vector<PlaneLayer> layers, std::vector<LayerShown> shown)
{
	OutputState state;
	state.scanout = ClientBuffer::Lock(candidate.buffer->shared_from_this());
	state.scanoutTransform = candidate.transform;
	state.layers = std::move(layers);
	/*
	 * The same surface's last buffer is on screen: the new one changes
	 * its damage. Damage clips count the buffer's pixels: a turned
	 * buffer's are not the output's, so it is sent on whole.
	 */
	if (primaryKnown_ && scannedOut_ == candidate.surface->id() && !candidate.damage.empty() &&
	    candidate.transform == Transform::Normal) {
		PixelRegion changed = candidate.damage;
		changed.simplify(kMaxRepaintRects);
		state.primaryDamage = changed.rects();
	}
	/* Only the planes above it change: the buffer on the primary plane stays as it is. */
	state.keepPrimary = primaryKnown_ && scannedOut_ == candidate.surface->id() &&
			    candidate.damage.empty() && output_.frontScanout() == candidate.buffer;
	/* With layers, assignPlanesOnly() said where each surface is. */
	if (shown.empty())
		placeOverScanout(scene, size_t(&candidate - scene.elements.data()));

	const uint64_t surface = candidate.surface->id();
	std::vector<uint64_t> zeroCopy = surfacesOf(shown);
	zeroCopy.push_back(surface);
	repaintTaken();
	rendered_ = takeFrameState(scene, zeroCopy);
	/* Before the commit: a backend may present at once. */
	pending_.kind = FrameKind::ScannedOut;
	auto result = output_.commit(std::move(state));
	if (!result) {
		frameNotShown();
		return result;
	}
	primaryKnown_ = true;
	frameShown();
	countShownAsIs(scene, zeroCopy);
	scannedOut_ = surface;
	if (!shown.empty())
		stats_.planeFrames++;
	layersShown_ = std::move(shown);
	stats_.scannedOut++;
	damage_.frameScannedOut();
	return result;
}

Result<void> OutputRepaint::commitPlanes(const OutputScene &scene, std::vector<PlaneLayer> layers,
					 std::vector<LayerShown> shown)
{
	const std::vector<uint64_t> zeroCopy = surfacesOf(shown);
	repaintTaken();
	rendered_ = takeFrameState(scene, zeroCopy);
	OutputState state;
	state.keepPrimary = true;
	state.layers = std::move(layers);
	/* A client buffer as it is, nothing drawn; set before a backend presents at once. */
	pending_.kind = FrameKind::ScannedOut;
	auto result = output_.commit(std::move(state));
	if (!result) {
		frameNotShown();
		return result;
	}
	frameShown();
	countShownAsIs(scene, zeroCopy);
	layersShown_ = std::move(shown);
	stats_.planeFrames++;
	stats_.planesUpdated++;
	return result;
}

Result<void> OutputRepaint::compose(const OutputScene &scene, const OutputScene &drawn,
				    std::vector<PlaneLayer> layers, std::vector<LayerShown> shown)
{
	const std::vector<uint64_t> zeroCopy = surfacesOf(shown);
	auto frame = output_.beginFrame();
	if (!frame) {
		/* The frame's callbacks complete like a frame refused at commit. */
		rendered_ = takeFrameState(scene, {});
		repaintTaken();
		frameNotShown();
		return bufmgr::unexpected(std::move(frame).error());
	}
	if (!*frame) {
		/*
		 * Every buffer is still on screen or queued: try next refresh,
		 * when what this frame would have put on planes may be composed.
		 */
		for (const LayerShown &layer : shown)
			damage_.add(layer.destination);
		/* The surfaces' damage is in damage_ now: a scanned-out buffer's alone says too little. */
		primaryKnown_ = false;
		output_.scheduleFrame();
		return {};
	}

	std::unique_ptr<FrameState> fs = takeFrameState(scene, zeroCopy);
	repaintTaken();
	PixelRegion region = damage_.repaintRegion((*frame)->bufferAge);
	PixelRegion overlayRegion;
	const OverlayDrawn overlayDrawn = clipToOverlay(**frame, region, overlayRegion);
	region.simplify(kMaxRepaintRects);
	/* A bounding box may have grown over the overlay: it is drawn again there. */
	if (overlayDrawn.generation && !overlayRegion.contains(overlayDrawn.rect)) {
		PixelRegion under = region;
		under.intersect(overlayDrawn.rect);
		overlayRegion.add(under);
	}
	std::vector<Rect> rects = region.rects();
	const std::vector<Rect> overlayRects = overlayRegion.rects();
	auto done = drawFrame(drawn, *(*frame)->target, rects, overlayRects);
	if (!done) {
		output_.rollback(**frame);
		rendered_ = std::move(fs);
		frameNotShown();
		return bufmgr::unexpected(std::move(done).error());
	}
	(*frame)->renderDone = bufmgr::SharedFd(std::move(done->syncFd));

	if (overlayDrawn.generation)
		overlayInBuffers_[(*frame)->target] = overlayDrawn;
	overlayDrawn_ = overlayDrawn.rect;
	stats_.rendered++;
	pending_.kind = FrameKind::Composed;
	stats_.lastBufferAge = (*frame)->bufferAge;
	stats_.lastPixels = region.area() + overlayRegion.area();
	stats_.pixels += stats_.lastPixels;
	stats_.rects += rects.size() + overlayRects.size();
	stats_.lastRects = std::move(rects);
	OutputState state;
	state.frame = **frame;
	state.layers = std::move(layers);
	/* After a composed frame, this one changes only what changed since. */
	if (primaryKnown_ && !scannedOut_ && damage_.hasPending()) {
		PixelRegion changed = damage_.pending();
		changed.simplify(kMaxRepaintRects);
		state.primaryDamage = changed.rects();
	}
	damage_.frameSubmitted();
	for (const Rect &rect : uncovered_)
		damage_.add(rect);
	if (!uncovered_.empty())
		setRepaintNeeded();
	uncovered_.clear();
	rendered_ = std::move(fs);
	scannedOut_ = 0;
	auto committed = output_.commit(std::move(state));
	if (!committed) {
		frameNotShown();
		return committed;
	}
	primaryKnown_ = true;
	frameShown();
	if (!shown.empty())
		stats_.planeFrames++;
	countShownAsIs(scene, zeroCopy);
	layersShown_ = std::move(shown);
	return committed;
}

void OutputRepaint::frameShown()
{
	if (failedFrames_)
		LOG_INFO("%s: frames show again, after %" PRIu64 " that could not",
			 output_.name().c_str(), failedFrames_);
	failedFrames_ = 0;
	retryPending_ = false;
	retryTimer_.reset();
}

void OutputRepaint::discardRendered()
{
	if (!rendered_)
		return;
	std::unique_ptr<FrameState> fs = std::move(rendered_);
	completeCallbacks(fs->callbacks, uint32_t(bufmgr::clockNs(CLOCK_MONOTONIC) / 1000000));
	server_.presentation().discard(fs->feedbacks);
	server_.presentation().discard(fs->zeroCopyFeedbacks);
}

void OutputRepaint::frameNotShown()
{
	failedFrames_++;
	pending_ = {};
	damage_.addWhole();
	primaryKnown_ = false;
	discardRendered();
	/*
	 * Not at once, even if the clients commit again at once: a refusal
	 * that lasts would spin the loop. Until the timer, no repaint.
	 */
	setRepaintNeeded();
	retryPending_ = true;
	if (!retryTimer_.get())
		retryTimer_.reset(wl_event_loop_add_timer(server_.loop(), &OutputRepaint::onRetry, this));
	const Output::Mode mode = output_.mode();
	const int periodMs = mode.refreshMilliHz ? int(std::max<uint64_t>(1, 1000000 / mode.refreshMilliHz))
						: 16;
	if (retryTimer_.get())
		wl_event_source_timer_update(retryTimer_.get(), periodMs);
}

int OutputRepaint::onRetry(void *data)
{
	auto *self = static_cast<OutputRepaint *>(data);
	self->retryPending_ = false;
	if (self->repaintNeeded_)
		self->output_.scheduleFrame();
	return 0;
}

OutputRepaint::OverlayDrawn OutputRepaint::clipToOverlay(const OutputFrame &frame,
							  PixelRegion &region,
							  PixelRegion &overlayRegion)
{
	const OverlayLayer *overlay = server_.overlayFor(*this);
	if (!overlay || !overlay->visible() || overlayOnPlane_) {
		overlayInBuffers_.clear();
		return {};
	}
	const OverlayLayer::Image image = overlay->image();
	const OverlayDrawn now{ image.generation, overlay->rect() };
	if (!image.opaque) {
		region.add(now.rect);
		return now;
	}
	/* Below it nothing shows; it is drawn unless the buffer holds it already. */
	region.subtract(now.rect);
	auto held = overlayInBuffers_.find(frame.target);
	if (frame.bufferAge <= 0 || held == overlayInBuffers_.end() || !(held->second == now))
		overlayRegion.add(now.rect);
	return now;
}

Result<PassCompletion> OutputRepaint::drawFrame(const OutputScene &scene,
						const bufmgr::Buffer &target,
						std::span<const Rect> damage,
						std::span<const Rect> overlayDamage)
{
	Renderer &renderer = server_.renderer();
	const OverlayLayer *overlay = server_.overlayFor(*this);
	if (!overlay || !overlay->visible() || overlayOnPlane_)
		overlay = nullptr;
	/* An opaque overlay alone needs no scene pass. */
	Result<PassCompletion> done = PassCompletion{};
	if (!damage.empty() || overlayDamage.empty())
		done = drawScene(scene, target, damage,
				 overlay && !overlay->image().opaque ? overlay : nullptr);
	if (!done || overlayDamage.empty() || !overlay)
		return done;
	/* Its own pass: what it covers is never drawn below it. */
	auto pass = renderer.beginPass(target, overlayDamage);
	if (!pass)
		return bufmgr::unexpected(std::move(pass).error());
	addOverlay(**pass, *overlay);
	/* In order after the scene's pass: this one's completion covers both. */
	return (*pass)->submit();
}

Result<PassCompletion> OutputRepaint::drawScene(const OutputScene &scene,
						const bufmgr::Buffer &target,
						std::span<const Rect> damage, const OverlayLayer *overlay)
{
	Renderer &renderer = server_.renderer();
	auto pass = renderer.beginPass(target, damage);
	if (!pass)
		return bufmgr::unexpected(std::move(pass).error());

	/*
	 * Front to back: what opaque elements cover hides what lies below;
	 * what has no texture covers nothing. Textures are made now, for
	 * what a composed frame shows. wl_shm memory a renderer reads in
	 * place stays readable until the submit, even if its client shrinks
	 * the pool meanwhile.
	 */
	std::vector<TexturePart> parts(scene.elements.size());
	/* What of each element shows: not hidden by the opaque pixels of those above. */
	std::vector<PixelRegion> visible(scene.elements.size());
	PixelRegion covered;
	std::deque<std::pair<ShmBuffer::Access, ClientBuffer *>> shmReads;
	const Rect outputRect{ 0, 0, int32_t(target.width()), int32_t(target.height()) };
	for (size_t i = scene.elements.size(); i-- > 0;) {
		const SceneElement &e = scene.elements[i];
		if (covered.contains(e.destination))
			continue;
		if (renderer.readsShmInPlace() && (e.buffer->caps() & BufferCapShm)) {
			shmReads.emplace_back(std::piecewise_construct,
					      std::forward_as_tuple(*e.buffer->shmBuffer()),
					      std::forward_as_tuple(e.buffer));
			/* Out of slots for reads: not drawn rather than unguarded. */
			if (!shmReads.back().first.data())
				continue;
		}
		const std::optional<Rect> shown = shownBufferRect(e, outputRect);
		parts[i] = e.surface->updateTexture(shown ? &*shown : nullptr);
		/* An element without a texture covers nothing: what is below it is drawn there. */
		if (!parts[i]) {
			/* Changes below it were left out as hidden (addElementDamage()): all of it is drawn next. */
			if (!e.opaqueRegion.empty() && untextured_.insert(e.surface->id()).second)
				uncovered_.push_back(e.destination);
			continue;
		}
		untextured_.erase(e.surface->id());
		visible[i] = PixelRegion(e.destination);
		visible[i].subtract(covered);
		covered.add(e.opaqueRegion);
	}
	PixelRegion background(Rect{ 0, 0, int32_t(target.width()), int32_t(target.height()) });
	for (const Rect &rect : covered.rects())
		background.subtract(rect);
	RectDraw fill;
	std::copy(std::begin(kClearColor), std::end(kClearColor), fill.color);
	for (const Rect &rect : background.rects()) {
		fill.destination = rect;
		(*pass)->addRect(fill);
	}

	for (size_t i = 0; i < scene.elements.size(); i++) {
		const SceneElement &e = scene.elements[i];
		const TexturePart &part = parts[i];
		if (!part)
			continue;
		RenderItem item;
		item.texture = part.texture;
		item.destination = e.destination;
		item.source = e.source;
		const Rect whole{ 0, 0, int32_t(e.buffer->width()), int32_t(e.buffer->height()) };
		if (part.held != whole) {
			drawFromPart(e, part.held, &item);
			if (item.destination.isEmpty())
				continue;
		}
		item.transform = e.transform;
		item.yInvert = e.yInvert;
		addElement(**pass, item, e, std::move(visible[i]));
	}
	if (overlay)
		addOverlay(**pass, *overlay);
	auto done = (*pass)->submit();
	for (auto &[access, buffer] : shmReads) {
		/* What was read is zeroes now: the frame shows them, the client goes. */
		if (!access.end() && buffer->resource())
			wl_resource_post_error(buffer->resource(), WL_SHM_ERROR_INVALID_FD,
					       "the pool's file was shrunk under the buffer");
	}
	return done;
}

void OutputRepaint::addOverlay(RenderPass &pass, const OverlayLayer &overlay)
{
	const Texture *texture = overlayTexture(overlay);
	if (!texture)
		return;
	RenderItem item;
	item.texture = texture;
	item.destination = overlay.rect();
	pass.addTexture(item);
}

const Texture *OutputRepaint::overlayTexture(const OverlayLayer &overlay)
{
	OverlayLayer::Image image = overlay.image();
	if (!image.pixels || !image.width || !image.height)
		return nullptr;
	Renderer &renderer = server_.renderer();
	const auto *data = reinterpret_cast<const uint8_t *>(image.pixels);
	const uint32_t stride = image.width * 4;
	if (overlayTexture_ && overlayGeneration_ == image.generation)
		return overlayTexture_.get();
	if (overlayTexture_ && overlayTexture_->width() == image.width &&
	    overlayTexture_->height() == image.height && overlayTexture_->hasAlpha() != image.opaque) {
		const Rect all{ 0, 0, int32_t(image.width), int32_t(image.height) };
		if (auto ret = renderer.updateShm(*overlayTexture_, data, stride, { &all, 1 }); ret) {
			overlayGeneration_ = image.generation;
			return overlayTexture_.get();
		}
	}
	auto texture = renderer.importShm(data, image.width, image.height, stride,
					  image.opaque ? DRM_FORMAT_XRGB8888 : DRM_FORMAT_ARGB8888);
	if (!texture) {
		LOG_ERROR("overlay: %s", texture.error().message().c_str());
		overlayTexture_.reset();
		return nullptr;
	}
	overlayTexture_ = std::move(*texture);
	overlayGeneration_ = image.generation;
	return overlayTexture_.get();
}

void OutputRepaint::presented(const PresentInfo &info)
{
	frames_++;
	if (rendered_) {
		const uint64_t ns = uint64_t(info.time.tv_sec) * 1000000000u +
				    uint64_t(info.time.tv_nsec);
		pending_.presentedNs = ns;
		pending_.intervalNs = lastPresentedNs_ && ns > lastPresentedNs_
					      ? ns - lastPresentedNs_ : 0;
		lastPresentedNs_ = ns;
		const bufmgr::Stats::Trouble trouble = server_.bufferManager().stats().trouble();
		pending_.allocFailures = trouble.failures;
		pending_.allocFallbacks = trouble.fallbacks;
		timeline_.push(pending_);
		pending_ = {};
	}
	if (!rendered_)
		return;
	/*
	 * The previous frame's buffers are off screen now: released before
	 * the frame callbacks, so a client redrawing on "done" finds them free.
	 */
	displayed_ = std::move(rendered_);
	FrameState &fs = *displayed_;
	completeCallbacks(fs.callbacks, uint32_t(uint64_t(info.time.tv_sec) * 1000 +
						 info.time.tv_nsec / 1000000));
	/* ZERO_COPY only for the surface whose buffer was the frame. */
	PresentInfo copied = info;
	copied.flags &= ~uint32_t(PresentZeroCopy);
	Presentation &presentation = server_.presentation();
	presentation.presented(fs.feedbacks, &global_, copied);
	presentation.presented(fs.zeroCopyFeedbacks, &global_, info);
}

Result<Screenshot> OutputRepaint::screenshot() const
{
	Screenshot shot;
	if (const ClientBuffer *scanout = output_.frontScanout()) {
		auto read = readClientBuffer(*scanout);
		if (!read)
			return read;
		shot = std::move(*read);
	} else {
		const bufmgr::Buffer *front = output_.frontBuffer();
		if (!front)
			return bufmgr::unexpected(EAGAIN, "no frame on " + output_.name());
		auto pixels = server_.renderer().readPixels(*front);
		if (!pixels)
			return bufmgr::unexpected(std::move(pixels).error());
		shot.width = front->width();
		shot.height = front->height();
		shot.pixels = std::move(*pixels);
	}
	/* Client buffers on planes above it, unscaled: blended premultiplied, as a plane does. */
	for (const Output::ShownLayer &layer : output_.frontLayers()) {
		auto read = readClientBuffer(*layer.buffer);
		/* A format the CPU does not read (NV12...): the rest of the screen still is. */
		if (!read) {
			LOG_WARNING("%s: screenshot without a plane's buffer at %d,%d: %s",
				    output_.name().c_str(), layer.destination.x, layer.destination.y,
				    read.error().message().c_str());
			continue;
		}
		const Rect on = intersect(layer.destination,
					  Rect{ 0, 0, int32_t(shot.width), int32_t(shot.height) });
		for (int32_t y = on.y; y < on.bottom(); y++) {
			const uint32_t *src = &read->pixels[size_t(y - layer.destination.y) * read->width +
							    size_t(on.x - layer.destination.x)];
			uint32_t *dst = &shot.pixels[size_t(y) * shot.width + size_t(on.x)];
			for (int32_t x = 0; x < on.width; x++)
				dst[x] = blendPremultiplied(src[x], dst[x]);
		}
	}
	return shot;
}

} /* namespace comp */
