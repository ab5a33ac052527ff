/* SsbDisplay internals shared by its parts: display.c (object, frames,
 * geometry), display-gl.c and display-cairo.c (renderers),
 * display-input.c (keyboard/pointer), cursor.c, stats.c, keymap.c.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_DISPLAY_PRIVATE_H
#define SSB_DISPLAY_PRIVATE_H

#include <spice-client-gtk.h>
#include <spice-sideband/display.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------ renderers */

typedef struct SsbRenderer SsbRenderer;

/* A renderer owns the drawing child of the widget.  show_frame() takes
 * ownership of @frame and must drop it soon (it keeps a server buffer). */
struct SsbRenderer {
    const char *name;          /* "gl" / "cairo" */
    GtkWidget *widget;         /* the drawing child (owned by the container) */
    void (*show_frame)(SsbRenderer *renderer, SsbFrame *frame);
    void (*destroy)(SsbRenderer *renderer);
};

/* NULL when GL cannot be used at all (the widget then uses cairo). */
SsbRenderer *ssb_renderer_gl_new(SsbDisplay *display);
SsbRenderer *ssb_renderer_cairo_new(SsbDisplay *display);

/* Called by the GL renderer when context creation failed at realize time:
 * the display swaps to cairo from an idle. */
void ssb_display_renderer_failed(SsbDisplay *display);

/* Where the picture of @img_w x @img_h lands in a @area_w x @area_h area:
 * the largest aspect-preserving rectangle, centred (letterbox). */
typedef struct {
    int x, y, width, height;
} SsbViewport;

void ssb_viewport_compute(int area_w, int area_h, int img_w, int img_h, SsbViewport *vp);

/* Size of the current picture (0x0 before the first frame). */
void ssb_display_get_image_size(SsbDisplay *display, int *width, int *height);

/* ------------------------------------------------------------------ input */

typedef struct SsbInput SsbInput;

SsbInput *ssb_input_new(SsbDisplay *display, SpiceSession *session);
void ssb_input_free(SsbInput *input);
void ssb_input_set_display_id(SsbInput *input, int display_channel_id);
gboolean ssb_input_get_grabbed(SsbInput *input);
void ssb_input_ungrab(SsbInput *input);

/* Called by SsbDisplay when "keyboard-grabbed" changes. */
void ssb_display_notify_grab(SsbDisplay *display);

/* ----------------------------------------------------------------- keymap */

/* Evdev key code (X11/Wayland hardware keycode - 8) to PC AT set-1 scancode;
 * extended keys as 0xe0XX.  0 for keys without one. */
guint ssb_keymap_evdev_to_xt(guint evdev);

/* The scancode in the form spice_inputs_channel_key_press() takes
 * (0x100 | XX for 0xe0XX). */
guint ssb_keymap_xt_to_spice(guint xt);

/* ----------------------------------------------------------------- cursor */

typedef struct SsbCursor SsbCursor;

SsbCursor *ssb_cursor_new(SsbDisplay *display, SpiceSession *session);
void ssb_cursor_free(SsbCursor *cursor);
void ssb_cursor_set_display_id(SsbCursor *cursor, int display_channel_id);
/* Re-applies the current cursor to the widget's window (after realize). */
void ssb_cursor_apply(SsbCursor *cursor);

/* A pixbuf holding a copy of @rgba (@width x @height, R,G,B,A bytes, not
 * premultiplied, as SpiceCursorChannel::cursor-set hands it). */
GdkPixbuf *ssb_cursor_pixbuf_from_rgba(int width, int height, const guint8 *rgba);
/* The GdkCursor for a cursor shape; hotspot clamped into the image. */
GdkCursor *ssb_cursor_new_from_shape(GdkDisplay *gdk_display, int width, int height, int hot_x,
                                     int hot_y, const guint8 *rgba);

/* ------------------------------------------------------------------ stats */

typedef struct SsbStats SsbStats;

SsbStats *ssb_stats_new(SsbDisplay *display);
void ssb_stats_free(SsbStats *stats);
GtkWidget *ssb_stats_get_widget(SsbStats *stats);
void ssb_stats_set_visible(SsbStats *stats, gboolean visible);
/* Accounts one frame (borrowed) that took @path ("shm", "dmabuf", a codec)
 * decoded by @decoder (NULL for local frames). */
void ssb_stats_frame(SsbStats *stats, const SsbFrame *frame, const char *path,
                     const char *decoder);

G_END_DECLS

#endif /* SSB_DISPLAY_PRIVATE_H */
