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
	view_.setPosition(clampInt32(x_ + std::llround(dx)), clampInt32(y_ + std::llround(dy)));
}

ResizeGrab::ResizeGrab(ResizeTarget &target, uint32_t edges, int32_t width, int32_t height)
	: target_(target), edges_(edges), width_(width), height_(height)
{
}

void ResizeGrab::dragged(double dx, double dy)
{
	/* 64 bits: the size started from is the client's window geometry. */
	int64_t w = width_, h = height_;
	if (edges_ & ResizeEdgeLeft)
		w -= std::llround(dx);
	else if (edges_ & ResizeEdgeRight)
		w += std::llround(dx);
	if (edges_ & ResizeEdgeTop)
		h -= std::llround(dy);
	else if (edges_ & ResizeEdgeBottom)
		h += std::llround(dy);
	target_.resizeTo(clampInt32(w), clampInt32(h));
}

} /* namespace comp */
