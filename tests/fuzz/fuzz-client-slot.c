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
static const uint64_t pages[] = { 4096, 16384, 65536 };

/* One past the last byte a consumer of the frame reads: row h-1, pixel w-1. */
static unsigned __int128 pixels_end(const struct ssb_msg_slot_announce *s)
{
    return (unsigned __int128)s->planes[0].stride * (s->height - 1) +
           (uint64_t)s->width * 4 + s->planes[0].offset;
}

static bool layout_reference(const struct ssb_msg_slot_announce *s, uint64_t fd_size)
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
    return s->planes[0].stride >= (uint64_t)s->width * 4 && pixels_end(s) <= fd_size;
}

static void check_shm(const struct ssb_msg_slot_announce *s, int seals, uint64_t fd_size,
                      uint64_t page)
{
    size_t map_size = 0;
    const char *reason = ssb_slot_check_shm(s, seals, fd_size, page, &map_size);
    bool expect = s->kind == SSB_SLOT_SHM && seals >= 0 && (seals & F_SEAL_SHRINK) && fd_size > 0 && fd_size >= s->size &&
                  layout_reference(s, fd_size);

    FUZZ_CHECK((reason == NULL) == expect);
    if (reason != NULL)
        return;
    /* The whole picture is inside the map, the map inside the fd, and it
     * ends on the page after the picture's last byte or at the end of the fd. */
    FUZZ_CHECK(map_size > 0 && map_size <= fd_size);
    FUZZ_CHECK(pixels_end(s) <= map_size);
    FUZZ_CHECK(map_size % page == 0 || map_size == fd_size);
    FUZZ_CHECK(map_size < pixels_end(s) + page);
}

static void check_dmabuf(const struct ssb_msg_slot_announce *s, const uint64_t *sizes,
                         uint32_t n_fds)
{
    const char *reason = ssb_slot_check_dmabuf(s, sizes, n_fds);
    bool expect = s->kind == SSB_SLOT_DMABUF && n_fds > 0 && n_fds == s->n_planes && sizes[0] > 0 && sizes[0] >= s->size &&
                  layout_reference(s, sizes[0]);

    for (uint32_t i = 1; expect && i < s->n_planes; i++)
        if (s->planes[i].offset >= sizes[i])
            expect = false;
    FUZZ_CHECK((reason == NULL) == expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size, 0 };
    struct ssb_msg_slot_announce s;
    uint64_t sizes[SSB_PROTO_MAX_FDS];
    uint32_t n_fds;
    uint64_t page;
    int seals;

    memset(&s, 0, sizeof(s));
    s.kind = in32(&in) % 4;
    s.width = in32(&in);
    s.height = in32(&in);
    s.fourcc = fourccs[in32(&in) % (sizeof(fourccs) / sizeof(fourccs[0]))];
    s.n_planes = in32(&in);
    s.modifier = in64(&in);
    if (s.modifier & 1)
        s.modifier = SSB_MODIFIER_LINEAR;
    s.size = in64(&in);
    for (uint32_t i = 0; i < SSB_PROTO_MAX_PLANES; i++) {
        s.planes[i].offset = in32(&in);
        s.planes[i].stride = in32(&in);
    }
    seals = (int)in32(&in);
    page = pages[in32(&in) % (sizeof(pages) / sizeof(pages[0]))];
    n_fds = in32(&in) % (SSB_PROTO_MAX_FDS + 1);
    for (uint32_t i = 0; i < SSB_PROTO_MAX_FDS; i++)
        sizes[i] = in64(&in);

    check_shm(&s, seals, sizes[0], page);
    check_dmabuf(&s, sizes, n_fds);
    return 0;
}
