/* SPDX-License-Identifier: MIT */
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <wayland-server-core.h>

#include "wayland_util.h"

namespace comp {

class DataOffer;
class DataSource;
class Drag;
class DropTarget;
class Seat;
class Server;
class Surface;

/*
 * wl_data_device_manager (v3): the clipboard and drag and drop. The
 * selection is one client's wl_data_source; the client with keyboard
 * focus gets a wl_data_offer for it and reads it through a pipe the
 * source writes. A drag runs on the seat's grab of the press or finger
 * that started it: the surface under it gets enter, motion and leave
 * with an offer, and the actions both sides allow decide the drop.
 * A client hears both on every wl_data_device it has, each with its own
 * offer.
 */
class DataDeviceManager
{
public:
	static constexpr int kVersion = 3;

	/* Follows seat's keyboard focus: the focused client gets the selection. */
	DataDeviceManager(Server &server, Seat &seat);
	~DataDeviceManager();

	Server &server() const { return server_; }
	Seat &seat() const { return seat_; }
	DataSource *selection() const { return selection_; }

	void setSelection(wl_client *client, DataSource *source, uint32_t serial);
	void startDrag(wl_client *client, DataSource *source, Surface *origin, Surface *icon,
		       uint32_t serial);
	void sourceDestroyed(DataSource *source);
	void addDevice(wl_resource *resource);
	/* Calls f(device) for each of client's wl_data_devices. */
	void forEachDevice(wl_client *client, const std::function<void(wl_resource *)> &f);
	void dragEnded(Drag *drag);

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);
	void sendSelection(wl_client *client);

	Server &server_;
	Seat &seat_;
	Global global_;
	ResourceList devices_;
	DataSource *selection_ = nullptr;
	/* Owned by the seat's grab; set once the grab runs, cleared by ~Drag. */
	Drag *drag_ = nullptr;
};

class DataSource
{
public:
	DataSource(DataDeviceManager &manager, wl_resource *resource);
	~DataSource();

	wl_resource *resource() const { return resource_; }
	int version() const { return wl_resource_get_version(resource_); }
	const std::vector<std::string> &mimeTypes() const { return mimeTypes_; }
	/* Over the client's mime-types limit the client is disconnected. */
	void offer(const char *mimeType);
	void setActions(uint32_t actions);
	bool hasActions() const { return actionsSet_; }
	/* What a drop may do; sources before v3 know only copy. */
	uint32_t actions() const;
	bool used() const { return used_; }
	void markUsed() { used_ = true; }

	/* Selection offers. */
	void addOffer(DataOffer *offer) { offers_.push_back(offer); }
	void removeOffer(DataOffer *offer);
	/* The drag's target now, or the one dropped on. */
	DropTarget *dropTarget() const { return dropTarget_; }
	void setDropTarget(DropTarget *target) { dropTarget_ = target; }

private:
	DataDeviceManager &manager_;
	wl_resource *resource_;
	std::vector<std::string> mimeTypes_;
	std::vector<DataOffer *> offers_;
	DropTarget *dropTarget_ = nullptr;
	uint32_t actions_ = 0;
	bool actionsSet_ = false;
	bool used_ = false;
};

/*
 * A wl_data_offer: of the selection, or one of a drag target's offers
 * (one per wl_data_device of the target's client).
 */
class DataOffer
{
public:
	DataOffer(DataSource *source, wl_resource *resource);
	DataOffer(std::shared_ptr<DropTarget> target, wl_resource *resource);
	~DataOffer();

	DataSource *source() const;
	wl_resource *resource() const { return resource_; }
	void sourceGone() { source_ = nullptr; }
	/* Null for a selection offer. */
	DropTarget *dropTarget() const { return target_.get(); }
	/* The client accepted, chose actions or finished through this offer. */
	bool hasActed() const { return acted_; }
	void markActed() { acted_ = true; }

private:
	DataSource *source_ = nullptr;
	std::shared_ptr<DropTarget> target_;
	wl_resource *resource_;
	bool acted_ = false;
};

/*
 * What a drag's target client agreed to, through any of its offers of
 * one enter: the type it accepts and the action. The offers share it;
 * it goes with the last of them.
 */
class DropTarget
{
public:
	explicit DropTarget(DataSource *source);
	~DropTarget();

	DataSource *source() const { return source_; }
	/* The source went, or the drag left: the offers talk to no one. */
	void detach();

	void add(DataOffer *offer);
	/* An offer went: unfinished after the drop, the transfer failed. */
	void remove(DataOffer *offer);

	void accept(DataOffer *offer, const char *mimeType);
	bool setActions(DataOffer *offer, uint32_t actions, uint32_t preferred);
	bool finish(DataOffer *offer);
	bool hasAcceptedMime() const { return accepted_; }
	/* Whether a drop now would be taken: a type and an action agreed. */
	bool canDrop() const;
	void dropped() { dropped_ = true; }
	/* Recomputes the action from both sides' and tells them of a change. */
	void updateAction();

private:
	DataSource *source_;
	std::vector<DataOffer *> offers_;
	bool accepted_ = false;
	uint32_t actions_ = 0;
	uint32_t preferred_ = 0;
	uint32_t action_ = 0;
	bool dropped_ = false;
	bool finished_ = false;
};

} /* namespace comp */
