/* SPDX-License-Identifier: MIT */
#include "shell/move_resize.h"

#include <cmath>

#include "server.h"

namespace comp {

void DragGrab::begin(double x, double y)
{
	startX_ = x;
	startY_ = y;
}

void DragGrab::motion(double x, double y)
{
	dragged(x - startX_, y - startY_);
}

MoveGrab::MoveGrab(View &view)
	: view_(view), x_(view.x()), y_(view.y())
{
}

void MoveGrab::dragged(double dx, double dy)
{
	view_.setPosition(x_ + int32_t(std::lround(dx)), y_ + int32_t(std::lround(dy)));
}

ResizeGrab::ResizeGrab(ResizeTarget &target, uint32_t edges, int32_t width, int32_t height)
	: target_(target), edges_(edges), width_(width), height_(height)
{
}

void ResizeGrab::dragged(double dx, double dy)
{
	int32_t w = width_, h = height_;
	if (edges_ & ResizeEdgeLeft)
		w -= int32_t(std::lround(dx));
	else if (edges_ & ResizeEdgeRight)
		w += int32_t(std::lround(dx));
	if (edges_ & ResizeEdgeTop)
		h -= int32_t(std::lround(dy));
	else if (edges_ & ResizeEdgeBottom)
		h += int32_t(std::lround(dy));
	target_.resizeTo(w, h);
}

} /* namespace comp */
