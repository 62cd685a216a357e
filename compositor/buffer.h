/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <wayland-server-core.h>

#include <bufmgr/buffer.h>

#include "buffer_totals.h"
#include "render/renderer.h"

namespace comp {

struct ClientAccount;
class ShmBuffer;

/* What a consumer may do with a buffer's memory, as bits of ClientBuffer::caps(). */
enum BufferCap : uint32_t {
	/* dma-buf planes: a display plane or a GPU may read them as they are. */
	BufferCapDmaBuf = 1u << 0,
	/* A wl_shm pool's range: memory only the CPU reads. */
	BufferCapShm = 1u << 1,
	/* The pixels are behind a pointer the CPU may read now, with no mapping to begin. */
	BufferCapDataPtr = 1u << 2,
};

/*
 * The compositor's side of a wl_buffer: a range of a wl_shm pool or a
 * client dma-buf. Consumers that read the memory lock it; the client
 * gets wl_buffer.release when the last lock goes. Shared: a
 * surface or a frame on screen keeps it alive after the client destroyed
 * the wl_buffer, and the client's accounting ends only then.
 */
class ClientBuffer : public std::enable_shared_from_this<ClientBuffer>
{
public:
	enum class Type : uint8_t { Shm, DmaBuf };

	/* The record of a wl_buffer; null for anything that is not a buffer. */
	static std::shared_ptr<ClientBuffer> fromResource(wl_resource *resource);

	/*
	 * Binds wl_shm memory to its new wl_buffer resource (whose
	 * implementation this sets); format: DRM fourcc. The caller
	 * checked that the rows lie in the pool.
	 */
	static std::shared_ptr<ClientBuffer> createShm(wl_resource *resource, ShmBuffer shm,
						       uint32_t width, uint32_t format,
						       std::shared_ptr<ClientAccount> account);

	/*
	 * Binds a client dma-buf to its new wl_buffer resource (whose
	 * implementation this sets). exporter: what identifyDmaBuf said.
	 */
	static std::shared_ptr<ClientBuffer> createDmaBuf(wl_resource *resource,
							  bufmgr::Buffer buffer,
							  std::string exporter,
							  std::shared_ptr<ClientAccount> account);

	~ClientBuffer();
	ClientBuffer(const ClientBuffer &) = delete;
	ClientBuffer &operator=(const ClientBuffer &) = delete;

	Type type() const { return type_; }
	/* BufferCap bits. */
	uint32_t caps() const
	{
		return type_ == Type::Shm ? BufferCapShm | BufferCapDataPtr : BufferCapDmaBuf;
	}
	uint32_t width() const { return width_; }
	uint32_t height() const { return height_; }
	uint32_t format() const { return format_; }	/* DRM fourcc */
	/* Null once the client destroyed the wl_buffer. */
	wl_resource *resource() const { return resource_; }
	/* The pixels of a wl_shm buffer; null for dma-bufs. */
	const ShmBuffer *shmBuffer() const { return shm_.get(); }
	const bufmgr::Buffer *dmaBuf() const { return dmaBuf_ ? &*dmaBuf_ : nullptr; }
	/* The dma-buf's exporter ("system", "udmabuf"...); empty for wl_shm. */
	const std::string &exporter() const { return exporter_; }
	/*
	 * What to wait on before reading the buffer: it signals once the
	 * writes a device has queued into it are done (the dma-buf's
	 * implicit write fences). Invalid when none is pending, for wl_shm,
	 * and where the kernel cannot say.
	 */
	bufmgr::UniqueFd pendingWrites() const;

	/* Whether the heap hint statistics have counted this buffer yet. */
	bool heapHintCounted() const { return heapHintCounted_; }
	void setHeapHintCounted() { heapHintCounted_ = true; }

	/* Rows bottom first (linux-dmabuf's y_invert flag): drawn flipped. */
	bool yInverted() const { return yInverted_; }
	void setYInverted(bool inverted) { yInverted_ = inverted; }

	/* The renderer's import, cached with the buffer (dma-bufs). */
	Texture *texture() const { return texture_.get(); }
	void setTexture(std::unique_ptr<Texture> texture) { texture_ = std::move(texture); }

	/*
	 * A consumer reading the buffer; release goes to the client once
	 * every Lock is gone.
	 */
	class Lock
	{
	public:
		Lock() = default;
		explicit Lock(std::shared_ptr<ClientBuffer> buffer);
		~Lock() { reset(); }
		Lock(Lock &&other) noexcept = default;
		Lock &operator=(Lock &&other) noexcept;
		Lock(const Lock &other) : Lock(other.buffer_) {}
		Lock &operator=(const Lock &other) { return *this = Lock(other); }

		ClientBuffer *get() const { return buffer_.get(); }
		ClientBuffer *operator->() const { return buffer_.get(); }
		explicit operator bool() const { return buffer_ != nullptr; }
		const std::shared_ptr<ClientBuffer> &shared() const { return buffer_; }
		void reset();

	private:
		std::shared_ptr<ClientBuffer> buffer_;
	};

	uint32_t lockCount() const { return locks_; }

private:
	ClientBuffer(Type type, wl_resource *resource, std::shared_ptr<ClientAccount> account);
	static void onResourceDestroy(wl_listener *listener, void *data);
	void unlock();
	void account(uint64_t bytes, uint64_t fds);

	Type type_;
	wl_resource *resource_;
	/* Keeps this alive as long as the resource, with its destroy listener. */
	std::shared_ptr<ClientBuffer> self_;
	/* Plain data, so wl_container_of() may find it; this class is not. */
	struct DestroyLink {
		wl_listener listener;
		ClientBuffer *buffer;
	} destroyLink_;
	uint32_t width_ = 0;
	uint32_t height_ = 0;
	uint32_t format_ = 0;
	std::unique_ptr<ShmBuffer> shm_;
	std::optional<bufmgr::Buffer> dmaBuf_;
	std::string exporter_;
	bool heapHintCounted_ = false;
	bool yInverted_ = false;
	std::unique_ptr<Texture> texture_;
	uint32_t locks_ = 0;

	std::shared_ptr<ClientAccount> account_;
	uint64_t accountedBytes_ = 0;
	uint64_t accountedFds_ = 0;
};

/* DRM fourcc of a wl_shm format (ARGB8888 and XRGB8888 differ). */
uint32_t shmFormatToDrm(uint32_t format);
uint32_t drmFormatToShm(uint32_t format);

} /* namespace comp */
