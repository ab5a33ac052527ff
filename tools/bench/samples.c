/* Frames seen by the benchmark client: see samples.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "samples.h"

#include <string.h>

void
bench_samples_init(BenchSamples *samples)
{
    memset(samples, 0, sizeof(*samples));
    for (guint i = 0; i < BENCH_MAX_SCANOUTS; i++) {
        samples->newest_seq[i] = -1;
        samples->latencies[i] = g_array_new(FALSE, FALSE, sizeof(gint64));
    }
    for (guint i = 0; i < BENCH_MAX_STAGES; i++)
        samples->stages[i] = g_array_new(FALSE, FALSE, sizeof(gint64));
}

void
bench_samples_finish(BenchSamples *samples)
{
    for (guint i = 0; i < BENCH_MAX_SCANOUTS; i++)
        g_clear_pointer(&samples->latencies[i], g_array_unref);
    for (guint i = 0; i < BENCH_MAX_STAGES; i++)
        g_clear_pointer(&samples->stages[i], g_array_unref);
}

void
bench_samples_start(BenchSamples *samples)
{
    for (guint i = 0; i < BENCH_MAX_SCANOUTS; i++) {
        samples->frames[i] = 0;
        samples->stale[i] = 0;
        g_array_set_size(samples->latencies[i], 0);
    }
    for (guint i = 0; i < BENCH_MAX_STAGES; i++)
        g_array_set_size(samples->stages[i], 0);
    samples->recording = TRUE;
}

void
bench_samples_stop(BenchSamples *samples)
{
    samples->recording = FALSE;
}

gboolean
bench_samples_add(BenchSamples *samples, const struct ssb_pattern_stamp *stamp,
                  gint64 t_available_us)
{
    guint id = stamp->scanout;
    gint64 latency = t_available_us - (gint64)stamp->t_us;

    if (id >= BENCH_MAX_SCANOUTS)
        return FALSE;
    if ((gint64)stamp->seq <= samples->newest_seq[id]) {
        if (samples->recording)
            samples->stale[id]++;
        return FALSE;
    }
    samples->newest_seq[id] = stamp->seq;
    if (!samples->recording)
        return FALSE;
    samples->frames[id]++;
    g_array_append_val(samples->latencies[id], latency);
    return TRUE;
}

void
bench_samples_add_stages(BenchSamples *samples, const char *const *names, const gint64 *us,
                         guint n)
{
    for (guint i = 0; i < MIN(n, BENCH_MAX_STAGES); i++) {
        samples->stage_names[i] = names[i];
        g_array_append_val(samples->stages[i], us[i]);
    }
}

static gint
compare_gint64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return x < y ? -1 : x > y;
}

void
bench_samples_print_stages_json(const BenchSamples *samples, FILE *out)
{
    gboolean first = TRUE;

    fputc('{', out);
    for (guint i = 0; i < BENCH_MAX_STAGES; i++) {
        GArray *values = samples->stages[i];

        if (samples->stage_names[i] == NULL || values->len == 0)
            continue;
        g_autoptr(GArray) sorted = g_array_copy(values);
        g_array_sort(sorted, compare_gint64);
        fprintf(out, "%s\"%s\": %.3f", first ? "" : ", ", samples->stage_names[i],
                (double)g_array_index(sorted, gint64, sorted->len / 2) / 1000.0);
        first = FALSE;
    }
    fputc('}', out);
}

gboolean
bench_read_corner_stamp(const guint8 *pixels, guint stride, guint width, guint height,
                        struct ssb_pattern_stamp *stamp)
{
    /* Only the corner: a search of a whole 4K frame costs milliseconds.
     * One extra cell each way lets a video decoder's edge blur pass. */
    guint w = MIN(width, SSB_PATTERN_STAMP_WIDTH + SSB_PATTERN_CELL);
    guint h = MIN(height, SSB_PATTERN_STAMP_HEIGHT + SSB_PATTERN_CELL);

    if (pixels == NULL || w < SSB_PATTERN_STAMP_WIDTH || h < SSB_PATTERN_STAMP_HEIGHT)
        return FALSE;
    return ssb_pattern_find_stamp(pixels, stride, w, h, stamp, NULL, NULL);
}

void
bench_samples_print_json(const BenchSamples *samples, FILE *out)
{
    gboolean first = TRUE;

    fputc('[', out);
    for (guint id = 0; id < BENCH_MAX_SCANOUTS; id++) {
        GArray *lat = samples->latencies[id];

        if (samples->newest_seq[id] < 0)
            continue;
        fprintf(out, "%s{\"id\": %u, \"frames\": %u, \"stale\": %u, \"latencies_us\": [",
                first ? "" : ", ", id, samples->frames[id], samples->stale[id]);
        for (guint i = 0; i < lat->len; i++)
            fprintf(out, "%s%" G_GINT64_FORMAT, i ? "," : "", g_array_index(lat, gint64, i));
        fputs("]}", out);
        first = FALSE;
    }
    fputc(']', out);
}
