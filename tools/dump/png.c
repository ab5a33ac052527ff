/* Saving a frame as PNG (gdk-pixbuf).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "png.h"

#include <sys/mman.h>

#ifdef HAVE_GDK_PIXBUF
#include <gdk-pixbuf/gdk-pixbuf.h>
#endif

#define FOURCC(a, b, c, d) \
    ((guint32)(a) | ((guint32)(b) << 8) | ((guint32)(c) << 16) | ((guint32)(d) << 24))

#ifdef HAVE_GDK_PIXBUF
/* Converts one row of 32-bit pixels to packed RGB. */
static void
convert_row(guint8 *dst, const guint8 *src, guint width, guint32 fourcc)
{
    /* XR24/AR24 are B,G,R,x in memory; XB24/AB24 are R,G,B,x. */
    gboolean bgr = fourcc == FOURCC('X', 'R', '2', '4') || fourcc == FOURCC('A', 'R', '2', '4');

    for (guint x = 0; x < width; x++) {
        const guint8 *p = src + 4 * x;
        dst[3 * x + 0] = bgr ? p[2] : p[0];
        dst[3 * x + 1] = p[1];
        dst[3 * x + 2] = bgr ? p[0] : p[2];
    }
}

static gboolean
save_pixels(const guint8 *data, guint stride, guint width, guint height, guint32 fourcc,
            const char *path, GError **error)
{
    g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, (int)width,
                                                 (int)height);
    guint8 *dst;
    int dst_stride;

    if (pixbuf == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot allocate %ux%u", width,
                    height);
        return FALSE;
    }
    dst = gdk_pixbuf_get_pixels(pixbuf);
    dst_stride = gdk_pixbuf_get_rowstride(pixbuf);
    for (guint y = 0; y < height; y++)
        convert_row(dst + (gsize)y * (gsize)dst_stride, data + (gsize)y * stride, width, fourcc);
    return gdk_pixbuf_save(pixbuf, path, "png", error, NULL);
}

gboolean
ssb_dump_save_png(SsbFrame *frame, const char *path, GError **error)
{
    guint width = ssb_frame_get_width(frame), height = ssb_frame_get_height(frame);
    guint32 fourcc = ssb_frame_get_fourcc(frame);
    SsbDmabufInfo dmabuf;
    const guint8 *data;
    guint stride = 0;
    gboolean ok;
    gsize size;
    void *map;

    data = ssb_frame_get_data(frame, &stride);
    if (data != NULL)
        return save_pixels(data, stride, width, height, fourcc, path, error);
    if (!ssb_frame_get_dmabuf(frame, &dmabuf)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "frame has no pixels");
        return FALSE;
    }
    /* Linear DMA-BUFs (and the memfd stand-in) can be mapped for reading. */
    size = (gsize)dmabuf.offsets[0] + (gsize)dmabuf.strides[0] * height;
    map = mmap(NULL, size, PROT_READ, MAP_SHARED, dmabuf.fds[0], 0);
    if (map == MAP_FAILED) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot map the DMA-BUF");
        return FALSE;
    }
    ok = save_pixels((const guint8 *)map + dmabuf.offsets[0], dmabuf.strides[0], width, height,
                     fourcc, path, error);
    munmap(map, size);
    return ok;
}
#else
gboolean
ssb_dump_save_png(SsbFrame *frame, const char *path, GError **error)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                "built without gdk-pixbuf: no PNG output");
    return FALSE;
}
#endif
