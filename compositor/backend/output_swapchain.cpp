/* SPDX-License-Identifier: MIT */
#include "backend/output_swapchain.h"

#include <drm_fourcc.h>

namespace comp {

bufmgr::SwapchainConfig outputSwapchainConfig(const Output::Mode &mode, bufmgr::Usage usage,
					      std::string name)
{
	bufmgr::SwapchainConfig config;
	config.width = mode.width;
	config.height = mode.height;
	config.format = DRM_FORMAT_XRGB8888;
	config.usage = usage;
	config.name = std::move(name);
	return config;
}

Result<std::unique_ptr<bufmgr::Swapchain>>
createOutputSwapchain(const Backend &backend, const bufmgr::SwapchainConfig &config,
		      bufmgr::Swapchain::AllocateFunction allocate)
{
	auto recycle = [hook = backend.dropHook(),
			pool = backend.bufferManager().pool().recycler()](bufmgr::Buffer buffer) {
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

Result<void> resizeOutputSwapchain(bufmgr::Swapchain &swapchain, uint32_t width, uint32_t height)
{
	const uint32_t oldWidth = swapchain.config().width, oldHeight = swapchain.config().height;
	if (auto ret = swapchain.resize(width, height); !ret)
		return ret;
	auto reserved = swapchain.reserve();
	if (!reserved) {
		/* Buffers of the old size again (allocated as frames need them): the output keeps it. */
		(void)swapchain.resize(oldWidth, oldHeight);
		(void)swapchain.reserve();
	}
	return reserved;
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
