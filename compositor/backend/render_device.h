/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include <bufmgr/result.h>

namespace comp {

/*
 * The device clients are told to allocate for (linux-dmabuf's main device)
 * when given by path (--render-node): a render node, or the card node of a
 * display controller that has none.
 */
bufmgr::Result<dev_t> renderDeviceAt(const std::string &path);

/* The first render node, else the first card node: for a backend with no display of its own. */
std::optional<dev_t> firstRenderDevice();

} /* namespace comp */
