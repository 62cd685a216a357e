/* SPDX-License-Identifier: MIT */
#include "dmabuf_probe.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include <bufmgr/allocators.h>
#include <bufmgr/log.h>
#include <bufmgr/mapping.h>
#include <bufmgr/unique_fd.h>

#include "egl_context.h"
#include "egl_image.h"
#include "gles_shaders.h"

namespace comp {

namespace {

using bufmgr::UniqueFd;

constexpr uint32_t kWidth = 64;
constexpr uint32_t kHeight = 32;

/* Distinct in every pixel and asymmetric, so swaps and flips show. */
uint32_t patternPixel(uint32_t x, uint32_t y)
{
	return 0xff000000u | ((x * 4) & 0xff) << 16 | ((y * 8) & 0xff) << 8 |
	       ((x * y + 17) & 0xff);
}

bool closeEnough(uint32_t a, uint32_t b)
{
	for (int shift = 0; shift < 32; shift += 8) {
		int ca = (a >> shift) & 0xff, cb = (b >> shift) & 0xff;
		if (std::abs(ca - cb) > 1)
			return false;
	}
	return true;
}

/* "" if every pixel matches, else the first mismatch. */
std::string comparePattern(const uint32_t *pixels, size_t strideWords)
{
	for (uint32_t y = 0; y < kHeight; y++) {
		for (uint32_t x = 0; x < kWidth; x++) {
			uint32_t got = pixels[y * strideWords + x];
			uint32_t want = patternPixel(x, y);
			if (!closeEnough(got, want)) {
				char buf[96];
				snprintf(buf, sizeof(buf), "pixel (%u,%u) is 0x%08x, wrote 0x%08x",
					 x, y, got, want);
				return buf;
			}
		}
	}
	return {};
}

Result<std::unique_ptr<bufmgr::Allocator>> openSource(const DmaBufProbeOptions &options)
{
	auto heap = bufmgr::createDmaHeapAllocator(options.heapPath, false);
	if (heap)
		return std::move(*heap);
	auto udmabuf = bufmgr::createUdmabufAllocator(options.udmabufPath);
	if (udmabuf)
		return std::move(*udmabuf);
	return bufmgr::unexpected(std::move(udmabuf).error());
}

Result<void> fillPattern(const bufmgr::Buffer &buffer)
{
	auto mapping = bufmgr::Mapping::map(buffer, { bufmgr::Access::ReadWrite });
	if (!mapping)
		return bufmgr::unexpected(std::move(mapping).error());
	auto access = mapping->beginAccess(bufmgr::Access::Write);
	if (!access)
		return bufmgr::unexpected(std::move(access).error());
	uint8_t *base = mapping->plane(0).data();
	for (uint32_t y = 0; y < kHeight; y++) {
		auto *row = reinterpret_cast<uint32_t *>(base + y * buffer.plane(0).stride);
		for (uint32_t x = 0; x < kWidth; x++)
			row[x] = patternPixel(x, y);
	}
	return access->end();
}

/* Reads the buffer's memory back as the CPU sees it after the GPU wrote it. */
Result<std::string> checkMemory(const bufmgr::Buffer &buffer)
{
	auto mapping = bufmgr::Mapping::map(buffer, { bufmgr::Access::Read });
	if (!mapping)
		return bufmgr::unexpected(std::move(mapping).error());
	auto access = mapping->beginAccess(bufmgr::Access::Read);
	if (!access)
		return bufmgr::unexpected(std::move(access).error());
	const auto *pixels = reinterpret_cast<const uint32_t *>(mapping->plane(0).data());
	std::string mismatch = comparePattern(pixels, buffer.plane(0).stride / 4);
	(void)access->end();
	return mismatch;
}

/* Draws the bound texture over the whole bound framebuffer. */
Result<void> drawTexture(ShaderCache &shaders, ShaderKind kind, GLenum target, GLuint texture)
{
	auto program = shaders.get(kind);
	if (!program)
		return bufmgr::unexpected(std::move(program).error());
	glViewport(0, 0, kWidth, kHeight);
	glDisable(GL_BLEND);
	glUseProgram((*program)->id());
	glActiveTexture(GL_TEXTURE0);
	glBindTexture(target, texture);
	glTexParameteri(target, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
	glTexParameteri(target, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
	glUniform1i((*program)->samplerLocation(0), 0);
	glUniform1f((*program)->alphaLocation(), 1.0f);
	glUniform4f((*program)->texClampLocation(), 0, 0, 1, 1);
	drawQuad({ -1, -1, 1, -1, -1, 1, 1, 1 }, { 0, 0, 1, 0, 0, 1, 1, 1 });
	return {};
}

/* A GL framebuffer to draw into, deleted with this object. */
struct Framebuffer {
	GLuint fbo = 0, texture = 0, renderbuffer = 0;
	~Framebuffer()
	{
		glDeleteFramebuffers(1, &fbo);
		glDeleteTextures(1, &texture);
		glDeleteRenderbuffers(1, &renderbuffer);
	}
	bool complete()
	{
		return glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
	}
};

void probeSampling(const std::shared_ptr<EglContext> &context, ShaderCache &shaders,
		   const bufmgr::Buffer &buffer, DmaBufProbeResult &result)
{
	auto image = EglImage::import(context, buffer);
	if (!image) {
		result.detail = image.error().message();
		return;
	}

	const bool external = context->caps().externalImages;
	const GLenum target = external ? GL_TEXTURE_EXTERNAL_OES : GL_TEXTURE_2D;
	GLuint texture = 0;
	glGenTextures(1, &texture);
	glBindTexture(target, texture);
	context->procs().imageTargetTexture2D(target, (*image)->get());

	Framebuffer fb;
	glGenTextures(1, &fb.texture);
	glBindTexture(GL_TEXTURE_2D, fb.texture);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, kWidth, kHeight, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
	glGenFramebuffers(1, &fb.fbo);
	glBindFramebuffer(GL_FRAMEBUFFER, fb.fbo);
	glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, fb.texture, 0);
	if (!fb.complete()) {
		result.detail = "sampling: framebuffer incomplete";
		glDeleteTextures(1, &texture);
		return;
	}

	auto drawn = drawTexture(shaders, external ? ShaderKind::ExternalRgba : ShaderKind::Rgba,
				 target, texture);
	std::vector<uint32_t> pixels(kWidth * kHeight);
	glReadPixels(0, 0, kWidth, kHeight, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
	glDeleteTextures(1, &texture);
	glBindFramebuffer(GL_FRAMEBUFFER, 0);
	if (!drawn) {
		result.detail = drawn.error().message();
		return;
	}
	if (GLenum error = takeGlError()) {
		result.detail = "sampling: GL error " + std::to_string(error);
		return;
	}
	/* RGBA bytes to 0xAARRGGBB. */
	for (uint32_t &p : pixels)
		p = (p & 0xff00ff00u) | (p & 0xff) << 16 | ((p >> 16) & 0xff);
	std::string mismatch = comparePattern(pixels.data(), kWidth);
	if (!mismatch.empty()) {
		result.detail = "sampling an imported dma-buf: " + mismatch;
		return;
	}
	result.canSample = true;
}

void probeRendering(const std::shared_ptr<EglContext> &context, ShaderCache &shaders,
		    const bufmgr::Buffer &buffer, DmaBufProbeResult &result)
{
	if (!context->procs().imageTargetRenderbufferStorage) {
		result.detail = "no glEGLImageTargetRenderbufferStorageOES";
		return;
	}
	auto image = EglImage::import(context, buffer);
	if (!image) {
		result.detail = "render target: " + image.error().message();
		return;
	}

	/* The pattern uploaded from the CPU, drawn into the imported buffer. */
	std::vector<uint32_t> rgba(kWidth * kHeight);
	for (uint32_t y = 0; y < kHeight; y++) {
		for (uint32_t x = 0; x < kWidth; x++) {
			uint32_t p = patternPixel(x, y);
			rgba[y * kWidth + x] = (p & 0xff00ff00u) | (p & 0xff) << 16 | ((p >> 16) & 0xff);
		}
	}
	GLuint texture = 0;
	glGenTextures(1, &texture);
	glBindTexture(GL_TEXTURE_2D, texture);
	glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, kWidth, kHeight, 0, GL_RGBA, GL_UNSIGNED_BYTE,
		     rgba.data());

	Framebuffer fb;
	glGenRenderbuffers(1, &fb.renderbuffer);
	glBindRenderbuffer(GL_RENDERBUFFER, fb.renderbuffer);
	context->procs().imageTargetRenderbufferStorage(GL_RENDERBUFFER, (*image)->get());
	glGenFramebuffers(1, &fb.fbo);
	glBindFramebuffer(GL_FRAMEBUFFER, fb.fbo);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER,
				  fb.renderbuffer);
	if (!fb.complete()) {
		result.detail = "render target: EGLImage framebuffer incomplete";
		glDeleteTextures(1, &texture);
		return;
	}
	auto drawn = drawTexture(shaders, ShaderKind::Rgba, GL_TEXTURE_2D, texture);
	glFinish();
	glDeleteTextures(1, &texture);
	glBindFramebuffer(GL_FRAMEBUFFER, 0);
	if (!drawn) {
		result.detail = drawn.error().message();
		return;
	}

	auto mismatch = checkMemory(buffer);
	if (!mismatch) {
		result.detail = "render target: " + mismatch.error().message();
		return;
	}
	if (!mismatch->empty()) {
		result.detail = "rendering into an imported dma-buf: " + *mismatch;
		return;
	}
	result.canRender = true;
}

/* Fixed-size so one write() (< PIPE_BUF) carries it whole. */
struct ProbeMessage {
	uint8_t status;
	uint8_t canSample;
	uint8_t canRender;
	char source[64];
	char detail[900];
};

void copyString(char *dst, size_t size, const std::string &src)
{
	snprintf(dst, size, "%s", src.c_str());
}

[[noreturn]] void childMain(int fd, const DmaBufProbeOptions &options)
{
	/* A crash here is an answer: let it be a plain signal, without a core. */
	for (int sig : { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT })
		signal(sig, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	struct rlimit noCore = { 0, 0 };
	setrlimit(RLIMIT_CORE, &noCore);

	DmaBufProbeResult result = runDmaBufProbeInProcess(options);
	ProbeMessage message = {};
	message.status = static_cast<uint8_t>(result.status);
	message.canSample = result.canSample;
	message.canRender = result.canRender;
	copyString(message.source, sizeof(message.source), result.source);
	copyString(message.detail, sizeof(message.detail), result.detail);
	ssize_t n;
	do {
		n = ::write(fd, &message, sizeof(message));
	} while (n < 0 && errno == EINTR);
	_exit(n == sizeof(message) ? 0 : 1);
}

std::string describeExit(int status)
{
	if (WIFSIGNALED(status))
		return std::string("probe process killed by signal ") +
		       std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
	if (WIFEXITED(status))
		return "probe process exited with status " +
		       std::to_string(WEXITSTATUS(status)) + " without an answer";
	return "probe process ended without an answer";
}

} /* namespace */

std::string_view toString(ProbeStatus status)
{
	switch (status) {
	case ProbeStatus::Passed: return "passed";
	case ProbeStatus::Failed: return "failed";
	case ProbeStatus::Crashed: return "crashed";
	case ProbeStatus::TimedOut: return "timed out";
	case ProbeStatus::Unsupported: return "unsupported";
	case ProbeStatus::NotRun: return "not run";
	}
	return "unknown";
}

DmaBufProbeResult runDmaBufProbeInProcess(const DmaBufProbeOptions &options)
{
	DmaBufProbeResult result;
	result.status = ProbeStatus::Failed;

	auto context = EglContext::create(options.renderNode);
	if (!context) {
		result.detail = context.error().message();
		return result;
	}
	if (!(*context)->caps().dmaBufImport) {
		result.status = ProbeStatus::Unsupported;
		result.detail = (*context)->description() +
				": EGL_EXT_image_dma_buf_import (with GL_OES_EGL_image) not advertised";
		return result;
	}

	auto allocator = openSource(options);
	if (!allocator) {
		result.status = ProbeStatus::NotRun;
		result.detail = "no dma-buf source: " + allocator.error().message();
		return result;
	}
	result.source = (*allocator)->source();

	auto request = bufmgr::AllocationRequest::image(kWidth, kHeight, DRM_FORMAT_ARGB8888,
							bufmgr::Usage::Render,
							"heapcomp-render-probe");
	auto pattern = (*allocator)->allocate(request);
	auto target = (*allocator)->allocate(request);
	if (!pattern || !target) {
		result.detail = (pattern ? target.error() : pattern.error()).message();
		return result;
	}
	if (auto filled = fillPattern(*pattern); !filled) {
		result.detail = filled.error().message();
		return result;
	}

	{
		ShaderCache shaders((*context)->caps());
		probeSampling(*context, shaders, *pattern, result);
		if (result.canSample)
			probeRendering(*context, shaders, *target, result);
	}

	const std::string where = (*context)->description() + " with " + result.source;
	if (result.canSample) {
		result.status = ProbeStatus::Passed;
		result.detail = where + ": pattern sampled intact" +
				(result.canRender ? ", rendering lands in memory"
						  : "; not rendering into it (" + result.detail + ")");
	} else {
		result.detail = where + ": " + result.detail;
	}
	return result;
}

DmaBufProbeResult probeDmaBufImport(const DmaBufProbeOptions &options)
{
	DmaBufProbeResult result;
	if (::access(options.heapPath.c_str(), R_OK) != 0 &&
	    ::access(options.udmabufPath.c_str(), R_OK | W_OK) != 0) {
		result.detail = "no dma-buf source to probe with (neither " + options.heapPath +
				" nor " + options.udmabufPath + " is usable)";
		return result;
	}

	int fds[2];
	if (::pipe2(fds, O_CLOEXEC) < 0) {
		result.detail = std::string("pipe: ") + strerror(errno);
		return result;
	}
	UniqueFd readEnd(fds[0]), writeEnd(fds[1]);

	/* Buffered output would otherwise be written twice. */
	fflush(stdout);
	fflush(stderr);
	const auto start = std::chrono::steady_clock::now();
	pid_t pid = ::fork();
	if (pid < 0) {
		result.detail = std::string("fork: ") + strerror(errno);
		return result;
	}
	if (pid == 0)
		childMain(writeEnd.get(), options);
	writeEnd.reset();

	ProbeMessage message;
	size_t got = 0;
	bool timedOut = false;
	const auto deadline = start + std::chrono::milliseconds(options.timeoutMs);
	while (got < sizeof(message)) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - std::chrono::steady_clock::now()).count();
		if (left <= 0) {
			timedOut = true;
			break;
		}
		struct pollfd pfd = { readEnd.get(), POLLIN, 0 };
		int ret = ::poll(&pfd, 1, static_cast<int>(left));
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			timedOut = ret == 0;
			break;
		}
		ssize_t n = ::read(readEnd.get(), reinterpret_cast<char *>(&message) + got,
				   sizeof(message) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	if (timedOut)
		::kill(pid, SIGKILL);

	int status = 0;
	pid_t reaped;
	do {
		reaped = ::waitpid(pid, &status, 0);
	} while (reaped < 0 && errno == EINTR);

	result.durationMs = std::chrono::duration_cast<std::chrono::milliseconds>(
		std::chrono::steady_clock::now() - start).count();
	if (got == sizeof(message)) {
		message.source[sizeof(message.source) - 1] = '\0';
		message.detail[sizeof(message.detail) - 1] = '\0';
		result.status = static_cast<ProbeStatus>(message.status);
		result.canSample = message.canSample;
		result.canRender = message.canRender;
		result.source = message.source;
		result.detail = message.detail;
	} else if (timedOut) {
		result.status = ProbeStatus::TimedOut;
		result.detail = "probe process did not answer within " +
				std::to_string(options.timeoutMs) + " ms; killed";
	} else {
		result.status = ProbeStatus::Crashed;
		/* Someone else's SIGCHLD handler may have reaped it first. */
		result.detail = reaped == pid ? describeExit(status)
					      : "probe process ended without an answer";
	}
	return result;
}

DmaBufProbeResult cachedDmaBufProbe(const DmaBufProbeOptions &options)
{
	static std::mutex mutex;
	static std::map<std::string, DmaBufProbeResult> results;

	const std::string key = options.renderNode + '\n' + options.heapPath + '\n' +
				options.udmabufPath;
	std::lock_guard lock(mutex);
	auto it = results.find(key);
	if (it != results.end())
		return it->second;
	DmaBufProbeResult result = probeDmaBufImport(options);
	/* A probe that could not start may succeed later (a device appears). */
	if (result.completed())
		results.emplace(key, result);
	return result;
}

} /* namespace comp */
