/* SPDX-License-Identifier: MIT */
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <bufmgr/manager.h>
#include <bufmgr/result.h>
#include <bufmgr/stats.h>

namespace comp {

/* What an allocation benchmark run does, per allocation source. */
struct AllocBenchConfig {
	enum class Pattern : uint8_t {
		Fixed,	/* every buffer `size` bytes */
		Random,	/* page multiples up to `size`, a fixed seed */
		Mixed,	/* `size` and a sixteenth of it, alternating */
	};

	/* Sources by name ("dma-heap:system"); empty: every dma-buf source. memfd always runs as the baseline. */
	std::vector<std::string> sources;
	uint64_t size = 1u << 20;
	/* Buffers each thread holds at once before freeing them all. */
	uint32_t count = 32;
	/* Rounds of count allocations per thread. */
	uint32_t rounds = 4;
	uint32_t threads = 1;
	Pattern pattern = Pattern::Fixed;
	/*
	 * Freed buffers go to a free list the next round takes from, as
	 * heapcomp's pool serves clients; otherwise every one is fresh.
	 */
	bool pooled = false;

	/* What a run may ask for: one run must not take a board's CMA. */
	static constexpr uint64_t kMaxSize = uint64_t(256) << 20;
	static constexpr uint32_t kMaxCount = 1024;
	static constexpr uint32_t kMaxRounds = 1000;
	static constexpr uint32_t kMaxThreads = 16;
	/* Held at once, free-listed buffers included. */
	static constexpr uint64_t kMaxHeldBytes = uint64_t(1) << 30;

	/*
	 * From "size=1048576 count=32 rounds=4 threads=2 pattern=random
	 * pooled=yes sources=dma-heap:system,memfd" (any subset, any order);
	 * EINVAL names the bad word.
	 */
	static bufmgr::Result<AllocBenchConfig> parse(std::string_view words);
	/* EINVAL for a value out of its range, or a run holding more than 1 GiB. */
	bufmgr::Result<void> validate() const;
	/* The words parse() takes for this config. */
	std::string toString() const;
};

std::string_view toString(AllocBenchConfig::Pattern pattern);

/* One source's figures, so far or final. */
struct AllocBenchResult {
	std::string source;
	uint64_t allocations = 0;
	uint64_t bytes = 0;
	uint64_t failures = 0;
	int lastErrno = 0;
	/* Wall time of its allocations (not the frees), summed over threads. */
	uint64_t allocNs = 0;
	bufmgr::LatencyHistogram::Snapshot latency;
	/* Allocations served from the free list (pooled runs). */
	uint64_t reused = 0;
	/* Threads used: allocators that are not thread-safe get one. */
	uint32_t threads = 0;
};

struct AllocBenchProgress {
	bool running = false;
	/* Runs started since heapcomp did; 0: never. */
	uint64_t run = 0;
	uint64_t done = 0;	/* allocations made or failed, all sources */
	uint64_t total = 0;
	AllocBenchConfig config;
	std::vector<AllocBenchResult> results;	/* in run order, memfd last */
	std::string error;	/* why the last start was refused */
};

/*
 * The interactive allocation benchmark: allocates and frees buffers
 * from each source straight through its allocator (so heapcomp's own
 * statistics stay its clients'), on worker threads, never on the event
 * loop. Results come as a progress snapshot at any time and, when done,
 * as Google Benchmark JSON, the schema bench/ writes.
 */
class AllocBenchmark
{
public:
	explicit AllocBenchmark(bufmgr::BufferManager &manager);
	/* Stops a run at its next allocation and waits for it. */
	~AllocBenchmark();
	AllocBenchmark(const AllocBenchmark &) = delete;
	AllocBenchmark &operator=(const AllocBenchmark &) = delete;

	/* EBUSY while a run goes on, ENODEV for a source the manager lacks, EINVAL for a bad config. */
	bufmgr::Result<void> start(const AllocBenchConfig &config);
	AllocBenchProgress progress() const;
	/*
	 * {"context": {...}, "benchmarks": [{"name": "alloc/<source>/<size>",
	 * "run_name", "run_type": "iteration", "iterations", "real_time",
	 * "cpu_time", "time_unit": "ns", "bytes_per_second", "failures",
	 * "p50_ns", "p99_ns", "max_ns", "vs_memfd"}]}: time per allocation.
	 */
	std::string resultsJson() const;

private:
	void run(AllocBenchConfig config, std::vector<std::string> sources);
	void runSource(const AllocBenchConfig &config, const std::string &source, size_t index);

	/* One source's figures as the workers count them. */
	struct Live {
		std::atomic<uint64_t> allocations{ 0 };
		std::atomic<uint64_t> bytes{ 0 };
		std::atomic<uint64_t> failures{ 0 };
		std::atomic<uint64_t> allocNs{ 0 };
		std::atomic<uint64_t> reused{ 0 };
		std::atomic<int> lastErrno{ 0 };
		std::atomic<uint32_t> threads{ 0 };
		bufmgr::LatencyHistogram histogram;
	};

	bufmgr::BufferManager &manager_;
	/* Guards progress_ and the run's shape; the workers count in live_ and done_ only. */
	mutable std::mutex mutex_;
	AllocBenchProgress progress_;
	/* One per source of the run; replaced only while no worker runs. */
	std::vector<std::unique_ptr<Live>> live_;
	std::atomic<uint64_t> done_{ 0 };
	std::atomic<bool> stop_{ false };
	std::thread worker_;
};

} /* namespace comp */
