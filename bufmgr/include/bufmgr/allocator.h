/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <bufmgr/buffer.h>
#include <bufmgr/result.h>

namespace bufmgr {

/* What a buffer will be used for; drives the fallback chain. */
enum class Usage : uint8_t {
	Scanout,	/* read by the display controller */
	Render,		/* GPU render target or texture */
	Video,		/* filled by a video decoder */
	Camera,		/* filled by an ISP / camera DMA */
	Cpu,		/* written and read by the CPU (wl_shm, overlays) */
};

std::string_view toString(Usage usage);

/* What an allocator can give; checked where buffers are created. */
enum Capability : uint32_t {
	CapDmaBuf = 1u << 0,		/* buffers are dma-buf fds */
	CapShm = 1u << 1,		/* buffers are shareable memfds (wl_shm) */
	CapCpuMap = 1u << 2,		/* buffers can be mmap()ed */
	CapContiguous = 1u << 3,	/* physically contiguous memory */
	CapModifiers = 1u << 4,		/* honours non-linear modifiers */
};

/*
 * One allocation. For images set width/height/format; for a raw byte
 * range set format = 0 and size (a "blob", as DMA_HEAP_IOCTL_ALLOC takes).
 */
struct AllocationRequest {
	uint32_t width = 0;
	uint32_t height = 0;
	uint32_t format = 0;			/* DRM fourcc, 0 for a blob */
	uint64_t size = 0;			/* blobs only */
	std::vector<uint64_t> modifiers;	/* empty: linear */
	uint32_t strideAlign = 0;		/* 0: the allocator's default */
	Usage usage = Usage::Cpu;
	std::string name;			/* debug name, set on the dma-buf */

	static AllocationRequest blob(uint64_t size, std::string name = {});
	static AllocationRequest image(uint32_t width, uint32_t height,
				       uint32_t format, Usage usage,
				       std::string name = {});
	bool isBlob() const { return format == 0; }
};

class Allocator
{
public:
	virtual ~Allocator() = default;

	virtual AllocatorKind kind() const = 0;
	/* Stable key for stats and logs: "dma-heap:system", "memfd", ... */
	virtual const std::string &source() const = 0;
	virtual uint32_t capabilities() const = 0;

	virtual Result<Buffer> allocate(const AllocationRequest &request) = 0;
};

} /* namespace bufmgr */
