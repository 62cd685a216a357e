/* SPDX-License-Identifier: MIT */
#include "bufmgr/json_writer.h"

#include <cstdio>

namespace bufmgr {

size_t utf8Length(std::string_view s, size_t i)
{
	auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
	auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xc0) == 0x80; };
	unsigned char c = byte(i);
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return cont(i + 1) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (!cont(i + 1) || !cont(i + 2))
			return 0;
		unsigned char c1 = byte(i + 1);
		if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f))
			return 0;	/* overlong, or a UTF-16 surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
			return 0;
		unsigned char c1 = byte(i + 1);
		if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

void JsonWriter::key(std::string_view name)
{
	separate();
	writeString(name);
	out_ += ':';
	afterKey_ = true;
}

void JsonWriter::value(std::string_view s)
{
	separate();
	writeString(s);
}

void JsonWriter::value(bool b)
{
	separate();
	out_ += b ? "true" : "false";
}

void JsonWriter::value(uint64_t n)
{
	separate();
	out_ += std::to_string(n);
}

void JsonWriter::value(int64_t n)
{
	separate();
	out_ += std::to_string(n);
}

void JsonWriter::value(double d)
{
	separate();
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%.6g", d);
	out_ += buf;
}

void JsonWriter::null()
{
	separate();
	out_ += "null";
}

void JsonWriter::raw(std::string_view json)
{
	separate();
	out_ += json;
}

void JsonWriter::fieldOrNull(std::string_view name, const std::string &v)
{
	key(name);
	if (v.empty())
		null();
	else
		value(v);
}

void JsonWriter::open(char c)
{
	separate();
	out_ += c;
	first_.push_back(true);
}

void JsonWriter::close(char c)
{
	first_.pop_back();
	out_ += c;
}

void JsonWriter::separate()
{
	if (afterKey_) {
		afterKey_ = false;
		return;
	}
	if (!first_.empty()) {
		if (!first_.back())
			out_ += ',';
		first_.back() = false;
	}
}

void JsonWriter::writeString(std::string_view s)
{
	out_ += '"';
	for (size_t i = 0; i < s.size();) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		switch (c) {
		case '"': out_ += "\\\""; i++; continue;
		case '\\': out_ += "\\\\"; i++; continue;
		case '\b': out_ += "\\b"; i++; continue;
		case '\f': out_ += "\\f"; i++; continue;
		case '\n': out_ += "\\n"; i++; continue;
		case '\r': out_ += "\\r"; i++; continue;
		case '\t': out_ += "\\t"; i++; continue;
		default: break;
		}
		if (c < 0x20) {
			char buf[8];
			std::snprintf(buf, sizeof(buf), "\\u%04x", c);
			out_ += buf;
			i++;
			continue;
		}
		size_t len = utf8Length(s, i);
		if (len == 0) {
			/* Buffer names are arbitrary bytes: keep the JSON valid. */
			out_ += "\\ufffd";
			i++;
			continue;
		}
		/* DEL and C1 controls are legal JSON but unsafe on terminals. */
		if (c == 0x7f || (c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0)) {
			char buf[8];
			unsigned code = c == 0x7f ? c : static_cast<unsigned char>(s[i + 1]);
			std::snprintf(buf, sizeof(buf), "\\u%04x", code);
			out_ += buf;
			i += len;
			continue;
		}
		out_.append(s.substr(i, len));
		i += len;
	}
	out_ += '"';
}

} /* namespace bufmgr */
