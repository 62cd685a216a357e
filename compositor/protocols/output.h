/* SPDX-License-Identifier: MIT */
#pragma once

#include "wayland_util.h"

namespace comp {

class Output;
class Server;

/* wl_output (v4) for one backend output. */
class OutputGlobal
{
public:
	static constexpr int kVersion = 4;

	OutputGlobal(Server &server, Output *output);
	~OutputGlobal();

	Server &server() const { return server_; }
	/* Null once withdrawn. */
	Output *output() const { return output_; }
	/*
	 * The display went: the global leaves the registry, the clients'
	 * wl_output objects go inert, and a late bind gets an inert one.
	 */
	void withdraw();

	/* Calls f(resource) for each wl_output of the client. */
	template<typename F>
	void forEachResource(wl_client *client, F &&f)
	{
		resources_.forEach([&](wl_resource *resource) {
			if (wl_resource_get_client(resource) == client)
				f(resource);
		});
	}
	static OutputGlobal *fromResource(wl_resource *resource);
	/* An xdg_output of it, told where the output moves. */
	void addXdgOutput(wl_resource *resource);
	/* The output moved in the layout: every client hears where it is now. */
	void positionChanged();
	/* The output took another size: every client hears its mode and logical size. */
	void modeChanged();

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);
	void sendState(wl_resource *resource);
	void sendGeometry(wl_resource *resource);
	void sendMode(wl_resource *resource);

	Server &server_;
	Output *output_;
	ResourceList resources_;
	ResourceList xdgOutputs_;
	Global global_;
};

/* zxdg_output_manager_v1 (v3): logical positions and sizes, names. */
class XdgOutputManager
{
public:
	explicit XdgOutputManager(Server &server);

private:
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);

	Global global_;
};

} /* namespace comp */
