/* spice-sideband wire protocol: the byte layout of every message type
 * (docs/spec.md "Bodies"), as a reader, a writer, a validator and a size
 * rule per type, and the table that dispatches on the type.
 *
 * Readers only check what the decoded struct cannot express (magic, reserved
 * wire fields, length fields, string termination); everything else is in the
 * validator, which the encoder runs too.  Reads happen only after the header
 * check has bounded the body size to the type's [min_body, max_body].
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "proto-private.h"

_Static_assert(SSB_PROTO_HEADER_SIZE == 2 + 2 + 4, "header layout");
_Static_assert(SERVER_HELLO_SIZE == 24, "SERVER_HELLO is 24 bytes");
_Static_assert(CLIENT_HELLO_FIXED == 40 && FORMAT_SIZE == 16, "CLIENT_HELLO is 40 + 16n");
_Static_assert(SCANOUT_SIZE == 24, "SCANOUT_CREATE/RESIZE are 24 bytes");
_Static_assert(LOCAL_OFFER_FIXED == 68, "LOCAL_OFFER is 68 + path_len");
_Static_assert(REASON_FIXED == 8, "LOCAL_DECLINE/ERROR are 8 + reason_len");
_Static_assert(SLOT_ANNOUNCE_FIXED == 48 && PLANE_SIZE == 8, "SLOT_ANNOUNCE is 48 + 8n");
_Static_assert(FRAME_FIXED == 40 && RECT_SIZE == 16, "FRAME is 40 + 16n");
_Static_assert(SLOT_RELEASE_SIZE == 16, "SLOT_RELEASE is 16 bytes");
_Static_assert(VIDEO_FRAME_FIXED == 56, "VIDEO_FRAME is 56 + payload");
_Static_assert(FEEDBACK_SIZE == 48, "FEEDBACK is 48 bytes");
_Static_assert(KEEPALIVE_SIZE == 16, "KEEPALIVE is 16 bytes");
_Static_assert(CLIENT_HELLO_FIXED + FORMAT_SIZE * SSB_PROTO_MAX_FORMATS <= SSB_PROTO_MAX_BODY_SIZE,
               "CLIENT_HELLO fits the cap");
_Static_assert(FRAME_FIXED + RECT_SIZE * SSB_PROTO_MAX_RECTS <= SSB_PROTO_MAX_BODY_SIZE,
               "FRAME fits the cap");
_Static_assert(SSB_PROTO_MAX_PATH <= UINT16_MAX && SSB_PROTO_MAX_REASON <= UINT16_MAX,
               "string lengths fit their u16 length fields");
_Static_assert(SSB_CODEC_COUNT <= 32, "codec sets are u32 bitmasks");

/* ------------------------------------------------------------------------
 * Per-type readers, writers and validators, in spec order.
 */
static const char *read_server_hello(struct rbuf *r, struct ssb_msg *m)
{
    struct ssb_msg_server_hello *h = &m->u.server_hello;

    if (rd32(r) != SSB_PROTO_MAGIC)
        return "SERVER_HELLO: bad magic";
    h->version_major = rd16(r);
    h->version_minor = rd16(r);
    h->caps = rd64(r);
    /* The server speaks first, before it knows the client's version: like
     * caps, codec bits a later minor version defines are carried, not
     * rejected; the client intersects them with its own (spec 3.2). */
    h->codecs = rd32(r);
    h->max_scanouts = rd32(r);
    return NULL;
}

static void write_server_hello(struct wbuf *w, const struct ssb_msg *m)
{
    const struct ssb_msg_server_hello *h = &m->u.server_hello;

    wr32(w, SSB_PROTO_MAGIC);
    wr16(w, h->version_major);
    wr16(w, h->version_minor);
    wr64(w, h->caps);
    wr32(w, h->codecs);
    wr32(w, h->max_scanouts);
}

static const char *validate_server_hello(const struct ssb_msg *m)
{
    const struct ssb_msg_server_hello *h = &m->u.server_hello;

    if (h->max_scanouts < 1 || h->max_scanouts > SSB_PROTO_MAX_SCANOUTS)
        return "SERVER_HELLO: max_scanouts out of range (1..64)";
    return NULL;
}

static const char *read_client_hello(struct rbuf *r, struct ssb_msg *m)
{
    struct ssb_msg_client_hello *h = &m->u.client_hello;

    if (rd32(r) != SSB_PROTO_MAGIC)
        return "CLIENT_HELLO: bad magic";
    h->version_major = rd16(r);
    h->version_minor = rd16(r);
    h->caps = rd64(r);
    h->flags = rd32(r);
    h->codecs = rd32(r);
    h->preferred_codec = rd32(r);
    h->max_width = rd32(r);
    h->max_height = rd32(r);
    h->n_formats = rd32(r);
    if (h->n_formats > SSB_PROTO_MAX_FORMATS)
        return "CLIENT_HELLO: n_formats above 64";
    if (rbuf_left(r) != (size_t)FORMAT_SIZE * h->n_formats)
        return "CLIENT_HELLO: size does not match n_formats";
    for (uint32_t i = 0; i < h->n_formats; i++) {
        h->formats[i].fourcc = rd32(r);
        if (rd32(r) != 0)
            return "CLIENT_HELLO: reserved format field not 0";
        h->formats[i].modifier = rd64(r);
    }
    return NULL;
}

static void write_client_hello(struct wbuf *w, const struct ssb_msg *m)
{
    const struct ssb_msg_client_hello *h = &m->u.client_hello;

    wr32(w, SSB_PROTO_MAGIC);
    wr16(w, h->version_major);
    wr16(w, h->version_minor);
    wr64(w, h->caps);
    wr32(w, h->flags);
    wr32(w, h->codecs);
    wr32(w, h->preferred_codec);
    wr32(w, h->max_width);
    wr32(w, h->max_height);
    wr32(w, h->n_formats);
    for (uint32_t i = 0; i < h->n_formats; i++) {
        wr32(w, h->formats[i].fourcc);
        wr32(w, 0);
        wr64(w, h->formats[i].modifier);
    }
}

static const char *validate_client_hello(const struct ssb_msg *m)
{
    const struct ssb_msg_client_hello *h = &m->u.client_hello;

    if (h->flags & ~(uint32_t)SSB_CLIENT_WANT_LOCAL)
        return "CLIENT_HELLO: unknown flag";
    if (h->codecs & ~SSB_CODEC_ALL_MASK)
        return "CLIENT_HELLO: unknown codec bit";
    if (h->preferred_codec != SSB_CODEC_NONE &&
        (!codec_ok(h->preferred_codec) || !(h->codecs & SSB_CODEC_BIT(h->preferred_codec))))
        return "CLIENT_HELLO: preferred codec not in its codec set";
    if (!dimension_ok(h->max_width) || !dimension_ok(h->max_height))
        return "CLIENT_HELLO: max_width/max_height out of range (1..16384)";
    if (h->n_formats > SSB_PROTO_MAX_FORMATS)
        return "CLIENT_HELLO: n_formats above 64";
    return NULL;
}

static uint32_t size_client_hello(const struct ssb_msg *m)
{
    return CLIENT_HELLO_FIXED + FORMAT_SIZE * m->u.client_hello.n_formats;
}

static const char *read_scanout(struct rbuf *r, struct ssb_msg *m)
{
    struct ssb_msg_scanout *s = &m->u.scanout;

    s->scanout_id = rd32(r);
    s->display_channel_id = rd32(r);
    s->width = rd32(r);
    s->height = rd32(r);
    s->fourcc = rd32(r);
    s->flags = rd32(r);
    return NULL;
}

static void write_scanout(struct wbuf *w, const struct ssb_msg *m)
{
    const struct ssb_msg_scanout *s = &m->u.scanout;

    wr32(w, s->scanout_id);
    wr32(w, s->display_channel_id);
    wr32(w, s->width);
    wr32(w, s->height);
    wr32(w, s->fourcc);
    wr32(w, s->flags);
}

static const char *validate_scanout(const struct ssb_msg *m)
{
    const struct ssb_msg_scanout *s = &m->u.scanout;

    if (!scanout_id_ok(s->scanout_id))
        return "SCANOUT: scanout_id above 63";
    if (!dimension_ok(s->width) || !dimension_ok(s->height))
        return "SCANOUT: width/height out of range (1..16384)";
    if (ssb_proto_format_bpp(s->fourcc) == 0)
        return "SCANOUT: unsupported fourcc";
    if (s->flags != 0)
        return "SCANOUT: reserved flags not 0";
    return NULL;
}

static const char *read_scanout_destroy(struct rbuf *r, struct ssb_msg *m)
{
    m->u.scanout_destroy.scanout_id = rd32(r);
    return NULL;
}

static void write_scanout_destroy(struct wbuf *w, const struct ssb_msg *m)
{
    wr32(w, m->u.scanout_destroy.scanout_id);
}

static const char *validate_scanout_destroy(const struct ssb_msg *m)
{
    if (!scanout_id_ok(m->u.scanout_destroy.scanout_id))
        return "SCANOUT_DESTROY: scanout_id above 63";
    return NULL;
}

static const char *read_local_offer(struct rbuf *r, struct ssb_msg *m)
{
    struct ssb_msg_local_offer *o = &m->u.local_offer;
    uint16_t path_len;
    const char *why;

    rd_bytes(r, o->token, sizeof(o->token));
    rd_bytes(r, o->host_id, sizeof(o->host_id));
    path_len = rd16(r);
    if (rd16(r) != 0)
        return "LOCAL_OFFER: reserved field not 0";
    if (path_len < 2 || path_len > SSB_PROTO_MAX_PATH)
        return "LOCAL_OFFER: path_len out of range (2..108)";
    if (rbuf_left(r) != path_len)
        return "LOCAL_OFFER: size does not match path_len";
    if ((why = proto_wire_text_check(r->p + r->off, path_len)))
        return why;
    rd_bytes(r, o->path, path_len);
    return NULL;
}

static void write_local_offer(struct wbuf *w, const struct ssb_msg *m)
{
    const struct ssb_msg_local_offer *o = &m->u.local_offer;
    uint16_t path_len = (uint16_t)(strlen(o->path) + 1);

    wr_bytes(w, o->token, sizeof(o->token));
    wr_bytes(w, o->host_id, sizeof(o->host_id));
    wr16(w, path_len);
    wr16(w, 0);
    wr_bytes(w, o->path, path_len);
}

static const char *validate_local_offer(const struct ssb_msg *m)
{
    const struct ssb_msg_local_offer *o = &m->u.local_offer;

    if (!text_ok(o->path, sizeof(o->path)))
        return "LOCAL_OFFER: path not NUL-terminated within 108 bytes";
    if (o->path[0] != '/')
        return "LOCAL_OFFER: path not absolute";
    return NULL;
}

static uint32_t size_local_offer(const struct ssb_msg *m)
{
    return LOCAL_OFFER_FIXED + (uint32_t)strlen(m->u.local_offer.path) + 1;
}

/* LOCAL_DECLINE and ERROR share a layout: {code, reason}. */
static const char *read_reason(struct rbuf *r, uint32_t *code, char *reason)
{
    uint16_t reason_len;
    const char *why;

    *code = rd32(r);
    reason_len = rd16(r);
    if (rd16(r) != 0)
        return "reason: reserved field not 0";
    if (reason_len < 1 || reason_len > SSB_PROTO_MAX_REASON)
        return "reason: reason_len out of range (1..256)";
    if (rbuf_left(r) != reason_len)
        return "reason: size does not match reason_len";
    if ((why = proto_wire_text_check(r->p + r->off, reason_len)))
        return why;
    rd_bytes(r, reason, reason_len);
    return NULL;
}

static void write_reason(struct wbuf *w, uint32_t code, const char *reason)
{
    uint16_t reason_len = (uint16_t)(strlen(reason) + 1);

    wr32(w, code);
    wr16(w, reason_len);
    wr16(w, 0);
    wr_bytes(w, reason, reason_len);
}

static const char *validate_reason(uint32_t code, const char *reason)
{
    if (!error_code_ok(code))
        return "reason: unknown error code";
    if (!text_ok(reason, SSB_PROTO_MAX_REASON))
        return "reason: not NUL-terminated within 256 bytes";
    return NULL;
}

static const char *read_local_decline(struct rbuf *r, struct ssb_msg *m)
{
    return read_reason(r, &m->u.local_decline.code, m->u.local_decline.reason);
}

static void write_local_decline(struct wbuf *w, const struct ssb_msg *m)
{
    write_reason(w, m->u.local_decline.code, m->u.local_decline.reason);
}

static const char *validate_local_decline(const struct ssb_msg *m)
{
    return validate_reason(m->u.local_decline.code, m->u.local_decline.reason);
}

static uint32_t size_local_decline(const struct ssb_msg *m)
{
    return REASON_FIXED + (uint32_t)strlen(m->u.local_decline.reason) + 1;
}

static const char *read_local_hello(struct rbuf *r, struct ssb_msg *m)
{
    rd_bytes(r, m->u.local_hello.token, sizeof(m->u.local_hello.token));
    return NULL;
}

static void write_local_hello(struct wbuf *w, const struct ssb_msg *m)
{
    wr_bytes(w, m->u.local_hello.token, sizeof(m->u.local_hello.token));
}

static const char *read_local_welcome(struct rbuf *r, struct ssb_msg *m)
{
    m->u.local_welcome.flags = rd32(r);
    return NULL;
}

static void write_local_welcome(struct wbuf *w, const struct ssb_msg *m)
{
    wr32(w, m->u.local_welcome.flags);
}

static const char *validate_local_welcome(const struct ssb_msg *m)
{
    if (m->u.local_welcome.flags != 0)
        return "LOCAL_WELCOME: reserved flags not 0";
    return NULL;
}

static const char *read_slot_announce(struct rbuf *r, struct ssb_msg *m)
{
    struct ssb_msg_slot_announce *s = &m->u.slot_announce;

    s->scanout_id = rd32(r);
    s->slot_id = rd32(r);
    s->kind = rd32(r);
    s->width = rd32(r);
    s->height = rd32(r);
    s->fourcc = rd32(r);
    s->modifier = rd64(r);
    s->size = rd64(r);
    s->n_planes = rd32(r);
    if (rd32(r) != 0)
        return "SLOT_ANNOUNCE: reserved field not 0";
    if (s->n_planes < 1 || s->n_planes > SSB_PROTO_MAX_PLANES)
        return "SLOT_ANNOUNCE: n_planes out of range (1..4)";
    if (rbuf_left(r) != (size_t)PLANE_SIZE * s->n_planes)
        return "SLOT_ANNOUNCE: size does not match n_planes";
    for (uint32_t i = 0; i < s->n_planes; i++) {
        s->planes[i].offset = rd32(r);
        s->planes[i].stride = rd32(r);
    }
    return NULL;
}

static void write_slot_announce(struct wbuf *w, const struct ssb_msg *m)
{
    const struct ssb_msg_slot_announce *s = &m->u.slot_announce;

    wr32(w, s->scanout_id);
    wr32(w, s->slot_id);
    wr32(w, s->kind);
    wr32(w, s->width);
    wr32(w, s->height);
    wr32(w, s->fourcc);
    wr64(w, s->modifier);
    wr64(w, s->size);
    wr32(w, s->n_planes);
    wr32(w, 0);
    for (uint32_t i = 0; i < s->n_planes; i++) {
        wr32(w, s->planes[i].offset);
        wr32(w, s->planes[i].stride);
    }
}

static const char *validate_slot_announce(const struct ssb_msg *m)
{
    const struct ssb_msg_slot_announce *s = &m->u.slot_announce;

    if (!scanout_id_ok(s->scanout_id))
        return "SLOT_ANNOUNCE: scanout_id above 63";
    if (!slot_id_ok(s->slot_id))
        return "SLOT_ANNOUNCE: slot_id above 7";
    if (s->kind == SSB_SLOT_SHM && s->n_planes != 1)
        return "SLOT_ANNOUNCE: SHM slot with more than one plane";
    if (s->kind == SSB_SLOT_SHM && s->modifier != SSB_MODIFIER_LINEAR)
        return "SLOT_ANNOUNCE: SHM slot with a non-linear modifier";
    /* Against the size the sender claims; the receiver checks again
     * against what it measures on the fd. */
    return proto_slot_layout_check(s, s->size);
}

static uint32_t size_slot_announce(const struct ssb_msg *m)
{
    return SLOT_ANNOUNCE_FIXED + PLANE_SIZE * m->u.slot_announce.n_planes;
}

static const char *read_slot_retire(struct rbuf *r, struct ssb_msg *m)
{
    m->u.slot_retire.scanout_id = rd32(r);
    m->u.slot_retire.slot_id = rd32(r);
    return NULL;
}

static void write_slot_retire(struct wbuf *w, const struct ssb_msg *m)
{
    wr32(w, m->u.slot_retire.scanout_id);
    wr32(w, m->u.slot_retire.slot_id);
}

static const char *validate_slot_retire(const struct ssb_msg *m)
{
    if (!scanout_id_ok(m->u.slot_retire.scanout_id))
        return "SLOT_RETIRE: scanout_id above 63";
    if (!slot_id_ok(m->u.slot_retire.slot_id))
        return "SLOT_RETIRE: slot_id above 7";
    return NULL;
}

static const char *read_frame(struct rbuf *r, struct ssb_msg *m)
{
    struct ssb_msg_frame *f = &m->u.frame;

    f->scanout_id = rd32(r);
    f->slot_id = rd32(r);
    f->seq = rd64(r);
    f->t_submit_us = rd64(r);
    f->t_ready_us = rd64(r);
    f->n_rects = rd32(r);
    if (rd32(r) != 0)
        return "FRAME: reserved field not 0";
    if (f->n_rects > SSB_PROTO_MAX_RECTS)
        return "FRAME: n_rects above 64";
    if (rbuf_left(r) != (size_t)RECT_SIZE * f->n_rects)
        return "FRAME: size does not match n_rects";
    for (uint32_t i = 0; i < f->n_rects; i++) {
        f->rects[i].x = rd32(r);
        f->rects[i].y = rd32(r);
        f->rects[i].width = rd32(r);
        f->rects[i].height = rd32(r);
    }
    return NULL;
}

static void write_frame(struct wbuf *w, const struct ssb_msg *m)
{
    const struct ssb_msg_frame *f = &m->u.frame;

    wr32(w, f->scanout_id);
    wr32(w, f->slot_id);
    wr64(w, f->seq);
    wr64(w, f->t_submit_us);
    wr64(w, f->t_ready_us);
    wr32(w, f->n_rects);
    wr32(w, 0);
    for (uint32_t i = 0; i < f->n_rects; i++) {
        wr32(w, f->rects[i].x);
        wr32(w, f->rects[i].y);
        wr32(w, f->rects[i].width);
        wr32(w, f->rects[i].height);
    }
}

static const char *validate_frame(const struct ssb_msg *m)
{
    const struct ssb_msg_frame *f = &m->u.frame;

    if (!scanout_id_ok(f->scanout_id))
        return "FRAME: scanout_id above 63";
    if (!slot_id_ok(f->slot_id))
        return "FRAME: slot_id above 7";
    if (f->n_rects > SSB_PROTO_MAX_RECTS)
        return "FRAME: n_rects above 64";
    /* The surface size is the receiver's to check; the wire bounds them by
     * the largest surface. */
    return proto_rects_check(f->rects, f->n_rects, SSB_PROTO_MAX_DIMENSION, SSB_PROTO_MAX_DIMENSION);
}

static uint32_t size_frame(const struct ssb_msg *m)
{
    return FRAME_FIXED + RECT_SIZE * m->u.frame.n_rects;
}

static const char *read_slot_release(struct rbuf *r, struct ssb_msg *m)
{
    m->u.slot_release.scanout_id = rd32(r);
    m->u.slot_release.slot_id = rd32(r);
    m->u.slot_release.seq = rd64(r);
    return NULL;
}

static void write_slot_release(struct wbuf *w, const struct ssb_msg *m)
{
    wr32(w, m->u.slot_release.scanout_id);
    wr32(w, m->u.slot_release.slot_id);
    wr64(w, m->u.slot_release.seq);
}

static const char *validate_slot_release(const struct ssb_msg *m)
{
    if (!scanout_id_ok(m->u.slot_release.scanout_id))
        return "SLOT_RELEASE: scanout_id above 63";
    if (!slot_id_ok(m->u.slot_release.slot_id))
        return "SLOT_RELEASE: slot_id above 7";
    return NULL;
}

static const char *read_video_frame(struct rbuf *r, struct ssb_msg *m)
{
    struct ssb_msg_video_frame *v = &m->u.video_frame;

    v->scanout_id = rd32(r);
    v->codec = rd32(r);
    v->flags = rd32(r);
    v->width = rd32(r);
    v->height = rd32(r);
    if (rd32(r) != 0)
        return "VIDEO_FRAME: reserved field not 0";
    v->seq = rd64(r);
    v->t_submit_us = rd64(r);
    v->t_encoded_us = rd64(r);
    v->frame_size = rd32(r);
    v->chunk_offset = rd32(r);
    /* The header check bounds the body to 57..65528 bytes. */
    v->payload_size = (uint32_t)rbuf_left(r);
    v->payload = r->p + r->off;
    r->off = r->len;
    return NULL;
}

static void write_video_frame(struct wbuf *w, const struct ssb_msg *m)
{
    const struct ssb_msg_video_frame *v = &m->u.video_frame;

    wr32(w, v->scanout_id);
    wr32(w, v->codec);
    wr32(w, v->flags);
    wr32(w, v->width);
    wr32(w, v->height);
    wr32(w, 0);
    wr64(w, v->seq);
    wr64(w, v->t_submit_us);
    wr64(w, v->t_encoded_us);
    wr32(w, v->frame_size);
    wr32(w, v->chunk_offset);
    wr_bytes(w, v->payload, v->payload_size);
}

static const char *video_chunk_check(const struct ssb_msg_video_frame *v)
{
    uint32_t end;
    bool first = v->flags & SSB_VIDEO_FIRST_CHUNK;
    bool last = v->flags & SSB_VIDEO_LAST_CHUNK;

    if (v->frame_size < 1 || v->frame_size > SSB_PROTO_MAX_VIDEO_FRAME)
        return "VIDEO_FRAME: frame_size out of range (1..32 MiB)";
    if (v->payload_size < 1 || v->payload_size > MAX_PAYLOAD)
        return "VIDEO_FRAME: payload size out of range (1..65472)";
    if (__builtin_add_overflow(v->chunk_offset, v->payload_size, &end) || end > v->frame_size)
        return "VIDEO_FRAME: chunk runs past frame_size";
    if (first != (v->chunk_offset == 0))
        return "VIDEO_FRAME: FIRST_CHUNK flag does not match chunk_offset";
    if (last != (end == v->frame_size))
        return "VIDEO_FRAME: LAST_CHUNK flag does not match chunk end";
    return NULL;
}

static const char *validate_video_frame(const struct ssb_msg *m)
{
    const struct ssb_msg_video_frame *v = &m->u.video_frame;
    const uint32_t known = SSB_VIDEO_KEYFRAME | SSB_VIDEO_FIRST_CHUNK | SSB_VIDEO_LAST_CHUNK;

    if (!scanout_id_ok(v->scanout_id))
        return "VIDEO_FRAME: scanout_id above 63";
    if (!codec_ok(v->codec))
        return "VIDEO_FRAME: unknown codec";
    if (v->flags & ~known)
        return "VIDEO_FRAME: unknown flag";
    if (!dimension_ok(v->width) || !dimension_ok(v->height))
        return "VIDEO_FRAME: width/height out of range (1..16384)";
    if (v->payload == NULL)
        return "VIDEO_FRAME: no payload";
    return video_chunk_check(v);
}

static uint32_t size_video_frame(const struct ssb_msg *m)
{
    return VIDEO_FRAME_FIXED + m->u.video_frame.payload_size;
}

static const char *read_feedback(struct rbuf *r, struct ssb_msg *m)
{
    struct ssb_msg_feedback *f = &m->u.feedback;

    f->scanout_id = rd32(r);
    f->flags = rd32(r);
    f->seq = rd64(r);
    f->t_submit_us = rd64(r);
    f->t_encoded_us = rd64(r);
    f->receive_to_decoded_us = rd32(r);
    f->decoded_to_displayed_us = rd32(r);
    f->held_us = rd32(r);
    f->frames_in_flight = rd32(r);
    return NULL;
}

static void write_feedback(struct wbuf *w, const struct ssb_msg *m)
{
    const struct ssb_msg_feedback *f = &m->u.feedback;

    wr32(w, f->scanout_id);
    wr32(w, f->flags);
    wr64(w, f->seq);
    wr64(w, f->t_submit_us);
    wr64(w, f->t_encoded_us);
    wr32(w, f->receive_to_decoded_us);
    wr32(w, f->decoded_to_displayed_us);
    wr32(w, f->held_us);
    wr32(w, f->frames_in_flight);
}

static const char *validate_feedback(const struct ssb_msg *m)
{
    const uint32_t known = SSB_FEEDBACK_DISPLAYED | SSB_FEEDBACK_DROPPED |
                           SSB_FEEDBACK_DECODE_ERROR;

    if (!scanout_id_ok(m->u.feedback.scanout_id))
        return "FEEDBACK: scanout_id above 63";
    if (m->u.feedback.flags & ~known)
        return "FEEDBACK: unknown flag";
    return NULL;
}

static const char *read_keyframe_request(struct rbuf *r, struct ssb_msg *m)
{
    m->u.keyframe_request.scanout_id = rd32(r);
    m->u.keyframe_request.reason = rd32(r);
    return NULL;
}

static void write_keyframe_request(struct wbuf *w, const struct ssb_msg *m)
{
    wr32(w, m->u.keyframe_request.scanout_id);
    wr32(w, m->u.keyframe_request.reason);
}

static const char *validate_keyframe_request(const struct ssb_msg *m)
{
    uint32_t reason = m->u.keyframe_request.reason;

    if (!scanout_id_ok(m->u.keyframe_request.scanout_id))
        return "KEYFRAME_REQUEST: scanout_id above 63";
    if (reason < SSB_KEYFRAME_REASON_JOIN || reason > SSB_KEYFRAME_REASON_USER)
        return "KEYFRAME_REQUEST: unknown reason";
    return NULL;
}

static const char *read_keepalive(struct rbuf *r, struct ssb_msg *m)
{
    m->u.keepalive.t_us = rd64(r);
    m->u.keepalive.echo_t_us = rd64(r);
    return NULL;
}

static void write_keepalive(struct wbuf *w, const struct ssb_msg *m)
{
    wr64(w, m->u.keepalive.t_us);
    wr64(w, m->u.keepalive.echo_t_us);
}

static const char *read_goodbye(struct rbuf *r, struct ssb_msg *m)
{
    m->u.goodbye.code = rd32(r);
    return NULL;
}

static void write_goodbye(struct wbuf *w, const struct ssb_msg *m)
{
    wr32(w, m->u.goodbye.code);
}

static const char *validate_goodbye(const struct ssb_msg *m)
{
    if (!error_code_ok(m->u.goodbye.code))
        return "GOODBYE: unknown error code";
    return NULL;
}

static const char *read_error(struct rbuf *r, struct ssb_msg *m)
{
    return read_reason(r, &m->u.error.code, m->u.error.reason);
}

static void write_error(struct wbuf *w, const struct ssb_msg *m)
{
    write_reason(w, m->u.error.code, m->u.error.reason);
}

static const char *validate_error(const struct ssb_msg *m)
{
    return validate_reason(m->u.error.code, m->u.error.reason);
}

static uint32_t size_error(const struct ssb_msg *m)
{
    return REASON_FIXED + (uint32_t)strlen(m->u.error.reason) + 1;
}

/* ------------------------------------------------------------------------
 * The dispatch table (spec 6, "limits").
 */


#define S2C SSB_DIR_SERVER_TO_CLIENT
#define C2S SSB_DIR_CLIENT_TO_SERVER
#define PORT SSB_TRANSPORT_PORT
#define LOCAL SSB_TRANSPORT_LOCAL
#define FIXED(name, size, dir, tr) { name, size, size, dir, tr, 0 }

const struct msg_type proto_msg_types[SSB_MSG_TYPE_COUNT] = {
    [SSB_MSG_SERVER_HELLO] = { FIXED("SERVER_HELLO", SERVER_HELLO_SIZE, S2C, PORT),
        read_server_hello, write_server_hello, validate_server_hello, NULL },
    [SSB_MSG_CLIENT_HELLO] = {
        { "CLIENT_HELLO", CLIENT_HELLO_FIXED,
          CLIENT_HELLO_FIXED + FORMAT_SIZE * SSB_PROTO_MAX_FORMATS, C2S, PORT, 0 },
        read_client_hello, write_client_hello, validate_client_hello, size_client_hello },
    [SSB_MSG_SCANOUT_CREATE] = { FIXED("SCANOUT_CREATE", SCANOUT_SIZE, S2C, PORT),
        read_scanout, write_scanout, validate_scanout, NULL },
    [SSB_MSG_SCANOUT_RESIZE] = { FIXED("SCANOUT_RESIZE", SCANOUT_SIZE, S2C, PORT),
        read_scanout, write_scanout, validate_scanout, NULL },
    [SSB_MSG_SCANOUT_DESTROY] = { FIXED("SCANOUT_DESTROY", SCANOUT_DESTROY_SIZE, S2C, PORT),
        read_scanout_destroy, write_scanout_destroy, validate_scanout_destroy, NULL },
    [SSB_MSG_LOCAL_OFFER] = {
        { "LOCAL_OFFER", LOCAL_OFFER_FIXED + 2, LOCAL_OFFER_FIXED + SSB_PROTO_MAX_PATH,
          S2C, PORT, 0 },
        read_local_offer, write_local_offer, validate_local_offer, size_local_offer },
    [SSB_MSG_LOCAL_DECLINE] = {
        { "LOCAL_DECLINE", REASON_FIXED + 1, REASON_FIXED + SSB_PROTO_MAX_REASON, C2S, PORT, 0 },
        read_local_decline, write_local_decline, validate_local_decline, size_local_decline },
    [SSB_MSG_LOCAL_HELLO] = { FIXED("LOCAL_HELLO", LOCAL_HELLO_SIZE, C2S, LOCAL),
        read_local_hello, write_local_hello, NULL, NULL },
    [SSB_MSG_LOCAL_WELCOME] = { FIXED("LOCAL_WELCOME", LOCAL_WELCOME_SIZE, S2C, LOCAL),
        read_local_welcome, write_local_welcome, validate_local_welcome, NULL },
    [SSB_MSG_SLOT_ANNOUNCE] = {
        { "SLOT_ANNOUNCE", SLOT_ANNOUNCE_FIXED + PLANE_SIZE,
          SLOT_ANNOUNCE_FIXED + PLANE_SIZE * SSB_PROTO_MAX_PLANES, S2C, LOCAL, SSB_PROTO_MAX_FDS },
        read_slot_announce, write_slot_announce, validate_slot_announce, size_slot_announce },
    [SSB_MSG_SLOT_RETIRE] = { FIXED("SLOT_RETIRE", SLOT_RETIRE_SIZE, S2C, LOCAL),
        read_slot_retire, write_slot_retire, validate_slot_retire, NULL },
    [SSB_MSG_FRAME] = {
        { "FRAME", FRAME_FIXED, FRAME_FIXED + RECT_SIZE * SSB_PROTO_MAX_RECTS, S2C, LOCAL, 0 },
        read_frame, write_frame, validate_frame, size_frame },
    [SSB_MSG_SLOT_RELEASE] = { FIXED("SLOT_RELEASE", SLOT_RELEASE_SIZE, C2S, LOCAL),
        read_slot_release, write_slot_release, validate_slot_release, NULL },
    [SSB_MSG_VIDEO_FRAME] = {
        { "VIDEO_FRAME", VIDEO_FRAME_FIXED + 1, SSB_PROTO_MAX_BODY_SIZE, S2C, PORT, 0 },
        read_video_frame, write_video_frame, validate_video_frame, size_video_frame },
    [SSB_MSG_FEEDBACK] = { FIXED("FEEDBACK", FEEDBACK_SIZE, C2S, PORT),
        read_feedback, write_feedback, validate_feedback, NULL },
    [SSB_MSG_KEYFRAME_REQUEST] = { FIXED("KEYFRAME_REQUEST", KEYFRAME_REQUEST_SIZE, C2S, PORT),
        read_keyframe_request, write_keyframe_request, validate_keyframe_request, NULL },
    [SSB_MSG_KEEPALIVE] = {
        FIXED("KEEPALIVE", KEEPALIVE_SIZE, SSB_DIR_BOTH, SSB_TRANSPORT_ANY),
        read_keepalive, write_keepalive, NULL, NULL },
    [SSB_MSG_GOODBYE] = { FIXED("GOODBYE", GOODBYE_SIZE, SSB_DIR_BOTH, SSB_TRANSPORT_ANY),
        read_goodbye, write_goodbye, validate_goodbye, NULL },
    [SSB_MSG_ERROR] = {
        { "ERROR", REASON_FIXED + 1, REASON_FIXED + SSB_PROTO_MAX_REASON,
          SSB_DIR_BOTH, SSB_TRANSPORT_ANY, 0 },
        read_error, write_error, validate_error, size_error },
};

#undef S2C
#undef C2S
#undef PORT
#undef LOCAL
#undef FIXED
