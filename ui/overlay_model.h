/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <bufmgr/heap.h>
#include <bufmgr/stats.h>

#include "alloc_benchmark.h"
#include "scene/frame_timeline.h"

namespace comp {

class Server;

/* One allocation source (a heap, memfd, gbm...) as the overlay shows it. */
struct HeapRow {
	std::string source;
	uint64_t liveBuffers = 0;
	uint64_t liveBytes = 0;
	uint64_t peakBytes = 0;
	uint64_t allocations = 0;
	uint64_t imports = 0;
	uint64_t failures = 0;
	std::string failuresByErrno;	/* "ENOMEM 3, EPERM 1" */
	uint64_t fallbacks = 0;
	/* Of the pool's lookups; unset when the pool was never asked. */
	std::optional<double> poolHitRate;
	/* Allocations a second since the overlay's previous redraw; unset on the first. */
	std::optional<double> allocationsPerSecond;
	uint64_t p50Ns = 0;
	uint64_t p99Ns = 0;
	uint64_t maxNs = 0;
};

/* A DMA-BUF heap: which devices its memory is for, who pays, where it scans out. */
struct HeapOriginRow {
	std::string name;
	std::string usedBy;	/* "lcd-controller@32e80000 (imx-lcdif)", "system memory" */
	std::string paidBy;	/* "dmem cma/reserved", "memcg", "nothing" */
	std::string scansOutOn;	/* "primary, overlay", "no plane"; "-": no probe */
};

/* The heaps heapcomp hints to clients, as HeapOriginRows. */
std::vector<HeapOriginRow> heapOriginRows(Server &server);

/* One CMA area against its capacity. */
struct CmaRow {
	std::string name;
	uint64_t totalBytes = 0;
	std::optional<uint64_t> freeBytes;
	std::optional<uint64_t> largestFreeBytes;
	std::optional<double> fragmentation;
	/* Slices of the area, each 0..255 in use, when the bitmap was readable. */
	std::vector<uint8_t> occupancy;
	/* Fraction in use, once a second over the last minute, oldest first. */
	std::vector<float> usedHistory;
	/* At the rate it filled over that minute; unset when it is not filling. */
	std::optional<double> secondsToExhaustion;
};

/*
 * A CMA area's free bytes over the last minute: where it is heading. A
 * board's scanout and camera buffers come from there; the time left at
 * the current rate tells before an allocation fails.
 */
class CmaTrend
{
public:
	static constexpr double kWindowSeconds = 60.0;

	/* A reading at `seconds` on a monotonic clock. */
	void add(double seconds, uint64_t freeBytes);
	/* Free bytes over time as a fraction of total in use, oldest first. */
	std::vector<float> usedHistory(uint64_t totalBytes) const;
	/* Seconds until nothing is free at the window's rate; unset when not falling. */
	std::optional<double> secondsToExhaustion() const;

private:
	std::deque<std::pair<double, uint64_t>> samples_;
};

/* One source's mean allocation latency over a benchmark run, oldest first. */
struct BenchSeries {
	std::string source;
	std::vector<float> meanUs;
};

/*
 * An allocation benchmark run as it goes: each source's mean latency
 * between one look at its progress and the next, for the benchmark
 * panel's live plot (memfd, the baseline, beside the others).
 */
class BenchTrace
{
public:
	static constexpr size_t kPoints = 120;

	/* A look at the run; a new run starts the trace again. */
	void add(const AllocBenchProgress &progress);
	/* In the run's order of sources. */
	const std::vector<BenchSeries> &series() const { return series_; }

private:
	uint64_t run_ = 0;
	/* Each source's allocations and their time at the last look. */
	std::map<std::string, std::pair<uint64_t, uint64_t>> seen_;
	std::vector<BenchSeries> series_;
};

/* A surface on screen: its memory, and whether it is scanned out or composed and why. */
struct SurfaceRow {
	std::string name;	/* app_id, else title, else "surface N" */
	std::string client;
	uint32_t width = 0;
	uint32_t height = 0;
	/* "wl_shm", "dma-buf <exporter>" */
	std::string memory;
	/* "scanned out", "on an overlay plane", "composed", "composed: <why not on a plane>" */
	std::string onScreen;
};

struct ClientRow {
	pid_t pid = 0;
	std::string label;
	uint64_t buffers = 0;
	uint64_t bytes = 0;
	uint64_t dmaBufBytes = 0;
	uint64_t shmPoolBytes = 0;
	uint64_t heapHintHits = 0;
	uint64_t heapHintMisses = 0;
	uint64_t scannedOutFrames = 0;
	uint64_t scanoutRefusedFrames = 0;
	/* Its memory by source: what it holds, and what heapcomp allocated for it there. */
	struct Source {
		std::string name;	/* "wl_shm", or a dma-buf exporter or heap */
		uint64_t buffers = 0;
		uint64_t bytes = 0;
		uint64_t allocatedBuffers = 0;
		uint64_t allocatedBytes = 0;
	};
	std::vector<Source> sources;
	/* Its heap quota: buffers allocated for it in all, and bytes from each heap. */
	uint64_t allocatedBuffers = 0;
	uint64_t quotaBuffers = 0;
	uint64_t quotaBytesPerHeap = 0;
};

struct OutputRow {
	std::string name;
	uint32_t width = 0;
	uint32_t height = 0;
	uint64_t frames = 0;
	uint64_t composed = 0;
	uint64_t scannedOut = 0;
	uint64_t skipped = 0;
	/* How the last frames reached the screen: "scanned out", "composed"... */
	std::string lastFrame;
	/* The overlay has a plane of its own: direct scanout stays possible under it. */
	bool overlayOnPlane = false;
};

/* Frame times of the first output, oldest first. */
struct FrameSeries {
	/* What happened at a frame, marked on the frame-time graph. */
	enum Mark : uint8_t {
		Missed = 1,		/* a refresh went by in which it could have been shown */
		AllocFailure = 2,	/* an allocation failed since the frame before */
		Fallback = 4,		/* an allocation fell back to another source */
	};

	std::vector<float> intervalMs;
	std::vector<float> repaintCpuMs;
	/* Mark bits, one entry per frame. */
	std::vector<uint8_t> marks;
	uint64_t composed = 0;
	uint64_t scannedOut = 0;
	uint64_t skipped = 0;
	uint64_t missed = 0;
	uint64_t allocFailures = 0;
	uint64_t fallbacks = 0;
};

/* The frames of timeline, marked against an output refreshing at refreshMilliHz (0: unknown). */
FrameSeries frameSeries(const FrameTimeline &timeline, uint32_t refreshMilliHz);

/* What the overlay draws: one snapshot of the compositor's state. */
struct OverlayModel {
	std::string renderer;
	std::string backend;
	std::vector<HeapRow> heaps;
	std::vector<HeapOriginRow> heapOrigins;
	std::vector<CmaRow> cmaAreas;
	std::vector<bufmgr::FallbackEvent> recentFallbacks;
	uint64_t totalFallbacks = 0;
	std::vector<ClientRow> clients;
	/* Mapped windows on the first output, bottom first. */
	std::vector<SurfaceRow> surfaces;
	std::vector<OutputRow> outputs;
	FrameSeries frames;
	/* The allocation benchmark (heapctl bench): where it is, its figures so far. */
	AllocBenchProgress bench;
	/* The run so far, as the overlay saw it go. */
	std::vector<BenchSeries> benchSeries;
	/* The overlay's own redraws: how many, and the CPU time of the last and of all. */
	uint64_t overlayRedraws = 0;
	uint64_t overlayLastCpuNs = 0;
	uint64_t overlayTotalCpuNs = 0;
};

/* The allocation sources, clients, outputs and frames of server, now. */
OverlayModel gatherModel(Server &server);

/*
 * CMA areas as the overlay shows them, from sysfs and debugfs. An area's
 * bitmap (the kernel prints it as thousands of numbers) is read again
 * only when one of its allocation counters moved: the bitmap changes
 * only through allocations and releases. Without the counters it is read
 * every time. Areas are made at boot: they are listed, and their counter
 * files opened, at the first read, and each read after is three preads
 * an area while nothing moves.
 */
class CmaAreaReader
{
public:
	explicit CmaAreaReader(bufmgr::SystemPaths paths = {}) : paths_(std::move(paths)) {}

	std::vector<CmaRow> read();
	/* Bitmaps read so far. */
	uint64_t bitmapReads() const { return bitmapReads_; }

private:
	struct Area {
		std::string name;
		std::optional<bufmgr::CmaCounterFiles> counters;
		/* The counts at the last full read, and what it gave. */
		std::optional<std::pair<bufmgr::CmaCounterFiles::Counts, CmaRow>> seen;
	};

	bufmgr::SystemPaths paths_;
	std::optional<std::vector<Area>> areas_;
	uint64_t bitmapReads_ = 0;
};

} /* namespace comp */
