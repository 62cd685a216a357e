/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <bufmgr/allocator.h>
#include <bufmgr/buffer.h>
#include <bufmgr/result.h>

namespace bufmgr {

struct SwapchainConfig {
	uint32_t width = 0;
	uint32_t height = 0;
	uint32_t format = 0;			/* DRM fourcc */
	std::vector<uint64_t> modifiers;	/* empty: linear */
	Usage usage = Usage::Scanout;
	uint32_t numSlots = 4;			/* as wlroots */
	std::string name;			/* buffers are named "<name>#<slot>" */
};

/*
 * One buffer of a Swapchain with what is cached for it. The pointer a
 * Swapchain hands out stays valid until the slot is dropped: by
 * reconfigure() once the slot is free again, or with the Swapchain.
 */
class SwapchainSlot
{
public:
	SwapchainSlot(const SwapchainSlot &) = delete;
	SwapchainSlot &operator=(const SwapchainSlot &) = delete;

	Buffer &buffer() { return buffer_; }
	const Buffer &buffer() const { return buffer_; }
	size_t index() const { return index_; }

	/*
	 * Buffer age as in EGL_EXT_buffer_age. 0: the content is undefined
	 * (a new buffer, or one never submitted); repaint everything. n > 0:
	 * the buffer holds the frame submitted n submits ago (1: the latest
	 * one); repaint the damage of the n - 1 frames submitted since, plus
	 * the new damage.
	 */
	int age() const { return age_; }

	/*
	 * Data cached with this slot and destroyed with it, before its
	 * buffer: a DRM framebuffer id, an EGLImage. Several users share a
	 * slot, so each uses its own key (the address of something it owns);
	 * setting null removes the entry.
	 */
	void setUserData(const void *key, std::shared_ptr<void> data);
	std::shared_ptr<void> userData(const void *key) const;
	template<typename T>
	T *userDataAs(const void *key) const
	{
		return static_cast<T *>(userData(key).get());
	}

private:
	friend class Swapchain;
	enum class State { Free, Acquired, Submitted };

	explicit SwapchainSlot(size_t index) : index_(index) {}

	Buffer buffer_;
	/* After buffer_: destroyed first, as it may refer to the buffer. */
	std::vector<std::pair<const void *, std::shared_ptr<void>>> userData_;
	size_t index_;
	int age_ = 0;
	State state_ = State::Free;
};

/*
 * N buffers of one shape that an output renders into in turn. Buffers
 * are allocated on the first acquire() that finds no free allocated
 * slot, so an allocation failure surfaces there and steady state makes
 * no allocations.
 *
 * A slot cycles acquire() -> render -> commit -> submit() when the
 * commit succeeded (rollback() when it failed) -> release() when the
 * display no longer reads it.
 *
 * Not thread-safe: one output's thread drives it.
 */
class Swapchain
{
public:
	using AllocateFunction = std::function<Result<Buffer>(const AllocationRequest &)>;
	/* Receives every buffer the swapchain drops, e.g. BufferPool::recycler(). */
	using RecycleFunction = std::function<void(Buffer)>;

	static constexpr uint32_t kMaxSlots = 16;

	/* EINVAL for an empty size, format 0, 0 or > kMaxSlots slots, no allocate. */
	static Result<std::unique_ptr<Swapchain>> create(SwapchainConfig config,
							 AllocateFunction allocate,
							 RecycleFunction recycle = {});
	/*
	 * Drops every slot, in use or not: keep the swapchain until the
	 * display has released its buffers.
	 */
	~Swapchain();

	Swapchain(const Swapchain &) = delete;
	Swapchain &operator=(const Swapchain &) = delete;

	const SwapchainConfig &config() const { return config_; }

	/*
	 * A free slot, preferring allocated ones with the youngest content;
	 * std::nullopt when every slot is in use; an error when a slot's
	 * buffer could not be allocated.
	 */
	Result<std::optional<SwapchainSlot *>> acquire();

	/*
	 * Allocates every slot's buffer now rather than at first use, so
	 * that memory taken by others later (a CMA area exhausted by
	 * clients) cannot leave the output without a buffer. On failure the
	 * slots allocated so far stay.
	 */
	Result<void> reserve();

	/*
	 * State changes of an acquired slot; each returns false (and does
	 * nothing) when the slot is not this swapchain's or not in a state
	 * that allows it, which is a caller bug.
	 *
	 * submit(): the slot's commit succeeded: its age becomes 1 and every
	 * other slot with content ages by one.
	 * release(): a submitted slot is no longer read by the display.
	 * rollback(): an acquired slot was not presented; no age changes,
	 * which stays correct as long as the caller keeps the frame's damage
	 * pending, as it must since nothing was presented.
	 */
	bool submit(SwapchainSlot *slot);
	bool release(SwapchainSlot *slot);
	bool rollback(SwapchainSlot *slot);

	/*
	 * Switches to a new config. Free slots are dropped now; slots in use
	 * are dropped when released or rolled back (the display may still
	 * scan them out). Keeps everything when only the name differs.
	 */
	Result<void> reconfigure(SwapchainConfig config);
	Result<void> resize(uint32_t width, uint32_t height);

	size_t numSlots() const { return slots_.size(); }
	size_t numAllocated() const;	/* slots with a buffer */
	/*
	 * Where the slots' buffers are (Buffer::source()), each source once
	 * in slot order with how many it holds: a fallback can leave them
	 * in more than one kind of memory.
	 */
	struct SourceCount {
		std::string source;
		size_t buffers = 0;
		bool operator==(const SourceCount &) const = default;
	};
	std::vector<SourceCount> sources() const;
	size_t numInUse() const;	/* acquired or submitted */

private:
	Swapchain(SwapchainConfig config, AllocateFunction allocate,
		  RecycleFunction recycle);

	static Result<void> validate(const SwapchainConfig &config);
	void buildSlots();
	Result<void> allocateSlot(SwapchainSlot &slot);
	void drop(std::unique_ptr<SwapchainSlot> slot);
	std::unique_ptr<SwapchainSlot> *find(SwapchainSlot *slot, bool *orphan);
	void dropOrphan(SwapchainSlot *slot);

	SwapchainConfig config_;
	AllocateFunction allocate_;
	RecycleFunction recycle_;
	std::vector<std::unique_ptr<SwapchainSlot>> slots_;
	/* Slots of an old config still in use, dropped when released. */
	std::vector<std::unique_ptr<SwapchainSlot>> orphans_;
};

} /* namespace bufmgr */
