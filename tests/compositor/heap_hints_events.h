/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <drm_fourcc.h>
#include <heapcomp-heaps-v1-client-protocol.h>

#include <bufmgr/unique_fd.h>

#include "dmabuf_feedback.h"
#include "proxy.h"
#include "test_client.h"

namespace heapcomp::test {

/* heapcomp_heaps_v1's heap list as a client sees it, batch by batch. */
struct HeapList {
	struct Heap {
		uint32_t id = 0;
		std::string name;
		uint32_t properties = 0;
		uint32_t pool = 0;
		bool accessible = false;
		std::optional<uint64_t> totalBytes;
		std::optional<uint64_t> availableBytes;
		/* Version 2: where the memory comes from, who pays for it. */
		std::string region;
		std::vector<std::pair<std::string, std::string>> devices;	/* node, driver */
		std::optional<uint32_t> accounting;
		std::string dmemRegion;
	};

	std::vector<Heap> heaps;	/* the list as of the last done */
	int versionTwoEvents = 0;	/* heap_region, heap_device and heap_accounting seen */
	int dones = 0;

	const Heap *find(const std::string &name) const;
	void listen(heapcomp_heaps_v1 *global);

private:
	Heap *pending(uint32_t id);

	std::vector<Heap> pending_;
	bool replacing_ = true;	/* the next heap event starts a new list */
};

/* One heapcomp_heap_feedback_v1 batch: linux-dmabuf's tranches plus heaps. */
struct HeapFeedback {
	struct Tranche {
		dev_t device = 0;
		uint32_t flags = 0;
		std::vector<uint16_t> indices;
		std::vector<uint32_t> heaps;
	};

	uint32_t tableSize = 0;
	dev_t mainDevice = 0;
	std::vector<Tranche> tranches;
	int dones = 0;

	void listen(heapcomp_heap_feedback_v1 *feedback);
	/* Same tranches as linux-dmabuf's (order, device, flags, indices). */
	bool mirrors(const DmabufFeedback &dmabuf) const;

private:
	std::vector<Tranche> pending_;
	Tranche tranche_;
};

/* The outcome of one heapcomp_heaps_v1.allocate. */
struct HeapAllocation {
	struct Plane {
		bufmgr::UniqueFd fd;
		uint32_t offset = 0;
		uint32_t stride = 0;
	};

	std::vector<Plane> planes;
	uint64_t size = 0;
	bool ready = false;
	std::optional<uint32_t> failure;	/* a reason */
	std::string message;

	bool done() const { return ready || failure.has_value(); }
	void listen(heapcomp_heap_buffer_v1 *buffer);
};

/* A TestClient with heapcomp_heaps_v1 bound and its first heap list received. */
struct HeapsClient {
	explicit HeapsClient(const std::string &socket, uint32_t version = 2);

	/* The id of the heap named so; 0 when not advertised. */
	uint32_t heapId(const std::string &name) const;

	/* allocate, with what a test does not vary set to something valid. */
	heapcomp_heap_buffer_v1 *allocate(uint32_t heap, int32_t width = 64, int32_t height = 64,
					  uint32_t format = DRM_FORMAT_XRGB8888,
					  uint64_t modifier = DRM_FORMAT_MOD_LINEAR,
					  uint32_t usage = HEAPCOMP_HEAPS_V1_USAGE_RENDER);

	TestClient client;
	Proxy<wl_registry> registry;
	Proxy<heapcomp_heaps_v1> heaps;
	HeapList list;

private:
	uint32_t version_;
};

} /* namespace heapcomp::test */
