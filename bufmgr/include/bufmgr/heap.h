/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

namespace bufmgr {

/*
 * Where the kernel interfaces live. Tests and `heapctl --root` point these
 * at fixture trees; everything else uses the defaults.
 */
struct SystemPaths {
	std::string dmaHeapDir = "/dev/dma_heap";
	std::string cmaSysfsDir = "/sys/kernel/mm/cma";
	std::string cmaDebugfsDir = "/sys/kernel/debug/cma";
	std::string procDir = "/proc";
	std::string deviceTreeDir = "/sys/firmware/devicetree/base";
	std::string platformDevicesDir = "/sys/bus/platform/devices";
	std::string cgroupDir = "/sys/fs/cgroup";
	std::string moduleDir = "/sys/module";
	uint64_t pageSize = 0;	/* 0: the running system's page size */

	/* The default paths, each prefixed with root ("" or "/" for none). */
	static SystemPaths underRoot(const std::string &root);

	uint64_t effectivePageSize() const;
};

/*
 * What a heap's name says about its memory. Heap names are the only
 * capability signal the kernel gives (Documentation/userspace-api/
 * dma-buf-heaps.rst), so this is a classification of names, corroborated
 * by the CMA areas the kernel lists.
 */
enum class HeapKind : uint8_t {
	System,		/* "system": scattered pages, cached */
	SystemUncached,	/* "system-uncached" (Android): scattered, write-combined */
	DefaultCma,	/* the default CMA area: "default_cma_region" and its
			 * legacy names "reserved", "linux,cma", "default-pool" */
	RegionCma,	/* a heap named after a CMA area (one per reserved region) */
	Protected,	/* "secure", "protected" or "restricted" in the name */
	Unknown,	/* a vendor heap: properties unknown */
};

std::string_view toString(HeapKind kind);

/* Names the kernel gives the default CMA heap: the stable one first. */
inline constexpr std::string_view kDefaultCmaHeapName = "default_cma_region";
bool isDefaultCmaName(std::string_view name);

/*
 * One node in the dma-heap directory. A heap that cannot be opened is
 * still listed, with the reason, so that "no access" is never mistaken
 * for "no heap".
 */
struct HeapInfo {
	std::string name;
	std::string path;
	HeapKind kind = HeapKind::Unknown;
	std::optional<bool> contiguous;	/* unset: the name does not say */
	std::optional<bool> cpuCached;	/* unset: unknown, or no CPU access */
	bool accessible = false;	/* open(O_RDONLY) succeeded */
	int openErrno = 0;		/* 0 when accessible */
	std::string cmaArea;		/* CMA area backing it, if known */
	std::string aliasOf;		/* primary heap for the same memory */

	bool isAlias() const { return !aliasOf.empty(); }
	bool isCma() const { return !cmaArea.empty(); }
};

/*
 * Lists the heaps in paths.dmaHeapDir, classified, with aliases resolved,
 * and each node probed with open(O_RDONLY | O_CLOEXEC).
 *
 * Aliases: two nodes for the same memory name the one to use in aliasOf,
 * and carry the same cmaArea, so memory is never counted twice. Detected
 * from identical device numbers (symlinks, duplicate nodes) and from the
 * kernel's naming: since 6.17 the default CMA area is exposed as
 * "default_cma_region" plus a legacy node named after the area, which
 * gets its own minor number, so only the names relate the two.
 *
 * Order: System, SystemUncached, DefaultCma, RegionCma, Protected,
 * Unknown; each alias right after its primary; then by name.
 *
 * A missing directory is an empty list (a kernel without heaps is a
 * normal configuration for the fallback chain); any other failure to read
 * the directory is an error.
 */
Result<std::vector<HeapInfo>> discoverHeaps(const SystemPaths &paths = {});

const HeapInfo *findHeap(const std::vector<HeapInfo> &heaps, std::string_view name);

/* Free-extent statistics of a CMA bitmap, in pages. */
struct CmaBitmapSummary {
	uint64_t pages = 0;
	uint64_t usedPages = 0;
	uint64_t freePages = 0;
	uint64_t largestFreePages = 0;	/* longest run of free pages */
	uint64_t freeRuns = 0;		/* number of maximal free runs */

	/*
	 * 1 - largestFree / totalFree: 0 when all free memory is one run
	 * (or nothing is free), towards 1 as it splits into small runs.
	 */
	double fragmentation() const;
};

/*
 * The debugfs allocation bitmap of one CMA area: one bit per
 * 2^orderPerBit pages, set when allocated. On newer kernels an area may be
 * made of several physical ranges, each with its own bitmap
 * (<area>/ranges/<n>/bitmap).
 */
struct CmaBitmap {
	struct Range {
		std::optional<uint64_t> basePfn;
		std::vector<uint32_t> words;	/* as debugfs prints them */
		uint64_t bits = 0;		/* valid bits; the rest is padding */

		bool isAllocated(uint64_t bit) const;
	};

	uint32_t orderPerBit = 0;
	std::vector<Range> ranges;
	/*
	 * false when the area has several ranges whose exact lengths debugfs
	 * does not give: up to 31 padding bits per range may count as free.
	 */
	bool exactLength = true;

	CmaBitmapSummary summarize() const;

	/*
	 * The area cut into `cells` equal slices, each the fraction of its
	 * pages in use scaled to 0..255; for drawing a fragmentation map.
	 */
	std::vector<uint8_t> occupancyMap(size_t cells) const;
};

/*
 * Parses a debugfs u32 array ("%u" values separated by spaces, newline
 * at the end). EINVAL on anything else.
 */
Result<std::vector<uint32_t>> parseU32Array(std::string_view text);

/*
 * One CMA area. sysfs (/sys/kernel/mm/cma/<area>, CONFIG_CMA_SYSFS) gives
 * the allocation counters; newer kernels add total_pages and
 * available_pages.
 * debugfs (CONFIG_CMA_DEBUGFS, usually root only) gives count/used/
 * maxchunk and the bitmap. Each field is set only if its file was read.
 */
struct CmaAreaInfo {
	std::string name;
	uint64_t pageSize = 0;

	std::optional<uint64_t> totalPages;
	std::optional<uint64_t> availablePages;
	std::optional<uint64_t> allocPagesSuccess;
	std::optional<uint64_t> allocPagesFail;
	std::optional<uint64_t> releasePagesSuccess;

	std::optional<uint64_t> debugCount;	/* pages */
	std::optional<uint64_t> debugUsed;	/* pages */
	std::optional<uint64_t> debugMaxChunk;	/* largest free run, pages */
	std::optional<uint32_t> orderPerBit;
	std::optional<CmaBitmap> bitmap;	/* only when asked for */

	/* Files present but unreadable or unparsable (EACCES, EINVAL...). */
	std::vector<Error> issues;

	std::optional<uint64_t> pages() const;
	std::optional<uint64_t> freePages() const;
	std::optional<uint64_t> usedPages() const;
	std::optional<uint64_t> largestFreePages() const;
	/* From the bitmap if read, else from maxchunk and the free count. */
	std::optional<double> fragmentation() const;
	uint64_t totalBytes() const { return pages().value_or(0) * pageSize; }
};

struct CmaReadOptions {
	bool debugfs = true;	/* count/used/maxchunk: cheap text files */
	bool bitmap = false;	/* parse the bitmap: size grows with the area */
};

/*
 * Names of the CMA areas in sysfs and debugfs, sorted; reads no files, so
 * cheap enough to call every frame.
 */
std::vector<std::string> listCmaAreas(const SystemPaths &paths = {});

/* Every area; missing CMA directories give an empty list. */
std::vector<CmaAreaInfo> readCmaAreas(const SystemPaths &paths = {},
				      const CmaReadOptions &options = {});

/* ENOENT if neither sysfs nor debugfs has the area, EINVAL for a bad name. */
Result<CmaAreaInfo> readCmaArea(const SystemPaths &paths, const std::string &name,
				const CmaReadOptions &options = {});

/*
 * An area's allocation counters in sysfs with their files held open, for
 * a reader that polls them: a read is three preads, where readCmaArea()
 * lists, opens, reads and closes. Areas are made at boot; the files stay.
 */
class CmaCounterFiles
{
public:
	struct Counts {
		uint64_t allocated = 0;	/* alloc_pages_success */
		uint64_t failed = 0;	/* alloc_pages_fail */
		uint64_t released = 0;	/* release_pages_success */
		bool operator==(const Counts &) const = default;
	};

	/* Its three files, or the errno and path of one that would not open. */
	static Result<CmaCounterFiles> open(const SystemPaths &paths, const std::string &name);
	Result<Counts> read() const;

private:
	std::string dir_;
	/* In Counts' order. */
	std::array<UniqueFd, 3> files_;
};

const CmaAreaInfo *findCmaArea(const std::vector<CmaAreaInfo> &areas,
			       std::string_view name);

/* Bytes of all areas, each once. */
uint64_t totalCmaBytes(const std::vector<CmaAreaInfo> &areas);

/* Bytes of the areas behind the given heaps, each area once however many
 * heaps expose it. */
uint64_t totalCmaBytes(const std::vector<HeapInfo> &heaps,
		       const std::vector<CmaAreaInfo> &areas);

} /* namespace bufmgr */
