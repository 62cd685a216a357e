/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "rect.h"
#include "surface.h"
#include "wayland_util.h"

namespace comp {

class Server;
class View;
class XdgPopup;
class XdgToplevel;
class XdgWmBase;

/*
 * xdg_surface: the configure/ack handshake and window geometry, shared by
 * toplevels and popups (the role objects).
 *
 * Lifetimes: the xdg_surface and its role object point at each other until
 * either goes, and each tells the other as it goes (roleObjectDestroyed(),
 * the role object's xdgSurfaceGone()). The wl_surface may go before both:
 * then surface() is null and the role object only unmaps.
 */
class XdgSurface : public SurfaceRole
{
public:
	/* xdg_wm_base.get_xdg_surface, once the surface may take the role. */
	static void create(XdgWmBase *base, Surface *surface, uint32_t id);
	~XdgSurface() override;

	const char *roleName() const override { return "xdg_surface"; }
	bool precommit(Surface &surface, const SurfaceState &pending) override;
	std::unique_ptr<RoleState> latch() override;
	void committed(Surface &surface, RoleState *state) override;
	bool onlyItsOwnCommits() const override { return true; }

	Server &server() const { return server_; }
	Surface *surface() const { return surface_; }
	wl_resource *resource() const { return resource_; }
	XdgWmBase *base() const { return base_; }
	void baseGone() { base_ = nullptr; }
	/* Where protocol errors of this surface's objects go: xdg_wm_base while it lives. */
	wl_resource *errorResource() const;
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
	/* Serial of the last acked configure a commit applied, 0 before any. */
	uint32_t ackedSerial() const { return ackedSerial_; }
	/* Configures whose serials are kept one by one (at most kMaxExactSerials). */
	size_t exactSerials() const { return sentSerials_.size(); }

	/*
	 * A client that never acks must not grow a list without end (it can
	 * ask for configures as fast as it likes): older unacked serials are
	 * folded into one range, any serial of which may still be acked.
	 */
	static constexpr size_t kMaxExactSerials = 32;

	void setToplevel(XdgToplevel *toplevel) { toplevel_ = toplevel; }
	void setPopup(XdgPopup *popup) { popup_ = popup; }
	/* From the role object's destructor. */
	void roleObjectDestroyed();
	/* Unmapped with a null buffer: configure again from scratch. */
	void reset();

	/* Child popups, oldest first; each removes itself as it goes. */
	std::vector<XdgPopup *> &popups() { return popups_; }
	/* This surface unmapped or lost its role object: its popups close, topmost first. */
	void dismissPopups();
	bool initialCommitDone() const { return initialCommit_; }

private:
	XdgSurface(XdgWmBase *base, Surface *surface, wl_resource *resource);

	Server &server_;
	XdgWmBase *base_;
	Surface *surface_;
	wl_resource *resource_;
	XdgToplevel *toplevel_ = nullptr;
	XdgPopup *popup_ = nullptr;
	std::vector<uint32_t> sentSerials_;	/* newest last */
	/* Older unacked configures, folded: [foldedFirst_, foldedLast_]. */
	std::optional<std::pair<uint32_t, uint32_t>> folded_;
	uint32_t ackedSerial_ = 0;
	/* Acked since the last commit, which takes it (latch()). */
	std::optional<uint32_t> pendingAck_;
	bool configured_ = false;
	bool initialCommit_ = false;
	std::optional<Rect> geometry_;
	std::optional<Rect> pendingGeometry_;
	std::vector<XdgPopup *> popups_;
	Listener surfaceDestroy_;
};

} /* namespace comp */
