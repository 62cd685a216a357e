/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstring>
#include <functional>
#include <utility>

#include <wayland-server-core.h>

namespace comp {

/*
 * A wl_listener that removes itself from its signal when destroyed, so a
 * C++ object can never be notified after it is gone. Not movable: the
 * signal links to its address.
 */
class Listener
{
public:
	using Callback = std::function<void(void *data)>;

	Listener() { wl_list_init(&link_.listener.link); }
	~Listener() { disconnect(); }
	Listener(const Listener &) = delete;
	Listener &operator=(const Listener &) = delete;

	void connect(wl_signal *signal, Callback callback)
	{
		wl_signal_add(signal, arm(std::move(callback)));
	}

	/* Destruction of a resource or a client. */
	void connectResourceDestroy(wl_resource *resource, Callback callback)
	{
		wl_resource_add_destroy_listener(resource, arm(std::move(callback)));
	}
	void connectClientDestroy(wl_client *client, Callback callback)
	{
		wl_client_add_destroy_listener(client, arm(std::move(callback)));
	}

	void connectResourceCreated(wl_client *client, Callback callback)
	{
		wl_client_add_resource_created_listener(client, arm(std::move(callback)));
	}

	void connectClientCreated(wl_display *display, Callback callback)
	{
		wl_display_add_client_created_listener(display, arm(std::move(callback)));
	}

	void disconnect()
	{
		if (!connected_)
			return;
		wl_list_remove(&link_.listener.link);
		wl_list_init(&link_.listener.link);
		connected_ = false;
	}

	bool isConnected() const { return connected_; }

	/* The listener as libwayland sees it, for wl_resource_get_destroy_listener(). */
	wl_listener *raw() { return &link_.listener; }
	static Listener *fromRaw(wl_listener *listener)
	{
		Link *link = wl_container_of(listener, static_cast<Link *>(nullptr), listener);
		return link->self;
	}

	static void notify(wl_listener *listener, void *data)
	{
		Listener *self = fromRaw(listener);
		/* The signal is about to go (destroy signals): forget it first. */
		Callback callback = self->callback_;
		callback(data);
	}

private:
	struct Link {
		wl_listener listener;
		Listener *self;
	};

	/* Ready to be added to a signal: the old one dropped, callback set. */
	wl_listener *arm(Callback callback)
	{
		disconnect();
		callback_ = std::move(callback);
		link_.listener.notify = &Listener::notify;
		connected_ = true;
		return &link_.listener;
	}

	Link link_{ {}, this };
	Callback callback_;
	bool connected_ = false;
};

/*
 * wl_signal_emit() breaks when a listener removes another one; these do
 * not. emitSignal() keeps the listeners (a cursor walks the list);
 * emitFinalSignal() unlinks each before calling it (destroy signals).
 */
inline void emitSignal(wl_signal *signal, void *data)
{
	wl_listener cursor;
	wl_listener end;
	wl_list_insert(&signal->listener_list, &cursor.link);
	wl_list_insert(signal->listener_list.prev, &end.link);
	while (cursor.link.next != &end.link) {
		wl_list *pos = cursor.link.next;
		wl_listener *listener = wl_container_of(pos, listener, link);
		wl_list_remove(&cursor.link);
		wl_list_insert(pos, &cursor.link);
		listener->notify(listener, data);
	}
	wl_list_remove(&cursor.link);
	wl_list_remove(&end.link);
}

inline void emitFinalSignal(wl_signal *signal, void *data)
{
	while (!wl_list_empty(&signal->listener_list)) {
		wl_listener *listener = wl_container_of(signal->listener_list.next, listener, link);
		wl_list_remove(&listener->link);
		wl_list_init(&listener->link);
		listener->notify(listener, data);
	}
}

/* A global, removed from the display when destroyed. */
class Global
{
public:
	Global() = default;
	Global(wl_display *display, const wl_interface *interface, int version,
	       void *data, wl_global_bind_func_t bind)
		: global_(wl_global_create(display, interface, version, data, bind))
	{
	}
	~Global() { reset(); }
	Global(const Global &) = delete;
	Global &operator=(const Global &) = delete;

	wl_global *get() const { return global_; }
	explicit operator bool() const { return global_ != nullptr; }
	/* For globals that can be announced only once their state is ready. */
	void create(wl_display *display, const wl_interface *interface, int version,
		    void *data, wl_global_bind_func_t bind)
	{
		reset();
		global_ = wl_global_create(display, interface, version, data, bind);
	}
	void reset()
	{
		if (global_)
			wl_global_destroy(global_);
		global_ = nullptr;
	}

private:
	wl_global *global_ = nullptr;
};

/* An event loop source, removed from its loop when destroyed. */
class EventSource
{
public:
	EventSource() = default;
	explicit EventSource(wl_event_source *source) : source_(source) {}
	~EventSource() { reset(); }
	EventSource(EventSource &&other) noexcept : source_(std::exchange(other.source_, nullptr)) {}
	EventSource &operator=(EventSource &&other) noexcept
	{
		reset(std::exchange(other.source_, nullptr));
		return *this;
	}
	EventSource(const EventSource &) = delete;
	EventSource &operator=(const EventSource &) = delete;

	wl_event_source *get() const { return source_; }
	explicit operator bool() const { return source_ != nullptr; }
	void reset(wl_event_source *source = nullptr)
	{
		if (source_)
			wl_event_source_remove(source_);
		source_ = source;
	}

private:
	wl_event_source *source_ = nullptr;
};

/*
 * Resources collected in a list, each unlinking itself when the client
 * destroys it (frame callbacks, feedback objects, per-client bindings of
 * a global). The resources must have been created with a destructor that
 * calls ResourceList::unlink(), which resourceDestroyed() below does.
 */
class ResourceList
{
public:
	ResourceList() { wl_list_init(&list_); }
	~ResourceList() { destroyAll(); }
	ResourceList(const ResourceList &) = delete;
	ResourceList &operator=(const ResourceList &) = delete;

	/* Sets the implementation (data may be null) and links the resource. */
	void add(wl_resource *resource, const void *implementation = nullptr,
		 void *data = nullptr)
	{
		wl_resource_set_implementation(resource, implementation, data,
					       &ResourceList::unlink);
		wl_list_insert(list_.prev, wl_resource_get_link(resource));
	}

	/* Moves every resource of other to the end of this list. */
	void take(ResourceList &other)
	{
		wl_list_insert_list(list_.prev, &other.list_);
		wl_list_init(&other.list_);
	}

	bool empty() const { return wl_list_empty(&list_); }
	size_t size() const { return size_t(wl_list_length(&list_)); }

	/* Calls f(resource) for each; f may destroy the resource. */
	template<typename F>
	void forEach(F &&f)
	{
		wl_resource *resource, *tmp;
		wl_resource_for_each_safe(resource, tmp, &list_)
			f(resource);
	}

	/* Destroys every resource (sending nothing beyond delete_id). */
	void destroyAll()
	{
		forEach([](wl_resource *resource) { wl_resource_destroy(resource); });
	}

	/* Forgets the resources without destroying them. */
	void unlinkAll()
	{
		forEach([](wl_resource *resource) {
			wl_list_remove(wl_resource_get_link(resource));
			wl_list_init(wl_resource_get_link(resource));
		});
	}

	static void unlink(wl_resource *resource)
	{
		wl_list_remove(wl_resource_get_link(resource));
		wl_list_init(wl_resource_get_link(resource));
	}

private:
	wl_list list_;
};

/*
 * Binds a heap object to its resource: the object is deleted when the
 * resource is destroyed, by the client's destroy request, by the server
 * or at client disconnect.
 */
template<typename T>
void bindToResource(wl_resource *resource, const void *implementation, T *object)
{
	wl_resource_set_implementation(resource, implementation, object,
				       [](wl_resource *r) {
					       delete static_cast<T *>(wl_resource_get_user_data(r));
				       });
}

/*
 * The object a request on parent makes with new_id id: same client, same
 * version. Null after posting no_memory.
 */
inline wl_resource *createResource(wl_resource *parent, const wl_interface *interface,
				   uint32_t id)
{
	wl_client *client = wl_resource_get_client(parent);
	wl_resource *resource =
		wl_resource_create(client, interface, wl_resource_get_version(parent), id);
	if (!resource)
		wl_client_post_no_memory(client);
	return resource;
}

template<typename T>
T *fromResource(wl_resource *resource)
{
	return static_cast<T *>(wl_resource_get_user_data(resource));
}

/* A wl_array for an event argument, released when it goes. */
class WlArray
{
public:
	WlArray() { wl_array_init(&array_); }
	~WlArray() { wl_array_release(&array_); }
	WlArray(const WlArray &) = delete;
	WlArray &operator=(const WlArray &) = delete;

	/* Appends value's bytes; false when out of memory. */
	template<typename T>
	bool append(const T &value)
	{
		void *slot = wl_array_add(&array_, sizeof(T));
		if (!slot)
			return false;
		memcpy(slot, &value, sizeof(T));
		return true;
	}

	wl_array *get() { return &array_; }

private:
	wl_array array_;
};

/* The implementation of every "destroy" request. */
inline void destroyResource(wl_client *, wl_resource *resource)
{
	wl_resource_destroy(resource);
}

} /* namespace comp */
