/* SPDX-License-Identifier: MIT */
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace bufmgr {

/*
 * An errno value with the context a reader needs to act on it: which
 * operation, which heap or allocator, which size.
 */
struct Error {
	int code = 0;		/* errno value, positive */
	std::string context;	/* "alloc 8294400 B from dma-heap 'system'" */

	std::string message() const;	/* context + ": " + strerror(code) */
};

/* Builds an Error from errno-style code and a context string. */
Error makeError(int code, std::string context);

template<typename E>
class Unexpected
{
public:
	explicit Unexpected(E error) : error_(std::move(error)) {}
	E &error() & { return error_; }
	const E &error() const & { return error_; }
	E &&error() && { return std::move(error_); }

private:
	E error_;
};

inline Unexpected<Error> unexpected(Error error)
{
	return Unexpected<Error>(std::move(error));
}

inline Unexpected<Error> unexpected(int code, std::string context)
{
	return Unexpected<Error>(makeError(code, std::move(context)));
}

/*
 * The subset of C++23 std::expected<T, Error> that the project uses, so
 * that switching to the standard type later is a typedef.
 */
template<typename T>
class [[nodiscard]] Result
{
public:
	using value_type = T;
	using error_type = Error;

	Result() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
	template<typename U = T>
		requires std::is_constructible_v<T, U &&> &&
			 (!std::is_same_v<std::remove_cvref_t<U>, Result>) &&
			 (!std::is_same_v<std::remove_cvref_t<U>, Unexpected<Error>>)
	Result(U &&value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}
	Result(Unexpected<Error> e) : v_(std::in_place_index<1>, std::move(e).error()) {}

	bool has_value() const { return v_.index() == 0; }
	explicit operator bool() const { return has_value(); }

	T &value() & { assert(has_value()); return std::get<0>(v_); }
	const T &value() const & { assert(has_value()); return std::get<0>(v_); }
	T &&value() && { assert(has_value()); return std::move(std::get<0>(v_)); }

	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }
	T &&operator*() && { return std::move(*this).value(); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }

	const Error &error() const & { assert(!has_value()); return std::get<1>(v_); }
	Error &&error() && { assert(!has_value()); return std::move(std::get<1>(v_)); }

	template<typename U>
	T value_or(U &&fallback) const &
	{
		return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
	}

private:
	std::variant<T, Error> v_;
};

template<>
class [[nodiscard]] Result<void>
{
public:
	using value_type = void;
	using error_type = Error;

	Result() = default;
	Result(Unexpected<Error> e) : error_(std::move(e).error()) {}

	bool has_value() const { return !error_.has_value(); }
	explicit operator bool() const { return has_value(); }
	void value() const { assert(has_value()); }
	const Error &error() const & { assert(!has_value()); return *error_; }
	Error &&error() && { assert(!has_value()); return std::move(*error_); }

private:
	std::optional<Error> error_;
};

} /* namespace bufmgr */
