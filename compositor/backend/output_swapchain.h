/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include <bufmgr/manager.h>
#include <bufmgr/swapchain.h>

#include "backend/backend.h"

namespace comp {

/*
 * An output's swapchain with every buffer allocated now, so that clients
 * exhausting scarce memory (CMA) later cannot leave the output without
 * one. Dropped buffers go through dropHook (the renderer forgets them)
 * to the manager's pool.
 */
Result<std::unique_ptr<bufmgr::Swapchain>>
createOutputSwapchain(bufmgr::BufferManager &manager, const bufmgr::SwapchainConfig &config,
		      bufmgr::Swapchain::AllocateFunction allocate,
		      std::function<void(const bufmgr::Buffer &)> dropHook);

/* The next free buffer as an OutputFrame; nullopt when all are in use. */
Result<std::optional<OutputFrame>> acquireOutputFrame(bufmgr::Swapchain &swapchain);

} /* namespace comp */
