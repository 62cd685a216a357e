/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstddef>
#include <cstdint>

struct wl_interface;

namespace heapcomp::fuzz {

/*
 * How the fuzzer picks an integer argument, from its name or enum in the
 * protocol XML: libwayland's signatures only say "int".
 */
enum class Hint : uint8_t {
	None,
	Serial,		/* one the client saw in an event */
	Size,
	Stride,
	Offset,
	Coord,
	Fourcc,
	Modifier,
	Scale,
	Version,
	Fixed,
	Enum,
};

struct ArgHint {
	Hint hint;
	bool bitfield;
	const uint32_t *values;	/* Enum: the XML's entries */
	uint32_t numValues;
};

struct MessageHint {
	const char *name;
	bool destructor;
	/* One per signature argument (an untyped new_id is three). */
	const ArgHint *args;
	uint32_t numArgs;
};

/* One interface of the XML files, in their order; libwayland's table beside it. */
struct InterfaceHint {
	const char *name;
	const wl_interface *interface;
	const MessageHint *requests;
	uint32_t numRequests;
	const MessageHint *events;
	uint32_t numEvents;
};

/* Generated from the XML by gen_protocol_table.py. */
extern const InterfaceHint kInterfaces[];
extern const size_t kNumInterfaces;

} /* namespace heapcomp::fuzz */
