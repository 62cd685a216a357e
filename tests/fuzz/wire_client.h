/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <bufmgr/unique_fd.h>

#include "protocol_table.h"

namespace heapcomp::fuzz {

/* The InterfaceHint of a libwayland interface, by name; null if not in the table. */
const InterfaceHint *findInterface(std::string_view name);

/* One argument of a libwayland signature ("2?o" is since 2, nullable object). */
struct SignatureArg {
	char type;
	bool nullable;
};
std::vector<SignatureArg> parseSignature(const char *signature);

/* One message's body in wire format; the header is added when sent. */
class MessageWriter
{
public:
	void putUint(uint32_t value) { words_.push_back(value); }
	void putInt(int32_t value) { words_.push_back(uint32_t(value)); }
	/* Null only for nullable strings. */
	void putString(const std::string *value);
	void putArray(const std::vector<uint8_t> &bytes);

	const std::vector<uint32_t> &words() const { return words_; }

private:
	std::vector<uint32_t> words_;
};

/*
 * A Wayland client without libwayland-client: it writes requests in
 * wire format on its end of a socketpair and reads the server's events
 * back, only as far as it needs to know which objects live (delete_id,
 * objects the server creates), which globals exist and which serials
 * it was sent.
 */
class WireClient
{
public:
	struct Object {
		uint32_t id;
		const InterfaceHint *iface;
		uint32_t version;
		uint64_t order;	/* of creation: ids are reused */
		/* A destructor was sent; the id is free once delete_id comes. */
		bool destroyed = false;
	};
	struct Global {
		uint32_t name;
		std::string interface;
		uint32_t version;
	};

	explicit WireClient(bufmgr::UniqueFd socket);

	/* Sends wl_display.get_registry; the globals arrive with readEvents(). */
	void start();

	/* A new id as libwayland-client picks one: the last freed, or the next. */
	uint32_t allocateId();
	void addObject(uint32_t id, const InterfaceHint *iface, uint32_t version);
	/* After a destructor request. */
	void destroyObject(uint32_t id);
	const Object *object(uint32_t id) const;
	/* Live objects of the interface (any if null), newest first. */
	std::vector<const Object *> live(const InterfaceHint *iface) const;
	/* The interfaces with live objects, in table order. */
	std::vector<const InterfaceHint *> liveInterfaces() const;

	/* The fds are borrowed: the kernel passes copies. */
	bool send(uint32_t id, uint16_t opcode, const MessageWriter &body,
		  const std::vector<int> &fds = {});
	/* Gives back an id allocated for a request that was not sent. */
	void releaseId(uint32_t id) { freeIds_.push_back(id); }
	/* Reads and parses every event waiting; closes the fds that came with them. */
	void readEvents();

	const std::vector<Global> &globals() const { return globals_; }
	/* Newest first, at most a few. */
	const std::deque<uint32_t> &serials() const { return serials_; }
	/* Prints every request and event to stderr, for reading what an input does. */
	void setTrace(bool trace) { trace_ = trace; }

	/* The server sent wl_display.error or hung up. */
	bool broken() const { return broken_; }

private:
	void parseEvent(const uint32_t *words, size_t count);

	bufmgr::UniqueFd socket_;
	std::map<uint32_t, Object> objects_;
	std::vector<uint32_t> freeIds_;
	uint32_t nextId_ = 2;
	uint64_t created_ = 0;
	std::vector<Global> globals_;
	std::deque<uint32_t> serials_;
	std::vector<uint8_t> in_;
	bool broken_ = false;
	bool trace_ = false;
};

} /* namespace heapcomp::fuzz */
