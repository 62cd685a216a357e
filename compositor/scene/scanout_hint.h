/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

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
 * A surface has one while any feedback offering a scanout tranche
 * (linux-dmabuf's, the heap hints', however many a client makes) follows
 * it: they all tell the same decision, and change at the same moments.
 */
class ScanoutHint : public std::enable_shared_from_this<ScanoutHint>
{
public:
	using Changed = std::function<void()>;

	/*
	 * A follower's hold on a surface's hint: changed runs after sent()
	 * took a new value, until the follower goes.
	 */
	class Follower
	{
	public:
		Follower() = default;
		~Follower();
		Follower(Follower &&other) noexcept;
		Follower &operator=(Follower &&other) noexcept;
		Follower(const Follower &) = delete;
		Follower &operator=(const Follower &) = delete;

		/* Null for none. */
		ScanoutHint *get() const { return hint_.get(); }
		ScanoutHint *operator->() const { return hint_.get(); }

	private:
		friend class ScanoutHint;
		void release();

		std::shared_ptr<ScanoutHint> hint_;
		uint64_t id_ = 0;
	};

	/* Follows surface's hint, made by its first follower. */
	static Follower follow(Server &server, Surface *surface, Changed changed);

	ScanoutHint(Server &server, Surface *surface);
	~ScanoutHint();
	ScanoutHint(const ScanoutHint &) = delete;
	ScanoutHint &operator=(const ScanoutHint &) = delete;

	/* Null once the surface is gone; then nothing changes any more. */
	Surface *surface() const { return surface_; }
	/* The decision last told. */
	const std::optional<ScanoutTranche> &sent() const { return sent_; }

	/*
	 * Asks the backend again, once per Server::scanoutGeneration() however
	 * many feedbacks follow; a new answer (re)starts the timer.
	 */
	void reevaluate();

private:
	static int onTimer(void *data);
	void surfaceGone();
	void evaluate();
	/* Tells every follower; one may go while it is told. */
	void tell();

	Server &server_;
	Surface *surface_;
	struct Told {
		uint64_t id;
		Changed changed;
	};
	std::vector<Told> followers_;
	uint64_t nextFollower_ = 1;
	Listener surfaceDestroy_;
	/* Each commit changes the generation (Server::sceneChanged()). */
	uint64_t evaluated_ = 0;
	std::optional<ScanoutTranche> sent_;
	/* The backend's answer since the timer started; told when it fires. */
	std::optional<ScanoutTranche> pending_;
	EventSource timer_;	/* made on first use: most surfaces never need it */
};

} /* namespace comp */
