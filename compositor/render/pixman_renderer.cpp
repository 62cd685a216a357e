/* SPDX-License-Identifier: MIT */
#include "pixman_renderer.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <optional>

#include <drm_fourcc.h>
#include <pixman.h>

#include <bufmgr/format.h>
#include <bufmgr/log.h>
#include <bufmgr/mapping.h>

#include "target_key.h"
#include "transform.h"
#include "yuv_convert.h"

namespace comp {

namespace {

using bufmgr::unexpected;

/* Outputs × swapchain slots; beyond that the least recently used goes. */
constexpr size_t kMaxTargets = 8;

struct PixmanFormat {
	uint32_t drm;
	pixman_format_code_t pixman;
};

/* DRM fourccs are little-endian words; so are pixman's on this CPU. */
constexpr PixmanFormat kFormats[] = {
	{ DRM_FORMAT_ARGB8888, PIXMAN_a8r8g8b8 },
	{ DRM_FORMAT_XRGB8888, PIXMAN_x8r8g8b8 },
	{ DRM_FORMAT_ABGR8888, PIXMAN_a8b8g8r8 },
	{ DRM_FORMAT_XBGR8888, PIXMAN_x8b8g8r8 },
	{ DRM_FORMAT_RGBA8888, PIXMAN_r8g8b8a8 },
	{ DRM_FORMAT_RGBX8888, PIXMAN_r8g8b8x8 },
	{ DRM_FORMAT_BGRA8888, PIXMAN_b8g8r8a8 },
	{ DRM_FORMAT_BGRX8888, PIXMAN_b8g8r8x8 },
	{ DRM_FORMAT_ARGB2101010, PIXMAN_a2r10g10b10 },
	{ DRM_FORMAT_XRGB2101010, PIXMAN_x2r10g10b10 },
	{ DRM_FORMAT_ABGR2101010, PIXMAN_a2b10g10r10 },
	{ DRM_FORMAT_XBGR2101010, PIXMAN_x2b10g10r10 },
	{ DRM_FORMAT_RGB888, PIXMAN_r8g8b8 },
	{ DRM_FORMAT_BGR888, PIXMAN_b8g8r8 },
	{ DRM_FORMAT_RGB565, PIXMAN_r5g6b5 },
	{ DRM_FORMAT_BGR565, PIXMAN_b5g6r5 },
};

/* The same pixels with their alpha bits ignored, where pixman has such a format. */
pixman_format_code_t withoutAlpha(pixman_format_code_t format)
{
	if (PIXMAN_FORMAT_A(format) == 0)
		return format;
	const auto opaque = pixman_format_code_t(PIXMAN_FORMAT(
		PIXMAN_FORMAT_BPP(format), PIXMAN_FORMAT_TYPE(format), 0, PIXMAN_FORMAT_R(format),
		PIXMAN_FORMAT_G(format), PIXMAN_FORMAT_B(format)));
	return pixman_format_supported_source(opaque) ? opaque : format;
}

/* Initialises region to the union of rects. */
void initRegion(pixman_region32_t *region, std::span<const Rect> rects)
{
	std::vector<pixman_box32_t> boxes;
	boxes.reserve(rects.size());
	for (const Rect &r : rects)
		boxes.push_back({ r.x, r.y, int32_t(r.right()), int32_t(r.bottom()) });
	pixman_region32_init_rects(region, boxes.data(), int(boxes.size()));
}

std::optional<pixman_format_code_t> pixmanFormat(uint32_t drm)
{
	for (const PixmanFormat &f : kFormats) {
		if (f.drm == drm)
			return f.pixman;
	}
	return std::nullopt;
}

uint32_t bytesPerPixel(pixman_format_code_t format)
{
	return PIXMAN_FORMAT_BPP(format) / 8;
}

/* A float channel as GL stores it in 8 bits, widened so that >> 8 gives it back. */
uint16_t channel16(float value)
{
	return uint16_t(std::lround(std::clamp(value, 0.0f, 1.0f) * 255.0f) * 257);
}

struct ImageRef {
	pixman_image_t *image = nullptr;
	explicit ImageRef(pixman_image_t *i = nullptr) : image(i) {}
	~ImageRef()
	{
		if (image)
			pixman_image_unref(image);
	}
	ImageRef(ImageRef &&other) noexcept : image(std::exchange(other.image, nullptr)) {}
	ImageRef &operator=(ImageRef &&other) noexcept
	{
		std::swap(image, other.image);
		return *this;
	}
	ImageRef(const ImageRef &) = delete;
	ImageRef &operator=(const ImageRef &) = delete;
	explicit operator bool() const { return image != nullptr; }
};

/*
 * A pixman image of client pixels: a copy (wl_shm) or, for a dma-buf, a
 * mapping of the client's memory that passes read inside a sync.
 */
class PixmanTexture final : public Texture
{
public:
	enum class Source : uint8_t {
		ShmCopy,	/* pixels of its own, updated by updateShm() */
		ShmInPlace,	/* a client's wl_shm memory (wrapShm()) */
		DmaBuf,		/* a mapping of a client's dma-buf */
		YuvCopy,	/* RGB of its own, converted from a mapped YUV dma-buf */
	};

	PixmanTexture(ImageRef image, uint32_t fourcc, Source source,
		      std::optional<bufmgr::Mapping> mapping = std::nullopt)
		: image_(std::move(image)), fourcc_(fourcc), source_(source),
		  mapping_(std::move(mapping))
	{
	}

	uint32_t width() const override { return pixman_image_get_width(image_.image); }
	uint32_t height() const override { return pixman_image_get_height(image_.image); }
	bool hasAlpha() const override { return PIXMAN_FORMAT_A(format()) != 0; }

	pixman_image_t *image() const { return image_.image; }
	pixman_format_code_t format() const { return pixman_image_get_format(image_.image); }
	uint32_t fourcc() const { return fourcc_; }
	uint8_t *bits() const { return reinterpret_cast<uint8_t *>(pixman_image_get_data(image_.image)); }
	uint32_t stride() const { return pixman_image_get_stride(image_.image); }
	Source source() const { return source_; }
	/* Set for dma-buf imports: the client's memory the image reads. */
	const bufmgr::Mapping *mapping() const { return mapping_ ? &*mapping_ : nullptr; }
	/* YuvCopy: the strides of the mapped planes. */
	const std::array<uint32_t, 3> &planeStrides() const { return planeStrides_; }
	void setPlaneStrides(const std::array<uint32_t, 3> &strides) { planeStrides_ = strides; }
	/* A pass could not begin reading it: said once. */
	mutable bool readFailed = false;

private:
	ImageRef image_;
	uint32_t fourcc_;
	Source source_;
	std::optional<bufmgr::Mapping> mapping_;
	std::array<uint32_t, 3> planeStrides_{};
};

/* An output buffer mapped once, with an image on the mapping. */
struct PixmanTarget {
	TargetKey key;
	bufmgr::Mapping mapping;
	ImageRef image;
	uint64_t lastUse = 0;
};

class PixmanPass;

class PixmanRenderer final : public Renderer
{
public:
	explicit PixmanRenderer(const PixmanRendererOptions &options);

	std::string_view name() const override { return "pixman"; }
	DmaBufPath dmaBufPath() const override { return DmaBufPath::Cpu; }
	uint32_t maxTextureSize() const override { return options_.maxTextureSize; }
	std::vector<FormatModifier> dmaBufFormats() const override;
	std::vector<uint32_t> shmFormats() const override;

	Result<std::unique_ptr<Texture>>
	importShm(const uint8_t *data, uint32_t width, uint32_t height, uint32_t stride,
		  uint32_t format) override;
	Result<void> updateShm(Texture &texture, const uint8_t *data, uint32_t stride,
			       std::span<const Rect> damage) override;
	bool readsShmInPlace() const override { return true; }
	Result<std::unique_ptr<Texture>> wrapShm(const uint8_t *data, uint32_t width,
						 uint32_t height, uint32_t stride,
						 uint32_t format) override;
	Result<std::unique_ptr<Texture>> importDmaBuf(const bufmgr::Buffer &buffer) override;
	Result<void> checkDmaBuf(const bufmgr::Buffer &buffer) const override;
	Result<void> updateDmaBuf(Texture &texture, const bufmgr::Buffer &buffer,
				  std::span<const Rect> damage) override;
	Result<std::unique_ptr<Texture>> importYuv(const bufmgr::Buffer &buffer,
						   const ImageDescription &what);
	Result<void> convertFromYuv(PixmanTexture &texture, std::span<const Rect> rects);

	Result<std::unique_ptr<RenderPass>> beginPass(const bufmgr::Buffer &target,
						      std::span<const Rect> damage) override;
	Result<std::vector<uint32_t>> readPixels(const bufmgr::Buffer &target) override;
	void releaseTarget(const bufmgr::Buffer &target) override;

private:
	friend class PixmanPass;

	Result<void> checkSize(const ImageDescription &what, uint32_t width, uint32_t height) const;
	/* The pixman format of wl_shm content, if data, size, format and stride are sane. */
	Result<pixman_format_code_t> checkShm(const ImageDescription &what, const uint8_t *data,
					      uint32_t width, uint32_t height, uint32_t stride,
					      uint32_t format) const;
	Result<PixmanTarget *> targetFor(const bufmgr::Buffer &buffer, const TargetKey &key,
					 bool *created);

	PixmanRendererOptions options_;
	std::vector<std::unique_ptr<PixmanTarget>> targets_;
	uint64_t useCounter_ = 0;
	PixmanTarget *passTarget_ = nullptr;
	bool releaseAfterPass_ = false;
};

/* See RenderPass: composites as calls come, clipped to the damage. */
class PixmanPass final : public RenderPass
{
public:
	PixmanPass(PixmanRenderer &renderer, PixmanTarget &target, std::vector<Rect> clip,
		   bufmgr::Mapping::CpuAccess access);
	~PixmanPass() override;

	void addTexture(const RenderItem &item) override;
	void addRect(const RectDraw &rect) override;
	Result<PassCompletion> submit() override;
	std::span<const Rect> clip() const override { return clip_; }

private:
	bool ready();
	void fail(bufmgr::Error error);
	/* Brackets reads of a dma-buf texture until submit(). */
	bool beginRead(const PixmanTexture &texture);
	/* Draws item inside region, which the target's clip is set to. */
	void drawTexture(const RenderItem &item, const SourceBox &box, const PixmanTexture &texture,
			 const pixman_region32_t &region);
	/*
	 * A 1:1 copy of texture's pixels, read as format, from (sx, sy) to
	 * dst within region, row by row; false when it cannot be one.
	 */
	bool copyRows(const PixmanTexture &texture, pixman_format_code_t format, int32_t sx,
		      int32_t sy, const Rect &dst, const pixman_region32_t &region);
	/* A view of texture's pixels read as format, sampling box through transform. */
	ImageRef transformedView(const PixmanTexture &texture, pixman_format_code_t format,
				 const RenderItem &item, const SourceBox &box, bool exact);

	PixmanRenderer &renderer_;
	PixmanTarget &target_;
	std::vector<Rect> clip_;
	Rect bounds_;
	pixman_region32_t region_;
	std::optional<bufmgr::Mapping::CpuAccess> targetAccess_;
	std::vector<const PixmanTexture *> reading_;
	std::vector<bufmgr::Mapping::CpuAccess> readAccesses_;
	std::optional<bufmgr::Error> error_;
	bool submitted_ = false;
};

PixmanRenderer::PixmanRenderer(const PixmanRendererOptions &options) : options_(options) {}

std::vector<Renderer::FormatModifier> PixmanRenderer::dmaBufFormats() const
{
	std::vector<FormatModifier> formats;
	for (const PixmanFormat &f : kFormats) {
		formats.push_back({ f.drm, DRM_FORMAT_MOD_LINEAR });
		formats.push_back({ f.drm, DRM_FORMAT_MOD_INVALID });
	}
	/* Converted to RGB on import: what video decoders and cameras give. */
	for (uint32_t yuv : { DRM_FORMAT_NV12, DRM_FORMAT_YUV420 }) {
		formats.push_back({ yuv, DRM_FORMAT_MOD_LINEAR });
		formats.push_back({ yuv, DRM_FORMAT_MOD_INVALID });
	}
	return formats;
}

std::vector<uint32_t> PixmanRenderer::shmFormats() const
{
	std::vector<uint32_t> formats;
	for (const PixmanFormat &f : kFormats)
		formats.push_back(f.drm);
	return formats;
}

Result<void> PixmanRenderer::checkSize(const ImageDescription &what, uint32_t width,
				       uint32_t height) const
{
	if (width == 0 || height == 0)
		return unexpected(EINVAL, what + ": empty buffer");
	if (width > options_.maxTextureSize || height > options_.maxTextureSize)
		return unexpected(EINVAL, what + ": larger than the limit of " +
					  std::to_string(options_.maxTextureSize));
	return {};
}

Result<pixman_format_code_t> PixmanRenderer::checkShm(const ImageDescription &what,
						      const uint8_t *data, uint32_t width,
						      uint32_t height, uint32_t stride,
						      uint32_t format) const
{
	if (!data)
		return unexpected(EINVAL, what + ": no data");
	if (auto ret = checkSize(what, width, height); !ret)
		return unexpected(std::move(ret).error());
	auto pixman = pixmanFormat(format);
	if (!pixman)
		return unexpected(ENOTSUP, what + ": unsupported format");
	const uint64_t rowBytes = uint64_t(width) * bytesPerPixel(*pixman);
	if (stride < rowBytes)
		return unexpected(EINVAL, what + ": stride " + std::to_string(stride) +
					  " too small for rows of " + std::to_string(rowBytes) + " B");
	return *pixman;
}

Result<std::unique_ptr<Texture>>
PixmanRenderer::importShm(const uint8_t *data, uint32_t width, uint32_t height, uint32_t stride,
			  uint32_t format)
{
	const ImageDescription what("import shm", width, height, format);
	auto pixman = checkShm(what, data, width, height, stride, format);
	if (!pixman)
		return unexpected(std::move(pixman).error());

	/* pixman picks a stride of whole words and owns the memory. */
	ImageRef image(pixman_image_create_bits_no_clear(*pixman, width, height, nullptr, 0));
	if (!image)
		return unexpected(ENOMEM, what + ": no memory for the copy");
	auto texture = std::make_unique<PixmanTexture>(std::move(image), format,
						       PixmanTexture::Source::ShmCopy);
	const Rect whole{ 0, 0, int32_t(width), int32_t(height) };
	if (auto ret = updateShm(*texture, data, stride, std::span(&whole, 1)); !ret)
		return unexpected(std::move(ret).error());
	return std::unique_ptr<Texture>(std::move(texture));
}

Result<void> PixmanRenderer::updateShm(Texture &texture, const uint8_t *data, uint32_t stride,
				       std::span<const Rect> damage)
{
	auto *t = dynamic_cast<PixmanTexture *>(&texture);
	if (!t || t->source() != PixmanTexture::Source::ShmCopy)
		return unexpected(EINVAL, "update shm: not a shm copy of the pixman renderer");
	const ImageDescription what("update shm", t->width(), t->height(), t->fourcc());
	if (!data)
		return unexpected(EINVAL, what + ": no data");
	const uint32_t bpp = bytesPerPixel(t->format());
	if (stride < uint64_t(t->width()) * bpp)
		return unexpected(EINVAL, what + ": stride " + std::to_string(stride) +
					  " too small for rows of " +
					  std::to_string(uint64_t(t->width()) * bpp) + " B");
	for (const Rect &r : clipDamage(damage, t->width(), t->height())) {
		const size_t bytes = size_t(r.width) * bpp;
		for (int32_t y = r.y; y < r.bottom(); y++)
			memcpy(t->bits() + size_t(y) * t->stride() + size_t(r.x) * bpp,
			       data + size_t(y) * stride + size_t(r.x) * bpp, bytes);
	}
	return {};
}

Result<std::unique_ptr<Texture>>
PixmanRenderer::wrapShm(const uint8_t *data, uint32_t width, uint32_t height, uint32_t stride,
			uint32_t format)
{
	const ImageDescription what("wrap shm", width, height, format);
	auto pixman = checkShm(what, data, width, height, stride, format);
	if (!pixman)
		return unexpected(std::move(pixman).error());
	/* pixman addresses rows in 32-bit words; other layouts are copied. */
	if (stride % 4 || reinterpret_cast<uintptr_t>(data) % 4)
		return unexpected(EINVAL, what + ": stride " + std::to_string(stride) +
					  " or offset is no whole number of words");
	/* Only ever a source: pixman reads it, never writes. */
	auto *bits = reinterpret_cast<uint32_t *>(const_cast<uint8_t *>(data));
	ImageRef image(pixman_image_create_bits(*pixman, width, height, bits, stride));
	if (!image)
		return unexpected(ENOMEM, what + ": pixman image");
	return std::unique_ptr<Texture>(std::make_unique<PixmanTexture>(
		std::move(image), format, PixmanTexture::Source::ShmInPlace));
}

Result<void> PixmanRenderer::checkDmaBuf(const bufmgr::Buffer &buffer) const
{
	const ImageDescription what("import dma-buf", buffer.width(), buffer.height(),
					  buffer.format());
	if (!buffer.isValid())
		return unexpected(EINVAL, what + ": empty buffer");
	if (auto ret = checkSize(what, buffer.width(), buffer.height()); !ret)
		return unexpected(std::move(ret).error());
	if (!isLinearLayout(buffer.modifier()))
		return unexpected(ENOTSUP, what + ": pixman needs a linear buffer");
	/* YUV is converted row by row: any stride its rows fit in will do. */
	if (isConvertibleYuv(buffer.format()))
		return {};
	auto pixman = pixmanFormat(buffer.format());
	if (!pixman || buffer.numPlanes() != 1)
		return unexpected(ENOTSUP, what + ": not a single-plane RGB format pixman reads");
	const bufmgr::BufferPlane &plane = buffer.plane(0);
	const uint64_t rowBytes = uint64_t(buffer.width()) * bytesPerPixel(*pixman);
	/* pixman addresses rows in 32-bit words. */
	if (plane.stride < rowBytes || plane.stride % 4 || plane.offset % 4)
		return unexpected(EINVAL, what + ": stride " + std::to_string(plane.stride) +
					  " and offset " + std::to_string(plane.offset) +
					  " must be whole words, rows of " +
					  std::to_string(rowBytes) + " B");
	return {};
}

Result<std::unique_ptr<Texture>> PixmanRenderer::importDmaBuf(const bufmgr::Buffer &buffer)
{
	const ImageDescription what("import dma-buf", buffer.width(), buffer.height(),
					  buffer.format());
	if (auto ret = checkDmaBuf(buffer); !ret)
		return unexpected(std::move(ret).error());
	if (isConvertibleYuv(buffer.format()))
		return importYuv(buffer, what);
	const pixman_format_code_t pixman = *pixmanFormat(buffer.format());
	const bufmgr::BufferPlane &plane = buffer.plane(0);
	const uint64_t rowBytes = uint64_t(buffer.width()) * bytesPerPixel(pixman);

	auto mapping = bufmgr::Mapping::map(buffer, { bufmgr::Access::Read });
	if (!mapping)
		return unexpected(std::move(mapping).error());
	if (mapping->plane(0).size() < uint64_t(plane.stride) * (buffer.height() - 1) + rowBytes)
		return unexpected(EINVAL, what + ": rows run past the end of its fd");
	/* Every pass reads it inside DMA_BUF_IOCTL_SYNC: memory that refuses it is refused here. */
	auto probe = mapping->beginAccess(bufmgr::Access::Read);
	if (!probe)
		return unexpected(std::move(probe).error());
	if (auto ended = probe->end(); !ended)
		return unexpected(std::move(ended).error());
	/* Only ever a source: pixman reads it, never writes. */
	auto *bits = reinterpret_cast<uint32_t *>(mapping->plane(0).data());
	ImageRef image(pixman_image_create_bits(pixman, buffer.width(), buffer.height(), bits,
						plane.stride));
	if (!image)
		return unexpected(ENOMEM, what + ": pixman image");
	return std::unique_ptr<Texture>(
		std::make_unique<PixmanTexture>(std::move(image), buffer.format(),
						PixmanTexture::Source::DmaBuf, std::move(*mapping)));
}

/*
 * pixman has no YUV formats: the image is converted into RGB of the
 * texture's own, at import and then where the client damages it.
 */
Result<std::unique_ptr<Texture>> PixmanRenderer::importYuv(const bufmgr::Buffer &buffer,
							   const ImageDescription &what)
{
	const bufmgr::FormatInfo *info = bufmgr::formatInfo(buffer.format());
	if (!isLinearLayout(buffer.modifier()))
		return unexpected(ENOTSUP, what + ": pixman needs a linear buffer");
	if (!info || buffer.numPlanes() != info->numPlanes)
		return unexpected(EINVAL, what + ": " + std::to_string(buffer.numPlanes()) +
					  " planes for a format of " +
					  std::to_string(info ? info->numPlanes : 0));
	auto mapping = bufmgr::Mapping::map(buffer, { bufmgr::Access::Read });
	if (!mapping)
		return unexpected(std::move(mapping).error());
	for (size_t i = 0; i < buffer.numPlanes(); i++) {
		const uint32_t sub = i == 0 ? 1 : info->hsub;
		const uint64_t rows = i == 0 ? buffer.height() : (buffer.height() + info->vsub - 1) / info->vsub;
		const uint64_t rowBytes = uint64_t((buffer.width() + sub - 1) / sub) * info->bytesPerPixel[i];
		const uint32_t stride = buffer.plane(i).stride;
		if (stride < rowBytes)
			return unexpected(EINVAL, what + ": plane " + std::to_string(i) + " stride " +
						  std::to_string(stride) + " below rows of " +
						  std::to_string(rowBytes) + " B");
		if (mapping->plane(i).size() < uint64_t(stride) * (rows - 1) + rowBytes)
			return unexpected(EINVAL, what + ": plane " + std::to_string(i) +
						  " rows run past the end of its fd");
	}
	ImageRef image(pixman_image_create_bits_no_clear(PIXMAN_x8r8g8b8, buffer.width(),
							 buffer.height(), nullptr, 0));
	if (!image)
		return unexpected(ENOMEM, what + ": no memory for the RGB copy");
	auto texture = std::make_unique<PixmanTexture>(std::move(image), buffer.format(),
						       PixmanTexture::Source::YuvCopy,
						       std::move(*mapping));
	std::array<uint32_t, 3> strides{};
	for (size_t i = 0; i < buffer.numPlanes() && i < strides.size(); i++)
		strides[i] = buffer.plane(i).stride;
	texture->setPlaneStrides(strides);
	const Rect whole{ 0, 0, int32_t(buffer.width()), int32_t(buffer.height()) };
	if (auto ret = convertFromYuv(*texture, std::span(&whole, 1)); !ret)
		return unexpected(std::move(ret).error());
	return std::unique_ptr<Texture>(std::move(texture));
}

Result<void> PixmanRenderer::convertFromYuv(PixmanTexture &texture, std::span<const Rect> rects)
{
	const bufmgr::Mapping &mapping = *texture.mapping();
	auto access = mapping.beginAccess(bufmgr::Access::Read);
	if (!access)
		return unexpected(std::move(access).error());
	YuvImage yuv;
	yuv.format = texture.fourcc();
	yuv.width = texture.width();
	yuv.height = texture.height();
	for (size_t i = 0; i < mapping.numPlanes() && i < 3; i++) {
		yuv.planes[i] = mapping.plane(i).data();
		yuv.strides[i] = texture.planeStrides()[i];
	}
	auto *bits = reinterpret_cast<uint32_t *>(texture.bits());
	for (const Rect &rect : rects)
		convertYuv(yuv, rect, bits, texture.stride());
	return access->end();
}

Result<void> PixmanRenderer::updateDmaBuf(Texture &texture, const bufmgr::Buffer &buffer,
					  std::span<const Rect> damage)
{
	auto *t = dynamic_cast<PixmanTexture *>(&texture);
	if (t && t->source() == PixmanTexture::Source::YuvCopy) {
		if (buffer.format() != t->fourcc() || buffer.width() != t->width() ||
		    buffer.height() != t->height())
			return unexpected(EINVAL, "update dma-buf: not the buffer the texture was made from");
		return convertFromYuv(*t, damage);
	}
	if (!t || t->source() != PixmanTexture::Source::DmaBuf)
		return unexpected(EINVAL, "update dma-buf: not a dma-buf texture of the pixman renderer");
	/* Passes read the client's memory: nothing to copy. */
	return {};
}

Result<PixmanTarget *> PixmanRenderer::targetFor(const bufmgr::Buffer &buffer,
						 const TargetKey &key, bool *created)
{
	*created = false;
	for (auto &target : targets_) {
		if (target->key == key) {
			target->lastUse = ++useCounter_;
			return target.get();
		}
	}
	*created = true;

	const ImageDescription what("render into", buffer.width(), buffer.height(),
					  buffer.format());
	auto mapping = bufmgr::Mapping::map(buffer, { bufmgr::Access::ReadWrite });
	if (!mapping)
		return unexpected(std::move(mapping).error());
	const uint32_t stride = buffer.plane(0).stride;
	if (mapping->plane(0).size() < uint64_t(stride) * (buffer.height() - 1) + buffer.width() * 4)
		return unexpected(EINVAL, what + ": rows run past the end of its fd");
	auto *bits = reinterpret_cast<uint32_t *>(mapping->plane(0).data());
	ImageRef image(pixman_image_create_bits(*pixmanFormat(buffer.format()), buffer.width(),
						buffer.height(), bits, stride));
	if (!image)
		return unexpected(ENOMEM, what + ": pixman image");

	if (targets_.size() >= kMaxTargets) {
		auto oldest = std::min_element(targets_.begin(), targets_.end(),
					       [&](const auto &a, const auto &b) {
						       /* Never the one a pass draws into. */
						       if (a.get() == passTarget_)
							       return false;
						       return b.get() == passTarget_ ||
							      a->lastUse < b->lastUse;
					       });
		targets_.erase(oldest);
	}
	targets_.push_back(std::make_unique<PixmanTarget>(
		PixmanTarget{ key, std::move(*mapping), std::move(image), ++useCounter_ }));
	return targets_.back().get();
}

Result<std::unique_ptr<RenderPass>> PixmanRenderer::beginPass(const bufmgr::Buffer &target,
							       std::span<const Rect> damage)
{
	const ImageDescription what("render into", target.width(), target.height(),
					  target.format());
	if (passTarget_)
		return unexpected(EBUSY, what + ": another pass is under way");
	if (!target.isValid() || target.width() == 0 || target.height() == 0)
		return unexpected(EINVAL, what + ": empty buffer");
	auto format = pixmanFormat(target.format());
	if (!format || PIXMAN_FORMAT_BPP(*format) != 32 || target.numPlanes() != 1)
		return unexpected(ENOTSUP, what + ": not a renderable output format");
	if (!isLinearLayout(target.modifier()))
		return unexpected(ENOTSUP, what + ": pixman needs a linear buffer");
	const uint32_t stride = target.plane(0).stride;
	if (stride < uint64_t(target.width()) * 4 || stride % 4 || target.plane(0).offset % 4)
		return unexpected(EINVAL, what + ": stride " + std::to_string(stride) +
					  " is no whole number of words for its width");

	auto key = TargetKey::of(target);
	if (!key)
		return unexpected(std::move(key).error());
	bool created = false;
	auto pixmanTarget = targetFor(target, *key, &created);
	if (!pixmanTarget)
		return unexpected(std::move(pixmanTarget).error());
	/* DMA_BUF_IOCTL_SYNC: what we write reaches the display's view of it. */
	auto access = (*pixmanTarget)->mapping.beginAccess(bufmgr::Access::ReadWrite);
	if (!access)
		return unexpected(std::move(access).error());

	const Rect whole{ 0, 0, int32_t(target.width()), int32_t(target.height()) };
	std::vector<Rect> rects = created ? std::vector<Rect>{ whole }
					  : clipDamage(damage, target.width(), target.height());
	return std::unique_ptr<RenderPass>(std::make_unique<PixmanPass>(
		*this, **pixmanTarget, std::move(rects), std::move(*access)));
}

PixmanPass::PixmanPass(PixmanRenderer &renderer, PixmanTarget &target, std::vector<Rect> clip,
		       bufmgr::Mapping::CpuAccess access)
	: renderer_(renderer), target_(target), clip_(std::move(clip)),
	  targetAccess_(std::move(access))
{
	renderer_.passTarget_ = &target_;
	for (const Rect &r : clip_)
		bounds_ = bounds_.isEmpty() ? r : boundingBox(bounds_, r);
	initRegion(&region_, clip_);
	pixman_image_set_clip_region32(target_.image.image, &region_);
}

PixmanPass::~PixmanPass()
{
	pixman_image_set_clip_region32(target_.image.image, nullptr);
	pixman_region32_fini(&region_);
	renderer_.passTarget_ = nullptr;
	if (renderer_.releaseAfterPass_) {
		renderer_.releaseAfterPass_ = false;
		std::erase_if(renderer_.targets_, [&](const auto &t) { return t.get() == &target_; });
	}
}

void PixmanPass::fail(bufmgr::Error error)
{
	if (!error_)
		error_ = std::move(error);
}

bool PixmanPass::ready()
{
	if (submitted_) {
		fail(bufmgr::makeError(EINVAL, "render: draw after submit"));
		return false;
	}
	return !error_ && !clip_.empty();
}

bool PixmanPass::beginRead(const PixmanTexture &texture)
{
	/* Only in-place dma-bufs are read during the pass; copies are the texture's own. */
	if (texture.source() != PixmanTexture::Source::DmaBuf || !texture.mapping() ||
	    std::find(reading_.begin(), reading_.end(), &texture) != reading_.end())
		return true;
	auto access = texture.mapping()->beginAccess(bufmgr::Access::Read);
	if (!access) {
		/* One client's buffer: the frame goes on without it. */
		if (!texture.readFailed) {
			bufmgr::log(bufmgr::LogLevel::Warning,
				    "render: not drawn: " + access.error().message());
			texture.readFailed = true;
		}
		return false;
	}
	reading_.push_back(&texture);
	readAccesses_.push_back(std::move(*access));
	return true;
}

/*
 * pixman's SRC blit of rows narrower than their image (a window, a frame
 * cut around the overlay) runs at a third of memcpy's speed when the
 * memory is no longer cached, as a client's new frame is not; over whole
 * rows they are alike. Between images of one format a copy is memcpy
 * (padding bits, as in XRGB's X byte, copied as they are).
 */
bool PixmanPass::copyRows(const PixmanTexture &texture, pixman_format_code_t format, int32_t sx,
			  int32_t sy, const Rect &dst, const pixman_region32_t &region)
{
	pixman_image_t *target = target_.image.image;
	if (format != pixman_image_get_format(target) || PIXMAN_FORMAT_BPP(format) != 32)
		return false;
	/* Within the region, and the texture (where sourceBoxOf() holds the box already). */
	const Rect source{ dst.x - sx, dst.y - sy, int32_t(texture.width()),
			   int32_t(texture.height()) };
	const Rect area = intersect(dst, source);
	if (area.isEmpty())
		return true;
	pixman_region32_t copy;
	pixman_region32_init_rect(&copy, area.x, area.y, uint32_t(area.width),
				  uint32_t(area.height));
	pixman_region32_intersect(&copy, &copy, &region);
	int count = 0;
	const pixman_box32_t *boxes = pixman_region32_rectangles(&copy, &count);
	auto *out = reinterpret_cast<uint8_t *>(pixman_image_get_data(target));
	const size_t outStride = size_t(pixman_image_get_stride(target));
	const uint8_t *in = texture.bits();
	const size_t inStride = texture.stride();
	for (int i = 0; i < count; i++) {
		const pixman_box32_t &b = boxes[i];
		const size_t bytes = size_t(b.x2 - b.x1) * 4;
		for (int32_t y = b.y1; y < b.y2; y++)
			std::memcpy(out + size_t(y) * outStride + size_t(b.x1) * 4,
				    in + size_t(y - source.y) * inStride + size_t(b.x1 - source.x) * 4,
				    bytes);
	}
	pixman_region32_fini(&copy);
	return true;
}

ImageRef PixmanPass::transformedView(const PixmanTexture &texture, pixman_format_code_t format,
				     const RenderItem &item, const SourceBox &box, bool exact)
{
	const Rect &dst = item.destination;
	const double height = texture.height();
	/* Output pixel coordinates to buffer memory coordinates: an affine map. */
	auto map = [&](double x, double y, double *u, double *v) {
		double s = (x - dst.x) / dst.width, t = (y - dst.y) / dst.height;
		toBuffer(item.transform, 1, 1, &s, &t);
		*u = box.x + s * box.width;
		*v = box.y + t * box.height;
		/* Rows bottom first: the box counts rows from the memory's end. */
		if (item.yInvert)
			*v = height - *v;
	};

	/*
	 * Filtering must not reach texels outside the box (a decoder's
	 * padding, another sprite): sample a view of just the box's whole
	 * pixels, padded at its edges. Its first pixel starts on a word.
	 */
	const uint32_t bpp = bytesPerPixel(texture.format());
	double top = item.yInvert ? height - box.y - box.height : box.y;
	int32_t x0 = 0, y0 = 0, x1 = texture.width(), y1 = texture.height();
	if (!exact) {
		x0 = int32_t(std::floor(box.x));
		y0 = int32_t(std::floor(top));
		x1 = std::min<int32_t>(x1, int32_t(std::ceil(box.x + box.width)));
		y1 = std::min<int32_t>(y1, int32_t(std::ceil(top + box.height)));
		while ((size_t(x0) * bpp) % 4)
			x0--;
	}
	auto *bits = reinterpret_cast<uint32_t *>(texture.bits() + size_t(y0) * texture.stride() +
						  size_t(x0) * bpp);
	ImageRef view(pixman_image_create_bits(format, x1 - x0, y1 - y0, bits, texture.stride()));
	if (!view) {
		fail(bufmgr::makeError(ENOMEM, "render: pixman image"));
		return view;
	}

	double cx, cy, ux, uy, vx, vy;
	map(0, 0, &cx, &cy);
	map(1, 0, &ux, &uy);
	map(0, 1, &vx, &vy);
	pixman_f_transform f;
	f.m[0][0] = ux - cx;
	f.m[0][1] = vx - cx;
	f.m[0][2] = cx - x0;
	f.m[1][0] = uy - cy;
	f.m[1][1] = vy - cy;
	f.m[1][2] = cy - y0;
	f.m[2][0] = 0;
	f.m[2][1] = 0;
	f.m[2][2] = 1;
	pixman_transform fixed;
	pixman_transform_from_pixman_f_transform(&fixed, &f);
	pixman_image_set_transform(view.image, &fixed);
	pixman_image_set_filter(view.image, exact ? PIXMAN_FILTER_NEAREST : PIXMAN_FILTER_BILINEAR,
				nullptr, 0);
	pixman_image_set_repeat(view.image, PIXMAN_REPEAT_PAD);
	return view;
}

void PixmanPass::addTexture(const RenderItem &item)
{
	if (!ready())
		return;
	auto box = sourceBoxOf(item);
	if (!box) {
		fail(std::move(box).error());
		return;
	}
	const auto *texture = dynamic_cast<const PixmanTexture *>(item.texture);
	if (!texture) {
		fail(bufmgr::makeError(EINVAL, "render: texture was not made by the pixman renderer"));
		return;
	}
	const Rect &dst = item.destination;
	if (dst.isEmpty() || item.alpha <= 0.0f || !overlaps(dst, bounds_))
		return;
	if (item.clip.empty()) {
		drawTexture(item, *box, *texture, region_);
		return;
	}
	/* The damage narrowed to the item's clip, as the target's clip while it draws. */
	pixman_region32_t narrowed;
	initRegion(&narrowed, item.clip);
	pixman_region32_intersect(&narrowed, &narrowed, &region_);
	if (pixman_region32_not_empty(&narrowed)) {
		pixman_image_set_clip_region32(target_.image.image, &narrowed);
		drawTexture(item, *box, *texture, narrowed);
		pixman_image_set_clip_region32(target_.image.image, &region_);
	}
	pixman_region32_fini(&narrowed);
}

void PixmanPass::drawTexture(const RenderItem &item, const SourceBox &box,
			     const PixmanTexture &texture, const pixman_region32_t &region)
{
	const Rect &dst = item.destination;
	const float alpha = std::clamp(item.alpha, 0.0f, 1.0f);
	if (!beginRead(texture)) {
		/* Unreadable now: black there, never pixels an older frame left in the target. */
		RectDraw black;
		black.destination = dst;
		addRect(black);
		return;
	}

	ImageRef mask;
	if (alpha < 1.0f) {
		const uint16_t a = channel16(alpha);
		pixman_color_t color{ a, a, a, a };
		mask = ImageRef(pixman_image_create_solid_fill(&color));
	}
	/* An opaque item's pixels are read through a format without alpha: copied, not blended. */
	const pixman_format_code_t format = item.opaque && !mask ? withoutAlpha(texture.format())
								 : texture.format();
	const pixman_op_t op = PIXMAN_FORMAT_A(format) != 0 || mask ? PIXMAN_OP_OVER : PIXMAN_OP_SRC;

	/* 1:1 on whole pixels copies exactly; anything else is filtered. */
	const bool swap = swapsAxes(item.transform);
	const bool exact = dst.width == (swap ? box.height : box.width) &&
			   dst.height == (swap ? box.width : box.height) &&
			   box.x == std::floor(box.x) && box.y == std::floor(box.y);
	if (exact && item.transform == Transform::Normal && !item.yInvert) {
		if (op == PIXMAN_OP_SRC &&
		    copyRows(texture, format, int32_t(box.x), int32_t(box.y), dst, region))
			return;
		ImageRef opaqueView;
		if (format != texture.format()) {
			opaqueView = ImageRef(pixman_image_create_bits(
				format, texture.width(), texture.height(),
				reinterpret_cast<uint32_t *>(texture.bits()), texture.stride()));
			if (!opaqueView) {
				fail(bufmgr::makeError(ENOMEM, "render: pixman image"));
				return;
			}
		}
		pixman_image_composite32(op, opaqueView ? opaqueView.image : texture.image(),
					 mask.image, target_.image.image, int32_t(box.x),
					 int32_t(box.y), 0, 0, dst.x, dst.y, dst.width, dst.height);
		return;
	}
	ImageRef view = transformedView(texture, format, item, box, exact);
	if (!view)
		return;
	/* The view's transform takes output pixels: source and destination coincide. */
	pixman_image_composite32(op, view.image, mask.image, target_.image.image, dst.x, dst.y, 0,
				 0, dst.x, dst.y, dst.width, dst.height);
}

void PixmanPass::addRect(const RectDraw &rect)
{
	if (!ready() || rect.destination.isEmpty())
		return;
	const float *c = rect.color;
	pixman_color_t color{ channel16(c[0]), channel16(c[1]), channel16(c[2]), channel16(c[3]) };
	if (color.alpha == 0 && !color.red && !color.green && !color.blue)
		return;
	const Rect &d = rect.destination;
	pixman_box32_t box{ d.x, d.y, int32_t(d.right()), int32_t(d.bottom()) };
	/* Clipped to the damage by the target's clip region. */
	pixman_image_fill_boxes(color.alpha == 0xffff ? PIXMAN_OP_SRC : PIXMAN_OP_OVER,
				target_.image.image, &color, 1, &box);
}

Result<PassCompletion> PixmanPass::submit()
{
	if (submitted_)
		return unexpected(EINVAL, "render: pass submitted twice");
	submitted_ = true;
	/* The CPU is done: end the syncs, so the display and clients see it. */
	for (auto &access : readAccesses_) {
		if (auto ended = access.end(); !ended)
			fail(std::move(ended).error());
	}
	readAccesses_.clear();
	reading_.clear();
	auto ended = targetAccess_->end();
	targetAccess_.reset();
	if (error_)
		return unexpected(*error_);
	if (!ended)
		return unexpected(std::move(ended).error());
	return PassCompletion{};
}

Result<std::vector<uint32_t>> PixmanRenderer::readPixels(const bufmgr::Buffer &target)
{
	const ImageDescription what("read pixels of", target.width(), target.height(),
					  target.format());
	if (!target.isValid() || target.width() == 0 || target.height() == 0)
		return unexpected(EINVAL, what + ": empty buffer");
	auto format = pixmanFormat(target.format());
	if (!format || PIXMAN_FORMAT_BPP(*format) != 32 || !isLinearLayout(target.modifier()))
		return unexpected(ENOTSUP, what + ": not a linear output format");
	const uint32_t stride = target.plane(0).stride;
	if (stride < uint64_t(target.width()) * 4 || stride % 4)
		return unexpected(EINVAL, what + ": stride " + std::to_string(stride) +
					  " is no whole number of words for its width");

	auto mapping = bufmgr::Mapping::map(target, { bufmgr::Access::Read });
	if (!mapping)
		return unexpected(std::move(mapping).error());
	if (mapping->plane(0).size() < uint64_t(stride) * (target.height() - 1) + target.width() * 4)
		return unexpected(EINVAL, what + ": rows run past the end of its fd");
	auto access = mapping->beginAccess(bufmgr::Access::Read);
	if (!access)
		return unexpected(std::move(access).error());

	std::vector<uint32_t> pixels(size_t(target.width()) * target.height());
	ImageRef src(pixman_image_create_bits(*format, target.width(), target.height(),
					      reinterpret_cast<uint32_t *>(mapping->plane(0).data()),
					      stride));
	ImageRef dst(pixman_image_create_bits(PIXMAN_a8r8g8b8, target.width(), target.height(),
					      pixels.data(), target.width() * 4));
	if (!src || !dst)
		return unexpected(ENOMEM, what + ": pixman image");
	/* Formats without alpha read as opaque. */
	pixman_image_composite32(PIXMAN_OP_SRC, src.image, nullptr, dst.image, 0, 0, 0, 0, 0, 0,
				 target.width(), target.height());
	return pixels;
}

void PixmanRenderer::releaseTarget(const bufmgr::Buffer &target)
{
	auto key = TargetKey::of(target);
	if (!key)
		return;
	std::erase_if(targets_, [&](const auto &t) {
		if (t->key != *key)
			return false;
		/* The pass under way still draws into it: forget it when the pass ends. */
		if (t.get() == passTarget_) {
			releaseAfterPass_ = true;
			return false;
		}
		return true;
	});
}

} /* namespace */

Result<std::unique_ptr<Renderer>> createPixmanRenderer(const PixmanRendererOptions &options)
{
	return std::unique_ptr<Renderer>(std::make_unique<PixmanRenderer>(options));
}

} /* namespace comp */
