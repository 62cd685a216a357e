/* SPDX-License-Identifier: MIT */
#include "protocols/shm.h"

#include <algorithm>
#include <errno.h>

#include <wayland-server-core.h>
#include <wayland-server-protocol.h>

#include "buffer.h"
#include "log.h"
#include "server.h"

namespace comp {

bufmgr::Result<std::unique_ptr<ShmGlobal>> ShmGlobal::create(Server &server)
{
	if (wl_display_init_shm(server.display()) < 0)
		return bufmgr::unexpected(ENOMEM, "wl_display_init_shm");

	std::unique_ptr<ShmGlobal> shm(new ShmGlobal());
	/* libwayland always offers these two. */
	shm->formats_ = { WL_SHM_FORMAT_ARGB8888, WL_SHM_FORMAT_XRGB8888 };
	for (uint32_t drm : server.renderer().shmFormats()) {
		uint32_t format = drmFormatToShm(drm);
		if (std::find(shm->formats_.begin(), shm->formats_.end(), format) !=
		    shm->formats_.end())
			continue;
		if (!wl_display_add_shm_format(server.display(), format))
			return bufmgr::unexpected(ENOMEM, "wl_display_add_shm_format");
		shm->formats_.push_back(format);
	}
	LOG_DEBUG("wl_shm: %zu formats", shm->formats_.size());
	return shm;
}

} /* namespace comp */
