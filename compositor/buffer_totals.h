/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace comp {

class ClientBuffer;

/*
 * Live client buffers counted by type and dma-buf exporter: every
 * client's together (the server's, reached from each client's account)
 * and each client's own, so that a buffer counts from its wl_buffer until
 * its last lock goes. Event loop thread only.
 */
class ClientBufferTotals
{
public:
	struct Count {
		uint64_t buffers = 0;
		uint64_t bytes = 0;
	};

	const Count &shm() const { return shm_; }
	const Count &dmaBuf() const { return dmaBuf_; }
	/* The dma-bufs again, by ClientBuffer::exporter(); no empty entries. */
	const std::map<std::string, Count> &dmaBufByExporter() const { return byExporter_; }
	/* Each memory held: "wl_shm" if any, then each dma-buf exporter. */
	std::vector<std::pair<std::string, Count>> bySource() const;

	void add(const ClientBuffer &buffer, uint64_t bytes);
	void remove(const ClientBuffer &buffer, uint64_t bytes);

private:
	Count shm_;
	Count dmaBuf_;
	std::map<std::string, Count> byExporter_;
};

} /* namespace comp */
