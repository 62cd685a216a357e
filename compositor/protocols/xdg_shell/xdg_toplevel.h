/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <optional>
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

	/* set_min_size and set_max_size since a commit: the next one takes them. */
	struct SizeLimits {
		struct Size {
			int32_t width, height;
		};
		std::optional<Size> min, max;

		bool empty() const { return !min && !max; }
		void merge(const SizeLimits &later);
	};
	/* Whether the limits the next commit takes keep the max above the min; else posts the error. */
	bool checkSizeLimits();
	SizeLimits takeSizeLimits();
	void applySizeLimits(const SizeLimits &limits);
	/* The limits in force: 0 is none. */
	SizeLimits::Size minSize() const { return min_; }
	SizeLimits::Size maxSize() const { return max_; }

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
	/* Applied; as the last commit took them (it may still wait); since it. */
	SizeLimits::Size min_{ 0, 0 }, max_{ 0, 0 };
	SizeLimits::Size committedMin_{ 0, 0 }, committedMax_{ 0, 0 };
	SizeLimits pendingLimits_;
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
