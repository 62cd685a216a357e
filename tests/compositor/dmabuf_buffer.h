/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include <bufmgr/buffer.h>

#include "test_client.h"

namespace heapcomp::test {

/* Paints a 32-bit dma-buf: its top half one colour, its bottom half another. */
bool fill(const bufmgr::Buffer &buffer, uint32_t top, uint32_t bottom);
/* Paints a 32-bit dma-buf pixel by pixel. */
bool fill(const bufmgr::Buffer &buffer, const std::function<uint32_t(uint32_t x, uint32_t y)> &pixel);

/* A wl_buffer of the dma-buf, sent with its modifier unless told another. */
Proxy<wl_buffer> wrap(TestClient &client, const bufmgr::Buffer &buffer, uint32_t flags = 0,
		      std::optional<uint64_t> modifier = std::nullopt);

} /* namespace heapcomp::test */
