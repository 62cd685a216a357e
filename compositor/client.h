/* SPDX-License-Identifier: MIT */
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "buffer_totals.h"
#include "wayland_util.h"

namespace comp {

class Server;

/*
 * What one client holds, for quotas and the per-client statistics. Shared
 * with the client's buffers, which may outlive the client by a frame.
 */
struct ClientAccount {
	std::atomic<uint64_t> buffers{0};
	std::atomic<uint64_t> bytes{0};
	std::atomic<uint64_t> dmaBufFds{0};	/* of its wl_buffers */
	std::atomic<uint64_t> paramsFds{0};	/* in linux-dmabuf params not yet used */
	std::atomic<uint64_t> surfaces{0};
	std::atomic<uint64_t> poolBytes{0};	/* of its wl_shm pools, mapped */
	std::atomic<uint64_t> dmaBufBytes{0};	/* of its dma-buf wl_buffers */
	std::atomic<uint64_t> dmaBufBuffers{0};	/* the rest of buffers are wl_shm */
	/*
	 * Its dma-bufs, each counted at its first commit, by whether they
	 * came from the heap heapcomp hints for the surface (first tranche's
	 * first heap) or from elsewhere.
	 */
	std::atomic<uint64_t> heapHintHits{0};
	std::atomic<uint64_t> heapHintMisses{0};
	/*
	 * Frames that showed one of its buffers as it is (on the primary or
	 * an overlay plane), and frames one of them covered an output but
	 * the backend refused it on the primary plane.
	 */
	std::atomic<uint64_t> scannedOutFrames{0};
	std::atomic<uint64_t> scanoutRefusedFrames{0};
	/*
	 * What the compositor allocated for the client from DMA-BUF heaps
	 * (heapcomp_heaps_v1.allocate), by heap pool id. Event loop only.
	 */
	struct HeapCharge {
		uint64_t bytes = 0;
		uint32_t buffers = 0;
	};
	std::map<uint32_t, HeapCharge> heapCharges;
	/*
	 * Allocated buffers whose object the client destroyed but whose fds
	 * it may still hold: charged until it closes them.
	 */
	struct HeldHeapBuffer {
		uint64_t device = 0;	/* of the dma-buf's file */
		uint64_t inode = 0;
		uint32_t pool = 0;
		uint64_t bytes = 0;
	};
	std::vector<HeldHeapBuffer> heldHeapBuffers;
	/* Every client's buffers, which this client's count in too. */
	std::shared_ptr<ClientBufferTotals> totals;
	/* Its own, by type and exporter. Event loop only. */
	ClientBufferTotals held;
};

/*
 * What one client may make the compositor hold, so that no client can
 * take memory or time from the others. Over a limit the client is
 * disconnected with wl_display.no_memory and the log names the client,
 * the limit and the value (see disconnectOverLimit()).
 */
struct ClientLimits {
	/* Rectangles of one wl_region once merged (a shaped window needs hundreds). */
	uint32_t regionRects = 4096;
	/* wl_surface.frame callbacks one surface has waiting. */
	uint32_t frameCallbacks = 256;
	/* Mime types of one wl_data_source: each is an event to every receiver. */
	uint32_t mimeTypes = 128;
	/* dma-buf fds the compositor holds for a client: its buffers' and params'. */
	uint32_t fds = 512;
	/*
	 * Protocol objects, as the highest object id: libwayland keeps a
	 * client's ids dense, so this bounds every kind of object at once.
	 */
	uint32_t objects = 16384;
	/* dma-buf memory held for a client, in MiB: it lives while the compositor holds it. */
	uint32_t dmaBufMib = 1024;
	/*
	 * Address space of a client's wl_shm pools mapped, in MiB: pools cost
	 * the compositor no memory, but some clients map far more than they
	 * use (foot scrolls by moving buffers through a large pool).
	 */
	uint32_t shmMib = sizeof(void *) == 8 ? 65536 : 512;
	/* Width and height of a buffer; the renderer's own maximum applies too. */
	uint32_t bufferSize = 8192;
	/* MiB the compositor allocates for a client from one heap's memory. */
	uint32_t heapMib = 256;
	/* Buffers the compositor allocates for a client from heaps, in all. */
	uint32_t heapBuffers = 64;

	/* "region-rects", ... with a pointer to each value, for --limit NAME=N. */
	struct Entry {
		const char *name;
		uint32_t ClientLimits::*value;
		const char *what;
	};
	static const std::vector<Entry> &entries();
};

/*
 * Logs "client pid 1234 (foo): <what> 5000, over the limit of 4096
 * (--limit region-rects)" and disconnects the client with no_memory.
 */
void disconnectOverLimit(wl_client *client, const char *limit, const std::string &what,
			 uint64_t value, uint64_t max);

/*
 * Whether the client may have `more` bytes of dma-bufs held, or of wl_shm
 * pools mapped, on top of what it has; if not, disconnects it as
 * disconnectOverLimit() does.
 */
bool admitDmaBufBytes(wl_client *client, const ClientAccount &account, const ClientLimits &limits,
		      uint64_t more);
bool admitShmBytes(wl_client *client, const ClientAccount &account, const ClientLimits &limits,
		   uint64_t more);

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
	/* Its command name ("weston-simple-shm"), as /proc gave it at connection. */
	const std::string &name() const { return name_; }

	ClientAccount &account() { return *account_; }
	const ClientAccount &account() const { return *account_; }
	const std::shared_ptr<ClientAccount> &sharedAccount() const { return account_; }

	/* Connected by the server to forget this record with the client. */
	Listener &destroyListener() { return destroyListener_; }

private:
	wl_client *client_;
	pid_t pid_ = 0;
	std::string label_;
	std::string name_;
	std::shared_ptr<ClientAccount> account_;
	Listener destroyListener_;
	Listener resourceCreated_;
};

} /* namespace comp */
