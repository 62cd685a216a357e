/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <bufmgr/buffer.h>
#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

#include "format_modifier.h"
#include "rect.h"

namespace comp {

using bufmgr::Result;

/*
 * Source crop in buffer pixels (wp_viewporter's src, 24.8 made float).
 * It must lie inside the buffer; render() refuses a box that does not.
 */
struct SourceBox {
	double x = 0;
	double y = 0;
	double width = 0;	/* 0: the whole buffer */
	double height = 0;
};

/*
 * wl_output.transform, with its values: what a client already did to its
 * buffer's content (a flip around the vertical axis first, then a
 * counter-clockwise rotation). Drawing the buffer undoes it; see
 * transform.h.
 */
enum class Transform : uint8_t {
	Normal = 0,
	Rotate90 = 1,
	Rotate180 = 2,
	Rotate270 = 3,
	Flipped = 4,
	Flipped90 = 5,
	Flipped180 = 6,
	Flipped270 = 7,
};

/*
 * A client buffer as the renderer knows it: imported once, reused every
 * frame until the client's content changes. Owned by whoever caches it
 * (the wl_buffer's compositor-side state).
 */
class Texture
{
public:
	virtual ~Texture() = default;
	virtual uint32_t width() const = 0;
	virtual uint32_t height() const = 0;
	virtual bool hasAlpha() const = 0;
};

/* How a renderer reads client dma-bufs; reported for logs and tests. */
enum class DmaBufPath : uint8_t {
	None,	/* dma-bufs are not supported at all */
	Gpu,	/* imported as EGLImages; verified by a pattern probe */
	Cpu,	/* mapped through bufmgr (DMA_BUF_IOCTL_SYNC) and uploaded */
};

std::string_view toString(DmaBufPath path);

/*
 * One textured quad of the scene, back to front. The texture's pixels are
 * premultiplied (as Wayland's are); formats without alpha draw opaque.
 * Items with an empty destination are skipped.
 */
struct RenderItem {
	const Texture *texture = nullptr;
	Rect destination;	/* output pixels, y down from the first row */
	SourceBox source;	/* in the buffer, before the transform */
	float alpha = 1.0f;	/* multiplies the whole (premultiplied) pixel */
	Transform transform = Transform::Normal;
	bool yInvert = false;	/* the texture's rows are bottom first */
	/*
	 * Where to draw, output pixels: what of the destination is not
	 * hidden by opaque items drawn after it. Empty: all of the
	 * destination. Either way only inside the pass's damage. Read by
	 * addTexture() only, which need not keep it.
	 */
	std::span<const Rect> clip;
	/*
	 * Draw as if every pixel had full alpha, with no blending: the part of
	 * a surface its client declared opaque. Ignored when alpha < 1.
	 */
	bool opaque = false;
};

/* A solid rect, premultiplied RGBA, blended over what lies below it. */
struct RectDraw {
	Rect destination;	/* output pixels */
	float color[4] = { 0, 0, 0, 1 };
};

/* What a submitted pass left for whoever shows the target next. */
struct PassCompletion {
	/*
	 * A sync file that signals when the target holds the frame (for a
	 * KMS commit's IN_FENCE_FD); invalid when it already does.
	 */
	bufmgr::UniqueFd syncFd;
};

/*
 * One frame drawn into one target: draws back to front, each clipped to
 * the damage the pass began with, then submit(). A draw the renderer
 * cannot do (a texture of another renderer, a source box outside its
 * buffer) fails the submit, so a frame is never shown half drawn.
 * Destroying a pass without submitting it leaves the target's content
 * undefined inside the damage.
 */
class RenderPass
{
public:
	virtual ~RenderPass() = default;
	virtual void addTexture(const RenderItem &item) = 0;
	virtual void addRect(const RectDraw &rect) = 0;
	virtual Result<PassCompletion> submit() = 0;
	/* The output pixels this pass draws: the damage, or all of a new target. */
	virtual std::span<const Rect> clip() const = 0;
};

/*
 * Draws the scene into output buffers. The backend owns the outputs'
 * buffers (from bufmgr); the renderer draws into them directly where it
 * can, or offscreen and copies through a mapping where it cannot.
 * All calls on the thread that created the renderer.
 */
class Renderer
{
public:
	virtual ~Renderer() = default;

	virtual std::string_view name() const = 0;
	virtual DmaBufPath dmaBufPath() const = 0;
	/* The largest width or height of a texture. */
	virtual uint32_t maxTextureSize() const = 0;
	/* DRM fourcc/modifier pairs a client may send as dma-bufs. */
	using FormatModifier = comp::FormatModifier;
	virtual std::vector<FormatModifier> dmaBufFormats() const = 0;
	virtual std::vector<uint32_t> shmFormats() const = 0;

	/*
	 * wl_shm content: `data` with `stride`, in a wl_shm format (DRM fourcc,
	 * with ARGB8888/XRGB8888 as their DRM codes). importShm() copies the
	 * whole buffer into a new texture; updateShm() copies only the
	 * damaged rects (buffer pixels, clipped to the buffer; an empty span
	 * copies nothing) into a texture importShm() made, whose size and
	 * format the data must still have. The caller checks that stride *
	 * height bytes are readable (wl_shm does at create_buffer).
	 */
	virtual Result<std::unique_ptr<Texture>>
	importShm(const uint8_t *data, uint32_t width, uint32_t height, uint32_t stride,
		  uint32_t format) = 0;
	virtual Result<void> updateShm(Texture &texture, const uint8_t *data, uint32_t stride,
				       std::span<const Rect> damage) = 0;

	/*
	 * Whether draws may read wl_shm memory in place, through wrapShm(),
	 * rather than a copy: a CPU renderer composes straight from it.
	 */
	virtual bool readsShmInPlace() const { return false; }
	/*
	 * A texture on wl_shm memory as it is, with no copy; ENOTSUP where
	 * readsShmInPlace() is false, EINVAL for a layout the renderer cannot
	 * read in place (the caller copies then). The memory must stay mapped
	 * while the texture lives, and readable (ShmBuffer::Access) across
	 * every pass that draws it; the client may not write it meanwhile,
	 * which holds while the compositor has not released its wl_buffer.
	 */
	virtual Result<std::unique_ptr<Texture>> wrapShm(const uint8_t *data, uint32_t width,
							 uint32_t height, uint32_t stride,
							 uint32_t format);

	/*
	 * A client dma-buf (planes as received), via the path above. On the
	 * GPU path, a linear buffer the driver refuses is taken by the CPU
	 * path instead. Import once per wl_buffer and keep the texture.
	 */
	virtual Result<std::unique_ptr<Texture>> importDmaBuf(const bufmgr::Buffer &buffer) = 0;
	/*
	 * What importDmaBuf() would refuse for sure, judged from the layout
	 * alone (no mapping, no GPU): checked when a client creates the
	 * wl_buffer, which imports only once a frame composes it.
	 */
	virtual Result<void> checkDmaBuf([[maybe_unused]] const bufmgr::Buffer &buffer) const
	{
		return {};
	}
	/*
	 * Re-reads the damaged rects (as for updateShm) of an import that
	 * copies after the client changed the buffer; a no-op for imports
	 * that read the client's memory when drawing.
	 */
	virtual Result<void> updateDmaBuf(Texture &texture, const bufmgr::Buffer &buffer,
					  std::span<const Rect> damage) = 0;

	/*
	 * Begins a frame in target (an output buffer: XRGB8888/ARGB8888, or
	 * XBGR8888/ABGR8888, from bufmgr; linear unless the GPU path renders
	 * into it directly). Only the pixels in damage (output pixels) are
	 * drawn; the rest keep what the last pass into the same memory left,
	 * as the output's buffer age tells. Per-target state is cached, keyed
	 * by the memory behind the buffer (not the Buffer object); a target
	 * not in the cache is drawn whole, as the renderer cannot know what
	 * it holds. One pass at a time: a second beginPass() before the first
	 * is submitted or destroyed fails with EBUSY.
	 */
	virtual Result<std::unique_ptr<RenderPass>> beginPass(const bufmgr::Buffer &target,
							      std::span<const Rect> damage) = 0;

	/*
	 * One frame in one call: clear (clearColor, premultiplied RGBA), then
	 * items back to front; the target's memory holds the frame when this
	 * returns.
	 */
	Result<void> render(const bufmgr::Buffer &target, std::span<const RenderItem> items,
			    const float clearColor[4], std::span<const Rect> damage);
	/* The whole target. */
	Result<void> render(const bufmgr::Buffer &target, std::span<const RenderItem> items,
			    const float clearColor[4]);

	/*
	 * Pixels of target as width*height uint32 0xAARRGGBB, rows top first,
	 * for screenshots. Formats without alpha read as opaque.
	 */
	virtual Result<std::vector<uint32_t>> readPixels(const bufmgr::Buffer &target) = 0;

	/*
	 * Forgets what passes cached for a target (framebuffer, EGLImage,
	 * mapping, which keep its memory alive): call before freeing an
	 * output buffer. The cache is bounded, so forgetting is not a leak.
	 */
	virtual void releaseTarget([[maybe_unused]] const bufmgr::Buffer &target) {}
};

/*
 * "import shm 64x48 XR24": how renderers' error messages start. Spelled
 * out only when an error is: the paths that name an image run every
 * frame. what is a string literal: it is kept, not copied.
 */
class ImageDescription
{
public:
	ImageDescription(const char *what, uint32_t width, uint32_t height, uint32_t format)
		: what_(what), width_(width), height_(height), format_(format)
	{
	}

	std::string str() const;

	friend std::string operator+(const ImageDescription &image, std::string_view rest)
	{
		return image.str().append(rest);
	}

private:
	const char *what_;
	uint32_t width_, height_, format_;
};

/* Rows in memory order: linear, or implicit (heaps, udmabuf, dumb buffers are linear). */
bool isLinearLayout(uint64_t modifier);

/* Blocks until a sync file (PassCompletion::syncFd) signals; fd < 0: at once. */
Result<void> waitForSyncFile(int fd);

/*
 * Clips damage to a width x height buffer, drops empty rects, and merges
 * everything into the bounding box when there are too many rects for
 * separate copies or draws to pay off.
 */
std::vector<Rect> clipDamage(std::span<const Rect> damage, uint32_t width, uint32_t height);

/*
 * The box of item's texture a draw samples: its source, or the whole
 * texture; EINVAL naming the box if it is not inside the texture.
 */
Result<SourceBox> sourceBoxOf(const RenderItem &item);

} /* namespace comp */
