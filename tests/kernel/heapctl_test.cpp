/* SPDX-License-Identifier: MIT */
/*
 * heapctl against the VM's kernel: `heaps --json` lists what discovery
 * finds and says, per heap, what its memory is for. The VM is x86 without
 * a device tree, which must be said, not guessed around.
 */
#include <cstdio>
#include <string>

#include <bufmgr/heap.h>

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

} /* namespace */
