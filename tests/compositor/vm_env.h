/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdlib>

#include <gtest/gtest.h>

namespace heapcomp::test {

/* Inside the test VM (scripts/vm sets HEAPCOMP_VM): kernel devices must be there. */
inline bool inVm()
{
	return getenv("HEAPCOMP_VM") != nullptr;
}

/* A missing device is a skip on the host, a failure in the VM. */
#define SKIP_OR_FAIL_WITHOUT(why)          \
	do {                               \
		if (::heapcomp::test::inVm()) \
			FAIL() << (why);   \
		GTEST_SKIP() << (why);     \
	} while (0)

} /* namespace heapcomp::test */
