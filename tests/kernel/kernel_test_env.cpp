/* SPDX-License-Identifier: MIT */
#include "kernel_test_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include <bufmgr/mapping.h>
#include <bufmgr/unique_fd.h>

#include <xf86drm.h>

#include "fd_count.h"

using namespace bufmgr;

namespace heapcomp::test {

namespace {

std::vector<std::string> driNodes(const char *prefix)
{
	std::vector<std::string> nodes;
	if (DIR *d = opendir("/dev/dri")) {
		while (struct dirent *e = readdir(d)) {
			if (std::string(e->d_name).rfind(prefix, 0) == 0)
				nodes.push_back(std::string("/dev/dri/") + e->d_name);
		}
		closedir(d);
	}
	std::sort(nodes.begin(), nodes.end());
	return nodes;
}

} /* namespace */

std::string findDrmCard(const std::string &driver)
{
	for (const std::string &node : driNodes("card")) {
		UniqueFd fd(open(node.c_str(), O_RDWR | O_CLOEXEC));
		if (!fd)
			continue;
		drmVersionPtr version = drmGetVersion(fd.get());
		bool match = version && driver == version->name;
		drmFreeVersion(version);
		if (match)
			return node;
	}
	return {};
}

std::string findRenderNode()
{
	auto nodes = driNodes("renderD");
	return nodes.empty() ? std::string() : nodes.front();
}

static uint32_t patternWord(uint32_t seed, size_t i)
{
	return seed ^ static_cast<uint32_t>(i * 2654435761u);
}

void fillPattern(const Buffer &buffer, uint32_t seed)
{
	auto mapping = Mapping::map(buffer, { Access::Write, false });
	ASSERT_TRUE(mapping) << mapping.error().message();
	auto access = mapping->beginAccess(Access::Write);
	ASSERT_TRUE(access) << access.error().message();
	auto bytes = mapping->plane(0);
	auto *words = reinterpret_cast<uint32_t *>(bytes.data());
	for (size_t i = 0; i < buffer.size() / 4; i++)
		words[i] = patternWord(seed, i);
	ASSERT_TRUE(access->end());
}

::testing::AssertionResult hasPattern(const Buffer &buffer, uint32_t seed)
{
	/* A second, independent mapping: the data must be in the memory. */
	Buffer::Description desc = buffer.description();
	std::vector<BufferPlane> planes;
	planes.push_back({ SharedFd(buffer.plane(0).fd.dup()), 0, 0 });
	Buffer other(desc, planes);

	auto mapping = Mapping::map(other, { Access::Read, false });
	if (!mapping)
		return ::testing::AssertionFailure() << mapping.error().message();
	auto access = mapping->beginAccess(Access::Read);
	if (!access)
		return ::testing::AssertionFailure() << access.error().message();
	auto *words = reinterpret_cast<const uint32_t *>(mapping->plane(0).data());
	for (size_t i = 0; i < buffer.size() / 4; i++) {
		if (words[i] != patternWord(seed, i))
			return ::testing::AssertionFailure()
			       << "word " << i << " is " << words[i] << ", expected "
			       << patternWord(seed, i);
	}
	return ::testing::AssertionSuccess();
}

void KernelTest::SetUp()
{
	fdsBefore_ = countOpenFds();
}

void KernelTest::TearDown()
{
	EXPECT_EQ(countOpenFds(), fdsBefore_) << "fds leaked by the test";
}

} /* namespace heapcomp::test */
