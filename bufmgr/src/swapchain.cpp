/* SPDX-License-Identifier: MIT */
#include <bufmgr/swapchain.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace bufmgr {

/* SwapchainSlot */

void SwapchainSlot::setUserData(const void *key, std::shared_ptr<void> data)
{
	auto it = std::find_if(userData_.begin(), userData_.end(),
			       [&](const auto &entry) { return entry.first == key; });
	if (it != userData_.end()) {
		if (data)
			it->second = std::move(data);
		else
			userData_.erase(it);
	} else if (data) {
		userData_.emplace_back(key, std::move(data));
	}
}

std::shared_ptr<void> SwapchainSlot::userData(const void *key) const
{
	for (const auto &[k, data] : userData_) {
		if (k == key)
			return data;
	}
	return nullptr;
}

/* Swapchain */

Swapchain::Swapchain(SwapchainConfig config, AllocateFunction allocate,
		     RecycleFunction recycle)
	: config_(std::move(config)), allocate_(std::move(allocate)),
	  recycle_(std::move(recycle))
{
	buildSlots();
}

Swapchain::~Swapchain()
{
	for (auto &slot : slots_)
		drop(std::move(slot));
	for (auto &slot : orphans_)
		drop(std::move(slot));
}

Result<void> Swapchain::validate(const SwapchainConfig &config)
{
	if (!config.width || !config.height || !config.format)
		return unexpected(EINVAL, "swapchain '" + config.name + "': " +
				  std::to_string(config.width) + "x" +
				  std::to_string(config.height) + " format " +
				  std::to_string(config.format));
	if (!config.numSlots || config.numSlots > kMaxSlots)
		return unexpected(EINVAL, "swapchain '" + config.name + "': " +
				  std::to_string(config.numSlots) + " slots");
	return {};
}

Result<std::unique_ptr<Swapchain>> Swapchain::create(SwapchainConfig config,
						     AllocateFunction allocate,
						     RecycleFunction recycle)
{
	if (Result<void> valid = validate(config); !valid)
		return unexpected(std::move(valid).error());
	if (!allocate)
		return unexpected(EINVAL, "swapchain '" + config.name +
				  "': no allocate function");

	return std::unique_ptr<Swapchain>(new Swapchain(std::move(config),
							std::move(allocate),
							std::move(recycle)));
}

void Swapchain::buildSlots()
{
	slots_.clear();
	slots_.reserve(config_.numSlots);
	for (uint32_t i = 0; i < config_.numSlots; i++)
		slots_.push_back(std::unique_ptr<SwapchainSlot>(new SwapchainSlot(i)));
}

void Swapchain::drop(std::unique_ptr<SwapchainSlot> slot)
{
	if (!slot)
		return;
	/* Cached imports refer to the buffer: they go first. */
	slot->userData_.clear();
	if (recycle_ && slot->buffer_.isValid())
		recycle_(std::move(slot->buffer_));
}

std::unique_ptr<SwapchainSlot> *Swapchain::find(SwapchainSlot *slot, bool *orphan)
{
	auto match = [&](const auto &s) { return s.get() == slot; };
	if (!slot)
		return nullptr;

	auto it = std::find_if(slots_.begin(), slots_.end(), match);
	if (it != slots_.end()) {
		*orphan = false;
		return &*it;
	}
	it = std::find_if(orphans_.begin(), orphans_.end(), match);
	if (it != orphans_.end()) {
		*orphan = true;
		return &*it;
	}
	return nullptr;
}

void Swapchain::dropOrphan(SwapchainSlot *slot)
{
	auto it = std::find_if(orphans_.begin(), orphans_.end(),
			       [&](const auto &s) { return s.get() == slot; });
	std::unique_ptr<SwapchainSlot> owned = std::move(*it);
	orphans_.erase(it);
	drop(std::move(owned));
}

Result<void> Swapchain::allocateSlot(SwapchainSlot &slot)
{
	AllocationRequest request = AllocationRequest::image(
		config_.width, config_.height, config_.format, config_.usage,
		config_.name + "#" + std::to_string(slot.index_));
	request.modifiers = config_.modifiers;

	Result<Buffer> buffer = allocate_(request);
	if (!buffer) {
		Error error = std::move(buffer).error();
		return unexpected(error.code, "swapchain '" + config_.name + "' slot " +
					      std::to_string(slot.index_) + ": " + error.context);
	}
	slot.buffer_ = std::move(*buffer);
	slot.age_ = 0;
	return {};
}

Result<void> Swapchain::reserve()
{
	for (auto &slot : slots_) {
		if (slot->state_ != SwapchainSlot::State::Free || slot->buffer_.isValid())
			continue;
		if (auto ret = allocateSlot(*slot); !ret)
			return ret;
	}
	return {};
}

Result<std::optional<SwapchainSlot *>> Swapchain::acquire()
{
	SwapchainSlot *best = nullptr;
	SwapchainSlot *empty = nullptr;

	/* Youngest content first: the least to repaint. Age 0 is the oldest. */
	auto younger = [](const SwapchainSlot *a, const SwapchainSlot *b) {
		if (!a->age_ || !b->age_)
			return a->age_ > b->age_;
		return a->age_ < b->age_;
	};

	for (auto &slot : slots_) {
		if (slot->state_ != SwapchainSlot::State::Free)
			continue;
		if (slot->buffer_.isValid()) {
			if (!best || younger(slot.get(), best))
				best = slot.get();
		} else if (!empty) {
			empty = slot.get();
		}
	}

	if (!best && empty) {
		if (auto ret = allocateSlot(*empty); !ret)
			return unexpected(std::move(ret).error());
		best = empty;
	}

	if (!best)
		return std::optional<SwapchainSlot *>();

	best->state_ = SwapchainSlot::State::Acquired;
	return std::optional<SwapchainSlot *>(best);
}

bool Swapchain::submit(SwapchainSlot *slot)
{
	bool orphan = false;
	if (!find(slot, &orphan) || slot->state_ != SwapchainSlot::State::Acquired)
		return false;

	slot->state_ = SwapchainSlot::State::Submitted;
	if (orphan)
		return true;	/* old content: ages no longer matter */

	for (auto &s : slots_) {
		if (s.get() == slot)
			s->age_ = 1;
		else if (s->age_ > 0 && s->age_ < INT_MAX)
			s->age_++;
	}
	return true;
}

bool Swapchain::release(SwapchainSlot *slot)
{
	bool orphan = false;
	if (!find(slot, &orphan) || slot->state_ != SwapchainSlot::State::Submitted)
		return false;

	if (orphan)
		dropOrphan(slot);
	else
		slot->state_ = SwapchainSlot::State::Free;
	return true;
}

bool Swapchain::rollback(SwapchainSlot *slot)
{
	bool orphan = false;
	if (!find(slot, &orphan) || slot->state_ != SwapchainSlot::State::Acquired)
		return false;

	if (orphan)
		dropOrphan(slot);
	else
		slot->state_ = SwapchainSlot::State::Free;
	return true;
}

Result<void> Swapchain::reconfigure(SwapchainConfig config)
{
	if (Result<void> valid = validate(config); !valid)
		return valid;

	bool sameShape = config.width == config_.width &&
			 config.height == config_.height &&
			 config.format == config_.format &&
			 config.modifiers == config_.modifiers &&
			 config.usage == config_.usage &&
			 config.numSlots == config_.numSlots;
	config_ = std::move(config);
	if (sameShape)
		return {};

	std::vector<std::unique_ptr<SwapchainSlot>> old = std::move(slots_);
	for (auto &slot : old) {
		if (slot->state_ == SwapchainSlot::State::Free)
			drop(std::move(slot));
		else
			orphans_.push_back(std::move(slot));
	}
	buildSlots();
	return {};
}

Result<void> Swapchain::resize(uint32_t width, uint32_t height)
{
	SwapchainConfig config = config_;
	config.width = width;
	config.height = height;
	return reconfigure(std::move(config));
}

size_t Swapchain::numAllocated() const
{
	return std::count_if(slots_.begin(), slots_.end(),
			     [](const auto &s) { return s->buffer_.isValid(); });
}

std::vector<Swapchain::SourceCount> Swapchain::sources() const
{
	std::vector<SourceCount> counts;
	for (const auto &slot : slots_) {
		if (!slot->buffer_.isValid())
			continue;
		const std::string &source = slot->buffer_.source();
		auto it = std::find_if(counts.begin(), counts.end(),
				       [&](const SourceCount &c) { return c.source == source; });
		if (it == counts.end())
			counts.push_back({ source, 1 });
		else
			it->buffers++;
	}
	return counts;
}

size_t Swapchain::numInUse() const
{
	return std::count_if(slots_.begin(), slots_.end(), [](const auto &s) {
		return s->state_ != SwapchainSlot::State::Free;
	});
}

} /* namespace bufmgr */
