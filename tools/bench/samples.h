/* Frames seen by the benchmark client, per scanout, per measurement window.
 *
 * A frame counts once: the first time its stamp (common/pattern.h) is read
 * at the client.  Its latency is the client's CLOCK_MONOTONIC when the
 * pixels became available minus the stamp's t_us (the demo's submit time):
 * the same clock, because server and client run on the same host.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef BENCH_SAMPLES_H
#define BENCH_SAMPLES_H

#include <glib.h>
#include <stdio.h>

#include "pattern.h"

#define BENCH_MAX_SCANOUTS 64
#define BENCH_MAX_STAGES 4

typedef struct {
    gboolean recording;                       /* inside a window */
    gint64 newest_seq[BENCH_MAX_SCANOUTS];    /* -1: none yet */
    guint frames[BENCH_MAX_SCANOUTS];         /* in this window */
    guint stale[BENCH_MAX_SCANOUTS];          /* stamps already counted */
    GArray *latencies[BENCH_MAX_SCANOUTS];    /* gint64 us, this window */
    const char *stage_names[BENCH_MAX_STAGES];   /* static; NULL: unused */
    GArray *stages[BENCH_MAX_STAGES];         /* gint64 us, all scanouts, this window */
} BenchSamples;

void bench_samples_init(BenchSamples *samples);
void bench_samples_finish(BenchSamples *samples);

/* Starts a window: counters and latencies restart; newest_seq carries on. */
void bench_samples_start(BenchSamples *samples);
void bench_samples_stop(BenchSamples *samples);

/* Records @stamp read at @t_available_us; a stamp whose seq is not newer
 * than the newest seen for its scanout is counted as stale only.  Returns
 * TRUE when the frame was counted in the window. */
gboolean bench_samples_add(BenchSamples *samples, const struct ssb_pattern_stamp *stamp,
                           gint64 t_available_us);

/* Adds the durations of a counted frame's stages (@n <= BENCH_MAX_STAGES,
 * named @names, static strings, the same every call). */
void bench_samples_add_stages(BenchSamples *samples, const char *const *names,
                              const gint64 *us, guint n);

/* Reads the stamp from the top-left corner of an XRGB8888 image (where the
 * demo draws it) into @stamp; FALSE when there is none. */
gboolean bench_read_corner_stamp(const guint8 *pixels, guint stride, guint width, guint height,
                                 struct ssb_pattern_stamp *stamp);

/* Writes the window's stage medians as a JSON object {"name": ms, ...}. */
void bench_samples_print_stages_json(const BenchSamples *samples, FILE *out);

/* Writes the window's scanouts as a JSON array (frames, stale, raw
 * latencies in us) to @out. */
void bench_samples_print_json(const BenchSamples *samples, FILE *out);

#endif /* BENCH_SAMPLES_H */
