/* Round trip of every message type: encode -> parse -> field-wise equal,
 * for typical, smallest and largest (max counts, max strings, max payload)
 * samples; and the static table agrees with what the encoder emits.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdbool.h>

#include "samples.h"
#include "test-util.h"

TEST_MAIN_DEFINE_COUNTERS;

#define EQ(field)                                                                 \
    do {                                                                          \
        if (a->field != b->field) {                                               \
            fprintf(stderr, "field %s differs\n", #field);                        \
            return false;                                                         \
        }                                                                         \
    } while (0)
#define EQ_BYTES(field, n)                                                        \
    do {                                                                          \
        if (memcmp(a->field, b->field, (n)) != 0) {                               \
            fprintf(stderr, "field %s differs\n", #field);                        \
            return false;                                                         \
        }                                                                         \
    } while (0)

static bool client_hello_equal(const struct ssb_msg_client_hello *a,
                               const struct ssb_msg_client_hello *b)
{
    EQ(version_major); EQ(version_minor); EQ(caps); EQ(flags); EQ(codecs);
    EQ(preferred_codec); EQ(max_width); EQ(max_height); EQ(n_formats);
    for (uint32_t i = 0; i < a->n_formats; i++) {
        EQ(formats[i].fourcc);
        EQ(formats[i].modifier);
    }
    return true;
}

static bool slot_equal(const struct ssb_msg_slot_announce *a, const struct ssb_msg_slot_announce *b)
{
    EQ(scanout_id); EQ(slot_id); EQ(kind); EQ(width); EQ(height); EQ(fourcc);
    EQ(modifier); EQ(size); EQ(n_planes);
    for (uint32_t i = 0; i < a->n_planes; i++) {
        EQ(planes[i].offset);
        EQ(planes[i].stride);
    }
    return true;
}

static bool frame_equal(const struct ssb_msg_frame *a, const struct ssb_msg_frame *b)
{
    EQ(scanout_id); EQ(slot_id); EQ(seq); EQ(t_submit_us); EQ(t_ready_us); EQ(n_rects);
    for (uint32_t i = 0; i < a->n_rects; i++) {
        EQ(rects[i].x); EQ(rects[i].y); EQ(rects[i].width); EQ(rects[i].height);
    }
    return true;
}

static bool video_equal(const struct ssb_msg_video_frame *a, const struct ssb_msg_video_frame *b)
{
    EQ(scanout_id); EQ(codec); EQ(flags); EQ(width); EQ(height); EQ(seq); EQ(t_submit_us);
    EQ(t_encoded_us); EQ(frame_size); EQ(chunk_offset); EQ(payload_size);
    EQ_BYTES(payload, a->payload_size);
    return true;
}

static bool feedback_equal(const struct ssb_msg_feedback *a, const struct ssb_msg_feedback *b)
{
    EQ(scanout_id); EQ(flags); EQ(seq); EQ(t_submit_us); EQ(t_encoded_us);
    EQ(receive_to_decoded_us); EQ(decoded_to_displayed_us); EQ(held_us); EQ(frames_in_flight);
    return true;
}

static bool small_equal(const struct ssb_msg *a, const struct ssb_msg *b)
{
    switch (a->type) {
    case SSB_MSG_SERVER_HELLO:
        EQ(u.server_hello.version_major); EQ(u.server_hello.version_minor);
        EQ(u.server_hello.caps); EQ(u.server_hello.codecs); EQ(u.server_hello.max_scanouts);
        return true;
    case SSB_MSG_SCANOUT_CREATE:
    case SSB_MSG_SCANOUT_RESIZE:
        EQ(u.scanout.scanout_id); EQ(u.scanout.display_channel_id); EQ(u.scanout.width);
        EQ(u.scanout.height); EQ(u.scanout.fourcc); EQ(u.scanout.flags);
        return true;
    case SSB_MSG_SCANOUT_DESTROY: EQ(u.scanout_destroy.scanout_id); return true;
    case SSB_MSG_LOCAL_OFFER:
        EQ_BYTES(u.local_offer.token, SSB_PROTO_TOKEN_SIZE);
        EQ_BYTES(u.local_offer.host_id, SSB_PROTO_HOST_ID_SIZE);
        return strcmp(a->u.local_offer.path, b->u.local_offer.path) == 0;
    case SSB_MSG_LOCAL_DECLINE:
        EQ(u.local_decline.code);
        return strcmp(a->u.local_decline.reason, b->u.local_decline.reason) == 0;
    case SSB_MSG_LOCAL_HELLO: EQ_BYTES(u.local_hello.token, SSB_PROTO_TOKEN_SIZE); return true;
    case SSB_MSG_LOCAL_WELCOME: EQ(u.local_welcome.flags); return true;
    case SSB_MSG_SLOT_RETIRE: EQ(u.slot_retire.scanout_id); EQ(u.slot_retire.slot_id); return true;
    case SSB_MSG_SLOT_RELEASE:
        EQ(u.slot_release.scanout_id); EQ(u.slot_release.slot_id); EQ(u.slot_release.seq);
        return true;
    case SSB_MSG_KEYFRAME_REQUEST:
        EQ(u.keyframe_request.scanout_id); EQ(u.keyframe_request.reason);
        return true;
    case SSB_MSG_KEEPALIVE: EQ(u.keepalive.t_us); EQ(u.keepalive.echo_t_us); return true;
    case SSB_MSG_GOODBYE: EQ(u.goodbye.code); return true;
    case SSB_MSG_ERROR:
        EQ(u.error.code);
        return strcmp(a->u.error.reason, b->u.error.reason) == 0;
    default:
        return false;
    }
}

static bool msg_equal(const struct ssb_msg *a, const struct ssb_msg *b)
{
    EQ(type);
    EQ(flags);
    switch (a->type) {
    case SSB_MSG_CLIENT_HELLO: return client_hello_equal(&a->u.client_hello, &b->u.client_hello);
    case SSB_MSG_SLOT_ANNOUNCE: return slot_equal(&a->u.slot_announce, &b->u.slot_announce);
    case SSB_MSG_FRAME: return frame_equal(&a->u.frame, &b->u.frame);
    case SSB_MSG_VIDEO_FRAME: return video_equal(&a->u.video_frame, &b->u.video_frame);
    case SSB_MSG_FEEDBACK: return feedback_equal(&a->u.feedback, &b->u.feedback);
    default: return small_equal(a, b);
    }
}

static uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
static uint8_t buf2[SSB_PROTO_MAX_MSG_SIZE];

static void round_trip(enum ssb_msg_type type, enum sample_variant v)
{
    const struct ssb_msg_info *info = ssb_proto_msg_info(type);
    struct ssb_msg in, out;
    const char *reason = "";
    size_t want;
    ssize_t n;
    int ret;

    sample_msg(type, v, &in);
    want = ssb_proto_encoded_size(&in);
    n = ssb_proto_encode(&in, buf, sizeof(buf));
    CHECK_MSG(n > 0 && (size_t)n == want, "%s/%d: encode %zd, size %zu",
              ssb_proto_msg_name(type), v, n, want);
    if (n <= 0)
        return;
    CHECK(info != NULL && n - 8 >= (ssize_t)info->min_body && n - 8 <= (ssize_t)info->max_body);
    if (v == SAMPLE_MIN)
        CHECK_MSG((size_t)n - 8 == info->min_body, "%s: min sample not min_body", info->name);
    if (v == SAMPLE_MAX)
        CHECK_MSG((size_t)n - 8 == info->max_body, "%s: max sample not max_body", info->name);
    ret = ssb_proto_parse(buf, (size_t)n, ssb_proto_msg_fd_count(&in), &out, &reason);
    CHECK_MSG(ret == 0, "%s/%d: parse: %s", ssb_proto_msg_name(type), v, reason);
    if (ret != 0)
        return;
    CHECK_MSG(msg_equal(&in, &out), "%s/%d differs after round trip", ssb_proto_msg_name(type), v);
    /* and parse -> encode gives the same bytes */
    CHECK(ssb_proto_encode(&out, buf2, sizeof(buf2)) == n && memcmp(buf, buf2, (size_t)n) == 0);
    /* exactly enough room is enough */
    CHECK(ssb_proto_encode(&in, buf2, (size_t)n) == n);
}

/* The header comes out as spec "Header" says: type, flags 0, body size. */
static void header_layout(void)
{
    struct ssb_msg m;
    struct ssb_msg_header h;

    sample_msg(SSB_MSG_KEEPALIVE, SAMPLE_TYPICAL, &m);
    m.u.keepalive.t_us = 0x0102030405060708ull;
    CHECK(ssb_proto_encode(&m, buf, sizeof(buf)) == 24);
    CHECK(buf[0] == 17 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0);
    CHECK(buf[4] == 16 && buf[5] == 0 && buf[6] == 0 && buf[7] == 0);
    CHECK(buf[8] == 0x08 && buf[15] == 0x01);
    CHECK(ssb_proto_parse_header(buf, 8, &h, NULL) == 0 && h.type == 17 && h.size == 16);

    sample_msg(SSB_MSG_SERVER_HELLO, SAMPLE_TYPICAL, &m);
    CHECK(ssb_proto_encode(&m, buf, sizeof(buf)) == 32);
    CHECK(buf[8] == 'S' && buf[9] == 'S' && buf[10] == 'B' && buf[11] == 'D');
}

static void tables(void)
{
    CHECK(ssb_proto_msg_info(0) == NULL);
    CHECK(ssb_proto_msg_info(SSB_MSG_TYPE_COUNT) == NULL);
    CHECK(ssb_proto_msg_info(UINT32_MAX) == NULL);
    CHECK(strcmp(ssb_proto_msg_name(0), "UNKNOWN") == 0);
    CHECK(strcmp(ssb_proto_msg_name(SSB_MSG_FRAME), "FRAME") == 0);
    CHECK(strcmp(ssb_proto_error_name(SSB_ERROR_SHUTDOWN), "SHUTDOWN") == 0);
    CHECK(strcmp(ssb_proto_error_name(SSB_ERROR_CODE_COUNT), "UNKNOWN") == 0);
    CHECK(strcmp(ssb_proto_codec_name(SSB_CODEC_VP9), "vp9") == 0);
    CHECK(ssb_proto_codec_name(SSB_CODEC_NONE) == NULL);
    CHECK(ssb_proto_codec_name(SSB_CODEC_COUNT) == NULL);
    CHECK(ssb_proto_codec_from_name("H264") == SSB_CODEC_H264);
    CHECK(ssb_proto_codec_from_name("av1") == SSB_CODEC_AV1);
    CHECK(ssb_proto_codec_from_name("mjpeg") == SSB_CODEC_NONE);
    CHECK(ssb_proto_codec_from_name(NULL) == SSB_CODEC_NONE);
    CHECK(ssb_proto_format_bpp(SSB_FORMAT_XRGB8888) == 4);
    CHECK(ssb_proto_format_bpp(SSB_FOURCC('N', 'V', '1', '2')) == 0);
    for (uint32_t t = 1; t < SSB_MSG_TYPE_COUNT; t++) {
        const struct ssb_msg_info *info = ssb_proto_msg_info(t);
        CHECK(info && info->name && info->min_body <= info->max_body);
        CHECK(info && info->max_body <= SSB_PROTO_MAX_BODY_SIZE);
        CHECK(info && info->direction && info->transport);
        CHECK(info && (info->max_fds == 0) == (t != SSB_MSG_SLOT_ANNOUNCE));
        CHECK(info && strcmp(ssb_proto_msg_name(t), info->name) == 0);
    }
}

int main(void)
{
    for (uint32_t t = 1; t < SSB_MSG_TYPE_COUNT; t++)
        for (uint32_t v = 0; v < SAMPLE_VARIANT_COUNT; v++)
            round_trip(t, v);
    header_layout();
    tables();
    return test_finish("roundtrip");
}
