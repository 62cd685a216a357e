/* SPDX-License-Identifier: MIT */
/*
 * heapctl - inspect DMA-BUF heaps, CMA areas and dma-buf use, and ask a
 * running heapcomp about its clients, outputs and planes.
 */

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <initializer_list>
#include <optional>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <bufmgr/exporter.h>
#include <bufmgr/heap.h>
#include <bufmgr/json_reader.h>
#include <bufmgr/json_writer.h>
#include <bufmgr/provenance.h>
#include <bufmgr/stats.h>
#include <bufmgr/unique_fd.h>

#include "control_client.h"
#include "control_socket_path.h"

using namespace bufmgr;

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

void printUsage(FILE *out)
{
	std::fputs(
		"Usage: heapctl [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Inspect DMA-BUF heaps, CMA areas and dma-buf use.\n"
		"\n"
		"Commands:\n"
		"  heaps             List the heaps in the dma-heap directory: kind,\n"
		"                    contiguity, CPU caching, whether this user can open\n"
		"                    them (and why not), the CMA area behind each and\n"
		"                    which heap another one is an alias of.\n"
		"  cma               List the CMA areas: size, use, allocation counters\n"
		"                    and fragmentation (1 - largest free run / free).\n"
		"  usage             System-wide dma-buf use per process and per exporter,\n"
		"                    each buffer counted once. Needs root to see other\n"
		"                    users' processes.\n"
		"  identify PID FD   Show the exporter (heap or driver), size and name of\n"
		"                    one dma-buf fd of a process.\n"
		"  top               'usage' again every --interval seconds, --count times\n"
		"                    (default: until interrupted).\n"
		"\n"
		"Commands that ask a running heapcomp, through its control socket:\n"
		"  stats             Outputs, renderer, backend and client buffers.\n"
		"  clients           Per client: pid, name, wl_shm and dma-buf buffers.\n"
		"  planes            Per output: frames scanned out, rendered, skipped.\n"
		"  probe             Which memory each DRM plane took when heapcomp started.\n"
		"  overlay [show|hide]\n"
		"                    Whether the statistics overlay is shown, where, and\n"
		"                    what its redraws cost; show or hide it first.\n"
		"  bench [KEY=VALUE]...\n"
		"                    Run heapcomp's allocation benchmark on its worker\n"
		"                    threads and print its figures, memfd as the baseline:\n"
		"                    size=BYTES count=BUFFERS-HELD rounds=N threads=N\n"
		"                    pattern=fixed|random|mixed pooled=yes|no\n"
		"                    sources=NAME,NAME (default: every dma-buf source,\n"
		"                    1 MiB, 32, 4, 1, fixed, fresh buffers every round).\n"
		"                    --json: Google Benchmark JSON with a context block.\n"
		"\n"
		"Options:\n"
		"  --json                  Print JSON instead of a table.\n"
		"  --socket PATH           heapcomp's control socket (default\n"
		"                          $XDG_RUNTIME_DIR/heapcomp-$WAYLAND_DISPLAY.control).\n"
		"  --interval SECONDS      top: time between refreshes (default 2).\n"
		"  --count N               top: refreshes before exiting (default 0: forever).\n"
		"  --bitmap                cma: parse the debugfs allocation bitmaps for\n"
		"                          exact free-run statistics (root, CMA_DEBUGFS).\n"
		"  --no-debugfs            heaps, cma: read sysfs only.\n"
		"  --root DIR              Prefix every system path below with DIR, e.g.\n"
		"                          a fixture tree or a mounted target root.\n"
		"  --dma-heap-dir DIR      Heap devices (default /dev/dma_heap).\n"
		"  --cma-sysfs-dir DIR     CMA sysfs (default /sys/kernel/mm/cma).\n"
		"  --cma-debugfs-dir DIR   CMA debugfs (default /sys/kernel/debug/cma).\n"
		"  --proc-dir DIR          procfs (default /proc).\n"
		"  --page-size BYTES       Page size for byte figures (default: this\n"
		"                          system's).\n"
		"  -h, --help              Show this help.\n"
		"\n"
		"Options may come before or after the command. A directory option\n"
		"overrides --root for its path.\n"
		"\n"
		"Exit status: 0 on success, 1 when the command failed, 2 on a usage\n"
		"error.\n",
		out);
}

/*
 * Buffer names and process names come from other processes: never let
 * their control bytes reach the terminal.
 */
std::string printable(std::string_view s)
{
	std::string out;
	for (size_t i = 0; i < s.size();) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		size_t len = utf8Length(s, i);
		/* C0 and DEL, bytes that are not UTF-8, and C1 (U+0080-U+009F). */
		bool control = c < 0x20 || c == 0x7f || len == 0 ||
			       (c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0);
		if (control) {
			char buf[8];
			std::snprintf(buf, sizeof(buf), "\\x%02x", c);
			out += buf;
			i++;
			continue;
		}
		out.append(s.substr(i, len));
		i += len;
	}
	return out;
}

std::string yesNo(const std::optional<bool> &v)
{
	if (!v)
		return "?";
	return *v ? "yes" : "no";
}

std::string orDash(const std::string &s)
{
	return s.empty() ? "-" : s;
}

template<typename T>
std::string numberOrDash(const std::optional<T> &v)
{
	return v ? std::to_string(*v) : "-";
}

std::string accessText(const HeapInfo &heap)
{
	if (heap.accessible)
		return "ok";
	std::string text = std::strerror(heap.openErrno);
	return text;
}

/* Left-aligned columns sized to their widest cell. */
class Table
{
public:
	explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
	void add(std::vector<std::string> row)
	{
		for (std::string &cell : row)
			cell = printable(cell);
		rows_.push_back(std::move(row));
	}

	void print(FILE *out) const
	{
		std::vector<size_t> widths;
		for (const auto &row : rows_) {
			widths.resize(std::max(widths.size(), row.size()), 0);
			for (size_t i = 0; i < row.size(); i++)
				widths[i] = std::max(widths[i], row[i].size());
		}
		for (const auto &row : rows_) {
			std::string line;
			for (size_t i = 0; i < row.size(); i++) {
				line += row[i];
				if (i + 1 < row.size())
					line += std::string(widths[i] - row[i].size() + 2, ' ');
			}
			std::fprintf(out, "%s\n", line.c_str());
		}
	}

private:
	std::vector<std::vector<std::string>> rows_;
};

struct Options {
	bool json = false;
	bool bitmap = false;
	bool debugfs = true;
	SystemPaths paths;
	std::optional<std::string> socket;	/* heapcomp's control socket */
	double interval = 2.0;	/* top */
	int count = 0;	/* top; 0: forever */
	std::vector<std::string> args;	/* command and its arguments */
};

void printIssues(const std::vector<CmaAreaInfo> &areas)
{
	for (const CmaAreaInfo &area : areas) {
		for (const Error &issue : area.issues)
			std::fprintf(stderr, "heapctl: warning: %s\n",
				     printable(issue.message()).c_str());
	}
}

void writeAreaJson(JsonWriter &w, const CmaAreaInfo &area)
{
	w.beginObject();
	w.field("name", area.name);
	w.field("page_size", area.pageSize);
	w.field("total_pages", area.pages());
	w.field("free_pages", area.freePages());
	w.field("used_pages", area.usedPages());
	w.field("largest_free_pages", area.largestFreePages());
	w.field("fragmentation", area.fragmentation());
	w.key("sysfs");
	w.beginObject();
	w.field("total_pages", area.totalPages);
	w.field("available_pages", area.availablePages);
	w.field("alloc_pages_success", area.allocPagesSuccess);
	w.field("alloc_pages_fail", area.allocPagesFail);
	w.field("release_pages_success", area.releasePagesSuccess);
	w.endObject();
	w.key("debugfs");
	w.beginObject();
	w.field("count", area.debugCount);
	w.field("used", area.debugUsed);
	w.field("maxchunk", area.debugMaxChunk);
	w.field("order_per_bit", area.orderPerBit);
	w.endObject();
	w.key("bitmap");
	if (area.bitmap) {
		CmaBitmapSummary summary = area.bitmap->summarize();
		w.beginObject();
		w.field("ranges", static_cast<uint64_t>(area.bitmap->ranges.size()));
		w.field("exact_length", area.bitmap->exactLength);
		w.field("pages", summary.pages);
		w.field("used_pages", summary.usedPages);
		w.field("free_pages", summary.freePages);
		w.field("largest_free_pages", summary.largestFreePages);
		w.field("free_runs", summary.freeRuns);
		w.field("fragmentation", summary.fragmentation());
		w.endObject();
	} else {
		w.null();
	}
	w.key("issues");
	w.beginArray();
	for (const Error &issue : area.issues)
		w.value(issue.message());
	w.endArray();
	w.endObject();
}

int cmdHeaps(const Options &options)
{
	if (options.args.size() != 1) {
		std::fprintf(stderr, "heapctl: 'heaps' takes no arguments\n");
		return kExitUsage;
	}

	Result<std::vector<HeapInfo>> heaps = discoverHeaps(options.paths);
	if (!heaps) {
		std::fprintf(stderr, "heapctl: %s\n", heaps.error().message().c_str());
		return kExitFailure;
	}
	CmaReadOptions cmaOptions;
	cmaOptions.debugfs = options.debugfs;
	std::vector<CmaAreaInfo> areas = readCmaAreas(options.paths, cmaOptions);
	uint64_t cmaBytes = totalCmaBytes(*heaps, areas);
	/* Which devices each heap's memory is for: a tree that cannot be read is not fatal. */
	Result<DeviceTreeRegions> tree = readDeviceTreeRegions(options.paths);
	if (!tree)
		std::fprintf(stderr, "heapctl: device tree: %s\n", tree.error().message().c_str());
	const DeviceTreeRegions regions = tree ? *tree : DeviceTreeRegions{};
	std::vector<HeapProvenance> provenance = heapProvenance(*heaps, regions);
	std::vector<HeapAccounting> accounting = heapAccounting(*heaps, options.paths);

	if (options.json) {
		JsonWriter w;
		w.beginObject();
		w.field("dma_heap_dir", options.paths.dmaHeapDir);
		w.key("heaps");
		w.beginArray();
		for (const HeapInfo &heap : *heaps) {
			const CmaAreaInfo *area = findCmaArea(areas, heap.cmaArea);
			w.beginObject();
			w.field("name", heap.name);
			w.field("path", heap.path);
			w.field("kind", toString(heap.kind));
			w.field("contiguous", heap.contiguous);
			w.field("cpu_cached", heap.cpuCached);
			w.field("accessible", heap.accessible);
			w.field("open_errno", heap.openErrno);
			w.key("open_error");
			if (heap.accessible)
				w.null();
			else
				w.value(std::strerror(heap.openErrno));
			w.fieldOrNull("cma_area", heap.cmaArea);
			w.fieldOrNull("alias_of", heap.aliasOf);
			w.key("cma_total_bytes");
			if (area && area->pages())
				w.value(area->totalBytes());
			else
				w.null();
			w.key("cma_free_bytes");
			if (area && area->freePages())
				w.value(*area->freePages() * area->pageSize);
			else
				w.null();
			const HeapProvenance &from = provenance[size_t(&heap - heaps->data())];
			w.key("provenance");
			w.beginObject();
			w.fieldOrNull("region", from.region ? from.region->node : std::string());
			w.key("devices");
			writeJson(w, from.users);
			w.field("summary", from.summary);
			w.endObject();
			w.key("accounting");
			writeJson(w, accounting[size_t(&heap - heaps->data())]);
			w.endObject();
		}
		w.endArray();
		w.field("device_tree", regions.hasDeviceTree);
		w.field("cma_bytes_behind_heaps", cmaBytes);
		w.endObject();
		std::printf("%s\n", w.str().c_str());
		return 0;
	}

	if (heaps->empty()) {
		std::printf("no DMA-BUF heaps in %s\n", options.paths.dmaHeapDir.c_str());
		return 0;
	}

	Table table({ "NAME", "KIND", "CONTIG", "CACHED", "ACCESS", "CMA AREA", "SIZE",
		      "FREE", "ALIAS OF" });
	for (const HeapInfo &heap : *heaps) {
		const CmaAreaInfo *area = findCmaArea(areas, heap.cmaArea);
		std::string size = "-", free = "-";
		if (area && area->pages())
			size = bufmgr::formatBytes(area->totalBytes());
		if (area && area->freePages())
			free = bufmgr::formatBytes(*area->freePages() * area->pageSize);
		table.add({ heap.name, std::string(toString(heap.kind)), yesNo(heap.contiguous),
			    yesNo(heap.cpuCached), accessText(heap), orDash(heap.cmaArea), size,
			    free, orDash(heap.aliasOf) });
	}
	table.print(stdout);
	if (cmaBytes)
		std::printf("\nCMA behind these heaps: %s (each area counted once)\n",
			    bufmgr::formatBytes(cmaBytes).c_str());
	std::printf("\nWhat each heap's memory is for:\n");
	for (size_t i = 0; i < provenance.size(); i++)
		std::printf("  %s: %s\n    paid by %s\n", provenance[i].heap.c_str(),
			    provenance[i].summary.c_str(), accounting[i].summary.c_str());
	for (const DanglingReference &d : regions.dangling)
		std::printf("  (device tree: %s names phandle %#x, which no region has)\n",
			    d.node.c_str(), d.phandle);
	return 0;
}

int cmdCma(const Options &options)
{
	if (options.args.size() != 1) {
		std::fprintf(stderr, "heapctl: 'cma' takes no arguments\n");
		return kExitUsage;
	}

	CmaReadOptions cmaOptions;
	cmaOptions.debugfs = options.debugfs;
	cmaOptions.bitmap = options.bitmap;
	if (options.bitmap && !options.debugfs) {
		std::fprintf(stderr, "heapctl: --bitmap needs debugfs\n");
		return kExitUsage;
	}
	std::vector<CmaAreaInfo> areas = readCmaAreas(options.paths, cmaOptions);

	if (options.json) {
		JsonWriter w;
		w.beginObject();
		w.key("areas");
		w.beginArray();
		for (const CmaAreaInfo &area : areas)
			writeAreaJson(w, area);
		w.endArray();
		w.field("total_bytes", totalCmaBytes(areas));
		w.endObject();
		std::printf("%s\n", w.str().c_str());
		return 0;
	}

	printIssues(areas);
	if (areas.empty()) {
		std::printf("no CMA areas in %s or %s\n", options.paths.cmaSysfsDir.c_str(),
			    options.paths.cmaDebugfsDir.c_str());
		return 0;
	}

	Table table({ "AREA", "SIZE", "USED", "FREE", "LARGEST FREE", "FREE RUNS", "FRAG",
		      "ALLOC OK", "ALLOC FAIL", "RELEASED" });
	for (const CmaAreaInfo &area : areas) {
		auto bytes = [&](const std::optional<uint64_t> &pages) {
			return pages ? bufmgr::formatBytes(*pages * area.pageSize) : std::string("-");
		};
		std::string frag = "-";
		if (std::optional<double> f = area.fragmentation()) {
			char buf[16];
			std::snprintf(buf, sizeof(buf), "%.3f", *f);
			frag = buf;
		}
		std::string runs = "-";
		if (area.bitmap)
			runs = std::to_string(area.bitmap->summarize().freeRuns) +
			       (area.bitmap->exactLength ? "" : "~");
		table.add({ area.name, bytes(area.pages()), bytes(area.usedPages()),
			    bytes(area.freePages()), bytes(area.largestFreePages()), runs, frag,
			    numberOrDash(area.allocPagesSuccess),
			    numberOrDash(area.allocPagesFail),
			    numberOrDash(area.releasePagesSuccess) });
	}
	table.print(stdout);
	std::printf("\nTotal CMA: %s\n", bufmgr::formatBytes(totalCmaBytes(areas)).c_str());
	return 0;
}

std::string describeExporter(const std::vector<HeapInfo> &heaps, const std::string &exporter)
{
	const HeapInfo *heap = heapForExporter(heaps, exporter);
	if (!heap)
		return "-";
	std::string text = "heap, " + std::string(toString(heap->kind));
	if (heap->isCma())
		text += ", CMA area " + heap->cmaArea;
	return text;
}

int cmdUsage(const Options &options)
{
	if (options.args.size() != 1) {
		std::fprintf(stderr, "heapctl: 'usage' takes no arguments\n");
		return kExitUsage;
	}

	DmaBufUsageScan scan = scanProcessDmaBufs(options.paths);
	/* Only to say which exporters are heaps; no heaps is fine here. */
	std::vector<HeapInfo> heaps = discoverHeaps(options.paths).value_or(std::vector<HeapInfo>{});

	if (options.json) {
		JsonWriter w;
		auto writeExporters = [&](const std::vector<ExporterUsage> &exporters,
					  bool annotate) {
			w.beginArray();
			for (const ExporterUsage &e : exporters) {
				w.beginObject();
				w.field("exporter", e.exporter);
				w.field("buffers", e.buffers);
				w.field("bytes", e.bytes);
				w.field("fds", e.fds);
				if (annotate) {
					const HeapInfo *heap = heapForExporter(heaps, e.exporter);
					w.key("heap_kind");
					if (heap)
						w.value(toString(heap->kind));
					else
						w.null();
					w.key("cma_area");
					if (heap && heap->isCma())
						w.value(heap->cmaArea);
					else
						w.null();
				}
				w.endObject();
			}
			w.endArray();
		};

		w.beginObject();
		w.key("processes");
		w.beginArray();
		for (const ProcessDmaBufUsage &p : scan.processes) {
			w.beginObject();
			w.field("pid", p.pid);
			w.field("comm", p.comm);
			w.field("buffers", p.buffers);
			w.field("bytes", p.bytes);
			w.field("fds", p.fds);
			w.key("exporters");
			writeExporters(p.exporters, false);
			w.endObject();
		}
		w.endArray();
		w.key("exporters");
		writeExporters(scan.exporters, true);
		w.field("buffers", scan.buffers);
		w.field("bytes", scan.bytes);
		w.field("deduplicated", scan.deduplicated);
		w.key("inaccessible_pids");
		w.beginArray();
		for (int pid : scan.inaccessiblePids)
			w.value(pid);
		w.endArray();
		w.endObject();
		std::printf("%s\n", w.str().c_str());
		return 0;
	}

	if (!scan.inaccessiblePids.empty())
		std::fprintf(stderr,
			     "heapctl: warning: %zu processes could not be inspected "
			     "(permission denied); run as root to see them\n",
			     scan.inaccessiblePids.size());
	if (!scan.deduplicated)
		std::fprintf(stderr, "heapctl: warning: the kernel shows no inodes in "
				     "fdinfo; buffers shared by several fds count more than once\n");

	if (scan.processes.empty()) {
		std::printf("no process holds a dma-buf fd\n");
		return 0;
	}

	Table processes({ "PID", "COMM", "BUFFERS", "BYTES", "FDS", "EXPORTERS" });
	for (const ProcessDmaBufUsage &p : scan.processes) {
		std::string exporters;
		for (const ExporterUsage &e : p.exporters) {
			if (!exporters.empty())
				exporters += ", ";
			exporters += e.exporter + " " + bufmgr::formatBytes(e.bytes);
		}
		processes.add({ std::to_string(p.pid), orDash(p.comm), std::to_string(p.buffers),
				bufmgr::formatBytes(p.bytes), std::to_string(p.fds), exporters });
	}
	processes.print(stdout);

	std::printf("\n");
	Table exporters({ "EXPORTER", "BUFFERS", "BYTES", "FDS", "SOURCE" });
	for (const ExporterUsage &e : scan.exporters)
		exporters.add({ e.exporter, std::to_string(e.buffers), bufmgr::formatBytes(e.bytes),
				std::to_string(e.fds), describeExporter(heaps, e.exporter) });
	exporters.print(stdout);
	std::printf("\nTotal: %" PRIu64 " buffers, %s (each buffer counted once)\n",
		    scan.buffers, bufmgr::formatBytes(scan.bytes).c_str());
	return 0;
}

std::optional<int> parseInt(const std::string &s)
{
	if (s.empty())
		return std::nullopt;
	char *end = nullptr;
	errno = 0;
	long value = std::strtol(s.c_str(), &end, 10);
	if (errno || *end || value < 0 || value > INT32_MAX)
		return std::nullopt;
	return static_cast<int>(value);
}

int cmdIdentify(const Options &options)
{
	if (options.args.size() != 3) {
		std::fprintf(stderr, "heapctl: usage: heapctl identify PID FD\n");
		return kExitUsage;
	}
	std::optional<int> pid = parseInt(options.args[1]);
	std::optional<int> fd = parseInt(options.args[2]);
	if (!pid || !fd) {
		std::fprintf(stderr, "heapctl: PID and FD must be non-negative integers\n");
		return kExitUsage;
	}

	Result<DmaBufInfo> info = identifyProcessDmaBuf(*pid, *fd, options.paths);
	if (!info) {
		std::fprintf(stderr, "heapctl: %s\n", info.error().message().c_str());
		return kExitFailure;
	}
	std::vector<HeapInfo> heaps = discoverHeaps(options.paths).value_or(std::vector<HeapInfo>{});
	const HeapInfo *heap = heapForExporter(heaps, info->exporter);

	if (options.json) {
		JsonWriter w;
		w.beginObject();
		w.field("pid", *pid);
		w.field("fd", *fd);
		w.field("exporter", info->exporter);
		w.field("size", info->size);
		w.field("count", info->count);
		w.field("name", info->name);
		w.field("inode", info->inode);
		w.key("heap_kind");
		if (heap)
			w.value(toString(heap->kind));
		else
			w.null();
		w.key("cma_area");
		if (heap && heap->isCma())
			w.value(heap->cmaArea);
		else
			w.null();
		w.key("alias_of");
		if (heap && heap->isAlias())
			w.value(heap->aliasOf);
		else
			w.null();
		w.endObject();
		std::printf("%s\n", w.str().c_str());
		return 0;
	}

	std::printf("exporter:  %s\n", printable(info->exporter).c_str());
	std::printf("source:    %s\n", printable(describeExporter(heaps, info->exporter)).c_str());
	if (heap && heap->isAlias())
		std::printf("alias of:  %s\n", printable(heap->aliasOf).c_str());
	std::printf("size:      %" PRIu64 " (%s)\n", info->size, bufmgr::formatBytes(info->size).c_str());
	std::printf("name:      %s\n", info->name ? printable(*info->name).c_str() : "-");
	std::printf("inode:     %s\n", numberOrDash(info->inode).c_str());
	std::printf("refs:      %" PRId64 "\n", info->count);
	return 0;
}

/* heapcomp's control socket: --socket, else beside $WAYLAND_DISPLAY. */
std::optional<std::string> controlSocketPath(const Options &options)
{
	if (options.socket)
		return *options.socket;
	const char *display = std::getenv("WAYLAND_DISPLAY");
	std::string name = display && *display ? display : "wayland-0";
	const char *runtimeDir = std::getenv("XDG_RUNTIME_DIR");
	if (name[0] != '/' && (!runtimeDir || !*runtimeDir)) {
		std::fprintf(stderr, "heapctl: XDG_RUNTIME_DIR is not set: give --socket PATH\n");
		return std::nullopt;
	}
	return comp::controlSocketPath(runtimeDir ? runtimeDir : "", name);
}

std::string text(const Json &json, std::initializer_list<const char *> path)
{
	const Json &value = jsonAt(json, path);
	if (value.type == Json::Type::String || value.type == Json::Type::Number)
		return value.text;
	return "-";
}

std::string bytesText(const Json &json, std::initializer_list<const char *> path)
{
	std::optional<uint64_t> bytes = jsonNumber(json, path);
	return bytes ? bufmgr::formatBytes(*bytes) : "-";
}

/* "shown, composed, 680x530, 17 redraws, 0.61 ms CPU each", "hidden", "none". */
std::string overlayText(const Json &overlay)
{
	if (overlay.type != Json::Type::Object)
		return "none";
	if (!jsonAt(overlay, { "shown" }).boolean)
		return "hidden";
	std::string shown = std::string("shown, ") +
			    (jsonAt(overlay, { "on_plane" }).boolean ? "on a plane of its own"
								     : "composed") +
			    ", " + text(overlay, { "width" }) + "x" + text(overlay, { "height" });
	const uint64_t redraws = jsonNumber(overlay, { "redraws" }).value_or(0);
	const uint64_t cpuNs = jsonNumber(overlay, { "cpu_ns" }).value_or(0);
	if (redraws) {
		char cost[96];
		std::snprintf(cost, sizeof(cost), ", %" PRIu64 " redraws, %.2f ms CPU each", redraws,
			      double(cpuNs) / 1e6 / double(redraws));
		shown += cost;
	}
	return shown;
}

void printStats(const Json &stats)
{
	Table outputs({ "OUTPUT", "MODE", "FRAMES", "SCANNED OUT", "RENDERED", "SKIPPED" });
	for (const Json &output : jsonAt(stats, { "outputs" }).array) {
		std::string mode = text(output, { "mode", "width" }) + "x" +
				   text(output, { "mode", "height" });
		if (std::optional<uint64_t> mhz = jsonNumber(output, { "mode", "refresh_mhz" })) {
			char hz[32];
			std::snprintf(hz, sizeof(hz), "@%.2f", *mhz / 1000.0);
			mode += hz;
		}
		outputs.add({ text(output, { "name" }), mode, text(output, { "frames" }),
			      text(output, { "repaint", "scanned_out" }),
			      text(output, { "repaint", "rendered" }),
			      text(output, { "repaint", "skipped" }) });
	}
	outputs.print(stdout);
	std::string backend = text(stats, { "backend", "name" });
	/* DRM: the seat, whether the session has the display, the input devices. */
	if (jsonAt(stats, { "backend", "seat" }).type == Json::Type::String) {
		const size_t inputs = jsonAt(stats, { "backend", "input_devices" }).array.size();
		backend += ", " + text(stats, { "backend", "seat" }) +
			   (jsonAt(stats, { "backend", "session_active" }).boolean ? "" : " (paused)") +
			   ", " + std::to_string(inputs) + " input device" + (inputs == 1 ? "" : "s");
	}
	std::printf("\nbackend:  %s\n", printable(backend).c_str());
	std::printf("renderer: %s (client dma-bufs via %s)\n",
		    printable(text(stats, { "renderer", "name" })).c_str(),
		    printable(text(stats, { "renderer", "dma_buf_path" })).c_str());
	std::printf("overlay:  %s\n", overlayText(jsonAt(stats, { "overlay" })).c_str());
	std::printf("clients:  %s\n\n", text(stats, { "clients" }).c_str());

	Table buffers({ "CLIENT BUFFERS", "BUFFERS", "BYTES" });
	buffers.add({ "wl_shm", text(stats, { "client_buffers", "shm", "buffers" }),
		      bytesText(stats, { "client_buffers", "shm", "bytes" }) });
	buffers.add({ "dma-buf", text(stats, { "client_buffers", "dma_buf", "buffers" }),
		      bytesText(stats, { "client_buffers", "dma_buf", "bytes" }) });
	for (const auto &[exporter, count] :
	     jsonAt(stats, { "client_buffers", "dma_buf", "by_exporter" }).object)
		buffers.add({ "  " + exporter, text(count, { "buffers" }),
			      bytesText(count, { "bytes" }) });
	buffers.print(stdout);
}

void printClients(const Json &clients)
{
	const std::vector<Json> &list = jsonAt(clients, { "clients" }).array;
	if (list.empty()) {
		std::printf("no clients\n");
		return;
	}
	Table table({ "PID", "NAME", "SHM BUFFERS", "SHM BYTES", "DMA-BUF BUFFERS",
		      "DMA-BUF BYTES", "SCANNED OUT" });
	for (const Json &client : list)
		table.add({ text(client, { "pid" }), orDash(text(client, { "name" })),
			    text(client, { "shm", "buffers" }), bytesText(client, { "shm", "bytes" }),
			    text(client, { "dma_buf", "buffers" }),
			    bytesText(client, { "dma_buf", "bytes" }),
			    text(client, { "scanned_out_frames" }) });
	table.print(stdout);
}

void printPlanes(const Json &planes)
{
	Table table({ "OUTPUT", "FRAMES", "SCANNED OUT", "RENDERED", "SKIPPED", "SCANOUT MEMORY",
		      "LAST REFUSAL", "CURSOR" });
	for (const Json &output : jsonAt(planes, { "outputs" }).array) {
		/* "plane", "composed: why", or "-" with no cursor shown. */
		const std::string why = text(output, { "cursor_composed_because" });
		const std::string cursor = jsonAt(output, { "cursor_on_plane" }).boolean ? "plane"
					   : why.empty() || why == "-"		  ? "-"
										  : "composed: " + why;
		table.add({ text(output, { "name" }), text(output, { "frames" }),
			    text(output, { "scanned_out" }), text(output, { "rendered" }),
			    text(output, { "skipped" }), orDash(text(output, { "scanout_memory" })),
			    orDash(text(output, { "last_refusal" })), printable(cursor) });
	}
	table.print(stdout);
}

void printProbe(const Json &probe)
{
	const std::vector<Json> &list = jsonAt(probe, { "scanout_probe" }).array;
	if (list.empty()) {
		std::string reason = text(probe, { "reason" });
		std::printf("no scanout probe: %s\n",
			    printable(reason == "-" ? "the backend tried none" : reason).c_str());
		return;
	}
	Table table({ "SOURCE", "PRIMARY", "OVERLAY", "CURSOR", "NOTE" });
	for (const Json &row : list)
		table.add({ text(row, { "source" }), text(row, { "primary" }),
			    text(row, { "overlay" }), text(row, { "cursor" }),
			    orDash(text(row, { "note" })) });
	table.print(stdout);
}

/*
 * heapcomp's answer to one request, parsed; kExitFailure (and a message)
 * when there is none or it is an error.
 */
int askJson(const Options &options, const std::string &request, std::string &answer, Json &json)
{
	std::optional<std::string> path = controlSocketPath(options);
	if (!path)
		return kExitFailure;
	Result<std::string> reply = comp::askHeapcomp(*path, request);
	if (!reply) {
		std::string hint = reply.error().code == ENOENT || reply.error().code == ECONNREFUSED
					   ? " (is heapcomp running?)"
					   : "";
		std::fprintf(stderr, "heapctl: %s%s\n", reply.error().message().c_str(),
			     hint.c_str());
		return kExitFailure;
	}
	std::optional<Json> parsed = parseJson(*reply);
	if (!parsed) {
		std::fprintf(stderr, "heapctl: %s answered something that is not JSON\n",
			     path->c_str());
		return kExitFailure;
	}
	if (const Json *error = parsed->get("error")) {
		std::fprintf(stderr, "heapctl: heapcomp: %s\n", printable(error->text).c_str());
		return kExitFailure;
	}
	answer = std::move(*reply);
	json = std::move(*parsed);
	return 0;
}

/* heapcomp's answer to request: as it came with --json, else print()ed. */
int askAndPrint(const Options &options, const std::string &request, void (*print)(const Json &))
{
	std::string answer;
	Json json;
	if (int ret = askJson(options, request, answer, json))
		return ret;
	if (options.json)
		std::fputs(answer.c_str(), stdout);
	else
		print(json);
	return 0;
}

/* A command answered by heapcomp: the request is the command's name. */
int cmdRemote(const Options &options, void (*print)(const Json &))
{
	const std::string &request = options.args[0];
	if (options.args.size() != 1) {
		std::fprintf(stderr, "heapctl: '%s' takes no arguments\n", request.c_str());
		return kExitUsage;
	}
	return askAndPrint(options, request, print);
}

/* The overlay's state; "overlay show" or "overlay hide" first switches it. */
int cmdOverlay(const Options &options)
{
	std::string request = "overlay";
	if (options.args.size() == 2 && (options.args[1] == "show" || options.args[1] == "hide")) {
		request += " " + options.args[1];
	} else if (options.args.size() != 1) {
		std::fprintf(stderr, "heapctl: usage: heapctl overlay [show|hide]\n");
		return kExitUsage;
	}
	return askAndPrint(options, request, [](const Json &json) {
		std::printf("overlay: %s\n", overlayText(jsonAt(json, { "overlay" })).c_str());
	});
}

/*
 * heapcomp's allocation benchmark: started with the KEY=VALUE words
 * given, followed until it ends, then its figures; --json prints them as
 * Google Benchmark JSON.
 */
int cmdBench(const Options &options)
{
	std::string request = "bench start";
	for (size_t i = 1; i < options.args.size(); i++)
		request += " " + options.args[i];
	std::string answer;
	Json json;
	if (int ret = askJson(options, request, answer, json))
		return ret;
	const std::optional<uint64_t> run = jsonNumber(json, { "run" });
	for (;;) {
		const bool running = jsonAt(json, { "running" }).boolean;
		if (!running || jsonNumber(json, { "run" }) != run)
			break;
		if (!options.json && isatty(STDERR_FILENO))
			std::fprintf(stderr, "\rheapctl bench: %s of %s allocations",
				     text(json, { "done" }).c_str(), text(json, { "total" }).c_str());
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
		if (int ret = askJson(options, "bench", answer, json))
			return ret;
	}
	if (!options.json && isatty(STDERR_FILENO))
		std::fputs("\n", stderr);
	if (jsonNumber(json, { "run" }) != run) {
		std::fprintf(stderr, "heapctl: another benchmark run started meanwhile\n");
		return kExitFailure;
	}
	if (options.json) {
		/* The benchmark document alone, as Google Benchmark tools read it. */
		if (int ret = askJson(options, "bench results", answer, json))
			return ret;
		std::fputs(answer.c_str(), stdout);
		return 0;
	}
	const Json &benchmark = jsonAt(json, { "benchmark" });
	Table table({ "BENCHMARK", "ALLOCS", "MEAN", "P50", "P99", "MAX", "THROUGHPUT",
		      "VS MEMFD", "FAILURES" });
	auto ns = [](const Json &row, const char *key) {
		std::optional<uint64_t> value = jsonNumber(row, { key });
		char out[32];
		std::snprintf(out, sizeof(out), "%.1f us", value ? double(*value) / 1e3 : 0.0);
		return std::string(out);
	};
	for (const Json &row : jsonAt(benchmark, { "benchmarks" }).array) {
		char mean[32], ratio[32];
		std::snprintf(mean, sizeof(mean), "%.1f us",
			      std::strtod(text(row, { "real_time" }).c_str(), nullptr) / 1e3);
		const Json &vs = jsonAt(row, { "vs_memfd" });
		std::snprintf(ratio, sizeof(ratio), "%.2fx", std::strtod(vs.text.c_str(), nullptr));
		std::string failures = text(row, { "failures" });
		if (const Json *error = row.get("last_error"))
			failures += " (" + error->text + ")";
		table.add({ text(row, { "name" }), text(row, { "iterations" }), mean,
			    ns(row, "p50_ns"), ns(row, "p99_ns"), ns(row, "max_ns"),
			    bufmgr::formatBytes(uint64_t(std::strtod(
				    text(row, { "bytes_per_second" }).c_str(), nullptr))) + "/s",
			    vs.type == Json::Type::Number ? ratio : "-", failures });
	}
	table.print(stdout);
	return 0;
}

int cmdTop(const Options &options)
{
	if (options.args.size() != 1) {
		std::fprintf(stderr, "heapctl: 'top' takes no arguments\n");
		return kExitUsage;
	}
	/* Clearing would only put escape codes into a file or a pipe. */
	const bool tty = isatty(STDOUT_FILENO);
	for (int i = 0; options.count == 0 || i < options.count; i++) {
		if (i > 0)
			std::this_thread::sleep_for(std::chrono::duration<double>(options.interval));
		if (tty)
			std::fputs("\033[H\033[2J", stdout);
		else if (i > 0)
			std::fputs("\n", stdout);
		char now[16];
		time_t t = time(nullptr);
		std::strftime(now, sizeof(now), "%H:%M:%S", localtime(&t));
		std::printf("heapctl top  %s  every %g s\n\n", now, options.interval);
		int ret = cmdUsage(options);
		std::fflush(stdout);
		if (ret != 0)
			return ret;
	}
	return 0;
}

struct Command {
	const char *name;
	std::function<int(const Options &)> run;
};

const std::vector<Command> &commands()
{
	static const std::vector<Command> list = {
		{ "heaps", cmdHeaps },
		{ "cma", cmdCma },
		{ "usage", cmdUsage },
		{ "identify", cmdIdentify },
		{ "top", cmdTop },
		{ "stats", [](const Options &o) { return cmdRemote(o, printStats); } },
		{ "clients", [](const Options &o) { return cmdRemote(o, printClients); } },
		{ "planes", [](const Options &o) { return cmdRemote(o, printPlanes); } },
		{ "probe", [](const Options &o) { return cmdRemote(o, printProbe); } },
		{ "overlay", cmdOverlay },
		{ "bench", cmdBench },
	};
	return list;
}

} /* namespace */

int main(int argc, char **argv)
{
	Options options;
	std::optional<std::string> root, heapDir, sysfsDir, debugfsDir, procDir, interval, count;
	std::optional<uint64_t> pageSize;

	for (int i = 1; i < argc; i++) {
		std::string arg = argv[i];
		auto needValue = [&](std::optional<std::string> &target) {
			if (i + 1 >= argc) {
				std::fprintf(stderr, "heapctl: %s needs a value\n", arg.c_str());
				return false;
			}
			target = argv[++i];
			return true;
		};

		if (arg == "-h" || arg == "--help") {
			printUsage(stdout);
			return 0;
		} else if (arg == "--json") {
			options.json = true;
		} else if (arg == "--bitmap") {
			options.bitmap = true;
		} else if (arg == "--no-debugfs") {
			options.debugfs = false;
		} else if (arg == "--root") {
			if (!needValue(root))
				return kExitUsage;
		} else if (arg == "--dma-heap-dir") {
			if (!needValue(heapDir))
				return kExitUsage;
		} else if (arg == "--cma-sysfs-dir") {
			if (!needValue(sysfsDir))
				return kExitUsage;
		} else if (arg == "--cma-debugfs-dir") {
			if (!needValue(debugfsDir))
				return kExitUsage;
		} else if (arg == "--proc-dir") {
			if (!needValue(procDir))
				return kExitUsage;
		} else if (arg == "--socket") {
			if (!needValue(options.socket))
				return kExitUsage;
		} else if (arg == "--interval") {
			if (!needValue(interval))
				return kExitUsage;
			char *end = nullptr;
			options.interval = std::strtod(interval->c_str(), &end);
			if (end == interval->c_str() || *end || !(options.interval > 0) ||
			    options.interval > 86400) {
				std::fprintf(stderr, "heapctl: --interval needs seconds, more than 0\n");
				return kExitUsage;
			}
		} else if (arg == "--count") {
			if (!needValue(count))
				return kExitUsage;
			std::optional<int> n = parseInt(*count);
			if (!n) {
				std::fprintf(stderr, "heapctl: --count needs a number, 0 for forever\n");
				return kExitUsage;
			}
			options.count = *n;
		} else if (arg == "--page-size") {
			std::optional<std::string> value;
			if (!needValue(value))
				return kExitUsage;
			std::optional<int> size = parseInt(*value);
			if (!size || *size == 0 || (*size & (*size - 1))) {
				std::fprintf(stderr, "heapctl: --page-size needs a power of two\n");
				return kExitUsage;
			}
			pageSize = static_cast<uint64_t>(*size);
		} else if (arg.size() > 1 && arg[0] == '-') {
			std::fprintf(stderr, "heapctl: unknown option '%s' (see --help)\n",
				     arg.c_str());
			return kExitUsage;
		} else {
			options.args.push_back(arg);
		}
	}

	options.paths = root ? SystemPaths::underRoot(*root) : SystemPaths{};
	if (heapDir)
		options.paths.dmaHeapDir = *heapDir;
	if (sysfsDir)
		options.paths.cmaSysfsDir = *sysfsDir;
	if (debugfsDir)
		options.paths.cmaDebugfsDir = *debugfsDir;
	if (procDir)
		options.paths.procDir = *procDir;
	if (pageSize)
		options.paths.pageSize = *pageSize;

	if (options.args.empty()) {
		printUsage(stderr);
		return kExitUsage;
	}

	for (const Command &command : commands()) {
		if (options.args[0] == command.name)
			return command.run(options);
	}
	std::fprintf(stderr, "heapctl: unknown command '%s' (see --help)\n",
		     options.args[0].c_str());
	return kExitUsage;
}
