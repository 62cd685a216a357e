/* SPDX-License-Identifier: MIT */
#include "client.h"

#include <fstream>

#include "log.h"
#include "server.h"

namespace comp {

ClientState::ClientState(Server &server, wl_client *client)
	: client_(client), account_(std::make_shared<ClientAccount>())
{
	/* Ids the compositor creates (events' new_ids) start here, as libwayland's do. */
	constexpr uint32_t kServerIdStart = 0xff000000;
	resourceCreated_.connectResourceCreated(client, [&server](void *data) {
		auto *resource = static_cast<wl_resource *>(data);
		const uint32_t id = wl_resource_get_id(resource);
		const uint32_t max = server.config().limits.objects;
		if (id > max && id < kServerIdStart)
			disconnectOverLimit(wl_resource_get_client(resource), "objects",
					    "protocol object id", id, max);
	});
	uid_t uid;
	gid_t gid;
	wl_client_get_credentials(client, &pid_, &uid, &gid);
	std::ifstream file("/proc/" + std::to_string(pid_) + "/comm");
	std::getline(file, name_);
	label_ = "pid " + std::to_string(pid_) + " (" + name_ + ")";
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
		{ "objects", &ClientLimits::objects, "protocol objects (the highest id)" },
		{ "dmabuf-mib", &ClientLimits::dmaBufMib, "MiB of dma-bufs held for the client" },
		{ "shm-mib", &ClientLimits::shmMib, "MiB of wl_shm pools mapped for the client" },
		{ "buffer-size", &ClientLimits::bufferSize,
		  "width or height of a buffer (a larger dma-buf fails to import)" },
		{ "heap-mib", &ClientLimits::heapMib,
		  "MiB allocated for the client from one heap's memory" },
		{ "heap-buffers", &ClientLimits::heapBuffers, "buffers allocated for the client from heaps" },
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

namespace {

bool admitBytes(wl_client *client, const char *limit, const char *what, uint64_t held,
		uint64_t more, uint32_t maxMib)
{
	const uint64_t max = uint64_t(maxMib) << 20;
	if (held + more <= max)
		return true;
	disconnectOverLimit(client, limit, what, held + more, max);
	return false;
}

} /* namespace */

bool admitDmaBufBytes(wl_client *client, const ClientAccount &account, const ClientLimits &limits,
		      uint64_t more)
{
	return admitBytes(client, "dmabuf-mib", "bytes of dma-bufs", account.dmaBufBytes, more,
			  limits.dmaBufMib);
}

bool admitShmBytes(wl_client *client, const ClientAccount &account, const ClientLimits &limits,
		   uint64_t more)
{
	return admitBytes(client, "shm-mib", "bytes of wl_shm pools", account.poolBytes, more,
			  limits.shmMib);
}

ClientState::~ClientState()
{
	LOG_DEBUG("client gone: %s (%llu buffers, %llu bytes still held)", label_.c_str(),
		  static_cast<unsigned long long>(account_->buffers.load()),
		  static_cast<unsigned long long>(account_->bytes.load()));
}

} /* namespace comp */
