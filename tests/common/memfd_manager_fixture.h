/* SPDX-License-Identifier: MIT */
#pragma once

#include <memory>

#include <bufmgr/manager.h>

#include <gtest/gtest.h>

#include "fd_count.h"
#include "fixture_tree.h"

namespace heapcomp::test {

/*
 * A buffer manager over an empty fixture root, as on a machine without
 * DRM, heaps or udmabuf: memfd is its only source. Every test ends with
 * as many open fds as it began with.
 */
class MemfdManagerTest : public ::testing::Test
{
protected:
	void SetUp() override
	{
		fdsBefore_ = countOpenFds();
		config_.paths = tree_.paths();
		config_.udmabufPath = tree_.path("dev/udmabuf");
		config_.driDir = tree_.path("dev/dri");
	}

	void TearDown() override
	{
		manager_.reset();
		EXPECT_EQ(countOpenFds(), fdsBefore_);
	}

	/* A new manager of config_; null, and a failure, when it cannot be made. */
	std::unique_ptr<bufmgr::BufferManager> create()
	{
		auto manager = bufmgr::BufferManager::create(config_);
		EXPECT_TRUE(manager) << manager.error().message();
		return manager ? std::move(*manager) : nullptr;
	}

	/* The test's own manager, made of config_ when first asked for. */
	bufmgr::BufferManager &manager()
	{
		if (!manager_)
			manager_ = create();
		return *manager_;
	}

	FixtureTree tree_;
	bufmgr::ManagerConfig config_;
	std::unique_ptr<bufmgr::BufferManager> manager_;

private:
	int fdsBefore_ = 0;
};

} /* namespace heapcomp::test */
