/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <bufmgr/allocator.h>

namespace bufmgr {

struct SkippedSource {
	std::string source;
	std::string why;	/* "not physically contiguous" */
};

/* What the memory must be able to do, beyond what its usage implies. */
struct Constraints {
	bool contiguous = false;	/* e.g. a display controller without IOMMU */
	bool cpuAccess = false;		/* the CPU will read or write it */
	bool dmaBuf = false;		/* must be shareable with devices */
	/* A source to try first, e.g. the heap a client was told to use. */
	SourceName preferredSource;
	/*
	 * GBM and dumb buffers belong to one DRM device; when the buffer must
	 * be imported elsewhere, only sources with this node (or device-neutral
	 * heaps) qualify. Empty: any.
	 */
	std::string importDevice;
	/*
	 * Sources whose buffers the reader was found to refuse, with why
	 * (a display's probe): never tried.
	 */
	std::vector<SkippedSource> refused;
};

/* What the policy knows about a source; built from an Allocator. */
struct SourceInfo {
	std::string source;
	AllocatorKind kind = AllocatorKind::Memfd;
	uint32_t capabilities = 0;
	bool defaultCma = false;	/* the board's default CMA area */
	bool uncached = false;		/* CPU reads are slow */
	bool restricted = false;	/* protected memory: never by default */
	bool unknown = false;		/* vendor heap of unknown properties */
	std::string device;		/* DRM node for gbm/dumb */
};

struct PlanStep {
	std::string source;
	std::string why;	/* "contiguous memory for scanout" */
};

struct AllocationPlan {
	std::vector<PlanStep> steps;	/* try in order */
	std::vector<SkippedSource> skipped;

	std::string describe() const;
};

/*
 * Orders the available sources for one allocation. The order per usage:
 *   scanout: CMA heaps, GBM (scanout), dumb, system heap, udmabuf
 *   render:  GBM, system heap, udmabuf, CMA heaps
 *   video/camera: CMA heaps, system heap, udmabuf, GBM
 *            (decoders and ISPs often lack an IOMMU; libcamera's order)
 *   cpu:     memfd (unless a dma-buf is needed), system heap, udmabuf,
 *            dumb, CMA heaps last (scarce)
 * then constraints remove what cannot serve, each with its reason.
 */
AllocationPlan planAllocation(const AllocationRequest &request,
			      const Constraints &constraints,
			      const std::vector<SourceInfo> &sources);

} /* namespace bufmgr */
