/* The sideband paths, through libspice-sideband-client's public API: shared
 * memory, DMA-BUF (the client declares linear XRGB8888 importable and maps
 * the planes it is lent) or decoded video (force-remote with a codec).
 * Each "frame" signal is one frame available to the application; its stamp
 * is read from the pixels like the stock paths'.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef BENCH_SIDEBAND_FRAMES_H
#define BENCH_SIDEBAND_FRAMES_H

#include <spice-sideband/client.h>

#include "samples.h"

typedef struct _BenchSideband BenchSideband;

typedef struct {
    gboolean dmabuf;              /* declare XRGB8888/LINEAR importable */
    gboolean force_remote;
    const char *codec;            /* borrowed; NULL: the server picks */
} BenchSidebandOptions;

/* Creates an SsbClient on @session (borrowed; call before connecting) and
 * adds every frame's stamp to @samples (borrowed). */
BenchSideband *bench_sideband_new(SpiceSession *session, const BenchSidebandOptions *options,
                                  BenchSamples *samples);
void bench_sideband_free(BenchSideband *sideband);

/* NULL until "ready"; then "shm", "dmabuf" or a codec name (static). */
const char *bench_sideband_path_name(const BenchSideband *sideband);
/* Set when the sideband failed (borrowed, NULL if not). */
const char *bench_sideband_error(const BenchSideband *sideband);

#endif /* BENCH_SIDEBAND_FRAMES_H */
