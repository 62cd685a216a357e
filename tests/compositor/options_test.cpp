/* SPDX-License-Identifier: MIT */
/* The heapcomp command line. */
#include <gtest/gtest.h>

#include "options.h"

namespace heapcomp::test {
namespace {

TEST(Options, Defaults)
{
	auto options = comp::parseOptions({});
	ASSERT_TRUE(options);
	EXPECT_TRUE(options->server.socketName.empty());
	EXPECT_EQ(options->server.headless.width, 1280u);
	EXPECT_EQ(options->server.headless.height, 720u);
	EXPECT_EQ(options->server.headless.refreshMilliHz, 60000u);
	EXPECT_EQ(options->server.exitAfterFrames, 0u);
	EXPECT_TRUE(options->server.handleSignals);
	EXPECT_EQ(options->logLevel, comp::LogLevel::Info);
	EXPECT_FALSE(options->help);
	EXPECT_FALSE(options->overlay);
	EXPECT_FALSE(options->overlayInteractive);
}

TEST(Options, EveryOption)
{
	auto options = comp::parseOptions({ "--socket", "wl-test", "--width=640", "--height",
					    "480", "--refresh", "59.94", "--outputs", "2",
					    "--log-level", "debug", "--screenshot", "/tmp/x.png",
					    "--screenshot-frames", "5", "--exit-after-frames=9",
					    "--render-node", "/dev/dri/renderD128", "--surfaceless",
					    "--cpu-dmabuf", "--xkb-layout", "de", "--xkb-variant",
					    "nodeadkeys", "--xkb-options", "ctrl:nocaps",
					    "--overlay-interactive" });
	ASSERT_TRUE(options) << options.error().message();
	EXPECT_EQ(options->server.socketName, "wl-test");
	EXPECT_EQ(options->server.headless.width, 640u);
	EXPECT_EQ(options->server.headless.height, 480u);
	EXPECT_EQ(options->server.headless.refreshMilliHz, 59940u);
	EXPECT_EQ(options->server.headless.numOutputs, 2u);
	EXPECT_EQ(options->logLevel, comp::LogLevel::Debug);
	EXPECT_EQ(options->server.screenshotPath, "/tmp/x.png");
	EXPECT_EQ(options->server.screenshotFrames, 5u);
	EXPECT_EQ(options->server.exitAfterFrames, 9u);
	EXPECT_EQ(options->renderNode, "/dev/dri/renderD128");
	EXPECT_EQ(options->server.headless.renderNode, "/dev/dri/renderD128");
	EXPECT_TRUE(options->surfaceless);
	EXPECT_TRUE(options->cpuDmaBuf);
	EXPECT_EQ(options->server.xkbLayout, "de");
	EXPECT_EQ(options->server.xkbVariant, "nodeadkeys");
	EXPECT_EQ(options->server.xkbOptions, "ctrl:nocaps");
	EXPECT_TRUE(options->overlay);
	EXPECT_TRUE(options->overlayInteractive);
}

TEST(Options, DirectScanoutCanBeTurnedOff)
{
	auto on = comp::parseOptions({});
	auto off = comp::parseOptions({ "--no-direct-scanout" });
	ASSERT_TRUE(on && off);
	EXPECT_TRUE(on->server.headless.directScanout);
	EXPECT_FALSE(off->server.headless.directScanout);
}

TEST(Options, RendererAndLimits)
{
	auto defaults = comp::parseOptions({});
	ASSERT_TRUE(defaults);
	EXPECT_EQ(defaults->renderer, comp::RendererKind::Auto);
	EXPECT_EQ(defaults->server.limits.regionRects, comp::ClientLimits().regionRects);

	auto options = comp::parseOptions({ "--renderer", "pixman", "--limit", "region-rects=10",
					    "--limit=frame-callbacks=3" });
	ASSERT_TRUE(options) << options.error().message();
	EXPECT_EQ(options->renderer, comp::RendererKind::Pixman);
	EXPECT_EQ(options->server.limits.regionRects, 10u);
	EXPECT_EQ(options->server.limits.frameCallbacks, 3u);
}

TEST(Options, StatsPath)
{
	auto none = comp::parseOptions({});
	auto separate = comp::parseOptions({ "--stats", "/tmp/stats.json" });
	auto joined = comp::parseOptions({ "--stats=/tmp/joined.json" });
	ASSERT_TRUE(none && separate && joined);
	EXPECT_TRUE(none->server.statsPath.empty());
	EXPECT_EQ(separate->server.statsPath, "/tmp/stats.json");
	EXPECT_EQ(joined->server.statsPath, "/tmp/joined.json");
	EXPECT_FALSE(comp::parseOptions({ "--stats" }));
	EXPECT_FALSE(comp::parseOptions({ "--stats=" }));
	EXPECT_NE(comp::usage("heapcomp").find("--stats PATH"), std::string::npos);
}

TEST(Options, ControlSocketPath)
{
	auto none = comp::parseOptions({});
	auto separate = comp::parseOptions({ "--control-socket", "/tmp/ctl.sock" });
	auto joined = comp::parseOptions({ "--control-socket=/tmp/joined.sock" });
	ASSERT_TRUE(none && separate && joined);
	/* Empty: main puts it beside the Wayland socket. */
	EXPECT_TRUE(none->controlSocket.empty());
	EXPECT_EQ(separate->controlSocket, "/tmp/ctl.sock");
	EXPECT_EQ(joined->controlSocket, "/tmp/joined.sock");
	EXPECT_FALSE(comp::parseOptions({ "--control-socket" }));
	EXPECT_FALSE(comp::parseOptions({ "--control-socket=" }));
	EXPECT_NE(comp::usage("heapcomp").find("--control-socket PATH"), std::string::npos);
}

TEST(Options, BadValuesAreRejected)
{
	for (const std::vector<std::string> &args : std::vector<std::vector<std::string>>{
		     { "--width", "0" }, { "--width", "abc" }, { "--height" },
		     { "--refresh", "0" }, { "--refresh", "2000" }, { "--log-level", "loud" },
		     { "--socket", "a/b" }, { "--screenshot-frames", "3" }, { "--bogus" },
		     { "--outputs", "0" }, { "--renderer", "vulkan" }, { "--limit", "nothing=3" },
		     { "--limit", "region-rects" }, { "--limit", "region-rects=0" },
		     { "--limit", "frame-callbacks=-1" }, { "--backend", "x11" },
		     { "--backend", "drm", "--mode", "640" }, { "--backend", "drm", "--mode", "0x480" },
		     { "--backend", "drm", "--mode", "640x480@0" }, { "--mode", "640x480" },
		     { "--drm-device", "/dev/dri/card0" }, { "--no-vt-switch" },
		     { "--width", "64", "--" } }) {
		auto options = comp::parseOptions(args);
		EXPECT_FALSE(options) << args[0];
		if (!options) {
			EXPECT_EQ(options.error().code, EINVAL);
		}
	}
}

TEST(Options, DrmBackend)
{
	auto headless = comp::parseOptions({});
	ASSERT_TRUE(headless);
	EXPECT_FALSE(headless->server.createBackend) << "headless is the default";
	auto drm = comp::parseOptions({ "--backend", "drm", "--mode=640x480@60", "--drm-device",
					"/dev/dri/card0", "--scanout-requires", "contiguous",
					"--no-vt-switch" });
	ASSERT_TRUE(drm) << drm.error().context;
	EXPECT_TRUE(drm->server.createBackend);
	EXPECT_TRUE(drm->server.headless.scanoutRequiresContiguous);
}

/* --backend nested: headless's size options shape its windows. */
TEST(Options, NestedBackend)
{
	auto nested = comp::parseOptions({ "--backend=nested", "--width", "320", "--height",
					   "240", "--outputs", "2" });
	ASSERT_TRUE(nested) << nested.error().context;
	ASSERT_TRUE(nested->server.createBackend);
	auto manager = bufmgr::BufferManager::create();
	ASSERT_TRUE(manager);
	std::unique_ptr<comp::Backend> backend =
		nested->server.createBackend(nullptr, **manager, nested->server, {});
	ASSERT_TRUE(backend);
	EXPECT_EQ(backend->name(), "nested");
	EXPECT_EQ(nested->server.headless.width, 320u);
	EXPECT_EQ(nested->server.headless.numOutputs, 2u);
	EXPECT_FALSE(comp::parseOptions({ "--backend", "nested", "--mode", "640x480" }));
	EXPECT_NE(comp::usage("heapcomp").find("headless, drm or nested"), std::string::npos);

	/* How frames reach the host: its effect is tested nested (nested_test.cpp). */
	for (const char *how : { "auto", "shm", "dma-buf" })
		EXPECT_TRUE(comp::parseOptions({ "--backend", "nested", "--nested-buffers", how }))
			<< how;
	auto bad = comp::parseOptions({ "--backend", "nested", "--nested-buffers", "gem" });
	ASSERT_FALSE(bad);
	EXPECT_NE(bad.error().context.find("needs auto, shm or dma-buf"), std::string::npos);
	auto headless = comp::parseOptions({ "--nested-buffers", "shm" });
	ASSERT_FALSE(headless);
	EXPECT_NE(headless.error().context.find("needs --backend nested"), std::string::npos);
}

TEST(Options, CommandAfterDashes)
{
	auto options = comp::parseOptions({ "--width", "64", "--", "foot", "--server", "--width" });
	ASSERT_TRUE(options) << options.error().context;
	EXPECT_EQ(options->server.headless.width, 64u);
	/* Everything after -- is the command's, options included. */
	EXPECT_EQ(options->command,
		  (std::vector<std::string>{ "foot", "--server", "--width" }));
	auto none = comp::parseOptions({ "--width", "64" });
	ASSERT_TRUE(none);
	EXPECT_TRUE(none->command.empty());
}

TEST(Options, HelpDocumentsEveryOption)
{
	std::string text = comp::usage("heapcomp");
	for (const char *option : { "--socket", "--width", "--height", "--refresh", "--outputs",
				    "--log-level", "--screenshot", "--screenshot-frames",
				    "--exit-after-frames", "--render-node", "--surfaceless",
				    "--cpu-dmabuf", "--xkb-layout", "--xkb-variant",
				    "--xkb-options", "--renderer", "--limit", "--control-socket", "region-rects",
				    "frame-callbacks", "--backend", "--drm-device", "--mode",
				    "--no-vt-switch", "--overlay", "--help" })
		EXPECT_NE(text.find(option), std::string::npos) << option;
	auto help = comp::parseOptions({ "--help" });
	ASSERT_TRUE(help);
	EXPECT_TRUE(help->help);
}

} /* namespace */
} /* namespace heapcomp::test */
