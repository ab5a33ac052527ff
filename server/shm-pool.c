/* Sealed memfd slots (see shm-pool.h).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "server-private.h"
#include "shm-pool.h"

#define SSB_SLOT_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static void
slot_finish(struct ssb_shm_slot *slot, uint64_t size)
{
    if (slot->map) {
        munmap(slot->map, size);
        slot->map = NULL;
    }
    if (slot->fd >= 0) {
        close(slot->fd);
        slot->fd = -1;
    }
}

int
ssb_fd_reopen_readonly(int fd)
{
    char path[32];
    int ro;

    g_return_val_if_fail(fd >= 0, -EINVAL);
    g_snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ro = open(path, O_RDONLY | O_CLOEXEC);
    return ro < 0 ? -errno : ro;
}

/* The client maps the fd itself; the seals guarantee it can never be
 * shrunk under either side's mapping (no SIGBUS) nor grown.  Only our own
 * mapping is writable: the fd kept (and sent) is a read-only reopen, so a
 * client can neither map it writable nor truncate it (spec 10). */
static int
slot_init(struct ssb_shm_slot *slot, uint32_t slot_id, uint64_t size)
{
    int rw = memfd_create("ssb-slot", MFD_CLOEXEC | MFD_ALLOW_SEALING), err;

    slot->slot_id = slot_id;
    if (rw < 0)
        return -errno;
    if (ftruncate(rw, (off_t)size) < 0)
        goto fail;
    slot->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
    if (slot->map == MAP_FAILED) {
        slot->map = NULL;
        goto fail;
    }
    /* A memfd's inode is 0777: anyone holding even a read-only fd could
     * reopen it read-write through /proc/self/fd.  0400 stops that. */
    if (fcntl(rw, F_ADD_SEALS, SSB_SLOT_SEALS) < 0 || fchmod(rw, 0400) < 0)
        goto fail;
    slot->fd = ssb_fd_reopen_readonly(rw);
    if (slot->fd < 0) {
        errno = -slot->fd;
        slot->fd = -1;
        goto fail;
    }
    close(rw);
    return 0;

fail:
    err = -errno;
    close(rw);
    slot_finish(slot, size);
    return err;
}

struct ssb_shm_pool *
ssb_shm_pool_new(uint32_t width, uint32_t height, uint32_t fourcc, uint32_t n_slots,
                 uint32_t first_id)
{
    uint32_t bpp = ssb_proto_format_bpp(fourcc);
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    struct ssb_shm_pool *pool;

    if (!bpp || !width || !height || !n_slots || n_slots > SSB_SHM_POOL_SLOTS) {
        errno = EINVAL;
        return NULL;
    }
    pool = g_new0(struct ssb_shm_pool, 1);
    pool->width = width;
    pool->height = height;
    pool->fourcc = fourcc;
    pool->stride = (width * bpp + 63u) & ~63u; /* cache-line rows */
    pool->size = ((uint64_t)pool->stride * height + page - 1) / page * page;
    for (uint32_t i = 0; i < SSB_SHM_POOL_SLOTS; i++)
        pool->slots[i].fd = -1;
    for (uint32_t i = 0; i < n_slots; i++) {
        int err = slot_init(&pool->slots[i], first_id + i, pool->size);

        if (err < 0) {
            ssb_shm_pool_free(pool);
            errno = -err;
            return NULL;
        }
        pool->n_slots++;
    }
    return pool;
}

void
ssb_shm_pool_free(struct ssb_shm_pool *pool)
{
    if (!pool)
        return;
    for (uint32_t i = 0; i < pool->n_slots; i++)
        slot_finish(&pool->slots[i], pool->size);
    g_free(pool);
}

struct ssb_shm_slot *
ssb_shm_pool_find(struct ssb_shm_pool *pool, uint32_t slot_id)
{
    for (uint32_t i = 0; pool && i < pool->n_slots; i++) {
        if (pool->slots[i].slot_id == slot_id)
            return &pool->slots[i];
    }
    return NULL;
}

struct ssb_shm_slot *
ssb_shm_pool_acquire(struct ssb_shm_pool *pool)
{
    struct ssb_shm_slot *best = NULL;

    for (uint32_t i = 0; i < pool->n_slots; i++) {
        struct ssb_shm_slot *slot = &pool->slots[i];

        if (slot->held)
            continue;
        if (!best || slot->content_seq > best->content_seq)
            best = slot;
    }
    return best;
}

uint32_t
ssb_shm_pool_n_free(const struct ssb_shm_pool *pool)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < pool->n_slots; i++)
        n += !pool->slots[i].held;
    return n;
}

void
ssb_shm_pool_describe(const struct ssb_shm_pool *pool, const struct ssb_shm_slot *slot,
                      struct ssb_msg *msg)
{
    struct ssb_msg_slot_announce *a = &msg->u.slot_announce;

    memset(msg, 0, sizeof(*msg));
    msg->type = SSB_MSG_SLOT_ANNOUNCE;
    a->slot_id = slot->slot_id;
    a->kind = SSB_SLOT_SHM;
    a->width = pool->width;
    a->height = pool->height;
    a->fourcc = pool->fourcc;
    a->modifier = SSB_MODIFIER_LINEAR;
    a->size = pool->size;
    a->n_planes = 1;
    a->planes[0].offset = 0;
    a->planes[0].stride = pool->stride;
}

uint64_t
ssb_copy_rect(uint8_t *dst, uint32_t dst_stride, const uint8_t *src, uint32_t src_stride,
              uint32_t bpp, const struct ssb_rect *rect)
{
    size_t row = (size_t)rect->width * bpp;
    size_t xoff = (size_t)rect->x * bpp;

    if (row == dst_stride && row == src_stride && rect->x == 0) {
        memcpy(dst + (size_t)rect->y * dst_stride, src + (size_t)rect->y * src_stride,
               row * rect->height);
        return (uint64_t)row * rect->height;
    }
    for (uint32_t y = rect->y; y < rect->y + rect->height; y++)
        memcpy(dst + (size_t)y * dst_stride + xoff, src + (size_t)y * src_stride + xoff, row);
    return (uint64_t)row * rect->height;
}

uint64_t
ssb_shm_slot_fill(const struct ssb_shm_pool *pool, struct ssb_shm_slot *slot,
                  const uint8_t *src, uint32_t src_stride, const struct ssb_damage_log *log,
                  uint64_t seq)
{
    struct ssb_source source = { .data = src, .stride = src_stride, .sync_fd = -1 };

    return ssb_shm_slot_fill_source(pool, slot, &source, log, seq);
}

uint64_t
ssb_shm_slot_fill_source(const struct ssb_shm_pool *pool, struct ssb_shm_slot *slot,
                         const struct ssb_source *src, const struct ssb_damage_log *log,
                         uint64_t seq)
{
    uint32_t bpp = ssb_proto_format_bpp(pool->fourcc);
    struct ssb_rect rects[SSB_PROTO_MAX_RECTS];
    struct ssb_rect whole = { 0, 0, pool->width, pool->height };
    uint32_t n = 0;
    uint64_t copied = 0;
    bool failed = false;

    if (!ssb_damage_log_since(log, slot->content_seq, seq, rects, &n)) {
        rects[0] = whole;
        n = 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bytes = ssb_source_copy_rect(src, slot->map, pool->stride, bpp, &rects[i]);

        failed |= bytes == 0 && rects[i].width && rects[i].height;
        copied += bytes;
    }
    /* A rect that could not be read leaves stale pixels: copy all next time. */
    slot->content_seq = failed ? 0 : seq;
    return copied;
}
