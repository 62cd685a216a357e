/* SPDX-License-Identifier: MIT */
#include "seat_daemons.h"

#include <chrono>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace heapcomp::test {

namespace {

constexpr const char *kSeatdSocket = "/run/seatd.sock";

bool exists(const std::string &path)
{
	struct stat st;
	return stat(path.c_str(), &st) == 0;
}

/* A program run to its end: true if it exited with 0. */
bool succeeds(const std::vector<std::string> &argv, const std::string &output)
{
	Child child(argv, "", output);
	return child.wait(60000) == 0;
}

} /* namespace */

Udevd::Udevd()
{
	const std::string udevd = exists("/lib/systemd/systemd-udevd") ? "/lib/systemd/systemd-udevd"
								      : findProgram("systemd-udevd");
	udevadm_ = findProgram("udevadm");
	if (udevd.empty() || udevadm_.empty()) {
		error_ = "no systemd-udevd or udevadm (Debian's udev package)";
		return;
	}
	child_ = std::make_unique<Child>(std::vector<std::string>{ udevd }, "",
					 outputPath("udevd.log"));
	/* Answering on its control socket: a stale socket file from an earlier one does not. */
	const std::string log = outputPath("udevadm.log");
	if (!waitFor([&] { return succeeds({ udevadm_, "control", "--ping" }, log); }, 30000))
		error_ = "systemd-udevd did not start: " + readFile(outputPath("udevd.log"));
}

bool Udevd::settle()
{
	const std::string log = outputPath("udevadm.log");
	/*
	 * trigger fails when a device it listed is gone before it writes to
	 * it, as one an earlier test removed may be: then again. A failure
	 * that stays still fails.
	 */
	for (int attempt = 0; attempt < 3; attempt++) {
		if (succeeds({ udevadm_, "trigger", "--action=add", "--subsystem-match=input" }, log))
			return succeeds({ udevadm_, "settle", "--timeout=60" }, log);
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	}
	return false;
}

Seatd::Seatd()
{
	const std::string seatd = findProgram("seatd");
	if (seatd.empty()) {
		error_ = "no seatd (Debian's seatd package)";
		return;
	}
	unlink(kSeatdSocket);
	child_ = std::make_unique<Child>(std::vector<std::string>{ seatd, "-l", "info" }, "",
					 outputPath("seatd.log"));
	if (!waitFor([] { return exists(kSeatdSocket); }, 30000))
		error_ = "seatd did not start: " + log();
}

std::string Seatd::log() const
{
	return readFile(outputPath("seatd.log"));
}

} /* namespace heapcomp::test */
