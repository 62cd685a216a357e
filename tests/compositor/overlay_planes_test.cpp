/* SPDX-License-Identifier: MIT */
/*
 * Client buffers on the headless output's overlay planes: which surface
 * goes on a plane and why the others do not, ZERO_COPY for it alone, no
 * composition while only its buffer changes, and the screen right as it
 * goes on and off its plane (the composed frame below it is never drawn
 * there while it is on).
 */
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "json.h"
#include "picture.h"
#include "presentation_record.h"
#include "scene/output_repaint.h"
#include "server_runner.h"
#include "stats_json.h"
#include "test_client.h"

namespace heapcomp::test {
namespace {

constexpr int kScreenWidth = 320, kScreenHeight = 240;
constexpr uint32_t kWhite = 0xffffffffu;
constexpr comp::Rect kChild{ 20, 20, 50, 40 };

comp::ServerConfig planesConfig(uint32_t planes)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.width = kScreenWidth;
	config.headless.height = kScreenHeight;
	config.headless.overlayPlanes = planes;
	return config;
}

/* A red 200x160 window with a blue desynchronized subsurface at kChild. */
class OverlayPlanes : public testing::Test
{
protected:
	void SetUp() override
	{
		ASSERT_TRUE(server.ok()) << server.error();
		ASSERT_TRUE(parent.ok);
		child = Proxy<wl_surface>(wl_compositor_create_surface(client.compositor));
		role = Proxy<wl_subsurface>(wl_subcompositor_get_subsurface(
			client.subcompositor, child, parent.window.surface()));
		wl_subsurface_set_position(role, kChild.x, kChild.y);
		wl_subsurface_set_desync(role);
		blue.fill(kBlue);
		green.fill(kGreen);
		ASSERT_TRUE(presentAndRecord(client, parent.window.surface(), nullptr).presented);
	}

	std::optional<comp::SurfacePlace> placeAt(const comp::Rect &rect)
	{
		for (const comp::SurfacePlace &place :
		     server.run([](comp::Server &s) { return s.surfacePlaces(); }))
			if (place.destination == rect)
				return place;
		return std::nullopt;
	}

	/* The screen with the child showing colour, and what else is given drawn over it. */
	Picture screen(uint32_t colour) const
	{
		Picture want(kScreenWidth, kScreenHeight, kBackground);
		want.fillRect(0, 0, 200, 160, kRed);
		want.fillRect(kChild.x, kChild.y, kChild.width, kChild.height, colour);
		return want;
	}

	ServerRunner server{ planesConfig(1) };
	TestClient client{ server.socket() };
	MappedWindow parent{ client, "parent", 200, 160, kRed };
	Proxy<wl_surface> child;
	Proxy<wl_subsurface> role;
	ShmBuffer blue{ client.shm, uint32_t(kChild.width), uint32_t(kChild.height) };
	ShmBuffer green{ client.shm, uint32_t(kChild.width), uint32_t(kChild.height) };
};

TEST_F(OverlayPlanes, TopmostBufferGoesOnThePlaneZeroCopy)
{
	ASSERT_TRUE(presentAndRecord(client, child, blue.buffer()).presented);
	PresentationRecord onPlane = presentAndRecord(client, child, green.buffer());
	ASSERT_TRUE(onPlane.presented);
	EXPECT_TRUE(onPlane.zeroCopy());
	auto childPlace = placeAt(kChild);
	ASSERT_TRUE(childPlace);
	EXPECT_EQ(childPlace->where, comp::SurfacePlace::Where::Overlay) << childPlace->reason;
	/* One plane: the window below it is composed. */
	auto parentPlace = placeAt(comp::Rect{ 0, 0, 200, 160 });
	ASSERT_TRUE(parentPlace);
	EXPECT_EQ(parentPlace->where, comp::SurfacePlace::Where::Composed);
	EXPECT_EQ(parentPlace->reason, "no free overlay plane");
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen(kGreen)));

	/* heapctl planes: each surface, top first, where it went and why. */
	const std::string text = server.run([](comp::Server &s) { return comp::planesJson(s); });
	std::optional<Json> json = parseJson(text);
	ASSERT_TRUE(json) << text;
	const Json &surfaces = at(at(*json, { "outputs" }).array.at(0), { "surfaces" });
	ASSERT_EQ(surfaces.array.size(), 2u) << text;
	EXPECT_EQ(string(surfaces.array[0], { "plane" }), "overlay") << text;
	EXPECT_EQ(number(surfaces.array[0], { "x" }), uint64_t(kChild.x)) << text;
	EXPECT_EQ(string(surfaces.array[1], { "plane" }), "composed") << text;
	EXPECT_EQ(string(surfaces.array[1], { "composed_because" }), "no free overlay plane") << text;

	PresentationRecord composed = presentAndRecord(client, parent.window.surface(), nullptr);
	ASSERT_TRUE(composed.presented);
	EXPECT_FALSE(composed.zeroCopy());

	/* Only the child's buffer changes: nothing composed. */
	const comp::RepaintStats before = server.run([](comp::Server &s) { return s.repaintStats(); });
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(presentAndRecord(client, child, i % 2 ? green.buffer() : blue.buffer())
				    .zeroCopy());
	const comp::RepaintStats after = server.run([](comp::Server &s) { return s.repaintStats(); });
	EXPECT_EQ(after.rendered, before.rendered);
	EXPECT_EQ(after.planesUpdated, before.planesUpdated + 4);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen(kGreen)));
}

/*
 * A translucent label over the child (composed content above it) takes
 * it off its plane, and it is drawn whole though no buffer held it;
 * moved away, the child is back on its plane and the label's old place
 * shows the child again.
 */
TEST_F(OverlayPlanes, OnAndOffThePlaneLeavesNoStalePixels)
{
	ASSERT_TRUE(presentAndRecord(client, child, blue.buffer()).presented);
	ASSERT_TRUE(presentAndRecord(client, child, blue.buffer()).zeroCopy());
	/* The window drawn into every output buffer while the child is on its plane. */
	for (int i = 0; i < 3; i++)
		ASSERT_FALSE(presentAndRecord(client, parent.window.surface(), parent.buffer.buffer())
				     .zeroCopy());

	const comp::Rect label{ 10, 10, 30, 30 };
	Proxy<wl_surface> labelSurface(wl_compositor_create_surface(client.compositor));
	Proxy<wl_subsurface> labelRole(wl_subcompositor_get_subsurface(
		client.subcompositor, labelSurface, parent.window.surface()));
	wl_subsurface_set_position(labelRole, label.x, label.y);
	wl_subsurface_set_desync(labelRole);
	/* ARGB without an opaque region: translucent for the compositor, white on screen. */
	ShmBuffer white(client.shm, uint32_t(label.width), uint32_t(label.height),
			WL_SHM_FORMAT_ARGB8888);
	white.fill(kWhite);
	wl_surface_commit(parent.window.surface());
	ASSERT_TRUE(presentAndRecord(client, labelSurface, white.buffer()).presented);
	auto labelPlace = placeAt(label);
	ASSERT_TRUE(labelPlace);
	EXPECT_EQ(labelPlace->reason, "translucent");
	auto childPlace = placeAt(kChild);
	ASSERT_TRUE(childPlace);
	EXPECT_EQ(childPlace->where, comp::SurfacePlace::Where::Composed);
	EXPECT_EQ(childPlace->reason, "under composed content");
	Picture want = screen(kBlue);
	want.fillRect(label.x, label.y, label.width, label.height, kWhite);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, want));

	const comp::Rect moved{ 150, 100, 30, 30 };
	wl_subsurface_set_position(labelRole, moved.x, moved.y);
	ASSERT_TRUE(presentAndRecord(client, parent.window.surface(), nullptr).presented);
	want = screen(kBlue);
	want.fillRect(moved.x, moved.y, moved.width, moved.height, kWhite);
	for (int i = 0; i < 3; i++) {
		EXPECT_TRUE(presentAndRecord(client, child, blue.buffer()).zeroCopy()) << i;
		EXPECT_TRUE(shows(server.screenshot(), 0, 0, want)) << i;
	}
}

/*
 * An ARGB buffer whose opaque region covers it is opaque to the
 * compositor, but a plane would blend it by its alpha over what the
 * primary holds there: it is composed.
 */
TEST_F(OverlayPlanes, OpaqueRegionIsNotEnoughForAPlane)
{
	ShmBuffer argb(client.shm, uint32_t(kChild.width), uint32_t(kChild.height),
		       WL_SHM_FORMAT_ARGB8888);
	argb.fill(kBlue);
	Proxy<wl_region> opaque(wl_compositor_create_region(client.compositor));
	wl_region_add(opaque, 0, 0, kChild.width, kChild.height);
	wl_surface_set_opaque_region(child, opaque);
	for (int i = 0; i < 2; i++)
		EXPECT_FALSE(presentAndRecord(client, child, argb.buffer()).zeroCopy());
	auto place = placeAt(kChild);
	ASSERT_TRUE(place);
	EXPECT_EQ(place->reason, "a format with alpha");
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen(kBlue)));
}

/* Without overlay planes every buffer that does not fill the output is composed. */
TEST(OverlayPlanesOff, EverythingIsComposed)
{
	ServerRunner server(planesConfig(0));
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow window(client, "window", 100, 80, kRed);
	ASSERT_TRUE(window.ok);
	PresentationRecord frame = presentAndRecord(client, window.window.surface(), nullptr);
	ASSERT_TRUE(frame.presented);
	EXPECT_FALSE(frame.zeroCopy());
	EXPECT_EQ(server.run([](comp::Server &s) { return s.repaintStats().planeFrames; }), 0u);
}

} /* namespace */
} /* namespace heapcomp::test */
