/* SPDX-License-Identifier: MIT */
#include "stats_json.h"

#include <cerrno>
#include <cstdio>
#include <unistd.h>

#include <bufmgr/json_writer.h>

#include "backend/drm/drm_backend.h"
#include "buffer.h"
#include "client.h"
#include "protocols/heap_hints.h"
#include "server.h"

namespace comp {

namespace {

void writeCount(bufmgr::JsonWriter &json, const ClientBufferTotals::Count &count)
{
	json.field("buffers", count.buffers);
	json.field("bytes", count.bytes);
}

void writeOutputs(bufmgr::JsonWriter &json, Server &server)
{
	const std::vector<Output *> &outputs = server.backend().outputs();
	json.key("outputs");
	json.beginArray();
	for (size_t i = 0; i < outputs.size(); i++) {
		const Output &output = *outputs[i];
		Output::Mode mode = output.mode();
		const RepaintStats &repaint = server.repaintStats(i);
		json.beginObject();
		json.field("name", output.name());
		json.key("mode");
		json.beginObject();
		json.field("width", mode.width);
		json.field("height", mode.height);
		json.field("refresh_mhz", mode.refreshMilliHz);
		json.endObject();
		json.field("x", output.x());
		json.field("y", output.y());
		json.field("frames", server.frameCount(i));
		json.key("repaint");
		json.beginObject();
		json.field("rendered", repaint.rendered);
		json.field("scanned_out", repaint.scannedOut);
		json.field("plane_frames", repaint.planeFrames);
		json.field("planes_updated", repaint.planesUpdated);
		json.field("skipped", repaint.skipped);
		json.field("pixels", repaint.pixels);
		json.field("rects", repaint.rects);
		json.endObject();
		json.endObject();
	}
	json.endArray();
}

/* The pointer's cursor on the first output: on its plane, or composed and why. */
void writeCursor(bufmgr::JsonWriter &json, Server &server)
{
	json.key("cursor");
	json.beginObject();
	json.field("on_plane", server.cursorOnPlane(0));
	json.field("composed_because", server.cursorRefusal(0));
	json.endObject();
}

/* The statistics overlay, and what its redraws cost apart from the frames. */
void writeOverlay(bufmgr::JsonWriter &json, Server &server)
{
	json.key("overlay");
	const OverlayLayer *overlay = server.overlay();
	if (!overlay) {
		json.null();
		return;
	}
	const OverlayLayer::Cost cost = overlay->cost();
	const Rect rect = overlay->rect();
	json.beginObject();
	json.field("shown", overlay->visible());
	json.field("on_plane", server.overlayOnPlane(0));
	json.field("x", rect.x);
	json.field("y", rect.y);
	json.field("width", rect.width);
	json.field("height", rect.height);
	json.field("redraws", cost.redraws);
	json.field("cpu_ns", cost.cpuNs);
	json.endObject();
}

/* Each source's buffers on the first output's planes, tried at start. */
void writeScanoutProbe(bufmgr::JsonWriter &json, const DrmBackend &drm)
{
	json.key("scanout_probe");
	json.beginArray();
	for (const ScanoutProbe &probe : drm.scanoutProbes()) {
		json.beginObject();
		json.field("source", probe.source);
		json.field("primary", std::string(verdictText(probe.primary)));
		json.field("overlay", std::string(verdictText(probe.overlay)));
		json.field("cursor", std::string(verdictText(probe.cursor)));
		json.field("note", probe.note);
		json.endObject();
	}
	json.endArray();
}

/* The DRM side of an output: where its frames live, why the last client buffer was composed. */
void writeDrmOutputFields(bufmgr::JsonWriter &json, const DrmOutput &output)
{
	json.field("scanout_memory", output.bufferSource());
	json.field("connected", output.connected());
	/* "" when the last candidate went on the plane. */
	json.field("last_refusal", output.lastRefusal());
	json.key("client_planes");
	json.beginArray();
	for (uint32_t plane : output.clientPlanes())
		json.value(plane);
	json.endArray();
}

/* The backend's name; for DRM its device, commits and framebuffer cache. */
void writeBackend(bufmgr::JsonWriter &json, Server &server)
{
	json.key("backend");
	json.beginObject();
	json.field("name", server.backend().name());
	if (auto *drm = dynamic_cast<DrmBackend *>(&server.backend())) {
		const DrmStats stats = drm->stats();
		json.field("device", drm->device().path);
		json.field("driver", drm->device().driver);
		json.field("commits", stats.commits);
		json.field("test_commits", stats.testCommits);
		json.field("test_refusals", stats.testRefusals);
		json.field("framebuffers_imported", stats.framebuffersImported);
		json.field("framebuffer_failures", stats.framebufferFailures);
		json.field("live_client_framebuffers", stats.liveClientFramebuffers);
		json.field("flips", stats.flips);
		json.field("vblanks", stats.vblanks);
		json.field("captures", stats.captures);
		json.field("capture_holds", stats.captureHolds);
		json.field("capture_timeouts", stats.captureTimeouts);
		json.field("image_plane_bytes", stats.imagePlaneBytes);
		json.field("image_plane_buffers", stats.imagePlaneBuffers);
		json.field("client_planes", stats.clientPlanes);
		json.field("client_planes_shown", stats.clientPlanesShown);
		json.field("damage_clip_commits", stats.damageClipCommits);
		json.field("damage_clip_rects", stats.damageClipRects);
		json.field("seat", drm->seatName());
		json.field("session_active", drm->active());
		json.key("input_devices");
		json.beginArray();
		if (const InputDevices *input = drm->inputDevices())
			for (const std::string &name : input->deviceNames())
				json.value(name);
		json.endArray();
		writeScanoutProbe(json, *drm);
		json.key("outputs");
		json.beginArray();
		for (const DrmOutput *output : drm->drmOutputs()) {
			json.beginObject();
			json.field("name", output->name());
			writeDrmOutputFields(json, *output);
			json.endObject();
		}
		json.endArray();
	}
	json.endObject();
}

void writeClientBuffers(bufmgr::JsonWriter &json, const ClientBufferTotals &totals)
{
	json.key("client_buffers");
	json.beginObject();
	json.key("shm");
	json.beginObject();
	writeCount(json, totals.shm());
	json.endObject();
	json.key("dma_buf");
	json.beginObject();
	writeCount(json, totals.dmaBuf());
	json.key("by_exporter");
	json.beginObject();
	for (const auto &[exporter, count] : totals.dmaBufByExporter()) {
		json.key(exporter);
		json.beginObject();
		writeCount(json, count);
		json.endObject();
	}
	json.endObject();
	json.endObject();
	json.endObject();
}

/* The planes the DRM backend's startup probe saw take the source's buffers. */
void writeScanoutPlanes(bufmgr::JsonWriter &json, Server &server, const std::string &source)
{
	json.key("scans_out_on");
	auto *drm = dynamic_cast<DrmBackend *>(&server.backend());
	if (!drm) {
		json.null();
		return;
	}
	json.beginArray();
	for (const ScanoutProbe &probe : drm->scanoutProbes()) {
		if (probe.source != source || source.empty())
			continue;
		for (std::string_view plane : acceptingPlanes(probe))
			json.value(plane);
	}
	json.endArray();
}

/* The heaps as hinted to clients, with where their memory comes from and who pays. */
void writeHeaps(bufmgr::JsonWriter &json, Server &server)
{
	const HeapHints *hints = server.heapHints();
	json.key("heaps");
	json.beginArray();
	for (size_t i = 0; hints && i < hints->heaps().size(); i++) {
		const HeapHints::Heap &heap = hints->heaps()[i];
		json.beginObject();
		json.field("id", uint64_t(heap.id));
		json.field("name", heap.info->name);
		json.field("pool", uint64_t(heap.pool));
		json.fieldOrNull("source", heap.source);
		json.field("total_bytes", heap.totalBytes);
		json.field("available_bytes", heap.availableBytes);
		json.fieldOrNull("region", heap.region);
		json.key("devices");
		bufmgr::writeJson(json, heap.devices);
		json.field("origin", heap.origin);
		json.key("accounting");
		bufmgr::writeJson(json, heap.accounting);
		writeScanoutPlanes(json, server, heap.source);
		json.endObject();
	}
	json.endArray();
	if (!hints || hints->heaps().empty())
		json.field("heaps_reason", "no heap hints: this system has no usable DMA-BUF heaps");
}

/* What each client holds and how its buffers fared against the heap hints. */
void writePerClient(bufmgr::JsonWriter &json, Server &server, const char *key)
{
	const HeapHints *hints = server.heapHints();
	json.key(key);
	json.beginArray();
	for (const ClientState *state : server.clientStates()) {
		const ClientAccount &account = state->account();
		/* wl_shm is what is not dma-buf. */
		const uint64_t buffers = account.buffers.load(), bytes = account.bytes.load();
		const uint64_t dmaBufBuffers = account.dmaBufBuffers.load();
		const uint64_t dmaBufBytes = account.dmaBufBytes.load();
		json.beginObject();
		json.field("pid", uint64_t(state->pid()));
		json.field("name", state->name());
		json.field("label", state->label());
		json.field("buffers", buffers);
		json.field("bytes", bytes);
		json.key("shm");
		json.beginObject();
		writeCount(json, { buffers - dmaBufBuffers, bytes - dmaBufBytes });
		json.endObject();
		json.key("dma_buf");
		json.beginObject();
		writeCount(json, { dmaBufBuffers, dmaBufBytes });
		json.endObject();
		json.field("heap_hint_hits", account.heapHintHits.load());
		json.field("heap_hint_misses", account.heapHintMisses.load());
		json.field("scanned_out_frames", account.scannedOutFrames.load());
		json.field("scanout_refused_frames", account.scanoutRefusedFrames.load());
		json.key("by_source");
		json.beginArray();
		for (const auto &[source, count] : account.held.bySource()) {
			json.beginObject();
			json.field("source", source);
			writeCount(json, count);
			json.endObject();
		}
		json.endArray();
		const ClientLimits &limits = server.config().limits;
		json.key("heap_quota");
		json.beginObject();
		json.field("buffers", uint64_t(limits.heapBuffers));
		json.field("bytes_per_heap", uint64_t(limits.heapMib) << 20);
		json.endObject();
		json.key("heap_allocations");
		json.beginArray();
		for (const auto &[pool, charge] : account.heapCharges) {
			const HeapHints::Heap *heap = hints ? hints->findHeap(pool) : nullptr;
			json.beginObject();
			json.field("pool", heap ? heap->info->name : std::to_string(pool));
			json.field("buffers", uint64_t(charge.buffers));
			json.field("bytes", charge.bytes);
			/* Beside the client's quota, the kernel charges the same memory here. */
			json.field("accounting", heap ? bufmgr::toString(heap->accounting.controller)
						      : std::string_view("none"));
			json.fieldOrNull("dmem_region", heap ? heap->accounting.dmemRegion : std::string());
			json.endObject();
		}
		json.endArray();
		json.endObject();
	}
	json.endArray();
}

} /* namespace */

std::string statsJson(Server &server)
{
	bufmgr::JsonWriter json;
	json.beginObject();
	writeOutputs(json, server);
	writeBackend(json, server);
	json.key("renderer");
	json.beginObject();
	json.field("name", server.renderer().name());
	json.field("dma_buf_path", toString(server.renderer().dmaBufPath()));
	/* Client buffers only composed frames import: none while every frame is scanned out. */
	const TextureStats &textures = server.textureStats();
	json.field("dma_buf_imports", textures.dmaBufImports);
	json.field("dma_buf_import_failures", textures.dmaBufImportFailures);
	json.field("shm_copies", textures.shmCopies);
	json.endObject();
	writeOverlay(json, server);
	writeCursor(json, server);
	json.field("clients", uint64_t(server.numClients()));
	writeClientBuffers(json, server.clientBuffers());
	writePerClient(json, server, "per_client");
	writeHeaps(json, server);
	json.key("buffer_manager");
	json.raw(server.bufferManager().toJson());
	json.endObject();
	return json.str() + '\n';
}

std::string overlayJson(Server &server)
{
	bufmgr::JsonWriter json;
	json.beginObject();
	writeOverlay(json, server);
	json.endObject();
	return json.str() + '\n';
}

std::string clientsJson(Server &server)
{
	bufmgr::JsonWriter json;
	json.beginObject();
	writePerClient(json, server, "clients");
	json.endObject();
	return json.str() + '\n';
}

std::string planesJson(Server &server)
{
	auto *drm = dynamic_cast<DrmBackend *>(&server.backend());
	const std::vector<DrmOutput *> drmOutputs = drm ? drm->drmOutputs() : std::vector<DrmOutput *>{};
	const std::vector<Output *> &outputs = server.backend().outputs();
	bufmgr::JsonWriter json;
	json.beginObject();
	json.field("backend", server.backend().name());
	json.key("outputs");
	json.beginArray();
	for (size_t i = 0; i < outputs.size(); i++) {
		const RepaintStats &repaint = server.repaintStats(i);
		json.beginObject();
		json.field("name", outputs[i]->name());
		json.field("frames", server.frameCount(i));
		json.field("scanned_out", repaint.scannedOut);
		json.field("plane_frames", repaint.planeFrames);
		json.field("planes_updated", repaint.planesUpdated);
		json.field("rendered", repaint.rendered);
		json.field("skipped", repaint.skipped);
		json.key("surfaces");
		json.beginArray();
		for (const SurfacePlace &place : server.surfacePlaces(i)) {
			static const char *const where[] = { "composed", "primary", "overlay" };
			json.beginObject();
			json.field("surface", place.surface);
			json.field("x", place.destination.x);
			json.field("y", place.destination.y);
			json.field("width", place.destination.width);
			json.field("height", place.destination.height);
			json.field("plane", where[int(place.where)]);
			json.field("composed_because", place.reason);
			json.endObject();
		}
		json.endArray();
		json.field("cursor_on_plane", server.cursorOnPlane(i));
		json.field("cursor_composed_because", server.cursorRefusal(i));
		for (const DrmOutput *output : drmOutputs) {
			if (output->name() == outputs[i]->name())
				writeDrmOutputFields(json, *output);
		}
		json.endObject();
	}
	json.endArray();
	json.endObject();
	return json.str() + '\n';
}

std::string probeJson(Server &server)
{
	bufmgr::JsonWriter json;
	json.beginObject();
	json.field("backend", server.backend().name());
	if (auto *drm = dynamic_cast<DrmBackend *>(&server.backend())) {
		writeScanoutProbe(json, *drm);
	} else {
		json.key("scanout_probe");
		json.beginArray();
		json.endArray();
		json.field("reason", "the " + std::string(server.backend().name()) +
					     " backend has no planes to probe");
	}
	json.endObject();
	return json.str() + '\n';
}

std::string heapsJson(Server &server)
{
	bufmgr::JsonWriter json;
	json.beginObject();
	writeHeaps(json, server);
	json.endObject();
	return json.str() + '\n';
}

bufmgr::Result<void> writeStatsJson(Server &server, const std::string &path)
{
	return writeFileWhole(path, statsJson(server));
}

bufmgr::Result<void> writeFileWhole(const std::string &path, std::string_view text)
{
	std::string temporary = path + ".tmp";
	FILE *file = fopen(temporary.c_str(), "we");
	if (!file)
		return bufmgr::unexpected(errno, "open " + temporary);
	bool written = fwrite(text.data(), 1, text.size(), file) == text.size();
	int err = errno;
	if (fclose(file) != 0 && written) {
		written = false;
		err = errno;
	}
	if (!written) {
		unlink(temporary.c_str());
		return bufmgr::unexpected(err, "write " + temporary);
	}
	if (rename(temporary.c_str(), path.c_str()) != 0) {
		err = errno;
		unlink(temporary.c_str());
		return bufmgr::unexpected(err, "rename " + temporary + " to " + path);
	}
	return {};
}

} /* namespace comp */
