/* SPDX-License-Identifier: MIT */
/* linux-dmabuf v4 feedback as clients read it (any host). */
#include <gtest/gtest.h>

#include <drm_fourcc.h>

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
	Proxy<zwp_linux_dmabuf_feedback_v1> object(
		zwp_linux_dmabuf_v1_get_default_feedback(client.dmabuf));
	feedback.listen(object);
	ASSERT_TRUE(client.dispatchUntil([&] { return feedback.dones == 1; }));

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
	object.reset();

	/* The surface going first leaves the feedback object inert. */
	Proxy<zwp_linux_dmabuf_feedback_v1> orphan(
		zwp_linux_dmabuf_v1_get_surface_feedback(client.dmabuf, window.surface()));
	DmabufFeedback ignored;
	ignored.listen(orphan);
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(ignored.dones, 1);
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

/* Runs frames (the decision is re-evaluated at each) until cond holds. */
bool framesUntil(ServerRunner &server, TestClient &client, const std::function<bool()> &cond)
{
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
	while (!cond()) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		if (!server.waitFrames(1) || !client.roundtrip())
			return false;
	}
	return true;
}

/* A headless backend that "could scan out" a surface when told to. */
class ScanoutBackend : public comp::HeadlessBackend
{
public:
	using comp::HeadlessBackend::HeadlessBackend;

	std::optional<comp::ScanoutTranche> scanoutTranche(const comp::Surface &) const override
	{
		return tranche;
	}

	std::optional<comp::ScanoutTranche> tranche;
};

TEST(LinuxDmabuf, ScanoutTrancheWaitsForAStableDecision)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.scanoutHysteresis = std::chrono::milliseconds(300);
	ScanoutBackend *backend = nullptr;
	config.createBackend = [&backend](wl_event_loop *loop, bufmgr::BufferManager &manager,
					  const comp::ServerConfig &c,
					  comp::HeadlessBackend::BufferDropHook hook) {
		auto b = std::make_unique<ScanoutBackend>(loop, manager, c.headless, std::move(hook));
		backend = b.get();
		return std::unique_ptr<comp::Backend>(std::move(b));
	};
	ServerRunner server(config);
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	ASSERT_TRUE(client.dmabuf);
	Window window(client, "scanout");
	DmabufFeedback feedback;
	Proxy<zwp_linux_dmabuf_feedback_v1> object(
		zwp_linux_dmabuf_v1_get_surface_feedback(client.dmabuf, window.surface()));
	feedback.listen(object);
	ASSERT_TRUE(client.dispatchUntil([&] { return feedback.dones == 1; }));
	ASSERT_EQ(feedback.tranches.size(), 1u);

	comp::ScanoutTranche tranche;
	tranche.device = 0x1234;
	tranche.formats = { { DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR },
			    { DRM_FORMAT_ABGR16161616F, DRM_FORMAT_MOD_LINEAR } };
	auto setTranche = [&](std::optional<comp::ScanoutTranche> t) {
		server.run([&](comp::Server &) { backend->tranche = t; });
	};

	/* Flapping faster than the hysteresis never reaches the client. */
	for (int i = 0; i < 4; i++) {
		setTranche(tranche);
		ASSERT_TRUE(server.waitFrames(2));
		setTranche(std::nullopt);
		ASSERT_TRUE(server.waitFrames(2));
	}
	ASSERT_TRUE(client.roundtrip());
	EXPECT_EQ(feedback.dones, 1);

	/* A decision that holds is sent: scanout tranche first. */
	setTranche(tranche);
	auto start = std::chrono::steady_clock::now();
	feedback.tranches.clear();
	ASSERT_TRUE(framesUntil(server, client, [&] { return feedback.dones == 2; }));
	EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
	ASSERT_EQ(feedback.tranches.size(), 2u);
	const DmabufFeedback::Tranche &scanout = feedback.tranches[0];
	EXPECT_EQ(scanout.device, dev_t(0x1234));
	EXPECT_EQ(scanout.flags, uint32_t(ZWP_LINUX_DMABUF_FEEDBACK_V1_TRANCHE_FLAGS_SCANOUT));
	/* Only formats in the table (the renderer's) can be offered. */
	EXPECT_TRUE(feedback.has(scanout, DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR));
	EXPECT_EQ(scanout.indices.size(), 1u);
	EXPECT_EQ(feedback.tranches[1].flags, 0u);

	/* And withdrawn the same way. */
	setTranche(std::nullopt);
	feedback.tranches.clear();
	ASSERT_TRUE(framesUntil(server, client, [&] { return feedback.dones == 3; }));
	ASSERT_EQ(feedback.tranches.size(), 1u);
	EXPECT_EQ(feedback.tranches[0].flags, 0u);
}

} /* namespace */
} /* namespace heapcomp::test */
