/* libFuzzer target: ssb_proto_check_slot_layout() and ssb_proto_check_rects()
 * on structs decoded straight from the input, cross-checked against a
 * reference computed in 128-bit arithmetic.
 *
 * Input layout (little-endian, missing bytes read as 0):
 *   slot: kind, width, height, fourcc selector, n_planes (u32 each),
 *         modifier, fd_size (u64), 4 x {offset, stride} (u32)
 *   rects: surface width, height, n_rects (u32), then n_rects x 4 u32
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <spice-sideband/proto.h>

#include "fuzz.h"

struct input {
    const uint8_t *p;
    size_t len, off;
};

static uint32_t in32(struct input *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++, in->off++)
        if (in->off < in->len)
            v |= (uint32_t)in->p[in->off] << (8 * i);
    return v;
}

static uint64_t in64(struct input *in)
{
    uint64_t lo = in32(in);
    return lo | (uint64_t)in32(in) << 32;
}

static const uint32_t fourccs[] = {
    SSB_FORMAT_XRGB8888, SSB_FORMAT_ARGB8888, SSB_FORMAT_XBGR8888, SSB_FORMAT_ABGR8888,
    SSB_FOURCC('N', 'V', '1', '2'),
};

static bool slot_reference(const struct ssb_msg_slot_announce *s, uint64_t fd_size)
{
    unsigned __int128 end;

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
    if (s->planes[0].stride < (uint64_t)s->width * 4)
        return false;
    end = (unsigned __int128)s->planes[0].stride * (s->height - 1) + (uint64_t)s->width * 4 +
          s->planes[0].offset;
    return end <= fd_size;
}

static void fuzz_slot(struct input *in)
{
    struct ssb_msg_slot_announce s;
    uint64_t fd_size;
    const char *reason = NULL;
    int ret;

    memset(&s, 0, sizeof(s));
    s.kind = in32(in) % 4;
    s.width = in32(in);
    s.height = in32(in);
    s.fourcc = fourccs[in32(in) % (sizeof(fourccs) / sizeof(fourccs[0]))];
    s.n_planes = in32(in);
    s.modifier = in64(in);
    if (s.modifier & 1)
        s.modifier = SSB_MODIFIER_LINEAR;
    fd_size = in64(in);
    for (uint32_t i = 0; i < SSB_PROTO_MAX_PLANES; i++) {
        s.planes[i].offset = in32(in);
        s.planes[i].stride = in32(in);
    }
    ret = ssb_proto_check_slot_layout(&s, fd_size, &reason);
    FUZZ_CHECK(ret == 0 || (ret == -EPROTO && reason != NULL));
    FUZZ_CHECK((ret == 0) == slot_reference(&s, fd_size));
}

static void fuzz_rects(struct input *in)
{
    struct ssb_rect rects[SSB_PROTO_MAX_RECTS];
    uint32_t width = in32(in), height = in32(in);
    uint32_t n = in32(in) % (SSB_PROTO_MAX_RECTS + 1);
    bool ok = true;
    int ret;

    for (uint32_t i = 0; i < n; i++) {
        struct ssb_rect *r = &rects[i];
        r->x = in32(in);
        r->y = in32(in);
        r->width = in32(in);
        r->height = in32(in);
        if (r->width == 0 || r->height == 0 || (uint64_t)r->x + r->width > width ||
            (uint64_t)r->y + r->height > height)
            ok = false;
    }
    ret = ssb_proto_check_rects(rects, n, width, height, NULL);
    FUZZ_CHECK(ret == 0 || ret == -EPROTO);
    FUZZ_CHECK((ret == 0) == ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size, 0 };

    fuzz_slot(&in);
    fuzz_rects(&in);
    return 0;
}
