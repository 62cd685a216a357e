/* SPDX-License-Identifier: MIT */
#include "child_process.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace heapcomp::test {

std::string findProgram(const std::string &name)
{
	for (const char *dir : { "/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin", "/sbin" }) {
		std::string path = std::string(dir) + "/" + name;
		if (access(path.c_str(), X_OK) == 0)
			return path;
	}
	return {};
}

Child::Child(const std::vector<std::string> &argv, const std::string &socket,
	     const std::string &output, const std::vector<std::string> &extraEnv)
{
	/* extraEnv's names, WAYLAND_DISPLAY and DISPLAY replace what we inherit. */
	auto replaced = [&](const std::string &var) {
		const std::string name = var.substr(0, var.find('=') + 1);
		if (name == "WAYLAND_DISPLAY=" || name == "DISPLAY=")
			return true;
		return std::any_of(extraEnv.begin(), extraEnv.end(), [&](const std::string &e) {
			return e.rfind(name, 0) == 0;
		});
	};
	std::vector<std::string> env;
	for (char **e = environ; *e; e++) {
		if (!replaced(*e))
			env.push_back(*e);
	}
	env.push_back("WAYLAND_DISPLAY=" + socket);
	env.insert(env.end(), extraEnv.begin(), extraEnv.end());
	std::vector<char *> args, envp;
	for (const std::string &a : argv)
		args.push_back(const_cast<char *>(a.c_str()));
	args.push_back(nullptr);
	for (std::string &e : env)
		envp.push_back(e.data());
	envp.push_back(nullptr);

	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
					 0644);
	posix_spawn_file_actions_adddup2(&actions, 1, 2);
	if (posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), envp.data()) != 0)
		pid_ = -1;
	posix_spawn_file_actions_destroy(&actions);
}

int Child::signal(int sig) const
{
	return pid_ > 0 ? kill(pid_, sig) : -1;
}

int Child::wait(int timeoutMs)
{
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
	while (pid_ > 0) {
		int status;
		pid_t r = waitpid(pid_, &status, WNOHANG);
		if (r == pid_) {
			pid_ = -1;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		if (std::chrono::steady_clock::now() > deadline)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	stop();
	return -1;
}

void Child::stop()
{
	if (pid_ <= 0)
		return;
	kill(pid_, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
			pid_ = -1;
			return;
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	kill(pid_, SIGKILL);
	waitpid(pid_, nullptr, 0);
	pid_ = -1;
}

std::string readFile(const std::string &path)
{
	std::ifstream file(path);
	std::stringstream out;
	out << file.rdbuf();
	return out.str();
}

std::string outputPath(const std::string &name)
{
	return testing::TempDir() + "heapcomp-" + name;
}

bool waitFor(const std::function<bool()> &cond, int timeoutMs)
{
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
	while (!cond()) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	return true;
}

bool waitForText(const std::string &path, const std::string &text, int timeoutMs)
{
	return waitFor([&] { return readFile(path).find(text) != std::string::npos; }, timeoutMs);
}

} /* namespace heapcomp::test */
