/* SPDX-License-Identifier: MIT */
#include "shell/window_policy.h"

#include <memory>

#include "backend/backend.h"
#include "protocols/seat.h"
#include "server.h"
#include "shell/move_resize.h"

namespace comp {

WindowPolicy::WindowPolicy(Server &server)
	: server_(server)
{
}

Rect WindowPolicy::workArea() const
{
	std::vector<Output *> outputs = server_.backend().outputs();
	if (outputs.empty())
		return {};
	Output *output = outputs.front();
	Output::Mode mode = output->mode();
	return { output->x(), output->y(), int32_t(mode.width), int32_t(mode.height) };
}

void WindowPolicy::placeNew(View &view, const Rect &geometry)
{
	Rect area = workArea();
	int32_t step = 32 * int32_t(placed_ % 8);
	/* The geometry's offset is the client's: anywhere in int32. */
	view.setPosition(clampInt32(int64_t(area.x) + step - geometry.x),
			 clampInt32(int64_t(area.y) + step - geometry.y));
	placed_++;
}

void WindowPolicy::fill(View &view, const Rect &geometry) const
{
	Rect area = workArea();
	view.setPosition(clampInt32(int64_t(area.x) - geometry.x),
			 clampInt32(int64_t(area.y) - geometry.y));
}

bool WindowPolicy::onAnOutput(const Rect &box) const
{
	for (Output *output : server_.backend().outputs()) {
		if (overlaps(box, output->layoutRect()))
			return true;
	}
	return false;
}

WindowPlacement::WindowPlacement(WindowPolicy &policy, View &view)
	: policy_(policy), view_(view)
{
}

void WindowPlacement::committed(const Rect &geometry, bool fixed, bool resizing)
{
	bool wasFixed = fixed_;
	fixed_ = fixed;
	if (!view_.isMapped()) {
		if (fixed)
			policy_.fill(view_, geometry);
		else if (!placed_)
			policy_.placeNew(view_, geometry);
		placed_ = true;
		return;
	}
	if (fixed && !wasFixed) {
		savedX_ = view_.x();
		savedY_ = view_.y();
	}
	if (fixed) {
		policy_.fill(view_, geometry);
	} else if (wasFixed) {
		view_.setPosition(savedX_, savedY_);
		/* Its display may have gone meanwhile. */
		if (!policy_.onAnOutput(Rect{ clampInt32(int64_t(savedX_) + geometry.x),
					      clampInt32(int64_t(savedY_) + geometry.y),
					      geometry.width, geometry.height }))
			policy_.placeNew(view_, geometry);
	} else if (resizeEdges_) {
		followResize(geometry, resizing);
	}
}

void WindowPlacement::followResize(const Rect &geometry, bool resizing)
{
	int32_t dx = 0, dy = 0;
	if (resizeEdges_ & ResizeEdgeLeft)
		dx = committedWidth_ - geometry.width;
	if (resizeEdges_ & ResizeEdgeTop)
		dy = committedHeight_ - geometry.height;
	committedWidth_ = geometry.width;
	committedHeight_ = geometry.height;
	view_.setPosition(clampInt32(int64_t(view_.x()) + dx), clampInt32(int64_t(view_.y()) + dy));
	/* This commit drew the size the resize ended with. */
	if (!resizing)
		resizeEdges_ = 0;
}

void WindowPlacement::unmapped()
{
	fixed_ = false;
	resizeEdges_ = 0;
}

void WindowPlacement::outputsChanged(const Rect &geometry)
{
	if (!view_.isMapped())
		return;
	if (fixed_) {
		policy_.fill(view_, geometry);
		return;
	}
	const Rect box{ clampInt32(int64_t(view_.x()) + geometry.x),
			clampInt32(int64_t(view_.y()) + geometry.y), geometry.width, geometry.height };
	if (!policy_.onAnOutput(box))
		policy_.placeNew(view_, geometry);
}

bool WindowPlacement::move(uint32_t serial)
{
	/* Maximized and fullscreen windows stay where the policy puts them. */
	if (!view_.isMapped() || fixed_)
		return false;
	return policy_.server().seat().startGrab(&view_, serial,
						 std::make_unique<MoveGrab>(view_));
}

bool WindowPlacement::resize(uint32_t serial, uint32_t edges, ResizeTarget &target,
			     const Rect &geometry)
{
	if (!view_.isMapped() || fixed_ || !edges)
		return false;
	auto grab = std::make_unique<ResizeGrab>(target, edges, geometry.width, geometry.height);
	if (!policy_.server().seat().startGrab(&view_, serial, std::move(grab)))
		return false;
	resizeEdges_ = edges;
	committedWidth_ = geometry.width;
	committedHeight_ = geometry.height;
	return true;
}

} /* namespace comp */
