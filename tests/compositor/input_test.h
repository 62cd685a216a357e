/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>

#include <gtest/gtest.h>

#include "fd_count.h"
#include "server_runner.h"
#include "test_client.h"

namespace heapcomp::test {

/*
 * Where input tests start: the compositor with a touch screen besides its
 * pointer and keyboard, and two clients, a and b, with all three bound.
 */
class InputTest : public testing::Test
{
protected:
	static comp::ServerConfig touchScreenConfig()
	{
		comp::ServerConfig config = ServerRunner::defaultConfig();
		config.headless.touch = true;
		return config;
	}

	void SetUp() override
	{
		ASSERT_TRUE(server.ok()) << server.error();
		ASSERT_TRUE(a.connected() && b.connected());
		for (TestClient *c : { &a, &b }) {
			c->bindInput();
			c->bindTouch();
		}
	}

	/* What a client going away must give back: descriptors, the server's records. */
	struct Holdings {
		int fds = 0;
		size_t clients = 0;
		bool operator==(const Holdings &) const = default;
	};
	Holdings holdings()
	{
		/* Output buffers are made as frames need them: let them settle. */
		EXPECT_TRUE(server.waitFrames(3));
		return { countOpenFds(), server.run([](comp::Server &s) { return s.numClients(); }) };
	}

	/* Runs f with the headless backend on the server's thread. */
	void inject(const std::function<void(comp::HeadlessBackend &)> &f)
	{
		server.run([&](comp::Server &s) { f(*s.headlessBackend()); });
	}

	ServerRunner server{ touchScreenConfig() };
	TestClient a{ server.socket() };
	TestClient b{ server.socket() };
};

} /* namespace heapcomp::test */
