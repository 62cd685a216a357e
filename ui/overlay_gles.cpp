/* SPDX-License-Identifier: MIT */
#include "ui/overlay_renderer.h"

#include <algorithm>
#include <cerrno>

#include <GLES3/gl3.h>
#include <imgui.h>
#include <imgui_impl_opengl3.h>

#include "render/egl_context.h"

namespace comp {

using bufmgr::unexpected;

namespace {

class GlesOverlayRenderer : public OverlayRenderer
{
public:
	GlesOverlayRenderer(ImGuiContext *imgui, std::shared_ptr<EglContext> context)
		: imgui_(imgui), context_(std::move(context)),
		  name_("gles (" + context_->glRenderer() + ")")
	{
	}
	~GlesOverlayRenderer() override;

	bufmgr::Result<void> init();

	const std::string &name() const override { return name_; }
	void newFrame() override;
	bufmgr::Result<Rect> render(ImDrawData *data, uint32_t width, uint32_t height,
				    const float clear[4], std::vector<uint32_t> &pixels) override;

private:
	bufmgr::Result<void> resize(uint32_t width, uint32_t height);

	ImGuiContext *imgui_;
	std::shared_ptr<EglContext> context_;
	std::string name_;
	bool backend_ = false;
	unsigned framebuffer_ = 0;
	unsigned texture_ = 0;
	uint32_t width_ = 0;
	uint32_t height_ = 0;
	std::vector<uint8_t> rgba_;
};

bufmgr::Result<void> GlesOverlayRenderer::init()
{
	if (context_->caps().major < 3)
		return unexpected(ENOTSUP, "overlay renderer: ImGui's backend needs GLES 3, "
					   "the driver gave GLES " +
					   std::to_string(context_->caps().major));
	ImGui::SetCurrentContext(imgui_);
	if (!context_->makeCurrent() || !ImGui_ImplOpenGL3_Init("#version 300 es"))
		return unexpected(EIO, "overlay renderer: ImGui's GLES backend did not start");
	backend_ = true;
	return {};
}

GlesOverlayRenderer::~GlesOverlayRenderer()
{
	if (!context_->makeCurrent())
		return;
	if (backend_) {
		ImGui::SetCurrentContext(imgui_);
		ImGui_ImplOpenGL3_Shutdown();
	}
	glDeleteFramebuffers(1, &framebuffer_);
	glDeleteTextures(1, &texture_);
}

void GlesOverlayRenderer::newFrame()
{
	context_->makeCurrent();
	ImGui_ImplOpenGL3_NewFrame();
}

bufmgr::Result<void> GlesOverlayRenderer::resize(uint32_t width, uint32_t height)
{
	if (width == width_ && height == height_ && framebuffer_)
		return {};
	if (!framebuffer_)
		glGenFramebuffers(1, &framebuffer_);
	if (!texture_)
		glGenTextures(1, &texture_);
	glBindTexture(GL_TEXTURE_2D, texture_);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, GLsizei(width), GLsizei(height), 0, GL_RGBA,
		     GL_UNSIGNED_BYTE, nullptr);
	glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
	glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, texture_, 0);
	GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
	if (status != GL_FRAMEBUFFER_COMPLETE)
		return unexpected(EIO, "overlay renderer: " + std::to_string(width) + "x" +
					       std::to_string(height) +
					       " framebuffer incomplete (status " +
					       std::to_string(status) + ")");
	width_ = width;
	height_ = height;
	rgba_.resize(size_t(width) * height * 4);
	return {};
}

bufmgr::Result<Rect> GlesOverlayRenderer::render(ImDrawData *data, uint32_t width,
						 uint32_t height, const float clear[4],
						 std::vector<uint32_t> &pixels)
{
	if (!context_->makeCurrent())
		return unexpected(EIO, "overlay renderer: eglMakeCurrent failed");
	if (auto ret = resize(width, height); !ret)
		return unexpected(std::move(ret).error());
	glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
	glViewport(0, 0, GLsizei(width), GLsizei(height));
	glDisable(GL_SCISSOR_TEST);
	glClearColor(clear[0], clear[1], clear[2], clear[3]);
	glClear(GL_COLOR_BUFFER_BIT);
	ImGui_ImplOpenGL3_RenderDrawData(data);
	glPixelStorei(GL_PACK_ALIGNMENT, 4);
	glReadPixels(0, 0, GLsizei(width), GLsizei(height), GL_RGBA, GL_UNSIGNED_BYTE,
		     rgba_.data());
	if (GLenum err = glGetError(); err != GL_NO_ERROR)
		return unexpected(EIO, "overlay renderer: GL error " + std::to_string(err));

	/* GL's first row is the bottom one. */
	const bool resized = pixels.size() != size_t(width) * height;
	pixels.resize(size_t(width) * height);
	Rect changed;
	for (uint32_t y = 0; y < height; y++) {
		const uint8_t *in = rgba_.data() + size_t(height - 1 - y) * width * 4;
		uint32_t *out = pixels.data() + size_t(y) * width;
		uint32_t first = width, last = 0;
		for (uint32_t x = 0; x < width; x++, in += 4) {
			const uint32_t pixel = uint32_t(in[3]) << 24 | uint32_t(in[0]) << 16 |
					       uint32_t(in[1]) << 8 | in[2];
			if (out[x] != pixel) {
				first = std::min(first, x);
				last = x;
			}
			out[x] = pixel;
		}
		if (first > last)
			continue;
		const Rect row{ int32_t(first), int32_t(y), int32_t(last - first + 1), 1 };
		changed = changed.isEmpty() ? row : boundingBox(changed, row);
	}
	return resized ? Rect{ 0, 0, int32_t(width), int32_t(height) } : changed;
}

} /* namespace */

bufmgr::Result<std::unique_ptr<OverlayRenderer>> createGlesOverlayRenderer(ImGuiContext *imgui)
{
	auto context = EglContext::create("");
	if (!context)
		return unexpected(context.error().code,
				  "overlay renderer: " + context.error().message());
	auto renderer = std::make_unique<GlesOverlayRenderer>(imgui, std::move(*context));
	if (auto ret = renderer->init(); !ret)
		return unexpected(std::move(ret).error());
	return std::unique_ptr<OverlayRenderer>(std::move(renderer));
}

} /* namespace comp */
