/* SPDX-License-Identifier: MIT */
#include "backend/drm/scanout_probe.h"

#include <drm_fourcc.h>

#include "log.h"

namespace comp {

namespace {

/* Cursor planes take 64x64 everywhere; overlays any size: the same. */
constexpr uint32_t kSmall = 64;

/* A probe's buffer and its framebuffer (null: the import failed). */
struct ProbeFb {
	bufmgr::Buffer buffer;
	std::unique_ptr<kms::Framebuffer> fb;
};

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
		probes.push_back(std::move(probe));
	}

	/* A buffer of the probe's source imported as a framebuffer; nullopt: none to try. */
	auto importFrom = [&](ScanoutProbe &probe, uint32_t width, uint32_t height,
			      uint32_t format) -> std::optional<ProbeFb> {
		auto buffer = manager.allocateFromSource(
			probe.source, bufmgr::AllocationRequest::image(width, height, format,
								       bufmgr::Usage::Scanout,
								       "scanout-probe"));
		if (!buffer) {
			if (probe.note.empty())
				probe.note = buffer.error().message();
			return std::nullopt;
		}
		auto fb = kms::Framebuffer::import(fd, *buffer);
		if (!fb) {
			if (probe.note.empty())
				probe.note = "import: " + fb.error().message();
			return ProbeFb{ std::move(*buffer), nullptr };
		}
		return ProbeFb{ std::move(*buffer), std::move(*fb) };
	};
	/* The verdict of a TEST_ONLY commit with fb on plane (0: the primary). */
	auto verdict = [&](ScanoutProbe &probe, uint32_t background, uint32_t plane,
			   const std::optional<ProbeFb> &fb) -> std::optional<bool> {
		if (!fb)
			return std::nullopt;
		if (!fb->fb)
			return false;
		std::string why;
		bool ok = plane ? testCommit(fd, pipe, background, plane, fb->fb->id(), why)
				: testCommit(fd, pipe, fb->fb->id(), 0, 0, why);
		if (!ok && probe.note.empty())
			probe.note = why;
		return ok;
	};

	/*
	 * The primary plane first. The first buffer it takes fills it while
	 * the other planes are tried: a probe that needs none of the
	 * output's own buffers, which may be of memory the display refuses.
	 */
	std::optional<ProbeFb> background;
	for (ScanoutProbe &probe : probes) {
		std::optional<ProbeFb> fb = importFrom(probe, pipe.width, pipe.height,
						       DRM_FORMAT_XRGB8888);
		probe.primary = verdict(probe, 0, 0, fb);
		if (probe.primary.value_or(false) && !background)
			background = std::move(fb);
	}
	const uint32_t backgroundFb = background ? background->fb->id() : 0;
	for (ScanoutProbe &probe : probes) {
		if (planes.overlay && backgroundFb)
			probe.overlay = verdict(probe, backgroundFb, planes.overlay,
						importFrom(probe, kSmall, kSmall, DRM_FORMAT_ARGB8888));
		if (planes.cursor && backgroundFb)
			probe.cursor = verdict(probe, backgroundFb, planes.cursor,
					       importFrom(probe, kSmall, kSmall, DRM_FORMAT_ARGB8888));
		LOG_INFO("scanout probe: %-28s primary %-3s overlay %-3s cursor %-3s%s%s",
			 probe.source.c_str(), verdictText(probe.primary), verdictText(probe.overlay),
			 verdictText(probe.cursor), probe.note.empty() ? "" : " ",
			 probe.note.c_str());
	}
	return probes;
}

} /* namespace comp */
