/* SPDX-License-Identifier: MIT */
#include "surface.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <utility>

#include <pixman.h>
#include <wayland-server-core.h>
#include <wayland-server-protocol.h>
#include <viewporter-server-protocol.h>

#include "client.h"
#include "log.h"
#include "protocols/compositor.h"
#include "protocols/heap_hints.h"
#include "protocols/output.h"
#include "protocols/presentation.h"
#include "protocols/shm.h"
#include "protocols/viewporter.h"
#include "render/transform.h"
#include "server.h"

namespace comp {

namespace {

std::atomic<uint64_t> nextSurfaceId{ 1 };
std::atomic<uint64_t> nextContentGeneration{ 0 };

/* The whole pixels a box touches. */
Rect roundOut(const SourceBox &box)
{
	auto clamp = [](double v) {
		return std::clamp(v, double(INT32_MIN / 2), double(INT32_MAX / 2));
	};
	const double x0 = clamp(std::floor(box.x)), y0 = clamp(std::floor(box.y));
	const double x1 = clamp(std::ceil(box.x + box.width));
	const double y1 = clamp(std::ceil(box.y + box.height));
	return { int32_t(x0), int32_t(y0), int32_t(x1 - x0), int32_t(y1 - y0) };
}

const Region *regionFrom(wl_resource *resource)
{
	return resource ? regionOfResource(resource) : nullptr;
}

void surfaceAttach(wl_client *, wl_resource *resource, wl_resource *buffer, int32_t x, int32_t y)
{
	Surface *surface = Surface::fromResource(resource);
	if (wl_resource_get_version(resource) >= WL_SURFACE_OFFSET_SINCE_VERSION && (x || y)) {
		wl_resource_post_error(resource, WL_SURFACE_ERROR_INVALID_OFFSET,
				       "attach offset must be 0 since version 5, use offset");
		return;
	}
	surface->attach(buffer, x, y);
}

void surfaceDamage(wl_client *, wl_resource *resource, int32_t x, int32_t y,
		   int32_t width, int32_t height)
{
	Surface::fromResource(resource)->damage({ x, y, width, height }, false);
}

void surfaceDamageBuffer(wl_client *, wl_resource *resource, int32_t x, int32_t y,
			 int32_t width, int32_t height)
{
	Surface::fromResource(resource)->damage({ x, y, width, height }, true);
}

void surfaceFrame(wl_client *, wl_resource *resource, uint32_t callback)
{
	Surface::fromResource(resource)->frame(callback);
}

void surfaceSetOpaqueRegion(wl_client *, wl_resource *resource, wl_resource *region)
{
	Surface::fromResource(resource)->setOpaqueRegion(regionFrom(region));
}

void surfaceSetInputRegion(wl_client *, wl_resource *resource, wl_resource *region)
{
	Surface::fromResource(resource)->setInputRegion(regionFrom(region));
}

void surfaceCommit(wl_client *, wl_resource *resource)
{
	Surface::fromResource(resource)->commit();
}

void surfaceSetBufferTransform(wl_client *, wl_resource *resource, int32_t transform)
{
	if (transform < WL_OUTPUT_TRANSFORM_NORMAL || transform > WL_OUTPUT_TRANSFORM_FLIPPED_270) {
		wl_resource_post_error(resource, WL_SURFACE_ERROR_INVALID_TRANSFORM,
				       "buffer transform %d is not a wl_output.transform", transform);
		return;
	}
	Surface::fromResource(resource)->setBufferTransform(transform);
}

void surfaceSetBufferScale(wl_client *, wl_resource *resource, int32_t scale)
{
	if (scale < 1) {
		wl_resource_post_error(resource, WL_SURFACE_ERROR_INVALID_SCALE,
				       "buffer scale %d is not positive", scale);
		return;
	}
	Surface::fromResource(resource)->setBufferScale(scale);
}

void surfaceOffset(wl_client *, wl_resource *resource, int32_t x, int32_t y)
{
	Surface::fromResource(resource)->offset(x, y);
}

const struct wl_surface_interface surfaceImpl = {
	.destroy = destroyResource,
	.attach = surfaceAttach,
	.damage = surfaceDamage,
	.frame = surfaceFrame,
	.set_opaque_region = surfaceSetOpaqueRegion,
	.set_input_region = surfaceSetInputRegion,
	.commit = surfaceCommit,
	.set_buffer_transform = surfaceSetBufferTransform,
	.set_buffer_scale = surfaceSetBufferScale,
	.damage_buffer = surfaceDamageBuffer,
	.offset = surfaceOffset,
};

} /* namespace */

bool Region::contains(double x, double y) const
{
	const double fx = std::floor(x), fy = std::floor(y);
	if (!(fx >= INT32_MIN && fx <= INT32_MAX && fy >= INT32_MIN && fy <= INT32_MAX))
		return false;
	return pixels_.contains({ int32_t(fx), int32_t(fy), 1, 1 });
}


void addDamage(std::vector<Rect> &damage, const Rect &rect)
{
	/* Past this, one box: as many rects as a client sends cost nothing more. */
	constexpr size_t kMaxDamageRects = 64;
	if (damage.size() < kMaxDamageRects) {
		damage.push_back(rect);
		return;
	}
	Rect box = rect;
	for (const Rect &r : damage)
		box = boundingBox(box, r);
	damage.assign(1, box);
}

void SurfaceState::merge(SurfaceState &src)
{
	if (src.fields & FieldBuffer) {
		buffer = std::move(src.buffer);
		/* The buffer this replaces, never shown, goes back to the client. */
		held = buffer ? ClientBuffer::Lock(buffer) : ClientBuffer::Lock();
		src.held.reset();
		/* Damage of a replaced buffer no longer applies to anything. */
	}
	if (src.fields & FieldOffset) {
		dx = clampInt32(int64_t(dx) + src.dx);
		dy = clampInt32(int64_t(dy) + src.dy);
	}
	for (const Rect &r : src.surfaceDamage)
		addDamage(surfaceDamage, r);
	for (const Rect &r : src.bufferDamage)
		addDamage(bufferDamage, r);
	if (src.fields & FieldOpaque)
		opaque = src.opaque;
	if (src.fields & FieldInput) {
		input = src.input;
		inputInfinite = src.inputInfinite;
	}
	if (src.fields & FieldScale)
		scale = src.scale;
	if (src.fields & FieldTransform)
		transform = src.transform;
	if (src.fields & FieldViewport)
		viewport = src.viewport;
	/* The cached content is replaced before any frame showed it. */
	Presentation::discard(feedbacks);
	frameCallbacks.take(src.frameCallbacks);
	feedbacks.take(src.feedbacks);
	if (src.fields & FieldSubsurfaceOrder)
		order = std::move(src.order);
	for (const SubsurfacePosition &later : src.positions) {
		auto same = std::find_if(positions.begin(), positions.end(), [&](const auto &p) {
			return p.subsurface == later.subsurface;
		});
		if (same != positions.end())
			*same = later;
		else
			positions.push_back(later);
	}
	for (std::unique_ptr<LatchedChild> &later : src.children) {
		auto same = std::find_if(children.begin(), children.end(), [&](const auto &c) {
			return c->subsurface == later->subsurface;
		});
		if (same != children.end())
			(*same)->state.merge(later->state);
		else
			children.push_back(std::move(later));
	}
	/* The merged commit is the later one's role object's: an earlier one's state goes. */
	if (src.roleGeneration != roleGeneration)
		role.reset();
	roleGeneration = src.roleGeneration;
	if (src.role && role)
		role->merge(*src.role);
	else if (src.role)
		role = std::move(src.role);
	fields |= src.fields;
	src.reset();
}

void SurfaceState::reset()
{
	fields = 0;
	buffer.reset();
	held.reset();
	dx = dy = 0;
	surfaceDamage.clear();
	bufferDamage.clear();
	order.clear();
	positions.clear();
	children.clear();
	role.reset();
	roleGeneration = 0;
}

void SurfaceState::forget(const Subsurface *subsurface)
{
	std::erase(order, subsurface);
	std::erase_if(positions, [&](const auto &p) { return p.subsurface == subsurface; });
	std::erase_if(children, [&](const auto &c) { return c->subsurface == subsurface; });
	for (std::unique_ptr<LatchedChild> &child : children)
		child->state.forget(subsurface);
}

Surface *Surface::create(Server &server, wl_client *client, uint32_t version, uint32_t id)
{
	wl_resource *resource = wl_resource_create(client, &wl_surface_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return nullptr;
	}
	auto *surface = new Surface(server, resource);
	bindToResource(resource, &surfaceImpl, surface);
	return surface;
}

Surface::Surface(Server &server, wl_resource *resource)
	: server_(server), resource_(resource), id_(nextSurfaceId++),
	  texture_(server.textureStats())
{
	wl_signal_init(&destroySignal_);
	wl_signal_init(&commitSignal_);
	if (ClientState *client = server.clientState(wl_resource_get_client(resource))) {
		account_ = client->sharedAccount();
		account_->surfaces++;
	}
}

Surface::~Surface()
{
	destroying_ = true;
	emitFinalSignal(&destroySignal_, this);
	Presentation::discard(pending_.feedbacks);
	Presentation::discard(cached_.feedbacks);
	for (SurfaceState &queued : queued_)
		Presentation::discard(queued.feedbacks);
	Presentation::discard(current_.feedbacks);
	/* Textures before the buffers they may read. */
	texture_.clear();
	buffer_.reset();
	if (account_)
		account_->surfaces--;
	server_.surfaceDestroyed(this);
	server_.scheduleRepaint();
}

bool Surface::enterOutput(OutputGlobal *output)
{
	if (std::find(outputs_.begin(), outputs_.end(), output) != outputs_.end())
		return false;
	outputs_.push_back(output);
	output->forEachResource(client(), [this](wl_resource *o) {
		wl_surface_send_enter(resource_, o);
	});
	return true;
}

bool Surface::leaveOutput(OutputGlobal *output)
{
	auto it = std::find(outputs_.begin(), outputs_.end(), output);
	if (it == outputs_.end())
		return false;
	outputs_.erase(it);
	output->forEachResource(client(), [this](wl_resource *o) {
		wl_surface_send_leave(resource_, o);
	});
	return true;
}

void Surface::outputBound(OutputGlobal *output, wl_resource *resource)
{
	if (wl_resource_get_client(resource) == client() &&
	    std::find(outputs_.begin(), outputs_.end(), output) != outputs_.end())
		wl_surface_send_enter(resource_, resource);
}

Surface *Surface::fromResource(wl_resource *resource)
{
	return static_cast<Surface *>(wl_resource_get_user_data(resource));
}

bool Surface::setRole(SurfaceRole *role, const char *roleName, wl_resource *errorResource,
		      uint32_t errorCode)
{
	if (!canTakeRole(roleName)) {
		wl_resource_post_error(errorResource, errorCode,
				       "wl_surface@%u already has role %s, cannot become %s",
				       wl_resource_get_id(resource_),
				       roleName_ ? roleName_ : "(none)", roleName);
		return false;
	}
	role_ = role;
	roleName_ = roleName;
	roleGeneration_++;
	return true;
}

bool Surface::canTakeRole(const char *roleName) const
{
	return !role_ && (!roleName_ || strcmp(roleName_, roleName) == 0);
}

void Surface::clearRole(SurfaceRole *role)
{
	if (role_ != role)
		return;
	role_ = nullptr;
	roleObjectGone();
}

bool Surface::hasCommittedBuffer() const
{
	for (auto state = queued_.rbegin(); state != queued_.rend(); ++state)
		if (state->fields & SurfaceState::FieldBuffer)
			return bool(state->buffer);
	return hasBuffer();
}

TexturePart Surface::texture() const
{
	return texture_.current(buffer_.get());
}

SourceBox Surface::crop() const
{
	/* The viewport's source is in the transformed buffer, in surface units. */
	const ViewportState &vp = current_.viewport;
	if (vp.hasSource)
		return { vp.srcX, vp.srcY, vp.srcWidth, vp.srcHeight };
	double w = double(bufferWidth_) / current_.scale;
	double h = double(bufferHeight_) / current_.scale;
	if (swapsAxes(bufferTransform()))
		std::swap(w, h);
	return { 0, 0, w, h };
}

SourceBox Surface::sourceBox() const
{
	if (!current_.viewport.hasSource)
		return {};
	const double scale = current_.scale;
	SourceBox box = crop();
	box = { box.x * scale, box.y * scale, box.width * scale, box.height * scale };
	double w = bufferWidth_, h = bufferHeight_;
	if (swapsAxes(bufferTransform()))
		std::swap(w, h);
	return toBuffer(bufferTransform(), w, h, box);
}

Rect Surface::surfaceToBuffer(const Rect &rect) const
{
	if (width_ <= 0 || height_ <= 0 || !bufferWidth_ || !bufferHeight_)
		return {};
	const SourceBox c = crop();
	const double scale = current_.scale;
	const double sx = c.width / width_ * scale, sy = c.height / height_ * scale;
	/* In buffer pixels, still transformed. */
	SourceBox box{ c.x * scale + rect.x * sx, c.y * scale + rect.y * sy,
		       rect.width * sx, rect.height * sy };
	double w = bufferWidth_, h = bufferHeight_;
	if (swapsAxes(bufferTransform()))
		std::swap(w, h);
	box = toBuffer(bufferTransform(), w, h, box);
	return intersect(roundOut(box), { 0, 0, int32_t(bufferWidth_), int32_t(bufferHeight_) });
}

Rect Surface::bufferToSurface(const Rect &rect) const
{
	if (width_ <= 0 || height_ <= 0 || !bufferWidth_ || !bufferHeight_)
		return {};
	Rect t = fromBuffer(bufferTransform(), int32_t(bufferWidth_), int32_t(bufferHeight_), rect);
	const SourceBox c = crop();
	const double scale = current_.scale;
	const double sx = width_ / c.width, sy = height_ / c.height;
	SourceBox box{ (t.x / scale - c.x) * sx, (t.y / scale - c.y) * sy,
		       t.width / scale * sx, t.height / scale * sy };
	return intersect(roundOut(box), { 0, 0, width_, height_ });
}

bool Surface::acceptsInput(double x, double y) const
{
	if (!hasBuffer() || x < 0 || y < 0 || x >= width_ || y >= height_)
		return false;
	return current_.inputInfinite || current_.input.contains(x, y);
}

Surface *Surface::surfaceAt(double x, double y, double *localX, double *localY)
{
	for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
		Subsurface *sub = *it;
		if (!sub) {
			if (acceptsInput(x, y)) {
				*localX = x;
				*localY = y;
				return this;
			}
			continue;
		}
		if (!sub->isMapped())
			continue;
		if (Surface *hit = sub->surface()->surfaceAt(x - sub->x(), y - sub->y(), localX, localY))
			return hit;
	}
	return nullptr;
}

void Surface::addSubsurface(Subsurface *subsurface)
{
	order_.push_back(subsurface);
	pendingOrder_.push_back(subsurface);
}

void Surface::removeSubsurface(Subsurface *subsurface)
{
	std::erase(order_, subsurface);
	std::erase(pendingOrder_, subsurface);
	forgetSubsurface(subsurface);
}

void Surface::forgetSubsurface(const Subsurface *subsurface)
{
	/* Commits not yet applied may still place it, here or latched into an ancestor's. */
	pending_.forget(subsurface);
	cached_.forget(subsurface);
	for (SurfaceState &state : queued_)
		state.forget(subsurface);
	if (Subsurface *self = asSubsurface(); self && self->parent())
		self->parent()->forgetSubsurface(subsurface);
}

Subsurface *Surface::asSubsurface() const
{
	return roleName_ && role_ && strcmp(roleName_, "wl_subsurface") == 0
		? static_cast<Subsurface *>(role_) : nullptr;
}

void Surface::attach(wl_resource *buffer, int32_t dx, int32_t dy)
{
	pending_.buffer.reset();
	if (buffer) {
		pending_.buffer = ClientBuffer::fromResource(buffer);
		if (!pending_.buffer) {
			/* Every wl_buffer is made by wl_shm or linux-dmabuf: a bug here. */
			wl_client_post_implementation_error(client(),
							    "wl_buffer@%u has no known backing",
							    wl_resource_get_id(buffer));
			return;
		}
	}
	pending_.fields |= SurfaceState::FieldBuffer;
	if (dx || dy) {
		pending_.dx = clampInt32(int64_t(pending_.dx) + dx);
		pending_.dy = clampInt32(int64_t(pending_.dy) + dy);
		pending_.fields |= SurfaceState::FieldOffset;
	}
}

void Surface::damage(const Rect &rect, bool bufferCoordinates)
{
	if (rect.width <= 0 || rect.height <= 0)
		return;
	addDamage(bufferCoordinates ? pending_.bufferDamage : pending_.surfaceDamage, rect);
	pending_.fields |= SurfaceState::FieldDamage;
}

void Surface::frame(uint32_t callback)
{
	/* Callbacks wait for a frame that shows the surface: a hidden one piles them up. */
	const uint32_t max = server_.config().limits.frameCallbacks;
	size_t waiting = pending_.frameCallbacks.size() + cached_.frameCallbacks.size() +
			 current_.frameCallbacks.size();
	for (const SurfaceState &queued : queued_)
		waiting += queued.frameCallbacks.size();
	if (waiting >= max) {
		disconnectOverLimit(client(), "frame-callbacks",
				    "wl_surface@" + std::to_string(wl_resource_get_id(resource_)) +
					    " frame callbacks",
				    waiting + 1, max);
		return;
	}
	wl_resource *resource = wl_resource_create(client(), &wl_callback_interface, 1, callback);
	if (!resource) {
		wl_client_post_no_memory(client());
		return;
	}
	pending_.frameCallbacks.add(resource);
	pending_.fields |= SurfaceState::FieldFrameCallbacks;
}

void Surface::setOpaqueRegion(const Region *region)
{
	pending_.opaque = region ? *region : Region();
	pending_.fields |= SurfaceState::FieldOpaque;
}

void Surface::setInputRegion(const Region *region)
{
	pending_.input = region ? *region : Region();
	pending_.inputInfinite = region == nullptr;
	pending_.fields |= SurfaceState::FieldInput;
}

void Surface::setBufferScale(int32_t scale)
{
	pending_.scale = scale;
	pending_.fields |= SurfaceState::FieldScale;
}

void Surface::setBufferTransform(int32_t transform)
{
	pending_.transform = transform;
	pending_.fields |= SurfaceState::FieldTransform;
}

void Surface::offset(int32_t dx, int32_t dy)
{
	pending_.dx = clampInt32(int64_t(pending_.dx) + dx);
	pending_.dy = clampInt32(int64_t(pending_.dy) + dy);
	pending_.fields |= SurfaceState::FieldOffset;
}

bool Surface::validateSize(const SurfaceState &state)
{
	uint32_t bw = bufferWidth_, bh = bufferHeight_;
	if (state.fields & SurfaceState::FieldBuffer) {
		bool live = state.buffer && state.buffer->resource();
		bw = live ? state.buffer->width() : 0;
		bh = live ? state.buffer->height() : 0;
	}
	int32_t scale = (state.fields & SurfaceState::FieldScale) ? state.scale : current_.scale;
	/* A fractional surface size has no pixel grid to map input and damage to. */
	if (bw % uint32_t(scale) != 0 || bh % uint32_t(scale) != 0) {
		wl_resource_post_error(resource_, WL_SURFACE_ERROR_INVALID_SIZE,
				       "buffer %ux%u is not a multiple of buffer scale %d",
				       bw, bh, scale);
		return false;
	}

	if (!viewport_)
		return true;
	const ViewportState &vp = (state.fields & SurfaceState::FieldViewport)
		? state.viewport : current_.viewport;
	if (!vp.hasSource)
		return true;
	if (!vp.hasDestination &&
	    (vp.srcWidth != std::floor(vp.srcWidth) || vp.srcHeight != std::floor(vp.srcHeight))) {
		wl_resource_post_error(viewport_->resource(), WP_VIEWPORT_ERROR_BAD_SIZE,
				       "source size %gx%g is not integer and no destination is set",
				       vp.srcWidth, vp.srcHeight);
		return false;
	}
	if (bw == 0)
		return true;
	int32_t transform = (state.fields & SurfaceState::FieldTransform)
		? state.transform : current_.transform;
	double sw = double(bw) / scale, sh = double(bh) / scale;
	if (transform & 1)
		std::swap(sw, sh);
	if (vp.srcX + vp.srcWidth > sw || vp.srcY + vp.srcHeight > sh) {
		wl_resource_post_error(viewport_->resource(), WP_VIEWPORT_ERROR_OUT_OF_BUFFER,
				       "source %g,%g %gx%g is outside the %gx%g buffer",
				       vp.srcX, vp.srcY, vp.srcWidth, vp.srcHeight, sw, sh);
		return false;
	}
	return true;
}

void Surface::commit()
{
	if (role_ && !role_->precommit(*this, pending_))
		return;
	if (!validateSize(pending_))
		return;

	/* Destroyed between attach and commit: as if nothing was attached. */
	if ((pending_.fields & SurfaceState::FieldBuffer) && pending_.buffer &&
	    !pending_.buffer->resource())
		pending_.buffer.reset();
	latch(pending_);

	Subsurface *sub = asSubsurface();
	if (sub && sub->isSynchronized()) {
		cached_.merge(pending_);
		hasCached_ = true;
		return;
	}
	SurfaceState &state = hasCached_ ? cached_ : pending_;
	if (hasCached_) {
		cached_.merge(pending_);
		hasCached_ = false;
	}
	applyOrQueue(state);
}

void Surface::applyOrQueue(SurfaceState &state)
{
	/* Behind a commit still waiting, or waiting itself: applied later, in order. */
	if (!queued_.empty()) {
		queue(state);
		return;
	}
	if (bufmgr::UniqueFd fence = pendingWrites(state); fence && waitForWrites(std::move(fence))) {
		queue(state);
		return;
	}
	apply(state);
}

void Surface::latch(SurfaceState &state)
{
	/* What the role's and the children's requests set goes with this commit, however late. */
	state.roleGeneration = roleGeneration_;
	if (role_)
		state.role = role_->latch();
	if (std::exchange(orderChanged_, false)) {
		state.order = pendingOrder_;
		state.fields |= SurfaceState::FieldSubsurfaceOrder;
	}
	for (Subsurface *sub : pendingOrder_) {
		if (!sub)
			continue;
		if (std::optional<SubsurfacePosition> position = sub->takePosition())
			state.positions.push_back(*position);
		/* A synchronized child's commits since the last one go with this one. */
		if (Surface *child = sub->surface(); child && child->hasCached_) {
			child->hasCached_ = false;
			auto latched = std::make_unique<LatchedChild>(sub);
			latched->state.merge(child->cached_);
			state.children.push_back(std::move(latched));
		}
	}
}

bufmgr::UniqueFd Surface::pendingWrites(const SurfaceState &state) const
{
	/* A new buffer, or new damage to the one shown: the client drew into it again. */
	const ClientBuffer *buffer = nullptr;
	if (state.fields & SurfaceState::FieldBuffer)
		buffer = state.buffer.get();
	else if (state.fields & SurfaceState::FieldDamage)
		buffer = buffer_.get();
	if (!buffer || server_.renderer().dmaBufPath() != DmaBufPath::Cpu)
		return {};
	return buffer->pendingWrites();
}

void Surface::queue(SurfaceState &state)
{
	if (queued_.size() < 2)
		queued_.emplace_back();
	queued_.back().merge(state);
}

bool Surface::waitForWrites(bufmgr::UniqueFd fence)
{
	/* The loop waits on a dup of the fence: ours closes on return. */
	writesDone_.reset(wl_event_loop_add_fd(server_.loop(), fence.get(), WL_EVENT_READABLE,
					       &Surface::onWritesDone, this));
	if (!writesDone_) {
		/* Cannot wait without blocking: apply as if nothing were pending. */
		LOG_DEBUG("surface %u: cannot wait for its buffer's writes: %s",
			  wl_resource_get_id(resource_), strerror(errno));
		return false;
	}
	return true;
}

int Surface::onWritesDone(int, uint32_t, void *data)
{
	auto *self = static_cast<Surface *>(data);
	/* Removing the source from its own callback is safe: the loop frees it later. */
	self->writesDone_.reset();
	self->applyQueued();
	return 0;
}

void Surface::applyQueued()
{
	while (!queued_.empty()) {
		if (bufmgr::UniqueFd fence = pendingWrites(queued_.front());
		    fence && waitForWrites(std::move(fence)))
			return;
		apply(queued_.front());
		queued_.pop_front();
	}
}

void Surface::applyCached()
{
	if (!hasCached_)
		return;
	hasCached_ = false;
	applyOrQueue(cached_);
}

std::vector<Rect> Surface::bufferDamage(const SurfaceState &state) const
{
	std::vector<Rect> damage;
	Rect bounds{ 0, 0, int32_t(bufferWidth_), int32_t(bufferHeight_) };
	for (const Rect &r : state.surfaceDamage) {
		Rect mapped = surfaceToBuffer(r);
		if (mapped.width > 0 && mapped.height > 0)
			damage.push_back(mapped);
	}
	for (const Rect &r : state.bufferDamage) {
		Rect clipped = intersect(r, bounds);
		if (clipped.width > 0)
			damage.push_back(clipped);
	}
	return damage;
}

void Surface::applyBuffer(SurfaceState &state)
{
	/* Destroyed since its commit: still shown, as the spec allows. */
	std::shared_ptr<ClientBuffer> buffer = std::move(state.buffer);

	/* Read later, when a frame needs it; a file already shrunk is caught now. */
	if (buffer && buffer->shmBuffer() && !buffer->shmBuffer()->isReadable()) {
		/* The wl_buffer may be gone since the commit: no object to blame then. */
		if (wl_resource *resource = buffer->resource())
			wl_resource_post_error(resource, WL_SHM_ERROR_INVALID_FD,
					       "the pool's file was shrunk under the buffer");
		else
			wl_client_post_implementation_error(
				client(), "the pool's file was shrunk under a destroyed wl_buffer");
		buffer.reset();
	}
	if (!buffer) {
		texture_.clear();
		buffer_.reset();
		bufferWidth_ = bufferHeight_ = 0;
		return;
	}

	bufferWidth_ = buffer->width();
	bufferHeight_ = buffer->height();
	everCommittedBuffer_ = true;
	/* Surface damage maps to the buffer through the new size. */
	updateSize();
	if (!buffer->exporter().empty() && !buffer->heapHintCounted()) {
		buffer->setHeapHintCounted();
		if (HeapHints *hints = server_.heapHints())
			hints->countBuffer(*this, *buffer);
	}
	/* Imported when a composed frame first shows it, not now. */
	texture_.attached(*buffer, buffer.get() == buffer_.get(), bufferDamage(state));
	buffer_ = ClientBuffer::Lock(buffer);
}

TexturePart Surface::updateTexture(const Rect *shown)
{
	return buffer_ ? texture_.update(server_.renderer(), *buffer_.get(), shown) : TexturePart{};
}

void Surface::updateSize()
{
	const ViewportState &vp = current_.viewport;
	/* No buffer, or none that could be imported. */
	if (!bufferWidth_ || !bufferHeight_) {
		width_ = height_ = 0;
		return;
	}
	if (vp.hasDestination) {
		width_ = vp.dstWidth;
		height_ = vp.dstHeight;
	} else if (vp.hasSource) {
		width_ = static_cast<int32_t>(vp.srcWidth);
		height_ = static_cast<int32_t>(vp.srcHeight);
	} else {
		int32_t w = static_cast<int32_t>(bufferWidth_) / current_.scale;
		int32_t h = static_cast<int32_t>(bufferHeight_) / current_.scale;
		if (current_.transform & 1)
			std::swap(w, h);
		width_ = w;
		height_ = h;
	}
}

Surface::Geometry Surface::geometry() const
{
	return { width_, height_, current_.scale, current_.transform, current_.viewport,
		 hasBuffer() };
}

PixelRegion Surface::contentDamage(const SurfaceState &state, const Geometry &before) const
{
	const Rect after{ 0, 0, width_, height_ };
	PixelRegion damage;
	/* Requests that only repeat the current scale, transform or crop change nothing. */
	if (!(geometry() == before)) {
		/* Every pixel may have moved: all that was and all that is. */
		damage.add({ 0, 0, before.width, before.height });
		damage.add(after);
		return damage;
	}
	for (const Rect &r : state.surfaceDamage)
		damage.add(intersect(r, after));
	/* Within the buffer first: a rect at the ends of int32 maps past them. */
	const Rect buffer{ 0, 0, int32_t(bufferWidth_), int32_t(bufferHeight_) };
	for (const Rect &r : state.bufferDamage)
		damage.add(bufferToSurface(intersect(r, buffer)));
	return damage;
}

void Surface::apply(SurfaceState &state)
{
	const Geometry before = geometry();
	if (state.fields & SurfaceState::FieldScale)
		current_.scale = state.scale;
	if (state.fields & SurfaceState::FieldTransform)
		current_.transform = state.transform;
	if (state.fields & SurfaceState::FieldViewport)
		current_.viewport = state.viewport;
	updateSize();
	if (state.fields & (SurfaceState::FieldBuffer | SurfaceState::FieldDamage))
		contentGeneration_ = nextContentGeneration.fetch_add(1, std::memory_order_relaxed) + 1;
	if (state.fields & SurfaceState::FieldBuffer)
		applyBuffer(state);
	else if (state.fields & SurfaceState::FieldDamage && buffer_)
		/* Damage without a new attach: the client drew into the same buffer. */
		texture_.damaged(*buffer_.get(), bufferDamage(state));
	/* This commit's offset only: roles that follow a point move their hotspot by it. */
	bool moved = state.fields & SurfaceState::FieldOffset;
	current_.dx = moved ? state.dx : 0;
	current_.dy = moved ? state.dy : 0;
	/* What is drawn opaque, and what shows below, changed: all of it is redrawn. */
	const bool opaqueChanged = (state.fields & SurfaceState::FieldOpaque) &&
				   !(state.opaque == current_.opaque);
	if (state.fields & SurfaceState::FieldOpaque)
		current_.opaque = state.opaque;
	if (state.fields & SurfaceState::FieldInput) {
		current_.input = state.input;
		current_.inputInfinite = state.inputInfinite;
	}
	updateSize();
	PixelRegion damage = contentDamage(state, before);
	if (opaqueChanged)
		damage.add(Rect{ 0, 0, width_, height_ });
	server_.surfaceDamaged(*this, damage);

	/* Content no frame showed is replaced: its feedback is discarded. */
	Presentation::discard(current_.feedbacks);
	current_.feedbacks.take(state.feedbacks);
	current_.frameCallbacks.take(state.frameCallbacks);
	if (state.fields & SurfaceState::FieldSubsurfaceOrder) {
		std::vector<Subsurface *> order = std::move(state.order);
		/* Children made since this commit stay on top, where they came. */
		for (Subsurface *sub : order_)
			if (std::find(order.begin(), order.end(), sub) == order.end())
				order.push_back(sub);
		order_ = std::move(order);
	}
	for (const SubsurfacePosition &position : state.positions)
		position.subsurface->moveTo(position.x, position.y);
	std::unique_ptr<RoleState> role = std::move(state.role);
	/* Not for a commit made before this role object came, or for one since gone. */
	const bool forThisRole = state.roleGeneration == roleGeneration_;
	std::vector<std::unique_ptr<LatchedChild>> children = std::move(state.children);
	state.reset();

	/* The children's commits this one took, each once its own writes are done. */
	for (std::unique_ptr<LatchedChild> &child : children)
		if (Surface *surface = child->subsurface->surface())
			surface->applyOrQueue(child->state);

	if (role_ && (forThisRole || !role_->onlyItsOwnCommits()))
		role_->committed(*this, forThisRole ? role.get() : nullptr);
	emitSignal(&commitSignal_, this);
	/* Size, input region or stacking may have moved what is under the pointer. */
	server_.sceneChanged();
	server_.scheduleRepaint();
}

Subsurface::Subsurface(Surface *surface, Surface *parent, wl_resource *resource)
	: surface_(surface), parent_(parent), resource_(resource)
{
	parent_->addSubsurface(this);
	surfaceDestroy_.connect(surface_->destroySignal(), [this](void *) {
		detachParent();
		surface_ = nullptr;
		surfaceDestroy_.disconnect();
	});
	parentDestroy_.connect(parent_->destroySignal(), [this](void *) {
		detachParent();
	});
}

Subsurface::~Subsurface()
{
	detachParent();
	if (surface_) {
		surface_->clearRole(this);
		surface_->server().scheduleRepaint();
	}
}

void Subsurface::detachParent()
{
	if (!parent_)
		return;
	parent_->removeSubsurface(this);
	parent_ = nullptr;
	parentDestroy_.disconnect();
}

bool Subsurface::isSynchronized() const
{
	if (sync_)
		return true;
	Subsurface *parentSub = parent_ ? parent_->asSubsurface() : nullptr;
	return parentSub && parentSub->isSynchronized();
}

bool Subsurface::isMapped() const
{
	return surface_ && parent_ && surface_->hasBuffer();
}

void Subsurface::setPosition(int32_t x, int32_t y)
{
	pendingX_ = x;
	pendingY_ = y;
	positionPending_ = true;
}

std::optional<SubsurfacePosition> Subsurface::takePosition()
{
	if (!std::exchange(positionPending_, false))
		return std::nullopt;
	return SubsurfacePosition{ this, pendingX_, pendingY_ };
}

void Subsurface::moveTo(int32_t x, int32_t y)
{
	x_ = x;
	y_ = y;
}

void Subsurface::placeAbove(Surface *sibling, bool above)
{
	if (!surface_ || !parent_)
		return;
	Subsurface *entry = nullptr;
	if (sibling != parent_) {
		Subsurface *sub = sibling->asSubsurface();
		if (!sub || sub->parent() != parent_ || sibling == surface_) {
			wl_resource_post_error(resource_, WL_SUBSURFACE_ERROR_BAD_SURFACE,
					       "wl_surface@%u is not a sibling or the parent",
					       wl_resource_get_id(sibling->resource()));
			return;
		}
		entry = sub;
	}
	std::vector<Subsurface *> &order = parent_->pendingSubsurfaces();
	std::erase(order, this);
	auto it = std::find(order.begin(), order.end(), entry);
	if (above)
		++it;
	order.insert(it, this);
}

void Subsurface::setSync(bool sync)
{
	sync_ = sync;
	if (surface_ && !isSynchronized())
		surface_->applyCached();
}

} /* namespace comp */
