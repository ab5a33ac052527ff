/* spice-sideband-demo: a demo VMM.
 *
 * A real libspice-server process: every scanout is a QXL instance (stock
 * display channel, id = scanout index) and, unless --no-sideband, a
 * sideband scanout; input arrives through the stock inputs channel and the
 * built-in agent (see inputs.h).  Everything but spice-server's display
 * workers runs on the GLib main loop.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <inttypes.h>
#include <signal.h>
#include <spice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DEMO_HAVE_SIDEBAND
#include <spice-sideband/server.h>

#include "buffers.h"
#endif

#include "display.h"
#include "event-log.h"
#include "glib-spice-core.h"
#include "inputs.h"
#include "listener.h"
#include "options.h"
#include "scanout.h"

#define PROG "spice-sideband-demo"

struct demo {
    struct demo_options opts;
    GMainLoop *loop;
    SpiceServer *spice;
    SpiceCoreInterface *core;
    struct demo_listener *listeners[DEMO_MAX_LISTEN];
    struct demo_display *displays[DEMO_MAX_SCANOUTS];
    struct demo_scanout *scanouts[DEMO_MAX_SCANOUTS];
    struct demo_inputs *inputs;
    struct demo_event_log *event_log;
#ifdef DEMO_HAVE_SIDEBAND
    struct ssb_server *sideband;
    struct demo_buffers *buffers[DEMO_MAX_SCANOUTS];   /* --buffer dmabuf */
#endif
    int focus;                 /* display that last had the pointer, -1 none */
    uint64_t frames;           /* frames rendered */
    int64_t next_frame_us;
    guint frame_source;
    bool paused;               /* SIGUSR1 toggles: nothing is drawn while paused */
    guint signal_sources[4];
    int exit_status;
};

/* ---- input --------------------------------------------------------------- */

static void
on_input(const struct demo_event *event, void *user_data)
{
    struct demo *demo = user_data;
    struct demo_event ev = *event;

    if (ev.type == DEMO_EVENT_KEY) {
        /* SPICE key events carry no display: keys go where the pointer is. */
        ev.display = demo->focus;
        if (ev.down) {
            uint32_t target = demo->focus >= 0 ? (uint32_t)demo->focus : 0;
            demo_overlay_add_key(demo_scanout_overlay(demo->scanouts[target]), ev.scancode);
        }
    } else if (ev.display >= 0 && (uint32_t)ev.display < demo->opts.scanouts) {
        demo->focus = ev.display;
        for (uint32_t i = 0; i < demo->opts.scanouts; i++)
            demo_overlay_set_pointer(demo_scanout_overlay(demo->scanouts[i]),
                                     i == (uint32_t)ev.display, ev.x, ev.y);
    }
    demo_event_log_write(demo->event_log, &ev);
}

/* ---- frames -------------------------------------------------------------- */

#ifdef DEMO_HAVE_SIDEBAND
static void
submit_sideband(struct demo *demo, uint32_t i, const uint8_t *pixels, uint32_t stride,
                const struct ssb_rect *damage, uint32_t n, uint64_t t_us)
{
    struct ssb_server_buffer buffer = {
        .kind = SSB_SERVER_BUFFER_PIXELS,
        .width = demo->opts.width,
        .height = demo->opts.height,
        .fourcc = SSB_FORMAT_XRGB8888,
        .modifier = SSB_MODIFIER_LINEAR,
        .data = pixels,
        .stride = stride,
    };
    int rc = -EBUSY;

    if (demo->buffers[i])
        rc = demo_buffers_submit(demo->buffers[i], demo->sideband, i, pixels, stride, damage,
                                 n, t_us);
    /* Every lent buffer still read: the server copies this frame instead. */
    if (rc == -EBUSY)
        rc = ssb_server_scanout_submit(demo->sideband, i, &buffer, damage, n, t_us, NULL, NULL);
    if (rc < 0)
        g_warning("sideband submit on scanout %u: %s", i, g_strerror(-rc));
}
#endif

static void
render_frame(struct demo *demo)
{
    uint64_t t_us = (uint64_t)g_get_monotonic_time();
    uint32_t seq = (uint32_t)demo->frames;

    for (uint32_t i = 0; i < demo->opts.scanouts; i++) {
        struct ssb_rect damage[DEMO_SCANOUT_MAX_DAMAGE];
        uint32_t n = demo_scanout_render(demo->scanouts[i], seq, t_us, damage), stride;
        const uint8_t *pixels = demo_scanout_pixels(demo->scanouts[i], &stride);

        /* The frame is complete: its stamp says so, then both consumers
         * get it (the sideband first; its submit returns at once, while the
         * QXL commands copy the damage). */
        t_us = (uint64_t)g_get_monotonic_time();
        demo_scanout_restamp(demo->scanouts[i], seq, t_us);
#ifdef DEMO_HAVE_SIDEBAND
        if (demo->sideband) {
            /* --tag-sideband: only the sideband's copy carries the tag. */
            if (demo->opts.tag_sideband)
                demo_scanout_set_tag(demo->scanouts[i], true);
            submit_sideband(demo, i, pixels, stride, damage, n, t_us);
            if (demo->opts.tag_sideband)
                demo_scanout_set_tag(demo->scanouts[i], false);
        }
#endif
        demo_display_draw(demo->displays[i], pixels, stride, damage, n);
    }
    demo->frames++;
}

static gboolean on_frame(gpointer user_data);

static void
schedule_frame(struct demo *demo)
{
    int64_t now = g_get_monotonic_time();
    int64_t period = G_USEC_PER_SEC / demo->opts.fps;

    demo->next_frame_us += period;
    if (demo->next_frame_us < now - period)   /* fell behind: do not burst */
        demo->next_frame_us = now;
    int64_t delay_ms = (demo->next_frame_us - now + 999) / 1000;
    demo->frame_source = g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)MAX(delay_ms, 0), on_frame,
                                            demo, NULL);
}

static gboolean
on_frame(gpointer user_data)
{
    struct demo *demo = user_data;

    demo->frame_source = 0;
    render_frame(demo);
    if (demo->opts.frames && demo->frames >= demo->opts.frames) {
        g_main_loop_quit(demo->loop);
        return G_SOURCE_REMOVE;
    }
    schedule_frame(demo);
    return G_SOURCE_REMOVE;
}

/* SIGUSR1: stop drawing (the scanouts keep their last frame, as an idle
 * guest's do) or start again with the next frame. */
static gboolean
on_pause_signal(gpointer user_data)
{
    struct demo *demo = user_data;

    demo->paused = !demo->paused;
    g_printerr(PROG ": %s\n", demo->paused ? "paused" : "resumed");
    if (demo->paused) {
        if (demo->frame_source)
            g_source_remove(demo->frame_source);
        demo->frame_source = 0;
    } else if (!demo->frame_source) {
        demo->next_frame_us = g_get_monotonic_time();
        demo->frame_source = g_idle_add(on_frame, demo);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
on_signal(gpointer user_data)
{
    struct demo *demo = user_data;

    g_main_loop_quit(demo->loop);
    return G_SOURCE_CONTINUE;
}

static void
on_channel_event(int event, SpiceChannelEventInfo *info, gpointer user_data)
{
    struct demo *demo = user_data;

#ifdef DEMO_HAVE_SIDEBAND
    if (demo->sideband)
        ssb_server_channel_event(demo->sideband, event, info);
#endif
    if (event == SPICE_CHANNEL_EVENT_INITIALIZED && info->type == SPICE_CHANNEL_MAIN)
        g_printerr(PROG ": client connected (%s)\n",
                   info->paddr_ext.ss_family == AF_UNIX ? "unix" : "tcp");
    else if (event == SPICE_CHANNEL_EVENT_DISCONNECTED && info->type == SPICE_CHANNEL_MAIN)
        g_printerr(PROG ": client disconnected\n");
    (void)demo;
}

/* ---- setup --------------------------------------------------------------- */

static bool
open_listeners(struct demo *demo)
{
    for (uint32_t i = 0; i < demo->opts.n_listen; i++) {
        char *error = NULL;

        demo->listeners[i] = demo_listener_open(&demo->opts.listen[i], &error);
        if (!demo->listeners[i]) {
            g_printerr(PROG ": %s\n", error);
            g_free(error);
            return false;
        }
    }
    return true;
}

static bool
start_spice(struct demo *demo)
{
    demo->spice = spice_server_new();
    spice_server_set_name(demo->spice, PROG);
    if (demo->opts.password)
        spice_server_set_ticket(demo->spice, demo->opts.password, 0, 0, 0);
    else
        spice_server_set_noauth(demo->spice);
    spice_server_set_agent_mouse(demo->spice, 1);
    spice_server_set_streaming_video(demo->spice, demo->opts.streaming_video);
    if (demo->opts.video_codecs &&
        spice_server_set_video_codecs(demo->spice, demo->opts.video_codecs) != 0) {
        g_printerr(PROG ": --video-codecs '%s': spice-server accepted none of them\n",
                   demo->opts.video_codecs);
        return false;
    }
    /* No port or path: the demo's listeners hand connections over. */
    if (spice_server_init(demo->spice, demo->core) != 0) {
        g_printerr(PROG ": spice_server_init failed\n");
        return false;
    }
    return true;
}

static bool
create_devices(struct demo *demo)
{
    const struct demo_options *o = &demo->opts;
    bool ok;

    for (uint32_t i = 0; i < o->scanouts; i++) {
        demo->scanouts[i] = demo_scanout_new(i, o->width, o->height, o->damage_pct);
        if (!demo->scanouts[i]) {
            g_printerr(PROG ": cannot create scanout %u (%ux%u)\n", i, o->width, o->height);
            return false;
        }
        demo->displays[i] = demo_display_create(demo->spice, i, o->width, o->height);
        if (!demo->displays[i])
            return false;
    }
    demo->inputs = demo_inputs_create(demo->spice, o->scanouts, o->agent, on_input, demo, &ok);
    if (!ok) {
        g_printerr(PROG ": spice-server refused the input devices\n");
        return false;
    }
    if (!o->agent && o->scanouts > 1)
        g_printerr(PROG ": warning: without the agent, spice-server 0.15.1 allows absolute "
                   "(client) mouse mode only with one scanout\n");
    return true;
}

static bool
start_sideband(struct demo *demo)
{
    const struct demo_options *o = &demo->opts;

    if (!o->sideband)
        return true;
#ifdef DEMO_HAVE_SIDEBAND
    struct ssb_server_options sopts;

    ssb_server_options_init(&sopts);
    sopts.encoder = o->encoder;
    sopts.codecs = o->codecs;
    demo->sideband = ssb_server_create(demo->spice, demo->core, &sopts);
    if (!demo->sideband) {
        g_printerr(PROG ": cannot start the sideband server: %s\n", g_strerror(errno));
        return false;
    }
    for (uint32_t i = 0; i < o->scanouts; i++) {
        int rc = ssb_server_scanout_enable(demo->sideband, i, i, o->width, o->height,
                                           SSB_FORMAT_XRGB8888);
        if (rc < 0) {
            g_printerr(PROG ": cannot enable sideband scanout %u: %s\n", i, g_strerror(-rc));
            return false;
        }
        if (o->dmabuf && !(demo->buffers[i] = demo_buffers_new(o->width, o->height))) {
            g_printerr(PROG ": cannot make buffers for scanout %u: %s\n", i, g_strerror(errno));
            return false;
        }
    }
#else
    if (o->encoder || o->codecs || o->dmabuf)
        g_printerr(PROG ": warning: built without the sideband server; --encoder, "
                   "--codecs and --buffer are ignored\n");
    else
        g_printerr(PROG ": warning: built without the sideband server\n");
#endif
    return true;
}

#ifdef DEMO_HAVE_SIDEBAND
/* Removes the sideband port and its local socket: its clients see the
 * sideband go away while the display channels go on. */
static void
stop_sideband(struct demo *demo)
{
    g_clear_pointer(&demo->sideband, ssb_server_destroy);
    for (uint32_t i = 0; i < DEMO_MAX_SCANOUTS; i++)
        g_clear_pointer(&demo->buffers[i], demo_buffers_free);
}
#endif

/* SIGUSR2: stops the sideband, or starts it again. */
static gboolean
on_sideband_signal(gpointer user_data)
{
    struct demo *demo = user_data;

    if (!demo->opts.sideband) {
        g_printerr(PROG ": SIGUSR2 ignored: --no-sideband\n");
        return G_SOURCE_CONTINUE;
    }
#ifdef DEMO_HAVE_SIDEBAND
    if (demo->sideband) {
        stop_sideband(demo);
        g_printerr(PROG ": sideband stopped\n");
    } else if (start_sideband(demo)) {
        g_printerr(PROG ": sideband started\n");
    } else {
        stop_sideband(demo);
    }
#endif
    return G_SOURCE_CONTINUE;
}

static void
announce(struct demo *demo)
{
    for (uint32_t i = 0; i < demo->opts.n_listen; i++) {
        demo_listener_start(demo->listeners[i], demo->spice);
        printf(PROG ": listening on %s\n", demo_listener_uri(demo->listeners[i]));
    }
    fflush(stdout);
}

static void
print_stats(struct demo *demo)
{
    for (uint32_t i = 0; i < demo->opts.scanouts; i++) {
        struct demo_display_stats st;

        if (!demo->displays[i])
            continue;
        demo_display_get_stats(demo->displays[i], &st);
        g_printerr(PROG ": scanout %u: %" PRIu64 " frames, %" PRIu64 " QXL draws (%" PRIu64
                   " released), %" PRIu64 " frames backlogged, %" PRIu64 " bytes held\n",
                   i, demo->frames, st.commands, st.released, st.backlogged, st.bytes_held);
    }
#ifdef DEMO_HAVE_SIDEBAND
    if (demo->sideband) {
        struct ssb_server_stats st;

        ssb_server_get_stats(demo->sideband, &st);
        g_printerr(PROG ": sideband: %" PRIu64 " submitted, %" PRIu64 " sent, %" PRIu64
                   " skipped, %u clients\n",
                   st.frames_submitted, st.frames_sent, st.frames_skipped, st.clients);
    }
#endif
}

static void
shutdown_demo(struct demo *demo)
{
    if (demo->frame_source)
        g_source_remove(demo->frame_source);
    for (unsigned i = 0; i < G_N_ELEMENTS(demo->signal_sources); i++) {
        if (demo->signal_sources[i])
            g_source_remove(demo->signal_sources[i]);
    }
    for (uint32_t i = 0; i < DEMO_MAX_LISTEN; i++)
        g_clear_pointer(&demo->listeners[i], demo_listener_close);
    print_stats(demo);
#ifdef DEMO_HAVE_SIDEBAND
    stop_sideband(demo);
#endif
    ssb_glib_core_set_channel_event_func(NULL, NULL);
    if (demo->spice) {
        spice_server_vm_stop(demo->spice);
        /* Joins the display workers: nothing calls into the devices after. */
        spice_server_destroy(demo->spice);
        demo->spice = NULL;
    }
    for (uint32_t i = 0; i < DEMO_MAX_SCANOUTS; i++) {
        g_clear_pointer(&demo->displays[i], demo_display_destroy);
        g_clear_pointer(&demo->scanouts[i], demo_scanout_free);
    }
    g_clear_pointer(&demo->inputs, demo_inputs_destroy);
    g_clear_pointer(&demo->event_log, demo_event_log_close);
    g_clear_pointer(&demo->loop, g_main_loop_unref);
    demo_options_clear(&demo->opts);
}

static bool
setup(struct demo *demo)
{
    if (demo->opts.event_log) {
        demo->event_log = demo_event_log_open(demo->opts.event_log);
        if (!demo->event_log) {
            g_printerr(PROG ": --event-log %s: %s\n", demo->opts.event_log, g_strerror(errno));
            return false;
        }
    }
    /* Sockets first: a port in use is reported before anything starts. */
    if (!open_listeners(demo))
        return false;
    demo->core = ssb_glib_core_get(NULL);
    ssb_glib_core_set_channel_event_func(on_channel_event, demo);
    if (!start_spice(demo) || !create_devices(demo) || !start_sideband(demo))
        return false;
    spice_server_vm_start(demo->spice);
    return true;
}

int
main(int argc, char **argv)
{
    struct demo demo = { .focus = -1 };
    int rc = demo_options_parse(&demo.opts, argc, argv);

    if (rc >= 0) {
        demo_options_clear(&demo.opts);
        return rc;
    }
    signal(SIGPIPE, SIG_IGN);
    demo.loop = g_main_loop_new(NULL, FALSE);
    demo.signal_sources[0] = g_unix_signal_add(SIGINT, on_signal, &demo);
    demo.signal_sources[1] = g_unix_signal_add(SIGTERM, on_signal, &demo);
    demo.signal_sources[2] = g_unix_signal_add(SIGUSR1, on_pause_signal, &demo);
    demo.signal_sources[3] = g_unix_signal_add(SIGUSR2, on_sideband_signal, &demo);

    if (!setup(&demo)) {
        shutdown_demo(&demo);
        return EXIT_FAILURE;
    }
    announce(&demo);
    demo.next_frame_us = g_get_monotonic_time();
    render_frame(&demo);
    if (!demo.opts.frames || demo.frames < demo.opts.frames) {
        schedule_frame(&demo);
        g_main_loop_run(demo.loop);
    }
    shutdown_demo(&demo);
    return demo.exit_status;
}
