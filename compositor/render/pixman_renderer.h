/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <memory>

#include "renderer.h"

namespace comp {

struct PixmanRendererOptions {
	/* Largest buffer side it imports: bounds what one client costs. */
	uint32_t maxTextureSize = 16384;
};

/*
 * A renderer on the CPU with pixman, for boards whose only GL would be a
 * software rasterizer. It draws straight into a mapping of the output
 * buffer, only inside the damage, with no intermediate image or read
 * back. wl_shm content is copied into a texture per surface (the client
 * may write its buffer again after release); client dma-bufs (linear,
 * single plane) are mapped once and read in place at each pass, inside
 * DMA_BUF_IOCTL_SYNC.
 */
Result<std::unique_ptr<Renderer>> createPixmanRenderer(const PixmanRendererOptions &options = {});

} /* namespace comp */
