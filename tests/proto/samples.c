/* Valid sample messages of every type (see samples.h).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "samples.h"

static uint8_t payload_storage[SSB_PROTO_MAX_BODY_SIZE];

uint64_t sample_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static void fill_string(char *dst, size_t len, char first)
{
    /* @len characters, then NUL */
    for (size_t i = 0; i < len; i++)
        dst[i] = (char)('a' + i % 26);
    if (len)
        dst[0] = first;
    dst[len] = '\0';
}

static void sample_client_hello(enum sample_variant v, struct ssb_msg_client_hello *h)
{
    h->version_major = SSB_PROTO_VERSION_MAJOR;
    h->version_minor = SSB_PROTO_VERSION_MINOR;
    h->caps = v == SAMPLE_MAX ? ~0ull : SSB_CAP_SHM | SSB_CAP_VIDEO;
    h->flags = v == SAMPLE_MIN ? 0 : SSB_CLIENT_WANT_LOCAL;
    h->codecs = v == SAMPLE_MIN ? 0 : SSB_CODEC_ALL_MASK;
    h->preferred_codec = v == SAMPLE_MIN ? SSB_CODEC_NONE : SSB_CODEC_VP9;
    h->max_width = v == SAMPLE_MIN ? 1 : SSB_PROTO_MAX_DIMENSION;
    h->max_height = v == SAMPLE_MIN ? 1 : 2160;
    h->n_formats = v == SAMPLE_MAX ? SSB_PROTO_MAX_FORMATS : v == SAMPLE_MIN ? 0 : 3;
    for (uint32_t i = 0; i < h->n_formats; i++) {
        h->formats[i].fourcc = i % 2 ? SSB_FORMAT_XRGB8888 : SSB_FOURCC('N', 'V', '1', '2');
        h->formats[i].modifier = i % 3 ? 0x0100000000000001ull + i : SSB_MODIFIER_LINEAR;
    }
}

static void sample_slot(enum sample_variant v, struct ssb_msg_slot_announce *s)
{
    s->scanout_id = v == SAMPLE_MAX ? SSB_PROTO_MAX_SCANOUTS - 1 : 1;
    s->slot_id = v == SAMPLE_MAX ? SSB_PROTO_MAX_SLOTS - 1 : 2;
    s->kind = v == SAMPLE_MAX ? SSB_SLOT_DMABUF : SSB_SLOT_SHM;
    s->width = v == SAMPLE_MIN ? 1 : 1920;
    s->height = v == SAMPLE_MIN ? 1 : 1080;
    s->fourcc = v == SAMPLE_MAX ? SSB_FORMAT_ABGR8888 : SSB_FORMAT_XRGB8888;
    s->modifier = v == SAMPLE_MAX ? 0x0100000000000002ull : SSB_MODIFIER_LINEAR;
    s->n_planes = v == SAMPLE_MAX ? SSB_PROTO_MAX_PLANES : 1;
    s->planes[0].stride = s->width * 4 + (v == SAMPLE_TYPICAL ? 256 : 0);
    s->planes[0].offset = v == SAMPLE_TYPICAL ? 4096 : 0;
    s->size = (uint64_t)s->planes[0].offset + (uint64_t)s->planes[0].stride * s->height;
    for (uint32_t i = 1; i < s->n_planes; i++) {
        s->planes[i].offset = 4096 * i;
        s->planes[i].stride = 64 * i;
    }
}

static void sample_frame(enum sample_variant v, struct ssb_msg_frame *f)
{
    f->scanout_id = 3;
    f->slot_id = 1;
    f->seq = v == SAMPLE_MAX ? UINT64_MAX : 42;
    f->t_submit_us = 1000000;
    f->t_ready_us = 1000250;
    f->n_rects = v == SAMPLE_MAX ? SSB_PROTO_MAX_RECTS : v == SAMPLE_MIN ? 0 : 2;
    for (uint32_t i = 0; i < f->n_rects; i++)
        f->rects[i] = (struct ssb_rect){ i * 16, i * 8, 16, 8 };
    if (v == SAMPLE_MAX)
        f->rects[0] = (struct ssb_rect){ 0, 0, SSB_PROTO_MAX_DIMENSION, SSB_PROTO_MAX_DIMENSION };
}

static void sample_video(enum sample_variant v, struct ssb_msg_video_frame *f)
{
    uint32_t max_payload = SSB_PROTO_MAX_BODY_SIZE - 56;

    for (size_t i = 0; i < sizeof(payload_storage); i++)
        payload_storage[i] = (uint8_t)(i * 7 + 1);
    f->scanout_id = v == SAMPLE_MAX ? SSB_PROTO_MAX_SCANOUTS - 1 : 0;
    f->codec = v == SAMPLE_MAX ? SSB_CODEC_H265 : SSB_CODEC_H264;
    f->width = 1920;
    f->height = 1080;
    f->seq = 7;
    f->t_submit_us = 123;
    f->t_encoded_us = 456;
    f->payload = payload_storage;
    if (v == SAMPLE_MIN) {
        f->flags = SSB_VIDEO_FIRST_CHUNK | SSB_VIDEO_LAST_CHUNK;
        f->frame_size = f->payload_size = 1;
    } else if (v == SAMPLE_MAX) {
        /* a middle chunk of the largest frame */
        f->flags = SSB_VIDEO_KEYFRAME;
        f->frame_size = SSB_PROTO_MAX_VIDEO_FRAME;
        f->chunk_offset = max_payload;
        f->payload_size = max_payload;
    } else {
        f->flags = SSB_VIDEO_KEYFRAME | SSB_VIDEO_FIRST_CHUNK;
        f->frame_size = 5000;
        f->payload_size = 1000;
    }
}

static void sample_reason(enum sample_variant v, uint32_t *code, char *reason)
{
    *code = v == SAMPLE_MIN ? SSB_ERROR_NONE : SSB_ERROR_CODE_COUNT - 1;
    fill_string(reason, v == SAMPLE_MAX ? SSB_PROTO_MAX_REASON - 1 : v == SAMPLE_MIN ? 0 : 11, 'R');
}

static void sample_small(enum ssb_msg_type type, enum sample_variant v, struct ssb_msg *m)
{
    uint32_t big = v == SAMPLE_MAX;

    switch (type) {
    case SSB_MSG_SCANOUT_DESTROY:
        m->u.scanout_destroy.scanout_id = big ? 63 : 5;
        break;
    case SSB_MSG_LOCAL_HELLO:
        for (uint32_t i = 0; i < SSB_PROTO_TOKEN_SIZE; i++)
            m->u.local_hello.token[i] = (uint8_t)(0xa0 + i);
        break;
    case SSB_MSG_LOCAL_WELCOME:
        break;
    case SSB_MSG_SLOT_RETIRE:
        m->u.slot_retire = (struct ssb_msg_slot_retire){ big ? 63 : 1, big ? 7 : 2 };
        break;
    case SSB_MSG_SLOT_RELEASE:
        m->u.slot_release = (struct ssb_msg_slot_release){ big ? 63 : 1, big ? 7 : 2,
                                                           big ? UINT64_MAX : 99 };
        break;
    case SSB_MSG_FEEDBACK:
        m->u.feedback = (struct ssb_msg_feedback){ 2, big ? 7 : SSB_FEEDBACK_DISPLAYED, 9, 100,
                                                   200, 3000, 400, 50, big ? UINT32_MAX : 1 };
        break;
    case SSB_MSG_KEYFRAME_REQUEST:
        m->u.keyframe_request = (struct ssb_msg_keyframe_request){
            big ? 63 : 0, big ? SSB_KEYFRAME_REASON_USER : SSB_KEYFRAME_REASON_JOIN };
        break;
    case SSB_MSG_KEEPALIVE:
        m->u.keepalive = (struct ssb_msg_keepalive){ big ? UINT64_MAX : 1234, big ? 1 : 0 };
        break;
    case SSB_MSG_GOODBYE:
        m->u.goodbye.code = big ? SSB_ERROR_CODE_COUNT - 1 : SSB_ERROR_SHUTDOWN;
        break;
    default:
        break;
    }
}

void sample_msg(enum ssb_msg_type type, enum sample_variant v, struct ssb_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->type = type;
    switch (type) {
    case SSB_MSG_SERVER_HELLO:
        m->u.server_hello = (struct ssb_msg_server_hello){
            SSB_PROTO_VERSION_MAJOR, SSB_PROTO_VERSION_MINOR,
            v == SAMPLE_MAX ? ~0ull : SSB_CAP_SHM | SSB_CAP_DMABUF | SSB_CAP_VIDEO,
            v == SAMPLE_MIN ? 0 : SSB_CODEC_ALL_MASK,
            v == SAMPLE_MIN ? 1 : SSB_PROTO_MAX_SCANOUTS };
        break;
    case SSB_MSG_CLIENT_HELLO:
        sample_client_hello(v, &m->u.client_hello);
        break;
    case SSB_MSG_SCANOUT_CREATE:
    case SSB_MSG_SCANOUT_RESIZE:
        m->u.scanout = (struct ssb_msg_scanout){
            v == SAMPLE_MAX ? 63 : 0, 1, v == SAMPLE_MIN ? 1 : 1920,
            v == SAMPLE_MAX ? SSB_PROTO_MAX_DIMENSION : 1080,
            v == SAMPLE_MAX ? SSB_FORMAT_ARGB8888 : SSB_FORMAT_XRGB8888, 0 };
        break;
    case SSB_MSG_LOCAL_OFFER:
        for (uint32_t i = 0; i < SSB_PROTO_TOKEN_SIZE; i++) {
            m->u.local_offer.token[i] = (uint8_t)(i * 3 + 1);
            m->u.local_offer.host_id[i] = (uint8_t)(0xff - i);
        }
        fill_string(m->u.local_offer.path,
                    v == SAMPLE_MAX ? SSB_PROTO_MAX_PATH - 1 : v == SAMPLE_MIN ? 1 : 30, '/');
        break;
    case SSB_MSG_LOCAL_DECLINE:
        sample_reason(v, &m->u.local_decline.code, m->u.local_decline.reason);
        break;
    case SSB_MSG_ERROR:
        sample_reason(v, &m->u.error.code, m->u.error.reason);
        break;
    case SSB_MSG_SLOT_ANNOUNCE:
        sample_slot(v, &m->u.slot_announce);
        break;
    case SSB_MSG_FRAME:
        sample_frame(v, &m->u.frame);
        break;
    case SSB_MSG_VIDEO_FRAME:
        sample_video(v, &m->u.video_frame);
        break;
    default:
        sample_small(type, v, m);
        break;
    }
}
