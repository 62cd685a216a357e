/* SPDX-License-Identifier: MIT */
/*
 * The renderer pass API on each renderer: solid and textured draws clipped
 * to the pass's damage, failures that fail the submit, one pass at a time,
 * completion, and GLES's escape hatch to raw GL.
 */
#include <drm_fourcc.h>
#include <GLES2/gl2.h>
#include <gtest/gtest.h>

#include "render/gles_renderer.h"
#include "render_test_util.h"

namespace heapcomp::test {
namespace {

using comp::Rect;
using comp::RectDraw;
using comp::RenderItem;

constexpr uint32_t kRed = argb(0xff, 0xff, 0, 0);
constexpr uint32_t kGreen = argb(0xff, 0, 0xff, 0);
constexpr uint32_t kBlue = argb(0xff, 0, 0, 0xff);

RectDraw solid(Rect rect, float r, float g, float b, float a = 1)
{
	RectDraw draw{ rect };
	draw.color[0] = r;
	draw.color[1] = g;
	draw.color[2] = b;
	draw.color[3] = a;
	return draw;
}

class RenderPassTest : public ::testing::TestWithParam<TestRenderer>
{
protected:
	void SetUp() override
	{
		renderer_ = makeRenderer(GetParam());
		ASSERT_TRUE(renderer_);
		target_ = memfdTarget(16, 16, DRM_FORMAT_XRGB8888);
		ASSERT_TRUE(target_.isValid());
	}

	std::unique_ptr<comp::RenderPass> begin(std::vector<Rect> damage)
	{
		auto pass = renderer_->beginPass(target_, damage);
		EXPECT_TRUE(pass) << pass.error().message();
		return pass ? std::move(*pass) : nullptr;
	}

	/* Submits, checks the target holds the frame, returns its pixels. */
	std::vector<uint32_t> submit(comp::RenderPass &pass)
	{
		auto done = pass.submit();
		EXPECT_TRUE(done) << done.error().message();
		if (done && done->syncFd) {
			EXPECT_TRUE(comp::waitForSyncFile(done->syncFd.get()));
		}
		return download(target_);
	}

	std::unique_ptr<comp::Renderer> renderer_;
	bufmgr::Buffer target_;
};

TEST_P(RenderPassTest, ANewTargetIsDrawnWholeThenOnlyItsDamage)
{
	auto pass = begin({ { 2, 2, 4, 4 } });
	ASSERT_TRUE(pass);
	/* The renderer cannot know what a new target holds. */
	ASSERT_EQ(pass->clip().size(), 1u);
	EXPECT_EQ(pass->clip()[0], (Rect{ 0, 0, 16, 16 }));
	pass->addRect(solid({ 0, 0, 16, 16 }, 0, 0, 1));
	auto pixels = submit(*pass);
	EXPECT_TRUE(rectIs(pixels, 16, { 0, 0, 16, 16 }, kBlue, 0));
	pass.reset();

	/* Now only the damage changes, whatever the draws cover. */
	pass = begin({ { 2, 2, 4, 4 }, { 10, 0, 2, 16 } });
	ASSERT_TRUE(pass);
	EXPECT_EQ(pass->clip().size(), 2u);
	pass->addRect(solid({ 0, 0, 16, 16 }, 1, 0, 0));
	pixels = submit(*pass);
	EXPECT_TRUE(rectIs(pixels, 16, { 2, 2, 4, 4 }, kRed, 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 10, 0, 2, 16 }, kRed, 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 0, 0, 2, 16 }, kBlue, 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 6, 0, 4, 16 }, kBlue, 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 12, 0, 4, 16 }, kBlue, 0));

	/* Damage outside the target draws nothing and is no error. */
	pass.reset();
	pass = begin({ { 40, 40, 4, 4 } });
	ASSERT_TRUE(pass);
	EXPECT_TRUE(pass->clip().empty());
	pass->addRect(solid({ 0, 0, 16, 16 }, 0, 1, 0));
	pixels = submit(*pass);
	EXPECT_TRUE(pixelAt(pixels, 16, 3, 3, kRed, 0));
}

TEST_P(RenderPassTest, TranslucentRectsBlendPremultiplied)
{
	auto pass = begin({ { 0, 0, 16, 16 } });
	ASSERT_TRUE(pass);
	pass->addRect(solid({ 0, 0, 16, 16 }, 1, 1, 1));
	/* Half-transparent blue, premultiplied: (0, 0, .5, .5). */
	pass->addRect(solid({ 4, 4, 8, 8 }, 0, 0, 0.5f, 0.5f));
	/* Fully transparent: leaves what is below. */
	pass->addRect(solid({ 0, 0, 4, 4 }, 0, 0, 0, 0));
	auto pixels = submit(*pass);
	EXPECT_TRUE(rectIs(pixels, 16, { 0, 0, 16, 4 }, argb(0xff, 0xff, 0xff, 0xff), 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 4, 4, 8, 8 }, argb(0xff, 0x80, 0x80, 0xff), 1));
}

TEST_P(RenderPassTest, TexturesAndRectsDrawInOrder)
{
	Image image(4, 4, DRM_FORMAT_XRGB8888);
	image.fill(kGreen);
	auto texture = renderer_->importShm(image.data(), 4, 4, image.stride(), image.format());
	ASSERT_TRUE(texture) << texture.error().message();

	auto pass = begin({ { 0, 0, 16, 16 } });
	ASSERT_TRUE(pass);
	pass->addRect(solid({ 0, 0, 16, 16 }, 0, 0, 1));
	pass->addTexture(RenderItem{ texture->get(), { 2, 2, 4, 4 } });
	pass->addRect(solid({ 4, 4, 4, 4 }, 1, 0, 0));
	auto pixels = submit(*pass);
	EXPECT_TRUE(rectIs(pixels, 16, { 2, 2, 4, 2 }, kGreen, 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 2, 4, 2, 2 }, kGreen, 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 4, 4, 4, 4 }, kRed, 0));
	EXPECT_TRUE(pixelAt(pixels, 16, 1, 1, kBlue, 0));
}

/*
 * A 1:1 draw of part of a texture with a padded stride lands texel for
 * texel inside the damage and nowhere else.
 */
TEST_P(RenderPassTest, UnscaledTexturesCopyTexelsWithinTheDamage)
{
	/* Every texel its own colour; rows 40 bytes apart (two pixels of padding). */
	Image image(8, 8, DRM_FORMAT_XRGB8888, 40);
	auto texel = [](int32_t x, int32_t y) {
		return argb(0xff, uint8_t(0x10 * x), uint8_t(0x10 * y), 0x80);
	};
	for (int32_t y = 0; y < 8; y++)
		for (int32_t x = 0; x < 8; x++)
			image.set(uint32_t(x), uint32_t(y), texel(x, y));
	/* In place where the renderer reads wl_shm so: the padded rows are what it reads. */
	auto texture = renderer_->readsShmInPlace()
			       ? renderer_->wrapShm(image.data(), 8, 8, image.stride(), image.format())
			       : renderer_->importShm(image.data(), 8, 8, image.stride(),
						      image.format());
	ASSERT_TRUE(texture) << texture.error().message();

	auto pass = begin({ { 0, 0, 16, 16 } });
	ASSERT_TRUE(pass);
	pass->addRect(solid({ 0, 0, 16, 16 }, 0, 0, 1));
	submit(*pass);
	pass.reset();

	/* Texels (2, 1) to (6, 6) at (3, 4); damage: a column and a band crossing it. */
	const std::vector<Rect> damage = { { 0, 0, 6, 16 }, { 7, 5, 9, 3 } };
	pass = begin(damage);
	ASSERT_TRUE(pass);
	const Rect dst{ 3, 4, 5, 6 };
	pass->addTexture(RenderItem{ texture->get(), dst, { 2, 1, 5, 6 } });
	auto pixels = submit(*pass);
	auto in = [](const Rect &r, int32_t x, int32_t y) {
		return x >= r.x && x < r.right() && y >= r.y && y < r.bottom();
	};
	for (int32_t y = 0; y < 16; y++) {
		for (int32_t x = 0; x < 16; x++) {
			bool damaged = false;
			for (const Rect &r : damage)
				damaged = damaged || in(r, x, y);
			const bool drawn = damaged && in(dst, x, y);
			EXPECT_TRUE(pixelAt(pixels, 16, uint32_t(x), uint32_t(y),
					    drawn ? texel(x - 3 + 2, y - 4 + 1) : kBlue, 0));
		}
	}
}

/*
 * An item's clip narrows its draw within the damage; an opaque item's
 * pixels are written with their alpha ignored, not blended.
 */
TEST_P(RenderPassTest, ItemsDrawOnlyInTheirClipAndOpaqueOnesWithoutBlending)
{
	/* Premultiplied half-transparent green. */
	Image image(8, 8, DRM_FORMAT_ARGB8888);
	image.fill(argb(0x80, 0, 0x80, 0));
	auto texture = renderer_->importShm(image.data(), 8, 8, image.stride(), image.format());
	ASSERT_TRUE(texture) << texture.error().message();

	auto pass = begin({ { 0, 0, 16, 16 } });
	ASSERT_TRUE(pass);
	pass->addRect(solid({ 0, 0, 16, 16 }, 1, 0, 0));
	RenderItem item{ texture->get(), { 4, 4, 8, 8 } };
	const std::vector<Rect> left = { { 4, 4, 4, 8 } };
	item.clip = left;
	item.opaque = true;
	pass->addTexture(item);
	const std::vector<Rect> topRight = { { 8, 4, 4, 4 } };
	item.clip = topRight;
	item.opaque = false;
	pass->addTexture(item);
	auto pixels = submit(*pass);
	EXPECT_TRUE(rectIs(pixels, 16, { 4, 4, 4, 8 }, argb(0xff, 0, 0x80, 0), 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 8, 4, 4, 4 }, argb(0xff, 0x7f, 0x80, 0), 1));
	EXPECT_TRUE(rectIs(pixels, 16, { 8, 8, 4, 4 }, kRed, 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 0, 0, 16, 4 }, kRed, 0));
	pass.reset();

	/* Damage and clip both hold: only where they meet is drawn. */
	Image blue(8, 8, DRM_FORMAT_XRGB8888);
	blue.fill(kBlue);
	auto other = renderer_->importShm(blue.data(), 8, 8, blue.stride(), blue.format());
	ASSERT_TRUE(other) << other.error().message();
	pass = begin({ { 0, 0, 6, 16 } });
	ASSERT_TRUE(pass);
	RenderItem over{ other->get(), { 4, 4, 8, 8 } };
	const std::vector<Rect> bottom = { { 0, 10, 16, 6 } };
	over.clip = bottom;
	pass->addTexture(over);
	pixels = submit(*pass);
	EXPECT_TRUE(rectIs(pixels, 16, { 4, 10, 2, 2 }, kBlue, 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 4, 4, 2, 6 }, argb(0xff, 0, 0x80, 0), 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 6, 10, 2, 2 }, argb(0xff, 0, 0x80, 0), 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 8, 8, 4, 4 }, kRed, 0));
}

TEST_P(RenderPassTest, ABadDrawFailsTheSubmit)
{
	Image image(4, 4, DRM_FORMAT_XRGB8888);
	image.fill(kGreen);
	auto texture = renderer_->importShm(image.data(), 4, 4, image.stride(), image.format());
	ASSERT_TRUE(texture);

	auto pass = begin({ { 0, 0, 16, 16 } });
	ASSERT_TRUE(pass);
	RenderItem outside{ texture->get(), { 0, 0, 4, 4 }, { 2, 2, 4, 4 } };
	pass->addTexture(outside);
	pass->addRect(solid({ 0, 0, 16, 16 }, 1, 0, 0));
	auto done = pass->submit();
	ASSERT_FALSE(done);
	EXPECT_EQ(done.error().code, EINVAL);
	EXPECT_NE(done.error().message().find("source box"), std::string::npos)
		<< done.error().message();

	/* A pass submits once; what comes after is refused. */
	auto again = pass->submit();
	ASSERT_FALSE(again);
	EXPECT_EQ(again.error().code, EINVAL);

	RenderItem none{ nullptr, { 0, 0, 4, 4 } };
	pass.reset();
	pass = begin({ { 0, 0, 16, 16 } });
	ASSERT_TRUE(pass);
	pass->addTexture(none);
	EXPECT_FALSE(pass->submit());
}

TEST_P(RenderPassTest, OnePassAtATime)
{
	auto first = begin({ { 0, 0, 16, 16 } });
	ASSERT_TRUE(first);
	bufmgr::Buffer other = memfdTarget(8, 8, DRM_FORMAT_XRGB8888);
	auto second = renderer_->beginPass(other, {});
	ASSERT_FALSE(second);
	EXPECT_EQ(second.error().code, EBUSY);

	/* A target released while its pass runs is forgotten after it. */
	renderer_->releaseTarget(target_);
	first->addRect(solid({ 0, 0, 16, 16 }, 0, 1, 0));
	auto pixels = submit(*first);
	EXPECT_TRUE(pixelAt(pixels, 16, 8, 8, kGreen, 0));
	first.reset();

	auto third = renderer_->beginPass(other, {});
	ASSERT_TRUE(third) << third.error().message();
	/* Submitted or not, a pass ends when destroyed. */
	third->reset();
	EXPECT_TRUE(renderer_->beginPass(target_, {}));
}

TEST_P(RenderPassTest, GlesGivesRawGlToACallerInsideThePass)
{
	std::unique_ptr<comp::RenderPass> owner = begin({ { 0, 0, 16, 16 } });
	auto *pass = dynamic_cast<comp::GlesRenderPass *>(owner.get());
	if (GetParam() == TestRenderer::Pixman) {
		EXPECT_EQ(pass, nullptr) << "pixman has no GL to give";
		return;
	}
	ASSERT_NE(pass, nullptr);
	pass->addRect(solid({ 0, 0, 16, 16 }, 0, 0, 1));
	bool called = false;
	pass->drawWithGl([&](const comp::GlPassState &state) {
		called = true;
		EXPECT_NE(state.framebuffer, 0u);
		EXPECT_EQ(state.width, 16u);
		EXPECT_EQ(state.height, 16u);
		ASSERT_EQ(state.clip.size(), 1u);
		/* GL y = 0 is the output's first row: a scissored clear lands on rows 0-3. */
		glScissor(0, 0, 16, 4);
		glClearColor(1, 0, 0, 1);
		glClear(GL_COLOR_BUFFER_BIT);
		/* State the pass relies on, changed behind its back. */
		glDisable(GL_SCISSOR_TEST);
		glBindFramebuffer(GL_FRAMEBUFFER, 0);
	});
	EXPECT_TRUE(called);
	/* Later draws still land in the target, clipped. */
	pass->addRect(solid({ 0, 12, 16, 4 }, 0, 1, 0));
	auto pixels = submit(*pass);
	EXPECT_TRUE(rectIs(pixels, 16, { 0, 0, 16, 4 }, kRed, 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 0, 4, 16, 8 }, kBlue, 0));
	EXPECT_TRUE(rectIs(pixels, 16, { 0, 12, 16, 4 }, kGreen, 0));
}

INSTANTIATE_TEST_SUITE_P(Renderers, RenderPassTest, ::testing::ValuesIn(allRenderers()),
			 rendererName);

} /* namespace */
} /* namespace heapcomp::test */
