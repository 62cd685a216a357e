/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>

#include <gtest/gtest.h>

#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {

/*
 * Where input tests start: the compositor and two clients, a and b, with
 * their seat's devices bound.
 */
class InputTest : public testing::Test
{
protected:
	void SetUp() override
	{
		ASSERT_TRUE(server.ok()) << server.error();
		ASSERT_TRUE(a.connected() && b.connected());
		a.bindInput();
		b.bindInput();
	}

	/* Runs f with the headless backend on the server's thread. */
	void inject(const std::function<void(comp::HeadlessBackend &)> &f)
	{
		server.run([&](comp::Server &s) { f(*s.headlessBackend()); });
	}

	ServerRunner server;
	TestClient a{ server.socket() };
	TestClient b{ server.socket() };
};

} /* namespace heapcomp::test */
