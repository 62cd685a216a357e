/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bufmgr {

/*
 * Compact JSON written front to back, the commas put in. Strings come
 * out valid UTF-8 whatever their bytes (names from other processes):
 * invalid bytes become U+FFFD, and DEL and the C1 controls are escaped
 * too, so that the text is safe on a terminal.
 */
class JsonWriter
{
public:
	void beginObject() { open('{'); }
	void endObject() { close('}'); }
	void beginArray() { open('['); }
	void endArray() { close(']'); }

	/* The name of the object member whose value comes next. */
	void key(std::string_view name);

	void value(std::string_view s);
	void value(const char *s) { value(std::string_view(s)); }
	void value(const std::string &s) { value(std::string_view(s)); }
	void value(bool b);
	void value(uint64_t n);
	void value(int64_t n);
	void value(int n) { value(static_cast<int64_t>(n)); }
	void value(uint32_t n) { value(static_cast<uint64_t>(n)); }
	void value(double d);
	void null();
	/* A JSON text made elsewhere, as it is. */
	void raw(std::string_view json);

	template<typename T>
	void value(const std::optional<T> &v)
	{
		if (v)
			value(*v);
		else
			null();
	}

	template<typename T>
	void field(std::string_view name, const T &v)
	{
		key(name);
		value(v);
	}

	/* Empty strings become null: "no alias" rather than an empty name. */
	void fieldOrNull(std::string_view name, const std::string &v);

	const std::string &str() const { return out_; }

private:
	void open(char c);
	void close(char c);
	void separate();
	void writeString(std::string_view s);

	std::string out_;
	std::vector<bool> first_;
	bool afterKey_ = false;
};

/* Length of the valid UTF-8 sequence at s[i], 0 if invalid. */
size_t utf8Length(std::string_view s, size_t i);

} /* namespace bufmgr */
