/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <wayland-server-core.h>

#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

#include "wayland_util.h"

namespace comp {

class Server;
struct ClientAccount;

/*
 * The memory of one wl_shm_pool: the client's file mapped read-only,
 * shared by the pool and every buffer made from it, since a buffer
 * outlives wl_shm_pool.destroy. The mapping keeps the file alive: the
 * fd is closed once mapped, so pools cost the compositor no descriptor.
 */
class ShmMemory
{
public:
	/* `account`, if any, is charged the mapping's size while it lasts. */
	static bufmgr::Result<std::shared_ptr<ShmMemory>>
	map(bufmgr::UniqueFd fd, size_t size, std::shared_ptr<ClientAccount> account = nullptr);
	~ShmMemory();
	ShmMemory(const ShmMemory &) = delete;
	ShmMemory &operator=(const ShmMemory &) = delete;

	/* wl_shm_pool.resize: a larger mapping, perhaps at another address. */
	bufmgr::Result<void> grow(size_t size);

	const uint8_t *data() const { return static_cast<const uint8_t *>(addr_); }
	size_t size() const { return size_; }

private:
	ShmMemory(void *addr, size_t size, std::shared_ptr<ClientAccount> account)
		: addr_(addr), size_(size), account_(std::move(account))
	{
	}

	void *addr_;
	size_t size_;
	std::shared_ptr<ClientAccount> account_;
};

/*
 * Where a wl_shm buffer's pixels are: a range of its pool, checked at
 * create_buffer to lie inside the pool.
 */
class ShmBuffer
{
public:
	ShmBuffer(std::shared_ptr<ShmMemory> memory, uint32_t offset, uint32_t stride,
		  uint32_t height)
		: memory_(std::move(memory)), offset_(offset), stride_(stride), height_(height)
	{
	}

	uint32_t stride() const { return stride_; }
	uint32_t height() const { return height_; }
	/* stride * height: what the client accounts for. */
	uint64_t size() const { return uint64_t(stride_) * height_; }
	/*
	 * Whether the pixels can still be read: false once the client shrank
	 * its file under them. Touches only the first and last byte.
	 */
	bool isReadable() const;
	/*
	 * The first byte, stable while this buffer lives; read stride *
	 * height bytes from it only while an Access of the buffer lives.
	 */
	const uint8_t *data() const;

	class Access;

private:
	std::shared_ptr<ShmMemory> memory_;
	uint32_t offset_;
	uint32_t stride_;
	uint32_t height_;
};

/*
 * Reading a buffer's pixels. The client may shrink its file under the
 * mapping; a read past its end raises SIGBUS. While an Access lives, a
 * fault anywhere in its pool is caught: the pool's pages are replaced by
 * zeroes, the read goes on, and end() says it failed, upon which the
 * client gets wl_shm.error.invalid_fd. Faults elsewhere go to whatever
 * handled SIGBUS before. Kept on the stack, never across dispatch.
 */
class ShmBuffer::Access
{
public:
	explicit Access(const ShmBuffer &buffer);
	~Access();
	Access(const Access &) = delete;
	Access &operator=(const Access &) = delete;

	/* stride * height bytes; null if no access could be set up. */
	const uint8_t *data() const { return data_; }
	/* Ends the access: false if the pool faulted since it began. */
	bool end();

private:
	const uint8_t *data_ = nullptr;
	int slot_ = -1;
	bool faulted_ = false;
};

/*
 * wl_shm, its pools and their buffers. Every buffer is checked when it
 * is created: a format offered, positive sizes, rows of at least width
 * times the format's bytes per pixel, and all rows inside the pool. The
 * renderer decides which formats beyond ARGB8888/XRGB8888 are offered.
 */
class ShmGlobal
{
public:
	static bufmgr::Result<std::unique_ptr<ShmGlobal>> create(Server &server);

	/* wl_shm format codes offered. */
	const std::vector<uint32_t> &formats() const { return formats_; }

	/* Bytes per pixel of an offered format (wl_shm code); 0 if not offered. */
	uint32_t bytesPerPixel(uint32_t format) const;
	Server &server() const { return server_; }

private:
	explicit ShmGlobal(Server &server) : server_(server) {}
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);

	Server &server_;
	Global global_;
	std::vector<uint32_t> formats_;
	std::vector<uint8_t> bytesPerPixel_;
};

} /* namespace comp */
