/* SPDX-License-Identifier: MIT */
#include <bufmgr/result.h>

#include <cstring>

namespace bufmgr {

std::string Error::message() const
{
	std::string msg = context;
	if (!msg.empty())
		msg += ": ";
	msg += std::strerror(code);
	return msg;
}

Error makeError(int code, std::string context)
{
	return Error{ code, std::move(context) };
}

} /* namespace bufmgr */
