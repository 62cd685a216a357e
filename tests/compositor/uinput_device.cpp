/* SPDX-License-Identifier: MIT */
#include "uinput_device.h"

#include <cerrno>
#include <cstdio>
#include <iterator>
#include <cstring>
#include <fcntl.h>
#include <linux/uinput.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace heapcomp::test {

UinputDevice::UinputDevice(Kind kind, const std::string &name) : name_(name)
{
	fd_ = bufmgr::UniqueFd(open("/dev/uinput", O_WRONLY | O_NONBLOCK | O_CLOEXEC));
	if (!fd_) {
		fail("opening /dev/uinput");
		return;
	}
	const int fd = fd_.get();
	auto set = [&](unsigned long request, int bit) {
		return ioctl(fd, request, bit) == 0 || fail("uinput bit " + std::to_string(bit));
	};
	bool ok = set(UI_SET_EVBIT, EV_SYN);
	switch (kind) {
	case Kind::Keyboard:
		/* Every key of a full keyboard: udev tags it a keyboard only then. */
		ok = ok && set(UI_SET_EVBIT, EV_KEY);
		for (int code = KEY_ESC; ok && code <= KEY_MICMUTE; code++)
			ok = set(UI_SET_KEYBIT, code);
		break;
	case Kind::Mouse:
		ok = ok && set(UI_SET_EVBIT, EV_KEY) && set(UI_SET_KEYBIT, BTN_LEFT) &&
		     set(UI_SET_KEYBIT, BTN_RIGHT) && set(UI_SET_KEYBIT, BTN_MIDDLE) &&
		     set(UI_SET_EVBIT, EV_REL) && set(UI_SET_RELBIT, REL_X) &&
		     set(UI_SET_RELBIT, REL_Y) && set(UI_SET_RELBIT, REL_WHEEL);
		break;
	case Kind::TouchScreen:
		ok = ok && set(UI_SET_EVBIT, EV_KEY) && set(UI_SET_KEYBIT, BTN_TOUCH) &&
		     set(UI_SET_EVBIT, EV_ABS) && set(UI_SET_PROPBIT, INPUT_PROP_DIRECT);
		for (int code : { ABS_X, ABS_Y, ABS_MT_SLOT, ABS_MT_POSITION_X, ABS_MT_POSITION_Y,
				  ABS_MT_TRACKING_ID }) {
			if (!ok || !set(UI_SET_ABSBIT, code))
				break;
			uinput_abs_setup abs = {};
			abs.code = uint16_t(code);
			abs.absinfo.maximum = code == ABS_MT_SLOT ? 9
					      : code == ABS_MT_TRACKING_ID ? 65535
									   : kTouchMax;
			/* 10 units per mm: a 41 cm screen, as libinput wants a size. */
			if (code != ABS_MT_SLOT && code != ABS_MT_TRACKING_ID)
				abs.absinfo.resolution = 10;
			ok = ioctl(fd, UI_ABS_SETUP, &abs) == 0 || fail("UI_ABS_SETUP");
		}
		break;
	}
	if (!ok)
		return;
	uinput_setup setup = {};
	setup.id.bustype = BUS_VIRTUAL;
	setup.id.vendor = 0x1d6b;
	setup.id.product = uint16_t(0x100 + int(kind));
	snprintf(setup.name, sizeof(setup.name), "%s", name.c_str());
	if (ioctl(fd, UI_DEV_SETUP, &setup) < 0 || ioctl(fd, UI_DEV_CREATE) < 0) {
		fail("creating the device");
		return;
	}
	created_ = true;
}

UinputDevice::~UinputDevice()
{
	if (created_)
		ioctl(fd_.get(), UI_DEV_DESTROY);
}

bool UinputDevice::fail(const std::string &what)
{
	if (error_.empty())
		error_ = name_ + ": " + what + ": " + strerror(errno);
	return false;
}

void UinputDevice::emit(uint16_t type, uint16_t code, int32_t value)
{
	input_event event = {};
	event.type = type;
	event.code = code;
	event.value = value;
	if (write(fd_.get(), &event, sizeof(event)) != ssize_t(sizeof(event)))
		fail("write");
}

void UinputDevice::sync()
{
	emit(EV_SYN, SYN_REPORT, 0);
}

void UinputDevice::key(uint16_t code, bool pressed)
{
	emit(EV_KEY, code, pressed ? 1 : 0);
	sync();
}

void UinputDevice::chord(std::initializer_list<uint16_t> codes)
{
	for (uint16_t code : codes)
		key(code, true);
	for (auto it = std::rbegin(codes); it != std::rend(codes); ++it)
		key(*it, false);
}

void UinputDevice::move(int32_t dx, int32_t dy)
{
	if (dx)
		emit(EV_REL, REL_X, dx);
	if (dy)
		emit(EV_REL, REL_Y, dy);
	sync();
}

void UinputDevice::wheel(int32_t clicks)
{
	emit(EV_REL, REL_WHEEL, clicks);
	sync();
}

void UinputDevice::touchDown(int32_t x, int32_t y)
{
	emit(EV_ABS, ABS_MT_SLOT, 0);
	emit(EV_ABS, ABS_MT_TRACKING_ID, ++trackingId_);
	emit(EV_ABS, ABS_MT_POSITION_X, x);
	emit(EV_ABS, ABS_MT_POSITION_Y, y);
	emit(EV_KEY, BTN_TOUCH, 1);
	emit(EV_ABS, ABS_X, x);
	emit(EV_ABS, ABS_Y, y);
	sync();
}

void UinputDevice::touchUp()
{
	emit(EV_ABS, ABS_MT_SLOT, 0);
	emit(EV_ABS, ABS_MT_TRACKING_ID, -1);
	emit(EV_KEY, BTN_TOUCH, 0);
	sync();
}

} /* namespace heapcomp::test */
