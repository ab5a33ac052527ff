/* Lendable scanout buffers: see buffers.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "buffers.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scanout.h"

/* A client holds at most two lent buffers per scanout (server.h): with
 * four the demo never waits. */
#define N_BUFFERS 4
/* Damage of the last frames, to bring a buffer up to date. */
#define HISTORY 8

struct demo_buffer {
    struct demo_buffers *pool;
    int fd;
    uint8_t *map;
    bool lent;
    uint64_t frame;               /* frame it holds; 0: none */
};

struct demo_damage {
    uint32_t n;
    struct ssb_rect rects[DEMO_SCANOUT_MAX_DAMAGE];
};

struct demo_buffers {
    uint32_t width, height, stride;
    size_t size;
    uint64_t frame;               /* frames seen */
    struct demo_damage history[HISTORY];   /* by frame % HISTORY */
    struct demo_buffer buffers[N_BUFFERS];
    uint32_t lent;
    bool freed;                   /* demo_buffers_free() ran while lent */
};

static void
pool_release(struct demo_buffers *pool)
{
    for (unsigned i = 0; i < N_BUFFERS; i++) {
        if (pool->buffers[i].map)
            munmap(pool->buffers[i].map, pool->size);
        if (pool->buffers[i].fd >= 0)
            close(pool->buffers[i].fd);
    }
    g_free(pool);
}

static int
buffer_init(struct demo_buffer *b, struct demo_buffers *pool)
{
    b->pool = pool;
    b->fd = memfd_create("spice-sideband-demo", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (b->fd < 0 || ftruncate(b->fd, (off_t)pool->size) < 0 ||
        fcntl(b->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
        return -errno;
    b->map = mmap(NULL, pool->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
    if (b->map == MAP_FAILED) {
        b->map = NULL;
        return -errno;
    }
    return 0;
}

struct demo_buffers *
demo_buffers_new(uint32_t width, uint32_t height)
{
    struct demo_buffers *pool = g_new0(struct demo_buffers, 1);

    pool->width = width;
    pool->height = height;
    pool->stride = width * 4;
    pool->size = (size_t)pool->stride * height;
    for (unsigned i = 0; i < N_BUFFERS; i++)
        pool->buffers[i].fd = -1;
    for (unsigned i = 0; i < N_BUFFERS; i++) {
        int rc = buffer_init(&pool->buffers[i], pool);

        if (rc < 0) {
            pool_release(pool);
            errno = -rc;
            return NULL;
        }
    }
    return pool;
}

void
demo_buffers_free(struct demo_buffers *buffers)
{
    if (!buffers)
        return;
    if (buffers->lent)
        buffers->freed = true;
    else
        pool_release(buffers);
}

static void
buffer_done(void *user_data)
{
    struct demo_buffer *b = user_data;
    struct demo_buffers *pool = b->pool;

    b->lent = false;
    if (--pool->lent == 0 && pool->freed)
        pool_release(pool);
}

static void
copy_rect(struct demo_buffer *b, const uint8_t *pixels, uint32_t stride, const struct ssb_rect *r)
{
    uint32_t dst_stride = b->pool->stride;

    for (uint32_t y = r->y; y < r->y + r->height; y++)
        memcpy(b->map + (size_t)y * dst_stride + (size_t)r->x * 4,
               pixels + (size_t)y * stride + (size_t)r->x * 4, (size_t)r->width * 4);
}

/* Copies into @b what changed since the frame it holds: the damage of the
 * frames after it, or everything when that is no longer in the history. */
static void
bring_up_to_date(struct demo_buffer *b, const uint8_t *pixels, uint32_t stride)
{
    struct demo_buffers *pool = b->pool;

    if (b->frame == 0 || pool->frame - b->frame >= HISTORY) {
        struct ssb_rect all = { 0, 0, pool->width, pool->height };

        copy_rect(b, pixels, stride, &all);
    } else {
        for (uint64_t f = b->frame + 1; f <= pool->frame; f++) {
            const struct demo_damage *d = &pool->history[f % HISTORY];

            for (uint32_t i = 0; i < d->n; i++)
                copy_rect(b, pixels, stride, &d->rects[i]);
        }
    }
    b->frame = pool->frame;
}

static struct demo_buffer *
free_buffer(struct demo_buffers *pool)
{
    for (unsigned i = 0; i < N_BUFFERS; i++) {
        if (!pool->buffers[i].lent)
            return &pool->buffers[i];
    }
    return NULL;
}

int
demo_buffers_submit(struct demo_buffers *buffers, struct ssb_server *server,
                    uint32_t scanout_id, const uint8_t *pixels, uint32_t stride,
                    const struct ssb_rect *damage, uint32_t n_damage, uint64_t t_us)
{
    struct demo_damage *slot = &buffers->history[++buffers->frame % HISTORY];
    struct demo_buffer *b;

    if (n_damage == 0 || n_damage > DEMO_SCANOUT_MAX_DAMAGE) {
        slot->n = 1;
        slot->rects[0] = (struct ssb_rect){ 0, 0, buffers->width, buffers->height };
    } else {
        slot->n = n_damage;
        memcpy(slot->rects, damage, n_damage * sizeof(*damage));
    }
    if (!(b = free_buffer(buffers)))
        return -EBUSY;
    bring_up_to_date(b, pixels, stride);

    struct ssb_server_buffer buffer = {
        .kind = SSB_SERVER_BUFFER_DMABUF,
        .width = buffers->width,
        .height = buffers->height,
        .fourcc = SSB_FORMAT_XRGB8888,
        .modifier = SSB_MODIFIER_LINEAR,
        .n_planes = 1,
        .fds = { b->fd },
        .strides = { buffers->stride },
        .size = buffers->size,
    };
    b->lent = true;
    buffers->lent++;
    /* done() runs exactly once, on error too. */
    return ssb_server_scanout_submit(server, scanout_id, &buffer, damage, n_damage, t_us,
                                     buffer_done, b);
}
