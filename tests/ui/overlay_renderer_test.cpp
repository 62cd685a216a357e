/* SPDX-License-Identifier: MIT */
/* The CPU rasterizer of the overlay against ImGui's own GLES backend. */
#include <gtest/gtest.h>

#include <cstdlib>

#include <imgui.h>

#include "ui/overlay.h"
#include "ui/overlay_panels.h"
#include "ui/overlay_renderer.h"

namespace heapcomp::test {
namespace {

/* A model with every panel filled: tables, warnings, both plots. */
comp::OverlayModel sampleModel()
{
	comp::OverlayModel model;
	model.renderer = "pixman";
	model.backend = "headless";
	comp::HeapRow heap;
	heap.source = "dma-heap:default_cma_region";
	heap.liveBuffers = 3;
	heap.liveBytes = 3 * 8294400;
	heap.peakBytes = 4 * 8294400;
	heap.allocations = 9;
	heap.failures = 2;
	heap.failuresByErrno = "ENOMEM 2";
	heap.p50Ns = 81000;
	heap.p99Ns = 1900000;
	heap.maxNs = 2100000;
	model.heaps.push_back(heap);
	heap.source = "memfd";
	heap.failures = 0;
	heap.failuresByErrno.clear();
	model.heaps.push_back(heap);
	comp::ClientRow client;
	client.pid = 4242;
	client.label = "pid 4242 (weston-simple-dmabuf)";
	client.buffers = 2;
	client.bytes = 2 * 8294400;
	client.scannedOutFrames = 120;
	model.clients.push_back(client);
	comp::OutputRow output;
	output.name = "HEADLESS-1";
	output.frames = 300;
	output.composed = 120;
	output.lastFrame = "composed";
	model.outputs.push_back(output);
	for (int i = 0; i < 120; i++) {
		model.frames.intervalMs.push_back(16.6f + float(i % 7));
		model.frames.repaintCpuMs.push_back(0.2f + 0.05f * float(i % 11));
	}
	return model;
}

TEST(OverlayRenderer, CpuDrawsWhatImGuisGlesBackendDraws)
{
	ImGuiContext *imgui = comp::createOverlayImGui();
	auto cpu = comp::createCpuOverlayRenderer();
	auto gles = comp::createGlesOverlayRenderer(imgui);
	ASSERT_TRUE(gles) << gles.error().message();

	constexpr uint32_t kWidth = 640, kHeight = 400;
	/* Both read the same font atlas; GLES's texture id is the one bound last. */
	cpu->newFrame();
	(*gles)->newFrame();
	ImGuiIO &io = ImGui::GetIO();
	io.DisplaySize = ImVec2(kWidth, kHeight);
	io.DeltaTime = 0.5f;
	comp::OverlayModel model = sampleModel();
	std::vector<std::string> dump;
	/* Twice: ImGui lays a new window out over two frames. */
	for (int frame = 0; frame < 2; frame++) {
		dump.clear();
		ImGui::NewFrame();
		ImGui::SetNextWindowPos(ImVec2(0, 0));
		ImGui::SetNextWindowSize(io.DisplaySize);
		ImGui::SetNextWindowBgAlpha(0.0f);
		ImGui::Begin("test", nullptr, ImGuiWindowFlags_NoTitleBar);
		comp::drawOverlayPanels(model, dump);
		ImGui::End();
		ImGui::Render();
	}
	ASSERT_FALSE(dump.empty());

	const float clear[4] = { 0.06f, 0.06f, 0.06f, 1.0f };
	std::vector<uint32_t> fromCpu, fromGles;
	ASSERT_TRUE(cpu->render(ImGui::GetDrawData(), kWidth, kHeight, clear, fromCpu));
	ASSERT_TRUE((*gles)->render(ImGui::GetDrawData(), kWidth, kHeight, clear, fromGles));
	ASSERT_EQ(fromCpu.size(), size_t(kWidth) * kHeight);
	ASSERT_EQ(fromGles.size(), fromCpu.size());

	size_t drawn = 0, differ = 0;
	uint64_t sumDiff = 0;
	for (size_t i = 0; i < fromCpu.size(); i++) {
		drawn += fromGles[i] != fromGles[0];
		int worst = 0;
		for (int shift = 0; shift < 32; shift += 8) {
			int d = std::abs(int((fromCpu[i] >> shift) & 0xff) -
					 int((fromGles[i] >> shift) & 0xff));
			worst = std::max(worst, d);
			sumDiff += uint64_t(d);
		}
		differ += worst > 24;
	}
	/* Something was drawn, and the two agree but for a few edge pixels. */
	EXPECT_GT(drawn, fromCpu.size() / 10);
	EXPECT_LT(differ, fromCpu.size() / 200) << differ << " pixels differ";
	EXPECT_LT(double(sumDiff) / double(fromCpu.size() * 4), 1.0);
	for (uint32_t pixel : fromCpu)
		ASSERT_EQ(pixel >> 24, 0xffu) << "over an opaque clear, every pixel is opaque";

	gles->reset();
	ImGui::DestroyContext(imgui);
}

} /* namespace */
} /* namespace heapcomp::test */
