/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>

#include "protocols/seat.h"

namespace comp {

class View;

/* Window edges a resize drags, as bits (xdg_toplevel.resize_edge's values). */
enum ResizeEdge : uint32_t {
	ResizeEdgeTop = 1,
	ResizeEdgeBottom = 2,
	ResizeEdgeLeft = 4,
	ResizeEdgeRight = 8,
};

/* What an interactive resize drives: the window's client draws the sizes. */
class ResizeTarget
{
public:
	virtual ~ResizeTarget() = default;
	/* The size the user drags to; the window keeps it within its limits. */
	virtual void resizeTo(int32_t width, int32_t height) = 0;
	virtual void resizeDone() = 0;
};

/* A grab that follows how far the pointer or finger went since it began. */
class DragGrab : public InteractiveGrab
{
public:
	void begin(double x, double y) final;
	void motion(double x, double y) final;

protected:
	virtual void dragged(double dx, double dy) = 0;

private:
	double startX_ = 0, startY_ = 0;
};

/* The window follows the pointer or finger. */
class MoveGrab : public DragGrab
{
public:
	explicit MoveGrab(View &view);
	void end() override {}

private:
	void dragged(double dx, double dy) override;

	View &view_;
	int32_t x_, y_;
};

/* The grabbed edges follow the pointer or finger; the client draws the size. */
class ResizeGrab : public DragGrab
{
public:
	ResizeGrab(ResizeTarget &target, uint32_t edges, int32_t width, int32_t height);
	void end() override { target_.resizeDone(); }

private:
	void dragged(double dx, double dy) override;

	ResizeTarget &target_;
	uint32_t edges_;
	int32_t width_, height_;
};

} /* namespace comp */
