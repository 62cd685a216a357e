/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scene/scene.h"

namespace comp {

class Server;
class Surface;

/*
 * A surface tree placed in the scene: an xdg toplevel or popup. The
 * server stacks mapped views back to front.
 */
class View
{
public:
	View(Server &server, Surface *surface);
	virtual ~View();
	View(const View &) = delete;
	View &operator=(const View &) = delete;

	Server &server() const { return server_; }
	Surface *surface() const { return surface_; }
	/* Global position of the root surface's origin. */
	int32_t x() const { return x_; }
	int32_t y() const { return y_; }
	void setPosition(int32_t x, int32_t y);
	bool isMapped() const { return mapped_; }

	virtual bool isPopup() const { return false; }
	/* The view whose client receives focus when this one is clicked. */
	virtual View *parentView() const { return nullptr; }
	virtual std::string title() const { return {}; }
	virtual std::string appId() const { return {}; }
	/* Keyboard focus arrived or left (xdg_toplevel's activated state). */
	virtual void setActivated(bool) {}
	/* A click outside a grabbing popup's client. */
	virtual void dismiss() {}
	/* False for what only follows the input (drag icons): no input, no focus. */
	virtual bool takesInput() const { return true; }
	/* An output went: a window keeps to the outputs left. */
	virtual void outputsChanged() {}

protected:
	void map();
	void unmap();

private:
	Server &server_;
	Surface *surface_;
	int32_t x_ = 0;
	int32_t y_ = 0;
	bool mapped_ = false;
};

/*
 * The mapped views, back to front: windows, then what stays above every
 * window (popups and drag icons), and the questions asked of them in
 * the global space. The cursor is no view: the server puts it on top.
 */
class ViewStack
{
public:
	const std::vector<View *> &views() const { return views_; }

	/* A window goes on top of the windows, a popup or drag icon on top of all. */
	void add(View *view);
	void remove(View *view);
	/* Puts a mapped window on top of the windows; false for anything else. */
	bool raise(View *view);

	/* The topmost view with an input surface at global (x, y). */
	View *viewAt(double x, double y, Surface **surface, double *localX, double *localY) const;
	/* The mapped view whose surface tree holds surface, or null. */
	View *viewContaining(const Surface *surface) const;
	/* The mapped toplevel with this title, for tests and scripts. */
	View *findView(std::string_view title) const;
	/* The mapped views as roots of the scene, back to front. */
	std::vector<SceneRoot> sceneRoots() const;

private:
	std::vector<View *> views_;
};

/* Global position of surface in the first of roots whose tree holds it. */
bool surfacePosition(const std::vector<SceneRoot> &roots, const Surface *surface, int32_t *x,
		     int32_t *y);

} /* namespace comp */
