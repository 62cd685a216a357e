/* SPDX-License-Identifier: MIT */
#include "wire_client.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wayland-util.h>

namespace heapcomp::fuzz {

namespace {

/* libwayland's own limits: ids it hands out, fds per message. */
constexpr uint32_t kServerIdStart = 0xff000000;
constexpr size_t kMaxFds = 28;
constexpr size_t kMaxSerials = 8;

constexpr uint32_t kDisplayId = 1;
constexpr uint16_t kDisplayError = 0;
constexpr uint16_t kDisplayDeleteId = 1;
constexpr uint16_t kDisplayGetRegistry = 1;
constexpr uint16_t kRegistryGlobal = 0;
constexpr uint16_t kRegistryGlobalRemove = 1;

size_t padded(size_t bytes)
{
	return (bytes + 3) / 4;
}

} /* namespace */

const InterfaceHint *findInterface(std::string_view name)
{
	for (size_t i = 0; i < kNumInterfaces; i++) {
		if (name == kInterfaces[i].name)
			return &kInterfaces[i];
	}
	return nullptr;
}

std::vector<SignatureArg> parseSignature(const char *signature)
{
	std::vector<SignatureArg> args;
	bool nullable = false;
	for (const char *c = signature; *c; c++) {
		if (*c == '?') {
			nullable = true;
		} else if (!(*c >= '0' && *c <= '9')) {
			args.push_back({ *c, nullable });
			nullable = false;
		}
	}
	return args;
}

void MessageWriter::putString(const std::string *value)
{
	if (!value) {
		words_.push_back(0);
		return;
	}
	/* The length counts the terminating NUL; the zeroed padding holds it. */
	size_t length = value->size() + 1;
	words_.push_back(uint32_t(length));
	size_t at = words_.size();
	words_.resize(at + padded(length), 0);
	memcpy(&words_[at], value->data(), value->size());
}

void MessageWriter::putArray(const std::vector<uint8_t> &bytes)
{
	words_.push_back(uint32_t(bytes.size()));
	size_t at = words_.size();
	words_.resize(at + padded(bytes.size()), 0);
	if (!bytes.empty())
		memcpy(&words_[at], bytes.data(), bytes.size());
}

WireClient::WireClient(bufmgr::UniqueFd socket)
	: socket_(std::move(socket))
{
	addObject(kDisplayId, findInterface("wl_display"), 1);
}

void WireClient::start()
{
	uint32_t id = allocateId();
	MessageWriter body;
	body.putUint(id);
	if (send(kDisplayId, kDisplayGetRegistry, body))
		addObject(id, findInterface("wl_registry"), 1);
}

uint32_t WireClient::allocateId()
{
	if (!freeIds_.empty()) {
		uint32_t id = freeIds_.back();
		freeIds_.pop_back();
		return id;
	}
	return nextId_++;
}

void WireClient::addObject(uint32_t id, const InterfaceHint *iface, uint32_t version)
{
	objects_[id] = Object{ id, iface, version, created_++ };
}

void WireClient::destroyObject(uint32_t id)
{
	auto it = objects_.find(id);
	if (it == objects_.end())
		return;
	/* The server sends no delete_id for the ids it made. */
	if (id >= kServerIdStart)
		objects_.erase(it);
	else
		it->second.destroyed = true;
}

const WireClient::Object *WireClient::object(uint32_t id) const
{
	auto it = objects_.find(id);
	return it == objects_.end() ? nullptr : &it->second;
}

std::vector<const WireClient::Object *> WireClient::live(const InterfaceHint *iface) const
{
	std::vector<const Object *> out;
	for (const auto &[id, object] : objects_) {
		if (!object.destroyed && object.iface && (!iface || object.iface == iface))
			out.push_back(&object);
	}
	std::sort(out.begin(), out.end(),
		  [](const Object *a, const Object *b) { return a->order > b->order; });
	return out;
}

std::vector<const InterfaceHint *> WireClient::liveInterfaces() const
{
	std::vector<const InterfaceHint *> out;
	for (const auto &[id, object] : objects_) {
		if (!object.destroyed && object.iface &&
		    std::find(out.begin(), out.end(), object.iface) == out.end())
			out.push_back(object.iface);
	}
	std::sort(out.begin(), out.end());
	return out;
}

bool WireClient::send(uint32_t id, uint16_t opcode, const MessageWriter &body,
		      const std::vector<int> &fds)
{
	if (broken_ || fds.size() > kMaxFds)
		return false;
	std::vector<uint32_t> words;
	words.reserve(body.words().size() + 2);
	size_t size = (body.words().size() + 2) * 4;
	words.push_back(id);
	words.push_back(uint32_t(size << 16) | opcode);
	words.insert(words.end(), body.words().begin(), body.words().end());

	iovec iov{ words.data(), size };
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
	if (!fds.empty()) {
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
		cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
		memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
	}
	ssize_t sent;
	do {
		sent = sendmsg(socket_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (sent < 0 && errno == EINTR);
	/* Short or refused: the server is gone or not reading; stop writing. */
	if (sent != ssize_t(size)) {
		broken_ = true;
		return false;
	}
	if (trace_) {
		const Object *target = object(id);
		const InterfaceHint *iface = target ? target->iface : nullptr;
		fprintf(stderr, "  -> %s@%u.%s", iface ? iface->name : "?", id,
			iface && opcode < iface->interface->method_count
				? iface->interface->methods[opcode].name : "?");
		for (uint32_t word : body.words())
			fprintf(stderr, " %d", int32_t(word));
		fprintf(stderr, "%s\n", fds.empty() ? "" : " +fd");
	}
	return true;
}

void WireClient::readEvents()
{
	for (;;) {
		uint8_t buffer[4096];
		alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
		iovec iov{ buffer, sizeof(buffer) };
		msghdr msg{};
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		ssize_t n = recvmsg(socket_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		/* The fds (keymaps, format tables, pipes) are not read: close them. */
		for (cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); n >= 0 && cmsg;
		     cmsg = CMSG_NXTHDR(&msg, cmsg)) {
			if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
				continue;
			size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < count; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
		if (n == 0)
			broken_ = true;
		if (n <= 0)
			break;
		in_.insert(in_.end(), buffer, buffer + n);
	}

	size_t at = 0;
	while (in_.size() - at >= 8) {
		uint32_t header[2];
		memcpy(header, &in_[at], sizeof(header));
		size_t size = header[1] >> 16;
		if (size < 8 || size % 4) {
			broken_ = true;
			in_.clear();
			return;
		}
		if (in_.size() - at < size)
			break;
		std::vector<uint32_t> words(size / 4);
		memcpy(words.data(), &in_[at], size);
		parseEvent(words.data(), words.size());
		at += size;
	}
	in_.erase(in_.begin(), in_.begin() + ptrdiff_t(at));
}

void WireClient::parseEvent(const uint32_t *words, size_t count)
{
	uint32_t id = words[0];
	uint16_t opcode = uint16_t(words[1] & 0xffff);
	const Object *target = object(id);
	if (!target || !target->iface)
		return;
	const InterfaceHint *iface = target->iface;
	uint32_t version = target->version;
	if (opcode >= iface->interface->event_count)
		return;

	const wl_message &message = iface->interface->events[opcode];
	if (trace_) {
		fprintf(stderr, "  <- %s@%u.%s", iface->name, id, message.name);
		for (size_t i = 2; i < count && i < 8; i++)
			fprintf(stderr, " %d", int32_t(words[i]));
		fprintf(stderr, "\n");
	}
	const MessageHint *hints = opcode < iface->numEvents ? &iface->events[opcode] : nullptr;
	std::vector<SignatureArg> args = parseSignature(message.signature);
	size_t at = 2;
	std::vector<uint32_t> values(args.size(), 0);
	std::vector<std::string> strings(args.size());
	for (size_t i = 0; i < args.size(); i++) {
		char type = args[i].type;
		if (type == 'h')
			continue;
		if (at >= count)
			return;
		uint32_t value = words[at++];
		values[i] = value;
		if (type == 's' || type == 'a') {
			size_t n = padded(value);
			if (n > count - at)
				return;
			if (type == 's' && value > 0)
				strings[i].assign(reinterpret_cast<const char *>(&words[at]), value - 1);
			at += n;
		} else if (type == 'n' && value != 0) {
			const wl_interface *made = message.types[i];
			addObject(value, made ? findInterface(made->name) : nullptr, version);
		} else if (hints && i < hints->numArgs && hints->args[i].hint == Hint::Serial) {
			serials_.push_front(value);
			if (serials_.size() > kMaxSerials)
				serials_.pop_back();
		}
	}

	const std::string_view name = iface->name;
	if (name == "wl_display" && opcode == kDisplayDeleteId) {
		auto it = objects_.find(values[0]);
		if (it != objects_.end() && values[0] < kServerIdStart) {
			objects_.erase(it);
			freeIds_.push_back(values[0]);
		}
	} else if (name == "wl_display" && opcode == kDisplayError) {
		broken_ = true;
	} else if (name == "wl_registry" && opcode == kRegistryGlobal) {
		globals_.push_back({ values[0], strings[1], values[2] });
	} else if (name == "wl_registry" && opcode == kRegistryGlobalRemove) {
		std::erase_if(globals_, [&](const Global &g) { return g.name == values[0]; });
	}
}

} /* namespace heapcomp::fuzz */
