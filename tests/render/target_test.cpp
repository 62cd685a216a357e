/* SPDX-License-Identifier: MIT */
/*
 * Output buffers: the offscreen framebuffer and its copy into the target's
 * memory (stride, byte order), the per-target cache, and that renderers,
 * textures and targets give back every fd.
 */
#include <cstring>
#include <utility>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

#include <bufmgr/mapping.h>

#include "fd_count.h"
#include "render/gles_renderer.h"
#include "render_test_util.h"

namespace heapcomp::test {
namespace {

constexpr uint32_t kRed = argb(0xff, 0xff, 0, 0);
constexpr uint32_t kGreen = argb(0xff, 0, 0xff, 0);
constexpr float kClearGreen[4] = { 0, 1, 0, 1 };

std::unique_ptr<comp::Texture> importImage(comp::Renderer &renderer, const Image &image)
{
	auto texture = renderer.importShm(image.data(), image.width(), image.height(),
					  image.stride(), image.format());
	EXPECT_TRUE(texture) << texture.error().message();
	return texture ? std::move(*texture) : nullptr;
}

/* Parameter: the renderer (GLES as a bare GLES2 context tests read-back fallbacks). */
class RenderTargetTest : public ::testing::TestWithParam<TestRenderer>
{
};

TEST_P(RenderTargetTest, MemfdTargetWithPaddedStride)
{
	auto renderer = makeRenderer(GetParam());
	ASSERT_TRUE(renderer);
	/* 50 px = 200 B rows in 256 B strides. */
	bufmgr::Buffer target = memfdTarget(50, 20, DRM_FORMAT_XRGB8888, 256);
	ASSERT_TRUE(target.isValid());
	const uint32_t stride = target.plane(0).stride;
	ASSERT_GT(stride, 50u * 4);

	/* Mark the padding so we can see nobody writes it. */
	{
		auto mapping = bufmgr::Mapping::map(target);
		ASSERT_TRUE(mapping);
		std::memset(mapping->plane(0).data(), 0xa5, size_t(stride) * 20);
	}

	Image image(6, 4, DRM_FORMAT_XRGB8888);
	for (uint32_t y = 0; y < 4; y++)
		for (uint32_t x = 0; x < 6; x++)
			image.set(x, y, argb(0xff, 40 * x, 60 * y, 9));
	auto texture = importImage(*renderer, image);
	comp::RenderItem item{ texture.get(), { 40, 15, 6, 4 } };
	auto ret = renderer->render(target, std::span(&item, 1), kClearGreen);
	ASSERT_TRUE(ret) << ret.error().message();

	auto mapping = bufmgr::Mapping::map(target, { bufmgr::Access::Read });
	ASSERT_TRUE(mapping);
	const uint8_t *bytes = mapping->plane(0).data();
	for (uint32_t y = 0; y < 20; y++) {
		const uint8_t *row = bytes + size_t(y) * stride;
		for (uint32_t x = 0; x < 50; x++) {
			uint32_t want = kGreen;
			if (x >= 40 && x < 46 && y >= 15 && y < 19)
				want = argb(0xff, 40 * (x - 40), 60 * (y - 15), 9);
			/* XRGB8888 in memory: B, G, R, X. */
			uint32_t got = argb(0xff, row[x * 4 + 2], row[x * 4 + 1], row[x * 4]);
			ASSERT_TRUE(pixelNear(got, want, 0)) << "at (" << x << "," << y << ")";
		}
		for (uint32_t i = 200; i < stride; i++)
			ASSERT_EQ(row[i], 0xa5) << "padding byte " << i << " of row " << y;
	}

	auto pixels = renderer->readPixels(target);
	ASSERT_TRUE(pixels);
	EXPECT_EQ(*pixels, download(target));
}

TEST_P(RenderTargetTest, RgbaOrderTargetsAndAlpha)
{
	auto renderer = makeRenderer(GetParam());
	ASSERT_TRUE(renderer);
	Image image(2, 1, DRM_FORMAT_ARGB8888);
	image.set(0, 0, kRed);
	image.set(1, 0, argb(0x80, 0, 0, 0x80));
	auto texture = importImage(*renderer, image);
	comp::RenderItem item{ texture.get(), { 0, 0, 2, 1 } };
	const float transparent[4] = { 0, 0, 0, 0 };

	for (uint32_t format : { DRM_FORMAT_ABGR8888, DRM_FORMAT_ARGB8888 }) {
		bufmgr::Buffer target = memfdTarget(4, 2, format);
		ASSERT_TRUE(renderer->render(target, std::span(&item, 1), transparent));
		auto memory = download(target);
		/* Alpha formats keep the blended alpha; premultiplied over nothing. */
		EXPECT_TRUE(pixelAt(memory, 4, 0, 0, kRed, 0));
		EXPECT_TRUE(pixelAt(memory, 4, 1, 0, argb(0x80, 0, 0, 0x80), 1));
		EXPECT_TRUE(pixelAt(memory, 4, 2, 0, 0, 0));
		auto pixels = renderer->readPixels(target);
		ASSERT_TRUE(pixels);
		EXPECT_EQ(*pixels, memory);
	}

	/* Formats without alpha read back opaque. */
	bufmgr::Buffer xbgr = memfdTarget(4, 2, DRM_FORMAT_XBGR8888);
	ASSERT_TRUE(renderer->render(xbgr, std::span(&item, 1), transparent));
	auto memory = download(xbgr);
	/* R, G, B, X in memory. */
	EXPECT_TRUE(pixelNear(memory[0] & 0xffffff, kRed & 0xffffff, 0));
	auto pixels = renderer->readPixels(xbgr);
	ASSERT_TRUE(pixels);
	EXPECT_TRUE(pixelAt(*pixels, 4, 0, 0, kRed, 0));
	EXPECT_TRUE(pixelAt(*pixels, 4, 2, 0, argb(0xff, 0, 0, 0), 0));
}

TEST_P(RenderTargetTest, ReadPixelsOfAnUnrenderedTargetReadsItsMemory)
{
	auto renderer = makeRenderer(GetParam());
	ASSERT_TRUE(renderer);
	bufmgr::Buffer target = memfdTarget(3, 2, DRM_FORMAT_XRGB8888, 64);
	Image image(3, 2, DRM_FORMAT_XRGB8888);
	image.fill(argb(0, 1, 2, 3));
	upload(target, image);
	auto pixels = renderer->readPixels(target);
	ASSERT_TRUE(pixels) << pixels.error().message();
	EXPECT_TRUE(rectIs(*pixels, 3, { 0, 0, 3, 2 }, argb(0xff, 1, 2, 3), 0));
}

TEST_P(RenderTargetTest, FramesReuseTheTargetAndReleaseForgetsIt)
{
	auto renderer = makeRenderer(GetParam());
	ASSERT_TRUE(renderer);
	bufmgr::Buffer target = memfdTarget(8, 8, DRM_FORMAT_XRGB8888);
	const float red[4] = { 1, 0, 0, 1 };
	for (int frame = 0; frame < 3; frame++) {
		const float *color = frame % 2 ? red : kClearGreen;
		ASSERT_TRUE(renderer->render(target, {}, color));
		auto pixels = renderer->readPixels(target);
		ASSERT_TRUE(pixels);
		EXPECT_TRUE(pixelAt(*pixels, 8, 7, 7, frame % 2 ? kRed : kGreen, 0));
	}

	/* The cached mapping keeps no fd of its own, but it does keep the memory. */
	const int fds = countOpenFds();
	renderer->releaseTarget(target);
	EXPECT_EQ(countOpenFds(), fds);
	auto pixels = renderer->readPixels(target);
	ASSERT_TRUE(pixels);
	EXPECT_TRUE(pixelAt(*pixels, 8, 0, 0, kGreen, 0));
}

TEST_P(RenderTargetTest, ManyTargetsStayBounded)
{
	auto renderer = makeRenderer(GetParam());
	ASSERT_TRUE(renderer);
	/* More targets than the cache holds; each frame must still be right. */
	std::vector<bufmgr::Buffer> targets;
	for (int i = 0; i < 12; i++)
		targets.push_back(memfdTarget(4 + i, 4, DRM_FORMAT_XRGB8888));
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < targets.size(); i++) {
			const float color[4] = { float(i) / 16, 0, float(round), 1 };
			ASSERT_TRUE(renderer->render(targets[i], {}, color));
			auto memory = download(targets[i]);
			EXPECT_TRUE(pixelAt(memory, 4 + i, 0, 0,
					    argb(0xff, i * 0xff / 16, 0, round * 0xff), 1));
		}
	}
}

TEST_P(RenderTargetTest, TeardownGivesBackEveryFd)
{
	/* One renderer first, so libraries' one-time fds are already open. */
	makeRenderer(GetParam()).reset();
	const int before = countOpenFds();
	{
		auto renderer = makeRenderer(GetParam());
		ASSERT_TRUE(renderer);
		Image image(8, 8, DRM_FORMAT_ARGB8888);
		image.fill(kRed);
		auto texture = importImage(*renderer, image);
		bufmgr::Buffer target = memfdTarget(16, 16, DRM_FORMAT_XRGB8888);
		comp::RenderItem item{ texture.get(), { 0, 0, 8, 8 } };
		ASSERT_TRUE(renderer->render(target, std::span(&item, 1), kClearGreen));
		ASSERT_TRUE(renderer->readPixels(target));
	}
	EXPECT_EQ(countOpenFds(), before);
}

TEST_P(RenderTargetTest, TexturesMayOutliveTheirRenderer)
{
	makeRenderer(GetParam()).reset();
	const int before = countOpenFds();
	auto renderer = makeRenderer(GetParam());
	ASSERT_TRUE(renderer);
	Image image(4, 3, DRM_FORMAT_XRGB8888);
	image.fill(kRed);
	auto texture = importImage(*renderer, image);
	ASSERT_TRUE(texture);
	renderer.reset();
	/* Still a texture of its size; the GLES one keeps the display alive. */
	EXPECT_EQ(texture->width(), 4u);
	EXPECT_EQ(texture->height(), 3u);
	texture.reset();	/* must not crash or touch a dead context */
	/* The last user gone, the display and its device fds go too. */
	EXPECT_EQ(countOpenFds(), before);
}

TEST(RenderLifetimeTest, EachRendererRefusesTheOthersTextures)
{
	auto gles = makeRenderer(TestRenderer::Gles);
	auto pixman = makeRenderer(TestRenderer::Pixman);
	ASSERT_TRUE(gles && pixman);
	Image image(4, 4, DRM_FORMAT_XRGB8888);
	image.fill(kRed);
	bufmgr::Buffer target = memfdTarget(4, 4, DRM_FORMAT_XRGB8888);
	for (auto [from, to] : { std::pair(gles.get(), pixman.get()),
				 std::pair(pixman.get(), gles.get()) }) {
		auto texture = importImage(*from, image);
		ASSERT_TRUE(texture);
		comp::RenderItem item{ texture.get(), { 0, 0, 4, 4 } };
		auto wrong = to->render(target, std::span(&item, 1), kClearGreen);
		ASSERT_FALSE(wrong) << to->name() << " drew a texture of " << from->name();
		EXPECT_EQ(wrong.error().code, EINVAL);
		auto update = to->updateShm(*texture, image.data(), image.stride(), {});
		EXPECT_FALSE(update) << to->name();
	}
}

TEST(RenderLifetimeTest, TwoRenderersShareTheDisplaySafely)
{
	auto first = makeRenderer();
	auto second = makeRenderer();
	ASSERT_TRUE(first && second);
	Image image(4, 4, DRM_FORMAT_XRGB8888);
	image.fill(kRed);
	auto texture = importImage(*second, image);

	/* A texture of one renderer is refused by the other. */
	bufmgr::Buffer target = memfdTarget(4, 4, DRM_FORMAT_XRGB8888);
	comp::RenderItem item{ texture.get(), { 0, 0, 4, 4 } };
	auto wrong = first->render(target, std::span(&item, 1), kClearGreen);
	ASSERT_FALSE(wrong);
	EXPECT_EQ(wrong.error().code, EINVAL);

	/* Tearing down the first leaves the second's display working. */
	first.reset();
	auto ret = second->render(target, std::span(&item, 1), kClearGreen);
	ASSERT_TRUE(ret) << ret.error().message();
	auto pixels = second->readPixels(target);
	ASSERT_TRUE(pixels);
	EXPECT_TRUE(rectIs(*pixels, 4, { 0, 0, 4, 4 }, kRed, 0));
}

INSTANTIATE_TEST_SUITE_P(Renderers, RenderTargetTest, ::testing::ValuesIn(allRenderers()),
			 rendererName);

} /* namespace */
} /* namespace heapcomp::test */
