/* SPDX-License-Identifier: MIT */
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <bufmgr/buffer.h>
#include <bufmgr/manager.h>
#include <bufmgr/mapping.h>

#include "backend/backend.h"
#include "backend/drm/kms.h"
#include "rect.h"

namespace comp {

struct DrmStats;

/*
 * A plane that shows an image heapcomp draws on the CPU — its overlay,
 * the cursor — so that frames below need not draw it and a client
 * buffer can stay scanned out under it. Three buffers of scanout memory:
 * on screen, flipping to, and staged for the next commit. Switched off,
 * it keeps them until told to let them go (releaseIdleMemory()): shown again
 * soon, it needs no allocation, no AddFB2 and no first touch of pages.
 */
class ImagePlane
{
public:
	struct Config {
		std::string what;	/* "overlay", "cursor": for the log */
		/* Buffers of this size with the image at their top-left (cursor planes); 0: the image's. */
		uint32_t bufferWidth = 0;
		uint32_t bufferHeight = 0;
		/* TEST_ONLY each new place (overlay) or only the first (a cursor moves every frame). */
		bool testEachPlace = true;
	};

	ImagePlane() = default;
	ImagePlane(int fd, uint32_t plane, Config config);

	uint32_t id() const { return plane_; }
	/* What the plane's buffers must not be allocated from (memory the plane refused). */
	void setMemoryConstraints(bufmgr::Constraints constraints)
	{
		constraints_ = std::move(constraints);
	}
	/* An image is staged for the plane or on it (not composed). */
	bool shown() const { return shown_; }

	/*
	 * Stages image at rect (output pixels; the image's size) for the
	 * next commit over the CRTC; cheap when nothing changed. false: the
	 * plane cannot show it (why() says why) and the caller composes it.
	 */
	bool show(const PlaneImage &image, const Rect &rect, uint32_t crtc, bufmgr::BufferManager &manager,
		  DrmStats &stats, const std::string &output);
	/* Off from the next commit on. */
	void hide();
	/* Why the last image was not shown ("" if it was). */
	const std::string &why() const { return why_; }
	/* Whether it turned on or off since the client buffers' plane tests. */
	bool takeToggled() { return std::exchange(toggled_, false); }

	/* The next commit has something to change on this plane. */
	bool changePending() const { return staged_ >= 0 || off_; }
	void addTo(kms::AtomicRequest &req, uint32_t crtc) const;
	/* Every plane property, to switch it off for good. */
	void addOff(kms::AtomicRequest &req) const;
	/* A commit with addTo() went in; its flip, or its refusal (composed from now on). */
	void committed();
	/* A flip completed; true if the plane is now off the screen, still holding its buffers. */
	bool flipped();
	/* Buffers of scanout memory it has. */
	size_t buffersHeld() const;
	/* Off the screen, with scanout memory held. */
	bool holdsIdleMemory() const;
	/* Gives the buffers back if the plane is still off. */
	void releaseIdleMemory();
	void refused(const std::string &why, const std::string &output);
	/*
	 * Another session had the display and may have changed this plane:
	 * the next commit sets it again, on or off, as heapcomp last had it.
	 */
	void restate();

private:
	struct Buffer {
		bufmgr::Buffer buffer;
		std::optional<bufmgr::Mapping> mapping;
		std::unique_ptr<kms::Framebuffer> fb;
		/* The image it holds: its pixels and generation (0: none yet). */
		const uint8_t *source = nullptr;
		uint64_t generation = 0;
	};
	/* The part of image that target lacks: what changed since it was filled, or all. */
	static Rect staleIn(const Buffer &target, const PlaneImage &image);
	Result<void> fill(int index, const PlaneImage &image, bufmgr::BufferManager &manager,
			  DrmStats &stats, const std::string &output);
	bool refuse(std::string why, const std::string &output);

	int fd_ = -1;
	uint32_t plane_ = 0;
	Config config_;
	bufmgr::Constraints constraints_;
	kms::Properties props_;
	std::array<Buffer, 3> buffers_;
	/* Indices into buffers_, -1 for none. */
	int staged_ = -1;
	int pending_ = -1;
	int front_ = -1;
	/* The next commit takes it off; the commit in flight changes it. */
	bool off_ = false;
	bool flipPending_ = false;
	/* What is staged or shown: the image's generation at rect. */
	bool shown_ = false;
	uint64_t generation_ = 0;
	Rect rect_;
	/* TEST_ONLY verdicts by rectangle (or one, without testEachPlace). */
	std::vector<std::pair<Rect, bool>> verdicts_;
	/* The image no buffer could be had for (0: none). */
	uint64_t failedGeneration_ = 0;
	std::string why_;
	bool toggled_ = false;
};

} /* namespace comp */
