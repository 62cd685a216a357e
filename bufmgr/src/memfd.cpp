/* SPDX-License-Identifier: MIT */
#include <bufmgr/memfd.h>

#include <cerrno>
#include <fcntl.h>
#include <limits>
#include <sys/mman.h>
#include <unistd.h>

#include "sys.h"

namespace bufmgr {

namespace {

/* Opens a sealable memfd; the failure names what was asked for. */
class SealableMemfd
{
public:
	SealableMemfd(const std::string &name, uint64_t size)
		: name_(name), size_(size),
		  fd_(sys::memfdCreate(name.empty() ? "bufmgr" : name.c_str(),
				     MFD_CLOEXEC | MFD_ALLOW_SEALING))
	{
	}

	UniqueFd &fd() { return fd_; }

	/* Built only on failure; errno is read before. */
	Unexpected<Error> fail(int err, const char *what) const
	{
		return unexpected(err, what + ("memfd '" + name_ + "' of " +
					       std::to_string(size_) + " B"));
	}

	Result<UniqueFd> seal(int seals)
	{
		if (sys::fcntl(fd_.get(), F_ADD_SEALS, seals) < 0)
			return fail(errno, "seal ");
		return std::move(fd_);
	}

private:
	const std::string &name_;
	uint64_t size_;
	UniqueFd fd_;
};

} /* namespace */

Result<UniqueFd> createSealedMemfd(const std::string &name, uint64_t size, bool sealGrow)
{
	SealableMemfd memfd(name, size);
	if (!memfd.fd())
		return memfd.fail(errno, "memfd_create for ");
	if (size > static_cast<uint64_t>(std::numeric_limits<off_t>::max()))
		return memfd.fail(EFBIG, "ftruncate ");
	if (sys::ftruncate(memfd.fd().get(), static_cast<off_t>(size)) < 0)
		return memfd.fail(errno, "ftruncate ");
	/* A peer that shrank the file would make our mappings SIGBUS. */
	return memfd.seal(F_SEAL_SHRINK | (sealGrow ? F_SEAL_GROW : 0));
}

Result<UniqueFd> createSealedMemfd(const std::string &name, std::span<const std::byte> contents)
{
	SealableMemfd memfd(name, contents.size());
	if (!memfd.fd())
		return memfd.fail(errno, "memfd_create for ");
	size_t written = 0;
	while (written < contents.size()) {
		ssize_t n = sys::write(memfd.fd().get(), contents.data() + written,
				    contents.size() - written);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return memfd.fail(n < 0 ? errno : EIO, "write ");
		written += static_cast<size_t>(n);
	}
	return memfd.seal(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
}

} /* namespace bufmgr */
