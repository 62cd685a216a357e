/* SPDX-License-Identifier: MIT */
#include "control_client.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bufmgr/unique_fd.h>

namespace comp {

using bufmgr::unexpected;
using bufmgr::UniqueFd;

namespace {

/* Waits for fd to be ready for events; false (errno set) on a timeout or error. */
bool waitFor(int fd, short events)
{
	/* heapcomp answers from its event loop: seconds mean it is stuck. */
	constexpr int kTimeoutMs = 5000;
	pollfd pfd = { fd, events, 0 };
	int ret;
	do {
		ret = poll(&pfd, 1, kTimeoutMs);
	} while (ret < 0 && errno == EINTR);
	if (ret == 0)
		errno = ETIMEDOUT;
	return ret > 0;
}

} /* namespace */

bufmgr::Result<std::string> askHeapcomp(const std::string &path, const std::string &request)
{
	sockaddr_un address = {};
	address.sun_family = AF_UNIX;
	if (path.size() >= sizeof(address.sun_path))
		return unexpected(ENAMETOOLONG, "control socket path " + path);
	std::memcpy(address.sun_path, path.c_str(), path.size() + 1);

	UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd)
		return unexpected(errno, "socket");
	if (connect(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof(address)) < 0)
		return unexpected(errno, "cannot connect to " + path);
	std::string line = request + "\n";
	for (size_t sent = 0; sent < line.size();) {
		if (!waitFor(fd.get(), POLLOUT))
			return unexpected(errno, "sending to " + path);
		ssize_t n = send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR)
			return unexpected(errno, "sending to " + path);
		sent += n > 0 ? size_t(n) : 0;
	}
	std::string answer;
	char buffer[65536];
	for (;;) {
		if (!waitFor(fd.get(), POLLIN))
			return unexpected(errno, "reading from " + path);
		ssize_t n = read(fd.get(), buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return unexpected(errno, "reading from " + path);
		if (n == 0)
			return answer;
		answer.append(buffer, size_t(n));
	}
}

} /* namespace comp */
