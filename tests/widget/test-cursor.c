/* Cursor shapes from SpiceCursorChannel::cursor-set (R,G,B,A bytes) to a
 * pixbuf and a GdkCursor (the latter needs a display: skipped without one).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "display-private.h"

#include <string.h>

/* 3x2: red, green, blue / transparent, half-white, opaque black */
static const guint8 shape[] = {
    0xff, 0, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0, 0xff, 0xff,
    0, 0, 0, 0, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0xff,
};

static void
test_pixbuf(void)
{
    g_autoptr(GdkPixbuf) pixbuf = ssb_cursor_pixbuf_from_rgba(3, 2, shape);
    const guint8 *px;
    int stride;

    g_assert_nonnull(pixbuf);
    g_assert_cmpint(gdk_pixbuf_get_width(pixbuf), ==, 3);
    g_assert_cmpint(gdk_pixbuf_get_height(pixbuf), ==, 2);
    g_assert_true(gdk_pixbuf_get_has_alpha(pixbuf));
    px = gdk_pixbuf_read_pixels(pixbuf);
    stride = gdk_pixbuf_get_rowstride(pixbuf);
    g_assert_cmpmem(px, 12, shape, 12);
    g_assert_cmpmem(px + stride, 12, shape + 12, 12);
}

static void
test_cursor(void)
{
    GdkDisplay *display = gdk_display_get_default();
    g_autoptr(GdkCursor) cursor = NULL;
    g_autoptr(GdkPixbuf) image = NULL;
    const char *hot;

    if (display == NULL) {
        g_test_skip("no display");
        return;
    }
    cursor = ssb_cursor_new_from_shape(display, 3, 2, 1, 7, shape);
    g_assert_nonnull(cursor);
    g_assert_cmpint(gdk_cursor_get_cursor_type(cursor), ==, GDK_CURSOR_IS_PIXMAP);
    image = gdk_cursor_get_image(cursor);
    if (image == NULL) {
        g_test_skip("the backend does not give cursor images back");
        return;
    }
    g_assert_cmpint(gdk_pixbuf_get_width(image), ==, 3);
    g_assert_cmpint(gdk_pixbuf_get_height(image), ==, 2);
    /* hot spot clamped into the image */
    hot = gdk_pixbuf_get_option(image, "x_hot");
    if (hot != NULL) {
        g_assert_cmpstr(hot, ==, "1");
        g_assert_cmpstr(gdk_pixbuf_get_option(image, "y_hot"), ==, "1");
    }
    /* an opaque pixel survives exactly */
    const guint8 *px = gdk_pixbuf_read_pixels(image);
    g_assert_cmpmem(px, 4, shape, 4);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gtk_init_check(&argc, &argv);
    g_test_add_func("/cursor/pixbuf", test_pixbuf);
    g_test_add_func("/cursor/gdk-cursor", test_cursor);
    return g_test_run();
}
