/* SPDX-License-Identifier: MIT */
#include "options.h"

#include "backend/drm/drm_backend.h"
#include "backend/nested/nested_backend.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <sstream>

namespace comp {

namespace {

template<typename T>
bool parseNumber(const std::string &text, T *value)
{
	const char *end = text.data() + text.size();
	auto [ptr, ec] = std::from_chars(text.data(), end, *value);
	return ec == std::errc() && ptr == end;
}

bool parseRefresh(const std::string &text, uint32_t *milliHz);

/* WxH or WxH@HZ, as --mode takes it. */
bool parseMode(const std::string &text, DrmConfig *drm)
{
	size_t x = text.find('x');
	size_t at = text.find('@');
	if (x == std::string::npos)
		return false;
	std::string height = text.substr(x + 1, at == std::string::npos ? std::string::npos : at - x - 1);
	if (!parseNumber(text.substr(0, x), &drm->width) || !parseNumber(height, &drm->height) ||
	    !drm->width || !drm->height || drm->width > 16384 || drm->height > 16384)
		return false;
	drm->refreshMilliHz = 0;
	return at == std::string::npos || parseRefresh(text.substr(at + 1), &drm->refreshMilliHz);
}

bool parseRefresh(const std::string &text, uint32_t *milliHz)
{
	char *end = nullptr;
	errno = 0;
	double hz = strtod(text.c_str(), &end);
	if (errno || end == text.c_str() || *end || !(hz >= 1.0) || hz > 1000.0)
		return false;
	*milliHz = static_cast<uint32_t>(std::lround(hz * 1000.0));
	return true;
}

std::string limitsUsage(const ClientLimits &limits)
{
	std::string text;
	for (const ClientLimits::Entry &e : ClientLimits::entries()) {
		std::string line = "                             " + std::string(e.name) + ": " +
				   e.what + " (default " + std::to_string(limits.*e.value) + ")\n";
		text += line;
	}
	return text;
}

bool parseLimit(const std::string &text, ClientLimits *limits)
{
	const size_t eq = text.find('=');
	if (eq == std::string::npos)
		return false;
	const std::string name = text.substr(0, eq);
	for (const ClientLimits::Entry &e : ClientLimits::entries()) {
		if (name == e.name)
			return parseNumber(text.substr(eq + 1), &(limits->*e.value)) &&
			       limits->*e.value > 0;
	}
	return false;
}

/* The DRM backend, with the scanout switches shared with headless. */
BackendFactory drmBackendFactory(DrmConfig drm)
{
	return [drm](wl_event_loop *loop, bufmgr::BufferManager &manager, const ServerConfig &config,
		     HeadlessBackend::BufferDropHook dropHook) -> std::unique_ptr<Backend> {
		DrmConfig c = drm;
		c.directScanout = config.headless.directScanout;
		c.scanoutRequiresContiguous = config.headless.scanoutRequiresContiguous;
		c.renderNode = config.headless.renderNode;
		return std::make_unique<DrmBackend>(loop, manager, c, std::move(dropHook));
	};
}

/* The nested backend: headless's size and output count, as windows of the host. */
BackendFactory nestedBackendFactory(bool fullscreen, HostBuffers buffers)
{
	return [fullscreen, buffers](wl_event_loop *loop, bufmgr::BufferManager &manager,
				     const ServerConfig &config,
				     HeadlessBackend::BufferDropHook dropHook) -> std::unique_ptr<Backend> {
		NestedConfig c;
		c.fullscreen = fullscreen;
		c.buffers = buffers;
		c.width = config.headless.width;
		c.height = config.headless.height;
		c.numOutputs = config.headless.numOutputs;
		return std::make_unique<NestedBackend>(loop, manager, c, std::move(dropHook));
	};
}

} /* namespace */

std::string_view toString(OverlayRendererKind kind)
{
	switch (kind) {
	case OverlayRendererKind::Auto:
		return "auto";
	case OverlayRendererKind::Cpu:
		return "cpu";
	case OverlayRendererKind::Gles:
		return "gles";
	}
	return "?";
}

std::optional<OverlayRendererKind> parseOverlayRendererKind(std::string_view name)
{
	for (auto kind : { OverlayRendererKind::Auto, OverlayRendererKind::Cpu,
			   OverlayRendererKind::Gles }) {
		if (name == toString(kind))
			return kind;
	}
	return std::nullopt;
}

std::string usage(const std::string &program)
{
	ServerConfig d;
	std::ostringstream out;
	out << "Usage: " << program << " [OPTION]... [-- COMMAND [ARG]...]\n"
	    << "A Wayland compositor for boards, with a DMA-BUF buffer manager.\n"
	    << "Runs on a display (DRM/KMS), in a window of another Wayland compositor\n"
	    << "(nested) or headless, and prints the WAYLAND_DISPLAY to use.\n\n"
	    << "Options:\n"
	    << "  --backend NAME           headless, drm or nested (default headless); nested:\n"
	    << "                           each output a window in the compositor of the\n"
	    << "                           WAYLAND_DISPLAY heapcomp starts in; resizing a\n"
	    << "                           window resizes its output\n"
	    << "  --fullscreen             nested: each window asks the host for fullscreen\n"
	    << "  --nested-buffers HOW     nested: how frames go to the host: dma-buf, shm, or\n"
	    << "                           auto (default: dma-bufs where the host imports\n"
	    << "                           them, else wl_shm)\n"
	    << "  --drm-device PATH        DRM/KMS device (default: the first /dev/dri/card*\n"
	    << "                           with a connector)\n"
	    << "  --mode WxH[@HZ]          DRM output mode (default: the connector's preferred)\n"
	    << "  --no-vt-switch           DRM: Ctrl+Alt+Fn goes to the clients, not to the\n"
	    << "                           seat (a kiosk's users stay on its display)\n"
	    << "  --socket NAME            Wayland socket in $XDG_RUNTIME_DIR\n"
	    << "                           (default: the first free wayland-N)\n"
	    << "  --width N                headless and nested output width (default "
	    << d.headless.width << ")\n"
	    << "  --height N               headless and nested output height (default "
	    << d.headless.height << ")\n"
	    << "  --refresh HZ             headless refresh rate, 1-1000 (default "
	    << d.headless.refreshMilliHz / 1000 << ")\n"
	    << "  --outputs N              number of headless or nested outputs, side by side\n"
	    << "                           (default 1)\n"
	    << "  --no-direct-scanout      compose every frame, even when a fullscreen client\n"
	    << "                           buffer could be shown as it is\n"
	    << "  --scanout-requires WHAT  scan out only buffers in memory of that kind, as a\n"
	    << "                           display controller without an IOMMU: contiguous\n"
	    << "                           (a contiguous DMA-BUF heap) or any (default)\n"
	    << "  --limit NAME=N           a per-client limit; over it the client is disconnected:\n"
	    << limitsUsage(d.limits)
	    << "  --log-level LEVEL        debug, info, warning or error (default info)\n"
	    << "  --screenshot PATH        PNG of the first output, written after\n"
	    << "                           --screenshot-frames frames and on SIGUSR1\n"
	    << "                           (default for SIGUSR1: heapcomp-screenshot.png)\n"
	    << "  --screenshot-frames N    frames before the screenshot (default 0: SIGUSR1 only)\n"
	    << "  --exit-after-frames N    stop after N frames on the first output\n"
	    << "                           (default 0: run until SIGINT/SIGTERM)\n"
	    << "  --renderer NAME          auto, gles or pixman (default auto: gles, unless the\n"
	    << "                           only GL is a software one, then pixman)\n"
	    << "  --overlay                start with the statistics overlay shown\n"
	    << "                           (Super+F12 shows and hides it)\n"
	    << "  --overlay-interactive    start with it shown and taking the pointer, touch\n"
	    << "                           and keyboard over it (Super+Shift+F12 toggles)\n"
	    << "  --overlay-renderer KIND  who draws it: auto (default: gles where the\n"
	    << "                           GLES renderer has a GPU, else cpu), cpu, gles\n"
	    << "  --stats PATH             heapcomp's statistics as JSON, written on SIGUSR1\n"
	    << "                           and when heapcomp stops (default: none)\n"
	    << "  --control-socket PATH    where heapctl asks heapcomp about its state, owner\n"
	    << "                           only (default $XDG_RUNTIME_DIR/heapcomp-<socket>.control)\n"
	    << "  --render-node PATH       DRM render node for the GLES renderer, and the device\n"
	    << "                           clients are told to allocate for (a card node where\n"
	    << "                           the display has no render node; default: the first\n"
	    << "                           /dev/dri/renderD*; DRM: the display's own, if any)\n"
	    << "  --surfaceless            render with EGL surfaceless, ignoring render nodes\n"
	    << "  --cpu-dmabuf             read client dma-bufs through the CPU, never as EGLImages\n"
	    << "  --xkb-layout LAYOUT      keyboard layout (default " << d.xkbLayout << ")\n"
	    << "  --xkb-variant VARIANT    keyboard layout variant (default none)\n"
	    << "  --xkb-options OPTIONS    xkb options (default none)\n"
	    << "  --help                   show this text\n\n"
	    << "With -- COMMAND, heapcomp runs COMMAND as its client and stops when it exits,\n"
	    << "with its exit status (a kiosk).\n\n"
	    << "Signals: SIGINT and SIGTERM stop, SIGUSR1 writes a screenshot (and --stats).\n"
	    << "XDG_RUNTIME_DIR must be set; if it is not, a private directory in /tmp is used.\n";
	return out.str();
}

bufmgr::Result<Options> parseOptions(const std::vector<std::string> &args)
{
	Options options;
	options.server.handleSignals = true;
	bool drmBackend = false;
	bool nestedBackend = false;
	bool fullscreen = false;
	std::optional<HostBuffers> hostBuffers;
	bool noVtSwitch = false;
	DrmConfig drm;
	for (size_t i = 0; i < args.size(); i++) {
		std::string arg = args[i];
		if (arg == "--") {
			options.command.assign(args.begin() + i + 1, args.end());
			if (options.command.empty())
				return bufmgr::unexpected(EINVAL, "-- needs a command");
			break;
		}
		std::string value;
		bool hasValue = false;
		/* Both "--opt value" and "--opt=value". */
		if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
			value = arg.substr(eq + 1);
			arg = arg.substr(0, eq);
			hasValue = true;
		}
		auto needValue = [&]() -> bool {
			if (hasValue)
				return true;
			if (i + 1 >= args.size())
				return false;
			value = args[++i];
			return true;
		};
		auto bad = [&](const std::string &why) {
			return bufmgr::unexpected(EINVAL, arg + (why.empty() ? "" : ": " + why));
		};
		auto number = [&](auto *out) -> bool { return needValue() && parseNumber(value, out); };

		if (arg == "--help" || arg == "-h") {
			options.help = true;
		} else if (arg == "--socket") {
			if (!needValue() || value.empty() || value.find('/') != std::string::npos)
				return bad("needs a socket name without '/'");
			options.server.socketName = value;
		} else if (arg == "--fullscreen") {
			fullscreen = true;
		} else if (arg == "--nested-buffers") {
			if (!needValue() || (value != "auto" && value != "shm" && value != "dma-buf"))
				return bad("needs auto, shm or dma-buf");
			hostBuffers = value == "shm"	   ? HostBuffers::Shm
				      : value == "dma-buf" ? HostBuffers::DmaBuf
							   : HostBuffers::Auto;
		} else if (arg == "--width") {
			if (!number(&options.server.headless.width) ||
			    options.server.headless.width == 0 || options.server.headless.width > 16384)
				return bad("needs a width of 1-16384 pixels");
		} else if (arg == "--height") {
			if (!number(&options.server.headless.height) ||
			    options.server.headless.height == 0 || options.server.headless.height > 16384)
				return bad("needs a height of 1-16384 pixels");
		} else if (arg == "--refresh") {
			if (!needValue() || !parseRefresh(value, &options.server.headless.refreshMilliHz))
				return bad("needs a rate of 1-1000 Hz");
		} else if (arg == "--outputs") {
			if (!number(&options.server.headless.numOutputs) ||
			    options.server.headless.numOutputs == 0 ||
			    options.server.headless.numOutputs > 16)
				return bad("needs 1-16 outputs");
		} else if (arg == "--backend") {
			if (!needValue() || (value != "headless" && value != "drm" && value != "nested"))
				return bad("needs headless, drm or nested");
			drmBackend = value == "drm";
			nestedBackend = value == "nested";
		} else if (arg == "--drm-device") {
			if (!needValue() || value.empty())
				return bad("needs a path");
			drm.device = value;
		} else if (arg == "--mode") {
			if (!needValue() || !parseMode(value, &drm))
				return bad("needs WxH or WxH@HZ");
		} else if (arg == "--no-vt-switch") {
			drm.vtSwitch = false;
			noVtSwitch = true;
		} else if (arg == "--no-direct-scanout") {
			options.server.headless.directScanout = false;
		} else if (arg == "--scanout-requires") {
			if (!needValue() || (value != "contiguous" && value != "any"))
				return bad("needs contiguous or any");
			options.server.headless.scanoutRequiresContiguous = value == "contiguous";
		} else if (arg == "--limit") {
			if (!needValue() || !parseLimit(value, &options.server.limits))
				return bad("needs NAME=N with N > 0, a name from --help");
		} else if (arg == "--log-level") {
			auto level = needValue() ? parseLogLevel(value) : std::nullopt;
			if (!level)
				return bad("needs debug, info, warning or error");
			options.logLevel = *level;
		} else if (arg == "--screenshot") {
			if (!needValue() || value.empty())
				return bad("needs a path");
			options.server.screenshotPath = value;
		} else if (arg == "--screenshot-frames") {
			if (!number(&options.server.screenshotFrames))
				return bad("needs a frame count");
		} else if (arg == "--exit-after-frames") {
			if (!number(&options.server.exitAfterFrames))
				return bad("needs a frame count");
		} else if (arg == "--renderer") {
			auto kind = needValue() ? parseRendererKind(value) : std::nullopt;
			if (!kind)
				return bad("needs auto, gles or pixman");
			options.renderer = *kind;
		} else if (arg == "--overlay") {
			options.overlay = true;
		} else if (arg == "--overlay-interactive") {
			options.overlay = true;
			options.overlayInteractive = true;
		} else if (arg == "--overlay-renderer") {
			if (!needValue())
				return bad("needs auto, cpu or gles");
			auto kind = parseOverlayRendererKind(value);
			if (!kind)
				return bad("needs auto, cpu or gles");
			options.overlayRenderer = *kind;
		} else if (arg == "--stats") {
			if (!needValue() || value.empty())
				return bad("needs a path");
			options.server.statsPath = value;
		} else if (arg == "--control-socket") {
			if (!needValue() || value.empty())
				return bad("needs a path");
			options.controlSocket = value;
		} else if (arg == "--render-node") {
			if (!needValue() || value.empty())
				return bad("needs a path");
			options.renderNode = value;
			options.server.headless.renderNode = value;
		} else if (arg == "--surfaceless") {
			options.surfaceless = true;
		} else if (arg == "--cpu-dmabuf") {
			options.cpuDmaBuf = true;
		} else if (arg == "--xkb-layout") {
			if (!needValue())
				return bad("needs a layout");
			options.server.xkbLayout = value;
		} else if (arg == "--xkb-variant") {
			if (!needValue())
				return bad("needs a variant");
			options.server.xkbVariant = value;
		} else if (arg == "--xkb-options") {
			if (!needValue())
				return bad("needs options");
			options.server.xkbOptions = value;
		} else {
			return bufmgr::unexpected(EINVAL, "unknown option " + arg + " (see --help)");
		}
	}
	if (options.server.screenshotFrames && options.server.screenshotPath.empty())
		return bufmgr::unexpected(EINVAL, "--screenshot-frames needs --screenshot PATH");
	if (!drmBackend && (!drm.device.empty() || drm.width || noVtSwitch))
		return bufmgr::unexpected(EINVAL,
					  "--drm-device, --mode and --no-vt-switch need --backend drm");
	if (fullscreen && !nestedBackend)
		return bufmgr::unexpected(EINVAL, "--fullscreen needs --backend nested");
	if (hostBuffers && !nestedBackend)
		return bufmgr::unexpected(EINVAL, "--nested-buffers needs --backend nested");
	if (drmBackend)
		options.server.createBackend = drmBackendFactory(drm);
	else if (nestedBackend)
		options.server.createBackend =
			nestedBackendFactory(fullscreen, hostBuffers.value_or(HostBuffers::Auto));
	return options;
}

} /* namespace comp */
