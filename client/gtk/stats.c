/* The optional stats overlay: fps, latency, bitrate and the path frames
 * take, refreshed once a second in a label over the picture.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "display-private.h"

struct SsbStats {
    SsbDisplay *display;          /* borrowed: owns us */
    GtkWidget *label;             /* owned ref */
    guint timer;
    /* the current one-second window */
    guint frames;
    gint64 latency_sum_us;
    guint latency_n;
    guint64 bytes;                /* encoded bytes, when the client reports them */
    const char *path;             /* static strings from the client */
    const char *decoder;
    SsbFrameBacking backing;
};

static const char *
backing_name(SsbFrameBacking backing)
{
    switch (backing) {
    case SSB_FRAME_BACKING_SHM:
        return "shm";
    case SSB_FRAME_BACKING_DMABUF:
        return "dmabuf";
    case SSB_FRAME_BACKING_VIDEO:
        return "video";
    default:
        return "none";
    }
}

static gboolean
refresh(gpointer data)
{
    SsbStats *stats = data;
    g_autofree char *latency = NULL;
    g_autofree char *bitrate = NULL;
    g_autofree char *text = NULL;
    g_autofree char *path = NULL;

    latency = stats->latency_n > 0
                  ? g_strdup_printf("%.2f ms",
                                    (double)stats->latency_sum_us / stats->latency_n / 1000.0)
                  : g_strdup("-");
    bitrate = stats->backing == SSB_FRAME_BACKING_VIDEO && stats->bytes > 0
                  ? g_strdup_printf("%.0f kbit/s", stats->bytes * 8 / 1000.0)
                  : g_strdup("-");
    path = stats->decoder != NULL
               ? g_strdup_printf("%s (%s)", stats->path, stats->decoder)
               : g_strdup(stats->path ? stats->path : backing_name(stats->backing));
    text = g_strdup_printf("%s · %s · %u fps\nlatency %s · bitrate %s",
                           ssb_display_get_renderer(stats->display), path, stats->frames,
                           latency, bitrate);
    gtk_label_set_text(GTK_LABEL(stats->label), text);
    stats->frames = 0;
    stats->latency_sum_us = 0;
    stats->latency_n = 0;
    stats->bytes = 0;
    return G_SOURCE_CONTINUE;
}

void
ssb_stats_frame(SsbStats *stats, const SsbFrame *frame, const char *path, const char *decoder)
{
    gint64 t_submit = ssb_frame_get_t_submit_us(frame);
    /* t_received for local frames, t_decoded for video: the same clock as
     * t_submit when server and client share a host */
    gint64 t_shown = ssb_frame_get_t_decoded_us(frame);

    stats->frames++;
    stats->path = path;
    stats->decoder = decoder;
    stats->bytes += ssb_frame_get_encoded_size(frame);
    stats->backing = ssb_frame_get_backing(frame);
    if (t_submit > 0 && t_shown >= t_submit) {
        stats->latency_sum_us += t_shown - t_submit;
        stats->latency_n++;
    }
}

void
ssb_stats_set_visible(SsbStats *stats, gboolean visible)
{
    gtk_widget_set_visible(stats->label, visible);
    if (visible && stats->timer == 0) {
        refresh(stats);
        stats->timer = g_timeout_add_seconds(1, refresh, stats);
    } else if (!visible) {
        g_clear_handle_id(&stats->timer, g_source_remove);
    }
}

GtkWidget *
ssb_stats_get_widget(SsbStats *stats)
{
    return stats->label;
}

SsbStats *
ssb_stats_new(SsbDisplay *display)
{
    SsbStats *stats = g_new0(SsbStats, 1);
    GtkCssProvider *css = gtk_css_provider_new();

    stats->display = display;
    stats->label = g_object_ref_sink(gtk_label_new(""));
    gtk_widget_set_halign(stats->label, GTK_ALIGN_START);
    gtk_widget_set_valign(stats->label, GTK_ALIGN_START);
    gtk_widget_set_no_show_all(stats->label, TRUE);
    gtk_css_provider_load_from_data(css,
                                    "label { background-color: rgba(0,0,0,0.6); color: #fff;"
                                    " font-family: monospace; padding: 2px 6px; }",
                                    -1, NULL);
    gtk_style_context_add_provider(gtk_widget_get_style_context(stats->label),
                                   GTK_STYLE_PROVIDER(css),
                                   GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    g_object_unref(css);
    return stats;
}

void
ssb_stats_free(SsbStats *stats)
{
    if (stats == NULL)
        return;
    g_clear_handle_id(&stats->timer, g_source_remove);
    g_object_unref(stats->label);
    g_free(stats);
}
