/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {

/*
 * A well-behaved client with a 32x32 window at the output's top left,
 * beside a client that misbehaves: whatever the offender does, the
 * compositor must go on serving it.
 */
class Bystander
{
public:
	explicit Bystander(ServerRunner &server);

	/* Mapped and drawn: false (and test failures) if not. */
	bool ready() const { return ready_; }
	/* Redraws in another color: whether that frame reached the screen. */
	::testing::AssertionResult stillServed();

	TestClient client;

private:
	ServerRunner &server_;
	Window window_;
	ShmBuffer buffer_;
	bool ready_ = false;
};

} /* namespace heapcomp::test */
