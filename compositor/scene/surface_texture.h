/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "buffer.h"
#include "pixel_region.h"
#include "render/renderer.h"

namespace comp {

/* A texture, and the buffer pixels it holds: texture pixel (0, 0) first. */
struct TexturePart {
	const Texture *texture = nullptr;
	Rect held;
	explicit operator bool() const { return texture != nullptr; }
};

/* Imports and copies the renderer made for client buffers: what composition cost. */
struct TextureStats {
	uint64_t dmaBufImports = 0;	/* client dma-bufs the renderer imported */
	uint64_t dmaBufImportFailures = 0;
	uint64_t shmCopies = 0;		/* wl_shm textures made (not updates of one) */
};

/*
 * What the renderer draws for one surface, made when a composed frame
 * first needs it: a buffer that is scanned out, or never shown, is never
 * imported. A client dma-buf is imported once per wl_buffer, when a
 * frame first composes it, and kept with it (ClientBuffer::texture); wl_shm content is copied into a
 * texture per surface (per part shown, for a huge buffer), which later
 * buffers update where their commits damaged it, whichever wl_buffer
 * they come from — unless the renderer reads wl_shm memory in place
 * (Renderer::readsShmInPlace()): then the texture wraps the attached
 * wl_buffer's memory, re-made when it moves, and whoever draws holds a
 * ShmBuffer::Access across the pass.
 */
class SurfaceTexture
{
public:
	/* stats: counted into, for the whole server; outlives this. */
	explicit SurfaceTexture(TextureStats &stats) : stats_(stats) {}

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
	 * attached), importing or updating what it lacks. No texture if the
	 * renderer cannot read the buffer: logged once, tried again after
	 * the next commit with damage, not on every frame. A client that
	 * shrank its wl_shm file gets invalid_fd.
	 *
	 * shown: the buffer pixels the frame draws (null: all). Of a wl_shm
	 * buffer larger than kCutPixels only those and a margin are copied,
	 * so that no client stalls everyone with a buffer far larger than
	 * any output. Outputs showing other parts of it get a copy each, up
	 * to kMaxCopies, so that none copies again on every frame.
	 */
	TexturePart update(Renderer &renderer, ClientBuffer &buffer, const Rect *shown = nullptr);

	/* 4096x4096: a copy of more is cut to what is shown. */
	static constexpr uint64_t kCutPixels = uint64_t(4096) * 4096;
	/* Around what is shown, so that small moves need no new copy. */
	static constexpr int32_t kCutMargin = 256;
	/* Copies of parts of one wl_shm buffer kept at once. */
	static constexpr size_t kMaxCopies = 4;
	/* A copy no update() returned in this many is dropped: every output draws more often. */
	static constexpr uint64_t kForgetAfter = 2 * kMaxCopies;

	/* For tests: what update() last returned, if still current. */
	TexturePart current(const ClientBuffer *buffer) const;
	/* For tests: wl_shm copies made since the surface was created. */
	uint64_t copiesMade() const { return copiesMade_; }

private:
	/* A copy of wl_shm content: all of the buffer, or the part of a huge one shown. */
	struct Copy {
		std::unique_ptr<Texture> texture;
		Rect rect;		/* the buffer pixels it holds */
		PixelRegion stale;	/* rows of buffer memory in rect it lacks */
		uint64_t used = 0;	/* the update() that last returned it */
	};

	void addDamage(const ClientBuffer &buffer, std::span<const Rect> damage);
	const Texture *wrapShm(Renderer &renderer, ClientBuffer &buffer);
	TexturePart updateShm(Renderer &renderer, ClientBuffer &buffer, const Rect *shown);
	TexturePart updateDmaBuf(Renderer &renderer, ClientBuffer &buffer);
	/* A new copy of wanted, in place of the least used if there are enough. */
	Copy *makeCopy(Renderer &renderer, ClientBuffer &buffer, const uint8_t *at,
		       const Rect &wanted);

	/* Where a wrap of wl_shm memory looks, and the layout it reads. */
	struct WrapKey {
		const uint8_t *data = nullptr;
		uint32_t width = 0;
		uint32_t height = 0;
		uint32_t stride = 0;
		uint32_t format = 0;
		bool operator==(const WrapKey &) const = default;
	};

	TextureStats &stats_;
	std::vector<Copy> copies_;	/* wl_shm content */
	std::unique_ptr<Texture> wrap_;	/* wl_shm memory read in place */
	WrapKey wrapKey_;
	uint32_t copyWidth_ = 0;
	uint32_t copyHeight_ = 0;
	uint32_t copyFormat_ = 0;
	uint64_t updates_ = 0;
	uint64_t copiesMade_ = 0;
	/* A client dma-buf's rows that its texture lacks. */
	PixelRegion stale_;
	bool wholeStale_ = true;
	/* Parts whose import failed: not tried again before the next commit with damage. */
	std::vector<Rect> failed_;
	/* An import failure was logged: once until the layout changes or an import works. */
	bool failureLogged_ = false;
};

} /* namespace comp */
