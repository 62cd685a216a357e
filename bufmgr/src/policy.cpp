/* SPDX-License-Identifier: MIT */
#include <bufmgr/policy.h>

#include <algorithm>
#include <optional>

namespace bufmgr {

namespace {

enum class Role {
	Cma,
	System,
	Udmabuf,
	Gbm,
	Dumb,
	Memfd,
	Other,
};

Role roleOf(const SourceInfo &s)
{
	switch (s.kind) {
	case AllocatorKind::DmaHeap:
		if (s.capabilities & CapContiguous)
			return Role::Cma;
		return s.restricted || s.unknown ? Role::Other : Role::System;
	case AllocatorKind::Udmabuf: return Role::Udmabuf;
	case AllocatorKind::Gbm: return Role::Gbm;
	case AllocatorKind::DumbBuffer: return Role::Dumb;
	case AllocatorKind::Memfd: return Role::Memfd;
	case AllocatorKind::Foreign: return Role::Other;
	}
	return Role::Other;
}

std::vector<Role> orderFor(Usage usage)
{
	switch (usage) {
	case Usage::Scanout:
		return { Role::Cma, Role::Gbm, Role::Dumb, Role::System, Role::Udmabuf };
	case Usage::Render:
		return { Role::Gbm, Role::System, Role::Udmabuf, Role::Cma };
	case Usage::Video:
	case Usage::Camera:
		return { Role::Cma, Role::System, Role::Udmabuf, Role::Gbm };
	case Usage::Cpu:
		return { Role::Memfd, Role::System, Role::Udmabuf, Role::Dumb, Role::Cma };
	}
	return {};
}

std::string whyChosen(Role role, Usage usage)
{
	switch (role) {
	case Role::Cma:
		return usage == Usage::Render || usage == Usage::Cpu
			? "contiguous memory, kept for last: CMA is scarce"
			: "physically contiguous: any device can scan it out or DMA into it";
	case Role::Gbm:
		return usage == Usage::Scanout ? "GBM picks a layout its display can scan out"
					       : "GBM picks the GPU's preferred layout";
	case Role::Dumb: return "dumb buffers are scanout-capable on any KMS driver";
	case Role::System: return "system heap: cached pages, imports where an IOMMU exists";
	case Role::Udmabuf: return "udmabuf: memfd pages exported as a dma-buf";
	case Role::Memfd: return "memfd: CPU memory shareable over wl_shm";
	case Role::Other: return "explicitly requested";
	}
	return {};
}

/* Why a source cannot serve this request, or nullopt if it can. */
std::optional<std::string> whyUnfit(const SourceInfo &s, const AllocationRequest &request,
				    const Constraints &c)
{
	for (const SkippedSource &refused : c.refused)
		if (refused.source == s.source)
			return refused.why;
	if (s.restricted && c.preferredSource.str() != s.source)
		return "protected memory is used only when asked for by name";
	if (s.unknown && c.preferredSource.str() != s.source)
		return "a heap of unknown properties is used only when asked for by name";
	if (c.contiguous && !(s.capabilities & CapContiguous))
		return "not physically contiguous";
	if (c.cpuAccess && !(s.capabilities & CapCpuMap))
		return "cannot be mapped by the CPU";
	if (c.cpuAccess && s.uncached)
		return "uncached: CPU reads would be slow";
	if ((c.dmaBuf || request.usage != Usage::Cpu) && !(s.capabilities & CapDmaBuf))
		return "gives no dma-buf, which devices need";
	if (!c.importDevice.empty() && !s.device.empty() && s.device != c.importDevice)
		return "allocates for " + s.device + ", not " + c.importDevice;
	if (request.isBlob() && s.kind == AllocatorKind::Gbm)
		return "GBM allocates images only";

	bool wantsTiled = std::any_of(request.modifiers.begin(), request.modifiers.end(),
				      [](uint64_t m) { return m != 0; });
	bool allowsLinear = request.modifiers.empty() ||
			    std::find(request.modifiers.begin(), request.modifiers.end(),
				      uint64_t(0)) != request.modifiers.end();
	if (wantsTiled && !allowsLinear && !(s.capabilities & CapModifiers))
		return "lays out linear buffers only";
	return std::nullopt;
}

} /* namespace */

std::string AllocationPlan::describe() const
{
	std::string s;
	for (size_t i = 0; i < steps.size(); i++)
		s += (i ? " -> " : "") + steps[i].source;
	if (steps.empty())
		s = "(nothing to try)";
	for (const SkippedSource &skip : skipped)
		s += "; skipped " + skip.source + ": " + skip.why;
	return s;
}

AllocationPlan planAllocation(const AllocationRequest &request,
			      const Constraints &constraints,
			      const std::vector<SourceInfo> &sources)
{
	AllocationPlan plan;
	std::vector<const SourceInfo *> ordered;

	const SourceInfo *preferred = nullptr;
	for (const SourceInfo &s : sources) {
		if (!constraints.preferredSource.empty() &&
		    s.source == constraints.preferredSource.str())
			preferred = &s;
	}
	if (preferred)
		ordered.push_back(preferred);

	for (Role role : orderFor(request.usage)) {
		/* Within a role the default CMA area goes before region heaps. */
		std::vector<const SourceInfo *> group;
		for (const SourceInfo &s : sources) {
			if (roleOf(s) == role && &s != preferred)
				group.push_back(&s);
		}
		std::stable_sort(group.begin(), group.end(),
				 [](const SourceInfo *a, const SourceInfo *b) {
					 return a->defaultCma && !b->defaultCma;
				 });
		ordered.insert(ordered.end(), group.begin(), group.end());
	}

	for (const SourceInfo &s : sources) {
		if (std::find(ordered.begin(), ordered.end(), &s) != ordered.end())
			continue;
		auto why = whyUnfit(s, request, constraints);
		plan.skipped.push_back({ s.source, why && (s.restricted || s.unknown)
			? *why
			: "not used for " + std::string(toString(request.usage)) +
			  " buffers" });
	}

	for (const SourceInfo *s : ordered) {
		if (auto why = whyUnfit(*s, request, constraints)) {
			plan.skipped.push_back({ s->source, *why });
			continue;
		}
		bool isPreferred = s->source == constraints.preferredSource.str();
		plan.steps.push_back({ s->source, isPreferred ? "requested by the caller"
							      : whyChosen(roleOf(*s), request.usage) });
	}
	return plan;
}

} /* namespace bufmgr */
