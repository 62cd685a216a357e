/* SPDX-License-Identifier: MIT */
#include "scene/view_stack.h"

#include <algorithm>

#include "server.h"
#include "surface.h"

namespace comp {

namespace {

/* What stays above every window: popups and drag icons. */
bool isOverlay(const View *view)
{
	return view->isPopup() || !view->takesInput();
}

/* Where windows go in, below the first overlay. */
void insertWindow(std::vector<View *> &views, View *view)
{
	views.insert(std::find_if(views.begin(), views.end(), isOverlay), view);
}

} /* namespace */

/* View ----------------------------------------------------------------- */

View::View(Server &server, Surface *surface)
	: server_(server), surface_(surface)
{
}

View::~View()
{
	/* Derived classes unmap first; this only catches the rest. */
	if (mapped_) {
		mapped_ = false;
		server_.viewUnmapped(this);
	}
}

void View::setPosition(int32_t x, int32_t y)
{
	if (x == x_ && y == y_)
		return;
	x_ = x;
	y_ = y;
	if (mapped_) {
		server_.sceneChanged();
		server_.scheduleRepaint();
	}
}

void View::map()
{
	if (mapped_)
		return;
	mapped_ = true;
	server_.viewMapped(this);
}

void View::unmap()
{
	if (!mapped_)
		return;
	mapped_ = false;
	server_.viewUnmapped(this);
}

/* ViewStack ------------------------------------------------------------ */

void ViewStack::add(View *view)
{
	if (isOverlay(view))
		views_.push_back(view);
	else
		insertWindow(views_, view);
}

void ViewStack::remove(View *view)
{
	std::erase(views_, view);
}

bool ViewStack::raise(View *view)
{
	if (view->isPopup() || !view->isMapped())
		return false;
	std::erase(views_, view);
	insertWindow(views_, view);
	return true;
}

View *ViewStack::viewAt(double x, double y, Surface **surface, double *localX,
			double *localY) const
{
	for (auto it = views_.rbegin(); it != views_.rend(); ++it) {
		View *view = *it;
		if (!view->isMapped() || !view->surface() || !view->takesInput())
			continue;
		double lx = 0, ly = 0;
		Surface *hit = view->surface()->surfaceAt(x - view->x(), y - view->y(), &lx, &ly);
		if (!hit)
			continue;
		/* Local to the surface hit, not to the view's root. */
		*surface = hit;
		*localX = lx;
		*localY = ly;
		return view;
	}
	*surface = nullptr;
	return nullptr;
}

View *ViewStack::viewContaining(const Surface *surface) const
{
	for (View *view : views_) {
		if (!view->isMapped())
			continue;
		bool found = false;
		view->surface()->forEachSurface([&](Surface *s, int32_t, int32_t) {
			found = found || s == surface;
		});
		if (found)
			return view;
	}
	return nullptr;
}

View *ViewStack::findView(std::string_view title) const
{
	for (View *view : views_) {
		if (view->title() == title)
			return view;
	}
	return nullptr;
}

std::vector<SceneRoot> ViewStack::sceneRoots() const
{
	std::vector<SceneRoot> roots;
	/* One more for the cursor the server adds. */
	roots.reserve(views_.size() + 1);
	for (View *view : views_) {
		if (view->isMapped())
			roots.push_back({ view->surface(), view->x(), view->y() });
	}
	return roots;
}

bool surfacePosition(const std::vector<SceneRoot> &roots, const Surface *surface, int32_t *x,
		     int32_t *y)
{
	for (const SceneRoot &root : roots) {
		bool found = false;
		root.surface->forEachSurface([&](Surface *s, int32_t sx, int32_t sy) {
			if (s != surface)
				return;
			*x = clampInt32(int64_t(root.x) + sx);
			*y = clampInt32(int64_t(root.y) + sy);
			found = true;
		});
		if (found)
			return true;
	}
	return false;
}

} /* namespace comp */
