/* SPDX-License-Identifier: MIT */
#include <bufmgr/provenance.h>

#include <bufmgr/json_writer.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

namespace bufmgr {

namespace fs = std::filesystem;

namespace {

/* A property's raw bytes; nullopt when the node has no such property. */
std::optional<std::string> readProperty(const fs::path &node, const char *name)
{
	std::ifstream file(node / name, std::ios::binary);
	if (!file)
		return std::nullopt;
	return std::string(std::istreambuf_iterator<char>(file), {});
}

/* Device-tree cells are big-endian 32-bit words. */
std::vector<uint32_t> cells(const std::string &bytes)
{
	std::vector<uint32_t> out;
	for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
		const auto *p = reinterpret_cast<const uint8_t *>(bytes.data() + i);
		out.push_back(uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]);
	}
	return out;
}

/* A number made of count cells from index on (1 or 2 cells). */
std::optional<uint64_t> number(const std::vector<uint32_t> &words, size_t index, uint32_t count)
{
	if (count == 0 || count > 2 || index + count > words.size())
		return std::nullopt;
	uint64_t value = 0;
	for (uint32_t i = 0; i < count; i++)
		value = value << 32 | words[index + i];
	return value;
}

std::vector<std::string> stringList(const std::string &bytes)
{
	std::vector<std::string> out;
	size_t start = 0;
	while (start < bytes.size()) {
		size_t end = bytes.find('\0', start);
		if (end == std::string::npos)
			end = bytes.size();
		if (end > start)
			out.push_back(bytes.substr(start, end - start));
		start = end + 1;
	}
	return out;
}

uint32_t cellCount(const fs::path &node, const char *name, uint32_t fallback)
{
	auto bytes = readProperty(node, name);
	std::vector<uint32_t> words = bytes ? cells(*bytes) : std::vector<uint32_t>{};
	return words.empty() ? fallback : words[0];
}

/* "/soc/display@ff900000" for a directory under the tree's root. */
std::string nodePath(const fs::path &root, const fs::path &dir)
{
	std::string rel = fs::relative(dir, root).generic_string();
	return rel == "." ? "/" : "/" + rel;
}

/* Device-tree node path -> bound driver, from the platform devices' of_node links. */
std::map<std::string, std::string> boundDrivers(const SystemPaths &paths, const fs::path &root)
{
	std::map<std::string, std::string> drivers;
	std::error_code ec;
	const fs::path canonicalRoot = fs::weakly_canonical(root, ec);
	for (const auto &entry : fs::directory_iterator(paths.platformDevicesDir, ec)) {
		std::error_code linkError;
		fs::path ofNode = fs::canonical(entry.path() / "of_node", linkError);
		if (linkError)
			continue;
		fs::path driver = fs::read_symlink(entry.path() / "driver", linkError);
		if (linkError)
			continue;
		std::string rel = fs::relative(ofNode, canonicalRoot, linkError).generic_string();
		if (linkError || rel.starts_with(".."))
			continue;
		drivers[rel == "." ? "/" : "/" + rel] = driver.filename().string();
	}
	return drivers;
}

std::string mib(uint64_t bytes)
{
	std::ostringstream out;
	out << (bytes >> 20) << " MiB";
	return out.str();
}

std::string describeUsers(const std::vector<RegionUser> &users)
{
	std::string out;
	for (const RegionUser &user : users) {
		if (!out.empty())
			out += ", ";
		out += user.node;
		if (!user.driver.empty())
			out += " (" + user.driver + ")";
	}
	return out;
}

} /* namespace */

bool ReservedRegion::isCma() const
{
	return reusable && std::find(compatible.begin(), compatible.end(), "shared-dma-pool") !=
				   compatible.end();
}

Result<DeviceTreeRegions> readDeviceTreeRegions(const SystemPaths &paths)
{
	DeviceTreeRegions tree;
	const fs::path root = paths.deviceTreeDir;
	std::error_code ec;
	if (!fs::is_directory(root, ec))
		return tree;
	tree.hasDeviceTree = true;

	const fs::path reserved = root / "reserved-memory";
	if (fs::is_directory(reserved, ec)) {
		const uint32_t addressCells = cellCount(reserved, "#address-cells", 2);
		const uint32_t sizeCells = cellCount(reserved, "#size-cells", 2);
		std::vector<fs::path> children;
		for (const auto &entry : fs::directory_iterator(reserved, ec))
			if (entry.is_directory())
				children.push_back(entry.path());
		std::sort(children.begin(), children.end());
		for (const fs::path &child : children) {
			ReservedRegion region;
			region.node = nodePath(root, child);
			region.name = child.filename().string();
			if (auto compatible = readProperty(child, "compatible"))
				region.compatible = stringList(*compatible);
			region.reusable = readProperty(child, "reusable").has_value();
			region.cmaDefault = readProperty(child, "linux,cma-default").has_value();
			region.noMap = readProperty(child, "no-map").has_value();
			if (auto reg = readProperty(child, "reg")) {
				std::vector<uint32_t> words = cells(*reg);
				region.base = number(words, 0, addressCells);
				region.size = number(words, addressCells, sizeCells);
			} else if (auto size = readProperty(child, "size")) {
				region.size = number(cells(*size), 0, sizeCells);
			}
			if (auto phandle = readProperty(child, "phandle")) {
				std::vector<uint32_t> words = cells(*phandle);
				if (!words.empty())
					region.phandle = words[0];
			}
			tree.regions.push_back(std::move(region));
		}
	} else if (ec) {
		return unexpected(ec.value(), "read " + reserved.string());
	}

	/* Every node naming regions in memory-region, with its driver if bound. */
	const std::map<std::string, std::string> drivers = boundDrivers(paths, root);
	for (auto it = fs::recursive_directory_iterator(
		     root, fs::directory_options::skip_permission_denied, ec);
	     it != fs::recursive_directory_iterator(); it.increment(ec)) {
		if (ec)
			break;
		if (!it->is_directory() || it->is_symlink())
			continue;
		auto references = readProperty(it->path(), "memory-region");
		if (!references)
			continue;
		RegionUser user;
		user.node = nodePath(root, it->path());
		if (auto compatible = readProperty(it->path(), "compatible"))
			user.compatible = stringList(*compatible);
		if (auto driver = drivers.find(user.node); driver != drivers.end())
			user.driver = driver->second;
		for (uint32_t phandle : cells(*references)) {
			auto region = std::find_if(tree.regions.begin(), tree.regions.end(),
						   [&](const ReservedRegion &r) {
							   return r.phandle == phandle;
						   });
			if (region == tree.regions.end())
				tree.dangling.push_back({ user.node, phandle });
			else
				region->users.push_back(user);
		}
	}
	for (ReservedRegion &region : tree.regions)
		std::sort(region.users.begin(), region.users.end(),
			  [](const RegionUser &a, const RegionUser &b) { return a.node < b.node; });
	return tree;
}

std::vector<HeapProvenance> heapProvenance(const std::vector<HeapInfo> &heaps,
					   const DeviceTreeRegions &tree)
{
	std::vector<HeapProvenance> out;
	for (const HeapInfo &heap : heaps) {
		HeapProvenance p;
		p.heap = heap.name;
		if (heap.kind == HeapKind::DefaultCma) {
			for (const ReservedRegion &region : tree.regions)
				if (region.cmaDefault && region.isCma())
					p.region = &region;
		} else if (heap.isCma()) {
			for (const ReservedRegion &region : tree.regions)
				if (region.name == heap.cmaArea)
					p.region = &region;
		}

		if (p.region) {
			p.users = p.region->users;
			std::string size = p.region->size ? " (" + mib(*p.region->size) + ")" : "";
			p.summary = (p.region->isCma() ? "CMA region " : "reserved region ") +
				    p.region->node + size;
			if (!p.users.empty())
				p.summary += " for " + describeUsers(p.users);
			else if (p.region->cmaDefault)
				p.summary += ": the default area, for every device without a region "
					     "of its own";
			else
				p.summary += ": no device names it";
		} else if (heap.kind == HeapKind::System || heap.kind == HeapKind::SystemUncached) {
			p.summary = "system memory: any device that can reach scattered pages";
		} else if (!tree.hasDeviceTree) {
			p.summary = heap.isCma() ? "CMA area " + heap.cmaArea +
							   ": no device tree says which devices use it"
						 : "no device tree says which devices use it";
		} else if (heap.kind == HeapKind::DefaultCma) {
			p.summary = "default CMA area from the kernel command line (cma=): for every "
				    "device without a region of its own";
		} else {
			p.summary = "no reserved-memory region found for it";
		}
		out.push_back(std::move(p));
	}
	return out;
}

std::string_view toString(Accounting accounting)
{
	switch (accounting) {
	case Accounting::Dmem:
		return "dmem";
	case Accounting::Memcg:
		return "memcg";
	case Accounting::None:
		return "none";
	}
	return "none";
}

std::vector<HeapAccounting> heapAccounting(const std::vector<HeapInfo> &heaps,
					   const SystemPaths &paths)
{
	/* The root cgroup's dmem.capacity: "region capacity" lines. */
	std::vector<std::pair<std::string, uint64_t>> regions;
	std::ifstream capacity(fs::path(paths.cgroupDir) / "dmem.capacity");
	auto controllers = readProperty(paths.cgroupDir, "cgroup.controllers");
	const bool dmemController = capacity.is_open() ||
				    (controllers && controllers->find("dmem") != std::string::npos);
	std::string name;
	uint64_t bytes = 0;
	while (capacity >> name >> bytes)
		regions.emplace_back(name, bytes);

	std::optional<bool> memcgCharged;
	if (auto value = readProperty(fs::path(paths.moduleDir) / "system_heap" / "parameters",
				      "mem_accounting"))
		memcgCharged = !value->empty() && ((*value)[0] == 'Y' || (*value)[0] == '1');

	std::vector<HeapAccounting> out;
	for (const HeapInfo &heap : heaps) {
		HeapAccounting a;
		a.heap = heap.name;
		/* A region named after the heap or its CMA area, as in "cma/<area>". */
		for (const auto &[region, size] : regions) {
			std::string last = region.substr(region.rfind('/') + 1);
			if (last == heap.name || (!heap.cmaArea.empty() && last == heap.cmaArea)) {
				a.controller = Accounting::Dmem;
				a.dmemRegion = region;
				a.dmemCapacity = size;
			}
		}
		const bool system = heap.kind == HeapKind::System || heap.kind == HeapKind::SystemUncached;
		if (a.controller == Accounting::Dmem) {
			a.summary = "dmem region " + a.dmemRegion + " (" + mib(*a.dmemCapacity) +
				    "): dmem.max of the allocating cgroup limits it";
		} else if (system && memcgCharged.value_or(false)) {
			a.controller = Accounting::Memcg;
			a.summary = "memcg (system_heap.mem_accounting is on): charged to the "
				    "allocating process's memory cgroup";
		} else {
			a.summary = "nothing: this memory escapes cgroup limits (";
			if (system)
				a.summary += memcgCharged ? "system_heap.mem_accounting is off"
							  : "the kernel has no system_heap.mem_accounting";
			else
				a.summary += dmemController ? "no dmem region registered for it"
							    : "no dmem controller";
			a.summary += ")";
		}
		out.push_back(std::move(a));
	}
	return out;
}

void writeJson(JsonWriter &json, const std::vector<RegionUser> &devices)
{
	json.beginArray();
	for (const RegionUser &device : devices) {
		json.beginObject();
		json.field("node", device.node);
		json.fieldOrNull("driver", device.driver);
		json.endObject();
	}
	json.endArray();
}

void writeJson(JsonWriter &json, const HeapAccounting &accounting)
{
	json.beginObject();
	json.field("controller", toString(accounting.controller));
	json.fieldOrNull("dmem_region", accounting.dmemRegion);
	json.field("summary", accounting.summary);
	json.endObject();
}

} /* namespace bufmgr */
