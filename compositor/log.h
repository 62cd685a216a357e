/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace comp {

enum class LogLevel : uint8_t { Debug, Info, Warning, Error };

std::string_view toString(LogLevel level);
std::optional<LogLevel> parseLogLevel(std::string_view name);

/* Messages below the level are dropped before they are formatted. */
void setLogLevel(LogLevel level);
LogLevel logLevel();

/* Where messages go; stderr with a timestamp when unset. */
using LogSink = std::function<void(LogLevel, std::string_view)>;
void setLogSink(LogSink sink);

void logMessage(LogLevel level, std::string_view message);
void logPrintf(LogLevel level, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Routes bufmgr's and libwayland-server's messages into this log, so one
 * level setting filters all of them.
 */
void installLibraryLogHandlers();

} /* namespace comp */

#define LOG_DEBUG(...) ::comp::logPrintf(::comp::LogLevel::Debug, __VA_ARGS__)
#define LOG_INFO(...) ::comp::logPrintf(::comp::LogLevel::Info, __VA_ARGS__)
#define LOG_WARNING(...) ::comp::logPrintf(::comp::LogLevel::Warning, __VA_ARGS__)
#define LOG_ERROR(...) ::comp::logPrintf(::comp::LogLevel::Error, __VA_ARGS__)
