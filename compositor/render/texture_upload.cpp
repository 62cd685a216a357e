/* SPDX-License-Identifier: MIT */
#include "texture_upload.h"

#include <algorithm>
#include <cstring>

namespace comp {

const uint8_t *TextureUploader::prepare(const GlPlaneFormat &format, PlaneData plane,
					uint32_t x, uint32_t y, uint32_t width,
					uint32_t height)
{
	const uint32_t bpp = format.bytesPerPixel;
	const size_t rowBytes = static_cast<size_t>(width) * bpp;
	const uint8_t *first = plane.data + static_cast<size_t>(y) * plane.stride +
			       static_cast<size_t>(x) * bpp;

	glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
	if (plane.stride == rowBytes || height == 1)
		return first;

	if (caps_.unpackRowLength && plane.stride % bpp == 0) {
		glPixelStorei(GL_UNPACK_ROW_LENGTH_EXT, plane.stride / bpp);
		rowLengthSet_ = true;
		return first;
	}

	/* No row length (or an odd stride): make the rows tight. */
	scratch_.resize(rowBytes * height);
	for (uint32_t row = 0; row < height; row++)
		std::memcpy(scratch_.data() + row * rowBytes,
			    first + static_cast<size_t>(row) * plane.stride, rowBytes);
	return scratch_.data();
}

void TextureUploader::finish()
{
	if (rowLengthSet_) {
		glPixelStorei(GL_UNPACK_ROW_LENGTH_EXT, 0);
		rowLengthSet_ = false;
	}
	/* Keep a full frame's worth around, not a stray huge copy forever. */
	if (scratch_.capacity() > (64u << 20))
		std::vector<uint8_t>().swap(scratch_);
}

void TextureUploader::define(const GlPlaneFormat &format, PlaneData plane,
			     uint32_t width, uint32_t height)
{
	const uint8_t *pixels = prepare(format, plane, 0, 0, width, height);
	glTexImage2D(GL_TEXTURE_2D, 0, format.internalFormat, width, height, 0,
		     format.format, format.type, pixels);
	finish();
}

void TextureUploader::update(const GlPlaneFormat &format, PlaneData plane,
			     uint32_t x, uint32_t y, uint32_t width, uint32_t height)
{
	const uint8_t *pixels = prepare(format, plane, x, y, width, height);
	glTexSubImage2D(GL_TEXTURE_2D, 0, x, y, width, height, format.format,
			format.type, pixels);
	finish();
}

Rect subsampleRect(const Rect &rect, uint32_t hsub, uint32_t vsub)
{
	int32_t h = static_cast<int32_t>(hsub), v = static_cast<int32_t>(vsub);
	int32_t x0 = rect.x / h, y0 = rect.y / v;
	int32_t x1 = (rect.x + rect.width + h - 1) / h;
	int32_t y1 = (rect.y + rect.height + v - 1) / v;
	return { x0, y0, x1 - x0, y1 - y0 };
}

} /* namespace comp */
