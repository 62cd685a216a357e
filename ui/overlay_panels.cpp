/* SPDX-License-Identifier: MIT */
#include "ui/overlay_panels.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cinttypes>
#include <cstdio>
#include <optional>

#include <imgui.h>

#include <bufmgr/stats.h>

namespace comp {

namespace {

/* Orange: a value that tells of trouble (failures, fallbacks, refusals). */
const ImVec4 kWarn(1.0f, 0.6f, 0.2f, 1.0f);

/* The dump, where one is kept: its lines are built only then. */
class Dump
{
public:
	explicit Dump(std::vector<std::string> *lines) : lines_(lines) {}
	explicit operator bool() const { return lines_ != nullptr; }
	void add(std::string line) const { lines_->push_back(std::move(line)); }

private:
	std::vector<std::string> *lines_;
};

/* In integers: printf's floating point costs more than the rest of a cell. */
std::string formatNs(uint64_t ns)
{
	if (ns >= 1000000)
		return bufmgr::formatFixed(ns, 1000000, 1) + " ms";
	return bufmgr::formatFixed(ns, 1000, 1) + " us";
}

/*
 * One row of a table: each cell drawn in the next column and written to
 * the dump line as key=value, so the two cannot disagree.
 */
class Row
{
public:
	Row(Dump dump, const std::string &kind, const std::string &name) : dump_(dump)
	{
		if (dump_)
			line_ = kind + " " + name;
		ImGui::TableNextRow();
		ImGui::TableNextColumn();
		ImGui::TextUnformatted(name.c_str());
	}
	~Row()
	{
		if (dump_)
			dump_.add(std::move(line_));
	}

	void number(const char *key, uint64_t value, bool warnIfNonZero = false)
	{
		cell(key, value, std::to_string(value), warnIfNonZero && value);
	}
	void bytes(const char *key, uint64_t value)
	{
		cell(key, value, bufmgr::formatBytes(value), false);
	}
	void duration(const char *key, uint64_t ns) { cell(key, ns, formatNs(ns), false); }
	/* Per second, one decimal; "-" when not known yet. */
	void rate(const char *key, std::optional<double> value)
	{
		if (!value) {
			text(key, "-");
			return;
		}
		/* Tenths, rounded as printf rounds (half to even); no rate comes near the bound. */
		const double tenths = std::nearbyint(std::clamp(*value, 0.0, 1e15) * 10.0);
		text(key, bufmgr::formatFixed(uint64_t(tenths), 10, 1));
	}
	/* A fraction as a percentage, rounded as printf rounds; "-" when there is none. */
	void percent(const char *key, std::optional<double> fraction)
	{
		if (!fraction) {
			text(key, "-");
			return;
		}
		const double percent = std::nearbyint(std::clamp(*fraction, 0.0, 1.0) * 100.0);
		text(key, std::to_string(int(percent)) + "%");
	}
	void text(const char *key, const std::string &value)
	{
		ImGui::TableNextColumn();
		ImGui::TextUnformatted(value.c_str());
		if (dump_)
			line_ += std::string(" ") + key + "=\"" + value + "\"";
	}

private:
	void cell(const char *key, uint64_t value, const std::string &shown, bool warn)
	{
		ImGui::TableNextColumn();
		if (warn)
			ImGui::TextColored(kWarn, "%s", shown.c_str());
		else
			ImGui::TextUnformatted(shown.c_str());
		if (dump_)
			line_ += std::string(" ") + key + "=" + std::to_string(value);
	}

	const Dump dump_;
	std::string line_;
};

/* ImGui's PlotLines, its slanted lines anti-aliased (the overlay's style draws lines without). */
void plotLines(const char *id, const std::vector<float> &values, const char *label, float min,
	       float max, ImVec2 size)
{
	ImDrawList *list = ImGui::GetWindowDrawList();
	const ImDrawListFlags flags = list->Flags;
	list->Flags |= ImDrawListFlags_AntiAliasedLines;
	ImGui::PlotLines(id, values.data(), int(values.size()), 0, label, min, max, size);
	list->Flags = flags;
}

bool beginTable(const char *id, std::initializer_list<const char *> headers)
{
	const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit |
				      ImGuiTableFlags_BordersInnerV;
	if (!ImGui::BeginTable(id, int(headers.size()), flags))
		return false;
	/*
	 * Headers as plain text on the header colour: the look of
	 * TableHeadersRow() at a fraction of its cost, since nothing here
	 * sorts or reorders columns. A plain row, not a header row: fitted
	 * columns grow to a header row's text only through TableHeader().
	 */
	ImGui::TableNextRow();
	ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, ImGui::GetColorU32(ImGuiCol_TableHeaderBg));
	for (const char *header : headers) {
		ImGui::TableNextColumn();
		ImGui::TextUnformatted(header);
	}
	return true;
}

void heapsPanel(const OverlayModel &model, Dump dump)
{
	if (!ImGui::CollapsingHeader("Buffer memory", ImGuiTreeNodeFlags_DefaultOpen))
		return;
	/* Two tables: thirteen columns do not fit the overlay's width. */
	if (beginTable("heaps", { "source", "live", "bytes", "peak", "allocs", "/s", "imports",
				   "fail", "fallbk" })) {
		for (const HeapRow &heap : model.heaps) {
			Row row(dump, "heap", heap.source);
			row.number("live_buffers", heap.liveBuffers);
			row.bytes("live_bytes", heap.liveBytes);
			row.bytes("peak_bytes", heap.peakBytes);
			row.number("allocations", heap.allocations);
			row.rate("allocations_per_second", heap.allocationsPerSecond);
			row.number("imports", heap.imports);
			row.number("failures", heap.failures, true);
			row.number("fallbacks", heap.fallbacks, true);
		}
		ImGui::EndTable();
	}
	if (beginTable("latency", { "allocation latency", "p50", "p99", "max", "pool hit" })) {
		for (const HeapRow &heap : model.heaps) {
			/* Sources that allocated nothing have no latency to show. */
			if (!heap.allocations && !heap.poolHitRate)
				continue;
			Row row(dump, "latency", heap.source);
			row.duration("p50_ns", heap.p50Ns);
			row.duration("p99_ns", heap.p99Ns);
			row.duration("max_ns", heap.maxNs);
			row.percent("pool_hit_rate", heap.poolHitRate);
		}
		ImGui::EndTable();
	}
	for (const HeapRow &heap : model.heaps) {
		if (!heap.failuresByErrno.empty())
			ImGui::TextColored(kWarn, "%s failed: %s", heap.source.c_str(),
					   heap.failuresByErrno.c_str());
	}
	for (const bufmgr::FallbackEvent &event : model.recentFallbacks)
		ImGui::TextColored(kWarn, "fallback #%" PRIu64 ": %s -> %s (%s)", event.sequence,
				   event.from.c_str(), event.to.empty() ? "none" : event.to.c_str(),
				   event.reason.c_str());
}

/* Where each heap's memory comes from: the answer a client's heap hint rests on. */
void heapOriginPanel(const OverlayModel &model, Dump dump)
{
	if (model.heapOrigins.empty() ||
	    !ImGui::CollapsingHeader("DMA-BUF heaps", ImGuiTreeNodeFlags_DefaultOpen))
		return;
	if (beginTable("heaporigins", { "heap", "memory for", "paid by", "scans out on" })) {
		for (const HeapOriginRow &heap : model.heapOrigins) {
			Row row(dump, "heaporigin", heap.name);
			row.text("for", heap.usedBy);
			row.text("paid_by", heap.paidBy);
			row.text("scans_out_on", heap.scansOutOn);
		}
		ImGui::EndTable();
	}
}

void cmaPanel(const OverlayModel &model, Dump dump)
{
	if (model.cmaAreas.empty() ||
	    !ImGui::CollapsingHeader("CMA areas", ImGuiTreeNodeFlags_DefaultOpen))
		return;
	if (beginTable("cma", { "area", "total", "free", "largest free" })) {
		for (const CmaRow &area : model.cmaAreas) {
			Row row(dump, "cma", area.name);
			row.bytes("total_bytes", area.totalBytes);
			if (area.freeBytes)
				row.bytes("free_bytes", *area.freeBytes);
			else
				row.text("free_bytes", "?");
			if (area.largestFreeBytes)
				row.bytes("largest_free_bytes", *area.largestFreeBytes);
			else
				row.text("largest_free_bytes", "?");
		}
		ImGui::EndTable();
	}
	for (const CmaRow &area : model.cmaAreas) {
		if (area.totalBytes && area.freeBytes)
			ImGui::ProgressBar(1.0f - float(*area.freeBytes) / float(area.totalBytes),
					   ImVec2(-1, 0), (area.name + " in use").c_str());
		if (area.usedHistory.size() > 1) {
			char label[128];
			if (area.secondsToExhaustion)
				snprintf(label, sizeof(label), "%s in use, last minute: full in %.0f s at this rate",
					 area.name.c_str(), *area.secondsToExhaustion);
			else
				snprintf(label, sizeof(label), "%s in use, last minute: not filling",
					 area.name.c_str());
			plotLines("##cmatrend", area.usedHistory, label, 0.0f, 1.0f,
				  ImVec2(ImGui::GetContentRegionAvail().x, 32));
			if (dump)
				dump.add("cmatrend " + area.name + " samples=" +
					 std::to_string(area.usedHistory.size()) + " seconds_to_exhaustion=" +
					 (area.secondsToExhaustion
							? std::to_string(uint64_t(*area.secondsToExhaustion))
							: std::string("none")));
		}
		if (area.occupancy.empty())
			continue;
		/* The area's slices left to right, each as full as it is in use. */
		std::vector<float> slices(area.occupancy.begin(), area.occupancy.end());
		char fragmentation[16];
		snprintf(fragmentation, sizeof(fragmentation), "%.2f", area.fragmentation.value_or(0.0));
		const std::string label = area.name + " map, fragmentation " + fragmentation;
		ImGui::PlotHistogram("##cmamap", slices.data(), int(slices.size()), 0, label.c_str(), 0.0f,
				     255.0f, ImVec2(ImGui::GetContentRegionAvail().x, 32));
		if (dump) {
			uint64_t used = 0;
			for (uint8_t slice : area.occupancy)
				used += slice;
			dump.add("cmamap " + area.name + " slices=" + std::to_string(area.occupancy.size()) +
				 " used_share=" + std::to_string(used * 100 / (255 * area.occupancy.size())) +
				 "% fragmentation=" + fragmentation);
		}
	}
}

void clientsPanel(const OverlayModel &model, Dump dump)
{
	if (!ImGui::CollapsingHeader("Clients", ImGuiTreeNodeFlags_DefaultOpen))
		return;
	if (model.clients.empty()) {
		ImGui::TextDisabled("no clients");
		return;
	}
	if (beginTable("clients", { "client", "buffers", "bytes", "dma-buf", "shm pools",
				     "hint hit", "miss", "scanout", "refused" })) {
		for (const ClientRow &client : model.clients) {
			Row row(dump, "client", client.label);
			row.number("buffers", client.buffers);
			row.bytes("bytes", client.bytes);
			row.bytes("dma_buf_bytes", client.dmaBufBytes);
			row.bytes("shm_pool_bytes", client.shmPoolBytes);
			row.number("heap_hint_hits", client.heapHintHits);
			row.number("heap_hint_misses", client.heapHintMisses, true);
			row.number("scanned_out_frames", client.scannedOutFrames);
			row.number("scanout_refused_frames", client.scanoutRefusedFrames, true);
		}
		ImGui::EndTable();
	}
	/* Each client's memory by where it came from, and its heap quota. */
	if (beginTable("clientmemory", { "client", "memory", "buffers", "bytes", "allocated for it",
					  "of quota" })) {
		for (const ClientRow &client : model.clients) {
			for (const ClientRow::Source &source : client.sources) {
				Row row(dump, "clientmemory", client.label);
				row.text("source", source.name);
				row.number("buffers", source.buffers);
				row.bytes("bytes", source.bytes);
				row.text("allocated",
					 source.allocatedBuffers
						 ? std::to_string(source.allocatedBuffers) + ", " +
							   bufmgr::formatBytes(source.allocatedBytes)
						 : "-");
				row.text("quota", source.allocatedBuffers
							  ? bufmgr::formatBytes(client.quotaBytesPerHeap) +
								    ", " +
								    std::to_string(client.allocatedBuffers) +
								    "/" + std::to_string(client.quotaBuffers) +
								    " buffers"
							  : "-");
			}
		}
		ImGui::EndTable();
	}
}

void surfacesPanel(const OverlayModel &model, Dump dump)
{
	if (model.surfaces.empty() ||
	    !ImGui::CollapsingHeader("Surfaces", ImGuiTreeNodeFlags_DefaultOpen))
		return;
	if (!beginTable("surfaces", { "surface", "client", "size", "memory", "on screen" }))
		return;
	for (const SurfaceRow &surface : model.surfaces) {
		Row row(dump, "surface", surface.name);
		row.text("client", surface.client);
		row.text("size", std::to_string(surface.width) + "x" + std::to_string(surface.height));
		row.text("memory", surface.memory);
		row.text("on_screen", surface.onScreen);
	}
	ImGui::EndTable();
}

void outputsPanel(const OverlayModel &model, Dump dump)
{
	if (!ImGui::CollapsingHeader("Outputs", ImGuiTreeNodeFlags_DefaultOpen))
		return;
	if (beginTable("outputs", { "output", "frames", "composed", "scanned out", "unchanged",
				     "last frame" })) {
		for (const OutputRow &output : model.outputs) {
			Row row(dump, "output", output.name);
			row.number("frames", output.frames);
			row.number("composed", output.composed);
			row.number("scanned_out", output.scannedOut);
			row.number("skipped", output.skipped);
			row.text("last_frame", output.lastFrame);
		}
		ImGui::EndTable();
	}
	if (model.outputs.empty())
		return;
	const OutputRow &first = model.outputs.front();
	auto scannedOut = std::find_if(model.surfaces.begin(), model.surfaces.end(),
				       [](const SurfaceRow &s) { return s.onScreen == "scanned out"; });
	ImGui::TextDisabled("%s primary plane: %s", first.name.c_str(),
			    scannedOut != model.surfaces.end()
				    ? (scannedOut->name + ", scanned out").c_str()
				    : "a composed frame");
	if (first.overlayOnPlane)
		ImGui::TextDisabled("the overlay is on a plane of its own on %s: direct scanout stays on",
				    first.name.c_str());
	else
		ImGui::TextDisabled("the overlay is composed on %s: no direct scanout while it shows",
				    first.name.c_str());
	if (dump)
		dump.add("overlay output=" + first.name +
			 " on_plane=" + (first.overlayOnPlane ? "1" : "0"));
}

/* Where the last item is drawn, so a test's pointer can find it. */
void widgetLine(Dump dump, const std::string &name)
{
	const ImVec2 min = ImGui::GetItemRectMin();
	const ImVec2 max = ImGui::GetItemRectMax();
	if (dump)
		dump.add("widget " + name + " x=" + std::to_string(int(min.x)) +
			 " y=" + std::to_string(int(min.y)) + " w=" + std::to_string(int(max.x - min.x)) +
			 " h=" + std::to_string(int(max.y - min.y)));
}

/* A number field with -/+ buttons, kept within [min, max]. */
void numberField(Dump dump, const char *label, const char *name, uint32_t &value, uint32_t min,
		 uint32_t max, uint32_t step)
{
	ImGui::SetNextItemWidth(110);
	const uint32_t fast = step * 16;
	ImGui::InputScalar(label, ImGuiDataType_U32, &value, &step, &fast);
	widgetLine(dump, std::string("bench.") + name);
	value = std::clamp(value, min, max);
}

void benchControls(const AllocBenchProgress &bench, BenchControls &controls, Dump dump)
{
	AllocBenchConfig &config = controls.config;
	ImGui::TextUnformatted("sources");
	for (const std::string &source : controls.sources) {
		auto it = std::find(config.sources.begin(), config.sources.end(), source);
		bool on = it != config.sources.end();
		ImGui::SameLine();
		if (ImGui::Checkbox(source.c_str(), &on)) {
			if (on)
				config.sources.push_back(source);
			else
				config.sources.erase(it);
		}
		widgetLine(dump, "bench.source." + source);
	}
	ImGui::SameLine();
	ImGui::TextDisabled(config.sources.empty() ? "(none ticked: every one) + memfd" : "+ memfd");

	uint32_t kib = uint32_t(config.size >> 10);
	numberField(dump, "size KiB", "size", kib, 4, uint32_t(AllocBenchConfig::kMaxSize >> 10), 4);
	config.size = uint64_t(kib) << 10;
	ImGui::SameLine();
	numberField(dump, "held", "count", config.count, 1, AllocBenchConfig::kMaxCount, 1);
	numberField(dump, "rounds", "rounds", config.rounds, 1, AllocBenchConfig::kMaxRounds, 1);
	ImGui::SameLine();
	numberField(dump, "threads", "threads", config.threads, 1, AllocBenchConfig::kMaxThreads, 1);

	for (auto pattern : { AllocBenchConfig::Pattern::Fixed, AllocBenchConfig::Pattern::Random,
			      AllocBenchConfig::Pattern::Mixed }) {
		const std::string name(toString(pattern));
		if (ImGui::RadioButton(name.c_str(), config.pattern == pattern))
			config.pattern = pattern;
		widgetLine(dump, "bench.pattern." + name);
		ImGui::SameLine();
	}
	ImGui::Checkbox("pooled", &config.pooled);
	widgetLine(dump, "bench.pooled");

	ImGui::BeginDisabled(bench.running);
	if (ImGui::Button("Start"))
		controls.start = true;
	widgetLine(dump, "bench.start");
	ImGui::EndDisabled();
	ImGui::SameLine();
	ImGui::BeginDisabled(bench.running || bench.run == 0);
	if (ImGui::Button("Export JSON"))
		controls.exportJson = true;
	widgetLine(dump, "bench.export");
	ImGui::EndDisabled();
	if (!controls.status.empty()) {
		ImGui::SameLine();
		ImGui::TextUnformatted(controls.status.c_str());
	}
}

/* Each source's latency as the run goes, on one scale, so memfd's line is the baseline. */
void benchPlots(const std::vector<BenchSeries> &series, Dump dump)
{
	float highest = 0.0f;
	for (const BenchSeries &s : series) {
		for (float us : s.meanUs)
			highest = std::max(highest, us);
	}
	for (const BenchSeries &s : series) {
		if (s.meanUs.empty())
			continue;
		char label[128];
		snprintf(label, sizeof(label), "%s: %.1f us per allocation", s.source.c_str(),
			 double(s.meanUs.back()));
		plotLines(("##bench-" + s.source).c_str(), s.meanUs, label, 0.0f, highest * 1.1f,
			  ImVec2(ImGui::GetContentRegionAvail().x, 28));
		if (dump) {
			char last[32];
			snprintf(last, sizeof(last), "%.1f", double(s.meanUs.back()));
			dump.add("benchplot " + s.source + " points=" + std::to_string(s.meanUs.size()) +
				 " last_us=" + last);
		}
	}
}

void benchPanel(const OverlayModel &model, Dump dump, BenchControls *controls)
{
	const AllocBenchProgress &bench = model.bench;
	if (!ImGui::CollapsingHeader("Allocation benchmark", ImGuiTreeNodeFlags_DefaultOpen))
		return;
	if (controls)
		benchControls(bench, *controls, dump);
	if (bench.run == 0) {
		if (!controls)
			ImGui::TextDisabled("no run yet: Super+Shift+F12 for controls, or heapctl bench");
		return;
	}
	char label[128];
	snprintf(label, sizeof(label), "run %" PRIu64 " %s: %" PRIu64 " of %" PRIu64 ", %s, %s, %s",
		 bench.run, bench.running ? "running" : "done", bench.done, bench.total,
		 bufmgr::formatBytes(bench.config.size).c_str(),
		 std::string(toString(bench.config.pattern)).c_str(),
		 bench.config.pooled ? "pooled" : "fresh");
	ImGui::ProgressBar(bench.total ? float(bench.done) / float(bench.total) : 0.0f,
			   ImVec2(ImGui::GetContentRegionAvail().x, 0), label);
	const AllocBenchResult *memfd = nullptr;
	for (const AllocBenchResult &result : bench.results) {
		if (result.source == "memfd" && result.allocations)
			memfd = &result;
	}
	if (!beginTable("bench", { "source", "allocs", "reused", "mean", "p50", "p99", "max",
				   "vs memfd", "fail" }))
		return;
	for (const AllocBenchResult &result : bench.results) {
		const uint64_t mean = result.allocations ? result.allocNs / result.allocations : 0;
		Row row(dump, "bench", result.source);
		row.number("allocations", result.allocations);
		row.number("reused", result.reused);
		row.duration("mean_ns", mean);
		row.duration("p50_ns", result.latency.percentileNs(0.5));
		row.duration("p99_ns", result.latency.percentileNs(0.99));
		row.duration("max_ns", result.latency.maxNs);
		char ratio[16] = "-";
		if (memfd && mean)
			snprintf(ratio, sizeof(ratio), "%.2fx",
				 double(mean) * double(memfd->allocations) / double(memfd->allocNs));
		row.text("vs_memfd", ratio);
		row.number("failures", result.failures, true);
	}
	ImGui::EndTable();
	benchPlots(model.benchSeries, dump);
}

/* Over the frame-time graph: red, an allocation failed; orange, one fell back; yellow on top, late. */
const ImU32 kFailureMark = IM_COL32(255, 64, 64, 255);
const ImU32 kFallbackMark = IM_COL32(255, 153, 51, 255);
const ImU32 kMissedMark = IM_COL32(255, 230, 64, 255);

/* Marks each frame's trouble on the PlotLines just drawn, at that frame's point. */
void markFrames(const FrameSeries &frames, Dump dump)
{
	const size_t n = frames.marks.size();
	if (n < 2)
		return;
	/* The plot's frame; ImGui draws the points inside its padding, first to last. */
	const ImVec2 min = ImGui::GetItemRectMin(), max = ImGui::GetItemRectMax();
	const ImVec2 pad = ImGui::GetStyle().FramePadding;
	const float left = min.x + pad.x, right = max.x - pad.x;
	const float top = min.y + pad.y, bottom = max.y - pad.y;
	ImDrawList *list = ImGui::GetWindowDrawList();
	const ImVec2 origin = ImGui::GetWindowPos();
	size_t dumped = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t mark = frames.marks[i];
		if (!mark)
			continue;
		const float x = std::floor(left + (right - left) * float(i) / float(n - 1));
		if (mark & (FrameSeries::AllocFailure | FrameSeries::Fallback))
			list->AddRectFilled(ImVec2(x, top), ImVec2(x + 2, bottom),
					    mark & FrameSeries::AllocFailure ? kFailureMark
									     : kFallbackMark);
		if (mark & FrameSeries::Missed)
			list->AddRectFilled(ImVec2(x, top), ImVec2(x + 2, top + 6), kMissedMark);
		/* Enough for a test to find them; a storm of them need not fill the dump. */
		if (dumped++ < 16)
			if (dump)
				dump.add("framemark frame=" + std::to_string(i) +
					 " x=" + std::to_string(int(x - origin.x)) +
					 " y=" + std::to_string(int(top - origin.y)) +
					 " h=" + std::to_string(int(bottom - top)) +
					 " missed=" + std::to_string(mark & FrameSeries::Missed ? 1 : 0) +
					 " failure=" +
					 std::to_string(mark & FrameSeries::AllocFailure ? 1 : 0) +
					 " fallback=" + std::to_string(mark & FrameSeries::Fallback ? 1 : 0));
	}
}

void framesPanel(const OverlayModel &model, Dump dump)
{
	if (!ImGui::CollapsingHeader("Frame timing", ImGuiTreeNodeFlags_DefaultOpen))
		return;
	const FrameSeries &frames = model.frames;
	/* The q-quantile; a selection, not a sort: four of them each redraw. */
	auto stat = [](const std::vector<float> &values, float q) {
		if (values.empty())
			return 0.0f;
		std::vector<float> copy(values);
		const auto nth = copy.begin() + ptrdiff_t(q * float(copy.size() - 1));
		std::nth_element(copy.begin(), nth, copy.end());
		return *nth;
	};
	/* 1.86's plots take no negative "fill the rest" widths. */
	const float width = ImGui::GetContentRegionAvail().x;
	char label[96];
	snprintf(label, sizeof(label), "frame interval p50 %.1f ms, max %.1f ms",
		 stat(frames.intervalMs, 0.5f), stat(frames.intervalMs, 1.0f));
	plotLines("##interval", frames.intervalMs, label, 0.0f, FLT_MAX, ImVec2(width, 48));
	markFrames(frames, dump);
	ImGui::TextColored(ImColor(kMissedMark), "%" PRIu64 " late,", frames.missed);
	ImGui::SameLine();
	ImGui::TextColored(ImColor(kFailureMark), "%" PRIu64 " allocations failed,", frames.allocFailures);
	ImGui::SameLine();
	ImGui::TextColored(ImColor(kFallbackMark), "%" PRIu64 " fell back", frames.fallbacks);
	if (dump)
		dump.add("framemarks frames=" + std::to_string(frames.marks.size()) +
			 " missed=" + std::to_string(frames.missed) +
			 " failures=" + std::to_string(frames.allocFailures) +
			 " fallbacks=" + std::to_string(frames.fallbacks));
	snprintf(label, sizeof(label), "repaint CPU p50 %.2f ms, p99 %.2f ms",
		 stat(frames.repaintCpuMs, 0.5f), stat(frames.repaintCpuMs, 0.99f));
	ImGui::PlotHistogram("##cpu", frames.repaintCpuMs.data(), int(frames.repaintCpuMs.size()),
			     0, label, 0.0f, FLT_MAX, ImVec2(width, 48));
	ImGui::Text("last %zu frames: %" PRIu64 " composed, %" PRIu64 " scanned out, %" PRIu64
		    " unchanged",
		    frames.intervalMs.size(), frames.composed, frames.scannedOut, frames.skipped);
	if (model.overlayRedraws)
		ImGui::TextDisabled("overlay: %" PRIu64 " redraws, last %.2f ms CPU, mean %.2f ms",
				    model.overlayRedraws, double(model.overlayLastCpuNs) / 1e6,
				    double(model.overlayTotalCpuNs) / 1e6 /
					    double(model.overlayRedraws));
}

} /* namespace */

void drawOverlayPanels(const OverlayModel &model, std::vector<std::string> *lines,
		       BenchControls *controls)
{
	const Dump dump(lines);
	ImGui::Text("heapcomp  renderer %s  backend %s", model.renderer.c_str(),
		    model.backend.c_str());
	/* Interactive: the controls first, where the eye and the pointer are. */
	if (controls)
		benchPanel(model, dump, controls);
	heapsPanel(model, dump);
	heapOriginPanel(model, dump);
	cmaPanel(model, dump);
	clientsPanel(model, dump);
	surfacesPanel(model, dump);
	outputsPanel(model, dump);
	framesPanel(model, dump);
	if (!controls)
		benchPanel(model, dump, controls);
}

} /* namespace comp */
