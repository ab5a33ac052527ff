/* The cairo renderer, used when GL is unavailable or disabled: the frame's
 * damaged rects are copied into a private image surface (so the frame goes
 * back to the server at once) and only their scaled area is invalidated.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "display-private.h"

#include <math.h>
#include <string.h>

#define DRM_FOURCC(a, b, c, d) \
    ((guint32)(a) | (guint32)(b) << 8 | (guint32)(c) << 16 | (guint32)(d) << 24)

typedef struct {
    SsbRenderer base;
    SsbDisplay *display;          /* borrowed: owns us */
    cairo_surface_t *surface;     /* RGB24 = B,G,R,X bytes, as XRGB8888 */
    int width, height;
    gboolean warned;
} CairoRenderer;

static void
copy_rect(CairoRenderer *cr, const guint8 *data, guint stride, int x, int y, int w, int h)
{
    guint8 *dst = cairo_image_surface_get_data(cr->surface);
    int dst_stride = cairo_image_surface_get_stride(cr->surface);

    for (int row = y; row < y + h; row++)
        memcpy(dst + (gsize)row * dst_stride + (gsize)x * 4,
               data + (gsize)row * stride + (gsize)x * 4, (gsize)w * 4);
    cairo_surface_mark_dirty_rectangle(cr->surface, x, y, w, h);
}

/* Invalidates the widget area showing image rect (@x, @y, @w, @h), plus a
 * pixel of margin for the filter. */
static void
invalidate(CairoRenderer *cr, int x, int y, int w, int h)
{
    GtkWidget *widget = cr->base.widget;
    SsbViewport vp;
    double sx, sy;

    ssb_viewport_compute(gtk_widget_get_allocated_width(widget),
                         gtk_widget_get_allocated_height(widget), cr->width, cr->height, &vp);
    if (vp.width == 0)
        return;
    sx = (double)vp.width / cr->width;
    sy = (double)vp.height / cr->height;
    int x0 = vp.x + (int)floor(x * sx) - 1, y0 = vp.y + (int)floor(y * sy) - 1;
    int x1 = vp.x + (int)ceil((x + w) * sx) + 1, y1 = vp.y + (int)ceil((y + h) * sy) + 1;
    gtk_widget_queue_draw_area(widget, x0, y0, x1 - x0, y1 - y0);
}

static void
cairo_show_frame(SsbRenderer *renderer, SsbFrame *frame)
{
    CairoRenderer *cr = (CairoRenderer *)renderer;
    int w = (int)ssb_frame_get_width(frame), h = (int)ssb_frame_get_height(frame);
    guint32 fourcc = ssb_frame_get_fourcc(frame);
    const SsbRect *rects;
    guint n_rects = 0, stride = 0;
    const guint8 *data = ssb_frame_get_data(frame, &stride);

    if (data == NULL || (fourcc != DRM_FOURCC('X', 'R', '2', '4') &&
                         fourcc != DRM_FOURCC('A', 'R', '2', '4')) ||
        stride < (guint)w * 4) {
        if (!cr->warned)
            g_warning("cairo renderer: cannot read frames of backing %d format %.4s",
                      ssb_frame_get_backing(frame), (const char *)&fourcc);
        cr->warned = TRUE;
        ssb_frame_unref(frame);
        return;
    }
    rects = ssb_frame_get_damage(frame, &n_rects);
    if (cr->surface == NULL || w != cr->width || h != cr->height) {
        g_clear_pointer(&cr->surface, cairo_surface_destroy);
        cr->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
        cr->width = w;
        cr->height = h;
        n_rects = 0;
    }
    cairo_surface_flush(cr->surface);
    if (n_rects == 0) {
        copy_rect(cr, data, stride, 0, 0, w, h);
        gtk_widget_queue_draw(renderer->widget);
    } else {
        for (guint i = 0; i < n_rects; i++) {
            int x = (int)MIN(rects[i].x, (guint32)w), y = (int)MIN(rects[i].y, (guint32)h);
            int rw = (int)MIN(rects[i].width, (guint32)(w - x));
            int rh = (int)MIN(rects[i].height, (guint32)(h - y));
            if (rw <= 0 || rh <= 0)
                continue;
            copy_rect(cr, data, stride, x, y, rw, rh);
            invalidate(cr, x, y, rw, rh);
        }
    }
    ssb_frame_unref(frame);
}

static gboolean
on_draw(GtkWidget *widget, cairo_t *cairo, CairoRenderer *cr)
{
    SsbViewport vp;

    cairo_set_source_rgb(cairo, 0, 0, 0);
    cairo_paint(cairo);
    if (cr->surface == NULL)
        return TRUE;
    ssb_viewport_compute(gtk_widget_get_allocated_width(widget),
                         gtk_widget_get_allocated_height(widget), cr->width, cr->height, &vp);
    if (vp.width == 0)
        return TRUE;
    cairo_rectangle(cairo, vp.x, vp.y, vp.width, vp.height);
    cairo_clip(cairo);
    cairo_translate(cairo, vp.x, vp.y);
    cairo_scale(cairo, (double)vp.width / cr->width, (double)vp.height / cr->height);
    cairo_set_source_surface(cairo, cr->surface, 0, 0);
    /* 1:1 stays pixel-exact; scaled pictures are filtered */
    cairo_pattern_set_filter(cairo_get_source(cairo),
                             vp.width == cr->width && vp.height == cr->height
                                 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
    cairo_paint(cairo);
    return TRUE;
}

static void
cairo_destroy_renderer(SsbRenderer *renderer)
{
    CairoRenderer *cr = (CairoRenderer *)renderer;

    g_signal_handlers_disconnect_by_data(renderer->widget, cr);
    g_clear_pointer(&cr->surface, cairo_surface_destroy);
    g_object_unref(renderer->widget);
    g_free(cr);
}

SsbRenderer *
ssb_renderer_cairo_new(SsbDisplay *display)
{
    CairoRenderer *cr = g_new0(CairoRenderer, 1);

    cr->base.name = "cairo";
    cr->base.show_frame = cairo_show_frame;
    cr->base.destroy = cairo_destroy_renderer;
    cr->display = display;
    cr->base.widget = g_object_ref_sink(gtk_drawing_area_new());
    g_signal_connect(cr->base.widget, "draw", G_CALLBACK(on_draw), cr);
    return &cr->base;
}
