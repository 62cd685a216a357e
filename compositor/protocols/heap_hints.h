/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <bufmgr/heap.h>
#include <bufmgr/provenance.h>
#include <bufmgr/result.h>

#include "scene/scanout_hint.h"
#include "wayland_util.h"

namespace comp {

class ClientBuffer;
class ClientState;
class LinuxDmabuf;
class Server;
class Surface;
struct Feedback;

/*
 * heapcomp_heaps_v1: the DMA-BUF heaps bufmgr found, with their
 * properties and memory; per linux-dmabuf feedback tranche the heaps to
 * allocate from; and allocation from a heap on a client's behalf,
 * charged to per-client quotas.
 *
 * Heap ids are the positions in bufmgr's heap list plus one: the list
 * is made once at start, so they never change. A heap's pool is the id
 * of the heap its aliases name (the kernel's legacy CMA names).
 */
class HeapHints
{
public:
	static constexpr int kVersion = 2;

	/* What the protocol tells of one heap. */
	struct Heap {
		uint32_t id = 0;
		uint32_t pool = 0;
		uint32_t properties = 0;	/* heapcomp_heaps_v1 properties bits */
		const bufmgr::HeapInfo *info = nullptr;
		std::string source;	/* bufmgr source ("dma-heap:<name>"); empty: none */
		std::optional<uint64_t> totalBytes;
		std::optional<uint64_t> availableBytes;
		/* Where the memory comes from and who pays for it (bufmgr/provenance.h). */
		std::string region;	/* the reserved-memory node; empty: none */
		std::vector<bufmgr::RegionUser> devices;
		std::string origin;	/* HeapProvenance::summary */
		bufmgr::HeapAccounting accounting;
	};

	static bufmgr::Result<std::unique_ptr<HeapHints>> create(Server &server,
								 LinuxDmabuf &dmabuf);
	~HeapHints();
	HeapHints(const HeapHints &) = delete;
	HeapHints &operator=(const HeapHints &) = delete;

	Server &server() const { return server_; }
	const std::vector<Heap> &heaps() const { return heaps_; }
	const Heap *findHeap(uint32_t id) const;
	const Heap *findHeap(const std::string &name) const;

	/* For each tranche of a linux-dmabuf feedback, its heap ids. */
	std::vector<std::vector<uint32_t>> trancheHeaps(const Feedback &feedback) const;

	/*
	 * Counts a dma-buf's first commit on surface in its client's account:
	 * a hit when it comes from the pool of the heap hinted first for the
	 * surface now, a miss when from another heap or none.
	 */
	void countBuffer(const Surface &surface, const ClientBuffer &buffer) const;

	/* As LinuxDmabuf::sceneChanged(): every surface feedback asks again. */
	void sceneChanged();

	/*
	 * Reads the heaps' memory again and resends the list to every client
	 * when a heap's available memory crossed an eighth of its total.
	 */
	void refreshMemory();

	class FeedbackObject;
	class BufferObject;
	void sendFeedback(FeedbackObject &feedback) const;
	void removeFeedback(FeedbackObject *feedback);
	/* A request on a bound global. */
	void allocate(wl_client *client, wl_resource *resource, uint32_t id, uint32_t heap,
		      int32_t width, int32_t height, uint32_t format, uint64_t modifier,
		      uint32_t usage);
	void getFeedback(wl_resource *resource, uint32_t id, Surface *surface);

private:
	HeapHints(Server &server, LinuxDmabuf &dmabuf);
	void init();
	void readMemory(Heap &heap) const;
	void readProvenance();
	/* Ends the charge of buffers whose object and fds the client closed. */
	void releaseClosedHeapBuffers(ClientState &state);
	void sendHeaps(wl_resource *resource) const;
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);
	static int onMemoryTimer(void *data);

	Server &server_;
	LinuxDmabuf &dmabuf_;
	std::vector<Heap> heaps_;
	/* Per heap, the eighth of its total memory available when last sent. */
	std::vector<int> sentLevels_;
	ResourceList bound_;
	std::list<FeedbackObject *> feedbacks_;
	EventSource memoryTimer_;
	Global global_;
};

} /* namespace comp */
