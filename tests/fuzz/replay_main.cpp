/* SPDX-License-Identifier: MIT */
/*
 * The fuzz target without libFuzzer: runs each input file (or every file
 * of a directory) once, so any build with any compiler replays the
 * corpus and the regressions.
 */
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

bool replay(const std::filesystem::path &path)
{
	std::ifstream file(path, std::ios::binary);
	if (!file) {
		fprintf(stderr, "cannot read %s\n", path.c_str());
		return false;
	}
	std::vector<uint8_t> data((std::istreambuf_iterator<char>(file)),
				  std::istreambuf_iterator<char>());
	fprintf(stderr, "Running: %s\n", path.c_str());
	LLVMFuzzerTestOneInput(data.data(), data.size());
	return true;
}

} /* namespace */

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	size_t count = 0;
	for (int i = 1; i < argc; i++) {
		std::vector<std::filesystem::path> paths;
		if (std::filesystem::is_directory(argv[i])) {
			for (const auto &entry : std::filesystem::directory_iterator(argv[i]))
				if (entry.is_regular_file())
					paths.push_back(entry.path());
			std::sort(paths.begin(), paths.end());
		} else {
			paths.emplace_back(argv[i]);
		}
		for (const auto &path : paths) {
			if (!replay(path))
				return 1;
			count++;
		}
	}
	printf("%zu inputs replayed\n", count);
	return 0;
}
