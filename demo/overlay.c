/* Crosshair and key boxes: see overlay.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "overlay.h"

#include <string.h>

#include "pattern.h"

#define KEY_BOX_W 40u
#define KEY_BOX_H 40u
#define KEY_BOX_GAP 4u
#define KEY_MARGIN 8u
#define GLYPH_SCALE 4u
#define WHITE 0xffffffffu
#define BLACK 0xff000000u

/* 3x5 hex digits, row-major, MSB first (bit 14 = top-left). */
static const uint16_t hex_glyphs[16] = {
    075557, 026227, 071747, 071717, 055711, 074717, 074757, 071111,
    075757, 075717, 025755, 065656, 074447, 065556, 074747, 074744,
};

/* [x0, x1) x [y0, y1) with signed bounds, clipped to the surface. */
static bool
make_rect(const struct demo_overlay *o, int64_t x0, int64_t y0, int64_t x1, int64_t y1,
          struct ssb_rect *out)
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > o->width) x1 = o->width;
    if (y1 > o->height) y1 = o->height;
    if (x0 >= x1 || y0 >= y1)
        return false;
    *out = (struct ssb_rect){ (uint32_t)x0, (uint32_t)y0, (uint32_t)(x1 - x0),
                              (uint32_t)(y1 - y0) };
    return true;
}

/* @r minus the header block: at most two rects (right of it, below it). */
static uint32_t
minus_header(const struct demo_overlay *o, const struct ssb_rect *r, struct ssb_rect *out)
{
    const uint32_t hw = SSB_PATTERN_HEADER_WIDTH, hh = SSB_PATTERN_HEADER_HEIGHT;
    uint32_t n = 0;

    if (r->x >= hw || r->y >= hh) {
        out[n++] = *r;
        return n;
    }
    if (r->x + r->width > hw && make_rect(o, hw, r->y, r->x + r->width,
                                          r->y + r->height < hh ? r->y + r->height : hh,
                                          &out[n]))
        n++;
    if (r->y + r->height > hh && make_rect(o, r->x, hh, r->x + r->width, r->y + r->height,
                                           &out[n]))
        n++;
    return n;
}

/* Crosshair: a white and a black line each way through (x, y). */
static uint32_t
crosshair_rects(const struct demo_overlay *o, int32_t x, int32_t y, struct ssb_rect *out)
{
    struct ssb_rect line;
    uint32_t n = 0;

    if (make_rect(o, 0, (int64_t)y - 1, o->width, (int64_t)y + 1, &line))
        n += minus_header(o, &line, out + n);
    if (make_rect(o, (int64_t)x - 1, 0, (int64_t)x + 1, o->height, &line))
        n += minus_header(o, &line, out + n);
    return n;
}

static bool
keys_rect(const struct demo_overlay *o, struct ssb_rect *out)
{
    int64_t y1 = (int64_t)o->height - KEY_MARGIN;

    return make_rect(o, KEY_MARGIN, y1 - KEY_BOX_H,
                     KEY_MARGIN + DEMO_OVERLAY_MAX_KEYS * (KEY_BOX_W + KEY_BOX_GAP), y1, out);
}

void
demo_overlay_init(struct demo_overlay *overlay, uint32_t width, uint32_t height)
{
    memset(overlay, 0, sizeof(*overlay));
    overlay->width = width;
    overlay->height = height;
}

void
demo_overlay_set_pointer(struct demo_overlay *overlay, bool visible, int32_t x, int32_t y)
{
    overlay->pointer = visible;
    overlay->x = x;
    overlay->y = y;
}

void
demo_overlay_add_key(struct demo_overlay *overlay, uint32_t scancode)
{
    if (overlay->n_keys == DEMO_OVERLAY_MAX_KEYS) {
        memmove(overlay->keys, overlay->keys + 1, sizeof(overlay->keys[0]) * (DEMO_OVERLAY_MAX_KEYS - 1));
        overlay->n_keys--;
    }
    overlay->keys[overlay->n_keys++] = scancode;
    overlay->keys_changed = true;
}

uint32_t
demo_overlay_take_damage(struct demo_overlay *o, struct ssb_rect *damage)
{
    uint32_t n = 0;
    bool moved = o->pointer != o->drawn_pointer ||
                 (o->pointer && (o->x != o->drawn_x || o->y != o->drawn_y));

    if (moved) {
        if (o->drawn_pointer)
            n += crosshair_rects(o, o->drawn_x, o->drawn_y, damage + n);
        if (o->pointer)
            n += crosshair_rects(o, o->x, o->y, damage + n);
        o->drawn_pointer = o->pointer;
        o->drawn_x = o->x;
        o->drawn_y = o->y;
    }
    struct ssb_rect keys;
    if (o->keys_changed && keys_rect(o, &keys))
        n += minus_header(o, &keys, damage + n);
    o->keys_changed = false;
    return n;
}

static void
fill_clipped(uint8_t *pixels, uint32_t stride, const struct ssb_rect *clip, int64_t x0,
             int64_t y0, int64_t x1, int64_t y1, uint32_t color)
{
    const int64_t hw = SSB_PATTERN_HEADER_WIDTH, hh = SSB_PATTERN_HEADER_HEIGHT;

    if (x0 < clip->x) x0 = clip->x;
    if (y0 < clip->y) y0 = clip->y;
    if (x1 > (int64_t)clip->x + clip->width) x1 = (int64_t)clip->x + clip->width;
    if (y1 > (int64_t)clip->y + clip->height) y1 = (int64_t)clip->y + clip->height;
    for (int64_t y = y0; y < y1; y++) {
        uint32_t *row = (uint32_t *)(pixels + (size_t)y * stride);

        for (int64_t x = x0; x < x1; x++) {
            if (x < hw && y < hh)
                continue;   /* never over the stamp or the reference bars */
            row[x] = color;
        }
    }
}

static void
draw_key(uint8_t *pixels, uint32_t stride, const struct ssb_rect *clip, int64_t x0, int64_t y0,
         uint32_t scancode)
{
    fill_clipped(pixels, stride, clip, x0, y0, x0 + KEY_BOX_W, y0 + KEY_BOX_H, BLACK);
    fill_clipped(pixels, stride, clip, x0 + 2, y0 + 2, x0 + KEY_BOX_W - 2, y0 + KEY_BOX_H - 2,
                 WHITE);
    if (scancode & 0xe000)   /* extended key: a bar on top */
        fill_clipped(pixels, stride, clip, x0 + 2, y0 + 2, x0 + KEY_BOX_W - 2, y0 + 6, BLACK);

    /* two hex digits, 12x20 px each, centred */
    int64_t gx = x0 + (KEY_BOX_W - (2 * 3 + 1) * GLYPH_SCALE) / 2;
    int64_t gy = y0 + (KEY_BOX_H - 5 * GLYPH_SCALE) / 2;
    for (int d = 0; d < 2; d++) {
        uint16_t glyph = hex_glyphs[(scancode >> (d ? 0 : 4)) & 0xf];

        for (int row = 0; row < 5; row++) {
            for (int col = 0; col < 3; col++) {
                if (!(glyph & (1u << (14 - row * 3 - col))))
                    continue;
                int64_t px = gx + (d * 4 + col) * GLYPH_SCALE, py = gy + row * GLYPH_SCALE;
                fill_clipped(pixels, stride, clip, px, py, px + GLYPH_SCALE, py + GLYPH_SCALE,
                             BLACK);
            }
        }
    }
}

void
demo_overlay_draw(const struct demo_overlay *o, uint8_t *pixels, uint32_t stride,
                  const struct ssb_rect *clip)
{
    int64_t y0 = (int64_t)o->height - KEY_MARGIN - KEY_BOX_H;

    for (uint32_t i = 0; i < o->n_keys; i++)
        draw_key(pixels, stride, clip, KEY_MARGIN + (int64_t)i * (KEY_BOX_W + KEY_BOX_GAP), y0,
                 o->keys[i]);
    if (o->pointer) {
        fill_clipped(pixels, stride, clip, 0, (int64_t)o->y - 1, o->width, o->y, WHITE);
        fill_clipped(pixels, stride, clip, 0, o->y, o->width, (int64_t)o->y + 1, BLACK);
        fill_clipped(pixels, stride, clip, (int64_t)o->x - 1, 0, o->x, o->height, WHITE);
        fill_clipped(pixels, stride, clip, o->x, 0, (int64_t)o->x + 1, o->height, BLACK);
    }
}
