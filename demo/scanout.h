/* One scanout of the demo "guest": the animated pattern plus the input
 * overlay, composed into the frame that both the QXL device and the
 * sideband get, with the exact damage of each frame.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef DEMO_SCANOUT_H
#define DEMO_SCANOUT_H

#include <stdbool.h>
#include <stdint.h>

#include <spice-sideband/proto.h>

#include "overlay.h"

/* Most rects one frame damages: stamp, band (2), overlay. */
#define DEMO_SCANOUT_MAX_DAMAGE (3u + DEMO_OVERLAY_MAX_DAMAGE)

struct demo_scanout;

/* Returns NULL for a size the pattern does not support. */
struct demo_scanout *demo_scanout_new(uint32_t index, uint32_t width, uint32_t height,
                                      uint32_t damage_pct);
void demo_scanout_free(struct demo_scanout *scanout);

/* The overlay, to update from input events before the next frame. */
struct demo_overlay *demo_scanout_overlay(struct demo_scanout *scanout);

/* Renders the next frame stamped with @seq and @t_us; writes its damage
 * (room for DEMO_SCANOUT_MAX_DAMAGE rects) and returns the count. */
uint32_t demo_scanout_render(struct demo_scanout *scanout, uint32_t seq, uint64_t t_us,
                             struct ssb_rect *damage);

/* --tag-sideband: draws the tag into the frame (@on) or composes the
 * frame's content there again (!@on).  The sideband gets the frame with
 * the tag, the display channel without. */
void demo_scanout_set_tag(struct demo_scanout *scanout, bool on);

/* Redraws the stamp of the frame just rendered with @seq and @t_us: the
 * time the frame is complete, taken just before it is handed to spice-server
 * and the sideband, so that a stamp's age is submit -> available (the
 * stamp's cells are in every frame's damage). */
void demo_scanout_restamp(struct demo_scanout *scanout, uint32_t seq, uint64_t t_us);

/* The composed frame (XRGB8888, borrowed). */
const uint8_t *demo_scanout_pixels(const struct demo_scanout *scanout, uint32_t *stride);

#endif /* DEMO_SCANOUT_H */
