/* The local frame sink: frames for one scanout of one client on the local
 * socket (spec 4.5, 4.6).
 *
 * Slot ids 0..2 are a pool of sealed memfds owned by the server (the copy
 * path); ids 3..7 lend the VMM's own buffers (zero copy: sealed MEMFDs, and
 * DMA-BUFs whose fourcc+modifier the client can import).
 *
 * Copy path, one copy per frame: the VMM's PIXELS are only borrowed during
 * submit, so the frame is copied into a pool slot right then; there is no
 * per-scanout shadow.  The client may hold at most two pool slots: a FRAME
 * is sent only if another slot stays free afterwards.  When the client
 * holds two, the newest frame still goes into the third slot but waits
 * there ("pending"); each newer submit overwrites the pending slot (which
 * then needs only that submit's damage, as the slot already holds the frame
 * before) and counts the overwritten frame as skipped; the client's next
 * SLOT_RELEASE sends the pending frame.  So a stalled client costs one
 * damage copy per submit and nothing else, and memory stays at three slots.
 *
 * Each slot remembers which frame it holds; refilling copies the union of
 * the damage since then (buffer age, from the scanout's damage log), a
 * fresh slot gets everything.
 *
 * Zero copy: the client holds at most SSB_MAX_HELD_IMPORTS of the VMM's
 * buffers per scanout; beyond that a frame takes the copy path and done()
 * comes right away, so a VMM cycling through three buffers never waits.
 * Lent buffers are remembered by (st_dev, st_ino, layout), announced once
 * and retired least-recently-used when the five ids run out.
 *
 * Retiring (resize, eviction, disable) ends a hold (spec 4.5): pool memory
 * lives on in the client's mapping only; a lent buffer goes back to the
 * VMM at once.  Releases that cross a retire are stale and ignored.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server-private.h"
#include "shm-pool.h"

#define SSB_IMPORT_FIRST_ID SSB_SHM_POOL_SLOTS
#define SSB_N_IMPORTS (SSB_PROTO_MAX_SLOTS - SSB_SHM_POOL_SLOTS)
#define SSB_MAX_HELD_IMPORTS 2u

/* A VMM buffer lent to the client under a slot id. */
struct ssb_import {
    bool in_use;
    uint32_t slot_id;
    dev_t dev;
    ino_t ino;
    struct ssb_msg_slot_announce layout; /* as announced */
    int fds[SSB_PROTO_MAX_PLANES];       /* owned dups; -1 when closed */
    uint32_t n_fds;
    uint64_t last_seq;                   /* for LRU eviction */
    bool held;
    uint64_t held_seq;
    struct ssb_frame *frame;             /* locked while held */
};

struct ssb_local_sink {
    struct ssb_frame_sink base;
    struct ssb_shm_pool *pool;      /* NULL until a frame needs a copy */
    struct ssb_shm_slot *pending;   /* filled, not yet sent */
    uint64_t pending_seq, pending_t_submit;
    struct ssb_import imports[SSB_N_IMPORTS];
    uint64_t last_sent_seq;         /* 0: the next FRAME is a whole surface */
    uint64_t max_sent_seq;          /* never reset: releases above it are bogus */
};

static struct ssb_local_sink *
local_sink(struct ssb_frame_sink *sink)
{
    return (struct ssb_local_sink *)sink;
}

static struct ssb_server_stats *
sink_stats(struct ssb_local_sink *ls)
{
    return &ssb_client_server(ls->base.client)->stats;
}

static int
sink_send(struct ssb_local_sink *ls, const struct ssb_msg *msg, const int *fds, uint32_t n_fds)
{
    struct ssb_local_conn *conn = ssb_client_local(ls->base.client);

    return conn ? ssb_local_conn_send(conn, msg, fds, n_fds) : -EPIPE;
}

static void
send_retire(struct ssb_local_sink *ls, uint32_t slot_id)
{
    struct ssb_msg msg = { .type = SSB_MSG_SLOT_RETIRE };

    msg.u.slot_retire.scanout_id = ls->base.scanout->id;
    msg.u.slot_retire.slot_id = slot_id;
    sink_send(ls, &msg, NULL, 0);
}

static int
send_frame(struct ssb_local_sink *ls, uint32_t slot_id, uint64_t seq, uint64_t t_submit_us)
{
    struct ssb_msg msg = { .type = SSB_MSG_FRAME };
    struct ssb_msg_frame *f = &msg.u.frame;
    int err;

    f->scanout_id = ls->base.scanout->id;
    f->slot_id = slot_id;
    f->seq = seq;
    f->t_submit_us = t_submit_us;
    if (!ssb_damage_log_since(&ls->base.scanout->damage, ls->last_sent_seq, seq, f->rects,
                              &f->n_rects))
        f->n_rects = 0;
    f->t_ready_us = ssb_now_us();
    err = sink_send(ls, &msg, NULL, 0);
    if (err == 0) {
        ls->last_sent_seq = seq;
        ls->max_sent_seq = MAX(ls->max_sent_seq, seq);
        sink_stats(ls)->frames_sent++;
    }
    return err;
}

/* Spec 4.2: nothing larger than the client's maximum goes to it. */
static bool
sink_fits(const struct ssb_local_sink *ls)
{
    const struct ssb_msg_client_hello *hello = ssb_client_hello(ls->base.client);

    return ls->base.scanout->width <= hello->max_width &&
           ls->base.scanout->height <= hello->max_height;
}

/* A pending frame that will never be sent. */
static void
drop_pending(struct ssb_local_sink *ls)
{
    if (ls->pending) {
        ls->pending = NULL;
        sink_stats(ls)->frames_skipped++;
    }
}

/* ---- zero copy ---- */

static void
import_clear(struct ssb_import *imp)
{
    for (uint32_t i = 0; i < imp->n_fds; i++) {
        if (imp->fds[i] >= 0)
            close(imp->fds[i]);
    }
    if (imp->frame)
        ssb_frame_unlock(imp->frame);
    *imp = (struct ssb_import){ .slot_id = imp->slot_id };
    for (uint32_t i = 0; i < SSB_PROTO_MAX_PLANES; i++)
        imp->fds[i] = -1;
}

static uint32_t
held_imports(const struct ssb_local_sink *ls)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < SSB_N_IMPORTS; i++)
        n += ls->imports[i].held;
    return n;
}

static bool
client_imports(struct ssb_local_sink *ls, const struct ssb_server_buffer *buffer)
{
    const struct ssb_msg_client_hello *hello = ssb_client_hello(ls->base.client);

    for (uint32_t i = 0; i < hello->n_formats; i++) {
        if (hello->formats[i].fourcc == buffer->fourcc &&
            hello->formats[i].modifier == buffer->modifier)
            return true;
    }
    return false;
}

static bool
memfd_shareable(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);

    /* Without F_SEAL_SHRINK the VMM could truncate it under the client's
     * mapping (SIGBUS there). */
    return seals >= 0 && (seals & F_SEAL_SHRINK);
}

static bool
can_lend(struct ssb_local_sink *ls, const struct ssb_server_buffer *buffer)
{
    if (!buffer) /* pixels only through the frame's reader */
        return false;
    if (held_imports(ls) >= SSB_MAX_HELD_IMPORTS)
        return false;
    if (buffer->kind == SSB_SERVER_BUFFER_MEMFD)
        return memfd_shareable(buffer->fds[0]);
    return buffer->kind == SSB_SERVER_BUFFER_DMABUF && client_imports(ls, buffer);
}

static void
describe_buffer(const struct ssb_local_sink *ls, const struct ssb_server_buffer *buffer,
                struct ssb_msg_slot_announce *a)
{
    memset(a, 0, sizeof(*a));
    a->scanout_id = ls->base.scanout->id;
    a->kind = buffer->kind == SSB_SERVER_BUFFER_DMABUF ? SSB_SLOT_DMABUF : SSB_SLOT_SHM;
    a->width = buffer->width;
    a->height = buffer->height;
    a->fourcc = buffer->fourcc;
    a->modifier = buffer->modifier;
    a->size = buffer->size;
    a->n_planes = buffer->n_planes;
    for (uint32_t i = 0; i < buffer->n_planes; i++) {
        a->planes[i].offset = buffer->offsets[i];
        a->planes[i].stride = buffer->strides[i];
    }
}

static bool
layout_equal(const struct ssb_msg_slot_announce *a, const struct ssb_msg_slot_announce *b)
{
    if (a->kind != b->kind || a->width != b->width || a->height != b->height ||
        a->fourcc != b->fourcc || a->modifier != b->modifier || a->size != b->size ||
        a->n_planes != b->n_planes)
        return false;
    for (uint32_t i = 0; i < a->n_planes; i++) {
        if (a->planes[i].offset != b->planes[i].offset ||
            a->planes[i].stride != b->planes[i].stride)
            return false;
    }
    return true;
}

static struct ssb_import *
import_find(struct ssb_local_sink *ls, const struct stat *st,
            const struct ssb_msg_slot_announce *layout)
{
    for (uint32_t i = 0; i < SSB_N_IMPORTS; i++) {
        struct ssb_import *imp = &ls->imports[i];

        /* One memfd may hold several VMM buffers at different offsets. */
        if (!imp->in_use || imp->dev != st->st_dev || imp->ino != st->st_ino ||
            imp->layout.planes[0].offset != layout->planes[0].offset)
            continue;
        if (layout_equal(&imp->layout, layout))
            return imp;
        /* Same memory, new layout: announce it again. */
        if (imp->held)
            return NULL;
        send_retire(ls, imp->slot_id);
        import_clear(imp);
    }
    return NULL;
}

/* A free slot id, retiring the least recently used unheld buffer if
 * needed.  NULL when every lent buffer is held. */
static struct ssb_import *
import_free_slot(struct ssb_local_sink *ls)
{
    struct ssb_import *lru = NULL;

    for (uint32_t i = 0; i < SSB_N_IMPORTS; i++) {
        struct ssb_import *imp = &ls->imports[i];

        if (!imp->in_use)
            return imp;
        if (!imp->held && (!lru || imp->last_seq < lru->last_seq))
            lru = imp;
    }
    if (lru) {
        send_retire(ls, lru->slot_id);
        import_clear(lru);
    }
    return lru;
}

static struct ssb_import *
import_add(struct ssb_local_sink *ls, const struct ssb_server_buffer *buffer,
           const struct stat *st, const struct ssb_msg_slot_announce *layout)
{
    struct ssb_import *imp = import_free_slot(ls);
    struct ssb_msg msg = { .type = SSB_MSG_SLOT_ANNOUNCE };

    if (!imp)
        return NULL;
    imp->in_use = true;
    imp->dev = st->st_dev;
    imp->ino = st->st_ino;
    imp->layout = *layout;
    imp->layout.slot_id = imp->slot_id;
    for (uint32_t i = 0; i < buffer->n_planes; i++) {
        /* A memfd goes out as a read-only reopen so the client cannot write
         * the VMM's buffer (spec 10); a dma-buf cannot be reopened. */
        if (buffer->kind == SSB_SERVER_BUFFER_MEMFD)
            imp->fds[i] = ssb_fd_reopen_readonly(buffer->fds[i]);
        else
            imp->fds[i] = fcntl(buffer->fds[i], F_DUPFD_CLOEXEC, 3);
        imp->n_fds++;
        if (imp->fds[i] < 0) {
            imp->fds[i] = -1;
            import_clear(imp);
            return NULL;
        }
    }
    msg.u.slot_announce = imp->layout;
    if (sink_send(ls, &msg, imp->fds, imp->n_fds) < 0) {
        import_clear(imp);
        return NULL;
    }
    return imp;
}

/* Lends the VMM's buffer itself.  Returns false to take the copy path. */
static bool
submit_lend(struct ssb_local_sink *ls, struct ssb_frame *frame)
{
    const struct ssb_server_buffer *buffer = frame->buffer;
    struct ssb_msg_slot_announce layout;
    struct ssb_import *imp;
    struct stat st;

    if (!can_lend(ls, buffer) || fstat(buffer->fds[0], &st) < 0)
        return false;
    describe_buffer(ls, buffer, &layout);
    imp = import_find(ls, &st, &layout);
    if (!imp)
        imp = import_add(ls, buffer, &st, &layout);
    if (!imp || imp->held)
        return false;
    if (send_frame(ls, imp->slot_id, frame->seq, frame->t_submit_us) < 0)
        return true; /* the connection is going away */
    drop_pending(ls);
    if (frame->reader)
        sink_stats(ls)->virgl_dmabuf_frames++;
    ssb_frame_lock(frame);
    imp->frame = frame;
    imp->held = true;
    imp->held_seq = frame->seq;
    imp->last_seq = frame->seq;
    return true;
}

/* ---- copy path ---- */

static void
dmabuf_sync(int fd, uint64_t flags)
{
    struct dma_buf_sync sync = { .flags = flags | DMA_BUF_SYNC_READ };

    /* ENOTTY for memfds standing in for dma-bufs: nothing to sync. */
    while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) < 0 && (errno == EINTR || errno == EAGAIN))
        ;
}

int
ssb_source_open(const struct ssb_frame *frame, struct ssb_source *src)
{
    const struct ssb_server_buffer *buffer = frame->buffer;

    *src = (struct ssb_source){ .sync_fd = -1 };
    /* A reader beats mapping a DMA-BUF: GPU memory is slow or impossible
     * to map linearly, and the reader knows the picture's layout. */
    if (frame->reader) {
        src->reader = frame->reader;
        return 0;
    }
    if (!buffer)
        return -EINVAL;
    if (buffer->kind == SSB_SERVER_BUFFER_PIXELS) {
        src->data = buffer->data;
        src->stride = buffer->stride;
        return 0;
    }
    /* Tiled/compressed layouts cannot be read row by row. */
    if (buffer->modifier != SSB_MODIFIER_LINEAR || buffer->n_planes != 1)
        return -ENOTSUP;
    src->map_size = (size_t)buffer->size;
    src->map = mmap(NULL, src->map_size, PROT_READ, MAP_SHARED, buffer->fds[0], 0);
    if (src->map == MAP_FAILED) {
        src->map = NULL;
        return -errno;
    }
    if (buffer->kind == SSB_SERVER_BUFFER_DMABUF) {
        src->sync_fd = buffer->fds[0];
        dmabuf_sync(src->sync_fd, DMA_BUF_SYNC_START);
    }
    src->data = (const uint8_t *)src->map + buffer->offsets[0];
    src->stride = buffer->strides[0];
    return 0;
}

void
ssb_source_close(struct ssb_source *src)
{
    if (src->sync_fd >= 0)
        dmabuf_sync(src->sync_fd, DMA_BUF_SYNC_END);
    if (src->map)
        munmap(src->map, src->map_size);
    src->map = NULL;
}

uint64_t
ssb_source_copy_rect(const struct ssb_source *src, uint8_t *dst, uint32_t dst_stride,
                     uint32_t bpp, const struct ssb_rect *rect)
{
    if (!src->reader)
        return ssb_copy_rect(dst, dst_stride, src->data, src->stride, bpp, rect);
    if (src->reader->read(src->reader->opaque, rect, dst, dst_stride) < 0)
        return 0;
    return (uint64_t)rect->width * bpp * rect->height;
}

static int
pool_ensure(struct ssb_local_sink *ls)
{
    const struct ssb_scanout *scanout = ls->base.scanout;
    struct ssb_msg msg;

    if (ls->pool)
        return 0;
    if (!sink_fits(ls))
        return -EFBIG;
    ls->pool = ssb_shm_pool_new(scanout->width, scanout->height, scanout->fourcc,
                                SSB_SHM_POOL_SLOTS, 0);
    if (!ls->pool)
        return -errno;
    for (uint32_t i = 0; i < ls->pool->n_slots; i++) {
        ssb_shm_pool_describe(ls->pool, &ls->pool->slots[i], &msg);
        msg.u.slot_announce.scanout_id = scanout->id;
        if (sink_send(ls, &msg, &ls->pool->slots[i].fd, 1) < 0)
            return -EPIPE;
    }
    return 0;
}

/* Sends the pending slot if the client would still leave one free. */
static void
pool_flush(struct ssb_local_sink *ls)
{
    struct ssb_shm_slot *slot = ls->pending;

    if (!slot || ssb_shm_pool_n_free(ls->pool) < 2)
        return;
    ls->pending = NULL;
    if (send_frame(ls, slot->slot_id, ls->pending_seq, ls->pending_t_submit) < 0)
        return;
    slot->held = true;
    slot->held_seq = ls->pending_seq;
}

static void
submit_copy(struct ssb_local_sink *ls, struct ssb_frame *frame)
{
    struct ssb_shm_slot *slot;
    struct ssb_source src;
    int err;

    if ((err = pool_ensure(ls)) < 0 || (err = ssb_source_open(frame, &src)) < 0) {
        ssb_log_peer("scanout %u: frame %" G_GUINT64_FORMAT " not delivered: %s",
                     frame->scanout_id, frame->seq, g_strerror(-err));
        sink_stats(ls)->frames_skipped++;
        return;
    }
    slot = ls->pending ? ls->pending : ssb_shm_pool_acquire(ls->pool);
    if (ls->pending)
        sink_stats(ls)->frames_skipped++; /* superseded, never sent */
    if (slot) {
        uint64_t bytes = ssb_shm_slot_fill_source(ls->pool, slot, &src,
                                                  &ls->base.scanout->damage, frame->seq);

        sink_stats(ls)->bytes_copied += bytes;
        if (frame->reader) {
            sink_stats(ls)->virgl_shm_readbacks++;
            sink_stats(ls)->virgl_bytes_read += bytes;
        }
        ls->pending = slot;
        ls->pending_seq = frame->seq;
        ls->pending_t_submit = frame->t_submit_us;
        pool_flush(ls);
    }
    ssb_source_close(&src);
}

static void
local_sink_submit(struct ssb_frame_sink *sink, struct ssb_frame *frame)
{
    struct ssb_local_sink *ls = local_sink(sink);

    if (!sink_fits(ls))
        return;
    if (!submit_lend(ls, frame))
        submit_copy(ls, frame);
}

/* ---- release ---- */

int
ssb_local_sink_release(struct ssb_frame_sink *sink, uint32_t slot_id, uint64_t seq)
{
    struct ssb_local_sink *ls = local_sink(sink);
    struct ssb_shm_slot *slot = ssb_shm_pool_find(ls->pool, slot_id);

    if (slot && slot->held && slot->held_seq == seq) {
        slot->held = false;
        pool_flush(ls);
        return 0;
    }
    for (uint32_t i = 0; i < SSB_N_IMPORTS; i++) {
        struct ssb_import *imp = &ls->imports[i];

        if (imp->in_use && imp->slot_id == slot_id && imp->held && imp->held_seq == seq) {
            imp->held = false;
            ssb_frame_unlock(g_steal_pointer(&imp->frame));
            return 0;
        }
    }
    /* Spec 4.6: a release that crossed a retire is stale and ignored; one
     * for a frame never sent cannot be stale. */
    return seq <= ls->max_sent_seq ? 0 : -EPROTO;
}

/* ---- lifecycle ---- */

/* Retires every slot (spec 4.5: a hold ends with its slot).  Pool memory
 * the client still shows lives on in its mapping; a lent VMM buffer goes
 * back to the VMM.  Then announces a pool of the new size. */
static void
local_sink_retire(struct ssb_frame_sink *sink)
{
    struct ssb_local_sink *ls = local_sink(sink);

    ls->pending = NULL;
    for (uint32_t i = 0; ls->pool && i < ls->pool->n_slots; i++)
        send_retire(ls, ls->pool->slots[i].slot_id);
    g_clear_pointer(&ls->pool, ssb_shm_pool_free);
    for (uint32_t i = 0; i < SSB_N_IMPORTS; i++) {
        if (ls->imports[i].in_use) {
            send_retire(ls, ls->imports[i].slot_id);
            import_clear(&ls->imports[i]);
        }
    }
    ls->last_sent_seq = 0;
}

static void
local_sink_reconfigure(struct ssb_frame_sink *sink)
{
    local_sink_retire(sink);
    pool_ensure(local_sink(sink));
}

static void
local_sink_destroy(struct ssb_frame_sink *sink)
{
    struct ssb_local_sink *ls = local_sink(sink);

    ssb_shm_pool_free(ls->pool);
    for (uint32_t i = 0; i < SSB_N_IMPORTS; i++)
        import_clear(&ls->imports[i]);
    g_free(ls);
}

static const struct ssb_frame_sink_impl local_sink_impl = {
    .submit = local_sink_submit,
    .reconfigure = local_sink_reconfigure,
    .retire = local_sink_retire,
    .destroy = local_sink_destroy,
};

struct ssb_frame_sink *
ssb_local_sink_new(struct ssb_client *client, struct ssb_scanout *scanout)
{
    struct ssb_local_sink *ls = g_new0(struct ssb_local_sink, 1);

    ls->base.impl = &local_sink_impl;
    ls->base.client = client;
    ls->base.scanout = scanout;
    for (uint32_t i = 0; i < SSB_N_IMPORTS; i++) {
        ls->imports[i].slot_id = SSB_IMPORT_FIRST_ID + i;
        import_clear(&ls->imports[i]);
    }
    /* Spec 4.4: slots for every scanout right after LOCAL_WELCOME.  The
     * memfds are sparse until a frame is copied in. */
    pool_ensure(ls);
    return &ls->base;
}
