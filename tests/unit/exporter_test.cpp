/* SPDX-License-Identifier: MIT */
#include <bufmgr/exporter.h>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fixture_tree.h"

#include <bufmgr/unique_fd.h>

using namespace bufmgr;
using heapcomp::test::FixtureTree;
namespace fs = std::filesystem;

namespace {

/* What the kernel prints for a dma-buf: generic lines, then dma-buf ones. */
std::string dmaBufFdinfo(uint64_t ino, uint64_t size, const std::string &exporter,
			 const std::string &name = {}, int count = 1)
{
	std::string text = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t" +
			   std::to_string(ino) + "\n";
	text += "size:\t" + std::to_string(size) + "\ncount:\t" + std::to_string(count) +
		"\nexp_name:\t" + exporter + "\n";
	if (!name.empty())
		text += "name:\t" + name + "\n";
	return text;
}

const char *kMemfdFdinfo = "pos:\t0\nflags:\t02100002\nmnt_id:\t0\nino:\t25\n";

/* A fake /proc/<pid> with fdinfo files and matching fd links. */
void addFd(const FixtureTree &tree, int pid, int fd, const std::string &fdinfo,
	   const std::string &link = "/dmabuf:")
{
	std::string base = "proc/" + std::to_string(pid);
	tree.file(base + "/fdinfo/" + std::to_string(fd), fdinfo);
	tree.symlink(link, base + "/fd/" + std::to_string(fd));
}

const ExporterUsage *findExporter(const std::vector<ExporterUsage> &list,
				  const std::string &name)
{
	for (const ExporterUsage &e : list) {
		if (e.exporter == name)
			return &e;
	}
	return nullptr;
}

} /* namespace */

TEST(ExporterFdinfo, ParsesAnUnnamedHeapBuffer)
{
	Result<DmaBufInfo> info = parseDmaBufFdinfo(dmaBufFdinfo(1057, 8294400, "system"));
	ASSERT_TRUE(info.has_value()) << info.error().message();
	EXPECT_EQ(info->exporter, "system");
	EXPECT_EQ(info->size, 8294400u);
	EXPECT_EQ(info->count, 1);
	EXPECT_EQ(info->inode, std::optional<uint64_t>(1057));
	EXPECT_FALSE(info->name.has_value());
	EXPECT_EQ(info->flags, std::optional<uint32_t>(O_CLOEXEC | O_RDWR));
}

TEST(ExporterFdinfo, ParsesANamedBuffer)
{
	Result<DmaBufInfo> info =
		parseDmaBufFdinfo(dmaBufFdinfo(7, 4096, "reserved", "cursor: plane 3", 4));
	ASSERT_TRUE(info.has_value());
	EXPECT_EQ(info->exporter, "reserved");
	EXPECT_EQ(info->name, std::optional<std::string>("cursor: plane 3"));
	EXPECT_EQ(info->count, 4);
}

/* A name may start with blanks: only the kernel's separator tab goes. */
TEST(ExporterFdinfo, KeepsLeadingBlanksOfAName)
{
	Result<DmaBufInfo> info = parseDmaBufFdinfo(dmaBufFdinfo(7, 4096, "udmabuf", "  x"));
	ASSERT_TRUE(info.has_value());
	EXPECT_EQ(info->name, std::optional<std::string>("  x"));
}

/* Kernels before the ino line (and its fdinfo) still identify. */
TEST(ExporterFdinfo, ParsesOlderFormatWithoutInode)
{
	Result<DmaBufInfo> info =
		parseDmaBufFdinfo("pos:\t0\nflags:\t02\nmnt_id:\t9\nsize:\t32768\ncount:\t2\n"
				  "exp_name:\tdrm\n");
	ASSERT_TRUE(info.has_value());
	EXPECT_EQ(info->exporter, "drm");
	EXPECT_EQ(info->size, 32768u);
	EXPECT_EQ(info->count, 2);
	EXPECT_FALSE(info->inode.has_value());
}

TEST(ExporterFdinfo, NotADmaBuf)
{
	Result<DmaBufInfo> info = parseDmaBufFdinfo(kMemfdFdinfo);
	ASSERT_FALSE(info.has_value());
	EXPECT_EQ(info.error().code, ENOTSUP);
	EXPECT_NE(info.error().context.find("exp_name"), std::string::npos);
	EXPECT_EQ(parseDmaBufFdinfo("").error().code, ENOTSUP);
}

TEST(ExporterFdinfo, MalformedDmaBufFdinfo)
{
	EXPECT_EQ(parseDmaBufFdinfo("size:\tbig\ncount:\t1\nexp_name:\tsystem\n").error().code,
		  EINVAL);
	EXPECT_EQ(parseDmaBufFdinfo("count:\t1\nexp_name:\tsystem\n").error().code, EINVAL);
	EXPECT_EQ(parseDmaBufFdinfo("size:\t4096\nexp_name:\tsystem\n").error().code, EINVAL);
	EXPECT_EQ(parseDmaBufFdinfo("size:\t4096\ncount:\t1\nexp_name:\t\n").error().code, EINVAL);
	EXPECT_EQ(parseDmaBufFdinfo("size:\t-4096\ncount:\t1\nexp_name:\tx\n").error().code,
		  EINVAL);
	Result<DmaBufInfo> noNewline = parseDmaBufFdinfo("size:\t4096\ncount:\t1\nexp_name:\tx");
	ASSERT_TRUE(noNewline.has_value());
	EXPECT_EQ(noNewline->exporter, "x");
}

/* The name is printed last: its text cannot override the kernel's lines. */
TEST(ExporterFdinfo, BufferNameCannotForgeFields)
{
	std::string text = dmaBufFdinfo(9, 4096, "system", "x\nexp_name:\tudmabuf\nsize:\t1");
	Result<DmaBufInfo> info = parseDmaBufFdinfo(text);
	ASSERT_TRUE(info.has_value());
	EXPECT_EQ(info->exporter, "system");
	EXPECT_EQ(info->size, 4096u);
	EXPECT_EQ(info->name, std::optional<std::string>("x"));
}

/* The real host's /proc: a memfd is no dma-buf and must not pass as one. */
TEST(ExporterIdentify, MemfdIsNotADmaBuf)
{
	UniqueFd memfd(::memfd_create("heapcomp-test", MFD_CLOEXEC));
	ASSERT_TRUE(memfd.isValid());
	ASSERT_EQ(::ftruncate(memfd.get(), 4096), 0);

	Result<DmaBufInfo> info = identifyDmaBuf(memfd.get());
	ASSERT_FALSE(info.has_value());
	EXPECT_EQ(info.error().code, ENOTSUP);
	EXPECT_NE(info.error().context.find("fd " + std::to_string(memfd.get())), std::string::npos);
}

TEST(ExporterIdentify, PipeIsNotADmaBuf)
{
	int fds[2];
	ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
	UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
	EXPECT_EQ(identifyDmaBuf(readEnd.get()).error().code, ENOTSUP);
}

TEST(ExporterIdentify, ClosedOrNegativeFd)
{
	int fd;
	{
		UniqueFd memfd(::memfd_create("heapcomp-test", MFD_CLOEXEC));
		ASSERT_TRUE(memfd.isValid());
		fd = memfd.get();
	}
	Result<DmaBufInfo> closed = identifyDmaBuf(fd);
	ASSERT_FALSE(closed.has_value());
	EXPECT_EQ(closed.error().code, EBADF);
	EXPECT_EQ(identifyDmaBuf(-1).error().code, EBADF);
}

TEST(ExporterIdentify, ReadsFdinfoUnderProcDir)
{
	FixtureTree tree;
	tree.file("proc/self/fdinfo/7", dmaBufFdinfo(31, 1 << 20, "default_cma_region", "scanout"));
	Result<DmaBufInfo> info = identifyDmaBuf(7, tree.paths());
	ASSERT_TRUE(info.has_value());
	EXPECT_EQ(info->exporter, "default_cma_region");
	EXPECT_EQ(info->size, 1u << 20);
	EXPECT_EQ(info->name, std::optional<std::string>("scanout"));
}

TEST(ExporterIdentify, AnotherProcess)
{
	FixtureTree tree;
	tree.file("proc/1234/fdinfo/5", dmaBufFdinfo(40, 8192, "udmabuf"));
	tree.file("proc/1234/fdinfo/6", kMemfdFdinfo);

	Result<DmaBufInfo> info = identifyProcessDmaBuf(1234, 5, tree.paths());
	ASSERT_TRUE(info.has_value());
	EXPECT_EQ(info->exporter, "udmabuf");
	EXPECT_EQ(identifyProcessDmaBuf(1234, 6, tree.paths()).error().code, ENOTSUP);
	EXPECT_EQ(identifyProcessDmaBuf(1234, 9, tree.paths()).error().code, EBADF);
	EXPECT_EQ(identifyProcessDmaBuf(4321, 5, tree.paths()).error().code, ESRCH);
	EXPECT_EQ(identifyProcessDmaBuf(0, 5, tree.paths()).error().code, ESRCH);
}

TEST(ExporterIdentify, HeapForExporter)
{
	std::vector<HeapInfo> heaps(2);
	heaps[0].name = "default_cma_region";
	heaps[0].cmaArea = "reserved";
	heaps[1].name = "reserved";
	heaps[1].cmaArea = "reserved";
	heaps[1].aliasOf = "default_cma_region";

	const HeapInfo *heap = heapForExporter(heaps, "reserved");
	ASSERT_NE(heap, nullptr);
	EXPECT_EQ(heap->cmaArea, "reserved");
	EXPECT_EQ(heapForExporter(heaps, "udmabuf"), nullptr);
}

/*
 * A compositor holding one system buffer through two fds and a CMA
 * buffer, plus a client sharing the system buffer and owning a udmabuf.
 */
TEST(ExporterScan, GroupsByExporterAndCountsEachBufferOnce)
{
	FixtureTree tree;
	tree.file("proc/100/comm", "heapcomp\n");
	addFd(tree, 100, 3, dmaBufFdinfo(11, 1000, "system"));
	addFd(tree, 100, 4, dmaBufFdinfo(11, 1000, "system"));
	addFd(tree, 100, 5, dmaBufFdinfo(12, 4096, "reserved", "scanout-0"));
	addFd(tree, 100, 6, kMemfdFdinfo, "/memfd:wl_shm (deleted)");
	addFd(tree, 100, 7, "pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t99\n", "socket:[4242]");
	tree.file("proc/200/comm", "client\n");
	addFd(tree, 200, 3, dmaBufFdinfo(11, 1000, "system"));
	addFd(tree, 200, 4, dmaBufFdinfo(13, 500, "udmabuf"));
	tree.file("proc/300/comm", "idle\n");
	addFd(tree, 300, 0, kMemfdFdinfo, "/dev/null");
	tree.file("proc/self/fdinfo/3", dmaBufFdinfo(11, 1000, "system"));
	tree.file("proc/meminfo", "MemTotal: 1 kB\n");

	DmaBufUsageScan scan = scanProcessDmaBufs(tree.paths());

	ASSERT_EQ(scan.processes.size(), 2u);
	const ProcessDmaBufUsage &compositor = scan.processes[0];
	EXPECT_EQ(compositor.pid, 100);
	EXPECT_EQ(compositor.comm, "heapcomp");
	EXPECT_EQ(compositor.fds, 3u);
	EXPECT_EQ(compositor.buffers, 2u);
	EXPECT_EQ(compositor.bytes, 5096u);
	ASSERT_EQ(compositor.exporters.size(), 2u);
	EXPECT_EQ(compositor.exporters[0].exporter, "reserved");
	EXPECT_EQ(compositor.exporters[1].exporter, "system");
	EXPECT_EQ(compositor.exporters[1].buffers, 1u);
	EXPECT_EQ(compositor.exporters[1].fds, 2u);
	EXPECT_EQ(compositor.exporters[1].bytes, 1000u);

	const ProcessDmaBufUsage &client = scan.processes[1];
	EXPECT_EQ(client.pid, 200);
	EXPECT_EQ(client.comm, "client");
	EXPECT_EQ(client.buffers, 2u);
	EXPECT_EQ(client.bytes, 1500u);

	/* The shared system buffer counts once system-wide. */
	EXPECT_EQ(scan.buffers, 3u);
	EXPECT_EQ(scan.bytes, 1000u + 4096u + 500u);
	EXPECT_TRUE(scan.deduplicated);
	EXPECT_TRUE(scan.inaccessiblePids.empty());
	ASSERT_EQ(scan.exporters.size(), 3u);
	EXPECT_EQ(scan.exporters[0].exporter, "reserved");
	const ExporterUsage *system = findExporter(scan.exporters, "system");
	ASSERT_NE(system, nullptr);
	EXPECT_EQ(system->buffers, 1u);
	EXPECT_EQ(system->bytes, 1000u);
	EXPECT_EQ(system->fds, 3u);
}

/* Without ino lines nothing can be merged: each fd is its own buffer. */
TEST(ExporterScan, WithoutInodesCountsPerFd)
{
	FixtureTree tree;
	std::string noIno = "pos:\t0\nflags:\t02\nmnt_id:\t9\nsize:\t4096\ncount:\t2\n"
			    "exp_name:\tsystem\n";
	addFd(tree, 10, 3, noIno);
	addFd(tree, 10, 4, noIno);

	DmaBufUsageScan scan = scanProcessDmaBufs(tree.paths());
	ASSERT_EQ(scan.processes.size(), 1u);
	EXPECT_FALSE(scan.deduplicated);
	EXPECT_EQ(scan.processes[0].buffers, 2u);
	EXPECT_EQ(scan.buffers, 2u);
	EXPECT_EQ(scan.bytes, 8192u);
}

/* The fd link rules a file out before its fdinfo is read. */
TEST(ExporterScan, FdLinkFiltersNonDmaBufs)
{
	FixtureTree tree;
	addFd(tree, 10, 3, dmaBufFdinfo(5, 4096, "system"), "/dev/null");
	addFd(tree, 10, 4, dmaBufFdinfo(6, 4096, "system"), "anon_inode:dmabuf");
	/* No fd/ link at all: the fdinfo decides. */
	tree.file("proc/10/fdinfo/5", dmaBufFdinfo(7, 4096, "system"));

	DmaBufUsageScan scan = scanProcessDmaBufs(tree.paths());
	ASSERT_EQ(scan.processes.size(), 1u);
	EXPECT_EQ(scan.processes[0].fds, 2u);
	EXPECT_EQ(scan.buffers, 2u);
}

TEST(ExporterScan, UnreadableProcessIsReported)
{
	FixtureTree tree;
	addFd(tree, 10, 3, dmaBufFdinfo(5, 4096, "system"));
	addFd(tree, 20, 3, dmaBufFdinfo(6, 8192, "system"));
	ASSERT_EQ(::chmod(tree.path("proc/20/fdinfo").c_str(), 0700), 0);
	SystemPaths paths = tree.paths();

	std::string out;
	auto scanToText = [&] {
		DmaBufUsageScan scan = scanProcessDmaBufs(paths);
		std::string s;
		for (const ProcessDmaBufUsage &p : scan.processes)
			s += "pid " + std::to_string(p.pid) + " " + std::to_string(p.bytes) + "\n";
		for (int pid : scan.inaccessiblePids)
			s += "denied " + std::to_string(pid) + "\n";
		return s;
	};

	if (::geteuid() != 0) {
		out = scanToText();
	} else {
		/* Root reads anything: look as "nobody" does. */
		int pipeFds[2];
		ASSERT_EQ(::pipe(pipeFds), 0);
		pid_t pid = ::fork();
		if (pid == 0) {
			::close(pipeFds[0]);
			if (::setgid(65534) != 0 || ::setuid(65534) != 0)
				::_exit(3);
			std::string s = scanToText();
			::_exit(::write(pipeFds[1], s.data(), s.size()) ==
					static_cast<ssize_t>(s.size()) ? 0 : 4);
		}
		::close(pipeFds[1]);
		char buf[256];
		ssize_t n;
		while ((n = ::read(pipeFds[0], buf, sizeof(buf))) > 0)
			out.append(buf, static_cast<size_t>(n));
		::close(pipeFds[0]);
		int status = 0;
		::waitpid(pid, &status, 0);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	EXPECT_EQ(out, "pid 10 4096\ndenied 20\n");
}

TEST(ExporterScan, MissingProcIsEmpty)
{
	FixtureTree tree;
	DmaBufUsageScan scan = scanProcessDmaBufs(tree.paths());
	EXPECT_TRUE(scan.processes.empty());
	EXPECT_EQ(scan.buffers, 0u);
}

/* The real /proc: this process holds a memfd and no dma-buf. */
TEST(ExporterScan, RealProcListsOnlyDmaBufHolders)
{
	UniqueFd memfd(::memfd_create("heapcomp-test", MFD_CLOEXEC));
	ASSERT_TRUE(memfd.isValid());

	DmaBufUsageScan scan = scanProcessDmaBufs();
	uint64_t bytes = 0;
	for (const ProcessDmaBufUsage &p : scan.processes) {
		EXPECT_NE(p.pid, ::getpid());
		EXPECT_GT(p.fds, 0u);
		EXPECT_GE(p.fds, p.buffers);
		bytes += p.bytes;
	}
	/* Per-process sums count shared buffers in each holder. */
	EXPECT_GE(bytes, scan.bytes);
}
