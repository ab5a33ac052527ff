/* The stock SPICE display path: see stock-display.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stock-display.h"

typedef struct {
    BenchStock *stock;
    SpiceChannel *channel;        /* owned reference */
    const guint8 *primary;        /* borrowed from spice-gtk while it lives */
    guint width, height, stride;
} StockSurface;

struct _BenchStock {
    SpiceSession *session;        /* borrowed */
    BenchSamples *samples;        /* borrowed */
    GPtrArray *surfaces;          /* StockSurface, owned */
    gulong channel_new_id;
    guint n_surfaces;
};

static void
on_primary_create(SpiceChannel *channel, gint format, gint width, gint height, gint stride,
                  gint shmid, gpointer imgdata, StockSurface *surface)
{
    if (format != SPICE_SURFACE_FMT_32_xRGB && format != SPICE_SURFACE_FMT_32_ARGB) {
        g_printerr("bench-client: display surface format %d is not 32-bit\n", format);
        return;
    }
    surface->primary = imgdata;
    surface->width = (guint)width;
    surface->height = (guint)height;
    surface->stride = (guint)stride;
    surface->stock->n_surfaces++;
}

static void
on_primary_destroy(SpiceChannel *channel, StockSurface *surface)
{
    surface->primary = NULL;
}

static void
on_invalidate(SpiceChannel *channel, gint x, gint y, gint w, gint h, StockSurface *surface)
{
    gint64 now = g_get_monotonic_time();
    struct ssb_pattern_stamp stamp;

    /* Only updates that touch the stamp can carry a new one. */
    if (surface->primary == NULL || x >= (gint)SSB_PATTERN_STAMP_WIDTH ||
        y >= (gint)SSB_PATTERN_STAMP_HEIGHT)
        return;
    if (bench_read_corner_stamp(surface->primary, surface->stride, surface->width,
                                surface->height, &stamp))
        bench_samples_add(surface->stock->samples, &stamp, now);
}

static void
surface_free(gpointer data)
{
    StockSurface *surface = data;

    g_signal_handlers_disconnect_by_data(surface->channel, surface);
    g_object_unref(surface->channel);
    g_free(surface);
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, BenchStock *stock)
{
    StockSurface *surface;

    if (!SPICE_IS_DISPLAY_CHANNEL(channel))
        return;
    surface = g_new0(StockSurface, 1);
    surface->stock = stock;
    surface->channel = g_object_ref(channel);
    g_signal_connect(channel, "display-primary-create", G_CALLBACK(on_primary_create), surface);
    g_signal_connect(channel, "display-primary-destroy", G_CALLBACK(on_primary_destroy),
                     surface);
    g_signal_connect(channel, "display-invalidate", G_CALLBACK(on_invalidate), surface);
    g_ptr_array_add(stock->surfaces, surface);
    /* spice-gtk leaves connecting a display channel to the application. */
    spice_channel_connect(channel);
}

BenchStock *
bench_stock_new(SpiceSession *session, BenchSamples *samples)
{
    BenchStock *stock = g_new0(BenchStock, 1);

    stock->session = session;
    stock->samples = samples;
    stock->surfaces = g_ptr_array_new_with_free_func(surface_free);
    stock->channel_new_id =
        g_signal_connect(session, "channel-new", G_CALLBACK(on_channel_new), stock);
    return stock;
}

void
bench_stock_free(BenchStock *stock)
{
    if (stock == NULL)
        return;
    g_signal_handler_disconnect(stock->session, stock->channel_new_id);
    g_ptr_array_unref(stock->surfaces);
    g_free(stock);
}

guint
bench_stock_n_surfaces(const BenchStock *stock)
{
    return stock->n_surfaces;
}
