/* SPDX-License-Identifier: MIT */
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <bufmgr/allocator.h>
#include <bufmgr/buffer.h>
#include <bufmgr/result.h>

namespace bufmgr {

class Stats;
struct PoolState;

/*
 * How much free memory a pool may hold. Above either watermark give()
 * frees the least recently given buffers instead of keeping them.
 */
struct PoolLimits {
	/*
	 * A swapchain has 4 slots: one surface's whole set survives an
	 * unmap/remap or a resize there and back. More identical spares
	 * are rarely taken before they are trimmed.
	 */
	size_t maxFreePerKey = 4;
	/*
	 * Holds a full 4-slot 4K XRGB8888 swapchain (126.6 MiB) or several
	 * 1080p ones, yet stays below the CMA areas boards commonly reserve
	 * (256-512 MiB), so spares alone cannot starve scanout allocations.
	 * Trim a source when it fails with ENOMEM, then retry.
	 */
	uint64_t maxFreeBytes = 128ull << 20;
};

/* Free buffers of one key: one image shape, or one blob size class. */
struct PoolKeySnapshot {
	std::string source;
	uint32_t width = 0;
	uint32_t height = 0;
	uint32_t format = 0;		/* 0 for blobs */
	uint64_t modifier = 0;
	uint64_t sizeClass = 0;		/* blobs only */
	size_t freeBuffers = 0;
	uint64_t freeBytes = 0;

	bool isBlob() const { return format == 0; }
};

struct PoolSnapshot {
	std::vector<PoolKeySnapshot> keys;	/* sorted by source, then shape */
	size_t freeBuffers = 0;
	uint64_t freeBytes = 0;
	uint64_t hits = 0;
	uint64_t misses = 0;
	uint64_t dropped = 0;	/* freed by give() above a watermark */
	uint64_t trimmed = 0;	/* freed by trim*() */
	PoolLimits limits;

	std::string toJson() const;
};

/*
 * A buffer on loan from a BufferPool: given back when the handle is
 * destroyed or reset, or simply freed if the pool is gone by then.
 * Move-only.
 */
class PooledBuffer
{
public:
	PooledBuffer() = default;
	~PooledBuffer();
	PooledBuffer(PooledBuffer &&other) noexcept = default;
	PooledBuffer &operator=(PooledBuffer &&other) noexcept;
	PooledBuffer(const PooledBuffer &) = delete;
	PooledBuffer &operator=(const PooledBuffer &) = delete;

	Buffer &buffer() { return buffer_; }
	const Buffer &buffer() const { return buffer_; }
	Buffer &operator*() { return buffer_; }
	const Buffer &operator*() const { return buffer_; }
	Buffer *operator->() { return &buffer_; }
	const Buffer *operator->() const { return &buffer_; }

	bool isValid() const { return buffer_.isValid(); }
	/* True when the buffer came from the free list, not a fresh allocation. */
	bool reused() const { return reused_; }

	/* Keeps the buffer: the pool will not get it back. */
	[[nodiscard]] Buffer release();
	/* Gives the buffer back now. */
	void reset();

private:
	friend class BufferPool;
	PooledBuffer(std::weak_ptr<PoolState> pool, Buffer buffer, bool reused);

	std::weak_ptr<PoolState> pool_;
	Buffer buffer_;
	bool reused_ = false;
};

/*
 * Free lists of buffers, so that steady-state reuse makes no kernel
 * allocations. Independent of any allocator: take() a free buffer or
 * allocate one, then give() it back (or let a PooledBuffer do it).
 *
 * Images are keyed by (source, width, height, format, modifier). A free
 * image serves a request of that exact shape whose modifier list (empty
 * meaning linear only) holds its modifier and whose strideAlign its plane
 * strides and offsets satisfy: the buffer knows its strides, not the
 * alignment it was asked for.
 *
 * Blobs are keyed by (source, size class). Sizes are rounded up to whole
 * pages, then up to a class: every page count up to 4 pages, above that
 * four steps per power of two (4, 5, 6, 7, 8, 10, 12, 14, 16, 20, ...
 * pages), so a class is less than 25% larger than any size in it. take()
 * returns a blob of the request's class at least as large as the
 * request; acquire() allocates fresh blobs at the full class size so any
 * later request of the class can reuse them.
 *
 * Eviction is least recently given first. take() returns the most
 * recently given buffer, leaving old spares to be trimmed.
 *
 * Thread-safe. Buffers are freed outside the lock.
 */
class BufferPool
{
public:
	using AllocateFunction = std::function<Result<Buffer>(const AllocationRequest &)>;
	/* Gives a buffer back to a pool, or frees it if the pool is gone. */
	using Recycler = std::function<void(Buffer)>;

	/* stats may be null; hits and misses are counted per source there. */
	explicit BufferPool(PoolLimits limits = {}, std::shared_ptr<Stats> stats = nullptr);
	~BufferPool();
	BufferPool(const BufferPool &) = delete;
	BufferPool &operator=(const BufferPool &) = delete;

	/* Bytes a blob of `size` occupies in the pool: its size class. */
	static uint64_t blobSizeClass(uint64_t size);

	/*
	 * A free buffer for request from source, or nullopt (counted as a
	 * pool miss). The buffer keeps its debug name and content.
	 */
	std::optional<Buffer> take(const std::string &source,
				   const AllocationRequest &request);
	/*
	 * The same for the first of several sources that has one, in order;
	 * a miss is counted once, on the first source.
	 */
	std::optional<Buffer> take(std::span<const std::string> sources,
				   const AllocationRequest &request);

	/* Back to its free list (keyed by buffer.source()), or freed. */
	void give(Buffer buffer);

	/* Handle that gives buffer back to this pool when it goes. */
	PooledBuffer wrap(Buffer buffer, bool reused = false);

	/*
	 * take(), else allocateFresh() (blobs at their full size class);
	 * the buffer returns to the pool when the handle goes. allocateFresh
	 * must produce buffers whose source() is `source`.
	 */
	Result<PooledBuffer> acquire(const std::string &source,
				     const AllocationRequest &request,
				     const AllocateFunction &allocateFresh);

	/* A Recycler that holds only a weak reference to this pool. */
	Recycler recycler() const;

	/* Frees free buffers, least recently given first; returns bytes freed. */
	uint64_t trim(uint64_t keepBytes = 0);
	uint64_t trimSource(const std::string &source, uint64_t keepBytes = 0);
	/* Frees free buffers given back longer than maxIdle ago. */
	uint64_t trimIdle(std::chrono::steady_clock::duration maxIdle);

	/* Applies at once: frees whatever is above the new watermarks. */
	void setLimits(PoolLimits limits);
	PoolLimits limits() const;

	PoolSnapshot snapshot() const;

private:
	std::shared_ptr<PoolState> state_;
};

} /* namespace bufmgr */
