/* Shared declarations of the fuzz targets and the replay driver.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <spice-sideband/proto.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: report and abort so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                   \
            abort();                                                          \
        }                                                                     \
    } while (0)

/* Input read as little-endian words; bytes past the end read as 0. */
struct fuzz_input {
    const uint8_t *p;
    size_t len, off;
};

static inline uint32_t fuzz_in32(struct fuzz_input *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++, in->off++)
        if (in->off < in->len)
            v |= (uint32_t)in->p[in->off] << (8 * i);
    return v;
}

static inline uint64_t fuzz_in64(struct fuzz_input *in)
{
    uint64_t lo = fuzz_in32(in);
    return lo | (uint64_t)fuzz_in32(in) << 32;
}

/* A slot layout, as make-corpus writes it: kind, width, height, fourcc
 * selector (0 = XR24; the last one is not a supported format), n_planes
 * (u32 each), modifier (odd = LINEAR), @size (u64), 4 x {offset, stride}
 * (u32). */
static inline void fuzz_read_layout(struct fuzz_input *in, struct ssb_msg_slot_announce *s,
                                    uint64_t *size)
{
    static const uint32_t fourccs[] = {
        SSB_FORMAT_XRGB8888, SSB_FORMAT_ARGB8888, SSB_FORMAT_XBGR8888, SSB_FORMAT_ABGR8888,
        SSB_FOURCC('N', 'V', '1', '2'),
    };

    memset(s, 0, sizeof(*s));
    s->kind = fuzz_in32(in) % 4;
    s->width = fuzz_in32(in);
    s->height = fuzz_in32(in);
    s->fourcc = fourccs[fuzz_in32(in) % (sizeof(fourccs) / sizeof(fourccs[0]))];
    s->n_planes = fuzz_in32(in);
    s->modifier = fuzz_in64(in);
    if (s->modifier & 1)
        s->modifier = SSB_MODIFIER_LINEAR;
    *size = fuzz_in64(in);
    for (uint32_t i = 0; i < SSB_PROTO_MAX_PLANES; i++) {
        s->planes[i].offset = fuzz_in32(in);
        s->planes[i].stride = fuzz_in32(in);
    }
}

/* One past the last byte of plane 0's picture (row h-1, pixel w-1), in
 * 128 bits so that it cannot overflow. */
static inline unsigned __int128 fuzz_pixels_end(const struct ssb_msg_slot_announce *s)
{
    return (unsigned __int128)s->planes[0].stride * (s->height - 1) +
           (uint64_t)s->width * 4 + s->planes[0].offset;
}

/* Spec 4.5's layout rules, written out again as the reference the
 * validators are checked against. */
static inline bool fuzz_layout_reference(const struct ssb_msg_slot_announce *s, uint64_t fd_size)
{
    if (s->width < 1 || s->width > SSB_PROTO_MAX_DIMENSION || s->height < 1 ||
        s->height > SSB_PROTO_MAX_DIMENSION || s->n_planes < 1 ||
        s->n_planes > SSB_PROTO_MAX_PLANES || ssb_proto_format_bpp(s->fourcc) != 4 ||
        (s->kind != SSB_SLOT_SHM && s->kind != SSB_SLOT_DMABUF))
        return false;
    if (s->kind == SSB_SLOT_DMABUF && s->modifier != SSB_MODIFIER_LINEAR) {
        for (uint32_t i = 0; i < s->n_planes; i++)
            if (s->planes[i].offset >= fd_size)
                return false;
        return true;
    }
    return s->planes[0].stride >= (uint64_t)s->width * 4 && fuzz_pixels_end(s) <= fd_size;
}
