/* Damage history (see damage.h).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "damage.h"

void
ssb_damage_log_reset(struct ssb_damage_log *log, uint32_t width, uint32_t height, uint64_t seq)
{
    memset(log, 0, sizeof(*log));
    log->width = width;
    log->height = height;
    log->base_seq = seq;
    log->last_seq = seq;
}

void
ssb_damage_log_add(struct ssb_damage_log *log, uint64_t seq, const struct ssb_rect *rects,
                   uint32_t n)
{
    struct ssb_damage_entry *e = &log->entries[seq % SSB_DAMAGE_LOG_LEN];

    e->seq = seq;
    e->n_rects = n <= SSB_PROTO_MAX_RECTS ? n : 0;
    if (e->n_rects)
        memcpy(e->rects, rects, n * sizeof(*rects));
    log->last_seq = seq;
}

static bool
rect_contains(const struct ssb_rect *a, const struct ssb_rect *b)
{
    return b->x >= a->x && b->y >= a->y && b->x + b->width <= a->x + a->width &&
           b->y + b->height <= a->y + a->height;
}

static struct ssb_rect
rect_bounds(const struct ssb_rect *a, const struct ssb_rect *b)
{
    uint32_t x0 = a->x < b->x ? a->x : b->x;
    uint32_t y0 = a->y < b->y ? a->y : b->y;
    uint32_t x1 = a->x + a->width > b->x + b->width ? a->x + a->width : b->x + b->width;
    uint32_t y1 = a->y + a->height > b->y + b->height ? a->y + a->height : b->y + b->height;

    return (struct ssb_rect){ x0, y0, x1 - x0, y1 - y0 };
}

void
ssb_rects_union(struct ssb_rect *set, uint32_t *n, const struct ssb_rect *add)
{
    for (uint32_t i = 0; i < *n; i++) {
        if (rect_contains(&set[i], add))
            return;
    }
    if (*n < SSB_PROTO_MAX_RECTS) {
        set[(*n)++] = *add;
        return;
    }
    /* Full: one bounding box is still exact enough for a copy. */
    for (uint32_t i = 1; i < *n; i++)
        set[0] = rect_bounds(&set[0], &set[i]);
    set[0] = rect_bounds(&set[0], add);
    *n = 1;
}

bool
ssb_damage_log_since(const struct ssb_damage_log *log, uint64_t since, uint64_t until,
                     struct ssb_rect *out, uint32_t *n_out)
{
    *n_out = 0;
    if (since == 0 || since <= log->base_seq || since > until || until > log->last_seq)
        return false;
    if (log->last_seq - since > SSB_DAMAGE_LOG_LEN)
        return false;
    for (uint64_t seq = since + 1; seq <= until; seq++) {
        const struct ssb_damage_entry *e = &log->entries[seq % SSB_DAMAGE_LOG_LEN];

        if (e->seq != seq || e->n_rects == 0)
            return false;
        for (uint32_t i = 0; i < e->n_rects; i++)
            ssb_rects_union(out, n_out, &e->rects[i]);
    }
    return true;
}
