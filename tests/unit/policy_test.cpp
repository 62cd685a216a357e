/* SPDX-License-Identifier: MIT */
#include <bufmgr/policy.h>

#include <drm_fourcc.h>
#include <gtest/gtest.h>

using namespace bufmgr;

namespace {

/* The sources of a typical board: both heaps, udmabuf, a KMS device, memfd. */
SourceInfo source(std::string name, AllocatorKind kind, uint32_t caps)
{
	SourceInfo info;
	info.source = std::move(name);
	info.kind = kind;
	info.capabilities = caps;
	return info;
}

std::vector<SourceInfo> boardSources()
{
	SourceInfo cma = source("dma-heap:default_cma_region", AllocatorKind::DmaHeap,
				CapDmaBuf | CapCpuMap | CapContiguous);
	cma.defaultCma = true;
	SourceInfo secure = source("dma-heap:restricted_video", AllocatorKind::DmaHeap,
				   CapDmaBuf);
	secure.restricted = true;
	SourceInfo vendor = source("dma-heap:vendor_carveout", AllocatorKind::DmaHeap,
				   CapDmaBuf | CapCpuMap);
	vendor.unknown = true;
	SourceInfo gbm = source("gbm:/dev/dri/card0", AllocatorKind::Gbm,
				CapDmaBuf | CapCpuMap | CapModifiers);
	gbm.device = "/dev/dri/card0";
	SourceInfo dumb = source("dumb:/dev/dri/card0", AllocatorKind::DumbBuffer,
				 CapDmaBuf | CapCpuMap);
	dumb.device = "/dev/dri/card0";

	return {
		source("memfd", AllocatorKind::Memfd, CapShm | CapCpuMap),
		source("dma-heap:system", AllocatorKind::DmaHeap, CapDmaBuf | CapCpuMap),
		cma,
		source("dma-heap:cma-video", AllocatorKind::DmaHeap,
		       CapDmaBuf | CapCpuMap | CapContiguous),
		secure,
		vendor,
		source("udmabuf", AllocatorKind::Udmabuf, CapDmaBuf | CapCpuMap),
		gbm,
		dumb,
	};
}

std::vector<std::string> order(const AllocationPlan &plan)
{
	std::vector<std::string> names;
	for (const PlanStep &step : plan.steps)
		names.push_back(step.source);
	return names;
}

std::string skipReason(const AllocationPlan &plan, const std::string &source)
{
	for (const SkippedSource &skip : plan.skipped) {
		if (skip.source == source)
			return skip.why;
	}
	return {};
}

AllocationRequest scanout()
{
	return AllocationRequest::image(1920, 1080, DRM_FORMAT_XRGB8888, Usage::Scanout);
}

TEST(Policy, ScanoutPrefersDefaultCmaThenGbm)
{
	auto plan = planAllocation(scanout(), {}, boardSources());
	std::vector<std::string> expected = {
		"dma-heap:default_cma_region", "dma-heap:cma-video", "gbm:/dev/dri/card0",
		"dumb:/dev/dri/card0", "dma-heap:system", "udmabuf",
	};
	EXPECT_EQ(order(plan), expected);
	EXPECT_NE(skipReason(plan, "memfd"), "");
	EXPECT_NE(skipReason(plan, "dma-heap:restricted_video").find("protected"),
		  std::string::npos);
	EXPECT_NE(skipReason(plan, "dma-heap:vendor_carveout").find("unknown"),
		  std::string::npos);
	for (const PlanStep &step : plan.steps)
		EXPECT_FALSE(step.why.empty()) << step.source;
}

TEST(Policy, ContiguousConstraintKeepsOnlyCma)
{
	Constraints c;
	c.contiguous = true;
	auto plan = planAllocation(scanout(), c, boardSources());
	std::vector<std::string> expected = { "dma-heap:default_cma_region",
					      "dma-heap:cma-video" };
	EXPECT_EQ(order(plan), expected);
	EXPECT_EQ(skipReason(plan, "dma-heap:system"), "not physically contiguous");
	EXPECT_EQ(skipReason(plan, "gbm:/dev/dri/card0"), "not physically contiguous");
}

TEST(Policy, CameraFollowsCmaSystemUdmabuf)
{
	auto request = AllocationRequest::image(1280, 720, DRM_FORMAT_NV12, Usage::Camera);
	auto plan = planAllocation(request, {}, boardSources());
	ASSERT_GE(plan.steps.size(), 4u);
	EXPECT_EQ(plan.steps[0].source, "dma-heap:default_cma_region");
	EXPECT_EQ(plan.steps[2].source, "dma-heap:system");
	EXPECT_EQ(plan.steps[3].source, "udmabuf");
}

TEST(Policy, CpuUsesMemfdUnlessDmaBufNeeded)
{
	auto request = AllocationRequest::blob(4096);
	auto plan = planAllocation(request, {}, boardSources());
	ASSERT_FALSE(plan.steps.empty());
	EXPECT_EQ(plan.steps[0].source, "memfd");
	/* Scarce CMA comes last for plain CPU memory. */
	EXPECT_EQ(plan.steps.back().source, "dma-heap:cma-video");

	Constraints c;
	c.dmaBuf = true;
	auto dmabuf = planAllocation(request, c, boardSources());
	ASSERT_FALSE(dmabuf.steps.empty());
	EXPECT_EQ(dmabuf.steps[0].source, "dma-heap:system");
	EXPECT_EQ(skipReason(dmabuf, "memfd"), "gives no dma-buf, which devices need");
	/* GBM cannot allocate blobs. */
	EXPECT_EQ(skipReason(dmabuf, "gbm:/dev/dri/card0"), "not used for cpu buffers");
}

TEST(Policy, PreferredSourceGoesFirstAndUnlocksProtected)
{
	Constraints c;
	c.preferredSource = "dma-heap:restricted_video";
	auto request = AllocationRequest::image(1920, 1080, DRM_FORMAT_NV12, Usage::Video);
	auto plan = planAllocation(request, c, boardSources());
	ASSERT_FALSE(plan.steps.empty());
	EXPECT_EQ(plan.steps[0].source, "dma-heap:restricted_video");
	EXPECT_EQ(plan.steps[0].why, "requested by the caller");

	c.preferredSource = "dma-heap:system";
	auto system = planAllocation(request, c, boardSources());
	EXPECT_EQ(system.steps[0].source, "dma-heap:system");
	/* Listed once, not again at its usual place. */
	int count = 0;
	for (const PlanStep &step : system.steps)
		count += step.source == "dma-heap:system";
	EXPECT_EQ(count, 1);
}

TEST(Policy, TiledModifiersNeedGbm)
{
	auto request = AllocationRequest::image(1920, 1080, DRM_FORMAT_XRGB8888, Usage::Render);
	request.modifiers = { I915_FORMAT_MOD_Y_TILED };
	auto plan = planAllocation(request, {}, boardSources());
	std::vector<std::string> expected = { "gbm:/dev/dri/card0" };
	EXPECT_EQ(order(plan), expected);
	EXPECT_EQ(skipReason(plan, "dma-heap:system"), "lays out linear buffers only");
}

TEST(Policy, ImportDeviceExcludesOtherDevices)
{
	Constraints c;
	c.importDevice = "/dev/dri/card1";
	auto plan = planAllocation(scanout(), c, boardSources());
	EXPECT_NE(skipReason(plan, "gbm:/dev/dri/card0").find("/dev/dri/card1"),
		  std::string::npos);
	EXPECT_EQ(plan.steps[0].source, "dma-heap:default_cma_region");
}

/* A display that cannot reach the default CMA area (a DMA mask short of it): the other CMA heap first. */
TEST(Policy, RefusedSourcesAreSkippedWithTheReadersReason)
{
	Constraints c;
	c.refused.push_back({ "dma-heap:default_cma_region", "the display refused it" });
	auto plan = planAllocation(scanout(), c, boardSources());
	EXPECT_EQ(skipReason(plan, "dma-heap:default_cma_region"), "the display refused it");
	ASSERT_FALSE(plan.steps.empty());
	EXPECT_EQ(plan.steps[0].source, "dma-heap:cma-video");
	for (const PlanStep &step : plan.steps)
		EXPECT_NE(step.source, "dma-heap:default_cma_region");
	/* Even when asked for by name. */
	c.preferredSource = SourceName("dma-heap:default_cma_region");
	plan = planAllocation(scanout(), c, boardSources());
	EXPECT_EQ(skipReason(plan, "dma-heap:default_cma_region"), "the display refused it");
}

TEST(Policy, CpuAccessSkipsUncached)
{
	auto sources = boardSources();
	SourceInfo uncached = source("dma-heap:system-uncached", AllocatorKind::DmaHeap,
				     CapDmaBuf | CapCpuMap);
	uncached.uncached = true;
	sources.push_back(uncached);
	Constraints c;
	c.cpuAccess = true;
	auto plan = planAllocation(AllocationRequest::image(64, 64, DRM_FORMAT_XRGB8888,
							    Usage::Render), c, sources);
	EXPECT_EQ(skipReason(plan, "dma-heap:system-uncached"),
		  "uncached: CPU reads would be slow");
}

TEST(Policy, NothingLeftIsExplained)
{
	Constraints c;
	c.contiguous = true;
	std::vector<SourceInfo> sources = { source("memfd", AllocatorKind::Memfd,
						   CapShm | CapCpuMap) };
	auto plan = planAllocation(scanout(), c, sources);
	EXPECT_TRUE(plan.steps.empty());
	EXPECT_NE(plan.describe().find("nothing to try"), std::string::npos);
	EXPECT_NE(plan.describe().find("memfd"), std::string::npos);
}

} /* namespace */
