/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace bufmgr {

/*
 * Latency histogram with power-of-two nanosecond buckets: bucket i holds
 * samples in [2^i, 2^(i+1)) ns, bucket 0 also holds 0, and the last bucket
 * everything above. Lock-free to record; percentiles are read from a
 * snapshot.
 */
class LatencyHistogram
{
public:
	static constexpr size_t kBuckets = 40;	/* up to ~9 minutes */

	static size_t bucketIndex(uint64_t ns);
	/* Smallest and largest sample a bucket holds (inclusive). */
	static uint64_t bucketLowerNs(size_t index);
	static uint64_t bucketUpperNs(size_t index);

	void record(uint64_t ns);

	struct Snapshot {
		std::array<uint64_t, kBuckets> buckets{};
		uint64_t count = 0;	/* sum of buckets */
		uint64_t maxNs = 0;
		uint64_t sumNs = 0;

		/*
		 * Upper bound of the bucket holding quantile q (0..1), 0 if
		 * empty. Capped at maxNs when maxNs lies in that bucket, so
		 * percentileNs(1.0) is the maximum.
		 */
		uint64_t percentileNs(double q) const;
		uint64_t meanNs() const { return count ? sumNs / count : 0; }
	};
	Snapshot snapshot() const;

private:
	std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
	std::atomic<uint64_t> max_{0};
	std::atomic<uint64_t> sum_{0};
};

/*
 * Plain copy of one source's counters. Each counter is exact, but they
 * are read one after another while other threads may record: live* is
 * a value the source really had, peak* >= live*, allocations >= frees,
 * imports >= importReleases; live == allocations - frees + imports -
 * importReleases holds once recording pauses.
 *
 * Live memory is what is held through the source, allocated here or
 * imported (a client's dma-buf); allocations and imports are counted
 * apart, and only allocations have a latency.
 */
struct SourceSnapshot {
	std::string source;
	uint64_t liveBuffers = 0;
	uint64_t liveBytes = 0;
	uint64_t peakBuffers = 0;
	uint64_t peakBytes = 0;
	uint64_t allocations = 0;
	uint64_t frees = 0;
	uint64_t allocatedBytes = 0;	/* cumulative */
	uint64_t freedBytes = 0;	/* cumulative */
	uint64_t imports = 0;
	uint64_t importReleases = 0;
	uint64_t importedBytes = 0;	/* cumulative */
	uint64_t importReleasedBytes = 0;	/* cumulative */
	uint64_t failures = 0;
	std::map<int, uint64_t> failuresByErrno;
	uint64_t fallbacks = 0;		/* times a request fell back away from here */
	uint64_t poolHits = 0;
	uint64_t poolMisses = 0;
	LatencyHistogram::Snapshot latency;	/* of the allocations that were timed */
};

/*
 * Counters of one allocation source ("dma-heap:system", "memfd", ...).
 * Recording is lock-free except for the rare failure path.
 *
 * Every recordAllocation() is paired with one recordFree() of the same
 * bytes, every recordImport() with one recordImportRelease(); a
 * LiveAccount attached to the buffer makes that pairing automatic.
 */
class SourceStats
{
public:
	explicit SourceStats(std::string source);

	const std::string &source() const { return source_; }

	void recordAllocation(uint64_t bytes, uint64_t latencyNs);
	/* An allocation that was not timed: counted, not in the histogram. */
	void recordAllocation(uint64_t bytes);
	void recordFree(uint64_t bytes);
	/* Memory made elsewhere (a client's dma-buf) that is now held here. */
	void recordImport(uint64_t bytes);
	void recordImportRelease(uint64_t bytes);
	void recordFailure(int err);
	void recordFallback();
	void recordPoolHit();
	void recordPoolMiss();

	SourceSnapshot snapshot() const;
	uint64_t failureCount() const;
	/* Allocations so far, cheap enough to decide which ones to time. */
	uint64_t allocationCount() const { return allocated_.count.load(std::memory_order_relaxed); }

private:
	/* How many buffers came or went, and their bytes. */
	struct Total {
		std::atomic<uint64_t> count{0};
		std::atomic<uint64_t> bytes{0};

		void add(uint64_t n);
		void read(uint64_t &countOut, uint64_t &bytesOut) const;
	};

	void addLive(uint64_t bytes);
	void removeLive(uint64_t bytes);

	const std::string source_;
	std::atomic<uint64_t> liveBuffers_{0};
	std::atomic<uint64_t> liveBytes_{0};
	std::atomic<uint64_t> peakBuffers_{0};
	std::atomic<uint64_t> peakBytes_{0};
	Total allocated_;
	Total freed_;
	Total imported_;
	Total importReleased_;
	std::atomic<uint64_t> fallbacks_{0};
	std::atomic<uint64_t> poolHits_{0};
	std::atomic<uint64_t> poolMisses_{0};
	LatencyHistogram latency_;
	mutable std::mutex failuresMutex_;
	uint64_t failures_ = 0;
	std::map<int, uint64_t> failuresByErrno_;
};

/* One step of a fallback chain that was taken, for logs and the overlay. */
struct FallbackEvent {
	uint64_t sequence = 0;	/* 1 for the first fallback of a Stats */
	std::string from;	/* source that failed or was skipped */
	std::string to;		/* source tried next, empty if none was left */
	std::string reason;	/* "ENOMEM (Cannot allocate memory) for 8294400 B" */
};

struct StatsSnapshot {
	std::vector<SourceSnapshot> sources;	/* sorted by source name */
	std::vector<FallbackEvent> recentFallbacks;	/* oldest first */
	uint64_t totalFallbacks = 0;

	const SourceSnapshot *find(const std::string &source) const;

	/*
	 * {"sources": [{"source", "live_buffers", ..., "imports",
	 * "import_releases", "imported_bytes", "import_released_bytes", ...,
	 * "failures_by_errno":
	 * {"ENOMEM": n}, "latency": {"count", "sum_ns", "mean_ns", "p50_ns",
	 * "p99_ns", "max_ns", "buckets": [{"min_ns", "max_ns", "count"}]}}],
	 * "total_fallbacks", "recent_fallbacks": [{"sequence", "from", "to",
	 * "reason"}]}. Only non-empty latency buckets are listed.
	 */
	std::string toJson() const;
};

/*
 * All statistics of one BufferManager. sourceStats() hands out a shared
 * record that buffers keep, so a buffer freed after its manager still
 * counts correctly. snapshot() is cheap enough to call every frame: it
 * holds the lock only to copy the source list and the fallback ring.
 */
class Stats
{
public:
	static constexpr size_t kRecentFallbacks = 64;

	std::shared_ptr<SourceStats> sourceStats(const std::string &source);

	/*
	 * Keeps the event in the ring of recent fallbacks and counts it in
	 * the fallbacks of `from` (do not also call SourceStats::recordFallback).
	 */
	void recordFallback(const std::string &from, const std::string &to,
			    const std::string &reason);

	StatsSnapshot snapshot() const;

	/* Allocations that failed and fallbacks taken so far, over every source. */
	struct Trouble {
		uint64_t failures = 0;
		uint64_t fallbacks = 0;
	};
	/* Cheap enough for every frame: a frame-time graph marks where they happened. */
	Trouble trouble() const;

private:
	mutable std::mutex mutex_;
	std::map<std::string, std::shared_ptr<SourceStats>> sources_;
	std::vector<FallbackEvent> recent_;	/* ring of kRecentFallbacks */
	uint64_t fallbackSequence_ = 0;
};

/* "ENOMEM" for ENOMEM; the decimal number for codes glibc cannot name. */
std::string errnoName(int err);

/* "12.5 MiB": a size as people read it (binary units, bytes below 1 KiB). */
std::string formatBytes(uint64_t bytes);

/*
 * numerator / denominator with decimals digits after the point ("12.50"),
 * rounded as printf rounds an exact value (half to even), in integers
 * only: far cheaper than printf's floating point. denominator > 0,
 * decimals 0 to 6.
 */
std::string formatFixed(uint64_t numerator, uint64_t denominator, int decimals);

/* s as a quoted JSON string, as JsonWriter writes it: invalid UTF-8 becomes U+FFFD. */
std::string jsonQuote(std::string_view s);

} /* namespace bufmgr */
