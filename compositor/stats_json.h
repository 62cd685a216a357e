/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>
#include <string_view>

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
 *    "overlay": null, or {"shown", "on_plane", "x", "y", "width", "height",
 *                         "redraws", "cpu_ns"} (its redraws' CPU time),
 *    "backend": {"name", ...; on DRM "scanout_probe" and "outputs"},
 *    "clients",
 *    "client_buffers": {"shm": {"buffers", "bytes"},
 *                       "dma_buf": {"buffers", "bytes",
 *                                   "by_exporter": {"system": {"buffers", "bytes"}}}},
 *    "per_client": [{"pid", "name", "label", "buffers", "bytes",
 *                    "shm": {"buffers", "bytes"}, "dma_buf": {"buffers", "bytes"}, ...,
 *                    "heap_allocations": [{"pool", "buffers", "bytes", "accounting",
 *                                          "dmem_region"}]}],
 *    "heaps": heapsJson()'s list,
 *    "buffer_manager": BufferManager::toJson()}
 * Counts are live except frames and repaint, which count since the start.
 */
std::string statsJson(Server &server);

/* Parts of it on their own, as the control socket answers them. */
/* {"overlay": as in statsJson()} */
std::string overlayJson(Server &server);
/* {"clients": [per_client's entries]} */
std::string clientsJson(Server &server);
/*
 * {"backend", "outputs": [{"name", "frames", "scanned_out", "rendered",
 *  "skipped"; on DRM also "scanout_memory", "last_refusal"}]}
 */
std::string planesJson(Server &server);
/* {"backend", "scanout_probe": [...]}; off DRM the list is empty and "reason" says why. */
std::string probeJson(Server &server);
/*
 * {"heaps": [{"id", "name", "pool", "source", "total_bytes", "available_bytes",
 *             "region", "devices": [{"node", "driver"}], "origin",
 *             "accounting": {"controller", "dmem_region", "summary"},
 *             "scans_out_on": the planes the DRM probe saw take it (null off DRM)}]},
 * as hinted to clients; without heaps, "heaps_reason" says why (in statsJson() too).
 */
std::string heapsJson(Server &server);

/* statsJson() into path, through a file beside it: readers see all or nothing. */
bufmgr::Result<void> writeStatsJson(Server &server, const std::string &path);

/* Writes text beside path and renames it over path: a reader sees all of it or none. */
bufmgr::Result<void> writeFileWhole(const std::string &path, std::string_view text);

} /* namespace comp */
