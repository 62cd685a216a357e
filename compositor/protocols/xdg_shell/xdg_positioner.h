/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>

#include <wayland-server-core.h>

#include "rect.h"

namespace comp {

/* xdg_positioner's state; copied into a popup when it is used. */
struct XdgPositionerState {
	int32_t width = 0, height = 0;
	Rect anchorRect;
	bool hasSize = false;
	bool hasAnchorRect = false;
	uint32_t anchor = 0;
	uint32_t gravity = 0;
	uint32_t constraintAdjustment = 0;
	int32_t offsetX = 0, offsetY = 0;
	bool reactive = false;

	/* xdg_wm_base.create_positioner. */
	static void create(wl_resource *wmBase, uint32_t id);
	static XdgPositionerState *fromResource(wl_resource *resource);
	/*
	 * The state of a positioner a popup is made or repositioned with;
	 * null after posting invalid_positioner on errorResource when it
	 * lacks a size or an anchor rect.
	 */
	static const XdgPositionerState *complete(wl_resource *resource,
						  wl_resource *errorResource);

	bool isComplete() const { return hasSize && hasAnchorRect; }
	/* The popup's box relative to the parent's window geometry. */
	Rect place(const Rect &constraint) const;
};

} /* namespace comp */
