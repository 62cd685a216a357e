/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>
#include <vector>

#include "ui/overlay_model.h"

namespace comp {

/*
 * The allocation benchmark panel's controls, in interactive mode: the
 * run being set up, kept from redraw to redraw, and what was asked for.
 */
struct BenchControls {
	AllocBenchConfig config;
	/* What a run can take, memfd (always the baseline) aside. */
	std::vector<std::string> sources;
	/* Set by a redraw whose frame pressed Start or Export. */
	bool start = false;
	bool exportJson = false;
	/* How the last start or export went. */
	std::string status;
};

/*
 * The overlay's panels, drawn into the current ImGui window from model.
 * Given a dump, every value drawn also goes there, one line per row
 * ("heap dma-heap:system live_buffers=3 live_bytes=8294400 ..."), so a
 * test can hold what the overlay showed against the statistics; each
 * control's box goes there too ("widget bench.start x=8 y=400 w=40
 * h=19", in the overlay's pixels). With controls, the benchmark panel
 * has its controls (interactive mode).
 */
void drawOverlayPanels(const OverlayModel &model, std::vector<std::string> *dump,
		       BenchControls *controls = nullptr);

} /* namespace comp */
