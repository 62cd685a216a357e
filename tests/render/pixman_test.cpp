/* SPDX-License-Identifier: MIT */
/*
 * The pixman renderer against the GLES one on the same scenes, and what
 * only pixman does: client dma-bufs read in place through a mapping. On a
 * host without dma-buf exporters memfd buffers stand in (the mapping
 * skips DMA_BUF_IOCTL_SYNC for them); the VM's compositor tests run it on
 * heap dma-bufs.
 */
#include <cstdlib>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

#include "render/pixman_renderer.h"
#include "render/renderer_choice.h"
#include "render_test_util.h"

namespace heapcomp::test {
namespace {

using comp::Rect;
using comp::RenderItem;
using comp::Transform;

constexpr uint32_t kRed = argb(0xff, 0xff, 0, 0);
constexpr uint32_t kGreen = argb(0xff, 0, 0xff, 0);
constexpr float kClearGrey[4] = { 0.25f, 0.25f, 0.25f, 1 };

/* Every pixel distinct, so that a misplaced one shows. */
Image pattern(uint32_t width, uint32_t height, uint32_t format, uint8_t alpha = 0xff)
{
	Image image(width, height, format);
	for (uint32_t y = 0; y < height; y++) {
		for (uint32_t x = 0; x < width; x++) {
			/* Premultiplied: no channel above alpha. */
			auto c = [&](uint32_t v) { return (v & 0xff) * alpha / 0xff; };
			image.set(x, y, argb(alpha, c(17 * x + 3), c(29 * y + 5), c(7 * (x + y))));
		}
	}
	return image;
}

struct Scene {
	std::vector<Image> images;
	std::vector<RenderItem> items;	/* texture: index into images, as a pointer */
};

/* Draws scene with renderer into a fresh w x h target, returns its memory. */
std::vector<uint32_t> drawScene(comp::Renderer &renderer, const Scene &scene, uint32_t width,
				uint32_t height)
{
	std::vector<std::unique_ptr<comp::Texture>> textures;
	for (const Image &image : scene.images) {
		auto texture = renderer.importShm(image.data(), image.width(), image.height(),
						  image.stride(), image.format());
		EXPECT_TRUE(texture) << texture.error().message();
		if (!texture)
			return {};
		textures.push_back(std::move(*texture));
	}
	std::vector<RenderItem> items = scene.items;
	for (RenderItem &item : items)
		item.texture = textures[reinterpret_cast<uintptr_t>(item.texture)].get();
	bufmgr::Buffer target = memfdTarget(width, height, DRM_FORMAT_XRGB8888);
	auto ret = renderer.render(target, items, kClearGrey);
	EXPECT_TRUE(ret) << ret.error().message();
	return download(target);
}

RenderItem itemOf(size_t image, Rect destination)
{
	RenderItem item;
	item.texture = reinterpret_cast<const comp::Texture *>(image);
	item.destination = destination;
	return item;
}

/* Pixels differing by more than tolerance in any channel, with the first few named. */
::testing::AssertionResult samePixels(const std::vector<uint32_t> &a,
				      const std::vector<uint32_t> &b, uint32_t width,
				      int tolerance)
{
	if (a.size() != b.size() || a.empty())
		return ::testing::AssertionFailure() << "sizes " << a.size() << " and " << b.size();
	size_t differ = 0;
	std::string first;
	for (size_t i = 0; i < a.size(); i++) {
		if (pixelNear(a[i], b[i], tolerance))
			continue;
		if (differ++ < 5) {
			char text[80];
			snprintf(text, sizeof(text), " (%zu, %zu): %08x vs %08x;", i % width,
				 i / width, a[i], b[i]);
			first += text;
		}
	}
	if (!differ)
		return ::testing::AssertionSuccess();
	return ::testing::AssertionFailure() << differ << " pixels differ:" << first;
}

class PixmanTest : public ::testing::Test
{
protected:
	void SetUp() override
	{
		gles_ = makeRenderer(TestRenderer::Gles);
		pixman_ = makeRenderer(TestRenderer::Pixman);
		ASSERT_TRUE(gles_ && pixman_);
	}

	std::unique_ptr<comp::Renderer> gles_;
	std::unique_ptr<comp::Renderer> pixman_;
};

TEST_F(PixmanTest, UnfilteredScenesMatchGlesExactly)
{
	/* Opaque buffers of each byte order, every transform, crops, overlaps. */
	Scene scene;
	scene.images.push_back(pattern(7, 5, DRM_FORMAT_XRGB8888));
	scene.images.push_back(pattern(6, 4, DRM_FORMAT_XBGR8888));
	scene.images.push_back(pattern(5, 3, DRM_FORMAT_ABGR8888));
	scene.images.push_back(pattern(9, 9, DRM_FORMAT_ARGB8888));
	const Transform transforms[] = { Transform::Normal,    Transform::Rotate90,
					 Transform::Rotate180, Transform::Rotate270,
					 Transform::Flipped,   Transform::Flipped90,
					 Transform::Flipped180, Transform::Flipped270 };
	for (int i = 0; i < 8; i++) {
		const bool swap = i % 2;
		RenderItem item = itemOf(i % 2, { 1 + (i % 4) * 10, 1 + (i / 4) * 10, swap ? 5 : 7,
						 swap ? 7 : 5 });
		if (i % 2) {
			item.destination.width = swap ? 4 : 6;
			item.destination.height = swap ? 6 : 4;
		}
		item.transform = transforms[i];
		item.yInvert = i == 5;
		scene.items.push_back(item);
	}
	/* A 1:1 crop, partly off the output, and an overlap on top. */
	RenderItem crop = itemOf(3, { 36, 20, 4, 3 });
	crop.source = { 2, 3, 4, 3 };
	scene.items.push_back(crop);
	scene.items.push_back(itemOf(2, { 38, 21, 5, 3 }));
	scene.items.push_back(itemOf(0, { -3, 40, 7, 5 }));
	scene.items.push_back(itemOf(3, { 40, 44, 9, 9 }));

	EXPECT_TRUE(samePixels(drawScene(*pixman_, scene, 48, 48),
			       drawScene(*gles_, scene, 48, 48), 48, 0));
}

TEST_F(PixmanTest, BlendedScenesMatchGlesWithinRounding)
{
	Scene scene;
	scene.images.push_back(pattern(8, 8, DRM_FORMAT_ARGB8888, 0x80));
	scene.images.push_back(pattern(8, 8, DRM_FORMAT_XRGB8888));
	scene.images.push_back(pattern(8, 8, DRM_FORMAT_ABGR8888, 0x40));
	scene.items.push_back(itemOf(1, { 0, 0, 8, 8 }));
	scene.items.push_back(itemOf(0, { 4, 4, 8, 8 }));
	RenderItem faded = itemOf(1, { 10, 2, 8, 8 });
	faded.alpha = 0.5f;
	scene.items.push_back(faded);
	RenderItem both = itemOf(2, { 12, 6, 8, 8 });
	both.alpha = 0.75f;
	both.transform = Transform::Rotate90;
	scene.items.push_back(both);
	EXPECT_TRUE(samePixels(drawScene(*pixman_, scene, 24, 16),
			       drawScene(*gles_, scene, 24, 16), 24, 1));
}

TEST_F(PixmanTest, ScaledScenesMatchGlesClosely)
{
	/* Filtering differs in its arithmetic, not in where it samples. */
	Scene scene;
	scene.images.push_back(pattern(8, 6, DRM_FORMAT_XRGB8888));
	scene.items.push_back(itemOf(0, { 0, 0, 16, 12 }));
	RenderItem shrunk = itemOf(0, { 16, 0, 4, 3 });
	scene.items.push_back(shrunk);
	RenderItem cropped = itemOf(0, { 0, 12, 12, 9 });
	cropped.source = { 2, 1, 4, 3 };
	cropped.transform = Transform::Rotate270;
	cropped.destination = { 0, 12, 9, 12 };
	scene.items.push_back(cropped);
	EXPECT_TRUE(samePixels(drawScene(*pixman_, scene, 24, 24),
			       drawScene(*gles_, scene, 24, 24), 24, 6));
}

TEST_F(PixmanTest, DmaBufsAreReadInPlaceAtEachPass)
{
	bufmgr::Buffer buffer = memfdTarget(12, 6, DRM_FORMAT_ARGB8888, 64);
	Image image(12, 6, DRM_FORMAT_ARGB8888, buffer.plane(0).stride);
	image.fill(kRed);
	upload(buffer, image);
	auto texture = pixman_->importDmaBuf(buffer);
	ASSERT_TRUE(texture) << texture.error().message();
	EXPECT_TRUE((*texture)->hasAlpha());

	bufmgr::Buffer target = memfdTarget(12, 6, DRM_FORMAT_XRGB8888);
	RenderItem item{ texture->get(), { 0, 0, 12, 6 } };
	ASSERT_TRUE(pixman_->render(target, std::span(&item, 1), kClearGrey));
	EXPECT_TRUE(rectIs(download(target), 12, { 0, 0, 12, 6 }, kRed, 0));

	/* No copy to refresh: the next pass sees the client's new content. */
	image.fill(kGreen);
	upload(buffer, image);
	ASSERT_TRUE(pixman_->updateDmaBuf(**texture, buffer, {}));
	ASSERT_TRUE(pixman_->render(target, std::span(&item, 1), kClearGrey));
	EXPECT_TRUE(rectIs(download(target), 12, { 0, 0, 12, 6 }, kGreen, 0));

	/* A shm texture is no dma-buf texture, and the other way round. */
	auto shm = pixman_->importShm(image.data(), 12, 6, image.stride(), image.format());
	ASSERT_TRUE(shm);
	EXPECT_FALSE(pixman_->updateDmaBuf(**shm, buffer, {}));
	EXPECT_FALSE(pixman_->updateShm(**texture, image.data(), image.stride(), {}));
}

TEST_F(PixmanTest, RefusesWhatItCannotRead)
{
	bufmgr::Buffer linear = memfdTarget(8, 8, DRM_FORMAT_XRGB8888);
	auto describe = [&](uint32_t format, uint64_t modifier, uint32_t stride) {
		auto desc = linear.description();
		desc.format = format;
		desc.modifier = modifier;
		std::vector<bufmgr::BufferPlane> planes(linear.planes().begin(),
							linear.planes().end());
		planes[0].stride = stride;
		return bufmgr::Buffer(desc, planes);
	};
	const uint32_t stride = linear.plane(0).stride;
	struct Case {
		const char *what;
		bufmgr::Buffer buffer;
		int error;
	} cases[] = {
		{ "tiled", describe(DRM_FORMAT_XRGB8888, I915_FORMAT_MOD_X_TILED, stride), ENOTSUP },
		{ "YUYV", describe(DRM_FORMAT_YUYV, DRM_FORMAT_MOD_LINEAR, stride), ENOTSUP },
		/* NV12 is read, but not with one plane. */
		{ "NV12 with one plane", describe(DRM_FORMAT_NV12, DRM_FORMAT_MOD_LINEAR, stride),
		  EINVAL },
		{ "short stride", describe(DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, 16), EINVAL },
		{ "odd stride", describe(DRM_FORMAT_RGB888, DRM_FORMAT_MOD_LINEAR, 26), EINVAL },
		{ "no memory", bufmgr::Buffer(), EINVAL },
	};
	for (const Case &c : cases) {
		auto texture = pixman_->importDmaBuf(c.buffer);
		ASSERT_FALSE(texture) << c.what;
		EXPECT_EQ(texture.error().code, c.error) << c.what << ": " << texture.error().message();
	}

	/* Beyond the size limit, for shm too. */
	comp::PixmanRendererOptions options;
	options.maxTextureSize = 4;
	auto small = comp::createPixmanRenderer(options);
	ASSERT_TRUE(small);
	Image image(8, 2, DRM_FORMAT_XRGB8888);
	auto big = (*small)->importShm(image.data(), 8, 2, image.stride(), image.format());
	ASSERT_FALSE(big);
	EXPECT_NE(big.error().message().find("limit"), std::string::npos);
	auto unknown = pixman_->importShm(image.data(), 8, 2, image.stride(), DRM_FORMAT_YUYV);
	ASSERT_FALSE(unknown);
	EXPECT_EQ(unknown.error().code, ENOTSUP);
}

TEST(RendererChoiceTest, NamesAndSoftwareGl)
{
	for (auto kind : { comp::RendererKind::Auto, comp::RendererKind::Gles,
			   comp::RendererKind::Pixman })
		EXPECT_EQ(comp::parseRendererKind(comp::toString(kind)), kind);
	EXPECT_FALSE(comp::parseRendererKind("vulkan"));
	EXPECT_TRUE(comp::isSoftwareGl("llvmpipe (LLVM 15.0.6, 256 bits)"));
	EXPECT_TRUE(comp::isSoftwareGl("softpipe"));
	EXPECT_FALSE(comp::isSoftwareGl("Mali-G52 (Panfrost)"));
	EXPECT_FALSE(comp::isSoftwareGl("V3D 4.2"));
}

TEST(RendererChoiceTest, AutoTakesPixmanWhereTheOnlyGlIsSoftware)
{
	/* Surfaceless GL on a host is Mesa's llvmpipe (this host has no GPU). */
	comp::GlesRendererOptions surfaceless;
	surfaceless.surfaceless = true;
	auto autoChoice = comp::createRenderer(comp::RendererKind::Auto, surfaceless);
	ASSERT_TRUE(autoChoice) << autoChoice.error().message();
	EXPECT_EQ((*autoChoice)->name(), "pixman");

	/* Asked by name, each is what it says. */
	auto gles = comp::createRenderer(comp::RendererKind::Gles, surfaceless);
	ASSERT_TRUE(gles) << gles.error().message();
	EXPECT_EQ((*gles)->name(), "gles");
	auto pixman = comp::createRenderer(comp::RendererKind::Pixman);
	ASSERT_TRUE(pixman);
	EXPECT_EQ((*pixman)->name(), "pixman");
}

} /* namespace */
} /* namespace heapcomp::test */
