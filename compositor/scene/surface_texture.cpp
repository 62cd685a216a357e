/* SPDX-License-Identifier: MIT */
#include "scene/surface_texture.h"

#include <wayland-server-protocol.h>

#include <bufmgr/format.h>

#include "log.h"
#include "protocols/shm.h"

namespace comp {

namespace {

uint32_t resourceId(const ClientBuffer &buffer)
{
	return buffer.resource() ? wl_resource_get_id(buffer.resource()) : 0;
}

/* The part of a wl_shm buffer to copy for a frame that shows shown (null: all). */
Rect copyWanted(const ClientBuffer &buffer, const Rect *shown)
{
	const Rect whole{ 0, 0, int32_t(buffer.width()), int32_t(buffer.height()) };
	const bufmgr::FormatInfo *info = bufmgr::formatInfo(buffer.format());
	if (!shown || uint64_t(buffer.width()) * buffer.height() <= SurfaceTexture::kCutPixels ||
	    !info || info->numPlanes != 1)
		return whole;
	const int32_t m = SurfaceTexture::kCutMargin;
	const Rect wanted = intersect(whole, Rect{ shown->x - m, shown->y - m, shown->width + 2 * m,
						   shown->height + 2 * m });
	return wanted.isEmpty() ? Rect{ 0, 0, 1, 1 } : wanted;
}

} /* namespace */

void SurfaceTexture::addDamage(const ClientBuffer &buffer, std::span<const Rect> damage)
{
	const int32_t height = int32_t(buffer.height());
	for (Rect r : damage) {
		/* Renderers read memory rows; y-inverted damage names shown rows. */
		if (buffer.yInverted())
			r.y = height - r.y - r.height;
		stale_.add(r);
	}
}

void SurfaceTexture::attached(const ClientBuffer &buffer, bool same, std::span<const Rect> damage)
{
	bool copyFits = copy_ && copyWidth_ == buffer.width() && copyHeight_ == buffer.height() &&
			copyFormat_ == buffer.format();
	if (buffer.type() == ClientBuffer::Type::Shm ? !copyFits : !same) {
		/*
		 * A dma-buf texture is the buffer's own: a buffer attached
		 * again holds a whole new frame, since damage describes it
		 * relative to the buffer shown before, not to its old content.
		 */
		wholeStale_ = true;
		stale_.clear();
		return;
	}
	addDamage(buffer, damage);
}

void SurfaceTexture::damaged(const ClientBuffer &buffer, std::span<const Rect> damage)
{
	addDamage(buffer, damage);
}

void SurfaceTexture::clear()
{
	copy_.reset();
	copyRect_ = {};
	wrap_.reset();
	stale_.clear();
	wholeStale_ = true;
}

const Texture *SurfaceTexture::current(const ClientBuffer *buffer) const
{
	if (!buffer)
		return nullptr;
	if (buffer->type() == ClientBuffer::Type::Shm)
		return wrap_ ? wrap_.get() : copy_.get();
	return buffer->texture();
}

Rect SurfaceTexture::textureRect(const ClientBuffer &buffer) const
{
	if (buffer.type() == ClientBuffer::Type::Shm && !wrap_ && copy_)
		return copyRect_;
	return Rect{ 0, 0, int32_t(buffer.width()), int32_t(buffer.height()) };
}

const Texture *SurfaceTexture::update(Renderer &renderer, ClientBuffer &buffer, const Rect *shown)
{
	if (buffer.type() == ClientBuffer::Type::Shm && renderer.readsShmInPlace()) {
		if (const Texture *inPlace = wrapShm(renderer, buffer))
			return inPlace;
	}
	wrap_.reset();
	if (buffer.type() == ClientBuffer::Type::Shm)
		return updateShm(renderer, buffer, shown);
	copy_.reset();
	return updateDmaBuf(renderer, buffer);
}

const Texture *SurfaceTexture::wrapShm(Renderer &renderer, ClientBuffer &buffer)
{
	const ShmBuffer &shm = *buffer.shmBuffer();
	/* A grown pool may have moved: the wrap follows the memory, not the wl_buffer. */
	const WrapKey key{ shm.data(), buffer.width(), buffer.height(), shm.stride(),
			   buffer.format() };
	if (!wrap_ || !(wrapKey_ == key)) {
		wrap_.reset();
		auto texture = renderer.wrapShm(key.data, key.width, key.height, key.stride,
						key.format);
		/* A layout the renderer cannot address: it reads a copy instead. */
		if (!texture)
			return nullptr;
		wrap_ = std::move(*texture);
		wrapKey_ = key;
	}
	/* The client's memory is the texture: there is nothing stale to copy. */
	stale_.clear();
	wholeStale_ = false;
	copy_.reset();
	return wrap_.get();
}

const Texture *SurfaceTexture::updateShm(Renderer &renderer, ClientBuffer &buffer, const Rect *shown)
{
	const Rect wanted = copyWanted(buffer, shown);
	const bool holds = copy_ && copyRect_.contains(wanted);
	if (!isStale() && holds)
		return copy_.get();

	const ShmBuffer &shm = *buffer.shmBuffer();
	/* Survives the client shrinking its pool's file under the read. */
	ShmBuffer::Access access(shm);
	if (!access.data())
		return nullptr;
	/* Whole buffers are one plane here; a cut one is only ever single-plane. */
	auto at = [&](const Rect &r) {
		const bufmgr::FormatInfo *info = bufmgr::formatInfo(buffer.format());
		const size_t bytes = info ? info->bytesPerPixel[0] : 0;
		return access.data() + size_t(r.y) * shm.stride() + size_t(r.x) * bytes;
	};
	if (wholeStale_ || !holds) {
		/* What lies outside wanted is read again from the buffer when shown. */
		auto texture = renderer.importShm(at(wanted), uint32_t(wanted.width),
						  uint32_t(wanted.height), shm.stride(),
						  buffer.format());
		if (texture) {
			copy_ = std::move(*texture);
			copyWidth_ = buffer.width();
			copyHeight_ = buffer.height();
			copyFormat_ = buffer.format();
			copyRect_ = wanted;
		} else {
			copy_.reset();
			LOG_ERROR("wl_buffer@%u: shm import: %s", resourceId(buffer),
				  texture.error().message().c_str());
		}
	} else {
		std::vector<Rect> rects;
		for (const Rect &r : stale_.rects()) {
			Rect inside = intersect(r, copyRect_);
			if (inside.isEmpty())
				continue;
			inside.x -= copyRect_.x;
			inside.y -= copyRect_.y;
			rects.push_back(inside);
		}
		auto ret = renderer.updateShm(*copy_, at(copyRect_), shm.stride(), rects);
		if (!ret)
			LOG_ERROR("wl_buffer@%u: shm upload: %s", resourceId(buffer),
				  ret.error().message().c_str());
	}
	stale_.clear();
	wholeStale_ = false;

	if (!access.end()) {
		/* What was read is zeroes: nothing of it shows. */
		clear();
		if (buffer.resource())
			wl_resource_post_error(buffer.resource(), WL_SHM_ERROR_INVALID_FD,
					       "the pool's file was shrunk under the buffer");
		return nullptr;
	}
	return copy_.get();
}

const Texture *SurfaceTexture::updateDmaBuf(Renderer &renderer, ClientBuffer &buffer)
{
	const bufmgr::Buffer &dmaBuf = *buffer.dmaBuf();
	if (!buffer.texture()) {
		/* linux-dmabuf imports at creation; a renderer may drop it since. */
		auto texture = renderer.importDmaBuf(dmaBuf);
		if (!texture) {
			LOG_ERROR("wl_buffer@%u: dma-buf import (%s): %s", resourceId(buffer),
				  buffer.exporter().c_str(), texture.error().message().c_str());
			return nullptr;
		}
		buffer.setTexture(std::move(*texture));
	} else if (isStale()) {
		Rect whole{ 0, 0, int32_t(buffer.width()), int32_t(buffer.height()) };
		std::vector<Rect> rects = wholeStale_ ? std::vector<Rect>{ whole } : stale_.rects();
		auto ret = renderer.updateDmaBuf(*buffer.texture(), dmaBuf, rects);
		if (!ret)
			LOG_ERROR("wl_buffer@%u: dma-buf update: %s", resourceId(buffer),
				  ret.error().message().c_str());
	}
	stale_.clear();
	wholeStale_ = false;
	return buffer.texture();
}

} /* namespace comp */
