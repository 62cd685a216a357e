/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <bufmgr/heap.h>
#include <bufmgr/result.h>

namespace bufmgr {

class JsonWriter;

/* A device-tree node that names a reserved region in its memory-region. */
struct RegionUser {
	std::string node;	/* "/soc/display@ff900000" */
	std::vector<std::string> compatible;
	std::string driver;	/* bound driver from sysfs; empty: none or unknown */
};

/*
 * A child of /reserved-memory in the device tree: a carveout, a CMA area
 * (reusable shared-dma-pool) or the default CMA area (linux,cma-default).
 */
struct ReservedRegion {
	std::string node;	/* "/reserved-memory/linux,cma" */
	std::string name;	/* the node's name, as the kernel names the CMA area */
	std::vector<std::string> compatible;
	bool reusable = false;	/* CMA: the kernel lends it out until a device needs it */
	bool cmaDefault = false;	/* linux,cma-default */
	bool noMap = false;	/* a carveout outside the kernel's memory */
	std::optional<uint64_t> base;	/* from reg, when static */
	std::optional<uint64_t> size;	/* from reg, or size when placed dynamically */
	std::optional<uint32_t> phandle;
	std::vector<RegionUser> users;

	bool isCma() const;
};

/* memory-region phandles that name no region: a broken tree, reported. */
struct DanglingReference {
	std::string node;
	uint32_t phandle = 0;
};

struct DeviceTreeRegions {
	bool hasDeviceTree = false;	/* false on x86/ACPI systems */
	std::vector<ReservedRegion> regions;
	std::vector<DanglingReference> dangling;
};

/*
 * Reads /reserved-memory and every memory-region property of the device
 * tree under paths.deviceTreeDir, and the drivers bound to those devices
 * from paths.platformDevicesDir (of_node links). No device tree is not an
 * error: hasDeviceTree says so.
 */
Result<DeviceTreeRegions> readDeviceTreeRegions(const SystemPaths &paths = {});

/* Which device(s) a heap's memory is for, as far as the system says. */
struct HeapProvenance {
	std::string heap;
	const ReservedRegion *region = nullptr;	/* into the DeviceTreeRegions given */
	/*
	 * Devices the memory is for: the region's users, or for the default
	 * CMA area, every device without a region of its own (empty then).
	 */
	std::vector<RegionUser> users;
	/* "reserved region /reserved-memory/display@... for /soc/display@..." etc. */
	std::string summary;
};

/*
 * Ties each heap to its reserved region: a CMA heap by its CMA area's
 * name, the default CMA heap by linux,cma-default. Heaps with no region
 * (system, or no device tree) get a summary saying why.
 */
std::vector<HeapProvenance> heapProvenance(const std::vector<HeapInfo> &heaps,
					   const DeviceTreeRegions &tree);

/* Which cgroup controller pays for a heap's memory. */
enum class Accounting : uint8_t {
	Dmem,	/* a dmem region of its own: dmem.max limits it */
	Memcg,	/* the allocating process's memory cgroup */
	None,	/* nothing: the memory escapes cgroup limits */
};

std::string_view toString(Accounting accounting);

struct HeapAccounting {
	std::string heap;
	Accounting controller = Accounting::None;
	std::string dmemRegion;		/* with Dmem: the region's name */
	std::optional<uint64_t> dmemCapacity;
	std::string summary;
};

/*
 * For each heap, who pays: a dmem region the kernel registered for it
 * (root cgroup's dmem.capacity, matched by the heap's or its CMA area's
 * name), memcg for the system heap where its mem_accounting parameter is
 * on, otherwise nothing.
 */
std::vector<HeapAccounting> heapAccounting(const std::vector<HeapInfo> &heaps,
					   const SystemPaths &paths = {});

/* As a JSON value: [{"node", "driver" (null: none)}]. */
void writeJson(JsonWriter &json, const std::vector<RegionUser> &devices);
/* As a JSON value: {"controller", "dmem_region" (null unless dmem), "summary"}. */
void writeJson(JsonWriter &json, const HeapAccounting &accounting);

} /* namespace bufmgr */
