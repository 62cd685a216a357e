/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace heapcomp::test {

/* The path of an installed program in the usual bin and sbin directories; "" if none. */
std::string findProgram(const std::string &name);

/* A client process with WAYLAND_DISPLAY set (and extraEnv), its output in a file. */
class Child
{
public:
	Child(const std::vector<std::string> &argv, const std::string &socket,
	      const std::string &output, const std::vector<std::string> &extraEnv = {});
	~Child() { stop(); }
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;

	bool running() const { return pid_ > 0; }
	pid_t pid() const { return pid_; }
	int signal(int sig) const;

	/* Exit status, or -1 if it did not exit in time (then it is killed). */
	int wait(int timeoutMs);
	void stop();

private:
	pid_t pid_ = -1;
};

std::string readFile(const std::string &path);

/* A file of this name in the test's temporary directory. */
std::string outputPath(const std::string &name);

/* Polls cond every 20 ms; false if it still fails after timeoutMs. */
bool waitFor(const std::function<bool()> &cond, int timeoutMs);

/* Waits until the file at path holds text; false after timeoutMs. */
bool waitForText(const std::string &path, const std::string &text, int timeoutMs);

} /* namespace heapcomp::test */
