/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include <bufmgr/unique_fd.h>

namespace heapcomp::test {

/*
 * An input device made through /dev/uinput: to the kernel, udev and
 * libinput a keyboard, mouse or touch screen like any other. Gone with
 * the object.
 */
class UinputDevice
{
public:
	enum class Kind { Keyboard, Mouse, TouchScreen };
	/* The touch screen's axes run 0..kTouchMax. */
	static constexpr int32_t kTouchMax = 4095;

	UinputDevice(Kind kind, const std::string &name);
	~UinputDevice();
	UinputDevice(const UinputDevice &) = delete;
	UinputDevice &operator=(const UinputDevice &) = delete;

	bool ok() const { return created_; }
	const std::string &error() const { return error_; }
	const std::string &name() const { return name_; }

	void emit(uint16_t type, uint16_t code, int32_t value);
	/* Ends a group of events (SYN_REPORT): what libinput acts on. */
	void sync();

	void key(uint16_t code, bool pressed);
	/* Presses the keys in order, then lets go of them in reverse. */
	void chord(std::initializer_list<uint16_t> codes);
	void move(int32_t dx, int32_t dy);
	/* Wheel clicks, positive away from the user (up). */
	void wheel(int32_t clicks);
	/* Touch point in slot 0 at (x, y) in 0..kTouchMax; up lifts it. */
	void touchDown(int32_t x, int32_t y);
	void touchUp();

private:
	bool fail(const std::string &what);

	std::string name_;
	std::string error_;
	bufmgr::UniqueFd fd_;
	bool created_ = false;
	int32_t trackingId_ = 0;
};

} /* namespace heapcomp::test */
