/* SPDX-License-Identifier: MIT */
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

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
 *
 * Like std::expected, a tagged union rather than a std::variant: moving
 * one is a branch and T's move, which matters for buffers returned on
 * every allocation.
 */
template<typename T>
class [[nodiscard]] Result
{
public:
	using value_type = T;
	using error_type = Error;

	Result() requires std::is_default_constructible_v<T> : value_(), hasValue_(true) {}
	template<typename U = T>
		requires std::is_constructible_v<T, U &&> &&
			 (!std::is_same_v<std::remove_cvref_t<U>, Result>) &&
			 (!std::is_same_v<std::remove_cvref_t<U>, Unexpected<Error>>)
	Result(U &&value) : value_(std::forward<U>(value)), hasValue_(true) {}
	Result(Unexpected<Error> e) : error_(std::move(e).error()), hasValue_(false) {}
	template<typename... Args>
	explicit Result(std::in_place_t, Args &&...args)
		: value_(std::forward<Args>(args)...), hasValue_(true) {}

	Result(const Result &other) requires std::is_copy_constructible_v<T>
		: hasValue_(other.hasValue_)
	{
		if (hasValue_)
			std::construct_at(&value_, other.value_);
		else
			std::construct_at(&error_, other.error_);
	}
	Result(Result &&other) noexcept(std::is_nothrow_move_constructible_v<T>)
		requires std::is_move_constructible_v<T>
		: hasValue_(other.hasValue_)
	{
		if (hasValue_)
			std::construct_at(&value_, std::move(other.value_));
		else
			std::construct_at(&error_, std::move(other.error_));
	}
	Result &operator=(const Result &other) requires std::is_copy_constructible_v<T>
	{
		if (this != &other) {
			Result copy(other);
			*this = std::move(copy);
		}
		return *this;
	}
	Result &operator=(Result &&other) noexcept(std::is_nothrow_move_constructible_v<T>)
		requires std::is_move_constructible_v<T>
	{
		if (this != &other) {
			destroy();
			hasValue_ = other.hasValue_;
			if (hasValue_)
				std::construct_at(&value_, std::move(other.value_));
			else
				std::construct_at(&error_, std::move(other.error_));
		}
		return *this;
	}
	~Result() { destroy(); }

	bool has_value() const { return hasValue_; }
	explicit operator bool() const { return has_value(); }

	T &value() & { assert(has_value()); return value_; }
	const T &value() const & { assert(has_value()); return value_; }
	T &&value() && { assert(has_value()); return std::move(value_); }

	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }
	T &&operator*() && { return std::move(*this).value(); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }

	const Error &error() const & { assert(!has_value()); return error_; }
	Error &&error() && { assert(!has_value()); return std::move(error_); }

	template<typename U>
	T value_or(U &&fallback) const &
	{
		return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
	}

private:
	void destroy()
	{
		if (hasValue_)
			std::destroy_at(&value_);
		else
			std::destroy_at(&error_);
	}

	union {
		T value_;
		Error error_;
	};
	bool hasValue_;
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
