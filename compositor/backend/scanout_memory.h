/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>
#include <vector>

#include <bufmgr/heap.h>

namespace comp {

class ClientBuffer;

/*
 * The heaps a display reads, most preferred first, by name: contiguous
 * ones (any display controller reads them), then, unless the display
 * needs contiguous memory, the system heaps. Aliases and protected
 * heaps are left out.
 */
std::vector<std::string> scanoutHeapOrder(const std::vector<bufmgr::HeapInfo> &heaps,
					  bool contiguousOnly);

/* Whether a client buffer's exporter is a physically contiguous heap. */
bool isContiguousMemory(const std::vector<bufmgr::HeapInfo> &heaps, const ClientBuffer &buffer);

} /* namespace comp */
