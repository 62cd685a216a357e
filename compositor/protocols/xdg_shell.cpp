/* SPDX-License-Identifier: MIT */
#include "protocols/xdg_shell.h"

#include <algorithm>
#include <cmath>

#include <wayland-server-protocol.h>
#include <xdg-shell-server-protocol.h>

#include "log.h"
#include "protocols/seat.h"

namespace comp {

namespace {

/* xdg_positioner ------------------------------------------------------ */

XdgPositionerState *positionerFrom(wl_resource *resource)
{
	return fromResource<XdgPositionerState>(resource);
}

void positionerSetSize(wl_client *, wl_resource *resource, int32_t width, int32_t height)
{
	if (width <= 0 || height <= 0) {
		wl_resource_post_error(resource, XDG_POSITIONER_ERROR_INVALID_INPUT,
				       "size %dx%d is not positive", width, height);
		return;
	}
	XdgPositionerState *state = positionerFrom(resource);
	state->width = width;
	state->height = height;
	state->hasSize = true;
}

void positionerSetAnchorRect(wl_client *, wl_resource *resource, int32_t x, int32_t y,
			     int32_t width, int32_t height)
{
	if (width < 0 || height < 0) {
		wl_resource_post_error(resource, XDG_POSITIONER_ERROR_INVALID_INPUT,
				       "anchor rect size %dx%d is negative", width, height);
		return;
	}
	XdgPositionerState *state = positionerFrom(resource);
	state->anchorRect = { x, y, width, height };
	state->hasAnchorRect = true;
}

void positionerSetAnchor(wl_client *, wl_resource *resource, uint32_t anchor)
{
	if (anchor > XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT) {
		wl_resource_post_error(resource, XDG_POSITIONER_ERROR_INVALID_INPUT,
				       "anchor %u is not an xdg_positioner.anchor", anchor);
		return;
	}
	positionerFrom(resource)->anchor = anchor;
}

void positionerSetGravity(wl_client *, wl_resource *resource, uint32_t gravity)
{
	if (gravity > XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT) {
		wl_resource_post_error(resource, XDG_POSITIONER_ERROR_INVALID_INPUT,
				       "gravity %u is not an xdg_positioner.gravity", gravity);
		return;
	}
	positionerFrom(resource)->gravity = gravity;
}

void positionerSetConstraintAdjustment(wl_client *, wl_resource *resource, uint32_t adjustment)
{
	positionerFrom(resource)->constraintAdjustment = adjustment;
}

void positionerSetOffset(wl_client *, wl_resource *resource, int32_t x, int32_t y)
{
	XdgPositionerState *state = positionerFrom(resource);
	state->offsetX = x;
	state->offsetY = y;
}

void positionerSetReactive(wl_client *, wl_resource *resource)
{
	positionerFrom(resource)->reactive = true;
}

void positionerSetParentSize(wl_client *, wl_resource *, int32_t, int32_t)
{
}

void positionerSetParentConfigure(wl_client *, wl_resource *, uint32_t)
{
}

const struct xdg_positioner_interface positionerImpl = {
	.destroy = destroyResource,
	.set_size = positionerSetSize,
	.set_anchor_rect = positionerSetAnchorRect,
	.set_anchor = positionerSetAnchor,
	.set_gravity = positionerSetGravity,
	.set_constraint_adjustment = positionerSetConstraintAdjustment,
	.set_offset = positionerSetOffset,
	.set_reactive = positionerSetReactive,
	.set_parent_size = positionerSetParentSize,
	.set_parent_configure = positionerSetParentConfigure,
};

/* xdg_toplevel -------------------------------------------------------- */

XdgToplevel *toplevelFrom(wl_resource *resource)
{
	return fromResource<XdgToplevel>(resource);
}

void toplevelSetParent(wl_client *, wl_resource *resource, wl_resource *parent)
{
	XdgToplevel *toplevel = toplevelFrom(resource);
	XdgToplevel *parentToplevel = parent ? toplevelFrom(parent) : nullptr;
	for (XdgToplevel *p = parentToplevel; p; p = p->parent()) {
		if (p == toplevel) {
			wl_resource_post_error(resource, XDG_TOPLEVEL_ERROR_INVALID_PARENT,
					       "xdg_toplevel@%u would be its own ancestor",
					       wl_resource_get_id(resource));
			return;
		}
	}
	toplevel->setParent(parentToplevel);
}

void toplevelSetTitle(wl_client *, wl_resource *resource, const char *title)
{
	toplevelFrom(resource)->setTitle(title);
}

void toplevelSetAppId(wl_client *, wl_resource *resource, const char *appId)
{
	toplevelFrom(resource)->setAppId(appId);
}

void toplevelShowWindowMenu(wl_client *, wl_resource *, wl_resource *, uint32_t, int32_t, int32_t)
{
}

void toplevelMove(wl_client *, wl_resource *resource, wl_resource *, uint32_t serial)
{
	toplevelFrom(resource)->move(serial);
}

void toplevelResize(wl_client *, wl_resource *resource, wl_resource *, uint32_t serial,
		    uint32_t edges)
{
	/* The enum's nine values: no edge, four edges, four corners. */
	bool valid = edges <= XDG_TOPLEVEL_RESIZE_EDGE_BOTTOM_RIGHT && edges != 3 && edges != 7;
	if (!valid) {
		wl_resource_post_error(resource, XDG_TOPLEVEL_ERROR_INVALID_RESIZE_EDGE,
				       "resize edge %u is not an xdg_toplevel.resize_edge", edges);
		return;
	}
	toplevelFrom(resource)->resize(serial, edges);
}

void toplevelSetMaxSize(wl_client *, wl_resource *resource, int32_t width, int32_t height)
{
	toplevelFrom(resource)->setMaxSize(width, height);
}

void toplevelSetMinSize(wl_client *, wl_resource *resource, int32_t width, int32_t height)
{
	toplevelFrom(resource)->setMinSize(width, height);
}

void toplevelSetMaximized(wl_client *, wl_resource *resource)
{
	toplevelFrom(resource)->setMaximized(true);
}

void toplevelUnsetMaximized(wl_client *, wl_resource *resource)
{
	toplevelFrom(resource)->setMaximized(false);
}

void toplevelSetFullscreen(wl_client *, wl_resource *resource, wl_resource *)
{
	toplevelFrom(resource)->setFullscreen(true);
}

void toplevelUnsetFullscreen(wl_client *, wl_resource *resource)
{
	toplevelFrom(resource)->setFullscreen(false);
}

void toplevelSetMinimized(wl_client *, wl_resource *)
{
	/* No taskbar to restore from: minimizing is ignored, as allowed. */
}

const struct xdg_toplevel_interface toplevelImpl = {
	.destroy = destroyResource,
	.set_parent = toplevelSetParent,
	.set_title = toplevelSetTitle,
	.set_app_id = toplevelSetAppId,
	.show_window_menu = toplevelShowWindowMenu,
	.move = toplevelMove,
	.resize = toplevelResize,
	.set_max_size = toplevelSetMaxSize,
	.set_min_size = toplevelSetMinSize,
	.set_maximized = toplevelSetMaximized,
	.unset_maximized = toplevelUnsetMaximized,
	.set_fullscreen = toplevelSetFullscreen,
	.unset_fullscreen = toplevelUnsetFullscreen,
	.set_minimized = toplevelSetMinimized,
};

/* The window follows the pointer or finger. */
class MoveGrab : public InteractiveGrab
{
public:
	explicit MoveGrab(View *view)
		: view_(view), x_(view->x()), y_(view->y())
	{
	}

	void begin(double x, double y) override
	{
		startX_ = x;
		startY_ = y;
	}
	void motion(double x, double y) override
	{
		view_->setPosition(x_ + int32_t(std::lround(x - startX_)),
				   y_ + int32_t(std::lround(y - startY_)));
	}
	void end() override {}

private:
	View *view_;
	int32_t x_, y_;
	double startX_ = 0, startY_ = 0;
};

/* The grabbed edges follow the pointer or finger; the client draws the size. */
class ResizeGrab : public InteractiveGrab
{
public:
	ResizeGrab(XdgToplevel *toplevel, uint32_t edges, int32_t width, int32_t height)
		: toplevel_(toplevel), edges_(edges), width_(width), height_(height)
	{
	}

	void begin(double x, double y) override
	{
		startX_ = x;
		startY_ = y;
	}
	void motion(double x, double y) override
	{
		double dx = x - startX_, dy = y - startY_;
		int32_t w = width_, h = height_;
		if (edges_ & XDG_TOPLEVEL_RESIZE_EDGE_LEFT)
			w -= int32_t(std::lround(dx));
		else if (edges_ & XDG_TOPLEVEL_RESIZE_EDGE_RIGHT)
			w += int32_t(std::lround(dx));
		if (edges_ & XDG_TOPLEVEL_RESIZE_EDGE_TOP)
			h -= int32_t(std::lround(dy));
		else if (edges_ & XDG_TOPLEVEL_RESIZE_EDGE_BOTTOM)
			h += int32_t(std::lround(dy));
		toplevel_->resizeTo(w, h);
	}
	void end() override { toplevel_->resizeDone(); }

private:
	XdgToplevel *toplevel_;
	uint32_t edges_;
	int32_t width_, height_;
	double startX_ = 0, startY_ = 0;
};

/* xdg_popup ----------------------------------------------------------- */

void popupDestroy(wl_client *, wl_resource *resource)
{
	auto *popup = fromResource<XdgPopup>(resource);
	if (popup->xdgSurface() && !popup->xdgSurface()->popups().empty()) {
		XdgWmBase *base = popup->xdgSurface()->base();
		wl_resource_post_error(base ? base->resource() : resource,
				       XDG_WM_BASE_ERROR_NOT_THE_TOPMOST_POPUP,
				       "xdg_popup@%u destroyed before its child popups",
				       wl_resource_get_id(resource));
		return;
	}
	wl_resource_destroy(resource);
}

void popupGrab(wl_client *, wl_resource *resource, wl_resource *, uint32_t serial)
{
	fromResource<XdgPopup>(resource)->grab(serial);
}

void popupReposition(wl_client *, wl_resource *resource, wl_resource *positioner, uint32_t token)
{
	XdgPositionerState *state = positionerFrom(positioner);
	if (!state->isComplete()) {
		XdgPopup *popup = fromResource<XdgPopup>(resource);
		XdgWmBase *base = popup->xdgSurface() ? popup->xdgSurface()->base() : nullptr;
		wl_resource_post_error(base ? base->resource() : resource,
				       XDG_WM_BASE_ERROR_INVALID_POSITIONER,
				       "xdg_positioner@%u has no size or anchor rect",
				       wl_resource_get_id(positioner));
		return;
	}
	fromResource<XdgPopup>(resource)->reposition(*state, token);
}

const struct xdg_popup_interface popupImpl = {
	.destroy = popupDestroy,
	.grab = popupGrab,
	.reposition = popupReposition,
};

/* xdg_surface --------------------------------------------------------- */

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
	if (!xdgSurface->surface())
		return false;
	return true;
}

void xdgSurfaceGetToplevel(wl_client *client, wl_resource *resource, uint32_t id)
{
	XdgSurface *xdgSurface = xdgSurfaceFrom(resource);
	if (!checkNewRole(xdgSurface, resource))
		return;
	wl_resource *toplevelResource = wl_resource_create(client, &xdg_toplevel_interface,
							   wl_resource_get_version(resource), id);
	if (!toplevelResource) {
		wl_client_post_no_memory(client);
		return;
	}
	auto *toplevel = new XdgToplevel(xdgSurface, toplevelResource);
	bindToResource(toplevelResource, &toplevelImpl, toplevel);
}

void xdgSurfaceGetPopup(wl_client *client, wl_resource *resource, uint32_t id,
			wl_resource *parent, wl_resource *positioner)
{
	XdgSurface *xdgSurface = xdgSurfaceFrom(resource);
	XdgWmBase *base = xdgSurface->base();
	wl_resource *errorResource = base ? base->resource() : resource;
	if (!checkNewRole(xdgSurface, resource))
		return;
	XdgSurface *parentSurface = parent ? xdgSurfaceFrom(parent) : nullptr;
	/* Popups without a parent exist only for other shells (layer-shell). */
	if (!parentSurface || !parentSurface->hasRoleObject() || !parentSurface->surface()) {
		wl_resource_post_error(errorResource, XDG_WM_BASE_ERROR_INVALID_POPUP_PARENT,
				       "xdg_popup needs a parent toplevel or popup");
		return;
	}
	XdgPositionerState *state = positionerFrom(positioner);
	if (!state->isComplete()) {
		wl_resource_post_error(errorResource, XDG_WM_BASE_ERROR_INVALID_POSITIONER,
				       "xdg_positioner@%u has no size or anchor rect",
				       wl_resource_get_id(positioner));
		return;
	}
	wl_resource *popupResource = wl_resource_create(client, &xdg_popup_interface,
							wl_resource_get_version(resource), id);
	if (!popupResource) {
		wl_client_post_no_memory(client);
		return;
	}
	auto *popup = new XdgPopup(xdgSurface, parentSurface, *state, popupResource);
	bindToResource(popupResource, &popupImpl, popup);
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

/* xdg_wm_base --------------------------------------------------------- */

void wmBaseDestroy(wl_client *, wl_resource *resource)
{
	auto *base = fromResource<XdgWmBase>(resource);
	if (!base->surfaces().empty()) {
		wl_resource_post_error(resource, XDG_WM_BASE_ERROR_DEFUNCT_SURFACES,
				       "xdg_wm_base destroyed with %zu xdg_surfaces left",
				       base->surfaces().size());
		return;
	}
	wl_resource_destroy(resource);
}

void wmBaseCreatePositioner(wl_client *client, wl_resource *resource, uint32_t id)
{
	wl_resource *positioner = wl_resource_create(client, &xdg_positioner_interface,
						     wl_resource_get_version(resource), id);
	if (!positioner) {
		wl_client_post_no_memory(client);
		return;
	}
	bindToResource(positioner, &positionerImpl, new XdgPositionerState());
}

void wmBaseGetXdgSurface(wl_client *client, wl_resource *resource, uint32_t id,
			 wl_resource *surfaceResource)
{
	auto *base = fromResource<XdgWmBase>(resource);
	Surface *surface = Surface::fromResource(surfaceResource);
	if (!surface->canTakeRole("xdg_surface")) {
		wl_resource_post_error(resource, XDG_WM_BASE_ERROR_ROLE,
				       "wl_surface@%u already has role %s",
				       wl_resource_get_id(surfaceResource),
				       surface->roleName() ? surface->roleName() : "xdg_surface");
		return;
	}
	if (surface->hasBuffer() || (surface->hasPendingBuffer() && surface->pending().buffer)) {
		wl_resource_post_error(resource, XDG_WM_BASE_ERROR_INVALID_SURFACE_STATE,
				       "wl_surface@%u already has a buffer",
				       wl_resource_get_id(surfaceResource));
		return;
	}
	wl_resource *xdgResource = wl_resource_create(client, &xdg_surface_interface,
						      wl_resource_get_version(resource), id);
	if (!xdgResource) {
		wl_client_post_no_memory(client);
		return;
	}
	auto *xdgSurface = new XdgSurface(base, surface, xdgResource);
	bindToResource(xdgResource, &xdgSurfaceImpl, xdgSurface);
}

void wmBasePong(wl_client *, wl_resource *, uint32_t)
{
}

const struct xdg_wm_base_interface wmBaseImpl = {
	.destroy = wmBaseDestroy,
	.create_positioner = wmBaseCreatePositioner,
	.get_xdg_surface = wmBaseGetXdgSurface,
	.pong = wmBasePong,
};

bool anchorsLeft(uint32_t edge)
{
	return edge == XDG_POSITIONER_ANCHOR_LEFT || edge == XDG_POSITIONER_ANCHOR_TOP_LEFT ||
	       edge == XDG_POSITIONER_ANCHOR_BOTTOM_LEFT;
}

bool anchorsRight(uint32_t edge)
{
	return edge == XDG_POSITIONER_ANCHOR_RIGHT || edge == XDG_POSITIONER_ANCHOR_TOP_RIGHT ||
	       edge == XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT;
}

bool anchorsTop(uint32_t edge)
{
	return edge == XDG_POSITIONER_ANCHOR_TOP || edge == XDG_POSITIONER_ANCHOR_TOP_LEFT ||
	       edge == XDG_POSITIONER_ANCHOR_TOP_RIGHT;
}

bool anchorsBottom(uint32_t edge)
{
	return edge == XDG_POSITIONER_ANCHOR_BOTTOM || edge == XDG_POSITIONER_ANCHOR_BOTTOM_LEFT ||
	       edge == XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT;
}

/* The anchor and gravity enums share values; flipping swaps the sides. */
uint32_t flipX(uint32_t edge)
{
	switch (edge) {
	case XDG_POSITIONER_ANCHOR_LEFT: return XDG_POSITIONER_ANCHOR_RIGHT;
	case XDG_POSITIONER_ANCHOR_RIGHT: return XDG_POSITIONER_ANCHOR_LEFT;
	case XDG_POSITIONER_ANCHOR_TOP_LEFT: return XDG_POSITIONER_ANCHOR_TOP_RIGHT;
	case XDG_POSITIONER_ANCHOR_TOP_RIGHT: return XDG_POSITIONER_ANCHOR_TOP_LEFT;
	case XDG_POSITIONER_ANCHOR_BOTTOM_LEFT: return XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT;
	case XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT: return XDG_POSITIONER_ANCHOR_BOTTOM_LEFT;
	default: return edge;
	}
}

uint32_t flipY(uint32_t edge)
{
	switch (edge) {
	case XDG_POSITIONER_ANCHOR_TOP: return XDG_POSITIONER_ANCHOR_BOTTOM;
	case XDG_POSITIONER_ANCHOR_BOTTOM: return XDG_POSITIONER_ANCHOR_TOP;
	case XDG_POSITIONER_ANCHOR_TOP_LEFT: return XDG_POSITIONER_ANCHOR_BOTTOM_LEFT;
	case XDG_POSITIONER_ANCHOR_BOTTOM_LEFT: return XDG_POSITIONER_ANCHOR_TOP_LEFT;
	case XDG_POSITIONER_ANCHOR_TOP_RIGHT: return XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT;
	case XDG_POSITIONER_ANCHOR_BOTTOM_RIGHT: return XDG_POSITIONER_ANCHOR_TOP_RIGHT;
	default: return edge;
	}
}

Rect placeUnconstrained(const XdgPositionerState &p, uint32_t anchor, uint32_t gravity)
{
	const Rect &a = p.anchorRect;
	int32_t ax = anchorsLeft(anchor) ? a.x : anchorsRight(anchor) ? a.x + a.width
								    : a.x + a.width / 2;
	int32_t ay = anchorsTop(anchor) ? a.y : anchorsBottom(anchor) ? a.y + a.height
								    : a.y + a.height / 2;
	int32_t x = anchorsLeft(gravity) ? ax - p.width : anchorsRight(gravity) ? ax
										: ax - p.width / 2;
	int32_t y = anchorsTop(gravity) ? ay - p.height : anchorsBottom(gravity) ? ay
										 : ay - p.height / 2;
	return { x + p.offsetX, y + p.offsetY, p.width, p.height };
}

bool fitsX(const Rect &box, const Rect &c)
{
	return box.x >= c.x && box.x + box.width <= c.x + c.width;
}

bool fitsY(const Rect &box, const Rect &c)
{
	return box.y >= c.y && box.y + box.height <= c.y + c.height;
}

} /* namespace */

Rect XdgPositionerState::place(const Rect &constraint) const
{
	Rect box = placeUnconstrained(*this, anchor, gravity);
	if (constraint.width <= 0 || constraint.height <= 0)
		return box;

	if (!fitsX(box, constraint) &&
	    (constraintAdjustment & XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_FLIP_X)) {
		Rect flipped = placeUnconstrained(*this, flipX(anchor), flipX(gravity));
		if (fitsX(flipped, constraint))
			box.x = flipped.x;
	}
	if (!fitsY(box, constraint) &&
	    (constraintAdjustment & XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_FLIP_Y)) {
		Rect flipped = placeUnconstrained(*this, flipY(anchor), flipY(gravity));
		if (fitsY(flipped, constraint))
			box.y = flipped.y;
	}
	if (!fitsX(box, constraint) &&
	    (constraintAdjustment & XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_SLIDE_X)) {
		box.x = std::min(box.x, constraint.x + constraint.width - box.width);
		box.x = std::max(box.x, constraint.x);
	}
	if (!fitsY(box, constraint) &&
	    (constraintAdjustment & XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_SLIDE_Y)) {
		box.y = std::min(box.y, constraint.y + constraint.height - box.height);
		box.y = std::max(box.y, constraint.y);
	}
	return box;
}

/* XdgShell ------------------------------------------------------------- */

XdgShell::XdgShell(Server &server)
	: server_(server),
	  global_(server.display(), &xdg_wm_base_interface, kVersion, this, &bind)
{
}

void XdgShell::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	wl_resource *resource = wl_resource_create(client, &xdg_wm_base_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	bindToResource(resource, &wmBaseImpl,
		       new XdgWmBase(*static_cast<XdgShell *>(data), resource));
}

XdgWmBase::XdgWmBase(XdgShell &shell, wl_resource *resource)
	: shell_(shell), resource_(resource)
{
}

XdgWmBase::~XdgWmBase()
{
	/* At client teardown the surfaces may outlive this object briefly. */
	for (XdgSurface *surface : surfaces_)
		surface->baseGone();
}

/* XdgSurface ----------------------------------------------------------- */

XdgSurface::XdgSurface(XdgWmBase *base, Surface *surface, wl_resource *resource)
	: server_(base->shell().server()), base_(base), surface_(surface), resource_(resource)
{
	base_->surfaces().push_back(this);
	surface_->setRole(this, "xdg_surface", base->resource(), XDG_WM_BASE_ERROR_ROLE);
	surfaceDestroy_.connect(surface_->destroySignal(), [this](void *) {
		surfaceDestroy_.disconnect();
		surface_ = nullptr;
		if (toplevel_)
			toplevel_->surfaceGone();
		if (popup_)
			popup_->surfaceGone();
	});
}

XdgSurface::~XdgSurface()
{
	if (base_)
		std::erase(base_->surfaces(), this);
	if (toplevel_)
		toplevel_->surfaceGone();
	if (popup_)
		popup_->surfaceGone();
	for (XdgPopup *popup : std::vector<XdgPopup *>(popups_))
		popup->parentGone();
	if (surface_)
		surface_->clearRole(this);
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

void XdgSurface::committed(Surface &)
{
	if (pendingGeometry_) {
		geometry_ = pendingGeometry_;
		pendingGeometry_.reset();
	}
	bool initial = !initialCommit_;
	initialCommit_ = true;
	/* Only a lenient server (wlcs) sees a buffer in the initial commit. */
	bool mapNow = !initial || (surface_ && surface_->hasBuffer() && configured_);
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
	xdg_surface_send_configure(resource_, serial);
	return serial;
}

void XdgSurface::ackConfigure(uint32_t serial)
{
	auto it = std::find(sentSerials_.begin(), sentSerials_.end(), serial);
	if (it == sentSerials_.end()) {
		wl_resource_post_error(resource_, XDG_SURFACE_ERROR_INVALID_SERIAL,
				       "serial %u was not sent in a configure (or already acked)",
				       serial);
		return;
	}
	sentSerials_.erase(sentSerials_.begin(), it + 1);
	ackedSerial_ = serial;
	configured_ = true;
}

void XdgSurface::roleObjectDestroyed()
{
	toplevel_ = nullptr;
	popup_ = nullptr;
	reset();
}

void XdgSurface::reset()
{
	configured_ = false;
	initialCommit_ = false;
	sentSerials_.clear();
	ackedSerial_ = 0;
}

/* XdgToplevel ---------------------------------------------------------- */

XdgToplevel::XdgToplevel(XdgSurface *xdgSurface, wl_resource *resource)
	: View(xdgSurface->server(), xdgSurface->surface()), xdgSurface_(xdgSurface),
	  resource_(resource)
{
	xdgSurface_->setToplevel(this);
}

XdgToplevel::~XdgToplevel()
{
	setParent(nullptr);
	for (XdgToplevel *child : children_)
		child->parent_ = nullptr;
	unmap();
	if (xdgSurface_)
		xdgSurface_->roleObjectDestroyed();
}

void XdgToplevel::surfaceGone()
{
	unmap();
	xdgSurface_ = nullptr;
}

void XdgToplevel::setParent(XdgToplevel *parent)
{
	if (parent_)
		std::erase(parent_->children_, this);
	parent_ = parent;
	if (parent_)
		parent_->children_.push_back(this);
}

void XdgToplevel::setMinSize(int32_t width, int32_t height)
{
	if (width < 0 || height < 0 || (maxWidth_ && width > maxWidth_) ||
	    (maxHeight_ && height > maxHeight_)) {
		wl_resource_post_error(resource_, XDG_TOPLEVEL_ERROR_INVALID_SIZE,
				       "min size %dx%d is negative or above the max size",
				       width, height);
		return;
	}
	minWidth_ = width;
	minHeight_ = height;
}

void XdgToplevel::setMaxSize(int32_t width, int32_t height)
{
	if (width < 0 || height < 0 || (width && width < minWidth_) ||
	    (height && height < minHeight_)) {
		wl_resource_post_error(resource_, XDG_TOPLEVEL_ERROR_INVALID_SIZE,
				       "max size %dx%d is negative or below the min size",
				       width, height);
		return;
	}
	maxWidth_ = width;
	maxHeight_ = height;
}

void XdgToplevel::move(uint32_t serial)
{
	/* Maximized and fullscreen windows stay where the output puts them. */
	if (!isMapped() || current_.maximized || current_.fullscreen)
		return;
	if (!server().seat().startGrab(this, serial, std::make_unique<MoveGrab>(this)))
		LOG_DEBUG("xdg_toplevel@%u: move with serial %u ignored",
			  wl_resource_get_id(resource_), serial);
}

void XdgToplevel::resize(uint32_t serial, uint32_t edges)
{
	if (!isMapped() || !xdgSurface_ || current_.maximized || current_.fullscreen ||
	    edges == XDG_TOPLEVEL_RESIZE_EDGE_NONE)
		return;
	Rect geometry = xdgSurface_->geometry();
	auto grab = std::make_unique<ResizeGrab>(this, edges, geometry.width, geometry.height);
	if (!server().seat().startGrab(this, serial, std::move(grab))) {
		LOG_DEBUG("xdg_toplevel@%u: resize with serial %u ignored",
			  wl_resource_get_id(resource_), serial);
		return;
	}
	resizeEdges_ = edges;
	committedWidth_ = geometry.width;
	committedHeight_ = geometry.height;
}

void XdgToplevel::resizeTo(int32_t width, int32_t height)
{
	/* Within the client's limits, and never empty. */
	width = std::max({ width, minWidth_, 1 });
	height = std::max({ height, minHeight_, 1 });
	if (maxWidth_)
		width = std::min(width, maxWidth_);
	if (maxHeight_)
		height = std::min(height, maxHeight_);
	if (requested_.resizing && width == requested_.width && height == requested_.height)
		return;
	requested_.width = width;
	requested_.height = height;
	requested_.resizing = true;
	configure();
}

void XdgToplevel::resizeDone()
{
	if (!requested_.resizing)
		return;
	requested_.resizing = false;
	configure();
	/* The size stays the client's to keep or change from here on. */
	requested_.width = 0;
	requested_.height = 0;
}

void XdgToplevel::setMaximized(bool maximized)
{
	requested_.maximized = maximized;
	/* The spec asks for a configure even when nothing changes. */
	if (xdgSurface_ && xdgSurface_->initialCommitDone())
		configure();
}

void XdgToplevel::setFullscreen(bool fullscreen)
{
	requested_.fullscreen = fullscreen;
	if (xdgSurface_ && xdgSurface_->initialCommitDone())
		configure();
}

void XdgToplevel::setActivated(bool activated)
{
	if (requested_.activated == activated)
		return;
	requested_.activated = activated;
	if (xdgSurface_ && xdgSurface_->initialCommitDone())
		configure();
}

void XdgToplevel::configure()
{
	if (!xdgSurface_)
		return;
	State state = requested_;
	Rect box = server().outputBox();
	/* Otherwise the size an interactive resize asks for, or 0: the client picks. */
	if (state.fullscreen || state.maximized) {
		state.width = box.width;
		state.height = box.height;
	}

	wl_array states;
	wl_array_init(&states);
	auto addState = [&states](uint32_t s) {
		auto *slot = static_cast<uint32_t *>(wl_array_add(&states, sizeof(uint32_t)));
		if (slot)
			*slot = s;
	};
	if (state.maximized)
		addState(XDG_TOPLEVEL_STATE_MAXIMIZED);
	if (state.fullscreen)
		addState(XDG_TOPLEVEL_STATE_FULLSCREEN);
	if (state.activated)
		addState(XDG_TOPLEVEL_STATE_ACTIVATED);
	if (state.resizing)
		addState(XDG_TOPLEVEL_STATE_RESIZING);

	int version = wl_resource_get_version(resource_);
	if (version >= XDG_TOPLEVEL_CONFIGURE_BOUNDS_SINCE_VERSION)
		xdg_toplevel_send_configure_bounds(resource_, box.width, box.height);
	if (version >= XDG_TOPLEVEL_WM_CAPABILITIES_SINCE_VERSION && sent_.empty() &&
	    !isMapped()) {
		wl_array caps;
		wl_array_init(&caps);
		for (uint32_t cap : { XDG_TOPLEVEL_WM_CAPABILITIES_MAXIMIZE,
				      XDG_TOPLEVEL_WM_CAPABILITIES_FULLSCREEN }) {
			auto *slot = static_cast<uint32_t *>(wl_array_add(&caps, sizeof(uint32_t)));
			if (slot)
				*slot = cap;
		}
		xdg_toplevel_send_wm_capabilities(resource_, &caps);
		wl_array_release(&caps);
	}
	xdg_toplevel_send_configure(resource_, state.width, state.height, &states);
	wl_array_release(&states);
	uint32_t serial = xdgSurface_->sendConfigure();
	sent_.emplace_back(serial, state);
	/* Keep the history short: clients ack the latest. */
	if (sent_.size() > 32)
		sent_.erase(sent_.begin());
}

void XdgToplevel::surfaceCommitted()
{
	if (!xdgSurface_ || !surface())
		return;
	uint32_t acked = xdgSurface_->ackedSerial();
	State previous = current_;
	for (auto it = sent_.begin(); it != sent_.end(); ++it) {
		if (it->first == acked) {
			current_ = it->second;
			sent_.erase(sent_.begin(), it + 1);
			break;
		}
	}

	if (!surface()->hasBuffer()) {
		if (isMapped())
			unmapWindow();
		return;
	}

	Rect geometry = xdgSurface_->geometry();
	Rect box = server().outputBox();
	bool wasFixed = previous.maximized || previous.fullscreen;
	bool fixed = current_.maximized || current_.fullscreen;
	if (!isMapped()) {
		if (fixed) {
			setPosition(box.x - geometry.x, box.y - geometry.y);
		} else if (!placed_) {
			server().placeNewView(this);
			setPosition(x() - geometry.x, y() - geometry.y);
		}
		placed_ = true;
		map();
		return;
	}
	if (fixed && !wasFixed) {
		savedX_ = x();
		savedY_ = y();
	}
	if (fixed)
		setPosition(box.x - geometry.x, box.y - geometry.y);
	else if (wasFixed)
		setPosition(savedX_, savedY_);
	else if (resizeEdges_)
		followResize(geometry);
}

void XdgToplevel::followResize(const Rect &geometry)
{
	/* Dragging the left or top edge: the right or bottom one stays put. */
	int32_t dx = 0, dy = 0;
	if (resizeEdges_ & XDG_TOPLEVEL_RESIZE_EDGE_LEFT)
		dx = committedWidth_ - geometry.width;
	if (resizeEdges_ & XDG_TOPLEVEL_RESIZE_EDGE_TOP)
		dy = committedHeight_ - geometry.height;
	committedWidth_ = geometry.width;
	committedHeight_ = geometry.height;
	setPosition(x() + dx, y() + dy);
	/* This commit drew the size the resize ended with. */
	if (!current_.resizing && !requested_.resizing)
		resizeEdges_ = 0;
}

void XdgToplevel::unmapWindow()
{
	unmap();
	sent_.clear();
	current_ = {};
	/* Unmapping dropped any resize grab; a remap starts from no size. */
	requested_.resizing = false;
	requested_.width = 0;
	requested_.height = 0;
	resizeEdges_ = 0;
	if (xdgSurface_)
		xdgSurface_->reset();
}

/* XdgPopup ------------------------------------------------------------- */

XdgPopup::XdgPopup(XdgSurface *xdgSurface, XdgSurface *parent,
		   const XdgPositionerState &positioner, wl_resource *resource)
	: View(xdgSurface->server(), xdgSurface->surface()), xdgSurface_(xdgSurface),
	  parent_(parent), resource_(resource), positioner_(positioner)
{
	xdgSurface_->setPopup(this);
	parent_->popups().push_back(this);
}

XdgPopup::~XdgPopup()
{
	unmap();
	if (parent_)
		std::erase(parent_->popups(), this);
	if (xdgSurface_)
		xdgSurface_->roleObjectDestroyed();
}

View *XdgPopup::parentView() const
{
	return parent_ ? parent_->view() : nullptr;
}

void XdgPopup::surfaceGone()
{
	unmap();
	xdgSurface_ = nullptr;
}

void XdgPopup::parentGone()
{
	if (!dismissed_ && resource_) {
		dismissed_ = true;
		xdg_popup_send_popup_done(resource_);
	}
	unmap();
	parent_ = nullptr;
}

void XdgPopup::dismiss()
{
	if (dismissed_)
		return;
	if (xdgSurface_) {
		/* Topmost first, as the protocol requires. */
		for (XdgPopup *child : std::vector<XdgPopup *>(xdgSurface_->popups()))
			child->dismiss();
	}
	dismissed_ = true;
	xdg_popup_send_popup_done(resource_);
	unmap();
}

void XdgPopup::grab(uint32_t serial)
{
	if (isMapped()) {
		wl_resource_post_error(resource_, XDG_POPUP_ERROR_INVALID_GRAB,
				       "xdg_popup@%u grabbed after it was mapped",
				       wl_resource_get_id(resource_));
		return;
	}
	/* Nested grabs form one chain: a menu's submenu, never a tooltip's. */
	XdgPopup *parentPopup = parent_ ? parent_->popup() : nullptr;
	if (parentPopup && !parentPopup->grabbed_) {
		wl_resource_post_error(resource_, XDG_POPUP_ERROR_INVALID_GRAB,
				       "xdg_popup@%u grabbed, but its parent popup did not",
				       wl_resource_get_id(resource_));
		return;
	}
	grabbed_ = true;
	grabSerial_ = serial;
}

void XdgPopup::reposition(const XdgPositionerState &positioner, uint32_t token)
{
	positioner_ = positioner;
	if (wl_resource_get_version(resource_) >= XDG_POPUP_REPOSITIONED_SINCE_VERSION)
		xdg_popup_send_repositioned(resource_, token);
	configure();
}

void XdgPopup::configure()
{
	if (!xdgSurface_ || !parent_ || dismissed_)
		return;
	View *parentView = parent_->view();
	Rect parentGeometry = parent_->geometry();
	Rect output = server().outputBox();
	Rect constraint = output;
	if (parentView) {
		constraint.x -= parentView->x() + parentGeometry.x;
		constraint.y -= parentView->y() + parentGeometry.y;
	}
	box_ = positioner_.place(constraint);
	xdg_popup_send_configure(resource_, box_.x, box_.y, box_.width, box_.height);
	xdgSurface_->sendConfigure();
}

void XdgPopup::updatePosition()
{
	View *parentView = parent_ ? parent_->view() : nullptr;
	if (!parentView || !xdgSurface_)
		return;
	Rect parentGeometry = parent_->geometry();
	Rect geometry = xdgSurface_->geometry();
	setPosition(parentView->x() + parentGeometry.x + box_.x - geometry.x,
		    parentView->y() + parentGeometry.y + box_.y - geometry.y);
}

void XdgPopup::surfaceCommitted()
{
	if (!xdgSurface_ || !surface() || dismissed_)
		return;
	if (!surface()->hasBuffer()) {
		if (isMapped())
			unmapWindow();
		return;
	}
	updatePosition();
	if (isMapped() || !parent_)
		return;
	if (grabbed_) {
		/* Denied: no user action behind it, or its parent menu is closed already. */
		XdgPopup *parentPopup = parent_->popup();
		if (!server().seat().isRecentSerial(surface()->client(), grabSerial_) ||
		    (parentPopup && parentPopup->dismissed_)) {
			LOG_INFO("xdg_popup@%u: grab denied (serial %u, parent %s)",
				 wl_resource_get_id(resource_), grabSerial_,
				 parentPopup && parentPopup->dismissed_ ? "dismissed" : "open");
			dismiss();
			return;
		}
	}
	if (parent_->view() && parent_->view()->isMapped()) {
		map();
		/* A grabbing popup (a menu) holds the input while it is open. */
		if (grabbed_)
			server().seat().addPopupGrab(this);
	}
}

void XdgPopup::unmapWindow()
{
	unmap();
	if (xdgSurface_)
		xdgSurface_->reset();
}

} /* namespace comp */
