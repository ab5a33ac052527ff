/* The stock SPICE display path, as a spice-client-glib application sees it:
 * the primary surface of every SpiceDisplayChannel ("display-primary-create"
 * hands out its memory) and "display-invalidate", emitted when new pixels
 * are in it.  Whether they came as compressed images or as a decoded video
 * stream (spice-gtk's GStreamer decoder, shown at its playout time) is
 * spice-gtk's business: the benchmark sees both as users' viewers do.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef BENCH_STOCK_DISPLAY_H
#define BENCH_STOCK_DISPLAY_H

#include <spice-client.h>

#include "samples.h"

typedef struct _BenchStock BenchStock;

/* Watches the display channels of @session (borrowed; must outlive the
 * watcher) and adds every new stamp to @samples (borrowed). */
BenchStock *bench_stock_new(SpiceSession *session, BenchSamples *samples);
void bench_stock_free(BenchStock *stock);

/* Display channels that delivered a primary surface so far. */
guint bench_stock_n_surfaces(const BenchStock *stock);

#endif /* BENCH_STOCK_DISPLAY_H */
