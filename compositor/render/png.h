/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <bufmgr/result.h>

namespace comp {

using bufmgr::Result;

/*
 * Writes w x h pixels given as 0xAARRGGBB (Renderer::readPixels' layout,
 * premultiplied as rendered) to an 8-bit RGBA PNG file.
 */
Result<void> writePng(const std::string &path, uint32_t width, uint32_t height,
		      std::span<const uint32_t> argb);

struct PngImage {
	uint32_t width = 0;
	uint32_t height = 0;
	std::vector<uint32_t> argb;	/* 0xAARRGGBB, rows top first */
};

/* Reads any PNG (palette, grey, 16-bit are converted) as 0xAARRGGBB. */
Result<PngImage> readPng(const std::string &path);

} /* namespace comp */
