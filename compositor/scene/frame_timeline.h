/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace comp {

/* How one frame reached the screen. */
enum class FrameKind : uint8_t {
	Composed,	/* drawn by the renderer */
	ScannedOut,	/* a client buffer as it is */
	Skipped,	/* nothing changed: nothing drawn */
};

/* One presented frame of an output. */
struct FrameRecord {
	uint64_t presentedNs = 0;	/* CLOCK_MONOTONIC */
	uint64_t requestedNs = 0;	/* when it was first asked for; 0: unknown */
	uint64_t intervalNs = 0;	/* since the frame before; 0 for the first */
	uint64_t repaintCpuNs = 0;	/* the compositor thread's CPU time to build it */
	/* Allocation failures and fallbacks since the start, when it was presented. */
	uint64_t allocFailures = 0;
	uint64_t allocFallbacks = 0;
	FrameKind kind = FrameKind::Skipped;
};

/*
 * The last kFrames frames of an output, oldest first, for the overlay's
 * frame-time graph. Written by the event loop only.
 */
class FrameTimeline
{
public:
	static constexpr size_t kFrames = 240;

	void push(const FrameRecord &record)
	{
		frames_[next_] = record;
		next_ = (next_ + 1) % kFrames;
		if (size_ < kFrames)
			size_++;
	}
	size_t size() const { return size_; }
	/* i = 0 is the oldest kept. */
	const FrameRecord &operator[](size_t i) const
	{
		return frames_[(next_ + kFrames - size_ + i) % kFrames];
	}

private:
	std::array<FrameRecord, kFrames> frames_{};
	size_t next_ = 0;
	size_t size_ = 0;
};

} /* namespace comp */
