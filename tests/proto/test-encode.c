/* The encoder refuses what the parser would reject (-EINVAL) and short
 * buffers (-ENOSPC), and never emits bytes the parser rejects: randomly
 * mutated sample structs either fail to encode or round-trip.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>

#include "samples.h"
#include "test-util.h"

TEST_MAIN_DEFINE_COUNTERS;

static uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
static uint8_t buf2[SSB_PROTO_MAX_MSG_SIZE];

static void expect_einval_at(int line, const struct ssb_msg *m)
{
    ssize_t n = ssb_proto_encode(m, buf, sizeof(buf));

    test_checks++;
    if (n != -EINVAL || ssb_proto_encoded_size(m) != 0) {
        test_failures++;
        fprintf(stderr, "%s:%d: FAIL: %s encoded (%zd), want -EINVAL\n", __FILE__, line,
                ssb_proto_msg_name(m->type), n);
    }
}
#define expect_einval(m) expect_einval_at(__LINE__, m)

static void short_buffers(void)
{
    for (uint32_t t = 1; t < SSB_MSG_TYPE_COUNT; t++) {
        for (uint32_t v = 0; v < SAMPLE_VARIANT_COUNT; v++) {
            struct ssb_msg m;
            size_t need;

            sample_msg(t, v, &m);
            need = ssb_proto_encoded_size(&m);
            CHECK(need > SSB_PROTO_HEADER_SIZE);
            CHECK(ssb_proto_encode(&m, buf, need - 1) == -ENOSPC);
            CHECK(ssb_proto_encode(&m, buf, 4) == -ENOSPC);
            CHECK(ssb_proto_encode(&m, NULL, 0) == -ENOSPC);
            CHECK(ssb_proto_encode(&m, buf, need) == (ssize_t)need);
        }
    }
}

static void misuse(void)
{
    struct ssb_msg m;

    CHECK(ssb_proto_encode(NULL, buf, sizeof(buf)) == -EINVAL);
    CHECK(ssb_proto_encoded_size(NULL) == 0);
    sample_msg(SSB_MSG_KEEPALIVE, SAMPLE_TYPICAL, &m);
    CHECK(ssb_proto_encode(&m, NULL, 100) == -EINVAL);
    m.type = (enum ssb_msg_type)0;
    expect_einval(&m);
    m.type = SSB_MSG_TYPE_COUNT;
    expect_einval(&m);
    m.type = SSB_MSG_KEEPALIVE;
    m.flags = 1;
    expect_einval(&m);
    /* invalid beats short: -EINVAL even with no room */
    CHECK(ssb_proto_encode(&m, buf, 1) == -EINVAL);
}

/* Struct-level counterparts of the parser's rejections. */
static void invalid_structs(void)
{
    struct ssb_msg m;

#define CASE(type, variant, stmt)            \
    do {                                     \
        sample_msg(type, variant, &m);       \
        stmt;                                \
        expect_einval(&m);                   \
    } while (0)
    CASE(SSB_MSG_SERVER_HELLO, SAMPLE_TYPICAL, m.u.server_hello.max_scanouts = 65);
    CASE(SSB_MSG_CLIENT_HELLO, SAMPLE_TYPICAL, m.u.client_hello.n_formats = 65);
    CASE(SSB_MSG_CLIENT_HELLO, SAMPLE_TYPICAL, m.u.client_hello.n_formats = UINT32_MAX);
    CASE(SSB_MSG_CLIENT_HELLO, SAMPLE_TYPICAL, m.u.client_hello.flags = 4);
    CASE(SSB_MSG_CLIENT_HELLO, SAMPLE_MIN, m.u.client_hello.preferred_codec = SSB_CODEC_H264);
    CASE(SSB_MSG_CLIENT_HELLO, SAMPLE_TYPICAL, m.u.client_hello.max_height = 0);
    CASE(SSB_MSG_SCANOUT_CREATE, SAMPLE_TYPICAL, m.u.scanout.flags = 1);
    CASE(SSB_MSG_SCANOUT_RESIZE, SAMPLE_TYPICAL, m.u.scanout.scanout_id = 64);
    CASE(SSB_MSG_SCANOUT_CREATE, SAMPLE_TYPICAL, m.u.scanout.fourcc = 0);
    CASE(SSB_MSG_SCANOUT_DESTROY, SAMPLE_TYPICAL, m.u.scanout_destroy.scanout_id = 64);
    CASE(SSB_MSG_LOCAL_OFFER, SAMPLE_TYPICAL, m.u.local_offer.path[0] = 'x');
    CASE(SSB_MSG_LOCAL_OFFER, SAMPLE_TYPICAL, m.u.local_offer.path[0] = '\0');
    CASE(SSB_MSG_LOCAL_OFFER, SAMPLE_MAX,
         memset(m.u.local_offer.path, '/', sizeof(m.u.local_offer.path)));
    CASE(SSB_MSG_LOCAL_DECLINE, SAMPLE_MAX,
         memset(m.u.local_decline.reason, 'x', sizeof(m.u.local_decline.reason)));
    CASE(SSB_MSG_LOCAL_DECLINE, SAMPLE_TYPICAL, m.u.local_decline.code = 99);
    CASE(SSB_MSG_ERROR, SAMPLE_MAX, m.u.error.reason[SSB_PROTO_MAX_REASON - 1] = 'x');
    CASE(SSB_MSG_LOCAL_WELCOME, SAMPLE_TYPICAL, m.u.local_welcome.flags = 1);
    CASE(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_TYPICAL, m.u.slot_announce.n_planes = 0);
    CASE(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_MAX, m.u.slot_announce.n_planes = 5);
    CASE(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_TYPICAL, m.u.slot_announce.n_planes = 2);
    CASE(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_TYPICAL, m.u.slot_announce.modifier = 3);
    CASE(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_TYPICAL, m.u.slot_announce.size -= 257);
    CASE(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_TYPICAL, m.u.slot_announce.kind = 0);
    CASE(SSB_MSG_SLOT_ANNOUNCE, SAMPLE_TYPICAL, m.u.slot_announce.slot_id = 8);
    CASE(SSB_MSG_SLOT_RETIRE, SAMPLE_TYPICAL, m.u.slot_retire.slot_id = 8);
    CASE(SSB_MSG_FRAME, SAMPLE_TYPICAL, m.u.frame.n_rects = 65);
    CASE(SSB_MSG_FRAME, SAMPLE_TYPICAL, m.u.frame.rects[1].width = 0);
    CASE(SSB_MSG_FRAME, SAMPLE_TYPICAL, m.u.frame.rects[1].x = UINT32_MAX);
    CASE(SSB_MSG_SLOT_RELEASE, SAMPLE_TYPICAL, m.u.slot_release.slot_id = 8);
    CASE(SSB_MSG_VIDEO_FRAME, SAMPLE_TYPICAL, m.u.video_frame.payload = NULL);
    CASE(SSB_MSG_VIDEO_FRAME, SAMPLE_TYPICAL, m.u.video_frame.payload_size = 0);
    CASE(SSB_MSG_VIDEO_FRAME, SAMPLE_MAX, m.u.video_frame.payload_size += 1);
    CASE(SSB_MSG_VIDEO_FRAME, SAMPLE_TYPICAL, m.u.video_frame.codec = 0);
    CASE(SSB_MSG_VIDEO_FRAME, SAMPLE_TYPICAL, m.u.video_frame.flags = 0);
    CASE(SSB_MSG_VIDEO_FRAME, SAMPLE_TYPICAL, m.u.video_frame.chunk_offset = 4500);
    CASE(SSB_MSG_VIDEO_FRAME, SAMPLE_MIN, m.u.video_frame.frame_size = 2);
    CASE(SSB_MSG_FEEDBACK, SAMPLE_TYPICAL, m.u.feedback.flags = 8);
    CASE(SSB_MSG_KEYFRAME_REQUEST, SAMPLE_TYPICAL, m.u.keyframe_request.reason = 0);
    CASE(SSB_MSG_GOODBYE, SAMPLE_TYPICAL, m.u.goodbye.code = SSB_ERROR_CODE_COUNT);
#undef CASE
}

/* Random mutations of valid structs: whatever encodes must parse back
 * (with its own fd count) and re-encode to the same bytes. */
static void mutated_structs(void)
{
    static const uint8_t values[] = { 0, 1, 2, 3, 4, 5, 7, 8, 63, 64, 0x7f, 0x80, 0xff };
    uint64_t rng = 0x5eed;
    unsigned encoded = 0, refused = 0;

    for (uint32_t i = 0; i < 200000; i++) {
        uint32_t t = 1 + (uint32_t)(sample_rand(&rng) % (SSB_MSG_TYPE_COUNT - 1));
        uint32_t n_mut = 1 + (uint32_t)(sample_rand(&rng) % 4);
        struct ssb_msg m, out;
        const char *reason = "";
        uint8_t *raw = (uint8_t *)&m.u;
        ssize_t n;

        sample_msg(t, (enum sample_variant)(sample_rand(&rng) % SAMPLE_VARIANT_COUNT), &m);
        const uint8_t *payload = m.u.video_frame.payload;
        for (uint32_t k = 0; k < n_mut; k++) {
            size_t at = sample_rand(&rng) % 160; /* the fields, not the arrays' tails */
            raw[at] = values[sample_rand(&rng) % sizeof(values)];
        }
        if (t == SSB_MSG_VIDEO_FRAME)
            m.u.video_frame.payload = payload;
        n = ssb_proto_encode(&m, buf, sizeof(buf));
        if (n < 0) {
            CHECK(n == -EINVAL);
            refused++;
            continue;
        }
        encoded++;
        CHECK_MSG(ssb_proto_parse(buf, (size_t)n, ssb_proto_msg_fd_count(&m), &out, &reason) == 0,
                  "%s: encoder emitted what the parser rejects: %s", ssb_proto_msg_name(t), reason);
        CHECK(ssb_proto_encode(&out, buf2, sizeof(buf2)) == n && memcmp(buf, buf2, (size_t)n) == 0);
    }
    printf("mutations: %u encoded, %u refused\n", encoded, refused);
    CHECK(encoded > 1000 && refused > 1000);
}

int main(void)
{
    short_buffers();
    misuse();
    invalid_structs();
    mutated_structs();
    return test_finish("encode");
}
