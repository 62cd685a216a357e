/* SPDX-License-Identifier: MIT */
#pragma once

#include <memory>
#include <string>

#include <bufmgr/allocator.h>
#include <bufmgr/result.h>

namespace bufmgr {

/*
 * The concrete allocators. BufferManager builds them from discovery; they
 * are public so that tools and tests can drive one source directly.
 */

/* A DMA-BUF heap node such as /dev/dma_heap/system. */
Result<std::unique_ptr<Allocator>>
createDmaHeapAllocator(const std::string &path, bool contiguous);

/* udmabuf: sealed memfd pages exported as a dma-buf. */
Result<std::unique_ptr<Allocator>>
createUdmabufAllocator(const std::string &path = "/dev/udmabuf");

/* Plain sealed memfds, for wl_shm and CPU-only buffers. */
std::unique_ptr<Allocator> createMemfdAllocator();

/* DRM dumb buffers on a KMS node, exported with PRIME. */
Result<std::unique_ptr<Allocator>>
createDumbAllocator(const std::string &drmNode);

/* GBM on a DRM node; honours modifiers and scanout/render usage. */
Result<std::unique_ptr<Allocator>>
createGbmAllocator(const std::string &drmNode);

} /* namespace bufmgr */
