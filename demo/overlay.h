/* What the demo's "guest" draws in response to input: a crosshair at the
 * pointer and the last typed keys as boxes in the bottom-left corner.
 * Both stay out of the pattern's header block (stamp and reference bars).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef DEMO_OVERLAY_H
#define DEMO_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

#include <spice-sideband/proto.h>

#define DEMO_OVERLAY_MAX_KEYS 16u
/* Most rects demo_overlay_take_damage() returns. */
#define DEMO_OVERLAY_MAX_DAMAGE 9u

struct demo_overlay {
    uint32_t width, height;
    /* wanted state */
    bool pointer;
    int32_t x, y;
    uint32_t keys[DEMO_OVERLAY_MAX_KEYS];   /* oldest first */
    uint32_t n_keys;
    bool keys_changed;
    /* state last reported as damage */
    bool drawn_pointer;
    int32_t drawn_x, drawn_y;
};

void demo_overlay_init(struct demo_overlay *overlay, uint32_t width, uint32_t height);
/* Shows the crosshair at (@x, @y) or hides it. */
void demo_overlay_set_pointer(struct demo_overlay *overlay, bool visible, int32_t x, int32_t y);
/* Adds a key box for @scancode (the oldest box goes when full). */
void demo_overlay_add_key(struct demo_overlay *overlay, uint32_t scancode);
/* Writes the rects that changed since the last call to @damage (room for
 * DEMO_OVERLAY_MAX_DAMAGE) and returns how many. */
uint32_t demo_overlay_take_damage(struct demo_overlay *overlay, struct ssb_rect *damage);
/* Draws the overlay into @pixels (XRGB8888), only inside @clip. */
void demo_overlay_draw(const struct demo_overlay *overlay, uint8_t *pixels, uint32_t stride,
                       const struct ssb_rect *clip);

#endif /* DEMO_OVERLAY_H */
