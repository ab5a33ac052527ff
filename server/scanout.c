/* Scanouts: geometry, frame numbering and damage history.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>

#include "server-private.h"

int
ssb_scanout_check_geometry(uint32_t width, uint32_t height, uint32_t fourcc)
{
    if (width == 0 || height == 0 || width > SSB_PROTO_MAX_DIMENSION ||
        height > SSB_PROTO_MAX_DIMENSION || ssb_proto_format_bpp(fourcc) == 0)
        return -EINVAL;
    return 0;
}

struct ssb_scanout *
ssb_scanout_new(uint32_t id, uint32_t display_channel_id, uint32_t width, uint32_t height,
                uint32_t fourcc)
{
    struct ssb_scanout *scanout = g_new0(struct ssb_scanout, 1);

    scanout->id = id;
    scanout->display_channel_id = display_channel_id;
    scanout->width = width;
    scanout->height = height;
    scanout->fourcc = fourcc;
    ssb_damage_log_reset(&scanout->damage, width, height, 0);
    return scanout;
}

void
ssb_scanout_free(struct ssb_scanout *scanout)
{
    g_free(scanout);
}

void
ssb_scanout_to_msg(const struct ssb_scanout *scanout, enum ssb_msg_type type,
                   struct ssb_msg *msg)
{
    memset(msg, 0, sizeof(*msg));
    msg->type = type;
    if (type == SSB_MSG_SCANOUT_DESTROY) {
        msg->u.scanout_destroy.scanout_id = scanout->id;
        return;
    }
    msg->u.scanout.scanout_id = scanout->id;
    msg->u.scanout.display_channel_id = scanout->display_channel_id;
    msg->u.scanout.width = scanout->width;
    msg->u.scanout.height = scanout->height;
    msg->u.scanout.fourcc = scanout->fourcc;
}

/* Plane 0 must lie inside the fd; DMA-BUFs with a vendor modifier can
 * only be checked loosely (spec 4.5). */
static int
check_planes(const struct ssb_scanout *scanout, const struct ssb_server_buffer *buffer)
{
    struct ssb_msg_slot_announce layout = {
        .kind = buffer->kind == SSB_SERVER_BUFFER_DMABUF ? SSB_SLOT_DMABUF : SSB_SLOT_SHM,
        .width = scanout->width,
        .height = scanout->height,
        .fourcc = scanout->fourcc,
        .modifier = buffer->modifier,
        .size = buffer->size,
        .n_planes = buffer->n_planes,
    };

    if (buffer->n_planes == 0 || buffer->n_planes > SSB_PROTO_MAX_PLANES)
        return -EINVAL;
    if (buffer->kind == SSB_SERVER_BUFFER_MEMFD &&
        (buffer->n_planes != 1 || buffer->modifier != SSB_MODIFIER_LINEAR))
        return -EINVAL;
    for (uint32_t i = 0; i < buffer->n_planes; i++) {
        if (buffer->fds[i] < 0)
            return -EINVAL;
        layout.planes[i].offset = buffer->offsets[i];
        layout.planes[i].stride = buffer->strides[i];
    }
    if (buffer->modifier == SSB_MODIFIER_LINEAR &&
        ssb_proto_check_slot_layout(&layout, buffer->size, NULL) < 0)
        return -EINVAL;
    return 0;
}

/* @buffer->size must already be measured (non-zero) for fd kinds. */
int
ssb_scanout_check_buffer(const struct ssb_scanout *scanout,
                         const struct ssb_server_buffer *buffer)
{
    uint32_t bpp = ssb_proto_format_bpp(scanout->fourcc);

    if (buffer->width != scanout->width || buffer->height != scanout->height ||
        buffer->fourcc != scanout->fourcc)
        return -EINVAL;
    switch (buffer->kind) {
    case SSB_SERVER_BUFFER_PIXELS:
        if (!buffer->data || buffer->stride < (uint64_t)buffer->width * bpp)
            return -EINVAL;
        return 0;
    case SSB_SERVER_BUFFER_MEMFD:
    case SSB_SERVER_BUFFER_DMABUF:
        return check_planes(scanout, buffer);
    }
    return -EINVAL;
}
