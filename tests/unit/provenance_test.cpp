/* SPDX-License-Identifier: MIT */
/*
 * Heap provenance from device-tree fixture trees laid out as boards
 * have them: reserved-memory regions, the devices whose memory-region
 * phandles name them, their bound drivers, and the heaps the kernel
 * makes of the CMA regions.
 */
#include <bufmgr/provenance.h>

#include <string>

#include <gtest/gtest.h>

#include "device_tree_fixture.h"

using namespace bufmgr;
using namespace heapcomp::test;

namespace {

struct Board {
	FixtureTree tree;

	DeviceTreeRegions regions() const
	{
		auto result = readDeviceTreeRegions(tree.paths());
		EXPECT_TRUE(result) << (result ? "" : result.error().message());
		return result ? *result : DeviceTreeRegions{};
	}

	std::vector<HeapInfo> heaps() const
	{
		auto result = discoverHeaps(tree.paths());
		EXPECT_TRUE(result) << (result ? "" : result.error().message());
		return result ? *result : std::vector<HeapInfo>{};
	}
};

const HeapProvenance &find(const std::vector<HeapProvenance> &all, const std::string &heap)
{
	for (const HeapProvenance &p : all)
		if (p.heap == heap)
			return p;
	static const HeapProvenance missing;
	ADD_FAILURE() << "no provenance for heap " << heap;
	return missing;
}

/* Raspberry Pi: one default CMA area, placed by size, that the display uses without naming it. */
TEST(Provenance, DefaultCmaAreaOnly)
{
	Board board;
	prop(board.tree, "reserved-memory", "#address-cells", be32({ 1 }));
	prop(board.tree, "reserved-memory", "#size-cells", be32({ 1 }));
	prop(board.tree, "reserved-memory/linux,cma", "compatible", strings({ "shared-dma-pool" }));
	prop(board.tree, "reserved-memory/linux,cma", "reusable");
	prop(board.tree, "reserved-memory/linux,cma", "linux,cma-default");
	prop(board.tree, "reserved-memory/linux,cma", "size", be32({ 0x10000000 }));
	prop(board.tree, "soc/gpu", "compatible", strings({ "brcm,bcm2712-vc6" }));
	board.tree.heap("system");
	board.tree.heap("default_cma_region");
	board.tree.heap("linux,cma");
	board.tree.cmaArea("linux,cma");

	DeviceTreeRegions tree = board.regions();
	EXPECT_TRUE(tree.hasDeviceTree);
	ASSERT_EQ(tree.regions.size(), 1u);
	const ReservedRegion &cma = tree.regions[0];
	EXPECT_EQ(cma.node, "/reserved-memory/linux,cma");
	EXPECT_TRUE(cma.isCma());
	EXPECT_TRUE(cma.cmaDefault);
	EXPECT_FALSE(cma.base.has_value());
	EXPECT_EQ(cma.size, std::optional<uint64_t>(256u << 20));
	EXPECT_TRUE(cma.users.empty());

	std::vector<HeapProvenance> all = heapProvenance(board.heaps(), tree);
	const HeapProvenance &heap = find(all, "default_cma_region");
	EXPECT_EQ(heap.region, &tree.regions[0]);
	EXPECT_NE(heap.summary.find("256 MiB"), std::string::npos) << heap.summary;
	EXPECT_NE(heap.summary.find("every device without a region"), std::string::npos)
		<< heap.summary;
	/* The legacy name is the same area. */
	EXPECT_EQ(find(all, "linux,cma").region, &tree.regions[0]);
	EXPECT_EQ(find(all, "system").region, nullptr);
	EXPECT_NE(find(all, "system").summary.find("system memory"), std::string::npos);
}

/*
 * i.MX8-like: a display region and a video region, each named by its
 * device's memory-region, one device bound to a driver; a carveout that
 * is not CMA; a device naming a phandle that does not exist.
 */
TEST(Provenance, DedicatedRegionsNameTheirDevices)
{
	Board board;
	prop(board.tree, "reserved-memory", "#address-cells", be32({ 2 }));
	prop(board.tree, "reserved-memory", "#size-cells", be32({ 2 }));
	cmaRegion(board.tree, "display@94000000", 0x10, 0x94000000, 64u << 20);
	cmaRegion(board.tree, "vpu@98000000", 0x11, 0x98000000, 128u << 20);
	prop(board.tree, "reserved-memory/ramoops@91f00000", "compatible", strings({ "ramoops" }));
	prop(board.tree, "reserved-memory/ramoops@91f00000", "no-map");
	prop(board.tree, "reserved-memory/ramoops@91f00000", "reg",
	     be32({ 0, 0x91f00000, 0, 0x100000 }));
	prop(board.tree, "reserved-memory/ramoops@91f00000", "phandle", be32({ 0x12 }));

	prop(board.tree, "soc/lcd-controller@32e80000", "compatible",
	     strings({ "fsl,imx8mp-lcdif", "fsl,imx6sx-lcdif" }));
	prop(board.tree, "soc/lcd-controller@32e80000", "memory-region", be32({ 0x10 }));
	boundDevice(board.tree, "32e80000.lcd-controller", "soc/lcd-controller@32e80000",
		    "imx-lcdif");
	prop(board.tree, "soc/video-codec@38300000", "compatible", strings({ "nxp,imx8mm-vpu" }));
	prop(board.tree, "soc/video-codec@38300000", "memory-region", be32({ 0x11 }));
	prop(board.tree, "soc/isp@32e10000", "memory-region", be32({ 0x99 }));
	board.tree.heap("system");

	DeviceTreeRegions tree = board.regions();
	ASSERT_EQ(tree.regions.size(), 3u);
	const ReservedRegion &display = tree.regions[0];
	EXPECT_EQ(display.node, "/reserved-memory/display@94000000");
	EXPECT_EQ(display.base, std::optional<uint64_t>(0x94000000));
	EXPECT_EQ(display.size, std::optional<uint64_t>(64u << 20));
	ASSERT_EQ(display.users.size(), 1u);
	EXPECT_EQ(display.users[0].node, "/soc/lcd-controller@32e80000");
	EXPECT_EQ(display.users[0].driver, "imx-lcdif");
	EXPECT_EQ(display.users[0].compatible.front(), "fsl,imx8mp-lcdif");
	const ReservedRegion &ramoops = tree.regions[1];
	EXPECT_FALSE(ramoops.isCma());
	EXPECT_TRUE(ramoops.noMap);
	const ReservedRegion &vpu = tree.regions[2];
	ASSERT_EQ(vpu.users.size(), 1u);
	EXPECT_EQ(vpu.users[0].node, "/soc/video-codec@38300000");
	EXPECT_TRUE(vpu.users[0].driver.empty());
	ASSERT_EQ(tree.dangling.size(), 1u);
	EXPECT_EQ(tree.dangling[0].node, "/soc/isp@32e10000");
	EXPECT_EQ(tree.dangling[0].phandle, 0x99u);

	std::vector<HeapProvenance> all = heapProvenance(board.heaps(), tree);
	const HeapProvenance &displayHeap = find(all, "display@94000000");
	EXPECT_EQ(displayHeap.region, &tree.regions[0]);
	ASSERT_EQ(displayHeap.users.size(), 1u);
	EXPECT_NE(displayHeap.summary.find("/soc/lcd-controller@32e80000 (imx-lcdif)"),
		  std::string::npos)
		<< displayHeap.summary;
	EXPECT_EQ(find(all, "vpu@98000000").region, &tree.regions[2]);
}

/* x86 or ACPI: no tree; the heaps say what is not known. */
TEST(Provenance, NoDeviceTree)
{
	Board board;
	board.tree.heap("system");
	board.tree.heap("reserved");
	board.tree.cmaArea("reserved");
	DeviceTreeRegions tree = board.regions();
	EXPECT_FALSE(tree.hasDeviceTree);
	EXPECT_TRUE(tree.regions.empty());
	std::vector<HeapProvenance> all = heapProvenance(board.heaps(), tree);
	const HeapProvenance &cma = find(all, "reserved");
	EXPECT_EQ(cma.region, nullptr);
	EXPECT_NE(cma.summary.find("no device tree"), std::string::npos) << cma.summary;
}

} /* namespace */

namespace {

const HeapAccounting &accounting(const std::vector<HeapAccounting> &all, const std::string &heap)
{
	for (const HeapAccounting &a : all)
		if (a.heap == heap)
			return a;
	static const HeapAccounting missing;
	ADD_FAILURE() << "no accounting for heap " << heap;
	return missing;
}

/* A kernel that registers the CMA area as a dmem region and charges the system heap to memcg. */
TEST(Accounting, DmemRegionAndMemcg)
{
	Board board;
	board.tree.heap("system");
	board.tree.heap("reserved");
	board.tree.cmaArea("reserved");
	board.tree.file("sys/fs/cgroup/cgroup.controllers", "cpu memory dmem\n");
	board.tree.file("sys/fs/cgroup/dmem.capacity",
			"drm/0000:03:00.0/vram0 8514437120\ncma/reserved 134217728\n");
	board.tree.file("sys/module/system_heap/parameters/mem_accounting", "Y\n");
	std::vector<HeapAccounting> all = heapAccounting(board.heaps(), board.tree.paths());
	const HeapAccounting &cma = accounting(all, "reserved");
	EXPECT_EQ(cma.controller, Accounting::Dmem);
	EXPECT_EQ(cma.dmemRegion, "cma/reserved");
	EXPECT_EQ(cma.dmemCapacity, std::optional<uint64_t>(128u << 20));
	EXPECT_EQ(accounting(all, "system").controller, Accounting::Memcg);
}

/* Today's kernels: a dmem controller with no heap region, no mem_accounting. */
TEST(Accounting, NothingPaysIsSaid)
{
	Board board;
	board.tree.heap("system");
	board.tree.heap("reserved");
	board.tree.cmaArea("reserved");
	board.tree.file("sys/fs/cgroup/cgroup.controllers", "cpu memory dmem\n");
	std::vector<HeapAccounting> all = heapAccounting(board.heaps(), board.tree.paths());
	const HeapAccounting &cma = accounting(all, "reserved");
	EXPECT_EQ(cma.controller, Accounting::None);
	EXPECT_NE(cma.summary.find("escapes cgroup limits"), std::string::npos) << cma.summary;
	EXPECT_NE(cma.summary.find("no dmem region"), std::string::npos) << cma.summary;
	const HeapAccounting &system = accounting(all, "system");
	EXPECT_EQ(system.controller, Accounting::None);
	EXPECT_NE(system.summary.find("no system_heap.mem_accounting"), std::string::npos)
		<< system.summary;

	/* The parameter there but off. */
	board.tree.file("sys/module/system_heap/parameters/mem_accounting", "N\n");
	all = heapAccounting(board.heaps(), board.tree.paths());
	EXPECT_EQ(accounting(all, "system").controller, Accounting::None);
	EXPECT_NE(accounting(all, "system").summary.find("is off"), std::string::npos);
}

} /* namespace */
