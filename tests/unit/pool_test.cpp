/* SPDX-License-Identifier: MIT */
#include <bufmgr/pool.h>

#include <atomic>
#include <cerrno>
#include <random>
#include <thread>

#include <drm_fourcc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fd_count.h"

#include <bufmgr/stats.h>

using namespace bufmgr;

namespace {

constexpr uint64_t kPage = 4096;

using heapcomp::test::countOpenFds;

/* A real memfd of `size` bytes behind one plane. */
Buffer makeMemfdBuffer(Buffer::Description desc, uint32_t stride,
		       std::shared_ptr<SourceStats> stats = nullptr)
{
	UniqueFd fd(::memfd_create(desc.name.empty() ? "test" : desc.name.c_str(),
				   MFD_CLOEXEC));
	EXPECT_TRUE(fd.isValid());
	EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(desc.size)), 0);

	std::vector<BufferPlane> planes;
	planes.push_back(BufferPlane{ SharedFd(std::move(fd)), 0, stride });
	const uint64_t size = desc.size;
	Buffer buffer(std::move(desc), std::move(planes));
	if (stats) {
		stats->recordAllocation(size, 1000);
		buffer.setAccount(LiveAccount(stats, size));
	}
	return buffer;
}

Buffer makeImage(const std::string &source, uint32_t width, uint32_t height,
		 const std::string &name = {},
		 uint64_t modifier = DRM_FORMAT_MOD_LINEAR, uint32_t stride = 0,
		 std::shared_ptr<SourceStats> stats = nullptr)
{
	Buffer::Description desc;
	desc.width = width;
	desc.height = height;
	desc.format = DRM_FORMAT_XRGB8888;
	desc.modifier = modifier;
	if (!stride)
		stride = width * 4;
	desc.size = uint64_t(stride) * height;
	desc.source = source;
	desc.name = name;
	return makeMemfdBuffer(std::move(desc), stride, std::move(stats));
}

Buffer makeBlob(const std::string &source, uint64_t size,
		const std::string &name = {},
		std::shared_ptr<SourceStats> stats = nullptr)
{
	Buffer::Description desc;
	desc.size = size;
	desc.source = source;
	desc.name = name;
	return makeMemfdBuffer(std::move(desc), 0, std::move(stats));
}

AllocationRequest imageRequest(uint32_t width, uint32_t height,
			       std::vector<uint64_t> modifiers = {})
{
	AllocationRequest r = AllocationRequest::image(width, height, DRM_FORMAT_XRGB8888,
						       Usage::Render);
	r.modifiers = std::move(modifiers);
	return r;
}

/* Every test must leave the process with the fds it started with. */
class Pool : public ::testing::Test
{
protected:
	void SetUp() override { fds_ = countOpenFds(); }
	void TearDown() override { EXPECT_EQ(countOpenFds(), fds_); }

	int fds_ = 0;
};

} /* namespace */

TEST(PoolSizeClass, Classes)
{
	ASSERT_EQ(sysconf(_SC_PAGESIZE), static_cast<long>(kPage));

	EXPECT_EQ(BufferPool::blobSizeClass(0), 0u);
	EXPECT_EQ(BufferPool::blobSizeClass(1), kPage);
	EXPECT_EQ(BufferPool::blobSizeClass(kPage), kPage);
	EXPECT_EQ(BufferPool::blobSizeClass(kPage + 1), 2 * kPage);
	EXPECT_EQ(BufferPool::blobSizeClass(3 * kPage), 3 * kPage);
	EXPECT_EQ(BufferPool::blobSizeClass(5 * kPage), 5 * kPage);
	EXPECT_EQ(BufferPool::blobSizeClass(7 * kPage + 1), 8 * kPage);
	EXPECT_EQ(BufferPool::blobSizeClass(9 * kPage), 10 * kPage);
	EXPECT_EQ(BufferPool::blobSizeClass(17 * kPage), 20 * kPage);
	EXPECT_EQ(BufferPool::blobSizeClass(33 * kPage), 40 * kPage);
	/* 1080p XRGB8888: 2025 pages -> 2048 pages. */
	EXPECT_EQ(BufferPool::blobSizeClass(8294400), 2048 * kPage);
	EXPECT_EQ(BufferPool::blobSizeClass(UINT64_MAX), UINT64_MAX);
}

TEST(PoolSizeClass, WasteBelowQuarterAndIdempotent)
{
	uint64_t previous = 0;
	for (uint64_t size = 1; size < 4096 * kPage; size += 997) {
		uint64_t cls = BufferPool::blobSizeClass(size);
		uint64_t pages = (size + kPage - 1) / kPage * kPage;
		ASSERT_GE(cls, size);
		ASSERT_LT(cls - pages, pages / 4 + 1) << size;
		ASSERT_GE(cls, previous);
		ASSERT_EQ(BufferPool::blobSizeClass(cls), cls);
		previous = cls;
	}
}

TEST_F(Pool, TakeFromEmptyIsMiss)
{
	auto stats = std::make_shared<Stats>();
	BufferPool pool({}, stats);

	EXPECT_FALSE(pool.take("memfd", imageRequest(64, 64)));
	EXPECT_FALSE(pool.take("memfd", AllocationRequest::blob(4096)));

	EXPECT_EQ(pool.snapshot().misses, 2u);
	EXPECT_EQ(pool.snapshot().hits, 0u);
	EXPECT_EQ(stats->snapshot().find("memfd")->poolMisses, 2u);
}

TEST_F(Pool, GiveThenTakeSameShape)
{
	auto stats = std::make_shared<Stats>();
	BufferPool pool({}, stats);

	pool.give(makeImage("memfd", 64, 32, "a"));
	EXPECT_EQ(pool.snapshot().freeBuffers, 1u);
	EXPECT_EQ(pool.snapshot().freeBytes, 64u * 4 * 32);

	std::optional<Buffer> b = pool.take("memfd", imageRequest(64, 32));
	ASSERT_TRUE(b);
	EXPECT_TRUE(b->isValid());
	EXPECT_EQ(b->name(), "a");
	EXPECT_EQ(b->width(), 64u);
	EXPECT_EQ(b->height(), 32u);
	EXPECT_EQ(pool.snapshot().freeBuffers, 0u);
	EXPECT_EQ(pool.snapshot().freeBytes, 0u);
	EXPECT_EQ(pool.snapshot().hits, 1u);
	EXPECT_EQ(stats->snapshot().find("memfd")->poolHits, 1u);

	/* Now empty again. */
	EXPECT_FALSE(pool.take("memfd", imageRequest(64, 32)));
}

TEST_F(Pool, ShapeAndSourceMustMatch)
{
	BufferPool pool;
	pool.give(makeImage("memfd", 64, 32));

	EXPECT_FALSE(pool.take("memfd", imageRequest(32, 64)));
	EXPECT_FALSE(pool.take("memfd", imageRequest(64, 33)));
	EXPECT_FALSE(pool.take("dma-heap:system", imageRequest(64, 32)));
	AllocationRequest otherFormat = imageRequest(64, 32);
	otherFormat.format = DRM_FORMAT_ARGB8888;
	EXPECT_FALSE(pool.take("memfd", otherFormat));

	EXPECT_TRUE(pool.take("memfd", imageRequest(64, 32)));
}

TEST_F(Pool, BlobsAndImagesNeverMix)
{
	BufferPool pool;
	/* Same byte size either way: 64 x 16 x 4 = one page. */
	pool.give(makeImage("memfd", 64, 16));
	EXPECT_FALSE(pool.take("memfd", AllocationRequest::blob(kPage)));

	pool.give(makeBlob("memfd", kPage));
	std::optional<Buffer> image = pool.take("memfd", imageRequest(64, 16));
	ASSERT_TRUE(image);
	EXPECT_EQ(image->format(), uint32_t(DRM_FORMAT_XRGB8888));

	std::optional<Buffer> blob = pool.take("memfd", AllocationRequest::blob(kPage));
	ASSERT_TRUE(blob);
	EXPECT_EQ(blob->format(), 0u);
}

TEST_F(Pool, ModifiersMustBeRequested)
{
	const uint64_t tiled = I915_FORMAT_MOD_X_TILED;
	BufferPool pool;
	pool.give(makeImage("gbm", 64, 64, "tiled", tiled));

	/* Empty list: linear only. */
	EXPECT_FALSE(pool.take("gbm", imageRequest(64, 64)));
	EXPECT_FALSE(pool.take("gbm", imageRequest(64, 64, { DRM_FORMAT_MOD_LINEAR })));
	std::optional<Buffer> b = pool.take("gbm", imageRequest(64, 64, { DRM_FORMAT_MOD_LINEAR, tiled }));
	ASSERT_TRUE(b);
	EXPECT_EQ(b->modifier(), tiled);

	/* Several fit: the request's order is its preference. */
	pool.give(std::move(*b));
	pool.give(makeImage("gbm", 64, 64, "linear"));
	EXPECT_EQ(pool.take("gbm", imageRequest(64, 64, { tiled, DRM_FORMAT_MOD_LINEAR }))->name(), "tiled");
	EXPECT_EQ(pool.take("gbm", imageRequest(64, 64))->name(), "linear");

	/* An implicit-modifier buffer serves only requests that allow it. */
	pool.give(makeImage("gbm", 64, 64, "implicit", DRM_FORMAT_MOD_INVALID));
	EXPECT_FALSE(pool.take("gbm", imageRequest(64, 64)));
	EXPECT_TRUE(pool.take("gbm", imageRequest(64, 64, { DRM_FORMAT_MOD_INVALID })));
}

TEST_F(Pool, StrideAlignmentIsChecked)
{
	BufferPool pool;
	pool.give(makeImage("memfd", 100, 10, "tight"));		/* stride 400 */
	pool.give(makeImage("memfd", 100, 10, "aligned", DRM_FORMAT_MOD_LINEAR, 512));

	AllocationRequest r = imageRequest(100, 10);
	r.strideAlign = 256;
	std::optional<Buffer> b = pool.take("memfd", r);
	ASSERT_TRUE(b);
	EXPECT_EQ(b->name(), "aligned");
	EXPECT_FALSE(pool.take("memfd", r));

	/* No alignment asked: anything of the shape. */
	r.strideAlign = 0;
	EXPECT_EQ(pool.take("memfd", r)->name(), "tight");
}

TEST_F(Pool, BlobSizeClasses)
{
	BufferPool pool;
	/* 9 pages sits in the 10-page class. */
	pool.give(makeBlob("memfd", 9 * kPage, "nine"));

	EXPECT_FALSE(pool.take("memfd", AllocationRequest::blob(8 * kPage)));	/* class 8 */
	EXPECT_FALSE(pool.take("memfd", AllocationRequest::blob(10 * kPage)));	/* too small */
	std::optional<Buffer> b = pool.take("memfd", AllocationRequest::blob(8 * kPage + 1));
	ASSERT_TRUE(b);
	EXPECT_EQ(b->name(), "nine");
	EXPECT_GE(b->size(), 8 * kPage + 1);

	/* A full-class blob serves every size of its class. */
	pool.give(makeBlob("memfd", 10 * kPage, "ten"));
	EXPECT_EQ(pool.take("memfd", AllocationRequest::blob(10 * kPage))->name(), "ten");

	/* Size 0 is never served. */
	EXPECT_FALSE(pool.take("memfd", AllocationRequest::blob(0)));
	EXPECT_EQ(pool.snapshot().keys.size(), 0u);
}

TEST_F(Pool, PerKeyWatermarkDropsOldest)
{
	BufferPool pool(PoolLimits{ 4, 1ull << 30 });
	for (int i = 0; i < 6; i++)
		pool.give(makeImage("memfd", 16, 16, "b" + std::to_string(i)));

	PoolSnapshot snap = pool.snapshot();
	EXPECT_EQ(snap.freeBuffers, 4u);
	EXPECT_EQ(snap.dropped, 2u);

	/* Newest first; b0 and b1 were dropped. */
	for (int i = 5; i >= 2; i--)
		EXPECT_EQ(pool.take("memfd", imageRequest(16, 16))->name(), "b" + std::to_string(i));
	EXPECT_FALSE(pool.take("memfd", imageRequest(16, 16)));
}

TEST_F(Pool, ByteWatermarkDropsLeastRecentlyGiven)
{
	/* Room for three one-page blobs. */
	BufferPool pool(PoolLimits{ 4, 3 * kPage });
	pool.give(makeImage("memfd", 32, 32, "img0"));		/* one page */
	pool.give(makeBlob("memfd", kPage, "blob1"));
	pool.give(makeImage("memfd", 32, 32, "img2"));
	pool.give(makeBlob("dma-heap:system", kPage, "blob3"));

	PoolSnapshot snap = pool.snapshot();
	EXPECT_EQ(snap.freeBuffers, 3u);
	EXPECT_EQ(snap.freeBytes, 3 * kPage);
	EXPECT_EQ(snap.dropped, 1u);
	EXPECT_EQ(pool.take("memfd", imageRequest(32, 32))->name(), "img2");
	EXPECT_FALSE(pool.take("memfd", imageRequest(32, 32)));

	/* Larger than the whole budget: never kept. */
	pool.give(makeBlob("memfd", 4 * kPage));
	EXPECT_EQ(pool.snapshot().freeBuffers, 2u);
	EXPECT_EQ(pool.snapshot().dropped, 2u);
}

TEST_F(Pool, InvalidBuffersAreNotKept)
{
	BufferPool pool;
	pool.give(Buffer());
	Buffer::Description desc;
	desc.source = "memfd";
	pool.give(Buffer(desc, {}));
	EXPECT_EQ(pool.snapshot().freeBuffers, 0u);
}

TEST_F(Pool, ZeroLimitsKeepNothing)
{
	BufferPool pool(PoolLimits{ 0, 1ull << 30 });
	pool.give(makeBlob("memfd", kPage));
	EXPECT_EQ(pool.snapshot().freeBuffers, 0u);
}

TEST_F(Pool, SetLimitsEvictsAtOnce)
{
	BufferPool pool;
	for (int i = 0; i < 4; i++)
		pool.give(makeBlob("memfd", kPage, std::to_string(i)));
	EXPECT_EQ(pool.snapshot().freeBuffers, 4u);

	pool.setLimits(PoolLimits{ 2, 1ull << 30 });
	EXPECT_EQ(pool.limits().maxFreePerKey, 2u);
	EXPECT_EQ(pool.snapshot().freeBuffers, 2u);
	EXPECT_EQ(pool.take("memfd", AllocationRequest::blob(kPage))->name(), "3");

	pool.setLimits(PoolLimits{ 2, 0 });
	EXPECT_EQ(pool.snapshot().freeBuffers, 0u);
}

TEST_F(Pool, Trim)
{
	auto stats = std::make_shared<Stats>();
	auto memfd = stats->sourceStats("memfd");
	auto heap = stats->sourceStats("dma-heap:system");
	BufferPool pool(PoolLimits{ 8, 1ull << 30 }, stats);

	for (int i = 0; i < 4; i++)
		pool.give(makeBlob("memfd", kPage, "m" + std::to_string(i), memfd));
	for (int i = 0; i < 2; i++)
		pool.give(makeBlob("dma-heap:system", 2 * kPage, "h" + std::to_string(i), heap));
	EXPECT_EQ(pool.snapshot().freeBytes, 8 * kPage);
	/* Spares are allocated memory: still live. */
	EXPECT_EQ(memfd->snapshot().liveBuffers, 4u);

	/* Oldest first: m0, m1 go. */
	EXPECT_EQ(pool.trim(6 * kPage), 2 * kPage);
	EXPECT_EQ(pool.snapshot().freeBytes, 6 * kPage);
	EXPECT_EQ(memfd->snapshot().liveBuffers, 2u);
	EXPECT_EQ(memfd->snapshot().frees, 2u);

	/* Only the heap's spares. */
	EXPECT_EQ(pool.trimSource("dma-heap:system", 2 * kPage), 2 * kPage);
	EXPECT_EQ(pool.trimSource("dma-heap:system"), 2 * kPage);
	EXPECT_EQ(pool.trimSource("dma-heap:system"), 0u);
	EXPECT_EQ(heap->snapshot().liveBuffers, 0u);
	EXPECT_EQ(pool.snapshot().freeBuffers, 2u);

	EXPECT_EQ(pool.trimIdle(std::chrono::hours(1)), 0u);
	EXPECT_EQ(pool.trimIdle(std::chrono::seconds(0)), 2 * kPage);
	EXPECT_EQ(pool.trim(), 0u);

	PoolSnapshot snap = pool.snapshot();
	EXPECT_EQ(snap.freeBuffers, 0u);
	EXPECT_EQ(snap.freeBytes, 0u);
	EXPECT_EQ(snap.trimmed, 6u);
	EXPECT_EQ(memfd->snapshot().liveBuffers, 0u);
}

TEST_F(Pool, TrimIdleKeepsRecentOnes)
{
	BufferPool pool;
	pool.give(makeBlob("memfd", kPage, "old"));
	std::this_thread::sleep_for(std::chrono::milliseconds(30));
	pool.give(makeBlob("memfd", kPage, "new"));

	EXPECT_EQ(pool.trimIdle(std::chrono::milliseconds(15)), kPage);
	EXPECT_EQ(pool.take("memfd", AllocationRequest::blob(kPage))->name(), "new");
}

TEST_F(Pool, PooledBufferGoesBackOnDestruction)
{
	BufferPool pool;
	{
		PooledBuffer handle = pool.wrap(makeImage("memfd", 8, 8, "x"));
		EXPECT_TRUE(handle.isValid());
		EXPECT_FALSE(handle.reused());
		EXPECT_EQ(handle->name(), "x");
		EXPECT_EQ((*handle).width(), 8u);
		EXPECT_EQ(pool.snapshot().freeBuffers, 0u);
	}
	EXPECT_EQ(pool.snapshot().freeBuffers, 1u);

	PooledBuffer a = pool.wrap(*pool.take("memfd", imageRequest(8, 8)), true);
	EXPECT_TRUE(a.reused());
	PooledBuffer b = std::move(a);
	EXPECT_FALSE(a.isValid());
	EXPECT_TRUE(b.isValid());
	a.reset();	/* moved-from: nothing to give */
	EXPECT_EQ(pool.snapshot().freeBuffers, 0u);

	/* Assigning over a handle gives its buffer back first. */
	PooledBuffer c = pool.wrap(makeImage("memfd", 8, 8, "c"));
	c = std::move(b);
	EXPECT_EQ(pool.snapshot().freeBuffers, 1u);
	EXPECT_EQ(c->name(), "x");

	c.reset();
	EXPECT_FALSE(c.isValid());
	EXPECT_EQ(pool.snapshot().freeBuffers, 2u);
}

TEST_F(Pool, ReleasedBufferStaysWithCaller)
{
	BufferPool pool;
	PooledBuffer handle = pool.wrap(makeBlob("memfd", kPage));
	Buffer kept = handle.release();
	EXPECT_TRUE(kept.isValid());
	EXPECT_FALSE(handle.isValid());
	handle.reset();
	EXPECT_EQ(pool.snapshot().freeBuffers, 0u);
}

TEST_F(Pool, HandlesOutliveThePool)
{
	auto stats = std::make_shared<Stats>();
	auto memfd = stats->sourceStats("memfd");
	std::vector<PooledBuffer> handles;
	{
		BufferPool pool({}, stats);
		pool.give(makeBlob("memfd", kPage, "spare", memfd));
		for (int i = 0; i < 3; i++)
			handles.push_back(pool.wrap(makeBlob("memfd", kPage, {}, memfd)));
		BufferPool::Recycler recycle = pool.recycler();
		recycle(makeBlob("memfd", 2 * kPage, {}, memfd));
		EXPECT_EQ(pool.snapshot().freeBuffers, 2u);
		EXPECT_EQ(memfd->snapshot().liveBuffers, 5u);
	}
	/* The pool freed its spares when it went. */
	EXPECT_EQ(memfd->snapshot().liveBuffers, 3u);

	handles.clear();
	EXPECT_EQ(memfd->snapshot().liveBuffers, 0u);
	EXPECT_EQ(memfd->snapshot().frees, 5u);
}

TEST_F(Pool, RecyclerAfterPoolIsGoneFrees)
{
	BufferPool::Recycler recycle;
	{
		BufferPool pool;
		recycle = pool.recycler();
	}
	recycle(makeBlob("memfd", kPage));
}

TEST_F(Pool, AcquireAllocatesOnlyOnMiss)
{
	auto stats = std::make_shared<Stats>();
	BufferPool pool({}, stats);
	int calls = 0;
	uint64_t askedSize = 0;
	BufferPool::AllocateFunction allocate = [&](const AllocationRequest &r) -> Result<Buffer> {
		calls++;
		askedSize = r.size;
		if (r.isBlob())
			return makeBlob("memfd", r.size);
		return makeImage("memfd", r.width, r.height);
	};

	{
		Result<PooledBuffer> a = pool.acquire("memfd", AllocationRequest::blob(9 * kPage), allocate);
		ASSERT_TRUE(a);
		EXPECT_FALSE(a->reused());
		EXPECT_EQ(calls, 1);
		/* Allocated at the full class, so all of the class can reuse it. */
		EXPECT_EQ(askedSize, 10 * kPage);
		EXPECT_EQ((*a)->size(), 10 * kPage);
	}
	{
		Result<PooledBuffer> b = pool.acquire("memfd", AllocationRequest::blob(10 * kPage), allocate);
		ASSERT_TRUE(b);
		EXPECT_TRUE(b->reused());
		EXPECT_EQ(calls, 1);
	}

	const StatsSnapshot snap = stats->snapshot();
	const SourceSnapshot *s = snap.find("memfd");
	ASSERT_TRUE(s);
	EXPECT_EQ(s->poolMisses, 1u);
	EXPECT_EQ(s->poolHits, 1u);
}

TEST_F(Pool, AcquirePassesAllocationErrors)
{
	BufferPool pool;
	Result<PooledBuffer> r = pool.acquire("dma-heap:linux,cma", imageRequest(64, 64),
					      [](const AllocationRequest &) -> Result<Buffer> {
						      return unexpected(ENOMEM, "alloc from cma");
					      });
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().code, ENOMEM);
	EXPECT_EQ(r.error().context, "alloc from cma");

	Result<PooledBuffer> none = pool.acquire("memfd", imageRequest(64, 64), {});
	ASSERT_FALSE(none);
	EXPECT_EQ(none.error().code, EINVAL);
}

TEST_F(Pool, SteadyStateMakesNoAllocations)
{
	auto stats = std::make_shared<Stats>();
	auto memfd = stats->sourceStats("memfd");
	BufferPool pool({}, stats);
	int calls = 0;
	auto allocate = [&](const AllocationRequest &r) -> Result<Buffer> {
		calls++;
		return makeImage("memfd", r.width, r.height, {}, DRM_FORMAT_MOD_LINEAR, 0, memfd);
	};

	/* Two buffers in flight per frame, like a double-buffered client. */
	std::optional<PooledBuffer> previous;
	for (int frame = 0; frame < 1000; frame++) {
		Result<PooledBuffer> b = pool.acquire("memfd", imageRequest(320, 240), allocate);
		ASSERT_TRUE(b);
		previous = std::move(*b);
	}
	previous.reset();

	EXPECT_EQ(calls, 2);
	EXPECT_EQ(memfd->snapshot().allocations, 2u);
	EXPECT_EQ(pool.snapshot().hits, 998u);
	EXPECT_EQ(pool.snapshot().misses, 2u);
}

TEST_F(Pool, SnapshotAndJson)
{
	BufferPool pool;
	pool.give(makeImage("memfd", 64, 64));
	pool.give(makeImage("memfd", 64, 64));
	pool.give(makeImage("gbm", 64, 64, {}, I915_FORMAT_MOD_Y_TILED));
	pool.give(makeBlob("dma-heap:system", 3 * kPage));

	PoolSnapshot snap = pool.snapshot();
	ASSERT_EQ(snap.keys.size(), 3u);
	EXPECT_EQ(snap.freeBuffers, 4u);
	EXPECT_EQ(snap.freeBytes, 3 * 64 * 64 * 4 + 3 * kPage);
	EXPECT_EQ(snap.keys[0].source, "dma-heap:system");
	EXPECT_TRUE(snap.keys[0].isBlob());
	EXPECT_EQ(snap.keys[0].sizeClass, 3 * kPage);
	EXPECT_EQ(snap.keys[1].source, "gbm");
	EXPECT_EQ(snap.keys[1].modifier, uint64_t(I915_FORMAT_MOD_Y_TILED));
	EXPECT_EQ(snap.keys[2].source, "memfd");
	EXPECT_EQ(snap.keys[2].freeBuffers, 2u);
	EXPECT_EQ(snap.keys[2].freeBytes, 2u * 64 * 64 * 4);
	EXPECT_EQ(snap.limits.maxFreePerKey, PoolLimits().maxFreePerKey);

	const std::string json = snap.toJson();
	EXPECT_EQ(json.front(), '{');
	EXPECT_EQ(json.back(), '}');
	EXPECT_NE(json.find("\"free_buffers\":4,"), std::string::npos) << json;
	EXPECT_NE(json.find("\"limits\":{\"max_free_per_key\":4,\"max_free_bytes\":134217728}"),
		  std::string::npos) << json;
	EXPECT_NE(json.find("{\"source\":\"dma-heap:system\",\"kind\":\"blob\",\"size_class\":12288,"
			    "\"free_buffers\":1,\"free_bytes\":12288}"), std::string::npos) << json;
	EXPECT_NE(json.find("\"format\":\"XR24\",\"modifier\":\"0x0100000000000002\""),
		  std::string::npos) << json;
	int depth = 0;
	for (char c : json) {
		depth += (c == '{' || c == '[') - (c == '}' || c == ']');
		ASSERT_GE(depth, 0);
	}
	EXPECT_EQ(depth, 0);
	EXPECT_EQ(json.find(",}"), std::string::npos);
	EXPECT_EQ(json.find(",]"), std::string::npos);

	EXPECT_EQ(PoolSnapshot().toJson(),
		  "{\"free_buffers\":0,\"free_bytes\":0,\"hits\":0,\"misses\":0,\"dropped\":0,"
		  "\"trimmed\":0,\"limits\":{\"max_free_per_key\":4,\"max_free_bytes\":134217728},"
		  "\"keys\":[]}");
}

/* Threads take and give the same shapes; afterwards nothing is lost. */
TEST_F(Pool, ConcurrentUse)
{
	constexpr int kThreads = 4;
	constexpr int kIterations = 2000;
	auto stats = std::make_shared<Stats>();
	auto memfd = stats->sourceStats("memfd");
	std::atomic<int> calls{ 0 };

	{
		BufferPool pool(PoolLimits{ 6, 1ull << 30 }, stats);
		auto allocate = [&](const AllocationRequest &r) -> Result<Buffer> {
			calls++;
			if (r.isBlob())
				return makeBlob("memfd", r.size, {}, memfd);
			return makeImage("memfd", r.width, r.height, {}, DRM_FORMAT_MOD_LINEAR, 0, memfd);
		};

		std::vector<std::thread> threads;
		for (int t = 0; t < kThreads; t++) {
			threads.emplace_back([&, t] {
				std::mt19937 rng(t);
				std::vector<PooledBuffer> held;
				for (int i = 0; i < kIterations; i++) {
					AllocationRequest r = rng() % 2
						? imageRequest(16 << (rng() % 2), 16)
						: AllocationRequest::blob(kPage * (1 + rng() % 3));
					Result<PooledBuffer> b = pool.acquire("memfd", r, allocate);
					ASSERT_TRUE(b);
					held.push_back(std::move(*b));
					if (held.size() > 3)
						held.erase(held.begin() + rng() % held.size());
					if (i % 500 == 0)
						pool.trim(4 * kPage);
					if (i % 100 == 0)
						(void)pool.snapshot();
				}
			});
		}
		for (auto &t : threads)
			t.join();

		PoolSnapshot snap = pool.snapshot();
		EXPECT_EQ(snap.hits + snap.misses, uint64_t(kThreads) * kIterations);
		EXPECT_EQ(snap.misses, uint64_t(calls.load()));
		for (const auto &k : snap.keys)
			EXPECT_LE(k.freeBuffers, 6u);
		/* Every buffer not yet freed is a spare in the pool. */
		EXPECT_EQ(memfd->snapshot().liveBuffers, snap.freeBuffers);
		EXPECT_EQ(memfd->snapshot().liveBytes, snap.freeBytes);
		/* Reuse dominates: 4 shapes, at most 16 buffers held at once. */
		EXPECT_LT(calls.load(), kThreads * kIterations / 10);
	}
	EXPECT_EQ(memfd->snapshot().liveBuffers, 0u);
	EXPECT_EQ(memfd->snapshot().allocations, memfd->snapshot().frees);
}
