/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * VKMS devices made through configfs (the test VM's kernel): displays
 * that can be unplugged and plugged in again, as a monitor's cable would.
 */
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <xf86drmMode.h>

#include <bufmgr/unique_fd.h>

#include "child_process.h"

namespace heapcomp::test {

inline bool writeText(const std::string &path, const std::string &text)
{
	bufmgr::UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
	return fd && write(fd.get(), text.data(), text.size()) == ssize_t(text.size());
}

inline std::vector<std::string> cards()
{
	std::vector<std::string> list;
	for (int i = 0; i < 16; i++) {
		const std::string path = "/dev/dri/card" + std::to_string(i);
		if (access(path.c_str(), F_OK) == 0)
			list.push_back(path);
	}
	return list;
}

/*
 * A VKMS device of its own, made through configfs: a primary plane (and
 * overlay planes if asked), a CRTC with writeback, one connector that
 * can be unplugged. Gone with the object.
 */
class ConfigfsVkms
{
public:
	/*
	 * pipes: displays, each a primary plane, a CRTC, an encoder and a
	 * connector; overlays: overlay planes of each CRTC.
	 */
	explicit ConfigfsVkms(const std::string &name, int pipes = 1, int overlays = 0)
		: root_("/sys/kernel/config/vkms/" + name), pipes_(pipes), overlays_(overlays)
	{
		make();
	}

	~ConfigfsVkms()
	{
		if (!made_)
			return;
		writeText(root_ + "/enabled", "0");
		for (int i = 0; i < pipes_; i++) {
			const std::string n = std::to_string(i);
			for (int k = 0; k < overlays_; k++) {
				const std::string plane = root_ + "/planes/" + overlayName(i, k);
				unlink((plane + "/possible_crtcs/crtc" + n).c_str());
				rmdir(plane.c_str());
			}
			unlink((root_ + "/planes/primary" + n + "/possible_crtcs/crtc" + n).c_str());
			unlink((root_ + "/encoders/encoder" + n + "/possible_crtcs/crtc" + n).c_str());
			unlink((root_ + "/connectors/connector" + n + "/possible_encoders/encoder" + n)
				       .c_str());
			for (const std::string dir : { "/planes/primary", "/crtcs/crtc", "/encoders/encoder",
						       "/connectors/connector" })
				rmdir((root_ + dir + n).c_str());
		}
		rmdir(root_.c_str());
	}

	bool ok() const { return error_.empty(); }
	const std::string &error() const { return error_; }
	const std::string &card() const { return card_; }
	/* The connector's status as a monitor being plugged in or pulled out would set it. */
	bool plug(bool connected, int pipe = 0)
	{
		return writeText(root_ + "/connectors/connector" + std::to_string(pipe) + "/status",
				 connected ? "1" : "2");
	}

private:
	void make()
	{
		if (access("/sys/kernel/config/vkms", F_OK) != 0) {
			error_ = "no /sys/kernel/config/vkms";
			return;
		}
		const std::vector<std::string> before = cards();
		if (mkdir(root_.c_str(), 0755) < 0)
			return fail("mkdir");
		made_ = true;
		for (int i = 0; i < pipes_; i++) {
			const std::string n = std::to_string(i);
			for (const std::string dir : { "/planes/primary", "/crtcs/crtc",
						       "/encoders/encoder", "/connectors/connector" })
				if (mkdir((root_ + dir + n).c_str(), 0755) < 0)
					return fail("mkdir " + dir + n);
			const std::pair<std::string, std::string> links[] = {
				{ "/crtcs/crtc" + n, "/planes/primary" + n + "/possible_crtcs/crtc" + n },
				{ "/crtcs/crtc" + n, "/encoders/encoder" + n + "/possible_crtcs/crtc" + n },
				{ "/encoders/encoder" + n,
				  "/connectors/connector" + n + "/possible_encoders/encoder" + n },
			};
			/* Writeback on the first pipe only: captures read the first display. */
			if (!writeText(root_ + "/planes/primary" + n + "/type", "1") ||
			    (i == 0 && !writeText(root_ + "/crtcs/crtc0/writeback", "1")))
				return fail("attributes");
			for (const auto &[target, link] : links)
				if (symlink((root_ + target).c_str(), (root_ + link).c_str()) < 0)
					return fail("link " + link);
			for (int k = 0; k < overlays_; k++) {
				const std::string plane = root_ + "/planes/" + overlayName(i, k);
				if (mkdir(plane.c_str(), 0755) < 0 ||
				    !writeText(plane + "/type", std::to_string(DRM_PLANE_TYPE_OVERLAY)) ||
				    symlink((root_ + "/crtcs/crtc" + n).c_str(),
					    (plane + "/possible_crtcs/crtc" + n).c_str()) < 0)
					return fail("overlay plane " + overlayName(i, k));
			}
		}
		if (!writeText(root_ + "/enabled", "1"))
			return fail("enabling");
		waitFor([&] {
			for (const std::string &card : cards())
				if (std::find(before.begin(), before.end(), card) == before.end())
					card_ = card;
			return !card_.empty();
		}, 10000);
		if (card_.empty())
			error_ = "no new /dev/dri/card* after enabling " + root_;
	}

	static std::string overlayName(int pipe, int k)
	{
		return "overlay" + std::to_string(pipe) + "_" + std::to_string(k);
	}

	void fail(const std::string &what)
	{
		error_ = root_ + ": " + what + ": " + strerror(errno);
	}

	std::string root_;
	int pipes_ = 1;
	int overlays_ = 0;
	std::string card_;
	std::string error_;
	bool made_ = false;
};

} /* namespace heapcomp::test */
