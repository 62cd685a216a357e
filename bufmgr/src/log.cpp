/* SPDX-License-Identifier: MIT */
#include <bufmgr/log.h>

#include <cstdio>
#include <mutex>

namespace bufmgr {

namespace {

std::mutex handlerMutex;
LogHandler handler;

} /* namespace */

void setLogHandler(LogHandler h)
{
	std::lock_guard<std::mutex> lock(handlerMutex);
	handler = std::move(h);
}

void log(LogLevel level, std::string_view message)
{
	std::lock_guard<std::mutex> lock(handlerMutex);
	if (handler) {
		handler(level, message);
		return;
	}
	if (level < LogLevel::Warning)
		return;
	std::fprintf(stderr, "bufmgr: %s: %.*s\n",
		     level == LogLevel::Error ? "error" : "warning",
		     static_cast<int>(message.size()), message.data());
}

} /* namespace bufmgr */
