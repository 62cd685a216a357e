/* SPDX-License-Identifier: MIT */
#include <bufmgr/heap.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bufmgr/unique_fd.h>

#include "allocator_util.h"

namespace bufmgr {

namespace {

/* Whole small kernel file (sysfs, debugfs, procfs); their size says 0. */
Result<std::string> readFile(const std::string &path)
{
	UniqueFd fd(sys::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		return unexpected(errno, "open " + path);

	std::string text;
	char chunk[4096];
	for (;;) {
		ssize_t n = ::read(fd.get(), chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return unexpected(errno, "read " + path);
		}
		if (n == 0)
			break;
		text.append(chunk, static_cast<size_t>(n));
	}
	return text;
}

std::string_view trim(std::string_view s)
{
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
		s.remove_prefix(1);
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
		s.remove_suffix(1);
	return s;
}

std::optional<uint64_t> parseU64(std::string_view s)
{
	s = trim(s);
	uint64_t value = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size())
		return std::nullopt;
	return value;
}

/* A numeric attribute's text, up to max; EINVAL names the file and the text. */
Result<uint64_t> parseNumber(const std::string &path, std::string_view text,
			     uint64_t max = std::numeric_limits<uint64_t>::max())
{
	std::optional<uint64_t> value = parseU64(text);
	if (!value || *value > max)
		return unexpected(EINVAL, "parse " + path + ": '" + std::string(trim(text)) + "'");
	return *value;
}

/*
 * Reads one numeric attribute: a missing file leaves the field unset
 * (kernels differ in what they expose), anything else wrong is an issue.
 */
template<typename T>
void readNumber(const std::string &path, std::optional<T> &field,
		std::vector<Error> &issues)
{
	Result<std::string> text = readFile(path);
	if (!text) {
		if (text.error().code != ENOENT)
			issues.push_back(text.error());
		return;
	}
	Result<uint64_t> value = parseNumber(path, *text, std::numeric_limits<T>::max());
	if (!value) {
		issues.push_back(value.error());
		return;
	}
	field = static_cast<T>(*value);
}

/* Entries of a directory, without "." and ".."; errno on failure. */
Result<std::vector<std::string>> listDirectory(const std::string &path)
{
	DIR *dir = ::opendir(path.c_str());
	if (!dir)
		return unexpected(errno, "open directory " + path);

	std::vector<std::string> names;
	while (struct dirent *entry = ::readdir(dir)) {
		std::string_view name = entry->d_name;
		if (name == "." || name == "..")
			continue;
		names.emplace_back(name);
	}
	::closedir(dir);
	std::sort(names.begin(), names.end());
	return names;
}

bool isDirectory(const std::string &path)
{
	struct stat st;
	return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool containsWord(std::string_view haystack, std::string_view needle)
{
	auto it = std::search(haystack.begin(), haystack.end(),
			      needle.begin(), needle.end(),
			      [](char a, char b) {
				      return std::tolower(static_cast<unsigned char>(a)) == b;
			      });
	return it != haystack.end();
}

bool isProtectedName(std::string_view name)
{
	return containsWord(name, "secure") || containsWord(name, "protected") ||
	       containsWord(name, "restricted");
}

/* Names that reach outside their directory are never valid area names. */
bool isValidEntryName(std::string_view name)
{
	return !name.empty() && name != "." && name != ".." &&
	       name.find('/') == std::string_view::npos;
}

constexpr std::array<std::string_view, 3> kLegacyDefaultCmaNames = {
	"reserved", "linux,cma", "default-pool",
};

bool isLegacyDefaultCmaName(std::string_view name)
{
	return std::find(kLegacyDefaultCmaNames.begin(), kLegacyDefaultCmaNames.end(),
			 name) != kLegacyDefaultCmaNames.end();
}

int kindRank(HeapKind kind)
{
	return static_cast<int>(kind);
}

void setProperties(HeapInfo &heap)
{
	switch (heap.kind) {
	case HeapKind::System:
		heap.contiguous = false;
		heap.cpuCached = true;
		break;
	case HeapKind::SystemUncached:
		heap.contiguous = false;
		heap.cpuCached = false;
		break;
	case HeapKind::DefaultCma:
	case HeapKind::RegionCma:
		/* CMA heap buffers are contiguous and cacheable (kernel docs). */
		heap.contiguous = true;
		heap.cpuCached = true;
		break;
	case HeapKind::Protected:
		/* Contiguous if carved from a CMA area; the CPU cannot map it. */
		heap.contiguous = heap.isCma() ? std::optional<bool>(true) : std::nullopt;
		heap.cpuCached.reset();
		break;
	case HeapKind::Unknown:
		heap.contiguous.reset();
		heap.cpuCached.reset();
		break;
	}
}

HeapKind classify(std::string_view name, const std::set<std::string> &areas)
{
	if (name == "system")
		return HeapKind::System;
	if (name == "system-uncached" || name == "system_uncached")
		return HeapKind::SystemUncached;
	if (isDefaultCmaName(name))
		return HeapKind::DefaultCma;
	if (isProtectedName(name))
		return HeapKind::Protected;
	if (areas.count(std::string(name)))
		return HeapKind::RegionCma;
	return HeapKind::Unknown;
}

/* Per-node facts gathered before the naming rules run. */
struct Node {
	HeapInfo info;
	bool isSymlink = false;
	bool hasIdentity = false;
	/* Same value: same heap. (char device?, rdev or st_dev, 0 or st_ino) */
	std::tuple<bool, uint64_t, uint64_t> identity;
};

/*
 * The area behind "default_cma_region": the kernel names the legacy node
 * after it, so that settles it; else the one legacy-named area; else the
 * only area there is.
 */
std::string defaultCmaArea(const std::vector<Node> &nodes,
			   const std::set<std::string> &areas)
{
	std::vector<std::string> candidates;
	for (const Node &node : nodes) {
		if (node.info.kind == HeapKind::DefaultCma &&
		    node.info.name != kDefaultCmaHeapName && !node.info.isAlias())
			candidates.push_back(node.info.name);
	}
	if (candidates.size() == 1)
		return candidates.front();
	if (!candidates.empty())
		return {};

	for (const std::string &area : areas) {
		if (isLegacyDefaultCmaName(area))
			candidates.push_back(area);
	}
	if (candidates.size() == 1)
		return candidates.front();
	if (candidates.empty() && areas.size() == 1)
		return *areas.begin();
	return {};
}

void makeAlias(HeapInfo &alias, const HeapInfo &primary)
{
	alias.aliasOf = primary.name;
	alias.kind = primary.kind;
	alias.cmaArea = primary.cmaArea;
	alias.contiguous = primary.contiguous;
	alias.cpuCached = primary.cpuCached;
}

/* Heaps for the same device (symlinks, duplicate nodes) are one heap. */
void resolveSameDevice(std::vector<Node> &nodes)
{
	std::map<std::tuple<bool, uint64_t, uint64_t>, std::vector<size_t>> groups;
	for (size_t i = 0; i < nodes.size(); i++) {
		if (nodes[i].hasIdentity)
			groups[nodes[i].identity].push_back(i);
	}

	for (auto &[identity, members] : groups) {
		if (members.size() < 2)
			continue;
		/* The real node is primary; among equals, the better-named one. */
		auto better = [&](size_t a, size_t b) {
			const Node &x = nodes[a], &y = nodes[b];
			if (x.isSymlink != y.isSymlink)
				return !x.isSymlink;
			bool xKnown = x.info.kind != HeapKind::Unknown;
			bool yKnown = y.info.kind != HeapKind::Unknown;
			if (xKnown != yKnown)
				return xKnown;
			if ((x.info.name == kDefaultCmaHeapName) !=
			    (y.info.name == kDefaultCmaHeapName))
				return x.info.name == kDefaultCmaHeapName;
			return x.info.name < y.info.name;
		};
		size_t primary = *std::min_element(members.begin(), members.end(), better);
		for (size_t i : members) {
			if (i != primary)
				makeAlias(nodes[i].info, nodes[primary].info);
		}
	}
}

/* Heaps on the same CMA area: the stable name is primary. */
void resolveSameArea(std::vector<Node> &nodes)
{
	std::map<std::string, std::vector<size_t>> groups;
	for (size_t i = 0; i < nodes.size(); i++) {
		if (nodes[i].info.isCma() && !nodes[i].info.isAlias())
			groups[nodes[i].info.cmaArea].push_back(i);
	}

	for (auto &[name, members] : groups) {
		if (members.size() < 2)
			continue;
		/* clang 14 cannot capture a structured binding. */
		const std::string &area = name;
		auto better = [&](size_t a, size_t b) {
			const HeapInfo &x = nodes[a].info, &y = nodes[b].info;
			if ((x.name == kDefaultCmaHeapName) != (y.name == kDefaultCmaHeapName))
				return x.name == kDefaultCmaHeapName;
			if ((x.name == area) != (y.name == area))
				return x.name == area;
			return x.name < y.name;
		};
		size_t primary = *std::min_element(members.begin(), members.end(), better);
		for (size_t i : members) {
			if (i != primary)
				makeAlias(nodes[i].info, nodes[primary].info);
		}
	}
}

/* A link to a legacy node names the stable node, not the legacy one. */
void flattenAliases(std::vector<Node> &nodes)
{
	auto find = [&](const std::string &name) -> Node * {
		for (Node &node : nodes) {
			if (node.info.name == name)
				return &node;
		}
		return nullptr;
	};
	for (Node &node : nodes) {
		for (size_t hops = 0; node.info.isAlias() && hops < nodes.size(); hops++) {
			Node *target = find(node.info.aliasOf);
			if (!target || !target->info.isAlias())
				break;
			node.info.aliasOf = target->info.aliasOf;
		}
		if (Node *primary = node.info.isAlias() ? find(node.info.aliasOf) : nullptr)
			makeAlias(node.info, primary->info);
	}
}

Node probeNode(const std::string &dir, const std::string &name, bool &isHeap)
{
	Node node;
	node.info.name = name;
	node.info.path = dir + "/" + name;
	isHeap = false;

	struct stat lst;
	if (::lstat(node.info.path.c_str(), &lst) < 0)
		return node;	/* vanished while listing */
	node.isSymlink = S_ISLNK(lst.st_mode);

	struct stat st;
	if (::stat(node.info.path.c_str(), &st) < 0) {
		/* A dangling link is reported as a heap that cannot be opened. */
		if (!node.isSymlink)
			return node;
		isHeap = true;
		node.info.openErrno = errno;
		return node;
	}

	/* Heaps are character devices; fixture trees use regular files. */
	if (!S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode))
		return node;
	isHeap = true;

	node.hasIdentity = true;
	if (S_ISCHR(st.st_mode))
		node.identity = { true, static_cast<uint64_t>(st.st_rdev), 0 };
	else
		node.identity = { false, static_cast<uint64_t>(st.st_dev),
				  static_cast<uint64_t>(st.st_ino) };

	/* Heaps take their ioctls on a read-only open. */
	UniqueFd fd(sys::open(node.info.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
	if (fd) {
		node.info.accessible = true;
		node.info.openErrno = 0;
	} else {
		node.info.openErrno = errno;
	}
	return node;
}

bool readCmaBitmapRange(const std::string &dir, CmaBitmap::Range &range,
			std::vector<Error> &issues)
{
	std::string path = dir + "/bitmap";
	Result<std::string> text = readFile(path);
	if (!text) {
		if (text.error().code != ENOENT)
			issues.push_back(text.error());
		return false;
	}
	Result<std::vector<uint32_t>> words = parseU32Array(*text);
	if (!words) {
		issues.push_back(makeError(EINVAL, "parse " + path + ": " +
						   words.error().context));
		return false;
	}
	range.words = std::move(*words);
	readNumber(dir + "/base_pfn", range.basePfn, issues);
	return true;
}

/*
 * The bitmap is an array of unsigned long printed as u32 words. On a
 * 64-bit big-endian kernel each long's halves come out swapped.
 */
void fixWordOrder(std::vector<uint32_t> &words)
{
	if constexpr (std::endian::native == std::endian::big && sizeof(long) == 8) {
		for (size_t i = 0; i + 1 < words.size(); i += 2)
			std::swap(words[i], words[i + 1]);
	}
}

std::optional<CmaBitmap> readCmaBitmap(const std::string &areaDir,
				       const CmaAreaInfo &area,
				       std::vector<Error> &issues)
{
	CmaBitmap bitmap;
	bitmap.orderPerBit = area.orderPerBit.value_or(0);

	std::string rangesDir = areaDir + "/ranges";
	Result<std::vector<std::string>> rangeNames = listDirectory(rangesDir);
	if (rangeNames && !rangeNames->empty()) {
		/* Multi-range layout: ranges/<n>/{base_pfn,bitmap}. */
		std::vector<std::pair<uint64_t, std::string>> ordered;
		for (const std::string &name : *rangeNames) {
			if (std::optional<uint64_t> index = parseU64(name))
				ordered.emplace_back(*index, name);
		}
		std::sort(ordered.begin(), ordered.end());
		for (const auto &[index, name] : ordered) {
			CmaBitmap::Range range;
			if (!readCmaBitmapRange(rangesDir + "/" + name, range, issues))
				return std::nullopt;
			bitmap.ranges.push_back(std::move(range));
		}
	} else {
		CmaBitmap::Range range;
		if (!readCmaBitmapRange(areaDir, range, issues))
			return std::nullopt;
		bitmap.ranges.push_back(std::move(range));
	}
	if (bitmap.ranges.empty())
		return std::nullopt;

	for (CmaBitmap::Range &range : bitmap.ranges) {
		fixWordOrder(range.words);
		range.bits = range.words.size() * 32;
	}

	/*
	 * Only the total length is known (count >> order_per_bit); each
	 * range's words are rounded up to 32 bits. With one range that makes
	 * the padding exact; with several, where it sits is a guess.
	 */
	std::optional<uint64_t> pages = area.debugCount ? area.debugCount : area.totalPages;
	if (!pages) {
		bitmap.exactLength = false;
		return bitmap;
	}
	uint64_t totalBits = *pages >> bitmap.orderPerBit;
	uint64_t available = 0;
	for (const CmaBitmap::Range &range : bitmap.ranges)
		available += range.bits;
	if (totalBits > available) {
		issues.push_back(makeError(EINVAL, "bitmap of CMA area '" + area.name +
						   "' has " + std::to_string(available) +
						   " bits for " + std::to_string(totalBits) +
						   " chunks"));
		return std::nullopt;
	}
	uint64_t excess = available - totalBits;
	bitmap.exactLength = bitmap.ranges.size() == 1 || excess == 0;
	for (auto it = bitmap.ranges.rbegin(); it != bitmap.ranges.rend() && excess; ++it) {
		/* Padding never fills a whole word. */
		uint64_t cut = bitmap.ranges.size() == 1 ? excess : std::min<uint64_t>(excess, 31);
		cut = std::min(cut, it->bits);
		it->bits -= cut;
		excess -= cut;
	}
	return bitmap;
}

} /* namespace */

SystemPaths SystemPaths::underRoot(const std::string &root)
{
	SystemPaths paths;
	std::string prefix = root;
	while (!prefix.empty() && prefix.back() == '/')
		prefix.pop_back();
	paths.dmaHeapDir = prefix + paths.dmaHeapDir;
	paths.cmaSysfsDir = prefix + paths.cmaSysfsDir;
	paths.cmaDebugfsDir = prefix + paths.cmaDebugfsDir;
	paths.procDir = prefix + paths.procDir;
	paths.deviceTreeDir = prefix + paths.deviceTreeDir;
	paths.platformDevicesDir = prefix + paths.platformDevicesDir;
	paths.cgroupDir = prefix + paths.cgroupDir;
	paths.moduleDir = prefix + paths.moduleDir;
	return paths;
}

uint64_t SystemPaths::effectivePageSize() const
{
	return pageSize ? pageSize : internal::pageSize();
}

std::string_view toString(HeapKind kind)
{
	switch (kind) {
	case HeapKind::System:
		return "system";
	case HeapKind::SystemUncached:
		return "system-uncached";
	case HeapKind::DefaultCma:
		return "default-cma";
	case HeapKind::RegionCma:
		return "region-cma";
	case HeapKind::Protected:
		return "protected";
	case HeapKind::Unknown:
		break;
	}
	return "unknown";
}

bool isDefaultCmaName(std::string_view name)
{
	return name == kDefaultCmaHeapName || isLegacyDefaultCmaName(name);
}

Result<std::vector<HeapInfo>> discoverHeaps(const SystemPaths &paths)
{
	Result<std::vector<std::string>> names = listDirectory(paths.dmaHeapDir);
	if (!names) {
		if (names.error().code == ENOENT)
			return std::vector<HeapInfo>{};
		return unexpected(names.error().code,
				  "list dma-heaps: " + names.error().context);
	}

	std::vector<std::string> areaList = listCmaAreas(paths);
	std::set<std::string> areas(areaList.begin(), areaList.end());

	std::vector<Node> nodes;
	for (const std::string &name : *names) {
		bool isHeap;
		Node node = probeNode(paths.dmaHeapDir, name, isHeap);
		if (!isHeap)
			continue;
		node.info.kind = classify(name, areas);
		/* The kernel names legacy and per-region CMA heaps after their area. */
		if (node.info.kind == HeapKind::RegionCma ||
		    (node.info.kind == HeapKind::DefaultCma && name != kDefaultCmaHeapName) ||
		    (node.info.kind == HeapKind::Protected && areas.count(name)))
			node.info.cmaArea = name;
		nodes.push_back(std::move(node));
	}

	for (Node &node : nodes) {
		if (node.info.name == kDefaultCmaHeapName)
			node.info.cmaArea = defaultCmaArea(nodes, areas);
	}

	for (Node &node : nodes)
		setProperties(node.info);

	resolveSameDevice(nodes);
	resolveSameArea(nodes);
	flattenAliases(nodes);

	std::vector<HeapInfo> heaps;
	heaps.reserve(nodes.size());
	for (Node &node : nodes)
		heaps.push_back(std::move(node.info));

	std::sort(heaps.begin(), heaps.end(), [](const HeapInfo &a, const HeapInfo &b) {
		if (a.kind != b.kind)
			return kindRank(a.kind) < kindRank(b.kind);
		const std::string &groupA = a.isAlias() ? a.aliasOf : a.name;
		const std::string &groupB = b.isAlias() ? b.aliasOf : b.name;
		if (groupA != groupB) {
			/* The stable default name leads its kind. */
			if ((groupA == kDefaultCmaHeapName) != (groupB == kDefaultCmaHeapName))
				return groupA == kDefaultCmaHeapName;
			return groupA < groupB;
		}
		if (a.isAlias() != b.isAlias())
			return !a.isAlias();
		return a.name < b.name;
	});
	return heaps;
}

const HeapInfo *findHeap(const std::vector<HeapInfo> &heaps, std::string_view name)
{
	for (const HeapInfo &heap : heaps) {
		if (heap.name == name)
			return &heap;
	}
	return nullptr;
}

double CmaBitmapSummary::fragmentation() const
{
	if (freePages == 0)
		return 0.0;
	return 1.0 - static_cast<double>(largestFreePages) / static_cast<double>(freePages);
}

bool CmaBitmap::Range::isAllocated(uint64_t bit) const
{
	if (bit >= bits || bit / 32 >= words.size())
		return false;
	return (words[bit / 32] >> (bit % 32)) & 1u;
}

CmaBitmapSummary CmaBitmap::summarize() const
{
	CmaBitmapSummary summary;
	uint64_t chunk = uint64_t(1) << orderPerBit;

	/* Ranges are physically apart: a free run never crosses into the next. */
	for (const Range &range : ranges) {
		uint64_t run = 0;
		uint64_t bit = 0;
		while (bit < range.bits) {
			uint32_t word = range.words[bit / 32];
			/* Whole words at once when aligned: bitmaps can be long. */
			if (bit % 32 == 0 && range.bits - bit >= 32 && (word == 0 || word == ~0u)) {
				if (word == 0) {
					run += 32;
				} else {
					summary.usedPages += 32 * chunk;
					if (run) {
						summary.freeRuns++;
						summary.freePages += run * chunk;
						summary.largestFreePages =
							std::max(summary.largestFreePages, run * chunk);
						run = 0;
					}
				}
				bit += 32;
				continue;
			}
			if ((word >> (bit % 32)) & 1u) {
				summary.usedPages += chunk;
				if (run) {
					summary.freeRuns++;
					summary.freePages += run * chunk;
					summary.largestFreePages =
						std::max(summary.largestFreePages, run * chunk);
					run = 0;
				}
			} else {
				run++;
			}
			bit++;
		}
		if (run) {
			summary.freeRuns++;
			summary.freePages += run * chunk;
			summary.largestFreePages = std::max(summary.largestFreePages, run * chunk);
		}
		summary.pages += range.bits * chunk;
	}
	return summary;
}

std::vector<uint8_t> CmaBitmap::occupancyMap(size_t cells) const
{
	uint64_t totalBits = 0;
	for (const Range &range : ranges)
		totalBits += range.bits;
	if (cells == 0 || totalBits == 0)
		return {};

	std::vector<uint64_t> used(cells, 0), seen(cells, 0);
	uint64_t index = 0;
	for (const Range &range : ranges) {
		for (uint64_t bit = 0; bit < range.bits; bit++, index++) {
			/* Cell of this bit: proportional, 128-bit safe for huge areas. */
			size_t cell = static_cast<size_t>(
				static_cast<unsigned __int128>(index) * cells / totalBits);
			seen[cell]++;
			if (range.isAllocated(bit))
				used[cell]++;
		}
	}

	std::vector<uint8_t> map(cells, 0);
	for (size_t i = 0; i < cells; i++) {
		if (seen[i])
			map[i] = static_cast<uint8_t>((used[i] * 255 + seen[i] / 2) / seen[i]);
	}
	return map;
}

Result<std::vector<uint32_t>> parseU32Array(std::string_view text)
{
	std::vector<uint32_t> words;
	size_t pos = 0;
	while (pos < text.size()) {
		if (std::isspace(static_cast<unsigned char>(text[pos]))) {
			pos++;
			continue;
		}
		size_t end = pos;
		while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])))
			end++;
		std::string_view token = text.substr(pos, end - pos);
		std::optional<uint64_t> value = parseU64(token);
		if (!value || *value > UINT32_MAX)
			return unexpected(EINVAL, "not a u32: '" + std::string(token) + "'");
		words.push_back(static_cast<uint32_t>(*value));
		pos = end;
	}
	return words;
}

std::optional<uint64_t> CmaAreaInfo::pages() const
{
	if (totalPages)
		return totalPages;
	return debugCount;
}

std::optional<uint64_t> CmaAreaInfo::freePages() const
{
	if (availablePages)
		return availablePages;
	if (debugCount && debugUsed && *debugUsed <= *debugCount)
		return *debugCount - *debugUsed;
	if (bitmap)
		return bitmap->summarize().freePages;
	return std::nullopt;
}

std::optional<uint64_t> CmaAreaInfo::usedPages() const
{
	std::optional<uint64_t> total = pages();
	std::optional<uint64_t> free = freePages();
	if (total && free && *free <= *total)
		return *total - *free;
	return debugUsed;
}

std::optional<uint64_t> CmaAreaInfo::largestFreePages() const
{
	if (bitmap)
		return bitmap->summarize().largestFreePages;
	return debugMaxChunk;
}

std::optional<double> CmaAreaInfo::fragmentation() const
{
	if (bitmap)
		return bitmap->summarize().fragmentation();
	if (!debugMaxChunk || !debugCount || !debugUsed || *debugUsed > *debugCount)
		return std::nullopt;
	/* maxchunk and used come from the same debugfs snapshot family. */
	CmaBitmapSummary summary;
	summary.freePages = *debugCount - *debugUsed;
	summary.largestFreePages = std::min(*debugMaxChunk, summary.freePages);
	return summary.fragmentation();
}

std::vector<std::string> listCmaAreas(const SystemPaths &paths)
{
	std::set<std::string> names;
	for (const std::string *dir : { &paths.cmaSysfsDir, &paths.cmaDebugfsDir }) {
		Result<std::vector<std::string>> entries = listDirectory(*dir);
		if (!entries)
			continue;
		for (const std::string &name : *entries) {
			if (isDirectory(*dir + "/" + name))
				names.insert(name);
		}
	}
	return { names.begin(), names.end() };
}

Result<CmaAreaInfo> readCmaArea(const SystemPaths &paths, const std::string &name,
				const CmaReadOptions &options)
{
	if (!isValidEntryName(name))
		return unexpected(EINVAL, "read CMA area '" + name + "': invalid name");

	std::string sysfsDir = paths.cmaSysfsDir + "/" + name;
	std::string debugfsDir = paths.cmaDebugfsDir + "/" + name;
	bool inSysfs = isDirectory(sysfsDir);
	bool debugfsHasArea = isDirectory(debugfsDir);
	bool inDebugfs = options.debugfs && debugfsHasArea;
	if (!inSysfs && !debugfsHasArea)
		return unexpected(ENOENT, "read CMA area '" + name + "': not in " +
					  paths.cmaSysfsDir + " nor " + paths.cmaDebugfsDir);

	CmaAreaInfo area;
	area.name = name;
	area.pageSize = paths.effectivePageSize();

	if (inSysfs) {
		readNumber(sysfsDir + "/total_pages", area.totalPages, area.issues);
		readNumber(sysfsDir + "/available_pages", area.availablePages, area.issues);
		readNumber(sysfsDir + "/alloc_pages_success", area.allocPagesSuccess, area.issues);
		readNumber(sysfsDir + "/alloc_pages_fail", area.allocPagesFail, area.issues);
		readNumber(sysfsDir + "/release_pages_success", area.releasePagesSuccess,
			   area.issues);
	}

	if (inDebugfs) {
		readNumber(debugfsDir + "/count", area.debugCount, area.issues);
		readNumber(debugfsDir + "/used", area.debugUsed, area.issues);
		readNumber(debugfsDir + "/maxchunk", area.debugMaxChunk, area.issues);
		readNumber(debugfsDir + "/order_per_bit", area.orderPerBit, area.issues);
		if (area.orderPerBit && *area.orderPerBit >= 32) {
			area.issues.push_back(makeError(EINVAL, "order_per_bit " +
							std::to_string(*area.orderPerBit) +
							" of CMA area '" + name + "'"));
			area.orderPerBit.reset();
		}
		if (options.bitmap)
			area.bitmap = readCmaBitmap(debugfsDir, area, area.issues);
	} else if (options.debugfs) {
		/* Not there: debugfs unmounted, CMA_DEBUGFS off, or root-only. */
		struct stat st;
		if (::stat(paths.cmaDebugfsDir.c_str(), &st) < 0 && errno != ENOENT)
			area.issues.push_back(makeError(errno, "open " + paths.cmaDebugfsDir));
	}

	return area;
}

std::vector<CmaAreaInfo> readCmaAreas(const SystemPaths &paths,
				      const CmaReadOptions &options)
{
	std::vector<CmaAreaInfo> areas;
	for (const std::string &name : listCmaAreas(paths)) {
		Result<CmaAreaInfo> area = readCmaArea(paths, name, options);
		if (area)
			areas.push_back(std::move(*area));
	}
	return areas;
}

/* CmaCounterFiles' files, in the order of its Counts. */
constexpr std::array<const char *, 3> kCmaCounterNames = { "alloc_pages_success",
							   "alloc_pages_fail",
							   "release_pages_success" };

Result<CmaCounterFiles> CmaCounterFiles::open(const SystemPaths &paths, const std::string &name)
{
	if (!isValidEntryName(name))
		return unexpected(EINVAL, "open CMA counters of '" + name + "': invalid name");
	CmaCounterFiles files;
	files.dir_ = paths.cmaSysfsDir + "/" + name;
	for (size_t i = 0; i < kCmaCounterNames.size(); i++) {
		const std::string path = files.dir_ + "/" + kCmaCounterNames[i];
		files.files_[i].reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
		if (!files.files_[i])
			return unexpected(errno, "open " + path);
	}
	return files;
}

Result<CmaCounterFiles::Counts> CmaCounterFiles::read() const
{
	Counts counts;
	uint64_t *values[] = { &counts.allocated, &counts.failed, &counts.released };
	for (size_t i = 0; i < kCmaCounterNames.size(); i++) {
		const std::string path = dir_ + "/" + kCmaCounterNames[i];
		/* sysfs gives the whole value at offset 0 on every read. */
		char text[32];
		const ssize_t n = ::pread(files_[i].get(), text, sizeof(text), 0);
		if (n < 0)
			return unexpected(errno, "read " + path);
		Result<uint64_t> value = parseNumber(path, std::string_view(text, size_t(n)));
		if (!value)
			return unexpected(std::move(value).error());
		*values[i] = *value;
	}
	return counts;
}

const CmaAreaInfo *findCmaArea(const std::vector<CmaAreaInfo> &areas,
			       std::string_view name)
{
	for (const CmaAreaInfo &area : areas) {
		if (area.name == name)
			return &area;
	}
	return nullptr;
}

uint64_t totalCmaBytes(const std::vector<CmaAreaInfo> &areas)
{
	uint64_t bytes = 0;
	for (const CmaAreaInfo &area : areas)
		bytes += area.totalBytes();
	return bytes;
}

uint64_t totalCmaBytes(const std::vector<HeapInfo> &heaps,
		       const std::vector<CmaAreaInfo> &areas)
{
	std::set<std::string> counted;
	uint64_t bytes = 0;
	for (const HeapInfo &heap : heaps) {
		if (!heap.isCma() || !counted.insert(heap.cmaArea).second)
			continue;
		if (const CmaAreaInfo *area = findCmaArea(areas, heap.cmaArea))
			bytes += area->totalBytes();
	}
	return bytes;
}

} /* namespace bufmgr */
