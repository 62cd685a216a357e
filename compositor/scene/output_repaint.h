/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

#include <bufmgr/result.h>

#include "backend/backend.h"
#include "buffer.h"
#include "output_damage.h"
#include "render/renderer.h"
#include "scene/frame_timeline.h"
#include "scene/overlay_layer.h"
#include "scene/scene.h"
#include "scene/screenshot.h"
#include "wayland_util.h"

namespace comp {

class OutputGlobal;
class Server;

/* What repainting cost on one output, for tests and statistics. */
struct RepaintStats {
	uint64_t rendered = 0;	/* frames composed */
	uint64_t scannedOut = 0;	/* frames that were a client buffer as it is */
	/* Frames with client buffers on overlay planes, composed below or not. */
	uint64_t planeFrames = 0;
	/* Of them, those that changed only the overlay planes' buffers: nothing composed. */
	uint64_t planesUpdated = 0;
	uint64_t skipped = 0;	/* refreshes with nothing damaged: nothing drawn */
	uint64_t pixels = 0;	/* output pixels drawn, all frames */
	uint64_t rects = 0;	/* scissor rects drawn, all frames */
	/* The last frame composed. */
	int lastBufferAge = 0;
	uint64_t lastPixels = 0;
	std::vector<Rect> lastRects;
};

/* Where one surface's buffer went in the last frame built, and why not on a plane. */
struct SurfacePlace {
	enum class Where { Composed, Primary, Overlay };
	uint64_t surface = 0;	/* Surface::id() */
	Rect destination;	/* output pixels */
	Where where = Where::Composed;
	std::string reason;	/* why it was composed ("" when it was not) */
};

/*
 * One output's frames: each repaint turns the scene into an output
 * state — the topmost client buffer as it is, when it alone fills the
 * output and the backend's test() accepts it; or else a frame the
 * renderer composes where the output's damage says, with client
 * buffers the backend takes on overlay planes above it — commits it,
 * and completes the frame callbacks and presentation feedback once the
 * frame is presented.
 */
class OutputRepaint
{
public:
	/* global: output's wl_output, which Globals owns and keeps until this goes. */
	OutputRepaint(Server &server, Output &output, OutputGlobal &global);
	~OutputRepaint();
	OutputRepaint(const OutputRepaint &) = delete;
	OutputRepaint &operator=(const OutputRepaint &) = delete;

	Output &output() const { return output_; }
	OutputGlobal *global() const { return &global_; }
	/* Frames presented, drawn or not (stats() tells). */
	uint64_t frames() const { return frames_; }
	const RepaintStats &stats() const { return stats_; }

	/* Whether the next refresh must build a frame (not before a failed one's retry). */
	bool repaintNeeded() const { return repaintNeeded_ && !retryPending_; }
	void setRepaintNeeded();

	/* The last frames presented, how each was made and what it cost. */
	const FrameTimeline &timeline() const { return timeline_; }
	/* Where each surface of the last frame built went, top to bottom. */
	const std::vector<SurfacePlace> &places() const { return places_; }

	/*
	 * The overlay (Server::overlayFor()) appeared, went or changed its
	 * pixels: where it was and where it is are drawn again.
	 */
	void overlayChanged();
	/* Whether the overlay is on a plane of its own, not composed. */
	bool overlayOnPlane() const { return overlayOnPlane_; }
	/* Whether the cursor is on the output's cursor plane, not composed; if not, why. */
	bool cursorOnPlane() const { return cursorOnPlane_; }
	std::string cursorRefusal() const;

	/*
	 * A commit changed region (output pixels) of surface: the damage of
	 * its element in the next frame's scene.
	 */
	void surfaceDamaged(uint64_t surface, const PixelRegion &region);
	void damageWhole() { damage_.addWhole(); }
	/* The output took another size: everything is drawn again, into new buffers. */
	void resized();

	/* Shows scene from the next refresh on, scanned out or composed. */
	Result<void> repaint(OutputScene scene);
	/* The backend's report: the last committed frame is on screen. */
	void presented(const PresentInfo &info);
	/* What is on screen now; null front: nothing was ever shown. */
	Result<Screenshot> screenshot() const;

	/* Drops what frames hold (locks, callbacks): the clients are going. */
	void clearFrames();
	/*
	 * The frame committed and not presented will not be: its callbacks
	 * complete and its feedback says "discarded" (a refused commit, an
	 * output whose display went).
	 */
	void discardRendered();

	/* Frames in a row that could not be shown (drawing or commit failed); 0: the last was. */
	uint64_t failedFrames() const { return failedFrames_; }

private:
	/* What one frame on screen holds until the next frame replaces it. */
	struct FrameState {
		std::vector<ClientBuffer::Lock> locks;
		ResourceList callbacks;
		ResourceList feedbacks;
		/* The scanned-out surface's: presented with ZERO_COPY. */
		ResourceList zeroCopyFeedbacks;
	};

	/* zeroCopy: the surfaces whose buffers the frame shows as they are. */
	std::unique_ptr<FrameState> takeFrameState(const OutputScene &scene,
						   std::span<const uint64_t> zeroCopy);
	Result<void> repaintScene(const OutputScene &scene);
	/* Gives each element the damage its surface's commits left since the last frame. */
	void takeSurfaceDamage(OutputScene &scene);
	/*
	 * The damage of the elements the frame draws (composed, or scanned
	 * out) becomes the output's, less what opaque elements above them
	 * hide. A buffer on a plane damages no composed frame: its plane
	 * shows the new buffer, and leaving the plane damages all it
	 * covered (planesChange()).
	 */
	void addElementDamage(const OutputScene &drawn);
	/* A client buffer on an overlay plane, as committed. */
	struct LayerShown {
		uint64_t surface = 0;
		const ClientBuffer *buffer = nullptr;
		Rect destination;
		/* Hides what is below it; else the plane blends it over the composed frame. */
		bool opaque = true;
		bool operator==(const LayerShown &) const = default;
	};
	/*
	 * Which client buffers go on overlay planes (layers, bottom to top):
	 * from the top down, each one the backend takes with those above it,
	 * unless composed content lies over it. The rest is left in composed.
	 * candidates: the surfaces whose buffers went on a plane, or could
	 * have in another format or memory (Output::planeCandidates()).
	 */
	void assignPlanes(const OutputScene &scene, std::vector<PlaneLayer> &layers,
			  std::vector<LayerShown> &shown, OutputScene &composed,
			  std::vector<uint64_t> &candidates);
	/*
	 * The element that could go on the primary plane with every one
	 * above it on an overlay plane, nothing composed: the topmost that
	 * covers the output, with no more above it than there are planes,
	 * each fit for one. scene.elements.size() if there is none.
	 */
	size_t planesOnlyBase(const OutputScene &scene) const;
	/*
	 * Planes only: scene.elements[at] (at from planesOnlyBase(), in
	 * range) on the primary plane and the ones above on overlay planes,
	 * if the backend takes them all. Then it fills layers, shown and
	 * candidates as assignPlanes() does, and sets places_; else false,
	 * with why in refusal.
	 */
	bool assignPlanesOnly(const OutputScene &scene, size_t at,
			      std::vector<PlaneLayer> &layers, std::vector<LayerShown> &shown,
			      std::vector<uint64_t> &candidates, std::string &refusal);
	/* places_ with scene.elements[base] on the primary plane and those above on overlay planes. */
	void placeOverScanout(const OutputScene &scene, size_t base);
	static LayerShown shownOf(const SceneElement &e);
	static std::vector<uint64_t> surfacesOf(const std::vector<LayerShown> &layers);
	/*
	 * Damage for the layers to show next: what leaves a plane is drawn
	 * again; what an opaque layer covers need not be (below a blended
	 * one it must).
	 */
	void planesChange(const std::vector<LayerShown> &next);
	/* Only the overlay planes' buffers change: committed with nothing composed. */
	Result<void> commitPlanes(const OutputScene &scene, std::vector<PlaneLayer> layers,
				  std::vector<LayerShown> shown);
	/* Puts the overlay on a plane of its own where the backend can, or takes it off. */
	void placeOverlay();
	/* What could be shown as it is: the scene's candidate, unless the overlay covers it. */
	const SceneElement *scanoutCandidate(const OutputScene &scene) const;
	/* The transforms the primary plane undoes: a bit per Transform value (Normal always). */
	uint8_t primaryTransforms() const;
	/* Whether the backend takes the scanout candidate's buffer on the primary plane. */
	bool primaryTakes(const SceneElement &candidate);
	/* candidate on the primary plane, layers (shown) above it on overlay planes. */
	Result<void> scanOut(const OutputScene &scene, const SceneElement &candidate,
			     std::vector<PlaneLayer> layers = {}, std::vector<LayerShown> shown = {});
	/* Composes drawn (scene less what is on planes), with layers above it. */
	Result<void> compose(const OutputScene &scene, const OutputScene &drawn,
			     std::vector<PlaneLayer> layers, std::vector<LayerShown> shown);
	/*
	 * The frame taken for the screen did not reach it: its clients get
	 * their frame callbacks and "discarded" feedback, so none waits for
	 * a refresh that will not come, and the whole output is tried again
	 * one refresh period later.
	 */
	void frameNotShown();
	void frameShown();
	static int onRetry(void *data);
	/*
	 * One renderer pass over damage: the background, then the scene back
	 * to front, leaving out what opaque elements hide; a translucent
	 * overlay last. An opaque overlay gets a pass of its own over
	 * overlayDamage, so nothing it hides is drawn.
	 */
	Result<PassCompletion> drawFrame(const OutputScene &scene, const bufmgr::Buffer &target,
					 std::span<const Rect> damage,
					 std::span<const Rect> overlayDamage);
	/* The scene's pass of drawFrame(), with overlay (translucent) last if not null. */
	Result<PassCompletion> drawScene(const OutputScene &scene, const bufmgr::Buffer &target,
					 std::span<const Rect> damage, const OverlayLayer *overlay);
	/* Which overlay image an output buffer holds, and where. */
	struct OverlayDrawn {
		uint64_t generation = 0;
		Rect rect;
		bool operator==(const OverlayDrawn &) const = default;
	};
	/*
	 * The overlay's part of a frame about to be composed into frame. An
	 * opaque one is cut out of region (nothing below it shows) and goes
	 * to overlayRegion: all of its rect when the buffer does not hold it
	 * yet. A translucent one adds its rect to region. The overlay drawn,
	 * if any.
	 */
	OverlayDrawn clipToOverlay(const OutputFrame &frame, PixelRegion &region,
				   PixelRegion &overlayRegion);
	/*
	 * The cursor on the output's cursor plane where it takes it: then
	 * its element leaves the scene the damage follows and the renderer
	 * composes, and moving it draws nothing.
	 */
	void placeCursor(OutputScene &scene);
	/* The overlay into pass at its place. */
	void addOverlay(RenderPass &pass, const OverlayLayer &overlay);
	/* The overlay's texture, made or updated from its current image. */
	const Texture *overlayTexture(const OverlayLayer &overlay);

	Server &server_;
	Output &output_;
	OutputGlobal &global_;
	/* This frame answers the requests so far: the next ones are the next frame's. */
	void repaintTaken();

	bool repaintNeeded_ = false;
	/* When the first repaint since the last frame was asked for; 0: none. */
	uint64_t requestedNs_ = 0;
	uint64_t frames_ = 0;
	uint64_t failedFrames_ = 0;
	/* A frame could not be shown: the next waits for retryTimer_. */
	bool retryPending_ = false;
	EventSource retryTimer_;
	std::unique_ptr<FrameState> rendered_;	/* committed, not yet presented */
	std::unique_ptr<FrameState> displayed_;
	/* Surface::id() of the surface whose buffer is on screen; 0: composed. */
	uint64_t scannedOut_ = 0;
	/*
	 * The last primary commit went through, so the primary shows what
	 * scannedOut_ says: the next frame can name what it changes of it.
	 * Any repaint that takes the surfaces' damage and does not commit
	 * the primary clears it.
	 */
	bool primaryKnown_ = false;
	/* Client buffers on overlay planes now, bottom to top. */
	std::vector<LayerShown> layersShown_;
	std::vector<SurfacePlace> places_;
	OutputDamage damage_;
	/* Surface::id() to what its commits damaged since the last frame. */
	std::unordered_map<uint64_t, PixelRegion> surfaceDamage_;
	/* Surfaces drawScene() had no texture for: they hide nothing. */
	std::set<uint64_t> untextured_;
	/* Where such a surface was found, to draw again in the next frame. */
	std::vector<Rect> uncovered_;
	RepaintStats stats_;

	FrameTimeline timeline_;
	/* The frame committed and not yet presented: its kind and cost. */
	FrameRecord pending_;
	uint64_t lastPresentedNs_ = 0;

	std::unique_ptr<Texture> overlayTexture_;
	uint64_t overlayGeneration_ = 0;
	bool overlayOnPlane_ = false;
	bool cursorOnPlane_ = false;
	/* Why the cursor could not go to the plane as it is ("" if it could). */
	const char *cursorUnfit_ = "";
	bool cursorShown_ = false;
	/*
	 * Where the last composed frame shows the overlay, drawn by it or held
	 * from an earlier one; empty: nowhere. Hiding or moving it damages there.
	 */
	Rect overlayDrawn_;
	/* Output buffers that hold the overlay, by the buffer (OutputFrame::target). */
	std::map<const bufmgr::Buffer *, OverlayDrawn> overlayInBuffers_;
};

} /* namespace comp */
