/* SPDX-License-Identifier: MIT */
/*
 * wlcs integration: lets the Wayland Conformance Suite drive heapcomp on
 * the headless backend. wlcs loads this module, starts a server per test,
 * connects clients over socketpairs we hand it and injects input.
 */
#include <functional>
#include <map>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

#include <wayland-client-core.h>
#include <wlcs/display_server.h>
#include <wlcs/pointer.h>
#include <wlcs/touch.h>

#include "protocols/xdg_shell.h"
#include "server_runner.h"
#include "surface.h"

namespace {

using heapcomp::test::ServerRunner;

struct Server : WlcsDisplayServer {
	std::unique_ptr<ServerRunner> runner;
	/* Client end of each socket we made (what wl_display_get_fd gives) -> client. */
	std::map<int, wl_client *> clients;
	int32_t nextTouchId = 0;
};

Server *self(WlcsDisplayServer *server)
{
	return static_cast<Server *>(server);
}

struct Pointer : WlcsPointer {
	ServerRunner *runner;
	double x = 0;
	double y = 0;
};

void injectMotion(Pointer *pointer)
{
	double x = pointer->x, y = pointer->y;
	pointer->runner->run([x, y](comp::Server &s) {
		s.headlessBackend()->injectPointerMotion(x, y);
	});
}

void pointerMoveAbsolute(WlcsPointer *p, wl_fixed_t x, wl_fixed_t y)
{
	auto *pointer = static_cast<Pointer *>(p);
	pointer->x = wl_fixed_to_double(x);
	pointer->y = wl_fixed_to_double(y);
	injectMotion(pointer);
}

void pointerMoveRelative(WlcsPointer *p, wl_fixed_t dx, wl_fixed_t dy)
{
	auto *pointer = static_cast<Pointer *>(p);
	pointer->x += wl_fixed_to_double(dx);
	pointer->y += wl_fixed_to_double(dy);
	injectMotion(pointer);
}

void pointerButton(WlcsPointer *p, int button, bool pressed)
{
	auto *pointer = static_cast<Pointer *>(p);
	pointer->runner->run([button, pressed](comp::Server &s) {
		s.headlessBackend()->injectPointerButton(uint32_t(button), pressed);
	});
}

void pointerButtonDown(WlcsPointer *p, int button)
{
	pointerButton(p, button, true);
}

void pointerButtonUp(WlcsPointer *p, int button)
{
	pointerButton(p, button, false);
}

void pointerDestroy(WlcsPointer *p)
{
	delete static_cast<Pointer *>(p);
}

/* One finger on the headless backend's touch screen. */
struct Touch : WlcsTouch {
	ServerRunner *runner;
	int32_t id;
	bool down = false;
};

void injectTouch(Touch *touch, std::function<void(comp::HeadlessBackend &)> f)
{
	touch->runner->run([&](comp::Server &s) {
		f(*s.headlessBackend());
		s.headlessBackend()->injectTouchFrame();
	});
}

/*
 * Unlike the pointer's, wlcs's touch positions are whole pixels: its
 * Touch::down_at(int, int) passes them on unconverted, whatever the
 * header's wl_fixed_t says.
 */
void touchDown(WlcsTouch *t, wl_fixed_t x, wl_fixed_t y)
{
	auto *touch = static_cast<Touch *>(t);
	touch->down = true;
	injectTouch(touch, [&](comp::HeadlessBackend &h) { h.injectTouchDown(touch->id, x, y); });
}

void touchMove(WlcsTouch *t, wl_fixed_t x, wl_fixed_t y)
{
	auto *touch = static_cast<Touch *>(t);
	injectTouch(touch, [&](comp::HeadlessBackend &h) { h.injectTouchMotion(touch->id, x, y); });
}

void touchUp(WlcsTouch *t)
{
	auto *touch = static_cast<Touch *>(t);
	touch->down = false;
	injectTouch(touch, [&](comp::HeadlessBackend &h) { h.injectTouchUp(touch->id); });
}

void touchDestroy(WlcsTouch *t)
{
	auto *touch = static_cast<Touch *>(t);
	/* A finger lifted with its device: no point stays down for ever. */
	if (touch->down)
		touchUp(touch);
	delete touch;
}

void start(WlcsDisplayServer *server)
{
	comp::ServerConfig config = ServerRunner::realClockConfig();
	config.headless.width = 1280;
	config.headless.height = 1024;
	config.headless.touch = true;
	config.allowUnconfiguredBuffers = true;
	self(server)->runner = std::make_unique<ServerRunner>(std::move(config));
}

void stop(WlcsDisplayServer *server)
{
	self(server)->runner.reset();
	self(server)->clients.clear();
}

int createClientSocket(WlcsDisplayServer *server)
{
	Server *s = self(server);
	int fds[2];
	if (!s->runner || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return -1;
	int serverFd = fds[0];
	wl_client *client = s->runner->run([serverFd](comp::Server &srv) {
		return wl_client_create(srv.display(), serverFd);
	});
	if (!client) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	s->clients[fds[1]] = client;
	return fds[1];
}

void positionWindowAbsolute(WlcsDisplayServer *server, wl_display *display, wl_surface *surface,
			    int x, int y)
{
	Server *s = self(server);
	auto it = s->clients.find(wl_display_get_fd(display));
	if (it == s->clients.end())
		return;
	wl_client *client = it->second;
	uint32_t id = wl_proxy_get_id(reinterpret_cast<wl_proxy *>(surface));
	s->runner->run([client, id, x, y](comp::Server &srv) {
		wl_resource *resource = wl_client_get_object(client, id);
		if (!resource || std::string(wl_resource_get_class(resource)) != "wl_surface")
			return;
		comp::Surface *target = comp::Surface::fromResource(resource);
		/* wlcs places the window geometry, not the surface origin. */
		comp::Rect geometry;
		if (auto *xdg = dynamic_cast<comp::XdgSurface *>(target->role()))
			geometry = xdg->geometry();
		for (comp::View *view : srv.views()) {
			if (view->surface() == target)
				view->setPosition(x - geometry.x, y - geometry.y);
		}
	});
}

WlcsPointer *createPointer(WlcsDisplayServer *server)
{
	auto *pointer = new Pointer();
	pointer->version = WLCS_POINTER_VERSION;
	pointer->move_absolute = pointerMoveAbsolute;
	pointer->move_relative = pointerMoveRelative;
	pointer->button_down = pointerButtonDown;
	pointer->button_up = pointerButtonUp;
	pointer->destroy = pointerDestroy;
	pointer->runner = self(server)->runner.get();
	return pointer;
}

WlcsTouch *createTouch(WlcsDisplayServer *server)
{
	auto *touch = new Touch();
	touch->version = WLCS_TOUCH_VERSION;
	touch->touch_down = touchDown;
	touch->touch_move = touchMove;
	touch->touch_up = touchUp;
	touch->destroy = touchDestroy;
	touch->runner = self(server)->runner.get();
	/* Each device is one finger: ids only need to differ between them. */
	touch->id = self(server)->nextTouchId++;
	return touch;
}

const WlcsExtensionDescriptor extensions[] = {
	{ "wl_compositor", 5 },
	{ "wl_subcompositor", 1 },
	{ "wl_shm", 1 },
	{ "wl_output", 4 },
	{ "wl_seat", 7 },
	{ "wl_data_device_manager", 3 },
	{ "xdg_wm_base", 5 },
	{ "zxdg_output_manager_v1", 3 },
	{ "wp_viewporter", 1 },
	{ "wp_presentation", 1 },
	{ "zwp_linux_dmabuf_v1", 4 },
};

const WlcsIntegrationDescriptor descriptor = {
	1, sizeof(extensions) / sizeof(extensions[0]), extensions,
};

const WlcsIntegrationDescriptor *getDescriptor(const WlcsDisplayServer *)
{
	return &descriptor;
}

WlcsDisplayServer *createServer(int, const char **)
{
	auto *server = new Server();
	server->version = 2;
	server->start = start;
	server->stop = stop;
	server->create_client_socket = createClientSocket;
	server->position_window_absolute = positionWindowAbsolute;
	server->create_pointer = createPointer;
	server->create_touch = createTouch;
	server->get_descriptor = getDescriptor;
	server->start_on_this_thread = nullptr;
	return server;
}

void destroyServer(WlcsDisplayServer *server)
{
	delete self(server);
}

} /* namespace */

extern "C" WlcsServerIntegration const wlcs_server_integration = {
	1, createServer, destroyServer,
};
