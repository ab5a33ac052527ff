/* One QXL instance per scanout: the scanout served on a stock SPICE display
 * channel (channel id = scanout index), so that unmodified viewers show it.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef DEMO_DISPLAY_H
#define DEMO_DISPLAY_H

#include <stdint.h>

#include <spice.h>
#include <spice-sideband/proto.h>

struct demo_display;

/* Adds a QXL interface with id @id to @spice (borrowed) and creates its
 * primary surface of @width x @height.  Main loop only.  Returns NULL on
 * failure. */
struct demo_display *demo_display_create(SpiceServer *spice, uint32_t id, uint32_t width,
                                         uint32_t height);

/* Frees @display; call after spice_server_destroy(), which stops the worker
 * thread that calls into it.  Accepts NULL. */
void demo_display_destroy(struct demo_display *display);

/* Queues one QXL_DRAW_COPY per rect of @damage, copying those pixels of
 * @pixels (XRGB8888, the whole surface; borrowed) into bitmaps that live
 * until spice-server releases them.  When more than a few frames' worth of
 * bitmaps are unreleased (a slow client), the damage is merged into a
 * backlog that a later call draws, so memory stays bounded.  Main loop
 * only. */
void demo_display_draw(struct demo_display *display, const uint8_t *pixels, uint32_t stride,
                       const struct ssb_rect *damage, uint32_t n_damage);

struct demo_display_stats {
    uint64_t commands;         /* draw commands queued */
    uint64_t released;         /* ... and released by spice-server */
    uint64_t backlogged;       /* frames merged into the backlog */
    uint64_t bytes_held;       /* bitmap bytes not yet released */
};

void demo_display_get_stats(struct demo_display *display, struct demo_display_stats *stats);

#endif /* DEMO_DISPLAY_H */
