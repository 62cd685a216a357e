/* SPDX-License-Identifier: MIT */
/*
 * wl_shm as heapcomp implements it: buffers outlive their pool, pools
 * grow, a client that shrinks its file under a pool is cut off alone,
 * and the per-client accounting follows the buffers.
 */
#include <gtest/gtest.h>

#include <atomic>
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
 * A side x side wl_shm buffer far larger than any output, whose pixels
 * say where they are. Only the parts painted exist in its file.
 */
class HugeBuffer
{
public:
	HugeBuffer(TestClient &client, int32_t side)
		: side_(side), pool_(client, size_t(side) * size_t(side) * 4)
	{
		if (pool_.ok())
			buffer_ = pool_.buffer(0, side, side, side * 4);
	}

	bool ok() const { return buffer_ != nullptr; }
	operator wl_buffer *() const { return buffer_; }
	Pool &pool() { return pool_; }

	/* The colour of buffer pixel (x, y) where painted. */
	static uint32_t colour(int32_t x, int32_t y)
	{
		return 0xff000000u | uint32_t(x & 0xfff) << 12 | uint32_t(y & 0xfff);
	}
	void paint(const comp::Rect &r)
	{
		for (int32_t y = r.y; y < r.bottom(); y++)
			for (int32_t x = r.x; x < r.right(); x++)
				pixel(x, y) = colour(x, y);
	}
	void fill(const comp::Rect &r, uint32_t colour)
	{
		for (int32_t y = r.y; y < r.bottom(); y++)
			for (int32_t x = r.x; x < r.right(); x++)
				pixel(x, y) = colour;
	}

private:
	uint32_t &pixel(int32_t x, int32_t y)
	{
		return pool_.pixels()[size_t(y) * size_t(side_) + size_t(x)];
	}

	int32_t side_;
	Pool pool_;
	Proxy<wl_buffer> buffer_;
};

/* What heapcomp holds of a window's texture. */
struct Held {
	int32_t x = 0, y = 0;	/* the window's position */
	comp::Rect rect;	/* the buffer pixels its texture holds */
	uint32_t textureWidth = 0, textureHeight = 0;
	uint64_t copiesMade = 0;
	bool inPlace = false;	/* the renderer reads wl_shm in place: no copies */
};

Held held(ServerRunner &server, const std::string &title)
{
	return server.run([&](comp::Server &s) {
		Held seen;
		comp::View *view = s.findView(title);
		if (!view)
			return seen;
		seen.x = view->x();
		seen.y = view->y();
		const comp::TexturePart part = view->surface()->texture();
		seen.rect = part.held;
		if (part) {
			seen.textureWidth = part.texture->width();
			seen.textureHeight = part.texture->height();
		}
		seen.copiesMade = view->surface()->textureCopiesMade();
		seen.inPlace = s.renderer().readsShmInPlace();
		return seen;
	});
}

/* Moves the window and draws every output twice. */
bool moveTo(ServerRunner &server, const std::string &title, int32_t x, int32_t y)
{
	server.run([&](comp::Server &s) {
		if (comp::View *view = s.findView(title))
			view->setPosition(x, y);
	});
	return server.drawFrames(2);
}

/* Output pixel (ox, oy) of shot shows buffer pixel (ox - x, oy - y)'s colour. */
testing::AssertionResult showsWhere(const comp::Screenshot &shot, int32_t x, int32_t y,
				    uint32_t ox, uint32_t oy)
{
	const int32_t bx = int32_t(ox) - x, by = int32_t(oy) - y;
	if (shot.at(ox, oy) == HugeBuffer::colour(bx, by))
		return testing::AssertionSuccess();
	return testing::AssertionFailure() << std::hex << "output (" << std::dec << ox << ", " << oy
					   << ") shows 0x" << std::hex << shot.at(ox, oy)
					   << ", not buffer (" << std::dec << bx << ", " << by << ")";
}

std::string describe(const comp::Rect &r)
{
	return std::to_string(r.width) + "x" + std::to_string(r.height) + " at " +
	       std::to_string(r.x) + "," + std::to_string(r.y);
}

/* A client's window for a huge buffer, and the buffer. */
struct HugeWindow {
	HugeWindow(ServerRunner &server, const std::string &title)
		: client(server.socket()), window(client, title), buffer(client, kSide)
	{
	}
	/* Configured, acked, and showing all of the buffer. */
	bool show() { return configure(window) && window.present(buffer, kSide, kSide); }
	/* Fills r with colour, damages it and commits; true once the frame came. */
	bool draw(const comp::Rect &r, uint32_t colour)
	{
		buffer.fill(r, colour);
		wl_surface_damage_buffer(window.surface(), r.x, r.y, r.width, r.height);
		return client.commitAndWaitFrame(window.surface()).has_value();
	}

	static constexpr int32_t kSide = 8192;
	TestClient client;
	Window window;
	HugeBuffer buffer;
};

/*
 * A huge wl_shm buffer: the renderer copies only the part shown and a
 * margin, not its 256 MiB, and the window moved shows the right pixels
 * of the buffer's newly shown part.
 */
TEST(Shm, HugeBufferIsCopiedOnlyWhereShown)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	HugeWindow huge(server, "huge");
	ASSERT_TRUE(huge.buffer.ok());
	huge.buffer.paint({ 0, 0, 1024, 1024 });
	huge.buffer.paint({ 5000, 6000, 512, 512 });
	ASSERT_TRUE(huge.show());

	/* Its top-left corner on the output. */
	ASSERT_TRUE(moveTo(server, "huge", 10, 20));
	Held seen = held(server, "huge");
	ASSERT_EQ(seen.x, 10);
	comp::Screenshot shot = server.screenshot();
	EXPECT_TRUE(showsWhere(shot, 10, 20, 13, 25));
	EXPECT_TRUE(showsWhere(shot, 10, 20, 319, 239));
	/* A renderer that reads wl_shm in place copies nothing at all. */
	if (!seen.inPlace) {
		const int32_t most = 320 + 2 * comp::SurfaceTexture::kCutMargin + 2;
		EXPECT_LE(seen.rect.width, most) << describe(seen.rect);
		EXPECT_LE(seen.rect.height, most) << describe(seen.rect);
		EXPECT_EQ(seen.textureWidth, uint32_t(seen.rect.width));
		EXPECT_EQ(seen.textureHeight, uint32_t(seen.rect.height));
	}

	/* Moved far: another part of the buffer, copied then. */
	ASSERT_TRUE(moveTo(server, "huge", -5000, -6000));
	seen = held(server, "huge");
	ASSERT_EQ(seen.x, -5000);
	shot = server.screenshot();
	EXPECT_TRUE(showsWhere(shot, -5000, -6000, 10, 10));
	EXPECT_TRUE(showsWhere(shot, -5000, -6000, 300, 200));
	if (!seen.inPlace) {
		EXPECT_TRUE(seen.rect.contains({ 5000, 6000, 320, 240 })) << describe(seen.rect);
	}

	/* A buffer small enough is copied whole again, cut no more. */
	Proxy<wl_buffer> small = huge.buffer.pool().buffer(0, 1024, 1024, 8192 * 4);
	ASSERT_TRUE(huge.window.present(small, 1024, 1024));
	ASSERT_TRUE(moveTo(server, "huge", 10, 20));
	seen = held(server, "huge");
	EXPECT_EQ(seen.rect, (comp::Rect{ 0, 0, 1024, 1024 })) << describe(seen.rect);
	shot = server.screenshot();
	EXPECT_TRUE(showsWhere(shot, 10, 20, 11, 21));
	EXPECT_TRUE(showsWhere(shot, 10, 20, 319, 239));
	EXPECT_FALSE(huge.client.error());
}

/*
 * Damage inside the part copied updates that copy, where the client
 * drew; damage outside it copies nothing until that part is shown.
 */
TEST(Shm, HugeBufferDamagedWhereShownIsUpdated)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	HugeWindow huge(server, "huge");
	ASSERT_TRUE(huge.buffer.ok());
	huge.buffer.paint({ 0, 0, 1024, 1024 });
	ASSERT_TRUE(huge.show());
	ASSERT_TRUE(moveTo(server, "huge", 10, 20));
	const uint64_t copies = held(server, "huge").copiesMade;

	ASSERT_TRUE(huge.draw({ 100, 50, 10, 10 }, kRed));
	ASSERT_TRUE(huge.draw({ 6000, 6000, 10, 10 }, kBlue));
	ASSERT_TRUE(server.drawFrames(1));
	comp::Screenshot shot = server.screenshot();
	EXPECT_EQ(shot.at(10 + 100, 20 + 50), kRed);
	EXPECT_EQ(shot.at(10 + 109, 20 + 59), kRed);
	EXPECT_TRUE(showsWhere(shot, 10, 20, 10 + 99, 20 + 55));
	EXPECT_TRUE(showsWhere(shot, 10, 20, 10 + 110, 20 + 55));
	Held seen = held(server, "huge");
	if (!seen.inPlace) {
		EXPECT_EQ(seen.copiesMade, copies) << "damage shown made a new copy";
	}

	/* The part damaged while not shown, shown. */
	ASSERT_TRUE(moveTo(server, "huge", -5900, -5900));
	shot = server.screenshot();
	EXPECT_EQ(shot.at(100, 100), kBlue);
	EXPECT_EQ(shot.at(109, 109), kBlue);
	EXPECT_FALSE(huge.client.error());
}

/*
 * Scaled by a viewport and hanging off the output's top-left corner: the
 * part copied reaches the buffer's edge, and so does what is drawn, to
 * the destination's last row and column.
 */
TEST(Shm, HugeBufferScaledOffTheCornerIsDrawnToItsEdge)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	HugeWindow huge(server, "scaled");
	ASSERT_TRUE(huge.buffer.ok());
	huge.buffer.fill({ 7600, 7600, 592, 592 }, kGreen);
	Proxy<wp_viewport> viewport(
		wp_viewporter_get_viewport(huge.client.viewporter, huge.window.surface()));
	/* 8192 / 2994 pixels a pixel: a ratio a double does not hold exactly. */
	constexpr int32_t kDestination = 2994;
	wp_viewport_set_destination(viewport, kDestination, kDestination);
	ASSERT_TRUE(huge.show());
	constexpr int32_t kShown = 100;
	ASSERT_TRUE(moveTo(server, "scaled", kShown - kDestination, kShown - kDestination));

	comp::Screenshot shot = server.screenshot();
	for (auto [x, y] : { std::pair{ 0, 0 }, { kShown - 1, 0 }, { 0, kShown - 1 },
			     { kShown - 1, kShown - 1 }, { kShown / 2, kShown - 1 },
			     { kShown - 1, kShown / 2 } })
		EXPECT_EQ(shot.at(x, y), kGreen) << "at " << x << ", " << y;
	EXPECT_NE(shot.at(kShown, kShown / 2), kGreen);
	EXPECT_NE(shot.at(kShown / 2, kShown), kGreen);
	Held seen = held(server, "scaled");
	if (!seen.inPlace) {
		EXPECT_EQ(seen.rect.right(), 8192) << describe(seen.rect);
		EXPECT_LT(seen.rect.width, 1024) << describe(seen.rect);
	}
	EXPECT_FALSE(huge.client.error());
}

/*
 * Two outputs show two parts of one huge buffer: each has its copy, and
 * frames after the first copy nothing, only what the client damaged.
 */
TEST(Shm, HugeBufferOnTwoOutputsIsCopiedOncePerOutput)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.numOutputs = 2;
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	HugeWindow huge(server, "wide");
	ASSERT_TRUE(huge.buffer.ok());
	/* Shown from buffer x 3000 on: the first output's part and the second's. */
	huge.buffer.paint({ 2500, 0, 1200, 800 });
	ASSERT_TRUE(huge.show());
	ASSERT_TRUE(moveTo(server, "wide", -3000, 0));
	const uint64_t copies = held(server, "wide").copiesMade;

	auto screenshot = [&](size_t output) {
		return server.run([output](comp::Server &s) {
			auto shot = s.screenshot(output);
			return shot ? std::move(*shot) : comp::Screenshot();
		});
	};
	auto secondFrames = [&] {
		return server.run([](comp::Server &s) { return s.frameCount(1); });
	};
	for (int frame = 0; frame < 4; frame++) {
		/* A stripe across both outputs' parts. */
		const comp::Rect stripe{ 3000, 100 + frame * 10, 640, 4 };
		ASSERT_TRUE(huge.draw(stripe, kRed));
		/* drawFrames() counts the first output's frames: the second's too. */
		const uint64_t before = secondFrames();
		ASSERT_TRUE(server.drawFrames(1));
		for (int tries = 0; tries < 2000 && secondFrames() <= before; tries++)
			usleep(10000);
		const comp::Screenshot left = screenshot(0), right = screenshot(1);
		const uint32_t y = uint32_t(stripe.y + 1);
		EXPECT_EQ(left.at(5, y), kRed) << "frame " << frame;
		EXPECT_EQ(right.at(315, y), kRed) << "frame " << frame;
		EXPECT_TRUE(showsWhere(left, -3000, 0, 300, 10));
		EXPECT_TRUE(showsWhere(right, -3320, 0, 10, 10));
	}
	Held seen = held(server, "wide");
	if (!seen.inPlace) {
		EXPECT_EQ(seen.copiesMade, copies) << "outputs copied their parts again";
	}
	EXPECT_FALSE(huge.client.error());
}

/*
 * The renderer of the tests, copying wl_shm (never reading it in place),
 * whose wl_shm imports fail while told to; it counts them.
 */
class FailingShmImports final : public comp::Renderer
{
public:
	explicit FailingShmImports(std::unique_ptr<comp::Renderer> real) : real_(std::move(real)) {}

	std::atomic<bool> fail{ false };
	std::atomic<int> imports{ 0 };

	std::string_view name() const override { return real_->name(); }
	comp::DmaBufPath dmaBufPath() const override { return real_->dmaBufPath(); }
	uint32_t maxTextureSize() const override { return real_->maxTextureSize(); }
	std::vector<FormatModifier> dmaBufFormats() const override { return real_->dmaBufFormats(); }
	std::vector<uint32_t> shmFormats() const override { return real_->shmFormats(); }
	comp::Result<std::unique_ptr<comp::Texture>> importShm(const uint8_t *data, uint32_t width,
								uint32_t height, uint32_t stride,
								uint32_t format) override
	{
		imports++;
		if (fail)
			return bufmgr::unexpected(ENOMEM, "import shm (told to fail)");
		return real_->importShm(data, width, height, stride, format);
	}
	comp::Result<void> updateShm(comp::Texture &texture, const uint8_t *data, uint32_t stride,
				     std::span<const comp::Rect> damage) override
	{
		return real_->updateShm(texture, data, stride, damage);
	}
	comp::Result<std::unique_ptr<comp::Texture>> importDmaBuf(const bufmgr::Buffer &buffer) override
	{
		return real_->importDmaBuf(buffer);
	}
	comp::Result<void> updateDmaBuf(comp::Texture &texture, const bufmgr::Buffer &buffer,
					std::span<const comp::Rect> damage) override
	{
		return real_->updateDmaBuf(texture, buffer, damage);
	}
	comp::Result<std::unique_ptr<comp::RenderPass>>
	beginPass(const bufmgr::Buffer &target, std::span<const comp::Rect> damage) override
	{
		return real_->beginPass(target, damage);
	}
	comp::Result<std::vector<uint32_t>> readPixels(const bufmgr::Buffer &target) override
	{
		return real_->readPixels(target);
	}
	void releaseTarget(const bufmgr::Buffer &target) override { real_->releaseTarget(target); }

private:
	std::unique_ptr<comp::Renderer> real_;
};

/*
 * An import that fails is not tried again on every frame, only after
 * the next commit with damage: the window shows nothing of the buffer
 * until an import works, then it does.
 */
TEST(Shm, FailedImportIsNotRetriedEveryFrame)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	FailingShmImports *renderer = nullptr;
	config.createRenderer = [real = config.createRenderer,
				 &renderer](bufmgr::BufferManager &manager)
		-> comp::Result<std::unique_ptr<comp::Renderer>> {
		auto made = real(manager);
		if (!made)
			return bufmgr::unexpected(made.error());
		auto failing = std::make_unique<FailingShmImports>(std::move(*made));
		renderer = failing.get();
		return failing;
	};
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	ASSERT_NE(renderer, nullptr);
	TestClient client(server.socket());
	Window window(client, "failing");
	Pool pool(client, 2 * 32 * 32 * 4);
	ASSERT_TRUE(pool.ok());
	Proxy<wl_buffer> square = pool.buffer(0, 32, 32, 32 * 4);
	Proxy<wl_buffer> wide = pool.buffer(0, 64, 16, 64 * 4);
	ASSERT_TRUE(configure(window));

	renderer->fail = true;
	pool.fill(0, 32 * 32, kGreen);
	ASSERT_TRUE(window.present(square, 32, 32));
	ASSERT_TRUE(server.drawFrames(4));
	EXPECT_EQ(renderer->imports.load(), 1);
	EXPECT_NE(server.screenshot().at(5, 5), kGreen);

	/* New content: tried once more, failing still; then working, it shows. */
	ASSERT_TRUE(window.present(square, 32, 32));
	ASSERT_TRUE(server.drawFrames(4));
	EXPECT_EQ(renderer->imports.load(), 2);
	renderer->fail = false;
	ASSERT_TRUE(window.present(square, 32, 32));
	ASSERT_TRUE(server.drawFrames(2));
	EXPECT_EQ(renderer->imports.load(), 3);
	EXPECT_EQ(server.screenshot().at(5, 5), kGreen);

	/* A buffer of another size: copied anew. */
	ASSERT_TRUE(window.present(wide, 64, 16));
	ASSERT_TRUE(server.drawFrames(2));
	EXPECT_EQ(renderer->imports.load(), 4);
	EXPECT_EQ(server.screenshot().at(60, 5), kGreen);
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

/*
 * A synchronized subsurface's buffer, committed, then destroyed and its
 * file shrunk before the parent's commit applies it: the client is
 * disconnected (no wl_buffer is left to name), the compositor lives on.
 */
TEST(Shm, ShrunkFileUnderADestroyedCachedBuffer)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient bystander(server.socket());
	MappedWindow other(bystander, "bystander", 64, 64, kRed);
	ASSERT_TRUE(other.ok);

	TestClient client(server.socket());
	MappedWindow parent(client, "parent", 64, 64, kGreen);
	ASSERT_TRUE(parent.ok);
	Proxy<wl_surface> child(wl_compositor_create_surface(client.compositor));
	Proxy<wl_subsurface> sub(wl_subcompositor_get_subsurface(client.subcompositor, child,
								  parent.window.surface()));
	Pool pool(client, 32 * 32 * 4);
	ASSERT_TRUE(pool.ok());
	Proxy<wl_buffer> buffer = pool.buffer(0, 32, 32, 32 * 4);
	wl_surface_attach(child, buffer, 0, 0);
	wl_surface_damage_buffer(child, 0, 0, 32, 32);
	wl_surface_commit(child);
	buffer.reset();
	ASSERT_TRUE(client.roundtrip());
	ASSERT_TRUE(pool.truncateFile(0));
	wl_surface_commit(parent.window.surface());
	auto error = client.expectError();
	ASSERT_TRUE(error) << "the compositor took the shrunk file without complaint";
	EXPECT_EQ(error->interface, "wl_display");
	EXPECT_EQ(error->code, uint32_t(WL_DISPLAY_ERROR_IMPLEMENTATION));

	other.buffer.fill(kBlue);
	ASSERT_TRUE(other.window.present(other.buffer.buffer(), 64, 64));
	EXPECT_EQ(server.screenshot().at(5, 5), kBlue);
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
