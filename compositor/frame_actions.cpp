/* SPDX-License-Identifier: MIT */
#include "frame_actions.h"

#include <string>

#include "log.h"
#include "server.h"
#include "stats_json.h"

namespace comp {

FrameActions::FrameActions(Server &server)
	: server_(server)
{
}

bool FrameActions::counting() const
{
	const ServerConfig &config = server_.config();
	return config.exitAfterFrames || (config.screenshotFrames && !screenshotWritten_);
}

void FrameActions::presented(uint64_t frames)
{
	const ServerConfig &config = server_.config();
	if (!config.screenshotPath.empty() && config.screenshotFrames && !screenshotWritten_ &&
	    frames >= config.screenshotFrames) {
		screenshotWritten_ = true;
		server_.writeScreenshot(config.screenshotPath, [path = config.screenshotPath,
								 frames](Result<void> ret) {
			if (ret)
				LOG_INFO("screenshot after %llu frames written to %s",
					 static_cast<unsigned long long>(frames), path.c_str());
			else
				LOG_ERROR("screenshot: %s", ret.error().message().c_str());
		});
	}
	if (config.exitAfterFrames && frames >= config.exitAfterFrames) {
		LOG_INFO("%llu frames presented: stopping", static_cast<unsigned long long>(frames));
		server_.terminate();
	}
}

void FrameActions::userSignal()
{
	const ServerConfig &config = server_.config();
	std::string path = config.screenshotPath.empty() ? "heapcomp-screenshot.png"
							 : config.screenshotPath;
	server_.writeScreenshot(path, [path](Result<void> ret) {
		if (ret)
			LOG_INFO("screenshot written to %s", path.c_str());
		else
			LOG_ERROR("screenshot: %s", ret.error().message().c_str());
	});
	writeStats();
}

void FrameActions::stopped()
{
	writeStats();
}

void FrameActions::writeStats()
{
	const std::string &path = server_.config().statsPath;
	if (path.empty())
		return;
	auto ret = writeStatsJson(server_, path);
	if (ret)
		LOG_INFO("statistics written to %s", path.c_str());
	else
		LOG_ERROR("statistics: %s", ret.error().message().c_str());
}

} /* namespace comp */
