/* The client-side cursor: the shape from the session's SpiceCursorChannel
 * for the scanout's display becomes the GdkCursor of the widget's window.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "display-private.h"

#include <string.h>

struct SsbCursor {
    SsbDisplay *display;          /* borrowed: owns us */
    SpiceSession *session;        /* borrowed */
    SpiceCursorChannel *channel;  /* owned ref: the one for display_id */
    int display_id;
    GdkCursor *shape;             /* owned; NULL = default arrow */
    gboolean hidden;
    gulong channel_new_id;
};

GdkPixbuf *
ssb_cursor_pixbuf_from_rgba(int width, int height, const guint8 *rgba)
{
    GdkPixbuf *pixbuf;

    g_return_val_if_fail(width > 0 && height > 0 && rgba != NULL, NULL);
    pixbuf = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, width, height);
    if (pixbuf == NULL)
        return NULL;
    for (int y = 0; y < height; y++)
        memcpy(gdk_pixbuf_get_pixels(pixbuf) + (gsize)y * gdk_pixbuf_get_rowstride(pixbuf),
               rgba + (gsize)y * width * 4, (gsize)width * 4);
    return pixbuf;
}

GdkCursor *
ssb_cursor_new_from_shape(GdkDisplay *gdk_display, int width, int height, int hot_x, int hot_y,
                          const guint8 *rgba)
{
    g_autoptr(GdkPixbuf) pixbuf = ssb_cursor_pixbuf_from_rgba(width, height, rgba);

    if (pixbuf == NULL)
        return NULL;
    return gdk_cursor_new_from_pixbuf(gdk_display, pixbuf, CLAMP(hot_x, 0, width - 1),
                                      CLAMP(hot_y, 0, height - 1));
}

void
ssb_cursor_apply(SsbCursor *cursor)
{
    GdkWindow *window = gtk_widget_get_window(GTK_WIDGET(cursor->display));
    g_autoptr(GdkCursor) blank = NULL;

    if (window == NULL)
        return;
    if (cursor->hidden) {
        blank = gdk_cursor_new_for_display(gdk_window_get_display(window), GDK_BLANK_CURSOR);
        gdk_window_set_cursor(window, blank);
    } else {
        gdk_window_set_cursor(window, cursor->shape);
    }
}

static void
on_cursor_set(SpiceCursorChannel *channel, int width, int height, int hot_x, int hot_y,
              gpointer rgba, SsbCursor *cursor)
{
    GdkDisplay *gdk_display = gtk_widget_get_display(GTK_WIDGET(cursor->display));

    g_clear_object(&cursor->shape);
    if (rgba != NULL && width > 0 && height > 0)
        cursor->shape = ssb_cursor_new_from_shape(gdk_display, width, height, hot_x, hot_y,
                                                  rgba);
    cursor->hidden = FALSE;
    ssb_cursor_apply(cursor);
}

static void
on_cursor_hide(SpiceCursorChannel *channel, SsbCursor *cursor)
{
    cursor->hidden = TRUE;
    ssb_cursor_apply(cursor);
}

static void
on_cursor_reset(SpiceCursorChannel *channel, SsbCursor *cursor)
{
    g_clear_object(&cursor->shape);
    cursor->hidden = FALSE;
    ssb_cursor_apply(cursor);
}

/* In client mouse mode the host pointer is the cursor: moves from the guest
 * matter only in server mode, where the guest pointer is drawn by the
 * guest's own position and the host pointer is hidden over the widget. */
static void
on_cursor_move(SpiceCursorChannel *channel, int x, int y, SsbCursor *cursor)
{
}

static void
watch(SsbCursor *cursor, SpiceChannel *channel)
{
    int id = -1;

    if (!SPICE_IS_CURSOR_CHANNEL(channel) || cursor->channel != NULL || cursor->display_id < 0)
        return;
    g_object_get(channel, "channel-id", &id, NULL);
    if (id != cursor->display_id)
        return;
    cursor->channel = g_object_ref(SPICE_CURSOR_CHANNEL(channel));
    g_signal_connect(channel, "cursor-set", G_CALLBACK(on_cursor_set), cursor);
    g_signal_connect(channel, "cursor-hide", G_CALLBACK(on_cursor_hide), cursor);
    g_signal_connect(channel, "cursor-reset", G_CALLBACK(on_cursor_reset), cursor);
    g_signal_connect(channel, "cursor-move", G_CALLBACK(on_cursor_move), cursor);
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, SsbCursor *cursor)
{
    watch(cursor, channel);
}

static void
unwatch(SsbCursor *cursor)
{
    if (cursor->channel == NULL)
        return;
    g_signal_handlers_disconnect_by_data(cursor->channel, cursor);
    g_clear_object(&cursor->channel);
}

void
ssb_cursor_set_display_id(SsbCursor *cursor, int display_channel_id)
{
    GList *channels;

    if (cursor->display_id == display_channel_id)
        return;
    unwatch(cursor);
    cursor->display_id = display_channel_id;
    channels = spice_session_get_channels(cursor->session);
    for (GList *l = channels; l != NULL; l = l->next)
        watch(cursor, l->data);
    g_list_free(channels);
}

SsbCursor *
ssb_cursor_new(SsbDisplay *display, SpiceSession *session)
{
    SsbCursor *cursor = g_new0(SsbCursor, 1);

    cursor->display = display;
    cursor->session = session;
    cursor->display_id = -1;
    cursor->channel_new_id = g_signal_connect(session, "channel-new",
                                              G_CALLBACK(on_channel_new), cursor);
    return cursor;
}

void
ssb_cursor_free(SsbCursor *cursor)
{
    if (cursor == NULL)
        return;
    unwatch(cursor);
    g_signal_handler_disconnect(cursor->session, cursor->channel_new_id);
    g_clear_object(&cursor->shape);
    g_free(cursor);
}
