/* SPDX-License-Identifier: MIT */
/*
 * Client buffers on the headless output's overlay planes: which surface
 * goes on a plane and why the others do not, ZERO_COPY for it alone, no
 * composition while only its buffer changes, and the screen right as it
 * goes on and off its plane (the composed frame below it is never drawn
 * there while it is on). Planes that blend take translucent buffers too,
 * over a composed frame that then holds what is below them.
 */
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "colour.h"
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

comp::ServerConfig planesConfig(uint32_t planes, bool blend = false)
{
	comp::ServerConfig config = ServerRunner::defaultConfig();
	config.headless.width = kScreenWidth;
	config.headless.height = kScreenHeight;
	config.headless.overlayPlanes = planes;
	config.headless.overlayPlanesBlend = blend;
	return config;
}

/* A desynchronized subsurface of parent with its corner at (x, y). */
struct Subsurface {
	Subsurface(TestClient &client, wl_surface *parent, int32_t x, int32_t y)
		: surface(wl_compositor_create_surface(client.compositor)),
		  role(wl_subcompositor_get_subsurface(client.subcompositor, surface, parent))
	{
		wl_subsurface_set_position(role, x, y);
		wl_subsurface_set_desync(role);
	}
	Proxy<wl_surface> surface;
	Proxy<wl_subsurface> role;
};

/* Four frames of surface on its plane, a then b in turn: each ZERO_COPY, none composed. */
void expectPlaneUpdatesOnly(ServerRunner &server, TestClient &client, wl_surface *surface,
			    wl_buffer *a, wl_buffer *b)
{
	const comp::RepaintStats before = server.run([](comp::Server &s) { return s.repaintStats(); });
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(presentAndRecord(client, surface, i % 2 ? b : a).zeroCopy()) << i;
	const comp::RepaintStats after = server.run([](comp::Server &s) { return s.repaintStats(); });
	EXPECT_EQ(after.rendered, before.rendered);
	EXPECT_EQ(after.planesUpdated, before.planesUpdated + 4);
}

/*
 * A red 200x160 window with a blue desynchronized subsurface at kChild,
 * on planes that take only opaque buffers.
 */
class OverlayPlanes : public testing::Test
{
protected:
	void SetUp() override
	{
		ASSERT_TRUE(server.ok()) << server.error();
		ASSERT_TRUE(parent.ok);
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
	Subsurface sub{ client, parent.window.surface(), kChild.x, kChild.y };
	wl_surface *child = sub.surface;
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
	expectPlaneUpdatesOnly(server, client, child, blue.buffer(), green.buffer());
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
	Subsurface labelSub(client, parent.window.surface(), label.x, label.y);
	wl_surface *labelSurface = labelSub.surface;
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
	wl_subsurface_set_position(labelSub.role, moved.x, moved.y);
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

/*
 * Planes that blend: a translucent subsurface goes on one, ZERO_COPY,
 * blended over the composed window. The composed frame below it holds
 * the window, not the subsurface drawn while it was composed, and is
 * drawn again there when the window changes; the subsurface's own new
 * frames compose nothing.
 */
TEST(BlendingOverlayPlanes, TranslucentBufferIsBlendedOverTheComposedFrame)
{
	ServerRunner server(planesConfig(1, true));
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow parent(client, "parent", 200, 160, kRed);
	ASSERT_TRUE(parent.ok);
	Subsurface sub(client, parent.window.surface(), kChild.x, kChild.y);
	wl_surface *child = sub.surface;
	ASSERT_TRUE(presentAndRecord(client, parent.window.surface(), nullptr).presented);

	/* Half-transparent green and blue, premultiplied; no opaque region. */
	constexpr uint32_t kHalfGreen = 0x80008000u, kHalfBlue = 0x80000080u;
	ShmBuffer green(client.shm, uint32_t(kChild.width), uint32_t(kChild.height),
			WL_SHM_FORMAT_ARGB8888);
	ShmBuffer blue(client.shm, uint32_t(kChild.width), uint32_t(kChild.height),
		       WL_SHM_FORMAT_ARGB8888);
	green.fill(kHalfGreen);
	blue.fill(kHalfBlue);

	/* First composed: an opaque label above it takes the one plane. */
	const comp::Rect label{ 10, 10, 30, 30 };
	Subsurface labelSub(client, parent.window.surface(), label.x, label.y);
	wl_surface *labelSurface = labelSub.surface;
	ShmBuffer white(client.shm, uint32_t(label.width), uint32_t(label.height));
	white.fill(kWhite);
	ASSERT_TRUE(presentAndRecord(client, child, green.buffer()).presented);
	wl_surface_commit(parent.window.surface());
	ASSERT_TRUE(presentAndRecord(client, labelSurface, white.buffer()).presented);
	ASSERT_TRUE(presentAndRecord(client, labelSurface, white.buffer()).zeroCopy());
	auto places = server.run([](comp::Server &s) { return s.surfacePlaces(); });
	ASSERT_EQ(places.size(), 3u);
	EXPECT_EQ(places[1].destination, kChild);
	EXPECT_EQ(places[1].reason, "no free overlay plane");

	/* The label gone, the subsurface takes the plane. */
	wl_surface_attach(labelSurface, nullptr, 0, 0);
	wl_surface_commit(labelSurface);
	PresentationRecord onPlane = presentAndRecord(client, child, green.buffer());
	ASSERT_TRUE(onPlane.presented);
	EXPECT_TRUE(onPlane.zeroCopy());
	places = server.run([](comp::Server &s) { return s.surfacePlaces(); });
	ASSERT_EQ(places.size(), 2u);
	EXPECT_EQ(places[0].where, comp::SurfacePlace::Where::Overlay) << places[0].reason;
	EXPECT_EQ(places[0].destination, kChild);

	auto screen = [](uint32_t window, uint32_t child) {
		Picture want(kScreenWidth, kScreenHeight, kBackground);
		want.fillRect(0, 0, 200, 160, window);
		want.fillRect(kChild.x, kChild.y, kChild.width, kChild.height, over(child, window));
		return want;
	};
	/* Over the window alone: the subsurface composed there before is gone from below it. */
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen(kRed, kHalfGreen)));

	/* The window changes: below the plane too. */
	parent.buffer.fill(kBlue);
	ASSERT_FALSE(presentAndRecord(client, parent.window.surface(), parent.buffer.buffer())
			     .zeroCopy());
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen(kBlue, kHalfGreen)));

	/* Only the subsurface's buffer changes: nothing composed, each blended over the window. */
	expectPlaneUpdatesOnly(server, client, child, blue.buffer(), green.buffer());
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen(kBlue, kHalfGreen)));

	/*
	 * Made opaque (an XRGB buffer): the window's change under it alone
	 * is not drawn. Translucent again, that change is drawn below it.
	 */
	ShmBuffer solid(client.shm, uint32_t(kChild.width), uint32_t(kChild.height));
	solid.fill(kGreen);
	EXPECT_TRUE(presentAndRecord(client, child, solid.buffer()).zeroCopy());
	const comp::Rect under{ kChild.x + 10, kChild.y + 10, 10, 10 };
	parent.buffer.fillRect(under.x, under.y, under.width, under.height, kRed);
	wl_surface_attach(parent.window.surface(), parent.buffer.buffer(), 0, 0);
	wl_surface_damage_buffer(parent.window.surface(), under.x, under.y, under.width,
				 under.height);
	ASSERT_TRUE(presentAndRecord(client, parent.window.surface(), nullptr).presented);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen(kBlue, kGreen)));
	EXPECT_TRUE(presentAndRecord(client, child, blue.buffer()).zeroCopy());
	Picture want = screen(kBlue, kHalfBlue);
	want.fillRect(under.x, under.y, under.width, under.height, over(kHalfBlue, kRed));
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, want));
}

/*
 * Planes only: a window that covers the output on the primary plane, its
 * child on the overlay plane, nothing composed and both ZERO_COPY. A
 * second child, with no plane left for it, brings composition back,
 * drawn whole; once it goes, planes only again. The screen is right at
 * each step.
 */
TEST(PlanesOnly, WindowOnThePrimaryPlaneAndItsChildOnAnOverlayPlane)
{
	ServerRunner server(planesConfig(1));
	ASSERT_TRUE(server.ok()) << server.error();
	TestClient client(server.socket());
	MappedWindow window(client, "whole", kScreenWidth, kScreenHeight, kRed);
	ASSERT_TRUE(window.ok);
	wl_surface *parent = window.window.surface();
	Subsurface sub(client, parent, kChild.x, kChild.y);
	wl_surface *child = sub.surface;
	ASSERT_TRUE(presentAndRecord(client, parent, nullptr).presented);
	ShmBuffer blue(client.shm, uint32_t(kChild.width), uint32_t(kChild.height));
	ShmBuffer green(client.shm, uint32_t(kChild.width), uint32_t(kChild.height));
	blue.fill(kBlue);
	green.fill(kGreen);
	auto stats = [&] { return server.run([](comp::Server &s) { return s.repaintStats(); }); };
	auto screen = [](uint32_t colour) {
		Picture want(kScreenWidth, kScreenHeight, kRed);
		want.fillRect(kChild.x, kChild.y, kChild.width, kChild.height, colour);
		return want;
	};

	ASSERT_TRUE(presentAndRecord(client, child, blue.buffer()).presented);
	const comp::RepaintStats before = stats();
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(presentAndRecord(client, child, i % 2 ? green.buffer() : blue.buffer())
				    .zeroCopy())
			<< i;
	EXPECT_TRUE(presentAndRecord(client, parent, nullptr).zeroCopy());
	comp::RepaintStats after = stats();
	EXPECT_EQ(after.rendered, before.rendered) << "composed";
	/* Frames that changed nothing complete without a commit (the same buffer again). */
	EXPECT_GE(after.scannedOut, before.scannedOut + 3);
	EXPECT_EQ(after.planeFrames - before.planeFrames, after.scannedOut - before.scannedOut);
	auto places = server.run([](comp::Server &s) { return s.surfacePlaces(); });
	ASSERT_EQ(places.size(), 2u);
	EXPECT_EQ(places[0].where, comp::SurfacePlace::Where::Overlay) << places[0].reason;
	EXPECT_EQ(places[0].destination, kChild);
	EXPECT_EQ(places[1].where, comp::SurfacePlace::Where::Primary) << places[1].reason;
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen(kGreen)));

	/* One plane for two children: the window is composed, and the lower child. */
	const comp::Rect label{ 200, 150, 30, 30 };
	Subsurface labelSub(client, parent, label.x, label.y);
	ShmBuffer white(client.shm, uint32_t(label.width), uint32_t(label.height));
	white.fill(kWhite);
	wl_surface_commit(parent);
	ASSERT_TRUE(presentAndRecord(client, labelSub.surface, white.buffer()).presented);
	ASSERT_TRUE(presentAndRecord(client, labelSub.surface, white.buffer()).zeroCopy());
	EXPECT_FALSE(presentAndRecord(client, child, blue.buffer()).zeroCopy());
	EXPECT_GT(stats().rendered, after.rendered);
	places = server.run([](comp::Server &s) { return s.surfacePlaces(); });
	ASSERT_EQ(places.size(), 3u);
	EXPECT_EQ(places[1].reason, "no free overlay plane");
	EXPECT_EQ(places[2].where, comp::SurfacePlace::Where::Composed);
	Picture want = screen(kBlue);
	want.fillRect(label.x, label.y, label.width, label.height, kWhite);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, want));

	/* The label gone: planes only again, and no trace of it. */
	wl_surface_attach(labelSub.surface, nullptr, 0, 0);
	wl_surface_commit(labelSub.surface);
	after = stats();
	EXPECT_TRUE(presentAndRecord(client, child, green.buffer()).zeroCopy());
	EXPECT_TRUE(presentAndRecord(client, parent, nullptr).zeroCopy());
	EXPECT_EQ(stats().rendered, after.rendered);
	EXPECT_TRUE(shows(server.screenshot(), 0, 0, screen(kGreen)));
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
