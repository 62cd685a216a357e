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
 * back. Client memory is read in place while the compositor holds the
 * client's buffer: wl_shm through wrapShm() (a copy for layouts pixman
 * cannot address), dma-bufs (linear, single plane) mapped once and read
 * inside DMA_BUF_IOCTL_SYNC at each pass.
 */
Result<std::unique_ptr<Renderer>> createPixmanRenderer(const PixmanRendererOptions &options = {});

} /* namespace comp */
