/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "egl_context.h"
#include "gles_format.h"
#include "renderer.h"

namespace comp {

/* One plane of CPU memory to upload: its first byte and row pitch. */
struct PlaneData {
	const uint8_t *data = nullptr;
	uint32_t stride = 0;
};

/*
 * Uploads CPU pixels into the currently bound GL_TEXTURE_2D, respecting
 * the source stride: GL_UNPACK_ROW_LENGTH where the context has it,
 * else one call when rows are tight, else through a tight copy.
 */
class TextureUploader
{
public:
	explicit TextureUploader(const GlesCaps &caps) : caps_(caps) {}

	/* Defines the texture's storage with the whole plane. */
	void define(const GlPlaneFormat &format, PlaneData plane,
		    uint32_t width, uint32_t height);
	/* Replaces a rect of an already defined texture. */
	void update(const GlPlaneFormat &format, PlaneData plane,
		    uint32_t x, uint32_t y, uint32_t width, uint32_t height);

private:
	const uint8_t *prepare(const GlPlaneFormat &format, PlaneData plane,
			       uint32_t x, uint32_t y, uint32_t width, uint32_t height);
	void finish();

	GlesCaps caps_;
	std::vector<uint8_t> scratch_;
	bool rowLengthSet_ = false;
};

/* A luma-plane rect in the coordinates of a subsampled plane, rounded out. */
Rect subsampleRect(const Rect &rect, uint32_t hsub, uint32_t vsub);

} /* namespace comp */
