/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>

#include <gtest/gtest.h>

#include <bufmgr/buffer.h>
#include <bufmgr/heap.h>

namespace heapcomp::test {

/* The heap names the test VM's 7.2 kernel exposes. */
inline const std::string kSystemHeap = "system";
inline const std::string kCmaHeap = "default_cma_region";
inline const std::string kCmaAlias = "reserved";

/* Path of the first /dev/dri/card* whose driver is `driver`, or "". */
std::string findDrmCard(const std::string &driver);

/* Path of the first /dev/dri/renderD*, or "". */
std::string findRenderNode();

/* Writes a position-dependent pattern through a mapping of the buffer. */
void fillPattern(const bufmgr::Buffer &buffer, uint32_t seed);
/* Checks it through a separate mapping of a dup'ed fd. */
::testing::AssertionResult hasPattern(const bufmgr::Buffer &buffer, uint32_t seed);

/*
 * Every test starts and ends with the same number of open fds: whatever
 * a test allocated, bufmgr must have closed.
 */
class KernelTest : public ::testing::Test
{
protected:
	void SetUp() override;
	void TearDown() override;

private:
	int fdsBefore_ = 0;
};

} /* namespace heapcomp::test */
