/* SPDX-License-Identifier: MIT */
#include "alloc_benchmark.h"

#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cerrno>
#include <fstream>
#include <optional>
#include <random>

#include <drm_fourcc.h>

#include <bufmgr/clock.h>
#include <bufmgr/heap.h>
#include <bufmgr/json_writer.h>
#include <bufmgr/pool.h>

namespace comp {

using bufmgr::unexpected;

namespace {

constexpr uint64_t kPage = 4096;

/* Allocators that take calls from several threads at once (ioctls on one fd, memfd_create). */
bool threadSafe(bufmgr::AllocatorKind kind)
{
	return kind == bufmgr::AllocatorKind::DmaHeap || kind == bufmgr::AllocatorKind::Udmabuf ||
	       kind == bufmgr::AllocatorKind::Memfd;
}

bool parseNumber(std::string_view text, uint64_t &out)
{
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
	return ec == std::errc() && end == text.data() + text.size();
}

std::string firstLine(const std::string &path)
{
	std::ifstream file(path);
	std::string line;
	std::getline(file, line);
	/* Device-tree strings end in NUL. */
	while (!line.empty() && (line.back() == '\0' || line.back() == '\n'))
		line.pop_back();
	return line;
}

} /* namespace */

std::string_view toString(AllocBenchConfig::Pattern pattern)
{
	switch (pattern) {
	case AllocBenchConfig::Pattern::Fixed:
		return "fixed";
	case AllocBenchConfig::Pattern::Random:
		return "random";
	case AllocBenchConfig::Pattern::Mixed:
		return "mixed";
	}
	return "?";
}

bufmgr::Result<AllocBenchConfig> AllocBenchConfig::parse(std::string_view words)
{
	AllocBenchConfig config;
	while (!words.empty()) {
		size_t space = words.find(' ');
		std::string_view word = words.substr(0, space);
		words = space == std::string_view::npos ? std::string_view() : words.substr(space + 1);
		if (word.empty())
			continue;
		size_t equals = word.find('=');
		std::string_view key = word.substr(0, equals);
		std::string_view value = equals == std::string_view::npos ? std::string_view()
									 : word.substr(equals + 1);
		uint64_t n = 0;
		auto bad = [&] {
			return unexpected(EINVAL, "benchmark: bad '" + std::string(word) + "'");
		};
		if (key == "sources") {
			config.sources.clear();
			while (!value.empty()) {
				size_t comma = value.find(',');
				if (comma != 0)
					config.sources.emplace_back(value.substr(0, comma));
				value = comma == std::string_view::npos ? std::string_view()
									: value.substr(comma + 1);
			}
		} else if (key == "pattern") {
			if (value == "fixed")
				config.pattern = Pattern::Fixed;
			else if (value == "random")
				config.pattern = Pattern::Random;
			else if (value == "mixed")
				config.pattern = Pattern::Mixed;
			else
				return bad();
		} else if (key == "pooled") {
			if (value == "yes")
				config.pooled = true;
			else if (value == "no")
				config.pooled = false;
			else
				return bad();
		} else if (!parseNumber(value, n) || n == 0) {
			return bad();
		} else if (key == "size" && n <= kMaxSize) {
			config.size = n;
		} else if (key == "count" && n <= kMaxCount) {
			config.count = uint32_t(n);
		} else if (key == "rounds" && n <= kMaxRounds) {
			config.rounds = uint32_t(n);
		} else if (key == "threads" && n <= kMaxThreads) {
			config.threads = uint32_t(n);
		} else {
			return bad();
		}
	}
	if (auto valid = config.validate(); !valid)
		return unexpected(std::move(valid).error());
	return config;
}

bufmgr::Result<void> AllocBenchConfig::validate() const
{
	auto out = [](const char *what, uint64_t max) {
		return unexpected(EINVAL, std::string("benchmark: ") + what + " must be 1 to " +
						  std::to_string(max));
	};
	if (size == 0 || size > kMaxSize)
		return out("size", kMaxSize);
	if (count == 0 || count > kMaxCount)
		return out("count", kMaxCount);
	if (rounds == 0 || rounds > kMaxRounds)
		return out("rounds", kMaxRounds);
	if (threads == 0 || threads > kMaxThreads)
		return out("threads", kMaxThreads);
	if (size * count * threads > kMaxHeldBytes)
		return unexpected(EINVAL, "benchmark: size * count * threads holds more than " +
						  std::to_string(kMaxHeldBytes >> 20) + " MiB");
	return {};
}

std::string AllocBenchConfig::toString() const
{
	std::string words = "size=" + std::to_string(size) + " count=" + std::to_string(count) +
			    " rounds=" + std::to_string(rounds) +
			    " threads=" + std::to_string(threads) +
			    " pattern=" + std::string(comp::toString(pattern)) +
			    " pooled=" + (pooled ? "yes" : "no");
	for (size_t i = 0; i < sources.size(); i++)
		words += (i ? "," : " sources=") + sources[i];
	return words;
}

AllocBenchmark::AllocBenchmark(bufmgr::BufferManager &manager) : manager_(manager)
{
}

AllocBenchmark::~AllocBenchmark()
{
	stop_ = true;
	if (worker_.joinable())
		worker_.join();
}

bufmgr::Result<void> AllocBenchmark::start(const AllocBenchConfig &config)
{
	if (auto valid = config.validate(); !valid)
		return valid;
	std::vector<std::string> sources = config.sources;
	if (sources.empty()) {
		for (const bufmgr::SourceInfo &info : manager_.sources()) {
			if (info.kind != bufmgr::AllocatorKind::Memfd && !info.restricted)
				sources.push_back(info.source);
		}
	}
	/* memfd, the memory every Linux has, is what the others are held against. */
	if (std::find(sources.begin(), sources.end(), "memfd") == sources.end() &&
	    manager_.allocator("memfd"))
		sources.push_back("memfd");
	for (const std::string &source : sources) {
		if (!manager_.allocator(source))
			return unexpected(ENODEV, "benchmark: no allocation source '" + source + "'");
	}

	std::lock_guard lock(mutex_);
	if (progress_.running)
		return unexpected(EBUSY, "benchmark: run " + std::to_string(progress_.run) +
						 " is still going");
	if (worker_.joinable())
		worker_.join();
	progress_.running = true;
	progress_.run++;
	progress_.total = uint64_t(config.count) * config.rounds * config.threads * sources.size();
	progress_.config = config;
	progress_.config.sources = sources;
	progress_.results.assign(sources.size(), {});
	for (size_t i = 0; i < sources.size(); i++)
		progress_.results[i].source = sources[i];
	live_.clear();
	for (size_t i = 0; i < sources.size(); i++)
		live_.push_back(std::make_unique<Live>());
	done_ = 0;
	stop_ = false;
	worker_ = std::thread(&AllocBenchmark::run, this, config, sources);
	return {};
}

void AllocBenchmark::run(AllocBenchConfig config, std::vector<std::string> sources)
{
	for (size_t i = 0; i < sources.size() && !stop_; i++)
		runSource(config, sources[i], i);
	std::lock_guard lock(mutex_);
	progress_.running = false;
}

void AllocBenchmark::runSource(const AllocBenchConfig &config, const std::string &source,
			       size_t index)
{
	bufmgr::Allocator *allocator = manager_.allocator(source);
	const uint32_t threads = threadSafe(allocator->kind()) ? config.threads : 1;
	Live &live = *live_[index];
	live.threads = threads;
	/* What a single-threaded source will not allocate still counts as done. */
	done_ += uint64_t(config.count) * config.rounds * (config.threads - threads);
	/*
	 * The run's own, so heapcomp's pool and its statistics stay the
	 * clients'. Spares and held buffers together stay within the cap.
	 */
	std::optional<bufmgr::BufferPool> pool;
	if (config.pooled)
		pool.emplace(bufmgr::PoolLimits{
			.maxFreePerKey = size_t(config.count) * threads,
			.maxFreeBytes = AllocBenchConfig::kMaxHeldBytes -
					config.size * config.count * config.threads });
	auto work = [&](uint32_t thread) {
		std::mt19937_64 random(0x6865617063u + thread);
		std::vector<bufmgr::Buffer> held;
		held.reserve(config.count);
		for (uint32_t round = 0; round < config.rounds && !stop_; round++) {
			for (uint32_t i = 0; i < config.count && !stop_; i++) {
				uint64_t size = config.size;
				if (config.pattern == AllocBenchConfig::Pattern::Random)
					size = (random() % ((config.size + kPage - 1) / kPage) + 1) * kPage;
				else if (config.pattern == AllocBenchConfig::Pattern::Mixed && i % 2)
					size = std::max(config.size / 16, kPage);
				/* Rows of 4 KiB: an image every allocator takes (GBM and dumb take no blobs). */
				const uint32_t rows = uint32_t((size + kPage - 1) / kPage);
				size = uint64_t(rows) * kPage;
				auto request = bufmgr::AllocationRequest::image(
					kPage / 4, rows, DRM_FORMAT_XRGB8888, bufmgr::Usage::Cpu,
					"heapcomp-bench");
				const uint64_t begin = bufmgr::clockNs();
				std::optional<bufmgr::Buffer> spare;
				if (pool)
					spare = pool->take(source, request);
				auto buffer = spare ? bufmgr::Result<bufmgr::Buffer>(std::move(*spare))
						    : allocator->allocate(request);
				const uint64_t ns = bufmgr::clockNs() - begin;
				/* Counters, not a lock: a reader must never hold the workers up, nor they it. */
				done_++;
				if (!buffer) {
					live.failures++;
					live.lastErrno = buffer.error().code;
					continue;
				}
				live.histogram.record(ns);
				live.allocations++;
				live.bytes += buffer->size();
				live.allocNs += ns;
				live.reused += spare.has_value();
				held.push_back(std::move(*buffer));
			}
			if (pool) {
				for (bufmgr::Buffer &buffer : held)
					pool->give(std::move(buffer));
			}
			held.clear();
		}
	};
	std::vector<std::thread> workers;
	for (uint32_t t = 1; t < threads; t++)
		workers.emplace_back(work, t);
	work(0);
	for (std::thread &worker : workers)
		worker.join();
}

AllocBenchProgress AllocBenchmark::progress() const
{
	std::lock_guard lock(mutex_);
	AllocBenchProgress progress = progress_;
	progress.done = done_;
	for (size_t i = 0; i < live_.size() && i < progress.results.size(); i++) {
		const Live &live = *live_[i];
		AllocBenchResult &result = progress.results[i];
		result.threads = live.threads;
		result.failures = live.failures;
		result.lastErrno = live.lastErrno;
		result.allocations = live.allocations;
		result.bytes = live.bytes;
		result.allocNs = live.allocNs;
		result.reused = live.reused;
		result.latency = live.histogram.snapshot();
	}
	return progress;
}

std::string AllocBenchmark::resultsJson() const
{
	AllocBenchProgress progress = this->progress();
	bufmgr::JsonWriter json;
	json.beginObject();
	json.key("context");
	json.beginObject();
	char date[64] = "";
	time_t now = time(nullptr);
	tm local;
	strftime(date, sizeof(date), "%FT%T%z", localtime_r(&now, &local));
	json.field("date", date);
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	json.field("host_name", host);
	json.field("executable", "heapcomp allocation benchmark");
	json.field("num_cpus", int64_t(sysconf(_SC_NPROCESSORS_ONLN)));
	utsname name;
	json.field("kernel", uname(&name) == 0 ? std::string(name.release) : std::string());
	std::string board = firstLine("/sys/firmware/devicetree/base/model");
	if (board.empty())
		board = firstLine("/sys/class/dmi/id/product_name");
	json.field("board", board);
	/* CMA's size, and where it was read: sysfs on newer kernels, debugfs where mounted. */
	uint64_t cmaBytes = 0;
	bool sysfs = false, debugfs = false;
	for (const bufmgr::CmaAreaInfo &area : bufmgr::readCmaAreas(manager_.paths(), {})) {
		cmaBytes += area.totalBytes();
		sysfs = sysfs || area.totalPages;
		debugfs = debugfs || (!area.totalPages && area.debugCount);
	}
	json.field("cma_bytes", cmaBytes);
	json.field("stats_source", sysfs && debugfs ? "sysfs and debugfs"
				   : sysfs	     ? "sysfs"
				   : debugfs	     ? "debugfs"
						     : "none: no CMA area is readable");
#ifdef NDEBUG
	json.field("library_build_type", "release");
#else
	json.field("library_build_type", "debug");
#endif
	json.field("pattern", std::string(toString(progress.config.pattern)));
	json.field("buffers_held", uint64_t(progress.config.count));
	json.field("rounds", uint64_t(progress.config.rounds));
	json.field("pooled", progress.config.pooled);
	json.field("complete", !progress.running && progress.done == progress.total);
	json.endObject();

	const AllocBenchResult *memfd = nullptr;
	for (const AllocBenchResult &result : progress.results) {
		if (result.source == "memfd" && result.allocations)
			memfd = &result;
	}
	json.key("benchmarks");
	json.beginArray();
	for (const AllocBenchResult &result : progress.results) {
		if (!result.allocations && !result.failures)
			continue;
		const std::string name = "alloc/" + result.source + "/" +
					 std::to_string(progress.config.size) +
					 (progress.config.pooled ? "/pooled" : "") +
					 "/threads:" + std::to_string(result.threads);
		const double mean = result.allocations ? double(result.allocNs) /
							 double(result.allocations)
						       : 0.0;
		json.beginObject();
		json.field("name", name);
		json.field("run_name", name);
		json.field("run_type", "iteration");
		json.field("iterations", result.allocations);
		json.field("real_time", mean);
		json.field("cpu_time", mean);
		json.field("time_unit", "ns");
		json.field("bytes_per_second",
			   result.allocNs ? double(result.bytes) * 1e9 / double(result.allocNs) : 0.0);
		json.field("failures", result.failures);
		if (progress.config.pooled)
			json.field("reused", result.reused);
		if (result.failures)
			json.field("last_error", bufmgr::errnoName(result.lastErrno));
		json.field("p50_ns", result.latency.percentileNs(0.5));
		json.field("p99_ns", result.latency.percentileNs(0.99));
		json.field("max_ns", result.latency.maxNs);
		if (memfd && memfd->allocNs && mean > 0)
			json.field("vs_memfd", mean / (double(memfd->allocNs) /
						       double(memfd->allocations)));
		json.endObject();
	}
	json.endArray();
	json.endObject();
	return json.str();
}

} /* namespace comp */
