/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>
#include <vector>

namespace bufmgr {

/*
 * The DRM nodes in dir (/dev/dri) whose names start with prefix ("card",
 * "renderD"), as paths, in number order: card2 comes before card10.
 */
std::vector<std::string> driNodes(const char *prefix, const std::string &dir = "/dev/dri");

} /* namespace bufmgr */
