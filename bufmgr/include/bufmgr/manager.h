/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
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

	/*
	 * A fresh buffer from exactly this source, counted in its statistics:
	 * for a caller that was told which memory to use. ENODEV when there
	 * is no such source.
	 */
	Result<Buffer> allocateFromSource(const std::string &source,
					  const AllocationRequest &request);

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

	/*
	 * A plan resolved to its sources, and what it was made for: plans
	 * depend only on the usage, blob or image, and the constraints.
	 */
	struct CachedPlan {
		Usage usage;
		bool blob;
		bool contiguous;
		bool cpuAccess;
		bool dmaBuf;
		SourceName preferredSource;
		std::string importDevice;
		std::vector<SkippedSource> refused;

		AllocationPlan plan;
		std::vector<const Source *> sources;	/* one per step, never null */
		std::vector<std::string> sourceNames;	/* as the pool looks them up */

		bool matches(const AllocationRequest &request,
			     const Constraints &constraints) const;
	};

	explicit BufferManager(ManagerConfig config);
	void discover();
	const Source *findSource(const std::string &name) const;
	std::unique_ptr<CachedPlan> resolvePlan(const AllocationRequest &request,
						const Constraints &constraints) const;
	/* Requests with modifiers are planned afresh into `uncached`. */
	const CachedPlan *cachedPlan(const AllocationRequest &request,
				     const Constraints &constraints,
				     std::unique_ptr<CachedPlan> &uncached) const;
	/* cachedPlan() on a miss, apart so that the lookup stays small. */
	[[gnu::noinline]] const CachedPlan *addPlan(const AllocationRequest &request,
						    const Constraints &constraints,
						    std::unique_ptr<CachedPlan> &uncached) const;
	Result<Buffer> allocateFrom(const Source &source, const AllocationRequest &request);
	Result<Buffer> tryAllocate(const Source &source, const AllocationRequest &request);
	/*
	 * The rare retry of tryAllocate(), apart so that tryAllocate() stays
	 * small enough to be inlined into every allocation.
	 */
	[[gnu::noinline]] void retryAfterTrim(const Source &source,
					      const AllocationRequest &request,
					      Result<Buffer> &buffer);
	Result<Buffer> runPlan(const CachedPlan &plan, const AllocationRequest &request);
	Result<Buffer> fallBack(const CachedPlan &plan, const AllocationRequest &request,
				Error firstError);

	ManagerConfig config_;
	std::shared_ptr<Stats> stats_;
	std::unique_ptr<BufferPool> pool_;
	std::vector<HeapInfo> heaps_;
	std::vector<SetupNote> notes_;

	/* Sources are only ever added: a Source pointer stays valid. */
	mutable std::mutex sourcesMutex_;
	std::vector<std::unique_ptr<Source>> sources_;
	std::vector<SourceInfo> sourceInfos_;

	/*
	 * Plans are looked up on every allocation without a lock: the first
	 * cachedPlans_ slots are published with release and read with
	 * acquire. Slots are written under sourcesMutex_. A plan is kept
	 * until the manager goes, also after addAllocator() empties the
	 * cache, so a reader can use the pointer it found.
	 */
	static constexpr size_t kMaxCachedPlans = 32;
	mutable std::array<std::atomic<const CachedPlan *>, kMaxCachedPlans> planCache_{};
	mutable std::atomic<size_t> cachedPlans_{ 0 };
	mutable std::vector<std::unique_ptr<CachedPlan>> plans_;
};

} /* namespace bufmgr */
