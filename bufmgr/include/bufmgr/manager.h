/* SPDX-License-Identifier: MIT */
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <string>
#include <vector>

#include <bufmgr/allocator.h>
#include <bufmgr/heap.h>
#include <bufmgr/policy.h>
#include <bufmgr/pool.h>
#include <bufmgr/result.h>
#include <bufmgr/stats.h>

namespace bufmgr {

struct ManagerConfig {
	SystemPaths paths;
	bool dmaHeaps = true;
	bool udmabuf = true;
	bool memfd = true;
	std::string udmabufPath = "/dev/udmabuf";
	/*
	 * DRM nodes for GBM and dumb buffers. Empty with autodetectDrm: GBM
	 * on the first render node, dumb buffers on every KMS card node.
	 */
	std::vector<std::string> gbmNodes;
	std::vector<std::string> dumbNodes;
	bool autodetectDrm = true;
	std::string driDir = "/dev/dri";
	PoolLimits poolLimits;
};

/* Why a source of the configuration is not available. */
struct SetupNote {
	std::string source;
	Error error;
};

/*
 * The library's front door: discovers heaps and devices, builds one
 * allocator per source, and allocates through the policy's fallback
 * chain, recording every step in the statistics.
 *
 * allocate() and allocatePooled() may be called from any thread.
 */
class BufferManager
{
public:
	static Result<std::unique_ptr<BufferManager>> create(ManagerConfig config = {});
	~BufferManager();

	/* A fresh buffer from the first source of the plan that succeeds. */
	Result<Buffer> allocate(const AllocationRequest &request,
				const Constraints &constraints = {});

	/*
	 * A free buffer from the pool when one fits any source of the plan,
	 * else a fresh one; returns to the pool when the handle goes.
	 */
	Result<PooledBuffer> allocatePooled(const AllocationRequest &request,
					    const Constraints &constraints = {});

	AllocationPlan plan(const AllocationRequest &request,
			    const Constraints &constraints = {}) const;

	/*
	 * Adds a source, e.g. an allocator of a device found later. Its name,
	 * kind and capabilities come from the allocator; info adds the rest.
	 */
	void addAllocator(std::unique_ptr<Allocator> allocator, SourceInfo info);

	Allocator *allocator(const std::string &source) const;
	std::vector<SourceInfo> sources() const;
	const std::vector<HeapInfo> &heaps() const { return heaps_; }
	const std::vector<SetupNote> &setupNotes() const { return notes_; }
	const SystemPaths &paths() const { return config_.paths; }

	Stats &stats() { return *stats_; }
	std::shared_ptr<Stats> sharedStats() const { return stats_; }
	BufferPool &pool() { return *pool_; }

	/* Stats, pool and heaps as one JSON document (for heapctl and the UI). */
	std::string toJson() const;

private:
	struct Source {
		std::unique_ptr<Allocator> allocator;
		SourceInfo info;
		std::shared_ptr<SourceStats> stats;
	};

	explicit BufferManager(ManagerConfig config);
	void discover();
	const Source *findSource(const std::string &name) const;
	Result<Buffer> allocateFrom(const Source &source, const AllocationRequest &request);
	Result<Buffer> runPlan(const AllocationPlan &plan, const AllocationRequest &request);

	ManagerConfig config_;
	std::shared_ptr<Stats> stats_;
	std::unique_ptr<BufferPool> pool_;
	std::vector<HeapInfo> heaps_;
	std::vector<SetupNote> notes_;

	/* A plan with its sources' names, as the pool looks them up. */
	struct CachedPlan {
		AllocationPlan plan;
		std::vector<std::string> sources;
	};

	/* Plans depend only on these; requests with modifiers are not cached. */
	using PlanKey = std::tuple<Usage, bool, bool, bool, bool, std::string, std::string>;
	std::shared_ptr<const CachedPlan> cachedPlan(const AllocationRequest &request,
						     const Constraints &constraints) const;

	mutable std::mutex sourcesMutex_;
	std::vector<std::unique_ptr<Source>> sources_;
	std::vector<SourceInfo> sourceInfos_;
	mutable std::map<PlanKey, std::shared_ptr<const CachedPlan>> planCache_;
};

} /* namespace bufmgr */
