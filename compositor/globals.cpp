/* SPDX-License-Identifier: MIT */
#include "globals.h"

#include <algorithm>

#include "log.h"
#include "protocols/compositor.h"
#include "protocols/data_device.h"
#include "protocols/heap_hints.h"
#include "protocols/linux_dmabuf.h"
#include "protocols/output.h"
#include "protocols/presentation.h"
#include "protocols/seat.h"
#include "protocols/shm.h"
#include "protocols/subcompositor.h"
#include "protocols/viewporter.h"
#include "protocols/xdg_shell.h"
#include "server.h"

namespace comp {

bufmgr::Result<std::unique_ptr<Globals>> Globals::create(Server &server)
{
	std::unique_ptr<Globals> globals(new Globals(server));
	auto ret = globals->init();
	if (!ret)
		return bufmgr::unexpected(std::move(ret).error());
	return globals;
}

Globals::Globals(Server &server)
	: server_(server)
{
}

Globals::~Globals()
{
	heapHints_.reset();
	linuxDmabuf_.reset();
	presentation_.reset();
	viewporter_.reset();
	dataDevice_.reset();
	/* The backend delivers input to the seat until here. */
	server_.backend().setInputSink(nullptr);
	seat_.reset();
	xdgShell_.reset();
	xdgOutput_.reset();
	shm_.reset();
	subcompositor_.reset();
	compositor_.reset();
	outputList_.clear();
	outputs_.clear();
	retireTimer_.reset();
	retired_.clear();
}

OutputGlobal &Globals::addOutput(Output &output)
{
	outputs_.push_back(std::make_unique<OutputGlobal>(server_, &output));
	outputList_.push_back(outputs_.back().get());
	return *outputs_.back();
}

void Globals::removeOutput(OutputGlobal &global)
{
	auto it = std::find_if(outputs_.begin(), outputs_.end(),
			       [&](const auto &g) { return g.get() == &global; });
	if (it == outputs_.end())
		return;
	global.withdraw();
	std::erase(outputList_, &global);
	/* A client may bind it until it has read global_remove. */
	retired_.push_back({ std::chrono::steady_clock::now() + server_.config().outputRetirement,
			     std::move(*it) });
	outputs_.erase(it);
	if (!retireTimer_.get())
		retireTimer_.reset(wl_event_loop_add_timer(server_.loop(), &Globals::onRetire, this));
	if (retired_.size() == 1)
		armRetireTimer();
}

void Globals::armRetireTimer()
{
	if (!retireTimer_.get() || retired_.empty())
		return;
	/* Each global has its deadline: one withdrawn now does not keep older ones. */
	const auto left = std::chrono::ceil<std::chrono::milliseconds>(
		retired_.front().deadline - std::chrono::steady_clock::now());
	wl_event_source_timer_update(retireTimer_.get(), int(std::max<int64_t>(1, left.count())));
}

int Globals::onRetire(void *data)
{
	auto *self = static_cast<Globals *>(data);
	const auto now = std::chrono::steady_clock::now();
	/* Withdrawn in order, so their deadlines come in order. */
	auto due = std::find_if(self->retired_.begin(), self->retired_.end(),
				[&](const Retired &r) { return r.deadline > now; });
	self->retired_.erase(self->retired_.begin(), due);
	self->armRetireTimer();
	return 0;
}

bufmgr::Result<void> Globals::init()
{
	compositor_ = std::make_unique<CompositorGlobal>(server_);
	subcompositor_ = std::make_unique<SubcompositorGlobal>(server_);
	auto shm = ShmGlobal::create(server_);
	if (!shm)
		return bufmgr::unexpected(std::move(shm).error());
	shm_ = std::move(*shm);

	for (Output *output : server_.backend().outputs())
		addOutput(*output);
	xdgOutput_ = std::make_unique<XdgOutputManager>(server_);
	xdgShell_ = std::make_unique<XdgShell>(server_);

	const ServerConfig &config = server_.config();
	KeymapNames names{ config.xkbLayout, config.xkbVariant, config.xkbOptions };
	auto seat = Seat::create(server_, names);
	if (!seat)
		return bufmgr::unexpected(std::move(seat).error());
	seat_ = std::move(*seat);
	server_.backend().setInputSink(seat_.get());

	dataDevice_ = std::make_unique<DataDeviceManager>(server_, *seat_);
	viewporter_ = std::make_unique<Viewporter>(server_);
	presentation_ = std::make_unique<Presentation>(server_);

	if (server_.renderer().dmaBufPath() != DmaBufPath::None) {
		auto dmabuf = LinuxDmabuf::create(server_);
		if (dmabuf)
			linuxDmabuf_ = std::move(*dmabuf);
		else
			LOG_WARNING("linux-dmabuf disabled: %s", dmabuf.error().message().c_str());
	} else {
		LOG_INFO("linux-dmabuf disabled: the renderer cannot read dma-bufs");
	}
	/* Heap hints mirror linux-dmabuf's feedback: none without it. */
	if (linuxDmabuf_) {
		auto hints = HeapHints::create(server_, *linuxDmabuf_);
		if (hints)
			heapHints_ = std::move(*hints);
		else
			LOG_WARNING("heap hints disabled: %s", hints.error().message().c_str());
	}
	return {};
}

} /* namespace comp */
