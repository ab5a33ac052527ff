/* libFuzzer target: the client's checks of a slot's fds (client/slot-check.c),
 * the code ssb_slot_new() runs on what it measured of a hostile server's
 * memfd or DMA-BUF before mapping it.  Cross-checked against a reference in
 * 128-bit arithmetic; an accepted SHM slot must map every pixel the frame
 * API exposes and nothing past the memfd.
 *
 * Input layout (little-endian, missing bytes read as 0):
 *   kind, width, height, fourcc selector, n_planes (u32 each), modifier,
 *   size (u64), 4 x {offset, stride} (u32), seals (u32), page selector
 *   (u32), n_fds (u32), 4 x fd size (u64)
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>

#include <spice-sideband/proto.h>

#include "../../client/slot-check.h"
#include "fuzz.h"

static const uint64_t pages[] = { 4096, 16384, 65536 };

static void check_shm(const struct ssb_msg_slot_announce *s, int seals, uint64_t fd_size,
                      uint64_t page)
{
    size_t map_size = 0;
    const char *reason = ssb_slot_check_shm(s, seals, fd_size, page, &map_size);
    bool expect = s->kind == SSB_SLOT_SHM && seals >= 0 && (seals & F_SEAL_SHRINK) && fd_size > 0 && fd_size >= s->size &&
                  fuzz_layout_reference(s, fd_size);

    FUZZ_CHECK((reason == NULL) == expect);
    if (reason != NULL)
        return;
    /* The whole picture is inside the map, the map inside the fd, and it
     * ends on the page after the picture's last byte or at the end of the fd. */
    FUZZ_CHECK(map_size > 0 && map_size <= fd_size);
    FUZZ_CHECK(fuzz_pixels_end(s) <= map_size);
    FUZZ_CHECK(map_size % page == 0 || map_size == fd_size);
    FUZZ_CHECK(map_size < fuzz_pixels_end(s) + page);
}

static void check_dmabuf(const struct ssb_msg_slot_announce *s, const uint64_t *sizes,
                         uint32_t n_fds)
{
    const char *reason = ssb_slot_check_dmabuf(s, sizes, n_fds);
    bool expect = s->kind == SSB_SLOT_DMABUF && n_fds > 0 && n_fds == s->n_planes && sizes[0] > 0 && sizes[0] >= s->size &&
                  fuzz_layout_reference(s, sizes[0]);

    for (uint32_t i = 1; expect && i < s->n_planes; i++)
        if (s->planes[i].offset >= sizes[i])
            expect = false;
    FUZZ_CHECK((reason == NULL) == expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size, 0 };
    struct ssb_msg_slot_announce s;
    uint64_t sizes[SSB_PROTO_MAX_FDS];
    uint32_t n_fds;
    uint64_t page;
    int seals;

    fuzz_read_layout(&in, &s, &s.size);
    seals = (int)fuzz_in32(&in);
    page = pages[fuzz_in32(&in) % (sizeof(pages) / sizeof(pages[0]))];
    n_fds = fuzz_in32(&in) % (SSB_PROTO_MAX_FDS + 1);
    for (uint32_t i = 0; i < SSB_PROTO_MAX_FDS; i++)
        sizes[i] = fuzz_in64(&in);

    check_shm(&s, seals, sizes[0], page);
    check_dmabuf(&s, sizes, n_fds);
    return 0;
}
