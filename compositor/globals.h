/* SPDX-License-Identifier: MIT */
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include <bufmgr/result.h>

#include "wayland_util.h"

namespace comp {

class CompositorGlobal;
class DataDeviceManager;
class HeapHints;
class LinuxDmabuf;
class Output;
class OutputGlobal;
class Presentation;
class Seat;
class Server;
class ShmGlobal;
class SubcompositorGlobal;
class Viewporter;
class XdgOutputManager;
class XdgShell;

/*
 * The protocol globals clients bind: made in the order the registry
 * announces them, destroyed after the clients are gone and before the
 * backend and renderer they refer to. One wl_output per backend output,
 * in the backend's order.
 */
class Globals
{
public:
	/* The backend is started and the renderer made: the globals ask both. */
	static bufmgr::Result<std::unique_ptr<Globals>> create(Server &server);
	~Globals();
	Globals(const Globals &) = delete;
	Globals &operator=(const Globals &) = delete;

	Seat &seat() const { return *seat_; }
	Presentation &presentation() const { return *presentation_; }
	/* Null when the renderer cannot read dma-bufs or the setup failed. */
	LinuxDmabuf *linuxDmabuf() const { return linuxDmabuf_.get(); }
	/* Null without linux-dmabuf. */
	HeapHints *heapHints() const { return heapHints_.get(); }
	/* Index i is the wl_output of the backend's output i. */
	const std::vector<OutputGlobal *> &outputs() const { return outputList_; }
	/* wl_output for an output the backend added after start (and, at init, for each). */
	OutputGlobal &addOutput(Output &output);
	/*
	 * The output's display was unplugged: its wl_output global goes from
	 * the registry now, and is destroyed a few seconds later, once
	 * clients have seen it go.
	 */
	void removeOutput(OutputGlobal &global);
	/* Output globals removed and not yet destroyed. */
	size_t retiredOutputs() const { return retired_.size(); }

private:
	explicit Globals(Server &server);
	bufmgr::Result<void> init();
	static int onRetire(void *data);
	void armRetireTimer();

	Server &server_;
	std::unique_ptr<CompositorGlobal> compositor_;
	std::unique_ptr<SubcompositorGlobal> subcompositor_;
	std::unique_ptr<ShmGlobal> shm_;
	std::vector<std::unique_ptr<OutputGlobal>> outputs_;
	std::vector<OutputGlobal *> outputList_;
	/* Removed from the registry, each destroyed at its deadline. */
	struct Retired {
		std::chrono::steady_clock::time_point deadline;
		std::unique_ptr<OutputGlobal> global;
	};
	std::deque<Retired> retired_;
	EventSource retireTimer_;
	std::unique_ptr<XdgOutputManager> xdgOutput_;
	std::unique_ptr<XdgShell> xdgShell_;
	std::unique_ptr<Seat> seat_;
	std::unique_ptr<DataDeviceManager> dataDevice_;
	std::unique_ptr<Viewporter> viewporter_;
	std::unique_ptr<Presentation> presentation_;
	std::unique_ptr<LinuxDmabuf> linuxDmabuf_;
	std::unique_ptr<HeapHints> heapHints_;
};

} /* namespace comp */
