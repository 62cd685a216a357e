/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>
#include <vector>

#include <wayland-server-core.h>

#include "wayland_util.h"

namespace comp {

class DataOffer;
class DataSource;
class Drag;
class Server;
class Surface;

/*
 * wl_data_device_manager (v3): the clipboard and drag and drop. The
 * selection is one client's wl_data_source; the client with keyboard
 * focus gets a wl_data_offer for it and reads it through a pipe the
 * source writes. A drag runs on the seat's grab of the press or finger
 * that started it: the surface under it gets enter, motion and leave
 * with an offer, and the actions both sides allow decide the drop.
 */
class DataDeviceManager
{
public:
	static constexpr int kVersion = 3;

	explicit DataDeviceManager(Server &server);
	~DataDeviceManager();

	Server &server() const { return server_; }
	DataSource *selection() const { return selection_; }

	void setSelection(wl_client *client, DataSource *source, uint32_t serial);
	void startDrag(wl_client *client, DataSource *source, Surface *origin, Surface *icon,
		       uint32_t serial);
	void sourceDestroyed(DataSource *source);
	void addDevice(wl_resource *resource);
	/* The client's first wl_data_device, or null. */
	wl_resource *deviceFor(wl_client *client);
	void dragEnded(Drag *drag);

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);
	void sendSelection(wl_client *client);

	Server &server_;
	Global global_;
	ResourceList devices_;
	DataSource *selection_ = nullptr;
	Drag *drag_ = nullptr;	/* owned by the seat's grab */
};

class DataSource
{
public:
	DataSource(DataDeviceManager &manager, wl_resource *resource);
	~DataSource();

	wl_resource *resource() const { return resource_; }
	int version() const { return wl_resource_get_version(resource_); }
	const std::vector<std::string> &mimeTypes() const { return mimeTypes_; }
	void offer(const char *mimeType) { mimeTypes_.emplace_back(mimeType); }
	void setActions(uint32_t actions);
	bool hasActions() const { return actionsSet_; }
	/* What a drop may do; sources before v3 know only copy. */
	uint32_t actions() const;
	bool used() const { return used_; }
	void markUsed() { used_ = true; }

	void addOffer(DataOffer *offer) { offers_.push_back(offer); }
	void removeOffer(DataOffer *offer);
	/* The drag's offer at its target now, or the one dropped on. */
	DataOffer *dndOffer() const { return dndOffer_; }
	void setDndOffer(DataOffer *offer) { dndOffer_ = offer; }

private:
	DataDeviceManager &manager_;
	wl_resource *resource_;
	std::vector<std::string> mimeTypes_;
	std::vector<DataOffer *> offers_;
	DataOffer *dndOffer_ = nullptr;
	uint32_t actions_ = 0;
	bool actionsSet_ = false;
	bool used_ = false;
};

class DataOffer
{
public:
	DataOffer(DataSource *source, wl_resource *resource, bool dnd);
	~DataOffer();

	DataSource *source() const { return source_; }
	wl_resource *resource() const { return resource_; }
	void sourceGone() { source_ = nullptr; }

	/* Drag and drop: what the target accepts and the action agreed. */
	bool isDnd() const { return dnd_; }
	void accept(const char *mimeType);
	bool setActions(uint32_t actions, uint32_t preferred);
	bool hasAcceptedMime() const { return accepted_; }
	uint32_t action() const { return action_; }
	void dropped() { dropped_ = true; }
	bool isDropped() const { return dropped_; }
	bool finish();
	/* Recomputes the action from both sides' and tells them of a change. */
	void updateAction();

private:
	DataSource *source_;
	wl_resource *resource_;
	bool dnd_;
	bool accepted_ = false;
	uint32_t actions_ = 0;
	uint32_t preferred_ = 0;
	uint32_t action_ = 0;
	bool dropped_ = false;
	bool finished_ = false;
};

} /* namespace comp */
