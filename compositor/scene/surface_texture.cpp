/* SPDX-License-Identifier: MIT */
#include "scene/surface_texture.h"

#include <algorithm>

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

uint64_t area(const Rect &r)
{
	return uint64_t(r.width) * uint64_t(r.height);
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
	/* New content: what failed to import may not now. */
	if (!damage.empty())
		failed_.clear();
	const int32_t height = int32_t(buffer.height());
	for (Rect r : damage) {
		/* Renderers read memory rows; y-inverted damage names shown rows. */
		if (buffer.yInverted())
			r.y = height - r.y - r.height;
		if (buffer.type() != ClientBuffer::Type::Shm) {
			stale_.add(r);
			continue;
		}
		for (Copy &copy : copies_)
			copy.stale.add(intersect(r, copy.rect));
	}
}

void SurfaceTexture::attached(const ClientBuffer &buffer, bool same, std::span<const Rect> damage)
{
	if (buffer.type() == ClientBuffer::Type::Shm) {
		/* Copies are the surface's: any wl_buffer of their layout updates them. */
		if (copyWidth_ != buffer.width() || copyHeight_ != buffer.height() ||
		    copyFormat_ != buffer.format()) {
			copies_.clear();
			failed_.clear();
			failureLogged_ = false;
			copyWidth_ = buffer.width();
			copyHeight_ = buffer.height();
			copyFormat_ = buffer.format();
			return;
		}
		addDamage(buffer, damage);
		return;
	}
	/* What wl_shm copies held is not what the surface shows any more. */
	copies_.clear();
	copyWidth_ = copyHeight_ = copyFormat_ = 0;
	if (!same) {
		/*
		 * A dma-buf texture is the buffer's own: a buffer attached
		 * again holds a whole new frame, since damage describes it
		 * relative to the buffer shown before, not to its old content.
		 */
		wholeStale_ = true;
		stale_.clear();
		failed_.clear();
		failureLogged_ = false;
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
	copies_.clear();
	copyWidth_ = copyHeight_ = copyFormat_ = 0;
	wrap_.reset();
	stale_.clear();
	wholeStale_ = true;
	failed_.clear();
	failureLogged_ = false;
}

TexturePart SurfaceTexture::current(const ClientBuffer *buffer) const
{
	if (!buffer)
		return {};
	const Rect whole{ 0, 0, int32_t(buffer->width()), int32_t(buffer->height()) };
	if (buffer->type() != ClientBuffer::Type::Shm)
		return { buffer->texture(), whole };
	if (wrap_)
		return { wrap_.get(), whole };
	const Copy *last = nullptr;
	for (const Copy &copy : copies_) {
		if (!last || copy.used > last->used)
			last = &copy;
	}
	return last ? TexturePart{ last->texture.get(), last->rect } : TexturePart{};
}

TexturePart SurfaceTexture::update(Renderer &renderer, ClientBuffer &buffer, const Rect *shown)
{
	updates_++;
	if (buffer.type() == ClientBuffer::Type::Shm && renderer.readsShmInPlace()) {
		const Rect whole{ 0, 0, int32_t(buffer.width()), int32_t(buffer.height()) };
		if (const Texture *inPlace = wrapShm(renderer, buffer))
			return { inPlace, whole };
	}
	wrap_.reset();
	if (buffer.type() == ClientBuffer::Type::Shm)
		return updateShm(renderer, buffer, shown);
	copies_.clear();
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
	copies_.clear();
	return wrap_.get();
}

TexturePart SurfaceTexture::updateShm(Renderer &renderer, ClientBuffer &buffer, const Rect *shown)
{
	const Rect wanted = copyWanted(buffer, shown);
	/* The smallest copy holding wanted: the one made for this output. */
	Copy *copy = nullptr;
	for (Copy &c : copies_) {
		if (c.rect.contains(wanted) && (!copy || area(c.rect) < area(copy->rect)))
			copy = &c;
	}
	if (!copy && std::find(failed_.begin(), failed_.end(), wanted) != failed_.end())
		return {};

	if (!copy || !copy->stale.empty()) {
		const ShmBuffer &shm = *buffer.shmBuffer();
		/* Survives the client shrinking its pool's file under the read. */
		ShmBuffer::Access access(shm);
		if (!access.data())
			return {};
		/* A cut buffer is only ever single-plane; a whole one starts at its offset. */
		auto at = [&](const Rect &r) {
			const bufmgr::FormatInfo *info = bufmgr::formatInfo(buffer.format());
			const size_t bytes = info ? info->bytesPerPixel[0] : 0;
			return access.data() + size_t(r.y) * shm.stride() + size_t(r.x) * bytes;
		};
		if (!copy) {
			copy = makeCopy(renderer, buffer, at(wanted), wanted);
		} else {
			std::vector<Rect> rects;
			for (const Rect &r : copy->stale.rects())
				rects.push_back(Rect{ r.x - copy->rect.x, r.y - copy->rect.y, r.width,
						      r.height });
			auto ret = renderer.updateShm(*copy->texture, at(copy->rect), shm.stride(),
						      rects);
			if (!ret)
				LOG_ERROR("wl_buffer@%u: shm upload: %s", resourceId(buffer),
					  ret.error().message().c_str());
			copy->stale.clear();
		}
		if (!access.end()) {
			/* What was read is zeroes: nothing of it shows. */
			clear();
			if (buffer.resource())
				wl_resource_post_error(buffer.resource(), WL_SHM_ERROR_INVALID_FD,
						       "the pool's file was shrunk under the buffer");
			return {};
		}
		if (!copy)
			return {};
	}

	copy->used = updates_;
	const TexturePart part{ copy->texture.get(), copy->rect };
	/* Copies that no output drew for a while: the window moved on. */
	std::erase_if(copies_, [&](const Copy &c) { return c.used + kForgetAfter < updates_; });
	return part;
}

SurfaceTexture::Copy *SurfaceTexture::makeCopy(Renderer &renderer, ClientBuffer &buffer,
					       const uint8_t *at, const Rect &wanted)
{
	auto texture = renderer.importShm(at, uint32_t(wanted.width), uint32_t(wanted.height),
					  buffer.shmBuffer()->stride(), buffer.format());
	if (!texture) {
		if (!failureLogged_)
			LOG_ERROR("wl_buffer@%u: shm import of %dx%d at %d,%d: %s", resourceId(buffer),
				  wanted.width, wanted.height, wanted.x, wanted.y,
				  texture.error().message().c_str());
		failureLogged_ = true;
		if (failed_.size() >= kMaxCopies)
			failed_.erase(failed_.begin());
		failed_.push_back(wanted);
		return nullptr;
	}
	copiesMade_++;
	stats_.shmCopies++;
	failureLogged_ = false;
	/* What the new copy holds, older ones need not. */
	std::erase_if(copies_, [&](const Copy &c) { return wanted.contains(c.rect); });
	if (copies_.size() >= kMaxCopies) {
		copies_.erase(std::min_element(copies_.begin(), copies_.end(),
					       [](const Copy &a, const Copy &b) {
						       return a.used < b.used;
					       }));
	}
	copies_.push_back(Copy{ std::move(*texture), wanted, PixelRegion(), updates_ });
	return &copies_.back();
}

TexturePart SurfaceTexture::updateDmaBuf(Renderer &renderer, ClientBuffer &buffer)
{
	const bufmgr::Buffer &dmaBuf = *buffer.dmaBuf();
	const Rect whole{ 0, 0, int32_t(buffer.width()), int32_t(buffer.height()) };
	if (!buffer.texture()) {
		if (!failed_.empty())
			return {};
		auto texture = renderer.importDmaBuf(dmaBuf);
		if (!texture) {
			stats_.dmaBufImportFailures++;
			if (!failureLogged_)
				LOG_ERROR("wl_buffer@%u: dma-buf import (%s): %s", resourceId(buffer),
					  buffer.exporter().c_str(),
					  texture.error().message().c_str());
			failureLogged_ = true;
			failed_.push_back(whole);
			return {};
		}
		failureLogged_ = false;
		stats_.dmaBufImports++;
		buffer.setTexture(std::move(*texture));
	} else if (wholeStale_ || !stale_.empty()) {
		std::vector<Rect> rects = wholeStale_ ? std::vector<Rect>{ whole } : stale_.rects();
		auto ret = renderer.updateDmaBuf(*buffer.texture(), dmaBuf, rects);
		if (!ret)
			LOG_ERROR("wl_buffer@%u: dma-buf update: %s", resourceId(buffer),
				  ret.error().message().c_str());
	}
	stale_.clear();
	wholeStale_ = false;
	return { buffer.texture(), whole };
}

} /* namespace comp */
