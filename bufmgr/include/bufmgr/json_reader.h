/* SPDX-License-Identifier: MIT */
#pragma once

#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bufmgr {

/*
 * Just enough JSON to read what heapcomp writes (bufmgr's toJson(), the
 * compositor's statistics and control socket): strict, no extensions.
 * Numbers stay as written; u64() reads the integers.
 */
struct Json {
	enum class Type { Null, Bool, Number, String, Array, Object };
	Type type = Type::Null;
	bool boolean = false;
	std::string text;	/* numbers as written, decoded strings */
	std::vector<Json> array;
	std::vector<std::pair<std::string, Json>> object;

	const Json *get(const std::string &key) const
	{
		for (const auto &[k, v] : object) {
			if (k == key)
				return &v;
		}
		return nullptr;
	}
	uint64_t u64() const { return std::stoull(text); }
};

class JsonParser
{
public:
	explicit JsonParser(std::string_view s) : s_(s) {}

	std::optional<Json> parse()
	{
		std::optional<Json> v = value();
		skipSpace();
		if (!v || pos_ != s_.size())
			return std::nullopt;
		return v;
	}

private:
	void skipSpace()
	{
		while (pos_ < s_.size() && std::string_view(" \t\r\n").find(s_[pos_]) !=
		       std::string_view::npos)
			pos_++;
	}

	bool eat(char c)
	{
		skipSpace();
		if (pos_ < s_.size() && s_[pos_] == c) {
			pos_++;
			return true;
		}
		return false;
	}

	bool literal(std::string_view word)
	{
		if (s_.substr(pos_, word.size()) != word)
			return false;
		pos_ += word.size();
		return true;
	}

	static void appendUtf8(std::string &out, uint32_t cp)
	{
		if (cp < 0x80) {
			out += static_cast<char>(cp);
		} else if (cp < 0x800) {
			out += static_cast<char>(0xc0 | (cp >> 6));
			out += static_cast<char>(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out += static_cast<char>(0xe0 | (cp >> 12));
			out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
			out += static_cast<char>(0x80 | (cp & 0x3f));
		} else {
			out += static_cast<char>(0xf0 | (cp >> 18));
			out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
			out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
			out += static_cast<char>(0x80 | (cp & 0x3f));
		}
	}

	std::optional<std::string> string()
	{
		if (!eat('"'))
			return std::nullopt;
		std::string out;
		while (pos_ < s_.size()) {
			unsigned char c = s_[pos_++];
			if (c == '"')
				return out;
			if (c < 0x20)
				return std::nullopt;
			if (c != '\\') {
				out += static_cast<char>(c);
				continue;
			}
			if (pos_ >= s_.size())
				return std::nullopt;
			char e = s_[pos_++];
			switch (e) {
			case '"': out += '"'; break;
			case '\\': out += '\\'; break;
			case '/': out += '/'; break;
			case 'b': out += '\b'; break;
			case 'f': out += '\f'; break;
			case 'n': out += '\n'; break;
			case 'r': out += '\r'; break;
			case 't': out += '\t'; break;
			case 'u': {
				if (pos_ + 4 > s_.size())
					return std::nullopt;
				/* stoul would take fewer digits, or throw on none. */
				for (size_t i = pos_; i < pos_ + 4; i++) {
					if (!std::isxdigit(static_cast<unsigned char>(s_[i])))
						return std::nullopt;
				}
				uint32_t cp = std::stoul(std::string(s_.substr(pos_, 4)), nullptr, 16);
				pos_ += 4;
				appendUtf8(out, cp);
				break;
			}
			default:
				return std::nullopt;
			}
		}
		return std::nullopt;
	}

	std::optional<Json> value()
	{
		skipSpace();
		if (pos_ >= s_.size())
			return std::nullopt;

		Json v;
		char c = s_[pos_];
		if (c == '{') {
			pos_++;
			v.type = Json::Type::Object;
			if (eat('}'))
				return v;
			do {
				std::optional<std::string> key = string();
				if (!key || !eat(':'))
					return std::nullopt;
				std::optional<Json> item = value();
				if (!item)
					return std::nullopt;
				v.object.emplace_back(*key, std::move(*item));
			} while (eat(','));
			if (!eat('}'))
				return std::nullopt;
		} else if (c == '[') {
			pos_++;
			v.type = Json::Type::Array;
			if (eat(']'))
				return v;
			do {
				std::optional<Json> item = value();
				if (!item)
					return std::nullopt;
				v.array.push_back(std::move(*item));
			} while (eat(','));
			if (!eat(']'))
				return std::nullopt;
		} else if (c == '"') {
			std::optional<std::string> str = string();
			if (!str)
				return std::nullopt;
			v.type = Json::Type::String;
			v.text = *str;
		} else if (literal("true")) {
			v.type = Json::Type::Bool;
			v.boolean = true;
		} else if (literal("false")) {
			v.type = Json::Type::Bool;
		} else if (literal("null")) {
			v.type = Json::Type::Null;
		} else {
			size_t start = pos_;
			if (s_[pos_] == '-')
				pos_++;
			if (!digits())
				return std::nullopt;
			/* JsonWriter's doubles (fragmentation, ratios) have these. */
			if (pos_ < s_.size() && s_[pos_] == '.') {
				pos_++;
				if (!digits())
					return std::nullopt;
			}
			if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
				pos_++;
				if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-'))
					pos_++;
				if (!digits())
					return std::nullopt;
			}
			v.type = Json::Type::Number;
			v.text = std::string(s_.substr(start, pos_ - start));
		}
		return v;
	}

	/* Skips a run of digits; false if there was none. */
	bool digits()
	{
		size_t start = pos_;
		while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_])))
			pos_++;
		return pos_ > start;
	}

	std::string_view s_;
	size_t pos_ = 0;
};

inline std::optional<Json> parseJson(std::string_view s)
{
	return JsonParser(s).parse();
}

/* The value at path, a null one if a member on the way is missing. */
inline const Json &jsonAt(const Json &json, std::initializer_list<const char *> path)
{
	static const Json missing;
	const Json *value = &json;
	for (const char *key : path) {
		value = value->type == Json::Type::Object ? value->get(key) : nullptr;
		if (!value)
			return missing;
	}
	return *value;
}

inline std::optional<uint64_t> jsonNumber(const Json &json,
					  std::initializer_list<const char *> path)
{
	const Json &value = jsonAt(json, path);
	if (value.type != Json::Type::Number)
		return std::nullopt;
	return value.u64();
}

inline std::optional<std::string> jsonString(const Json &json,
					      std::initializer_list<const char *> path)
{
	const Json &value = jsonAt(json, path);
	if (value.type != Json::Type::String)
		return std::nullopt;
	return value.text;
}

} /* namespace bufmgr */
