/* SPDX-License-Identifier: MIT */
#include <bufmgr/manager.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

#include <bufmgr/allocators.h>
#include <bufmgr/clock.h>
#include <bufmgr/dri_nodes.h>
#include <bufmgr/log.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "allocator_util.h"

namespace bufmgr {

namespace {

/*
 * Timing an allocation takes two clock reads: about 1% of a 4 KiB
 * system-heap allocation, well under 0.1% from 64 KiB on. Small blobs are
 * therefore timed one in kSmallBlobSampling per source, all else always.
 */
constexpr uint64_t kAlwaysTimedBytes = 64 << 10;
constexpr uint64_t kSmallBlobSampling = 16;


/* A card node that drives a display: dumb buffers are for scanout. */
bool isKmsNode(const std::string &node)
{
	UniqueFd fd(sys::open(node.c_str(), O_RDWR | O_CLOEXEC));
	if (!fd)
		return false;
	drmModeRes *res = drmModeGetResources(fd.get());
	bool kms = res && res->count_crtcs > 0;
	drmModeFreeResources(res);
	return kms;
}

} /* namespace */

BufferManager::BufferManager(ManagerConfig config)
	: config_(std::move(config)), stats_(std::make_shared<Stats>()),
	  pool_(std::make_unique<BufferPool>(config_.poolLimits, stats_))
{
}

BufferManager::~BufferManager()
{
	/* Pooled buffers go before the allocators they came from. */
	pool_.reset();
}

Result<std::unique_ptr<BufferManager>> BufferManager::create(ManagerConfig config)
{
	std::unique_ptr<BufferManager> manager(new BufferManager(std::move(config)));
	manager->discover();
	if (manager->sources_.empty())
		return unexpected(ENODEV, "no allocation source is available "
					  "(heaps, udmabuf, DRM and memfd all failed or "
					  "were disabled)");
	return manager;
}

void BufferManager::discover()
{
	auto note = [this](std::string source, Error error) {
		log(LogLevel::Info, source + " unavailable: " + error.message());
		notes_.push_back({ std::move(source), std::move(error) });
	};

	if (config_.dmaHeaps) {
		auto heaps = discoverHeaps(config_.paths);
		if (!heaps)
			note("dma-heaps", heaps.error());
		else
			heaps_ = std::move(*heaps);

		for (const HeapInfo &heap : heaps_) {
			const std::string source = "dma-heap:" + heap.name;
			if (heap.isAlias()) {
				/* One allocator per area: memory is counted once. */
				note(source, makeError(EEXIST, "alias of dma-heap '" +
							       heap.aliasOf + "'"));
				continue;
			}
			if (!heap.accessible) {
				note(source, makeError(heap.openErrno, "open " + heap.path));
				continue;
			}
			bool contiguous = heap.contiguous.value_or(false);
			auto allocator = createDmaHeapAllocator(heap.path, contiguous);
			if (!allocator) {
				note(source, allocator.error());
				continue;
			}
			SourceInfo info;
			info.defaultCma = heap.kind == HeapKind::DefaultCma;
			info.uncached = heap.kind == HeapKind::SystemUncached;
			info.restricted = heap.kind == HeapKind::Protected;
			info.unknown = heap.kind == HeapKind::Unknown;
			addAllocator(std::move(*allocator), info);
		}
	}

	if (config_.udmabuf) {
		auto allocator = createUdmabufAllocator(config_.udmabufPath);
		if (!allocator) {
			note("udmabuf", allocator.error());
		} else {
			addAllocator(std::move(*allocator), {});
		}
	}

	std::vector<std::string> gbmNodes = config_.gbmNodes;
	std::vector<std::string> dumbNodes = config_.dumbNodes;
	bool gbmAutodetect = false;
	if (config_.autodetectDrm && gbmNodes.empty() && dumbNodes.empty()) {
		/* GBM: render nodes first, then display nodes; the first that
		 * allocates wins (probed below). */
		gbmNodes = driNodes("renderD", config_.driDir);
		for (const std::string &card : driNodes("card", config_.driDir)) {
			if (isKmsNode(card)) {
				dumbNodes.push_back(card);
				gbmNodes.push_back(card);
			}
		}
		gbmAutodetect = true;
	}

	for (const std::string &node : gbmNodes) {
		auto allocator = createGbmAllocator(node);
		if (!allocator) {
			note("gbm:" + node, allocator.error());
			continue;
		}
		/*
		 * A GBM device can open and still never allocate (Mesa's software
		 * driver asks a render node for dumb buffers, which only KMS nodes
		 * give): a source is trusted only once it has allocated.
		 */
		auto probe = (*allocator)->allocate(
			AllocationRequest::image(16, 16, DRM_FORMAT_XRGB8888, Usage::Render));
		if (!probe) {
			note("gbm:" + node, probe.error());
			continue;
		}
		SourceInfo info;
		info.device = node;
		addAllocator(std::move(*allocator), info);
		if (gbmAutodetect)
			break;
	}
	for (const std::string &node : dumbNodes) {
		auto allocator = createDumbAllocator(node);
		if (!allocator) {
			note("dumb:" + node, allocator.error());
			continue;
		}
		SourceInfo info;
		info.device = node;
		addAllocator(std::move(*allocator), info);
	}

	if (config_.memfd) {
		addAllocator(createMemfdAllocator(), {});
	}
}

void BufferManager::addAllocator(std::unique_ptr<Allocator> allocator, SourceInfo info)
{
	auto source = std::make_unique<Source>();
	source->stats = stats_->sourceStats(allocator->source());
	info.source = allocator->source();
	info.kind = allocator->kind();
	info.capabilities = allocator->capabilities();
	source->info = info;
	source->allocator = std::move(allocator);

	std::lock_guard<std::mutex> lock(sourcesMutex_);
	sources_.push_back(std::move(source));
	sourceInfos_.push_back(std::move(info));
	/* Cached plans stay allocated: another thread may be using one. */
	cachedPlans_.store(0, std::memory_order_release);
}

const BufferManager::Source *BufferManager::findSource(const std::string &name) const
{
	std::lock_guard<std::mutex> lock(sourcesMutex_);
	for (const auto &source : sources_) {
		if (source->info.source == name)
			return source.get();
	}
	return nullptr;
}

Allocator *BufferManager::allocator(const std::string &source) const
{
	const Source *s = findSource(source);
	return s ? s->allocator.get() : nullptr;
}

std::vector<SourceInfo> BufferManager::sources() const
{
	std::lock_guard<std::mutex> lock(sourcesMutex_);
	return sourceInfos_;
}

AllocationPlan BufferManager::plan(const AllocationRequest &request,
				   const Constraints &constraints) const
{
	std::lock_guard<std::mutex> lock(sourcesMutex_);
	return planAllocation(request, constraints, sourceInfos_);
}

bool BufferManager::CachedPlan::matches(const AllocationRequest &request,
				       const Constraints &constraints) const
{
	return usage == request.usage && blob == request.isBlob() &&
	       contiguous == constraints.contiguous && cpuAccess == constraints.cpuAccess &&
	       dmaBuf == constraints.dmaBuf && preferredSource == constraints.preferredSource &&
	       importDevice == constraints.importDevice &&
	       std::equal(refused.begin(), refused.end(), constraints.refused.begin(),
			  constraints.refused.end(),
			  [](const SkippedSource &a, const SkippedSource &b) {
				  return a.source == b.source && a.why == b.why;
			  });
}

/* With sourcesMutex_ held. */
std::unique_ptr<BufferManager::CachedPlan>
BufferManager::resolvePlan(const AllocationRequest &request,
			   const Constraints &constraints) const
{
	auto cached = std::make_unique<CachedPlan>();
	cached->usage = request.usage;
	cached->blob = request.isBlob();
	cached->contiguous = constraints.contiguous;
	cached->cpuAccess = constraints.cpuAccess;
	cached->dmaBuf = constraints.dmaBuf;
	cached->preferredSource = constraints.preferredSource;
	cached->importDevice = constraints.importDevice;
	cached->refused = constraints.refused;
	cached->plan = planAllocation(request, constraints, sourceInfos_);

	/* The plan was made from sourceInfos_: every step has its source. */
	for (const PlanStep &step : cached->plan.steps) {
		for (const auto &s : sources_) {
			if (s->info.source == step.source)
				cached->sources.push_back(s.get());
		}
		cached->sourceNames.push_back(step.source);
	}
	return cached;
}

const BufferManager::CachedPlan *
BufferManager::cachedPlan(const AllocationRequest &request, const Constraints &constraints,
			  std::unique_ptr<CachedPlan> &uncached) const
{
	if (request.modifiers.empty()) {
		const size_t count = cachedPlans_.load(std::memory_order_acquire);
		for (size_t i = 0; i < count; i++) {
			const CachedPlan *p = planCache_[i].load(std::memory_order_acquire);
			if (p->matches(request, constraints))
				return p;
		}
	}
	return addPlan(request, constraints, uncached);
}

const BufferManager::CachedPlan *
BufferManager::addPlan(const AllocationRequest &request, const Constraints &constraints,
		       std::unique_ptr<CachedPlan> &uncached) const
{
	const bool cacheable = request.modifiers.empty();
	std::lock_guard<std::mutex> lock(sourcesMutex_);
	const size_t count = cachedPlans_.load(std::memory_order_relaxed);
	if (cacheable) {
		/* Another thread may have added it since we looked. */
		for (size_t i = 0; i < count; i++) {
			const CachedPlan *p = planCache_[i].load(std::memory_order_relaxed);
			if (p->matches(request, constraints))
				return p;
		}
	}

	std::unique_ptr<CachedPlan> p = resolvePlan(request, constraints);
	if (!cacheable || count == kMaxCachedPlans) {
		uncached = std::move(p);
		return uncached.get();
	}
	planCache_[count].store(p.get(), std::memory_order_release);
	cachedPlans_.store(count + 1, std::memory_order_release);
	plans_.push_back(std::move(p));
	return plans_.back().get();
}

Result<Buffer> BufferManager::allocateFrom(const Source &source,
					   const AllocationRequest &request)
{
	const bool timed = !request.isBlob() || request.size >= kAlwaysTimedBytes ||
			   source.stats->allocationCount() % kSmallBlobSampling == 0;
	const uint64_t start = timed ? clockNs() : 0;
	auto buffer = source.allocator->allocate(request);
	const uint64_t end = timed ? clockNs() : 0;

	if (!buffer) {
		source.stats->recordFailure(buffer.error().code);
		return buffer;
	}
	if (timed)
		source.stats->recordAllocation(buffer->size(), end - start);
	else
		source.stats->recordAllocation(buffer->size());
	buffer->setAccount(LiveAccount(source.stats, buffer->size()));
	return buffer;
}

Result<Buffer> BufferManager::allocateFromSource(const std::string &name,
						 const AllocationRequest &request)
{
	const Source *source = findSource(name);
	if (!source)
		return unexpected(ENODEV, "no allocation source '" + name + "'");
	return tryAllocate(*source, request);
}

Result<Buffer> BufferManager::tryAllocate(const Source &source,
					  const AllocationRequest &request)
{
	Result<Buffer> buffer = allocateFrom(source, request);
	if (!buffer && buffer.error().code == ENOMEM)
		retryAfterTrim(source, request, buffer);
	return buffer;
}

void BufferManager::retryAfterTrim(const Source &source, const AllocationRequest &request,
				   Result<Buffer> &buffer)
{
	/* Free spares of this source may be what stands in the way. */
	if (pool_->trimSource(source.info.source) > 0)
		buffer = allocateFrom(source, request);
}

Result<Buffer> BufferManager::runPlan(const CachedPlan &plan,
				      const AllocationRequest &request)
{
	/*
	 * The first source usually serves: its result is the one returned,
	 * without a move (a Buffer is large). Fallbacks are tried apart.
	 */
	Result<Buffer> buffer = plan.sources.empty()
		? Result<Buffer>(unexpected(ENODEV, {}))
		: tryAllocate(*plan.sources[0], request);
	if (!buffer)
		buffer = fallBack(plan, request, std::move(buffer).error());
	return buffer;
}

Result<Buffer> BufferManager::fallBack(const CachedPlan &plan,
				       const AllocationRequest &request, Error firstError)
{
	const std::vector<PlanStep> &steps = plan.plan.steps;
	std::string attempts;
	int lastError = ENODEV;

	for (size_t i = 0; i < plan.sources.size(); i++) {
		const Source &source = *plan.sources[i];
		Result<Buffer> buffer = i == 0 ? Result<Buffer>(unexpected(std::move(firstError)))
					       : tryAllocate(source, request);
		if (buffer)
			return buffer;

		const Error &error = buffer.error();
		lastError = error.code;
		const std::string errnoText = errnoName(error.code) + " (" +
					      std::strerror(error.code) + ")";
		/* Each attempt with its errno's name, and which source came next. */
		if (i > 0)
			attempts += "; fell back to " + source.info.source + ": ";
		attempts += error.context + ": " + errnoName(error.code);

		const std::string next = i + 1 < steps.size() ? steps[i + 1].source
							      : std::string();
		const std::string reason = errnoText + " for " + internal::describe(request, 0);
		stats_->recordFallback(source.info.source, next, reason);
		log(LogLevel::Warning, error.context + ": " + errnoText +
			(next.empty() ? "; no source left" : "; falling back to " + next));
	}

	std::string context = "allocate " + internal::describe(request) + " for " +
			      std::string(toString(request.usage));
	if (steps.empty()) {
		context += ": no source can serve it";
		for (const SkippedSource &skip : plan.plan.skipped)
			context += "; " + skip.source + ": " + skip.why;
		return unexpected(ENODEV, context);
	}
	return unexpected(lastError, context + ": every source failed: " + attempts);
}

Result<Buffer> BufferManager::allocate(const AllocationRequest &request,
				       const Constraints &constraints)
{
	std::unique_ptr<CachedPlan> uncached;
	return runPlan(*cachedPlan(request, constraints, uncached), request);
}

Result<PooledBuffer> BufferManager::allocatePooled(const AllocationRequest &request,
						   const Constraints &constraints)
{
	std::unique_ptr<CachedPlan> uncached;
	const CachedPlan *p = cachedPlan(request, constraints, uncached);

	if (auto buffer = pool_->take(p->sourceNames, request))
		return pool_->wrap(std::move(*buffer), true);

	/* Fresh blobs take their whole size class so any later request of it fits. */
	AllocationRequest fresh = request;
	if (fresh.isBlob())
		fresh.size = BufferPool::blobSizeClass(fresh.size);

	auto buffer = runPlan(*p, fresh);
	if (!buffer)
		return unexpected(std::move(buffer).error());
	return pool_->wrap(std::move(*buffer), false);
}

std::string BufferManager::toJson() const
{
	std::string json = "{\"stats\":" + stats_->snapshot().toJson() +
			   ",\"pool\":" + pool_->snapshot().toJson() + ",\"sources\":[";
	auto infos = sources();
	for (size_t i = 0; i < infos.size(); i++) {
		if (i)
			json += ',';
		json += "{\"source\":";
		json += jsonQuote(infos[i].source);
		json += ",\"kind\":\"";
		json += toString(infos[i].kind);
		json += "\",\"contiguous\":";
		json += (infos[i].capabilities & CapContiguous) ? "true" : "false";
		json += '}';
	}
	json += "]}";
	return json;
}

} /* namespace bufmgr */
