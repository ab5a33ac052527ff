/* Frame composition for one scanout: see scanout.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "scanout.h"

#include <glib.h>
#include <string.h>

#include "pattern.h"

struct demo_scanout {
    uint32_t index, width, height, stride;
    struct ssb_pattern *pattern;   /* the content without overlay */
    struct demo_overlay overlay;
    uint8_t *frame;                /* pattern + overlay */
};

struct demo_scanout *
demo_scanout_new(uint32_t index, uint32_t width, uint32_t height, uint32_t damage_pct)
{
    struct ssb_pattern *pattern = ssb_pattern_new(index, width, height, damage_pct);

    if (!pattern)
        return NULL;

    struct demo_scanout *scanout = g_new0(struct demo_scanout, 1);
    scanout->index = index;
    scanout->width = width;
    scanout->height = height;
    scanout->stride = width * 4;
    scanout->pattern = pattern;
    scanout->frame = g_malloc0((size_t)scanout->stride * height);
    demo_overlay_init(&scanout->overlay, width, height);
    return scanout;
}

void
demo_scanout_free(struct demo_scanout *scanout)
{
    if (!scanout)
        return;
    ssb_pattern_free(scanout->pattern);
    g_free(scanout->frame);
    g_free(scanout);
}

struct demo_overlay *
demo_scanout_overlay(struct demo_scanout *scanout)
{
    return &scanout->overlay;
}

const uint8_t *
demo_scanout_pixels(const struct demo_scanout *scanout, uint32_t *stride)
{
    *stride = scanout->stride;
    return scanout->frame;
}

static void
compose(struct demo_scanout *scanout, const struct ssb_rect *r)
{
    uint32_t src_stride;
    const uint8_t *src = ssb_pattern_pixels(scanout->pattern, &src_stride);

    for (uint32_t y = r->y; y < r->y + r->height; y++)
        memcpy(scanout->frame + (size_t)y * scanout->stride + (size_t)r->x * 4,
               src + (size_t)y * src_stride + (size_t)r->x * 4, (size_t)r->width * 4);
    demo_overlay_draw(&scanout->overlay, scanout->frame, scanout->stride, r);
}

uint32_t
demo_scanout_render(struct demo_scanout *scanout, uint32_t seq, uint64_t t_us,
                    struct ssb_rect *damage)
{
    struct ssb_pattern_stamp stamp = { .seq = seq, .t_us = t_us };
    uint32_t n = ssb_pattern_next(scanout->pattern, &stamp, damage, 3);

    /* Where the overlay moved, the pattern underneath shows again; rects may
     * overlap, which both consumers accept. */
    n += demo_overlay_take_damage(&scanout->overlay, damage + n);
    for (uint32_t i = 0; i < n; i++)
        compose(scanout, &damage[i]);
    return n;
}

/* Two DEMO_TAG_SIZE squares, white then black, DEMO_TAG_SIZE / 2 from the
 * top-right corner: away from the stamp (top left), flat enough to
 * survive video coding. */
#define DEMO_TAG_SIZE 16u

void
demo_scanout_set_tag(struct demo_scanout *scanout, bool on)
{
    uint32_t margin = DEMO_TAG_SIZE / 2;
    struct ssb_rect tag = {
        .x = scanout->width - margin - 2 * DEMO_TAG_SIZE, .y = margin,
        .width = 2 * DEMO_TAG_SIZE, .height = DEMO_TAG_SIZE,
    };

    if (!on) {
        compose(scanout, &tag);
        return;
    }
    for (uint32_t y = tag.y; y < tag.y + tag.height; y++) {
        uint8_t *row = scanout->frame + (size_t)y * scanout->stride + (size_t)tag.x * 4;
        memset(row, 0xff, DEMO_TAG_SIZE * 4);
        memset(row + DEMO_TAG_SIZE * 4, 0x00, DEMO_TAG_SIZE * 4);
    }
}

void
demo_scanout_restamp(struct demo_scanout *scanout, uint32_t seq, uint64_t t_us)
{
    struct ssb_pattern_stamp stamp = { .seq = seq, .t_us = t_us, .scanout = (uint8_t)scanout->index };

    ssb_pattern_draw_stamp(scanout->frame, scanout->stride, 0, 0, &stamp);
}
