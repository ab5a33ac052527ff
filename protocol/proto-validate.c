/* spice-sideband wire protocol: rules shared by parser and encoder that
 * span more than one field (strings, damage rects, slot layouts), and the
 * public checks built on them.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "proto-private.h"

/* A string as the wire carries it: exactly @len bytes, the last one NUL and
 * no other.  Returns NULL or the reason. */
const char *proto_wire_text_check(const uint8_t *s, size_t len)
{
    if (len == 0 || s[len - 1] != '\0')
        return "string not NUL-terminated at the end of its length";
    if (memchr(s, '\0', len - 1) != NULL)
        return "string has an embedded NUL";
    return NULL;
}

const char *proto_rects_check(const struct ssb_rect *rects, uint32_t n_rects,
                              uint32_t width, uint32_t height)
{
    for (uint32_t i = 0; i < n_rects; i++) {
        const struct ssb_rect *r = &rects[i];
        uint32_t right, bottom;

        if (r->width == 0 || r->height == 0)
            return "empty damage rect";
        if (__builtin_add_overflow(r->x, r->width, &right) ||
            __builtin_add_overflow(r->y, r->height, &bottom))
            return "damage rect overflows";
        if (right > width || bottom > height)
            return "damage rect outside the surface";
    }
    return NULL;
}

/* spec SLOT_ANNOUNCE: where the planes of a slot may lie in @fd_size bytes. */
const char *proto_slot_layout_check(const struct ssb_msg_slot_announce *s, uint64_t fd_size)
{
    uint32_t bpp = ssb_proto_format_bpp(s->fourcc);
    uint64_t row, span, end;

    if (bpp == 0)
        return "slot: unsupported fourcc";
    if (!dimension_ok(s->width) || !dimension_ok(s->height))
        return "slot: width/height out of range (1..16384)";
    if (s->n_planes < 1 || s->n_planes > SSB_PROTO_MAX_PLANES)
        return "slot: n_planes out of range (1..4)";
    if (s->kind != SSB_SLOT_SHM && s->kind != SSB_SLOT_DMABUF)
        return "slot: unknown kind";
    if (s->kind == SSB_SLOT_DMABUF && s->modifier != SSB_MODIFIER_LINEAR) {
        /* Tiled layouts are the driver's business; offsets at least must
         * point inside the buffer. */
        for (uint32_t i = 0; i < s->n_planes; i++)
            if (s->planes[i].offset >= fd_size)
                return "slot: plane offset beyond the buffer";
        return NULL;
    }
    row = (uint64_t)s->width * bpp;
    if (s->planes[0].stride < row)
        return "slot: stride smaller than width * bpp";
    if (__builtin_mul_overflow((uint64_t)s->planes[0].stride, (uint64_t)(s->height - 1), &span) ||
        __builtin_add_overflow(span, row, &span) ||
        __builtin_add_overflow(span, (uint64_t)s->planes[0].offset, &end))
        return "slot: plane size overflows";
    if (end > fd_size)
        return "slot: plane does not fit in the buffer";
    return NULL;
}


SSB_PROTO_EXPORT uint32_t ssb_proto_format_bpp(uint32_t fourcc)
{
    switch (fourcc) {
    case SSB_FORMAT_XRGB8888:
    case SSB_FORMAT_ARGB8888:
    case SSB_FORMAT_XBGR8888:
    case SSB_FORMAT_ABGR8888:
        return 4;
    default:
        return 0;
    }
}

SSB_PROTO_EXPORT uint32_t ssb_proto_msg_fd_count(const struct ssb_msg *msg)
{
    const struct ssb_msg_slot_announce *s;

    if (msg == NULL || msg->type != SSB_MSG_SLOT_ANNOUNCE)
        return 0;
    s = &msg->u.slot_announce;
    if (s->kind == SSB_SLOT_SHM)
        return 1;
    if (s->kind == SSB_SLOT_DMABUF && s->n_planes <= SSB_PROTO_MAX_PLANES)
        return s->n_planes;
    return 0;
}

SSB_PROTO_EXPORT int ssb_proto_check_rects(const struct ssb_rect *rects, uint32_t n_rects,
                                           uint32_t width, uint32_t height,
                                           const char **reason)
{
    const char *why;

    if (rects == NULL && n_rects > 0)
        return -EINVAL;
    if ((why = proto_rects_check(rects, n_rects, width, height)) != NULL)
        return proto_reject(reason, why);
    return 0;
}

SSB_PROTO_EXPORT int ssb_proto_check_slot_layout(const struct ssb_msg_slot_announce *slot,
                                                 uint64_t fd_size, const char **reason)
{
    const char *why;

    if (slot == NULL)
        return -EINVAL;
    if ((why = proto_slot_layout_check(slot, fd_size)) != NULL)
        return proto_reject(reason, why);
    return 0;
}
