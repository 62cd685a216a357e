/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "render/renderer.h"
#include "server.h"
#include "surface.h"
#include "wayland_util.h"

namespace comp {

class XdgPopup;
class XdgSurface;
class XdgToplevel;

/* xdg_wm_base (v5): desktop windows and popups. */
class XdgShell
{
public:
	static constexpr int kVersion = 5;

	explicit XdgShell(Server &server);
	Server &server() const { return server_; }

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);

	Server &server_;
	Global global_;
};

/* One client's xdg_wm_base: tracks its xdg_surfaces for defunct_surfaces. */
class XdgWmBase
{
public:
	XdgWmBase(XdgShell &shell, wl_resource *resource);
	~XdgWmBase();

	XdgShell &shell() const { return shell_; }
	wl_resource *resource() const { return resource_; }
	std::list<XdgSurface *> &surfaces() { return surfaces_; }

private:
	XdgShell &shell_;
	wl_resource *resource_;
	std::list<XdgSurface *> surfaces_;
};

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

	bool isComplete() const { return hasSize && hasAnchorRect; }
	/* The popup's box relative to the parent's window geometry. */
	Rect place(const Rect &constraint) const;
};

/*
 * xdg_surface: the configure/ack handshake and window geometry, shared by
 * toplevels and popups (the role objects).
 */
class XdgSurface : public SurfaceRole
{
public:
	XdgSurface(XdgWmBase *base, Surface *surface, wl_resource *resource);
	~XdgSurface() override;

	const char *roleName() const override { return "xdg_surface"; }
	bool precommit(Surface &surface, const SurfaceState &pending) override;
	void committed(Surface &surface) override;

	Server &server() const { return server_; }
	Surface *surface() const { return surface_; }
	wl_resource *resource() const { return resource_; }
	XdgWmBase *base() const { return base_; }
	void baseGone() { base_ = nullptr; }
	XdgToplevel *toplevel() const { return toplevel_; }
	XdgPopup *popup() const { return popup_; }
	View *view() const;
	bool hasRoleObject() const { return toplevel_ || popup_; }

	/* Window geometry in surface coordinates (the whole surface if unset). */
	Rect geometry() const;
	void setPendingGeometry(const Rect &rect) { pendingGeometry_ = rect; }

	/* Sends xdg_surface.configure; returns its serial. */
	uint32_t sendConfigure();
	void ackConfigure(uint32_t serial);
	bool configured() const { return configured_; }
	/* Serial of the last acked configure, 0 before any. */
	uint32_t ackedSerial() const { return ackedSerial_; }

	void setToplevel(XdgToplevel *toplevel) { toplevel_ = toplevel; }
	void setPopup(XdgPopup *popup) { popup_ = popup; }
	void roleObjectDestroyed();
	/* Unmapped with a null buffer: configure again from scratch. */
	void reset();

	std::vector<XdgPopup *> &popups() { return popups_; }
	bool initialCommitDone() const { return initialCommit_; }

private:
	Server &server_;
	XdgWmBase *base_;
	Surface *surface_;
	wl_resource *resource_;
	XdgToplevel *toplevel_ = nullptr;
	XdgPopup *popup_ = nullptr;
	std::vector<uint32_t> sentSerials_;
	uint32_t ackedSerial_ = 0;
	bool configured_ = false;
	bool initialCommit_ = false;
	std::optional<Rect> geometry_;
	std::optional<Rect> pendingGeometry_;
	std::vector<XdgPopup *> popups_;	/* children, oldest first */
	Listener surfaceDestroy_;
};

/* xdg_toplevel: a window. */
class XdgToplevel : public View
{
public:
	struct State {
		int32_t width = 0, height = 0;
		bool maximized = false;
		bool fullscreen = false;
		bool activated = false;
		bool resizing = false;
	};

	XdgToplevel(XdgSurface *xdgSurface, wl_resource *resource);
	~XdgToplevel() override;

	wl_resource *resource() const { return resource_; }
	XdgSurface *xdgSurface() const { return xdgSurface_; }
	std::string title() const override { return title_; }
	std::string appId() const override { return appId_; }
	void setActivated(bool activated) override;

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
	void resizeTo(int32_t width, int32_t height);
	void resizeDone();

	/* Configure with the requested state. */
	void configure();
	void surfaceCommitted();
	void surfaceGone();
	/* Unmapped by a null buffer. */
	void unmapWindow();

private:
	void followResize(const Rect &geometry);

	XdgSurface *xdgSurface_;
	wl_resource *resource_;
	std::string title_;
	std::string appId_;
	int32_t minWidth_ = 0, minHeight_ = 0, maxWidth_ = 0, maxHeight_ = 0;
	State requested_;
	State current_;
	std::vector<std::pair<uint32_t, State>> sent_;
	bool placed_ = false;
	/* Position before maximize/fullscreen, to restore. */
	int32_t savedX_ = 0, savedY_ = 0;
	XdgToplevel *parent_ = nullptr;
	std::vector<XdgToplevel *> children_;
	/*
	 * The edges of the last interactive resize: a size change moves the
	 * window so that the opposite edges stay put, until a commit applies
	 * the configure that ended the resize.
	 */
	uint32_t resizeEdges_ = 0;
	int32_t committedWidth_ = 0, committedHeight_ = 0;
};

/* xdg_popup: a menu or tooltip placed by a positioner. */
class XdgPopup : public View
{
public:
	XdgPopup(XdgSurface *xdgSurface, XdgSurface *parent, const XdgPositionerState &positioner,
		 wl_resource *resource);
	~XdgPopup() override;

	bool isPopup() const override { return true; }
	View *parentView() const override;
	void dismiss() override;

	wl_resource *resource() const { return resource_; }
	XdgSurface *xdgSurface() const { return xdgSurface_; }
	XdgSurface *parent() const { return parent_; }
	/* Box relative to the parent's window geometry. */
	const Rect &box() const { return box_; }

	/* xdg_popup.grab: granted at map time for a recent input serial. */
	void grab(uint32_t serial);
	void reposition(const XdgPositionerState &positioner, uint32_t token);
	void configure();
	void surfaceCommitted();
	void surfaceGone();
	void parentGone();
	void unmapWindow();

private:
	void updatePosition();

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
