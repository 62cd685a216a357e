/* SPDX-License-Identifier: MIT */
#include <bufmgr/stats.h>

#include <bufmgr/json_writer.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace bufmgr {

namespace {

/* Raises peak to at least value; lost races retry only while still higher. */
void raisePeak(std::atomic<uint64_t> &peak, uint64_t value)
{
	uint64_t current = peak.load(std::memory_order_relaxed);
	while (value > current &&
	       !peak.compare_exchange_weak(current, value,
					   std::memory_order_relaxed))
		;
}

void appendField(std::string &out, const char *key, uint64_t value,
		 bool comma = true)
{
	out += '"';
	out += key;
	out += "\":";
	out += std::to_string(value);
	if (comma)
		out += ',';
}

void appendLatencyJson(std::string &out, const LatencyHistogram::Snapshot &l)
{
	out += '{';
	appendField(out, "count", l.count);
	appendField(out, "sum_ns", l.sumNs);
	appendField(out, "mean_ns", l.meanNs());
	appendField(out, "p50_ns", l.percentileNs(0.5));
	appendField(out, "p99_ns", l.percentileNs(0.99));
	appendField(out, "max_ns", l.maxNs);
	out += "\"buckets\":[";
	bool first = true;
	for (size_t i = 0; i < l.buckets.size(); i++) {
		if (!l.buckets[i])
			continue;
		if (!first)
			out += ',';
		first = false;
		out += '{';
		appendField(out, "min_ns", LatencyHistogram::bucketLowerNs(i));
		appendField(out, "max_ns", LatencyHistogram::bucketUpperNs(i));
		appendField(out, "count", l.buckets[i], false);
		out += '}';
	}
	out += "]}";
}

void appendSourceJson(std::string &out, const SourceSnapshot &s)
{
	out += "{\"source\":";
	out += jsonQuote(s.source);
	out += ',';
	appendField(out, "live_buffers", s.liveBuffers);
	appendField(out, "live_bytes", s.liveBytes);
	appendField(out, "peak_buffers", s.peakBuffers);
	appendField(out, "peak_bytes", s.peakBytes);
	appendField(out, "allocations", s.allocations);
	appendField(out, "frees", s.frees);
	appendField(out, "allocated_bytes", s.allocatedBytes);
	appendField(out, "freed_bytes", s.freedBytes);
	appendField(out, "imports", s.imports);
	appendField(out, "import_releases", s.importReleases);
	appendField(out, "imported_bytes", s.importedBytes);
	appendField(out, "import_released_bytes", s.importReleasedBytes);
	appendField(out, "failures", s.failures);
	out += "\"failures_by_errno\":{";
	bool first = true;
	for (const auto &[err, count] : s.failuresByErrno) {
		if (!first)
			out += ',';
		first = false;
		out += jsonQuote(errnoName(err));
		out += ':';
		out += std::to_string(count);
	}
	out += "},";
	appendField(out, "fallbacks", s.fallbacks);
	appendField(out, "pool_hits", s.poolHits);
	appendField(out, "pool_misses", s.poolMisses);
	out += "\"latency\":";
	appendLatencyJson(out, s.latency);
	out += '}';
}

} /* namespace */

std::string errnoName(int err)
{
	const char *name = strerrorname_np(err);
	return name ? std::string(name) : std::to_string(err);
}

std::string formatBytes(uint64_t bytes)
{
	static constexpr const char *kUnits[] = { "KiB", "MiB", "GiB", "TiB" };
	if (bytes < 1024)
		return std::to_string(bytes) + " B";
	uint64_t unitBytes = 1024;
	size_t unit = 0;
	while (bytes / unitBytes >= 1024 && unit + 1 < std::size(kUnits)) {
		unitBytes <<= 10;
		unit++;
	}
	return formatFixed(bytes, unitBytes, unit >= 2 ? 2 : 1) + " " + kUnits[unit];
}

std::string formatFixed(uint64_t numerator, uint64_t denominator, int decimals)
{
	assert(denominator && decimals >= 0 && decimals <= 6);
	uint64_t scale = 1;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	/* Whole part and fraction apart: numerator * scale could overflow. */
	const uint64_t whole = numerator / denominator, rest = numerator % denominator;
	const unsigned __int128 scaledRest = (unsigned __int128)rest * scale;
	uint64_t fraction = uint64_t(scaledRest / denominator);
	const unsigned __int128 left = scaledRest % denominator;
	/* Half to even: the digit rounded is the fraction's last (the whole part's without decimals). */
	const uint64_t last = decimals ? fraction : whole;
	if (left * 2 > denominator || (left * 2 == denominator && (last & 1)))
		fraction++;
	uint64_t carried = whole;
	if (fraction >= scale) {
		carried += fraction / scale;
		fraction %= scale;
	}
	std::string text = std::to_string(carried);
	if (decimals) {
		std::string digits = std::to_string(fraction);
		text += '.';
		text.append(size_t(decimals) - digits.size(), '0');
		text += digits;
	}
	return text;
}

std::string jsonQuote(std::string_view s)
{
	JsonWriter json;
	json.value(s);
	return json.str();
}

/* LatencyHistogram */

size_t LatencyHistogram::bucketIndex(uint64_t ns)
{
	if (!ns)
		return 0;
	size_t index = std::bit_width(ns) - 1;
	return std::min(index, kBuckets - 1);
}

uint64_t LatencyHistogram::bucketLowerNs(size_t index)
{
	return index ? uint64_t(1) << index : 0;
}

uint64_t LatencyHistogram::bucketUpperNs(size_t index)
{
	if (index >= kBuckets - 1)
		return UINT64_MAX;
	return (uint64_t(2) << index) - 1;
}

void LatencyHistogram::record(uint64_t ns)
{
	/*
	 * Max and sum first, the bucket last with release: a snapshot that
	 * sees the sample in a bucket also sees its max.
	 */
	raisePeak(max_, ns);
	sum_.fetch_add(ns, std::memory_order_relaxed);
	buckets_[bucketIndex(ns)].fetch_add(1, std::memory_order_release);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const
{
	Snapshot s;
	for (size_t i = 0; i < kBuckets; i++) {
		s.buckets[i] = buckets_[i].load(std::memory_order_acquire);
		s.count += s.buckets[i];
	}
	s.maxNs = max_.load(std::memory_order_relaxed);
	s.sumNs = sum_.load(std::memory_order_relaxed);
	return s;
}

uint64_t LatencyHistogram::Snapshot::percentileNs(double q) const
{
	if (!count)
		return 0;

	q = std::clamp(q, 0.0, 1.0);
	uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count)));
	rank = std::clamp<uint64_t>(rank, 1, count);

	uint64_t seen = 0;
	for (size_t i = 0; i < kBuckets; i++) {
		seen += buckets[i];
		if (seen < rank)
			continue;

		uint64_t upper = bucketUpperNs(i);
		if (maxNs >= bucketLowerNs(i) && maxNs < upper)
			return maxNs;
		return upper;
	}
	return maxNs;
}

/* SourceStats */

SourceStats::SourceStats(std::string source)
	: source_(std::move(source))
{
}

/*
 * The totals are counted with release and read with acquire, frees
 * before allocations (releases before imports): a snapshot that sees a
 * free also sees the allocation it pairs with, so it never shows more
 * frees than allocations. Each live counter is one atomic: exact at an
 * instant, and never below zero, as a free follows its allocation in the
 * counter's modification order.
 */
void SourceStats::Total::add(uint64_t n)
{
	bytes.fetch_add(n, std::memory_order_release);
	count.fetch_add(1, std::memory_order_release);
}

void SourceStats::Total::read(uint64_t &countOut, uint64_t &bytesOut) const
{
	countOut = count.load(std::memory_order_acquire);
	bytesOut = bytes.load(std::memory_order_acquire);
}

void SourceStats::recordAllocation(uint64_t bytes, uint64_t latencyNs)
{
	recordAllocation(bytes);
	latency_.record(latencyNs);
}

void SourceStats::recordAllocation(uint64_t bytes)
{
	allocated_.add(bytes);
	addLive(bytes);
}

void SourceStats::recordFree(uint64_t bytes)
{
	removeLive(bytes);
	freed_.add(bytes);
}

void SourceStats::recordImport(uint64_t bytes)
{
	imported_.add(bytes);
	addLive(bytes);
}

void SourceStats::recordImportRelease(uint64_t bytes)
{
	removeLive(bytes);
	importReleased_.add(bytes);
}

void SourceStats::addLive(uint64_t bytes)
{
	raisePeak(peakBuffers_, liveBuffers_.fetch_add(1, std::memory_order_relaxed) + 1);
	raisePeak(peakBytes_, liveBytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes);
}

void SourceStats::removeLive(uint64_t bytes)
{
	liveBuffers_.fetch_sub(1, std::memory_order_relaxed);
	liveBytes_.fetch_sub(bytes, std::memory_order_relaxed);
}

void SourceStats::recordFailure(int err)
{
	std::lock_guard lock(failuresMutex_);
	failures_++;
	failuresByErrno_[err]++;
}

uint64_t SourceStats::failureCount() const
{
	std::lock_guard lock(failuresMutex_);
	return failures_;
}

void SourceStats::recordFallback()
{
	fallbacks_.fetch_add(1, std::memory_order_relaxed);
}

void SourceStats::recordPoolHit()
{
	poolHits_.fetch_add(1, std::memory_order_relaxed);
}

void SourceStats::recordPoolMiss()
{
	poolMisses_.fetch_add(1, std::memory_order_relaxed);
}

SourceSnapshot SourceStats::snapshot() const
{
	SourceSnapshot s;
	s.source = source_;

	freed_.read(s.frees, s.freedBytes);
	allocated_.read(s.allocations, s.allocatedBytes);
	importReleased_.read(s.importReleases, s.importReleasedBytes);
	imported_.read(s.imports, s.importedBytes);

	/*
	 * Not allocations - frees: a snapshot preempted between those two
	 * loads would count everything allocated and freed meanwhile.
	 */
	s.liveBuffers = liveBuffers_.load(std::memory_order_relaxed);
	s.liveBytes = liveBytes_.load(std::memory_order_relaxed);

	/* The peak is raised just after live: never show it below live. */
	s.peakBuffers = std::max(peakBuffers_.load(std::memory_order_relaxed),
				 s.liveBuffers);
	s.peakBytes = std::max(peakBytes_.load(std::memory_order_relaxed),
			       s.liveBytes);

	s.fallbacks = fallbacks_.load(std::memory_order_relaxed);
	s.poolHits = poolHits_.load(std::memory_order_relaxed);
	s.poolMisses = poolMisses_.load(std::memory_order_relaxed);
	s.latency = latency_.snapshot();

	{
		std::lock_guard lock(failuresMutex_);
		s.failures = failures_;
		s.failuresByErrno = failuresByErrno_;
	}

	return s;
}

/* StatsSnapshot */

const SourceSnapshot *StatsSnapshot::find(const std::string &source) const
{
	auto it = std::lower_bound(sources.begin(), sources.end(), source,
				   [](const SourceSnapshot &s, const std::string &name) {
					   return s.source < name;
				   });
	if (it == sources.end() || it->source != source)
		return nullptr;
	return &*it;
}

std::string StatsSnapshot::toJson() const
{
	std::string out;
	out.reserve(512 + sources.size() * 1024 + recentFallbacks.size() * 160);

	out += "{\"sources\":[";
	for (size_t i = 0; i < sources.size(); i++) {
		if (i)
			out += ',';
		appendSourceJson(out, sources[i]);
	}
	out += "],";

	appendField(out, "total_fallbacks", totalFallbacks);

	out += "\"recent_fallbacks\":[";
	for (size_t i = 0; i < recentFallbacks.size(); i++) {
		const FallbackEvent &e = recentFallbacks[i];
		if (i)
			out += ',';
		out += '{';
		appendField(out, "sequence", e.sequence);
		out += "\"from\":" + jsonQuote(e.from);
		out += ",\"to\":" + jsonQuote(e.to);
		out += ",\"reason\":" + jsonQuote(e.reason);
		out += '}';
	}
	out += "]}";

	return out;
}

/* Stats */

std::shared_ptr<SourceStats> Stats::sourceStats(const std::string &source)
{
	std::lock_guard lock(mutex_);
	auto &entry = sources_[source];
	if (!entry)
		entry = std::make_shared<SourceStats>(source);
	return entry;
}

void Stats::recordFallback(const std::string &from, const std::string &to,
			   const std::string &reason)
{
	std::shared_ptr<SourceStats> fromStats = sourceStats(from);
	fromStats->recordFallback();

	std::lock_guard lock(mutex_);
	FallbackEvent event{ ++fallbackSequence_, from, to, reason };
	if (recent_.size() < kRecentFallbacks)
		recent_.push_back(std::move(event));
	else
		recent_[(event.sequence - 1) % kRecentFallbacks] = std::move(event);
}

Stats::Trouble Stats::trouble() const
{
	Trouble trouble;
	std::lock_guard lock(mutex_);
	trouble.fallbacks = fallbackSequence_;
	for (const auto &[name, stats] : sources_)
		trouble.failures += stats->failureCount();
	return trouble;
}

StatsSnapshot Stats::snapshot() const
{
	StatsSnapshot snap;
	std::vector<std::shared_ptr<SourceStats>> sources;

	{
		std::lock_guard lock(mutex_);
		sources.reserve(sources_.size());
		for (const auto &[name, stats] : sources_)
			sources.push_back(stats);

		/* The ring's oldest entry follows the newest one. */
		snap.recentFallbacks.reserve(recent_.size());
		size_t start = recent_.size() < kRecentFallbacks
			     ? 0 : fallbackSequence_ % kRecentFallbacks;
		for (size_t i = 0; i < recent_.size(); i++)
			snap.recentFallbacks.push_back(recent_[(start + i) % recent_.size()]);
		snap.totalFallbacks = fallbackSequence_;
	}

	/* Counters are read outside the lock: they are atomics. */
	snap.sources.reserve(sources.size());
	for (const auto &stats : sources)
		snap.sources.push_back(stats->snapshot());

	return snap;
}

} /* namespace bufmgr */
