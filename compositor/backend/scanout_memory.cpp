/* SPDX-License-Identifier: MIT */
#include "backend/scanout_memory.h"

#include <bufmgr/exporter.h>

#include "buffer.h"

namespace comp {

std::vector<std::string> scanoutHeapOrder(const std::vector<bufmgr::HeapInfo> &heaps,
					  bool contiguousOnly)
{
	std::vector<std::string> names;
	for (const bufmgr::HeapInfo &heap : heaps)
		if (!heap.isAlias() && heap.contiguous.value_or(false) &&
		    heap.kind != bufmgr::HeapKind::Protected)
			names.push_back(heap.name);
	if (contiguousOnly)
		return names;
	for (const bufmgr::HeapInfo &heap : heaps)
		if (!heap.isAlias() && !heap.contiguous.value_or(false) &&
		    (heap.kind == bufmgr::HeapKind::System ||
		     heap.kind == bufmgr::HeapKind::SystemUncached))
			names.push_back(heap.name);
	return names;
}

bool isContiguousMemory(const std::vector<bufmgr::HeapInfo> &heaps, const ClientBuffer &buffer)
{
	const bufmgr::HeapInfo *heap = bufmgr::heapForExporter(heaps, buffer.exporter());
	return heap && heap->contiguous.value_or(false);
}

} /* namespace comp */
