/* SPDX-License-Identifier: MIT */
#include "scene/screenshot.h"

#include <cstring>

#include <drm_fourcc.h>

#include <bufmgr/format.h>
#include <bufmgr/mapping.h>

#include "buffer.h"
#include "protocols/shm.h"

namespace comp {

namespace {

/* One row of format pixels into 0xAARRGGBB. */
void convertRow(uint32_t format, const uint8_t *src, uint32_t *dst, uint32_t width)
{
	for (uint32_t x = 0; x < width; x++) {
		uint32_t p;
		memcpy(&p, src + 4 * size_t(x), sizeof(p));
		switch (format) {
		case DRM_FORMAT_XRGB8888:
			p |= 0xff000000u;
			break;
		case DRM_FORMAT_XBGR8888:
			p |= 0xff000000u;
			[[fallthrough]];
		case DRM_FORMAT_ABGR8888:
			/* R and B trade places. */
			p = (p & 0xff00ff00u) | ((p & 0xffu) << 16) | ((p >> 16) & 0xffu);
			break;
		default:
			break;
		}
		dst[x] = p;
	}
}

Screenshot convert(uint32_t format, uint32_t width, uint32_t height, const uint8_t *data,
		   size_t stride)
{
	Screenshot shot;
	shot.width = width;
	shot.height = height;
	shot.pixels.resize(size_t(width) * height);
	for (uint32_t y = 0; y < height; y++)
		convertRow(format, data + y * stride, &shot.pixels[size_t(y) * width], width);
	return shot;
}

} /* namespace */

bool isScreenshotFormat(uint32_t format)
{
	switch (format) {
	case DRM_FORMAT_XRGB8888:
	case DRM_FORMAT_ARGB8888:
	case DRM_FORMAT_XBGR8888:
	case DRM_FORMAT_ABGR8888:
		return true;
	default:
		return false;
	}
}

bufmgr::Result<Screenshot> readClientBuffer(const ClientBuffer &buffer)
{
	const uint32_t format = buffer.format();
	if (!isScreenshotFormat(format))
		return bufmgr::unexpected(ENOTSUP, "read a client buffer of format " +
					  bufmgr::fourccToString(format));

	if (const ShmBuffer *shm = buffer.shmBuffer()) {
		ShmBuffer::Access access(*shm);
		if (!access.data())
			return bufmgr::unexpected(EFAULT, "read a wl_shm buffer");
		Screenshot shot = convert(format, buffer.width(), buffer.height(), access.data(),
					  shm->stride());
		if (!access.end())
			return bufmgr::unexpected(EFAULT, "the wl_shm pool shrank under the read");
		return shot;
	}

	const bufmgr::Buffer *dmaBuf = buffer.dmaBuf();
	if (!dmaBuf || dmaBuf->modifier() != DRM_FORMAT_MOD_LINEAR)
		return bufmgr::unexpected(ENOTSUP, "read a tiled client dma-buf");
	auto mapping = bufmgr::Mapping::map(*dmaBuf, { .access = bufmgr::Access::Read });
	if (!mapping)
		return bufmgr::unexpected(std::move(mapping).error());
	auto cpu = mapping->beginAccess(bufmgr::Access::Read);
	if (!cpu)
		return bufmgr::unexpected(std::move(cpu).error());
	Screenshot shot = convert(format, buffer.width(), buffer.height(),
				  mapping->plane(0).data(), dmaBuf->plane(0).stride);
	auto ended = cpu->end();
	if (!ended)
		return bufmgr::unexpected(std::move(ended).error());
	return shot;
}

} /* namespace comp */
