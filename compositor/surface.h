/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <wayland-server-core.h>

#include "buffer.h"
#include "pixel_region.h"
#include "render/renderer.h"
#include "scene/surface_texture.h"
#include "wayland_util.h"

namespace comp {

struct ClientAccount;
class OutputGlobal;
class ScanoutHint;
class Server;
class Subsurface;
class Surface;
class Viewport;

/*
 * A wl_region: pixels added and subtracted, kept merged into disjoint
 * rectangles, so that repeating a request costs nothing and copies with
 * each surface state stay as small as the shape.
 */
class Region
{
public:
	void add(const Rect &rect) { pixels_.add(rect); }
	void subtract(const Rect &rect) { pixels_.subtract(rect); }
	void clear() { pixels_.clear(); }
	bool empty() const { return pixels_.empty(); }
	size_t numRects() const { return pixels_.numRects(); }
	bool contains(double x, double y) const;
	/* Whether every pixel of rect is in the region. */
	bool covers(const Rect &rect) const { return pixels_.contains(rect); }
	const PixelRegion &pixels() const { return pixels_; }
	bool operator==(const Region &other) const { return pixels_ == other.pixels_; }

private:
	PixelRegion pixels_;
};

/* wp_viewport's state: a source crop and a destination size. */
struct ViewportState {
	bool hasSource = false;
	double srcX = 0, srcY = 0, srcWidth = 0, srcHeight = 0;
	bool hasDestination = false;
	int32_t dstWidth = 0, dstHeight = 0;

	bool operator==(const ViewportState &) const = default;
};

/*
 * A role's double-buffered requests (xdg window geometry, an acked
 * configure), taken by the commit that follows them and applied with
 * it: a commit that waits, or is cached, keeps its own.
 */
class RoleState
{
public:
	virtual ~RoleState() = default;
	/* later's requests over this one's, as a later commit overrides. */
	virtual void merge(RoleState &later) = 0;
};

struct LatchedChild;

/* wl_subsurface.set_position: the parent's state, applied with its commit. */
struct SubsurfacePosition {
	Subsurface *subsurface;
	int32_t x, y;
};

/*
 * Double-buffered wl_surface state: what a commit applies at once. The
 * pending state collects requests; a synchronized subsurface's commit
 * moves it into a cache applied with its parent.
 */
struct SurfaceState {
	enum Field : uint32_t {
		FieldBuffer = 1u << 0,
		FieldDamage = 1u << 1,
		FieldOpaque = 1u << 2,
		FieldInput = 1u << 3,
		FieldScale = 1u << 4,
		FieldTransform = 1u << 5,
		FieldOffset = 1u << 6,
		FieldViewport = 1u << 7,
		FieldFrameCallbacks = 1u << 8,
		FieldFeedback = 1u << 9,
		FieldSubsurfaceOrder = 1u << 10,
	};

	uint32_t fields = 0;
	std::shared_ptr<ClientBuffer> buffer;	/* null with FieldBuffer: detach */
	/*
	 * A committed state's buffer (cached or queued), held until applied:
	 * one replaced before that is released to the client at once.
	 */
	ClientBuffer::Lock held;
	int32_t dx = 0, dy = 0;
	std::vector<Rect> surfaceDamage;
	std::vector<Rect> bufferDamage;
	Region opaque;
	Region input;
	bool inputInfinite = true;
	int32_t scale = 1;
	int32_t transform = 0;
	ViewportState viewport;
	ResourceList frameCallbacks;
	ResourceList feedbacks;	/* wp_presentation_feedback */
	/* With FieldSubsurfaceOrder: the children back to front, null for this surface. */
	std::vector<Subsurface *> order;
	std::vector<SubsurfacePosition> positions;
	/* Synchronized children's cached commits: they apply with this one. */
	std::vector<std::unique_ptr<LatchedChild>> children;
	std::unique_ptr<RoleState> role;
	/* Surface::roleGeneration_ when committed: which role object it was for. */
	uint64_t roleGeneration = 0;

	/* Moves what src set into this committed state, as a later commit overrides. */
	void merge(SurfaceState &src);
	void reset();
	/* A child gone: nothing of this state names it any more, however deep. */
	void forget(const Subsurface *subsurface);
};

struct LatchedChild {
	explicit LatchedChild(Subsurface *sub) : subsurface(sub) {}

	Subsurface *subsurface;
	SurfaceState state;
};

/*
 * Adds rect to a surface state's damage list, which stays short: past a
 * few dozen rects it becomes their bounding box.
 */
void addDamage(std::vector<Rect> &damage, const Rect &rect);

/*
 * What a surface is for: xdg toplevel or popup, subsurface, cursor, drag
 * icon. A surface gets one role for life; the role object may come and go.
 */
class SurfaceRole
{
public:
	virtual ~SurfaceRole() = default;
	virtual const char *roleName() const = 0;
	/*
	 * Checks a commit before it applies; returns false after posting a
	 * protocol error.
	 */
	virtual bool precommit(Surface &, const SurfaceState &) { return true; }
	/* At the commit: the role's requests since the last one, or null. */
	virtual std::unique_ptr<RoleState> latch() { return nullptr; }
	/* After the state applied, with what latch() took for it: null if nothing, or another role object's. */
	virtual void committed(Surface &, RoleState *) {}
	/*
	 * Whether committed() sees only commits made for this role object.
	 * xdg-shell's first commit starts the configure sequence: a commit
	 * made before, or for a role object since destroyed, that applies
	 * late must not stand in for it.
	 */
	virtual bool onlyItsOwnCommits() const { return false; }
	/* Synchronized subsurfaces cache their commits. */
	virtual bool isSynchronized() const { return false; }
};

/*
 * A wl_surface and its content: the buffer's texture, the size in
 * surface coordinates, the subsurface stack, frame callbacks and
 * presentation feedback waiting for the next frame.
 */
class Surface
{
public:
	static Surface *create(Server &server, wl_client *client, uint32_t version, uint32_t id);
	~Surface();

	static Surface *fromResource(wl_resource *resource);

	Server &server() const { return server_; }
	wl_resource *resource() const { return resource_; }
	/* Unique in the process, unlike the address: tells surfaces apart across frames. */
	uint64_t id() const { return id_; }
	wl_client *client() const { return wl_resource_get_client(resource_); }
	/* The client's accounting; shared so it outlives the client's record. */
	const std::shared_ptr<ClientAccount> &account() const { return account_; }

	/*
	 * Gives the surface a role, and a new role generation (see
	 * SurfaceRole::onlyItsOwnCommits()). Posts errorCode on errorResource
	 * and returns false when it has another role, or an active role object.
	 */
	bool setRole(SurfaceRole *role, const char *roleName, wl_resource *errorResource,
		     uint32_t errorCode);
	/* Whether setRole() with this name would succeed. */
	bool canTakeRole(const char *roleName) const;
	/* The role object goes; the role's name stays. */
	void clearRole(SurfaceRole *role);
	/*
	 * The role object went: a new role generation begins, and commits
	 * not yet applied, and what they latched, are no longer the role's
	 * (see SurfaceRole::onlyItsOwnCommits()).
	 */
	void roleObjectGone() { roleGeneration_++; }
	SurfaceRole *role() const { return role_; }
	const char *roleName() const { return roleName_; }

	const SurfaceState &current() const { return current_; }
	const SurfaceState &pending() const { return pending_; }
	/* Whether a buffer was attached or damaged since the last commit. */
	bool hasPendingBuffer() const { return pending_.fields & SurfaceState::FieldBuffer; }
	bool hasBuffer() const { return bool(buffer_); }
	/* Whether the last commit left a buffer, applied or still waiting for its writes. */
	bool hasCommittedBuffer() const;
	/* Ever had a buffer committed (xdg-shell's configure rules). */
	bool everCommittedBuffer() const { return everCommittedBuffer_; }

	/* Size in surface coordinates (after scale and viewport). */
	int32_t width() const { return width_; }
	int32_t height() const { return height_; }
	uint32_t bufferWidth() const { return bufferWidth_; }
	uint32_t bufferHeight() const { return bufferHeight_; }
	/* Changes with every commit that brings new pixels; unique across surfaces. */
	uint64_t contentGeneration() const { return contentGeneration_; }
	/*
	 * The renderer's texture of the buffer, imported or updated now if
	 * the content changed since, and the buffer pixels it holds; none if
	 * it cannot be read. shown: the buffer pixels drawn (see
	 * SurfaceTexture::update()).
	 */
	TexturePart updateTexture(const Rect *shown = nullptr);
	/* For tests: the texture as the last composed frame drew it, and wl_shm copies made. */
	TexturePart texture() const;
	uint64_t textureCopiesMade() const { return texture_.copiesMade(); }
	/* The buffer's part that is shown, in buffer pixels; empty: all of it. */
	SourceBox sourceBox() const;
	Transform bufferTransform() const { return static_cast<Transform>(current_.transform); }

	/*
	 * A rect of the surface as the buffer pixels it shows, and back, through
	 * the viewport, the buffer scale and the buffer transform; rounded out
	 * and clipped to the buffer or the surface.
	 */
	Rect surfaceToBuffer(const Rect &rect) const;
	Rect bufferToSurface(const Rect &rect) const;
	/* The committed client buffer (dma-bufs), for scanout and stats. */
	const ClientBuffer *buffer() const { return buffer_.get(); }
	const ClientBuffer::Lock &bufferLock() const { return buffer_; }

	/* Whether surface-local (x, y) is in the surface and its input region. */
	bool acceptsInput(double x, double y) const;

	/*
	 * Calls f(surface, x, y) for the surface and its mapped subsurfaces,
	 * back to front, with positions relative to this surface.
	 */
	template<typename F>
	void forEachSurface(F &&f, int32_t x = 0, int32_t y = 0);
	/* The topmost surface of the tree at (x, y), and the local position. */
	Surface *surfaceAt(double x, double y, double *localX, double *localY);

	/* Frame callbacks and feedback that the next frame on screen completes. */
	void takeFrameCallbacks(ResourceList &into) { into.take(current_.frameCallbacks); }
	void takeFeedbacks(ResourceList &into) { into.take(current_.feedbacks); }

	/* Subsurface stack: nullptr stands for this surface itself. */
	const std::vector<Subsurface *> &subsurfaces() const { return order_; }
	/* For place_above/below: the order the next commit takes. */
	std::vector<Subsurface *> &pendingSubsurfaces()
	{
		orderChanged_ = true;
		return pendingOrder_;
	}
	void addSubsurface(Subsurface *subsurface);
	void removeSubsurface(Subsurface *subsurface);
	Subsurface *asSubsurface() const;

	/* True while the destroy signal runs: send no events naming it. */
	bool isDestroying() const { return destroying_; }
	/* Emitted (with this surface) before the surface goes. */
	wl_signal *destroySignal() { return &destroySignal_; }
	/* Emitted after each applied commit. */
	wl_signal *commitSignal() { return &commitSignal_; }

	/*
	 * wl_surface.enter/leave: the outputs showing the surface. Return
	 * whether anything changed.
	 */
	bool enterOutput(OutputGlobal *output);
	bool leaveOutput(OutputGlobal *output);
	bool isOnAnyOutput() const { return !outputs_.empty(); }
	/* The client bound output again (resource): it hears of the surface there too. */
	void outputBound(OutputGlobal *output, wl_resource *resource);

	Viewport *viewport() const { return viewport_; }
	void setViewport(Viewport *viewport) { viewport_ = viewport; }

	/* The one scanout hint every feedback for this surface follows, while one does. */
	std::weak_ptr<ScanoutHint> &scanoutHint() { return scanoutHint_; }

	/* The protocol requests. */
	void attach(wl_resource *buffer, int32_t dx, int32_t dy);
	void damage(const Rect &rect, bool bufferCoordinates);
	void frame(uint32_t callback);
	void setOpaqueRegion(const Region *region);
	void setInputRegion(const Region *region);
	void setBufferScale(int32_t scale);
	void setBufferTransform(int32_t transform);
	void offset(int32_t dx, int32_t dy);
	void commit();
	SurfaceState &pendingState() { return pending_; }

	/* Applies a subsurface's cached state: it was made desynchronized. */
	void applyCached();
	bool hasCached() const { return hasCached_; }

private:
	Surface(Server &server, wl_resource *resource);

	/* Buffer size against scale, and the viewport; posts the error. */
	bool validateSize(const SurfaceState &state);
	void apply(SurfaceState &state);
	/* Applies state now, or queues it behind commits still waiting or its own writes. */
	void applyOrQueue(SurfaceState &state);
	/* A child gone from this tree: no state here or above names it. */
	void forgetSubsurface(const Subsurface *subsurface);
	/* Takes the role's and the children's requests into a commit's state. */
	void latch(SurfaceState &state);
	/* See queued_. */
	bufmgr::UniqueFd pendingWrites(const SurfaceState &state) const;
	void queue(SurfaceState &state);
	bool waitForWrites(bufmgr::UniqueFd fence);
	void applyQueued();
	static int onWritesDone(int fd, uint32_t mask, void *data);
	void applyBuffer(SurfaceState &state);
	std::vector<Rect> bufferDamage(const SurfaceState &state) const;
	void updateSize();
	/* What decides where each buffer pixel shows on the surface. */
	struct Geometry {
		int32_t width, height, scale, transform;
		ViewportState viewport;
		bool hasBuffer;

		bool operator==(const Geometry &) const = default;
	};
	Geometry geometry() const;
	/* What a commit changed, in surface pixels, for the outputs' damage. */
	PixelRegion contentDamage(const SurfaceState &state, const Geometry &before) const;
	/*
	 * What the surface shows of the transformed, scaled buffer, in its
	 * units: the viewport's source, or all of it.
	 */
	SourceBox crop() const;

	Server &server_;
	wl_resource *resource_;
	const uint64_t id_;
	uint64_t contentGeneration_ = 0;
	std::shared_ptr<ClientAccount> account_;
	SurfaceRole *role_ = nullptr;
	const char *roleName_ = nullptr;
	/* Moves on whenever a role object comes or goes. */
	uint64_t roleGeneration_ = 0;

	SurfaceState pending_;
	SurfaceState cached_;
	bool hasCached_ = false;
	SurfaceState current_;
	/*
	 * Commits whose buffer a device is still writing (a GPU's implicit
	 * fences in the dma-buf) wait here until it is done, and commits
	 * after them wait behind: heapcomp neither blocks on a client's GPU
	 * work nor shows a half-drawn buffer. At most two: the one waiting
	 * and one that later commits merge into, as a synchronized
	 * subsurface's do. Only where the renderer reads client dma-bufs
	 * with the CPU, which would block on the fence: a GPU waits for it
	 * itself. Each commit carries its role state (xdg geometry, configure
	 * acks, its children's positions and order). A synchronized
	 * subsurface's cache applies once its parent's state has and its own
	 * writes are done.
	 */
	std::deque<SurfaceState> queued_;
	EventSource writesDone_;	/* the wait of queued_'s head */

	/* The content: held until a commit replaces it; imported lazily. */
	ClientBuffer::Lock buffer_;
	SurfaceTexture texture_;
	uint32_t bufferWidth_ = 0;
	uint32_t bufferHeight_ = 0;
	int32_t width_ = 0;
	int32_t height_ = 0;
	bool everCommittedBuffer_ = false;

	std::vector<Subsurface *> order_{ nullptr };
	std::vector<Subsurface *> pendingOrder_{ nullptr };
	bool orderChanged_ = false;
	Viewport *viewport_ = nullptr;
	std::weak_ptr<ScanoutHint> scanoutHint_;
	std::vector<OutputGlobal *> outputs_;

	wl_signal destroySignal_;
	wl_signal commitSignal_;
	bool destroying_ = false;
};

/*
 * A wl_subsurface: its surface drawn at a position relative to its parent,
 * in the parent's stack. Inert once the parent or the surface is gone.
 */
class Subsurface : public SurfaceRole
{
public:
	Subsurface(Surface *surface, Surface *parent, wl_resource *resource);
	~Subsurface() override;

	const char *roleName() const override { return "wl_subsurface"; }
	bool isSynchronized() const override;

	Surface *surface() const { return surface_; }
	Surface *parent() const { return parent_; }
	wl_resource *resource() const { return resource_; }
	int32_t x() const { return x_; }
	int32_t y() const { return y_; }
	bool isMapped() const;

	void setPosition(int32_t x, int32_t y);
	/* The position set since the parent's last commit, taken by that commit. */
	std::optional<SubsurfacePosition> takePosition();
	void moveTo(int32_t x, int32_t y);
	void placeAbove(Surface *sibling, bool above);
	void setSync(bool sync);

private:
	void detachParent();

	Surface *surface_;
	Surface *parent_;
	wl_resource *resource_;
	int32_t x_ = 0, y_ = 0;
	int32_t pendingX_ = 0, pendingY_ = 0;
	bool positionPending_ = false;
	bool sync_ = true;
	Listener surfaceDestroy_;
	Listener parentDestroy_;
};

template<typename F>
void Surface::forEachSurface(F &&f, int32_t x, int32_t y)
{
	for (Subsurface *sub : order_) {
		if (!sub) {
			f(this, x, y);
			continue;
		}
		if (sub->isMapped())
			sub->surface()->forEachSurface(f, clampInt32(int64_t(x) + sub->x()),
						       clampInt32(int64_t(y) + sub->y()));
	}
}

} /* namespace comp */
