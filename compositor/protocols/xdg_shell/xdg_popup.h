/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>

#include "protocols/xdg_shell/xdg_positioner.h"
#include "rect.h"
#include "server.h"

namespace comp {

class XdgSurface;

/* xdg_popup: a menu or tooltip placed by a positioner. */
class XdgPopup : public View
{
public:
	/* xdg_surface.get_popup, with a parent and a complete positioner. */
	static void create(XdgSurface *xdgSurface, XdgSurface *parent,
			   const XdgPositionerState &positioner, uint32_t id);
	~XdgPopup() override;

	bool isPopup() const override { return true; }
	View *parentView() const override;
	void dismiss() override;

	wl_resource *resource() const { return resource_; }
	XdgSurface *xdgSurface() const { return xdgSurface_; }
	XdgSurface *parent() const { return parent_; }
	/* Box relative to the parent's window geometry. */
	const Rect &box() const { return box_; }
	/* xdg_wm_base while the client has it: where xdg_popup's errors go. */
	wl_resource *errorResource() const;

	/* xdg_popup.grab: granted at map time for a recent input serial. */
	void grab(uint32_t serial);
	void reposition(const XdgPositionerState &positioner, uint32_t token);
	void configure();
	void surfaceCommitted();
	/* The wl_surface went: unmapped for good, the xdg_surface stays. */
	void surfaceGone();
	/* The xdg_surface went first (client teardown): inert from here on. */
	void xdgSurfaceGone();
	/* The parent's xdg_surface went: dismissed, placed relative to nothing. */
	void parentGone();
	void unmapWindow();

private:
	XdgPopup(XdgSurface *xdgSurface, XdgSurface *parent, const XdgPositionerState &positioner,
		 wl_resource *resource);
	void updatePosition();

	/* Each null once it went. */
	XdgSurface *xdgSurface_;
	XdgSurface *parent_;
	wl_resource *resource_;
	XdgPositionerState positioner_;
	Rect box_;
	bool grabbed_ = false;
	uint32_t grabSerial_ = 0;
	bool dismissed_ = false;
};

} /* namespace comp */
