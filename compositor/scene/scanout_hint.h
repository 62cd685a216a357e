/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <optional>

#include "backend/backend.h"
#include "wayland_util.h"

namespace comp {

class Server;
class Surface;

/*
 * The backend's scanout decision for one surface, as told to a client:
 * a changed answer must hold for the server's hysteresis time before it
 * becomes the one told, so a decision that flaps faster never reaches the
 * client. The timer runs whether or not the output repaints meanwhile.
 * Every feedback that offers a scanout tranche (linux-dmabuf's, the heap
 * hints') follows one of these, so they change at the same moments.
 */
class ScanoutHint
{
public:
	using Changed = std::function<void()>;

	/* changed runs after sent() took a new value. */
	ScanoutHint(Server &server, Surface *surface, Changed changed);
	~ScanoutHint();
	ScanoutHint(const ScanoutHint &) = delete;
	ScanoutHint &operator=(const ScanoutHint &) = delete;

	/* Null once the surface is gone; then nothing changes any more. */
	Surface *surface() const { return surface_; }
	/* The decision last told. */
	const std::optional<ScanoutTranche> &sent() const { return sent_; }

	/* Asks the backend again; a new answer (re)starts the timer. */
	void reevaluate();

private:
	static int onTimer(void *data);
	void surfaceGone();

	Server &server_;
	Surface *surface_;
	Changed changed_;
	Listener surfaceDestroy_;
	Listener surfaceCommit_;
	std::optional<ScanoutTranche> sent_;
	/* The backend's answer since the timer started; told when it fires. */
	std::optional<ScanoutTranche> pending_;
	EventSource timer_;	/* made on first use: most surfaces never need it */
};

} /* namespace comp */
