/* SPDX-License-Identifier: MIT */
#pragma once

#include <string>
#include <vector>

#include "wayland_util.h"

namespace comp {

class DataOffer;
class DataSource;
class Server;

/*
 * wl_data_device_manager (v3): the clipboard. The selection is one
 * client's wl_data_source; the client with keyboard focus gets a
 * wl_data_offer for it and reads it through a pipe the source writes.
 * Drag and drop is refused (the source is cancelled).
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
	void sourceDestroyed(DataSource *source);
	void addDevice(wl_resource *resource);

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);
	void sendSelection(wl_client *client);

	Server &server_;
	Global global_;
	ResourceList devices_;
	DataSource *selection_ = nullptr;
};

class DataSource
{
public:
	DataSource(DataDeviceManager &manager, wl_resource *resource);
	~DataSource();

	wl_resource *resource() const { return resource_; }
	const std::vector<std::string> &mimeTypes() const { return mimeTypes_; }
	void offer(const char *mimeType) { mimeTypes_.emplace_back(mimeType); }
	void setActions(uint32_t actions);
	bool hasActions() const { return actionsSet_; }
	bool used() const { return used_; }
	void markUsed() { used_ = true; }

	void addOffer(DataOffer *offer) { offers_.push_back(offer); }
	void removeOffer(DataOffer *offer);

private:
	DataDeviceManager &manager_;
	wl_resource *resource_;
	std::vector<std::string> mimeTypes_;
	std::vector<DataOffer *> offers_;
	bool actionsSet_ = false;
	bool used_ = false;
};

class DataOffer
{
public:
	DataOffer(DataSource *source, wl_resource *resource);
	~DataOffer();

	DataSource *source() const { return source_; }
	wl_resource *resource() const { return resource_; }
	void sourceGone() { source_ = nullptr; }

private:
	DataSource *source_;
	wl_resource *resource_;
};

} /* namespace comp */
