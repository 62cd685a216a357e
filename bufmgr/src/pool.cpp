/* SPDX-License-Identifier: MIT */
#include <bufmgr/pool.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <compare>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>

#include <drm_fourcc.h>
#include <unistd.h>

#include <bufmgr/format.h>
#include <bufmgr/stats.h>

#include "allocator_util.h"

namespace bufmgr {

using Clock = std::chrono::steady_clock;

struct PoolState {
	struct Key {
		std::string source;
		uint32_t width = 0;
		uint32_t height = 0;
		uint32_t format = 0;
		uint64_t modifier = 0;
		uint64_t sizeClass = 0;

		auto operator<=>(const Key &) const = default;
	};

	struct Entry {
		Buffer buffer;
		uint64_t sequence;	/* order of give(), for LRU */
		Clock::time_point since;
	};

	using FreeLists = std::map<Key, std::deque<Entry>>;

	PoolState(PoolLimits l, std::shared_ptr<Stats> s)
		: limits(l), stats(std::move(s))
	{
	}

	void give(Buffer buffer);
	void close();

	/* All with mutex held; freed buffers go to `out`, to be freed unlocked. */
	void enforceLimits(std::vector<Buffer> &out, uint64_t &counter);
	bool popOldest(std::vector<Buffer> &out, const std::string *source);
	Buffer remove(FreeLists::iterator it, size_t index);
	uint64_t sourceBytes(const std::string &source) const;

	mutable std::mutex mutex;
	PoolLimits limits;
	const std::shared_ptr<Stats> stats;
	FreeLists free;
	size_t freeBuffers = 0;
	uint64_t freeBytes = 0;
	uint64_t sequence = 0;
	uint64_t hits = 0;
	uint64_t misses = 0;
	uint64_t dropped = 0;
	uint64_t trimmed = 0;
	bool closed = false;	/* the BufferPool is gone: free what comes back */
};

namespace {

/* The free list a buffer belongs to; nullopt if it cannot be pooled. */
std::optional<PoolState::Key> keyOf(const Buffer &buffer)
{
	if (!buffer.isValid())
		return std::nullopt;

	PoolState::Key key;
	key.source = buffer.source();
	if (buffer.format() == 0) {
		if (!buffer.size())
			return std::nullopt;
		key.sizeClass = BufferPool::blobSizeClass(buffer.size());
	} else {
		key.width = buffer.width();
		key.height = buffer.height();
		key.format = buffer.format();
		key.modifier = buffer.modifier();
	}
	return key;
}

bool satisfiesAlignment(const Buffer &buffer, uint32_t strideAlign)
{
	if (strideAlign <= 1)
		return true;
	return std::all_of(buffer.planes().begin(), buffer.planes().end(),
			   [&](const BufferPlane &p) {
				   return p.stride % strideAlign == 0 &&
					  p.offset % strideAlign == 0;
			   });
}

std::string hex64(uint64_t v)
{
	char buf[24];
	std::snprintf(buf, sizeof(buf), "\"0x%016" PRIx64 "\"", v);
	return buf;
}

} /* namespace */

/* PoolState */

Buffer PoolState::remove(FreeLists::iterator it, size_t index)
{
	auto &list = it->second;
	Buffer buffer = std::move(list[index].buffer);
	list.erase(list.begin() + index);
	if (list.empty())
		free.erase(it);

	freeBuffers--;
	freeBytes -= buffer.size();
	return buffer;
}

bool PoolState::popOldest(std::vector<Buffer> &out, const std::string *source)
{
	auto oldest = free.end();
	for (auto it = free.begin(); it != free.end(); ++it) {
		if (source && it->first.source != *source)
			continue;
		if (oldest == free.end() ||
		    it->second.front().sequence < oldest->second.front().sequence)
			oldest = it;
	}
	if (oldest == free.end())
		return false;

	out.push_back(remove(oldest, 0));
	return true;
}

uint64_t PoolState::sourceBytes(const std::string &source) const
{
	uint64_t bytes = 0;
	for (const auto &[key, list] : free) {
		if (key.source != source)
			continue;
		for (const Entry &e : list)
			bytes += e.buffer.size();
	}
	return bytes;
}

void PoolState::enforceLimits(std::vector<Buffer> &out, uint64_t &counter)
{
	for (auto it = free.begin(); it != free.end();) {
		auto next = std::next(it);
		size_t size = it->second.size();
		/* remove() erases the list with its last entry: count first. */
		for (size_t n = size > limits.maxFreePerKey ? size - limits.maxFreePerKey : 0;
		     n > 0; n--) {
			out.push_back(remove(it, 0));
			counter++;
		}
		it = next;
	}

	while (freeBytes > limits.maxFreeBytes && popOldest(out, nullptr))
		counter++;
}

void PoolState::give(Buffer buffer)
{
	std::vector<Buffer> drop;
	std::optional<Key> key = keyOf(buffer);

	std::unique_lock lock(mutex);
	if (closed || !key || buffer.size() > limits.maxFreeBytes ||
	    !limits.maxFreePerKey) {
		if (!closed && key)
			dropped++;
		lock.unlock();
		return;	/* buffer freed here */
	}

	auto &list = free[*key];
	freeBuffers++;
	freeBytes += buffer.size();
	list.push_back(Entry{ std::move(buffer), ++sequence, Clock::now() });

	enforceLimits(drop, dropped);
	lock.unlock();
	/* drop frees its buffers here, unlocked. */
}

void PoolState::close()
{
	FreeLists old;
	{
		std::lock_guard lock(mutex);
		closed = true;
		old.swap(free);
		freeBuffers = 0;
		freeBytes = 0;
	}
}

/* PooledBuffer */

PooledBuffer::PooledBuffer(std::weak_ptr<PoolState> pool, Buffer buffer,
			   bool reused)
	: pool_(std::move(pool)), buffer_(std::move(buffer)), reused_(reused)
{
}

PooledBuffer::~PooledBuffer()
{
	reset();
}

PooledBuffer &PooledBuffer::operator=(PooledBuffer &&other) noexcept
{
	if (this != &other) {
		reset();
		pool_ = std::move(other.pool_);
		buffer_ = std::move(other.buffer_);
		reused_ = other.reused_;
		other.reused_ = false;
	}
	return *this;
}

Buffer PooledBuffer::release()
{
	pool_.reset();
	reused_ = false;
	Buffer buffer = std::move(buffer_);
	buffer_ = Buffer();
	return buffer;
}

void PooledBuffer::reset()
{
	std::shared_ptr<PoolState> pool = pool_.lock();
	pool_.reset();
	reused_ = false;

	Buffer buffer = std::move(buffer_);
	buffer_ = Buffer();
	if (pool && buffer.isValid())
		pool->give(std::move(buffer));
	/* Otherwise the pool is gone: buffer is freed here. */
}

/* BufferPool */

BufferPool::BufferPool(PoolLimits limits, std::shared_ptr<Stats> stats)
	: state_(std::make_shared<PoolState>(limits, std::move(stats)))
{
}

BufferPool::~BufferPool()
{
	/* Handles still out may hold the state a little longer: free now. */
	state_->close();
}

uint64_t BufferPool::blobSizeClass(uint64_t size)
{
	if (!size)
		return 0;

	const uint64_t page = internal::pageSize();
	uint64_t pages = (size - 1) / page + 1;
	if (pages > 4) {
		uint64_t step = std::bit_floor(pages) / 4;
		pages = (pages + step - 1) / step * step;
	}
	if (pages > UINT64_MAX / page)
		return UINT64_MAX;
	return pages * page;
}

/* A free buffer of source that fits request; the pool's mutex is held. */
static std::optional<Buffer> findFree(PoolState &state, const std::string &source,
				      const AllocationRequest &request)
{
	std::optional<Buffer> found;
	auto &free = state.free;

	/* Newest first: the oldest spares stay to be trimmed. */
	auto search = [&](const PoolState::Key &key, auto &&fits) {
		auto it = free.find(key);
		if (it == free.end())
			return false;
		auto &list = it->second;
		for (size_t i = list.size(); i-- > 0;) {
			if (fits(list[i].buffer)) {
				found = state.remove(it, i);
				return true;
			}
		}
		return false;
	};

	if (request.isBlob()) {
		PoolState::Key key;
		key.source = source;
		key.sizeClass = BufferPool::blobSizeClass(request.size);
		if (request.size)
			search(key, [&](const Buffer &b) {
				return b.size() >= request.size;
			});
	} else {
		static const std::vector<uint64_t> linearOnly{ DRM_FORMAT_MOD_LINEAR };
		const auto &modifiers = request.modifiers.empty()
				      ? linearOnly : request.modifiers;

		/* The request lists modifiers in order of preference. */
		for (uint64_t modifier : modifiers) {
			PoolState::Key key{ source, request.width, request.height,
					    request.format, modifier, 0 };
			if (search(key, [&](const Buffer &b) {
				    return satisfiesAlignment(b, request.strideAlign);
			    }))
				break;
		}
	}
	return found;
}

std::optional<Buffer> BufferPool::take(const std::string &source,
				       const AllocationRequest &request)
{
	return take(std::span<const std::string>(&source, 1), request);
}

std::optional<Buffer> BufferPool::take(std::span<const std::string> sources,
				       const AllocationRequest &request)
{
	std::optional<Buffer> found;
	const std::string *counted = sources.empty() ? nullptr : &sources.front();

	{
		std::lock_guard lock(state_->mutex);
		for (const std::string &source : sources) {
			found = findFree(*state_, source, request);
			if (found) {
				counted = &source;
				break;
			}
		}
		if (found)
			state_->hits++;
		else
			state_->misses++;
	}

	/* One hit or miss per request, on the source it is about. */
	if (state_->stats && counted) {
		auto sourceStats = state_->stats->sourceStats(*counted);
		if (found)
			sourceStats->recordPoolHit();
		else
			sourceStats->recordPoolMiss();
	}

	return found;
}

void BufferPool::give(Buffer buffer)
{
	state_->give(std::move(buffer));
}

PooledBuffer BufferPool::wrap(Buffer buffer, bool reused)
{
	return PooledBuffer(state_, std::move(buffer), reused);
}

Result<PooledBuffer> BufferPool::acquire(const std::string &source,
					 const AllocationRequest &request,
					 const AllocateFunction &allocateFresh)
{
	if (std::optional<Buffer> buffer = take(source, request))
		return wrap(std::move(*buffer), true);

	if (!allocateFresh)
		return unexpected(EINVAL, "pool acquire from '" + source +
					  "': no allocate function");

	Result<Buffer> fresh = [&] {
		if (!request.isBlob())
			return allocateFresh(request);
		/* The full class, so every later request of the class fits. */
		AllocationRequest rounded = request;
		rounded.size = std::max(request.size, blobSizeClass(request.size));
		return allocateFresh(rounded);
	}();
	if (!fresh)
		return unexpected(std::move(fresh).error());

	return wrap(std::move(*fresh), false);
}

BufferPool::Recycler BufferPool::recycler() const
{
	return [pool = std::weak_ptr<PoolState>(state_)](Buffer buffer) {
		if (std::shared_ptr<PoolState> state = pool.lock())
			state->give(std::move(buffer));
	};
}

uint64_t BufferPool::trim(uint64_t keepBytes)
{
	std::vector<Buffer> drop;
	uint64_t bytes = 0;
	{
		std::lock_guard lock(state_->mutex);
		while (state_->freeBytes > keepBytes &&
		       state_->popOldest(drop, nullptr)) {
			bytes += drop.back().size();
			state_->trimmed++;
		}
	}
	return bytes;
}

uint64_t BufferPool::trimSource(const std::string &source, uint64_t keepBytes)
{
	std::vector<Buffer> drop;
	uint64_t bytes = 0;
	{
		std::lock_guard lock(state_->mutex);
		uint64_t held = state_->sourceBytes(source);
		while (held > keepBytes && state_->popOldest(drop, &source)) {
			held -= drop.back().size();
			bytes += drop.back().size();
			state_->trimmed++;
		}
	}
	return bytes;
}

uint64_t BufferPool::trimIdle(std::chrono::steady_clock::duration maxIdle)
{
	std::vector<Buffer> drop;
	uint64_t bytes = 0;
	const Clock::time_point cutoff = Clock::now() - maxIdle;
	{
		std::lock_guard lock(state_->mutex);
		auto &free = state_->free;
		for (auto it = free.begin(); it != free.end();) {
			auto next = std::next(it);
			/* Each list is in give() order: stale entries lead. */
			const auto &list = it->second;
			size_t stale = std::find_if(list.begin(), list.end(),
						    [&](const PoolState::Entry &e) {
							    return e.since > cutoff;
						    }) - list.begin();
			for (; stale > 0; stale--) {
				drop.push_back(state_->remove(it, 0));
				bytes += drop.back().size();
				state_->trimmed++;
			}
			it = next;
		}
	}
	return bytes;
}

void BufferPool::setLimits(PoolLimits limits)
{
	std::vector<Buffer> drop;
	std::lock_guard lock(state_->mutex);
	state_->limits = limits;
	state_->enforceLimits(drop, state_->trimmed);
	/* Unlocks before drop frees: members are destroyed in reverse order. */
}

PoolLimits BufferPool::limits() const
{
	std::lock_guard lock(state_->mutex);
	return state_->limits;
}

PoolSnapshot BufferPool::snapshot() const
{
	PoolSnapshot snap;
	std::lock_guard lock(state_->mutex);

	snap.keys.reserve(state_->free.size());
	for (const auto &[key, list] : state_->free) {
		PoolKeySnapshot k;
		k.source = key.source;
		k.width = key.width;
		k.height = key.height;
		k.format = key.format;
		k.modifier = key.modifier;
		k.sizeClass = key.sizeClass;
		k.freeBuffers = list.size();
		for (const auto &e : list)
			k.freeBytes += e.buffer.size();
		snap.keys.push_back(std::move(k));
	}

	snap.freeBuffers = state_->freeBuffers;
	snap.freeBytes = state_->freeBytes;
	snap.hits = state_->hits;
	snap.misses = state_->misses;
	snap.dropped = state_->dropped;
	snap.trimmed = state_->trimmed;
	snap.limits = state_->limits;
	return snap;
}

std::string PoolSnapshot::toJson() const
{
	std::string out = "{";
	auto field = [&](const char *name, uint64_t value) {
		out += '"';
		out += name;
		out += "\":";
		out += std::to_string(value);
		out += ',';
	};

	field("free_buffers", freeBuffers);
	field("free_bytes", freeBytes);
	field("hits", hits);
	field("misses", misses);
	field("dropped", dropped);
	field("trimmed", trimmed);
	out += "\"limits\":{";
	field("max_free_per_key", limits.maxFreePerKey);
	field("max_free_bytes", limits.maxFreeBytes);
	out.back() = '}';
	out += ",\"keys\":[";

	for (size_t i = 0; i < keys.size(); i++) {
		const PoolKeySnapshot &k = keys[i];
		if (i)
			out += ',';
		out += "{\"source\":" + jsonQuote(k.source) + ',';
		if (k.isBlob()) {
			out += "\"kind\":\"blob\",";
			field("size_class", k.sizeClass);
		} else {
			out += "\"kind\":\"image\",";
			field("width", k.width);
			field("height", k.height);
			out += "\"format\":" + jsonQuote(fourccToString(k.format)) + ',';
			/* A string: modifiers exceed the 2^53 that JSON numbers keep. */
			out += "\"modifier\":" + hex64(k.modifier) + ',';
		}
		field("free_buffers", k.freeBuffers);
		field("free_bytes", k.freeBytes);
		out.back() = '}';
	}
	out += "]}";
	return out;
}

} /* namespace bufmgr */
