/* SPDX-License-Identifier: MIT */
#include <bufmgr/heap.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fixture_tree.h"

using namespace bufmgr;
using heapcomp::test::FixtureTree;
namespace fs = std::filesystem;

namespace {

std::vector<HeapInfo> discover(const FixtureTree &tree)
{
	Result<std::vector<HeapInfo>> heaps = discoverHeaps(tree.paths());
	EXPECT_TRUE(heaps.has_value()) << (heaps ? "" : heaps.error().message());
	return heaps ? *heaps : std::vector<HeapInfo>{};
}

std::vector<std::string> names(const std::vector<HeapInfo> &heaps)
{
	std::vector<std::string> out;
	for (const HeapInfo &heap : heaps)
		out.push_back(heap.name);
	return out;
}

const HeapInfo &get(const std::vector<HeapInfo> &heaps, const std::string &name)
{
	const HeapInfo *heap = findHeap(heaps, name);
	EXPECT_NE(heap, nullptr) << name;
	static const HeapInfo missing;
	return heap ? *heap : missing;
}

/*
 * Runs fn in a child with the uid of "nobody" when we are root, so that
 * file permissions apply; returns what fn returned.
 */
std::string runUnprivileged(const std::function<std::string()> &fn)
{
	if (::geteuid() != 0)
		return fn();

	int pipeFds[2];
	EXPECT_EQ(::pipe(pipeFds), 0);
	pid_t pid = ::fork();
	if (pid == 0) {
		::close(pipeFds[0]);
		if (::setgid(65534) != 0 || ::setuid(65534) != 0)
			::_exit(3);
		std::string out = fn();
		ssize_t written = ::write(pipeFds[1], out.data(), out.size());
		::_exit(written == static_cast<ssize_t>(out.size()) ? 0 : 4);
	}
	::close(pipeFds[1]);
	std::string out;
	char buf[512];
	ssize_t n;
	while ((n = ::read(pipeFds[0], buf, sizeof(buf))) > 0)
		out.append(buf, static_cast<size_t>(n));
	::close(pipeFds[0]);
	int status = 0;
	::waitpid(pid, &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
	return out;
}

} /* namespace */

TEST(HeapDiscovery, MissingDirectoryIsAnEmptyList)
{
	FixtureTree tree;
	Result<std::vector<HeapInfo>> heaps = discoverHeaps(tree.paths());
	ASSERT_TRUE(heaps.has_value());
	EXPECT_TRUE(heaps->empty());
}

TEST(HeapDiscovery, EmptyDirectoryIsAnEmptyList)
{
	FixtureTree tree;
	tree.dir("dev/dma_heap");
	Result<std::vector<HeapInfo>> heaps = discoverHeaps(tree.paths());
	ASSERT_TRUE(heaps.has_value());
	EXPECT_TRUE(heaps->empty());
}

TEST(HeapDiscovery, UnreadableDirectoryIsAnError)
{
	FixtureTree tree;
	tree.file("dev/dma_heap", "not a directory");
	Result<std::vector<HeapInfo>> heaps = discoverHeaps(tree.paths());
	ASSERT_FALSE(heaps.has_value());
	EXPECT_EQ(heaps.error().code, ENOTDIR);
	EXPECT_NE(heaps.error().context.find("dev/dma_heap"), std::string::npos);
}

TEST(HeapDiscovery, SystemHeap)
{
	FixtureTree tree;
	tree.heap("system");
	std::vector<HeapInfo> heaps = discover(tree);
	ASSERT_EQ(heaps.size(), 1u);
	const HeapInfo &heap = heaps[0];
	EXPECT_EQ(heap.name, "system");
	EXPECT_EQ(heap.path, tree.path("dev/dma_heap/system"));
	EXPECT_EQ(heap.kind, HeapKind::System);
	EXPECT_EQ(heap.contiguous, std::optional<bool>(false));
	EXPECT_EQ(heap.cpuCached, std::optional<bool>(true));
	EXPECT_TRUE(heap.accessible);
	EXPECT_EQ(heap.openErrno, 0);
	EXPECT_FALSE(heap.isCma());
	EXPECT_FALSE(heap.isAlias());
}

TEST(HeapDiscovery, SystemUncachedHeap)
{
	FixtureTree tree;
	tree.heap("system-uncached");
	std::vector<HeapInfo> heaps = discover(tree);
	ASSERT_EQ(heaps.size(), 1u);
	EXPECT_EQ(heaps[0].kind, HeapKind::SystemUncached);
	EXPECT_EQ(heaps[0].contiguous, std::optional<bool>(false));
	EXPECT_EQ(heaps[0].cpuCached, std::optional<bool>(false));
}

/* Before 6.17 the default CMA heap carries the area's own name. */
TEST(HeapDiscovery, LegacyDefaultCmaNamesAlone)
{
	for (const char *name : { "linux,cma", "reserved", "default-pool" }) {
		SCOPED_TRACE(name);
		FixtureTree tree;
		tree.heap("system");
		tree.heap(name);
		std::vector<HeapInfo> heaps = discover(tree);
		ASSERT_EQ(heaps.size(), 2u);
		const HeapInfo &cma = get(heaps, name);
		EXPECT_EQ(cma.kind, HeapKind::DefaultCma);
		EXPECT_EQ(cma.contiguous, std::optional<bool>(true));
		EXPECT_EQ(cma.cpuCached, std::optional<bool>(true));
		EXPECT_EQ(cma.cmaArea, name);
		EXPECT_FALSE(cma.isAlias());
		EXPECT_EQ(names(heaps), (std::vector<std::string>{ "system", name }));
	}
}

/* The test VM's 7.2 kernel: default_cma_region plus its legacy alias. */
TEST(HeapDiscovery, DefaultCmaRegionWithReservedAlias)
{
	FixtureTree tree;
	tree.heap("system");
	tree.heap("reserved");
	tree.heap("default_cma_region");
	tree.cmaArea("reserved");
	std::vector<HeapInfo> heaps = discover(tree);

	EXPECT_EQ(names(heaps),
		  (std::vector<std::string>{ "system", "default_cma_region", "reserved" }));
	const HeapInfo &primary = get(heaps, "default_cma_region");
	const HeapInfo &alias = get(heaps, "reserved");
	EXPECT_EQ(primary.kind, HeapKind::DefaultCma);
	EXPECT_FALSE(primary.isAlias());
	EXPECT_EQ(primary.cmaArea, "reserved");
	EXPECT_EQ(alias.kind, HeapKind::DefaultCma);
	EXPECT_EQ(alias.aliasOf, "default_cma_region");
	EXPECT_EQ(alias.cmaArea, "reserved");
	EXPECT_EQ(alias.contiguous, std::optional<bool>(true));
}

/* Naming alone must suffice when CMA sysfs is not there. */
TEST(HeapDiscovery, DefaultCmaRegionWithLinuxCmaAliasWithoutSysfs)
{
	FixtureTree tree;
	tree.heap("linux,cma");
	tree.heap("default_cma_region");
	std::vector<HeapInfo> heaps = discover(tree);

	EXPECT_EQ(names(heaps), (std::vector<std::string>{ "default_cma_region", "linux,cma" }));
	EXPECT_EQ(get(heaps, "default_cma_region").cmaArea, "linux,cma");
	EXPECT_EQ(get(heaps, "linux,cma").aliasOf, "default_cma_region");
	EXPECT_EQ(get(heaps, "linux,cma").cmaArea, "linux,cma");
}

/* Legacy heap disabled (DMABUF_HEAPS_CMA_LEGACY=n): sysfs names the area. */
TEST(HeapDiscovery, DefaultCmaRegionAloneFindsLegacyNamedArea)
{
	FixtureTree tree;
	tree.heap("default_cma_region");
	tree.cmaArea("reserved");
	tree.cmaArea("video@50000000");
	std::vector<HeapInfo> heaps = discover(tree);
	ASSERT_EQ(heaps.size(), 1u);
	EXPECT_EQ(heaps[0].cmaArea, "reserved");
	EXPECT_FALSE(heaps[0].isAlias());
}

/*
 * A board whose default area has a non-legacy DT name ("cma"): the only
 * area is the default one, so the per-area heap is the legacy alias.
 */
TEST(HeapDiscovery, DefaultCmaRegionWithOnlyAreaMakesItsHeapAnAlias)
{
	FixtureTree tree;
	tree.heap("default_cma_region");
	tree.heap("cma");
	tree.cmaArea("cma");
	std::vector<HeapInfo> heaps = discover(tree);

	EXPECT_EQ(names(heaps), (std::vector<std::string>{ "default_cma_region", "cma" }));
	EXPECT_EQ(get(heaps, "default_cma_region").cmaArea, "cma");
	const HeapInfo &alias = get(heaps, "cma");
	EXPECT_EQ(alias.aliasOf, "default_cma_region");
	EXPECT_EQ(alias.kind, HeapKind::DefaultCma);
}

TEST(HeapDiscovery, DefaultCmaRegionAreaUnknownAmongSeveral)
{
	FixtureTree tree;
	tree.heap("default_cma_region");
	tree.cmaArea("camera@60000000");
	tree.cmaArea("video@50000000");
	std::vector<HeapInfo> heaps = discover(tree);
	ASSERT_EQ(heaps.size(), 1u);
	EXPECT_EQ(heaps[0].kind, HeapKind::DefaultCma);
	EXPECT_TRUE(heaps[0].cmaArea.empty());
	EXPECT_EQ(heaps[0].contiguous, std::optional<bool>(true));
}

/* Since 6.17 each reserved CMA region gets a heap named after it. */
TEST(HeapDiscovery, PerRegionCmaHeaps)
{
	FixtureTree tree;
	tree.heap("system");
	tree.heap("default_cma_region");
	tree.heap("reserved");
	tree.heap("cma-region@5000000");
	tree.heap("camera@60000000");
	tree.cmaArea("reserved");
	tree.cmaArea("cma-region@5000000");
	tree.cmaArea("camera@60000000");
	std::vector<HeapInfo> heaps = discover(tree);

	EXPECT_EQ(names(heaps),
		  (std::vector<std::string>{ "system", "default_cma_region", "reserved",
					     "camera@60000000", "cma-region@5000000" }));
	for (const char *name : { "cma-region@5000000", "camera@60000000" }) {
		const HeapInfo &heap = get(heaps, name);
		EXPECT_EQ(heap.kind, HeapKind::RegionCma) << name;
		EXPECT_EQ(heap.cmaArea, name);
		EXPECT_FALSE(heap.isAlias()) << name;
		EXPECT_EQ(heap.contiguous, std::optional<bool>(true));
	}
	EXPECT_EQ(get(heaps, "reserved").aliasOf, "default_cma_region");
}

/* Without a matching area a name proves nothing: not RegionCma. */
TEST(HeapDiscovery, RegionNameWithoutAreaIsUnknown)
{
	FixtureTree tree;
	tree.heap("cma-region@5000000");
	std::vector<HeapInfo> heaps = discover(tree);
	ASSERT_EQ(heaps.size(), 1u);
	EXPECT_EQ(heaps[0].kind, HeapKind::Unknown);
	EXPECT_FALSE(heaps[0].contiguous.has_value());
	EXPECT_FALSE(heaps[0].isCma());
}

TEST(HeapDiscovery, ProtectedHeaps)
{
	FixtureTree tree;
	tree.heap("restricted_video");
	tree.heap("secure_video");
	tree.heap("vendor,Protected-display");
	tree.heap("secure_cma");
	tree.cmaArea("secure_cma");
	std::vector<HeapInfo> heaps = discover(tree);
	ASSERT_EQ(heaps.size(), 4u);
	for (const HeapInfo &heap : heaps) {
		EXPECT_EQ(heap.kind, HeapKind::Protected) << heap.name;
		EXPECT_FALSE(heap.cpuCached.has_value()) << heap.name;
	}
	EXPECT_FALSE(get(heaps, "restricted_video").contiguous.has_value());
	EXPECT_FALSE(get(heaps, "restricted_video").isCma());
	/* A protected heap carved from a CMA area is contiguous. */
	EXPECT_EQ(get(heaps, "secure_cma").cmaArea, "secure_cma");
	EXPECT_EQ(get(heaps, "secure_cma").contiguous, std::optional<bool>(true));
}

TEST(HeapDiscovery, VendorHeapIsUnknown)
{
	FixtureTree tree;
	tree.heap("qcom,display");
	std::vector<HeapInfo> heaps = discover(tree);
	ASSERT_EQ(heaps.size(), 1u);
	EXPECT_EQ(heaps[0].kind, HeapKind::Unknown);
	EXPECT_FALSE(heaps[0].contiguous.has_value());
	EXPECT_FALSE(heaps[0].cpuCached.has_value());
	EXPECT_TRUE(heaps[0].accessible);
}

TEST(HeapDiscovery, StableOrderAcrossKinds)
{
	FixtureTree tree;
	for (const char *name : { "zz-vendor", "restricted_video", "system-uncached", "reserved",
				  "video@50000000", "default_cma_region", "system", "aa-vendor" })
		tree.heap(name);
	tree.cmaArea("reserved");
	tree.cmaArea("video@50000000");
	std::vector<HeapInfo> heaps = discover(tree);
	EXPECT_EQ(names(heaps),
		  (std::vector<std::string>{ "system", "system-uncached", "default_cma_region",
					     "reserved", "video@50000000", "restricted_video",
					     "aa-vendor", "zz-vendor" }));
}

/* A hand-made link (e.g. "system" -> CMA on a board without a system heap). */
TEST(HeapDiscovery, SymlinkIsAnAliasOfItsTarget)
{
	FixtureTree tree;
	tree.heap("default_cma_region");
	tree.symlink("default_cma_region", "dev/dma_heap/system");
	std::vector<HeapInfo> heaps = discover(tree);

	EXPECT_EQ(names(heaps), (std::vector<std::string>{ "default_cma_region", "system" }));
	const HeapInfo &link = get(heaps, "system");
	EXPECT_EQ(link.aliasOf, "default_cma_region");
	EXPECT_EQ(link.kind, HeapKind::DefaultCma);
	EXPECT_EQ(link.contiguous, std::optional<bool>(true));
	EXPECT_TRUE(link.accessible);
}

TEST(HeapDiscovery, SymlinkToLegacyNodeAliasesTheStableName)
{
	FixtureTree tree;
	tree.heap("default_cma_region");
	tree.heap("reserved");
	tree.symlink("reserved", "dev/dma_heap/camera");
	std::vector<HeapInfo> heaps = discover(tree);
	EXPECT_EQ(get(heaps, "camera").aliasOf, "default_cma_region");
	EXPECT_EQ(get(heaps, "camera").cmaArea, "reserved");
	EXPECT_EQ(get(heaps, "reserved").aliasOf, "default_cma_region");
}

TEST(HeapDiscovery, DuplicateNodeIsAnAlias)
{
	FixtureTree tree;
	tree.heap("system");
	fs::create_hard_link(tree.path("dev/dma_heap/system"), tree.path("dev/dma_heap/vendor_sys"));
	std::vector<HeapInfo> heaps = discover(tree);
	EXPECT_EQ(names(heaps), (std::vector<std::string>{ "system", "vendor_sys" }));
	EXPECT_EQ(get(heaps, "vendor_sys").aliasOf, "system");
	EXPECT_EQ(get(heaps, "vendor_sys").kind, HeapKind::System);
}

TEST(HeapDiscovery, DanglingSymlinkIsReportedNotDropped)
{
	FixtureTree tree;
	tree.heap("system");
	tree.symlink("gone", "dev/dma_heap/reserved");
	std::vector<HeapInfo> heaps = discover(tree);
	ASSERT_EQ(heaps.size(), 2u);
	const HeapInfo &broken = get(heaps, "reserved");
	EXPECT_FALSE(broken.accessible);
	EXPECT_EQ(broken.openErrno, ENOENT);
	EXPECT_EQ(broken.kind, HeapKind::DefaultCma);
}

TEST(HeapDiscovery, DirectoriesAndFifosAreNotHeaps)
{
	FixtureTree tree;
	tree.heap("system");
	tree.dir("dev/dma_heap/subdir");
	ASSERT_EQ(::mkfifo(tree.path("dev/dma_heap/fifo").c_str(), 0644), 0);
	std::vector<HeapInfo> heaps = discover(tree);
	EXPECT_EQ(names(heaps), (std::vector<std::string>{ "system" }));
}

/* Root ignores file modes, so the probe runs as "nobody" in a child. */
TEST(HeapDiscovery, OpenDeniedIsReportedWithErrno)
{
	FixtureTree tree;
	tree.heap("system");
	tree.heap("reserved");
	::chmod(tree.path("dev/dma_heap").c_str(), 0755);
	ASSERT_EQ(::chmod(tree.path("dev/dma_heap/system").c_str(), 0644), 0);
	ASSERT_EQ(::chmod(tree.path("dev/dma_heap/reserved").c_str(), 0000), 0);

	SystemPaths paths = tree.paths();
	std::string out = runUnprivileged([&] {
		std::ostringstream s;
		Result<std::vector<HeapInfo>> heaps = discoverHeaps(paths);
		if (!heaps)
			return std::string("error ") + std::to_string(heaps.error().code);
		for (const HeapInfo &heap : *heaps)
			s << heap.name << ' ' << heap.accessible << ' ' << heap.openErrno << '\n';
		return s.str();
	});

	EXPECT_EQ(out, "system 1 0\nreserved 0 " + std::to_string(EACCES) + "\n");
}

TEST(HeapDiscovery, KindNames)
{
	EXPECT_EQ(toString(HeapKind::System), "system");
	EXPECT_EQ(toString(HeapKind::SystemUncached), "system-uncached");
	EXPECT_EQ(toString(HeapKind::DefaultCma), "default-cma");
	EXPECT_EQ(toString(HeapKind::RegionCma), "region-cma");
	EXPECT_EQ(toString(HeapKind::Protected), "protected");
	EXPECT_EQ(toString(HeapKind::Unknown), "unknown");
	EXPECT_TRUE(isDefaultCmaName("default_cma_region"));
	EXPECT_TRUE(isDefaultCmaName("linux,cma"));
	EXPECT_FALSE(isDefaultCmaName("cma"));
}

TEST(HeapDiscovery, UnderRootPrefixesEveryPath)
{
	SystemPaths paths = SystemPaths::underRoot("/tmp/x/");
	EXPECT_EQ(paths.dmaHeapDir, "/tmp/x/dev/dma_heap");
	EXPECT_EQ(paths.cmaSysfsDir, "/tmp/x/sys/kernel/mm/cma");
	EXPECT_EQ(paths.cmaDebugfsDir, "/tmp/x/sys/kernel/debug/cma");
	EXPECT_EQ(paths.procDir, "/tmp/x/proc");
	EXPECT_EQ(SystemPaths::underRoot("").dmaHeapDir, "/dev/dma_heap");
	EXPECT_EQ(SystemPaths{}.effectivePageSize(), static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)));
}

/* The alias and its primary share one area: its memory counts once. */
TEST(HeapDiscovery, TotalCmaBytesCountsEachAreaOnce)
{
	FixtureTree tree;
	tree.heap("system");
	tree.heap("default_cma_region");
	tree.heap("reserved");
	tree.heap("video@50000000");
	tree.file("sys/kernel/mm/cma/reserved/total_pages", "16384\n");
	tree.file("sys/kernel/mm/cma/video@50000000/total_pages", "1024\n");
	tree.file("sys/kernel/mm/cma/unused@70000000/total_pages", "256\n");

	std::vector<HeapInfo> heaps = discover(tree);
	std::vector<CmaAreaInfo> areas = readCmaAreas(tree.paths());
	ASSERT_EQ(areas.size(), 3u);
	EXPECT_EQ(totalCmaBytes(heaps, areas), (16384u + 1024u) * 4096u);
	EXPECT_EQ(totalCmaBytes(areas), (16384u + 1024u + 256u) * 4096u);
}

/* ---- CMA areas ---- */

TEST(CmaCounterFiles, ReadsTheCountersThroughTheFilesItHolds)
{
	FixtureTree tree;
	const std::string dir = "sys/kernel/mm/cma/reserved/";
	tree.file(dir + "alloc_pages_success", "12\n");
	tree.file(dir + "alloc_pages_fail", "1\n");
	tree.file(dir + "release_pages_success", "4\n");
	Result<CmaCounterFiles> files = CmaCounterFiles::open(tree.paths(), "reserved");
	ASSERT_TRUE(files.has_value()) << files.error().message();
	Result<CmaCounterFiles::Counts> counts = files->read();
	ASSERT_TRUE(counts.has_value()) << counts.error().message();
	EXPECT_EQ(*counts, (CmaCounterFiles::Counts{ 12, 1, 4 }));

	/* Written in place, as the kernel's values change: the same files show it. */
	tree.file(dir + "alloc_pages_success", "1234567\n");
	tree.file(dir + "release_pages_success", "5\n");
	counts = files->read();
	ASSERT_TRUE(counts.has_value()) << counts.error().message();
	EXPECT_EQ(*counts, (CmaCounterFiles::Counts{ 1234567, 1, 5 }));

	tree.file(dir + "alloc_pages_fail", "lots\n");
	counts = files->read();
	ASSERT_FALSE(counts.has_value());
	EXPECT_EQ(counts.error().code, EINVAL);
	EXPECT_NE(counts.error().message().find("alloc_pages_fail: 'lots'"), std::string::npos)
		<< counts.error().message();
}

TEST(CmaCounterFiles, SaysWhichFileWouldNotOpen)
{
	FixtureTree tree;
	/* Kernels before the counters have total_pages alone. */
	tree.file("sys/kernel/mm/cma/reserved/total_pages", "16384\n");
	Result<CmaCounterFiles> files = CmaCounterFiles::open(tree.paths(), "reserved");
	ASSERT_FALSE(files.has_value());
	EXPECT_EQ(files.error().code, ENOENT);
	EXPECT_NE(files.error().message().find("reserved/alloc_pages_success"), std::string::npos)
		<< files.error().message();
	files = CmaCounterFiles::open(tree.paths(), "../mm");
	ASSERT_FALSE(files.has_value());
	EXPECT_EQ(files.error().code, EINVAL);
}

TEST(CmaAreas, SysfsWithOnlyTotalAndAvailable)
{
	FixtureTree tree;
	tree.file("sys/kernel/mm/cma/reserved/total_pages", "16384\n");
	tree.file("sys/kernel/mm/cma/reserved/available_pages", "12000\n");

	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "reserved");
	ASSERT_TRUE(area.has_value()) << area.error().message();
	EXPECT_EQ(area->name, "reserved");
	EXPECT_EQ(area->pageSize, 4096u);
	EXPECT_EQ(area->totalPages, std::optional<uint64_t>(16384));
	EXPECT_EQ(area->availablePages, std::optional<uint64_t>(12000));
	EXPECT_FALSE(area->allocPagesSuccess.has_value());
	EXPECT_FALSE(area->allocPagesFail.has_value());
	EXPECT_FALSE(area->releasePagesSuccess.has_value());
	EXPECT_EQ(area->pages(), std::optional<uint64_t>(16384));
	EXPECT_EQ(area->freePages(), std::optional<uint64_t>(12000));
	EXPECT_EQ(area->usedPages(), std::optional<uint64_t>(4384));
	EXPECT_EQ(area->totalBytes(), 16384u * 4096u);
	EXPECT_FALSE(area->fragmentation().has_value());
	EXPECT_TRUE(area->issues.empty());
}

/* 5.14 - 6.13 kernels: only the allocation counters. */
TEST(CmaAreas, SysfsWithOnlyOlderCounters)
{
	FixtureTree tree;
	tree.file("sys/kernel/mm/cma/linux,cma/alloc_pages_success", "300\n");
	tree.file("sys/kernel/mm/cma/linux,cma/alloc_pages_fail", "7\n");
	tree.file("sys/kernel/mm/cma/linux,cma/release_pages_success", "120\n");

	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "linux,cma");
	ASSERT_TRUE(area.has_value());
	EXPECT_EQ(area->allocPagesSuccess, std::optional<uint64_t>(300));
	EXPECT_EQ(area->allocPagesFail, std::optional<uint64_t>(7));
	EXPECT_EQ(area->releasePagesSuccess, std::optional<uint64_t>(120));
	EXPECT_FALSE(area->totalPages.has_value());
	EXPECT_FALSE(area->pages().has_value());
	EXPECT_FALSE(area->freePages().has_value());
	EXPECT_EQ(area->totalBytes(), 0u);
	EXPECT_TRUE(area->issues.empty());
}

TEST(CmaAreas, DebugfsCountersGiveFragmentation)
{
	FixtureTree tree;
	tree.file("sys/kernel/debug/cma/reserved/count", "1024\n");
	tree.file("sys/kernel/debug/cma/reserved/used", "512\n");
	tree.file("sys/kernel/debug/cma/reserved/maxchunk", "128\n");
	tree.file("sys/kernel/debug/cma/reserved/order_per_bit", "0\n");

	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "reserved");
	ASSERT_TRUE(area.has_value());
	EXPECT_EQ(area->debugCount, std::optional<uint64_t>(1024));
	EXPECT_EQ(area->debugUsed, std::optional<uint64_t>(512));
	EXPECT_EQ(area->debugMaxChunk, std::optional<uint64_t>(128));
	EXPECT_EQ(area->orderPerBit, std::optional<uint32_t>(0));
	EXPECT_EQ(area->pages(), std::optional<uint64_t>(1024));
	EXPECT_EQ(area->freePages(), std::optional<uint64_t>(512));
	EXPECT_EQ(area->largestFreePages(), std::optional<uint64_t>(128));
	ASSERT_TRUE(area->fragmentation().has_value());
	EXPECT_DOUBLE_EQ(*area->fragmentation(), 1.0 - 128.0 / 512.0);
	EXPECT_FALSE(area->bitmap.has_value());
}

TEST(CmaAreas, DebugfsSkippedWhenNotWanted)
{
	FixtureTree tree;
	tree.file("sys/kernel/mm/cma/reserved/total_pages", "64\n");
	tree.file("sys/kernel/debug/cma/reserved/count", "64\n");
	tree.file("sys/kernel/debug/cma/reserved/bitmap", "0 0\n");

	CmaReadOptions options;
	options.debugfs = false;
	options.bitmap = true;
	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "reserved", options);
	ASSERT_TRUE(area.has_value());
	EXPECT_EQ(area->totalPages, std::optional<uint64_t>(64));
	EXPECT_FALSE(area->debugCount.has_value());
	EXPECT_FALSE(area->bitmap.has_value());
}

TEST(CmaAreas, BitmapIsOnlyParsedWhenAsked)
{
	FixtureTree tree;
	tree.file("sys/kernel/debug/cma/reserved/count", "64\n");
	tree.file("sys/kernel/debug/cma/reserved/order_per_bit", "0\n");
	tree.file("sys/kernel/debug/cma/reserved/bitmap", "1 0\n");

	Result<CmaAreaInfo> cheap = readCmaArea(tree.paths(), "reserved");
	ASSERT_TRUE(cheap.has_value());
	EXPECT_FALSE(cheap->bitmap.has_value());

	Result<CmaAreaInfo> full = readCmaArea(tree.paths(), "reserved", { true, true });
	ASSERT_TRUE(full.has_value());
	ASSERT_TRUE(full->bitmap.has_value());
	EXPECT_EQ(full->bitmap->summarize().usedPages, 1u);
}

/*
 * 40 pages, one bit each. Allocated: 0-3, 10, 36-39. Free runs: 4-9 (6)
 * and 11-35 (25). Bits 40-63 are padding and must not count as free.
 */
TEST(CmaAreas, BitmapFreeRunsOnAKnownBitmap)
{
	FixtureTree tree;
	uint32_t word0 = 0xfu | (1u << 10);
	uint32_t word1 = 0xf0u;
	tree.file("sys/kernel/debug/cma/reserved/count", "40\n");
	tree.file("sys/kernel/debug/cma/reserved/used", "9\n");
	tree.file("sys/kernel/debug/cma/reserved/maxchunk", "25\n");
	tree.file("sys/kernel/debug/cma/reserved/order_per_bit", "0\n");
	tree.file("sys/kernel/debug/cma/reserved/bitmap",
		  std::to_string(word0) + " " + std::to_string(word1) + "\n");

	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "reserved", { true, true });
	ASSERT_TRUE(area.has_value());
	ASSERT_TRUE(area->bitmap.has_value()) << (area->issues.empty() ? "" : area->issues[0].message());
	EXPECT_TRUE(area->bitmap->exactLength);
	ASSERT_EQ(area->bitmap->ranges.size(), 1u);
	EXPECT_EQ(area->bitmap->ranges[0].bits, 40u);

	CmaBitmapSummary s = area->bitmap->summarize();
	EXPECT_EQ(s.pages, 40u);
	EXPECT_EQ(s.usedPages, 9u);
	EXPECT_EQ(s.freePages, 31u);
	EXPECT_EQ(s.largestFreePages, 25u);
	EXPECT_EQ(s.freeRuns, 2u);
	EXPECT_DOUBLE_EQ(s.fragmentation(), 1.0 - 25.0 / 31.0);
	/* The kernel's own figures agree with the bitmap's. */
	EXPECT_EQ(area->debugMaxChunk, std::optional<uint64_t>(s.largestFreePages));
	EXPECT_EQ(area->debugUsed, std::optional<uint64_t>(s.usedPages));
	EXPECT_DOUBLE_EQ(*area->fragmentation(), s.fragmentation());
}

/* order_per_bit 2: each bit is 4 pages. 64 pages = 16 bits; bits 4, 5 used. */
TEST(CmaAreas, BitmapHonoursOrderPerBit)
{
	FixtureTree tree;
	tree.file("sys/kernel/mm/cma/reserved/total_pages", "64\n");
	tree.file("sys/kernel/debug/cma/reserved/order_per_bit", "2\n");
	tree.file("sys/kernel/debug/cma/reserved/bitmap", std::to_string(0x30u) + "\n");

	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "reserved", { true, true });
	ASSERT_TRUE(area.has_value());
	ASSERT_TRUE(area->bitmap.has_value());
	EXPECT_EQ(area->bitmap->orderPerBit, 2u);
	EXPECT_EQ(area->bitmap->ranges[0].bits, 16u);
	CmaBitmapSummary s = area->bitmap->summarize();
	EXPECT_EQ(s.pages, 64u);
	EXPECT_EQ(s.usedPages, 8u);
	EXPECT_EQ(s.freePages, 56u);
	EXPECT_EQ(s.largestFreePages, 40u);
	EXPECT_EQ(s.freeRuns, 2u);
}

/* A long all-free then all-used bitmap takes the word-at-a-time path. */
TEST(CmaAreas, BitmapWholeWords)
{
	CmaBitmap bitmap;
	CmaBitmap::Range range;
	range.words = { 0, 0, 0xffffffffu, 0, 0x80000000u };
	range.bits = 160;
	bitmap.ranges.push_back(range);
	CmaBitmapSummary s = bitmap.summarize();
	EXPECT_EQ(s.usedPages, 33u);
	EXPECT_EQ(s.freePages, 127u);
	EXPECT_EQ(s.largestFreePages, 64u);
	EXPECT_EQ(s.freeRuns, 2u);
}

TEST(CmaAreas, BitmapEmptyAndFull)
{
	CmaBitmap bitmap;
	CmaBitmap::Range range;
	range.words = { 0xffffffffu };
	range.bits = 32;
	bitmap.ranges.push_back(range);
	CmaBitmapSummary full = bitmap.summarize();
	EXPECT_EQ(full.freePages, 0u);
	EXPECT_EQ(full.freeRuns, 0u);
	EXPECT_DOUBLE_EQ(full.fragmentation(), 0.0);

	bitmap.ranges[0].words = { 0 };
	CmaBitmapSummary empty = bitmap.summarize();
	EXPECT_EQ(empty.freePages, 32u);
	EXPECT_EQ(empty.freeRuns, 1u);
	EXPECT_DOUBLE_EQ(empty.fragmentation(), 0.0);
}

/* 6.14+ multi-range areas: free runs never cross from one range to the next. */
TEST(CmaAreas, BitmapWithSeveralRanges)
{
	FixtureTree tree;
	std::string dir = "sys/kernel/debug/cma/hugetlb0/";
	tree.file(dir + "count", "104\n");	/* 64 + 40 pages */
	tree.file(dir + "order_per_bit", "0\n");
	tree.file(dir + "ranges/0/base_pfn", "4096\n");
	tree.file(dir + "ranges/0/bitmap", "1 0\n");	/* bit 0 used, 1-63 free */
	tree.file(dir + "ranges/1/base_pfn", "65536\n");
	tree.file(dir + "ranges/1/bitmap", "0 0\n");

	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "hugetlb0", { true, true });
	ASSERT_TRUE(area.has_value());
	ASSERT_TRUE(area->bitmap.has_value());
	const CmaBitmap &bitmap = *area->bitmap;
	ASSERT_EQ(bitmap.ranges.size(), 2u);
	EXPECT_EQ(bitmap.ranges[0].basePfn, std::optional<uint64_t>(4096));
	EXPECT_EQ(bitmap.ranges[1].basePfn, std::optional<uint64_t>(65536));
	EXPECT_FALSE(bitmap.exactLength);
	EXPECT_EQ(bitmap.ranges[0].bits + bitmap.ranges[1].bits, 104u);

	CmaBitmapSummary s = bitmap.summarize();
	EXPECT_EQ(s.pages, 104u);
	EXPECT_EQ(s.usedPages, 1u);
	/* 63 free up to the end of range 0, then 40 in range 1: two runs. */
	EXPECT_EQ(s.freeRuns, 2u);
	EXPECT_EQ(s.largestFreePages, 63u);
	EXPECT_EQ(s.freePages, 103u);
}

TEST(CmaAreas, BitmapMalformedIsAnIssue)
{
	FixtureTree tree;
	tree.file("sys/kernel/debug/cma/reserved/count", "64\n");
	tree.file("sys/kernel/debug/cma/reserved/bitmap", "0 zz\n");

	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "reserved", { true, true });
	ASSERT_TRUE(area.has_value());
	EXPECT_FALSE(area->bitmap.has_value());
	ASSERT_EQ(area->issues.size(), 1u);
	EXPECT_EQ(area->issues[0].code, EINVAL);
	EXPECT_NE(area->issues[0].context.find("bitmap"), std::string::npos);
}

TEST(CmaAreas, BitmapShorterThanCountIsAnIssue)
{
	FixtureTree tree;
	tree.file("sys/kernel/debug/cma/reserved/count", "100\n");
	tree.file("sys/kernel/debug/cma/reserved/bitmap", "0 0\n");

	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "reserved", { true, true });
	ASSERT_TRUE(area.has_value());
	EXPECT_FALSE(area->bitmap.has_value());
	ASSERT_EQ(area->issues.size(), 1u);
	EXPECT_EQ(area->issues[0].code, EINVAL);
}

TEST(CmaAreas, OccupancyMap)
{
	CmaBitmap bitmap;
	CmaBitmap::Range range;
	range.words = { 0x0fu };	/* bits 0-3 of 8 used */
	range.bits = 8;
	bitmap.ranges.push_back(range);
	EXPECT_EQ(bitmap.occupancyMap(2), (std::vector<uint8_t>{ 255, 0 }));
	EXPECT_EQ(bitmap.occupancyMap(1), (std::vector<uint8_t>{ 128 }));
	EXPECT_EQ(bitmap.occupancyMap(4), (std::vector<uint8_t>{ 255, 255, 0, 0 }));
	EXPECT_TRUE(bitmap.occupancyMap(0).empty());
	EXPECT_EQ(bitmap.occupancyMap(16).size(), 16u);
}

TEST(CmaAreas, ParseU32Array)
{
	Result<std::vector<uint32_t>> words = parseU32Array("1 2 4294967295\n");
	ASSERT_TRUE(words.has_value());
	EXPECT_EQ(*words, (std::vector<uint32_t>{ 1, 2, 4294967295u }));
	EXPECT_TRUE(parseU32Array("").has_value());
	EXPECT_TRUE(parseU32Array("\n")->empty());
	EXPECT_FALSE(parseU32Array("4294967296\n").has_value());
	EXPECT_FALSE(parseU32Array("-1\n").has_value());
	EXPECT_FALSE(parseU32Array("0x10\n").has_value());
}

TEST(CmaAreas, MalformedValueIsAnIssueNotAValue)
{
	FixtureTree tree;
	tree.file("sys/kernel/mm/cma/reserved/total_pages", "lots\n");
	tree.file("sys/kernel/mm/cma/reserved/available_pages", "10\n");

	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "reserved");
	ASSERT_TRUE(area.has_value());
	EXPECT_FALSE(area->totalPages.has_value());
	EXPECT_EQ(area->availablePages, std::optional<uint64_t>(10));
	ASSERT_EQ(area->issues.size(), 1u);
	EXPECT_EQ(area->issues[0].code, EINVAL);
	EXPECT_NE(area->issues[0].context.find("total_pages"), std::string::npos);
}

TEST(CmaAreas, UnreadableFileIsAnIssue)
{
	FixtureTree tree;
	tree.file("sys/kernel/debug/cma/reserved/used", "1\n");
	tree.dir("sys/kernel/debug/cma/reserved/count");	/* read() gives EISDIR */

	Result<CmaAreaInfo> area = readCmaArea(tree.paths(), "reserved");
	ASSERT_TRUE(area.has_value());
	EXPECT_FALSE(area->debugCount.has_value());
	EXPECT_EQ(area->debugUsed, std::optional<uint64_t>(1));
	ASSERT_EQ(area->issues.size(), 1u);
	EXPECT_EQ(area->issues[0].code, EISDIR);
}

TEST(CmaAreas, MissingAreaAndBadNames)
{
	FixtureTree tree;
	tree.cmaArea("reserved");
	Result<CmaAreaInfo> missing = readCmaArea(tree.paths(), "linux,cma");
	ASSERT_FALSE(missing.has_value());
	EXPECT_EQ(missing.error().code, ENOENT);
	EXPECT_NE(missing.error().context.find("linux,cma"), std::string::npos);

	for (const char *bad : { "", ".", "..", "../reserved", "a/b" }) {
		Result<CmaAreaInfo> area = readCmaArea(tree.paths(), bad);
		ASSERT_FALSE(area.has_value()) << bad;
		EXPECT_EQ(area.error().code, EINVAL) << bad;
	}
}

/* Areas listed in either sysfs or debugfs, sorted, each once. */
TEST(CmaAreas, ListsTheUnionOfSysfsAndDebugfs)
{
	FixtureTree tree;
	tree.cmaArea("reserved");
	tree.cmaArea("video");
	tree.dir("sys/kernel/debug/cma/reserved");
	tree.dir("sys/kernel/debug/cma/camera");
	tree.file("sys/kernel/debug/cma/stray-file", "");

	EXPECT_EQ(listCmaAreas(tree.paths()),
		  (std::vector<std::string>{ "camera", "reserved", "video" }));
	std::vector<CmaAreaInfo> areas = readCmaAreas(tree.paths());
	ASSERT_EQ(areas.size(), 3u);
	EXPECT_EQ(areas[0].name, "camera");
	EXPECT_NE(findCmaArea(areas, "video"), nullptr);
	EXPECT_EQ(findCmaArea(areas, "nope"), nullptr);
}

TEST(CmaAreas, NoCmaAtAllIsEmpty)
{
	FixtureTree tree;
	EXPECT_TRUE(listCmaAreas(tree.paths()).empty());
	EXPECT_TRUE(readCmaAreas(tree.paths()).empty());
	EXPECT_EQ(totalCmaBytes(std::vector<CmaAreaInfo>{}), 0u);
}
