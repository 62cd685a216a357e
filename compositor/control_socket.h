/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <sys/types.h>

#include <wayland-server-core.h>

#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

#include "wayland_util.h"

namespace comp {

class Server;

/*
 * A Unix stream socket on which heapcomp answers questions about itself
 * (heapctl stats, clients, ...): one request line per connection, one
 * JSON document back, then the connection closes. Everything runs on the
 * event loop without blocking it: a client that sends nothing, or never
 * reads its answer, holds only its own buffers, and only until the
 * connection cap makes it the oldest one to go.
 */
class ControlSocket
{
public:
	/* The answer to one request line (without its newline). */
	using Handler = std::function<std::string(std::string_view request)>;

	/* Longer requests get an error: every valid one is a single word. */
	static constexpr size_t kMaxRequest = 256;
	/* Open connections; a new one past this closes the oldest. */
	static constexpr size_t kMaxConnections = 16;

	/*
	 * Listens on path, owner-only (0600). A socket file left there by a
	 * heapcomp that is gone is replaced; one that answers is not.
	 */
	static bufmgr::Result<std::unique_ptr<ControlSocket>> create(wl_event_loop *loop,
								     std::string path,
								     Handler handler);
	/* Closes every connection and removes the socket file. */
	~ControlSocket();
	ControlSocket(const ControlSocket &) = delete;
	ControlSocket &operator=(const ControlSocket &) = delete;

	const std::string &path() const { return path_; }
	size_t connections() const { return connections_.size(); }

private:
	struct Connection {
		ControlSocket *owner = nullptr;
		bufmgr::UniqueFd fd;
		EventSource source;
		std::string request;
		std::string reply;	/* empty until the request is complete */
		size_t sent = 0;
	};
	using Connections = std::list<std::unique_ptr<Connection>>;

	ControlSocket(wl_event_loop *loop, std::string path, Handler handler);
	bufmgr::Result<void> listen();
	static int onAccept(int fd, uint32_t mask, void *data);
	static int onConnection(int fd, uint32_t mask, void *data);
	void accept();
	/* Reads what there is; false once the connection is done with. */
	bool readRequest(Connection &connection);
	/* Writes what the socket takes; false once all is sent or the peer left. */
	bool writeReply(Connection &connection);
	void answer(Connection &connection, std::string reply);
	void close(Connection *connection);

	wl_event_loop *loop_;
	std::string path_;
	Handler handler_;
	bufmgr::UniqueFd listenFd_;
	EventSource listenSource_;
	/* The socket file we made, so that exit removes no one else's. */
	dev_t device_ = 0;
	ino_t inode_ = 0;
	Connections connections_;	/* oldest first */
};

/*
 * The answer of a running heapcomp to one request: "stats", "clients",
 * "planes", "probe", "heaps" or "overlay" (stats_json.h); "overlay show"
 * or "overlay hide", answered as "overlay" is once done; "bench",
 * "bench start KEY=VALUE...", "bench results" (alloc_benchmark.h); or
 * {"error": ...}.
 */
std::string answerControlRequest(Server &server, std::string_view request);

/* {"error": message} and a newline, as every failed request gets. */
std::string controlError(std::string_view message);

} /* namespace comp */
