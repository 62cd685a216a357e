// Smoke test of the test VM's kernel: every device heapcomp is tested against
// must be there and work, checked with raw ioctls rather than through bufmgr.
// Run it through scripts/vm/run; on a host without these devices it fails.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

constexpr const char *kHeapDir = "/dev/dma_heap";
constexpr const char *kCmaSysfsDir = "/sys/kernel/mm/cma";
constexpr const char *kCmaDebugfsDir = "/sys/kernel/debug/cma";

std::string errnoText()
{
	return std::strerror(errno);
}

class UniqueFd
{
public:
	UniqueFd() = default;
	explicit UniqueFd(int fd)
		: fd_(fd)
	{
	}
	UniqueFd(UniqueFd &&other) noexcept
		: fd_(other.release())
	{
	}
	UniqueFd &operator=(UniqueFd &&other) noexcept
	{
		reset(other.release());
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd() { reset(); }

	int get() const { return fd_; }
	bool isValid() const { return fd_ >= 0; }
	[[nodiscard]] int release() { return std::exchange(fd_, -1); }
	void reset(int fd = -1)
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

private:
	int fd_ = -1;
};

// A shared mapping of a whole buffer, viewed as 32-bit words.
class Mapping
{
public:
	Mapping(int fd, size_t size)
		: size_(size)
	{
		void *addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (addr != MAP_FAILED)
			addr_ = addr;
	}
	Mapping(const Mapping &) = delete;
	Mapping &operator=(const Mapping &) = delete;
	~Mapping()
	{
		if (addr_)
			::munmap(addr_, size_);
	}

	bool isValid() const { return addr_ != nullptr; }
	std::span<uint32_t> words() const
	{
		return { static_cast<uint32_t *>(addr_), size_ / sizeof(uint32_t) };
	}

private:
	void *addr_ = nullptr;
	size_t size_;
};

template<typename T, auto Free>
using DrmPtr = std::unique_ptr<T, std::integral_constant<decltype(Free), Free>>;

using DrmVersion = DrmPtr<drmVersion, drmFreeVersion>;
using DrmResources = DrmPtr<drmModeRes, drmModeFreeResources>;
using DrmConnector = DrmPtr<drmModeConnector, drmModeFreeConnector>;
using DrmEncoder = DrmPtr<drmModeEncoder, drmModeFreeEncoder>;
using DrmPlaneResources = DrmPtr<drmModePlaneRes, drmModeFreePlaneResources>;
using DrmPlane = DrmPtr<drmModePlane, drmModeFreePlane>;
using DrmBlob = DrmPtr<drmModePropertyBlobRes, drmModeFreePropertyBlob>;
using DrmAtomicReq = DrmPtr<drmModeAtomicReq, drmModeAtomicFree>;

int countOpenFds()
{
	int count = 0;
	for ([[maybe_unused]] const auto &entry : fs::directory_iterator("/proc/self/fd"))
		count++;
	return count;
}

std::vector<std::string> listDir(const std::string &path)
{
	std::vector<std::string> names;
	std::error_code ec;
	for (const auto &entry : fs::directory_iterator(path, ec))
		names.push_back(entry.path().filename());
	std::sort(names.begin(), names.end());
	return names;
}

bool contains(const std::vector<std::string> &names, const std::string &name)
{
	return std::find(names.begin(), names.end(), name) != names.end();
}

std::optional<uint64_t> readNumber(const std::string &path)
{
	std::ifstream in(path);
	uint64_t value;
	if (!(in >> value))
		return std::nullopt;
	return value;
}

// A "key:\tvalue" line of /proc/self/fdinfo/<fd>.
std::string fdinfoField(int fd, const std::string &key)
{
	std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
	std::string line;
	while (std::getline(in, line)) {
		if (line.rfind(key + ":", 0) != 0)
			continue;
		std::string value = line.substr(key.size() + 1);
		value.erase(0, value.find_first_not_of(" \t"));
		return value;
	}
	return {};
}

UniqueFd allocateFromHeap(const std::string &heap, size_t size)
{
	UniqueFd heapFd(::open((std::string(kHeapDir) + "/" + heap).c_str(), O_RDONLY | O_CLOEXEC));
	if (!heapFd.isValid())
		return {};

	dma_heap_allocation_data data = {};
	data.len = size;
	data.fd_flags = O_RDWR | O_CLOEXEC;
	if (::ioctl(heapFd.get(), DMA_HEAP_IOCTL_ALLOC, &data) < 0) {
		int err = errno;
		heapFd.reset();
		errno = err;
		return {};
	}
	return UniqueFd(static_cast<int>(data.fd));
}

int syncDmaBuf(int fd, uint64_t flags)
{
	dma_buf_sync sync = {};
	sync.flags = flags;
	int ret;
	do {
		ret = ::ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (ret < 0 && (errno == EINTR || errno == EAGAIN));
	return ret;
}

uint32_t patternWord(size_t index, uint32_t seed)
{
	return static_cast<uint32_t>(index * 2654435761u) ^ seed;
}

// Writes a pattern through a CPU mapping of the dma-buf, then reads it back,
// each inside its DMA_BUF_IOCTL_SYNC bracket.
void checkCpuRoundTrip(int dmabuf, size_t size, uint32_t seed)
{
	Mapping map(dmabuf, size);
	ASSERT_TRUE(map.isValid()) << "mmap of the dma-buf: " << errnoText();
	std::span<uint32_t> words = map.words();

	ASSERT_EQ(syncDmaBuf(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), 0) << errnoText();
	for (size_t i = 0; i < words.size(); i++)
		words[i] = patternWord(i, seed);
	ASSERT_EQ(syncDmaBuf(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0) << errnoText();

	ASSERT_EQ(syncDmaBuf(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0) << errnoText();
	size_t mismatches = 0;
	for (size_t i = 0; i < words.size(); i++)
		mismatches += words[i] != patternWord(i, seed);
	ASSERT_EQ(syncDmaBuf(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0) << errnoText();
	EXPECT_EQ(mismatches, 0u);
}

// The CMA heap over the default area: 7.x names it default_cma_region, older
// kernels and device trees name it after the area.
std::string cmaHeapName()
{
	std::vector<std::string> heaps = listDir(kHeapDir);
	for (const char *name : { "default_cma_region", "reserved", "linux,cma" }) {
		if (contains(heaps, name))
			return name;
	}
	return {};
}

// Every test checks that it closed every file descriptor it opened.
class KernelTest : public ::testing::Test
{
protected:
	void SetUp() override { fdsAtStart_ = countOpenFds(); }
	void TearDown() override
	{
		EXPECT_EQ(countOpenFds(), fdsAtStart_) << "file descriptors leaked";
	}

private:
	int fdsAtStart_ = 0;
};

using DmaHeapTest = KernelTest;

TEST_F(DmaHeapTest, ExpectedHeapsExist)
{
	std::vector<std::string> heaps = listDir(kHeapDir);
	for (const auto &heap : heaps)
		std::cout << "heap: " << heap << "\n";
	EXPECT_TRUE(contains(heaps, "system"));
	EXPECT_TRUE(contains(heaps, "default_cma_region"));
	EXPECT_TRUE(contains(heaps, "reserved")) << "legacy name of the CMA heap";
}

TEST_F(DmaHeapTest, EveryHeapAllocatesAndMapsCoherently)
{
	constexpr size_t size = 1 << 20;
	std::vector<std::string> heaps = listDir(kHeapDir);
	ASSERT_FALSE(heaps.empty()) << kHeapDir << " is empty or missing";

	uint32_t seed = 1;
	for (const auto &heap : heaps) {
		SCOPED_TRACE("heap " + heap);
		UniqueFd buf = allocateFromHeap(heap, size);
		ASSERT_TRUE(buf.isValid()) << "DMA_HEAP_IOCTL_ALLOC: " << errnoText();

		EXPECT_EQ(::lseek(buf.get(), 0, SEEK_END), static_cast<off_t>(size));
		EXPECT_EQ(fdinfoField(buf.get(), "exp_name"), heap);
		EXPECT_EQ(fdinfoField(buf.get(), "size"), std::to_string(size));

		checkCpuRoundTrip(buf.get(), size, seed++);
	}
}

TEST_F(DmaHeapTest, RejectsNonzeroHeapFlags)
{
	UniqueFd heapFd(::open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC));
	ASSERT_TRUE(heapFd.isValid()) << errnoText();

	dma_heap_allocation_data data = {};
	data.len = 4096;
	data.fd_flags = O_RDWR | O_CLOEXEC;
	data.heap_flags = 1;
	int ret = ::ioctl(heapFd.get(), DMA_HEAP_IOCTL_ALLOC, &data);
	int err = errno;
	if (ret >= 0)
		::close(static_cast<int>(data.fd));
	EXPECT_LT(ret, 0);
	EXPECT_EQ(err, EINVAL);
}

using CmaTest = KernelTest;

TEST_F(CmaTest, CountersFollowAllocation)
{
	std::vector<std::string> areas = listDir(kCmaSysfsDir);
	ASSERT_FALSE(areas.empty()) << "no CMA area in " << kCmaSysfsDir;
	std::string area = contains(areas, "reserved") ? "reserved" : areas.front();
	std::string sysfs = std::string(kCmaSysfsDir) + "/" + area + "/";
	std::string debugfs = std::string(kCmaDebugfsDir) + "/" + area + "/";
	std::string heap = cmaHeapName();
	ASSERT_FALSE(heap.empty()) << "no CMA heap in " << kHeapDir;

	auto read = [&](const std::string &path) {
		std::optional<uint64_t> value = readNumber(path);
		EXPECT_TRUE(value) << "cannot read " << path;
		return value.value_or(0);
	};

	const uint64_t pageSize = ::sysconf(_SC_PAGESIZE);
	const uint64_t total = read(sysfs + "total_pages");
	EXPECT_GE(total * pageSize, 128u << 20) << "cma=128M on the kernel command line";

	constexpr size_t size = 4 << 20;
	const uint64_t pages = size / pageSize;
	const uint64_t successBefore = read(sysfs + "alloc_pages_success");
	const uint64_t releaseBefore = read(sysfs + "release_pages_success");
	const uint64_t availableBefore = read(sysfs + "available_pages");
	const uint64_t usedBefore = read(debugfs + "used");

	{
		UniqueFd buf = allocateFromHeap(heap, size);
		ASSERT_TRUE(buf.isValid()) << "allocating from " << heap << ": " << errnoText();

		EXPECT_EQ(read(sysfs + "alloc_pages_success") - successBefore, pages);
		EXPECT_EQ(availableBefore - read(sysfs + "available_pages"), pages);
		EXPECT_EQ(read(debugfs + "used") - usedBefore, pages);
	}

	EXPECT_EQ(read(sysfs + "release_pages_success") - releaseBefore, pages);
	EXPECT_EQ(read(sysfs + "available_pages"), availableBefore);
	EXPECT_EQ(read(debugfs + "used"), usedBefore);
}

using UdmabufTest = KernelTest;

UniqueFd createMemfd(size_t size, unsigned int seals)
{
	UniqueFd memfd(::memfd_create("vm_smoke_udmabuf", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!memfd.isValid() || ::ftruncate(memfd.get(), size) < 0)
		return {};
	if (seals && ::fcntl(memfd.get(), F_ADD_SEALS, seals) < 0)
		return {};
	return memfd;
}

UniqueFd createUdmabuf(int memfd, size_t size)
{
	UniqueFd dev(::open("/dev/udmabuf", O_RDWR | O_CLOEXEC));
	if (!dev.isValid())
		return {};

	udmabuf_create create = {};
	create.memfd = memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	create.offset = 0;
	create.size = size;
	int fd = ::ioctl(dev.get(), UDMABUF_CREATE, &create);
	int err = errno;
	dev.reset();
	errno = err;
	return UniqueFd(fd);
}

TEST_F(UdmabufTest, SealedMemfdSharesPagesWithDmaBuf)
{
	constexpr size_t size = 1 << 20;
	UniqueFd memfd = createMemfd(size, F_SEAL_SHRINK);
	ASSERT_TRUE(memfd.isValid()) << "sealed memfd: " << errnoText();
	UniqueFd buf = createUdmabuf(memfd.get(), size);
	ASSERT_TRUE(buf.isValid()) << "UDMABUF_CREATE: " << errnoText();

	EXPECT_EQ(fdinfoField(buf.get(), "exp_name"), "udmabuf");
	EXPECT_EQ(::lseek(buf.get(), 0, SEEK_END), static_cast<off_t>(size));

	checkCpuRoundTrip(buf.get(), size, 0x5eed);

	// The memfd sees what was written through the dma-buf.
	Mapping memfdMap(memfd.get(), size);
	ASSERT_TRUE(memfdMap.isValid()) << errnoText();
	std::span<uint32_t> words = memfdMap.words();
	size_t mismatches = 0;
	for (size_t i = 0; i < words.size(); i++)
		mismatches += words[i] != patternWord(i, 0x5eed);
	EXPECT_EQ(mismatches, 0u);
}

TEST_F(UdmabufTest, RejectsMemfdWithoutShrinkSeal)
{
	constexpr size_t size = 1 << 16;
	UniqueFd memfd = createMemfd(size, 0);
	ASSERT_TRUE(memfd.isValid()) << errnoText();
	UniqueFd buf = createUdmabuf(memfd.get(), size);
	int err = errno;
	EXPECT_FALSE(buf.isValid());
	EXPECT_EQ(err, EINVAL);
}

using CgroupTest = KernelTest;

TEST_F(CgroupTest, DmemControllerIsAvailable)
{
	std::ifstream in("/sys/fs/cgroup/cgroup.controllers");
	ASSERT_TRUE(in) << "cgroup2 is not mounted at /sys/fs/cgroup";
	std::vector<std::string> controllers;
	std::string name;
	while (in >> name)
		controllers.push_back(name);
	EXPECT_TRUE(contains(controllers, "dmem"));
	EXPECT_TRUE(contains(controllers, "memory"));
}

// DRM nodes under /dev/dri whose names start with prefix, with their driver.
std::vector<std::pair<std::string, std::string>> drmNodes(const std::string &prefix)
{
	std::vector<std::pair<std::string, std::string>> nodes;
	for (const auto &name : listDir("/dev/dri")) {
		if (name.rfind(prefix, 0) != 0)
			continue;
		std::string path = "/dev/dri/" + name;
		UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
		if (!fd.isValid())
			continue;
		DrmVersion version(drmGetVersion(fd.get()));
		if (version)
			nodes.emplace_back(path, version->name);
	}
	return nodes;
}

// Opens the primary node of a driver; device numbering is not stable.
UniqueFd openDriver(const std::string &driver)
{
	for (const auto &[path, name] : drmNodes("card")) {
		if (name == driver)
			return UniqueFd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
	}
	return {};
}

using DrmTest = KernelTest;

TEST_F(DrmTest, VgemExportsDumbBuffers)
{
	UniqueFd vgem = openDriver("vgem");
	ASSERT_TRUE(vgem.isValid()) << "no vgem device in /dev/dri";

	uint32_t handle = 0, pitch = 0;
	uint64_t size = 0;
	ASSERT_EQ(drmModeCreateDumbBuffer(vgem.get(), 64, 64, 32, 0, &handle, &pitch, &size), 0)
		<< errnoText();
	int prime = -1;
	EXPECT_EQ(drmPrimeHandleToFD(vgem.get(), handle, DRM_CLOEXEC | DRM_RDWR, &prime), 0)
		<< errnoText();
	UniqueFd buf(prime);
	EXPECT_TRUE(buf.isValid());
	if (buf.isValid()) {
		EXPECT_EQ(::lseek(buf.get(), 0, SEEK_END), static_cast<off_t>(size));
	}
	EXPECT_EQ(drmModeDestroyDumbBuffer(vgem.get(), handle), 0);
}

TEST_F(DrmTest, RenderNodeExists)
{
	auto nodes = drmNodes("renderD");
	ASSERT_FALSE(nodes.empty()) << "no /dev/dri/renderD* node";
	for (const auto &[path, name] : nodes)
		std::cout << path << ": " << name << "\n";
}

// Property ids and current values of one KMS object.
struct Properties {
	std::map<std::string, uint32_t> ids;
	std::map<std::string, uint64_t> values;

	uint32_t id(const std::string &name) const
	{
		auto it = ids.find(name);
		return it == ids.end() ? 0 : it->second;
	}
};

Properties objectProperties(int fd, uint32_t objectId, uint32_t objectType)
{
	Properties props;
	using List = DrmPtr<drmModeObjectProperties, drmModeFreeObjectProperties>;
	using Property = DrmPtr<drmModePropertyRes, drmModeFreeProperty>;
	List list(drmModeObjectGetProperties(fd, objectId, objectType));
	if (!list)
		return props;
	for (uint32_t i = 0; i < list->count_props; i++) {
		Property prop(drmModeGetProperty(fd, list->props[i]));
		if (!prop)
			continue;
		props.ids[prop->name] = prop->prop_id;
		props.values[prop->name] = list->prop_values[i];
	}
	return props;
}

// A heap buffer imported into a KMS device as an XRGB8888 framebuffer.
class KmsBuffer
{
public:
	KmsBuffer(int drm, const std::string &heap, uint32_t width, uint32_t height)
		: drm_(drm), width_(width), height_(height), pitch_(width * 4),
		  size_(static_cast<size_t>(pitch_) * height)
	{
		dmabuf_ = allocateFromHeap(heap, size_);
		if (!dmabuf_.isValid()) {
			error_ = "allocating from " + heap + ": " + errnoText();
			return;
		}
		if (drmPrimeFDToHandle(drm_, dmabuf_.get(), &handle_) < 0) {
			error_ = "drmPrimeFDToHandle: " + errnoText();
			return;
		}
		uint32_t handles[4] = { handle_ };
		uint32_t pitches[4] = { pitch_ };
		uint32_t offsets[4] = {};
		if (drmModeAddFB2(drm_, width, height, DRM_FORMAT_XRGB8888, handles, pitches,
				  offsets, &fbId_, 0) < 0)
			error_ = "drmModeAddFB2: " + errnoText();
	}
	KmsBuffer(const KmsBuffer &) = delete;
	KmsBuffer &operator=(const KmsBuffer &) = delete;
	~KmsBuffer()
	{
		if (fbId_)
			drmModeRmFB(drm_, fbId_);
		if (handle_)
			drmCloseBufferHandle(drm_, handle_);
	}

	const std::string &error() const { return error_; }
	uint32_t fbId() const { return fbId_; }
	uint32_t width() const { return width_; }
	uint32_t height() const { return height_; }
	int dmabuf() const { return dmabuf_.get(); }
	size_t size() const { return size_; }

	bool fill(uint32_t pixel)
	{
		Mapping map(dmabuf_.get(), size_);
		if (!map.isValid() ||
		    syncDmaBuf(dmabuf_.get(), DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE) < 0)
			return false;
		std::span<uint32_t> words = map.words();
		std::fill(words.begin(), words.end(), pixel);
		return syncDmaBuf(dmabuf_.get(), DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE) == 0;
	}

private:
	int drm_;
	uint32_t width_;
	uint32_t height_;
	uint32_t pitch_;
	size_t size_;
	UniqueFd dmabuf_;
	uint32_t handle_ = 0;
	uint32_t fbId_ = 0;
	std::string error_;
};

// The pipeline of a VKMS device: the virtual output and the writeback
// connector on one CRTC, with that CRTC's primary plane and an overlay.
struct VkmsPipeline {
	uint32_t crtcId = 0;
	drmModeModeInfo mode = {};
	uint32_t outputId = 0;
	uint32_t writebackId = 0;
	uint32_t primaryId = 0;
	uint32_t overlayId = 0;
	int overlays = 0;
	int cursors = 0;
	std::vector<uint32_t> writebackFormats;
};

// Bit mask of the CRTC indices a connector can be driven by.
uint32_t connectorCrtcs(int fd, const drmModeConnector &connector)
{
	uint32_t crtcs = 0;
	for (int i = 0; i < connector.count_encoders; i++) {
		DrmEncoder encoder(drmModeGetEncoder(fd, connector.encoders[i]));
		if (encoder)
			crtcs |= encoder->possible_crtcs;
	}
	return crtcs;
}

std::string findPipeline(int fd, VkmsPipeline &pipe)
{
	DrmResources res(drmModeGetResources(fd));
	if (!res)
		return "drmModeGetResources: " + errnoText();

	uint32_t outputCrtcs = 0, writebackCrtcs = 0;
	for (int i = 0; i < res->count_connectors; i++) {
		DrmConnector conn(drmModeGetConnector(fd, res->connectors[i]));
		if (!conn)
			continue;
		if (conn->connector_type == DRM_MODE_CONNECTOR_VIRTUAL && !pipe.outputId &&
		    conn->connection == DRM_MODE_CONNECTED && conn->count_modes > 0) {
			pipe.outputId = conn->connector_id;
			pipe.mode = conn->modes[0];
			for (int m = 0; m < conn->count_modes; m++) {
				if (conn->modes[m].type & DRM_MODE_TYPE_PREFERRED) {
					pipe.mode = conn->modes[m];
					break;
				}
			}
			outputCrtcs = connectorCrtcs(fd, *conn);
		} else if (conn->connector_type == DRM_MODE_CONNECTOR_WRITEBACK && !pipe.writebackId) {
			pipe.writebackId = conn->connector_id;
			writebackCrtcs = connectorCrtcs(fd, *conn);
		}
	}
	if (!pipe.outputId)
		return "no connected virtual connector with a mode";
	if (!pipe.writebackId)
		return "no writeback connector";

	int crtcIndex = -1;
	for (int i = 0; i < res->count_crtcs; i++) {
		if (outputCrtcs & writebackCrtcs & (1u << i)) {
			crtcIndex = i;
			break;
		}
	}
	if (crtcIndex < 0)
		return "no CRTC drives both the virtual and the writeback connector";
	pipe.crtcId = res->crtcs[crtcIndex];

	DrmPlaneResources planes(drmModeGetPlaneResources(fd));
	if (!planes)
		return "drmModeGetPlaneResources: " + errnoText();
	for (uint32_t i = 0; i < planes->count_planes; i++) {
		DrmPlane plane(drmModeGetPlane(fd, planes->planes[i]));
		if (!plane || !(plane->possible_crtcs & (1u << crtcIndex)))
			continue;
		Properties props = objectProperties(fd, plane->plane_id, DRM_MODE_OBJECT_PLANE);
		switch (props.values["type"]) {
		case DRM_PLANE_TYPE_PRIMARY:
			pipe.primaryId = plane->plane_id;
			break;
		case DRM_PLANE_TYPE_OVERLAY:
			if (!pipe.overlayId)
				pipe.overlayId = plane->plane_id;
			pipe.overlays++;
			break;
		case DRM_PLANE_TYPE_CURSOR:
			pipe.cursors++;
			break;
		}
	}
	if (!pipe.primaryId || !pipe.overlayId)
		return "the CRTC lacks a primary or an overlay plane (vkms.enable_overlay=1?)";

	Properties wbProps = objectProperties(fd, pipe.writebackId, DRM_MODE_OBJECT_CONNECTOR);
	DrmBlob formats(drmModeGetPropertyBlob(fd, wbProps.values["WRITEBACK_PIXEL_FORMATS"]));
	if (formats) {
		const auto *fourccs = static_cast<const uint32_t *>(formats->data);
		pipe.writebackFormats.assign(fourccs, fourccs + formats->length / sizeof(uint32_t));
	}
	return {};
}

class VkmsTest : public KernelTest
{
};

TEST_F(VkmsTest, WritebackCapturesHeapBuffersOnPlanes)
{
	UniqueFd drm = openDriver("vkms");
	ASSERT_TRUE(drm.isValid()) << "no vkms device in /dev/dri";
	ASSERT_EQ(drmSetClientCap(drm.get(), DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1), 0) << errnoText();
	ASSERT_EQ(drmSetClientCap(drm.get(), DRM_CLIENT_CAP_ATOMIC, 1), 0) << errnoText();
	ASSERT_EQ(drmSetClientCap(drm.get(), DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1), 0)
		<< errnoText();

	VkmsPipeline pipe;
	std::string error = findPipeline(drm.get(), pipe);
	ASSERT_TRUE(error.empty()) << error;
	std::cout << "vkms: mode " << pipe.mode.hdisplay << "x" << pipe.mode.vdisplay << "@"
		  << pipe.mode.vrefresh << ", " << pipe.overlays << " overlay and " << pipe.cursors
		  << " cursor planes\n";
	EXPECT_TRUE(std::find(pipe.writebackFormats.begin(), pipe.writebackFormats.end(),
			      DRM_FORMAT_XRGB8888) != pipe.writebackFormats.end())
		<< "writeback cannot capture XRGB8888";

	const uint32_t width = pipe.mode.hdisplay;
	const uint32_t height = pipe.mode.vdisplay;
	// The overlay covers a rectangle inside the primary plane.
	const uint32_t ovX = width / 8, ovY = height / 8;
	const uint32_t ovW = width / 4, ovH = height / 4;
	constexpr uint32_t red = 0x00ff0000, green = 0x0000ff00;

	const std::string cmaHeap = cmaHeapName();
	ASSERT_FALSE(cmaHeap.empty()) << "no CMA heap";
	KmsBuffer primary(drm.get(), "system", width, height);
	ASSERT_EQ(primary.error(), "");
	KmsBuffer overlay(drm.get(), cmaHeap, ovW, ovH);
	ASSERT_EQ(overlay.error(), "");
	KmsBuffer capture(drm.get(), "system", width, height);
	ASSERT_EQ(capture.error(), "");
	ASSERT_TRUE(primary.fill(red)) << errnoText();
	ASSERT_TRUE(overlay.fill(green)) << errnoText();
	ASSERT_TRUE(capture.fill(0)) << errnoText();

	Properties crtcProps = objectProperties(drm.get(), pipe.crtcId, DRM_MODE_OBJECT_CRTC);
	Properties outputProps = objectProperties(drm.get(), pipe.outputId, DRM_MODE_OBJECT_CONNECTOR);
	Properties wbProps = objectProperties(drm.get(), pipe.writebackId, DRM_MODE_OBJECT_CONNECTOR);
	Properties primaryProps = objectProperties(drm.get(), pipe.primaryId, DRM_MODE_OBJECT_PLANE);
	Properties overlayProps = objectProperties(drm.get(), pipe.overlayId, DRM_MODE_OBJECT_PLANE);

	uint32_t modeBlob = 0;
	ASSERT_EQ(drmModeCreatePropertyBlob(drm.get(), &pipe.mode, sizeof(pipe.mode), &modeBlob), 0)
		<< errnoText();

	DrmAtomicReq req(drmModeAtomicAlloc());
	ASSERT_TRUE(req);
	auto set = [&](uint32_t object, const Properties &props, const char *name, uint64_t value) {
		uint32_t prop = props.id(name);
		EXPECT_NE(prop, 0u) << "missing property " << name;
		drmModeAtomicAddProperty(req.get(), object, prop, value);
	};
	auto placePlane = [&](uint32_t plane, const Properties &props, const KmsBuffer &fb,
			      uint32_t x, uint32_t y) {
		set(plane, props, "FB_ID", fb.fbId());
		set(plane, props, "CRTC_ID", pipe.crtcId);
		set(plane, props, "SRC_X", 0);
		set(plane, props, "SRC_Y", 0);
		set(plane, props, "SRC_W", uint64_t(fb.width()) << 16);
		set(plane, props, "SRC_H", uint64_t(fb.height()) << 16);
		set(plane, props, "CRTC_X", x);
		set(plane, props, "CRTC_Y", y);
		set(plane, props, "CRTC_W", fb.width());
		set(plane, props, "CRTC_H", fb.height());
	};

	int32_t outFence = -1;
	set(pipe.crtcId, crtcProps, "MODE_ID", modeBlob);
	set(pipe.crtcId, crtcProps, "ACTIVE", 1);
	set(pipe.outputId, outputProps, "CRTC_ID", pipe.crtcId);
	set(pipe.writebackId, wbProps, "CRTC_ID", pipe.crtcId);
	set(pipe.writebackId, wbProps, "WRITEBACK_FB_ID", capture.fbId());
	set(pipe.writebackId, wbProps, "WRITEBACK_OUT_FENCE_PTR",
	    static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&outFence)));
	placePlane(pipe.primaryId, primaryProps, primary, 0, 0);
	placePlane(pipe.overlayId, overlayProps, overlay, ovX, ovY);

	auto start = std::chrono::steady_clock::now();
	int ret = drmModeAtomicCommit(drm.get(), req.get(), DRM_MODE_ATOMIC_ALLOW_MODESET, nullptr);
	UniqueFd fence(outFence);
	EXPECT_EQ(ret, 0) << "atomic commit: " << errnoText();

	if (ret == 0) {
		ASSERT_TRUE(fence.isValid()) << "no writeback out-fence";
		pollfd pfd = { fence.get(), POLLIN, 0 };
		ASSERT_EQ(::poll(&pfd, 1, 10000), 1) << "writeback fence did not signal in 10 s";
		auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
			std::chrono::steady_clock::now() - start);
		std::cout << "writeback fence signalled " << ms.count() << " ms after the commit\n";

		Mapping map(capture.dmabuf(), capture.size());
		ASSERT_TRUE(map.isValid()) << errnoText();
		ASSERT_EQ(syncDmaBuf(capture.dmabuf(), DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
		std::span<uint32_t> pixels = map.words();
		size_t mismatches = 0;
		std::string first;
		for (uint32_t y = 0; y < height; y++) {
			for (uint32_t x = 0; x < width; x++) {
				bool inOverlay = x >= ovX && x < ovX + ovW && y >= ovY && y < ovY + ovH;
				uint32_t want = inOverlay ? green : red;
				uint32_t got = pixels[y * width + x] & 0x00ffffff;
				if (got != want && !mismatches++) {
					char text[96];
					std::snprintf(text, sizeof(text),
						      "first at (%u, %u): 0x%06x instead of 0x%06x",
						      x, y, got, want);
					first = text;
				}
			}
		}
		EXPECT_EQ(syncDmaBuf(capture.dmabuf(), DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
		EXPECT_EQ(mismatches, 0u) << first;
	}

	// Switch everything off so the framebuffers are no longer in use.
	DrmAtomicReq off(drmModeAtomicAlloc());
	req = std::move(off);
	for (auto [plane, props] : { std::pair{ pipe.primaryId, &primaryProps },
				     std::pair{ pipe.overlayId, &overlayProps } }) {
		set(plane, *props, "FB_ID", 0);
		set(plane, *props, "CRTC_ID", 0);
	}
	set(pipe.outputId, outputProps, "CRTC_ID", 0);
	set(pipe.writebackId, wbProps, "CRTC_ID", 0);
	set(pipe.crtcId, crtcProps, "ACTIVE", 0);
	set(pipe.crtcId, crtcProps, "MODE_ID", 0);
	EXPECT_EQ(drmModeAtomicCommit(drm.get(), req.get(), DRM_MODE_ATOMIC_ALLOW_MODESET, nullptr), 0)
		<< "disabling the pipeline: " << errnoText();
	EXPECT_EQ(drmModeDestroyPropertyBlob(drm.get(), modeBlob), 0);
}

} // namespace
