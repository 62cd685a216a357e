/* SPDX-License-Identifier: MIT */
#include <bufmgr/exporter.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <map>
#include <set>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <bufmgr/unique_fd.h>

#include "sys.h"

namespace bufmgr {

namespace {

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

template<typename T>
std::optional<T> parseNumber(std::string_view s, int base = 10)
{
	auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
	while (!s.empty() && blank(s.front()))
		s.remove_prefix(1);
	while (!s.empty() && blank(s.back()))
		s.remove_suffix(1);
	T value{};
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size())
		return std::nullopt;
	return value;
}

/* "key:\tvalue" lines; the first occurrence of a key wins. */
std::map<std::string_view, std::string_view> parseFields(std::string_view text)
{
	std::map<std::string_view, std::string_view> fields;
	while (!text.empty()) {
		size_t eol = text.find('\n');
		std::string_view line = text.substr(0, eol);
		text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);

		size_t colon = line.find(':');
		if (colon == std::string_view::npos || colon == 0)
			continue;
		std::string_view key = line.substr(0, colon);
		std::string_view value = line.substr(colon + 1);
		/* The kernel writes one tab; a buffer name may itself start blank. */
		if (!value.empty() && value.front() == '\t')
			value.remove_prefix(1);
		fields.emplace(key, value);
	}
	return fields;
}

bool isNumeric(std::string_view s)
{
	return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
		return std::isdigit(static_cast<unsigned char>(c));
	});
}

Result<DmaBufInfo> identifyFdinfo(const std::string &path, const std::string &what)
{
	Result<std::string> text = readFile(path);
	if (!text) {
		int code = text.error().code;
		if (code == ENOENT)
			return unexpected(EBADF, what + ": not an open fd (no " + path + ")");
		return unexpected(code, what + ": " + text.error().context);
	}

	Result<DmaBufInfo> info = parseDmaBufFdinfo(*text);
	if (!info)
		return unexpected(info.error().code, what + ": " + info.error().context);
	return info;
}

/* Cheap pre-filter: dma-buf files are named "dmabuf" (or anon_inode:dmabuf). */
bool linkRulesOutDmaBuf(const std::string &fdPath)
{
	char target[256];
	ssize_t n = ::readlink(fdPath.c_str(), target, sizeof(target) - 1);
	if (n < 0)
		return false;	/* cannot tell: read the fdinfo */
	std::string_view link(target, static_cast<size_t>(n));
	return link.find("dmabuf") == std::string_view::npos;
}

void sortExporters(std::vector<ExporterUsage> &exporters)
{
	std::sort(exporters.begin(), exporters.end(),
		  [](const ExporterUsage &a, const ExporterUsage &b) {
			  if (a.bytes != b.bytes)
				  return a.bytes > b.bytes;
			  return a.exporter < b.exporter;
		  });
}

struct BufferKey {
	bool hasInode;
	uint64_t id;	/* inode, or a per-fd serial when the kernel gives none */

	auto operator<=>(const BufferKey &) const = default;
};

} /* namespace */

Result<DmaBufInfo> parseDmaBufFdinfo(std::string_view text)
{
	std::map<std::string_view, std::string_view> fields = parseFields(text);

	auto expName = fields.find("exp_name");
	if (expName == fields.end())
		return unexpected(ENOTSUP, "not a dma-buf: fdinfo has no exp_name");

	DmaBufInfo info;
	info.exporter = std::string(expName->second);
	if (info.exporter.empty())
		return unexpected(EINVAL, "dma-buf fdinfo has an empty exp_name");

	auto size = fields.find("size");
	std::optional<uint64_t> sizeValue;
	if (size != fields.end())
		sizeValue = parseNumber<uint64_t>(size->second);
	if (!sizeValue)
		return unexpected(EINVAL, "dma-buf fdinfo from '" + info.exporter +
					  "' has no valid size");
	info.size = *sizeValue;

	auto count = fields.find("count");
	std::optional<int64_t> countValue;
	if (count != fields.end())
		countValue = parseNumber<int64_t>(count->second);
	if (!countValue)
		return unexpected(EINVAL, "dma-buf fdinfo from '" + info.exporter +
					  "' has no valid count");
	info.count = *countValue;

	if (auto name = fields.find("name"); name != fields.end())
		info.name = std::string(name->second);
	if (auto ino = fields.find("ino"); ino != fields.end())
		info.inode = parseNumber<uint64_t>(ino->second);
	if (auto flags = fields.find("flags"); flags != fields.end())
		info.flags = parseNumber<uint32_t>(flags->second, 8);

	return info;
}

Result<DmaBufInfo> identifyDmaBuf(int fd, const SystemPaths &paths)
{
	std::string what = "identify fd " + std::to_string(fd);
	if (fd < 0)
		return unexpected(EBADF, what + ": negative fd");
	return identifyFdinfo(paths.procDir + "/self/fdinfo/" + std::to_string(fd), what);
}

Result<DmaBufInfo> identifyProcessDmaBuf(int pid, int fd, const SystemPaths &paths)
{
	std::string what = "identify fd " + std::to_string(fd) + " of pid " +
			   std::to_string(pid);
	if (pid <= 0)
		return unexpected(ESRCH, what + ": invalid pid");
	if (fd < 0)
		return unexpected(EBADF, what + ": negative fd");

	std::string pidDir = paths.procDir + "/" + std::to_string(pid);
	if (::access(pidDir.c_str(), F_OK) < 0 && errno == ENOENT)
		return unexpected(ESRCH, what + ": no such process");
	return identifyFdinfo(pidDir + "/fdinfo/" + std::to_string(fd), what);
}

const HeapInfo *heapForExporter(const std::vector<HeapInfo> &heaps,
				std::string_view exporter)
{
	return findHeap(heaps, exporter);
}

DmaBufUsageScan scanProcessDmaBufs(const SystemPaths &paths)
{
	DmaBufUsageScan scan;

	DIR *proc = ::opendir(paths.procDir.c_str());
	if (!proc)
		return scan;
	std::vector<int> pids;
	while (struct dirent *entry = ::readdir(proc)) {
		if (isNumeric(entry->d_name)) {
			if (std::optional<int> pid = parseNumber<int>(entry->d_name))
				pids.push_back(*pid);
		}
	}
	::closedir(proc);
	std::sort(pids.begin(), pids.end());

	/* System-wide, each buffer once: key -> (exporter, size). */
	std::map<BufferKey, std::pair<std::string, uint64_t>> allBuffers;
	uint64_t anonymousSerial = 0;

	for (int pid : pids) {
		std::string pidDir = paths.procDir + "/" + std::to_string(pid);
		std::string fdinfoDir = pidDir + "/fdinfo";

		DIR *dir = ::opendir(fdinfoDir.c_str());
		if (!dir) {
			/* ENOENT: the process exited meanwhile. */
			if (errno == EACCES || errno == EPERM)
				scan.inaccessiblePids.push_back(pid);
			continue;
		}
		std::vector<std::string> fds;
		while (struct dirent *entry = ::readdir(dir)) {
			if (isNumeric(entry->d_name))
				fds.emplace_back(entry->d_name);
		}
		::closedir(dir);

		ProcessDmaBufUsage usage;
		usage.pid = pid;
		std::map<std::string, ExporterUsage> byExporter;
		std::set<BufferKey> seen;

		for (const std::string &fd : fds) {
			if (linkRulesOutDmaBuf(pidDir + "/fd/" + fd))
				continue;
			Result<std::string> text = readFile(fdinfoDir + "/" + fd);
			if (!text)
				continue;	/* closed meanwhile */
			Result<DmaBufInfo> info = parseDmaBufFdinfo(*text);
			if (!info)
				continue;

			BufferKey key{ info->inode.has_value(),
				       info->inode ? *info->inode : anonymousSerial++ };
			if (!info->inode)
				scan.deduplicated = false;

			ExporterUsage &exporter = byExporter[info->exporter];
			exporter.exporter = info->exporter;
			exporter.fds++;
			usage.fds++;
			if (seen.insert(key).second) {
				exporter.buffers++;
				exporter.bytes += info->size;
				usage.buffers++;
				usage.bytes += info->size;
			}
			allBuffers.emplace(key, std::make_pair(info->exporter, info->size));
		}

		if (usage.fds == 0)
			continue;

		if (Result<std::string> comm = readFile(pidDir + "/comm")) {
			usage.comm = std::move(*comm);
			while (!usage.comm.empty() && usage.comm.back() == '\n')
				usage.comm.pop_back();
		}
		for (auto &[name, exporter] : byExporter)
			usage.exporters.push_back(std::move(exporter));
		sortExporters(usage.exporters);
		scan.processes.push_back(std::move(usage));
	}

	std::map<std::string, ExporterUsage> totals;
	for (const auto &[key, buffer] : allBuffers) {
		ExporterUsage &exporter = totals[buffer.first];
		exporter.exporter = buffer.first;
		exporter.buffers++;
		exporter.bytes += buffer.second;
		scan.buffers++;
		scan.bytes += buffer.second;
	}
	for (const ProcessDmaBufUsage &process : scan.processes) {
		for (const ExporterUsage &exporter : process.exporters)
			totals[exporter.exporter].fds += exporter.fds;
	}
	for (auto &[name, exporter] : totals)
		scan.exporters.push_back(std::move(exporter));
	sortExporters(scan.exporters);

	std::stable_sort(scan.processes.begin(), scan.processes.end(),
			 [](const ProcessDmaBufUsage &a, const ProcessDmaBufUsage &b) {
				 return a.bytes > b.bytes;
			 });
	return scan;
}

} /* namespace bufmgr */
