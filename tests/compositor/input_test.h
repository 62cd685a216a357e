/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>

#include <gtest/gtest.h>

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
