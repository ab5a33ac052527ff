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

static void fuzz_slot(struct fuzz_input *in)
{
    struct ssb_msg_slot_announce s;
    uint64_t fd_size;
    const char *reason = NULL;
    int ret;

    fuzz_read_layout(in, &s, &fd_size);
    ret = ssb_proto_check_slot_layout(&s, fd_size, &reason);
    FUZZ_CHECK(ret == 0 || (ret == -EPROTO && reason != NULL));
    FUZZ_CHECK((ret == 0) == fuzz_layout_reference(&s, fd_size));
}

static void fuzz_rects(struct fuzz_input *in)
{
    struct ssb_rect rects[SSB_PROTO_MAX_RECTS];
    uint32_t width = fuzz_in32(in), height = fuzz_in32(in);
    uint32_t n = fuzz_in32(in) % (SSB_PROTO_MAX_RECTS + 1);
    bool ok = true;
    int ret;

    for (uint32_t i = 0; i < n; i++) {
        struct ssb_rect *r = &rects[i];
        r->x = fuzz_in32(in);
        r->y = fuzz_in32(in);
        r->width = fuzz_in32(in);
        r->height = fuzz_in32(in);
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
    struct fuzz_input in = { data, size, 0 };

    fuzz_slot(&in);
    fuzz_rects(&in);
    return 0;
}
