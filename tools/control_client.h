/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>

#include <bufmgr/result.h>

namespace comp {

/*
 * Sends one request line ("stats", "clients", ...) to heapcomp's control
 * socket at path and returns its whole answer, a JSON document. Gives up
 * after seconds of silence: heapcomp answers from its event loop.
 */
bufmgr::Result<std::string> askHeapcomp(const std::string &path, const std::string &request);

} /* namespace comp */
