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

ClientState::~ClientState()
{
	LOG_DEBUG("client gone: %s (%llu buffers, %llu bytes still held)", label_.c_str(),
		  static_cast<unsigned long long>(account_->buffers.load()),
		  static_cast<unsigned long long>(account_->bytes.load()));
}

} /* namespace comp */
