/* SPDX-License-Identifier: MIT */
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "wayland_util.h"

namespace comp {

class ClientBufferTotals;
class Server;

/*
 * What one client holds, for quotas and the per-client statistics. Shared
 * with the client's buffers, which may outlive the client by a frame.
 */
struct ClientAccount {
	std::atomic<uint64_t> buffers{0};
	std::atomic<uint64_t> bytes{0};
	std::atomic<uint64_t> dmaBufFds{0};
	std::atomic<uint64_t> surfaces{0};
	/* Every client's buffers, which this client's count in too. */
	std::shared_ptr<ClientBufferTotals> totals;
};

/* The compositor's record of one connected client. */
class ClientState
{
public:
	ClientState(Server &server, wl_client *client);
	~ClientState();
	ClientState(const ClientState &) = delete;
	ClientState &operator=(const ClientState &) = delete;

	wl_client *client() const { return client_; }
	pid_t pid() const { return pid_; }
	/* "pid 1234 (weston-simple-shm)", for logs. */
	const std::string &label() const { return label_; }

	ClientAccount &account() { return *account_; }
	const std::shared_ptr<ClientAccount> &sharedAccount() const { return account_; }

	/* Connected by the server to forget this record with the client. */
	Listener &destroyListener() { return destroyListener_; }

private:
	wl_client *client_;
	pid_t pid_ = 0;
	std::string label_;
	std::shared_ptr<ClientAccount> account_;
	Listener destroyListener_;
};

} /* namespace comp */
