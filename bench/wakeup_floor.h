/* SPDX-License-Identifier: MIT */
#pragma once

#include <benchmark/benchmark.h>

namespace heapcomp::bench {

/*
 * A reference for what being woken costs a compositor each frame: a
 * process woken by a 60 Hz timer, which sends its client one message (a
 * frame event) and is woken again by the answer (a commit), and does
 * nothing else. Each iteration is one frame; its time is that process's
 * CPU, read from outside as a compositor's is. warmupFrames go first;
 * frameTimeoutMs is the longest wait for one frame.
 */
void wakeupFloor(benchmark::State &state, int frameTimeoutMs, long warmupFrames);

} /* namespace heapcomp::bench */
