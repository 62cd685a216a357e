/* SPDX-License-Identifier: MIT */
#include "protocols/data_device.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <unistd.h>

#include <wayland-server-protocol.h>

#include <bufmgr/unique_fd.h>

#include "backend/headless/headless_backend.h"
#include "log.h"
#include "protocols/seat.h"
#include "server.h"
#include "surface.h"

namespace comp {

namespace {

constexpr uint32_t kAllActions = WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY |
				 WL_DATA_DEVICE_MANAGER_DND_ACTION_MOVE |
				 WL_DATA_DEVICE_MANAGER_DND_ACTION_ASK;

constexpr const char *kIconRole = "wl_data_device-icon";

/* wl_data_offer -------------------------------------------------------- */

void offerAccept(wl_client *, wl_resource *resource, uint32_t, const char *mimeType)
{
	/* Selection offers have nothing to accept: only a drag hears of it. */
	fromResource<DataOffer>(resource)->accept(mimeType);
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
	auto *offer = fromResource<DataOffer>(resource);
	if (!offer->isDnd()) {
		wl_resource_post_error(resource, WL_DATA_OFFER_ERROR_INVALID_FINISH,
				       "finish on a selection offer, not a drag-and-drop one");
		return;
	}
	if (!offer->finish())
		wl_resource_post_error(resource, WL_DATA_OFFER_ERROR_INVALID_FINISH,
				       "finish before a drop with an accepted type and an action");
}

bool isOneAction(uint32_t action)
{
	return action == WL_DATA_DEVICE_MANAGER_DND_ACTION_NONE ||
	       action == WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY ||
	       action == WL_DATA_DEVICE_MANAGER_DND_ACTION_MOVE ||
	       action == WL_DATA_DEVICE_MANAGER_DND_ACTION_ASK;
}

void offerSetActions(wl_client *, wl_resource *resource, uint32_t actions, uint32_t preferred)
{
	if (actions & ~kAllActions) {
		wl_resource_post_error(resource, WL_DATA_OFFER_ERROR_INVALID_ACTION_MASK,
				       "invalid action mask %#x", actions);
		return;
	}
	if (!isOneAction(preferred)) {
		wl_resource_post_error(resource, WL_DATA_OFFER_ERROR_INVALID_ACTION,
				       "preferred action %#x is not one action", preferred);
		return;
	}
	auto *offer = fromResource<DataOffer>(resource);
	if (!offer->setActions(actions, preferred))
		wl_resource_post_error(resource, WL_DATA_OFFER_ERROR_INVALID_OFFER,
				       "set_actions on a selection offer or after a finish");
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

void deviceStartDrag(wl_client *client, wl_resource *resource, wl_resource *sourceResource,
		     wl_resource *origin, wl_resource *icon, uint32_t serial)
{
	if (icon) {
		Surface *surface = Surface::fromResource(icon);
		if (!surface->canTakeRole(kIconRole)) {
			wl_resource_post_error(resource, WL_DATA_DEVICE_ERROR_ROLE,
					       "drag icon wl_surface@%u already has a role",
					       wl_resource_get_id(icon));
			return;
		}
	}
	DataSource *source = sourceResource ? fromResource<DataSource>(sourceResource) : nullptr;
	if (source && source->used()) {
		wl_resource_post_error(sourceResource, WL_DATA_SOURCE_ERROR_INVALID_SOURCE,
				       "wl_data_source@%u was already used",
				       wl_resource_get_id(sourceResource));
		return;
	}
	DataDeviceManager *manager = managerFrom(resource);
	if (!manager)
		return;
	manager->startDrag(client, source, Surface::fromResource(origin),
			   icon ? Surface::fromResource(icon) : nullptr, serial);
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

/* wl_data_device-icon: drawn at the drag's position, above everything. */
class DragIcon : public SurfaceRole, public View
{
public:
	DragIcon(Server &server, Surface *surface)
		: View(server, surface)
	{
		surface->setRole(this, kIconRole, nullptr, 0);
	}
	~DragIcon() override
	{
		unmap();
		surface()->clearRole(this);
	}

	const char *roleName() const override { return kIconRole; }
	bool takesInput() const override { return false; }
	void committed(Surface &surface) override
	{
		if (surface.hasBuffer())
			map();
		else
			unmap();
		server().scheduleRepaint();
	}
	void follow(double x, double y)
	{
		setPosition(int32_t(std::lround(x)), int32_t(std::lround(y)));
		if (!isMapped() && surface()->hasBuffer())
			map();
	}
};

} /* namespace */

/*
 * One drag: the seat's grab of the press or finger that started it. It
 * tracks the surface under the input and that surface's offer.
 */
class Drag : public InteractiveGrab
{
public:
	Drag(DataDeviceManager &manager, wl_client *client, DataSource *source, Surface *icon)
		: manager_(manager), client_(client), source_(source), iconSurface_(icon)
	{
	}
	~Drag() override
	{
		targetDestroy_.disconnect();
		manager_.dragEnded(this);
	}

	DataSource *source() const { return source_; }
	/* The source's destructor runs: its offers are told already. */
	void sourceGone()
	{
		source_ = nullptr;
		leaveTarget();
	}

	void begin(double x, double y) override
	{
		if (iconSurface_) {
			icon_ = std::make_unique<DragIcon>(manager_.server(), iconSurface_);
			iconDestroy_.connect(iconSurface_->destroySignal(), [this](void *) {
				iconDestroy_.disconnect();
				icon_.reset();
			});
		}
		motion(x, y);
	}

	void motion(double x, double y) override
	{
		if (icon_)
			icon_->follow(x, y);
		Surface *surface = nullptr;
		double lx = 0, ly = 0;
		manager_.server().viewAt(x, y, &surface, &lx, &ly);
		/* Without a source the drag stays within its own client. */
		if (surface && !source_ && surface->client() != client_)
			surface = nullptr;
		if (surface != target_) {
			leaveTarget();
			enterTarget(surface, lx, ly);
			return;
		}
		if (wl_resource *device = targetDevice())
			wl_data_device_send_motion(device, monotonicMs(), wl_fixed_from_double(lx),
						   wl_fixed_from_double(ly));
	}

	void end() override
	{
		DataOffer *offer = source_ ? source_->dndOffer() : nullptr;
		bool accepted = offer && offer->hasAcceptedMime() &&
				offer->action() != WL_DATA_DEVICE_MANAGER_DND_ACTION_NONE;
		wl_resource *device = targetDevice();
		if (!device || (source_ && !accepted)) {
			cancel();
			return;
		}
		/* The offer stays for the transfer; the target gets no leave. */
		wl_data_device_send_drop(device);
		target_ = nullptr;
		targetDestroy_.disconnect();
		if (!source_)
			return;
		offer->dropped();
		if (source_->version() >= WL_DATA_SOURCE_DND_DROP_PERFORMED_SINCE_VERSION)
			wl_data_source_send_dnd_drop_performed(source_->resource());
	}

	void cancel() override
	{
		leaveTarget();
		if (source_)
			wl_data_source_send_cancelled(source_->resource());
	}

private:
	wl_resource *targetDevice()
	{
		return target_ ? manager_.deviceFor(target_->client()) : nullptr;
	}

	void enterTarget(Surface *surface, double lx, double ly)
	{
		if (!surface)
			return;
		target_ = surface;
		targetDestroy_.connect(surface->destroySignal(), [this](void *) {
			/* Its client's objects go with it: nothing to send. */
			targetDestroy_.disconnect();
			target_ = nullptr;
			detachOffer();
		});
		wl_resource *device = targetDevice();
		if (!device)
			return;
		wl_client *client = surface->client();
		wl_resource *offerResource = nullptr;
		if (source_) {
			offerResource = wl_resource_create(client, &wl_data_offer_interface,
							   wl_resource_get_version(device), 0);
			if (!offerResource) {
				wl_client_post_no_memory(client);
				return;
			}
			auto *offer = new DataOffer(source_, offerResource, true);
			bindToResource(offerResource, &offerImpl, offer);
			source_->setDndOffer(offer);
			wl_data_device_send_data_offer(device, offerResource);
			for (const std::string &mime : source_->mimeTypes())
				wl_data_offer_send_offer(offerResource, mime.c_str());
			if (wl_resource_get_version(offerResource) >=
			    WL_DATA_OFFER_SOURCE_ACTIONS_SINCE_VERSION)
				wl_data_offer_send_source_actions(offerResource, source_->actions());
			offer->updateAction();
		}
		wl_data_device_send_enter(device, nextSerial(manager_.server().display()),
					  surface->resource(), wl_fixed_from_double(lx),
					  wl_fixed_from_double(ly), offerResource);
	}

	void leaveTarget()
	{
		if (!target_)
			return;
		if (wl_resource *device = targetDevice())
			wl_data_device_send_leave(device);
		target_ = nullptr;
		targetDestroy_.disconnect();
		/* What the target accepted is accepted no more. */
		if (detachOffer())
			wl_data_source_send_target(source_->resource(), nullptr);
	}

	/* The offer left behind talks to no one; whether it had accepted a type. */
	bool detachOffer()
	{
		DataOffer *offer = source_ ? source_->dndOffer() : nullptr;
		if (!offer)
			return false;
		bool accepted = offer->hasAcceptedMime();
		source_->removeOffer(offer);
		offer->sourceGone();
		return accepted;
	}

	DataDeviceManager &manager_;
	wl_client *client_;
	DataSource *source_;
	Surface *iconSurface_;
	std::unique_ptr<DragIcon> icon_;
	Listener iconDestroy_;
	Surface *target_ = nullptr;
	Listener targetDestroy_;
};

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

void DataDeviceManager::startDrag(wl_client *client, DataSource *source, Surface *origin,
				  Surface *icon, uint32_t serial)
{
	if (source)
		source->markUsed();
	auto drag = std::make_unique<Drag>(*this, client, source, icon);
	Drag *raw = drag.get();
	drag_ = raw;
	auto onOrigin = [origin](Surface *surface) { return surface == origin; };
	if (!server_.seat().startGrab(client, serial, onOrigin, std::move(drag))) {
		LOG_DEBUG("start_drag with serial %u ignored: no press or touch on its origin", serial);
		if (source)
			wl_data_source_send_cancelled(source->resource());
	}
}

wl_resource *DataDeviceManager::deviceFor(wl_client *client)
{
	wl_resource *found = nullptr;
	devices_.forEach([&](wl_resource *device) {
		if (!found && wl_resource_get_client(device) == client)
			found = device;
	});
	return found;
}

void DataDeviceManager::dragEnded(Drag *drag)
{
	if (drag_ == drag)
		drag_ = nullptr;
}

void DataDeviceManager::sourceDestroyed(DataSource *source)
{
	if (drag_ && drag_->source() == source) {
		/* The drag cannot go on without its data. */
		drag_->sourceGone();
		server_.seat().cancelGrab(drag_);
	}
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
		bindToResource(offerResource, &offerImpl,
			       new DataOffer(selection_, offerResource, false));
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
	actions_ = actions;
	actionsSet_ = true;
}

uint32_t DataSource::actions() const
{
	if (version() < WL_DATA_SOURCE_ACTION_SINCE_VERSION)
		return WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY;
	return actions_;
}

void DataSource::removeOffer(DataOffer *offer)
{
	std::erase(offers_, offer);
	if (dndOffer_ == offer)
		dndOffer_ = nullptr;
}

DataOffer::DataOffer(DataSource *source, wl_resource *resource, bool dnd)
	: source_(source), resource_(resource), dnd_(dnd)
{
	source_->addOffer(this);
	/* Targets before v3 cannot choose: they copy. */
	if (dnd_ && wl_resource_get_version(resource_) < WL_DATA_OFFER_ACTION_SINCE_VERSION) {
		actions_ = WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY;
		preferred_ = WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY;
	}
}

DataOffer::~DataOffer()
{
	if (!source_)
		return;
	/* Dropped, then dropped by the target unfinished: the transfer failed. */
	if (dnd_ && dropped_ && !finished_ &&
	    source_->version() >= WL_DATA_SOURCE_DND_FINISHED_SINCE_VERSION)
		wl_data_source_send_cancelled(source_->resource());
	source_->removeOffer(this);
}

void DataOffer::accept(const char *mimeType)
{
	if (!dnd_ || !source_ || finished_)
		return;
	accepted_ = mimeType != nullptr;
	wl_data_source_send_target(source_->resource(), mimeType);
}

bool DataOffer::setActions(uint32_t actions, uint32_t preferred)
{
	if (!dnd_ || finished_)
		return false;
	actions_ = actions;
	preferred_ = preferred;
	updateAction();
	return true;
}

void DataOffer::updateAction()
{
	if (!source_ || dropped_)
		return;
	uint32_t both = source_->actions() & actions_;
	uint32_t action = WL_DATA_DEVICE_MANAGER_DND_ACTION_NONE;
	if (both & preferred_)
		action = preferred_;
	else if (both)
		action = both & -both;	/* copy, then move, then ask */
	if (action == action_)
		return;
	action_ = action;
	if (wl_resource_get_version(resource_) >= WL_DATA_OFFER_ACTION_SINCE_VERSION)
		wl_data_offer_send_action(resource_, action);
	if (source_->version() >= WL_DATA_SOURCE_ACTION_SINCE_VERSION)
		wl_data_source_send_action(source_->resource(), action);
}

bool DataOffer::finish()
{
	if (!dropped_ || finished_ || !accepted_ ||
	    action_ == WL_DATA_DEVICE_MANAGER_DND_ACTION_NONE)
		return false;
	finished_ = true;
	if (source_ && source_->version() >= WL_DATA_SOURCE_DND_FINISHED_SINCE_VERSION)
		wl_data_source_send_dnd_finished(source_->resource());
	return true;
}

} /* namespace comp */
