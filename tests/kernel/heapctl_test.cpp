/* SPDX-License-Identifier: MIT */
/*
 * heapctl against the VM's kernel: `heaps --json` lists what discovery
 * finds and says, per heap, what its memory is for. The VM is x86 without
 * a device tree, which must be said, not guessed around. `usage` and
 * `top` find the dma-bufs this test holds, per process and exporter.
 */
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <bufmgr/allocator.h>
#include <bufmgr/allocators.h>
#include <bufmgr/heap.h>
#include <bufmgr/unique_fd.h>

#include "json.h"
#include "kernel_test_env.h"

using namespace bufmgr;
using namespace heapcomp::test;

namespace {

std::string run(const std::string &command)
{
	std::string out;
	FILE *pipe = popen(command.c_str(), "r");
	if (!pipe)
		return out;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0)
		out.append(buf, n);
	EXPECT_EQ(pclose(pipe), 0) << command;
	return out;
}

class HeapctlTest : public KernelTest
{
};

TEST_F(HeapctlTest, HeapsJsonListsDiscoveryWithProvenance)
{
	std::string text = run(std::string(HEAPCTL_PATH) + " heaps --json");
	std::optional<Json> json = parseJson(text);
	ASSERT_TRUE(json) << text;
	auto heaps = discoverHeaps();
	ASSERT_TRUE(heaps);
	const Json &list = at(*json, { "heaps" });
	ASSERT_EQ(list.array.size(), heaps->size()) << text;
	EXPECT_EQ(at(*json, { "device_tree" }).type, Json::Type::Bool);
	EXPECT_FALSE(at(*json, { "device_tree" }).boolean) << "the VM has no device tree";
	for (size_t i = 0; i < heaps->size(); i++) {
		const HeapInfo &heap = (*heaps)[i];
		const Json &entry = list.array[i];
		EXPECT_EQ(string(entry, { "name" }), heap.name);
		std::optional<std::string> summary = string(entry, { "provenance", "summary" });
		ASSERT_TRUE(summary) << text;
		if (heap.kind == HeapKind::System) {
			EXPECT_NE(summary->find("system memory"), std::string::npos) << *summary;
		}
		if (heap.isCma()) {
			EXPECT_NE(summary->find("no device tree"), std::string::npos) << *summary;
		}
		EXPECT_EQ(at(entry, { "provenance", "region" }).type, Json::Type::Null) << text;
		/* This kernel charges no heap to a cgroup controller: said, with why. */
		EXPECT_EQ(string(entry, { "accounting", "controller" }), "none") << text;
		std::optional<std::string> paid = string(entry, { "accounting", "summary" });
		ASSERT_TRUE(paid) << text;
		EXPECT_NE(paid->find("escapes cgroup limits"), std::string::npos) << *paid;
	}
	/* The table says the same in words. */
	std::string table = run(std::string(HEAPCTL_PATH) + " heaps");
	EXPECT_NE(table.find("What each heap's memory is for"), std::string::npos) << table;
	EXPECT_NE(table.find(std::string(kCmaHeap) + ": CMA area"), std::string::npos) << table;
}

/* This process's entry in `usage --json`, or nullptr. */
const Json *ownEntry(const Json &usage)
{
	for (const Json &process : at(usage, { "processes" }).array)
		if (number(process, { "pid" }) == uint64_t(getpid()))
			return &process;
	return nullptr;
}

/*
 * Two system-heap buffers, one of them held by two fds, and one CMA
 * buffer: usage counts each buffer once, every fd, and the bytes per
 * exporter; top shows the same, refreshed; once freed, they are gone.
 */
TEST_F(HeapctlTest, UsageAndTopFindThisProcesssDmaBufs)
{
	std::vector<Buffer> held;
	for (const auto &[heap, bytes] : { std::pair<std::string, uint64_t>("system", 65536),
					   { "system", 1 << 20 },
					   { kCmaHeap, 2 << 20 } }) {
		auto allocator = createDmaHeapAllocator("/dev/dma_heap/" + heap, heap == kCmaHeap);
		ASSERT_TRUE(allocator) << allocator.error().message();
		auto buffer = (*allocator)->allocate(AllocationRequest::blob(bytes, "heapctl-test"));
		ASSERT_TRUE(buffer) << buffer.error().message();
		held.push_back(std::move(*buffer));
	}
	UniqueFd second(dup(held[0].plane(0).fd.get()));
	ASSERT_TRUE(second);

	std::optional<Json> usage = parseJson(run(std::string(HEAPCTL_PATH) + " usage --json"));
	ASSERT_TRUE(usage);
	const Json *own = ownEntry(*usage);
	ASSERT_NE(own, nullptr) << "pid " << getpid() << " not listed";
	EXPECT_EQ(number(*own, { "buffers" }), 3u);
	EXPECT_EQ(number(*own, { "fds" }), 4u);
	EXPECT_EQ(number(*own, { "bytes" }), uint64_t(65536 + (1 << 20) + (2 << 20)));
	uint64_t system = 0, cma = 0;
	for (const Json &exporter : at(*own, { "exporters" }).array) {
		if (string(exporter, { "exporter" }) == "system")
			system = number(exporter, { "bytes" }).value_or(0);
		if (string(exporter, { "exporter" }) == kCmaHeap)
			cma = number(exporter, { "bytes" }).value_or(0);
	}
	EXPECT_EQ(system, uint64_t(65536 + (1 << 20)));
	EXPECT_EQ(cma, uint64_t(2 << 20));
	/* System-wide, each exporter says which heap it is. */
	bool cmaNamed = false;
	for (const Json &exporter : at(*usage, { "exporters" }).array)
		if (string(exporter, { "exporter" }) == kCmaHeap)
			cmaNamed = string(exporter, { "heap_kind" }) == "default-cma" &&
				   at(exporter, { "cma_area" }).type == Json::Type::String;
	EXPECT_TRUE(cmaNamed);

	/* top: the same table, twice, as it refreshes. */
	std::string top = run(std::string(HEAPCTL_PATH) + " top --count 2 --interval 0.1");
	const std::string pid = std::to_string(getpid());
	size_t first = top.find("heapctl top");
	ASSERT_NE(first, std::string::npos) << top;
	size_t again = top.find("heapctl top", first + 1);
	ASSERT_NE(again, std::string::npos) << top;
	EXPECT_NE(top.substr(first, again - first).find(pid), std::string::npos) << top;
	EXPECT_NE(top.substr(again).find(pid), std::string::npos) << top;

	held.clear();
	second = UniqueFd();
	usage = parseJson(run(std::string(HEAPCTL_PATH) + " usage --json"));
	ASSERT_TRUE(usage);
	EXPECT_EQ(ownEntry(*usage), nullptr);
}

} /* namespace */
