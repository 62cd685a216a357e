/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "child_process.h"

namespace heapcomp::test {

/*
 * systemd-udevd, as a board runs it: it gives input devices the tags
 * (ID_INPUT_KEYBOARD...) that libinput picks them by. Stopped with the
 * object.
 */
class Udevd
{
public:
	Udevd();
	bool ok() const { return error_.empty(); }
	const std::string &error() const { return error_; }
	/* Replays the add events of input devices made so far and waits until udev handled them. */
	bool settle();

private:
	std::unique_ptr<Child> child_;
	std::string udevadm_;
	std::string error_;
};

/* seatd, as Weston's CI runs it: libseat reaches it through its socket. */
class Seatd
{
public:
	Seatd();
	bool ok() const { return error_.empty(); }
	const std::string &error() const { return error_; }
	std::string log() const;

private:
	std::unique_ptr<Child> child_;
	std::string error_;
};

} /* namespace heapcomp::test */
