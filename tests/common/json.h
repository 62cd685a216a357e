/* SPDX-License-Identifier: MIT */
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include <bufmgr/json_reader.h>

/* bufmgr's JSON reader under the short names the tests use. */
namespace heapcomp::test {

using bufmgr::Json;
using bufmgr::JsonParser;
using bufmgr::parseJson;

inline const Json &at(const Json &json, std::initializer_list<const char *> path)
{
	return bufmgr::jsonAt(json, path);
}

inline std::optional<uint64_t> number(const Json &json, std::initializer_list<const char *> path)
{
	return bufmgr::jsonNumber(json, path);
}

inline std::optional<std::string> string(const Json &json, std::initializer_list<const char *> path)
{
	return bufmgr::jsonString(json, path);
}

} /* namespace heapcomp::test */
