/* SPDX-License-Identifier: MIT */
/*
 * The renderer against the test VM's kernel: DMA-BUF heaps, udmabuf and a
 * vgem render node. The dma-buf import probe must finish (whatever the
 * driver does) and leave this process alive; client dma-bufs with known
 * pixels must render right through whichever path it chose; output
 * buffers from a heap must hold the frame, and screenshots match them.
 */
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

#include <bufmgr/allocators.h>
#include <bufmgr/format.h>
#include <bufmgr/mapping.h>

#include "fd_count.h"
#include "render/dmabuf_probe.h"
#include "render/gles_renderer.h"
#include "render/png.h"
#include "render_test_util.h"

namespace heapcomp::test {
namespace {

constexpr float kClear[4] = { 0, 0, 0.5f, 1 };
constexpr uint32_t kClearPixel = argb(0xff, 0, 0, 0x80);

/*
 * Under TCG the probe's child loads Mesa and LLVM over 9p and compiles
 * shaders on an emulated CPU: 10-25 s measured. Give it room to answer
 * instead of being killed, so the tests see what the driver really does.
 */
constexpr int kProbeTimeoutMs = 180000;

const char *const kSystemHeap = "/dev/dma_heap/system";
const char *const kCmaHeap = "/dev/dma_heap/default_cma_region";
const char *const kUdmabuf = "/dev/udmabuf";

std::unique_ptr<bufmgr::Allocator> openAllocator(const std::string &source)
{
	bufmgr::Result<std::unique_ptr<bufmgr::Allocator>> allocator =
		source == kUdmabuf ? bufmgr::createUdmabufAllocator(source)
				   : bufmgr::createDmaHeapAllocator(source, source == kCmaHeap);
	EXPECT_TRUE(allocator) << source << ": " << allocator.error().message();
	return allocator ? std::move(*allocator) : nullptr;
}

bufmgr::Buffer allocate(bufmgr::Allocator &allocator, uint32_t width, uint32_t height,
			uint32_t format)
{
	auto request = bufmgr::AllocationRequest::image(width, height, format,
							bufmgr::Usage::Render, "render-vm-test");
	auto buffer = allocator.allocate(request);
	EXPECT_TRUE(buffer) << buffer.error().message();
	return buffer ? std::move(*buffer) : bufmgr::Buffer();
}

uint32_t patternPixel(uint32_t x, uint32_t y, uint32_t seed)
{
	return argb(0xff, (x * 5 + seed) & 0xff, (y * 7) & 0xff, (x ^ y ^ seed) & 0xff);
}

Image pattern(uint32_t width, uint32_t height, uint32_t seed)
{
	Image image(width, height, DRM_FORMAT_XRGB8888);
	for (uint32_t y = 0; y < height; y++)
		for (uint32_t x = 0; x < width; x++)
			image.set(x, y, patternPixel(x, y, seed));
	return image;
}

class RenderVmTest : public ::testing::Test
{
protected:
	void SetUp() override
	{
		fdsBefore_ = countOpenFds();
		comp::GlesRendererOptions options;
		options.probeTimeoutMs = kProbeTimeoutMs;
		auto renderer = comp::createGlesRenderer(options);
		ASSERT_TRUE(renderer) << renderer.error().message();
		renderer_ = std::move(*renderer);
		gles_ = dynamic_cast<comp::GlesRenderer *>(renderer_.get());
		ASSERT_NE(gles_, nullptr);
	}

	void TearDown() override
	{
		renderer_.reset();
		/* The probe's result is cached, so later renderers fork nothing. */
		EXPECT_EQ(countOpenFds(), fdsBefore_);
	}

	/* Renders a client buffer at (3, 2) into a fresh output of `source`. */
	void checkClientBuffer(const std::string &source, const std::string &outputSource = {})
	{
		SCOPED_TRACE(source + " client buffer, " + std::string(comp::toString(renderer_->dmaBufPath())) +
			     " path");
		auto allocator = openAllocator(source);
		ASSERT_TRUE(allocator);
		bufmgr::Buffer client = allocate(*allocator, 40, 30, DRM_FORMAT_XRGB8888);
		ASSERT_TRUE(client.isValid());
		ASSERT_TRUE(client.isDmaBuf());
		Image image = pattern(40, 30, 3);
		upload(client, image);

		auto texture = renderer_->importDmaBuf(client);
		ASSERT_TRUE(texture) << texture.error().message();

		std::unique_ptr<bufmgr::Allocator> outputAllocator;
		bufmgr::Buffer output;
		if (outputSource.empty()) {
			output = memfdTarget(64, 48, DRM_FORMAT_XRGB8888);
		} else {
			outputAllocator = openAllocator(outputSource);
			ASSERT_TRUE(outputAllocator);
			output = allocate(*outputAllocator, 64, 48, DRM_FORMAT_XRGB8888);
		}
		comp::RenderItem item{ texture->get(), { 3, 2, 40, 30 } };
		auto ret = renderer_->render(output, std::span(&item, 1), kClear);
		ASSERT_TRUE(ret) << ret.error().message();

		auto memory = download(output);
		for (uint32_t y = 0; y < 30; y++)
			for (uint32_t x = 0; x < 40; x++)
				ASSERT_TRUE(pixelAt(memory, 64, 3 + x, 2 + y, patternPixel(x, y, 3), 0));
		EXPECT_TRUE(rectIs(memory, 64, { 0, 0, 64, 2 }, kClearPixel, 0));
		EXPECT_TRUE(rectIs(memory, 64, { 43, 2, 21, 46 }, kClearPixel, 0));

		/* The client draws a new frame and damages part of it. */
		Image next = pattern(40, 30, 3);
		next.fillRect({ 10, 10, 8, 6 }, argb(0xff, 0xff, 0xff, 0));
		upload(client, next);
		const comp::Rect damage[] = { { 10, 10, 8, 6 } };
		ret = renderer_->updateDmaBuf(**texture, client, damage);
		ASSERT_TRUE(ret) << ret.error().message();
		ASSERT_TRUE(renderer_->render(output, std::span(&item, 1), kClear));
		memory = download(output);
		EXPECT_TRUE(rectIs(memory, 64, { 13, 12, 8, 6 }, argb(0xff, 0xff, 0xff, 0), 0));
		EXPECT_TRUE(pixelAt(memory, 64, 3 + 9, 2 + 10, patternPixel(9, 10, 3), 0));

		auto pixels = renderer_->readPixels(output);
		ASSERT_TRUE(pixels) << pixels.error().message();
		EXPECT_EQ(*pixels, memory);
		renderer_->releaseTarget(output);
	}

	int fdsBefore_ = 0;
	std::unique_ptr<comp::Renderer> renderer_;
	comp::GlesRenderer *gles_ = nullptr;
};

TEST_F(RenderVmTest, ProbeCompletesAndChoosesAPath)
{
	const comp::DmaBufProbeResult &probe = gles_->probeResult();
	printf("renderer: %s\ndma-buf path: %s\nprobe: %s after %lld ms: %s\n",
	       gles_->description().c_str(),
	       std::string(comp::toString(renderer_->dmaBufPath())).c_str(),
	       std::string(comp::toString(probe.status)).c_str(),
	       static_cast<long long>(probe.durationMs), probe.detail.c_str());

	/* The VM has heaps and a render node: the probe must get an answer. */
	EXPECT_TRUE(probe.completed()) << probe.detail;
	EXPECT_NE(probe.status, comp::ProbeStatus::TimedOut) << probe.detail;
	EXPECT_NE(gles_->description().find("GBM"), std::string::npos);
	if (probe.status == comp::ProbeStatus::Passed) {
		EXPECT_EQ(renderer_->dmaBufPath(), comp::DmaBufPath::Gpu);
		EXPECT_TRUE(probe.canSample);
	} else {
		EXPECT_EQ(renderer_->dmaBufPath(), comp::DmaBufPath::Cpu);
		EXPECT_FALSE(probe.canSample);
	}
}

TEST_F(RenderVmTest, FreshProbeSurvivesWhateverTheDriverDoes)
{
	/* Not cached: fork again and see this process live through it. */
	comp::DmaBufProbeOptions options;
	options.renderNode = "/dev/dri/renderD128";
	options.timeoutMs = kProbeTimeoutMs;
	const pid_t self = getpid();
	comp::DmaBufProbeResult probe = comp::probeDmaBufImport(options);
	EXPECT_EQ(getpid(), self);
	EXPECT_TRUE(probe.completed()) << probe.detail;
	EXPECT_NE(probe.status, comp::ProbeStatus::TimedOut) << probe.detail;
	EXPECT_FALSE(probe.detail.empty());
	printf("fresh probe: %s after %lld ms: %s\n",
	       std::string(comp::toString(probe.status)).c_str(),
	       static_cast<long long>(probe.durationMs), probe.detail.c_str());

	/* A hung driver is killed at the deadline. */
	options.timeoutMs = 1;
	probe = comp::probeDmaBufImport(options);
	EXPECT_EQ(probe.status, comp::ProbeStatus::TimedOut) << probe.detail;
	EXPECT_FALSE(probe.canSample);
	EXPECT_EQ(getpid(), self);
	options.timeoutMs = kProbeTimeoutMs;

	/* Surfaceless in the VM too. */
	options.renderNode.clear();
	probe = comp::probeDmaBufImport(options);
	EXPECT_TRUE(probe.completed()) << probe.detail;
	printf("surfaceless probe: %s: %s\n", std::string(comp::toString(probe.status)).c_str(),
	       probe.detail.c_str());

	/* And the renderer still works after all that. */
	bufmgr::Buffer output = memfdTarget(8, 8, DRM_FORMAT_XRGB8888);
	ASSERT_TRUE(renderer_->render(output, {}, kClear));
	EXPECT_TRUE(pixelAt(download(output), 8, 7, 7, kClearPixel, 0));
}

TEST_F(RenderVmTest, SystemHeapClientBuffer)
{
	checkClientBuffer(kSystemHeap);
}

TEST_F(RenderVmTest, CmaHeapClientBuffer)
{
	checkClientBuffer(kCmaHeap);
}

TEST_F(RenderVmTest, UdmabufClientBuffer)
{
	checkClientBuffer(kUdmabuf);
}

TEST_F(RenderVmTest, ForcedCpuPathRendersHeapBuffers)
{
	renderer_.reset();
	comp::GlesRendererOptions options;
	options.forceCpuDmaBuf = true;
	auto renderer = comp::createGlesRenderer(options);
	ASSERT_TRUE(renderer) << renderer.error().message();
	renderer_ = std::move(*renderer);
	ASSERT_EQ(renderer_->dmaBufPath(), comp::DmaBufPath::Cpu);
	checkClientBuffer(kSystemHeap);
	checkClientBuffer(kUdmabuf);
}

TEST_F(RenderVmTest, RenderIntoHeapOutputs)
{
	checkClientBuffer(kSystemHeap, kSystemHeap);
	checkClientBuffer(kUdmabuf, kCmaHeap);
}

TEST_F(RenderVmTest, ScreenshotMatchesTheOutputBuffer)
{
	auto heap = openAllocator(kSystemHeap);
	ASSERT_TRUE(heap);
	bufmgr::Buffer output = allocate(*heap, 96, 64, DRM_FORMAT_XRGB8888);
	Image image = pattern(50, 40, 9);
	auto texture = renderer_->importShm(image.data(), 50, 40, image.stride(),
					    DRM_FORMAT_XRGB8888);
	ASSERT_TRUE(texture) << texture.error().message();
	comp::RenderItem items[] = {
		{ texture->get(), { 5, 5, 50, 40 } },
		{ texture->get(), { 60, 30, 25, 20 }, { 0, 0, 50, 40 }, 0.5f },
	};
	ASSERT_TRUE(renderer_->render(output, items, kClear));

	auto pixels = renderer_->readPixels(output);
	ASSERT_TRUE(pixels) << pixels.error().message();
	EXPECT_EQ(*pixels, download(output));
	EXPECT_TRUE(pixelAt(*pixels, 96, 5, 5, patternPixel(0, 0, 9), 0));
	EXPECT_TRUE(pixelAt(*pixels, 96, 54, 44, patternPixel(49, 39, 9), 0));

	const char *outDir = getenv("HEAPCOMP_VM_OUT");
	const std::string path = std::string(outDir ? outDir : "/tmp") + "/render-vm-screenshot.png";
	ASSERT_TRUE(comp::writePng(path, 96, 64, *pixels));
	auto png = comp::readPng(path);
	ASSERT_TRUE(png) << png.error().message();
	EXPECT_EQ(png->argb, *pixels);
	renderer_->releaseTarget(output);
}

} /* namespace */
} /* namespace heapcomp::test */
