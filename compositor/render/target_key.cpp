/* SPDX-License-Identifier: MIT */
#include "target_key.h"

#include <cerrno>
#include <sys/stat.h>

namespace comp {

bufmgr::Result<TargetKey> TargetKey::of(const bufmgr::Buffer &buffer)
{
	if (!buffer.isValid())
		return bufmgr::unexpected(EINVAL, "render target: buffer has no memory");
	struct stat st;
	if (::fstat(buffer.plane(0).fd.get(), &st) < 0)
		return bufmgr::unexpected(errno, "render target: fstat");
	TargetKey key;
	key.device = st.st_dev;
	key.inode = st.st_ino;
	key.offset = buffer.plane(0).offset;
	key.stride = buffer.plane(0).stride;
	key.width = buffer.width();
	key.height = buffer.height();
	key.format = buffer.format();
	key.modifier = buffer.modifier();
	return key;
}

} /* namespace comp */
