/* SPDX-License-Identifier: MIT */
#include "protocols/linux_dmabuf.h"

#include <algorithm>
#include <array>
#include <errno.h>
#include <span>
#include <unistd.h>

#include <drm_fourcc.h>
#include <linux-dmabuf-unstable-v1-server-protocol.h>
#include <wayland-server-protocol.h>

#include <bufmgr/exporter.h>
#include <bufmgr/format.h>
#include <bufmgr/manager.h>
#include <bufmgr/memfd.h>
#include <bufmgr/stats.h>

#include "buffer.h"
#include "client.h"
#include "log.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

constexpr int kMaxPlanes = 4;

/* zwp_linux_buffer_params_v1: planes collected before create. */
struct Params {
	struct Plane {
		bufmgr::UniqueFd fd;
		uint32_t offset = 0;
		uint32_t stride = 0;
		uint64_t modifier = 0;
	};

	~Params()
	{
		for (auto &plane : planes)
			if (plane && plane->fd)
				account->paramsFds--;
	}

	LinuxDmabuf *dmabuf;
	/* Whose fds the planes are, for the client's fd limit. */
	std::shared_ptr<ClientAccount> account;
	std::array<std::optional<Plane>, kMaxPlanes> planes;
	bool used = false;
};

void paramsAdd(wl_client *client, wl_resource *resource, int32_t fd, uint32_t planeIdx,
	       uint32_t offset, uint32_t stride, uint32_t modifierHi, uint32_t modifierLo)
{
	/* Ours from here on, whatever happens. */
	bufmgr::UniqueFd owned(fd);
	auto *params = fromResource<Params>(resource);
	/* Every fd a client parks here is one fewer for everyone else. */
	const uint64_t held = params->account->dmaBufFds + params->account->paramsFds + 1;
	const uint32_t max = params->dmabuf->server().config().limits.fds;
	if (held > max) {
		disconnectOverLimit(client, "fds", "dma-buf fds held", held, max);
		return;
	}
	if (params->used) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
				       "params were already used to create a wl_buffer");
		return;
	}
	if (planeIdx >= kMaxPlanes) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_IDX,
				       "plane index %u is above %d", planeIdx, kMaxPlanes - 1);
		return;
	}
	if (params->planes[planeIdx]) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_SET,
				       "plane %u was already set", planeIdx);
		return;
	}
	Params::Plane plane;
	plane.fd = std::move(owned);
	plane.offset = offset;
	plane.stride = stride;
	plane.modifier = (uint64_t(modifierHi) << 32) | modifierLo;
	params->planes[planeIdx] = std::move(plane);
	params->account->paramsFds++;
}

/*
 * Checks everything the protocol names an error for; returns false after
 * posting one. The order follows the spec's: completeness, format,
 * dimensions, bounds.
 */
bool validate(wl_resource *resource, Params &params, int32_t width, int32_t height,
	      uint32_t format, size_t *numPlanes)
{
	size_t n = 0;
	while (n < kMaxPlanes && params.planes[n])
		n++;
	for (size_t i = n; i < kMaxPlanes; i++) {
		if (params.planes[i]) {
			wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
					       "plane %zu set but plane %zu missing", i, n);
			return false;
		}
	}
	if (n == 0) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
				       "no planes were added");
		return false;
	}

	uint64_t modifier = params.planes[0]->modifier;
	for (size_t i = 1; i < n; i++) {
		if (params.planes[i]->modifier != modifier) {
			wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
					       "planes have different modifiers");
			return false;
		}
	}
	const bufmgr::FormatInfo *info = bufmgr::formatInfo(format);
	if (!info || !params.dmabuf->supports(format, modifier)) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
				       "format %s modifier %#llx is not supported",
				       bufmgr::fourccToString(format).c_str(),
				       static_cast<unsigned long long>(modifier));
		return false;
	}
	/* Linear layouts have exactly the format's planes. */
	if (n != info->numPlanes) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
				       "format %s needs %u planes, got %zu",
				       bufmgr::fourccToString(format).c_str(), info->numPlanes, n);
		return false;
	}
	if (width < 1 || height < 1) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_DIMENSIONS,
				       "size %dx%d is not positive", width, height);
		return false;
	}

	for (size_t i = 0; i < n; i++) {
		const Params::Plane &plane = *params.planes[i];
		uint32_t planeWidth = uint32_t(width), planeHeight = uint32_t(height);
		if (i > 0) {
			planeWidth = (planeWidth + info->hsub - 1) / info->hsub;
			planeHeight = (planeHeight + info->vsub - 1) / info->vsub;
		}
		uint64_t minStride = uint64_t(planeWidth) * info->bytesPerPixel[i];
		if (plane.stride < minStride) {
			wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
					       "plane %zu stride %u is below %u pixels of %u bytes",
					       i, plane.stride, planeWidth, info->bytesPerPixel[i]);
			return false;
		}
		uint64_t end = uint64_t(plane.offset) + uint64_t(plane.stride) * planeHeight;
		if (uint64_t(plane.offset) + plane.stride > UINT32_MAX || end > UINT32_MAX) {
			wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
					       "plane %zu offset %u + stride %u x %u rows overflows",
					       i, plane.offset, plane.stride, planeHeight);
			return false;
		}
		/* Not every fd can tell its size (lseek fails): then skip this. */
		off_t size = lseek(plane.fd.get(), 0, SEEK_END);
		if (size < 0)
			continue;
		if (plane.offset >= uint64_t(size) || end > uint64_t(size)) {
			wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
					       "plane %zu offset %u + %u rows of %u bytes is beyond "
					       "the %lld byte buffer", i, plane.offset, planeHeight,
					       plane.stride, static_cast<long long>(size));
			return false;
		}
	}
	*numPlanes = n;
	return true;
}

/* The source name a client buffer is counted under in bufmgr's stats. */
std::string clientSource(const std::string &exporter)
{
	return "client:" + exporter;
}

void createBuffer(wl_client *client, wl_resource *resource, uint32_t bufferId, int32_t width,
		  int32_t height, uint32_t format, uint32_t flags)
{
	auto *params = fromResource<Params>(resource);
	bool immediate = bufferId != 0;
	if (params->used) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
				       "params were already used to create a wl_buffer");
		return;
	}
	params->used = true;

	size_t numPlanes = 0;
	if (!validate(resource, *params, width, height, format, &numPlanes))
		return;

	LinuxDmabuf *dmabuf = params->dmabuf;
	Server &server = dmabuf->server();
	auto fail = [&](const std::string &why) {
		LOG_WARNING("dma-buf %dx%d %s rejected: %s", width, height,
			    bufmgr::fourccToString(format).c_str(), why.c_str());
		if (immediate)
			wl_resource_post_error(resource,
					       ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
					       "import failed: %s", why.c_str());
		else
			zwp_linux_buffer_params_v1_send_failed(resource);
	};

	/* Y-invert is a vertical flip when drawn; interlaced content is not shown. */
	if (flags & ~uint32_t(ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_Y_INVERT)) {
		fail("flags " + std::to_string(flags) + " are not supported");
		return;
	}

	/* Too large to draw: refused as a failed import, so the client can fall back. */
	const uint32_t maxSize = server.maxBufferSize();
	if (uint32_t(std::max(width, height)) > maxSize) {
		fail("larger than " + std::to_string(maxSize) + " pixels (--limit buffer-size)");
		return;
	}

	auto identity = bufmgr::identifyDmaBuf(params->planes[0]->fd.get(),
					       server.bufferManager().paths());
	if (!identity) {
		fail("plane 0 is not a dma-buf (" + identity.error().message() + ")");
		return;
	}
	/* What a client makes us hold counts against it even when it closed its own fds. */
	if (!admitDmaBufBytes(client, *params->account, server.config().limits, identity->size))
		return;
	for (size_t i = 1; i < numPlanes; i++) {
		auto other = bufmgr::identifyDmaBuf(params->planes[i]->fd.get(),
						    server.bufferManager().paths());
		if (!other) {
			fail("plane " + std::to_string(i) + " is not a dma-buf");
			return;
		}
	}

	const std::string &exporter = identity->exporter;
	const bufmgr::HeapInfo *heap = bufmgr::heapForExporter(server.bufferManager().heaps(),
							       exporter);
	bufmgr::Buffer::Description desc;
	desc.width = uint32_t(width);
	desc.height = uint32_t(height);
	desc.format = format;
	desc.modifier = params->planes[0]->modifier;
	desc.size = identity->size;
	desc.allocator = heap ? bufmgr::AllocatorKind::DmaHeap
		: exporter == "udmabuf" ? bufmgr::AllocatorKind::Udmabuf
					: bufmgr::AllocatorKind::Foreign;
	desc.source = clientSource(exporter);
	desc.name = identity->name.value_or("");
	desc.isDmaBuf = true;
	desc.contiguous = heap && heap->isCma();
	std::vector<bufmgr::BufferPlane> planes;
	for (size_t i = 0; i < numPlanes; i++) {
		Params::Plane &plane = *params->planes[i];
		planes.push_back({ bufmgr::SharedFd(std::move(plane.fd)), plane.offset, plane.stride });
		/* The buffer accounts for it from here on. */
		params->account->paramsFds--;
	}
	bufmgr::Buffer buffer(std::move(desc), std::move(planes));
	/* A layout the renderer can never read: refused now, not at the first composed frame. */
	if (auto readable = server.renderer().checkDmaBuf(buffer); !readable) {
		fail(readable.error().message());
		return;
	}
	/* Client memory shows in the stats next to our own, per exporter. */
	auto stats = server.bufferManager().stats().sourceStats(clientSource(exporter));
	stats->recordImport(identity->size);
	buffer.setAccount(bufmgr::LiveAccount(stats, identity->size,
					      bufmgr::LiveAccount::Origin::Imported));

	/*
	 * No renderer import here: a frame that composes the buffer imports
	 * it, so one only ever scanned out never is. The checks above are
	 * the client's promise (format and modifier advertised, planes
	 * inside their fds) and what the renderer refuses by the layout
	 * alone; memory it still cannot read (no DMA_BUF_IOCTL_SYNC, an
	 * EGLImage the driver refuses) fails there, logged, and that
	 * surface shows nothing of it.
	 */
	wl_resource *bufferResource = wl_resource_create(client, &wl_buffer_interface, 1, bufferId);
	if (!bufferResource) {
		wl_client_post_no_memory(client);
		return;
	}
	ClientState *state = server.clientState(client);
	LOG_INFO("%s: dma-buf wl_buffer@%u %dx%d %s, %llu bytes from %s%s",
		 state ? state->label().c_str() : "client", wl_resource_get_id(bufferResource),
		 width, height, bufmgr::fourccToString(format).c_str(),
		 static_cast<unsigned long long>(identity->size),
		 heap ? "heap " : "", exporter.c_str());
	auto clientBuffer = ClientBuffer::createDmaBuf(bufferResource, std::move(buffer), exporter,
						       state ? state->sharedAccount() : nullptr);
	clientBuffer->setYInverted(flags & ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_Y_INVERT);
	if (!immediate)
		zwp_linux_buffer_params_v1_send_created(resource, bufferResource);
}

void paramsCreate(wl_client *client, wl_resource *resource, int32_t width, int32_t height,
		  uint32_t format, uint32_t flags)
{
	createBuffer(client, resource, 0, width, height, format, flags);
}

void paramsCreateImmed(wl_client *client, wl_resource *resource, uint32_t bufferId,
		       int32_t width, int32_t height, uint32_t format, uint32_t flags)
{
	createBuffer(client, resource, bufferId, width, height, format, flags);
}

const struct zwp_linux_buffer_params_v1_interface paramsImpl = {
	.destroy = destroyResource,
	.add = paramsAdd,
	.create = paramsCreate,
	.create_immed = paramsCreateImmed,
};

const struct zwp_linux_dmabuf_feedback_v1_interface feedbackImpl = {
	.destroy = destroyResource,
};

LinuxDmabuf *dmabufFrom(wl_resource *resource)
{
	return static_cast<LinuxDmabuf *>(wl_resource_get_user_data(resource));
}

void createParams(wl_client *client, wl_resource *resource, uint32_t id)
{
	wl_resource *params = wl_resource_create(client, &zwp_linux_buffer_params_v1_interface,
						 wl_resource_get_version(resource), id);
	if (!params) {
		wl_client_post_no_memory(client);
		return;
	}
	auto *state = new Params();
	state->dmabuf = dmabufFrom(resource);
	ClientState *owner = state->dmabuf->server().clientState(client);
	state->account = owner ? owner->sharedAccount() : std::make_shared<ClientAccount>();
	bindToResource(params, &paramsImpl, state);
}

void getDefaultFeedback(wl_client *client, wl_resource *resource, uint32_t id)
{
	LinuxDmabuf *dmabuf = dmabufFrom(resource);
	wl_resource *feedback = wl_resource_create(client, &zwp_linux_dmabuf_feedback_v1_interface,
						   wl_resource_get_version(resource), id);
	if (!feedback) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(feedback, &feedbackImpl, nullptr, nullptr);
	dmabuf->sendFeedback(feedback, dmabuf->buildFeedback(nullptr, std::nullopt));
}

void getSurfaceFeedback(wl_client *client, wl_resource *resource, uint32_t id,
			wl_resource *surface)
{
	wl_resource *feedback = wl_resource_create(client, &zwp_linux_dmabuf_feedback_v1_interface,
						   wl_resource_get_version(resource), id);
	if (!feedback) {
		wl_client_post_no_memory(client);
		return;
	}
	dmabufFrom(resource)->addSurfaceFeedback(feedback, Surface::fromResource(surface));
}

const struct zwp_linux_dmabuf_v1_interface dmabufImpl = {
	.destroy = destroyResource,
	.create_params = createParams,
	.get_default_feedback = getDefaultFeedback,
	.get_surface_feedback = getSurfaceFeedback,
};

} /* namespace */

LinuxDmabuf::SurfaceFeedback::SurfaceFeedback(LinuxDmabuf &dmabuf, wl_resource *resource,
					      Surface *surface)
	: dmabuf_(dmabuf), resource_(resource),
	  hint_(ScanoutHint::follow(dmabuf.server(), surface, [this] { send(); }))
{
}

LinuxDmabuf::SurfaceFeedback::~SurfaceFeedback()
{
	dmabuf_.removeSurfaceFeedback(this);
}

void LinuxDmabuf::SurfaceFeedback::send()
{
	dmabuf_.sendFeedback(resource_, dmabuf_.buildFeedback(surface(), sent()));
}

bufmgr::Result<std::unique_ptr<LinuxDmabuf>> LinuxDmabuf::create(Server &server)
{
	std::unique_ptr<LinuxDmabuf> dmabuf(new LinuxDmabuf(server));
	auto ret = dmabuf->init();
	if (!ret)
		return bufmgr::unexpected(std::move(ret).error());
	return dmabuf;
}

LinuxDmabuf::LinuxDmabuf(Server &server)
	: server_(server)
{
}

LinuxDmabuf::~LinuxDmabuf()
{
	global_.reset();
	std::list<SurfaceFeedback *> feedbacks = std::move(surfaceFeedbacks_);
	surfaceFeedbacks_.clear();
	for (SurfaceFeedback *feedback : feedbacks) {
		wl_resource_set_user_data(feedback->resource(), nullptr);
		wl_resource_set_destructor(feedback->resource(), nullptr);
		delete feedback;
	}
}

bufmgr::Result<void> LinuxDmabuf::init()
{
	for (const FormatModifier &fm : server_.renderer().dmaBufFormats()) {
		if (std::find(formats_.begin(), formats_.end(), fm) == formats_.end())
			formats_.push_back(fm);
	}
	if (formats_.empty())
		return bufmgr::unexpected(ENOTSUP, "the renderer imports no dma-buf formats");
	if (formats_.size() > UINT16_MAX)
		formats_.resize(UINT16_MAX);

	/* The table: 16-byte entries, sealed so that clients can only read. */
	struct Entry {
		uint32_t format;
		uint32_t pad;
		uint64_t modifier;
	};
	std::vector<Entry> table;
	for (const FormatModifier &fm : formats_)
		table.push_back({ fm.format, 0, fm.modifier });
	auto fd = bufmgr::createSealedMemfd("heapcomp-dmabuf-formats",
					    std::as_bytes(std::span(table)));
	if (!fd)
		return bufmgr::unexpected(std::move(fd).error());
	tableFd_ = std::move(*fd);
	tableSize_ = uint32_t(table.size() * sizeof(Entry));

	std::optional<dev_t> device = server_.backend().mainDevice();
	if (!device)
		LOG_INFO("linux-dmabuf: no DRM device; feedback names device 0");
	mainDevice_ = device.value_or(0);

	global_.create(server_.display(), &zwp_linux_dmabuf_v1_interface, kVersion, this, &bind);
	LOG_INFO("linux-dmabuf: %zu format/modifier pairs via the %s path", formats_.size(),
		 std::string(toString(server_.renderer().dmaBufPath())).c_str());
	return {};
}

bool LinuxDmabuf::supports(uint32_t format, uint64_t modifier) const
{
	return std::find(formats_.begin(), formats_.end(), FormatModifier{ format, modifier }) !=
	       formats_.end();
}

void LinuxDmabuf::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	auto *self = static_cast<LinuxDmabuf *>(data);
	wl_resource *resource = wl_resource_create(client, &zwp_linux_dmabuf_v1_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &dmabufImpl, data, nullptr);
	/* Before v4 the formats come as events; since v4 only via feedback. */
	if (version >= ZWP_LINUX_DMABUF_V1_GET_DEFAULT_FEEDBACK_SINCE_VERSION)
		return;
	for (const FormatModifier &fm : self->formats_) {
		if (version >= ZWP_LINUX_DMABUF_V1_MODIFIER_SINCE_VERSION)
			zwp_linux_dmabuf_v1_send_modifier(resource, fm.format,
							  uint32_t(fm.modifier >> 32),
							  uint32_t(fm.modifier & 0xffffffff));
		else if (fm.modifier == DRM_FORMAT_MOD_LINEAR)
			zwp_linux_dmabuf_v1_send_format(resource, fm.format);
	}
}

Feedback LinuxDmabuf::buildFeedback(const Surface *,
				    const std::optional<ScanoutTranche> &scanout) const
{
	Feedback feedback;
	feedback.mainDevice = mainDevice_;

	/* Direct scanout first: it saves the composition copy. */
	if (scanout) {
		FeedbackTranche tranche;
		tranche.targetDevice = scanout->device;
		tranche.scanout = true;
		for (const FormatModifier &fm : scanout->formats) {
			auto it = std::find(formats_.begin(), formats_.end(), fm);
			if (it != formats_.end())
				tranche.indices.push_back(uint16_t(it - formats_.begin()));
		}
		if (!tranche.indices.empty())
			feedback.tranches.push_back(std::move(tranche));
	}

	/* Then everything the renderer imports, on the main device. */
	FeedbackTranche render;
	render.targetDevice = mainDevice_;
	for (size_t i = 0; i < formats_.size(); i++)
		render.indices.push_back(uint16_t(i));
	feedback.tranches.push_back(std::move(render));
	return feedback;
}

void LinuxDmabuf::sendFeedback(wl_resource *resource, const Feedback &feedback) const
{
	zwp_linux_dmabuf_feedback_v1_send_format_table(resource, tableFd_.get(), tableSize_);
	WlArray device;
	device.append(feedback.mainDevice);
	zwp_linux_dmabuf_feedback_v1_send_main_device(resource, device.get());

	for (const FeedbackTranche &tranche : feedback.tranches) {
		WlArray target;
		target.append(tranche.targetDevice);
		zwp_linux_dmabuf_feedback_v1_send_tranche_target_device(resource, target.get());
		WlArray indices;
		for (uint16_t index : tranche.indices)
			indices.append(index);
		zwp_linux_dmabuf_feedback_v1_send_tranche_formats(resource, indices.get());
		zwp_linux_dmabuf_feedback_v1_send_tranche_flags(
			resource, tranche.scanout ? ZWP_LINUX_DMABUF_FEEDBACK_V1_TRANCHE_FLAGS_SCANOUT : 0);
		zwp_linux_dmabuf_feedback_v1_send_tranche_done(resource);
	}
	zwp_linux_dmabuf_feedback_v1_send_done(resource);
}

void LinuxDmabuf::addSurfaceFeedback(wl_resource *resource, Surface *surface)
{
	auto *feedback = new SurfaceFeedback(*this, resource, surface);
	bindToResource(resource, &feedbackImpl, feedback);
	surfaceFeedbacks_.push_back(feedback);
	feedback->send();
}

void LinuxDmabuf::removeSurfaceFeedback(SurfaceFeedback *feedback)
{
	surfaceFeedbacks_.remove(feedback);
}

void LinuxDmabuf::sceneChanged()
{
	for (SurfaceFeedback *feedback : surfaceFeedbacks_)
		feedback->reevaluate();
}

} /* namespace comp */
