/* SPDX-License-Identifier: MIT */
#include "protocols/xdg_shell/xdg_positioner.h"

#include <algorithm>

#include <xdg-shell-server-protocol.h>

#include "wayland_util.h"

namespace comp {

namespace {

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
	/* 64 bits: every term is the client's choice. */
	const Rect &a = p.anchorRect;
	const int64_t ax = anchorsLeft(anchor) ? a.x : anchorsRight(anchor) ? a.right()
									  : int64_t(a.x) + a.width / 2;
	const int64_t ay = anchorsTop(anchor) ? a.y : anchorsBottom(anchor) ? a.bottom()
									  : int64_t(a.y) + a.height / 2;
	const int64_t x = anchorsLeft(gravity) ? ax - p.width : anchorsRight(gravity) ? ax
										       : ax - p.width / 2;
	const int64_t y = anchorsTop(gravity) ? ay - p.height : anchorsBottom(gravity) ? ay
											: ay - p.height / 2;
	return { clampInt32(x + p.offsetX), clampInt32(y + p.offsetY), p.width, p.height };
}

} /* namespace */

void XdgPositionerState::create(wl_resource *wmBase, uint32_t id)
{
	wl_resource *resource = createResource(wmBase, &xdg_positioner_interface, id);
	if (resource)
		bindToResource(resource, &positionerImpl, new XdgPositionerState());
}

XdgPositionerState *XdgPositionerState::fromResource(wl_resource *resource)
{
	return positionerFrom(resource);
}

const XdgPositionerState *XdgPositionerState::complete(wl_resource *resource,
						       wl_resource *errorResource)
{
	const XdgPositionerState *state = positionerFrom(resource);
	if (!state->isComplete()) {
		wl_resource_post_error(errorResource, XDG_WM_BASE_ERROR_INVALID_POSITIONER,
				       "xdg_positioner@%u has no size or anchor rect",
				       wl_resource_get_id(resource));
		return nullptr;
	}
	return state;
}

Rect XdgPositionerState::place(const Rect &constraint) const
{
	Rect box = placeUnconstrained(*this, anchor, gravity);
	if (constraint.isEmpty())
		return box;

	if (!constraint.containsX(box) &&
	    (constraintAdjustment & XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_FLIP_X)) {
		Rect flipped = placeUnconstrained(*this, flipX(anchor), flipX(gravity));
		if (constraint.containsX(flipped))
			box.x = flipped.x;
	}
	if (!constraint.containsY(box) &&
	    (constraintAdjustment & XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_FLIP_Y)) {
		Rect flipped = placeUnconstrained(*this, flipY(anchor), flipY(gravity));
		if (constraint.containsY(flipped))
			box.y = flipped.y;
	}
	if (!constraint.containsX(box) &&
	    (constraintAdjustment & XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_SLIDE_X)) {
		box.x = clampInt32(std::min<int64_t>(box.x, constraint.right() - box.width));
		box.x = std::max(box.x, constraint.x);
	}
	if (!constraint.containsY(box) &&
	    (constraintAdjustment & XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_SLIDE_Y)) {
		box.y = clampInt32(std::min<int64_t>(box.y, constraint.bottom() - box.height));
		box.y = std::max(box.y, constraint.y);
	}
	return box;
}

} /* namespace comp */
