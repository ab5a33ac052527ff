/* ssb_proto_check_rects() and ssb_proto_check_slot_layout(): edges,
 * overflow of x + width and of stride * height, planes outside the fd.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>

#include "samples.h"
#include "test-util.h"

TEST_MAIN_DEFINE_COUNTERS;

static int rects1(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t sw, uint32_t sh)
{
    struct ssb_rect r = { x, y, w, h };
    const char *reason = NULL;
    int ret = ssb_proto_check_rects(&r, 1, sw, sh, &reason);

    if (ret != 0 && (reason == NULL || reason[0] == '\0'))
        return -1000; /* a reject must say why */
    return ret;
}

static void rects(void)
{
    struct ssb_rect many[3] = { { 0, 0, 1, 1 }, { 10, 10, 90, 90 }, { 99, 0, 1, 100 } };

    CHECK(ssb_proto_check_rects(NULL, 0, 100, 100, NULL) == 0);
    CHECK(ssb_proto_check_rects(NULL, 1, 100, 100, NULL) == -EINVAL);
    CHECK(ssb_proto_check_rects(many, 3, 100, 100, NULL) == 0);
    CHECK(ssb_proto_check_rects(many, 3, 99, 100, NULL) == -EPROTO);
    CHECK(rects1(0, 0, 100, 100, 100, 100) == 0);
    CHECK(rects1(1, 0, 100, 100, 100, 100) == -EPROTO);
    CHECK(rects1(0, 1, 100, 100, 100, 100) == -EPROTO);
    CHECK(rects1(0, 0, 0, 10, 100, 100) == -EPROTO);
    CHECK(rects1(0, 0, 10, 0, 100, 100) == -EPROTO);
    CHECK(rects1(100, 0, 1, 1, 100, 100) == -EPROTO);
    CHECK(rects1(UINT32_MAX, 0, 2, 1, UINT32_MAX, 100) == -EPROTO);
    CHECK(rects1(0, UINT32_MAX, 1, 1, 100, UINT32_MAX) == -EPROTO);
    CHECK(rects1(UINT32_MAX - 1, 0, 1, 1, UINT32_MAX, 1) == 0);
    CHECK(rects1(0, 0, 1, 1, 0, 0) == -EPROTO);
}

static int layout(const struct ssb_msg_slot_announce *s, uint64_t fd_size)
{
    const char *reason = NULL;
    int ret = ssb_proto_check_slot_layout(s, fd_size, &reason);

    if (ret != 0 && (reason == NULL || reason[0] == '\0'))
        return -1000;
    return ret;
}

static struct ssb_msg_slot_announce shm(uint32_t w, uint32_t h, uint32_t off, uint32_t stride)
{
    return (struct ssb_msg_slot_announce){
        .kind = SSB_SLOT_SHM, .width = w, .height = h, .fourcc = SSB_FORMAT_XRGB8888,
        .modifier = SSB_MODIFIER_LINEAR, .n_planes = 1, .planes = { { off, stride } } };
}

static void slot_layout(void)
{
    struct ssb_msg_slot_announce s = shm(1920, 1080, 0, 7680);
    const uint64_t big = (uint64_t)UINT32_MAX * 16383 + 16384 * 4 + UINT32_MAX;

    CHECK(ssb_proto_check_slot_layout(NULL, 0, NULL) == -EINVAL);
    CHECK(layout(&s, 7680ull * 1080) == 0);
    CHECK(layout(&s, 7680ull * 1080 - 1) == -EPROTO);
    CHECK(layout(&s, 0) == -EPROTO);
    /* the last row needs only width * bpp, not a whole stride */
    s = shm(100, 10, 64, 512);
    CHECK(layout(&s, 64 + 512 * 9 + 400) == 0);
    CHECK(layout(&s, 64 + 512 * 9 + 399) == -EPROTO);
    s.planes[0].stride = 399;
    CHECK(layout(&s, UINT64_MAX) == -EPROTO);
    /* stride * height beyond 32 bits must not wrap */
    s = shm(1, 16384, 0, 1u << 20);
    CHECK(layout(&s, (1ull << 20) * 16383 + 4) == 0);
    CHECK(layout(&s, (1ull << 20) * 16383 + 3) == -EPROTO);
    CHECK(layout(&s, 4096) == -EPROTO);
    s = shm(16384, 16384, UINT32_MAX, UINT32_MAX);
    CHECK(layout(&s, UINT64_MAX) == 0);
    CHECK(layout(&s, big) == 0);
    CHECK(layout(&s, big - 1) == -EPROTO);
    /* fields the layout depends on */
    s = shm(0, 10, 0, 4096);
    CHECK(layout(&s, UINT64_MAX) == -EPROTO);
    s = shm(10, 0, 0, 4096);
    CHECK(layout(&s, UINT64_MAX) == -EPROTO);
    s = shm(16385, 10, 0, UINT32_MAX);
    CHECK(layout(&s, UINT64_MAX) == -EPROTO);
    s = shm(10, 10, 0, 4096);
    s.fourcc = SSB_FOURCC('N', 'V', '1', '2');
    CHECK(layout(&s, UINT64_MAX) == -EPROTO);
    s = shm(10, 10, 0, 4096);
    s.n_planes = 0;
    CHECK(layout(&s, UINT64_MAX) == -EPROTO);
    s.n_planes = SSB_PROTO_MAX_PLANES + 1;
    CHECK(layout(&s, UINT64_MAX) == -EPROTO);
    s = shm(10, 10, 0, 4096);
    s.kind = 0;
    CHECK(layout(&s, UINT64_MAX) == -EPROTO);
}

static void dmabuf_layout(void)
{
    struct ssb_msg_slot_announce s = shm(64, 64, 0, 256);

    s.kind = SSB_SLOT_DMABUF;
    /* linear: plane 0 like SHM */
    CHECK(layout(&s, 256 * 64) == 0);
    CHECK(layout(&s, 256 * 64 - 1) == -EPROTO);
    /* tiled: every offset inside the buffer, strides are the driver's */
    s.modifier = 0x0100000000000002ull;
    s.n_planes = 2;
    s.planes[0].stride = 1;
    s.planes[1] = (struct ssb_plane){ 8191, 128 };
    CHECK(layout(&s, 8192) == 0);
    CHECK(layout(&s, 8191) == -EPROTO);
    s.planes[1].offset = 0;
    s.planes[0].offset = 8192;
    CHECK(layout(&s, 8192) == -EPROTO);
}

/* The fd count a SLOT_ANNOUNCE must carry. */
static void fd_counts(void)
{
    struct ssb_msg m;

    sample_msg(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_TYPICAL, &m);
    CHECK(ssb_proto_msg_fd_count(&m) == 1);
    sample_msg(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_MAX, &m);
    CHECK(ssb_proto_msg_fd_count(&m) == SSB_PROTO_MAX_PLANES);
    m.u.slot_announce.n_planes = 2;
    CHECK(ssb_proto_msg_fd_count(&m) == 2);
    m.u.slot_announce.kind = 7;
    CHECK(ssb_proto_msg_fd_count(&m) == 0);
    sample_msg(SSB_MSG_FRAME, SAMPLE_TYPICAL, &m);
    CHECK(ssb_proto_msg_fd_count(&m) == 0);
    CHECK(ssb_proto_msg_fd_count(NULL) == 0);
}

/* SERVER_HELLO's codec set is carried as is, like caps (spec 3.2): a 1.0
 * client must not reject a later server's new codec bits; it intersects. */
static void server_hello_codec_bits(void)
{
    uint8_t wire[SSB_PROTO_MAX_MSG_SIZE];
    struct ssb_msg m, out;
    ssize_t n;

    sample_msg(SSB_MSG_SERVER_HELLO, SAMPLE_TYPICAL, &m);
    m.u.server_hello.codecs = SSB_CODEC_BIT(SSB_CODEC_VP8) | (1u << 6) | (1u << 31);
    n = ssb_proto_encode(&m, wire, sizeof(wire));
    CHECK(n == SSB_PROTO_HEADER_SIZE + 24);
    CHECK(ssb_proto_parse(wire, (size_t)n, 0, &out, NULL) == 0);
    CHECK(out.u.server_hello.codecs == m.u.server_hello.codecs);
    CHECK((out.u.server_hello.codecs & SSB_CODEC_ALL_MASK) == SSB_CODEC_BIT(SSB_CODEC_VP8));
}

int main(void)
{
    server_hello_codec_bits();
    rects();
    slot_layout();
    dmabuf_layout();
    fd_counts();
    return test_finish("validate");
}
