/* SPDX-License-Identifier: MIT */
#include "dmabuf_buffer.h"

#include <bufmgr/mapping.h>

namespace heapcomp::test {

bool fill(const bufmgr::Buffer &buffer, uint32_t top, uint32_t bottom)
{
	return fill(buffer, [&](uint32_t, uint32_t y) { return y < buffer.height() / 2 ? top : bottom; });
}

bool fill(const bufmgr::Buffer &buffer, const std::function<uint32_t(uint32_t x, uint32_t y)> &pixel)
{
	auto mapping = bufmgr::Mapping::map(buffer, { bufmgr::Access::ReadWrite, false });
	if (!mapping)
		return false;
	auto access = mapping->beginAccess(bufmgr::Access::Write);
	if (!access)
		return false;
	std::span<uint8_t> bytes = mapping->plane(0);
	uint32_t stride = buffer.plane(0).stride;
	for (uint32_t y = 0; y < buffer.height(); y++) {
		auto *row = reinterpret_cast<uint32_t *>(bytes.data() + size_t(y) * stride);
		for (uint32_t x = 0; x < buffer.width(); x++)
			row[x] = pixel(x, y);
	}
	return bool(access->end());
}

Proxy<wl_buffer> wrap(TestClient &client, const bufmgr::Buffer &buffer, uint32_t flags,
		      std::optional<uint64_t> modifier)
{
	uint64_t sent = modifier.value_or(buffer.modifier());
	Proxy<zwp_linux_buffer_params_v1> params(zwp_linux_dmabuf_v1_create_params(client.dmabuf));
	for (size_t i = 0; i < buffer.numPlanes(); i++) {
		const bufmgr::BufferPlane &plane = buffer.plane(i);
		zwp_linux_buffer_params_v1_add(params, plane.fd.get(), uint32_t(i), plane.offset,
					       plane.stride, uint32_t(sent >> 32), uint32_t(sent));
	}
	return Proxy<wl_buffer>(zwp_linux_buffer_params_v1_create_immed(
		params, int32_t(buffer.width()), int32_t(buffer.height()), buffer.format(), flags));
}

} /* namespace heapcomp::test */
