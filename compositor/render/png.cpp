/* SPDX-License-Identifier: MIT */
#include "png.h"

#include <cerrno>
#include <cstdio>
#include <memory>

#include <unistd.h>

#include <png.h>

namespace comp {

namespace {

using bufmgr::unexpected;

struct FileCloser {
	void operator()(FILE *file) const { fclose(file); }
};
using File = std::unique_ptr<FILE, FileCloser>;

/* libpng reports errors by longjmp; keep its message for ours. */
struct ErrorState {
	char message[256] = "unknown libpng error";
};

void onError(png_structp png, png_const_charp message)
{
	auto *state = static_cast<ErrorState *>(png_get_error_ptr(png));
	snprintf(state->message, sizeof(state->message), "%s", message);
	png_longjmp(png, 1);
}

void onWarning(png_structp, png_const_charp)
{
}

/* The PNG stream of argb into file; the caller opened and closes it. */
Result<void> writeRows(FILE *file, const std::string &what, uint32_t width, uint32_t height,
		       std::span<const uint32_t> argb)
{
	ErrorState state;
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, onError,
						  onWarning);
	if (!png)
		return unexpected(ENOMEM, what + ": png_create_write_struct");
	png_infop info = png_create_info_struct(png);
	/* Rows converted one at a time, outside the setjmp scope's locals. */
	std::vector<uint8_t> row(static_cast<size_t>(width) * 4);
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return unexpected(EIO, what + ": " + state.message);
	}

	png_init_io(png, file);
	png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < height; y++) {
		const uint32_t *in = argb.data() + static_cast<size_t>(y) * width;
		for (uint32_t x = 0; x < width; x++) {
			row[x * 4 + 0] = in[x] >> 16;
			row[x * 4 + 1] = in[x] >> 8;
			row[x * 4 + 2] = in[x];
			row[x * 4 + 3] = in[x] >> 24;
		}
		png_write_row(png, row.data());
	}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);

	if (fflush(file) != 0 || ferror(file))
		return unexpected(errno ? errno : EIO, what);
	return {};
}

} /* namespace */

Result<void> writePng(const std::string &path, uint32_t width, uint32_t height,
		      std::span<const uint32_t> argb)
{
	const std::string what = "write PNG " + path;
	if (width == 0 || height == 0 || width > 0x7fffffff / 4)
		return unexpected(EINVAL, what + ": bad size " + std::to_string(width) + "x" +
					  std::to_string(height));
	if (argb.size() < static_cast<size_t>(width) * height)
		return unexpected(EINVAL, what + ": " + std::to_string(argb.size()) +
					  " pixels for " + std::to_string(width) + "x" +
					  std::to_string(height));

	/*
	 * Written beside the target and renamed over it, so whoever watches
	 * the path (a script after SIGUSR1, a test) never reads half a file.
	 */
	const std::string partial = path + ".part-" + std::to_string(getpid());
	File file(fopen(partial.c_str(), "wbe"));
	if (!file)
		return unexpected(errno, what);
	Result<void> ret = writeRows(file.get(), what, width, height, argb);
	if (fclose(file.release()) != 0 && ret)
		ret = unexpected(errno, what + ": close");
	if (ret && rename(partial.c_str(), path.c_str()) != 0)
		ret = unexpected(errno, what + ": rename");
	if (!ret)
		unlink(partial.c_str());
	return ret;
}

Result<PngImage> readPng(const std::string &path)
{
	const std::string what = "read PNG " + path;
	File file(fopen(path.c_str(), "rbe"));
	if (!file)
		return unexpected(errno, what);

	ErrorState state;
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, onError,
						 onWarning);
	if (!png)
		return unexpected(ENOMEM, what + ": png_create_read_struct");
	png_infop info = png_create_info_struct(png);
	/* longjmp skips destructors: everything it may cross lives out here. */
	PngImage image;
	std::vector<uint8_t> bytes;
	std::vector<png_bytep> rows;
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_read_struct(&png, &info, nullptr);
		return unexpected(EINVAL, what + ": " + state.message);
	}

	png_init_io(png, file.get());
	png_read_info(png, info);
	/* Everything to 8-bit RGBA. */
	png_set_expand(png);
	png_set_strip_16(png);
	png_set_gray_to_rgb(png);
	png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);

	image.width = png_get_image_width(png, info);
	image.height = png_get_image_height(png, info);
	const size_t rowBytes = png_get_rowbytes(png, info);
	if (rowBytes < static_cast<size_t>(image.width) * 4)
		png_error(png, "unexpected row size");
	bytes.resize(rowBytes * image.height);
	rows.resize(image.height);
	for (uint32_t y = 0; y < image.height; y++)
		rows[y] = bytes.data() + y * rowBytes;
	png_read_image(png, rows.data());
	png_read_end(png, nullptr);
	png_destroy_read_struct(&png, &info, nullptr);

	image.argb.resize(static_cast<size_t>(image.width) * image.height);
	for (uint32_t y = 0; y < image.height; y++) {
		const uint8_t *in = rows[y];
		uint32_t *out = image.argb.data() + static_cast<size_t>(y) * image.width;
		for (uint32_t x = 0; x < image.width; x++)
			out[x] = uint32_t(in[x * 4 + 3]) << 24 | uint32_t(in[x * 4 + 0]) << 16 |
				 uint32_t(in[x * 4 + 1]) << 8 | in[x * 4 + 2];
	}
	return image;
}

} /* namespace comp */
