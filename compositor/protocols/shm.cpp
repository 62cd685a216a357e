/* SPDX-License-Identifier: MIT */
#include "protocols/shm.h"

#include <algorithm>
#include <atomic>
#include <errno.h>
#include <mutex>
#include <signal.h>
#include <string>
#include <sys/mman.h>

#include <wayland-server-protocol.h>

#include <bufmgr/format.h>

#include "buffer.h"
#include "client.h"
#include "log.h"
#include "server.h"

namespace comp {

namespace {

/*
 * The pools being read now, for the SIGBUS handler: fixed slots of
 * atomics, as a handler may neither lock nor allocate. A fault is matched
 * by its address, not by its thread, so a read made on a driver's own
 * thread is caught too.
 */
struct AccessSlot {
	std::atomic<bool> used{ false };
	std::atomic<uintptr_t> begin{ 0 };
	std::atomic<uintptr_t> end{ 0 };
	std::atomic<bool> faulted{ false };
};

/* Reads in progress at once: one per compositor thread in the process. */
constexpr int kAccessSlots = 32;
AccessSlot accessSlots[kAccessSlots];
struct sigaction previousSigbus;

void onSigbus(int signal, siginfo_t *info, void *context)
{
	const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
	for (AccessSlot &slot : accessSlots) {
		uintptr_t begin = slot.begin.load(std::memory_order_acquire);
		uintptr_t end = slot.end.load(std::memory_order_acquire);
		if (addr < begin || addr >= end)
			continue;
		/* Zeroes in place of the whole pool: the read resumes and ends. */
		void *zeroes = mmap(reinterpret_cast<void *>(begin), end - begin, PROT_READ,
				    MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
		if (zeroes == MAP_FAILED)
			break;
		slot.faulted.store(true, std::memory_order_release);
		return;
	}

	/* Not a client pool: whoever handled SIGBUS before us does. */
	if (previousSigbus.sa_flags & SA_SIGINFO) {
		previousSigbus.sa_sigaction(signal, info, context);
		return;
	}
	if (previousSigbus.sa_handler != SIG_DFL && previousSigbus.sa_handler != SIG_IGN) {
		previousSigbus.sa_handler(signal);
		return;
	}
	/* The default action; a fault ignored would repeat forever. */
	struct sigaction fallback = {};
	fallback.sa_handler = SIG_DFL;
	sigaction(SIGBUS, &fallback, nullptr);
	raise(SIGBUS);
}

bufmgr::Result<void> installSigbusHandler()
{
	static std::once_flag once;
	static int error = 0;
	std::call_once(once, [] {
		struct sigaction action = {};
		action.sa_sigaction = &onSigbus;
		action.sa_flags = SA_SIGINFO;
		sigemptyset(&action.sa_mask);
		if (sigaction(SIGBUS, &action, &previousSigbus) < 0)
			error = errno;
	});
	if (error)
		return bufmgr::unexpected(error, "installing the SIGBUS handler for wl_shm pools");
	return {};
}

/* A wl_shm_pool: its memory, which its buffers share. */
struct ShmPool {
	ShmGlobal &shm;
	std::shared_ptr<ShmMemory> memory;
};

/*
 * Why a buffer's layout is refused, or empty: positive sizes, rows of
 * at least width * bpp bytes, and every row inside the pool. 64-bit
 * sums of 32-bit values cannot overflow; checked all the same.
 */
std::string layoutError(int32_t offset, int32_t width, int32_t height, int32_t stride,
			uint32_t bpp, size_t poolSize)
{
	if (width <= 0 || height <= 0)
		return "width " + std::to_string(width) + " and height " + std::to_string(height) +
		       " must be positive";
	if (offset < 0)
		return "offset " + std::to_string(offset) + " is negative";
	uint64_t rowBytes;
	if (__builtin_mul_overflow(uint64_t(width), uint64_t(bpp), &rowBytes) || stride <= 0 ||
	    uint64_t(stride) < rowBytes)
		return "stride " + std::to_string(stride) + " is below " + std::to_string(width) +
		       " pixels of " + std::to_string(bpp) + " bytes";
	uint64_t bytes, end;
	if (__builtin_mul_overflow(uint64_t(stride), uint64_t(height), &bytes) ||
	    __builtin_add_overflow(bytes, uint64_t(offset), &end) || end > poolSize)
		return "offset " + std::to_string(offset) + " + stride " + std::to_string(stride) +
		       " x height " + std::to_string(height) + " is beyond the pool's " +
		       std::to_string(poolSize) + " bytes";
	return {};
}

void poolCreateBuffer(wl_client *client, wl_resource *resource, uint32_t id, int32_t offset,
		      int32_t width, int32_t height, int32_t stride, uint32_t format)
{
	ShmPool *pool = fromResource<ShmPool>(resource);
	uint32_t bpp = pool->shm.bytesPerPixel(format);
	if (!bpp) {
		wl_resource_post_error(resource, WL_SHM_ERROR_INVALID_FORMAT,
				       "format 0x%08x is not offered", format);
		return;
	}
	std::string error = layoutError(offset, width, height, stride, bpp,
					pool->memory->size());
	if (!error.empty()) {
		wl_resource_post_error(resource, WL_SHM_ERROR_INVALID_STRIDE, "%s", error.c_str());
		return;
	}
	/* wl_shm names no error for a buffer too large to draw. */
	const uint32_t maxSize = pool->shm.server().maxBufferSize();
	if (uint32_t(std::max(width, height)) > maxSize) {
		disconnectOverLimit(client, "buffer-size", "wl_shm buffer width or height",
				    uint32_t(std::max(width, height)), maxSize);
		return;
	}

	wl_resource *bufferResource = wl_resource_create(client, &wl_buffer_interface, 1, id);
	if (!bufferResource) {
		wl_client_post_no_memory(client);
		return;
	}
	ClientState *state = pool->shm.server().clientState(client);
	ClientBuffer::createShm(bufferResource,
				ShmBuffer(pool->memory, uint32_t(offset), uint32_t(stride),
					  uint32_t(height)),
				uint32_t(width), shmFormatToDrm(format),
				state ? state->sharedAccount() : nullptr);
}

void poolResize(wl_client *client, wl_resource *resource, int32_t size)
{
	ShmPool *pool = fromResource<ShmPool>(resource);
	/* The XML allows only growth; its error enum names sizes invalid_stride. */
	if (size < 0 || size_t(size) < pool->memory->size()) {
		wl_resource_post_error(resource, WL_SHM_ERROR_INVALID_STRIDE,
				       "resize from %zu to %d bytes would shrink the pool",
				       pool->memory->size(), size);
		return;
	}
	ClientState *state = pool->shm.server().clientState(client);
	if (state && !admitShmBytes(client, state->account(),
				       pool->shm.server().config().limits,
				       size_t(size) - pool->memory->size()))
		return;
	auto ret = pool->memory->grow(size_t(size));
	if (!ret)
		wl_resource_post_error(resource, WL_SHM_ERROR_INVALID_FD, "%s",
				       ret.error().message().c_str());
}

const struct wl_shm_pool_interface poolImpl = {
	.create_buffer = poolCreateBuffer,
	.destroy = destroyResource,
	.resize = poolResize,
};

void createPool(wl_client *client, wl_resource *resource, uint32_t id, int32_t fd, int32_t size)
{
	/* The request hands the descriptor over: owned from here on. */
	bufmgr::UniqueFd poolFd(fd);
	if (size <= 0) {
		wl_resource_post_error(resource, WL_SHM_ERROR_INVALID_STRIDE,
				       "pool size %d is not positive", size);
		return;
	}
	ShmGlobal *shm = fromResource<ShmGlobal>(resource);
	ClientState *state = shm->server().clientState(client);
	if (state && !admitShmBytes(client, state->account(), shm->server().config().limits,
				       uint64_t(size)))
		return;
	auto memory = ShmMemory::map(std::move(poolFd), size_t(size),
				     state ? state->sharedAccount() : nullptr);
	if (!memory) {
		wl_resource_post_error(resource, WL_SHM_ERROR_INVALID_FD, "%s",
				       memory.error().message().c_str());
		return;
	}
	wl_resource *pool = wl_resource_create(client, &wl_shm_pool_interface,
					       wl_resource_get_version(resource), id);
	if (!pool) {
		wl_client_post_no_memory(client);
		return;
	}
	bindToResource(pool, &poolImpl, new ShmPool{ *shm, std::move(*memory) });
}

const struct wl_shm_interface shmImpl = {
	.create_pool = createPool,
};

} /* namespace */

/* ShmMemory ------------------------------------------------------------ */

bufmgr::Result<std::shared_ptr<ShmMemory>> ShmMemory::map(bufmgr::UniqueFd fd, size_t size,
							   std::shared_ptr<ClientAccount> account)
{
	/* Read-only: the compositor never writes client pixels. */
	void *addr = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
	if (addr == MAP_FAILED)
		return bufmgr::unexpected(errno, "mapping a pool of " + std::to_string(size) +
						 " bytes");
	if (account)
		account->poolBytes += size;
	return std::shared_ptr<ShmMemory>(new ShmMemory(addr, size, std::move(account)));
}

ShmMemory::~ShmMemory()
{
	munmap(addr_, size_);
	if (account_)
		account_->poolBytes -= size_;
}

bufmgr::Result<void> ShmMemory::grow(size_t size)
{
	if (size == size_)
		return {};
	void *addr = mremap(addr_, size_, size, MREMAP_MAYMOVE);
	if (addr == MAP_FAILED)
		return bufmgr::unexpected(errno, "remapping a pool from " + std::to_string(size_) +
						 " to " + std::to_string(size) + " bytes");
	if (account_)
		account_->poolBytes += size - size_;
	addr_ = addr;
	size_ = size;
	return {};
}

bool ShmBuffer::isReadable() const
{
	Access access(*this);
	const volatile uint8_t *data = access.data();
	if (!data)
		return false;
	/* A shrunk file loses its tail first: the last byte faults first. */
	(void)data[0];
	(void)data[size() - 1];
	return access.end();
}

/* ShmBuffer::Access ---------------------------------------------------- */

const uint8_t *ShmBuffer::data() const
{
	return memory_->data() + offset_;
}

ShmBuffer::Access::Access(const ShmBuffer &buffer)
{
	const ShmMemory &memory = *buffer.memory_;
	for (int i = 0; i < kAccessSlots; i++) {
		bool expected = false;
		if (!accessSlots[i].used.compare_exchange_strong(expected, true,
								 std::memory_order_acquire))
			continue;
		AccessSlot &slot = accessSlots[i];
		const auto begin = reinterpret_cast<uintptr_t>(memory.data());
		slot.faulted.store(false, std::memory_order_relaxed);
		slot.begin.store(begin, std::memory_order_release);
		slot.end.store(begin + memory.size(), std::memory_order_release);
		slot_ = i;
		data_ = memory.data() + buffer.offset_;
		return;
	}
	LOG_ERROR("wl_shm: more than %d pools read at once", kAccessSlots);
}

ShmBuffer::Access::~Access()
{
	end();
}

bool ShmBuffer::Access::end()
{
	if (slot_ < 0)
		return !faulted_;
	AccessSlot &slot = accessSlots[slot_];
	slot.end.store(0, std::memory_order_release);
	slot.begin.store(0, std::memory_order_release);
	faulted_ = slot.faulted.load(std::memory_order_acquire);
	slot.used.store(false, std::memory_order_release);
	slot_ = -1;
	if (faulted_)
		data_ = nullptr;
	return !faulted_;
}

/* ShmGlobal ------------------------------------------------------------ */

bufmgr::Result<std::unique_ptr<ShmGlobal>> ShmGlobal::create(Server &server)
{
	if (auto ret = installSigbusHandler(); !ret)
		return bufmgr::unexpected(std::move(ret).error());

	std::unique_ptr<ShmGlobal> shm(new ShmGlobal(server));
	/* Every compositor offers these two; the renderer adds its own. */
	std::vector<uint32_t> drmFormats = { shmFormatToDrm(WL_SHM_FORMAT_ARGB8888),
					     shmFormatToDrm(WL_SHM_FORMAT_XRGB8888) };
	for (uint32_t drm : server.renderer().shmFormats()) {
		if (std::find(drmFormats.begin(), drmFormats.end(), drm) == drmFormats.end())
			drmFormats.push_back(drm);
	}
	for (uint32_t drm : drmFormats) {
		/* Strides are checked against the format's pixel size. */
		const bufmgr::FormatInfo *info = bufmgr::formatInfo(drm);
		if (!info || info->numPlanes != 1) {
			LOG_WARNING("wl_shm: not offering %s: no single-plane layout known",
				    bufmgr::fourccToString(drm).c_str());
			continue;
		}
		shm->formats_.push_back(drmFormatToShm(drm));
		shm->bytesPerPixel_.push_back(info->bytesPerPixel[0]);
	}
	shm->global_.create(server.display(), &wl_shm_interface, 1, shm.get(), &ShmGlobal::bind);
	if (!shm->global_)
		return bufmgr::unexpected(ENOMEM, "creating the wl_shm global");
	LOG_DEBUG("wl_shm: %zu formats", shm->formats_.size());
	return shm;
}

uint32_t ShmGlobal::bytesPerPixel(uint32_t format) const
{
	auto it = std::find(formats_.begin(), formats_.end(), format);
	return it == formats_.end() ? 0 : bytesPerPixel_[size_t(it - formats_.begin())];
}

void ShmGlobal::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	auto *shm = static_cast<ShmGlobal *>(data);
	wl_resource *resource = wl_resource_create(client, &wl_shm_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &shmImpl, shm, nullptr);
	for (uint32_t format : shm->formats_)
		wl_shm_send_format(resource, format);
}

} /* namespace comp */
