/* Damage history of one scanout, for buffer-age copies (like
 * EGL_EXT_buffer_age): a slot last filled with frame N needs the union of
 * the damage of frames N+1..now, no more.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_DAMAGE_H
#define SSB_DAMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "spice-sideband/proto.h"

/* Frames remembered; an older slot gets a full copy. */
#define SSB_DAMAGE_LOG_LEN 16u

struct ssb_damage_entry {
    uint64_t seq;
    uint32_t n_rects;  /* 0 = whole surface */
    struct ssb_rect rects[SSB_PROTO_MAX_RECTS];
};

struct ssb_damage_log {
    uint32_t width, height;
    uint64_t base_seq;  /* no history at or before this seq */
    uint64_t last_seq;
    struct ssb_damage_entry entries[SSB_DAMAGE_LOG_LEN];
};

/* Forgets all history; frames after @seq start a new surface. */
void ssb_damage_log_reset(struct ssb_damage_log *log, uint32_t width, uint32_t height,
                          uint64_t seq);
/* Records frame @seq (must be last_seq + 1) with @n rects (borrowed,
 * already validated; 0 = whole surface). */
void ssb_damage_log_add(struct ssb_damage_log *log, uint64_t seq, const struct ssb_rect *rects,
                        uint32_t n);
/* Union of the damage of frames (@since, @until] into @out (room for
 * SSB_PROTO_MAX_RECTS).  Returns false when that is the whole surface
 * (history too short, a full-damage frame, @since == 0 or from before the
 * last reset); true with *@n_out == 0 when nothing changed. */
bool ssb_damage_log_since(const struct ssb_damage_log *log, uint64_t since, uint64_t until,
                          struct ssb_rect *out, uint32_t *n_out);

/* Adds @add to the rect set @set (*@n of SSB_PROTO_MAX_RECTS), collapsing
 * to the bounding box when the set is full. */
void ssb_rects_union(struct ssb_rect *set, uint32_t *n, const struct ssb_rect *add);

#endif /* SSB_DAMAGE_H */
