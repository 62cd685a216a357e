/* SPDX-License-Identifier: MIT */
/*
 * wl_shm content through each renderer — GLES on EGL surfaceless (llvmpipe
 * on hosts without a GPU) and pixman: known pixels in, rendered pixels
 * read back, with the same expectations for both.
 */
#include <algorithm>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

#include <bufmgr/format.h>

#include "render/gles_renderer.h"
#include "render_test_util.h"

namespace heapcomp::test {
namespace {

using comp::Rect;
using comp::RenderItem;

constexpr uint32_t kRed = argb(0xff, 0xff, 0, 0);
constexpr uint32_t kGreen = argb(0xff, 0, 0xff, 0);
constexpr uint32_t kBlue = argb(0xff, 0, 0, 0xff);
constexpr uint32_t kWhite = argb(0xff, 0xff, 0xff, 0xff);
constexpr float kClearBlue[4] = { 0, 0, 1, 1 };

class ShmRenderTest : public ::testing::TestWithParam<TestRenderer>
{
protected:
	void SetUp() override
	{
		renderer_ = makeRenderer(GetParam());
		ASSERT_TRUE(renderer_);
	}

	std::unique_ptr<comp::Texture> import(const Image &image)
	{
		auto texture = renderer_->importShm(image.data(), image.width(), image.height(),
						    image.stride(), image.format());
		EXPECT_TRUE(texture) << texture.error().message();
		return texture ? std::move(*texture) : nullptr;
	}

	/* Renders items into a fresh W x H XRGB8888 memfd target, reads it back. */
	std::vector<uint32_t> draw(std::vector<RenderItem> items, uint32_t width = 32,
				   uint32_t height = 24, const float *clear = kClearBlue)
	{
		target_ = memfdTarget(width, height, DRM_FORMAT_XRGB8888);
		auto ret = renderer_->render(target_, items, clear);
		EXPECT_TRUE(ret) << ret.error().message();
		auto pixels = renderer_->readPixels(target_);
		EXPECT_TRUE(pixels) << pixels.error().message();
		return pixels ? *pixels : std::vector<uint32_t>();
	}

	std::unique_ptr<comp::Renderer> renderer_;
	bufmgr::Buffer target_;
};

TEST_P(ShmRenderTest, ReportsItselfAndItsFormats)
{
	const bool pixman = GetParam() == TestRenderer::Pixman;
	EXPECT_EQ(renderer_->name(), pixman ? "pixman" : "gles");
	EXPECT_NE(renderer_->dmaBufPath(), comp::DmaBufPath::None);
	auto *gles = dynamic_cast<comp::GlesRenderer *>(renderer_.get());
	EXPECT_EQ(gles == nullptr, pixman);
	if (gles) {
		EXPECT_FALSE(gles->description().empty());
		EXPECT_FALSE(gles->glRenderer().empty());
	}
	if (pixman || gles->probeResult().status != comp::ProbeStatus::Passed) {
		EXPECT_EQ(renderer_->dmaBufPath(), comp::DmaBufPath::Cpu);
	}

	auto shm = renderer_->shmFormats();
	for (uint32_t f : { DRM_FORMAT_ARGB8888, DRM_FORMAT_XRGB8888, DRM_FORMAT_ABGR8888,
			    DRM_FORMAT_XBGR8888, DRM_FORMAT_RGB565 })
		EXPECT_NE(std::find(shm.begin(), shm.end(), f), shm.end()) << f;

	auto dmabuf = renderer_->dmaBufFormats();
	auto has = [&](uint32_t format) {
		return std::any_of(dmabuf.begin(), dmabuf.end(), [&](const auto &p) {
			return p.format == format && p.modifier == DRM_FORMAT_MOD_LINEAR;
		});
	};
	EXPECT_TRUE(has(DRM_FORMAT_XRGB8888));
	/* Video and camera formats: GLES samples them, pixman converts them. */
	EXPECT_TRUE(has(DRM_FORMAT_NV12));
	EXPECT_TRUE(has(DRM_FORMAT_YUV420));
	EXPECT_FALSE(has(DRM_FORMAT_YUYV));
}

TEST_P(ShmRenderTest, OpaquePixelsLandAtTheirDestination)
{
	/* Every pixel distinct; X bytes zero, which must not make it transparent. */
	Image image(5, 3, DRM_FORMAT_XRGB8888);
	for (uint32_t y = 0; y < 3; y++)
		for (uint32_t x = 0; x < 5; x++)
			image.set(x, y, argb(0x00, 40 * x, 80 * y, 200));
	auto texture = import(image);
	ASSERT_TRUE(texture);
	EXPECT_EQ(texture->width(), 5u);
	EXPECT_EQ(texture->height(), 3u);
	EXPECT_FALSE(texture->hasAlpha());

	auto pixels = draw({ { texture.get(), { 7, 4, 5, 3 } } });
	for (uint32_t y = 0; y < 3; y++)
		for (uint32_t x = 0; x < 5; x++)
			EXPECT_TRUE(pixelAt(pixels, 32, 7 + x, 4 + y,
					    argb(0xff, 40 * x, 80 * y, 200), 0));
	/* Around it, the clear color. */
	EXPECT_TRUE(rectIs(pixels, 32, { 0, 0, 32, 4 }, kBlue, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 0, 7, 32, 17 }, kBlue, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 6, 4, 1, 3 }, kBlue, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 12, 4, 1, 3 }, kBlue, 0));

	/* And the target's own memory holds the same frame. */
	EXPECT_EQ(download(target_), pixels);
}

TEST_P(ShmRenderTest, EveryShmFormatKeepsItsColors)
{
	const uint32_t colors[] = { kRed, kGreen, kBlue, kWhite };
	for (uint32_t format : { DRM_FORMAT_ARGB8888, DRM_FORMAT_XRGB8888, DRM_FORMAT_ABGR8888,
				 DRM_FORMAT_XBGR8888 }) {
		Image image(4, 1, format);
		for (uint32_t x = 0; x < 4; x++)
			image.set(x, 0, colors[x]);
		auto texture = import(image);
		ASSERT_TRUE(texture);
		auto pixels = draw({ { texture.get(), { 0, 0, 4, 1 } } });
		for (uint32_t x = 0; x < 4; x++)
			EXPECT_TRUE(pixelAt(pixels, 32, x, 0, colors[x], 0))
				<< bufmgr::fourccToString(format);
	}
}

TEST_P(ShmRenderTest, Rgb565)
{
	/* 5:6:5 little-endian: red 0xf800, green 0x07e0, blue 0x001f. */
	const uint16_t texels[4] = { 0xf800, 0x07e0, 0x001f, 0xffff };
	auto texture = renderer_->importShm(reinterpret_cast<const uint8_t *>(texels), 4, 1, 8,
					    DRM_FORMAT_RGB565);
	ASSERT_TRUE(texture) << texture.error().message();
	auto pixels = draw({ { texture->get(), { 0, 0, 4, 1 } } });
	EXPECT_TRUE(pixelAt(pixels, 32, 0, 0, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 1, 0, kGreen, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 2, 0, kBlue, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 3, 0, kWhite, 0));
}

TEST_P(ShmRenderTest, StrideLargerThanRowsIsRespected)
{
	/* 3 px rows in 40-byte strides; the padding is garbage. */
	Image image(3, 4, DRM_FORMAT_ARGB8888, 40);
	for (uint32_t y = 0; y < 4; y++)
		for (uint32_t x = 0; x < 3; x++)
			image.set(x, y, argb(0xff, 60 * y, 100 * x, 7));
	auto texture = import(image);
	ASSERT_TRUE(texture);
	auto pixels = draw({ { texture.get(), { 0, 0, 3, 4 } } });
	for (uint32_t y = 0; y < 4; y++)
		for (uint32_t x = 0; x < 3; x++)
			EXPECT_TRUE(pixelAt(pixels, 32, x, y, argb(0xff, 60 * y, 100 * x, 7), 0));
}

TEST_P(ShmRenderTest, PremultipliedAlphaBlendsOverClearColor)
{
	/* Half-transparent premultiplied red: (0x80, 0, 0, a=0x80). */
	Image image(2, 2, DRM_FORMAT_ARGB8888);
	image.fill(argb(0x80, 0x80, 0, 0));
	auto texture = import(image);
	ASSERT_TRUE(texture);
	EXPECT_TRUE(texture->hasAlpha());

	/* src + dst * (1 - src.a): red 0x80, blue 0xff * 127/255 = 0x7f. */
	auto pixels = draw({ { texture.get(), { 1, 1, 2, 2 } } });
	EXPECT_TRUE(rectIs(pixels, 32, { 1, 1, 2, 2 }, argb(0xff, 0x80, 0, 0x7f)));
	EXPECT_TRUE(pixelAt(pixels, 32, 0, 0, kBlue, 0));

	/* Fully transparent pixels leave the clear color alone. */
	Image clear(2, 2, DRM_FORMAT_ARGB8888);
	clear.fill(0);
	auto transparent = import(clear);
	pixels = draw({ { transparent.get(), { 0, 0, 2, 2 } } });
	EXPECT_TRUE(rectIs(pixels, 32, { 0, 0, 2, 2 }, kBlue, 0));
}

TEST_P(ShmRenderTest, XrgbIgnoresItsAlphaByte)
{
	/* The same bytes as ARGB would be transparent. */
	Image image(2, 2, DRM_FORMAT_XRGB8888);
	image.fill(argb(0x00, 0xff, 0, 0));
	auto texture = import(image);
	auto pixels = draw({ { texture.get(), { 0, 0, 2, 2 } } });
	EXPECT_TRUE(rectIs(pixels, 32, { 0, 0, 2, 2 }, kRed, 0));
}

TEST_P(ShmRenderTest, ItemAlphaScalesThePremultipliedPixel)
{
	Image image(2, 2, DRM_FORMAT_XRGB8888);
	image.fill(kRed);
	auto texture = import(image);
	const float green[4] = { 0, 1, 0, 1 };
	RenderItem item{ texture.get(), { 0, 0, 2, 2 } };
	item.alpha = 0.5f;
	auto pixels = draw({ item }, 32, 24, green);
	EXPECT_TRUE(rectIs(pixels, 32, { 0, 0, 2, 2 }, argb(0xff, 0x80, 0x7f, 0), 1));
	EXPECT_TRUE(pixelAt(pixels, 32, 2, 2, kGreen, 0));
}

TEST_P(ShmRenderTest, ClearColorFillsTheTarget)
{
	const float color[4] = { 0.2f, 0.4f, 0.6f, 1.0f };
	auto pixels = draw({}, 16, 8, color);
	EXPECT_TRUE(rectIs(pixels, 16, { 0, 0, 16, 8 }, argb(0xff, 0x33, 0x66, 0x99), 1));
}

/* 8x8: four 4x4 quadrants of different colors. */
Image quadrants()
{
	Image image(8, 8, DRM_FORMAT_XRGB8888);
	image.fillRect({ 0, 0, 4, 4 }, kRed);
	image.fillRect({ 4, 0, 4, 4 }, kGreen);
	image.fillRect({ 0, 4, 4, 4 }, kBlue);
	image.fillRect({ 4, 4, 4, 4 }, kWhite);
	return image;
}

TEST_P(ShmRenderTest, DestinationScalesTheBuffer)
{
	auto texture = import(quadrants());
	auto pixels = draw({ { texture.get(), { 2, 2, 16, 16 } } });
	/* Quadrant interiors, away from the filtered seams. */
	EXPECT_TRUE(rectIs(pixels, 32, { 2, 2, 6, 6 }, kRed, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 12, 2, 6, 6 }, kGreen, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 2, 12, 6, 6 }, kBlue, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 12, 12, 6, 6 }, kWhite, 0));
	/* Exactly 16x16: the clear color right outside. */
	EXPECT_TRUE(rectIs(pixels, 32, { 18, 0, 14, 24 }, kBlue, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 10, 18, kBlue, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 10, 1, kBlue, 0));

	/* Shrinking works too. */
	pixels = draw({ { texture.get(), { 0, 0, 4, 4 } } });
	EXPECT_TRUE(pixelAt(pixels, 32, 0, 0, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 3, 0, kGreen, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 0, 3, kBlue, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 3, 3, kWhite, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 4, 4, kBlue, 0));
}

TEST_P(ShmRenderTest, SourceCropPicksTheRightTexels)
{
	Image image(8, 8, DRM_FORMAT_XRGB8888);
	for (uint32_t y = 0; y < 8; y++)
		for (uint32_t x = 0; x < 8; x++)
			image.set(x, y, argb(0xff, 30 * x, 30 * y, 0x40));
	auto texture = import(image);

	/* 1:1 crop of (2,3) 4x2. */
	RenderItem item{ texture.get(), { 10, 10, 4, 2 }, { 2, 3, 4, 2 } };
	auto pixels = draw({ item });
	for (uint32_t y = 0; y < 2; y++)
		for (uint32_t x = 0; x < 4; x++)
			EXPECT_TRUE(pixelAt(pixels, 32, 10 + x, 10 + y,
					    argb(0xff, 30 * (2 + x), 30 * (3 + y), 0x40), 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 14, 10, kBlue, 0));

	/* Crop one quadrant and scale it up: nothing of the others shows. */
	auto quads = import(quadrants());
	RenderItem scaled{ quads.get(), { 0, 0, 12, 12 }, { 4, 4, 4, 4 } };
	pixels = draw({ scaled });
	EXPECT_TRUE(rectIs(pixels, 32, { 0, 0, 12, 12 }, kWhite, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 12, 12, kBlue, 0));
}

TEST_P(ShmRenderTest, LaterItemsDrawOnTop)
{
	Image red(4, 4, DRM_FORMAT_XRGB8888), green(4, 4, DRM_FORMAT_XRGB8888);
	red.fill(kRed);
	green.fill(kGreen);
	auto r = import(red), g = import(green);

	auto pixels = draw({ { r.get(), { 0, 0, 4, 4 } }, { g.get(), { 2, 2, 4, 4 } } });
	EXPECT_TRUE(pixelAt(pixels, 32, 1, 1, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 3, 3, kGreen, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 5, 5, kGreen, 0));

	pixels = draw({ { g.get(), { 2, 2, 4, 4 } }, { r.get(), { 0, 0, 4, 4 } } });
	EXPECT_TRUE(pixelAt(pixels, 32, 3, 3, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 5, 5, kGreen, 0));
}

TEST_P(ShmRenderTest, TransformUndoesWhatTheClientDid)
{
	/* A 3x2 buffer, every pixel distinct: B(x, y) = (40x, 80y, 0x10). */
	Image image(3, 2, DRM_FORMAT_XRGB8888);
	auto texel = [](uint32_t x, uint32_t y) { return argb(0xff, 40 * x, 80 * y, 0x10); };
	for (uint32_t y = 0; y < 2; y++)
		for (uint32_t x = 0; x < 3; x++)
			image.set(x, y, texel(x, y));
	auto texture = import(image);
	ASSERT_TRUE(texture);

	/*
	 * Where each screen pixel (x, y) of the displayed image (w x h) comes
	 * from: the client flipped the image, then turned it counter-clockwise.
	 */
	using Pixel = unsigned (*)(unsigned x, unsigned y, unsigned w, unsigned h);
	struct Case {
		comp::Transform transform;
		int32_t width, height;
		Pixel source;	/* buffer x << 8 | buffer y */
	};
	const Case cases[] = {
		{ comp::Transform::Normal, 3, 2,
		  [](unsigned x, unsigned y, unsigned, unsigned) { return x << 8 | y; } },
		{ comp::Transform::Rotate90, 2, 3,
		  [](unsigned x, unsigned y, unsigned w, unsigned) { return y << 8 | (w - 1 - x); } },
		{ comp::Transform::Rotate180, 3, 2,
		  [](unsigned x, unsigned y, unsigned w, unsigned h) {
			  return (w - 1 - x) << 8 | (h - 1 - y);
		  } },
		{ comp::Transform::Rotate270, 2, 3,
		  [](unsigned x, unsigned y, unsigned, unsigned h) { return (h - 1 - y) << 8 | x; } },
		{ comp::Transform::Flipped, 3, 2,
		  [](unsigned x, unsigned y, unsigned w, unsigned) { return (w - 1 - x) << 8 | y; } },
		{ comp::Transform::Flipped90, 2, 3,
		  [](unsigned x, unsigned y, unsigned, unsigned) { return y << 8 | x; } },
		{ comp::Transform::Flipped180, 3, 2,
		  [](unsigned x, unsigned y, unsigned, unsigned h) { return x << 8 | (h - 1 - y); } },
		{ comp::Transform::Flipped270, 2, 3,
		  [](unsigned x, unsigned y, unsigned w, unsigned h) {
			  return (h - 1 - y) << 8 | (w - 1 - x);
		  } },
	};
	for (const Case &c : cases) {
		RenderItem item{ texture.get(), { 4, 5, c.width, c.height } };
		item.transform = c.transform;
		auto pixels = draw({ item });
		for (uint32_t y = 0; y < uint32_t(c.height); y++) {
			for (uint32_t x = 0; x < uint32_t(c.width); x++) {
				uint32_t from = c.source(x, y, c.width, c.height);
				EXPECT_TRUE(pixelAt(pixels, 32, 4 + x, 5 + y,
						    texel(from >> 8, from & 0xff), 0))
					<< "transform " << int(c.transform);
			}
		}
		EXPECT_TRUE(pixelAt(pixels, 32, 4 + c.width, 5, kBlue, 0));
	}

	/* A source box is in buffer pixels, before the transform: column 1 lies down. */
	RenderItem column{ texture.get(), { 0, 0, 2, 1 }, { 1, 0, 1, 2 } };
	column.transform = comp::Transform::Rotate90;
	auto pixels = draw({ column });
	EXPECT_TRUE(pixelAt(pixels, 32, 0, 0, texel(1, 1), 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 1, 0, texel(1, 0), 0));

	/*
	 * Rows bottom first (linux-dmabuf's y_invert): the buffer the client
	 * meant is the texture upside down, and transforms and source boxes
	 * apply to that.
	 */
	RenderItem inverted{ texture.get(), { 0, 0, 3, 2 } };
	inverted.yInvert = true;
	pixels = draw({ inverted });
	for (uint32_t y = 0; y < 2; y++)
		for (uint32_t x = 0; x < 3; x++)
			EXPECT_TRUE(pixelAt(pixels, 32, x, y, texel(x, 1 - y), 0)) << x << "," << y;
	RenderItem invertedTurned{ texture.get(), { 0, 0, 2, 3 } };
	invertedTurned.yInvert = true;
	invertedTurned.transform = comp::Transform::Rotate90;
	pixels = draw({ invertedTurned });
	for (uint32_t y = 0; y < 3; y++)
		for (uint32_t x = 0; x < 2; x++)
			EXPECT_TRUE(pixelAt(pixels, 32, x, y, texel(y, x), 0)) << x << "," << y;
	RenderItem invertedRow{ texture.get(), { 0, 0, 2, 1 }, { 1, 0, 2, 1 } };
	invertedRow.yInvert = true;
	pixels = draw({ invertedRow });
	EXPECT_TRUE(pixelAt(pixels, 32, 0, 0, texel(1, 1), 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 1, 0, texel(2, 1), 0));
}

TEST_P(ShmRenderTest, ClipDrawsOnlyItsPixels)
{
	Image red(32, 24, DRM_FORMAT_XRGB8888), green(32, 24, DRM_FORMAT_XRGB8888);
	red.fill(kRed);
	green.fill(kGreen);
	auto r = import(red), g = import(green);
	ASSERT_TRUE(r && g);
	const RenderItem redItem{ r.get(), { 0, 0, 32, 24 } }, greenItem{ g.get(), { 0, 0, 32, 24 } };
	const Rect whole{ 0, 0, 32, 24 }, clip{ 4, 6, 10, 5 };
	target_ = memfdTarget(32, 24, DRM_FORMAT_XRGB8888);

	/* A target the renderer has not drawn into is drawn whole, whatever the clip. */
	ASSERT_TRUE(renderer_->render(target_, std::span(&redItem, 1), kClearBlue,
				      std::span(&clip, 1)));
	EXPECT_TRUE(rectIs(download(target_), 32, whole, kRed, 0));

	/* Then only the clip changes: in what the renderer reads and in the memory. */
	ASSERT_TRUE(renderer_->render(target_, std::span(&greenItem, 1), kClearBlue,
				      std::span(&clip, 1)));
	auto pixels = renderer_->readPixels(target_);
	ASSERT_TRUE(pixels);
	for (const auto &image : { *pixels, download(target_) }) {
		EXPECT_TRUE(rectIs(image, 32, clip, kGreen, 0));
		EXPECT_TRUE(rectIs(image, 32, { 0, 0, 32, 6 }, kRed, 0));
		EXPECT_TRUE(rectIs(image, 32, { 0, 11, 32, 13 }, kRed, 0));
		EXPECT_TRUE(rectIs(image, 32, { 0, 6, 4, 5 }, kRed, 0));
		EXPECT_TRUE(rectIs(image, 32, { 14, 6, 18, 5 }, kRed, 0));
	}

	/* No clip, nothing drawn. */
	ASSERT_TRUE(renderer_->render(target_, std::span(&redItem, 1), kClearBlue, {}));
	EXPECT_TRUE(rectIs(download(target_), 32, clip, kGreen, 0));
}

TEST_P(ShmRenderTest, ItemsPartlyOutsideTheOutputAreClipped)
{
	Image image(8, 8, DRM_FORMAT_XRGB8888);
	image.fill(kRed);
	auto texture = import(image);
	auto pixels = draw({ { texture.get(), { -4, 20, 8, 8 } } });
	EXPECT_TRUE(rectIs(pixels, 32, { 0, 20, 4, 4 }, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 4, 20, kBlue, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 0, 19, kBlue, 0));
}

TEST_P(ShmRenderTest, UpdateUploadsOnlyTheDamage)
{
	Image image(16, 16, DRM_FORMAT_XRGB8888);
	image.fill(kRed);
	auto texture = import(image);
	ASSERT_TRUE(texture);

	/* New content everywhere, but only (3,5) 6x4 declared damaged. */
	image.fill(kGreen);
	const Rect damage[] = { { 3, 5, 6, 4 } };
	auto ret = renderer_->updateShm(*texture, image.data(), image.stride(), damage);
	ASSERT_TRUE(ret) << ret.error().message();
	auto pixels = draw({ { texture.get(), { 0, 0, 16, 16 } } });
	EXPECT_TRUE(rectIs(pixels, 32, { 3, 5, 6, 4 }, kGreen, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 0, 0, 16, 5 }, kRed, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 0, 9, 16, 7 }, kRed, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 0, 5, 3, 4 }, kRed, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 9, 5, 7, 4 }, kRed, 0));

	/* No damage, nothing uploaded. */
	image.fill(kWhite);
	ASSERT_TRUE(renderer_->updateShm(*texture, image.data(), image.stride(), {}));
	pixels = draw({ { texture.get(), { 0, 0, 16, 16 } } });
	EXPECT_TRUE(pixelAt(pixels, 32, 0, 0, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 4, 6, kGreen, 0));

	/* Several rects, one hanging over the edge (clipped, not refused). */
	const Rect more[] = { { 0, 0, 1, 1 }, { 14, 14, 10, 10 }, { -5, 15, 6, 3 } };
	ASSERT_TRUE(renderer_->updateShm(*texture, image.data(), image.stride(), more));
	pixels = draw({ { texture.get(), { 0, 0, 16, 16 } } });
	EXPECT_TRUE(pixelAt(pixels, 32, 0, 0, kWhite, 0));
	EXPECT_TRUE(rectIs(pixels, 32, { 14, 14, 2, 2 }, kWhite, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 0, 15, kWhite, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 1, 15, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 1, 0, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 13, 14, kRed, 0));
}

TEST_P(ShmRenderTest, UpdateRespectsAPaddedStride)
{
	Image image(10, 6, DRM_FORMAT_ARGB8888, 64);
	image.fill(kRed);
	auto texture = import(image);
	image.fill(kBlue);
	for (uint32_t y = 0; y < 6; y++)
		for (uint32_t x = 0; x < 10; x++)
			image.set(x, y, argb(0xff, 20 * x, 40 * y, 0));
	const Rect damage[] = { { 2, 1, 5, 3 } };
	ASSERT_TRUE(renderer_->updateShm(*texture, image.data(), image.stride(), damage));
	auto pixels = draw({ { texture.get(), { 0, 0, 10, 6 } } });
	for (uint32_t y = 1; y < 4; y++)
		for (uint32_t x = 2; x < 7; x++)
			EXPECT_TRUE(pixelAt(pixels, 32, x, y, argb(0xff, 20 * x, 40 * y, 0), 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 1, 1, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 7, 3, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 32, 2, 4, kRed, 0));
}

INSTANTIATE_TEST_SUITE_P(Renderers, ShmRenderTest, ::testing::ValuesIn(allRenderers()),
			 rendererName);

} /* namespace */
} /* namespace heapcomp::test */
