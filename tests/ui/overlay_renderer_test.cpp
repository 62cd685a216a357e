/* SPDX-License-Identifier: MIT */
/* The CPU rasterizer of the overlay against ImGui's own GLES backend. */
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

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

/* The panels of model in one window filling the display; dump gets what they drew. */
void layOut(const comp::OverlayModel &model, std::vector<std::string> &dump)
{
	/* Twice: ImGui lays a new window out over two frames. */
	for (int frame = 0; frame < 2; frame++) {
		dump.clear();
		ImGui::NewFrame();
		ImGui::SetNextWindowPos(ImVec2(0, 0));
		ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
		ImGui::SetNextWindowBgAlpha(0.0f);
		ImGui::Begin("test", nullptr, ImGuiWindowFlags_NoTitleBar);
		comp::drawOverlayPanels(model, &dump);
		ImGui::End();
		ImGui::Render();
	}
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
	layOut(model, dump);
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

/*
 * Redraws as the overlay makes them, every half second: numbers tick, the
 * graphs scroll, a client comes. Each drawn again only where it changed
 * gives the pixels of a whole redraw.
 */
TEST(OverlayRenderer, IncrementalRedrawsGiveTheWholeRedrawsPixels)
{
	ImGuiContext *imgui = comp::createOverlayImGui();
	auto incremental = comp::createCpuOverlayRenderer();
	auto whole = comp::createCpuOverlayRenderer(false);
	incremental->newFrame();
	whole->newFrame();
	constexpr uint32_t kWidth = 640, kHeight = 400;
	ImGuiIO &io = ImGui::GetIO();
	io.DisplaySize = ImVec2(kWidth, kHeight);
	io.DeltaTime = 0.5f;
	const float clear[4] = { 0.06f, 0.06f, 0.06f, 1.0f };
	comp::OverlayModel model = sampleModel();
	std::vector<std::string> dump;
	std::vector<uint32_t> first, previous, fromIncremental;
	for (int step = 0; step < 8; step++) {
		if (step == 3) {
			comp::ClientRow client = model.clients.front();
			client.pid = 4343;
			client.label = "pid 4343 (foot)";
			model.clients.push_back(client);
		}
		if (step != 5) {
			/* Step 5 changes nothing: the redraw draws nothing again. */
			model.heaps[0].allocations += 3;
			model.heaps[0].liveBytes += 4096u * uint64_t(step);
			model.outputs[0].frames += 30;
			model.frames.intervalMs.erase(model.frames.intervalMs.begin());
			model.frames.intervalMs.push_back(16.6f + float(step));
			model.frames.repaintCpuMs.erase(model.frames.repaintCpuMs.begin());
			model.frames.repaintCpuMs.push_back(0.3f * float(step));
		}
		layOut(model, dump);
		std::vector<uint32_t> fromWhole;
		auto changed = incremental->render(ImGui::GetDrawData(), kWidth, kHeight, clear,
						   fromIncremental);
		ASSERT_TRUE(changed);
		EXPECT_EQ(!changed->isEmpty(), step != 5) << "step " << step;
		ASSERT_TRUE(whole->render(ImGui::GetDrawData(), kWidth, kHeight, clear, fromWhole));
		ASSERT_EQ(fromIncremental.size(), size_t(kWidth) * kHeight);
		size_t differ = 0, outside = 0;
		for (size_t i = 0; i < fromWhole.size(); i++) {
			differ += fromIncremental[i] != fromWhole[i];
			/* The box said to have changed holds every pixel that did. */
			const comp::Rect pixel{ int32_t(i % kWidth), int32_t(i / kWidth), 1, 1 };
			if (step > 0 && fromWhole[i] != previous[i] && !changed->contains(pixel))
				outside++;
		}
		EXPECT_EQ(differ, 0u) << "step " << step;
		EXPECT_EQ(outside, 0u) << "step " << step;
		/* A new row (step 3) moves everything below it. */
		if (step > 0 && step != 3 && step != 5) {
			EXPECT_LT(int64_t(changed->width) * changed->height, int64_t(kWidth) * kHeight)
				<< "step " << step << ": all of it";
		}
		previous = fromWhole;
		if (step == 0)
			first = fromWhole;
		else
			EXPECT_NE(fromWhole, first) << "step " << step << " drew what step 0 drew";
	}
	ImGui::DestroyContext(imgui);
}

/* The number after key= in line, or -1. */
int field(const std::string &line, const std::string &key)
{
	const size_t at = line.find(" " + key + "=");
	return at == std::string::npos ? -1 : std::atoi(line.c_str() + at + key.size() + 2);
}

TEST(OverlayRenderer, FrameMarksAreDrawnOnTheGraphWhereTheFramesAre)
{
	ImGuiContext *imgui = comp::createOverlayImGui();
	auto cpu = comp::createCpuOverlayRenderer();
	constexpr uint32_t kWidth = 640, kHeight = 600;
	cpu->newFrame();
	ImGuiIO &io = ImGui::GetIO();
	io.DisplaySize = ImVec2(kWidth, kHeight);
	io.DeltaTime = 0.5f;

	comp::OverlayModel model = sampleModel();
	comp::FrameSeries &frames = model.frames;
	frames.marks.assign(frames.intervalMs.size(), 0);
	frames.marks[30] = comp::FrameSeries::AllocFailure;
	frames.marks[90] = comp::FrameSeries::Fallback | comp::FrameSeries::Missed;
	frames.allocFailures = 1;
	frames.fallbacks = 2;
	frames.missed = 1;
	std::vector<std::string> dump;
	layOut(model, dump);
	const float clear[4] = { 0.06f, 0.06f, 0.06f, 1.0f };
	std::vector<uint32_t> pixels;
	ASSERT_TRUE(cpu->render(ImGui::GetDrawData(), kWidth, kHeight, clear, pixels));

	std::vector<std::string> marks;
	for (const std::string &line : dump) {
		if (line.starts_with("framemark "))
			marks.push_back(line);
		if (line.starts_with("framemarks ")) {
			EXPECT_EQ(line, "framemarks frames=120 missed=1 failures=1 fallbacks=2");
		}
	}
	ASSERT_EQ(marks.size(), 2u);
	EXPECT_EQ(field(marks[0], "frame"), 30);
	EXPECT_EQ(field(marks[0], "failure"), 1);
	EXPECT_EQ(field(marks[1], "frame"), 90);
	EXPECT_EQ(field(marks[1], "fallback"), 1);
	EXPECT_EQ(field(marks[1], "missed"), 1);
	/* Frame 90 is three times as far along the graph as frame 30. */
	EXPECT_GT(field(marks[1], "x"), field(marks[0], "x") + 100);

	auto pixel = [&](int x, int y) { return pixels[size_t(y) * kWidth + size_t(x)]; };
	auto channel = [](uint32_t p, int shift) { return int((p >> shift) & 0xff); };
	for (const std::string &mark : marks) {
		const int x = field(mark, "x"), y = field(mark, "y"), h = field(mark, "h");
		ASSERT_GE(x, 0);
		ASSERT_LT(x, int(kWidth));
		ASSERT_GT(h, 8);
		/* Halfway down the graph: red for the failure, orange for the fallback. */
		const uint32_t middle = pixel(x, y + h / 2);
		EXPECT_GT(channel(middle, 16), 200) << mark;
		if (field(mark, "failure") == 1)
			EXPECT_LT(channel(middle, 8), 100) << mark;
		else
			EXPECT_GT(channel(middle, 8), 120) << mark;
		/* The late frame's tick along the top is yellow: red and green both high. */
		if (field(mark, "missed") == 1) {
			const uint32_t tick = pixel(x, y + 2);
			EXPECT_GT(channel(tick, 16), 200) << mark;
			EXPECT_GT(channel(tick, 8), 200) << mark;
		}
	}
	/* Beside a mark, the graph's own background. */
	const uint32_t beside = pixel(field(marks[0], "x") + 6, field(marks[0], "y") + field(marks[0], "h") / 2);
	EXPECT_LT(channel(beside, 16), 200);
	ImGui::DestroyContext(imgui);
}

} /* namespace */
} /* namespace heapcomp::test */
