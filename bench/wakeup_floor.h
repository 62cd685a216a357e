/* SPDX-License-Identifier: MIT */
#pragma once

#include <benchmark/benchmark.h>

namespace heapcomp::bench {

/*
 * What any compositor pays per frame at the least: a process woken by a
 * 60 Hz timer, which sends its client one message (a frame event) and is
 * woken again by the answer (a commit), and does nothing else. Each
 * iteration is one frame; its time is that process's CPU, read from
 * outside as a compositor's is. frameTimeoutMs: the longest wait for one.
 */
void wakeupFloor(benchmark::State &state, int frameTimeoutMs);

} /* namespace heapcomp::bench */
