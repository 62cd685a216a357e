/* SPDX-License-Identifier: MIT */
/*
 * The dma-buf import probe's process handling on the host. There is no
 * dma-buf exporter here, so the child gets as far as learning that EGL
 * surfaceless does not advertise dma-buf import; that is enough to see
 * the fork, the answer over the pipe, the deadline and the reaping work.
 * (The VM tests see it crash for real.)
 */
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

#include "fd_count.h"
#include "render/dmabuf_probe.h"

namespace heapcomp::test {
namespace {

/* No child may be left behind, zombie or not. */
bool hasChildren()
{
	return waitpid(-1, nullptr, WNOHANG) >= 0 || errno != ECHILD;
}

TEST(DmaBufProbeTest, WithoutAnExporterItDoesNotFork)
{
	comp::DmaBufProbeOptions options;
	options.heapPath = "/nonexistent/heap";
	options.udmabufPath = "/nonexistent/udmabuf";
	comp::DmaBufProbeResult probe = comp::probeDmaBufImport(options);
	EXPECT_EQ(probe.status, comp::ProbeStatus::NotRun);
	EXPECT_FALSE(probe.completed());
	EXPECT_FALSE(probe.canSample);
	EXPECT_NE(probe.detail.find("no dma-buf source"), std::string::npos) << probe.detail;
}

TEST(DmaBufProbeTest, TheChildAnswersOverThePipe)
{
	const int fds = countOpenFds();
	comp::DmaBufProbeOptions options;
	options.heapPath = "/dev/null";		/* passes the parent's check only */
	options.udmabufPath = "/nonexistent/udmabuf";
	const auto start = std::chrono::steady_clock::now();
	comp::DmaBufProbeResult probe = comp::probeDmaBufImport(options);
	const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
		std::chrono::steady_clock::now() - start);
	EXPECT_EQ(probe.status, comp::ProbeStatus::Unsupported) << probe.detail;
	EXPECT_TRUE(probe.completed());
	EXPECT_FALSE(probe.canSample);
	EXPECT_NE(probe.detail.find("EGL_EXT_image_dma_buf_import"), std::string::npos)
		<< probe.detail;
	/* A fork and an EGL display take time, and no more than the call did. */
	EXPECT_GT(probe.durationMs, 0);
	EXPECT_LE(probe.durationMs, elapsed.count() + 1);
	EXPECT_FALSE(hasChildren());
	EXPECT_EQ(countOpenFds(), fds);
}

TEST(DmaBufProbeTest, AChildPastTheDeadlineIsKilled)
{
	const int fds = countOpenFds();
	comp::DmaBufProbeOptions options;
	options.heapPath = "/dev/null";
	options.timeoutMs = 0;
	comp::DmaBufProbeResult probe = comp::probeDmaBufImport(options);
	EXPECT_EQ(probe.status, comp::ProbeStatus::TimedOut) << probe.detail;
	EXPECT_FALSE(probe.canSample);
	EXPECT_FALSE(hasChildren());
	EXPECT_EQ(countOpenFds(), fds);
}

TEST(DmaBufProbeTest, StatusNames)
{
	EXPECT_EQ(comp::toString(comp::ProbeStatus::Crashed), "crashed");
	EXPECT_EQ(comp::toString(comp::ProbeStatus::NotRun), "not run");
}

} /* namespace */
} /* namespace heapcomp::test */
