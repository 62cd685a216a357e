/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <vector>

#include <bufmgr/result.h>

namespace comp {

class ClientBuffer;

/* Output pixels, ARGB8888, row after row. */
struct Screenshot {
	uint32_t width = 0;
	uint32_t height = 0;
	std::vector<uint32_t> pixels;

	uint32_t at(uint32_t x, uint32_t y) const { return pixels[size_t(y) * width + x]; }
};

/* DRM formats readClientBuffer() reads: 32-bit RGB, with or without alpha. */
bool isScreenshotFormat(uint32_t format);

/*
 * A client buffer's pixels as a screenshot, read by the CPU: what the
 * screen shows while the buffer is scanned out. wl_shm memory is read
 * guarded against the client shrinking its file; dma-bufs are mapped
 * with DMA_BUF_IOCTL_SYNC around the read. Formats without alpha read
 * as opaque.
 */
bufmgr::Result<Screenshot> readClientBuffer(const ClientBuffer &buffer);

} /* namespace comp */
