/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "buffer.h"
#include "pixel_region.h"
#include "render/renderer.h"

namespace comp {

/*
 * What the renderer draws for one surface, made when a composed frame
 * first needs it: a buffer that is scanned out, or never shown, is never
 * imported. A client dma-buf is imported once per wl_buffer and kept
 * with it (ClientBuffer::texture); wl_shm content is copied into one
 * texture per surface, which later buffers update where their commits
 * damaged it, whichever wl_buffer they come from — unless the renderer
 * reads wl_shm memory in place (Renderer::readsShmInPlace()): then the
 * texture wraps the attached wl_buffer's memory, re-made when it moves,
 * and whoever draws holds a ShmBuffer::Access across the pass.
 */
class SurfaceTexture
{
public:
	/*
	 * A commit attached buffer (again, if same); damage in its pixels,
	 * relative to what the surface showed before.
	 */
	void attached(const ClientBuffer &buffer, bool same, std::span<const Rect> damage);
	/* A commit damaged the buffer already attached. */
	void damaged(const ClientBuffer &buffer, std::span<const Rect> damage);
	/* The surface shows nothing any more. */
	void clear();

	/*
	 * The texture showing buffer's current content (the buffer last
	 * attached), importing or updating what it lacks. Null, logged, if
	 * the renderer cannot read the buffer; a client that shrank its
	 * wl_shm file gets invalid_fd.
	 *
	 * shown: the buffer pixels the frame draws (null: all). Of a wl_shm
	 * buffer larger than kCutPixels only those and a margin are copied,
	 * so that no client stalls everyone with a buffer far larger than
	 * any output; textureRect() says which part the texture holds.
	 */
	const Texture *update(Renderer &renderer, ClientBuffer &buffer,
			      const Rect *shown = nullptr);
	/* The buffer pixels the texture holds, texture pixel (0, 0) first. */
	Rect textureRect(const ClientBuffer &buffer) const;

	/* 4096x4096: a copy of more is cut to what is shown. */
	static constexpr uint64_t kCutPixels = uint64_t(4096) * 4096;
	/* Around what is shown, so that small moves need no new copy. */
	static constexpr int32_t kCutMargin = 256;
	/* What update() last returned, if still current; for tests. */
	const Texture *current(const ClientBuffer *buffer) const;
	/* Whether the next update() has anything to import. */
	bool isStale() const { return wholeStale_ || !stale_.empty(); }

private:
	void addDamage(const ClientBuffer &buffer, std::span<const Rect> damage);
	const Texture *wrapShm(Renderer &renderer, ClientBuffer &buffer);
	const Texture *updateShm(Renderer &renderer, ClientBuffer &buffer, const Rect *shown);
	const Texture *updateDmaBuf(Renderer &renderer, ClientBuffer &buffer);

	/* Where a wrap of wl_shm memory looks, and the layout it reads. */
	struct WrapKey {
		const uint8_t *data = nullptr;
		uint32_t width = 0;
		uint32_t height = 0;
		uint32_t stride = 0;
		uint32_t format = 0;
		bool operator==(const WrapKey &) const = default;
	};

	std::unique_ptr<Texture> copy_;	/* wl_shm content */
	std::unique_ptr<Texture> wrap_;	/* wl_shm memory read in place */
	WrapKey wrapKey_;
	uint32_t copyWidth_ = 0;
	uint32_t copyHeight_ = 0;
	uint32_t copyFormat_ = 0;
	/* The part of the buffer copy_ holds: all of it unless cut. */
	Rect copyRect_;
	/* Rows of buffer memory the texture lacks. */
	PixelRegion stale_;
	bool wholeStale_ = true;
};

} /* namespace comp */
