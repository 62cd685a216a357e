/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <time.h>

namespace bufmgr {

/*
 * Nanoseconds on clock: CLOCK_MONOTONIC for intervals, a CPU-time clock
 * for cost. Cheaper than std::chrono on hot paths (no call through
 * libstdc++); only the monotonic and real-time clocks avoid a syscall.
 */
inline uint64_t clockNs(clockid_t clock = CLOCK_MONOTONIC)
{
	timespec ts;
	clock_gettime(clock, &ts);
	return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

} /* namespace bufmgr */
