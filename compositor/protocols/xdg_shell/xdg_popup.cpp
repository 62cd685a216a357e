/* SPDX-License-Identifier: MIT */
#include "protocols/xdg_shell/xdg_popup.h"

#include <vector>

#include <xdg-shell-server-protocol.h>

#include "log.h"
#include "protocols/seat.h"
#include "protocols/xdg_shell/xdg_surface.h"
#include "protocols/xdg_shell/xdg_wm_base.h"
#include "shell/window_policy.h"
#include "surface.h"

namespace comp {

namespace {

void popupDestroy(wl_client *, wl_resource *resource)
{
	auto *popup = fromResource<XdgPopup>(resource);
	if (popup->xdgSurface() && !popup->xdgSurface()->popups().empty()) {
		wl_resource_post_error(popup->errorResource(),
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
	auto *popup = fromResource<XdgPopup>(resource);
	const XdgPositionerState *state =
		XdgPositionerState::complete(positioner, popup->errorResource());
	if (state)
		popup->reposition(*state, token);
}

const struct xdg_popup_interface popupImpl = {
	.destroy = popupDestroy,
	.grab = popupGrab,
	.reposition = popupReposition,
};

} /* namespace */

void XdgPopup::create(XdgSurface *xdgSurface, XdgSurface *parent,
		      const XdgPositionerState &positioner, uint32_t id)
{
	wl_resource *resource = createResource(xdgSurface->resource(), &xdg_popup_interface, id);
	if (resource)
		bindToResource(resource, &popupImpl,
			       new XdgPopup(xdgSurface, parent, positioner, resource));
}

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

wl_resource *XdgPopup::errorResource() const
{
	XdgWmBase *base = xdgSurface_ ? xdgSurface_->base() : nullptr;
	return base ? base->resource() : resource_;
}

View *XdgPopup::parentView() const
{
	return parent_ ? parent_->view() : nullptr;
}

void XdgPopup::surfaceGone()
{
	unmap();
}

void XdgPopup::xdgSurfaceGone()
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
	Rect constraint = server().windowPolicy().workArea();
	if (parentView) {
		constraint.x = clampInt32(int64_t(constraint.x) - parentView->x() - parentGeometry.x);
		constraint.y = clampInt32(int64_t(constraint.y) - parentView->y() - parentGeometry.y);
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
	setPosition(clampInt32(int64_t(parentView->x()) + parentGeometry.x + box_.x - geometry.x),
		    clampInt32(int64_t(parentView->y()) + parentGeometry.y + box_.y - geometry.y));
}

void XdgPopup::surfaceCommitted()
{
	if (!xdgSurface_ || !xdgSurface_->surface() || dismissed_)
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
	if (xdgSurface_) {
		xdgSurface_->reset();
		xdgSurface_->dismissPopups();
	}
}

} /* namespace comp */
