/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>

#include <bufmgr/result.h>

namespace comp {

class Server;

/*
 * heapcomp's state as one JSON document:
 *   {"outputs": [{"name", "mode": {"width", "height", "refresh_mhz"},
 *                 "x", "y", "frames",
 *                 "repaint": {"rendered", "scanned_out", "skipped",
 *                             "pixels", "rects"}}],
 *    "renderer": {"name", "dma_buf_path"},
 *    "clients",
 *    "client_buffers": {"shm": {"buffers", "bytes"},
 *                       "dma_buf": {"buffers", "bytes",
 *                                   "by_exporter": {"system": {"buffers", "bytes"}}}},
 *    "buffer_manager": BufferManager::toJson()}
 * Counts are live except frames and repaint, which count since the start.
 */
std::string statsJson(Server &server);

/* statsJson() into path, through a file beside it: readers see all or nothing. */
bufmgr::Result<void> writeStatsJson(Server &server, const std::string &path);

} /* namespace comp */
