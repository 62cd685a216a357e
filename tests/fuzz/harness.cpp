/* SPDX-License-Identifier: MIT */
/*
 * The libFuzzer target: one heapcomp server per process (headless, pixman,
 * frames only when an input asks), and per input a program of typed
 * steps: bind a global, send a request to a live object with arguments
 * made from its signature and the XML's hints, draw a frame, move the
 * pointer, press a button or key, touch, connect or drop a client, plug
 * a display in or out. After the input every client goes and the server
 * must be back where it was: no client, view or client buffer left, no fd
 * more than before.
 *
 * Encoding (bytes are read from the front; the input ends the program):
 *   00-9f  request      iface obj opcode args...
 *   a0-af  bind         iface version
 *   b0-b7  frame        (odd: damage everything first)
 *   b8-bf  pointer motion  target
 *   c0-c7  pointer button  button (odd: press)
 *   c8-cb  pointer axis    value (odd: horizontal)
 *   cc-d3  key             key (odd: press)
 *   d4-db  touch           what id [target]
 *   dc-df  client          what [which]
 *   e0-e7  shrink an fd of the pool   which
 *   e8-eb  output: even plugs a display in (up to 3 outputs), odd
 *          unplugs one but the first   which
 *   ec-ef  nothing (the events are read after every step anyway)
 *   f0-ff  request, any object type and opcode (protocol errors)
 * iface < c0 is the table index modulo its size, skipped when nothing of
 * it is alive; c0 and above pick among the live interfaces. Objects are
 * picked newest first. Integer arguments take a selector byte: f0 and
 * above is followed by the raw 4 bytes, below picks from the hint's
 * values (serials the client saw, newest first; sizes; enum entries...).
 *
 * HEAPCOMP_FUZZ_TRACE=1 prints each step, request and event;
 * HEAPCOMP_FUZZ_LOG=1 keeps the compositor's log.
 */
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <linux/udmabuf.h>
#include <memory>
#include <set>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <wayland-server-core.h>

#include <bufmgr/heap.h>

#include "log.h"
#include "render/pixman_renderer.h"
#include "server.h"
#include "surface.h"
#include "wire_client.h"

namespace heapcomp::fuzz {

namespace {

constexpr uint32_t kOutputWidth = 160;
constexpr uint32_t kOutputHeight = 120;
constexpr uint32_t kOutputBytes = kOutputWidth * kOutputHeight * 4;
constexpr size_t kMaxClients = 3;
constexpr size_t kMaxSteps = 1024;

constexpr uint32_t fourcc(char a, char b, char c, char d)
{
	return uint32_t(a) | uint32_t(b) << 8 | uint32_t(c) << 16 | uint32_t(d) << 24;
}

/* Values worth trying for each kind of integer: edges, and what gets deep. */
const std::vector<uint32_t> kPlain = { 0, 1, 2, 3, 4, 5, 8, 16, 255, 256, 4096, 65535,
	0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff, 0x10000 };
const std::vector<uint32_t> kSize = { 0, 1, 2, 8, 16, 32, 64, 100, kOutputHeight, 128,
	kOutputWidth, 200, 240, 256, 320, 1024, 4096, 16384, 16385, kOutputBytes, 65536,
	1u << 20, 0xffffffff, uint32_t(-16), 0x7fffffff, 0x80000000, 0x40000000 };
const std::vector<uint32_t> kStride = { 0, 4, 8, 64, 256, 512, kOutputWidth * 4, 1024, 4096,
	65536, uint32_t(-4), 0x7ffffffc, 0x40000000 };
const std::vector<uint32_t> kOffset = { 0, 4, 16, 4096, 65536, kOutputBytes, 1u << 20,
	uint32_t(-4), 0x7fffffff, 0x40000000 };
const std::vector<uint32_t> kCoord = { 0, 1, 2, 5, 10, 20, 50, 80, 100, 150, uint32_t(-1),
	uint32_t(-5), uint32_t(-50), uint32_t(-1000), 32767, uint32_t(-32768), 0x7fffffff,
	0x80000000 };
const std::vector<uint32_t> kFourcc = { fourcc('X', 'R', '2', '4'), fourcc('A', 'R', '2', '4'),
	fourcc('X', 'B', '2', '4'), fourcc('A', 'B', '2', '4'), fourcc('R', 'G', '1', '6'),
	fourcc('N', 'V', '1', '2'), fourcc('R', '8', ' ', ' '), 0, 1, 0xffffffff };
const std::vector<uint32_t> kModifier = { 0, 0, 0, 0xffffffff, 0x00ffffff, 1, 0x01000000 };
const std::vector<uint32_t> kScale = { 1, 2, 3, 0, uint32_t(-1), 0x7fffffff, 120 };
const std::vector<uint32_t> kVersion = { 1, 2, 3, 4, 5, 6, 0, 0xffffffff };
/* wl_fixed_t: 24.8; -1.0 unsets a viewport. */
const std::vector<uint32_t> kFixed = { 0, 256, 128, uint32_t(-256), 2560, 25600,
	kOutputWidth * 256, kOutputHeight * 256, uint32_t(-1), 1, 0x7fffffff, 0x80000000 };

const std::vector<std::string> kStrings = {
	"text/plain",
	"text/plain;charset=utf-8",
	"text/uri-list",
	"UTF8_STRING",
	"application/x-heapcomp-fuzz",
	"",
	"a",
	"heapcomp fuzz",
	"org.heapcomp.Fuzz",
	"wl_compositor",
	"\xff\xfe invalid utf-8 \xc0",
	std::string(300, 'x'),
};

const uint32_t kButtons[] = { BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE };
const uint32_t kKeys[] = { KEY_A, KEY_ESC, KEY_LEFTSHIFT, KEY_LEFTCTRL, KEY_LEFTALT,
	KEY_TAB, KEY_ENTER, KEY_SPACE, KEY_LEFTMETA, KEY_F1, KEY_CAPSLOCK, KEY_NUMLOCK };
const double kAxis[] = { 10, -10, 1, -1, 120, 0 };

int countOpenFds()
{
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	int n = 0;
	while (dirent *entry = readdir(dir)) {
		if (entry->d_name[0] != '.')
			n++;
	}
	closedir(dir);
	return n - 1;
}

/* What each open fd is, for the report of a leak. */
void listOpenFds()
{
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return;
	while (dirent *entry = readdir(dir)) {
		if (entry->d_name[0] == '.')
			continue;
		char target[256] = {};
		std::string link = std::string("/proc/self/fd/") + entry->d_name;
		if (readlink(link.c_str(), target, sizeof(target) - 1) < 0)
			continue;
		fprintf(stderr, "  fd %s: %s\n", entry->d_name, target);
	}
	closedir(dir);
}

[[noreturn]] void fail(const char *format, int a = 0, int b = 0)
{
	fprintf(stderr, "heapcomp-fuzz: ");
	fprintf(stderr, format, a, b);
	fprintf(stderr, "\n");
	abort();
}

/* Notes a press or release in what is held (for teardown to release); returns press. */
bool held(std::set<uint32_t> &codes, uint32_t code, bool press)
{
	if (press)
		codes.insert(code);
	else
		codes.erase(code);
	return press;
}

uint32_t sinceOf(const wl_message &message)
{
	uint32_t since = 0;
	for (const char *c = message.signature; *c >= '0' && *c <= '9'; c++)
		since = since * 10 + uint32_t(*c - '0');
	return since ? since : 1;
}

/* The input, read from the front; zeros once it is used up. */
class Reader
{
public:
	Reader(const uint8_t *data, size_t size) : at_(data), end_(data + size) {}

	bool atEnd() const { return at_ >= end_; }
	uint8_t byte() { return at_ < end_ ? *at_++ : 0; }
	uint32_t u32()
	{
		uint32_t value = 0;
		for (int i = 0; i < 4; i++)
			value |= uint32_t(byte()) << (8 * i);
		return value;
	}
	std::string string(size_t length)
	{
		std::string out;
		while (length-- && !atEnd())
			out.push_back(char(byte()));
		return out;
	}

private:
	const uint8_t *at_;
	const uint8_t *end_;
};

/* What each input can send as an fd: memfds of a few sizes and a few oddities. */
class FdPool
{
public:
	FdPool()
	{
		for (uint32_t size : { 4096u, kOutputBytes, 1u << 20, 0u })
			add(memfd(size, false));
		add(memfd(kOutputBytes, true));
		add(bufmgr::UniqueFd(open("/dev/null", O_RDWR | O_CLOEXEC)));
		add(udmabuf());
	}

	const std::vector<bufmgr::UniqueFd> &fds() const { return fds_; }
	int pick(uint8_t selector) const { return fds_[selector % fds_.size()].get(); }
	/* A client that truncates the file under its pool. */
	void shrink(uint8_t selector)
	{
		int fd = pick(selector);
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			(void)!ftruncate(fd, st.st_size / 2);
	}

private:
	void add(bufmgr::UniqueFd fd)
	{
		if (fd)
			fds_.push_back(std::move(fd));
	}

	static bufmgr::UniqueFd memfd(uint32_t size, bool sealed)
	{
		bufmgr::UniqueFd fd(memfd_create("heapcomp-fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING));
		if (!fd || ftruncate(fd.get(), size) < 0)
			return {};
		if (sealed)
			fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
		return fd;
	}

	/* A real dma-buf where the kernel has udmabuf (the test VM's has). */
	static bufmgr::UniqueFd udmabuf()
	{
		bufmgr::UniqueFd dev(open("/dev/udmabuf", O_RDWR | O_CLOEXEC));
		if (!dev)
			return {};
		bufmgr::UniqueFd mem(memfd_create("heapcomp-fuzz-udmabuf",
						  MFD_CLOEXEC | MFD_ALLOW_SEALING));
		if (!mem || ftruncate(mem.get(), kOutputBytes) < 0 ||
		    fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SHRINK) < 0)
			return {};
		udmabuf_create create{};
		create.memfd = uint32_t(mem.get());
		create.flags = UDMABUF_FLAGS_CLOEXEC;
		create.offset = 0;
		create.size = kOutputBytes;
		return bufmgr::UniqueFd(ioctl(dev.get(), UDMABUF_CREATE, &create));
	}

	std::vector<bufmgr::UniqueFd> fds_;
};

/* A request being made: its body, the fds it passes, the objects it creates. */
struct Outgoing {
	MessageWriter body;
	std::vector<int> fds;
	std::vector<std::pair<uint32_t, const wl_interface *>> made;
	/* wl_registry.bind's version argument: the new object's version. */
	uint32_t boundVersion = 0;
};

/* One client: our end of its socket, and the server's wl_client while it lives. */
struct Connection {
	std::unique_ptr<WireClient> wire;
	wl_client *client = nullptr;
	comp::Listener destroyed;
};

class Fixture
{
public:
	static Fixture &get();

	void run(const uint8_t *data, size_t size);

private:
	Fixture();

	static bufmgr::SystemPaths fixtureHeaps();
	/* Runs what is ready, sends the events, reads them on the client side. */
	void pump();
	Connection *connect();
	void teardown();
	void check(int fdsBefore);

	void step(Reader &in);
	void request(Reader &in, bool chaos);
	void bind(Reader &in);
	/* False when an argument cannot be made (no live object of its type). */
	bool arguments(Reader &in, WireClient &wire, const wl_message &message,
		       const MessageHint *hints, bool chaos, Outgoing &out);
	/* hint: the XML's, for enums; may be null. */
	uint32_t integer(Reader &in, const WireClient &wire, Hint kind, const ArgHint *hint);
	void target(Reader &in, double *x, double *y);
	void frame(bool damage);
	void touch(Reader &in);
	void client(Reader &in);
	void output(Reader &in, bool plug);
	void resize(Reader &in);

	std::unique_ptr<comp::Server> server_;
	comp::HeadlessBackend *headless_ = nullptr;
	/* The output buffers are made: from here on an input must not add fds. */
	bool warm_ = false;
	bool trace_ = getenv("HEAPCOMP_FUZZ_TRACE") != nullptr;

	/* Per input. */
	std::vector<std::unique_ptr<Connection>> connections_;
	Connection *current_ = nullptr;
	std::unique_ptr<FdPool> pool_;
	std::set<uint32_t> buttons_;
	std::set<uint32_t> keys_;
	std::set<int32_t> touches_;
	/* Outputs came or went: the first stays, the others go at teardown. */
	bool outputsChanged_ = false;
};

Fixture &Fixture::get()
{
	static Fixture *fixture = new Fixture();
	return *fixture;
}

Fixture::Fixture()
{
	/* The server listens on a socket too, though no one connects to it. */
	const char *dir = getenv("XDG_RUNTIME_DIR");
	if (!dir || access(dir, W_OK) != 0) {
		static char path[] = "/tmp/heapcomp-fuzz-XXXXXX";
		if (!mkdtemp(path))
			fail("mkdtemp: %d", errno);
		setenv("XDG_RUNTIME_DIR", path, 1);
	}
	if (!getenv("HEAPCOMP_FUZZ_LOG") && !trace_)
		comp::setLogSink([](comp::LogLevel, std::string_view) {});

	comp::ServerConfig config;
	config.bufferManager.paths = fixtureHeaps();
	config.socketName = "heapcomp-fuzz-" + std::to_string(getpid());
	config.headless.width = kOutputWidth;
	config.headless.height = kOutputHeight;
	config.headless.touch = true;
	config.headless.frameClock = comp::FrameClock::Manual;
	config.createRenderer = [](bufmgr::BufferManager &) { return comp::createPixmanRenderer(); };
	/* No timers: an input's outcome must not depend on how fast it ran. */
	config.scanoutHysteresis = std::chrono::milliseconds(0);
	auto server = comp::Server::create(std::move(config));
	if (!server) {
		fprintf(stderr, "heapcomp-fuzz: %s\n", server.error().message().c_str());
		abort();
	}
	server_ = std::move(*server);
	headless_ = server_->headlessBackend();

	/* Output buffers are made on first use: make them before counting fds. */
	for (int i = 0; i < 4; i++)
		frame(true);
	static const uint8_t warmup[] = { 0xdc, 0x00 };
	run(warmup, sizeof(warmup));
	warm_ = true;
}

/*
 * Heaps for heapcomp_heaps_v1 to list: system, the default CMA area and
 * its legacy alias, as plain files. Their allocations fail (the ioctl is
 * not a heap's), so requests reach every check and the failure paths;
 * the real kernel's heaps are the VM tests' business.
 */
bufmgr::SystemPaths Fixture::fixtureHeaps()
{
	static char root[] = "/tmp/heapcomp-fuzz-heaps-XXXXXX";
	if (!mkdtemp(root))
		fail("mkdtemp: %d", errno);
	std::string base = root;
	auto put = [&](const std::string &path, const char *text) {
		std::string dir = base;
		for (size_t slash = path.find('/'); slash != std::string::npos;
		     slash = path.find('/', slash + 1)) {
			dir = base + "/" + path.substr(0, slash);
			mkdir(dir.c_str(), 0755);
		}
		FILE *file = fopen((base + "/" + path).c_str(), "we");
		if (!file)
			fail("fixture file: %d", errno);
		fputs(text, file);
		fclose(file);
	};
	for (const char *heap : { "system", "default_cma_region", "reserved" })
		put(std::string("dev/dma_heap/") + heap, "");
	put("sys/kernel/mm/cma/reserved/total_pages", "4096\n");
	put("sys/kernel/mm/cma/reserved/available_pages", "1024\n");
	bufmgr::SystemPaths paths;
	paths.dmaHeapDir = base + "/dev/dma_heap";
	paths.cmaSysfsDir = base + "/sys/kernel/mm/cma";
	paths.cmaDebugfsDir = base + "/sys/kernel/debug/cma";
	return paths;
}

void Fixture::pump()
{
	for (int i = 0; i < 3; i++)
		wl_event_loop_dispatch(server_->loop(), 0);
	wl_display_flush_clients(server_->display());
	for (auto &connection : connections_) {
		if (connection->wire)
			connection->wire->readEvents();
	}
}

Connection *Fixture::connect()
{
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		fail("socketpair: %d", errno);
	auto connection = std::make_unique<Connection>();
	connection->wire = std::make_unique<WireClient>(bufmgr::UniqueFd(fds[1]));
	/* The server owns fds[0] from here, also when this fails. */
	connection->client = wl_client_create(server_->display(), fds[0]);
	if (!connection->client)
		fail("wl_client_create: %d", errno);
	Connection *raw = connection.get();
	raw->destroyed.connectClientDestroy(raw->client, [raw](void *) { raw->client = nullptr; });
	connections_.push_back(std::move(connection));
	raw->wire->setTrace(trace_);
	raw->wire->start();
	pump();
	return raw;
}

void Fixture::frame(bool damage)
{
	if (damage)
		server_->damageAll();
	server_->scheduleRepaint();
	headless_->stepFrames();
}

void Fixture::run(const uint8_t *data, size_t size)
{
	/* Before each input: libFuzzer opens fds of its own between inputs (symbolizer pipes). */
	int fdsBefore = countOpenFds();
	pool_ = std::make_unique<FdPool>();
	Reader in(data, size);
	for (size_t i = 0; i < kMaxSteps && !in.atEnd(); i++) {
		step(in);
		pump();
	}
	teardown();
	check(fdsBefore);
}

void Fixture::step(Reader &in)
{
	uint8_t op = in.byte();
	if (trace_)
		fprintf(stderr, "step %02x\n", op);
	if (op < 0xa0) {
		request(in, false);
	} else if (op < 0xb0) {
		bind(in);
	} else if (op < 0xb8) {
		frame(op & 1);
	} else if (op < 0xc0) {
		double x, y;
		target(in, &x, &y);
		headless_->injectPointerMotion(x, y);
	} else if (op < 0xc8) {
		uint32_t button = kButtons[in.byte() % std::size(kButtons)];
		headless_->injectPointerButton(button, held(buttons_, button, op & 1));
	} else if (op < 0xcc) {
		/* Any source, half and whole wheel clicks, and the 0 that ends a finger's scroll. */
		const uint8_t how = in.byte();
		comp::PointerAxis axis;
		axis.horizontal = op & 1;
		axis.value = kAxis[how % std::size(kAxis)];
		axis.source = comp::PointerAxis::Source((how >> 3) & 3);
		axis.value120 = (how >> 5) % 3 * 60 * (axis.value < 0 ? -1 : 1);
		headless_->injectPointerAxis(axis);
	} else if (op < 0xd4) {
		uint32_t key = kKeys[in.byte() % std::size(kKeys)];
		headless_->injectKey(key, held(keys_, key, op & 1));
	} else if (op < 0xdc) {
		touch(in);
	} else if (op < 0xe0) {
		client(in);
	} else if (op < 0xe8) {
		pool_->shrink(in.byte());
	} else if (op < 0xec) {
		output(in, !(op & 1));
	} else if (op < 0xf0) {
		resize(in);
	} else {
		request(in, true);
	}
}

void Fixture::target(Reader &in, double *x, double *y)
{
	uint8_t which = in.byte();
	uint8_t where = in.byte();
	const auto &views = server_->views();
	if (which < 0xc0 && !views.empty()) {
		/* On, or just beside, a view: where focus, grabs and borders are. */
		const comp::View *view = views[which % views.size()];
		double w = view->surface()->width();
		double h = view->surface()->height();
		double points[][2] = { { 1, 1 }, { w / 2, h / 2 }, { w - 1, h - 1 },
				       { -2, h / 2 }, { w / 2, -2 }, { w + 2, h + 2 } };
		const double *point = points[where % std::size(points)];
		*x = view->x() + point[0];
		*y = view->y() + point[1];
		return;
	}
	*x = double(which % 0x40) * (kOutputWidth + 16) / 0x40 - 8;
	*y = double(where) * (kOutputHeight + 16) / 0x100 - 8;
}

void Fixture::touch(Reader &in)
{
	uint8_t what = in.byte() % 7;
	int32_t id = in.byte() % 4;
	double x, y;
	switch (what) {
	case 0:
		target(in, &x, &y);
		touches_.insert(id);
		headless_->injectTouchDown(id, x, y);
		break;
	case 1:
		target(in, &x, &y);
		headless_->injectTouchMotion(id, x, y);
		break;
	case 2:
		touches_.erase(id);
		headless_->injectTouchUp(id);
		break;
	case 3:
		headless_->injectTouchFrame();
		break;
	case 4:
		touches_.clear();
		headless_->injectTouchCancel();
		break;
	case 5:
		headless_->injectTouchShape(id, in.byte(), in.byte());
		break;
	case 6:
		headless_->injectTouchOrientation(id, double(int8_t(in.byte())) * 3);
		break;
	}
}

void Fixture::output(Reader &in, bool plug)
{
	const uint8_t which = in.byte();
	const size_t count = server_->numOutputs();
	if (plug && count < 3) {
		if (!headless_->addOutput())
			fail("a headless output could not be added");
		outputsChanged_ = true;
	} else if (!plug && count > 1) {
		headless_->removeOutput(1 + which % (count - 1));
		outputsChanged_ = true;
	}
}

/* A display taking another size, as a resized nested window does: small, for speed. */
void Fixture::resize(Reader &in)
{
	const uint8_t which = in.byte();
	const uint32_t width = 16 + 2 * uint32_t(in.byte()), height = 16 + 2 * uint32_t(in.byte());
	if (!headless_->resizeOutput(which % server_->numOutputs(), width, height))
		fail("a headless output could not be resized");
	outputsChanged_ = true;
}

void Fixture::client(Reader &in)
{
	switch (in.byte() % 3) {
	case 0:
		if (connections_.size() < kMaxClients)
			current_ = connect();
		break;
	case 1: {
		uint8_t which = in.byte();
		if (!connections_.empty())
			current_ = connections_[which % connections_.size()].get();
		break;
	}
	case 2:
		/* Hangs up: the server notices on its next dispatch. */
		if (current_)
			current_->wire.reset();
		break;
	}
}

void Fixture::bind(Reader &in)
{
	uint8_t which = in.byte();
	uint8_t version = in.byte();
	if (!current_)
		current_ = connect();
	WireClient *wire = current_->wire.get();
	if (!wire || wire->globals().empty())
		return;
	const InterfaceHint *wanted = &kInterfaces[which % kNumInterfaces];
	const WireClient::Global *global = nullptr;
	for (const auto &g : wire->globals()) {
		if (g.interface == wanted->name) {
			global = &g;
			break;
		}
	}
	if (!global)
		global = &wire->globals()[which % wire->globals().size()];
	const InterfaceHint *iface = findInterface(global->interface);
	if (!iface)
		return;
	uint32_t max = std::min<uint32_t>(global->version, uint32_t(iface->interface->version));
	uint32_t chosen = version < 0x80 ? max : 1 + version % max;
	std::vector<const WireClient::Object *> registries = wire->live(findInterface("wl_registry"));
	if (registries.empty())
		return;

	uint32_t id = wire->allocateId();
	MessageWriter body;
	body.putUint(global->name);
	body.putString(&global->interface);
	body.putUint(chosen);
	body.putUint(id);
	if (wire->send(registries[0]->id, 0, body))
		wire->addObject(id, iface, chosen);
	else
		wire->releaseId(id);
}

void Fixture::request(Reader &in, bool chaos)
{
	uint8_t ifaceSelector = in.byte();
	uint8_t objectSelector = in.byte();
	uint8_t opcodeSelector = in.byte();
	if (!current_)
		current_ = connect();
	WireClient *wire = current_->wire.get();
	if (!wire)
		return;

	const InterfaceHint *iface = nullptr;
	if (ifaceSelector < 0xc0) {
		iface = &kInterfaces[ifaceSelector % kNumInterfaces];
	} else {
		auto live = wire->liveInterfaces();
		if (live.empty())
			return;
		iface = live[(ifaceSelector - 0xc0) % live.size()];
	}
	auto objects = wire->live(iface);
	if (objects.empty())
		return;
	const WireClient::Object target = *objects[objectSelector % objects.size()];
	const wl_interface *interface = target.iface->interface;
	if (interface->method_count == 0)
		return;

	/* Requests newer than the object's version are a protocol error. */
	std::vector<int> allowed;
	for (int i = 0; i < interface->method_count; i++) {
		if (chaos || sinceOf(interface->methods[i]) <= target.version)
			allowed.push_back(i);
	}
	if (allowed.empty())
		return;
	int opcode = allowed[opcodeSelector % allowed.size()];
	const wl_message &message = interface->methods[opcode];
	const MessageHint *hints = uint32_t(opcode) < target.iface->numRequests
		? &target.iface->requests[opcode] : nullptr;

	Outgoing out;
	bool ok = arguments(in, *wire, message, hints, chaos, out);
	if (!ok || !wire->send(target.id, uint16_t(opcode), out.body, out.fds)) {
		for (const auto &[id, type] : out.made)
			wire->releaseId(id);
		return;
	}
	for (const auto &[id, type] : out.made) {
		const InterfaceHint *child = type ? findInterface(type->name) : nullptr;
		uint32_t version = out.boundVersion ? out.boundVersion : target.version;
		if (type)
			version = std::min(version, uint32_t(type->version));
		wire->addObject(id, child, version);
	}
	if (hints && hints->destructor)
		wire->destroyObject(target.id);
}

bool Fixture::arguments(Reader &in, WireClient &wire, const wl_message &message,
			const MessageHint *hints, bool chaos, Outgoing &out)
{
	MessageWriter &body = out.body;
	std::vector<SignatureArg> args = parseSignature(message.signature);
	/* wl_registry.bind's untyped new_id: named by the string before it. */
	const wl_interface *named = nullptr;
	for (size_t i = 0; i < args.size(); i++) {
		const ArgHint *hint = hints && i < hints->numArgs ? &hints->args[i] : nullptr;
		switch (args[i].type) {
		case 'i':
		case 'u':
		case 'f': {
			uint32_t value = integer(in, wire, args[i].type == 'f' ? Hint::Fixed
						 : hint ? hint->hint : Hint::None, hint);
			if (hint && hint->hint == Hint::Version)
				out.boundVersion = value;
			body.putUint(value);
			break;
		}
		case 's': {
			uint8_t selector = in.byte();
			std::string value;
			if (selector == 0xff && args[i].nullable) {
				body.putString(nullptr);
				break;
			}
			if (selector < 0xc0)
				value = kStrings[selector % kStrings.size()];
			else if (selector < 0xff)
				value = in.string(in.byte() % 64);
			if (const InterfaceHint *known = findInterface(value))
				named = known->interface;
			body.putString(&value);
			break;
		}
		case 'o': {
			uint8_t selector = in.byte();
			if (selector == 0xff && args[i].nullable) {
				body.putUint(0);
				break;
			}
			const wl_interface *type = message.types[i];
			const InterfaceHint *wanted = type && !chaos ? findInterface(type->name) : nullptr;
			auto objects = wire.live(wanted);
			if (objects.empty() || (type && !chaos && !wanted)) {
				if (!args[i].nullable)
					return false;
				body.putUint(0);
				break;
			}
			body.putUint(objects[selector % objects.size()]->id);
			break;
		}
		case 'n': {
			uint32_t id = wire.allocateId();
			out.made.emplace_back(id, message.types[i] ? message.types[i] : named);
			body.putUint(id);
			break;
		}
		case 'a': {
			std::string bytes = in.string(in.byte() % 33);
			body.putArray(std::vector<uint8_t>(bytes.begin(), bytes.end()));
			break;
		}
		case 'h':
			out.fds.push_back(pool_->pick(in.byte()));
			break;
		default:
			return false;
		}
	}
	return true;
}

uint32_t Fixture::integer(Reader &in, const WireClient &wire, Hint kind, const ArgHint *hint)
{
	uint8_t selector = in.byte();
	if (selector >= 0xf0)
		return in.u32();
	const std::vector<uint32_t> *values = &kPlain;
	std::vector<uint32_t> local;
	switch (kind) {
	case Hint::Serial:
		local.assign(wire.serials().begin(), wire.serials().end());
		local.push_back(0);
		local.push_back(0xffffffff);
		values = &local;
		break;
	case Hint::Enum:
		if (!hint)
			break;
		local.assign(hint->values, hint->values + hint->numValues);
		if (hint->bitfield) {
			uint32_t all = 0;
			for (uint32_t v : local)
				all |= v;
			local.push_back(all);
			local.push_back(0);
		}
		values = &local;
		break;
	case Hint::Size: values = &kSize; break;
	case Hint::Stride: values = &kStride; break;
	case Hint::Offset: values = &kOffset; break;
	case Hint::Coord: values = &kCoord; break;
	case Hint::Fourcc: values = &kFourcc; break;
	case Hint::Modifier: values = &kModifier; break;
	case Hint::Scale: values = &kScale; break;
	case Hint::Version: values = &kVersion; break;
	case Hint::Fixed: values = &kFixed; break;
	case Hint::None: break;
	}
	if (values->empty())
		return selector;
	return (*values)[selector % values->size()];
}

void Fixture::teardown()
{
	for (auto &connection : connections_) {
		if (connection->client)
			wl_client_destroy(connection->client);
	}
	connections_.clear();
	current_ = nullptr;

	/* The seat as the next input expects it: nothing held, pointer at the origin. */
	for (uint32_t button : buttons_)
		headless_->injectPointerButton(button, false);
	for (uint32_t key : keys_)
		headless_->injectKey(key, false);
	if (!touches_.empty())
		headless_->injectTouchCancel();
	buttons_.clear();
	keys_.clear();
	touches_.clear();
	headless_->injectPointerMotion(0, 0);

	/* A frame or two lets the output drop the last client buffer it showed. */
	pump();
	/* The first output at its size again, drawn at it so its old buffers go. */
	if (outputsChanged_ && !headless_->resizeOutput(0, kOutputWidth, kOutputHeight))
		fail("the first output could not take its size back");
	frame(true);
	pump();
	frame(true);
	pump();
	pool_.reset();

	/* The first output alone, as the next input expects; the others' buffers freed. */
	if (outputsChanged_) {
		while (server_->numOutputs() > 1)
			headless_->removeOutput(server_->numOutputs() - 1);
		server_->bufferManager().pool().trim();
		outputsChanged_ = false;
	}
}

void Fixture::check(int fdsBefore)
{
	if (server_->numClients() != 0)
		fail("%d clients left after all were destroyed", int(server_->numClients()));
	if (!server_->views().empty())
		fail("%d views left after every client was destroyed", int(server_->views().size()));
	const auto &buffers = server_->clientBuffers();
	if (buffers.shm().buffers || buffers.dmaBuf().buffers)
		fail("client buffers left: %d shm, %d dma-buf", int(buffers.shm().buffers),
		     int(buffers.dmaBuf().buffers));
	if (warm_) {
		int fds = countOpenFds();
		if (fds > fdsBefore) {
			listOpenFds();
			fail("%d fds open after the input, %d before", fds, fdsBefore);
		}
	}
}

} /* namespace */

} /* namespace heapcomp::fuzz */

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	heapcomp::fuzz::Fixture::get();
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	heapcomp::fuzz::Fixture::get().run(data, size);
	return 0;
}
