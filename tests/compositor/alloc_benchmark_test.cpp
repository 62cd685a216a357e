/* SPDX-License-Identifier: MIT */
/* The allocation benchmark behind heapctl bench and the overlay's panel. */
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "alloc_benchmark.h"
#include "fd_count.h"

namespace heapcomp::test {
namespace {

using Pattern = comp::AllocBenchConfig::Pattern;

TEST(AllocBenchmark, ConfigFromWords)
{
	auto config = comp::AllocBenchConfig::parse(
		"size=65536 count=8 rounds=3 threads=2 pattern=mixed sources=memfd,dma-heap:system");
	ASSERT_TRUE(config) << config.error().message();
	EXPECT_EQ(config->size, 65536u);
	EXPECT_EQ(config->count, 8u);
	EXPECT_EQ(config->rounds, 3u);
	EXPECT_EQ(config->threads, 2u);
	EXPECT_EQ(config->pattern, Pattern::Mixed);
	EXPECT_EQ(config->sources, (std::vector<std::string>{ "memfd", "dma-heap:system" }));

	auto defaults = comp::AllocBenchConfig::parse("");
	ASSERT_TRUE(defaults);
	EXPECT_EQ(defaults->size, 1u << 20);
	EXPECT_TRUE(defaults->sources.empty());

	/* What the overlay's controls set, as words and back. */
	auto pooled = comp::AllocBenchConfig::parse(config->toString() + " pooled=yes");
	ASSERT_TRUE(pooled) << config->toString();
	EXPECT_TRUE(pooled->pooled);
	EXPECT_EQ(pooled->toString(),
		  "size=65536 count=8 rounds=3 threads=2 pattern=mixed pooled=yes "
		  "sources=memfd,dma-heap:system");

	for (const char *bad : { "size=0", "size=-1", "size=1x", "count=1025", "threads=17",
				 "rounds=0", "pattern=", "nonsense", "size=268435456 count=8",
				 "pooled=maybe", "count=4294967297" }) {
		auto refused = comp::AllocBenchConfig::parse(bad);
		ASSERT_FALSE(refused) << bad;
		EXPECT_EQ(refused.error().code, EINVAL) << bad;
	}
}

/*
 * Two workers allocate while another thread reads the progress, as the
 * overlay does; the counts add up and memfd, the baseline, is last.
 */
TEST(AllocBenchmark, WorkersAndReadersAgree)
{
	auto manager = bufmgr::BufferManager::create();
	ASSERT_TRUE(manager) << manager.error().message();
	comp::AllocBenchmark bench(**manager);
	auto config = comp::AllocBenchConfig::parse("sources=memfd size=16384 count=8 rounds=20 "
						   "threads=2 pattern=random");
	ASSERT_TRUE(config);
	ASSERT_TRUE(bench.start(*config));
	EXPECT_EQ(bench.start(*config).error().code, EBUSY);
	uint64_t lastDone = 0;
	for (;;) {
		comp::AllocBenchProgress progress = bench.progress();
		EXPECT_GE(progress.done, lastDone);
		lastDone = progress.done;
		if (!progress.running)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	comp::AllocBenchProgress done = bench.progress();
	EXPECT_EQ(done.run, 1u);
	EXPECT_EQ(done.done, done.total);
	EXPECT_EQ(done.total, 8u * 20 * 2);
	ASSERT_EQ(done.results.size(), 1u);
	const comp::AllocBenchResult &memfd = done.results[0];
	EXPECT_EQ(memfd.source, "memfd");
	EXPECT_EQ(memfd.threads, 2u);
	EXPECT_EQ(memfd.allocations + memfd.failures, 8u * 20 * 2);
	EXPECT_EQ(memfd.failures, 0u);
	EXPECT_EQ(memfd.latency.count, memfd.allocations);
	/* Random sizes: page multiples up to the size, so less than all full ones. */
	EXPECT_LT(memfd.bytes, memfd.allocations * 16384);
	EXPECT_EQ(memfd.bytes % 4096, 0u);

	/* A second run starts once the first is over. */
	EXPECT_TRUE(bench.start(*config));
	EXPECT_EQ(bench.progress().run, 2u);
}

/*
 * Pooled: later rounds take the buffers earlier ones freed; fresh, every
 * allocation is new.
 */
TEST(AllocBenchmark, PooledRunsReuseTheBuffers)
{
	auto manager = bufmgr::BufferManager::create();
	ASSERT_TRUE(manager);
	const int fds = countOpenFds();
	comp::AllocBenchmark bench(**manager);
	for (bool pooled : { true, false }) {
		comp::AllocBenchConfig config;
		config.sources = { "memfd" };
		config.size = 8192;
		config.count = 4;
		config.rounds = 3;
		config.threads = 2;
		config.pooled = pooled;
		ASSERT_TRUE(bench.start(config));
		while (bench.progress().running)
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
		comp::AllocBenchProgress done = bench.progress();
		ASSERT_EQ(done.results.size(), 1u);
		EXPECT_EQ(done.results[0].allocations, 4u * 3 * 2);
		/*
		 * The threads share the free list: at most the 8 buffers held at
		 * once are ever allocated, at least one thread's first 4 are.
		 */
		if (pooled) {
			EXPECT_GE(done.results[0].reused, 4u * 3 * 2 - 8);
			EXPECT_LE(done.results[0].reused, 4u * 3 * 2 - 4);
		} else {
			EXPECT_EQ(done.results[0].reused, 0u);
		}
		EXPECT_EQ(bench.resultsJson().find("/pooled/") != std::string::npos, pooled);
	}
	/* The run's spares went with it: every buffer's fd is closed. */
	EXPECT_EQ(countOpenFds(), fds) << describeOpenFds();
}

/* A config out of range is refused by start() as by parse(). */
TEST(AllocBenchmark, StartChecksTheConfig)
{
	auto manager = bufmgr::BufferManager::create();
	ASSERT_TRUE(manager);
	comp::AllocBenchmark bench(**manager);
	comp::AllocBenchConfig config;
	config.sources = { "memfd" };
	config.count = 0;
	EXPECT_EQ(bench.start(config).error().code, EINVAL);
	config.count = 1024;
	config.size = 64 << 20;
	EXPECT_EQ(bench.start(config).error().code, EINVAL);
	EXPECT_EQ(bench.progress().run, 0u);
}

/* Going away mid-run stops the workers at their next allocation. */
TEST(AllocBenchmark, StopsWhenDestroyed)
{
	auto manager = bufmgr::BufferManager::create();
	ASSERT_TRUE(manager);
	auto config = comp::AllocBenchConfig::parse("sources=memfd size=4096 count=64 rounds=1000");
	ASSERT_TRUE(config);
	auto begin = std::chrono::steady_clock::now();
	{
		comp::AllocBenchmark bench(**manager);
		ASSERT_TRUE(bench.start(*config));
	}
	EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(5));
}

TEST(AllocBenchmark, UnknownSourceIsRefused)
{
	auto manager = bufmgr::BufferManager::create();
	ASSERT_TRUE(manager);
	comp::AllocBenchmark bench(**manager);
	comp::AllocBenchConfig config;
	config.sources = { "dma-heap:nonesuch" };
	auto ret = bench.start(config);
	ASSERT_FALSE(ret);
	EXPECT_EQ(ret.error().code, ENODEV);
	EXPECT_EQ(bench.progress().run, 0u);
}

} /* namespace */
} /* namespace heapcomp::test */
