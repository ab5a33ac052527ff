/* The virglrenderer adapter (see spice-sideband/server-virgl.h).
 *
 * A flush becomes one frame with two ways to its pixels: a reader that
 * reads rectangles back with virgl_renderer_transfer_read_iov() (what the
 * shared-memory copy path and the encoders use, straight into their own
 * buffers, only the damage each of them lacks), and, when virglrenderer can
 * export the resource, a DMA-BUF that local sinks lend to the clients that
 * import its fourcc + modifier (local-sink.c).  So the per-client choice
 * is the local sink's, as for any DMA-BUF submit; only the fallback differs
 * (a read back instead of mapping the DMA-BUF).
 *
 * The export is made once per resource geometry and kept (dup()ed by the
 * sinks that lend it): the same dma-buf inode every flush lets a client
 * keep its import.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <virgl/virglrenderer.h>

#include "spice-sideband/server-virgl.h"
#include "server-private.h"

/* virgl_hw.h formats (not installed by virglrenderer 0.10). */
#define SSB_VIRGL_FORMAT_B8G8R8A8_UNORM 1u
#define SSB_VIRGL_FORMAT_B8G8R8X8_UNORM 2u
#define SSB_VIRGL_FORMAT_R8G8B8A8_UNORM 67u
#define SSB_VIRGL_FORMAT_R8G8B8X8_UNORM 134u
/* virgl_renderer_resource_info.flags: rows stored bottom-up for GL. */
#define SSB_VIRGL_RESOURCE_Y_0_TOP (1u << 0)

/* A box as virglrenderer's transfers take it (struct pipe_box layout). */
struct virgl_box {
    uint32_t x, y, z;
    uint32_t w, h, d;
};

struct ssb_virgl_scanout {
    struct ssb_server *server;      /* borrowed */
    uint32_t scanout_id;
    uint32_t resource_id;
    struct virgl_renderer_resource_info info; /* as last seen */
    uint32_t fourcc;
    struct ssb_server_buffer dmabuf; /* n_planes 0: not exportable; fds owned */
    struct ssb_frame_reader reader;
    uint64_t flushes, reads, bytes_read, read_us;
};

/* Memory order of the bytes, as the DRM fourccs the protocol uses. */
static uint32_t
fourcc_for_virgl(uint32_t virgl_format)
{
    switch (virgl_format) {
    case SSB_VIRGL_FORMAT_B8G8R8A8_UNORM:
        return SSB_FORMAT_ARGB8888;
    case SSB_VIRGL_FORMAT_B8G8R8X8_UNORM:
        return SSB_FORMAT_XRGB8888;
    case SSB_VIRGL_FORMAT_R8G8B8A8_UNORM:
        return SSB_FORMAT_ABGR8888;
    case SSB_VIRGL_FORMAT_R8G8B8X8_UNORM:
        return SSB_FORMAT_XBGR8888;
    default:
        return 0;
    }
}

static struct ssb_virgl_scanout *
find(const struct ssb_server *server, uint32_t scanout_id)
{
    return scanout_id < SSB_PROTO_MAX_SCANOUTS ? server->virgl[scanout_id] : NULL;
}

/* ---- export ---- */

static void
export_clear(struct ssb_virgl_scanout *vs)
{
    for (uint32_t i = 0; i < vs->dmabuf.n_planes; i++) {
        if (vs->dmabuf.fds[i] >= 0)
            close(vs->dmabuf.fds[i]);
    }
    memset(&vs->dmabuf, 0, sizeof(vs->dmabuf));
    for (uint32_t i = 0; i < SSB_PROTO_MAX_PLANES; i++)
        vs->dmabuf.fds[i] = -1;
}

/* The export query (virglrenderer >= 0.9) gives fourcc, strides, offsets
 * and modifier of a GBM-backed resource. */
static bool
export_query(struct ssb_virgl_scanout *vs)
{
    struct virgl_renderer_export_query q = {
        .hdr = {
            .stype = VIRGL_RENDERER_STRUCTURE_TYPE_EXPORT_QUERY,
            .stype_version = 0,
            .size = sizeof(q),
        },
        .in_resource_id = vs->resource_id,
        .in_export_fds = 1,
    };

    if (virgl_renderer_execute(&q, sizeof(q)) != 0 || q.out_num_fds == 0)
        return false;
    /* Our formats are single-plane: one fd or nothing. */
    if (q.out_num_fds != 1 || q.out_fourcc != vs->fourcc) {
        for (uint32_t i = 0; i < q.out_num_fds && i < 4; i++) {
            if (q.out_fds[i] >= 0)
                close(q.out_fds[i]);
        }
        return false;
    }
    vs->dmabuf.fds[0] = q.out_fds[0];
    vs->dmabuf.strides[0] = q.out_strides[0];
    vs->dmabuf.offsets[0] = q.out_offsets[0];
    vs->dmabuf.modifier = q.out_modifier;
    return true;
}

/* The texture-fd call: EGL's export of the resource's texture, with no
 * modifier reported (the driver's implicit one). */
static bool
export_texture(struct ssb_virgl_scanout *vs)
{
    int fd = -1, stride = 0, offset = 0;

    if (!vs->info.tex_id ||
        virgl_renderer_get_fd_for_texture2(vs->info.tex_id, &fd, &stride, &offset) != 0 ||
        fd < 0) {
        return false;
    }
    if (stride <= 0 || offset < 0) {
        close(fd);
        return false;
    }
    vs->dmabuf.fds[0] = fd;
    vs->dmabuf.strides[0] = (uint32_t)stride;
    vs->dmabuf.offsets[0] = (uint32_t)offset;
    vs->dmabuf.modifier = SSB_MODIFIER_INVALID;
    return true;
}

/* A blob resource's memory: linear by definition, rows of info.stride. */
static bool
export_blob(struct ssb_virgl_scanout *vs)
{
    uint32_t fd_type = 0;
    int fd = -1;

    if (!vs->info.stride || virgl_renderer_resource_export_blob(vs->resource_id, &fd_type, &fd))
        return false;
    if (fd_type != VIRGL_RENDERER_BLOB_FD_TYPE_DMABUF) {
        close(fd);
        return false;
    }
    vs->dmabuf.fds[0] = fd;
    vs->dmabuf.strides[0] = vs->info.stride;
    vs->dmabuf.offsets[0] = 0;
    vs->dmabuf.modifier = SSB_MODIFIER_LINEAR;
    return true;
}

static void
export_resource(struct ssb_virgl_scanout *vs)
{
    export_clear(vs);
    /* The protocol has no orientation: a bottom-up resource is read back
     * (transfers give rows top-down). */
    if (vs->info.flags & SSB_VIRGL_RESOURCE_Y_0_TOP)
        return;
    if (!export_query(vs) && !export_texture(vs) && !export_blob(vs))
        return;
    vs->dmabuf.kind = SSB_SERVER_BUFFER_DMABUF;
    vs->dmabuf.width = vs->info.width;
    vs->dmabuf.height = vs->info.height;
    vs->dmabuf.fourcc = vs->fourcc;
    vs->dmabuf.n_planes = 1;
    g_log(SSB_LOG_DOMAIN, G_LOG_LEVEL_INFO,
          "scanout %u: virgl resource %u exported as DMA-BUF (modifier 0x%" G_GINT64_MODIFIER
          "x)", vs->scanout_id, vs->resource_id, vs->dmabuf.modifier);
}

/* ---- read back ---- */

/* struct ssb_frame_reader.read: one transfer per rect, straight into the
 * caller's buffer (the iov covers exactly the rect's rows). */
static int
read_rect(void *opaque, const struct ssb_rect *rect, uint8_t *dst, uint32_t dst_stride)
{
    struct ssb_virgl_scanout *vs = opaque;
    uint32_t bpp = ssb_proto_format_bpp(vs->fourcc);
    struct virgl_box box = { rect->x, rect->y, 0, rect->width, rect->height, 1 };
    size_t first = (size_t)rect->y * dst_stride + (size_t)rect->x * bpp;
    struct iovec iov = {
        .iov_base = dst + first,
        .iov_len = (size_t)(rect->height - 1) * dst_stride + (size_t)rect->width * bpp,
    };
    uint64_t t0 = ssb_now_us();
    int ret;

    if (!rect->width || !rect->height)
        return 0;
    ret = virgl_renderer_transfer_read_iov(vs->resource_id, 0, 0, dst_stride, 0, &box, 0, &iov,
                                           1);
    vs->read_us += ssb_now_us() - t0;
    vs->reads++;
    if (ret != 0) {
        ssb_log_peer("scanout %u: reading virgl resource %u failed (%d)", vs->scanout_id,
                     vs->resource_id, ret);
        return ret > 0 ? -ret : ret;
    }
    vs->bytes_read += (uint64_t)rect->width * bpp * rect->height;
    return 0;
}

/* ---- resource state ---- */

/* Reads the resource's info; on a geometry change resizes the scanout and
 * exports again.  Returns 0, 1 (changed: send everything) or -errno. */
static int
refresh(struct ssb_virgl_scanout *vs)
{
    struct virgl_renderer_resource_info info = { 0 };
    uint32_t fourcc;
    bool changed;
    int err;

    if (virgl_renderer_resource_get_info((int)vs->resource_id, &info) != 0)
        return -ENOENT;
    fourcc = fourcc_for_virgl(info.virgl_format);
    if (!fourcc || info.depth > 1 ||
        ssb_scanout_check_geometry(info.width, info.height, fourcc) < 0)
        return -EINVAL;
    changed = info.width != vs->info.width || info.height != vs->info.height ||
              fourcc != vs->fourcc || info.tex_id != vs->info.tex_id ||
              info.flags != vs->info.flags;
    vs->info = info;
    vs->fourcc = fourcc;
    if (!changed)
        return 0;
    err = ssb_server_scanout_resize(vs->server, vs->scanout_id, info.width, info.height, fourcc);
    if (err < 0)
        return err;
    export_resource(vs);
    return 1;
}

static void
virgl_scanout_free(struct ssb_virgl_scanout *vs)
{
    if (!vs)
        return;
    export_clear(vs);
    g_free(vs);
}

void
ssb_virgl_forget(struct ssb_server *server, uint32_t scanout_id)
{
    g_clear_pointer(&server->virgl[scanout_id], virgl_scanout_free);
}

/* ---- API ---- */

int
ssb_server_virgl_attach(struct ssb_server *server, uint32_t scanout_id, uint32_t resource_id)
{
    struct ssb_virgl_scanout *vs;
    int err;

    g_return_val_if_fail(server, -EINVAL);
    if (server->destroying)
        return -ESHUTDOWN;
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS || resource_id == 0)
        return -EINVAL;
    if (!server->scanouts[scanout_id])
        return -ENOENT;
    vs = g_new0(struct ssb_virgl_scanout, 1);
    vs->server = server;
    vs->scanout_id = scanout_id;
    vs->resource_id = resource_id;
    vs->reader.read = read_rect;
    vs->reader.opaque = vs;
    export_clear(vs);
    virgl_renderer_force_ctx_0();
    if ((err = refresh(vs)) < 0) {
        virgl_scanout_free(vs);
        return err == -ENOENT ? -EINVAL : err;
    }
    ssb_virgl_forget(server, scanout_id);
    server->virgl[scanout_id] = vs;
    return 0;
}

int
ssb_server_virgl_detach(struct ssb_server *server, uint32_t scanout_id)
{
    g_return_val_if_fail(server, -EINVAL);
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS)
        return -EINVAL;
    if (!server->virgl[scanout_id])
        return -ENOENT;
    ssb_virgl_forget(server, scanout_id);
    return 0;
}

/* Guest rects are data: clip them to the resource, drop empty ones.
 * Returns how many are left in @out. */
static uint32_t
clip_damage(const struct ssb_virgl_scanout *vs, const struct ssb_rect *damage, uint32_t n,
            struct ssb_rect *out)
{
    uint32_t kept = 0;

    for (uint32_t i = 0; i < n; i++) {
        const struct ssb_rect *r = &damage[i];
        uint32_t x1, y1;

        if (r->x >= vs->info.width || r->y >= vs->info.height)
            continue;
        x1 = r->x + MIN(r->width, vs->info.width - r->x);
        y1 = r->y + MIN(r->height, vs->info.height - r->y);
        if (x1 == r->x || y1 == r->y)
            continue;
        out[kept++] = (struct ssb_rect){ r->x, r->y, x1 - r->x, y1 - r->y };
    }
    return kept;
}

int
ssb_server_virgl_flush(struct ssb_server *server, uint32_t scanout_id,
                       const struct ssb_rect *damage, uint32_t n_damage, uint64_t t_submit_us)
{
    struct ssb_rect clipped[SSB_PROTO_MAX_RECTS];
    struct ssb_virgl_scanout *vs;
    int changed;

    g_return_val_if_fail(server, -EINVAL);
    if (server->destroying)
        return -ESHUTDOWN;
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS || n_damage > SSB_PROTO_MAX_RECTS ||
        (n_damage && !damage))
        return -EINVAL;
    vs = find(server, scanout_id);
    if (!vs)
        return -ENOENT;
    virgl_renderer_force_ctx_0();
    changed = refresh(vs);
    if (changed < 0)
        return changed;
    if (changed) {
        n_damage = 0; /* a new surface: everything */
    } else if (n_damage) {
        n_damage = clip_damage(vs, damage, n_damage, clipped);
        if (n_damage == 0)
            return 0; /* nothing on screen changed */
    }
    vs->flushes++;
    return ssb_server_submit_reader(server, scanout_id,
                                    vs->dmabuf.n_planes ? &vs->dmabuf : NULL, &vs->reader,
                                    n_damage ? clipped : NULL, n_damage, t_submit_us, NULL, NULL);
}

int
ssb_server_virgl_get_info(const struct ssb_server *server, uint32_t scanout_id,
                          struct ssb_server_virgl_info *info)
{
    const struct ssb_virgl_scanout *vs;

    g_return_val_if_fail(server && info, -EINVAL);
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS)
        return -EINVAL;
    vs = find(server, scanout_id);
    if (!vs)
        return -ENOENT;
    *info = (struct ssb_server_virgl_info){
        .resource_id = vs->resource_id,
        .width = vs->info.width,
        .height = vs->info.height,
        .fourcc = vs->fourcc,
        .dmabuf_planes = vs->dmabuf.n_planes,
        .modifier = vs->dmabuf.modifier,
        .flushes = vs->flushes,
        .reads = vs->reads,
        .bytes_read = vs->bytes_read,
        .read_us = vs->read_us,
    };
    return 0;
}
