/* SPDX-License-Identifier: MIT */
#include <bufmgr/stats.h>

#include <atomic>
#include <cerrno>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <bufmgr/buffer.h>

#include "json.h"

using namespace bufmgr;
using heapcomp::test::Json;
using heapcomp::test::parseJson;

TEST(LatencyHistogram, BucketBounds)
{
	EXPECT_EQ(LatencyHistogram::bucketIndex(0), 0u);
	EXPECT_EQ(LatencyHistogram::bucketIndex(1), 0u);
	EXPECT_EQ(LatencyHistogram::bucketIndex(2), 1u);
	EXPECT_EQ(LatencyHistogram::bucketIndex(3), 1u);
	EXPECT_EQ(LatencyHistogram::bucketIndex(1023), 9u);
	EXPECT_EQ(LatencyHistogram::bucketIndex(1024), 10u);
	EXPECT_EQ(LatencyHistogram::bucketIndex(UINT64_MAX), LatencyHistogram::kBuckets - 1);

	EXPECT_EQ(LatencyHistogram::bucketLowerNs(0), 0u);
	EXPECT_EQ(LatencyHistogram::bucketUpperNs(0), 1u);
	EXPECT_EQ(LatencyHistogram::bucketLowerNs(10), 1024u);
	EXPECT_EQ(LatencyHistogram::bucketUpperNs(10), 2047u);
	EXPECT_EQ(LatencyHistogram::bucketUpperNs(LatencyHistogram::kBuckets - 1), UINT64_MAX);

	/* Every bucket starts right after the previous one ends. */
	for (size_t i = 1; i < LatencyHistogram::kBuckets; i++)
		EXPECT_EQ(LatencyHistogram::bucketLowerNs(i),
			  LatencyHistogram::bucketUpperNs(i - 1) + 1);
}

TEST(LatencyHistogram, EmptyHasNoPercentiles)
{
	LatencyHistogram h;
	LatencyHistogram::Snapshot s = h.snapshot();
	EXPECT_EQ(s.count, 0u);
	EXPECT_EQ(s.percentileNs(0.5), 0u);
	EXPECT_EQ(s.percentileNs(1.0), 0u);
	EXPECT_EQ(s.meanNs(), 0u);
}

TEST(LatencyHistogram, PercentilesAreBucketUpperBounds)
{
	LatencyHistogram h;
	/* 90 fast samples in [512, 1023], 10 slow ones in [2^19, 2^20). */
	for (int i = 0; i < 90; i++)
		h.record(1000);
	for (int i = 0; i < 10; i++)
		h.record(600000);
	h.record(1000000);	/* the max, same bucket as the slow ones */

	LatencyHistogram::Snapshot s = h.snapshot();
	EXPECT_EQ(s.count, 101u);
	EXPECT_EQ(s.maxNs, 1000000u);
	EXPECT_EQ(s.sumNs, 90u * 1000 + 10u * 600000 + 1000000);
	EXPECT_EQ(s.buckets[9], 90u);
	EXPECT_EQ(s.buckets[19], 11u);

	EXPECT_EQ(s.percentileNs(0.0), 1023u);
	EXPECT_EQ(s.percentileNs(0.5), 1023u);
	EXPECT_EQ(s.percentileNs(0.89), 1023u);
	/* The slow bucket holds the max: capped there rather than 2^20 - 1. */
	EXPECT_EQ(s.percentileNs(0.91), 1000000u);
	EXPECT_EQ(s.percentileNs(0.99), 1000000u);
	EXPECT_EQ(s.percentileNs(1.0), 1000000u);
	EXPECT_EQ(s.meanNs(), s.sumNs / 101);
}

TEST(LatencyHistogram, PercentileBelowMaxBucketIsFullUpperBound)
{
	LatencyHistogram h;
	h.record(3000);		/* bucket 11: [2048, 4095] */
	h.record(5000000);	/* far above */

	LatencyHistogram::Snapshot s = h.snapshot();
	EXPECT_EQ(s.percentileNs(0.5), 4095u);
	EXPECT_EQ(s.percentileNs(1.0), 5000000u);
}

TEST(LatencyHistogram, ZeroAndHugeSamples)
{
	LatencyHistogram h;
	h.record(0);
	h.record(UINT64_MAX / 2);

	LatencyHistogram::Snapshot s = h.snapshot();
	EXPECT_EQ(s.buckets[0], 1u);
	EXPECT_EQ(s.buckets[LatencyHistogram::kBuckets - 1], 1u);
	EXPECT_EQ(s.percentileNs(0.5), 1u);
	EXPECT_EQ(s.percentileNs(1.0), UINT64_MAX / 2);
}

TEST(Stats, LiveAccountCountsFreeWhenBufferGoes)
{
	Stats stats;
	std::shared_ptr<SourceStats> memfd = stats.sourceStats("memfd");

	{
		Buffer::Description desc;
		desc.size = 4096;
		desc.source = "memfd";
		Buffer a(desc, {});
		memfd->recordAllocation(4096, 1500);
		a.setAccount(LiveAccount(memfd, 4096));

		memfd->recordAllocation(8192, 2500);
		Buffer b(desc, {});
		b.setAccount(LiveAccount(memfd, 8192));

		const SourceSnapshot s = memfd->snapshot();
		EXPECT_EQ(s.liveBuffers, 2u);
		EXPECT_EQ(s.liveBytes, 12288u);
		EXPECT_EQ(s.allocations, 2u);
		EXPECT_EQ(s.frees, 0u);

		/* Moving a buffer moves its account: still counted once. */
		Buffer moved = std::move(a);
		Buffer assigned;
		assigned = std::move(moved);
		EXPECT_EQ(memfd->snapshot().frees, 0u);
	}

	const SourceSnapshot s = memfd->snapshot();
	EXPECT_EQ(s.liveBuffers, 0u);
	EXPECT_EQ(s.liveBytes, 0u);
	EXPECT_EQ(s.allocations, 2u);
	EXPECT_EQ(s.frees, 2u);
	EXPECT_EQ(s.allocatedBytes, 12288u);
	EXPECT_EQ(s.freedBytes, 12288u);
	EXPECT_EQ(s.peakBuffers, 2u);
	EXPECT_EQ(s.peakBytes, 12288u);
	EXPECT_EQ(s.latency.count, 2u);
	EXPECT_EQ(s.latency.maxNs, 2500u);
}

/* A client's dma-buf is held, not allocated: no allocation, no latency. */
TEST(Stats, ImportsAreCountedApartFromAllocations)
{
	Stats stats;
	std::shared_ptr<SourceStats> client = stats.sourceStats("client:i915");

	client->recordAllocation(4096, 700);
	LiveAccount allocated(client, 4096);
	{
		client->recordImport(8192);
		Buffer imported;
		imported.setAccount(LiveAccount(client, 8192, LiveAccount::Origin::Imported));

		const SourceSnapshot s = client->snapshot();
		EXPECT_EQ(s.imports, 1u);
		EXPECT_EQ(s.importedBytes, 8192u);
		EXPECT_EQ(s.importReleases, 0u);
		EXPECT_EQ(s.allocations, 1u);
		EXPECT_EQ(s.allocatedBytes, 4096u);
		EXPECT_EQ(s.latency.count, 1u);
		EXPECT_EQ(s.latency.maxNs, 700u);
		EXPECT_EQ(s.liveBuffers, 2u);
		EXPECT_EQ(s.liveBytes, 4096u + 8192u);

		/* The account moves with the buffer and is settled once. */
		Buffer moved = std::move(imported);
		EXPECT_EQ(client->snapshot().importReleases, 0u);
	}

	SourceSnapshot s = client->snapshot();
	EXPECT_EQ(s.importReleases, 1u);
	EXPECT_EQ(s.importReleasedBytes, 8192u);
	EXPECT_EQ(s.frees, 0u);
	EXPECT_EQ(s.freedBytes, 0u);
	EXPECT_EQ(s.liveBuffers, 1u);
	EXPECT_EQ(s.liveBytes, 4096u);
	EXPECT_EQ(s.peakBytes, 4096u + 8192u);

	allocated = LiveAccount();
	s = client->snapshot();
	EXPECT_EQ(s.frees, 1u);
	EXPECT_EQ(s.importReleases, 1u);
	EXPECT_EQ(s.liveBuffers, 0u);
	EXPECT_EQ(s.liveBytes, 0u);
}

TEST(Stats, AccountOutlivesStats)
{
	Buffer buffer;
	std::shared_ptr<SourceStats> record;
	{
		Stats stats;
		record = stats.sourceStats("dma-heap:system");
		record->recordAllocation(100, 1);
		buffer.setAccount(LiveAccount(record, 100));
	}
	buffer = Buffer();
	EXPECT_EQ(record->snapshot().frees, 1u);
	EXPECT_EQ(record->snapshot().liveBuffers, 0u);
}

TEST(Stats, SourceStatsIsSharedPerName)
{
	Stats stats;
	EXPECT_EQ(stats.sourceStats("a"), stats.sourceStats("a"));
	EXPECT_NE(stats.sourceStats("a"), stats.sourceStats("b"));
	EXPECT_EQ(stats.sourceStats("a")->source(), "a");
}

TEST(Stats, FailuresByErrno)
{
	Stats stats;
	auto cma = stats.sourceStats("dma-heap:linux,cma");
	cma->recordFailure(ENOMEM);
	cma->recordFailure(ENOMEM);
	cma->recordFailure(EINVAL);

	const SourceSnapshot s = cma->snapshot();
	EXPECT_EQ(s.failures, 3u);
	ASSERT_EQ(s.failuresByErrno.size(), 2u);
	EXPECT_EQ(s.failuresByErrno.at(ENOMEM), 2u);
	EXPECT_EQ(s.failuresByErrno.at(EINVAL), 1u);
}

TEST(Stats, ErrnoNames)
{
	EXPECT_EQ(errnoName(ENOMEM), "ENOMEM");
	EXPECT_EQ(errnoName(EINVAL), "EINVAL");
	EXPECT_EQ(errnoName(ENODEV), "ENODEV");
	EXPECT_EQ(errnoName(123456), "123456");
}

TEST(Stats, PoolAndFallbackCounters)
{
	Stats stats;
	auto sys = stats.sourceStats("dma-heap:system");
	sys->recordPoolHit();
	sys->recordPoolHit();
	sys->recordPoolMiss();
	stats.recordFallback("dma-heap:system", "memfd", "ENOMEM for 4096 B");

	const StatsSnapshot snap = stats.snapshot();
	const SourceSnapshot *s = snap.find("dma-heap:system");
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(s->poolHits, 2u);
	EXPECT_EQ(s->poolMisses, 1u);
	EXPECT_EQ(s->fallbacks, 1u);
	EXPECT_EQ(snap.totalFallbacks, 1u);
	ASSERT_EQ(snap.recentFallbacks.size(), 1u);
	EXPECT_EQ(snap.recentFallbacks[0].sequence, 1u);
	EXPECT_EQ(snap.recentFallbacks[0].from, "dma-heap:system");
	EXPECT_EQ(snap.recentFallbacks[0].to, "memfd");
	EXPECT_EQ(snap.recentFallbacks[0].reason, "ENOMEM for 4096 B");
	/* The target is not charged with a fallback. */
	EXPECT_EQ(snap.find("memfd"), nullptr);
}

TEST(Stats, FallbackRingKeepsNewestOldestFirst)
{
	Stats stats;
	const uint64_t total = Stats::kRecentFallbacks + 6;
	for (uint64_t i = 1; i <= total; i++)
		stats.recordFallback("a", "b", std::to_string(i));

	const StatsSnapshot snap = stats.snapshot();
	EXPECT_EQ(snap.totalFallbacks, total);
	ASSERT_EQ(snap.recentFallbacks.size(), Stats::kRecentFallbacks);
	for (size_t i = 0; i < snap.recentFallbacks.size(); i++) {
		uint64_t expected = total - Stats::kRecentFallbacks + 1 + i;
		EXPECT_EQ(snap.recentFallbacks[i].sequence, expected);
		EXPECT_EQ(snap.recentFallbacks[i].reason, std::to_string(expected));
	}
	EXPECT_EQ(snap.find("a")->fallbacks, total);
}

TEST(Stats, SnapshotSortedAndFind)
{
	Stats stats;
	for (const char *name : { "udmabuf", "dma-heap:system", "memfd", "dma-heap:linux,cma" })
		stats.sourceStats(name)->recordAllocation(1, 1);

	const StatsSnapshot snap = stats.snapshot();
	ASSERT_EQ(snap.sources.size(), 4u);
	EXPECT_EQ(snap.sources[0].source, "dma-heap:linux,cma");
	EXPECT_EQ(snap.sources[1].source, "dma-heap:system");
	EXPECT_EQ(snap.sources[2].source, "memfd");
	EXPECT_EQ(snap.sources[3].source, "udmabuf");

	for (const auto &s : snap.sources)
		EXPECT_EQ(snap.find(s.source), &s);
	EXPECT_EQ(snap.find("gbm"), nullptr);
	EXPECT_EQ(snap.find(""), nullptr);
	EXPECT_EQ(StatsSnapshot().find("memfd"), nullptr);
}

TEST(Stats, JsonQuote)
{
	EXPECT_EQ(jsonQuote(""), "\"\"");
	EXPECT_EQ(jsonQuote("dma-heap:system"), "\"dma-heap:system\"");
	EXPECT_EQ(jsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
	EXPECT_EQ(jsonQuote("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
	EXPECT_EQ(jsonQuote(std::string_view("\0\x01\x1f", 3)), "\"\\u0000\\u0001\\u001f\"");
	/* Valid UTF-8 passes through. */
	EXPECT_EQ(jsonQuote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
		  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Invalid UTF-8: stray continuation, truncated, overlong, surrogate. */
	EXPECT_EQ(jsonQuote("a\x80z"), "\"a\\ufffdz\"");
	EXPECT_EQ(jsonQuote("\xe2\x82"), "\"\\ufffd\\ufffd\"");
	EXPECT_EQ(jsonQuote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	EXPECT_EQ(jsonQuote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	EXPECT_EQ(jsonQuote("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");

	/* Whatever goes in, the parser reads back a string. */
	std::string all;
	for (int c = 0; c < 256; c++)
		all += static_cast<char>(c);
	std::optional<Json> parsed = parseJson(jsonQuote(all));
	ASSERT_TRUE(parsed);
	EXPECT_EQ(parsed->type, Json::Type::String);
	EXPECT_EQ(parsed->text.substr(0, 128), all.substr(0, 128));
}

TEST(Stats, JsonStructure)
{
	Stats stats;
	auto sys = stats.sourceStats("dma-heap:system");
	sys->recordAllocation(8294400, 1000);
	sys->recordAllocation(8294400, 600000);
	sys->recordFree(8294400);
	sys->recordFailure(ENOMEM);
	sys->recordPoolHit();
	stats.sourceStats("memfd \"odd\" name\n");
	stats.recordFallback("dma-heap:system", "memfd", "ENOMEM (Cannot allocate memory)");

	const StatsSnapshot snap = stats.snapshot();
	const std::string text = snap.toJson();
	std::optional<Json> json = parseJson(text);
	ASSERT_TRUE(json) << text;
	ASSERT_EQ(json->type, Json::Type::Object);

	const Json *sources = json->get("sources");
	ASSERT_TRUE(sources);
	ASSERT_EQ(sources->type, Json::Type::Array);
	ASSERT_EQ(sources->array.size(), 2u);

	const Json &s = sources->array[0];
	EXPECT_EQ(s.get("source")->text, "dma-heap:system");
	EXPECT_EQ(sources->array[1].get("source")->text, "memfd \"odd\" name\n");
	EXPECT_EQ(s.get("live_buffers")->u64(), 1u);
	EXPECT_EQ(s.get("live_bytes")->u64(), 8294400u);
	EXPECT_EQ(s.get("peak_buffers")->u64(), 2u);
	EXPECT_EQ(s.get("peak_bytes")->u64(), 2u * 8294400);
	EXPECT_EQ(s.get("allocations")->u64(), 2u);
	EXPECT_EQ(s.get("frees")->u64(), 1u);
	EXPECT_EQ(s.get("allocated_bytes")->u64(), 2u * 8294400);
	EXPECT_EQ(s.get("freed_bytes")->u64(), 8294400u);
	EXPECT_EQ(s.get("failures")->u64(), 1u);
	EXPECT_EQ(s.get("fallbacks")->u64(), 1u);
	EXPECT_EQ(s.get("pool_hits")->u64(), 1u);
	EXPECT_EQ(s.get("pool_misses")->u64(), 0u);

	const Json *byErrno = s.get("failures_by_errno");
	ASSERT_TRUE(byErrno);
	ASSERT_EQ(byErrno->type, Json::Type::Object);
	ASSERT_EQ(byErrno->object.size(), 1u);
	EXPECT_EQ(byErrno->object[0].first, "ENOMEM");
	EXPECT_EQ(byErrno->object[0].second.u64(), 1u);

	const Json *latency = s.get("latency");
	ASSERT_TRUE(latency);
	EXPECT_EQ(latency->get("count")->u64(), 2u);
	EXPECT_EQ(latency->get("sum_ns")->u64(), 601000u);
	EXPECT_EQ(latency->get("mean_ns")->u64(), 300500u);
	EXPECT_EQ(latency->get("p50_ns")->u64(), 1023u);
	EXPECT_EQ(latency->get("p99_ns")->u64(), 600000u);
	EXPECT_EQ(latency->get("max_ns")->u64(), 600000u);
	const Json *buckets = latency->get("buckets");
	ASSERT_TRUE(buckets);
	ASSERT_EQ(buckets->array.size(), 2u);
	EXPECT_EQ(buckets->array[0].get("min_ns")->u64(), 512u);
	EXPECT_EQ(buckets->array[0].get("max_ns")->u64(), 1023u);
	EXPECT_EQ(buckets->array[0].get("count")->u64(), 1u);
	EXPECT_EQ(buckets->array[1].get("min_ns")->u64(), 524288u);

	EXPECT_EQ(json->get("total_fallbacks")->u64(), 1u);
	const Json *recent = json->get("recent_fallbacks");
	ASSERT_TRUE(recent);
	ASSERT_EQ(recent->array.size(), 1u);
	EXPECT_EQ(recent->array[0].get("sequence")->u64(), 1u);
	EXPECT_EQ(recent->array[0].get("from")->text, "dma-heap:system");
	EXPECT_EQ(recent->array[0].get("to")->text, "memfd");
	EXPECT_EQ(recent->array[0].get("reason")->text, "ENOMEM (Cannot allocate memory)");
}

TEST(Stats, JsonCountsImportsApart)
{
	Stats stats;
	auto client = stats.sourceStats("client:system");
	client->recordImport(4096);
	client->recordImport(8192);
	client->recordImportRelease(4096);
	stats.sourceStats("memfd")->recordAllocation(4096, 100);

	const std::string text = stats.snapshot().toJson();
	std::optional<Json> json = parseJson(text);
	ASSERT_TRUE(json) << text;
	const Json *sources = json->get("sources");
	ASSERT_TRUE(sources);
	ASSERT_EQ(sources->array.size(), 2u);

	const Json &c = sources->array[0];
	EXPECT_EQ(c.get("source")->text, "client:system");
	EXPECT_EQ(c.get("imports")->u64(), 2u);
	EXPECT_EQ(c.get("import_releases")->u64(), 1u);
	EXPECT_EQ(c.get("imported_bytes")->u64(), 12288u);
	EXPECT_EQ(c.get("import_released_bytes")->u64(), 4096u);
	EXPECT_EQ(c.get("allocations")->u64(), 0u);
	EXPECT_EQ(c.get("live_buffers")->u64(), 1u);
	EXPECT_EQ(c.get("live_bytes")->u64(), 8192u);
	EXPECT_EQ(c.get("latency")->get("count")->u64(), 0u);
	EXPECT_TRUE(c.get("latency")->get("buckets")->array.empty());

	const Json &m = sources->array[1];
	EXPECT_EQ(m.get("source")->text, "memfd");
	EXPECT_EQ(m.get("imports")->u64(), 0u);
	EXPECT_EQ(m.get("imported_bytes")->u64(), 0u);
	EXPECT_EQ(m.get("allocations")->u64(), 1u);
}

TEST(Stats, EmptyJsonParses)
{
	std::optional<Json> json = parseJson(Stats().snapshot().toJson());
	ASSERT_TRUE(json);
	EXPECT_TRUE(json->get("sources")->array.empty());
	EXPECT_TRUE(json->get("recent_fallbacks")->array.empty());
	EXPECT_EQ(json->get("total_fallbacks")->u64(), 0u);
}

/*
 * Allocating threads record through LiveAccounts while another thread
 * snapshots: every snapshot is self-consistent and the totals add up.
 */
TEST(Stats, ConcurrentRecordingAndSnapshots)
{
	constexpr int kThreads = 4;
	constexpr int kPerThread = 20000;
	constexpr size_t kMaxHeld = 8;

	Stats stats;
	std::atomic<bool> done{ false };
	std::atomic<uint64_t> badSnapshots{ 0 };
	std::atomic<uint64_t> snapshots{ 0 };

	std::thread reader([&] {
		while (!done.load()) {
			const StatsSnapshot snap = stats.snapshot();
			for (const auto &s : snap.sources) {
				/* Held buffers are 1-16 pages, at most kMaxHeld a thread. */
				bool ok = s.allocations >= s.frees &&
					  s.allocatedBytes >= s.freedBytes &&
					  s.imports >= s.importReleases &&
					  s.importedBytes >= s.importReleasedBytes &&
					  s.liveBuffers <= kThreads * kMaxHeld &&
					  s.liveBytes <= kThreads * kMaxHeld * 16 * 4096 &&
					  s.peakBuffers >= s.liveBuffers &&
					  s.peakBytes >= s.liveBytes &&
					  s.peakBuffers <= kThreads * kMaxHeld &&
					  s.peakBytes <= kThreads * kMaxHeld * 16 * 4096;
				if (!ok)
					badSnapshots++;
			}
			snapshots++;
		}
	});

	std::vector<std::thread> writers;
	for (int t = 0; t < kThreads; t++) {
		writers.emplace_back([&, t] {
			std::mt19937 rng(t);
			/* Two sources, so sources are also created concurrently. */
			auto record = stats.sourceStats(t % 2 ? "odd" : "even");
			std::vector<Buffer> held;
			for (int i = 0; i < kPerThread; i++) {
				uint64_t bytes = 4096 * (1 + rng() % 16);
				/* Every third buffer is a client's, imported. */
				const bool imported = i % 3 == 0;
				if (imported)
					record->recordImport(bytes);
				else
					record->recordAllocation(bytes, rng() % 100000);
				Buffer b;
				b.setAccount(LiveAccount(record, bytes,
							 imported ? LiveAccount::Origin::Imported
								  : LiveAccount::Origin::Allocated));
				held.push_back(std::move(b));
				if (held.size() == kMaxHeld || rng() % 2)
					held.erase(held.begin() + rng() % held.size());
				if (i % 1000 == 0)
					record->recordFailure(i % 2000 ? ENOMEM : EIO);
				if (i % 500 == 0)
					stats.recordFallback(record->source(), "memfd", "test");
			}
		});
	}
	for (auto &w : writers)
		w.join();
	done = true;
	reader.join();

	EXPECT_EQ(badSnapshots.load(), 0u);
	EXPECT_GT(snapshots.load(), 0u);

	const StatsSnapshot snap = stats.snapshot();
	ASSERT_EQ(snap.sources.size(), 2u);
	uint64_t allocations = 0;
	uint64_t imports = 0;
	for (const auto &s : snap.sources) {
		EXPECT_EQ(s.liveBuffers, 0u);
		EXPECT_EQ(s.liveBytes, 0u);
		EXPECT_EQ(s.allocations, s.frees);
		EXPECT_EQ(s.allocatedBytes, s.freedBytes);
		EXPECT_EQ(s.imports, s.importReleases);
		EXPECT_EQ(s.importedBytes, s.importReleasedBytes);
		EXPECT_EQ(s.latency.count, s.allocations);
		EXPECT_LE(s.peakBuffers, (kThreads / 2) * kMaxHeld);
		EXPECT_EQ(s.failures, (kThreads / 2) * (kPerThread / 1000));
		EXPECT_EQ(s.failuresByErrno.at(EIO), (kThreads / 2) * (kPerThread / 2000));
		EXPECT_EQ(s.fallbacks, (kThreads / 2) * (kPerThread / 500));
		allocations += s.allocations;
		imports += s.imports;
	}
	const uint64_t importsPerThread = (kPerThread + 2) / 3;
	EXPECT_EQ(imports, kThreads * importsPerThread);
	EXPECT_EQ(allocations, kThreads * (kPerThread - importsPerThread));
	EXPECT_EQ(snap.totalFallbacks, uint64_t(kThreads) * (kPerThread / 500));
	EXPECT_EQ(snap.recentFallbacks.size(), Stats::kRecentFallbacks);
}

/* printf's rounding of the exact quotient, which formatFixed() gives without floating point. */
std::string printfFixed(uint64_t numerator, uint64_t denominator, int decimals)
{
	char text[64];
	snprintf(text, sizeof(text), "%.*f", decimals, double(numerator) / double(denominator));
	return text;
}

TEST(Format, FixedRoundsAsPrintfDoes)
{
	/* Ties both ways, carries into the whole part, and no fraction at all. */
	EXPECT_EQ(formatFixed(1280, 1024, 1), "1.2");
	EXPECT_EQ(formatFixed(1331, 1024, 1), "1.3");
	EXPECT_EQ(formatFixed(1536, 1024, 0), "2");
	EXPECT_EQ(formatFixed(2560, 1024, 0), "2");
	EXPECT_EQ(formatFixed(1048575, 1024, 1), "1024.0");
	EXPECT_EQ(formatFixed(5, 1000, 2), "0.00");
	EXPECT_EQ(formatFixed(15, 1000, 2), "0.02");
	EXPECT_EQ(formatFixed(25, 1000, 2), "0.02");
	/* Powers of two below 2^53 divide exactly as doubles: printf is the reference. */
	std::mt19937_64 random(7);
	for (int i = 0; i < 20000; i++) {
		const uint64_t numerator = random() >> (11 + random() % 40);
		const uint64_t denominator = uint64_t(1) << (10 * (1 + random() % 4));
		const int decimals = int(random() % 4);
		ASSERT_EQ(formatFixed(numerator, denominator, decimals),
			  printfFixed(numerator, denominator, decimals))
			<< numerator << " / " << denominator << ", " << decimals << " decimals";
	}
	/* Far beyond a double's precision, where scaling first would overflow. */
	EXPECT_EQ(formatFixed(UINT64_MAX, 1, 2), std::to_string(UINT64_MAX) + ".00");
	EXPECT_EQ(formatFixed(UINT64_MAX, uint64_t(1) << 40, 2), "16777216.00");
}

TEST(Format, BytesInBinaryUnits)
{
	EXPECT_EQ(formatBytes(1023), "1023 B");
	EXPECT_EQ(formatBytes(1024), "1.0 KiB");
	EXPECT_EQ(formatBytes(8294400), "7.9 MiB");
	EXPECT_EQ(formatBytes(uint64_t(3) << 30), "3.00 GiB");
	EXPECT_EQ(formatBytes(uint64_t(5000) << 40), "5000.00 TiB");
}
