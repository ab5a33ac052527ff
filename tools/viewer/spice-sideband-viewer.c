/* spice-sideband-viewer: a remote-viewer-like client that shows each
 * sideband scanout in an SsbDisplay and any display channel that no
 * scanout mirrors with the stock SpiceDisplay.
 *
 * Usage: spice-sideband-viewer [OPTION]... URI
 * URI: spice://HOST[:PORT] or spice+unix:///PATH.
 * Exit status: 0 done (windows closed, --screenshot written, server gone),
 * 1 bad usage or no display, 2 bad URI, 3 server unreachable, 4 password
 * refused, 6 sideband or session failure, 7 timed out before any picture.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <spice-client-gtk.h>
#include <spice-sideband/display.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "uri.h"

#define PROG "spice-sideband-viewer"
#define STOCK_GRACE_MS 500

enum {
    EXIT_USAGE = 1,
    EXIT_BAD_URI = 2,
    EXIT_UNREACHABLE = 3,
    EXIT_AUTH = 4,
    EXIT_FAILED = 6,
    EXIT_TIMEOUT = 7,
};

typedef struct {
    /* options */
    char *password;
    char *codec;
    char *screenshot_dir;
    int frames;
    int timeout_s;
    gboolean force_remote;
    gboolean full_screen;
    gboolean stats;
    gboolean tabs;
    gboolean no_gl;
    /* state */
    SpiceSession *session;
    SsbClient *client;
    GMainLoop *loop;
    gboolean resolved;            /* the sideband is ready or known absent */
    gboolean stock_ok;            /* stock displays may be shown now */
    gboolean no_frames;           /* the sideband carries no frames: all stock */
    gboolean quitting;            /* tearing down: channel events are ours */
    guint stock_timer;
    gboolean connected;           /* the main channel opened */
    GHashTable *displays;         /* display channel id -> SpiceChannel (borrowed) */
    GHashTable *views;            /* "s<id>" / "d<id>" -> GtkWidget display (borrowed) */
    GtkWidget *tab_window;
    GtkWidget *notebook;
    GHashTable *saved;            /* keys of views already saved */
    guint poll_id;
    int exit_code;
} Viewer;

static void
viewer_quit(Viewer *viewer, int code, const char *message)
{
    if (message != NULL)
        g_printerr(PROG ": %s\n", message);
    if (viewer->exit_code < 0)
        viewer->exit_code = code;
    g_main_loop_quit(viewer->loop);
}

static void
on_window_destroy(GtkWidget *window, Viewer *viewer)
{
    /* a window the user closed ends the viewer, as remote-viewer's last one */
    if (viewer->exit_code < 0)
        viewer_quit(viewer, 0, NULL);
}

static void
view_title(Viewer *viewer, GtkWidget *view, const char *base)
{
    GtkWidget *top = gtk_widget_get_toplevel(view);
    gboolean grabbed = FALSE;
    g_autofree char *title = NULL;

    if (viewer->tabs || !GTK_IS_WINDOW(top))
        return;
    if (SSB_IS_DISPLAY(view))
        g_object_get(view, "keyboard-grabbed", &grabbed, NULL);
    title = grabbed ? g_strdup_printf("%s (Press Ctrl+Alt to release)", base) : g_strdup(base);
    gtk_window_set_title(GTK_WINDOW(top), title);
}

static void
on_grab_changed(SsbDisplay *display, GParamSpec *pspec, Viewer *viewer)
{
    g_autofree char *base =
        g_strdup_printf(PROG " %u", ssb_display_get_scanout_id(display));
    view_title(viewer, GTK_WIDGET(display), base);
}

static void
on_scanout_resized(SsbDisplay *display, guint width, guint height, Viewer *viewer)
{
    GtkWidget *top = gtk_widget_get_toplevel(GTK_WIDGET(display));

    /* follow the guest's size like remote-viewer, unless full screen */
    if (!viewer->tabs && !viewer->full_screen && GTK_IS_WINDOW(top))
        gtk_window_resize(GTK_WINDOW(top), (int)width, (int)height);
}

/* Puts @view in its own window (title @title) or a tab (@tab_label). */
static void
present(Viewer *viewer, GtkWidget *view, const char *title, const char *tab_label)
{
    if (viewer->tabs) {
        if (viewer->tab_window == NULL) {
            viewer->tab_window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
            gtk_window_set_title(GTK_WINDOW(viewer->tab_window), PROG);
            viewer->notebook = gtk_notebook_new();
            gtk_container_add(GTK_CONTAINER(viewer->tab_window), viewer->notebook);
            g_signal_connect(viewer->tab_window, "destroy", G_CALLBACK(on_window_destroy),
                             viewer);
            if (viewer->full_screen)
                gtk_window_fullscreen(GTK_WINDOW(viewer->tab_window));
        }
        gtk_notebook_append_page(GTK_NOTEBOOK(viewer->notebook), view,
                                 gtk_label_new(tab_label));
        gtk_widget_show_all(viewer->tab_window);
        return;
    }
    GtkWidget *window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_title(GTK_WINDOW(window), title);
    gtk_container_add(GTK_CONTAINER(window), view);
    g_signal_connect(window, "destroy", G_CALLBACK(on_window_destroy), viewer);
    if (viewer->full_screen)
        gtk_window_fullscreen(GTK_WINDOW(window));
    gtk_widget_show_all(window);
}

static void
remove_view(Viewer *viewer, const char *key)
{
    GtkWidget *view = g_hash_table_lookup(viewer->views, key);

    if (view == NULL)
        return;
    g_hash_table_remove(viewer->views, key);
    if (viewer->tabs) {
        gtk_widget_destroy(view);
    } else {
        GtkWidget *top = gtk_widget_get_toplevel(view);
        g_signal_handlers_disconnect_by_func(top, on_window_destroy, viewer);
        gtk_widget_destroy(top);
    }
}

static gboolean
display_mirrored(Viewer *viewer, guint channel_id)
{
    g_autoptr(GArray) ids = ssb_client_list_scanouts(viewer->client);

    if (viewer->no_frames)
        return FALSE;
    for (guint i = 0; i < ids->len; i++) {
        SsbScanoutInfo info;
        if (ssb_client_get_scanout(viewer->client, g_array_index(ids, guint, i), &info) &&
            info.display_channel_id == channel_id)
            return TRUE;
    }
    return FALSE;
}

/* The stock SpiceDisplay for a display channel no scanout mirrors. */
static void
show_stock(Viewer *viewer, guint channel_id)
{
    g_autofree char *key = g_strdup_printf("d%u", channel_id);
    g_autofree char *title = NULL, *tab = NULL;
    SpiceChannel *channel = g_hash_table_lookup(viewer->displays, GUINT_TO_POINTER(channel_id));
    SpiceDisplay *display;

    if (!viewer->stock_ok || channel == NULL || g_hash_table_contains(viewer->views, key) ||
        display_mirrored(viewer, channel_id))
        return;
    spice_channel_connect(channel);
    display = spice_display_new(viewer->session, (int)channel_id);
    g_object_set(display, "scaling", TRUE, "resize-guest", FALSE, NULL);
    g_hash_table_insert(viewer->views, g_steal_pointer(&key), display);
    title = g_strdup_printf(PROG " display %u", channel_id);
    tab = g_strdup_printf("display %u", channel_id);
    g_print(PROG ": display channel %u: stock display (no sideband scanout)\n", channel_id);
    present(viewer, GTK_WIDGET(display), title, tab);
}

static void
show_scanout(Viewer *viewer, guint scanout_id)
{
    g_autofree char *key = g_strdup_printf("s%u", scanout_id);
    g_autofree char *title = NULL, *tab = NULL, *stock = NULL;
    SsbScanoutInfo info;
    GtkWidget *display;

    if (viewer->no_frames || g_hash_table_contains(viewer->views, key) ||
        !ssb_client_get_scanout(viewer->client, scanout_id, &info))
        return;
    stock = g_strdup_printf("d%u", info.display_channel_id);
    remove_view(viewer, stock);
    display = g_object_new(SSB_TYPE_DISPLAY, "client", viewer->client, "session",
                           viewer->session, "scanout-id", scanout_id, "use-gl", !viewer->no_gl,
                           "show-stats", viewer->stats, NULL);
    g_signal_connect(display, "scanout-resized", G_CALLBACK(on_scanout_resized), viewer);
    g_signal_connect(display, "notify::keyboard-grabbed", G_CALLBACK(on_grab_changed), viewer);
    g_hash_table_insert(viewer->views, g_steal_pointer(&key), display);
    title = g_strdup_printf(PROG " %u", scanout_id);
    tab = g_strdup_printf("scanout %u", scanout_id);
    present(viewer, display, title, tab);
    g_print(PROG ": scanout %u: %ux%u, display channel %u\n", scanout_id, info.width,
            info.height, info.display_channel_id);
}

static void
show_all_stock(Viewer *viewer)
{
    g_autoptr(GList) channel_ids = g_hash_table_get_keys(viewer->displays);

    viewer->stock_ok = TRUE;
    for (GList *l = channel_ids; l != NULL; l = l->next)
        show_stock(viewer, GPOINTER_TO_UINT(l->data));
}

static gboolean
on_stock_timer(gpointer data)
{
    Viewer *viewer = data;

    viewer->stock_timer = 0;
    show_all_stock(viewer);
    return G_SOURCE_REMOVE;
}

/* The sideband is ready or known to be absent: show what there is.  After
 * "ready" the server may still be announcing scanouts (the remote path
 * announces them after the handshake): give it a moment before a display
 * channel counts as not mirrored. */
static void
resolve(Viewer *viewer, gboolean sideband_up)
{
    g_autoptr(GArray) ids = NULL;

    if (!viewer->resolved) {
        viewer->resolved = TRUE;
        ids = ssb_client_list_scanouts(viewer->client);
        for (guint i = 0; i < ids->len; i++)
            show_scanout(viewer, g_array_index(ids, guint, i));
    }
    if (viewer->stock_ok)
        return;
    if (sideband_up) {
        if (viewer->stock_timer == 0)
            viewer->stock_timer = g_timeout_add(STOCK_GRACE_MS, on_stock_timer, viewer);
    } else {
        g_clear_handle_id(&viewer->stock_timer, g_source_remove);
        show_all_stock(viewer);
    }
}

/* ------------------------------------------------------------ screenshots */

static gboolean
save_view(Viewer *viewer, const char *key, GtkWidget *view)
{
    g_autoptr(GdkPixbuf) pixbuf = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL, *path = NULL;

    if (SSB_IS_DISPLAY(view)) {
        SsbDisplay *display = SSB_DISPLAY(view);
        if (ssb_display_get_frame_count(display) < (guint64)viewer->frames)
            return FALSE;
        pixbuf = ssb_display_get_snapshot(display);
        name = g_strdup_printf("scanout-%u.png", ssb_display_get_scanout_id(display));
    } else {
        guint channel_id = (guint)g_ascii_strtoull(key + 1, NULL, 10);
        gboolean ready = FALSE;

        /* "ready": the stock widget has a primary surface and the guest
         * marked it displayable; it also needs its size allocated */
        g_object_get(view, "ready", &ready, NULL);
        if (!ready || !gtk_widget_get_mapped(view) ||
            gtk_widget_get_allocated_width(view) <= 1)
            return FALSE;
        pixbuf = spice_display_get_pixbuf(SPICE_DISPLAY(view));
        name = g_strdup_printf("display-%u.png", channel_id);
    }
    if (pixbuf == NULL)
        return FALSE;
    path = g_build_filename(viewer->screenshot_dir, name, NULL);
    if (!gdk_pixbuf_save(pixbuf, path, "png", &error, NULL)) {
        viewer_quit(viewer, EXIT_FAILED, error->message);
        return FALSE;
    }
    g_print(PROG ": saved %s\n", path);
    return TRUE;
}

static gboolean
poll_views(gpointer data)
{
    Viewer *viewer = data;
    GHashTableIter iter;
    gpointer key, view;
    guint pending = 0;

    g_hash_table_iter_init(&iter, viewer->views);
    while (g_hash_table_iter_next(&iter, &key, &view)) {
        if (SSB_IS_DISPLAY(view)) {
            g_autofree char *rkey = g_strdup_printf("r%s", (const char *)key);
            const char *renderer = ssb_display_get_renderer(view);
            if (!g_hash_table_contains(viewer->saved, rkey) &&
                ssb_display_get_frame_count(view) > 0 && g_strcmp0(renderer, "none") != 0) {
                g_print(PROG ": scanout %u: renderer %s\n", ssb_display_get_scanout_id(view),
                        renderer);
                g_hash_table_add(viewer->saved, g_steal_pointer(&rkey));
            }
        }
        if (viewer->screenshot_dir == NULL || g_hash_table_contains(viewer->saved, key))
            continue;
        if (save_view(viewer, key, view))
            g_hash_table_add(viewer->saved, g_strdup(key));
        else
            pending++;
    }
    if (viewer->screenshot_dir != NULL && viewer->stock_ok && pending == 0 &&
        g_hash_table_size(viewer->views) > 0)
        viewer_quit(viewer, 0, NULL);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout(gpointer data)
{
    Viewer *viewer = data;

    if (g_hash_table_size(viewer->views) == 0)
        viewer_quit(viewer, EXIT_TIMEOUT, "timed out: no display to show");
    else if (viewer->screenshot_dir != NULL)
        viewer_quit(viewer, EXIT_TIMEOUT, "timed out before the screenshots were taken");
    return G_SOURCE_REMOVE;
}

/* --------------------------------------------------------------- session */

static void
on_main_event(SpiceChannel *channel, SpiceChannelEvent event, Viewer *viewer)
{
    const GError *error = spice_channel_get_error(channel);
    g_autofree char *message = NULL;

    if (viewer->quitting)
        return;
    switch (event) {
    case SPICE_CHANNEL_OPENED:
        viewer->connected = TRUE;
        break;
    case SPICE_CHANNEL_ERROR_AUTH:
        message = g_strdup_printf("the server refused the password%s%s",
                                  error ? ": " : "", error ? error->message : "");
        viewer_quit(viewer, EXIT_AUTH, message);
        break;
    case SPICE_CHANNEL_ERROR_CONNECT:
    case SPICE_CHANNEL_ERROR_TLS:
    case SPICE_CHANNEL_ERROR_LINK:
        message = g_strdup_printf("cannot connect to the server%s%s", error ? ": " : "",
                                  error ? error->message : "");
        viewer_quit(viewer, EXIT_UNREACHABLE, message);
        break;
    case SPICE_CHANNEL_ERROR_IO:
    case SPICE_CHANNEL_CLOSED:
        if (viewer->connected)
            viewer_quit(viewer, 0, "the server closed the session");
        else
            viewer_quit(viewer, EXIT_UNREACHABLE, "cannot connect to the server");
        break;
    default:
        break;
    }
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, Viewer *viewer)
{
    int id = 0;

    g_object_get(channel, "channel-id", &id, NULL);
    if (SPICE_IS_MAIN_CHANNEL(channel)) {
        g_signal_connect(channel, "channel-event", G_CALLBACK(on_main_event), viewer);
    } else if (SPICE_IS_INPUTS_CHANNEL(channel) || SPICE_IS_CURSOR_CHANNEL(channel)) {
        spice_channel_connect(channel);
    } else if (SPICE_IS_DISPLAY_CHANNEL(channel)) {
        /* connected only when a stock display needs it */
        g_hash_table_insert(viewer->displays, GUINT_TO_POINTER(id), channel);
        show_stock(viewer, (guint)id);
    }
}

static void
on_channel_destroy(SpiceSession *session, SpiceChannel *channel, Viewer *viewer)
{
    int id = 0;

    g_object_get(channel, "channel-id", &id, NULL);
    if (SPICE_IS_DISPLAY_CHANNEL(channel) &&
        g_hash_table_lookup(viewer->displays, GUINT_TO_POINTER(id)) == channel)
        g_hash_table_remove(viewer->displays, GUINT_TO_POINTER(id));
}

static void
on_ready(SsbClient *client, SsbClientPath path, Viewer *viewer)
{
    /* control only (no frame path in common): the stock displays show all */
    viewer->no_frames = path == SSB_CLIENT_PATH_NONE;
    resolve(viewer, !viewer->no_frames);
}

static void
on_scanout_added(SsbClient *client, guint scanout_id, Viewer *viewer)
{
    if (viewer->resolved)
        show_scanout(viewer, scanout_id);
}

static void
on_scanout_removed(SsbClient *client, guint scanout_id, Viewer *viewer)
{
    g_autofree char *key = g_strdup_printf("s%u", scanout_id);
    GtkWidget *view = g_hash_table_lookup(viewer->views, key);
    SsbScanoutInfo info;
    int channel_id = -1;

    if (view != NULL && ssb_client_get_scanout(client, scanout_id, &info))
        channel_id = (int)info.display_channel_id;
    remove_view(viewer, key);
    if (channel_id >= 0)
        show_stock(viewer, (guint)channel_id);
}

static void
on_client_error(SsbClient *client, GError *error, Viewer *viewer)
{
    if (error->domain == SSB_CLIENT_ERROR) {
        switch (error->code) {
        case SSB_CLIENT_ERROR_CONNECT:
            viewer_quit(viewer, EXIT_UNREACHABLE, error->message);
            return;
        case SSB_CLIENT_ERROR_AUTH:
            viewer_quit(viewer, EXIT_AUTH, error->message);
            return;
        case SSB_CLIENT_ERROR_UNSUPPORTED:
            viewer->no_frames = TRUE;
            /* fall through */
        case SSB_CLIENT_ERROR_NO_SIDEBAND:
            g_print(PROG ": %s: using the stock display channels\n", error->message);
            resolve(viewer, FALSE);
            return;
        default:
            break;
        }
    }
    g_printerr(PROG ": sideband: %s\n", error->message);
}

static void
on_client_closed(SsbClient *client, Viewer *viewer)
{
    resolve(viewer, FALSE);
}

/* ---------------------------------------------------------------- main */

static int
parse_args(Viewer *viewer, int *argc, char ***argv, const char **uri)
{
    GOptionEntry entries[] = {
        { "password", 0, 0, G_OPTION_ARG_STRING, &viewer->password, "SPICE password", "P" },
        { "force-remote", 0, 0, G_OPTION_ARG_NONE, &viewer->force_remote,
          "Do not use the local path (frames as video over the port)", NULL },
        { "codec", 0, 0, G_OPTION_ARG_STRING, &viewer->codec,
          "Preferred video codec for the remote path", "NAME" },
        { "full-screen", 'f', 0, G_OPTION_ARG_NONE, &viewer->full_screen,
          "Open the windows full screen", NULL },
        { "stats", 0, 0, G_OPTION_ARG_NONE, &viewer->stats,
          "Show fps, latency, bitrate and path over the picture", NULL },
        { "tabs", 0, 0, G_OPTION_ARG_NONE, &viewer->tabs,
          "One window with a tab per display instead of one window each", NULL },
        { "no-gl", 0, 0, G_OPTION_ARG_NONE, &viewer->no_gl, "Draw with cairo, not OpenGL",
          NULL },
        { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &viewer->screenshot_dir,
          "Save each display as DIR/scanout-<id>.png (stock: display-<id>.png) and exit",
          "DIR" },
        { "frames", 0, 0, G_OPTION_ARG_INT, &viewer->frames,
          "With --screenshot: after N frames per scanout (default 1)", "N" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &viewer->timeout_s,
          "Give up after S seconds without a display (default 30; with --screenshot, "
          "without the screenshots)", "S" },
        { NULL },
    };
    g_autoptr(GOptionContext) context = g_option_context_new("URI");
    g_autoptr(GError) error = NULL;

    viewer->frames = 1;
    viewer->timeout_s = 30;
    g_option_context_add_main_entries(context, entries, NULL);
    g_option_context_add_group(context, gtk_get_option_group(FALSE));
    g_option_context_set_summary(context, "URI: spice://HOST:PORT or spice+unix:///PATH");
    if (!g_option_context_parse(context, argc, argv, &error)) {
        g_printerr(PROG ": %s\n", error->message);
        return EXIT_USAGE;
    }
    if (*argc != 2 || viewer->frames < 1 || viewer->timeout_s <= 0) {
        g_printerr(PROG ": usage: " PROG " [OPTION]... URI (see --help)\n");
        return EXIT_USAGE;
    }
    *uri = (*argv)[1];
    return 0;
}

static void
setup_session(Viewer *viewer, const SsbUriTarget *target)
{
    viewer->session = spice_session_new();
    if (target->unix_path != NULL) {
        g_object_set(viewer->session, "unix-path", target->unix_path, NULL);
    } else {
        g_autofree char *port = g_strdup_printf("%u", target->port);
        g_object_set(viewer->session, "host", target->host, "port", port, NULL);
    }
    if (viewer->password != NULL)
        g_object_set(viewer->session, "password", viewer->password, NULL);
    g_signal_connect(viewer->session, "channel-new", G_CALLBACK(on_channel_new), viewer);
    g_signal_connect(viewer->session, "channel-destroy", G_CALLBACK(on_channel_destroy),
                     viewer);

    viewer->client = ssb_client_new(viewer->session);
    g_object_set(viewer->client, "force-remote", viewer->force_remote, NULL);
    if (viewer->codec != NULL) {
        if (g_object_class_find_property(G_OBJECT_GET_CLASS(viewer->client), "codec"))
            g_object_set(viewer->client, "codec", viewer->codec, NULL);
        else
            g_printerr(PROG ": --codec %s: this client library cannot choose a codec; "
                       "ignored\n", viewer->codec);
    }
    g_signal_connect(viewer->client, "ready", G_CALLBACK(on_ready), viewer);
    g_signal_connect(viewer->client, "scanout-added", G_CALLBACK(on_scanout_added), viewer);
    g_signal_connect(viewer->client, "scanout-removed", G_CALLBACK(on_scanout_removed), viewer);
    g_signal_connect(viewer->client, "error", G_CALLBACK(on_client_error), viewer);
    g_signal_connect(viewer->client, "closed", G_CALLBACK(on_client_closed), viewer);
}

static void
destroy_views(Viewer *viewer)
{
    g_autoptr(GList) keys = g_hash_table_get_keys(viewer->views);

    for (GList *l = keys; l != NULL; l = l->next) {
        g_autofree char *key = g_strdup(l->data);
        remove_view(viewer, key);
    }
    if (viewer->tab_window != NULL) {
        g_signal_handlers_disconnect_by_func(viewer->tab_window, on_window_destroy, viewer);
        gtk_widget_destroy(viewer->tab_window);
    }
}

static gboolean
quit_loop(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_CONTINUE; /* removed by the caller */
}

/* spice-client-glib frees a channel's surfaces when its coroutine ends,
 * which takes main loop turns after spice_session_disconnect(): wait for
 * "disconnected" (at most 2 s). */
static void
wait_disconnected(Viewer *viewer)
{
    g_autoptr(GList) channels = spice_session_get_channels(viewer->session);
    guint timer;

    if (channels == NULL)
        return;
    g_signal_connect_swapped(viewer->session, "disconnected", G_CALLBACK(g_main_loop_quit),
                             viewer->loop);
    timer = g_timeout_add_seconds(2, quit_loop, viewer->loop);
    spice_session_disconnect(viewer->session);
    g_main_loop_run(viewer->loop);
    g_source_remove(timer);
    g_signal_handlers_disconnect_by_data(viewer->session, viewer->loop);
}

int
main(int argc, char **argv)
{
    Viewer viewer = { .exit_code = -1 };
    SsbUriTarget target = { 0 };
    g_autoptr(GError) error = NULL;
    const char *uri = NULL;
    int code;

    if ((code = parse_args(&viewer, &argc, &argv, &uri)) != 0)
        return code;
    if (!ssb_uri_parse(uri, &target, &error)) {
        g_printerr(PROG ": %s\n", error->message);
        ssb_uri_target_clear(&target);
        return EXIT_BAD_URI;
    }
    if (viewer.screenshot_dir != NULL && g_mkdir_with_parents(viewer.screenshot_dir, 0755) != 0) {
        g_printerr(PROG ": %s: %s\n", viewer.screenshot_dir, g_strerror(errno));
        return EXIT_USAGE;
    }
    if (!gtk_init_check(&argc, &argv)) {
        g_printerr(PROG ": cannot open the display (is DISPLAY or WAYLAND_DISPLAY set?)\n");
        return EXIT_USAGE;
    }
    viewer.loop = g_main_loop_new(NULL, FALSE);
    viewer.displays = g_hash_table_new(NULL, NULL);
    viewer.views = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    viewer.saved = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    setup_session(&viewer, &target);
    ssb_uri_target_clear(&target);

    if (!spice_session_connect(viewer.session)) {
        viewer.exit_code = EXIT_UNREACHABLE;
        g_printerr(PROG ": cannot connect to %s\n", uri);
    } else {
        viewer.poll_id = g_timeout_add(50, poll_views, &viewer);
        guint timeout_id = g_timeout_add_seconds((guint)viewer.timeout_s, on_timeout, &viewer);
        g_main_loop_run(viewer.loop);
        g_source_remove(timeout_id);
        g_source_remove(viewer.poll_id);
        g_clear_handle_id(&viewer.stock_timer, g_source_remove);
    }

    destroy_views(&viewer);
    g_signal_handlers_disconnect_by_data(viewer.client, &viewer);
    g_signal_handlers_disconnect_by_data(viewer.session, &viewer);
    viewer.quitting = TRUE;
    ssb_client_close(viewer.client);
    wait_disconnected(&viewer);
    g_clear_object(&viewer.client);
    g_clear_object(&viewer.session);
    g_hash_table_unref(viewer.displays);
    g_hash_table_unref(viewer.views);
    g_hash_table_unref(viewer.saved);
    g_main_loop_unref(viewer.loop);
    g_free(viewer.password);
    g_free(viewer.codec);
    g_free(viewer.screenshot_dir);
    return viewer.exit_code < 0 ? 0 : viewer.exit_code;
}
