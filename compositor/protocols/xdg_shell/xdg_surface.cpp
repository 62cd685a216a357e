/* SPDX-License-Identifier: MIT */
#include "protocols/xdg_shell/xdg_surface.h"

#include <algorithm>
#include <utility>

#include <xdg-shell-server-protocol.h>

#include "protocols/xdg_shell/xdg_popup.h"
#include "protocols/xdg_shell/xdg_positioner.h"
#include "protocols/xdg_shell/xdg_toplevel.h"
#include "protocols/xdg_shell/xdg_wm_base.h"
#include "server.h"

namespace comp {

namespace {

XdgSurface *xdgSurfaceFrom(wl_resource *resource)
{
	return fromResource<XdgSurface>(resource);
}

void xdgSurfaceDestroy(wl_client *, wl_resource *resource)
{
	XdgSurface *xdgSurface = xdgSurfaceFrom(resource);
	if (xdgSurface->hasRoleObject()) {
		wl_resource_post_error(resource, XDG_SURFACE_ERROR_DEFUNCT_ROLE_OBJECT,
				       "xdg_surface@%u destroyed before its role object",
				       wl_resource_get_id(resource));
		return;
	}
	wl_resource_destroy(resource);
}

bool checkNewRole(XdgSurface *xdgSurface, wl_resource *resource)
{
	if (xdgSurface->hasRoleObject()) {
		wl_resource_post_error(resource, XDG_SURFACE_ERROR_ALREADY_CONSTRUCTED,
				       "xdg_surface@%u already has a role object",
				       wl_resource_get_id(resource));
		return false;
	}
	/* Without a wl_surface the role object is made anyway: inert, never mapped. */
	return true;
}

void xdgSurfaceGetToplevel(wl_client *, wl_resource *resource, uint32_t id)
{
	XdgSurface *xdgSurface = xdgSurfaceFrom(resource);
	if (!checkNewRole(xdgSurface, resource))
		return;
	XdgToplevel::create(xdgSurface, id);
}

void xdgSurfaceGetPopup(wl_client *, wl_resource *resource, uint32_t id,
			wl_resource *parent, wl_resource *positioner)
{
	XdgSurface *xdgSurface = xdgSurfaceFrom(resource);
	if (!checkNewRole(xdgSurface, resource))
		return;
	XdgSurface *parentSurface = parent ? xdgSurfaceFrom(parent) : nullptr;
	/* Popups without a parent exist only for other shells (layer-shell). */
	if (!parentSurface || !parentSurface->hasRoleObject() || !parentSurface->surface()) {
		wl_resource_post_error(xdgSurface->errorResource(),
				       XDG_WM_BASE_ERROR_INVALID_POPUP_PARENT,
				       "xdg_popup needs a parent toplevel or popup");
		return;
	}
	const XdgPositionerState *state =
		XdgPositionerState::complete(positioner, xdgSurface->errorResource());
	if (!state)
		return;
	XdgPopup::create(xdgSurface, parentSurface, *state, id);
}

void xdgSurfaceSetWindowGeometry(wl_client *, wl_resource *resource, int32_t x, int32_t y,
				 int32_t width, int32_t height)
{
	if (width <= 0 || height <= 0) {
		wl_resource_post_error(resource, XDG_SURFACE_ERROR_INVALID_SIZE,
				       "window geometry %dx%d is not positive", width, height);
		return;
	}
	xdgSurfaceFrom(resource)->setPendingGeometry({ x, y, width, height });
}

void xdgSurfaceAckConfigure(wl_client *, wl_resource *resource, uint32_t serial)
{
	xdgSurfaceFrom(resource)->ackConfigure(serial);
}

const struct xdg_surface_interface xdgSurfaceImpl = {
	.destroy = xdgSurfaceDestroy,
	.get_toplevel = xdgSurfaceGetToplevel,
	.get_popup = xdgSurfaceGetPopup,
	.set_window_geometry = xdgSurfaceSetWindowGeometry,
	.ack_configure = xdgSurfaceAckConfigure,
};

} /* namespace */

void XdgSurface::create(XdgWmBase *base, Surface *surface, uint32_t id)
{
	wl_resource *resource = createResource(base->resource(), &xdg_surface_interface, id);
	if (resource)
		bindToResource(resource, &xdgSurfaceImpl, new XdgSurface(base, surface, resource));
}

XdgSurface::XdgSurface(XdgWmBase *base, Surface *surface, wl_resource *resource)
	: server_(base->shell().server()), base_(base), surface_(surface), resource_(resource)
{
	base_->surfaces().push_back(this);
	surface_->setRole(this, "xdg_surface", base->resource(), XDG_WM_BASE_ERROR_ROLE);
	surfaceDestroy_.connect(surface_->destroySignal(), [this](void *) {
		surfaceDestroy_.disconnect();
		surface_ = nullptr;
		/* The role object stays the client's to destroy; it has nothing to show. */
		if (toplevel_)
			toplevel_->surfaceGone();
		if (popup_)
			popup_->surfaceGone();
		dismissPopups();
	});
}

XdgSurface::~XdgSurface()
{
	if (base_)
		std::erase(base_->surfaces(), this);
	/* With a role object left only at client teardown (destroy refuses it). */
	if (toplevel_)
		toplevel_->xdgSurfaceGone();
	if (popup_)
		popup_->xdgSurfaceGone();
	for (XdgPopup *popup : std::vector<XdgPopup *>(popups_))
		popup->parentGone();
	if (surface_)
		surface_->clearRole(this);
}

wl_resource *XdgSurface::errorResource() const
{
	return base_ ? base_->resource() : resource_;
}

View *XdgSurface::view() const
{
	if (toplevel_)
		return toplevel_;
	return popup_;
}

Rect XdgSurface::geometry() const
{
	if (geometry_)
		return *geometry_;
	return { 0, 0, surface_ ? surface_->width() : 0, surface_ ? surface_->height() : 0 };
}

bool XdgSurface::precommit(Surface &, const SurfaceState &pending)
{
	if (!hasRoleObject()) {
		wl_resource_post_error(resource_, XDG_SURFACE_ERROR_NOT_CONSTRUCTED,
				       "xdg_surface@%u committed without a role object",
				       wl_resource_get_id(resource_));
		return false;
	}
	if (toplevel_ && !toplevel_->checkSizeLimits())
		return false;
	bool attaches = (pending.fields & SurfaceState::FieldBuffer) && pending.buffer;
	if (attaches && !configured_ && server_.config().allowUnconfiguredBuffers)
		configured_ = true;
	if (attaches && !configured_) {
		wl_resource_post_error(resource_, XDG_SURFACE_ERROR_UNCONFIGURED_BUFFER,
				       "xdg_surface@%u has a buffer before its first configure was acked",
				       wl_resource_get_id(resource_));
		return false;
	}
	return true;
}

namespace {

/* set_window_geometry, ack_configure and a toplevel's size limits, as one commit took them. */
class XdgSurfaceState : public RoleState
{
public:
	std::optional<Rect> geometry;
	std::optional<uint32_t> ack;
	XdgToplevel::SizeLimits limits;

	void merge(RoleState &later) override
	{
		auto &state = static_cast<XdgSurfaceState &>(later);
		if (state.geometry)
			geometry = state.geometry;
		if (state.ack)
			ack = state.ack;
		limits.merge(state.limits);
	}
};

} /* namespace */

std::unique_ptr<RoleState> XdgSurface::latch()
{
	XdgToplevel::SizeLimits limits = toplevel_ ? toplevel_->takeSizeLimits()
						   : XdgToplevel::SizeLimits{};
	if (!pendingGeometry_ && !pendingAck_ && limits.empty())
		return nullptr;
	auto state = std::make_unique<XdgSurfaceState>();
	state->geometry = std::exchange(pendingGeometry_, std::nullopt);
	state->ack = std::exchange(pendingAck_, std::nullopt);
	state->limits = limits;
	return state;
}

void XdgSurface::committed(Surface &, RoleState *role)
{
	if (auto *state = static_cast<XdgSurfaceState *>(role)) {
		if (state->geometry)
			geometry_ = state->geometry;
		if (state->ack)
			ackedSerial_ = *state->ack;
		if (toplevel_)
			toplevel_->applySizeLimits(state->limits);
	}
	bool initial = !initialCommit_;
	initialCommit_ = true;
	/*
	 * Never before a configure was acked, not even with a buffer left
	 * from an earlier role object. Only a lenient server (wlcs) sees a
	 * buffer in the initial commit.
	 */
	bool mapNow = configured_ && (!initial || (surface_ && surface_->hasBuffer()));
	if (toplevel_) {
		if (initial)
			toplevel_->configure();
		if (mapNow)
			toplevel_->surfaceCommitted();
	} else if (popup_) {
		if (initial)
			popup_->configure();
		if (mapNow)
			popup_->surfaceCommitted();
	}
}

uint32_t XdgSurface::sendConfigure()
{
	uint32_t serial = nextSerial(server_.display());
	sentSerials_.push_back(serial);
	if (sentSerials_.size() > kMaxExactSerials) {
		uint32_t oldest = sentSerials_.front();
		folded_ = std::pair(folded_ ? folded_->first : oldest, oldest);
		sentSerials_.erase(sentSerials_.begin());
	}
	xdg_surface_send_configure(resource_, serial);
	return serial;
}

void XdgSurface::ackConfigure(uint32_t serial)
{
	auto it = std::find(sentSerials_.begin(), sentSerials_.end(), serial);
	if (it != sentSerials_.end()) {
		/* Acking a configure acks every older one. */
		sentSerials_.erase(sentSerials_.begin(), it + 1);
		folded_.reset();
	} else if (folded_ && serial >= folded_->first && serial <= folded_->second) {
		if (serial == folded_->second)
			folded_.reset();
		else
			folded_->first = serial + 1;
	} else {
		wl_resource_post_error(resource_, XDG_SURFACE_ERROR_INVALID_SERIAL,
				       "serial %u was not sent in a configure (or already acked)",
				       serial);
		return;
	}
	pendingAck_ = serial;
	configured_ = true;
}

void XdgSurface::roleObjectDestroyed()
{
	toplevel_ = nullptr;
	popup_ = nullptr;
	if (surface_)
		surface_->roleObjectGone();
	reset();
	dismissPopups();
}

void XdgSurface::dismissPopups()
{
	std::vector<XdgPopup *> popups(popups_.rbegin(), popups_.rend());
	for (XdgPopup *popup : popups)
		popup->dismiss();
}

void XdgSurface::reset()
{
	configured_ = false;
	initialCommit_ = false;
	sentSerials_.clear();
	folded_.reset();
	ackedSerial_ = 0;
	pendingAck_.reset();
}

} /* namespace comp */
