/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Device-tree nodes in a FixtureTree, laid out as the kernel shows them
 * under /sys/firmware/devicetree/base: one file per property, cells
 * big-endian, string lists NUL-separated.
 */
#include <cstdint>
#include <initializer_list>
#include <string>

#include "fixture_tree.h"

namespace heapcomp::test {

/* Big-endian cells, as the kernel shows device-tree properties. */
inline std::string be32(std::initializer_list<uint32_t> values)
{
	std::string out;
	for (uint32_t v : values) {
		out += char(v >> 24);
		out += char(v >> 16);
		out += char(v >> 8);
		out += char(v);
	}
	return out;
}

/* NUL-terminated strings, as compatible lists are stored. */
inline std::string strings(std::initializer_list<const char *> values)
{
	std::string out;
	for (const char *v : values) {
		out += v;
		out += '\0';
	}
	return out;
}

inline constexpr const char *kDt = "sys/firmware/devicetree/base/";

inline void prop(const FixtureTree &tree, const std::string &node, const std::string &name,
		 const std::string &value = {})
{
	tree.file(kDt + node + "/" + name, value);
}

/* A platform device bound to driver whose of_node is node. */
inline void boundDevice(const FixtureTree &tree, const std::string &device,
			const std::string &node, const std::string &driver)
{
	tree.dir("sys/bus/platform/drivers/" + driver);
	tree.symlink(tree.path(kDt + node), "sys/bus/platform/devices/" + device + "/of_node");
	tree.symlink(tree.path("sys/bus/platform/drivers/" + driver),
		     "sys/bus/platform/devices/" + device + "/driver");
}

/* A reusable shared-dma-pool region with 64-bit cells, and the CMA heap the kernel makes of it. */
inline void cmaRegion(const FixtureTree &tree, const std::string &name, uint32_t phandle,
		      uint64_t base, uint64_t size)
{
	const std::string node = "reserved-memory/" + name;
	prop(tree, node, "compatible", strings({ "shared-dma-pool" }));
	prop(tree, node, "reusable");
	prop(tree, node, "reg",
	     be32({ uint32_t(base >> 32), uint32_t(base), uint32_t(size >> 32), uint32_t(size) }));
	prop(tree, node, "phandle", be32({ phandle }));
	tree.heap(name);
	tree.cmaArea(name);
}

/*
 * i.MX8-like: the display's own CMA region "display@94000000", named by
 * the LCD controller (bound to imx-lcdif) and registered as the dmem
 * region "cma/display@94000000"; the system heap charged to memcg.
 */
inline void displayRegionBoard(const FixtureTree &tree)
{
	prop(tree, "reserved-memory", "#address-cells", be32({ 2 }));
	prop(tree, "reserved-memory", "#size-cells", be32({ 2 }));
	cmaRegion(tree, "display@94000000", 0x10, 0x94000000, 64u << 20);
	prop(tree, "soc/lcd-controller@32e80000", "memory-region", be32({ 0x10 }));
	boundDevice(tree, "32e80000.lcd-controller", "soc/lcd-controller@32e80000", "imx-lcdif");
	tree.file("sys/fs/cgroup/cgroup.controllers", "cpu memory dmem\n");
	tree.file("sys/fs/cgroup/dmem.capacity", "cma/display@94000000 67108864\n");
	tree.file("sys/module/system_heap/parameters/mem_accounting", "Y\n");
}

} /* namespace heapcomp::test */
