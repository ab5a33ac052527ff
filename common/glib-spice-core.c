/* SpiceCoreInterface on a GLib main context.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "glib-spice-core.h"

struct SpiceTimer {
    GSource *source;
    SpiceTimerFunc func;
    void *opaque;
};

struct SpiceWatch {
    GSource *source;
    gpointer tag;
    int fd;
    SpiceWatchFunc func;
    void *opaque;
};

typedef struct {
    GSource base;
    SpiceWatch *watch;
} WatchSource;

static GMainContext *core_context;
static GThread *core_thread;
static SsbGlibCoreChannelEventFunc channel_event_func;
static gpointer channel_event_data;

static gboolean
timer_dispatch(gpointer data)
{
    SpiceTimer *timer = data;

    /* One-shot: spice-server re-arms timers it wants repeated. */
    g_source_destroy(timer->source);
    g_clear_pointer(&timer->source, g_source_unref);
    timer->func(timer->opaque);
    return G_SOURCE_REMOVE;
}

static SpiceTimer *
core_timer_add(SpiceTimerFunc func, void *opaque)
{
    SpiceTimer *timer = g_new0(SpiceTimer, 1);

    timer->func = func;
    timer->opaque = opaque;
    return timer;
}

static void
core_timer_cancel(SpiceTimer *timer)
{
    if (timer->source) {
        g_source_destroy(timer->source);
        g_clear_pointer(&timer->source, g_source_unref);
    }
}

static void
core_timer_start(SpiceTimer *timer, uint32_t ms)
{
    core_timer_cancel(timer);
    timer->source = g_timeout_source_new(ms);
    g_source_set_callback(timer->source, timer_dispatch, timer, NULL);
    g_source_attach(timer->source, core_context);
}

static void
core_timer_remove(SpiceTimer *timer)
{
    core_timer_cancel(timer);
    g_free(timer);
}

static GIOCondition
spice_to_gio(int mask)
{
    GIOCondition cond = 0;

    if (mask & SPICE_WATCH_EVENT_READ)
        cond |= G_IO_IN | G_IO_HUP | G_IO_ERR;
    if (mask & SPICE_WATCH_EVENT_WRITE)
        cond |= G_IO_OUT | G_IO_ERR;
    return cond;
}

static gboolean
watch_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
    SpiceWatch *watch = ((WatchSource *)source)->watch;
    GIOCondition cond = g_source_query_unix_fd(source, watch->tag);
    int events = 0;

    if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))
        events |= SPICE_WATCH_EVENT_READ;
    if (cond & G_IO_OUT)
        events |= SPICE_WATCH_EVENT_WRITE;
    if (events)
        watch->func(watch->fd, events, watch->opaque);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs watch_source_funcs = {
    .dispatch = watch_source_dispatch,
};

static SpiceWatch *
core_watch_add(int fd, int event_mask, SpiceWatchFunc func, void *opaque)
{
    SpiceWatch *watch = g_new0(SpiceWatch, 1);

    watch->fd = fd;
    watch->func = func;
    watch->opaque = opaque;
    watch->source = g_source_new(&watch_source_funcs, sizeof(WatchSource));
    ((WatchSource *)watch->source)->watch = watch;
    watch->tag = g_source_add_unix_fd(watch->source, fd, spice_to_gio(event_mask));
    g_source_attach(watch->source, core_context);
    return watch;
}

static void
core_watch_update_mask(SpiceWatch *watch, int event_mask)
{
    g_source_modify_unix_fd(watch->source, watch->tag, spice_to_gio(event_mask));
}

static void
core_watch_remove(SpiceWatch *watch)
{
    g_source_destroy(watch->source);
    g_source_unref(watch->source);
    g_free(watch);
}

typedef struct {
    int event;
    SpiceChannelEventInfo info;
} ChannelEvent;

static gboolean
channel_event_idle(gpointer data)
{
    ChannelEvent *ev = data;

    if (channel_event_func)
        channel_event_func(ev->event, &ev->info, channel_event_data);
    g_free(ev);
    return G_SOURCE_REMOVE;
}

static void
core_channel_event(int event, SpiceChannelEventInfo *info)
{
    ChannelEvent *ev;

    if (!channel_event_func)
        return;
    if (g_thread_self() == core_thread) {
        channel_event_func(event, info, channel_event_data);
        return;
    }
    /* Display channels raise events on spice-server's worker thread. */
    ev = g_new(ChannelEvent, 1);
    ev->event = event;
    ev->info = *info;
    g_main_context_invoke(core_context, channel_event_idle, ev);
}

static SpiceCoreInterface core_interface = {
    .base = {
        .type = SPICE_INTERFACE_CORE,
        .description = "spice-sideband GLib core",
        .major_version = SPICE_INTERFACE_CORE_MAJOR,
        .minor_version = SPICE_INTERFACE_CORE_MINOR,
    },
    .timer_add = core_timer_add,
    .timer_start = core_timer_start,
    .timer_cancel = core_timer_cancel,
    .timer_remove = core_timer_remove,
    .watch_add = core_watch_add,
    .watch_update_mask = core_watch_update_mask,
    .watch_remove = core_watch_remove,
    .channel_event = core_channel_event,
};

SpiceCoreInterface *
ssb_glib_core_get(GMainContext *context)
{
    if (!core_thread) {
        core_context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
        core_thread = g_thread_self();
    }
    return &core_interface;
}

void
ssb_glib_core_set_channel_event_func(SsbGlibCoreChannelEventFunc func, gpointer user_data)
{
    channel_event_func = func;
    channel_event_data = user_data;
}
