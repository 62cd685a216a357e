/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <bufmgr/result.h>

namespace comp {

class Server;

/*
 * wl_shm through libwayland's implementation, which maps pools and turns
 * a SIGBUS from a client shrinking its pool into a protocol error. The
 * renderer decides which formats beyond ARGB8888/XRGB8888 are offered.
 */
class ShmGlobal
{
public:
	static bufmgr::Result<std::unique_ptr<ShmGlobal>> create(Server &server);

	/* wl_shm format codes offered. */
	const std::vector<uint32_t> &formats() const { return formats_; }

private:
	ShmGlobal() = default;
	std::vector<uint32_t> formats_;
};

} /* namespace comp */
