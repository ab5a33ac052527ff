/* spice-sideband wire protocol: public entry points.
 *
 * docs/spec.md is normative.  Every message type has one entry in
 * proto_msg_types (proto-messages.c), indexed by type: its static limits, a
 * reader, a writer and one validator.  The validator is what both directions
 * share: the parser runs it on what it decoded, the encoder on what it is
 * asked to send, so an encoder never emits what a parser rejects.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <strings.h>

#include "proto-private.h"

/* Full check of a decoded or to-be-encoded message. */
static const char *msg_validate(const struct msg_type *t, const struct ssb_msg *msg)
{
    if (msg->flags != 0)
        return "header flags not 0";
    return t->validate ? t->validate(msg) : NULL;
}

static uint32_t msg_body_size(const struct msg_type *t, const struct ssb_msg *msg)
{
    return t->body_size ? t->body_size(msg) : t->info.min_body;
}

/* ------------------------------------------------------------------------
 * Public API
 */
SSB_PROTO_EXPORT const struct ssb_msg_info *ssb_proto_msg_info(uint32_t type)
{
    const struct msg_type *t = proto_msg_type_get(type);
    return t ? &t->info : NULL;
}

SSB_PROTO_EXPORT const char *ssb_proto_msg_name(uint32_t type)
{
    const struct msg_type *t = proto_msg_type_get(type);
    return t ? t->info.name : "UNKNOWN";
}

SSB_PROTO_EXPORT const char *ssb_proto_error_name(uint32_t code)
{
    static const char *const names[SSB_ERROR_CODE_COUNT] = {
        [SSB_ERROR_NONE] = "NONE",
        [SSB_ERROR_PROTOCOL] = "PROTOCOL",
        [SSB_ERROR_VERSION] = "VERSION",
        [SSB_ERROR_STATE] = "STATE",
        [SSB_ERROR_AUTH] = "AUTH",
        [SSB_ERROR_LIMIT] = "LIMIT",
        [SSB_ERROR_UNSUPPORTED] = "UNSUPPORTED",
        [SSB_ERROR_INTERNAL] = "INTERNAL",
        [SSB_ERROR_SHUTDOWN] = "SHUTDOWN",
    };
    return error_code_ok(code) ? names[code] : "UNKNOWN";
}

static const char *const codec_names[SSB_CODEC_COUNT] = {
    [SSB_CODEC_H264] = "h264",
    [SSB_CODEC_VP8] = "vp8",
    [SSB_CODEC_VP9] = "vp9",
    [SSB_CODEC_AV1] = "av1",
    [SSB_CODEC_H265] = "h265",
};

SSB_PROTO_EXPORT const char *ssb_proto_codec_name(uint32_t codec)
{
    return codec_ok(codec) ? codec_names[codec] : NULL;
}

SSB_PROTO_EXPORT enum ssb_codec ssb_proto_codec_from_name(const char *name)
{
    if (name == NULL)
        return SSB_CODEC_NONE;
    for (uint32_t c = SSB_CODEC_NONE + 1; c < SSB_CODEC_COUNT; c++)
        if (strcasecmp(name, codec_names[c]) == 0)
            return (enum ssb_codec)c;
    return SSB_CODEC_NONE;
}

SSB_PROTO_EXPORT size_t ssb_proto_encoded_size(const struct ssb_msg *msg)
{
    const struct msg_type *t = msg ? proto_msg_type_get(msg->type) : NULL;

    if (t == NULL || msg_validate(t, msg) != NULL)
        return 0;
    return SSB_PROTO_HEADER_SIZE + msg_body_size(t, msg);
}

SSB_PROTO_EXPORT ssize_t ssb_proto_encode(const struct ssb_msg *msg, uint8_t *buf, size_t cap)
{
    const struct msg_type *t = msg ? proto_msg_type_get(msg->type) : NULL;
    struct wbuf w = { .p = buf, .len = cap };
    uint32_t body;

    if (t == NULL || msg_validate(t, msg) != NULL)
        return -EINVAL;
    if (buf == NULL && cap != 0)
        return -EINVAL;
    body = msg_body_size(t, msg);
    if (cap < SSB_PROTO_HEADER_SIZE || cap - SSB_PROTO_HEADER_SIZE < body)
        return -ENOSPC;
    wr16(&w, (uint16_t)msg->type);
    wr16(&w, 0);
    wr32(&w, body);
    t->write(&w, msg);
    if (w.overrun || w.off != SSB_PROTO_HEADER_SIZE + body)
        return -EINVAL; /* a writer disagrees with its size rule: a bug */
    return (ssize_t)w.off;
}

SSB_PROTO_EXPORT int ssb_proto_parse_header(const uint8_t *buf, size_t len,
                                            struct ssb_msg_header *hdr, const char **reason)
{
    struct rbuf r = { .p = buf, .len = len };
    const struct msg_type *t;
    struct ssb_msg_header h;

    if (buf == NULL || len < SSB_PROTO_HEADER_SIZE)
        return proto_reject(reason, "truncated header");
    h.type = rd16(&r);
    h.flags = rd16(&r);
    h.size = rd32(&r);
    if ((t = proto_msg_type_get(h.type)) == NULL)
        return proto_reject(reason, "unknown message type");
    if (h.flags != 0)
        return proto_reject(reason, "header flags not 0");
    if (h.size < t->info.min_body)
        return proto_reject(reason, "body smaller than its type allows");
    if (h.size > t->info.max_body)
        return proto_reject(reason, "body larger than its type allows");
    if (hdr)
        *hdr = h;
    return 0;
}

SSB_PROTO_EXPORT int ssb_proto_parse(const uint8_t *buf, size_t len, size_t n_fds,
                                     struct ssb_msg *out, const char **reason)
{
    struct ssb_msg_header h;
    const struct msg_type *t;
    struct rbuf r;
    const char *why;
    int ret;

    if (out == NULL)
        return -EINVAL;
    if ((ret = ssb_proto_parse_header(buf, len, &h, reason)) < 0)
        return ret;
    if (len - SSB_PROTO_HEADER_SIZE < h.size)
        return proto_reject(reason, "truncated body");
    if (len - SSB_PROTO_HEADER_SIZE > h.size)
        return proto_reject(reason, "bytes after the body");
    t = proto_msg_type_get(h.type);
    if (n_fds > t->info.max_fds)
        return proto_reject(reason, t->info.max_fds ? "too many fds" : "fds on a message that takes none");

    memset(out, 0, sizeof(*out));
    out->type = (enum ssb_msg_type)h.type;
    r = (struct rbuf){ .p = buf + SSB_PROTO_HEADER_SIZE, .len = h.size };
    if ((why = t->read(&r, out)) != NULL)
        return proto_reject(reason, why);
    if (r.overrun || r.off != r.len)
        return proto_reject(reason, "body size does not match its layout");
    if ((why = msg_validate(t, out)) != NULL)
        return proto_reject(reason, why);
    if (n_fds != ssb_proto_msg_fd_count(out))
        return proto_reject(reason, "fd count does not match the message");
    return 0;
}

