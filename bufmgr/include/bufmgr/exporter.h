/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <bufmgr/heap.h>
#include <bufmgr/result.h>

namespace bufmgr {

/*
 * What /proc/<pid>/fdinfo/<fd> tells about a dma-buf. The kernel prints
 * the generic lines (pos, flags, mnt_id, ino) and then the dma-buf ones:
 * size, count, exp_name and, once DMA_BUF_SET_NAME was used, name.
 */
struct DmaBufInfo {
	/*
	 * The exporter: the heap name for heap buffers ("system",
	 * "default_cma_region", "reserved"...), else the driver ("udmabuf",
	 * "drm" for PRIME exports, ...).
	 */
	std::string exporter;
	uint64_t size = 0;
	int64_t count = 0;		/* references to the dma-buf's file */
	std::optional<std::string> name;	/* debug name, if set */
	std::optional<uint64_t> inode;	/* unique per dma-buf; absent on old kernels */
	std::optional<uint32_t> flags;	/* open flags of this fd */
};

/*
 * Parses the text of a dma-buf fdinfo file. The first occurrence of each
 * key wins, so a buffer name cannot forge the kernel's own lines. ENOTSUP
 * when the text has no exp_name (not a dma-buf), EINVAL when a dma-buf's
 * size or count is missing or malformed.
 */
Result<DmaBufInfo> parseDmaBufFdinfo(std::string_view text);

/*
 * Identifies a dma-buf fd of this process by its fdinfo. EBADF when fd is
 * not open, ENOTSUP when it is not a dma-buf (a memfd, a socket...).
 */
Result<DmaBufInfo> identifyDmaBuf(int fd, const SystemPaths &paths = {});

/* The same for another process's fd (needs ptrace read access). */
Result<DmaBufInfo> identifyProcessDmaBuf(int pid, int fd,
					 const SystemPaths &paths = {});

/*
 * The heap a buffer came from: heap exporters name their buffers after
 * the heap node they were allocated from. nullptr for driver exporters.
 */
const HeapInfo *heapForExporter(const std::vector<HeapInfo> &heaps,
				std::string_view exporter);

struct ExporterUsage {
	std::string exporter;
	uint64_t buffers = 0;	/* distinct dma-bufs */
	uint64_t bytes = 0;	/* their size, each buffer once */
	uint64_t fds = 0;	/* fds referring to them */
};

struct ProcessDmaBufUsage {
	int pid = 0;
	std::string comm;
	uint64_t buffers = 0;
	uint64_t bytes = 0;
	uint64_t fds = 0;
	std::vector<ExporterUsage> exporters;	/* most bytes first */
};

/*
 * System-wide dma-buf use. Buffers are deduplicated by inode, within a
 * process (several fds for one buffer) and across processes (a client and
 * the compositor holding the same buffer) for the totals. Buffers held
 * only through mmap() or only inside the kernel have no fd and are not
 * seen.
 */
struct DmaBufUsageScan {
	std::vector<ProcessDmaBufUsage> processes;	/* most bytes first */
	std::vector<ExporterUsage> exporters;		/* system-wide */
	uint64_t buffers = 0;
	uint64_t bytes = 0;
	/* false if some fdinfo had no ino line: buffers are then counted per fd */
	bool deduplicated = true;
	/* Processes whose fds could not be read (EACCES when not root). */
	std::vector<int> inaccessiblePids;
};

/*
 * Walks <procDir>/<pid>/fdinfo/ of every process. Processes that exit
 * during the scan are skipped; only processes with dma-bufs are listed.
 */
DmaBufUsageScan scanProcessDmaBufs(const SystemPaths &paths = {});

} /* namespace bufmgr */
