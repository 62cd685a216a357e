/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <vector>

#include <bufmgr/allocator.h>

namespace heapcomp::test {

/*
 * Everything allocator can still give, in large pieces and then small
 * ones, as a client hoarding a CMA heap would take it.
 */
inline std::vector<bufmgr::Buffer> takeEverything(bufmgr::Allocator &allocator)
{
	std::vector<bufmgr::Buffer> taken;
	for (uint64_t piece : { 4ull << 20, 256ull << 10, 16ull << 10 }) {
		for (;;) {
			auto buffer = allocator.allocate(bufmgr::AllocationRequest::blob(piece, "hog"));
			if (!buffer)
				break;
			taken.push_back(std::move(*buffer));
		}
	}
	return taken;
}

} /* namespace heapcomp::test */
