/* SPDX-License-Identifier: MIT */
#include "renderer.h"

#include <algorithm>
#include <cerrno>
#include <poll.h>

#include <drm_fourcc.h>

#include <bufmgr/format.h>

namespace comp {

namespace {

/* Past this many rects, one bounding-box copy or draw beats many small ones. */
constexpr size_t kMaxDamageRects = 16;

} /* namespace */

std::string_view toString(DmaBufPath path)
{
	switch (path) {
	case DmaBufPath::None: return "none";
	case DmaBufPath::Gpu: return "gpu";
	case DmaBufPath::Cpu: return "cpu";
	}
	return "unknown";
}

Result<std::unique_ptr<Texture>> Renderer::wrapShm(const uint8_t *, uint32_t width,
						   uint32_t height, uint32_t, uint32_t format)
{
	return bufmgr::unexpected(ENOTSUP, ImageDescription("wrap shm", width, height, format) +
						   ": the " + std::string(name()) +
						   " renderer reads copies only");
}

Result<void> Renderer::render(const bufmgr::Buffer &target, std::span<const RenderItem> items,
			      const float clearColor[4], std::span<const Rect> damage)
{
	auto pass = beginPass(target, damage);
	if (!pass)
		return bufmgr::unexpected(std::move(pass).error());
	RectDraw clear{ { 0, 0, int32_t(target.width()), int32_t(target.height()) } };
	std::copy(clearColor, clearColor + 4, clear.color);
	(*pass)->addRect(clear);
	for (const RenderItem &item : items)
		(*pass)->addTexture(item);
	auto done = (*pass)->submit();
	if (!done)
		return bufmgr::unexpected(std::move(done).error());
	return waitForSyncFile(done->syncFd.get());
}

Result<void> waitForSyncFile(int fd)
{
	if (fd < 0)
		return {};
	/* A sync file polls readable once signalled. */
	pollfd pfd{ fd, POLLIN, 0 };
	while (poll(&pfd, 1, -1) < 0) {
		if (errno != EINTR)
			return bufmgr::unexpected(errno, "render: wait for the frame's fence");
	}
	return {};
}

Result<void> Renderer::render(const bufmgr::Buffer &target, std::span<const RenderItem> items,
			      const float clearColor[4])
{
	const Rect whole{ 0, 0, int32_t(target.width()), int32_t(target.height()) };
	return render(target, items, clearColor, std::span(&whole, 1));
}

std::string ImageDescription::str() const
{
	return std::string(what_) + " " + std::to_string(width_) + "x" + std::to_string(height_) +
	       " " + bufmgr::fourccToString(format_);
}

bool isLinearLayout(uint64_t modifier)
{
	return modifier == DRM_FORMAT_MOD_LINEAR || modifier == DRM_FORMAT_MOD_INVALID;
}

std::vector<Rect> clipDamage(std::span<const Rect> damage, uint32_t width, uint32_t height)
{
	std::vector<Rect> clipped;
	const Rect bounds{ 0, 0, int32_t(width), int32_t(height) };
	for (const Rect &r : damage) {
		Rect inside = intersect(r, bounds);
		if (!inside.isEmpty())
			clipped.push_back(inside);
	}

	if (clipped.size() > kMaxDamageRects) {
		Rect box = clipped.front();
		for (const Rect &r : clipped)
			box = boundingBox(box, r);
		clipped = { box };
	}
	return clipped;
}

Result<SourceBox> sourceBoxOf(const RenderItem &item)
{
	if (!item.texture)
		return bufmgr::unexpected(EINVAL, "render: item without a texture");
	const double w = item.texture->width(), h = item.texture->height();
	SourceBox box = item.source;
	if (box.width == 0 && box.height == 0)
		box = { 0, 0, w, h };
	/* Half a 24.8 unit of slack for rounding by the protocol code. */
	constexpr double slack = 1.0 / 512;
	if (!(box.x >= 0 && box.y >= 0 && box.width > 0 && box.height > 0 &&
	      box.x + box.width <= w + slack && box.y + box.height <= h + slack))
		return bufmgr::unexpected(EINVAL, "render: source box (" + std::to_string(box.x) +
							  ", " + std::to_string(box.y) + ", " +
							  std::to_string(box.width) + "x" +
							  std::to_string(box.height) + ") outside the " +
							  std::to_string(item.texture->width()) + "x" +
							  std::to_string(item.texture->height()) +
							  " buffer");
	return box;
}

} /* namespace comp */
