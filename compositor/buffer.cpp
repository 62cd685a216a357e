/* SPDX-License-Identifier: MIT */
#include "buffer.h"

#include <fcntl.h>
#include <linux/dma-buf.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <drm_fourcc.h>
#include <wayland-server-core.h>
#include <wayland-server-protocol.h>

#include "client.h"
#include "protocols/shm.h"
#include "wayland_util.h"

namespace comp {

namespace {

const struct wl_buffer_interface bufferImpl = {
	.destroy = destroyResource,
};

} /* namespace */

uint32_t shmFormatToDrm(uint32_t format)
{
	switch (format) {
	case WL_SHM_FORMAT_ARGB8888: return DRM_FORMAT_ARGB8888;
	case WL_SHM_FORMAT_XRGB8888: return DRM_FORMAT_XRGB8888;
	default: return format;
	}
}

uint32_t drmFormatToShm(uint32_t format)
{
	switch (format) {
	case DRM_FORMAT_ARGB8888: return WL_SHM_FORMAT_ARGB8888;
	case DRM_FORMAT_XRGB8888: return WL_SHM_FORMAT_XRGB8888;
	default: return format;
	}
}

ClientBuffer::ClientBuffer(Type type, wl_resource *resource,
			   std::shared_ptr<ClientAccount> account)
	: type_(type), resource_(resource), account_(std::move(account))
{
	destroyLink_.listener.notify = &ClientBuffer::onResourceDestroy;
	destroyLink_.buffer = this;
	wl_resource_add_destroy_listener(resource, &destroyLink_.listener);
}

ClientBuffer::~ClientBuffer()
{
	if (resource_)
		wl_list_remove(&destroyLink_.listener.link);
	/* The texture may refer to the dma-buf: it goes first. */
	texture_.reset();
	if (account_) {
		account_->buffers--;
		account_->bytes -= accountedBytes_;
		account_->dmaBufFds -= accountedFds_;
		if (type_ == Type::DmaBuf) {
			account_->dmaBufBuffers--;
			account_->dmaBufBytes -= accountedBytes_;
		}
		account_->held.remove(*this, accountedBytes_);
		if (account_->totals)
			account_->totals->remove(*this, accountedBytes_);
	}
}

void ClientBuffer::account(uint64_t bytes, uint64_t fds)
{
	accountedBytes_ = bytes;
	accountedFds_ = fds;
	if (!account_)
		return;
	account_->buffers++;
	account_->bytes += bytes;
	account_->dmaBufFds += fds;
	if (type_ == Type::DmaBuf) {
		account_->dmaBufBuffers++;
		account_->dmaBufBytes += bytes;
	}
	account_->held.add(*this, bytes);
	if (account_->totals)
		account_->totals->add(*this, bytes);
}

std::shared_ptr<ClientBuffer> ClientBuffer::fromResource(wl_resource *resource)
{
	if (!resource)
		return nullptr;
	wl_listener *listener = wl_resource_get_destroy_listener(resource,
								 &ClientBuffer::onResourceDestroy);
	if (!listener)
		return nullptr;
	DestroyLink *link = wl_container_of(listener, link, listener);
	return link->buffer->shared_from_this();
}

std::shared_ptr<ClientBuffer> ClientBuffer::createShm(wl_resource *resource, ShmBuffer shm,
						      uint32_t width, uint32_t format,
						      std::shared_ptr<ClientAccount> account)
{
	wl_resource_set_implementation(resource, &bufferImpl, nullptr, nullptr);
	std::shared_ptr<ClientBuffer> buffer(
		new ClientBuffer(Type::Shm, resource, std::move(account)));
	buffer->width_ = width;
	buffer->height_ = shm.height();
	buffer->format_ = format;
	buffer->account(shm.size(), 0);
	buffer->shm_ = std::make_unique<ShmBuffer>(std::move(shm));
	buffer->self_ = buffer;
	return buffer;
}

std::shared_ptr<ClientBuffer> ClientBuffer::createDmaBuf(wl_resource *resource,
							 bufmgr::Buffer dmaBuf,
							 std::string exporter,
							 std::shared_ptr<ClientAccount> account)
{
	wl_resource_set_implementation(resource, &bufferImpl, nullptr, nullptr);
	std::shared_ptr<ClientBuffer> buffer(
		new ClientBuffer(Type::DmaBuf, resource, std::move(account)));
	buffer->width_ = dmaBuf.width();
	buffer->height_ = dmaBuf.height();
	buffer->format_ = dmaBuf.format();
	buffer->exporter_ = std::move(exporter);
	buffer->account(dmaBuf.size(), dmaBuf.numPlanes());
	buffer->dmaBuf_.emplace(std::move(dmaBuf));
	buffer->self_ = buffer;
	return buffer;
}

void ClientBuffer::onResourceDestroy(wl_listener *listener, void *)
{
	DestroyLink *link = wl_container_of(listener, link, listener);
	ClientBuffer *buffer = link->buffer;
	wl_list_remove(&listener->link);
	wl_list_init(&listener->link);
	buffer->resource_ = nullptr;
	/* May delete the buffer: nothing after this line. */
	buffer->self_.reset();
}

void ClientBuffer::unlock()
{
	if (locks_ == 0 || --locks_ > 0)
		return;
	if (resource_)
		wl_buffer_send_release(resource_);
}

ClientBuffer::Lock::Lock(std::shared_ptr<ClientBuffer> buffer)
	: buffer_(std::move(buffer))
{
	if (buffer_)
		buffer_->locks_++;
}

ClientBuffer::Lock &ClientBuffer::Lock::operator=(Lock &&other) noexcept
{
	if (this != &other) {
		reset();
		buffer_ = std::move(other.buffer_);
	}
	return *this;
}

void ClientBuffer::Lock::reset()
{
	if (!buffer_)
		return;
	std::shared_ptr<ClientBuffer> buffer = std::move(buffer_);
	buffer_.reset();
	buffer->unlock();
}

void ClientBufferTotals::add(const ClientBuffer &buffer, uint64_t bytes)
{
	Count &type = buffer.type() == ClientBuffer::Type::Shm ? shm_ : dmaBuf_;
	type.buffers++;
	type.bytes += bytes;
	if (buffer.type() != ClientBuffer::Type::DmaBuf)
		return;
	Count &exporter = byExporter_[buffer.exporter()];
	exporter.buffers++;
	exporter.bytes += bytes;
}

std::vector<std::pair<std::string, ClientBufferTotals::Count>> ClientBufferTotals::bySource() const
{
	std::vector<std::pair<std::string, Count>> sources;
	if (shm_.buffers)
		sources.emplace_back("wl_shm", shm_);
	sources.insert(sources.end(), byExporter_.begin(), byExporter_.end());
	return sources;
}

void ClientBufferTotals::remove(const ClientBuffer &buffer, uint64_t bytes)
{
	Count &type = buffer.type() == ClientBuffer::Type::Shm ? shm_ : dmaBuf_;
	type.buffers--;
	type.bytes -= bytes;
	if (buffer.type() != ClientBuffer::Type::DmaBuf)
		return;
	auto it = byExporter_.find(buffer.exporter());
	if (it == byExporter_.end())
		return;
	it->second.buffers--;
	it->second.bytes -= bytes;
	if (it->second.buffers == 0)
		byExporter_.erase(it);
}

bufmgr::UniqueFd ClientBuffer::pendingWrites() const
{
	if (!dmaBuf_)
		return {};
	for (const bufmgr::BufferPlane &plane : dmaBuf_->planes()) {
		/*
		 * A dma-buf polls readable once its write fences signalled:
		 * the common case, one syscall. An error counts as ready.
		 */
		struct pollfd ready = { plane.fd.get(), POLLIN, 0 };
		if (poll(&ready, 1, 0) != 0)
			continue;
		/* A sync file of those fences (Linux 6.0), else the dma-buf itself, to wait on. */
		struct dma_buf_export_sync_file exported = {};
		exported.flags = DMA_BUF_SYNC_READ;
		exported.fd = -1;
		if (ioctl(plane.fd.get(), DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exported) == 0)
			return bufmgr::UniqueFd(exported.fd);
		return bufmgr::UniqueFd(fcntl(plane.fd.get(), F_DUPFD_CLOEXEC, 0));
	}
	return {};
}

} /* namespace comp */
