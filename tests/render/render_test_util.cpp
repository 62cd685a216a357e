/* SPDX-License-Identifier: MIT */
#include "render_test_util.h"

#include <cstdio>
#include <cstring>

#include <drm_fourcc.h>

#include <bufmgr/allocators.h>
#include <bufmgr/mapping.h>

#include "render/gles_renderer.h"
#include "render/pixman_renderer.h"

namespace heapcomp::test {

namespace {

std::string hex(uint32_t v)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "0x%08x", v);
	return buf;
}

bool bgraOrder(uint32_t format)
{
	return format == DRM_FORMAT_ARGB8888 || format == DRM_FORMAT_XRGB8888;
}

} /* namespace */

::testing::AssertionResult pixelNear(uint32_t got, uint32_t want, int tolerance)
{
	for (int shift = 0; shift < 32; shift += 8) {
		int g = (got >> shift) & 0xff, w = (want >> shift) & 0xff;
		if (std::abs(g - w) > tolerance)
			return ::testing::AssertionFailure()
			       << "got " << hex(got) << ", want " << hex(want)
			       << " (tolerance " << tolerance << ")";
	}
	return ::testing::AssertionSuccess();
}

::testing::AssertionResult pixelAt(const std::vector<uint32_t> &pixels, uint32_t width,
				   uint32_t x, uint32_t y, uint32_t want, int tolerance)
{
	size_t i = static_cast<size_t>(y) * width + x;
	if (i >= pixels.size())
		return ::testing::AssertionFailure() << "(" << x << "," << y << ") out of range";
	auto result = pixelNear(pixels[i], want, tolerance);
	if (!result)
		return ::testing::AssertionFailure() << "at (" << x << "," << y << "): "
						     << result.message();
	return result;
}

::testing::AssertionResult rectIs(const std::vector<uint32_t> &pixels, uint32_t width,
				  const comp::Rect &rect, uint32_t want, int tolerance)
{
	for (int32_t y = rect.y; y < rect.y + rect.height; y++) {
		for (int32_t x = rect.x; x < rect.x + rect.width; x++) {
			auto result = pixelAt(pixels, width, x, y, want, tolerance);
			if (!result)
				return result;
		}
	}
	return ::testing::AssertionSuccess();
}

void storePixel(uint32_t format, uint8_t *p, uint32_t v)
{
	uint8_t a = v >> 24, r = v >> 16, g = v >> 8, b = v;
	if (bgraOrder(format)) {
		p[0] = b; p[1] = g; p[2] = r; p[3] = a;
	} else {
		p[0] = r; p[1] = g; p[2] = b; p[3] = a;
	}
}

uint32_t loadPixel(uint32_t format, const uint8_t *p)
{
	if (bgraOrder(format))
		return argb(p[3], p[2], p[1], p[0]);
	return argb(p[3], p[0], p[1], p[2]);
}

Image::Image(uint32_t width, uint32_t height, uint32_t format, uint32_t stride)
	: width_(width), height_(height), format_(format), stride_(stride ? stride : width * 4),
	  bytes_(static_cast<size_t>(stride_) * height, 0x5a)
{
}

void Image::set(uint32_t x, uint32_t y, uint32_t v)
{
	storePixel(format_, bytes_.data() + static_cast<size_t>(y) * stride_ + x * 4, v);
}

void Image::fill(uint32_t v)
{
	fillRect({ 0, 0, int32_t(width_), int32_t(height_) }, v);
}

void Image::fillRect(const comp::Rect &rect, uint32_t v)
{
	for (int32_t y = rect.y; y < rect.y + rect.height; y++)
		for (int32_t x = rect.x; x < rect.x + rect.width; x++)
			set(x, y, v);
}

void upload(const bufmgr::Buffer &buffer, const Image &image)
{
	auto mapping = bufmgr::Mapping::map(buffer);
	ASSERT_TRUE(mapping) << mapping.error().message();
	auto access = mapping->beginAccess(bufmgr::Access::Write);
	ASSERT_TRUE(access) << access.error().message();
	const uint32_t stride = buffer.plane(0).stride;
	for (uint32_t y = 0; y < image.height(); y++)
		std::memcpy(mapping->plane(0).data() + static_cast<size_t>(y) * stride,
			    image.data() + static_cast<size_t>(y) * image.stride(),
			    image.width() * 4);
	ASSERT_TRUE(access->end());
}

std::vector<uint32_t> download(const bufmgr::Buffer &buffer)
{
	std::vector<uint32_t> pixels;
	auto mapping = bufmgr::Mapping::map(buffer, { bufmgr::Access::Read });
	EXPECT_TRUE(mapping) << mapping.error().message();
	if (!mapping)
		return pixels;
	auto access = mapping->beginAccess(bufmgr::Access::Read);
	EXPECT_TRUE(access) << access.error().message();
	const uint32_t stride = buffer.plane(0).stride;
	/* The X byte is padding: a renderer may leave anything there. */
	const bool noAlpha = buffer.format() == DRM_FORMAT_XRGB8888 ||
			     buffer.format() == DRM_FORMAT_XBGR8888;
	for (uint32_t y = 0; y < buffer.height(); y++)
		for (uint32_t x = 0; x < buffer.width(); x++)
			pixels.push_back(loadPixel(buffer.format(),
						   mapping->plane(0).data() +
						   static_cast<size_t>(y) * stride + x * 4) |
					 (noAlpha ? 0xff000000u : 0));
	return pixels;
}

bufmgr::Buffer memfdTarget(uint32_t width, uint32_t height, uint32_t format,
			   uint32_t strideAlign)
{
	auto allocator = bufmgr::createMemfdAllocator();
	auto request = bufmgr::AllocationRequest::image(width, height, format,
							bufmgr::Usage::Render, "render-test");
	request.strideAlign = strideAlign;
	auto buffer = allocator->allocate(request);
	EXPECT_TRUE(buffer) << buffer.error().message();
	return buffer ? std::move(*buffer) : bufmgr::Buffer();
}

std::unique_ptr<comp::Renderer> makeRenderer(TestRenderer which)
{
	comp::GlesRendererOptions options;
	options.bareGles2 = which == TestRenderer::BareGles2;
	auto renderer = which == TestRenderer::Pixman ? comp::createPixmanRenderer()
						      : comp::createGlesRenderer(options);
	EXPECT_TRUE(renderer) << renderer.error().message();
	return renderer ? std::move(*renderer) : nullptr;
}

const std::vector<TestRenderer> &allRenderers()
{
	static const std::vector<TestRenderer> all = { TestRenderer::Gles, TestRenderer::BareGles2,
						       TestRenderer::Pixman };
	return all;
}

std::string rendererName(const ::testing::TestParamInfo<TestRenderer> &info)
{
	switch (info.param) {
	case TestRenderer::Gles: return "Gles";
	case TestRenderer::BareGles2: return "BareGles2";
	case TestRenderer::Pixman: return "Pixman";
	}
	return "Unknown";
}

} /* namespace heapcomp::test */
