/* SPDX-License-Identifier: MIT */
#include "protocols/xdg_shell/xdg_toplevel.h"

#include <algorithm>

#include <xdg-shell-server-protocol.h>

#include "log.h"
#include "protocols/xdg_shell/xdg_surface.h"

namespace comp {

namespace {

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

/* The shell's edge bits are the protocol's. */
static_assert(ResizeEdgeTop == uint32_t(XDG_TOPLEVEL_RESIZE_EDGE_TOP) &&
	      ResizeEdgeBottom == uint32_t(XDG_TOPLEVEL_RESIZE_EDGE_BOTTOM) &&
	      ResizeEdgeLeft == uint32_t(XDG_TOPLEVEL_RESIZE_EDGE_LEFT) &&
	      ResizeEdgeRight == uint32_t(XDG_TOPLEVEL_RESIZE_EDGE_RIGHT));

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

} /* namespace */

void XdgToplevel::create(XdgSurface *xdgSurface, uint32_t id)
{
	wl_resource *resource = createResource(xdgSurface->resource(), &xdg_toplevel_interface, id);
	if (resource)
		bindToResource(resource, &toplevelImpl, new XdgToplevel(xdgSurface, resource));
}

XdgToplevel::XdgToplevel(XdgSurface *xdgSurface, wl_resource *resource)
	: View(xdgSurface->server(), xdgSurface->surface()), xdgSurface_(xdgSurface),
	  resource_(resource), placement_(server().windowPolicy(), *this)
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
}

void XdgToplevel::xdgSurfaceGone()
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

/* Min against max waits for the commit: a client may send either first. */
void XdgToplevel::setMinSize(int32_t width, int32_t height)
{
	if (width < 0 || height < 0) {
		wl_resource_post_error(resource_, XDG_TOPLEVEL_ERROR_INVALID_SIZE,
				       "min size %dx%d is negative", width, height);
		return;
	}
	pendingLimits_.min = SizeLimits::Size{ width, height };
}

void XdgToplevel::setMaxSize(int32_t width, int32_t height)
{
	if (width < 0 || height < 0) {
		wl_resource_post_error(resource_, XDG_TOPLEVEL_ERROR_INVALID_SIZE,
				       "max size %dx%d is negative", width, height);
		return;
	}
	pendingLimits_.max = SizeLimits::Size{ width, height };
}

void XdgToplevel::SizeLimits::merge(const SizeLimits &later)
{
	if (later.min)
		min = later.min;
	if (later.max)
		max = later.max;
}

bool XdgToplevel::checkSizeLimits()
{
	const SizeLimits::Size min = pendingLimits_.min.value_or(committedMin_);
	const SizeLimits::Size max = pendingLimits_.max.value_or(committedMax_);
	/* 0: no limit. */
	if ((max.width && max.width < min.width) || (max.height && max.height < min.height)) {
		wl_resource_post_error(resource_, XDG_TOPLEVEL_ERROR_INVALID_SIZE,
				       "max size %dx%d is below the min size %dx%d", max.width,
				       max.height, min.width, min.height);
		return false;
	}
	return true;
}

XdgToplevel::SizeLimits XdgToplevel::takeSizeLimits()
{
	committedMin_ = pendingLimits_.min.value_or(committedMin_);
	committedMax_ = pendingLimits_.max.value_or(committedMax_);
	return std::exchange(pendingLimits_, SizeLimits{});
}

void XdgToplevel::applySizeLimits(const SizeLimits &limits)
{
	min_ = limits.min.value_or(min_);
	max_ = limits.max.value_or(max_);
}

void XdgToplevel::move(uint32_t serial)
{
	if (!placement_.move(serial))
		LOG_DEBUG("xdg_toplevel@%u: move with serial %u ignored",
			  wl_resource_get_id(resource_), serial);
}

void XdgToplevel::resize(uint32_t serial, uint32_t edges)
{
	if (!xdgSurface_ || !placement_.resize(serial, edges, *this, xdgSurface_->geometry()))
		LOG_DEBUG("xdg_toplevel@%u: resize with serial %u ignored",
			  wl_resource_get_id(resource_), serial);
}

void XdgToplevel::resizeTo(int32_t width, int32_t height)
{
	/* Within the client's limits, and never empty. */
	width = std::max({ width, min_.width, 1 });
	height = std::max({ height, min_.height, 1 });
	if (max_.width)
		width = std::min(width, max_.width);
	if (max_.height)
		height = std::min(height, max_.height);
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

void XdgToplevel::outputsChanged()
{
	if (!xdgSurface_ || !isMapped())
		return;
	placement_.outputsChanged(xdgSurface_->geometry());
	/* Another work area: other maximized and fullscreen sizes, other bounds. */
	if (server().windowPolicy().workArea() != configuredArea_)
		configure();
}

void XdgToplevel::configure()
{
	if (!xdgSurface_)
		return;
	State state = requested_;
	Rect box = server().windowPolicy().workArea();
	configuredArea_ = box;
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
	if (sent_.size() > XdgSurface::kMaxExactSerials)
		sent_.erase(sent_.begin());
}

void XdgToplevel::surfaceCommitted()
{
	if (!xdgSurface_ || !xdgSurface_->surface())
		return;
	uint32_t acked = xdgSurface_->ackedSerial();
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

	placement_.committed(xdgSurface_->geometry(), current_.maximized || current_.fullscreen,
			     current_.resizing || requested_.resizing);
	if (!isMapped())
		map();
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
	placement_.unmapped();
	if (xdgSurface_) {
		xdgSurface_->reset();
		xdgSurface_->dismissPopups();
	}
}

} /* namespace comp */
