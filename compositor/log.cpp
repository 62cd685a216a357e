/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <time.h>

#include <wayland-server-core.h>

#include <bufmgr/log.h>

namespace comp {

namespace {

std::atomic<LogLevel> gLevel{LogLevel::Info};
std::mutex gSinkMutex;
LogSink gSink;

void defaultSink(LogLevel level, std::string_view message)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "[%5ld.%03ld] %-7s %.*s\n", static_cast<long>(ts.tv_sec),
		ts.tv_nsec / 1000000, std::string(toString(level)).c_str(),
		static_cast<int>(message.size()), message.data());
}

void vlog(LogLevel level, const char *format, va_list args)
{
	char buffer[1024];
	int n = vsnprintf(buffer, sizeof(buffer), format, args);
	if (n < 0)
		return;
	std::string_view text(buffer, std::min<size_t>(n, sizeof(buffer) - 1));
	/* libwayland's messages end in a newline; ours do not. */
	while (!text.empty() && text.back() == '\n')
		text.remove_suffix(1);
	logMessage(level, text);
}

void waylandLogHandler(const char *format, va_list args)
{
	/* libwayland logs protocol errors and failed client connections. */
	va_list copy;
	va_copy(copy, args);
	if (logLevel() <= LogLevel::Warning)
		vlog(LogLevel::Warning, format, copy);
	va_end(copy);
}

} /* namespace */

std::string_view toString(LogLevel level)
{
	switch (level) {
	case LogLevel::Debug: return "debug";
	case LogLevel::Info: return "info";
	case LogLevel::Warning: return "warning";
	case LogLevel::Error: return "error";
	}
	return "unknown";
}

std::optional<LogLevel> parseLogLevel(std::string_view name)
{
	for (LogLevel level : { LogLevel::Debug, LogLevel::Info, LogLevel::Warning,
				LogLevel::Error }) {
		if (name == toString(level))
			return level;
	}
	if (name == "warn")
		return LogLevel::Warning;
	return std::nullopt;
}

void setLogLevel(LogLevel level)
{
	gLevel = level;
}

LogLevel logLevel()
{
	return gLevel;
}

void setLogSink(LogSink sink)
{
	std::lock_guard lock(gSinkMutex);
	gSink = std::move(sink);
}

void logMessage(LogLevel level, std::string_view message)
{
	if (level < gLevel)
		return;
	std::lock_guard lock(gSinkMutex);
	if (gSink)
		gSink(level, message);
	else
		defaultSink(level, message);
}

void logPrintf(LogLevel level, const char *format, ...)
{
	if (level < gLevel)
		return;
	va_list args;
	va_start(args, format);
	vlog(level, format, args);
	va_end(args);
}

void installLibraryLogHandlers()
{
	bufmgr::setLogHandler([](bufmgr::LogLevel level, std::string_view message) {
		LogLevel mapped = LogLevel::Info;
		switch (level) {
		case bufmgr::LogLevel::Debug: mapped = LogLevel::Debug; break;
		case bufmgr::LogLevel::Info: mapped = LogLevel::Info; break;
		case bufmgr::LogLevel::Warning: mapped = LogLevel::Warning; break;
		case bufmgr::LogLevel::Error: mapped = LogLevel::Error; break;
		}
		logMessage(mapped, std::string("bufmgr: ").append(message));
	});
	wl_log_set_handler_server(waylandLogHandler);
}

} /* namespace comp */
