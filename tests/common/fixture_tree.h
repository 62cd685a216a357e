/* SPDX-License-Identifier: MIT */
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <bufmgr/heap.h>

namespace heapcomp::test {

/* A throwaway root holding dev/, sys/ and proc/ fixture trees. */
class FixtureTree
{
public:
	FixtureTree()
	{
		std::string tmpl =
			(std::filesystem::temp_directory_path() / "heapcomp-heap-XXXXXX").string();
		char *dir = ::mkdtemp(tmpl.data());
		EXPECT_NE(dir, nullptr);
		root_ = tmpl;
		/* Readable by the unprivileged child of the EACCES tests. */
		::chmod(root_.c_str(), 0755);
	}
	~FixtureTree()
	{
		std::error_code ec;
		std::filesystem::remove_all(root_, ec);
	}

	std::string path(const std::string &rel) const { return root_ + "/" + rel; }

	void file(const std::string &rel, const std::string &content = {}) const
	{
		std::filesystem::create_directories(std::filesystem::path(path(rel)).parent_path());
		std::ofstream(path(rel)) << content;
	}
	void dir(const std::string &rel) const { std::filesystem::create_directories(path(rel)); }
	void symlink(const std::string &target, const std::string &rel) const
	{
		std::filesystem::create_directories(std::filesystem::path(path(rel)).parent_path());
		std::filesystem::create_symlink(target, path(rel));
	}

	void heap(const std::string &name) const { file("dev/dma_heap/" + name); }
	void cmaArea(const std::string &name) const { dir("sys/kernel/mm/cma/" + name); }

	bufmgr::SystemPaths paths() const
	{
		bufmgr::SystemPaths p = bufmgr::SystemPaths::underRoot(root_);
		p.pageSize = 4096;
		return p;
	}

private:
	std::string root_;
};

} /* namespace heapcomp::test */
