/* spice-gtk-display-path URI: a SpiceDisplay (display channel 0) of the
 * library in the library path, in a window, on URI.  Checks the patched
 * widget's properties: "sideband-path" becomes "shm" on the local path;
 * setting "sideband" to FALSE brings it back to "none" (the display
 * channel); TRUE again, "shm" again.  Prints each step; exits 0 when all
 * held, 1 otherwise, 77 when the library has no such properties (stock).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <string.h>

#include <gtk/gtk.h>
#include <spice-client-gtk.h>

struct check {
    GMainLoop *loop;
    SpiceSession *session;
    GtkWidget *window;
    SpiceDisplay *display;
    int step;                  /* index into steps[] */
    gint64 step_deadline_us;
    int status;
};

static const struct {
    gboolean sideband;         /* value set at the start of the step */
    const char *want;          /* sideband-path to reach */
} steps[] = {
    { TRUE, "shm" },
    { FALSE, "none" },
    { TRUE, "shm" },
};

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, gpointer user_data)
{
    struct check *c = user_data;
    int id;

    g_object_get(channel, "channel-id", &id, NULL);
    if (SPICE_IS_DISPLAY_CHANNEL(channel) && id == 0 && !c->display) {
        c->display = spice_display_new(session, 0);
        gtk_container_add(GTK_CONTAINER(c->window), GTK_WIDGET(c->display));
        gtk_widget_show_all(c->window);
    }
}

static gboolean
poll_path(gpointer user_data)
{
    struct check *c = user_data;
    g_autofree char *path = NULL;

    if (!c->display)
        return G_SOURCE_CONTINUE;
    if (c->step_deadline_us == 0) {
        g_object_set(c->display, "sideband", steps[c->step].sideband, NULL);
        c->step_deadline_us = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    }
    g_object_get(c->display, "sideband-path", &path, NULL);
    if (g_strcmp0(path, steps[c->step].want) == 0) {
        printf("ok: sideband=%s -> sideband-path %s\n",
               steps[c->step].sideband ? "TRUE" : "FALSE", path);
        c->step_deadline_us = 0;
        if (++c->step == G_N_ELEMENTS(steps)) {
            c->status = 0;
            g_main_loop_quit(c->loop);
            return G_SOURCE_REMOVE;
        }
    } else if (g_get_monotonic_time() > c->step_deadline_us) {
        printf("not ok: sideband=%s: sideband-path stayed %s, want %s\n",
               steps[c->step].sideband ? "TRUE" : "FALSE", path ? path : "(null)",
               steps[c->step].want);
        g_main_loop_quit(c->loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
    struct check c = { .status = 1 };
    GObjectClass *klass;

    gtk_init(&argc, &argv);
    if (argc != 2) {
        fprintf(stderr, "usage: %s URI\n", argv[0]);
        return 2;
    }
    klass = g_type_class_ref(SPICE_TYPE_DISPLAY);
    if (!g_object_class_find_property(klass, "sideband-path")) {
        printf("SKIP: this libspice-client-gtk has no sideband properties\n");
        return 77;
    }
    g_type_class_unref(klass);

    c.loop = g_main_loop_new(NULL, FALSE);
    c.window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_default_size(GTK_WINDOW(c.window), 400, 300);
    c.session = spice_session_new();
    g_object_set(c.session, "uri", argv[1], NULL);
    /* Before connecting: the sideband client starts with the GTK session. */
    spice_gtk_session_get(c.session);
    g_signal_connect(c.session, "channel-new", G_CALLBACK(on_channel_new), &c);
    if (!spice_session_connect(c.session)) {
        printf("not ok: cannot connect to %s\n", argv[1]);
        return 1;
    }
    g_timeout_add(100, poll_path, &c);
    g_main_loop_run(c.loop);

    spice_session_disconnect(c.session);
    gtk_widget_destroy(c.window);
    g_object_unref(c.session);
    g_main_loop_unref(c.loop);
    return c.status;
}
