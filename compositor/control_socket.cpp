/* SPDX-License-Identifier: MIT */
#include "control_socket.h"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bufmgr/json_writer.h>

#include "alloc_benchmark.h"
#include "log.h"
#include "server.h"
#include "stats_json.h"

namespace comp {

namespace {

bufmgr::Result<sockaddr_un> socketAddress(const std::string &path)
{
	sockaddr_un address = {};
	address.sun_family = AF_UNIX;
	if (path.empty() || path.size() >= sizeof(address.sun_path))
		return bufmgr::unexpected(ENAMETOOLONG,
					  "control socket path '" + path + "': empty or longer than " +
						  std::to_string(sizeof(address.sun_path) - 1) + " bytes");
	std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
	return address;
}

/* Whether a heapcomp still answers on the socket file at address. */
bool answers(const sockaddr_un &address)
{
	bufmgr::UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!probe)
		return false;
	return connect(probe.get(), reinterpret_cast<const sockaddr *>(&address),
		       sizeof(address)) == 0;
}

} /* namespace */

ControlSocket::ControlSocket(wl_event_loop *loop, std::string path, Handler handler)
	: loop_(loop), path_(std::move(path)), handler_(std::move(handler))
{
}

bufmgr::Result<std::unique_ptr<ControlSocket>> ControlSocket::create(wl_event_loop *loop,
								     std::string path,
								     Handler handler)
{
	std::unique_ptr<ControlSocket> control(
		new ControlSocket(loop, std::move(path), std::move(handler)));
	auto listening = control->listen();
	if (!listening)
		return bufmgr::unexpected(std::move(listening).error());
	return control;
}

bufmgr::Result<void> ControlSocket::listen()
{
	auto address = socketAddress(path_);
	if (!address)
		return bufmgr::unexpected(std::move(address).error());
	listenFd_ = bufmgr::UniqueFd(
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (!listenFd_)
		return bufmgr::unexpected(errno, "control socket");

	auto bindOwnerOnly = [&]() {
		/* The file is born 0600: no moment in which others could connect. */
		mode_t before = umask(0177);
		int ret = bind(listenFd_.get(), reinterpret_cast<const sockaddr *>(&*address),
			       sizeof(*address));
		int err = errno;
		umask(before);
		errno = err;
		return ret;
	};
	if (bindOwnerOnly() < 0) {
		if (errno != EADDRINUSE)
			return bufmgr::unexpected(errno, "bind control socket " + path_);
		if (answers(*address))
			return bufmgr::unexpected(EADDRINUSE, "control socket " + path_ +
							      ": another heapcomp answers there");
		/* Left by a heapcomp that did not stop cleanly. */
		LOG_INFO("control socket %s: replacing a stale socket file", path_.c_str());
		if (unlink(path_.c_str()) < 0 && errno != ENOENT)
			return bufmgr::unexpected(errno, "remove stale control socket " + path_);
		if (bindOwnerOnly() < 0)
			return bufmgr::unexpected(errno, "bind control socket " + path_);
	}
	struct stat st;
	if (stat(path_.c_str(), &st) == 0) {
		device_ = st.st_dev;
		inode_ = st.st_ino;
	}
	if (::listen(listenFd_.get(), int(kMaxConnections)) < 0) {
		int err = errno;
		unlink(path_.c_str());
		return bufmgr::unexpected(err, "listen on control socket " + path_);
	}
	listenSource_.reset(wl_event_loop_add_fd(loop_, listenFd_.get(), WL_EVENT_READABLE,
						 &ControlSocket::onAccept, this));
	if (!listenSource_) {
		int err = errno;
		unlink(path_.c_str());
		return bufmgr::unexpected(err, "control socket in the event loop");
	}
	return {};
}

ControlSocket::~ControlSocket()
{
	connections_.clear();
	listenSource_.reset();
	/* Only the file we made: a newer heapcomp may have replaced it. */
	struct stat st;
	if (inode_ && stat(path_.c_str(), &st) == 0 && st.st_dev == device_ &&
	    st.st_ino == inode_)
		unlink(path_.c_str());
}

int ControlSocket::onAccept(int, uint32_t, void *data)
{
	static_cast<ControlSocket *>(data)->accept();
	return 0;
}

void ControlSocket::accept()
{
	for (;;) {
		bufmgr::UniqueFd fd(accept4(listenFd_.get(), nullptr, nullptr,
					    SOCK_NONBLOCK | SOCK_CLOEXEC));
		if (!fd) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				LOG_WARNING("control socket: accept: %s", strerror(errno));
			return;
		}
		if (connections_.size() >= kMaxConnections) {
			LOG_DEBUG("control socket: %zu connections open, closing the oldest",
				  connections_.size());
			close(connections_.front().get());
		}
		auto connection = std::make_unique<Connection>();
		connection->owner = this;
		connection->fd = std::move(fd);
		connection->source.reset(wl_event_loop_add_fd(loop_, connection->fd.get(),
							      WL_EVENT_READABLE,
							      &ControlSocket::onConnection,
							      connection.get()));
		if (!connection->source) {
			LOG_WARNING("control socket: connection not in the event loop: %s",
				    strerror(errno));
			continue;
		}
		connections_.push_back(std::move(connection));
	}
}

int ControlSocket::onConnection(int, uint32_t mask, void *data)
{
	auto *connection = static_cast<Connection *>(data);
	ControlSocket *self = connection->owner;
	bool open;
	if (connection->reply.empty())
		open = !(mask & WL_EVENT_ERROR) && self->readRequest(*connection);
	else
		open = !(mask & (WL_EVENT_ERROR | WL_EVENT_HANGUP)) && self->writeReply(*connection);
	if (!open)
		self->close(connection);
	return 0;
}

bool ControlSocket::readRequest(Connection &connection)
{
	char buffer[kMaxRequest + 1];
	for (;;) {
		ssize_t n = read(connection.fd.get(), buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		bool ended = n == 0;
		connection.request.append(buffer, size_t(n));
		size_t newline = connection.request.find('\n');
		if (newline == std::string::npos && connection.request.size() > kMaxRequest) {
			answer(connection, controlError("request longer than " +
							std::to_string(kMaxRequest) + " bytes"));
			return writeReply(connection);
		}
		if (newline == std::string::npos && !ended)
			continue;
		/* A request without its newline counts once the peer stops sending. */
		if (newline == std::string::npos && connection.request.empty())
			return false;
		std::string request = connection.request.substr(0, newline);
		if (!request.empty() && request.back() == '\r')
			request.pop_back();
		answer(connection, handler_(request));
		return writeReply(connection);
	}
}

void ControlSocket::answer(Connection &connection, std::string reply)
{
	connection.reply = std::move(reply);
	connection.request.clear();
	/* From now on only whether the socket takes more. */
	wl_event_source_fd_update(connection.source.get(), WL_EVENT_WRITABLE);
}

bool ControlSocket::writeReply(Connection &connection)
{
	while (connection.sent < connection.reply.size()) {
		ssize_t n = send(connection.fd.get(), connection.reply.data() + connection.sent,
				 connection.reply.size() - connection.sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		connection.sent += size_t(n);
	}
	return false;
}

void ControlSocket::close(Connection *connection)
{
	/* libwayland frees a source removed in its own callback after the dispatch. */
	for (auto it = connections_.begin(); it != connections_.end(); ++it) {
		if (it->get() == connection) {
			connections_.erase(it);
			return;
		}
	}
}

std::string controlError(std::string_view message)
{
	bufmgr::JsonWriter json;
	json.beginObject();
	json.field("error", message);
	json.endObject();
	return json.str() + '\n';
}

/*
 * {"running", "run", "done", "total", "benchmark": AllocBenchmark::resultsJson()}:
 * where a run is, and its figures so far.
 */
static std::string benchJson(const AllocBenchmark &bench)
{
	AllocBenchProgress progress = bench.progress();
	bufmgr::JsonWriter json;
	json.beginObject();
	json.field("running", progress.running);
	json.field("run", progress.run);
	json.field("done", progress.done);
	json.field("total", progress.total);
	json.key("benchmark");
	json.raw(bench.resultsJson());
	json.endObject();
	return json.str() + "\n";
}

std::string answerControlRequest(Server &server, std::string_view request)
{
	if (request == "stats")
		return statsJson(server);
	if (request == "clients")
		return clientsJson(server);
	if (request == "planes")
		return planesJson(server);
	if (request == "probe")
		return probeJson(server);
	if (request == "heaps")
		return heapsJson(server);
	if (request == "overlay")
		return overlayJson(server);
	if (request == "overlay show" || request == "overlay hide") {
		OverlayLayer *overlay = server.overlay();
		if (!overlay)
			return controlError("this heapcomp has no overlay");
		if (!overlay->setShown(request == "overlay show"))
			return controlError("the overlay cannot be drawn: see heapcomp's log");
		return overlayJson(server);
	}
	if (request == "bench")
		return benchJson(server.allocBenchmark());
	if (request == "bench results")
		return server.allocBenchmark().resultsJson() + "\n";
	if (request.rfind("bench start", 0) == 0) {
		auto config = AllocBenchConfig::parse(request.substr(11));
		if (!config)
			return controlError(config.error().message());
		if (auto started = server.allocBenchmark().start(*config); !started)
			return controlError(started.error().message());
		return benchJson(server.allocBenchmark());
	}
	return controlError("unknown command \"" + std::string(request) + "\"");
}

} /* namespace comp */
