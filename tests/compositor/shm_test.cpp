/* SPDX-License-Identifier: MIT */
/*
 * wl_shm as heapcomp implements it: buffers outlive their pool, pools
 * grow, a client that shrinks its file under a pool is cut off alone,
 * and the per-client accounting follows the buffers.
 */
#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client.h"
#include "fd_count.h"
#include "picture.h"
#include "scene/surface_texture.h"
#include "scene/view_stack.h"
#include "server_runner.h"
#include "surface.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

/* A client's pool over a memfd it maps too; XRGB8888 buffers anywhere in it. */
class Pool
{
public:
	Pool(TestClient &client, size_t size)
	{
		fd_.reset(memfd_create("shm-test", MFD_CLOEXEC));
		if (fd_ && map(size))
			pool_.reset(wl_shm_create_pool(client.shm, fd_.get(), int32_t(size)));
	}
	~Pool() { unmap(); }
	Pool(const Pool &) = delete;
	Pool &operator=(const Pool &) = delete;

	bool ok() const { return pool_ != nullptr; }

	/* A width x height buffer with rows of `stride` bytes at offset. */
	Proxy<wl_buffer> buffer(size_t offset, int32_t width, int32_t height, int32_t stride)
	{
		return Proxy<wl_buffer>(wl_shm_pool_create_buffer(pool_, int32_t(offset), width,
								  height, stride,
								  WL_SHM_FORMAT_XRGB8888));
	}
	/* Pixels from offset on, `count` of them. */
	void fill(size_t offset, size_t count, uint32_t colour)
	{
		auto *pixels = reinterpret_cast<uint32_t *>(static_cast<uint8_t *>(data_) + offset);
		std::fill(pixels, pixels + count, colour);
	}
	/* The file, the client's mapping and then the pool grow. */
	bool grow(size_t size)
	{
		if (!map(size))
			return false;
		wl_shm_pool_resize(pool_, int32_t(size));
		return true;
	}
	/* Shrinks the file alone, under the compositor's mapping. */
	bool truncateFile(size_t size)
	{
		unmap();
		return ftruncate(fd_.get(), off_t(size)) == 0;
	}
	/* wl_shm_pool.destroy: its buffers stay. */
	void destroy() { pool_.reset(); }
	/* The client's view of the pool, as XRGB8888 pixels. */
	uint32_t *pixels() { return static_cast<uint32_t *>(data_); }

private:
	bool map(size_t size)
	{
		unmap();
		if (ftruncate(fd_.get(), off_t(size)) < 0)
			return false;
		void *data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
		if (data == MAP_FAILED)
			return false;
		data_ = data;
		size_ = size;
		return true;
	}
	void unmap()
	{
		if (data_)
			munmap(data_, size_);
		data_ = nullptr;
	}

	bufmgr::UniqueFd fd_;
	void *data_ = nullptr;
	size_t size_ = 0;
	Proxy<wl_shm_pool> pool_;
};

/* A configured, acked toplevel that has no buffer yet. */
bool configure(Window &window)
{
	if (!window.waitConfigure())
		return false;
	window.ack();
	return true;
}

/*
 * Fills the 32x32 buffer at offset with one colour and presents it in
 * the window at the screen's top-left corner: its corners must show it.
 */
testing::AssertionResult showsFilled(ServerRunner &server, Window &window, Pool &pool,
				     wl_buffer *buffer, size_t offset, uint32_t colour)
{
	pool.fill(offset, 32 * 32, colour);
	if (!window.present(buffer, 32, 32))
		return testing::AssertionFailure() << "no frame came";
	comp::Screenshot shot = server.screenshot();
	for (uint32_t at : { shot.at(0, 0), shot.at(31, 31) }) {
		if (at != colour)
			return testing::AssertionFailure() << std::hex << "shows 0x" << at
							   << " for 0x" << colour;
	}
	return testing::AssertionSuccess();
}

/* The accounting of the client whose toplevel has this title. */
std::shared_ptr<comp::ClientAccount> accountOf(ServerRunner &server, const std::string &title)
{
	return server.run([&](comp::Server &s) {
		comp::View *view = s.findView(title);
		return view ? view->surface()->account() : nullptr;
	});
}

TEST(Shm, BufferOutlivesItsPool)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	ASSERT_TRUE(server.drawFrames(2));
	int fds = countOpenFds();
	{
		TestClient client(server.socket());
		Window window(client, "orphan");
		Pool pool(client, 32 * 32 * 4);
		ASSERT_TRUE(pool.ok());
		Proxy<wl_buffer> buffer = pool.buffer(0, 32, 32, 32 * 4);
		pool.destroy();
		ASSERT_TRUE(client.roundtrip());
		ASSERT_TRUE(configure(window));
		EXPECT_TRUE(showsFilled(server, window, pool, buffer, 0, kGreen));
		/* The memory is still the client's, read afresh each commit. */
		EXPECT_TRUE(showsFilled(server, window, pool, buffer, 0, kBlue));
		EXPECT_FALSE(client.error());
	}
	ASSERT_TRUE(server.waitFrames(2));
	EXPECT_EQ(countOpenFds(), fds);
}

/*
 * A wl_shm buffer far larger than any output: the renderer copies only
 * the part shown and a margin, not its 256 MiB, and the window moved
 * shows the right pixels of the buffer's newly shown part.
 */
TEST(Shm, HugeBufferIsCopiedOnlyWhereShown)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Window window(client, "huge");
	constexpr int32_t kSide = 8192;
	Pool pool(client, size_t(kSide) * kSide * 4);
	ASSERT_TRUE(pool.ok());
	/* A pixel says where it is; only the painted pages of the file exist. */
	auto colour = [](int32_t x, int32_t y) {
		return 0xff000000u | uint32_t(x & 0xfff) << 12 | uint32_t(y & 0xfff);
	};
	auto paint = [&](const comp::Rect &r) {
		for (int32_t y = r.y; y < r.bottom(); y++)
			for (int32_t x = r.x; x < r.right(); x++)
				pool.pixels()[size_t(y) * kSide + size_t(x)] = colour(x, y);
	};
	paint({ 0, 0, 1024, 1024 });
	paint({ 5000, 6000, 512, 512 });
	Proxy<wl_buffer> buffer = pool.buffer(0, kSide, kSide, kSide * 4);
	ASSERT_TRUE(configure(window));
	ASSERT_TRUE(window.present(buffer, kSide, kSide));

	struct Seen {
		int32_t x = 0, y = 0;
		comp::Rect held;
		uint32_t textureWidth = 0, textureHeight = 0;
		bool inPlace = false;
	};
	auto look = [&] {
		return server.run([](comp::Server &s) {
			Seen seen;
			comp::View *view = s.findView("huge");
			if (!view)
				return seen;
			seen.x = view->x();
			seen.y = view->y();
			seen.held = view->surface()->textureRect();
			if (const comp::Texture *texture = view->surface()->texture()) {
				seen.textureWidth = texture->width();
				seen.textureHeight = texture->height();
			}
			seen.inPlace = s.renderer().readsShmInPlace();
			return seen;
		});
	};
	auto expectShown = [&](const Seen &seen, uint32_t ox, uint32_t oy) {
		const int32_t bx = int32_t(ox) - seen.x, by = int32_t(oy) - seen.y;
		EXPECT_EQ(server.screenshot().at(ox, oy), colour(bx, by))
			<< "output (" << ox << ", " << oy << ") = buffer (" << bx << ", " << by << ")";
	};

	auto moveTo = [&](int32_t x, int32_t y) {
		server.run([x, y](comp::Server &s) {
			if (comp::View *view = s.findView("huge"))
				view->setPosition(x, y);
		});
		return server.drawFrames(2);
	};

	/* Its top-left corner on the output. */
	ASSERT_TRUE(moveTo(10, 20));
	Seen seen = look();
	ASSERT_EQ(seen.x, 10);
	expectShown(seen, 13, 25);
	expectShown(seen, 319, 239);
	/* A renderer that reads wl_shm in place copies nothing at all. */
	if (!seen.inPlace) {
		const int32_t most = 320 + 2 * comp::SurfaceTexture::kCutMargin + 2;
		EXPECT_LE(seen.held.width, most) << seen.held.x << "," << seen.held.y;
		EXPECT_LE(seen.held.height, most) << seen.held.x << "," << seen.held.y;
		EXPECT_EQ(seen.textureWidth, uint32_t(seen.held.width));
		EXPECT_EQ(seen.textureHeight, uint32_t(seen.held.height));
	}

	/* Moved far: another part of the buffer, copied then. */
	ASSERT_TRUE(moveTo(-5000, -6000));
	seen = look();
	ASSERT_EQ(seen.x, -5000);
	expectShown(seen, 10, 10);
	expectShown(seen, 300, 200);
	if (!seen.inPlace)
		EXPECT_TRUE(seen.held.contains({ 5000, 6000, 320, 240 }))
			<< seen.held.x << "," << seen.held.y << " " << seen.held.width << "x"
			<< seen.held.height;
	EXPECT_FALSE(client.error());
}

TEST(Shm, GrownPoolHoldsNewBuffers)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	Window window(client, "grown");
	constexpr size_t kSize = 32 * 32 * 4;
	Pool pool(client, kSize);
	ASSERT_TRUE(pool.ok());
	Proxy<wl_buffer> first = pool.buffer(0, 32, 32, 32 * 4);
	ASSERT_TRUE(configure(window));
	EXPECT_TRUE(showsFilled(server, window, pool, first, 0, kRed));

	/* A buffer only the grown pool holds. */
	ASSERT_TRUE(pool.grow(2 * kSize));
	Proxy<wl_buffer> second = pool.buffer(kSize, 32, 32, 32 * 4);
	EXPECT_TRUE(showsFilled(server, window, pool, second, kSize, kGreen));
	/* The first buffer reads the remapped pool too. */
	EXPECT_TRUE(showsFilled(server, window, pool, first, 0, kBlue));
	EXPECT_FALSE(client.error());
}

TEST(Shm, ShrunkFileDisconnectsOnlyThatClient)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient bystander(server.socket());
	MappedWindow other(bystander, "bystander", 64, 64, kRed);
	ASSERT_TRUE(other.ok);
	ASSERT_TRUE(server.drawFrames(2));
	int fds = countOpenFds();
	size_t clients = server.run([](comp::Server &s) { return s.numClients(); });

	std::shared_ptr<comp::ClientAccount> account;
	{
		TestClient client(server.socket());
		Window window(client, "shrinking");
		Pool pool(client, 64 * 64 * 4);
		ASSERT_TRUE(pool.ok());
		Proxy<wl_buffer> buffer = pool.buffer(0, 64, 64, 64 * 4);
		pool.fill(0, 64 * 64, kGreen);
		ASSERT_TRUE(configure(window));
		ASSERT_TRUE(window.present(buffer, 64, 64));
		/* Cascaded: below and right of the bystander's window. */
		EXPECT_EQ(server.screenshot().at(80, 80), kGreen);
		account = accountOf(server, "shrinking");
		ASSERT_TRUE(account);
		EXPECT_EQ(account->bytes.load(), 64u * 64 * 4);

		/* The same buffer again, after the file lost every page under it. */
		ASSERT_TRUE(pool.truncateFile(0));
		wl_surface_attach(window.surface(), buffer, 0, 0);
		wl_surface_damage_buffer(window.surface(), 0, 0, 64, 64);
		wl_surface_commit(window.surface());
		auto error = client.expectError();
		ASSERT_TRUE(error) << "the compositor read the shrunk file without complaint";
		EXPECT_EQ(error->interface, "wl_buffer");
		EXPECT_EQ(error->code, uint32_t(WL_SHM_ERROR_INVALID_FD));
	}

	/* The bystander keeps drawing; the other window is gone. */
	other.buffer.fill(kBlue);
	ASSERT_TRUE(other.window.present(other.buffer.buffer(), 64, 64));
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(5, 5), kBlue);
	EXPECT_EQ(shot.at(80, 80), kBackground);

	ASSERT_TRUE(server.waitFrames(2));
	EXPECT_EQ(countOpenFds(), fds);
	EXPECT_EQ(server.run([](comp::Server &s) { return s.numClients(); }), clients);
	EXPECT_EQ(account->buffers.load(), 0u);
	EXPECT_EQ(account->bytes.load(), 0u);
}

TEST(Shm, AccountingFollowsTheBuffers)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	ASSERT_TRUE(server.drawFrames(2));
	int fds = countOpenFds();
	size_t clients = server.run([](comp::Server &s) { return s.numClients(); });

	std::shared_ptr<comp::ClientAccount> account;
	{
		TestClient client(server.socket());
		Window window(client, "accounted");
		Pool pool(client, 4096);
		ASSERT_TRUE(pool.ok());
		/* 16 rows of 64 bytes, and 8 rows of 64 bytes of which 32 show. */
		Proxy<wl_buffer> whole = pool.buffer(0, 16, 16, 64);
		Proxy<wl_buffer> padded = pool.buffer(1024, 8, 8, 64);
		pool.fill(0, 256, kGreen);
		ASSERT_TRUE(configure(window));
		ASSERT_TRUE(window.present(whole, 16, 16));
		account = accountOf(server, "accounted");
		ASSERT_TRUE(account);
		EXPECT_EQ(account->buffers.load(), 2u);
		EXPECT_EQ(account->bytes.load(), 16u * 64 + 8u * 64);

		padded.reset();
		ASSERT_TRUE(client.roundtrip());
		EXPECT_EQ(account->buffers.load(), 1u);
		EXPECT_EQ(account->bytes.load(), 16u * 64);
	}
	ASSERT_TRUE(server.waitFrames(2));
	EXPECT_EQ(account->buffers.load(), 0u);
	EXPECT_EQ(account->bytes.load(), 0u);
	EXPECT_EQ(countOpenFds(), fds);
	EXPECT_EQ(server.run([](comp::Server &s) { return s.numClients(); }), clients);
}

/*
 * A SIGBUS outside every client pool still reaches the handler installed
 * before the compositor's. In a fresh process: the compositor's handler
 * is installed once per process, chaining to whatever was there then.
 */
TEST(ShmDeathTest, OtherFaultsReachThePreviousHandler)
{
	GTEST_FLAG_SET(death_test_style, "threadsafe");
	EXPECT_EXIT(
		{
			signal(SIGBUS, [](int) { _exit(42); });
			ServerRunner server;
			if (!server.ok())
				_exit(1);
			bufmgr::UniqueFd fd(memfd_create("not-a-pool", MFD_CLOEXEC));
			if (!fd || ftruncate(fd.get(), 4096) < 0)
				_exit(2);
			auto *data = static_cast<volatile uint8_t *>(
				mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd.get(), 0));
			if (data == MAP_FAILED || ftruncate(fd.get(), 0) < 0)
				_exit(3);
			(void)data[0];
			_exit(4);
		},
		testing::ExitedWithCode(42), "");
}

} /* namespace */
} /* namespace heapcomp::test */
