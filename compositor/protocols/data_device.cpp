/* SPDX-License-Identifier: MIT */
#include "protocols/data_device.h"

#include <algorithm>
#include <cmath>
#include <list>
#include <memory>
#include <unistd.h>

#include <wayland-server-protocol.h>

#include <bufmgr/unique_fd.h>

#include "backend/headless/headless_backend.h"
#include "client.h"
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
	auto *offer = fromResource<DataOffer>(resource);
	if (DropTarget *target = offer->dropTarget())
		target->accept(offer, mimeType);
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
	DropTarget *target = offer->dropTarget();
	if (!target) {
		wl_resource_post_error(resource, WL_DATA_OFFER_ERROR_INVALID_FINISH,
				       "finish on a selection offer, not a drag-and-drop one");
		return;
	}
	if (!target->finish(offer))
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
	DropTarget *target = offer->dropTarget();
	if (!target || !target->setActions(offer, actions, preferred))
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

/*
 * A new offer on device, made by make(resource), announced with its
 * types (data_offer, then offer events). Null when out of memory.
 */
template<typename Make>
wl_resource *announceOffer(wl_resource *device, const std::vector<std::string> &mimeTypes,
			   Make &&make)
{
	wl_client *client = wl_resource_get_client(device);
	wl_resource *resource = wl_resource_create(client, &wl_data_offer_interface,
						   wl_resource_get_version(device), 0);
	if (!resource) {
		wl_client_post_no_memory(client);
		return nullptr;
	}
	bindToResource(resource, &offerImpl, make(resource));
	wl_data_device_send_data_offer(device, resource);
	for (const std::string &mime : mimeTypes)
		wl_data_offer_send_offer(resource, mime.c_str());
	return resource;
}

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

/*
 * wl_data_device-icon: drawn at the drag's position, above everything.
 * Its top-left corner starts at the pointer; the (dx, dy) of each
 * commit's attach or offset moves it from there, so that the point the
 * client chose stays under the pointer.
 */
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
	void committed(Surface &surface, RoleState *) override
	{
		offsetX_ = clampInt32(int64_t(offsetX_) + surface.current().dx);
		offsetY_ = clampInt32(int64_t(offsetY_) + surface.current().dy);
		place();
		if (surface.hasBuffer())
			map();
		else
			unmap();
		server().scheduleRepaint();
	}
	void follow(double x, double y)
	{
		x_ = x;
		y_ = y;
		place();
		if (!isMapped() && surface()->hasBuffer())
			map();
	}

private:
	void place()
	{
		setPosition(clampInt32(std::lround(x_) + int64_t(offsetX_)),
			    clampInt32(std::lround(y_) + int64_t(offsetY_)));
	}

	double x_ = 0, y_ = 0;	/* the pointer or finger */
	int32_t offsetX_ = 0, offsetY_ = 0;
};

} /* namespace */

/*
 * One drag: the seat's grab of the press or finger that started it. It
 * tracks the surface under the input and the devices of its client that
 * heard enter, each with its own offer of the same DropTarget.
 */
class Drag : public InteractiveGrab
{
public:
	Drag(DataDeviceManager &manager, wl_client *client, DataSource *source, Surface *icon)
		: manager_(manager), client_(client), source_(source), iconSurface_(icon)
	{
		/* A drag without a source would outlive its client otherwise. */
		clientDestroy_.connectClientDestroy(client, [this](void *) {
			clientDestroy_.disconnect();
			manager_.seat().cancelGrab(this);
		});
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
		for (TargetDevice &device : devices_)
			wl_data_device_send_motion(device.resource, monotonicMs(),
						   wl_fixed_from_double(lx),
						   wl_fixed_from_double(ly));
	}

	void end() override
	{
		DropTarget *drop = source_ ? source_->dropTarget() : nullptr;
		if (devices_.empty() || (source_ && !(drop && drop->canDrop()))) {
			cancel();
			return;
		}
		/* The offers stay for the transfer; the target gets no leave. */
		for (TargetDevice &device : devices_)
			wl_data_device_send_drop(device.resource);
		devices_.clear();
		target_ = nullptr;
		targetDestroy_.disconnect();
		if (!source_)
			return;
		drop->dropped();
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
	/* A device of the target's client that heard enter; dropped when destroyed. */
	struct TargetDevice {
		explicit TargetDevice(wl_resource *r) : resource(r) {}
		wl_resource *resource;
		Listener destroy;
	};

	void enterTarget(Surface *surface, double lx, double ly)
	{
		if (!surface)
			return;
		target_ = surface;
		targetDestroy_.connect(surface->destroySignal(), [this](void *) {
			/* Its client's objects go with it: nothing to send. */
			targetDestroy_.disconnect();
			target_ = nullptr;
			devices_.clear();
			detachTarget();
		});
		/* Every device gets an offer; they stand for one target. */
		std::shared_ptr<DropTarget> drop;
		if (source_)
			drop = std::make_shared<DropTarget>(source_);
		uint32_t serial = nextSerial(manager_.server().display());
		auto newOffer = [&](wl_resource *r) { return new DataOffer(drop, r); };
		manager_.forEachDevice(surface->client(), [&](wl_resource *device) {
			wl_resource *offer = nullptr;
			if (drop) {
				offer = announceOffer(device, source_->mimeTypes(), newOffer);
				if (!offer)
					return;
				if (wl_resource_get_version(offer) >=
				    WL_DATA_OFFER_SOURCE_ACTIONS_SINCE_VERSION)
					wl_data_offer_send_source_actions(offer,
									  source_->actions());
			}
			TargetDevice &entered = devices_.emplace_back(device);
			auto it = std::prev(devices_.end());
			entered.destroy.connectResourceDestroy(device, [this, it](void *) {
				devices_.erase(it);
			});
			wl_data_device_send_enter(device, serial, surface->resource(),
						  wl_fixed_from_double(lx),
						  wl_fixed_from_double(ly), offer);
		});
		if (drop && !devices_.empty())
			drop->updateAction();
	}

	void leaveTarget()
	{
		if (!target_)
			return;
		for (TargetDevice &device : devices_)
			wl_data_device_send_leave(device.resource);
		devices_.clear();
		target_ = nullptr;
		targetDestroy_.disconnect();
		/* What the target accepted is accepted no more. */
		if (detachTarget())
			wl_data_source_send_target(source_->resource(), nullptr);
	}

	/* The offers left behind talk to no one; whether they had accepted a type. */
	bool detachTarget()
	{
		DropTarget *drop = source_ ? source_->dropTarget() : nullptr;
		if (!drop)
			return false;
		bool accepted = drop->hasAcceptedMime();
		drop->detach();
		return accepted;
	}

	DataDeviceManager &manager_;
	wl_client *client_;
	Listener clientDestroy_;
	DataSource *source_;
	Surface *iconSurface_;
	std::unique_ptr<DragIcon> icon_;
	Listener iconDestroy_;
	Surface *target_ = nullptr;
	Listener targetDestroy_;
	/* Not movable (the listeners): a list keeps their addresses. */
	std::list<TargetDevice> devices_;
};

DataDeviceManager::DataDeviceManager(Server &server, Seat &seat)
	: server_(server), seat_(seat),
	  global_(server.display(), &wl_data_device_manager_interface, kVersion, this, &bind)
{
	seat.addKeyboardFocusListener([this](wl_client *client) {
		if (client)
			sendSelection(client);
	});
}

DataDeviceManager::~DataDeviceManager()
{
	/* The seat outlives this: a drag still running must not call back. */
	if (drag_)
		seat_.cancelGrab(drag_);
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
	if (seat_.keyboardFocusClient() == client)
		sendSelection(client);
}

void DataDeviceManager::setSelection(wl_client *client, DataSource *source, uint32_t serial)
{
	if (!seat_.isRecentSerial(client, serial)) {
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
	if (wl_client *focus = seat_.keyboardFocusClient())
		sendSelection(focus);
}

void DataDeviceManager::startDrag(wl_client *client, DataSource *source, Surface *origin,
				  Surface *icon, uint32_t serial)
{
	if (source)
		source->markUsed();
	auto drag = std::make_unique<Drag>(*this, client, source, icon);
	Drag *raw = drag.get();
	auto onOrigin = [origin](Surface *surface) { return surface == origin; };
	/* Refused, the new drag is gone already; a drag running before stays the one. */
	if (!seat_.startGrab(client, serial, onOrigin, std::move(drag))) {
		LOG_DEBUG("start_drag with serial %u ignored: no press or touch on its origin, "
			  "or another grab runs", serial);
		if (source)
			wl_data_source_send_cancelled(source->resource());
		return;
	}
	drag_ = raw;
}

void DataDeviceManager::forEachDevice(wl_client *client,
				      const std::function<void(wl_resource *)> &f)
{
	devices_.forEach([&](wl_resource *device) {
		if (wl_resource_get_client(device) == client)
			f(device);
	});
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
		seat_.cancelGrab(drag_);
	}
	if (selection_ != source)
		return;
	selection_ = nullptr;
	if (wl_client *focus = seat_.keyboardFocusClient())
		sendSelection(focus);
}

void DataDeviceManager::sendSelection(wl_client *client)
{
	/* No new objects for a client being torn down. */
	if (!server_.isClientConnected(client))
		return;
	forEachDevice(client, [&](wl_resource *device) {
		if (!selection_) {
			wl_data_device_send_selection(device, nullptr);
			return;
		}
		wl_resource *offer = announceOffer(device, selection_->mimeTypes(),
						   [&](wl_resource *r) {
							   return new DataOffer(selection_, r);
						   });
		if (offer)
			wl_data_device_send_selection(device, offer);
	});
}

DataSource::DataSource(DataDeviceManager &manager, wl_resource *resource)
	: manager_(manager), resource_(resource)
{
}

void DataSource::offer(const char *mimeType)
{
	/*
	 * Each type is an event to every client that sees the offer: a
	 * flood of them overflows the receiver's buffer, and it is the
	 * receiver libwayland disconnects.
	 */
	const uint32_t max = manager_.server().config().limits.mimeTypes;
	if (mimeTypes_.size() >= max) {
		disconnectOverLimit(wl_resource_get_client(resource_), "mime-types",
				    "wl_data_source@" + std::to_string(wl_resource_get_id(resource_)) +
					    " mime types",
				    mimeTypes_.size() + 1, max);
		return;
	}
	mimeTypes_.emplace_back(mimeType);
}

DataSource::~DataSource()
{
	for (DataOffer *offer : offers_)
		offer->sourceGone();
	if (dropTarget_)
		dropTarget_->detach();
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
}

DataOffer::DataOffer(DataSource *source, wl_resource *resource)
	: source_(source), resource_(resource)
{
	source_->addOffer(this);
}

DataOffer::DataOffer(std::shared_ptr<DropTarget> target, wl_resource *resource)
	: target_(std::move(target)), resource_(resource)
{
	target_->add(this);
}

DataOffer::~DataOffer()
{
	if (target_)
		target_->remove(this);
	else if (source_)
		source_->removeOffer(this);
}

DataSource *DataOffer::source() const
{
	return target_ ? target_->source() : source_;
}

DropTarget::DropTarget(DataSource *source)
	: source_(source)
{
	source_->setDropTarget(this);
}

DropTarget::~DropTarget()
{
	detach();
}

void DropTarget::detach()
{
	if (source_ && source_->dropTarget() == this)
		source_->setDropTarget(nullptr);
	source_ = nullptr;
}

void DropTarget::add(DataOffer *offer)
{
	offers_.push_back(offer);
	/* Targets before v3 cannot choose: they copy. */
	if (wl_resource_get_version(offer->resource()) < WL_DATA_OFFER_ACTION_SINCE_VERSION) {
		actions_ = WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY;
		preferred_ = WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY;
	}
}

void DropTarget::remove(DataOffer *offer)
{
	std::erase(offers_, offer);
	if (!source_ || !dropped_ || finished_)
		return;
	/* Offers the client never used may go; without one it used, the transfer failed. */
	if (std::any_of(offers_.begin(), offers_.end(),
			[](DataOffer *o) { return o->hasActed(); }))
		return;
	if (source_->version() >= WL_DATA_SOURCE_DND_FINISHED_SINCE_VERSION)
		wl_data_source_send_cancelled(source_->resource());
	detach();
}

void DropTarget::accept(DataOffer *offer, const char *mimeType)
{
	if (!source_ || finished_)
		return;
	offer->markActed();
	accepted_ = mimeType != nullptr;
	wl_data_source_send_target(source_->resource(), mimeType);
}

bool DropTarget::setActions(DataOffer *offer, uint32_t actions, uint32_t preferred)
{
	if (finished_)
		return false;
	offer->markActed();
	actions_ = actions;
	preferred_ = preferred;
	updateAction();
	return true;
}

bool DropTarget::canDrop() const
{
	return accepted_ && action_ != WL_DATA_DEVICE_MANAGER_DND_ACTION_NONE;
}

void DropTarget::updateAction()
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
	for (DataOffer *offer : offers_) {
		wl_resource *resource = offer->resource();
		if (wl_resource_get_version(resource) >= WL_DATA_OFFER_ACTION_SINCE_VERSION)
			wl_data_offer_send_action(resource, action);
	}
	if (source_->version() >= WL_DATA_SOURCE_ACTION_SINCE_VERSION)
		wl_data_source_send_action(source_->resource(), action);
}

bool DropTarget::finish(DataOffer *offer)
{
	if (!dropped_ || finished_ || !canDrop())
		return false;
	offer->markActed();
	finished_ = true;
	if (source_ && source_->version() >= WL_DATA_SOURCE_DND_FINISHED_SINCE_VERSION)
		wl_data_source_send_dnd_finished(source_->resource());
	return true;
}

} /* namespace comp */
