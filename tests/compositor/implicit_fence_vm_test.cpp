/* SPDX-License-Identifier: MIT */
/*
 * A client's dma-buf that a device is still writing: the commit waits for
 * the buffer's implicit write fence, without blocking the compositor.
 * The fence is a real one, from vgem (DRM_IOCTL_VGEM_FENCE_ATTACH), put
 * into a system-heap dma-buf's reservation; it signals when the test says
 * so, or after vgem's own timeout of ten seconds. Needs the test VM.
 */
#include <gtest/gtest.h>

#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>

#include <bufmgr/allocators.h>
#include <bufmgr/dri_nodes.h>
#include <bufmgr/unique_fd.h>

#include "dmabuf_buffer.h"
#include "fd_count.h"
#include "protocols/xdg_shell/xdg_surface.h"
#include "protocols/xdg_shell/xdg_toplevel.h"
#include "server_runner.h"
#include "test_client.h"
#include "vm_env.h"

namespace heapcomp::test {
namespace {

/* vgem's UAPI (include/uapi/drm/vgem_drm.h), which libdrm does not install. */
struct VgemFenceAttach {
	uint32_t handle;
	uint32_t flags;		/* kVgemFenceWrite: a writer, which readers wait for */
	uint32_t outFence;
	uint32_t pad;
};
struct VgemFenceSignal {
	uint32_t fence;
	uint32_t flags;
};
constexpr uint32_t kVgemFenceWrite = 0x1;
constexpr unsigned long kVgemFenceAttach =
	DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct VgemFenceAttach);
constexpr unsigned long kVgemFenceSignal =
	DRM_IOW(DRM_COMMAND_BASE + 0x2, struct VgemFenceSignal);

/* The vgem device, or an invalid fd. */
bufmgr::UniqueFd openVgem()
{
	for (const std::string &path : bufmgr::driNodes("card")) {
		bufmgr::UniqueFd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
		if (!fd)
			continue;
		drmVersionPtr version = drmGetVersion(fd.get());
		const bool vgem = version && std::string(version->name) == "vgem";
		drmFreeVersion(version);
		if (vgem)
			return fd;
	}
	return {};
}

/* An unsignalled write fence in a dma-buf, by way of vgem; signalled at the latest when gone. */
class WriteFence
{
public:
	WriteFence(int vgem, int dmaBuf) : vgem_(vgem)
	{
		if (drmPrimeFDToHandle(vgem, dmaBuf, &handle_) != 0)
			return;
		VgemFenceAttach attach = { handle_, kVgemFenceWrite, 0, 0 };
		if (drmIoctl(vgem, kVgemFenceAttach, &attach) == 0) {
			fence_ = attach.outFence;
			attached_ = true;
		}
	}
	~WriteFence()
	{
		signal();
		if (handle_)
			drmCloseBufferHandle(vgem_, handle_);
	}
	WriteFence(const WriteFence &) = delete;
	WriteFence &operator=(const WriteFence &) = delete;

	bool attached() const { return attached_; }
	bool signal()
	{
		if (!attached_)
			return false;
		attached_ = false;
		VgemFenceSignal done = { fence_, 0 };
		return drmIoctl(vgem_, kVgemFenceSignal, &done) == 0;
	}

private:
	int vgem_;
	uint32_t handle_ = 0;
	uint32_t fence_ = 0;
	bool attached_ = false;
};

/* Whether a dma-buf's writers are done: it polls readable then. */
bool writesDone(int dmaBuf)
{
	struct pollfd ready = { dmaBuf, POLLIN, 0 };
	return poll(&ready, 1, 0) == 1;
}

struct Frame {
	bool done = false;
};

const wl_callback_listener frameListener = {
	.done = [](void *data, wl_callback *, uint32_t) { static_cast<Frame *>(data)->done = true; },
};

struct Released {
	bool released = false;
};

const wl_buffer_listener releaseListener = {
	.release = [](void *data, wl_buffer *) { static_cast<Released *>(data)->released = true; },
};

/* Attaches, damages and commits with a frame callback, without waiting for it. */
Proxy<wl_callback> commit(Window &window, wl_buffer *buffer, Frame &frame)
{
	wl_surface_attach(window.surface(), buffer, 0, 0);
	wl_surface_damage_buffer(window.surface(), 0, 0, INT32_MAX, INT32_MAX);
	Proxy<wl_callback> callback(wl_surface_frame(window.surface()));
	wl_callback_add_listener(callback, &frameListener, &frame);
	wl_surface_commit(window.surface());
	return callback;
}

class ImplicitFence : public testing::Test
{
protected:
	void SetUp() override
	{
		vgem_ = openVgem();
		if (!vgem_)
			SKIP_OR_FAIL_WITHOUT("no vgem device in /dev/dri");
		auto allocator = bufmgr::createDmaHeapAllocator("/dev/dma_heap/system", false);
		if (!allocator)
			SKIP_OR_FAIL_WITHOUT(allocator.error().message());
		allocator_ = std::move(*allocator);
	}

	bufmgr::Buffer buffer(uint32_t colour)
	{
		auto buffer = allocator_->allocate(bufmgr::AllocationRequest::image(
			64, 48, DRM_FORMAT_XRGB8888, bufmgr::Usage::Render, "fenced"));
		EXPECT_TRUE(buffer) << buffer.error().message();
		if (!buffer)
			return {};
		EXPECT_TRUE(fill(*buffer, colour, colour));
		return std::move(*buffer);
	}

	/* A server, and a client's window to show green, then blue once its writes end. */
	struct Scene {
		explicit Scene(const std::string &title) : window(client, title) {}

		ServerRunner server{ ServerRunner::realClockConfig() };
		TestClient client{ server.socket() };
		Window window;
		bufmgr::Buffer green, blue;
		Proxy<wl_buffer> greenBuffer, blueBuffer;
	};

	/* The window configured, showing green. */
	void start(Scene &scene)
	{
		ASSERT_TRUE(scene.server.ok()) << scene.server.error();
		ASSERT_TRUE(scene.client.dmabuf);
		ASSERT_TRUE(scene.window.waitConfigure());
		scene.window.ack();
		scene.green = buffer(0xff00ff00);
		scene.blue = buffer(0xff0000ff);
		ASSERT_TRUE(scene.green.isValid() && scene.blue.isValid());
		scene.greenBuffer = wrap(scene.client, scene.green);
		scene.blueBuffer = wrap(scene.client, scene.blue);
		ASSERT_TRUE(scene.window.present(scene.greenBuffer, 64, 48));
		ASSERT_EQ(scene.server.screenshot().at(10, 10), 0xff00ff00u);
	}

	bufmgr::UniqueFd vgem_;
	std::unique_ptr<bufmgr::Allocator> allocator_;
};

/*
 * A buffer whose writer has not finished is not shown, and its frame
 * callback waits, while the compositor goes on serving this client and
 * another; once the fence signals, the buffer is shown.
 */
TEST_F(ImplicitFence, CommitWaitsForTheWritesWithoutBlocking)
{
	Scene scene("fenced");
	ASSERT_NO_FATAL_FAILURE(start(scene));

	WriteFence fence(vgem_.get(), scene.blue.plane(0).fd.get());
	ASSERT_TRUE(fence.attached()) << "vgem attached no fence to a system-heap dma-buf";
	ASSERT_FALSE(writesDone(scene.blue.plane(0).fd.get()));

	Frame frame;
	Proxy<wl_callback> callback = commit(scene.window, scene.blueBuffer, frame);
	/* Served while the writes are pending: this scene.client, and one that is new. */
	ASSERT_TRUE(scene.client.roundtrip());
	TestClient other(scene.server.socket());
	ASSERT_TRUE(other.connected());
	ASSERT_TRUE(other.roundtrip());
	ASSERT_TRUE(scene.server.drawFrames(2));
	EXPECT_EQ(scene.server.screenshot().at(10, 10), 0xff00ff00u) << "shown before its writes ended";
	ASSERT_TRUE(scene.client.roundtrip());
	EXPECT_FALSE(frame.done) << "frame callback of a commit still waiting";
	/* Had anything blocked on the fence, vgem's timeout would have signalled it by now. */
	ASSERT_FALSE(writesDone(scene.blue.plane(0).fd.get())) << "the fence timed out: the test is void";

	ASSERT_TRUE(fence.signal());
	ASSERT_TRUE(scene.client.dispatchUntil([&] { return frame.done; }));
	EXPECT_EQ(scene.server.screenshot().at(10, 10), 0xff0000ffu);
}

/*
 * Commits after a waiting one wait behind it and apply in order; one
 * replaced before it could apply is released at once; a wl_buffer
 * destroyed while its commit waits is still shown; a client that goes
 * while its commit waits leaves nothing behind.
 */
TEST_F(ImplicitFence, LaterCommitsQueueBehindAndAClientMayGoWhileWaiting)
{
	ServerRunner server(ServerRunner::realClockConfig());
	ASSERT_TRUE(server.ok()) << server.error();
	ASSERT_TRUE(server.drawFrames(2));
	bufmgr::Buffer green = buffer(0xff00ff00), blue = buffer(0xff0000ff),
		       yellow = buffer(0xffffff00), red = buffer(0xffff0000);
	ASSERT_TRUE(green.isValid() && blue.isValid() && yellow.isValid() && red.isValid());
	const int fds = countOpenFds();
	std::optional<WriteFence> last;
	{
		TestClient client(server.socket());
		ASSERT_TRUE(client.dmabuf);
		Window window(client, "queued");
		ASSERT_TRUE(window.waitConfigure());
		window.ack();
		Proxy<wl_buffer> greenBuffer = wrap(client, green), blueBuffer = wrap(client, blue),
				 yellowBuffer = wrap(client, yellow), redBuffer = wrap(client, red);
		ASSERT_TRUE(window.present(greenBuffer, 64, 48));

		/*
		 * Blue waits for its writer; yellow, then red, ready, must not
		 * overtake it. Red replaces yellow before yellow could show:
		 * yellow goes back to the client. The client destroys red's
		 * wl_buffer while it waits: red is still what shows.
		 */
		WriteFence fence(vgem_.get(), blue.plane(0).fd.get());
		ASSERT_TRUE(fence.attached());
		Released yellowReleased;
		wl_buffer_add_listener(yellowBuffer, &releaseListener, &yellowReleased);
		Frame blueFrame, yellowFrame, redFrame;
		Proxy<wl_callback> blueCallback = commit(window, blueBuffer, blueFrame);
		Proxy<wl_callback> yellowCallback = commit(window, yellowBuffer, yellowFrame);
		ASSERT_TRUE(client.roundtrip());
		EXPECT_FALSE(yellowReleased.released);
		Proxy<wl_callback> redCallback = commit(window, redBuffer, redFrame);
		redBuffer.reset();
		ASSERT_TRUE(client.roundtrip());
		ASSERT_TRUE(server.drawFrames(2));
		EXPECT_EQ(server.screenshot().at(10, 10), 0xff00ff00u);
		ASSERT_TRUE(client.roundtrip());
		EXPECT_FALSE(blueFrame.done);
		EXPECT_FALSE(redFrame.done);
		EXPECT_TRUE(yellowReleased.released) << "a buffer replaced while queued was kept";
		ASSERT_FALSE(writesDone(blue.plane(0).fd.get())) << "the fence timed out: the test is void";
		ASSERT_TRUE(fence.signal());
		ASSERT_TRUE(client.dispatchUntil([&] { return blueFrame.done && redFrame.done; }));
		EXPECT_EQ(server.screenshot().at(10, 10), 0xffff0000u);
		EXPECT_TRUE(window.surface() && server.run([](comp::Server &s) {
			return s.findView("queued") != nullptr;
		})) << "the window unmapped: its destroyed buffer was taken for a detach";

		/* Again, and this time the client goes before the fence signals. */
		last.emplace(vgem_.get(), green.plane(0).fd.get());
		ASSERT_TRUE(last->attached());
		Frame lastFrame;
		Proxy<wl_callback> lastCallback = commit(window, greenBuffer, lastFrame);
		ASSERT_TRUE(client.roundtrip());
	}
	/* The client's buffers and fds are gone with it, its commit still waiting. */
	ASSERT_TRUE(server.waitFrames(3));
	EXPECT_EQ(server.run([](comp::Server &s) { return s.clientBuffers().dmaBuf().buffers; }), 0u);
	EXPECT_EQ(countOpenFds(), fds);
	ASSERT_FALSE(writesDone(green.plane(0).fd.get())) << "the fence timed out: the test is void";
	last.reset();
	ASSERT_TRUE(server.drawFrames(2));
}

/*
 * Window geometry and an acked configure go with the commit that
 * follows them: one that waits applies its own, not those the client
 * sent while it waited.
 */
TEST_F(ImplicitFence, AWaitingCommitAppliesTheRoleStateItCarried)
{
	Scene scene("role state");
	ASSERT_NO_FATAL_FAILURE(start(scene));
	/* Mapped and focused: activated. */
	ASSERT_TRUE(scene.window.waitConfigure());
	scene.window.ack();
	/* The window's geometry, and whether it applied a maximized configure. */
	auto applied = [&] {
		return scene.server.run([](comp::Server &s) {
			auto *toplevel = dynamic_cast<comp::XdgToplevel *>(s.findView("role state"));
			return toplevel ? std::pair(toplevel->xdgSurface()->geometry(),
						    toplevel->current().maximized)
					: std::pair(comp::Rect{}, false);
		});
	};

	WriteFence fence(vgem_.get(), scene.blue.plane(0).fd.get());
	ASSERT_TRUE(fence.attached());
	xdg_surface_set_window_geometry(scene.window.xdgSurface(), 2, 2, 60, 44);
	Frame frame;
	Proxy<wl_callback> callback = commit(scene.window, scene.blueBuffer, frame);
	/* For the next commit. */
	xdg_surface_set_window_geometry(scene.window.xdgSurface(), 4, 4, 56, 40);
	xdg_toplevel_set_maximized(scene.window.toplevel());
	ASSERT_TRUE(scene.window.waitConfigure());
	ASSERT_TRUE(scene.window.hasState(XDG_TOPLEVEL_STATE_MAXIMIZED));
	scene.window.ack();
	ASSERT_TRUE(scene.client.roundtrip());
	EXPECT_EQ(applied().first, (comp::Rect{ 0, 0, 64, 48 })) << "geometry of a commit still waiting";
	ASSERT_FALSE(writesDone(scene.blue.plane(0).fd.get())) << "the fence timed out: the test is void";

	ASSERT_TRUE(fence.signal());
	ASSERT_TRUE(scene.client.dispatchUntil([&] { return frame.done; }));
	EXPECT_EQ(applied().first, (comp::Rect{ 2, 2, 60, 44 }));
	EXPECT_FALSE(applied().second) << "a configure acked after the commit applied with it";
	wl_surface_commit(scene.window.surface());
	ASSERT_TRUE(scene.client.roundtrip());
	EXPECT_EQ(applied().first, (comp::Rect{ 4, 4, 56, 40 }));
	EXPECT_TRUE(applied().second);
}

/*
 * A commit that waits belongs to the role object it was made for. A
 * toplevel made while it waits answers its own initial commit, not one
 * made before it that applies late, and maps only once its configure is
 * acked, whatever buffer the surface kept. A new xdg_surface may be made once a commit,
 * still waiting, has detached the buffer.
 */
TEST_F(ImplicitFence, AWaitingCommitStaysWithItsRoleObject)
{
	Scene scene("first");
	ASSERT_NO_FATAL_FAILURE(start(scene));
	/* Where the window is, if mapped. */
	auto mapped = [&](const std::string &title) {
		return scene.server.run([&](comp::Server &s) -> std::optional<std::pair<int, int>> {
			if (comp::View *view = s.findView(title))
				return std::pair(view->x(), view->y());
			return std::nullopt;
		});
	};

	for (bool newXdgSurface : { false, true }) {
		SCOPED_TRACE(newXdgSurface ? "a new xdg_surface" : "a new toplevel");
		const std::string title = newXdgSurface ? "third" : "second";
		WriteFence fence(vgem_.get(), scene.blue.plane(0).fd.get());
		ASSERT_TRUE(fence.attached());
		Frame frame;
		Proxy<wl_callback> callback = commit(scene.window, scene.blueBuffer, frame);
		scene.window.destroyToplevel(newXdgSurface);
		if (newXdgSurface) {
			/* Detached by a commit that waits behind blue. */
			wl_surface_attach(scene.window.surface(), nullptr, 0, 0);
			wl_surface_commit(scene.window.surface());
		}
		scene.window.makeToplevel(title);
		ASSERT_TRUE(scene.client.roundtrip()) << "the new role object was refused";
		ASSERT_FALSE(writesDone(scene.blue.plane(0).fd.get()))
			<< "the fence timed out: the test is void";

		ASSERT_TRUE(fence.signal());
		/* The commits made before the new toplevel apply: none is its initial commit. */
		ASSERT_TRUE(scene.server.drawFrames(2));
		ASSERT_TRUE(scene.client.roundtrip());
		EXPECT_EQ(scene.window.configures(), 0)
			<< "a commit made before the toplevel was taken for its initial commit";
		wl_surface_commit(scene.window.surface());
		ASSERT_TRUE(scene.window.waitConfigure());
		/* Not acked yet: this commit must not map it, with or without blue still there. */
		wl_surface_commit(scene.window.surface());
		ASSERT_TRUE(scene.client.roundtrip());
		EXPECT_EQ(scene.window.configures(), 1);
		EXPECT_FALSE(mapped(title)) << "mapped before its first configure was acked";
		scene.window.ack();
		ASSERT_TRUE(scene.window.present(scene.greenBuffer, 64, 48));
		std::optional<std::pair<int, int>> at = mapped(title);
		ASSERT_TRUE(at);
		EXPECT_EQ(scene.server.screenshot().at(at->first + 10, at->second + 10), 0xff00ff00u);
	}
}

/*
 * A synchronized subsurface's commit applies with its parent's, and not
 * before its own writes are done. A parent's commit that waits places
 * its children where they were when it was made.
 */
TEST_F(ImplicitFence, SubsurfacesWaitForTheirWritesAndTheirParentsCommits)
{
	Scene scene("parent");
	ASSERT_NO_FATAL_FAILURE(start(scene));
	bufmgr::Buffer yellow = buffer(0xffffff00);
	ASSERT_TRUE(yellow.isValid());
	Proxy<wl_buffer> yellowBuffer = wrap(scene.client, yellow);
	auto position = [&] {
		return scene.server.run([](comp::Server &s) {
			comp::View *view = s.findView("parent");
			for (comp::Subsurface *sub : view ? view->surface()->subsurfaces()
							  : std::vector<comp::Subsurface *>())
				if (sub)
					return std::pair(sub->x(), sub->y());
			return std::pair(-1, -1);
		});
	};

	/* Synchronized, as a subsurface starts. */
	Proxy<wl_surface> childSurface(wl_compositor_create_surface(scene.client.compositor));
	Proxy<wl_subsurface> child(wl_subcompositor_get_subsurface(scene.client.subcompositor, childSurface,
								   scene.window.surface()));
	WriteFence childFence(vgem_.get(), scene.blue.plane(0).fd.get());
	ASSERT_TRUE(childFence.attached());
	wl_subsurface_set_position(child, 16, 8);
	wl_surface_attach(childSurface, scene.blueBuffer, 0, 0);
	wl_surface_damage_buffer(childSurface, 0, 0, INT32_MAX, INT32_MAX);
	Frame childFrame;
	Proxy<wl_callback> childCallback(wl_surface_frame(childSurface));
	wl_callback_add_listener(childCallback, &frameListener, &childFrame);
	wl_surface_commit(childSurface);
	ASSERT_TRUE(scene.client.commitAndWaitFrame(scene.window.surface()));
	ASSERT_TRUE(scene.server.drawFrames(2));
	EXPECT_EQ(position(), std::pair(16, 8));
	EXPECT_EQ(scene.server.screenshot().at(20, 10), 0xff00ff00u) << "a subsurface shown before its writes ended";
	ASSERT_TRUE(scene.client.roundtrip());
	EXPECT_FALSE(childFrame.done);
	ASSERT_FALSE(writesDone(scene.blue.plane(0).fd.get())) << "the fence timed out: the test is void";
	ASSERT_TRUE(childFence.signal());
	ASSERT_TRUE(scene.client.dispatchUntil([&] { return childFrame.done; }));
	EXPECT_EQ(scene.server.screenshot().at(20, 10), 0xff0000ffu);
	EXPECT_EQ(scene.server.screenshot().at(10, 10), 0xff00ff00u);

	/* The parent's commit waits; the position set after it is the next one's. */
	WriteFence parentFence(vgem_.get(), yellow.plane(0).fd.get());
	ASSERT_TRUE(parentFence.attached());
	wl_subsurface_set_position(child, 32, 24);
	Frame parentFrame;
	Proxy<wl_callback> parentCallback = commit(scene.window, yellowBuffer, parentFrame);
	wl_subsurface_set_position(child, 0, 0);
	ASSERT_TRUE(scene.client.roundtrip());
	EXPECT_EQ(position(), std::pair(16, 8)) << "moved by a commit still waiting";
	ASSERT_FALSE(writesDone(yellow.plane(0).fd.get())) << "the fence timed out: the test is void";
	ASSERT_TRUE(parentFence.signal());
	ASSERT_TRUE(scene.client.dispatchUntil([&] { return parentFrame.done; }));
	EXPECT_EQ(position(), std::pair(32, 24));
	EXPECT_EQ(scene.server.screenshot().at(20, 10), 0xffffff00u);
	EXPECT_EQ(scene.server.screenshot().at(40, 30), 0xff0000ffu);
	wl_surface_commit(scene.window.surface());
	ASSERT_TRUE(scene.client.roundtrip());
	EXPECT_EQ(position(), std::pair(0, 0));
}

/*
 * A synchronized child's commit belongs to its parent's next commit: one
 * the parent made before it, still waiting, applies without it.
 */
TEST_F(ImplicitFence, AChildCommitWaitsForTheParentCommitAfterIt)
{
	Scene scene("parent");
	ASSERT_NO_FATAL_FAILURE(start(scene));
	bufmgr::Buffer yellow = buffer(0xffffff00), red = buffer(0xffff0000);
	ASSERT_TRUE(yellow.isValid() && red.isValid());
	Proxy<wl_buffer> yellowBuffer = wrap(scene.client, yellow), redBuffer = wrap(scene.client, red);
	Proxy<wl_surface> childSurface(wl_compositor_create_surface(scene.client.compositor));
	Proxy<wl_subsurface> child(wl_subcompositor_get_subsurface(
		scene.client.subcompositor, childSurface, scene.window.surface()));
	wl_subsurface_set_position(child, 16, 8);
	wl_surface_attach(childSurface, scene.blueBuffer, 0, 0);
	wl_surface_damage_buffer(childSurface, 0, 0, INT32_MAX, INT32_MAX);
	wl_surface_commit(childSurface);
	ASSERT_TRUE(scene.client.commitAndWaitFrame(scene.window.surface()));
	ASSERT_EQ(scene.server.screenshot().at(20, 10), 0xff0000ffu);

	WriteFence fence(vgem_.get(), yellow.plane(0).fd.get());
	ASSERT_TRUE(fence.attached());
	Frame parentFrame;
	Proxy<wl_callback> parentCallback = commit(scene.window, yellowBuffer, parentFrame);
	/* The child's, after the parent's waiting commit. */
	wl_surface_attach(childSurface, redBuffer, 0, 0);
	wl_surface_damage_buffer(childSurface, 0, 0, INT32_MAX, INT32_MAX);
	wl_surface_commit(childSurface);
	ASSERT_TRUE(scene.client.roundtrip());
	ASSERT_FALSE(writesDone(yellow.plane(0).fd.get())) << "the fence timed out: the test is void";
	ASSERT_TRUE(fence.signal());
	ASSERT_TRUE(scene.client.dispatchUntil([&] { return parentFrame.done; }));
	EXPECT_EQ(scene.server.screenshot().at(10, 10), 0xffffff00u);
	EXPECT_EQ(scene.server.screenshot().at(20, 10), 0xff0000ffu)
		<< "a child's commit applied with a parent commit made before it";

	ASSERT_TRUE(scene.client.commitAndWaitFrame(scene.window.surface()));
	EXPECT_EQ(scene.server.screenshot().at(20, 10), 0xffff0000u);
}

} /* namespace */
} /* namespace heapcomp::test */
