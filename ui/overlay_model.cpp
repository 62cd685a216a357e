/* SPDX-License-Identifier: MIT */
#include "ui/overlay_model.h"

#include <algorithm>

#include "backend/drm/drm_backend.h"
#include "client.h"
#include "protocols/heap_hints.h"
#include "scene/view_stack.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

HeapRow heapRow(const bufmgr::SourceSnapshot &source)
{
	HeapRow row;
	row.source = source.source;
	row.liveBuffers = source.liveBuffers;
	row.liveBytes = source.liveBytes;
	row.peakBytes = source.peakBytes;
	row.allocations = source.allocations;
	row.imports = source.imports;
	row.failures = source.failures;
	for (const auto &[err, count] : source.failuresByErrno) {
		if (!row.failuresByErrno.empty())
			row.failuresByErrno += ", ";
		row.failuresByErrno += bufmgr::errnoName(err) + " " + std::to_string(count);
	}
	row.fallbacks = source.fallbacks;
	if (uint64_t asked = source.poolHits + source.poolMisses)
		row.poolHitRate = double(source.poolHits) / double(asked);
	row.p50Ns = source.latency.percentileNs(0.5);
	row.p99Ns = source.latency.percentileNs(0.99);
	row.maxNs = source.latency.maxNs;
	return row;
}

const char *frameKindName(FrameKind kind)
{
	switch (kind) {
	case FrameKind::Composed:
		return "composed";
	case FrameKind::ScannedOut:
		return "scanned out";
	case FrameKind::Skipped:
		return "unchanged";
	}
	return "?";
}

/* The first output's windows: what each one's memory is and how it reaches the screen. */
std::vector<SurfaceRow> surfaceRows(Server &server)
{
	std::vector<SurfaceRow> rows;
	const std::vector<Output *> &outputs = server.backend().outputs();
	if (outputs.empty())
		return rows;
	const Output &output = *outputs.front();
	const auto *drm = dynamic_cast<const DrmOutput *>(&output);
	const std::vector<SurfacePlace> places = server.surfacePlaces(0);
	for (const View *view : server.views()) {
		Surface *root = view->surface();
		if (!view->isMapped() || view->isPopup() || !view->takesInput() || !root->buffer())
			continue;
		const std::string name = !view->appId().empty() ? view->appId()
					 : !view->title().empty() ? view->title()
								  : "surface " + std::to_string(root->id());
		const ClientState *client = server.clientState(root->client());
		/* Its subsurfaces too: a video in one may be on a plane of its own. */
		root->forEachSurface([&](Surface *surface, int32_t, int32_t) {
			const ClientBuffer *buffer = surface->buffer();
			if (!buffer)
				return;
			SurfaceRow row;
			row.name = surface == root ? name
						   : name + " / subsurface " + std::to_string(surface->id());
			if (client)
				row.client = client->label();
			row.width = buffer->width();
			row.height = buffer->height();
			row.memory = buffer->type() == ClientBuffer::Type::Shm
					     ? "wl_shm"
					     : "dma-buf " + buffer->exporter();
			auto place = std::find_if(places.begin(), places.end(), [&](const SurfacePlace &p) {
				return p.surface == surface->id();
			});
			if (output.frontScanout() == buffer)
				row.onScreen = "scanned out";
			else if (place != places.end() && place->where == SurfacePlace::Where::Overlay)
				row.onScreen = "on an overlay plane";
			else if (place != places.end() && !place->reason.empty())
				row.onScreen = "composed: " + place->reason;
			else if (output.scanoutCandidate() == surface->id() && drm &&
				 !drm->lastRefusal().empty())
				row.onScreen = "composed: " + drm->lastRefusal();
			else
				row.onScreen = "composed";
			rows.push_back(std::move(row));
		});
	}
	return rows;
}

} /* namespace */

void CmaTrend::add(double seconds, uint64_t freeBytes)
{
	samples_.emplace_back(seconds, freeBytes);
	while (samples_.size() > 1 && seconds - samples_.front().first > kWindowSeconds)
		samples_.pop_front();
}

std::vector<float> CmaTrend::usedHistory(uint64_t totalBytes) const
{
	std::vector<float> used;
	for (const auto &[seconds, free] : samples_)
		used.push_back(totalBytes ? 1.0f - float(free) / float(totalBytes) : 0.0f);
	return used;
}

std::optional<double> CmaTrend::secondsToExhaustion() const
{
	if (samples_.size() < 2)
		return std::nullopt;
	const auto &[t0, free0] = samples_.front();
	const auto &[t1, free1] = samples_.back();
	if (free1 >= free0 || t1 <= t0)
		return std::nullopt;
	const double bytesPerSecond = double(free0 - free1) / (t1 - t0);
	return double(free1) / bytesPerSecond;
}

namespace {

CmaRow cmaRow(const bufmgr::CmaAreaInfo &area)
{
	CmaRow row;
	row.name = area.name;
	row.totalBytes = area.totalBytes();
	if (auto free = area.freePages())
		row.freeBytes = *free * area.pageSize;
	if (auto largest = area.largestFreePages())
		row.largestFreeBytes = *largest * area.pageSize;
	row.fragmentation = area.fragmentation();
	if (area.bitmap)
		row.occupancy = area.bitmap->occupancyMap(64);
	return row;
}

} /* namespace */

std::vector<CmaRow> CmaAreaReader::read()
{
	if (!areas_) {
		areas_.emplace();
		for (const std::string &name : bufmgr::listCmaAreas(paths_)) {
			Area area;
			area.name = name;
			if (auto counters = bufmgr::CmaCounterFiles::open(paths_, name))
				area.counters = std::move(*counters);
			areas_->push_back(std::move(area));
		}
	}
	std::vector<CmaRow> rows;
	for (Area &area : *areas_) {
		std::optional<bufmgr::CmaCounterFiles::Counts> counts;
		if (area.counters) {
			if (auto now = area.counters->read())
				counts = *now;
		}
		if (counts && area.seen && area.seen->first == *counts) {
			rows.push_back(area.seen->second);
			continue;
		}
		/* Counted before the read: a change meanwhile shows at the next. */
		bufmgr::CmaReadOptions options;
		options.bitmap = true;
		auto info = bufmgr::readCmaArea(paths_, area.name, options);
		area.seen.reset();
		if (!info)
			continue;
		bitmapReads_ += info->bitmap.has_value();
		rows.push_back(cmaRow(*info));
		if (counts)
			area.seen.emplace(*counts, rows.back());
	}
	return rows;
}

namespace {

/* The last part of a device-tree path: "/soc/lcd@32e80000" -> "lcd@32e80000". */
std::string nodeName(const std::string &path)
{
	size_t slash = path.rfind('/');
	return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string usedBy(const HeapHints::Heap &heap)
{
	std::string text;
	for (const bufmgr::RegionUser &device : heap.devices) {
		if (!text.empty())
			text += ", ";
		text += nodeName(device.node);
		if (!device.driver.empty())
			text += " (" + device.driver + ")";
	}
	if (!text.empty())
		return text;
	if (!heap.region.empty())
		return nodeName(heap.region) + ", no device named";
	switch (heap.info->kind) {
	case bufmgr::HeapKind::System:
	case bufmgr::HeapKind::SystemUncached:
		return "system memory";
	case bufmgr::HeapKind::DefaultCma:
		return "default CMA: any device";
	default:
		return "unknown";
	}
}

std::string paidBy(const bufmgr::HeapAccounting &accounting)
{
	switch (accounting.controller) {
	case bufmgr::Accounting::Dmem:
		return "dmem " + accounting.dmemRegion;
	case bufmgr::Accounting::Memcg:
		return "memcg";
	case bufmgr::Accounting::None:
		break;
	}
	return "nothing";
}

} /* namespace */

std::vector<HeapOriginRow> heapOriginRows(Server &server)
{
	std::vector<HeapOriginRow> rows;
	const HeapHints *hints = server.heapHints();
	if (!hints)
		return rows;
	const auto *drm = dynamic_cast<const DrmBackend *>(&server.backend());
	static const std::vector<ScanoutProbe> kNoProbe;
	const std::vector<ScanoutProbe> &probes = drm ? drm->scanoutProbes() : kNoProbe;
	for (const HeapHints::Heap &heap : hints->heaps()) {
		/* An alias is the same memory under a legacy name. */
		if (heap.info->isAlias())
			continue;
		HeapOriginRow row;
		row.name = heap.info->name;
		row.usedBy = usedBy(heap);
		row.paidBy = paidBy(heap.accounting);
		row.scansOutOn = drm ? "no plane" : "-";
		for (const ScanoutProbe &probe : probes) {
			if (heap.source.empty() || probe.source != heap.source)
				continue;
			std::string planes;
			for (std::string_view plane : acceptingPlanes(probe)) {
				if (!planes.empty())
					planes += ", ";
				planes += plane;
			}
			if (!planes.empty())
				row.scansOutOn = planes;
		}
		rows.push_back(std::move(row));
	}
	return rows;
}

namespace {

/* A client's memory by source, with what heapcomp allocated for it from each heap. */
std::vector<ClientRow::Source> clientSources(Server &server, const ClientAccount &account)
{
	std::map<std::string, ClientRow::Source> sources;
	for (const auto &[name, count] : account.held.bySource()) {
		ClientRow::Source &source = sources[name];
		source.buffers = count.buffers;
		source.bytes = count.bytes;
	}
	const HeapHints *hints = server.heapHints();
	for (const auto &[pool, charge] : account.heapCharges) {
		const HeapHints::Heap *heap = hints ? hints->findHeap(pool) : nullptr;
		ClientRow::Source &source = sources[heap ? heap->info->name : std::to_string(pool)];
		source.allocatedBuffers = charge.buffers;
		source.allocatedBytes = charge.bytes;
	}
	std::vector<ClientRow::Source> rows;
	for (auto &[name, source] : sources) {
		source.name = name;
		rows.push_back(std::move(source));
	}
	return rows;
}

} /* namespace */

OverlayModel gatherModel(Server &server)
{
	OverlayModel model;
	model.renderer = std::string(server.renderer().name());
	model.backend = std::string(server.backend().name());

	bufmgr::StatsSnapshot stats = server.bufferManager().stats().snapshot();
	for (const bufmgr::SourceSnapshot &source : stats.sources)
		model.heaps.push_back(heapRow(source));
	model.heapOrigins = heapOriginRows(server);
	model.totalFallbacks = stats.totalFallbacks;
	/* The newest few: the panel has room for them. */
	const size_t keep = std::min<size_t>(stats.recentFallbacks.size(), 4);
	model.recentFallbacks.assign(stats.recentFallbacks.end() - keep,
				     stats.recentFallbacks.end());

	for (const ClientState *client : server.clientStates()) {
		const ClientAccount &account = client->account();
		ClientRow row;
		row.pid = client->pid();
		row.label = client->label();
		row.buffers = account.buffers;
		row.bytes = account.bytes;
		row.dmaBufBytes = account.dmaBufBytes;
		row.shmPoolBytes = account.poolBytes;
		row.heapHintHits = account.heapHintHits;
		row.heapHintMisses = account.heapHintMisses;
		row.scannedOutFrames = account.scannedOutFrames;
		row.scanoutRefusedFrames = account.scanoutRefusedFrames;
		row.sources = clientSources(server, account);
		for (const auto &[pool, charge] : account.heapCharges)
			row.allocatedBuffers += charge.buffers;
		row.quotaBuffers = server.config().limits.heapBuffers;
		row.quotaBytesPerHeap = uint64_t(server.config().limits.heapMib) << 20;
		model.clients.push_back(std::move(row));
	}
	std::sort(model.clients.begin(), model.clients.end(),
		  [](const ClientRow &a, const ClientRow &b) { return a.pid < b.pid; });

	model.surfaces = surfaceRows(server);

	const std::vector<Output *> &outputs = server.backend().outputs();
	for (size_t i = 0; i < server.numOutputs() && i < outputs.size(); i++) {
		const RepaintStats &repaint = server.repaintStats(i);
		const FrameTimeline &timeline = server.frameTimeline(i);
		OutputRow row;
		row.name = outputs[i]->name();
		row.width = outputs[i]->mode().width;
		row.height = outputs[i]->mode().height;
		row.frames = server.frameCount(i);
		row.composed = repaint.rendered;
		row.scannedOut = repaint.scannedOut;
		row.skipped = repaint.skipped;
		if (timeline.size())
			row.lastFrame = frameKindName(timeline[timeline.size() - 1].kind);
		row.overlayOnPlane = server.overlayOnPlane(i);
		model.outputs.push_back(std::move(row));
	}

	model.bench = server.allocBenchmark().progress();

	if (server.numOutputs() && !outputs.empty())
		model.frames = frameSeries(server.frameTimeline(0), outputs.front()->mode().refreshMilliHz);
	return model;
}

void BenchTrace::add(const AllocBenchProgress &progress)
{
	if (progress.run != run_) {
		run_ = progress.run;
		seen_.clear();
		series_.clear();
	}
	for (const AllocBenchResult &result : progress.results) {
		auto &[allocations, ns] = seen_[result.source];
		if (result.allocations <= allocations)
			continue;
		const float meanUs = float(result.allocNs - ns) / 1e3f /
				     float(result.allocations - allocations);
		allocations = result.allocations;
		ns = result.allocNs;
		auto series = std::find_if(series_.begin(), series_.end(), [&](const BenchSeries &s) {
			return s.source == result.source;
		});
		if (series == series_.end())
			series = series_.insert(series_.end(), BenchSeries{ result.source, {} });
		series->meanUs.push_back(meanUs);
		if (series->meanUs.size() > kPoints)
			series->meanUs.erase(series->meanUs.begin());
	}
}

FrameSeries frameSeries(const FrameTimeline &timeline, uint32_t refreshMilliHz)
{
	FrameSeries series;
	/*
	 * From the first request to the screen takes up to two refreshes (the
	 * repaint waits for one, the flip for the next); half a refresh more,
	 * and one went by without it. An idle output's long intervals are not late.
	 */
	const uint64_t lateNs = refreshMilliHz ? 2500000000000ull / refreshMilliHz : 0;
	for (size_t i = 0; i < timeline.size(); i++) {
		const FrameRecord &frame = timeline[i];
		series.intervalMs.push_back(float(frame.intervalNs) / 1e6f);
		series.repaintCpuMs.push_back(float(frame.repaintCpuNs) / 1e6f);
		uint8_t mark = 0;
		if (lateNs && frame.requestedNs && frame.presentedNs > frame.requestedNs &&
		    frame.presentedNs - frame.requestedNs > lateNs) {
			mark |= FrameSeries::Missed;
			series.missed++;
		}
		/* The first frame kept has nothing before it to tell when they happened. */
		if (i > 0) {
			const FrameRecord &before = timeline[i - 1];
			if (frame.allocFailures > before.allocFailures) {
				mark |= FrameSeries::AllocFailure;
				series.allocFailures += frame.allocFailures - before.allocFailures;
			}
			if (frame.allocFallbacks > before.allocFallbacks) {
				mark |= FrameSeries::Fallback;
				series.fallbacks += frame.allocFallbacks - before.allocFallbacks;
			}
		}
		series.marks.push_back(mark);
		switch (frame.kind) {
		case FrameKind::Composed:
			series.composed++;
			break;
		case FrameKind::ScannedOut:
			series.scannedOut++;
			break;
		case FrameKind::Skipped:
			series.skipped++;
			break;
		}
	}
	return series;
}

} /* namespace comp */
