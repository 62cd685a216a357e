/* SPDX-License-Identifier: MIT */
#include "client.h"

#include <fstream>

#include "log.h"

namespace comp {

ClientState::ClientState(Server &, wl_client *client)
	: client_(client), account_(std::make_shared<ClientAccount>())
{
	uid_t uid;
	gid_t gid;
	wl_client_get_credentials(client, &pid_, &uid, &gid);
	std::string comm;
	std::ifstream file("/proc/" + std::to_string(pid_) + "/comm");
	std::getline(file, comm);
	label_ = "pid " + std::to_string(pid_) + " (" + comm + ")";
	LOG_DEBUG("client connected: %s", label_.c_str());
}

const std::vector<ClientLimits::Entry> &ClientLimits::entries()
{
	static const std::vector<Entry> entries = {
		{ "region-rects", &ClientLimits::regionRects, "rectangles of a wl_region" },
		{ "frame-callbacks", &ClientLimits::frameCallbacks,
		  "frame callbacks waiting on one surface" },
		{ "mime-types", &ClientLimits::mimeTypes, "mime types of one wl_data_source" },
		{ "fds", &ClientLimits::fds, "dma-buf fds held for the client" },
	};
	return entries;
}

void disconnectOverLimit(wl_client *client, const char *limit, const std::string &what,
			 uint64_t value, uint64_t max)
{
	pid_t pid = 0;
	uid_t uid;
	gid_t gid;
	wl_client_get_credentials(client, &pid, &uid, &gid);
	LOG_WARNING("client pid %d: %s %llu, over the limit of %llu (--limit %s): disconnected",
		    int(pid), what.c_str(), static_cast<unsigned long long>(value),
		    static_cast<unsigned long long>(max), limit);
	wl_client_post_no_memory(client);
}

ClientState::~ClientState()
{
	LOG_DEBUG("client gone: %s (%llu buffers, %llu bytes still held)", label_.c_str(),
		  static_cast<unsigned long long>(account_->buffers.load()),
		  static_cast<unsigned long long>(account_->bytes.load()));
}

} /* namespace comp */
