/* SPDX-License-Identifier: MIT */
#include "protocols/heap_hints.h"

#include <algorithm>
#include <dirent.h>
#include <errno.h>
#include <fstream>
#include <set>
#include <string.h>
#include <sys/stat.h>
#include <utility>

#include <drm_fourcc.h>
#include <heapcomp-heaps-v1-server-protocol.h>
#include <linux-dmabuf-unstable-v1-server-protocol.h>

#include <bufmgr/exporter.h>
#include <bufmgr/format.h>
#include <bufmgr/manager.h>

#include "buffer.h"
#include "client.h"
#include "log.h"
#include "protocols/linux_dmabuf.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

/* How often the heaps' memory is read while a client has the global. */
constexpr int kMemoryPollMs = 1000;
/* Available memory is told in eighths of the total: a change of level resends. */
constexpr uint64_t kMemoryLevels = 8;

uint32_t propertiesOf(const bufmgr::HeapInfo &info)
{
	uint32_t properties = 0;
	if (info.contiguous)
		properties |= *info.contiguous ? HEAPCOMP_HEAPS_V1_PROPERTIES_CONTIGUOUS
					       : HEAPCOMP_HEAPS_V1_PROPERTIES_SCATTERED;
	if (info.kind == bufmgr::HeapKind::Protected)
		properties |= HEAPCOMP_HEAPS_V1_PROPERTIES_PROTECTED;
	if (info.cpuCached)
		properties |= *info.cpuCached ? HEAPCOMP_HEAPS_V1_PROPERTIES_CPU_CACHED
					      : HEAPCOMP_HEAPS_V1_PROPERTIES_CPU_UNCACHED;
	return properties;
}

uint32_t accountingOf(bufmgr::Accounting controller)
{
	switch (controller) {
	case bufmgr::Accounting::Dmem:
		return HEAPCOMP_HEAPS_V1_ACCOUNTING_DMEM;
	case bufmgr::Accounting::Memcg:
		return HEAPCOMP_HEAPS_V1_ACCOUNTING_MEMCG;
	case bufmgr::Accounting::None:
		break;
	}
	return HEAPCOMP_HEAPS_V1_ACCOUNTING_NONE;
}

/* MemTotal and MemAvailable of /proc/meminfo, in bytes. */
bool readMeminfo(const std::string &procDir, uint64_t *total, uint64_t *available)
{
	std::ifstream file(procDir + "/meminfo");
	std::string key;
	uint64_t kib = 0;
	std::string unit;
	bool haveTotal = false, haveAvailable = false;
	while (file >> key >> kib) {
		std::getline(file, unit);
		if (key == "MemTotal:") {
			*total = kib * 1024;
			haveTotal = true;
		} else if (key == "MemAvailable:") {
			*available = kib * 1024;
			haveAvailable = true;
		}
	}
	return haveTotal && haveAvailable;
}

void sendU64(uint64_t value, uint32_t *hi, uint32_t *lo)
{
	*hi = uint32_t(value >> 32);
	*lo = uint32_t(value & 0xffffffff);
}

std::optional<bufmgr::Usage> usageOf(uint32_t usage)
{
	switch (usage) {
	case HEAPCOMP_HEAPS_V1_USAGE_SCANOUT:
		return bufmgr::Usage::Scanout;
	case HEAPCOMP_HEAPS_V1_USAGE_RENDER:
		return bufmgr::Usage::Render;
	case HEAPCOMP_HEAPS_V1_USAGE_VIDEO:
		return bufmgr::Usage::Video;
	case HEAPCOMP_HEAPS_V1_USAGE_CAMERA:
		return bufmgr::Usage::Camera;
	case HEAPCOMP_HEAPS_V1_USAGE_CPU:
		return bufmgr::Usage::Cpu;
	default:
		return std::nullopt;
	}
}

/* Bytes of a linear image of this format, or nullopt past 32 bits. */
std::optional<uint64_t> linearBytes(const bufmgr::FormatInfo &info, uint32_t width,
				    uint32_t height)
{
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < info.numPlanes; i++) {
		uint64_t w = width, h = height;
		if (i > 0) {
			w = (w + info.hsub - 1) / info.hsub;
			h = (h + info.vsub - 1) / info.vsub;
		}
		bytes += w * info.bytesPerPixel[i] * h;
		if (bytes > UINT32_MAX)
			return std::nullopt;
	}
	return bytes;
}

/* The (device, inode) pairs of every file a process has open. */
std::optional<std::set<std::pair<dev_t, ino_t>>> openFiles(const std::string &procDir, pid_t pid)
{
	std::string dir = procDir + "/" + std::to_string(pid) + "/fd";
	DIR *d = opendir(dir.c_str());
	if (!d)
		return std::nullopt;
	std::set<std::pair<dev_t, ino_t>> files;
	while (dirent *entry = readdir(d)) {
		if (entry->d_name[0] == '.')
			continue;
		struct stat st;
		if (stat((dir + "/" + entry->d_name).c_str(), &st) == 0)
			files.emplace(st.st_dev, st.st_ino);
	}
	closedir(d);
	return files;
}

} /* namespace */

/* One heapcomp_heap_feedback_v1: default, or following a surface's scanout hint. */
class HeapHints::FeedbackObject
{
public:
	FeedbackObject(HeapHints &hints, wl_resource *resource, Surface *surface)
		: hints_(hints), resource_(resource)
	{
		if (surface)
			hint_ = ScanoutHint::follow(hints.server(), surface,
						    [this] { hints_.sendFeedback(*this); });
	}
	~FeedbackObject() { hints_.removeFeedback(this); }
	FeedbackObject(const FeedbackObject &) = delete;
	FeedbackObject &operator=(const FeedbackObject &) = delete;

	wl_resource *resource() const { return resource_; }
	bool isSurfaceFeedback() const { return hint_.get() != nullptr; }
	/* Null for the default feedback and once the surface is gone. */
	Surface *surface() const { return hint_.get() ? hint_->surface() : nullptr; }
	std::optional<ScanoutTranche> scanout() const
	{
		return hint_.get() ? hint_->sent() : std::nullopt;
	}
	void reevaluate()
	{
		if (hint_.get())
			hint_->reevaluate();
	}

private:
	HeapHints &hints_;
	wl_resource *resource_;
	ScanoutHint::Follower hint_;
};

/*
 * One heapcomp_heap_buffer_v1. A successful one holds the buffer (so its
 * memory stays counted in bufmgr's statistics) and the client's charge;
 * when it goes, the charge stays until the client closes its fds.
 */
class HeapHints::BufferObject
{
public:
	BufferObject() = default;
	BufferObject(std::shared_ptr<ClientAccount> account, uint32_t pool, bufmgr::Buffer buffer)
		: account_(std::move(account)), pool_(pool), buffer_(std::move(buffer))
	{
		struct stat st;
		if (buffer_->numPlanes() > 0 && fstat(buffer_->plane(0).fd.get(), &st) == 0) {
			device_ = st.st_dev;
			inode_ = st.st_ino;
		}
	}
	~BufferObject()
	{
		if (!buffer_ || !account_)
			return;
		auto it = account_->heapCharges.find(pool_);
		if (it == account_->heapCharges.end())
			return;
		/* The client's fds keep the memory: it is charged until they go. */
		account_->heldHeapBuffers.push_back(
			{ uint64_t(device_), uint64_t(inode_), pool_, buffer_->size() });
	}
	BufferObject(const BufferObject &) = delete;
	BufferObject &operator=(const BufferObject &) = delete;

private:
	std::shared_ptr<ClientAccount> account_;
	uint32_t pool_ = 0;
	std::optional<bufmgr::Buffer> buffer_;
	dev_t device_ = 0;
	ino_t inode_ = 0;
};

namespace {

HeapHints *hintsFrom(wl_resource *resource)
{
	return fromResource<HeapHints>(resource);
}

void getDefaultFeedback(wl_client *, wl_resource *resource, uint32_t id)
{
	if (HeapHints *hints = hintsFrom(resource))
		hints->getFeedback(resource, id, nullptr);
}

void getSurfaceFeedback(wl_client *, wl_resource *resource, uint32_t id, wl_resource *surface)
{
	if (HeapHints *hints = hintsFrom(resource))
		hints->getFeedback(resource, id, Surface::fromResource(surface));
}

void allocate(wl_client *client, wl_resource *resource, uint32_t id, uint32_t heap,
	      int32_t width, int32_t height, uint32_t format, uint32_t modifierHi,
	      uint32_t modifierLo, uint32_t usage)
{
	if (HeapHints *hints = hintsFrom(resource))
		hints->allocate(client, resource, id, heap, width, height, format,
				(uint64_t(modifierHi) << 32) | modifierLo, usage);
}

const struct heapcomp_heaps_v1_interface heapsImpl = {
	.destroy = destroyResource,
	.get_default_feedback = getDefaultFeedback,
	.get_surface_feedback = getSurfaceFeedback,
	.allocate = allocate,
};

const struct heapcomp_heap_feedback_v1_interface feedbackImpl = {
	.destroy = destroyResource,
};

const struct heapcomp_heap_buffer_v1_interface bufferImpl = {
	.destroy = destroyResource,
};

} /* namespace */

bufmgr::Result<std::unique_ptr<HeapHints>> HeapHints::create(Server &server, LinuxDmabuf &dmabuf)
{
	std::unique_ptr<HeapHints> hints(new HeapHints(server, dmabuf));
	hints->init();
	return hints;
}

HeapHints::HeapHints(Server &server, LinuxDmabuf &dmabuf)
	: server_(server), dmabuf_(dmabuf)
{
}

HeapHints::~HeapHints()
{
	global_.reset();
	memoryTimer_.reset();
	/* Bound globals outlive this only as inert objects. */
	bound_.forEach([](wl_resource *resource) { wl_resource_set_user_data(resource, nullptr); });
	bound_.unlinkAll();
	std::list<FeedbackObject *> feedbacks = std::move(feedbacks_);
	feedbacks_.clear();
	for (FeedbackObject *feedback : feedbacks) {
		wl_resource_set_user_data(feedback->resource(), nullptr);
		wl_resource_set_destructor(feedback->resource(), nullptr);
		delete feedback;
	}
}

void HeapHints::init()
{
	bufmgr::BufferManager &manager = server_.bufferManager();
	const std::vector<bufmgr::HeapInfo> &infos = manager.heaps();
	for (size_t i = 0; i < infos.size(); i++) {
		Heap heap;
		heap.id = uint32_t(i + 1);
		heap.pool = heap.id;
		heap.info = &infos[i];
		heap.properties = propertiesOf(infos[i]);
		std::string source = "dma-heap:" + infos[i].name;
		if (manager.allocator(source))
			heap.source = std::move(source);
		readMemory(heap);
		heaps_.push_back(std::move(heap));
	}
	readProvenance();
	/* Aliases share the pool of the heap they name. */
	for (Heap &heap : heaps_) {
		if (!heap.info->isAlias())
			continue;
		if (const Heap *primary = findHeap(heap.info->aliasOf))
			heap.pool = primary->id;
	}
	for (const Heap &heap : heaps_) {
		int level = -1;
		if (heap.totalBytes && heap.availableBytes && *heap.totalBytes)
			level = int(*heap.availableBytes * kMemoryLevels / *heap.totalBytes);
		sentLevels_.push_back(level);
	}

	/* Made now, armed while clients are bound: the fd count stays flat. */
	memoryTimer_.reset(wl_event_loop_add_timer(server_.loop(), &onMemoryTimer, this));
	if (!memoryTimer_)
		LOG_WARNING("heap hints: no timer: heap memory is read only on allocation");
	global_.create(server_.display(), &heapcomp_heaps_v1_interface, kVersion, this, &bind);
	LOG_INFO("heap hints: %zu heaps", heaps_.size());
}

/* A tree that cannot be read costs the provenance, not the heaps. */
void HeapHints::readProvenance()
{
	const bufmgr::SystemPaths &paths = server_.bufferManager().paths();
	const std::vector<bufmgr::HeapInfo> &infos = server_.bufferManager().heaps();
	bufmgr::Result<bufmgr::DeviceTreeRegions> tree = bufmgr::readDeviceTreeRegions(paths);
	if (!tree)
		LOG_WARNING("heap hints: device tree: %s", tree.error().message().c_str());
	const bufmgr::DeviceTreeRegions regions = tree ? *tree : bufmgr::DeviceTreeRegions{};
	std::vector<bufmgr::HeapProvenance> provenance = bufmgr::heapProvenance(infos, regions);
	std::vector<bufmgr::HeapAccounting> accounting = bufmgr::heapAccounting(infos, paths);
	for (size_t i = 0; i < heaps_.size() && i < provenance.size() && i < accounting.size(); i++) {
		Heap &heap = heaps_[i];
		if (provenance[i].region)
			heap.region = provenance[i].region->node;
		heap.devices = std::move(provenance[i].users);
		heap.origin = std::move(provenance[i].summary);
		heap.accounting = std::move(accounting[i]);
		LOG_INFO("heap hints: %s: %s; paid by %s", heap.info->name.c_str(),
			 heap.origin.c_str(), heap.accounting.summary.c_str());
	}
}

const HeapHints::Heap *HeapHints::findHeap(uint32_t id) const
{
	if (id == 0 || id > heaps_.size())
		return nullptr;
	return &heaps_[id - 1];
}

const HeapHints::Heap *HeapHints::findHeap(const std::string &name) const
{
	for (const Heap &heap : heaps_)
		if (heap.info->name == name)
			return &heap;
	return nullptr;
}

void HeapHints::readMemory(Heap &heap) const
{
	const bufmgr::SystemPaths &paths = server_.bufferManager().paths();
	const bufmgr::HeapInfo &info = *heap.info;
	if (info.isCma()) {
		bufmgr::CmaReadOptions options;
		options.bitmap = false;
		auto area = bufmgr::readCmaArea(paths, info.cmaArea, options);
		if (!area || !area->pages() || !area->freePages())
			return;
		heap.totalBytes = area->totalBytes();
		heap.availableBytes = *area->freePages() * area->pageSize;
		return;
	}
	if (info.kind == bufmgr::HeapKind::System || info.kind == bufmgr::HeapKind::SystemUncached) {
		uint64_t total = 0, available = 0;
		if (readMeminfo(paths.procDir, &total, &available)) {
			heap.totalBytes = total;
			heap.availableBytes = available;
		}
	}
}

void HeapHints::refreshMemory()
{
	bool changed = false;
	for (size_t i = 0; i < heaps_.size(); i++) {
		Heap &heap = heaps_[i];
		readMemory(heap);
		int level = -1;
		if (heap.totalBytes && heap.availableBytes && *heap.totalBytes)
			level = int(*heap.availableBytes * kMemoryLevels / *heap.totalBytes);
		if (level != sentLevels_[i]) {
			sentLevels_[i] = level;
			changed = true;
		}
	}
	if (changed)
		bound_.forEach([this](wl_resource *resource) { sendHeaps(resource); });
}

int HeapHints::onMemoryTimer(void *data)
{
	auto *self = static_cast<HeapHints *>(data);
	if (self->bound_.empty())
		return 0;
	self->refreshMemory();
	wl_event_source_timer_update(self->memoryTimer_.get(), kMemoryPollMs);
	return 0;
}

void HeapHints::sendHeaps(wl_resource *resource) const
{
	for (const Heap &heap : heaps_) {
		heapcomp_heaps_v1_send_heap(resource, heap.id, heap.info->name.c_str(),
					    heap.properties, heap.pool, heap.source.empty() ? 0 : 1);
		if (heap.totalBytes && heap.availableBytes) {
			uint32_t totalHi, totalLo, availableHi, availableLo;
			sendU64(*heap.totalBytes, &totalHi, &totalLo);
			sendU64(*heap.availableBytes, &availableHi, &availableLo);
			heapcomp_heaps_v1_send_heap_memory(resource, heap.id, totalHi, totalLo,
							   availableHi, availableLo);
		}
		if (wl_resource_get_version(resource) < HEAPCOMP_HEAPS_V1_HEAP_REGION_SINCE_VERSION)
			continue;
		if (!heap.region.empty())
			heapcomp_heaps_v1_send_heap_region(resource, heap.id, heap.region.c_str());
		for (const bufmgr::RegionUser &device : heap.devices)
			heapcomp_heaps_v1_send_heap_device(resource, heap.id, device.node.c_str(),
							   device.driver.c_str());
		heapcomp_heaps_v1_send_heap_accounting(resource, heap.id,
						       accountingOf(heap.accounting.controller),
						       heap.accounting.dmemRegion.c_str());
	}
	heapcomp_heaps_v1_send_done(resource);
}

void HeapHints::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	auto *self = static_cast<HeapHints *>(data);
	wl_resource *resource = wl_resource_create(client, &heapcomp_heaps_v1_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	bool first = self->bound_.empty();
	self->bound_.add(resource, &heapsImpl, self);
	self->sendHeaps(resource);
	/* Memory is watched only while someone listens. */
	if (first && self->memoryTimer_)
		wl_event_source_timer_update(self->memoryTimer_.get(), kMemoryPollMs);
}

std::vector<std::vector<uint32_t>> HeapHints::trancheHeaps(const Feedback &feedback) const
{
	auto idsOf = [this](const std::vector<std::string> &names) {
		std::vector<uint32_t> ids;
		for (const std::string &name : names)
			if (const Heap *heap = findHeap(name))
				ids.push_back(heap->id);
		return ids;
	};

	/* Rendering: the heaps in the order bufmgr's policy tries them. */
	std::vector<std::string> renderHeaps;
	const bufmgr::BufferManager &manager = server_.bufferManager();
	bufmgr::AllocationRequest request = bufmgr::AllocationRequest::image(
		1, 1, DRM_FORMAT_XRGB8888, bufmgr::Usage::Render);
	bufmgr::Constraints constraints;
	constraints.dmaBuf = true;
	constexpr std::string_view kHeapPrefix = "dma-heap:";
	for (const bufmgr::PlanStep &step : manager.plan(request, constraints).steps)
		if (step.source.starts_with(kHeapPrefix))
			renderHeaps.push_back(step.source.substr(kHeapPrefix.size()));

	std::vector<std::vector<uint32_t>> result;
	for (const FeedbackTranche &tranche : feedback.tranches) {
		if (tranche.scanout)
			result.push_back(idsOf(server_.backend().scanoutHeaps(manager.heaps())));
		else
			result.push_back(idsOf(renderHeaps));
	}
	return result;
}

void HeapHints::countBuffer(const Surface &surface, const ClientBuffer &buffer) const
{
	const std::shared_ptr<ClientAccount> &account = surface.account();
	if (!account)
		return;
	/* The hint as a surface feedback would give it now, before any hysteresis. */
	Feedback feedback = dmabuf_.buildFeedback(&surface, server_.backend().scanoutTranche(surface));
	std::vector<std::vector<uint32_t>> heaps = trancheHeaps(feedback);
	const Heap *hinted = nullptr;
	if (!heaps.empty() && !heaps[0].empty())
		hinted = findHeap(heaps[0][0]);
	const bufmgr::HeapInfo *info = bufmgr::heapForExporter(server_.bufferManager().heaps(),
							       buffer.exporter());
	const Heap *from = info ? findHeap(info->name) : nullptr;
	if (hinted && from && from->pool == hinted->pool)
		account->heapHintHits++;
	else
		account->heapHintMisses++;
}

void HeapHints::getFeedback(wl_resource *resource, uint32_t id, Surface *surface)
{
	wl_resource *object = createResource(resource, &heapcomp_heap_feedback_v1_interface, id);
	if (!object)
		return;
	auto *feedback = new FeedbackObject(*this, object, surface);
	bindToResource(object, &feedbackImpl, feedback);
	feedbacks_.push_back(feedback);
	sendFeedback(*feedback);
}

void HeapHints::sendFeedback(FeedbackObject &object) const
{
	/* A surface feedback whose surface went is inert. */
	if (object.isSurfaceFeedback() && !object.surface())
		return;
	Feedback feedback = dmabuf_.buildFeedback(object.surface(), object.scanout());
	std::vector<std::vector<uint32_t>> heaps = trancheHeaps(feedback);
	wl_resource *resource = object.resource();

	heapcomp_heap_feedback_v1_send_format_table(resource, dmabuf_.formatTableFd(),
						    dmabuf_.formatTableSize());
	WlArray device;
	device.append(feedback.mainDevice);
	heapcomp_heap_feedback_v1_send_main_device(resource, device.get());
	for (size_t i = 0; i < feedback.tranches.size(); i++) {
		const FeedbackTranche &tranche = feedback.tranches[i];
		WlArray target;
		target.append(tranche.targetDevice);
		heapcomp_heap_feedback_v1_send_tranche_target_device(resource, target.get());
		WlArray indices;
		for (uint16_t index : tranche.indices)
			indices.append(index);
		heapcomp_heap_feedback_v1_send_tranche_formats(resource, indices.get());
		heapcomp_heap_feedback_v1_send_tranche_flags(
			resource, tranche.scanout ? ZWP_LINUX_DMABUF_FEEDBACK_V1_TRANCHE_FLAGS_SCANOUT : 0);
		WlArray ids;
		for (uint32_t heap : heaps[i])
			ids.append(heap);
		heapcomp_heap_feedback_v1_send_tranche_heaps(resource, ids.get());
		heapcomp_heap_feedback_v1_send_tranche_done(resource);
	}
	heapcomp_heap_feedback_v1_send_done(resource);
}

void HeapHints::removeFeedback(FeedbackObject *feedback)
{
	feedbacks_.remove(feedback);
}

void HeapHints::sceneChanged()
{
	for (FeedbackObject *feedback : feedbacks_)
		feedback->reevaluate();
}

void HeapHints::allocate(wl_client *client, wl_resource *resource, uint32_t id, uint32_t heapId,
			 int32_t width, int32_t height, uint32_t format, uint64_t modifier,
			 uint32_t usage)
{
	/* Never valid, whatever the compositor's state: protocol errors. */
	const Heap *heap = findHeap(heapId);
	if (!heap) {
		wl_resource_post_error(resource, HEAPCOMP_HEAPS_V1_ERROR_INVALID_HEAP,
				       "heap %u was never advertised", heapId);
		return;
	}
	std::optional<bufmgr::Usage> bufferUsage = usageOf(usage);
	if (!bufferUsage) {
		wl_resource_post_error(resource, HEAPCOMP_HEAPS_V1_ERROR_INVALID_USAGE,
				       "usage %u is not a value of the usage enum", usage);
		return;
	}
	const bufmgr::FormatInfo *info = bufmgr::formatInfo(format);
	if (!info) {
		wl_resource_post_error(resource, HEAPCOMP_HEAPS_V1_ERROR_INVALID_FORMAT,
				       "format %s (%#x) is not a DRM format heapcomp knows",
				       bufmgr::fourccToString(format).c_str(), format);
		return;
	}
	std::optional<uint64_t> bytes;
	if (width > 0 && height > 0)
		bytes = linearBytes(*info, uint32_t(width), uint32_t(height));
	if (!bytes) {
		wl_resource_post_error(resource, HEAPCOMP_HEAPS_V1_ERROR_INVALID_SIZE,
				       "%dx%d %s is not positive or overflows 32 bits", width,
				       height, info->name);
		return;
	}

	wl_resource *object = createResource(resource, &heapcomp_heap_buffer_v1_interface, id);
	if (!object)
		return;
	ClientState *state = server_.clientState(client);
	const std::string what = std::to_string(width) + "x" + std::to_string(height) + " " +
				 info->name + " from heap '" + heap->info->name + "'";
	auto fail = [&](uint32_t reason, const std::string &message) {
		bindToResource(object, &bufferImpl, new BufferObject());
		LOG_DEBUG("heap hints: %s: %s", state ? state->label().c_str() : "client",
			  message.c_str());
		heapcomp_heap_buffer_v1_send_failed(object, reason, message.c_str());
	};

	/* Could be right with another heap or at another time: failed. */
	if (modifier != DRM_FORMAT_MOD_LINEAR && modifier != DRM_FORMAT_MOD_INVALID)
		return fail(HEAPCOMP_HEAP_BUFFER_V1_REASON_UNSUPPORTED,
			    what + ": heaps allocate linear buffers only");
	const uint32_t maxSize = server_.maxBufferSize();
	if (uint32_t(width) > maxSize || uint32_t(height) > maxSize)
		return fail(HEAPCOMP_HEAP_BUFFER_V1_REASON_UNSUPPORTED,
			    what + ": larger than " + std::to_string(maxSize) + " pixels a side");
	if (heap->source.empty()) {
		const bufmgr::HeapInfo &h = *heap->info;
		std::string why = h.accessible ? "no allocator for it"
					       : std::string("cannot open ") + h.path + ": " +
						 strerrorname_np(h.openErrno);
		return fail(HEAPCOMP_HEAP_BUFFER_V1_REASON_NO_HEAP, what + ": " + why);
	}
	if (!state)
		return fail(HEAPCOMP_HEAP_BUFFER_V1_REASON_QUOTA, what + ": client unknown");

	/* Quotas: per pool in bytes, in all in buffers. */
	ClientAccount &account = state->account();
	releaseClosedHeapBuffers(*state);
	const ClientLimits &limits = server_.config().limits;
	ClientAccount::HeapCharge &charge = account.heapCharges[heap->pool];
	uint32_t buffers = 0;
	for (const auto &[pool, c] : account.heapCharges)
		buffers += c.buffers;
	const uint64_t maxBytes = uint64_t(limits.heapMib) << 20;
	if (buffers + 1 > limits.heapBuffers || charge.bytes + *bytes > maxBytes) {
		std::string message = what + ": over the client's quota (" +
				      std::to_string(buffers) + " buffers of " +
				      std::to_string(limits.heapBuffers) + ", " +
				      std::to_string(charge.bytes) + " + " + std::to_string(*bytes) +
				      " bytes of " + std::to_string(maxBytes) +
				      " in this pool; --limit heap-buffers, heap-mib)";
		LOG_INFO("heap hints: %s: %s", state->label().c_str(), message.c_str());
		return fail(HEAPCOMP_HEAP_BUFFER_V1_REASON_QUOTA, message);
	}

	bufmgr::AllocationRequest request = bufmgr::AllocationRequest::image(
		uint32_t(width), uint32_t(height), format, *bufferUsage,
		"heapcomp for " + state->label());
	auto buffer = server_.bufferManager().allocateFromSource(heap->source, request);
	if (!buffer) {
		const bufmgr::Error &error = buffer.error();
		uint32_t reason = error.code == ENOMEM ? HEAPCOMP_HEAP_BUFFER_V1_REASON_NO_MEMORY
						       : HEAPCOMP_HEAP_BUFFER_V1_REASON_UNSUPPORTED;
		LOG_INFO("heap hints: %s: %s: %s", state->label().c_str(), what.c_str(),
			 error.message().c_str());
		return fail(reason, what + ": " + error.message());
	}

	for (size_t i = 0; i < buffer->numPlanes(); i++) {
		const bufmgr::BufferPlane &plane = buffer->plane(i);
		heapcomp_heap_buffer_v1_send_plane(object, uint32_t(i), plane.fd.get(),
						   plane.offset, plane.stride);
	}
	uint32_t sizeHi, sizeLo;
	const uint64_t size = buffer->size();
	sendU64(size, &sizeHi, &sizeLo);
	charge.bytes += size;
	charge.buffers++;
	bindToResource(object, &bufferImpl,
		       new BufferObject(state->sharedAccount(), heap->pool, std::move(*buffer)));
	heapcomp_heap_buffer_v1_send_ready(object, sizeHi, sizeLo);
	refreshMemory();
}

void HeapHints::releaseClosedHeapBuffers(ClientState &state)
{
	ClientAccount &account = state.account();
	auto &held = account.heldHeapBuffers;
	if (held.empty())
		return;
	auto files = openFiles(server_.bufferManager().paths().procDir, state.pid());
	auto closed = [&](const ClientAccount::HeldHeapBuffer &buffer) {
		/* Unverifiable (no /proc access): not charged for ever. */
		return !files || !files->count({ dev_t(buffer.device), ino_t(buffer.inode) });
	};
	for (auto it = held.begin(); it != held.end();) {
		if (!closed(*it)) {
			++it;
			continue;
		}
		ClientAccount::HeapCharge &charge = account.heapCharges[it->pool];
		charge.bytes -= std::min(charge.bytes, it->bytes);
		if (charge.buffers)
			charge.buffers--;
		it = held.erase(it);
	}
}

} /* namespace comp */
