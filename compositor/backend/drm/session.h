/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

#include "wayland_util.h"

struct libseat;
struct wl_event_loop;

namespace comp {

using bufmgr::Result;

/*
 * A device node the seat opened for this session. The seat is told when
 * it closes, so it can give the device to the next session; the seat
 * itself stays open until its last device is gone.
 */
class SessionDevice
{
public:
	SessionDevice() = default;
	SessionDevice(std::shared_ptr<libseat> seat, int id, bufmgr::UniqueFd fd);
	~SessionDevice();
	SessionDevice(SessionDevice &&other) noexcept;
	SessionDevice &operator=(SessionDevice &&other) noexcept;
	SessionDevice(const SessionDevice &) = delete;
	SessionDevice &operator=(const SessionDevice &) = delete;

	int get() const { return fd_.get(); }
	bool isValid() const { return fd_.isValid(); }

private:
	void reset();

	std::shared_ptr<libseat> seat_;
	int id_ = -1;
	bufmgr::UniqueFd fd_;
};

/*
 * A seat taken through libseat: from seatd, from logind, or (as root,
 * with neither running) libseat's builtin seatd. The seat opens the
 * display and input devices, and takes them away while another session
 * has the display (a VT switch): the active handler hears of it, and
 * nothing may touch the devices until the session is enabled again.
 */
class Session
{
public:
	/* Takes the seat and waits until it is this session's to use. */
	static Result<std::unique_ptr<Session>> open(wl_event_loop *loop);
	~Session();
	Session(const Session &) = delete;
	Session &operator=(const Session &) = delete;

	const std::string &seatName() const { return seatName_; }
	bool active() const { return active_; }

	Result<SessionDevice> openDevice(const std::string &path);
	/* Asks the seat to switch to another session (a VT number). */
	Result<void> switchTo(int session);

	/*
	 * Called with false when the seat takes the devices away (the
	 * session is acknowledged as disabled when it returns) and with
	 * true when it gives them back.
	 */
	using ActiveHandler = std::function<void(bool active)>;
	void setActiveHandler(ActiveHandler handler) { activeHandler_ = std::move(handler); }

private:
	Session() = default;
	static void onEnable(libseat *seat, void *data);
	static void onDisable(libseat *seat, void *data);
	static int onReadable(int fd, uint32_t mask, void *data);
	void dispatch();

	std::shared_ptr<libseat> seat_;
	std::string seatName_;
	bool active_ = false;
	ActiveHandler activeHandler_;
	EventSource source_;
};

} /* namespace comp */
