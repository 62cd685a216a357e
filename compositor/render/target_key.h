/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <sys/types.h>

#include <bufmgr/buffer.h>
#include <bufmgr/result.h>

namespace comp {

/*
 * Identifies an output buffer by the memory behind it (device and inode
 * of its dma-buf or memfd) and its layout, so a backend that re-wraps the
 * same memory in a new Buffer still hits a renderer's target cache.
 */
struct TargetKey {
	dev_t device = 0;
	ino_t inode = 0;
	uint32_t offset = 0;
	uint32_t stride = 0;
	uint32_t width = 0;
	uint32_t height = 0;
	uint32_t format = 0;
	uint64_t modifier = 0;

	static bufmgr::Result<TargetKey> of(const bufmgr::Buffer &buffer);
	bool operator==(const TargetKey &) const = default;
};

} /* namespace comp */
