/* SPDX-License-Identifier: MIT */
#include "protocols/data_device.h"

#include <algorithm>
#include <unistd.h>

#include <wayland-server-protocol.h>

#include <bufmgr/unique_fd.h>

#include "log.h"
#include "protocols/seat.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

constexpr uint32_t kAllActions = WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY |
				 WL_DATA_DEVICE_MANAGER_DND_ACTION_MOVE |
				 WL_DATA_DEVICE_MANAGER_DND_ACTION_ASK;

/* wl_data_offer -------------------------------------------------------- */

void offerAccept(wl_client *, wl_resource *, uint32_t, const char *)
{
	/* Only meaningful for drag and drop, which is not offered. */
}

void offerReceive(wl_client *, wl_resource *resource, const char *mimeType, int32_t fd)
{
	bufmgr::UniqueFd pipe(fd);
	auto *offer = fromResource<DataOffer>(resource);
	DataSource *source = offer->source();
	/* A stale offer: the reader sees EOF at once. */
	if (!source || !source->resource())
		return;
	wl_data_source_send_send(source->resource(), mimeType, pipe.get());
}

void offerFinish(wl_client *, wl_resource *resource)
{
	wl_resource_post_error(resource, WL_DATA_OFFER_ERROR_INVALID_FINISH,
			       "finish on a selection offer, not a drag-and-drop one");
}

void offerSetActions(wl_client *, wl_resource *resource, uint32_t actions, uint32_t preferred)
{
	if ((actions & ~kAllActions) || (preferred & ~kAllActions)) {
		wl_resource_post_error(resource, WL_DATA_OFFER_ERROR_INVALID_ACTION_MASK,
				       "invalid action mask %#x / %#x", actions, preferred);
		return;
	}
	wl_resource_post_error(resource, WL_DATA_OFFER_ERROR_INVALID_OFFER,
			       "set_actions on a selection offer");
}

const struct wl_data_offer_interface offerImpl = {
	.accept = offerAccept,
	.receive = offerReceive,
	.destroy = destroyResource,
	.finish = offerFinish,
	.set_actions = offerSetActions,
};

/* wl_data_source ------------------------------------------------------- */

void sourceOffer(wl_client *, wl_resource *resource, const char *mimeType)
{
	fromResource<DataSource>(resource)->offer(mimeType);
}

void sourceSetActions(wl_client *, wl_resource *resource, uint32_t actions)
{
	fromResource<DataSource>(resource)->setActions(actions);
}

const struct wl_data_source_interface sourceImpl = {
	.offer = sourceOffer,
	.destroy = destroyResource,
	.set_actions = sourceSetActions,
};

/* wl_data_device ------------------------------------------------------- */

DataDeviceManager *managerFrom(wl_resource *resource)
{
	return static_cast<DataDeviceManager *>(wl_resource_get_user_data(resource));
}

void deviceStartDrag(wl_client *, wl_resource *resource, wl_resource *sourceResource,
		     wl_resource *, wl_resource *icon, uint32_t)
{
	if (icon) {
		Surface *surface = Surface::fromResource(icon);
		if (!surface->canTakeRole("wl_data_device-icon")) {
			wl_resource_post_error(resource, WL_DATA_DEVICE_ERROR_ROLE,
					       "drag icon wl_surface@%u already has a role",
					       wl_resource_get_id(icon));
			return;
		}
	}
	/* Drag and drop is not supported: the drag ends at once. */
	if (sourceResource) {
		auto *source = fromResource<DataSource>(sourceResource);
		source->markUsed();
		wl_data_source_send_cancelled(sourceResource);
	}
}

void deviceSetSelection(wl_client *client, wl_resource *resource, wl_resource *sourceResource,
			uint32_t serial)
{
	DataDeviceManager *manager = managerFrom(resource);
	if (!manager)
		return;
	DataSource *source = sourceResource ? fromResource<DataSource>(sourceResource) : nullptr;
	if (source && source->hasActions()) {
		wl_resource_post_error(sourceResource, WL_DATA_SOURCE_ERROR_INVALID_SOURCE,
				       "a drag-and-drop source cannot be the selection");
		return;
	}
	if (source && source->used()) {
		wl_resource_post_error(sourceResource, WL_DATA_SOURCE_ERROR_INVALID_SOURCE,
				       "wl_data_source@%u was already used",
				       wl_resource_get_id(sourceResource));
		return;
	}
	manager->setSelection(client, source, serial);
}

const struct wl_data_device_interface deviceImpl = {
	.start_drag = deviceStartDrag,
	.set_selection = deviceSetSelection,
	.release = destroyResource,
};

/* wl_data_device_manager ----------------------------------------------- */

void createDataSource(wl_client *client, wl_resource *resource, uint32_t id)
{
	wl_resource *sourceResource = wl_resource_create(client, &wl_data_source_interface,
							 wl_resource_get_version(resource), id);
	if (!sourceResource) {
		wl_client_post_no_memory(client);
		return;
	}
	DataDeviceManager *manager = managerFrom(resource);
	bindToResource(sourceResource, &sourceImpl, new DataSource(*manager, sourceResource));
}

void getDataDevice(wl_client *client, wl_resource *resource, uint32_t id, wl_resource *)
{
	wl_resource *device = wl_resource_create(client, &wl_data_device_interface,
						 wl_resource_get_version(resource), id);
	if (!device) {
		wl_client_post_no_memory(client);
		return;
	}
	managerFrom(resource)->addDevice(device);
}

const struct wl_data_device_manager_interface managerImpl = {
	.create_data_source = createDataSource,
	.get_data_device = getDataDevice,
};

} /* namespace */

DataDeviceManager::DataDeviceManager(Server &server)
	: server_(server),
	  global_(server.display(), &wl_data_device_manager_interface, kVersion, this, &bind)
{
	server_.seat().addKeyboardFocusListener([this](wl_client *client) {
		if (client)
			sendSelection(client);
	});
}

DataDeviceManager::~DataDeviceManager()
{
	devices_.forEach([](wl_resource *r) { wl_resource_set_user_data(r, nullptr); });
	devices_.unlinkAll();
}

void DataDeviceManager::bind(wl_client *client, void *data, uint32_t version, uint32_t id)
{
	wl_resource *resource = wl_resource_create(client, &wl_data_device_manager_interface,
						   static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &managerImpl, data, nullptr);
}

void DataDeviceManager::addDevice(wl_resource *resource)
{
	devices_.add(resource, &deviceImpl, this);
	wl_client *client = wl_resource_get_client(resource);
	if (server_.seat().keyboardFocusClient() == client)
		sendSelection(client);
}

void DataDeviceManager::setSelection(wl_client *client, DataSource *source, uint32_t serial)
{
	if (!server_.seat().isRecentSerial(client, serial)) {
		LOG_DEBUG("set_selection with stale serial %u ignored", serial);
		if (source)
			wl_data_source_send_cancelled(source->resource());
		return;
	}
	if (selection_ == source)
		return;
	if (selection_)
		wl_data_source_send_cancelled(selection_->resource());
	selection_ = source;
	if (source)
		source->markUsed();
	if (wl_client *focus = server_.seat().keyboardFocusClient())
		sendSelection(focus);
}

void DataDeviceManager::sourceDestroyed(DataSource *source)
{
	if (selection_ != source)
		return;
	selection_ = nullptr;
	if (wl_client *focus = server_.seat().keyboardFocusClient())
		sendSelection(focus);
}

void DataDeviceManager::sendSelection(wl_client *client)
{
	/* No new objects for a client being torn down. */
	if (!server_.isClientConnected(client))
		return;
	devices_.forEach([&](wl_resource *device) {
		if (wl_resource_get_client(device) != client)
			return;
		if (!selection_) {
			wl_data_device_send_selection(device, nullptr);
			return;
		}
		wl_resource *offerResource = wl_resource_create(client, &wl_data_offer_interface,
								wl_resource_get_version(device), 0);
		if (!offerResource) {
			wl_client_post_no_memory(client);
			return;
		}
		bindToResource(offerResource, &offerImpl, new DataOffer(selection_, offerResource));
		wl_data_device_send_data_offer(device, offerResource);
		for (const std::string &mime : selection_->mimeTypes())
			wl_data_offer_send_offer(offerResource, mime.c_str());
		wl_data_device_send_selection(device, offerResource);
	});
}

DataSource::DataSource(DataDeviceManager &manager, wl_resource *resource)
	: manager_(manager), resource_(resource)
{
}

DataSource::~DataSource()
{
	for (DataOffer *offer : offers_)
		offer->sourceGone();
	manager_.sourceDestroyed(this);
}

void DataSource::setActions(uint32_t actions)
{
	if (actions & ~kAllActions) {
		wl_resource_post_error(resource_, WL_DATA_SOURCE_ERROR_INVALID_ACTION_MASK,
				       "invalid action mask %#x", actions);
		return;
	}
	if (actionsSet_ || used_) {
		wl_resource_post_error(resource_, WL_DATA_SOURCE_ERROR_INVALID_SOURCE,
				       "set_actions twice or after the source was used");
		return;
	}
	actionsSet_ = true;
}

void DataSource::removeOffer(DataOffer *offer)
{
	std::erase(offers_, offer);
}

DataOffer::DataOffer(DataSource *source, wl_resource *resource)
	: source_(source), resource_(resource)
{
	source_->addOffer(this);
}

DataOffer::~DataOffer()
{
	if (source_)
		source_->removeOffer(this);
}

} /* namespace comp */
