/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>

#include "rect.h"

namespace comp {

class ResizeTarget;
class Server;
class View;

/*
 * Where windows go, decided apart from the protocols that ask: the area
 * windows live in, and where a new window first appears.
 */
class WindowPolicy
{
public:
	explicit WindowPolicy(Server &server);

	Server &server() const { return server_; }

	/*
	 * The first output's box in the global space: maximized and
	 * fullscreen windows fill it, configure_bounds reports it, popups
	 * are kept inside it. Empty without an output.
	 */
	Rect workArea() const;
	/*
	 * Puts a window mapped for the first time: the corner of its window
	 * geometry (surface coordinates) at the next step of a cascade from
	 * the work area's corner, so that positions are predictable.
	 */
	void placeNew(View &view, const Rect &geometry);
	/* Puts a maximized or fullscreen window over the work area. */
	void fill(View &view, const Rect &geometry) const;
	/* Whether box (global) shows on some output. */
	bool onAnOutput(const Rect &box) const;

private:
	Server &server_;
	uint32_t placed_ = 0;
};

/*
 * One window's place under the policy: its first position, the work area
 * while maximized or fullscreen and the way back, and the edges that stay
 * put while the user resizes it. The window (an xdg_toplevel) owns it.
 */
class WindowPlacement
{
public:
	WindowPlacement(WindowPolicy &policy, View &view);

	/*
	 * The client committed content in a state it acked: fixed when
	 * maximized or fullscreen, resizing while an interactive resize is
	 * asked for or acked. geometry is the window geometry in surface
	 * coordinates. Before the view maps, this picks where it maps.
	 */
	void committed(const Rect &geometry, bool fixed, bool resizing);
	/* The view unmapped: a remap keeps its position, not its state. */
	void unmapped();
	/*
	 * An output went: a fixed window goes over the work area, which may
	 * have moved; one left on no output is placed as if new.
	 */
	void outputsChanged(const Rect &geometry);

	/*
	 * Interactive move and resize on the press or touch that serial
	 * names; false when refused (a fixed or unmapped window, a stale
	 * serial). geometry is the window geometry the resize starts from.
	 */
	bool move(uint32_t serial);
	bool resize(uint32_t serial, uint32_t edges, ResizeTarget &target, const Rect &geometry);

private:
	/* Dragging the left or top edge: the right or bottom one stays put. */
	void followResize(const Rect &geometry, bool resizing);

	WindowPolicy &policy_;
	View &view_;
	bool placed_ = false;
	bool fixed_ = false;
	/* Position before maximize or fullscreen, to restore. */
	int32_t savedX_ = 0, savedY_ = 0;
	/*
	 * The edges of the last interactive resize: a size change moves the
	 * window so that the opposite edges stay put, until a commit shows
	 * the size the resize ended with.
	 */
	uint32_t resizeEdges_ = 0;
	int32_t committedWidth_ = 0, committedHeight_ = 0;
};

} /* namespace comp */
