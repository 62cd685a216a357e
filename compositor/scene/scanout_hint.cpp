/* SPDX-License-Identifier: MIT */
#include "scene/scanout_hint.h"

#include <algorithm>

#include "log.h"
#include "server.h"
#include "surface.h"

namespace comp {

ScanoutHint::ScanoutHint(Server &server, Surface *surface, Changed changed)
	: server_(server), surface_(surface), changed_(std::move(changed))
{
	surfaceDestroy_.connect(surface->destroySignal(), [this](void *) { surfaceGone(); });
	/* A new buffer, size or position can change what the backend would do. */
	surfaceCommit_.connect(surface->commitSignal(), [this](void *) { reevaluate(); });
	sent_ = server_.backend().scanoutTranche(*surface);
	pending_ = sent_;
}

ScanoutHint::~ScanoutHint() = default;

void ScanoutHint::surfaceGone()
{
	surfaceDestroy_.disconnect();
	surfaceCommit_.disconnect();
	timer_.reset();
	surface_ = nullptr;
}

void ScanoutHint::reevaluate()
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
		changed_();
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

int ScanoutHint::onTimer(void *data)
{
	auto *self = static_cast<ScanoutHint *>(data);
	if (!self->surface_)
		return 0;
	/* The backend may have changed its mind without anyone asking. */
	std::optional<ScanoutTranche> decision =
		self->server_.backend().scanoutTranche(*self->surface_);
	if (decision != self->pending_) {
		self->reevaluate();
		return 0;
	}
	if (self->pending_ != self->sent_) {
		self->sent_ = self->pending_;
		self->changed_();
	}
	return 0;
}

} /* namespace comp */
