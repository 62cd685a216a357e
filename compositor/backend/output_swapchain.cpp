/* SPDX-License-Identifier: MIT */
#include "backend/output_swapchain.h"

namespace comp {

Result<std::unique_ptr<bufmgr::Swapchain>>
createOutputSwapchain(bufmgr::BufferManager &manager, const bufmgr::SwapchainConfig &config,
		      bufmgr::Swapchain::AllocateFunction allocate,
		      std::function<void(const bufmgr::Buffer &)> dropHook)
{
	auto recycle = [hook = std::move(dropHook), pool = manager.pool().recycler()](
			       bufmgr::Buffer buffer) {
		if (hook)
			hook(buffer);
		pool(std::move(buffer));
	};
	auto swapchain = bufmgr::Swapchain::create(config, std::move(allocate), recycle);
	if (!swapchain)
		return bufmgr::unexpected(std::move(swapchain).error());
	if (auto ret = (*swapchain)->reserve(); !ret)
		return bufmgr::unexpected(std::move(ret).error());
	return swapchain;
}

Result<std::optional<OutputFrame>> acquireOutputFrame(bufmgr::Swapchain &swapchain)
{
	auto slot = swapchain.acquire();
	if (!slot)
		return bufmgr::unexpected(std::move(slot).error());
	if (!*slot)
		return std::optional<OutputFrame>();
	OutputFrame frame;
	frame.target = &(**slot)->buffer();
	frame.bufferAge = (**slot)->age();
	frame.backendData = **slot;
	return std::optional<OutputFrame>(frame);
}

} /* namespace comp */
