/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <string_view>

namespace bufmgr {

enum class LogLevel : uint8_t { Debug, Info, Warning, Error };

/*
 * The library's messages (fallbacks taken, sources that could not be set
 * up) go to this handler; by default warnings and errors go to stderr.
 * An application routes them into its own log.
 */
using LogHandler = std::function<void(LogLevel, std::string_view)>;
void setLogHandler(LogHandler handler);

void log(LogLevel level, std::string_view message);

} /* namespace bufmgr */
