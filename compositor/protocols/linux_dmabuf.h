/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

#include "backend/backend.h"
#include "scene/scanout_hint.h"
#include "wayland_util.h"

namespace comp {

class Server;
class Surface;

/* One preference tranche of linux-dmabuf feedback. */
struct FeedbackTranche {
	dev_t targetDevice = 0;
	bool scanout = false;
	std::vector<uint16_t> indices;	/* into the format table */
};

/* A whole feedback: what the client should allocate, most preferred first. */
struct Feedback {
	dev_t mainDevice = 0;
	std::vector<FeedbackTranche> tranches;
};

/*
 * zwp_linux_dmabuf_v1 (v4): client dma-bufs, validated plane by plane,
 * wrapped in bufmgr::Buffer and imported through the renderer once per
 * wl_buffer; and feedback: the renderer's formats as a sealed memfd
 * table, a default feedback, and per-surface feedback with a scanout
 * tranche when the backend would scan the surface out (resent only after
 * the backend's decision stays the same for the hysteresis time).
 */
class LinuxDmabuf
{
public:
	static constexpr int kVersion = 4;

	static bufmgr::Result<std::unique_ptr<LinuxDmabuf>> create(Server &server);
	~LinuxDmabuf();

	Server &server() const { return server_; }
	const std::vector<FormatModifier> &formats() const { return formats_; }
	bool supports(uint32_t format, uint64_t modifier) const;
	dev_t mainDevice() const { return mainDevice_; }
	/* The sealed format table feedback sends, and its size in bytes. */
	int formatTableFd() const { return tableFd_.get(); }
	uint32_t formatTableSize() const { return tableSize_; }

	/* Every tranche is built here; surface null for the default feedback. */
	Feedback buildFeedback(const Surface *surface,
			       const std::optional<ScanoutTranche> &scanout) const;
	void sendFeedback(wl_resource *resource, const Feedback &feedback) const;

	/*
	 * The scene or the backend's use of its planes changed: every
	 * surface's scanout decision is asked again. Surface commits need
	 * no call; each feedback follows its surface's.
	 */
	void sceneChanged();

	class SurfaceFeedback;
	void addSurfaceFeedback(wl_resource *resource, Surface *surface);
	void removeSurfaceFeedback(SurfaceFeedback *feedback);

private:
	explicit LinuxDmabuf(Server &server);
	bufmgr::Result<void> init();
	static void bind(wl_client *client, void *data, uint32_t version, uint32_t id);

	Server &server_;
	std::vector<FormatModifier> formats_;
	bufmgr::UniqueFd tableFd_;
	uint32_t tableSize_ = 0;
	dev_t mainDevice_ = 0;
	std::list<SurfaceFeedback *> surfaceFeedbacks_;
	Global global_;
};

/*
 * One surface's zwp_linux_dmabuf_feedback_v1: resent whole when the
 * surface's scanout hint changes.
 */
class LinuxDmabuf::SurfaceFeedback
{
public:
	SurfaceFeedback(LinuxDmabuf &dmabuf, wl_resource *resource, Surface *surface);
	~SurfaceFeedback();
	SurfaceFeedback(const SurfaceFeedback &) = delete;
	SurfaceFeedback &operator=(const SurfaceFeedback &) = delete;

	wl_resource *resource() const { return resource_; }
	/* Null once the surface is gone; then nothing more is sent. */
	Surface *surface() const { return hint_->surface(); }
	/* What the client was last told. */
	const std::optional<ScanoutTranche> &sent() const { return hint_->sent(); }

	void reevaluate() { hint_->reevaluate(); }
	/* The whole feedback for the decision last sent. */
	void send();

private:
	LinuxDmabuf &dmabuf_;
	wl_resource *resource_;
	ScanoutHint::Follower hint_;
};

} /* namespace comp */
