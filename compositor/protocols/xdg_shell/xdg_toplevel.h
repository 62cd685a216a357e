/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rect.h"
#include "server.h"
#include "shell/move_resize.h"
#include "shell/window_policy.h"

namespace comp {

class XdgSurface;

/* xdg_toplevel: a window; where it goes is the shell's WindowPlacement. */
class XdgToplevel : public View, public ResizeTarget
{
public:
	struct State {
		int32_t width = 0, height = 0;
		bool maximized = false;
		bool fullscreen = false;
		bool activated = false;
		bool resizing = false;
	};

	/* xdg_surface.get_toplevel. */
	static void create(XdgSurface *xdgSurface, uint32_t id);
	~XdgToplevel() override;

	wl_resource *resource() const { return resource_; }
	XdgSurface *xdgSurface() const { return xdgSurface_; }
	std::string title() const override { return title_; }
	std::string appId() const override { return appId_; }
	void setActivated(bool activated) override;
	void outputsChanged() override;

	/* The state the client acked last and applied with a commit. */
	const State &current() const { return current_; }
	const State &requested() const { return requested_; }

	/* Requests. */
	void setTitle(const char *title) { title_ = title; }
	void setAppId(const char *appId) { appId_ = appId; }
	void setMaximized(bool maximized);
	void setFullscreen(bool fullscreen);
	void setMinSize(int32_t width, int32_t height);
	void setMaxSize(int32_t width, int32_t height);
	void setParent(XdgToplevel *parent);
	XdgToplevel *parent() const { return parent_; }
	/* Interactive move and resize, on the press or touch that serial names. */
	void move(uint32_t serial);
	void resize(uint32_t serial, uint32_t edges);

	/* From the resize grab: the size the user drags to, and its end. */
	void resizeTo(int32_t width, int32_t height) override;
	void resizeDone() override;

	/* Configure with the requested state. */
	void configure();
	void surfaceCommitted();
	/* The wl_surface went: unmapped for good, the xdg_surface stays. */
	void surfaceGone();
	/* The xdg_surface went first (client teardown): inert from here on. */
	void xdgSurfaceGone();
	/* Unmapped by a null buffer. */
	void unmapWindow();

private:
	XdgToplevel(XdgSurface *xdgSurface, wl_resource *resource);

	XdgSurface *xdgSurface_;	/* null once it went */
	wl_resource *resource_;
	std::string title_;
	std::string appId_;
	int32_t minWidth_ = 0, minHeight_ = 0, maxWidth_ = 0, maxHeight_ = 0;
	State requested_;
	State current_;
	std::vector<std::pair<uint32_t, State>> sent_;
	/* The work area the last configure was sized by (sizes, bounds). */
	Rect configuredArea_;
	WindowPlacement placement_;
	XdgToplevel *parent_ = nullptr;
	std::vector<XdgToplevel *> children_;
};

} /* namespace comp */
