/* SPDX-License-Identifier: MIT */
#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "render/png.h"

namespace heapcomp::test {
namespace {

std::string tempPath(const char *name)
{
	const char *dir = getenv("TMPDIR");
	return std::string(dir ? dir : "/tmp") + "/heapcomp-png-" +
	       std::to_string(getpid()) + "-" + name;
}

TEST(PngTest, RoundTripKeepsEveryPixel)
{
	const uint32_t w = 7, h = 5;
	std::vector<uint32_t> pixels;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			pixels.push_back((0x40u * y) << 24 | (30 * x) << 16 | (50 * y) << 8 | 0x11);
	const std::string path = tempPath("roundtrip.png");
	auto written = comp::writePng(path, w, h, pixels);
	ASSERT_TRUE(written) << written.error().message();

	/* A real PNG: the signature, and libpng reads back the same pixels. */
	FILE *file = fopen(path.c_str(), "rb");
	ASSERT_NE(file, nullptr);
	unsigned char magic[8] = {};
	ASSERT_EQ(fread(magic, 1, 8, file), 8u);
	fclose(file);
	EXPECT_EQ(std::string(reinterpret_cast<char *>(magic + 1), 3), "PNG");

	auto image = comp::readPng(path);
	ASSERT_TRUE(image) << image.error().message();
	EXPECT_EQ(image->width, w);
	EXPECT_EQ(image->height, h);
	EXPECT_EQ(image->argb, pixels);
	unlink(path.c_str());
}

/* Readers of the path see the old file or the new one, never a partial one. */
TEST(PngTest, ReplacesTheFileWhole)
{
	const std::string path = tempPath("replace.png");
	std::vector<uint32_t> first(4, 0xff102030), second(6, 0xff405060);
	ASSERT_TRUE(comp::writePng(path, 2, 2, first));
	ASSERT_TRUE(comp::writePng(path, 3, 2, second));
	auto image = comp::readPng(path);
	ASSERT_TRUE(image) << image.error().message();
	EXPECT_EQ(image->argb, second);
	EXPECT_NE(access((path + ".part-" + std::to_string(getpid())).c_str(), F_OK), 0);

	/* A failed replacement (the target is a directory) leaves nothing behind. */
	const std::string dir = tempPath("dir.png");
	ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
	auto ret = comp::writePng(dir, 2, 2, first);
	ASSERT_FALSE(ret);
	EXPECT_EQ(ret.error().code, EISDIR) << ret.error().message();
	EXPECT_NE(access((dir + ".part-" + std::to_string(getpid())).c_str(), F_OK), 0);
	rmdir(dir.c_str());
	unlink(path.c_str());
}

TEST(PngTest, Errors)
{
	std::vector<uint32_t> pixels(4);
	auto noDir = comp::writePng("/nonexistent-dir/x.png", 2, 2, pixels);
	ASSERT_FALSE(noDir);
	EXPECT_EQ(noDir.error().code, ENOENT);
	auto tooFew = comp::writePng(tempPath("few.png"), 3, 2, pixels);
	ASSERT_FALSE(tooFew);
	EXPECT_EQ(tooFew.error().code, EINVAL);
	auto empty = comp::writePng(tempPath("empty.png"), 0, 2, pixels);
	ASSERT_FALSE(empty);

	/* Not a PNG: a clear error, no crash from libpng's longjmp. */
	const std::string junk = tempPath("junk.png");
	FILE *file = fopen(junk.c_str(), "wb");
	ASSERT_NE(file, nullptr);
	fputs("definitely not a png file", file);
	fclose(file);
	auto bad = comp::readPng(junk);
	ASSERT_FALSE(bad);
	EXPECT_EQ(bad.error().code, EINVAL);
	unlink(junk.c_str());
	EXPECT_FALSE(comp::readPng("/nonexistent-dir/x.png"));
}

} /* namespace */
} /* namespace heapcomp::test */
