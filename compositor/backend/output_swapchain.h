/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <bufmgr/manager.h>
#include <bufmgr/swapchain.h>

#include "backend/backend.h"

namespace comp {

/* A swapchain of XRGB8888 buffers the size of mode, for usage; name is for logs. */
bufmgr::SwapchainConfig outputSwapchainConfig(const Output::Mode &mode, bufmgr::Usage usage,
					      std::string name);

/*
 * An output's swapchain with every buffer allocated now, so that clients
 * exhausting scarce memory (CMA) later cannot leave the output without
 * one. Dropped buffers go through the backend's drop hook (the renderer
 * forgets them) to its buffer manager's pool.
 */
Result<std::unique_ptr<bufmgr::Swapchain>>
createOutputSwapchain(const Backend &backend, const bufmgr::SwapchainConfig &config,
		      bufmgr::Swapchain::AllocateFunction allocate);

/*
 * The output took another size: buffers of the new one, every one
 * allocated now as at creation; those on screen go once released. On
 * failure it keeps the old size.
 */
Result<void> resizeOutputSwapchain(bufmgr::Swapchain &swapchain, uint32_t width, uint32_t height);

/* The next free buffer as an OutputFrame; nullopt when all are in use. */
Result<std::optional<OutputFrame>> acquireOutputFrame(bufmgr::Swapchain &swapchain);

} /* namespace comp */
