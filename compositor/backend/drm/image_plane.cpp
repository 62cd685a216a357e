/* SPDX-License-Identifier: MIT */
#include "backend/drm/image_plane.h"

#include <algorithm>
#include <cstring>

#include <drm_fourcc.h>

#include "backend/drm/drm_backend.h"
#include "log.h"

namespace comp {

ImagePlane::ImagePlane(int fd, uint32_t plane, Config config)
	: fd_(fd), plane_(plane), config_(std::move(config)),
	  props_(kms::Properties::read(fd, plane, DRM_MODE_OBJECT_PLANE))
{
}

bool ImagePlane::refuse(std::string why, const std::string &output)
{
	if (why != why_)
		LOG_INFO("%s: %s composed: %s", output.c_str(), config_.what.c_str(), why.c_str());
	why_ = std::move(why);
	return false;
}

Rect ImagePlane::staleIn(const Buffer &target, const PlaneImage &image)
{
	const Rect all{ 0, 0, int32_t(image.width), int32_t(image.height) };
	const uint64_t behind = image.generation - target.generation;
	if (!target.generation || target.source != image.pixels ||
	    target.generation >= image.generation || behind > image.damage.size())
		return all;
	Rect stale;
	for (const Rect &change : image.damage.first(size_t(behind)))
		if (!change.isEmpty())
			stale = stale.isEmpty() ? change : boundingBox(stale, change);
	return intersect(stale, all);
}

Result<void> ImagePlane::fill(int index, const PlaneImage &image, bufmgr::BufferManager &manager,
			      DrmStats &stats, const std::string &output)
{
	Buffer &target = buffers_[size_t(index)];
	/* A buffer larger than the image is clear around it: it needs alpha. */
	const bool padded = config_.bufferWidth || config_.bufferHeight;
	const uint32_t format = image.opaque && !padded ? DRM_FORMAT_XRGB8888 : DRM_FORMAT_ARGB8888;
	const bool setAlpha = image.opaque && padded;
	const uint32_t width = config_.bufferWidth ? config_.bufferWidth : image.width;
	const uint32_t height = config_.bufferHeight ? config_.bufferHeight : image.height;
	if (!target.buffer.isValid() || target.buffer.width() != width ||
	    target.buffer.height() != height || target.buffer.format() != format) {
		target = {};
		auto buffer = manager.allocate(
			bufmgr::AllocationRequest::image(width, height, format, bufmgr::Usage::Scanout,
							 "drm-" + output + "-" + config_.what),
			constraints_);
		if (!buffer)
			return bufmgr::unexpected(std::move(buffer).error());
		auto mapping = bufmgr::Mapping::map(*buffer, { bufmgr::Access::Write });
		if (!mapping)
			return bufmgr::unexpected(std::move(mapping).error());
		auto fb = kms::Framebuffer::import(fd_, *buffer);
		if (!fb)
			return bufmgr::unexpected(std::move(fb).error());
		stats.framebuffersImported++;
		target.buffer = std::move(*buffer);
		target.mapping = std::move(*mapping);
		target.fb = std::move(*fb);
	}
	/* A buffer a flip or two behind takes only what changed since (a few rows of text). */
	const Rect stale = staleIn(target, image);
	const bool whole = stale == Rect{ 0, 0, int32_t(image.width), int32_t(image.height) };
	auto access = target.mapping->beginAccess(bufmgr::Access::Write);
	if (!access)
		return bufmgr::unexpected(std::move(access).error());
	const std::span<uint8_t> bytes = target.mapping->plane(0);
	const uint32_t stride = target.buffer.plane(0).stride;
	const size_t left = size_t(stale.x) * 4, row = size_t(stale.width) * 4;
	for (int32_t y = stale.y; y < stale.bottom(); y++) {
		uint8_t *dst = bytes.data() + size_t(y) * stride + left;
		const uint8_t *src = image.pixels + size_t(y) * image.stride + left;
		if (!setAlpha) {
			std::memcpy(dst, src, row);
			continue;
		}
		/* XRGB rows into an ARGB buffer: opaque where the image is. */
		for (size_t x = 0; x < row; x += 4) {
			uint32_t pixel;
			std::memcpy(&pixel, src + x, 4);
			pixel |= 0xff000000u;
			std::memcpy(dst + x, &pixel, 4);
		}
	}
	/* Around a smaller image the buffer is transparent. */
	const size_t imageRow = size_t(image.width) * 4;
	for (uint32_t y = 0; whole && y < height; y++) {
		uint8_t *dst = bytes.data() + size_t(y) * stride;
		if (y < image.height && width > image.width)
			std::memset(dst + imageRow, 0, size_t(width) * 4 - imageRow);
		else if (y >= image.height)
			std::memset(dst, 0, size_t(width) * 4);
	}
	stats.imagePlaneBytes += size_t(stale.height) * row;
	target.source = image.pixels;
	target.generation = image.generation;
	return access->end();
}

bool ImagePlane::show(const PlaneImage &image, const Rect &rect, uint32_t crtc,
		      bufmgr::BufferManager &manager, DrmStats &stats, const std::string &output)
{
	if (!plane_)
		return refuse("no " + config_.what + " plane", output);
	if (!image.pixels || rect.width != int32_t(image.width) ||
	    rect.height != int32_t(image.height))
		return refuse("no pixels, or scaled", output);
	if ((config_.bufferWidth && image.width > config_.bufferWidth) ||
	    (config_.bufferHeight && image.height > config_.bufferHeight))
		return refuse(std::to_string(image.width) + "x" + std::to_string(image.height) +
				      " is larger than the plane's " +
				      std::to_string(config_.bufferWidth) + "x" +
				      std::to_string(config_.bufferHeight),
			      output);
	const bool newImage = !shown_ || image.generation != generation_;
	if (!newImage && rect == rect_)
		return true;
	/* Memory for it was short: tried again with the next image, not every frame. */
	if (failedGeneration_ == image.generation)
		return false;
	const Rect testedPlace = config_.testEachPlace ? rect : Rect{};
	auto verdict = std::find_if(verdicts_.begin(), verdicts_.end(),
				    [&](const auto &v) { return v.first == testedPlace; });
	if (verdict != verdicts_.end() && !verdict->second)
		return false;

	/* The same pixels elsewhere: the buffer that holds them moves. */
	int index = -1;
	if (!newImage)
		index = staged_ >= 0 ? staged_ : pending_ >= 0 ? pending_ : front_;
	const bool refill = index < 0;
	/* Else the staged one, or one neither on screen nor flipping to, is filled. */
	if (refill && staged_ != front_ && staged_ != pending_)
		index = staged_;
	for (int i = 0; index < 0 && i < int(buffers_.size()); i++)
		if (i != front_ && i != pending_)
			index = i;
	if (refill) {
		if (auto ret = fill(index, image, manager, stats, output); !ret) {
			failedGeneration_ = image.generation;
			return refuse(ret.error().message(), output);
		}
	}
	if (verdict == verdicts_.end()) {
		/*
		 * The plane over what the screen shows now. A later commit over
		 * other buffers may still refuse it; then refused() turns it to
		 * composition.
		 */
		kms::AtomicRequest req;
		const Buffer &buffer = buffers_[size_t(index)];
		kms::placePlane(req, plane_, props_, crtc, buffer.fb->id(), buffer.buffer.width(),
				buffer.buffer.height(), rect.x, rect.y);
		auto ret = req.commit(fd_, DRM_MODE_ATOMIC_TEST_ONLY, nullptr,
				      output + ": " + config_.what + " plane TEST_ONLY commit");
		stats.testCommits++;
		verdicts_.emplace_back(testedPlace, bool(ret));
		if (!ret) {
			stats.testRefusals++;
			return refuse(ret.error().message(), output);
		}
	}
	toggled_ = toggled_ || !shown_;
	staged_ = index;
	off_ = false;
	shown_ = true;
	generation_ = image.generation;
	rect_ = rect;
	why_.clear();
	return true;
}

void ImagePlane::hide()
{
	if (!shown_)
		return;
	shown_ = false;
	staged_ = -1;
	toggled_ = true;
	/* Off at the next commit, unless it never reached the screen. */
	off_ = front_ >= 0 || pending_ >= 0;
}

void ImagePlane::addTo(kms::AtomicRequest &req, uint32_t crtc) const
{
	if (staged_ >= 0) {
		const Buffer &staged = buffers_[size_t(staged_)];
		/* The whole buffer: a cursor's is larger than its image, and clear around it. */
		kms::placePlane(req, plane_, props_, crtc, staged.fb->id(), staged.buffer.width(),
				staged.buffer.height(), rect_.x, rect_.y);
	} else if (off_) {
		addOff(req);
	}
}

void ImagePlane::addOff(kms::AtomicRequest &req) const
{
	req.set(plane_, props_, "FB_ID", 0);
	req.set(plane_, props_, "CRTC_ID", 0);
}

void ImagePlane::committed()
{
	if (!changePending())
		return;
	pending_ = staged_;
	staged_ = -1;
	off_ = false;
	flipPending_ = true;
}

bool ImagePlane::flipped()
{
	if (!flipPending_)
		return false;
	/* The previous buffer left the screen: it can be filled again. */
	front_ = pending_;
	pending_ = -1;
	flipPending_ = false;
	return holdsIdleMemory();
}

size_t ImagePlane::buffersHeld() const
{
	return size_t(std::count_if(buffers_.begin(), buffers_.end(),
				    [](const Buffer &b) { return b.buffer.isValid(); }));
}

bool ImagePlane::holdsIdleMemory() const
{
	return !shown_ && staged_ < 0 && pending_ < 0 && front_ < 0 && buffersHeld() > 0;
}

void ImagePlane::releaseIdleMemory()
{
	if (holdsIdleMemory())
		buffers_ = {};
}

void ImagePlane::refused(const std::string &why, const std::string &output)
{
	const Rect testedPlace = config_.testEachPlace ? rect_ : Rect{};
	auto verdict = std::find_if(verdicts_.begin(), verdicts_.end(),
				    [&](const auto &v) { return v.first == testedPlace; });
	if (verdict != verdicts_.end())
		verdict->second = false;
	else
		verdicts_.emplace_back(testedPlace, false);
	refuse(why, output);
	hide();
}

void ImagePlane::restate()
{
	/* Verdicts were the other session's business too: test again. */
	verdicts_.clear();
	if (!plane_ || staged_ >= 0)
		return;
	/* The newest image: the one flipping to, if any, else the one on screen. */
	const int newest = pending_ >= 0 ? pending_ : front_;
	if (newest >= 0)
		staged_ = newest;
	else if (!shown_)
		off_ = true;
}

} /* namespace comp */
