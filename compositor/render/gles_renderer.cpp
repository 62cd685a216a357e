/* SPDX-License-Identifier: MIT */
#include "gles_renderer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <optional>

#include <drm_fourcc.h>

#include <bufmgr/format.h>
#include <bufmgr/log.h>
#include <bufmgr/mapping.h>

#include "egl_context.h"
#include "egl_image.h"
#include "gles_format.h"
#include "gles_shaders.h"
#include "gles_texture.h"
#include "render_target.h"
#include "texture_upload.h"
#include "transform.h"

namespace comp {

namespace {

using bufmgr::LogLevel;
using bufmgr::unexpected;

/* Outputs × swapchain slots; beyond that the least recently used goes. */
constexpr size_t kMaxTargets = 8;

class GlesPass;

class GlesRendererImpl final : public GlesRenderer
{
public:
	GlesRendererImpl(std::shared_ptr<EglContext> context, DmaBufProbeResult probe);
	~GlesRendererImpl() override;

	std::string_view name() const override { return "gles"; }
	DmaBufPath dmaBufPath() const override { return path_; }
	uint32_t maxTextureSize() const override
	{
		return uint32_t(std::max(context_->caps().maxTextureSize, 0));
	}
	std::vector<FormatModifier> dmaBufFormats() const override { return dmaBufFormats_; }
	std::vector<uint32_t> shmFormats() const override { return shmTextureFormats(); }

	Result<std::unique_ptr<Texture>>
	importShm(const uint8_t *data, uint32_t width, uint32_t height, uint32_t stride,
		  uint32_t format) override;
	Result<void> updateShm(Texture &texture, const uint8_t *data, uint32_t stride,
			       std::span<const Rect> damage) override;

	Result<std::unique_ptr<Texture>> importDmaBuf(const bufmgr::Buffer &buffer) override;
	Result<void> updateDmaBuf(Texture &texture, const bufmgr::Buffer &buffer,
				  std::span<const Rect> damage) override;

	Result<std::unique_ptr<RenderPass>> beginPass(const bufmgr::Buffer &target,
						      std::span<const Rect> damage) override;
	Result<std::vector<uint32_t>> readPixels(const bufmgr::Buffer &target) override;
	void releaseTarget(const bufmgr::Buffer &target) override;

	const DmaBufProbeResult &probeResult() const override { return probe_; }
	const std::string &description() const override { return context_->description(); }
	bool rendersIntoDmaBufs() const override { return direct_; }
	const std::string &glRenderer() const override { return context_->glRenderer(); }

private:
	friend class GlesPass;

	Result<void> makeCurrent() const;
	Result<GlesTexture *> ownTexture(const Texture &texture, const char *what) const;
	Result<std::unique_ptr<Texture>> importDmaBufGpu(const bufmgr::Buffer &buffer);
	Result<std::unique_ptr<Texture>> importDmaBufCpu(const bufmgr::Buffer &buffer);
	Result<void> uploadDmaBuf(GlesTexture &texture, std::span<const Rect> rects,
				  bool define);
	/* created: the target is new, its framebuffer holds nothing yet. */
	Result<RenderTarget *> targetFor(const bufmgr::Buffer &buffer, const TargetKey &key,
					 bool *created);
	Result<void> checkItem(const RenderItem &item, SourceBox *source) const;
	Result<void> drawItem(const RenderItem &item, const SourceBox &source,
			      uint32_t width, uint32_t height);

	std::shared_ptr<EglContext> context_;
	DmaBufProbeResult probe_;
	DmaBufPath path_ = DmaBufPath::Cpu;
	bool direct_ = false;
	ShaderCache shaders_;
	TextureUploader uploader_;
	std::vector<std::unique_ptr<RenderTarget>> targets_;
	uint64_t useCounter_ = 0;
	std::vector<FormatModifier> dmaBufFormats_;
	bool warnedGpuImport_ = false;
	bool warnedDirectTarget_ = false;
	/* The target of the pass under way, if any (see releaseTarget()). */
	RenderTarget *passTarget_ = nullptr;
	bool passActive_ = false;
	bool releaseAfterPass_ = false;
};

/* See GlesRenderPass. Draws as calls come: GL queues them anyway. */
class GlesPass final : public GlesRenderPass
{
public:
	GlesPass(GlesRendererImpl &renderer, RenderTarget &target, std::vector<Rect> clip);
	~GlesPass() override;

	void addTexture(const RenderItem &item) override;
	void addRect(const RectDraw &rect) override;
	void drawWithGl(const std::function<void(const GlPassState &)> &draw) override;
	Result<PassCompletion> submit() override;
	std::span<const Rect> clip() const override { return clip_; }

private:
	bool ready();
	void fail(bufmgr::Error error);
	/* The state every draw of the pass assumes. */
	void setState();
	/* Sync file of the commands so far, if the driver has native fences. */
	bufmgr::UniqueFd fence();

	GlesRendererImpl &renderer_;
	RenderTarget &target_;
	std::vector<Rect> clip_;
	Rect drawn_;
	std::optional<bufmgr::Error> error_;
	bool submitted_ = false;
};

GlesRendererImpl::GlesRendererImpl(std::shared_ptr<EglContext> context, DmaBufProbeResult probe)
	: context_(std::move(context)), probe_(std::move(probe)),
	  shaders_(context_->caps()), uploader_(context_->caps())
{
	const GlesCaps &caps = context_->caps();
	if (probe_.canSample && caps.dmaBufImport)
		path_ = DmaBufPath::Gpu;
	direct_ = path_ == DmaBufPath::Gpu && probe_.canRender &&
		  context_->procs().imageTargetRenderbufferStorage;

	/*
	 * The CPU path takes linear buffers of its formats on either path,
	 * and implicit-modifier ones (clients whose GBM has no modifiers):
	 * it reads them as linear, which is what heaps, udmabuf and dumb
	 * buffers are. Drivers with tiled implicit layouts pass the import
	 * probe and are sampled by the GPU instead.
	 */
	for (uint32_t format : cpuTextureFormats()) {
		dmaBufFormats_.push_back({ format, DRM_FORMAT_MOD_LINEAR });
		dmaBufFormats_.push_back({ format, DRM_FORMAT_MOD_INVALID });
	}
	if (path_ == DmaBufPath::Gpu) {
		for (const FormatModifier &pair : queryDmaBufFormats(*context_, cpuTextureFormats())) {
			auto same = [&](const FormatModifier &p) {
				return p.format == pair.format && p.modifier == pair.modifier;
			};
			if (std::none_of(dmaBufFormats_.begin(), dmaBufFormats_.end(), same))
				dmaBufFormats_.push_back(pair);
		}
	}
}

GlesRendererImpl::~GlesRendererImpl()
{
	/* The GL objects of targets and shaders go with this context. */
	context_->makeCurrent();
	targets_.clear();
}

Result<void> GlesRendererImpl::makeCurrent() const
{
	if (!context_->makeCurrent())
		return unexpected(EIO, "render: eglMakeCurrent failed");
	return {};
}

Result<GlesTexture *> GlesRendererImpl::ownTexture(const Texture &texture, const char *what) const
{
	auto *gles = dynamic_cast<const GlesTexture *>(&texture);
	if (!gles || gles->context() != context_.get())
		return unexpected(EINVAL, std::string(what) +
					  ": texture was not made by this renderer");
	return const_cast<GlesTexture *>(gles);
}

Result<std::unique_ptr<Texture>>
GlesRendererImpl::importShm(const uint8_t *data, uint32_t width, uint32_t height,
			    uint32_t stride, uint32_t format)
{
	const ImageDescription what("import shm", width, height, format);
	if (!data || width == 0 || height == 0)
		return unexpected(EINVAL, what + ": empty buffer");
	const auto &formats = shmTextureFormats();
	GlFormat glFormat;
	if (std::find(formats.begin(), formats.end(), format) == formats.end() ||
	    !lookupGlFormat(format, context_->caps(), &glFormat))
		return unexpected(ENOTSUP, what + ": unsupported format");
	const uint64_t rowBytes = uint64_t(width) * glFormat.planes[0].bytesPerPixel;
	if (stride < rowBytes)
		return unexpected(EINVAL, what + ": stride " + std::to_string(stride) +
					  " too small for rows of " + std::to_string(rowBytes) + " B");
	const int maxSize = context_->caps().maxTextureSize;
	if (width > uint32_t(maxSize) || height > uint32_t(maxSize))
		return unexpected(EINVAL, what + ": larger than the GL limit of " +
					  std::to_string(maxSize));
	if (auto ret = makeCurrent(); !ret)
		return unexpected(std::move(ret).error());

	auto texture = std::make_unique<GlesTexture>(context_, GlesTexture::Source::Shm,
						     width, height, glFormat);
	glBindTexture(GL_TEXTURE_2D, texture->glTexture(0));
	uploader_.define(glFormat.planes[0], { data, stride }, width, height);
	if (GLenum error = takeGlError())
		return unexpected(EIO, what + ": upload failed (GL error " +
				       std::to_string(error) + ")");
	return std::unique_ptr<Texture>(std::move(texture));
}

Result<void> GlesRendererImpl::updateShm(Texture &texture, const uint8_t *data, uint32_t stride,
					 std::span<const Rect> damage)
{
	auto gles = ownTexture(texture, "update shm");
	if (!gles)
		return unexpected(std::move(gles).error());
	GlesTexture &t = **gles;
	const GlFormat &format = t.format();
	const ImageDescription what("update shm", t.width(), t.height(), format.fourcc);
	if (t.source() != GlesTexture::Source::Shm)
		return unexpected(EINVAL, what + ": texture is not a shm import");
	if (!data)
		return unexpected(EINVAL, what + ": no data");
	const uint64_t rowBytes = uint64_t(t.width()) * format.planes[0].bytesPerPixel;
	if (stride < rowBytes)
		return unexpected(EINVAL, what + ": stride " + std::to_string(stride) +
					  " too small for rows of " + std::to_string(rowBytes) + " B");

	std::vector<Rect> rects = clipDamage(damage, t.width(), t.height());
	if (rects.empty())
		return {};
	if (auto ret = makeCurrent(); !ret)
		return ret;
	glBindTexture(GL_TEXTURE_2D, t.glTexture(0));
	for (const Rect &r : rects)
		uploader_.update(format.planes[0], { data, stride }, r.x, r.y, r.width, r.height);
	if (GLenum error = takeGlError())
		return unexpected(EIO, what + ": upload failed (GL error " +
				       std::to_string(error) + ")");
	return {};
}

Result<std::unique_ptr<Texture>> GlesRendererImpl::importDmaBuf(const bufmgr::Buffer &buffer)
{
	const ImageDescription what("import dma-buf", buffer.width(), buffer.height(),
					  buffer.format());
	if (!buffer.isValid() || buffer.width() == 0 || buffer.height() == 0)
		return unexpected(EINVAL, what + ": empty buffer");
	const int maxSize = context_->caps().maxTextureSize;
	if (buffer.width() > uint32_t(maxSize) || buffer.height() > uint32_t(maxSize))
		return unexpected(EINVAL, what + ": larger than the GL limit of " +
					  std::to_string(maxSize));
	if (auto ret = makeCurrent(); !ret)
		return unexpected(std::move(ret).error());

	if (path_ != DmaBufPath::Gpu)
		return importDmaBufCpu(buffer);

	auto texture = importDmaBufGpu(buffer);
	if (texture)
		return texture;
	GlFormat cpuFormat;
	if (!isLinearLayout(buffer.modifier()) ||
	    !lookupGlFormat(buffer.format(), context_->caps(), &cpuFormat))
		return texture;
	/* The probe passed, but this buffer would not import: copy it instead. */
	if (!warnedGpuImport_) {
		bufmgr::log(LogLevel::Warning, "render: " + texture.error().message() +
					       "; taking the CPU path for such buffers");
		warnedGpuImport_ = true;
	}
	return importDmaBufCpu(buffer);
}

Result<std::unique_ptr<Texture>> GlesRendererImpl::importDmaBufGpu(const bufmgr::Buffer &buffer)
{
	const GlesCaps &caps = context_->caps();
	const bufmgr::FormatInfo *info = bufmgr::formatInfo(buffer.format());
	const bool yuv = info && info->isYuv;
	if (yuv && !caps.externalImages)
		return unexpected(ENOTSUP, ImageDescription("import dma-buf", buffer.width(), buffer.height(),
						    buffer.format()) +
				  ": YUV needs GL_OES_EGL_image_external");

	auto image = EglImage::import(context_, buffer);
	if (!image)
		return unexpected(std::move(image).error());

	/* The driver samples formats without alpha as opaque; force it anyway. */
	GlFormat format;
	format.fourcc = buffer.format();
	format.hasAlpha = info ? info->hasAlpha : true;
	format.numPlanes = 1;
	const bool external = caps.externalImages;
	if (external)
		format.shader = format.hasAlpha ? ShaderKind::ExternalRgba : ShaderKind::ExternalRgbx;
	else
		format.shader = format.hasAlpha ? ShaderKind::Rgba : ShaderKind::Rgbx;

	auto texture = std::make_unique<GlesTexture>(context_, GlesTexture::Source::DmaBufGpu,
						     buffer.width(), buffer.height(), format);
	texture->setImage(std::move(*image), external ? GL_TEXTURE_EXTERNAL_OES : GL_TEXTURE_2D);
	if (GLenum error = takeGlError())
		return unexpected(EIO, ImageDescription("import dma-buf", buffer.width(), buffer.height(),
						buffer.format()) +
				       ": binding the EGLImage failed (GL error " +
				       std::to_string(error) + ")");
	return std::unique_ptr<Texture>(std::move(texture));
}

Result<std::unique_ptr<Texture>> GlesRendererImpl::importDmaBufCpu(const bufmgr::Buffer &buffer)
{
	const ImageDescription what("import dma-buf", buffer.width(), buffer.height(),
					  buffer.format());
	GlFormat format;
	if (!lookupGlFormat(buffer.format(), context_->caps(), &format))
		return unexpected(ENOTSUP, what + ": format not supported by the CPU path");
	if (!isLinearLayout(buffer.modifier()))
		return unexpected(ENOTSUP, what + ": the CPU path needs a linear buffer");
	if (buffer.numPlanes() != format.numPlanes)
		return unexpected(EINVAL, what + ": " + std::to_string(buffer.numPlanes()) +
					  " planes, the format has " +
					  std::to_string(format.numPlanes));

	auto mapping = bufmgr::Mapping::map(buffer, { bufmgr::Access::Read });
	if (!mapping)
		return unexpected(std::move(mapping).error());
	for (size_t i = 0; i < format.numPlanes; i++) {
		const uint32_t stride = buffer.plane(i).stride;
		const uint64_t rowBytes = uint64_t(format.planeWidth(i, buffer.width())) *
					  format.planes[i].bytesPerPixel;
		const uint64_t rows = format.planeHeight(i, buffer.height());
		if (stride < rowBytes)
			return unexpected(EINVAL, what + ": plane " + std::to_string(i) +
						  " stride " + std::to_string(stride) +
						  " too small for rows of " +
						  std::to_string(rowBytes) + " B");
		if (mapping->plane(i).size() < uint64_t(stride) * (rows - 1) + rowBytes)
			return unexpected(EINVAL, what + ": plane " + std::to_string(i) +
						  " runs past the end of its fd");
	}

	auto texture = std::make_unique<GlesTexture>(context_, GlesTexture::Source::DmaBufCpu,
						     buffer.width(), buffer.height(), format);
	texture->setMapping(std::move(*mapping), { buffer.planes().begin(), buffer.planes().end() });
	Rect whole = { 0, 0, int32_t(buffer.width()), int32_t(buffer.height()) };
	auto ret = uploadDmaBuf(*texture, std::span(&whole, 1), true);
	if (!ret)
		return unexpected(std::move(ret).error());
	return std::unique_ptr<Texture>(std::move(texture));
}

Result<void> GlesRendererImpl::uploadDmaBuf(GlesTexture &texture, std::span<const Rect> rects,
					    bool define)
{
	const GlFormat &format = texture.format();
	const bufmgr::Mapping &mapping = *texture.mapping();
	/* DMA_BUF_IOCTL_SYNC: the client's writes are visible to us inside. */
	auto access = mapping.beginAccess(bufmgr::Access::Read);
	if (!access)
		return unexpected(std::move(access).error());

	for (size_t i = 0; i < format.numPlanes; i++) {
		const GlPlaneFormat &plane = format.planes[i];
		const PlaneData data = { mapping.plane(i).data(), texture.planes()[i].stride };
		glBindTexture(GL_TEXTURE_2D, texture.glTexture(i));
		if (define) {
			uploader_.define(plane, data, format.planeWidth(i, texture.width()),
					 format.planeHeight(i, texture.height()));
			continue;
		}
		for (const Rect &rect : rects) {
			Rect r = subsampleRect(rect, plane.hsub, plane.vsub);
			uploader_.update(plane, data, r.x, r.y, r.width, r.height);
		}
	}
	if (GLenum error = takeGlError())
		return unexpected(EIO, ImageDescription("upload dma-buf", texture.width(), texture.height(),
						format.fourcc) +
				       ": GL error " + std::to_string(error));
	return access->end();
}

Result<void> GlesRendererImpl::updateDmaBuf(Texture &texture, const bufmgr::Buffer &buffer,
					    std::span<const Rect> damage)
{
	auto gles = ownTexture(texture, "update dma-buf");
	if (!gles)
		return unexpected(std::move(gles).error());
	GlesTexture &t = **gles;
	switch (t.source()) {
	case GlesTexture::Source::DmaBufGpu:
		/* The EGLImage is the client's memory: nothing to copy. */
		return {};
	case GlesTexture::Source::Shm:
		return unexpected(EINVAL, "update dma-buf: texture is a shm import");
	case GlesTexture::Source::DmaBufCpu:
		break;
	}
	if (!t.isSameMemory(buffer))
		return unexpected(EINVAL, "update dma-buf: not the buffer the texture was imported from");

	std::vector<Rect> rects = clipDamage(damage, t.width(), t.height());
	if (rects.empty())
		return {};
	if (auto ret = makeCurrent(); !ret)
		return ret;
	return uploadDmaBuf(t, rects, false);
}

Result<RenderTarget *> GlesRendererImpl::targetFor(const bufmgr::Buffer &buffer,
						   const TargetKey &key, bool *created)
{
	*created = false;
	for (auto &target : targets_) {
		if (target->key() == key) {
			target->lastUse = ++useCounter_;
			return target.get();
		}
	}
	*created = true;

	std::unique_ptr<RenderTarget> target;
	if (direct_ && buffer.isDmaBuf()) {
		auto direct = RenderTarget::createDirect(context_, buffer, key);
		if (direct) {
			target = std::move(*direct);
		} else if (!warnedDirectTarget_) {
			bufmgr::log(LogLevel::Warning, "render: " + direct.error().message() +
						       "; rendering offscreen and copying instead");
			warnedDirectTarget_ = true;
		}
	}
	if (!target) {
		auto offscreen = RenderTarget::createOffscreen(context_, buffer, key);
		if (!offscreen)
			return unexpected(std::move(offscreen).error());
		target = std::move(*offscreen);
	}

	if (targets_.size() >= kMaxTargets) {
		auto oldest = std::min_element(targets_.begin(), targets_.end(),
					       [](const auto &a, const auto &b) {
						       return a->lastUse < b->lastUse;
					       });
		targets_.erase(oldest);
	}
	target->lastUse = ++useCounter_;
	targets_.push_back(std::move(target));
	return targets_.back().get();
}

Result<void> GlesRendererImpl::checkItem(const RenderItem &item, SourceBox *source) const
{
	auto box = sourceBoxOf(item);
	if (!box)
		return unexpected(std::move(box).error());
	auto gles = ownTexture(*item.texture, "render");
	if (!gles)
		return unexpected(std::move(gles).error());
	*source = *box;
	return {};
}

Result<void> GlesRendererImpl::drawItem(const RenderItem &item, const SourceBox &source,
					uint32_t width, uint32_t height)
{
	const Rect &dst = item.destination;
	const float alpha = std::clamp(item.alpha, 0.0f, 1.0f);
	if (dst.width <= 0 || dst.height <= 0 || alpha <= 0.0f)
		return {};

	const auto &texture = static_cast<const GlesTexture &>(*item.texture);
	const bool opaque = !texture.hasAlpha() || (item.opaque && alpha >= 1.0f);
	auto program = shaders_.get(opaque ? withoutAlpha(texture.format().shader)
					   : texture.format().shader);
	if (!program)
		return unexpected(std::move(program).error());

	/* 1:1 on whole pixels copies exactly; anything else is filtered. */
	const bool swap = swapsAxes(item.transform);
	const bool exact = dst.width == (swap ? source.height : source.width) &&
			   dst.height == (swap ? source.width : source.height) &&
			   source.x == std::floor(source.x) && source.y == std::floor(source.y);
	texture.setFilter(exact ? GL_NEAREST : GL_LINEAR);

	glUseProgram((*program)->id());
	for (size_t i = 0; i < texture.numTextures(); i++) {
		glActiveTexture(GL_TEXTURE0 + i);
		glBindTexture(texture.glTarget(), texture.glTexture(i));
		glUniform1i((*program)->samplerLocation(i), i);
	}
	glActiveTexture(GL_TEXTURE0);
	glUniform1f((*program)->alphaLocation(), alpha);

	if (opaque && alpha >= 1.0f)
		glDisable(GL_BLEND);
	else
		glEnable(GL_BLEND);

	/* Output row 0 is GL's y = 0: rows land in memory order. */
	const float x0 = -1.0f + 2.0f * dst.x / width;
	const float x1 = -1.0f + 2.0f * (double(dst.x) + dst.width) / width;
	const float y0 = -1.0f + 2.0f * dst.y / height;
	const float y1 = -1.0f + 2.0f * (double(dst.y) + dst.height) / height;
	const float s0 = source.x / texture.width();
	const float s1 = (source.x + source.width) / texture.width();
	float t0 = source.y / texture.height();
	float t1 = (source.y + source.height) / texture.height();
	/* Rows bottom first: the box is read upwards from the texture's end. */
	if (item.yInvert) {
		t0 = 1.0f - t0;
		t1 = 1.0f - t1;
	}
	/* Each corner of the destination samples the buffer where the transform put it. */
	std::array<float, 8> texcoords;
	const double corners[4][2] = { { 0, 0 }, { 1, 0 }, { 0, 1 }, { 1, 1 } };
	for (size_t i = 0; i < 4; i++) {
		double u = corners[i][0], v = corners[i][1];
		toBuffer(item.transform, 1, 1, &u, &v);
		texcoords[2 * i] = s0 + float(u) * (s1 - s0);
		texcoords[2 * i + 1] = t0 + float(v) * (t1 - t0);
	}
	/*
	 * Linear filtering at the box's edges would blend in texels outside
	 * it (a decoder's padding rows, say): clamp to the edge texels' centres.
	 */
	const float halfS = 0.5f / texture.width(), halfT = 0.5f / texture.height();
	const float cs0 = std::min(s0 + halfS, (s0 + s1) / 2), cs1 = std::max(s1 - halfS, (s0 + s1) / 2);
	const float tLo = std::min(t0, t1), tHi = std::max(t0, t1);
	const float ct0 = std::min(tLo + halfT, (t0 + t1) / 2), ct1 = std::max(tHi - halfT, (t0 + t1) / 2);
	glUniform4f((*program)->texClampLocation(), cs0, ct0, cs1, ct1);
	drawQuad({ x0, y0, x1, y0, x0, y1, x1, y1 }, texcoords);
	return {};
}

Result<std::unique_ptr<RenderPass>> GlesRendererImpl::beginPass(const bufmgr::Buffer &target,
								 std::span<const Rect> damage)
{
	const ImageDescription what("render into", target.width(), target.height(),
					  target.format());
	if (passActive_)
		return unexpected(EBUSY, what + ": another pass is under way");
	if (!target.isValid() || target.width() == 0 || target.height() == 0)
		return unexpected(EINVAL, what + ": empty buffer");
	if (!lookupTargetFormat(target.format()))
		return unexpected(ENOTSUP, what + ": not a renderable output format");
	if (target.numPlanes() != 1)
		return unexpected(EINVAL, what + ": " + std::to_string(target.numPlanes()) +
					  " planes");
	if (target.plane(0).stride < uint64_t(target.width()) * 4)
		return unexpected(EINVAL, what + ": stride " +
					  std::to_string(target.plane(0).stride) +
					  " too small for its width");

	auto key = TargetKey::of(target);
	if (!key)
		return unexpected(std::move(key).error());
	if (auto ret = makeCurrent(); !ret)
		return unexpected(std::move(ret).error());
	bool created = false;
	auto renderTarget = targetFor(target, *key, &created);
	if (!renderTarget)
		return unexpected(std::move(renderTarget).error());

	const Rect whole{ 0, 0, int32_t(target.width()), int32_t(target.height()) };
	std::vector<Rect> rects = created ? std::vector<Rect>{ whole }
					  : clipDamage(damage, target.width(), target.height());
	return std::unique_ptr<RenderPass>(
		std::make_unique<GlesPass>(*this, **renderTarget, std::move(rects)));
}

GlesPass::GlesPass(GlesRendererImpl &renderer, RenderTarget &target, std::vector<Rect> clip)
	: renderer_(renderer), target_(target), clip_(std::move(clip))
{
	renderer_.passActive_ = true;
	renderer_.passTarget_ = &target_;
	for (const Rect &rect : clip_)
		drawn_ = drawn_.isEmpty() ? rect : boundingBox(drawn_, rect);
	if (ready())
		setState();
}

GlesPass::~GlesPass()
{
	if (renderer_.makeCurrent()) {
		glDisable(GL_SCISSOR_TEST);
		glDisable(GL_BLEND);
	}
	renderer_.passActive_ = false;
	renderer_.passTarget_ = nullptr;
	if (renderer_.releaseAfterPass_) {
		renderer_.releaseAfterPass_ = false;
		renderer_.context_->makeCurrent();
		std::erase_if(renderer_.targets_, [&](const auto &t) { return t.get() == &target_; });
	}
}

void GlesPass::fail(bufmgr::Error error)
{
	if (!error_)
		error_ = std::move(error);
}

bool GlesPass::ready()
{
	if (submitted_) {
		fail(bufmgr::makeError(EINVAL, "render: draw after submit"));
		return false;
	}
	if (error_ || clip_.empty())
		return false;
	/* Another renderer on this thread may have made its context current. */
	if (auto ret = renderer_.makeCurrent(); !ret) {
		fail(std::move(ret).error());
		return false;
	}
	return true;
}

void GlesPass::setState()
{
	target_.bind();
	/* Output rows are GL rows (see drawItem()): the scissor takes output pixels. */
	glEnable(GL_SCISSOR_TEST);
	/* Premultiplied alpha: src + dst * (1 - src.a). */
	glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
}

void GlesPass::addTexture(const RenderItem &item)
{
	if (!ready())
		return;
	SourceBox source;
	if (auto ret = renderer_.checkItem(item, &source); !ret) {
		fail(std::move(ret).error());
		return;
	}
	const std::span<const Rect> within =
		item.clip.empty() ? std::span<const Rect>(&item.destination, 1) : item.clip;
	for (const Rect &damage : clip_) {
		if (!overlaps(item.destination, damage))
			continue;
		for (const Rect &part : within) {
			const Rect rect = intersect(intersect(damage, part), item.destination);
			if (rect.isEmpty())
				continue;
			glScissor(rect.x, rect.y, rect.width, rect.height);
			auto ret = renderer_.drawItem(item, source, target_.key().width,
						      target_.key().height);
			if (!ret) {
				fail(std::move(ret).error());
				return;
			}
		}
	}
}

void GlesPass::addRect(const RectDraw &rect)
{
	if (!ready() || rect.destination.isEmpty())
		return;
	const float *c = rect.color;
	if (c[3] >= 1.0f) {
		/* Opaque: a clear of each scissored piece, no shader. */
		glClearColor(c[0], c[1], c[2], c[3]);
		for (const Rect &clip : clip_) {
			Rect r = intersect(clip, rect.destination);
			if (r.isEmpty())
				continue;
			glScissor(r.x, r.y, r.width, r.height);
			glClear(GL_COLOR_BUFFER_BIT);
		}
		return;
	}
	if (c[3] <= 0.0f && c[0] <= 0.0f && c[1] <= 0.0f && c[2] <= 0.0f)
		return;
	auto program = renderer_.shaders_.get(ShaderKind::Solid);
	if (!program) {
		fail(std::move(program).error());
		return;
	}
	glUseProgram((*program)->id());
	glUniform4f((*program)->colorLocation(), c[0], c[1], c[2], c[3]);
	glEnable(GL_BLEND);
	const float w = target_.key().width, h = target_.key().height;
	const Rect &d = rect.destination;
	const float x0 = -1.0f + 2.0f * d.x / w, x1 = -1.0f + 2.0f * float(d.right()) / w;
	const float y0 = -1.0f + 2.0f * d.y / h, y1 = -1.0f + 2.0f * float(d.bottom()) / h;
	for (const Rect &clip : clip_) {
		if (!overlaps(clip, d))
			continue;
		glScissor(clip.x, clip.y, clip.width, clip.height);
		drawQuad({ x0, y0, x1, y0, x0, y1, x1, y1 }, {});
	}
}

void GlesPass::drawWithGl(const std::function<void(const GlPassState &)> &draw)
{
	if (!ready())
		return;
	GlPassState state;
	state.framebuffer = target_.framebuffer();
	state.width = target_.key().width;
	state.height = target_.key().height;
	state.clip = clip_;
	glEnable(GL_BLEND);
	draw(state);
	if (renderer_.makeCurrent())
		setState();
}

bufmgr::UniqueFd GlesPass::fence()
{
	const EglContext &context = *renderer_.context_;
	if (!context.caps().nativeFenceSync)
		return {};
	const EglProcs &procs = context.procs();
	EGLSyncKHR sync = procs.createSync(context.display(), EGL_SYNC_NATIVE_FENCE_ANDROID,
					   nullptr);
	if (sync == EGL_NO_SYNC_KHR)
		return {};
	/* The fence exists in the kernel once the commands are flushed. */
	glFlush();
	bufmgr::UniqueFd fd(procs.dupNativeFenceFd(context.display(), sync));
	procs.destroySync(context.display(), sync);
	return fd;
}

Result<PassCompletion> GlesPass::submit()
{
	if (submitted_)
		return unexpected(EINVAL, "render: pass submitted twice");
	const bool drew = ready();
	submitted_ = true;
	if (error_)
		return unexpected(*error_);
	if (!drew)
		return PassCompletion{};
	glDisable(GL_SCISSOR_TEST);
	glDisable(GL_BLEND);
	if (GLenum error = takeGlError())
		return unexpected(EIO, "render into " + std::to_string(target_.key().width) + "x" +
					       std::to_string(target_.key().height) +
					       ": GL error " + std::to_string(error));
	PassCompletion done;
	if (target_.isDirect())
		done.syncFd = fence();
	/* Without a fence, finish() waits for the GPU (or copies the frame out). */
	if (!done.syncFd) {
		auto ret = target_.finish(drawn_);
		if (!ret)
			return unexpected(std::move(ret).error());
	}
	return done;
}

Result<std::vector<uint32_t>> GlesRendererImpl::readPixels(const bufmgr::Buffer &target)
{
	const ImageDescription what("read pixels of", target.width(), target.height(),
					  target.format());
	const TargetFormat *format = lookupTargetFormat(target.format());
	if (!target.isValid() || target.width() == 0 || target.height() == 0)
		return unexpected(EINVAL, what + ": empty buffer");
	if (!format)
		return unexpected(ENOTSUP, what + ": not an output format");

	auto key = TargetKey::of(target);
	if (!key)
		return unexpected(std::move(key).error());
	if (auto ret = makeCurrent(); !ret)
		return unexpected(std::move(ret).error());
	for (auto &renderTarget : targets_) {
		if (renderTarget->key() == *key)
			return renderTarget->read();
	}

	/* Never rendered by us: whatever its memory holds. */
	const uint32_t stride = target.plane(0).stride;
	if (stride < uint64_t(target.width()) * 4 || !isLinearLayout(target.modifier()))
		return unexpected(EINVAL, what + ": not a linear buffer with a valid stride");
	auto mapping = bufmgr::Mapping::map(target, { bufmgr::Access::Read });
	if (!mapping)
		return unexpected(std::move(mapping).error());
	if (mapping->plane(0).size() < uint64_t(stride) * (target.height() - 1) + target.width() * 4)
		return unexpected(EINVAL, what + ": rows run past the end of its fd");
	auto access = mapping->beginAccess(bufmgr::Access::Read);
	if (!access)
		return unexpected(std::move(access).error());
	std::vector<uint32_t> pixels(size_t(target.width()) * target.height());
	toArgb(*format, mapping->plane(0).data(), stride, target.width(), target.height(),
	       pixels.data());
	return pixels;
}

void GlesRendererImpl::releaseTarget(const bufmgr::Buffer &target)
{
	auto key = TargetKey::of(target);
	if (!key)
		return;
	context_->makeCurrent();
	std::erase_if(targets_, [&](const auto &t) {
		if (t->key() != *key)
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

Result<std::unique_ptr<Renderer>> createGlesRenderer(const GlesRendererOptions &options)
{
	std::string node;
	if (!options.surfaceless)
		node = options.renderNode.empty() ? findRenderNode() : options.renderNode;

	/* Before this process's EGL display exists: see dmabuf_probe.h. */
	DmaBufProbeResult probe;
	if (options.forceCpuDmaBuf) {
		probe.detail = "GPU path disabled by options";
	} else {
		DmaBufProbeOptions probeOptions;
		probeOptions.renderNode = node;
		probeOptions.timeoutMs = options.probeTimeoutMs;
		probe = cachedDmaBufProbe(probeOptions);
	}

	auto context = EglContext::create(node, options.bareGles2);
	if (!context && !node.empty() && options.renderNode.empty()) {
		bufmgr::log(LogLevel::Warning, "render: " + context.error().message() +
					       "; falling back to EGL surfaceless");
		context = EglContext::create("", options.bareGles2);
	}
	if (!context)
		return unexpected(std::move(context).error());
	if ((*context)->renderNode() != node) {
		probe.canSample = probe.canRender = false;
		probe.detail += " (probed another display)";
	}

	auto renderer = std::make_unique<GlesRendererImpl>(std::move(*context), std::move(probe));
	bufmgr::log(LogLevel::Info, "render: " + renderer->description() + "; client dma-bufs: " +
				    std::string(toString(renderer->dmaBufPath())) + " path (probe " +
				    std::string(toString(renderer->probeResult().status)) + ": " +
				    renderer->probeResult().detail + ")");
	return std::unique_ptr<Renderer>(std::move(renderer));
}

} /* namespace comp */
