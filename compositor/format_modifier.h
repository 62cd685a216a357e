/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>

namespace comp {

/* A DRM fourcc with one modifier: how a dma-buf's pixels are laid out. */
struct FormatModifier {
	uint32_t format = 0;
	uint64_t modifier = 0;

	bool operator==(const FormatModifier &) const = default;
};

} /* namespace comp */
