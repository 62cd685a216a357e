/* SPDX-License-Identifier: MIT */
#include <bufmgr/allocators.h>
#include <bufmgr/memfd.h>

#include <cerrno>
#include <fcntl.h>
#include <linux/udmabuf.h>

#include "allocator_util.h"

namespace bufmgr {

namespace {

/*
 * Pages of a sealed memfd exported as a dma-buf: CPU-friendly memory that
 * devices with an IOMMU (and vgem/vkms) can import.
 */
class UdmabufAllocator final : public Allocator
{
public:
	explicit UdmabufAllocator(UniqueFd dev) : dev_(std::move(dev)) {}

	AllocatorKind kind() const override { return AllocatorKind::Udmabuf; }
	const std::string &source() const override { return origin_.source.str(); }
	uint32_t capabilities() const override { return CapDmaBuf | CapCpuMap; }

	Result<Buffer> allocate(const AllocationRequest &request) override
	{
		auto layout = internal::linearLayout(request, 256, origin_.source.str());
		if (!layout)
			return unexpected(std::move(layout).error());

		/* Built only on failure: the message costs more than a success. */
		auto what = [&] {
			return "allocate " + internal::describe(request, layout->totalSize) +
			       " from udmabuf";
		};

		/* udmabuf refuses memfds that could shrink under it. */
		auto memfd = createSealedMemfd(request.name, layout->totalSize, false);
		if (!memfd)
			return unexpected(memfd.error().code,
					  what() + ": " + memfd.error().context);

		struct udmabuf_create create = {};
		create.memfd = static_cast<__u32>(memfd->get());
		create.flags = UDMABUF_FLAGS_CLOEXEC;
		create.offset = 0;
		create.size = layout->totalSize;

		int ret = sys::ioctl(dev_.get(), UDMABUF_CREATE, &create);
		if (ret < 0) {
			int err = errno;
			return unexpected(err, what());
		}

		/* The dma-buf pins the pages; the memfd itself can go. */
		UniqueFd fd(ret);
		internal::setDmaBufName(fd.get(), request.name);

		return internal::makeBuffer(request, *layout, std::move(fd), origin_);
	}

private:
	UniqueFd dev_;
	const Buffer::Origin origin_{ AllocatorKind::Udmabuf, "udmabuf", true, false };
};

} /* namespace */

Result<std::unique_ptr<Allocator>> createUdmabufAllocator(const std::string &path)
{
	UniqueFd fd(sys::open(path.c_str(), O_RDWR | O_CLOEXEC));
	if (!fd)
		return unexpected(errno, "open udmabuf device " + path);
	return std::unique_ptr<Allocator>(new UdmabufAllocator(std::move(fd)));
}

} /* namespace bufmgr */
