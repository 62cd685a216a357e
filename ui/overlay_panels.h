/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>
#include <vector>

#include "ui/overlay_model.h"

namespace comp {

/*
 * The overlay's panels, drawn into the current ImGui window from model.
 * Every value drawn also goes to dump, one line per row
 * ("heap dma-heap:system live_buffers=3 live_bytes=8294400 ..."), so a
 * test can hold what the overlay showed against the statistics.
 */
void drawOverlayPanels(const OverlayModel &model, std::vector<std::string> &dump);

/* "12.5 MiB": sizes as the panels print them. */
std::string formatBytes(uint64_t bytes);

} /* namespace comp */
