/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <bufmgr/result.h>

#include "log.h"
#include "render/renderer_choice.h"
#include "server.h"

namespace comp {

/* Who draws the statistics overlay's panels. */
enum class OverlayRendererKind : uint8_t {
	Auto,	/* GLES where the compositor's GLES runs on a GPU, else the CPU */
	Cpu,
	Gles,
};

std::string_view toString(OverlayRendererKind kind);
std::optional<OverlayRendererKind> parseOverlayRendererKind(std::string_view name);

/* The command line of heapcomp. */
struct Options {
	ServerConfig server;
	LogLevel logLevel = LogLevel::Info;
	RendererKind renderer = RendererKind::Auto;
	/* GLES renderer: DRM render node ("" for the first one). */
	std::string renderNode;
	bool surfaceless = false;
	bool cpuDmaBuf = false;
	/* Start with the statistics overlay shown (Super+F12 toggles it). */
	bool overlay = false;
	/* Start it in interactive mode (Super+Shift+F12 toggles that). */
	bool overlayInteractive = false;
	OverlayRendererKind overlayRenderer = OverlayRendererKind::Auto;
	bool help = false;
	/* The control socket's path; empty: $XDG_RUNTIME_DIR/heapcomp-<wayland socket>.control. */
	std::string controlSocket;
	/* After "--": a client to run; heapcomp stops when it exits. */
	std::vector<std::string> command;
};

/* EINVAL with the offending option in the context for bad input. */
bufmgr::Result<Options> parseOptions(const std::vector<std::string> &args);

/* The --help text, every option with its default. */
std::string usage(const std::string &program);

} /* namespace comp */
