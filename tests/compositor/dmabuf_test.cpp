/* SPDX-License-Identifier: MIT */
/* linux-dmabuf v4 feedback as clients read it (any host). */
#include <gtest/gtest.h>

#include <chrono>
#include <drm_fourcc.h>
#include <sys/stat.h>
#include <thread>

#include "dmabuf_feedback.h"
#include "protocols/linux_dmabuf.h"
#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

TEST(LinuxDmabuf, DefaultFeedback)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_TRUE(client.dmabuf) << "the renderer reads no dma-bufs here";
	ASSERT_EQ(client.dmabufVersion, 4u);

	DmabufFeedback feedback;
	ASSERT_TRUE(receiveDefaultFeedback(client, feedback));

	/* The table: 16-byte entries, sealed against writers. */
	ASSERT_FALSE(feedback.table.empty());
	EXPECT_EQ(feedback.tableSize, feedback.table.size() * 16);
	EXPECT_FALSE(feedback.tableWritable);
	EXPECT_EQ(feedback.mainDeviceBytes, sizeof(dev_t));
	auto expected = server.run([](comp::Server &s) {
		return std::make_pair(s.linuxDmabuf()->mainDevice(), s.linuxDmabuf()->formats());
	});
	EXPECT_EQ(feedback.mainDevice, expected.first);
	ASSERT_EQ(feedback.table.size(), expected.second.size());
	for (size_t i = 0; i < feedback.table.size(); i++) {
		EXPECT_EQ(feedback.table[i].format, expected.second[i].format);
		EXPECT_EQ(feedback.table[i].modifier, expected.second[i].modifier);
	}

	/* Headless scans nothing out: one tranche, everything, no flags. */
	ASSERT_EQ(feedback.tranches.size(), 1u);
	const DmabufFeedback::Tranche &tranche = feedback.tranches[0];
	EXPECT_EQ(tranche.device, feedback.mainDevice);
	EXPECT_EQ(tranche.flags, 0u);
	EXPECT_EQ(tranche.indices.size(), feedback.table.size());
	EXPECT_TRUE(feedback.has(tranche, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR));
	EXPECT_TRUE(feedback.has(tranche, DRM_FORMAT_ARGB8888, DRM_FORMAT_MOD_LINEAR));
	/* Implicit modifiers too: GBM without modifier support makes those. */
	EXPECT_TRUE(feedback.has(tranche, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_INVALID));
	EXPECT_TRUE(feedback.has(tranche, DRM_FORMAT_ARGB8888, DRM_FORMAT_MOD_INVALID));
}

/*
 * --render-node names the main device, and the tranche's; this host has no
 * DRM node, so a character device stands for one. A path that is none
 * stops the start with its reason.
 */
TEST(LinuxDmabuf, MainDeviceIsTheRenderNodeGiven)
{
	struct stat node;
	ASSERT_EQ(stat("/dev/zero", &node), 0);
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.renderNode = "/dev/zero";
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_TRUE(client.dmabuf);
	DmabufFeedback feedback;
	ASSERT_TRUE(receiveDefaultFeedback(client, feedback));
	EXPECT_EQ(feedback.mainDevice, node.st_rdev);
	ASSERT_EQ(feedback.tranches.size(), 1u);
	EXPECT_EQ(feedback.tranches[0].device, node.st_rdev);

	for (const char *path : { "/nonexistent/renderD128", "/etc/hostname" }) {
		comp::ServerConfig bad = ServerRunner::defaultConfig();
		bad.headless.renderNode = path;
		ServerRunner refused(bad);
		EXPECT_FALSE(refused.ok()) << path;
		EXPECT_NE(refused.error().find(std::string("render node ") + path), std::string::npos)
			<< refused.error();
	}
}

TEST(LinuxDmabuf, SurfaceFeedbackHasNoScanoutTrancheOnHeadless)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_TRUE(client.dmabuf);
	Window window(client, "feedback");
	DmabufFeedback feedback;
	Proxy<zwp_linux_dmabuf_feedback_v1> object(
		zwp_linux_dmabuf_v1_get_surface_feedback(client.dmabuf, window.surface()));
	feedback.listen(object);
	ASSERT_TRUE(client.dispatchUntil([&] { return feedback.dones == 1; }));
	ASSERT_EQ(feedback.tranches.size(), 1u);
	EXPECT_EQ(feedback.tranches[0].flags & ZWP_LINUX_DMABUF_FEEDBACK_V1_TRANCHE_FLAGS_SCANOUT,
		  0u);

	/* Frames go by; with no scanout decision nothing is resent. */
	ShmBuffer buffer(client.shm, 16, 16);
	buffer.fill(0xffffffff);
	ASSERT_TRUE(window.waitConfigure());
	window.ack();
	for (int i = 0; i < 5; i++)
		ASSERT_TRUE(window.present(buffer.buffer(), 16, 16));
	EXPECT_EQ(feedback.dones, 1);
}

TEST(LinuxDmabuf, OlderVersionsGetFormatEvents)
{
	ServerRunner server;
	ASSERT_TRUE(server.ok()) << server.error();
	wl_display *display = wl_display_connect(server.socket().c_str());
	ASSERT_TRUE(display);
	struct State {
		zwp_linux_dmabuf_v1 *dmabuf = nullptr;
		std::vector<std::pair<uint32_t, uint64_t>> modifiers;
	} state;
	static const wl_registry_listener registryListener = {
		.global = [](void *data, wl_registry *registry, uint32_t name, const char *iface,
			     uint32_t) {
			if (std::string(iface) == zwp_linux_dmabuf_v1_interface.name)
				static_cast<State *>(data)->dmabuf = static_cast<zwp_linux_dmabuf_v1 *>(
					wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, 3));
		},
		.global_remove = [](void *, wl_registry *, uint32_t) {},
	};
	static const zwp_linux_dmabuf_v1_listener dmabufListener = {
		.format = [](void *, zwp_linux_dmabuf_v1 *, uint32_t) {},
		.modifier = [](void *data, zwp_linux_dmabuf_v1 *, uint32_t format, uint32_t hi,
			       uint32_t lo) {
			static_cast<State *>(data)->modifiers.emplace_back(
				format, (uint64_t(hi) << 32) | lo);
		},
	};
	wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registryListener, &state);
	wl_display_roundtrip(display);
	ASSERT_TRUE(state.dmabuf);
	zwp_linux_dmabuf_v1_add_listener(state.dmabuf, &dmabufListener, &state);
	wl_display_roundtrip(display);
	EXPECT_NE(std::find(state.modifiers.begin(), state.modifiers.end(),
			    std::make_pair(uint32_t(DRM_FORMAT_XRGB8888), uint64_t(DRM_FORMAT_MOD_LINEAR))),
		  state.modifiers.end());
	zwp_linux_dmabuf_v1_destroy(state.dmabuf);
	wl_registry_destroy(registry);
	wl_display_disconnect(display);
}

/* A headless backend that "could scan out" every surface when told to. */
class ScanoutBackend : public comp::HeadlessBackend
{
public:
	using comp::HeadlessBackend::HeadlessBackend;

	std::optional<comp::ScanoutTranche> scanoutTranche(const comp::Surface &) const override
	{
		asked++;
		return tranche;
	}

	std::optional<comp::ScanoutTranche> tranche;
	/* Calls of scanoutTranche(), on the server thread. */
	mutable int asked = 0;
};

/*
 * A server on a ScanoutBackend; *backend is set once it runs. No frame
 * runs unless a test steps the clock: the feedback must not need any.
 */
comp::ServerConfig scanoutConfig(ScanoutBackend **backend, std::chrono::milliseconds hysteresis)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.frameClock = comp::FrameClock::Manual;
	config.scanoutHysteresis = hysteresis;
	config.createBackend = [backend](wl_event_loop *loop, bufmgr::BufferManager &manager,
					 const comp::ServerConfig &c,
					 comp::HeadlessBackend::BufferDropHook hook) {
		auto b = std::make_unique<ScanoutBackend>(loop, manager, c.headless, std::move(hook));
		*backend = b.get();
		return std::unique_ptr<comp::Backend>(std::move(b));
	};
	return config;
}

comp::ScanoutTranche testTranche()
{
	comp::ScanoutTranche tranche;
	tranche.device = 0x1234;
	tranche.formats = { { DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR },
			    { DRM_FORMAT_ABGR16161616F, DRM_FORMAT_MOD_LINEAR } };
	return tranche;
}

/* The backend changes its mind and says so, as after a plane reassignment. */
void decide(ServerRunner &server, ScanoutBackend *backend,
	    std::optional<comp::ScanoutTranche> tranche)
{
	server.run([&](comp::Server &s) {
		backend->tranche = tranche;
		s.scanoutCandidatesChanged();
	});
}

void sleepMs(int ms)
{
	std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

/* A client with a role-less surface and its feedback, on a ScanoutBackend. */
struct ScanoutSetup {
	explicit ScanoutSetup(std::chrono::milliseconds hysteresis)
		: server(scanoutConfig(&backend, hysteresis))
	{
	}

	/* Connects and waits for the first feedback. */
	bool start()
	{
		if (!server.ok())
			return false;
		client = std::make_unique<TestClient>(server.socket());
		if (!client->dmabuf)
			return false;
		surface.reset(wl_compositor_create_surface(client->compositor));
		object.reset(zwp_linux_dmabuf_v1_get_surface_feedback(client->dmabuf, surface));
		feedback.listen(object);
		return client->dispatchUntil([&] { return feedback.dones == 1; });
	}

	ScanoutBackend *backend = nullptr;
	ServerRunner server;
	std::unique_ptr<TestClient> client;
	Proxy<wl_surface> surface;
	DmabufFeedback feedback;
	Proxy<zwp_linux_dmabuf_feedback_v1> object;
};

/* No frame runs meanwhile: the hysteresis has its own timer. */
TEST(LinuxDmabuf, ScanoutTrancheWaitsForAStableDecision)
{
	constexpr auto kHysteresis = std::chrono::milliseconds(300);
	ScanoutSetup setup(kHysteresis);
	ASSERT_TRUE(setup.start()) << setup.server.error();
	ServerRunner &server = setup.server;
	ScanoutBackend *backend = setup.backend;
	TestClient &client = *setup.client;
	DmabufFeedback &feedback = setup.feedback;
	ASSERT_EQ(feedback.tranches.size(), 1u);

	/*
	 * Flapping faster than the hysteresis, for longer than it, never
	 * reaches the client: each change starts the wait again.
	 */
	comp::ScanoutTranche tranche = testTranche();
	auto flapStart = std::chrono::steady_clock::now();
	while (std::chrono::steady_clock::now() - flapStart < kHysteresis + kHysteresis / 2) {
		decide(server, backend, tranche);
		sleepMs(20);
		decide(server, backend, std::nullopt);
		sleepMs(20);
	}
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(feedback.dones, 1);

	/*
	 * A decision that holds is sent, scanout tranche first. This one
	 * is found at the surface's commit, with no other call.
	 */
	server.run([&](comp::Server &) { backend->tranche = tranche; });
	wl_surface_commit(setup.surface);
	ASSERT_TRUE(client.roundtrip());
	auto start = std::chrono::steady_clock::now();
	feedback.tranches.clear();
	ASSERT_TRUE(client.dispatchUntil([&] { return feedback.dones == 2; }));
	EXPECT_GE(std::chrono::steady_clock::now() - start,
		  kHysteresis - std::chrono::milliseconds(50));
	ASSERT_EQ(feedback.tranches.size(), 2u);
	const DmabufFeedback::Tranche &scanout = feedback.tranches[0];
	EXPECT_EQ(scanout.device, dev_t(0x1234));
	EXPECT_EQ(scanout.flags, uint32_t(ZWP_LINUX_DMABUF_FEEDBACK_V1_TRANCHE_FLAGS_SCANOUT));
	/* Only formats in the table (the renderer's) can be offered. */
	EXPECT_TRUE(feedback.has(scanout, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR));
	EXPECT_EQ(scanout.indices.size(), 1u);
	EXPECT_EQ(feedback.tranches[1].flags, 0u);

	/* And withdrawn the same way. */
	decide(server, backend, std::nullopt);
	feedback.tranches.clear();
	ASSERT_TRUE(client.dispatchUntil([&] { return feedback.dones == 3; }));
	ASSERT_EQ(feedback.tranches.size(), 1u);
	EXPECT_EQ(feedback.tranches[0].flags, 0u);
	EXPECT_EQ(server.frames(), 0u);
}

/*
 * A second feedback for the same surface, made while a new decision waits
 * out its hysteresis, tells what the first told; both then change at
 * once. A commit asks the backend once, however many feedbacks follow.
 */
TEST(LinuxDmabuf, FeedbacksOfOneSurfaceTellOneDecision)
{
	constexpr auto kHysteresis = std::chrono::milliseconds(2000);
	ScanoutSetup setup(kHysteresis);
	ASSERT_TRUE(setup.start()) << setup.server.error();
	ASSERT_EQ(setup.feedback.tranches.size(), 1u);

	decide(setup.server, setup.backend, testTranche());
	DmabufFeedback second;
	Proxy<zwp_linux_dmabuf_feedback_v1> secondObject(
		zwp_linux_dmabuf_v1_get_surface_feedback(setup.client->dmabuf, setup.surface));
	second.listen(secondObject);
	ASSERT_TRUE(setup.client->dispatchUntil([&] { return second.dones == 1; }));
	EXPECT_EQ(second.tranches.size(), 1u) << "told a decision the first feedback was not told";
	EXPECT_EQ(setup.feedback.dones, 1);

	second.tranches.clear();
	setup.feedback.tranches.clear();
	ASSERT_TRUE(setup.client->dispatchUntil(
		[&] { return setup.feedback.dones == 2 && second.dones == 2; }));
	EXPECT_EQ(setup.feedback.tranches.size(), 2u);
	EXPECT_EQ(second.tranches.size(), 2u);

	auto asked = [&] {
		return setup.server.run([&](comp::Server &) { return setup.backend->asked; });
	};
	const int before = asked();
	wl_surface_commit(setup.surface);
	ASSERT_TRUE(setup.client->roundtrip());
	EXPECT_EQ(asked(), before + 1);
}

/* The surface going first leaves its feedback object inert, timer and all. */
TEST(LinuxDmabuf, FeedbackOutlivingItsSurfaceIsInert)
{
	ScanoutSetup setup(std::chrono::milliseconds(100));
	ASSERT_TRUE(setup.start()) << setup.server.error();
	ServerRunner &server = setup.server;
	ScanoutBackend *backend = setup.backend;
	TestClient &client = *setup.client;

	/* A new decision is waiting out its hysteresis when the surface goes. */
	decide(server, backend, testTranche());
	setup.surface.reset();
	ASSERT_TRUE(client.roundtrip());
	sleepMs(200);
	/* Asked again without a surface: nothing to decide for. */
	decide(server, backend, std::nullopt);
	decide(server, backend, testTranche());
	sleepMs(200);
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(setup.feedback.dones, 1);

	setup.object.reset();
	ASSERT_TRUE(client.roundtrip());
	EXPECT_FALSE(client.error());
}

} /* namespace */
} /* namespace heapcomp::test */
