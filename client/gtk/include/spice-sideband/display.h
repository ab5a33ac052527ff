/* libspice-sideband-gtk: a GTK3 widget showing one sideband scanout.
 *
 * SsbDisplay renders the frames an SsbClient receives for one scanout
 * (shared memory, decoded video, DMA-BUF where the platform can import it),
 * scales them to the widget keeping the aspect ratio, forwards keyboard and
 * pointer input through the session's standard SpiceInputsChannel with the
 * scanout's display channel id, and draws the client-side cursor from the
 * session's SpiceCursorChannel for that display.
 *
 * Threading: GTK main thread (the global default main context) only.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SPICE_SIDEBAND_DISPLAY_H
#define SPICE_SIDEBAND_DISPLAY_H

#include <gtk/gtk.h>
#include <spice-sideband/client.h>

G_BEGIN_DECLS

#if defined(SSB_GTK_COMPILATION) && defined(__GNUC__)
#define SSB_GTK_EXPORT __attribute__((visibility("default"))) extern
#else
#define SSB_GTK_EXPORT extern
#endif

#define SSB_TYPE_DISPLAY (ssb_display_get_type())
SSB_GTK_EXPORT GType ssb_display_get_type(void);
/* Declared first so that the exported visibility sticks. */
G_DECLARE_FINAL_TYPE(SsbDisplay, ssb_display, SSB, DISPLAY, GtkEventBox)

/* Creates a display for scanout @scanout_id of @client; @client and
 * @session (the session @client was created for) are borrowed: the widget
 * keeps references.  The scanout need not be announced yet.
 * Properties:
 *   "client"            SsbClient*     construct-only
 *   "session"           SpiceSession*  construct-only
 *   "scanout-id"        guint          construct-only
 *   "use-gl"            gboolean       construct-only, default TRUE; the
 *                                      environment SSB_DISPLAY_GL=0 forces
 *                                      the cairo renderer as well
 *   "show-stats"        gboolean       overlay with fps, latency, path
 *   "keyboard-grabbed"  gboolean       read-only
 * Signals:
 *   "scanout-resized"   (guint width, guint height)  the picture's size
 *                                      changed (also for the first frame)
 * Keyboard: keys reach the guest while the widget has the focus or holds
 * the keyboard grab; a click grabs the keyboard, Ctrl+Alt releases it. */
SSB_GTK_EXPORT GtkWidget *ssb_display_new(SsbClient *client, SpiceSession *session,
                                          guint scanout_id);

SSB_GTK_EXPORT guint ssb_display_get_scanout_id(SsbDisplay *display);

SSB_GTK_EXPORT void ssb_display_set_show_stats(SsbDisplay *display, gboolean show);
SSB_GTK_EXPORT gboolean ssb_display_get_show_stats(SsbDisplay *display);

/* The renderer in use: "gl" or "cairo" ("none" before the widget is
 * realized).  Static string. */
SSB_GTK_EXPORT const char *ssb_display_get_renderer(SsbDisplay *display);

/* Frames shown since the widget was created. */
SSB_GTK_EXPORT guint64 ssb_display_get_frame_count(SsbDisplay *display);

/* The widget's rendered picture (letterbox included, the stats overlay
 * not) at its current size, read back from the renderer: glReadPixels for
 * GL, a cairo paint otherwise (transfer full).  NULL while the widget is
 * not mapped yet. */
SSB_GTK_EXPORT GdkPixbuf *ssb_display_get_snapshot(SsbDisplay *display);

/* Releases the keyboard grab, if held (as Ctrl+Alt does). */
SSB_GTK_EXPORT void ssb_display_release_keyboard(SsbDisplay *display);

G_END_DECLS

#endif /* SPICE_SIDEBAND_DISPLAY_H */
