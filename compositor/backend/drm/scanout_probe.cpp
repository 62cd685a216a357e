/* SPDX-License-Identifier: MIT */
#include "backend/drm/scanout_probe.h"

#include <drm_fourcc.h>

#include "log.h"

namespace comp {

namespace {

/* Cursor planes take 64x64 everywhere; overlays any size: the same. */
constexpr uint32_t kSmall = 64;

struct Planes {
	uint32_t overlay = 0;
	uint32_t cursor = 0;
};

Planes findPlanes(int fd, uint32_t crtcIndex)
{
	Planes planes;
	kms::PlaneResourcesPtr res(drmModeGetPlaneResources(fd));
	if (!res)
		return planes;
	for (uint32_t i = 0; i < res->count_planes; i++) {
		kms::PlanePtr plane(drmModeGetPlane(fd, res->planes[i]));
		if (!plane || !(plane->possible_crtcs & (1u << crtcIndex)))
			continue;
		kms::Properties props = kms::Properties::read(fd, plane->plane_id, DRM_MODE_OBJECT_PLANE);
		uint64_t type = props.value("type");
		if (type == DRM_PLANE_TYPE_OVERLAY && !planes.overlay)
			planes.overlay = plane->plane_id;
		else if (type == DRM_PLANE_TYPE_CURSOR && !planes.cursor)
			planes.cursor = plane->plane_id;
	}
	return planes;
}

/*
 * One TEST_ONLY commit: the mode, the primary plane showing primaryFb,
 * and, if plane is set, that plane showing fb at the top left.
 */
bool testCommit(int fd, const ProbePipe &pipe, uint32_t primaryFb, uint32_t plane, uint32_t fb,
		std::string &why)
{
	kms::AtomicRequest req;
	kms::Properties crtc = kms::Properties::read(fd, pipe.crtc, DRM_MODE_OBJECT_CRTC);
	kms::Properties connector = kms::Properties::read(fd, pipe.connector, DRM_MODE_OBJECT_CONNECTOR);
	req.set(pipe.crtc, crtc, "MODE_ID", pipe.modeBlob);
	req.set(pipe.crtc, crtc, "ACTIVE", 1);
	req.set(pipe.connector, connector, "CRTC_ID", pipe.crtc);
	kms::placePlane(req, pipe.primary,
			kms::Properties::read(fd, pipe.primary, DRM_MODE_OBJECT_PLANE), pipe.crtc,
			primaryFb, pipe.width, pipe.height);
	if (plane)
		kms::placePlane(req, plane, kms::Properties::read(fd, plane, DRM_MODE_OBJECT_PLANE),
				pipe.crtc, fb, kSmall, kSmall);
	auto ret = req.commit(fd, DRM_MODE_ATOMIC_TEST_ONLY | DRM_MODE_ATOMIC_ALLOW_MODESET, nullptr,
			      "TEST_ONLY");
	if (!ret)
		why = ret.error().message();
	return bool(ret);
}

} /* namespace */

const char *verdictText(const std::optional<bool> &verdict)
{
	return !verdict ? "-" : *verdict ? "yes" : "no";
}

std::vector<std::string_view> acceptingPlanes(const ScanoutProbe &probe)
{
	std::vector<std::string_view> planes;
	if (probe.primary.value_or(false))
		planes.push_back("primary");
	if (probe.overlay.value_or(false))
		planes.push_back("overlay");
	if (probe.cursor.value_or(false))
		planes.push_back("cursor");
	return planes;
}

std::vector<ScanoutProbe> probeScanout(int fd, bufmgr::BufferManager &manager,
				       const ProbePipe &pipe)
{
	const Planes planes = findPlanes(fd, pipe.crtcIndex);
	std::vector<ScanoutProbe> probes;
	for (const bufmgr::SourceInfo &source : manager.sources()) {
		/* Protected and unknown heaps are used only when named; memfd has no dma-buf. */
		if (source.kind == bufmgr::AllocatorKind::Memfd ||
		    source.kind == bufmgr::AllocatorKind::Foreign || source.restricted || source.unknown)
			continue;
		ScanoutProbe probe;
		probe.source = source.source;
		if (source.kind == bufmgr::AllocatorKind::DmaHeap)
			probe.heap = source.source.substr(source.source.find(':') + 1);

		/* Returns the verdict for a buffer of this size on plane (0: the primary). */
		auto tryPlane = [&](uint32_t plane, uint32_t width, uint32_t height,
				    uint32_t format) -> std::optional<bool> {
			auto buffer = manager.allocateFromSource(
				source.source, bufmgr::AllocationRequest::image(
						       width, height, format, bufmgr::Usage::Scanout,
						       "scanout-probe"));
			if (!buffer) {
				if (probe.note.empty())
					probe.note = buffer.error().message();
				return std::nullopt;
			}
			auto fb = kms::Framebuffer::import(fd, *buffer,
							   buffer->modifier() != DRM_FORMAT_MOD_INVALID);
			if (!fb) {
				if (probe.note.empty())
					probe.note = "import: " + fb.error().message();
				return false;
			}
			std::string why;
			bool ok = plane ? testCommit(fd, pipe, pipe.backgroundFb, plane, (*fb)->id(), why)
					: testCommit(fd, pipe, (*fb)->id(), 0, 0, why);
			if (!ok && probe.note.empty())
				probe.note = why;
			return ok;
		};
		probe.primary = tryPlane(0, pipe.width, pipe.height, DRM_FORMAT_XRGB8888);
		if (planes.overlay && pipe.backgroundFb)
			probe.overlay = tryPlane(planes.overlay, kSmall, kSmall, DRM_FORMAT_ARGB8888);
		if (planes.cursor && pipe.backgroundFb)
			probe.cursor = tryPlane(planes.cursor, kSmall, kSmall, DRM_FORMAT_ARGB8888);
		LOG_INFO("scanout probe: %-28s primary %-3s overlay %-3s cursor %-3s%s%s",
			 probe.source.c_str(), verdictText(probe.primary), verdictText(probe.overlay),
			 verdictText(probe.cursor), probe.note.empty() ? "" : " ",
			 probe.note.c_str());
		probes.push_back(std::move(probe));
	}
	return probes;
}

} /* namespace comp */
