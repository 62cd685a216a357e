/* SPDX-License-Identifier: MIT */
/*
 * The statistics overlay's redraw, in its parts: ImGui laying the panels
 * out, and a renderer turning them into pixels. The model is a busy
 * board's: five allocation sources, a CMA area with its minute of
 * history and its map, clients and surfaces, and two minutes of frame
 * times. The baseline is writing the overlay's pixels once, as much as
 * any redraw must do; the GLES renderer (llvmpipe without a GPU) is
 * compared with the CPU one.
 */
#include <cmath>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <imgui.h>

#include "ratio_reporter.h"
#include "ui/overlay.h"
#include "ui/overlay_panels.h"
#include "ui/overlay_renderer.h"

using heapcomp::bench::Comparison;
using heapcomp::bench::RatioReporter;

namespace {

/* The overlay's default size, which a 1080p output leaves it. */
constexpr uint32_t kWidth = 680;
constexpr uint32_t kHeight = 680;

comp::OverlayModel busyModel()
{
	comp::OverlayModel model;
	model.renderer = "pixman";
	model.backend = "drm";
	const char *sources[] = { "dma-heap:system", "dma-heap:reserved", "memfd", "gbm",
				  "udmabuf" };
	uint64_t n = 1;
	for (const char *source : sources) {
		comp::HeapRow heap;
		heap.source = source;
		heap.liveBuffers = 3 * n;
		heap.liveBytes = 8294400 * n;
		heap.peakBytes = 8294400 * (n + 2);
		heap.allocations = 1000 * n;
		heap.allocationsPerSecond = 12.5 * double(n);
		heap.imports = 7 * n;
		heap.failures = n == 2 ? 3 : 0;
		heap.failuresByErrno = n == 2 ? "ENOMEM 3" : "";
		heap.fallbacks = n == 2 ? 3 : 0;
		heap.poolHitRate = 0.9;
		heap.p50Ns = 21000 * n;
		heap.p99Ns = 90000 * n;
		heap.maxNs = 1500000 * n;
		model.heaps.push_back(heap);
		n++;
	}
	comp::CmaRow cma;
	cma.name = "reserved";
	cma.totalBytes = 256 << 20;
	cma.freeBytes = 100 << 20;
	cma.largestFreeBytes = 40 << 20;
	cma.fragmentation = 0.6;
	for (int i = 0; i < 128; i++)
		cma.occupancy.push_back(uint8_t((i * 37) % 256));
	for (int i = 0; i < 60; i++)
		cma.usedHistory.push_back(0.3f + 0.005f * float(i));
	cma.secondsToExhaustion = 240;
	model.cmaAreas.push_back(cma);
	for (int i = 0; i < 4; i++) {
		comp::ClientRow client;
		client.pid = 1000 + i;
		client.label = "client-" + std::to_string(i) + " (" + std::to_string(client.pid) + ")";
		client.buffers = 3;
		client.bytes = 3 * 8294400;
		client.dmaBufBytes = i % 2 ? client.bytes : 0;
		client.shmPoolBytes = i % 2 ? 0 : client.bytes;
		client.heapHintHits = 10 * i;
		client.scannedOutFrames = 600 * i;
		model.clients.push_back(client);
		comp::SurfaceRow surface;
		surface.name = "app-" + std::to_string(i);
		surface.client = client.label;
		surface.width = 1280;
		surface.height = 720;
		surface.memory = i % 2 ? "dma-buf system" : "wl_shm";
		surface.onScreen = i == 3 ? "scanned out" : "composed: not on top";
		model.surfaces.push_back(surface);
	}
	comp::OutputRow output;
	output.name = "Virtual-1";
	output.width = 1920;
	output.height = 1080;
	output.frames = 36000;
	output.composed = 1000;
	output.scannedOut = 35000;
	output.lastFrame = "scanned out";
	model.outputs.push_back(output);
	/* Jittery, as real frame times are: every segment of the graphs slopes. */
	for (int i = 0; i < 120; i++) {
		model.frames.intervalMs.push_back(16.7f + 2.0f * std::sin(float(i) * 1.3f));
		model.frames.repaintCpuMs.push_back(0.8f + 0.5f * std::sin(float(i) * 0.7f));
	}
	model.frames.composed = 20;
	model.frames.scannedOut = 100;
	model.overlayRedraws = 100;
	model.overlayLastCpuNs = 1500000;
	model.overlayTotalCpuNs = 150000000;
	return model;
}

/* One ImGui context laid out as the overlay is, for every benchmark. */
class Panels
{
public:
	Panels() : imgui_(comp::createOverlayImGui()), model_(busyModel()) {}
	~Panels() { ImGui::DestroyContext(imgui_); }

	/* One frame of the panels, as Overlay::redraw() lays them out. */
	ImDrawData *layout(comp::OverlayRenderer &renderer)
	{
		ImGui::SetCurrentContext(imgui_);
		ImGuiIO &io = ImGui::GetIO();
		io.DisplaySize = ImVec2(float(kWidth), float(kHeight));
		io.DeltaTime = 0.5f;
		renderer.newFrame();
		ImGui::NewFrame();
		ImGui::SetNextWindowPos(ImVec2(0, 0));
		ImGui::SetNextWindowSize(io.DisplaySize);
		ImGui::SetNextWindowBgAlpha(0.0f);
		ImGui::Begin("heapcomp", nullptr,
			     ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoMove |
				     ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoSavedSettings);
		/* As the compositor draws them: no dump, which only tests keep. */
		comp::drawOverlayPanels(model_, nullptr);
		ImGui::End();
		ImGui::Render();
		return ImGui::GetDrawData();
	}

	/* Half a second on, as the overlay redraws: numbers tick, the graphs scroll. */
	void tick()
	{
		ticks_++;
		for (comp::HeapRow &heap : model_.heaps) {
			heap.allocations += 7;
			heap.liveBytes += 4096;
		}
		auto scroll = [](std::vector<float> &series, float next) {
			series.erase(series.begin());
			series.push_back(next);
		};
		scroll(model_.frames.intervalMs, 16.7f + 2.0f * std::sin(float(ticks_) * 1.3f));
		scroll(model_.frames.repaintCpuMs, 0.8f + 0.5f * std::sin(float(ticks_) * 0.7f));
		model_.overlayRedraws++;
	}

	ImGuiContext *imgui() const { return imgui_; }
	const float *clear() const { return clear_; }

private:
	ImGuiContext *imgui_;
	comp::OverlayModel model_;
	int ticks_ = 0;
	float clear_[4] = { 0.06f, 0.06f, 0.06f, 1.0f };
};

/* Baseline: every pixel of the overlay written once. */
void fillPixels(benchmark::State &state)
{
	std::vector<uint32_t> pixels(size_t(kWidth) * kHeight);
	uint32_t value = 0;
	for (auto _ : state) {
		std::fill(pixels.begin(), pixels.end(), value++);
		benchmark::DoNotOptimize(pixels.data());
		benchmark::ClobberMemory();
	}
}

void layoutPanels(benchmark::State &state)
{
	Panels panels;
	auto renderer = comp::createCpuOverlayRenderer();
	for (auto _ : state)
		benchmark::DoNotOptimize(panels.layout(*renderer));
}

/* The raster alone: one layout, drawn whole again and again. */
void rasterPanels(benchmark::State &state, bool gles)
{
	Panels panels;
	std::unique_ptr<comp::OverlayRenderer> renderer;
	if (gles) {
		auto made = comp::createGlesOverlayRenderer(panels.imgui());
		if (!made) {
			state.SkipWithError(made.error().message().c_str());
			return;
		}
		renderer = std::move(*made);
	} else {
		/* Whole: the same layout again would otherwise draw nothing. */
		renderer = comp::createCpuOverlayRenderer(false);
	}
	/* ImGui lays a window out over two frames; the second is the one shown. */
	panels.layout(*renderer);
	ImDrawData *data = panels.layout(*renderer);
	std::vector<uint32_t> pixels;
	for (auto _ : state) {
		if (auto ret = renderer->render(data, kWidth, kHeight, panels.clear(), pixels);
		    !ret) {
			state.SkipWithError(ret.error().message().c_str());
			return;
		}
		benchmark::DoNotOptimize(pixels.data());
	}
	state.counters["vertices"] = double(data->TotalVtxCount);
}

/* A redraw as the overlay makes them: the model half a second on, laid out and drawn. */
void redrawPanels(benchmark::State &state, bool incremental)
{
	Panels panels;
	auto renderer = comp::createCpuOverlayRenderer(incremental);
	panels.layout(*renderer);
	std::vector<uint32_t> pixels;
	for (auto _ : state) {
		panels.tick();
		ImDrawData *data = panels.layout(*renderer);
		if (auto ret = renderer->render(data, kWidth, kHeight, panels.clear(), pixels); !ret) {
			state.SkipWithError(ret.error().message().c_str());
			return;
		}
		benchmark::DoNotOptimize(pixels.data());
	}
}

} /* namespace */

int main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	const std::string size = std::to_string(kWidth) + "x" + std::to_string(kHeight);
	benchmark::RegisterBenchmark(("fill/" + size).c_str(), fillPixels);
	benchmark::RegisterBenchmark(("layout/" + size).c_str(), layoutPanels);
	benchmark::RegisterBenchmark(("raster/cpu/" + size).c_str(), rasterPanels, false);
	benchmark::RegisterBenchmark(("redraw/cpu-whole/" + size).c_str(), redrawPanels, false);
	benchmark::RegisterBenchmark(("redraw/cpu/" + size).c_str(), redrawPanels, true);
	benchmark::RegisterBenchmark(("raster/gles/" + size).c_str(), rasterPanels, true);
	std::vector<Comparison> comparisons = {
		{ "layout/" + size, "fill/" + size, "ImGui layout of the panels vs one fill" },
		{ "raster/cpu/" + size, "fill/" + size, "CPU raster vs one fill" },
		{ "raster/gles/" + size, "fill/" + size, "GLES raster and read-back vs one fill" },
		{ "raster/cpu/" + size, "raster/gles/" + size, "CPU raster vs GLES" },
		{ "redraw/cpu-whole/" + size, "fill/" + size, "redraw (layout, raster) drawn whole vs one fill" },
		{ "redraw/cpu/" + size, "fill/" + size, "redraw drawn where it changed vs one fill" },
		{ "redraw/cpu/" + size, "redraw/cpu-whole/" + size, "redraw where it changed vs whole" },
	};
	RatioReporter reporter(comparisons);
	benchmark::RunSpecifiedBenchmarks(&reporter);
	benchmark::Shutdown();
	return 0;
}
