/* SPDX-License-Identifier: MIT */
#include <bufmgr/swapchain.h>

#include <cerrno>

#include <drm_fourcc.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fd_count.h"

#include <bufmgr/pool.h>

using namespace bufmgr;

namespace {

using heapcomp::test::countOpenFds;

/* What a real allocator would give: a memfd sized for the request. */
Buffer makeMemfdImage(const AllocationRequest &r)
{
	const uint32_t stride = r.width * 4;
	Buffer::Description desc;
	desc.width = r.width;
	desc.height = r.height;
	desc.format = r.format;
	desc.modifier = r.modifiers.empty() ? DRM_FORMAT_MOD_LINEAR : r.modifiers.front();
	desc.size = uint64_t(stride) * r.height;
	desc.allocator = AllocatorKind::Memfd;
	desc.source = "memfd";
	desc.name = r.name;

	UniqueFd fd(::memfd_create("swapchain-test", MFD_CLOEXEC));
	EXPECT_TRUE(fd.isValid());
	EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(desc.size)), 0);
	std::vector<BufferPlane> planes;
	planes.push_back(BufferPlane{ SharedFd(std::move(fd)), 0, stride });
	return Buffer(std::move(desc), std::move(planes));
}

SwapchainConfig config(uint32_t numSlots = 4)
{
	SwapchainConfig c;
	c.width = 64;
	c.height = 32;
	c.format = DRM_FORMAT_XRGB8888;
	c.usage = Usage::Scanout;
	c.numSlots = numSlots;
	c.name = "output-1";
	return c;
}

SwapchainSlot *acquireSlot(Swapchain &swapchain)
{
	Result<std::optional<SwapchainSlot *>> r = swapchain.acquire();
	EXPECT_TRUE(r);
	if (!r || !r->has_value())
		return nullptr;
	return **r;
}

class SwapchainTest : public ::testing::Test
{
protected:
	void SetUp() override { fds_ = countOpenFds(); }
	void TearDown() override { EXPECT_EQ(countOpenFds(), fds_); }

	/* Counts the calls, so tests can prove steady state allocates nothing. */
	Swapchain::AllocateFunction counting()
	{
		return [this](const AllocationRequest &r) -> Result<Buffer> {
			allocations_++;
			lastRequest_ = r;
			return makeMemfdImage(r);
		};
	}

	std::unique_ptr<Swapchain> make(SwapchainConfig c = config(),
					 Swapchain::RecycleFunction recycle = {})
	{
		auto r = Swapchain::create(std::move(c), counting(), std::move(recycle));
		EXPECT_TRUE(r);
		if (!r)
			return nullptr;
		return std::move(*r);
	}

	int fds_ = 0;
	int allocations_ = 0;
	AllocationRequest lastRequest_;
};

} /* namespace */

TEST_F(SwapchainTest, CreateValidates)
{
	auto allocate = [](const AllocationRequest &r) -> Result<Buffer> {
		return makeMemfdImage(r);
	};
	auto expectEinval = [&](SwapchainConfig c, Swapchain::AllocateFunction f) {
		auto r = Swapchain::create(std::move(c), std::move(f));
		ASSERT_FALSE(r);
		EXPECT_EQ(r.error().code, EINVAL);
		EXPECT_NE(r.error().context.find("output-1"), std::string::npos);
	};

	SwapchainConfig c = config();
	c.width = 0;
	expectEinval(c, allocate);
	c = config();
	c.height = 0;
	expectEinval(c, allocate);
	c = config();
	c.format = 0;
	expectEinval(c, allocate);
	expectEinval(config(0), allocate);
	expectEinval(config(Swapchain::kMaxSlots + 1), allocate);
	expectEinval(config(), nullptr);

	EXPECT_TRUE(Swapchain::create(config(Swapchain::kMaxSlots), allocate));
	EXPECT_TRUE(Swapchain::create(config(1), allocate));
}

TEST_F(SwapchainTest, AllocatesLazily)
{
	SwapchainConfig c = config();
	c.modifiers = { DRM_FORMAT_MOD_LINEAR };
	auto swapchain = make(c);
	EXPECT_EQ(allocations_, 0);
	EXPECT_EQ(swapchain->numSlots(), 4u);
	EXPECT_EQ(swapchain->numAllocated(), 0u);

	SwapchainSlot *slot = acquireSlot(*swapchain);
	ASSERT_TRUE(slot);
	EXPECT_EQ(allocations_, 1);
	EXPECT_EQ(swapchain->numAllocated(), 1u);
	EXPECT_EQ(swapchain->numInUse(), 1u);

	EXPECT_EQ(lastRequest_.width, 64u);
	EXPECT_EQ(lastRequest_.height, 32u);
	EXPECT_EQ(lastRequest_.format, uint32_t(DRM_FORMAT_XRGB8888));
	EXPECT_EQ(lastRequest_.modifiers, c.modifiers);
	EXPECT_EQ(lastRequest_.usage, Usage::Scanout);
	EXPECT_EQ(lastRequest_.name, "output-1#" + std::to_string(slot->index()));

	EXPECT_TRUE(slot->buffer().isValid());
	EXPECT_EQ(slot->buffer().width(), 64u);
	EXPECT_EQ(slot->age(), 0);
}

/* Reserved up front: every slot now, none later, even if memory then runs out. */
TEST_F(SwapchainTest, ReserveAllocatesEverySlotNow)
{
	bool fail = false;
	auto r = Swapchain::create(config(3), [&](const AllocationRequest &req) -> Result<Buffer> {
		allocations_++;
		if (fail)
			return unexpected(ENOMEM, "alloc from dma-heap 'default_cma_region'");
		return makeMemfdImage(req);
	});
	ASSERT_TRUE(r);
	auto swapchain = std::move(*r);
	ASSERT_TRUE(swapchain->reserve());
	EXPECT_EQ(allocations_, 3);
	EXPECT_EQ(swapchain->numAllocated(), 3u);

	/* Memory gone: the output cycles through what it reserved. */
	fail = true;
	for (int frame = 0; frame < 9; frame++) {
		SwapchainSlot *slot = acquireSlot(*swapchain);
		ASSERT_TRUE(slot);
		EXPECT_TRUE(swapchain->submit(slot));
		EXPECT_TRUE(swapchain->release(slot));
	}
	EXPECT_EQ(allocations_, 3);
	EXPECT_TRUE(swapchain->reserve()) << "nothing left to reserve";
	EXPECT_EQ(allocations_, 3);
}

/* A fallback mid-reserve: the slots say which memory each buffer is in. */
TEST_F(SwapchainTest, SourcesCountTheBuffersInEachMemory)
{
	int calls = 0;
	auto r = Swapchain::create(config(3), [&](const AllocationRequest &req) -> Result<Buffer> {
		Buffer buffer = makeMemfdImage(req);
		if (calls++ == 0)
			return buffer;
		Buffer::Description desc = buffer.description();
		desc.source = "gbm:/dev/dri/card1";
		std::vector<BufferPlane> planes(buffer.planes().begin(), buffer.planes().end());
		return Buffer(std::move(desc), std::move(planes));
	});
	ASSERT_TRUE(r);
	auto swapchain = std::move(*r);
	EXPECT_TRUE(swapchain->sources().empty()) << "nothing allocated yet";
	ASSERT_TRUE(swapchain->reserve());
	const std::vector<Swapchain::SourceCount> expected{ { "memfd", 1 },
							    { "gbm:/dev/dri/card1", 2 } };
	EXPECT_EQ(swapchain->sources(), expected);
}

TEST_F(SwapchainTest, ReserveFailureNamesTheSlotAndKeepsTheRest)
{
	auto r = Swapchain::create(config(3), [&](const AllocationRequest &req) -> Result<Buffer> {
		if (++allocations_ == 2)
			return unexpected(ENOMEM, "alloc from dma-heap 'default_cma_region'");
		return makeMemfdImage(req);
	});
	ASSERT_TRUE(r);
	auto swapchain = std::move(*r);
	auto reserved = swapchain->reserve();
	ASSERT_FALSE(reserved);
	EXPECT_EQ(reserved.error().code, ENOMEM);
	EXPECT_EQ(reserved.error().context,
		  "swapchain 'output-1' slot 1: alloc from dma-heap 'default_cma_region'");
	EXPECT_EQ(swapchain->numAllocated(), 1u);
	/* A later reserve fills in what is missing. */
	EXPECT_TRUE(swapchain->reserve());
	EXPECT_EQ(swapchain->numAllocated(), 3u);
}

TEST_F(SwapchainTest, NoFreeSlotIsNotAnError)
{
	auto swapchain = make(config(2));
	SwapchainSlot *a = acquireSlot(*swapchain);
	SwapchainSlot *b = acquireSlot(*swapchain);
	ASSERT_TRUE(a && b);
	EXPECT_NE(a, b);

	Result<std::optional<SwapchainSlot *>> r = swapchain->acquire();
	ASSERT_TRUE(r);
	EXPECT_FALSE(r->has_value());
	EXPECT_EQ(allocations_, 2);

	/* Submitted slots are still in use until released. */
	EXPECT_TRUE(swapchain->submit(a));
	EXPECT_FALSE(swapchain->acquire()->has_value());
	EXPECT_TRUE(swapchain->release(a));
	EXPECT_EQ(acquireSlot(*swapchain), a);
}

TEST_F(SwapchainTest, AllocationFailureSurfacesAtAcquire)
{
	bool fail = true;
	int calls = 0;
	auto r = Swapchain::create(config(), [&](const AllocationRequest &req) -> Result<Buffer> {
		calls++;
		if (fail)
			return unexpected(ENOMEM, "alloc 8192 B from dma-heap 'linux,cma'");
		return makeMemfdImage(req);
	});
	ASSERT_TRUE(r);
	EXPECT_EQ(calls, 0);
	auto swapchain = std::move(*r);

	Result<std::optional<SwapchainSlot *>> failed = swapchain->acquire();
	ASSERT_FALSE(failed);
	EXPECT_EQ(failed.error().code, ENOMEM);
	EXPECT_EQ(failed.error().context,
		  "swapchain 'output-1' slot 0: alloc 8192 B from dma-heap 'linux,cma'");
	EXPECT_EQ(swapchain->numAllocated(), 0u);
	EXPECT_EQ(swapchain->numInUse(), 0u);

	fail = false;
	EXPECT_TRUE(acquireSlot(*swapchain));
	EXPECT_EQ(calls, 2);
}

/*
 * Double buffering: each frame acquires, submits, and releases the
 * previous frame's slot at its page flip. Ages run 0, 0, then 2 forever.
 */
TEST_F(SwapchainTest, AgesDoubleBuffered)
{
	auto swapchain = make();
	SwapchainSlot *onScreen = nullptr;
	std::vector<int> ages;

	for (int frame = 0; frame < 6; frame++) {
		SwapchainSlot *slot = acquireSlot(*swapchain);
		ASSERT_TRUE(slot);
		ages.push_back(slot->age());
		EXPECT_TRUE(swapchain->submit(slot));
		EXPECT_EQ(slot->age(), 1);
		if (onScreen) {
			EXPECT_EQ(onScreen->age(), 2);
			EXPECT_TRUE(swapchain->release(onScreen));
		}
		onScreen = slot;
	}

	EXPECT_EQ(ages, (std::vector<int>{ 0, 0, 2, 2, 2, 2 }));
	EXPECT_EQ(allocations_, 2);
}

/* Two frames queued ahead of the display: ages settle at 3. */
TEST_F(SwapchainTest, AgesTripleBuffered)
{
	auto swapchain = make();
	std::vector<SwapchainSlot *> queued;
	std::vector<int> ages;

	for (int frame = 0; frame < 8; frame++) {
		SwapchainSlot *slot = acquireSlot(*swapchain);
		ASSERT_TRUE(slot);
		ages.push_back(slot->age());
		ASSERT_TRUE(swapchain->submit(slot));
		queued.push_back(slot);
		if (queued.size() > 2) {
			ASSERT_TRUE(swapchain->release(queued.front()));
			queued.erase(queued.begin());
		}
	}

	EXPECT_EQ(ages, (std::vector<int>{ 0, 0, 0, 3, 3, 3, 3, 3 }));
	EXPECT_EQ(allocations_, 3);
}

TEST_F(SwapchainTest, AcquirePrefersYoungestContent)
{
	auto swapchain = make();
	SwapchainSlot *a = acquireSlot(*swapchain);
	SwapchainSlot *b = acquireSlot(*swapchain);
	SwapchainSlot *c = acquireSlot(*swapchain);
	ASSERT_TRUE(a && b && c);

	/* a: never presented (age 0); b: age 2; c: age 1. */
	EXPECT_TRUE(swapchain->rollback(a));
	EXPECT_TRUE(swapchain->submit(b));
	EXPECT_TRUE(swapchain->submit(c));
	EXPECT_TRUE(swapchain->release(b));
	EXPECT_TRUE(swapchain->release(c));
	EXPECT_EQ(a->age(), 0);
	EXPECT_EQ(b->age(), 2);
	EXPECT_EQ(c->age(), 1);

	EXPECT_EQ(acquireSlot(*swapchain), c);
	EXPECT_EQ(acquireSlot(*swapchain), b);
	EXPECT_EQ(acquireSlot(*swapchain), a);
	/* Only now a new buffer. */
	EXPECT_EQ(allocations_, 3);
	SwapchainSlot *d = acquireSlot(*swapchain);
	ASSERT_TRUE(d);
	EXPECT_EQ(allocations_, 4);
	EXPECT_EQ(d->age(), 0);
}

TEST_F(SwapchainTest, RollbackDoesNotAge)
{
	auto swapchain = make();
	SwapchainSlot *a = acquireSlot(*swapchain);
	ASSERT_TRUE(swapchain->submit(a));
	SwapchainSlot *b = acquireSlot(*swapchain);
	ASSERT_TRUE(swapchain->submit(b));
	ASSERT_TRUE(swapchain->release(a));
	EXPECT_EQ(a->age(), 2);
	EXPECT_EQ(b->age(), 1);

	/* The commit failed: nothing was presented, nothing ages. */
	SwapchainSlot *retry = acquireSlot(*swapchain);
	EXPECT_EQ(retry, a);
	EXPECT_TRUE(swapchain->rollback(retry));
	EXPECT_EQ(a->age(), 2);
	EXPECT_EQ(b->age(), 1);

	/* The same slot comes back, with the same age. */
	EXPECT_EQ(acquireSlot(*swapchain), a);
	EXPECT_EQ(a->age(), 2);
	EXPECT_EQ(allocations_, 2);
}

TEST_F(SwapchainTest, InvalidTransitionsAreRefused)
{
	auto swapchain = make(config(2));
	auto other = make(config(2));
	SwapchainSlot *a = acquireSlot(*swapchain);
	SwapchainSlot *foreign = acquireSlot(*other);
	ASSERT_TRUE(a && foreign);

	EXPECT_FALSE(swapchain->release(a));		/* not submitted */
	EXPECT_FALSE(swapchain->submit(nullptr));
	EXPECT_FALSE(swapchain->submit(foreign));
	EXPECT_FALSE(swapchain->rollback(foreign));
	EXPECT_FALSE(swapchain->release(foreign));

	EXPECT_TRUE(swapchain->submit(a));
	EXPECT_FALSE(swapchain->submit(a));		/* twice */
	EXPECT_FALSE(swapchain->rollback(a));		/* already presented */
	EXPECT_TRUE(swapchain->release(a));
	EXPECT_FALSE(swapchain->release(a));		/* twice */
	EXPECT_FALSE(swapchain->rollback(a));		/* free */
	EXPECT_FALSE(swapchain->submit(a));		/* free */
	EXPECT_EQ(a->age(), 1);
	EXPECT_EQ(swapchain->numInUse(), 0u);
}

TEST_F(SwapchainTest, SteadyStateMakesNoAllocations)
{
	auto swapchain = make();
	SwapchainSlot *onScreen = nullptr;
	for (int frame = 0; frame < 1000; frame++) {
		SwapchainSlot *slot = acquireSlot(*swapchain);
		ASSERT_TRUE(slot);
		/* Every tenth commit fails and is retried. */
		if (frame % 10 == 0) {
			ASSERT_TRUE(swapchain->rollback(slot));
			slot = acquireSlot(*swapchain);
			ASSERT_TRUE(slot);
		}
		ASSERT_TRUE(swapchain->submit(slot));
		if (onScreen) {
			ASSERT_TRUE(swapchain->release(onScreen));
		}
		onScreen = slot;
	}
	EXPECT_EQ(allocations_, 2);
	EXPECT_LE(allocations_, 4);
}

namespace {

/* Cached import whose destruction the tests watch. */
struct FakeImport {
	FakeImport(int fd, int *destroyed, bool *bufferOpenAtDestruction)
		: fd_(fd), destroyed_(destroyed), open_(bufferOpenAtDestruction) {}
	~FakeImport()
	{
		(*destroyed_)++;
		if (open_)
			*open_ = ::fcntl(fd_, F_GETFD) != -1;
	}
	int fd_;
	int *destroyed_;
	bool *open_;
};

} /* namespace */

TEST_F(SwapchainTest, UserDataIsCachedPerSlotAndKey)
{
	/* Before the swapchain: its slots' data report here when destroyed. */
	int destroyed = 0;
	auto swapchain = make(config(2));
	static char kBackendKey;
	static char kRendererKey;

	SwapchainSlot *slot = acquireSlot(*swapchain);
	ASSERT_TRUE(slot);
	EXPECT_EQ(slot->userData(&kBackendKey), nullptr);
	slot->setUserData(&kBackendKey, std::make_shared<uint32_t>(42));	/* an FB id */
	slot->setUserData(&kRendererKey,
			  std::make_shared<FakeImport>(slot->buffer().plane(0).fd.get(),
						       &destroyed, nullptr));
	ASSERT_TRUE(swapchain->submit(slot));
	ASSERT_TRUE(swapchain->release(slot));

	/* The next frames find it again. */
	for (int i = 0; i < 5; i++) {
		SwapchainSlot *again = acquireSlot(*swapchain);
		ASSERT_EQ(again, slot);
		ASSERT_NE(again->userDataAs<uint32_t>(&kBackendKey), nullptr);
		EXPECT_EQ(*again->userDataAs<uint32_t>(&kBackendKey), 42u);
		EXPECT_NE(again->userDataAs<FakeImport>(&kRendererKey), nullptr);
		ASSERT_TRUE(swapchain->submit(again));
		ASSERT_TRUE(swapchain->release(again));
	}
	EXPECT_EQ(destroyed, 0);

	/* Replacing destroys the old value; null removes. */
	slot->setUserData(&kRendererKey,
			  std::make_shared<FakeImport>(-1, &destroyed, nullptr));
	EXPECT_EQ(destroyed, 1);
	slot->setUserData(&kRendererKey, nullptr);
	EXPECT_EQ(destroyed, 2);
	EXPECT_EQ(slot->userData(&kRendererKey), nullptr);
	EXPECT_NE(slot->userData(&kBackendKey), nullptr);
}

TEST_F(SwapchainTest, UserDataGoesBeforeItsBuffer)
{
	int destroyed = 0;
	bool bufferOpen = false;
	{
		auto swapchain = make(config(1));
		SwapchainSlot *slot = acquireSlot(*swapchain);
		ASSERT_TRUE(slot);
		slot->setUserData(this, std::make_shared<FakeImport>(
			slot->buffer().plane(0).fd.get(), &destroyed, &bufferOpen));
		ASSERT_TRUE(swapchain->rollback(slot));
	}
	EXPECT_EQ(destroyed, 1);
	EXPECT_TRUE(bufferOpen);
}

TEST_F(SwapchainTest, ResizeDropsFreeSlotsNowAndBusyOnesOnRelease)
{
	const int startFds = countOpenFds();
	int destroyed = 0;
	auto swapchain = make();

	SwapchainSlot *a = acquireSlot(*swapchain);
	ASSERT_TRUE(swapchain->submit(a));
	SwapchainSlot *b = acquireSlot(*swapchain);
	ASSERT_TRUE(swapchain->submit(b));
	ASSERT_TRUE(swapchain->release(a));
	a->setUserData(this, std::make_shared<FakeImport>(-1, &destroyed, nullptr));
	b->setUserData(this, std::make_shared<FakeImport>(-1, &destroyed, nullptr));
	EXPECT_EQ(countOpenFds(), startFds + 2);

	/* b is on screen: it must survive the resize until released. */
	ASSERT_TRUE(swapchain->resize(128, 64));
	EXPECT_EQ(destroyed, 1);
	EXPECT_EQ(countOpenFds(), startFds + 1);
	EXPECT_EQ(swapchain->numAllocated(), 0u);
	EXPECT_EQ(swapchain->numInUse(), 0u);
	EXPECT_TRUE(b->buffer().isValid());
	EXPECT_EQ(b->buffer().width(), 64u);

	SwapchainSlot *c = acquireSlot(*swapchain);
	ASSERT_TRUE(c);
	EXPECT_EQ(c->buffer().width(), 128u);
	EXPECT_EQ(c->buffer().height(), 64u);
	EXPECT_EQ(c->age(), 0);
	/* The old slot does not age with the new ones. */
	ASSERT_TRUE(swapchain->submit(c));
	EXPECT_EQ(b->age(), 1);

	EXPECT_TRUE(swapchain->release(b));
	EXPECT_EQ(destroyed, 2);
	EXPECT_EQ(countOpenFds(), startFds + 1);
	EXPECT_EQ(allocations_, 3);
	EXPECT_EQ(swapchain->config().width, 128u);
}

TEST_F(SwapchainTest, AcquiredOrphanCanStillBeSubmittedOrRolledBack)
{
	auto swapchain = make(config(2));
	SwapchainSlot *a = acquireSlot(*swapchain);
	SwapchainSlot *b = acquireSlot(*swapchain);
	ASSERT_TRUE(swapchain->resize(32, 32));

	EXPECT_TRUE(swapchain->rollback(a));
	EXPECT_TRUE(swapchain->submit(b));
	EXPECT_FALSE(swapchain->rollback(b));
	EXPECT_TRUE(swapchain->release(b));
	EXPECT_EQ(swapchain->numSlots(), 2u);
}

TEST_F(SwapchainTest, ReconfigureToSameShapeKeepsBuffers)
{
	auto swapchain = make();
	SwapchainSlot *a = acquireSlot(*swapchain);
	ASSERT_TRUE(swapchain->submit(a));
	ASSERT_TRUE(swapchain->release(a));

	SwapchainConfig c = config();
	c.name = "renamed";
	ASSERT_TRUE(swapchain->reconfigure(c));
	EXPECT_EQ(swapchain->config().name, "renamed");
	EXPECT_EQ(acquireSlot(*swapchain), a);
	EXPECT_EQ(a->age(), 1);
	EXPECT_EQ(allocations_, 1);

	/* Another slot count is another shape. */
	ASSERT_TRUE(swapchain->rollback(a));
	ASSERT_TRUE(swapchain->reconfigure(config(3)));
	EXPECT_EQ(swapchain->numSlots(), 3u);
	EXPECT_EQ(swapchain->numAllocated(), 0u);

	/* A bad config changes nothing. */
	Result<void> bad = swapchain->resize(0, 10);
	ASSERT_FALSE(bad);
	EXPECT_EQ(bad.error().code, EINVAL);
	EXPECT_EQ(swapchain->config().width, 64u);
	EXPECT_EQ(swapchain->numSlots(), 3u);
}

/* Dropped buffers go to a pool; resizing back reuses them. */
TEST_F(SwapchainTest, RecyclesIntoPool)
{
	BufferPool pool;
	int fresh = 0;
	auto allocate = [&](const AllocationRequest &r) -> Result<Buffer> {
		if (std::optional<Buffer> b = pool.take("memfd", r))
			return std::move(*b);
		fresh++;
		return makeMemfdImage(r);
	};

	auto r = Swapchain::create(config(), allocate, pool.recycler());
	ASSERT_TRUE(r);
	auto swapchain = std::move(*r);

	auto frame = [&] {
		SwapchainSlot *a = acquireSlot(*swapchain);
		SwapchainSlot *b = acquireSlot(*swapchain);
		ASSERT_TRUE(a && b);
		ASSERT_TRUE(swapchain->rollback(a));
		ASSERT_TRUE(swapchain->rollback(b));
	};

	frame();
	EXPECT_EQ(fresh, 2);
	ASSERT_TRUE(swapchain->resize(32, 32));
	EXPECT_EQ(pool.snapshot().freeBuffers, 2u);
	frame();
	EXPECT_EQ(fresh, 4);
	ASSERT_TRUE(swapchain->resize(64, 32));
	frame();
	EXPECT_EQ(fresh, 4);
	EXPECT_EQ(pool.snapshot().hits, 2u);

	swapchain.reset();
	EXPECT_EQ(pool.snapshot().freeBuffers, 4u);
}

TEST_F(SwapchainTest, DestroyingFreesEverything)
{
	auto swapchain = make();
	SwapchainSlot *a = acquireSlot(*swapchain);
	SwapchainSlot *b = acquireSlot(*swapchain);
	ASSERT_TRUE(a && b);
	ASSERT_TRUE(swapchain->submit(a));
	ASSERT_TRUE(swapchain->resize(16, 16));
	ASSERT_TRUE(acquireSlot(*swapchain));
	swapchain.reset();
	/* TearDown checks that no fd is left. */
}
