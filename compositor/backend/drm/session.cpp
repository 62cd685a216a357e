/* SPDX-License-Identifier: MIT */
#include "backend/drm/session.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

/* libseat 0.7's header has no C++ guards of its own. */
extern "C" {
#include <libseat.h>
}
#include <wayland-server-core.h>

#include <bufmgr/clock.h>

#include "log.h"

namespace comp {

namespace {

void logFromLibseat(enum libseat_log_level level, const char *format, va_list args)
{
	char line[512];
	vsnprintf(line, sizeof(line), format, args);
	switch (level) {
	case LIBSEAT_LOG_LEVEL_ERROR:
		LOG_WARNING("libseat: %s", line);
		break;
	case LIBSEAT_LOG_LEVEL_INFO:
		LOG_INFO("libseat: %s", line);
		break;
	default:
		LOG_DEBUG("libseat: %s", line);
		break;
	}
}

/* How long a seat may take to become this session's before start fails. */
constexpr uint64_t kEnableTimeoutNs = 10'000'000'000;

} /* namespace */

SessionDevice::SessionDevice(std::shared_ptr<libseat> seat, int id, bufmgr::UniqueFd fd)
	: seat_(std::move(seat)), id_(id), fd_(std::move(fd))
{
}

SessionDevice::~SessionDevice()
{
	reset();
}

SessionDevice::SessionDevice(SessionDevice &&other) noexcept
	: seat_(std::move(other.seat_)), id_(std::exchange(other.id_, -1)), fd_(std::move(other.fd_))
{
}

SessionDevice &SessionDevice::operator=(SessionDevice &&other) noexcept
{
	if (this != &other) {
		reset();
		seat_ = std::move(other.seat_);
		id_ = std::exchange(other.id_, -1);
		fd_ = std::move(other.fd_);
	}
	return *this;
}

void SessionDevice::reset()
{
	if (seat_ && id_ >= 0)
		libseat_close_device(seat_.get(), id_);
	id_ = -1;
	fd_.reset();
	seat_.reset();
}

Result<std::unique_ptr<Session>> Session::open(wl_event_loop *loop)
{
	static const libseat_seat_listener listener = {
		.enable_seat = &Session::onEnable,
		.disable_seat = &Session::onDisable,
	};
	libseat_set_log_handler(logFromLibseat);
	libseat_set_log_level(LIBSEAT_LOG_LEVEL_ERROR);

	std::unique_ptr<Session> session(new Session());
	libseat *seat = libseat_open_seat(&listener, session.get());
	if (!seat)
		return bufmgr::unexpected(errno ? errno : ENODEV,
					  "no seat: libseat found neither seatd nor logind, and its "
					  "builtin seatd needs root (start seatd, or run heapcomp "
					  "under seatd-launch or a logind session)");
	session->seat_ = std::shared_ptr<libseat>(seat, libseat_close_seat);
	const char *name = libseat_seat_name(seat);
	session->seatName_ = name ? name : "seat0";

	/* The seat may be another session's now: wait for it, but not for ever. */
	const uint64_t deadline = bufmgr::clockNs(CLOCK_MONOTONIC) + kEnableTimeoutNs;
	while (!session->active_) {
		if (bufmgr::clockNs(CLOCK_MONOTONIC) > deadline)
			return bufmgr::unexpected(EBUSY, "seat " + session->seatName_ +
							  ": another session keeps it");
		if (libseat_dispatch(seat, 100) < 0)
			return bufmgr::unexpected(errno, "seat " + session->seatName_ + ": dispatch");
	}
	session->source_.reset(wl_event_loop_add_fd(loop, libseat_get_fd(seat), WL_EVENT_READABLE,
						    &Session::onReadable, session.get()));
	if (!session->source_)
		return bufmgr::unexpected(ENOMEM, "event source for the seat");
	LOG_INFO("seat %s taken", session->seatName_.c_str());
	return session;
}

Session::~Session()
{
	source_.reset();
}

Result<SessionDevice> Session::openDevice(const std::string &path)
{
	int fd = -1;
	const int id = libseat_open_device(seat_.get(), path.c_str(), &fd);
	if (id < 0)
		return bufmgr::unexpected(errno, "seat " + seatName_ + ": opening " + path);
	return SessionDevice(seat_, id, bufmgr::UniqueFd(fd));
}

Result<void> Session::switchTo(int session)
{
	if (libseat_switch_session(seat_.get(), session) < 0)
		return bufmgr::unexpected(errno, "seat " + seatName_ + ": switching to session " +
							 std::to_string(session));
	return {};
}

void Session::onEnable(libseat *, void *data)
{
	auto *self = static_cast<Session *>(data);
	self->active_ = true;
	if (self->activeHandler_) {
		LOG_INFO("seat %s: session enabled", self->seatName_.c_str());
		self->activeHandler_(true);
	}
}

void Session::onDisable(libseat *seat, void *data)
{
	auto *self = static_cast<Session *>(data);
	self->active_ = false;
	LOG_INFO("seat %s: session disabled", self->seatName_.c_str());
	if (self->activeHandler_)
		self->activeHandler_(false);
	/* Done with the devices: the seat may hand them on. */
	libseat_disable_seat(seat);
}

int Session::onReadable(int, uint32_t, void *data)
{
	static_cast<Session *>(data)->dispatch();
	return 0;
}

void Session::dispatch()
{
	if (libseat_dispatch(seat_.get(), 0) < 0)
		LOG_ERROR("seat %s: %s", seatName_.c_str(), strerror(errno));
}

} /* namespace comp */
