/* spice-sideband wire protocol: internals shared by proto.c (public entry
 * points), proto-messages.c (per-type layouts) and proto-validate.c (rules
 * shared by parser and encoder).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "spice-sideband/proto.h"

/* ------------------------------------------------------------------------
 * Little-endian cursors.  Sizes are checked against the type's rule before a
 * body is read; the cursors still refuse to run past the end (they compare
 * what is left with what is needed before advancing) and remember it.
 */
struct rbuf {
    const uint8_t *p;
    size_t len;
    size_t off;
    bool overrun;
};

struct wbuf {
    uint8_t *p;
    size_t len;
    size_t off;
    bool overrun;
};

static inline bool rbuf_take(struct rbuf *r, size_t n, const uint8_t **at)
{
    if (r->overrun || r->len - r->off < n) {
        r->overrun = true;
        return false;
    }
    *at = r->p + r->off;
    r->off += n;
    return true;
}

static inline uint16_t rd16(struct rbuf *r)
{
    const uint8_t *b;
    if (!rbuf_take(r, 2, &b))
        return 0;
    return (uint16_t)(b[0] | (uint16_t)b[1] << 8);
}

static inline uint32_t rd32(struct rbuf *r)
{
    const uint8_t *b;
    if (!rbuf_take(r, 4, &b))
        return 0;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t rd64(struct rbuf *r)
{
    uint64_t lo = rd32(r);
    uint64_t hi = rd32(r);
    return lo | hi << 32;
}

static inline void rd_bytes(struct rbuf *r, void *dst, size_t n)
{
    const uint8_t *b;
    if (rbuf_take(r, n, &b))
        memcpy(dst, b, n);
}

static inline size_t rbuf_left(const struct rbuf *r)
{
    return r->len - r->off;
}

static inline uint8_t *wbuf_take(struct wbuf *w, size_t n)
{
    uint8_t *at;
    if (w->overrun || w->len - w->off < n) {
        w->overrun = true;
        return NULL;
    }
    at = w->p + w->off;
    w->off += n;
    return at;
}

static inline void wr16(struct wbuf *w, uint16_t v)
{
    uint8_t *b = wbuf_take(w, 2);
    if (b) {
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
    }
}

static inline void wr32(struct wbuf *w, uint32_t v)
{
    uint8_t *b = wbuf_take(w, 4);
    if (b) {
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
        b[2] = (uint8_t)(v >> 16);
        b[3] = (uint8_t)(v >> 24);
    }
}

static inline void wr64(struct wbuf *w, uint64_t v)
{
    wr32(w, (uint32_t)v);
    wr32(w, (uint32_t)(v >> 32));
}

static inline void wr_bytes(struct wbuf *w, const void *src, size_t n)
{
    uint8_t *b = wbuf_take(w, n);
    if (b && n)
        memcpy(b, src, n);
}

/* ------------------------------------------------------------------------
 * Body sizes (spec "Bodies").  Fixed parts are the sum of their fields.
 */
enum {
    SERVER_HELLO_SIZE = 4 + 2 + 2 + 8 + 4 + 4,
    CLIENT_HELLO_FIXED = 4 + 2 + 2 + 8 + 4 + 4 + 4 + 4 + 4 + 4,
    FORMAT_SIZE = 4 + 4 + 8,
    SCANOUT_SIZE = 6 * 4,
    SCANOUT_DESTROY_SIZE = 4,
    LOCAL_OFFER_FIXED = SSB_PROTO_TOKEN_SIZE + SSB_PROTO_HOST_ID_SIZE + 2 + 2,
    REASON_FIXED = 4 + 2 + 2, /* LOCAL_DECLINE and ERROR */
    LOCAL_HELLO_SIZE = SSB_PROTO_TOKEN_SIZE,
    LOCAL_WELCOME_SIZE = 4,
    SLOT_ANNOUNCE_FIXED = 6 * 4 + 8 + 8 + 4 + 4,
    PLANE_SIZE = 4 + 4,
    SLOT_RETIRE_SIZE = 4 + 4,
    FRAME_FIXED = 4 + 4 + 8 + 8 + 8 + 4 + 4,
    RECT_SIZE = 4 * 4,
    SLOT_RELEASE_SIZE = 4 + 4 + 8,
    VIDEO_FRAME_FIXED = 6 * 4 + 3 * 8 + 4 + 4,
    FEEDBACK_SIZE = 4 + 4 + 8 + 8 + 8 + 4 * 4,
    KEYFRAME_REQUEST_SIZE = 4 + 4,
    KEEPALIVE_SIZE = 8 + 8,
    GOODBYE_SIZE = 4,
    MAX_PAYLOAD = SSB_PROTO_MAX_BODY_SIZE - VIDEO_FRAME_FIXED,
};

/* ------------------------------------------------------------------------
 * Shared field rules: used by validators, so by both parser and encoder.
 */
static inline bool scanout_id_ok(uint32_t id)
{
    return id < SSB_PROTO_MAX_SCANOUTS;
}

static inline bool slot_id_ok(uint32_t id)
{
    return id < SSB_PROTO_MAX_SLOTS;
}

static inline bool dimension_ok(uint32_t v)
{
    return v >= 1 && v <= SSB_PROTO_MAX_DIMENSION;
}

static inline bool codec_ok(uint32_t codec)
{
    return codec > SSB_CODEC_NONE && codec < SSB_CODEC_COUNT;
}

static inline bool error_code_ok(uint32_t code)
{
    return code < SSB_ERROR_CODE_COUNT;
}

/* A string field as the struct holds it: NUL-terminated within @cap bytes. */
static inline bool text_ok(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* spec "Bodies" rules used by more than one message (proto-validate.c).
 * Each returns NULL when the input is fine, else a static reason. */
const char *proto_wire_text_check(const uint8_t *s, size_t len);
const char *proto_rects_check(const struct ssb_rect *rects, uint32_t n_rects,
                              uint32_t width, uint32_t height);
const char *proto_slot_layout_check(const struct ssb_msg_slot_announce *s, uint64_t fd_size);

/* One message type (proto-messages.c). */
struct msg_type {
    struct ssb_msg_info info;
    const char *(*read)(struct rbuf *r, struct ssb_msg *m);
    void (*write)(struct wbuf *w, const struct ssb_msg *m);
    /* NULL: nothing beyond the body layout to check */
    const char *(*validate)(const struct ssb_msg *m);
    /* NULL: fixed size, min_body == max_body.  Called on validated msgs. */
    uint32_t (*body_size)(const struct ssb_msg *m);
};

/* Indexed by type; entries of unassigned types are all NULL. */
extern const struct msg_type proto_msg_types[SSB_MSG_TYPE_COUNT];

static inline const struct msg_type *proto_msg_type_get(uint32_t type)
{
    if (type >= SSB_MSG_TYPE_COUNT || proto_msg_types[type].read == NULL)
        return NULL;
    return &proto_msg_types[type];
}

static inline int proto_reject(const char **reason, const char *why)
{
    if (reason)
        *reason = why;
    return -EPROTO;
}
