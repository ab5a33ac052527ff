/* The parser rejects every malformation, each with a reason: truncation,
 * trailing bytes, sizes off the type's rule, unknown types, header flags,
 * reserved fields, counts over their caps, bad strings, out-of-range fields,
 * inconsistent video chunks and wrong fd counts.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>

#include "samples.h"
#include "test-util.h"

TEST_MAIN_DEFINE_COUNTERS;

static uint8_t buf[SSB_PROTO_MAX_MSG_SIZE + 64];

static size_t encode_sample(enum ssb_msg_type type, enum sample_variant v, size_t *n_fds)
{
    struct ssb_msg m;
    ssize_t n;

    sample_msg(type, v, &m);
    n = ssb_proto_encode(&m, buf, sizeof(buf));
    CHECK(n > 0);
    *n_fds = ssb_proto_msg_fd_count(&m);
    return n > 0 ? (size_t)n : 0;
}

static void put_le(uint8_t *p, int width, uint64_t v)
{
    for (int i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void expect_reject_at(int line, size_t len, size_t n_fds, const char *want)
{
    struct ssb_msg out;
    const char *reason = NULL;
    int ret = ssb_proto_parse(buf, len, n_fds, &out, &reason);

    test_checks++;
    if (ret != -EPROTO || reason == NULL || strstr(reason, want) == NULL) {
        test_failures++;
        fprintf(stderr, "%s:%d: FAIL: want -EPROTO \"%s\", got %d \"%s\"\n", __FILE__, line,
                want, ret, reason ? reason : "(null)");
    }
}
#define expect_reject(...) expect_reject_at(__LINE__, __VA_ARGS__)

/* One field of a valid sample's body set to @value must be rejected. */
struct field_case {
    enum ssb_msg_type type;
    enum sample_variant variant;
    size_t off;   /* in the body */
    int width;    /* bytes */
    uint64_t value;
    const char *want;
};

#define T SAMPLE_TYPICAL
#define MX SAMPLE_MAX
static const struct field_case field_cases[] = {
    /* magic */
    { SSB_MSG_SERVER_HELLO, T, 0, 4, 0x44425354, "bad magic" },
    { SSB_MSG_CLIENT_HELLO, T, 0, 4, 0, "bad magic" },
    /* reserved fields */
    { SSB_MSG_CLIENT_HELLO, T, 40 + 4, 4, 1, "reserved" },
    { SSB_MSG_CLIENT_HELLO, T, 40 + 16 * 2 + 4, 4, 0x80000000, "reserved" },
    { SSB_MSG_SCANOUT_CREATE, T, 20, 4, 1, "reserved" },
    { SSB_MSG_SCANOUT_RESIZE, T, 20, 4, 0x100, "reserved" },
    { SSB_MSG_LOCAL_OFFER, T, 66, 2, 1, "reserved" },
    { SSB_MSG_LOCAL_DECLINE, T, 6, 2, 1, "reserved" },
    { SSB_MSG_LOCAL_WELCOME, T, 0, 4, 1, "reserved" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 44, 4, 1, "reserved" },
    { SSB_MSG_FRAME, T, 36, 4, 1, "reserved" },
    { SSB_MSG_VIDEO_FRAME, T, 20, 4, 1, "reserved" },
    { SSB_MSG_ERROR, T, 6, 2, 0x8000, "reserved" },
    /* counts over their caps, including ones whose size would overflow */
    { SSB_MSG_CLIENT_HELLO, T, 36, 4, 65, "n_formats above 64" },
    { SSB_MSG_CLIENT_HELLO, T, 36, 4, UINT32_MAX, "n_formats above 64" },
    { SSB_MSG_CLIENT_HELLO, T, 36, 4, 0x10000001, "n_formats above 64" },
    { SSB_MSG_CLIENT_HELLO, T, 36, 4, 2, "size does not match n_formats" },
    { SSB_MSG_FRAME, T, 32, 4, 65, "n_rects above 64" },
    { SSB_MSG_FRAME, T, 32, 4, UINT32_MAX, "n_rects above 64" },
    { SSB_MSG_FRAME, T, 32, 4, 3, "size does not match n_rects" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 40, 4, 0, "n_planes out of range" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 40, 4, 5, "n_planes out of range" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 40, 4, UINT32_MAX, "n_planes out of range" },
    { SSB_MSG_SLOT_ANNOUNCE, MX, 40, 4, 3, "size does not match n_planes" },
    /* string lengths */
    { SSB_MSG_LOCAL_OFFER, T, 64, 2, 1, "path_len out of range" },
    { SSB_MSG_LOCAL_OFFER, T, 64, 2, 109, "path_len out of range" },
    { SSB_MSG_LOCAL_OFFER, T, 64, 2, 30, "size does not match path_len" },
    { SSB_MSG_LOCAL_DECLINE, T, 4, 2, 0, "reason_len out of range" },
    { SSB_MSG_LOCAL_DECLINE, T, 4, 2, 257, "reason_len out of range" },
    { SSB_MSG_ERROR, T, 4, 2, 13, "size does not match reason_len" },
    { SSB_MSG_ERROR, T, 4, 2, 0xffff, "reason_len out of range" },
    /* strings: NUL exactly at the end of the length, no other */
    { SSB_MSG_LOCAL_OFFER, T, 68 + 30, 1, 'x', "not NUL-terminated" },
    { SSB_MSG_LOCAL_OFFER, T, 68 + 5, 1, 0, "embedded NUL" },
    { SSB_MSG_LOCAL_OFFER, T, 68, 1, 'r', "path not absolute" },
    { SSB_MSG_LOCAL_DECLINE, T, 8 + 11, 1, 'x', "not NUL-terminated" },
    { SSB_MSG_LOCAL_DECLINE, T, 8, 1, 0, "embedded NUL" },
    { SSB_MSG_ERROR, MX, 8 + 255, 1, '!', "not NUL-terminated" },
    { SSB_MSG_ERROR, MX, 8 + 254, 1, 0, "embedded NUL" },
    /* field ranges */
    { SSB_MSG_SERVER_HELLO, T, 20, 4, 0, "max_scanouts" },
    { SSB_MSG_SERVER_HELLO, T, 20, 4, 65, "max_scanouts" },
    { SSB_MSG_CLIENT_HELLO, T, 16, 4, 2, "unknown flag" },
    { SSB_MSG_CLIENT_HELLO, T, 20, 4, 1u << 6, "codec bit" },
    { SSB_MSG_CLIENT_HELLO, T, 20, 4, SSB_CODEC_BIT(SSB_CODEC_H264), "preferred codec" },
    { SSB_MSG_CLIENT_HELLO, T, 24, 4, 6, "preferred codec" },
    { SSB_MSG_CLIENT_HELLO, T, 28, 4, 0, "max_width" },
    { SSB_MSG_CLIENT_HELLO, T, 32, 4, 16385, "max_width" },
    { SSB_MSG_SCANOUT_CREATE, T, 0, 4, 64, "scanout_id" },
    { SSB_MSG_SCANOUT_CREATE, T, 8, 4, 0, "width/height" },
    { SSB_MSG_SCANOUT_RESIZE, T, 12, 4, 16385, "width/height" },
    { SSB_MSG_SCANOUT_CREATE, T, 16, 4, SSB_FOURCC('N', 'V', '1', '2'), "fourcc" },
    { SSB_MSG_SCANOUT_DESTROY, T, 0, 4, 64, "scanout_id" },
    { SSB_MSG_LOCAL_DECLINE, T, 0, 4, SSB_ERROR_CODE_COUNT, "error code" },
    { SSB_MSG_ERROR, T, 0, 4, UINT32_MAX, "error code" },
    { SSB_MSG_GOODBYE, T, 0, 4, SSB_ERROR_CODE_COUNT, "error code" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 0, 4, 64, "scanout_id" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 4, 4, 8, "slot_id" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 8, 4, 0, "kind" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 8, 4, 3, "kind" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 12, 4, 0, "width/height" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 16, 4, 16385, "width/height" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 20, 4, 0, "fourcc" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 24, 8, 5, "non-linear" },
    { SSB_MSG_SLOT_ANNOUNCE, MX, 8, 4, SSB_SLOT_SHM, "more than one plane" },
    /* slot planes outside the size the sender claims */
    { SSB_MSG_SLOT_ANNOUNCE, T, 32, 8, 4096 + 7936 * 1079 + 7680 - 1, "does not fit" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 48, 4, 4096 + 257, "does not fit" },
    { SSB_MSG_SLOT_ANNOUNCE, T, 52, 4, 1920 * 4 - 1, "stride smaller" },
    { SSB_MSG_SLOT_ANNOUNCE, MX, 48 + 8 * 3, 4, 1920 * 4 * 1080, "offset beyond" },
    { SSB_MSG_SLOT_RETIRE, T, 0, 4, 64, "scanout_id" },
    { SSB_MSG_SLOT_RETIRE, T, 4, 4, 8, "slot_id" },
    { SSB_MSG_SLOT_RELEASE, T, 0, 4, 64, "scanout_id" },
    { SSB_MSG_SLOT_RELEASE, T, 4, 4, UINT32_MAX, "slot_id" },
    { SSB_MSG_FRAME, T, 0, 4, 64, "scanout_id" },
    { SSB_MSG_FRAME, T, 4, 4, 8, "slot_id" },
    /* damage rects (rect 0 is {0, 0, 16, 8}) */
    { SSB_MSG_FRAME, T, 48, 4, 0, "empty" },
    { SSB_MSG_FRAME, T, 52, 4, 0, "empty" },
    { SSB_MSG_FRAME, T, 40, 4, 0xfffffff8, "overflows" },
    { SSB_MSG_FRAME, T, 44, 4, 0xfffffffc, "overflows" },
    { SSB_MSG_FRAME, T, 40, 4, 16384 - 15, "outside" },
    { SSB_MSG_FRAME, T, 52, 4, 16385, "outside" },
    { SSB_MSG_FEEDBACK, T, 0, 4, 64, "scanout_id" },
    { SSB_MSG_FEEDBACK, T, 4, 4, 8, "unknown flag" },
    { SSB_MSG_KEYFRAME_REQUEST, T, 0, 4, 64, "scanout_id" },
    { SSB_MSG_KEYFRAME_REQUEST, T, 4, 4, 0, "reason" },
    { SSB_MSG_KEYFRAME_REQUEST, T, 4, 4, 5, "reason" },
    /* video (typical: KEY|FIRST, frame 5000, chunk 0 + 1000) */
    { SSB_MSG_VIDEO_FRAME, T, 0, 4, 64, "scanout_id" },
    { SSB_MSG_VIDEO_FRAME, T, 4, 4, 0, "codec" },
    { SSB_MSG_VIDEO_FRAME, T, 4, 4, SSB_CODEC_COUNT, "codec" },
    { SSB_MSG_VIDEO_FRAME, T, 8, 4, 0x8 | 0x3, "unknown flag" },
    { SSB_MSG_VIDEO_FRAME, T, 12, 4, 0, "width/height" },
    { SSB_MSG_VIDEO_FRAME, T, 16, 4, 16385, "width/height" },
    { SSB_MSG_VIDEO_FRAME, T, 48, 4, 0, "frame_size" },
    { SSB_MSG_VIDEO_FRAME, T, 48, 4, SSB_PROTO_MAX_VIDEO_FRAME + 1, "frame_size" },
    { SSB_MSG_VIDEO_FRAME, T, 48, 4, 999, "past frame_size" },
    { SSB_MSG_VIDEO_FRAME, T, 52, 4, UINT32_MAX, "past frame_size" },
    { SSB_MSG_VIDEO_FRAME, T, 52, 4, 100, "FIRST_CHUNK" },
    { SSB_MSG_VIDEO_FRAME, T, 8, 4, SSB_VIDEO_KEYFRAME, "FIRST_CHUNK" },
    { SSB_MSG_VIDEO_FRAME, T, 8, 4, 0x7, "LAST_CHUNK" },
    { SSB_MSG_VIDEO_FRAME, T, 48, 4, 1000, "LAST_CHUNK" },
    { SSB_MSG_VIDEO_FRAME, MX, 8, 4, SSB_VIDEO_FIRST_CHUNK, "FIRST_CHUNK" },
    { SSB_MSG_VIDEO_FRAME, MX, 52, 4, SSB_PROTO_MAX_VIDEO_FRAME - 65471, "past frame_size" },
    { SSB_MSG_VIDEO_FRAME, MX, 52, 4, SSB_PROTO_MAX_VIDEO_FRAME - 65472, "LAST_CHUNK" },
};
#undef T
#undef MX

static void field_rejects(void)
{
    for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
        const struct field_case *c = &field_cases[i];
        size_t n_fds;
        size_t n = encode_sample(c->type, c->variant, &n_fds);
        struct ssb_msg out;

        /* the unmodified sample parses; the modified one must not */
        CHECK_MSG(ssb_proto_parse(buf, n, n_fds, &out, NULL) == 0, "case %zu", i);
        CHECK_MSG(SSB_PROTO_HEADER_SIZE + c->off + (size_t)c->width <= n, "case %zu", i);
        put_le(buf + SSB_PROTO_HEADER_SIZE + c->off, c->width, c->value);
        expect_reject_at((int)i, n, n_fds, c->want);
    }
}

static void header_rejects(void)
{
    size_t n_fds, n;
    struct ssb_msg out;

    n = encode_sample(SSB_MSG_KEEPALIVE, SAMPLE_TYPICAL, &n_fds);
    for (size_t len = 0; len < SSB_PROTO_HEADER_SIZE; len++)
        expect_reject(len, 0, "truncated header");
    CHECK(ssb_proto_parse(NULL, 0, 0, &out, NULL) == -EPROTO);
    CHECK(ssb_proto_parse(buf, n, 0, NULL, NULL) == -EINVAL);
    put_le(buf, 2, 0);
    expect_reject(n, 0, "unknown message type");
    put_le(buf, 2, SSB_MSG_TYPE_COUNT);
    expect_reject(n, 0, "unknown message type");
    put_le(buf, 2, 0xffff);
    expect_reject(n, 0, "unknown message type");
    put_le(buf, 2, SSB_MSG_KEEPALIVE);
    for (int bit = 0; bit < 16; bit++) {
        put_le(buf + 2, 2, 1u << bit);
        expect_reject(n, 0, "header flags");
    }
    put_le(buf + 2, 2, 0);
    CHECK(ssb_proto_parse(buf, n, 0, &out, NULL) == 0);
    /* sizes off the exact rule of a fixed-size type */
    put_le(buf + 4, 4, 15);
    expect_reject(n - 1, 0, "smaller");
    put_le(buf + 4, 4, 17);
    expect_reject(n + 1, 0, "larger");
    put_le(buf + 4, 4, UINT32_MAX);
    expect_reject(n, 0, "larger");
    /* variable types: below min, above max */
    n = encode_sample(SSB_MSG_VIDEO_FRAME, SAMPLE_TYPICAL, &n_fds);
    put_le(buf + 4, 4, 56);
    expect_reject(8 + 56, 0, "smaller");
    put_le(buf + 4, 4, SSB_PROTO_MAX_BODY_SIZE + 1);
    expect_reject(SSB_PROTO_MAX_MSG_SIZE + 1, 0, "larger");
    n = encode_sample(SSB_MSG_CLIENT_HELLO, SAMPLE_TYPICAL, &n_fds);
    put_le(buf + 4, 4, 39);
    expect_reject(8 + 39, 0, "smaller");
    put_le(buf + 4, 4, 40 + 16 * 65);
    expect_reject(8 + 40 + 16 * 65, 0, "larger");
}

/* Every type and variant: one byte short is a truncated body, one byte
 * more is trailing garbage. */
static void length_rejects(void)
{
    for (uint32_t t = 1; t < SSB_MSG_TYPE_COUNT; t++) {
        for (uint32_t v = 0; v < SAMPLE_VARIANT_COUNT; v++) {
            size_t n_fds;
            size_t n = encode_sample(t, v, &n_fds);

            expect_reject(n - 1, n_fds, "truncated body");
            expect_reject(SSB_PROTO_HEADER_SIZE, n_fds, "truncated body");
            buf[n] = 0;
            expect_reject(n + 1, n_fds, "bytes after the body");
        }
    }
}

/* A body grown by whole elements (with the header size following) no longer
 * matches its count: the exact rule, not just the [min, max] range. */
static void resized_rejects(void)
{
    static const struct {
        enum ssb_msg_type type;
        size_t grow;
        const char *want;
    } cases[] = {
        { SSB_MSG_CLIENT_HELLO, 16, "size does not match n_formats" },
        { SSB_MSG_FRAME, 16, "size does not match n_rects" },
        { SSB_MSG_SLOT_ANNOUNCE, 8, "size does not match n_planes" },
        { SSB_MSG_LOCAL_OFFER, 1, "size does not match path_len" },
        { SSB_MSG_LOCAL_DECLINE, 1, "size does not match reason_len" },
        { SSB_MSG_ERROR, 2, "size does not match reason_len" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n_fds;
        size_t n = encode_sample(cases[i].type, SAMPLE_TYPICAL, &n_fds);

        memset(buf + n, 0, cases[i].grow);
        put_le(buf + 4, 4, n - SSB_PROTO_HEADER_SIZE + cases[i].grow);
        expect_reject(n + cases[i].grow, n_fds, cases[i].want);
    }
}

static void fd_rejects(void)
{
    size_t n_fds, n;
    struct ssb_msg out;

    for (uint32_t t = 1; t < SSB_MSG_TYPE_COUNT; t++) {
        if (t == SSB_MSG_SLOT_ANNOUNCE)
            continue;
        n = encode_sample(t, SAMPLE_TYPICAL, &n_fds);
        CHECK(n_fds == 0);
        expect_reject(n, 1, "fds on a message that takes none");
    }
    n = encode_sample(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_TYPICAL, &n_fds); /* SHM */
    CHECK(n_fds == 1);
    CHECK(ssb_proto_parse(buf, n, 1, &out, NULL) == 0);
    expect_reject(n, 0, "fd count does not match");
    expect_reject(n, 2, "fd count does not match");
    expect_reject(n, SSB_PROTO_MAX_FDS + 1, "too many fds");
    expect_reject(n, SIZE_MAX, "too many fds");
    n = encode_sample(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_MAX, &n_fds); /* DMA-BUF, 4 planes */
    CHECK(n_fds == 4);
    CHECK(ssb_proto_parse(buf, n, 4, &out, NULL) == 0);
    expect_reject(n, 1, "fd count does not match");
    expect_reject(n, 3, "fd count does not match");
    expect_reject(n, 5, "too many fds");
}

int main(void)
{
    field_rejects();
    header_rejects();
    length_rejects();
    resized_rejects();
    fd_rejects();
    return test_finish("reject");
}
