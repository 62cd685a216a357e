/* SPDX-License-Identifier: MIT */
#include "scene/scanout_hint.h"

#include <algorithm>
#include <utility>

#include "log.h"
#include "server.h"
#include "surface.h"

namespace comp {

ScanoutHint::Follower ScanoutHint::follow(Server &server, Surface *surface, Changed changed)
{
	Follower follower;
	follower.hint_ = surface->scanoutHint().lock();
	if (!follower.hint_) {
		follower.hint_ = std::make_shared<ScanoutHint>(server, surface);
		surface->scanoutHint() = follower.hint_;
	}
	follower.id_ = follower.hint_->nextFollower_++;
	follower.hint_->followers_.push_back({ follower.id_, std::move(changed) });
	return follower;
}

ScanoutHint::Follower::~Follower()
{
	release();
}

ScanoutHint::Follower::Follower(Follower &&other) noexcept
	: hint_(std::move(other.hint_)), id_(std::exchange(other.id_, 0))
{
}

ScanoutHint::Follower &ScanoutHint::Follower::operator=(Follower &&other) noexcept
{
	if (this != &other) {
		release();
		hint_ = std::move(other.hint_);
		id_ = std::exchange(other.id_, 0);
	}
	return *this;
}

void ScanoutHint::Follower::release()
{
	if (!hint_)
		return;
	std::erase_if(hint_->followers_, [this](const Told &told) { return told.id == id_; });
	hint_.reset();
}

ScanoutHint::ScanoutHint(Server &server, Surface *surface)
	: server_(server), surface_(surface)
{
	surfaceDestroy_.connect(surface->destroySignal(), [this](void *) { surfaceGone(); });
	evaluated_ = server_.scanoutGeneration();
	sent_ = server_.backend().scanoutTranche(*surface);
	pending_ = sent_;
}

ScanoutHint::~ScanoutHint() = default;

void ScanoutHint::surfaceGone()
{
	surfaceDestroy_.disconnect();
	timer_.reset();
	surface_ = nullptr;
}

void ScanoutHint::reevaluate()
{
	if (!surface_ || evaluated_ == server_.scanoutGeneration())
		return;
	evaluated_ = server_.scanoutGeneration();
	evaluate();
}

void ScanoutHint::evaluate()
{
	if (!surface_)
		return;
	std::optional<ScanoutTranche> decision = server_.backend().scanoutTranche(*surface_);
	/* Unchanged: the timer, if running, goes on counting. */
	if (decision == pending_)
		return;
	pending_ = std::move(decision);
	if (pending_ == sent_) {
		if (timer_)
			wl_event_source_timer_update(timer_.get(), 0);
		return;
	}
	auto hysteresis = server_.config().scanoutHysteresis;
	if (hysteresis.count() <= 0) {
		sent_ = pending_;
		tell();
		return;
	}
	if (!timer_)
		timer_.reset(wl_event_loop_add_timer(server_.loop(), &onTimer, this));
	if (!timer_) {
		LOG_WARNING("scanout hint: no timer for a surface; its scanout tranche stays "
			    "as sent");
		return;
	}
	/* Restarted: the new answer must hold the whole time. */
	int ms = int(std::min<int64_t>(hysteresis.count(), INT32_MAX));
	wl_event_source_timer_update(timer_.get(), ms);
}

void ScanoutHint::tell()
{
	/* The last follower may go while told, and this with it. */
	std::shared_ptr<ScanoutHint> keep = shared_from_this();
	std::vector<uint64_t> ids;
	for (const Told &told : followers_)
		ids.push_back(told.id);
	for (uint64_t id : ids) {
		auto told = std::find_if(followers_.begin(), followers_.end(),
					 [id](const Told &t) { return t.id == id; });
		if (told == followers_.end())
			continue;
		Changed changed = told->changed;
		changed();
	}
}

int ScanoutHint::onTimer(void *data)
{
	auto *self = static_cast<ScanoutHint *>(data);
	if (!self->surface_)
		return 0;
	/* The backend may have changed its mind without anyone asking. */
	std::optional<ScanoutTranche> decision =
		self->server_.backend().scanoutTranche(*self->surface_);
	if (decision != self->pending_) {
		self->evaluate();
		return 0;
	}
	if (self->pending_ != self->sent_) {
		self->sent_ = self->pending_;
		self->tell();
	}
	return 0;
}

} /* namespace comp */
