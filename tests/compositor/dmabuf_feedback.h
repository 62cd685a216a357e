/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <sys/types.h>
#include <vector>

#include <linux-dmabuf-unstable-v1-client-protocol.h>

namespace heapcomp::test {

/* One zwp_linux_dmabuf_feedback_v1 batch as a client sees it. */
struct DmabufFeedback {
	struct Format {
		uint32_t format;
		uint64_t modifier;
	};
	struct Tranche {
		dev_t device = 0;
		uint32_t flags = 0;
		std::vector<uint16_t> indices;
	};

	std::vector<Format> table;	/* read from the table memfd */
	bool tableWritable = true;	/* could it be mapped shared and writable? */
	uint32_t tableSize = 0;
	dev_t mainDevice = 0;
	size_t mainDeviceBytes = 0;
	std::vector<Tranche> tranches;	/* of the last batch, at its done */
	int dones = 0;

	/* Formats of a tranche, resolved through the table. */
	std::vector<Format> formats(const Tranche &tranche) const;
	bool has(const Tranche &tranche, uint32_t format, uint64_t modifier) const;

	/* Starts recording the feedback's events into this object. */
	void listen(zwp_linux_dmabuf_feedback_v1 *feedback);

private:
	std::vector<Tranche> batch_;
	Tranche pending_;
};

class TestClient;

/* The compositor's default feedback, its first batch whole; false if it did not come. */
bool receiveDefaultFeedback(TestClient &client, DmabufFeedback &feedback);

} /* namespace heapcomp::test */
