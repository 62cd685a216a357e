/* SPDX-License-Identifier: MIT */
/* Input the renderer must refuse with a clear error, not draw garbage. */
#include <drm_fourcc.h>
#include <gtest/gtest.h>

#include "render/gles_renderer.h"
#include "render_test_util.h"

namespace heapcomp::test {
namespace {

constexpr float kClear[4] = { 0, 0, 0, 1 };

class BadInputTest : public ::testing::Test
{
protected:
	void SetUp() override
	{
		renderer_ = makeRenderer();
		ASSERT_TRUE(renderer_);
		image_.fill(argb(0xff, 1, 2, 3));
	}

	template<typename R>
	void expectError(const R &result, int code, const std::string &words)
	{
		ASSERT_FALSE(result);
		EXPECT_EQ(result.error().code, code) << result.error().message();
		EXPECT_NE(result.error().message().find(words), std::string::npos)
			<< result.error().message();
	}

	std::unique_ptr<comp::Renderer> renderer_;
	Image image_{ 4, 4, DRM_FORMAT_XRGB8888 };
};

TEST_F(BadInputTest, ImportShm)
{
	const uint8_t *data = image_.data();
	expectError(renderer_->importShm(data, 0, 4, 16, DRM_FORMAT_XRGB8888), EINVAL, "empty");
	expectError(renderer_->importShm(data, 4, 0, 16, DRM_FORMAT_XRGB8888), EINVAL, "empty");
	expectError(renderer_->importShm(nullptr, 4, 4, 16, DRM_FORMAT_XRGB8888), EINVAL, "empty");
	expectError(renderer_->importShm(data, 4, 4, 16, fourcc_code('N', 'O', 'P', 'E')),
		    ENOTSUP, "unsupported format");
	/* Multi-planar formats are not wl_shm formats here. */
	expectError(renderer_->importShm(data, 4, 4, 16, DRM_FORMAT_NV12), ENOTSUP,
		    "unsupported format");
	expectError(renderer_->importShm(data, 4, 4, 15, DRM_FORMAT_XRGB8888), EINVAL,
		    "stride 15 too small");
	expectError(renderer_->importShm(data, 4, 2, 7, DRM_FORMAT_RGB565), EINVAL,
		    "stride 7 too small");
	expectError(renderer_->importShm(data, 1u << 20, 1, 1u << 22, DRM_FORMAT_XRGB8888),
		    EINVAL, "GL limit");
}

TEST_F(BadInputTest, UpdateShm)
{
	auto texture = renderer_->importShm(image_.data(), 4, 4, 16, DRM_FORMAT_XRGB8888);
	ASSERT_TRUE(texture);
	const comp::Rect damage[] = { { 0, 0, 4, 4 } };
	expectError(renderer_->updateShm(**texture, image_.data(), 12, damage), EINVAL,
		    "too small");
	expectError(renderer_->updateShm(**texture, nullptr, 16, damage), EINVAL, "no data");
}

TEST_F(BadInputTest, RenderTargets)
{
	bufmgr::Buffer nv12 = memfdTarget(8, 8, DRM_FORMAT_NV12);
	expectError(renderer_->render(nv12, {}, kClear), ENOTSUP, "not a renderable");
	expectError(renderer_->render(bufmgr::Buffer(), {}, kClear), EINVAL, "empty");

	bufmgr::Buffer target = memfdTarget(8, 8, DRM_FORMAT_XRGB8888);
	std::vector<bufmgr::BufferPlane> planes(target.planes().begin(), target.planes().end());
	planes[0].stride = 16;
	expectError(renderer_->render(bufmgr::Buffer(target.description(), planes), {}, kClear),
		    EINVAL, "stride 16 too small");
}

TEST_F(BadInputTest, RenderItems)
{
	bufmgr::Buffer target = memfdTarget(8, 8, DRM_FORMAT_XRGB8888);
	comp::RenderItem noTexture{ nullptr, { 0, 0, 4, 4 } };
	expectError(renderer_->render(target, std::span(&noTexture, 1), kClear), EINVAL,
		    "without a texture");

	auto texture = renderer_->importShm(image_.data(), 4, 4, 16, DRM_FORMAT_XRGB8888);
	ASSERT_TRUE(texture);
	for (comp::SourceBox box : { comp::SourceBox{ 1, 1, 4, 4 }, comp::SourceBox{ -1, 0, 2, 2 },
				     comp::SourceBox{ 0, 0, 0, 3 } }) {
		comp::RenderItem item{ texture->get(), { 0, 0, 4, 4 }, box };
		expectError(renderer_->render(target, std::span(&item, 1), kClear), EINVAL,
			    "outside");
	}

	/* A failed frame draws nothing: the target keeps its old content. */
	const float red[4] = { 1, 0, 0, 1 };
	ASSERT_TRUE(renderer_->render(target, {}, red));
	comp::RenderItem items[] = { { texture->get(), { 0, 0, 4, 4 } }, noTexture };
	ASSERT_FALSE(renderer_->render(target, items, kClear));
	auto memory = download(target);
	EXPECT_TRUE(pixelAt(memory, 8, 0, 0, argb(0xff, 0xff, 0, 0), 0));
}

} /* namespace */
} /* namespace heapcomp::test */
