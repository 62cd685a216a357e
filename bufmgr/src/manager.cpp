/* SPDX-License-Identifier: MIT */
#include <bufmgr/manager.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <bufmgr/allocators.h>
#include <bufmgr/log.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "allocator_util.h"

namespace bufmgr {

namespace {

uint64_t nowNs()
{
	return static_cast<uint64_t>(
		std::chrono::duration_cast<std::chrono::nanoseconds>(
			std::chrono::steady_clock::now().time_since_epoch()).count());
}

std::vector<std::string> listDri(const std::string &dir, const char *prefix)
{
	std::vector<std::string> nodes;
	DIR *d = ::opendir(dir.c_str());
	if (!d)
		return nodes;
	while (struct dirent *e = ::readdir(d)) {
		if (std::strncmp(e->d_name, prefix, std::strlen(prefix)) == 0)
			nodes.push_back(dir + "/" + e->d_name);
	}
	::closedir(d);
	std::sort(nodes.begin(), nodes.end());
	return nodes;
}

/* A card node that drives a display: dumb buffers are for scanout. */
bool isKmsNode(const std::string &node)
{
	UniqueFd fd(::open(node.c_str(), O_RDWR | O_CLOEXEC));
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
		gbmNodes = listDri(config_.driDir, "renderD");
		for (const std::string &card : listDri(config_.driDir, "card")) {
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
	planCache_.clear();
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

std::shared_ptr<const BufferManager::CachedPlan>
BufferManager::cachedPlan(const AllocationRequest &request,
			  const Constraints &constraints) const
{
	auto build = [](AllocationPlan plan) {
		auto cached = std::make_shared<CachedPlan>();
		for (const PlanStep &step : plan.steps)
			cached->sources.push_back(step.source);
		cached->plan = std::move(plan);
		return std::shared_ptr<const CachedPlan>(std::move(cached));
	};

	if (!request.modifiers.empty())
		return build(plan(request, constraints));

	PlanKey key{ request.usage, request.isBlob(), constraints.contiguous,
		     constraints.cpuAccess, constraints.dmaBuf,
		     constraints.preferredSource, constraints.importDevice };

	std::lock_guard<std::mutex> lock(sourcesMutex_);
	auto it = planCache_.find(key);
	if (it != planCache_.end())
		return it->second;
	auto p = build(planAllocation(request, constraints, sourceInfos_));
	planCache_.emplace(std::move(key), p);
	return p;
}

Result<Buffer> BufferManager::allocateFrom(const Source &source,
					   const AllocationRequest &request)
{
	uint64_t start = nowNs();
	auto buffer = source.allocator->allocate(request);
	uint64_t elapsed = nowNs() - start;

	if (!buffer) {
		source.stats->recordFailure(buffer.error().code);
		return buffer;
	}
	source.stats->recordAllocation(buffer->size(), elapsed);
	buffer->setAccount(LiveAccount(source.stats, buffer->size()));
	return buffer;
}

Result<Buffer> BufferManager::runPlan(const AllocationPlan &plan,
				      const AllocationRequest &request)
{
	std::string attempts;
	int lastError = ENODEV;

	for (size_t i = 0; i < plan.steps.size(); i++) {
		const Source *source = findSource(plan.steps[i].source);
		if (!source)
			continue;

		auto buffer = allocateFrom(*source, request);
		/* Free spares of this source may be what stands in the way. */
		if (!buffer && buffer.error().code == ENOMEM &&
		    pool_->trimSource(source->info.source) > 0)
			buffer = allocateFrom(*source, request);
		if (buffer)
			return buffer;

		const Error &error = buffer.error();
		lastError = error.code;
		attempts += (attempts.empty() ? "" : "; ") + error.message();

		const std::string next = i + 1 < plan.steps.size() ? plan.steps[i + 1].source
								   : std::string();
		const std::string reason = errnoName(error.code) + " (" +
					   std::strerror(error.code) + ") for " +
					   internal::describe(request, 0);
		stats_->recordFallback(source->info.source, next, reason);
		log(LogLevel::Warning, error.message() +
			(next.empty() ? "; no source left" : "; falling back to " + next));
	}

	std::string context = "allocate " + internal::describe(request) + " for " +
			      std::string(toString(request.usage));
	if (plan.steps.empty()) {
		context += ": no source can serve it";
		for (const SkippedSource &skip : plan.skipped)
			context += "; " + skip.source + ": " + skip.why;
		return unexpected(ENODEV, context);
	}
	return unexpected(lastError, context + ": every source failed: " + attempts);
}

Result<Buffer> BufferManager::allocate(const AllocationRequest &request,
				       const Constraints &constraints)
{
	return runPlan(cachedPlan(request, constraints)->plan, request);
}

Result<PooledBuffer> BufferManager::allocatePooled(const AllocationRequest &request,
						   const Constraints &constraints)
{
	std::shared_ptr<const CachedPlan> p = cachedPlan(request, constraints);

	if (auto buffer = pool_->take(p->sources, request))
		return pool_->wrap(std::move(*buffer), true);

	/* Fresh blobs take their whole size class so any later request of it fits. */
	AllocationRequest fresh = request;
	if (fresh.isBlob())
		fresh.size = BufferPool::blobSizeClass(fresh.size);

	auto buffer = runPlan(p->plan, fresh);
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
