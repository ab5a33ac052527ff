/* Shared-memory slots (server/shm-pool.c) and the damage log behind their
 * buffer-age copies (server/damage.c).
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

#include "shm-pool.h"
#include "test-pattern.h"

#define W 96
#define H 40

static void
test_sealed(void)
{
    struct ssb_shm_pool *pool = ssb_shm_pool_new(W, H, SSB_FORMAT_XRGB8888, 3, 0);

    g_assert_nonnull(pool);
    g_assert_cmpuint(pool->n_slots, ==, 3);
    g_assert_cmpuint(pool->stride, >=, W * 4);
    for (uint32_t i = 0; i < pool->n_slots; i++) {
        struct ssb_shm_slot *slot = &pool->slots[i];
        int seals = fcntl(slot->fd, F_GET_SEALS);
        struct stat st;

        g_assert_cmpuint(slot->slot_id, ==, i);
        g_assert_cmpint(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), ==,
                        F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
        /* The seals hold for any writable description of the memfd. */
        g_autofree char *proc = g_strdup_printf("/proc/self/fd/%d", slot->fd);
        int rw = open(proc, O_RDWR | O_CLOEXEC);
        if (rw >= 0) { /* only root gets past the 0400 mode */
            g_assert_cmpint(ftruncate(rw, (off_t)pool->size / 2), ==, -1);
            g_assert_cmpint(errno, ==, EPERM);
            g_assert_cmpint(ftruncate(rw, (off_t)pool->size * 2), ==, -1);
            g_assert_cmpint(errno, ==, EPERM);
            close(rw);
        }
        g_assert_cmpint(fcntl(slot->fd, F_ADD_SEALS, F_SEAL_WRITE), ==, -1);
        g_assert_cmpint(fstat(slot->fd, &st), ==, 0);
        g_assert_cmpuint((uint64_t)st.st_size, ==, pool->size);
        g_assert_true(fcntl(slot->fd, F_GETFD) & FD_CLOEXEC);
    }
    ssb_shm_pool_free(pool);
}

/* Spec 10: the fd that goes to a client is read-only: it cannot be mapped
 * writable and shared, nor truncated; our own mapping still writes. */
static void
test_read_only(void)
{
    struct ssb_shm_pool *pool = ssb_shm_pool_new(W, H, SSB_FORMAT_XRGB8888, 2, 0);

    g_assert_nonnull(pool);
    for (uint32_t i = 0; i < pool->n_slots; i++) {
        struct ssb_shm_slot *slot = &pool->slots[i];
        void *map;

        g_assert_cmpint(fcntl(slot->fd, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
        map = mmap(NULL, pool->size, PROT_READ | PROT_WRITE, MAP_SHARED, slot->fd, 0);
        g_assert_true(map == MAP_FAILED);
        g_assert_cmpint(errno, ==, EACCES);
        g_assert_cmpint(ftruncate(slot->fd, (off_t)pool->size * 2), ==, -1);
        g_assert_cmpint(ftruncate(slot->fd, 0), ==, -1);
        /* Nor reopened writable through /proc (the inode is 0400). */
        g_autofree char *proc = g_strdup_printf("/proc/self/fd/%d", slot->fd);
        if (geteuid() != 0) {
            g_assert_cmpint(open(proc, O_RDWR | O_CLOEXEC), ==, -1);
            g_assert_cmpint(errno, ==, EACCES);
        }
        slot->map[0] = 0x5a;
        map = mmap(NULL, pool->size, PROT_READ, MAP_SHARED, slot->fd, 0);
        g_assert_true(map != MAP_FAILED);
        g_assert_cmpuint(((uint8_t *)map)[0], ==, 0x5a);
        munmap(map, pool->size);
    }
    ssb_shm_pool_free(pool);
}

static void
test_reopen_readonly(void)
{
    int fd = memfd_create("t", MFD_CLOEXEC), ro;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 4096), ==, 0);
    ro = ssb_fd_reopen_readonly(fd);
    g_assert_cmpint(ro, >=, 0);
    g_assert_true(fcntl(ro, F_GETFD) & FD_CLOEXEC);
    g_assert_true(mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED);
    g_assert_cmpint(errno, ==, EACCES);
    close(ro);
    close(fd);
    g_assert_cmpint(ssb_fd_reopen_readonly(fd), ==, -ENOENT);
}

/* The VMM side: a canvas that follows test-pattern.h, and the damage log. */
struct model {
    uint8_t canvas[W * H * 4];
    struct ssb_damage_log log;
    uint64_t seq;
};

static void
model_submit(struct model *m, uint32_t x, uint32_t y, uint32_t w, uint32_t h, bool full)
{
    struct ssb_rect r = { x, y, w, h };

    m->seq++;
    ssb_test_pattern_fill(m->canvas, W * 4, 7, m->seq, x, y, w, h);
    ssb_damage_log_add(&m->log, m->seq, full ? NULL : &r, full ? 0 : 1);
}

static void
assert_slot_equals_canvas(const struct ssb_shm_pool *pool, const struct ssb_shm_slot *slot,
                          const struct model *m)
{
    for (uint32_t y = 0; y < H; y++)
        g_assert_cmpmem(slot->map + (size_t)y * pool->stride, W * 4, m->canvas + y * W * 4, W * 4);
}

static void
test_buffer_age(void)
{
    struct ssb_shm_pool *pool = ssb_shm_pool_new(W, H, SSB_FORMAT_XRGB8888, 3, 0);
    struct ssb_shm_slot *a = &pool->slots[0], *b = &pool->slots[1];
    static struct model m;
    uint64_t copied;

    ssb_damage_log_reset(&m.log, W, H, 0);
    ssb_test_pattern_fill(m.canvas, W * 4, 7, 0, 0, 0, W, H);
    model_submit(&m, 0, 0, W, H, true);
    /* A fresh slot gets everything. */
    copied = ssb_shm_slot_fill(pool, a, m.canvas, W * 4, &m.log, m.seq);
    g_assert_cmpuint(copied, ==, W * H * 4);
    assert_slot_equals_canvas(pool, a, &m);

    /* Two small updates: slot a (age 2) needs both rects, no more. */
    model_submit(&m, 3, 4, 10, 5, false);
    model_submit(&m, 50, 20, 8, 8, false);
    copied = ssb_shm_slot_fill(pool, a, m.canvas, W * 4, &m.log, m.seq);
    g_assert_cmpuint(copied, ==, (10 * 5 + 8 * 8) * 4);
    assert_slot_equals_canvas(pool, a, &m);
    g_assert_cmpuint(a->content_seq, ==, m.seq);

    /* Up to date: nothing to copy. */
    g_assert_cmpuint(ssb_shm_slot_fill(pool, a, m.canvas, W * 4, &m.log, m.seq), ==, 0);

    /* Slot b is fresh: full copy, then follows with age 1. */
    copied = ssb_shm_slot_fill(pool, b, m.canvas, W * 4, &m.log, m.seq);
    g_assert_cmpuint(copied, ==, W * H * 4);
    model_submit(&m, 0, 39, 96, 1, false);
    copied = ssb_shm_slot_fill(pool, b, m.canvas, W * 4, &m.log, m.seq);
    g_assert_cmpuint(copied, ==, 96 * 4);
    assert_slot_equals_canvas(pool, b, &m);

    /* Older than the log remembers: full copy. */
    for (int i = 0; i < (int)SSB_DAMAGE_LOG_LEN + 1; i++)
        model_submit(&m, (uint32_t)i, 1, 2, 2, false);
    copied = ssb_shm_slot_fill(pool, a, m.canvas, W * 4, &m.log, m.seq);
    g_assert_cmpuint(copied, ==, W * H * 4);
    assert_slot_equals_canvas(pool, a, &m);

    /* A full-damage frame in between also means a full copy. */
    model_submit(&m, 0, 0, W, H, true);
    model_submit(&m, 1, 1, 1, 1, false);
    g_assert_cmpuint(ssb_shm_slot_fill(pool, b, m.canvas, W * 4, &m.log, m.seq), ==, W * H * 4);
    assert_slot_equals_canvas(pool, b, &m);
    ssb_shm_pool_free(pool);
}

static void
test_acquire(void)
{
    struct ssb_shm_pool *pool = ssb_shm_pool_new(W, H, SSB_FORMAT_XRGB8888, 3, 0);

    pool->slots[0].content_seq = 5;
    pool->slots[1].content_seq = 9;
    pool->slots[2].content_seq = 7;
    /* Newest content first: the least to copy. */
    g_assert_true(ssb_shm_pool_acquire(pool) == &pool->slots[1]);
    pool->slots[1].held = true;
    g_assert_true(ssb_shm_pool_acquire(pool) == &pool->slots[2]);
    pool->slots[2].held = true;
    g_assert_cmpuint(ssb_shm_pool_n_free(pool), ==, 1);
    pool->slots[0].held = true;
    g_assert_null(ssb_shm_pool_acquire(pool));
    g_assert_true(ssb_shm_pool_find(pool, 2) == &pool->slots[2]);
    g_assert_null(ssb_shm_pool_find(pool, 5));
    ssb_shm_pool_free(pool);
}

/* Resize = a new pool: new geometry, new sealed fds, content starts fresh. */
static void
test_rebuild(void)
{
    struct ssb_shm_pool *pool = ssb_shm_pool_new(W, H, SSB_FORMAT_XRGB8888, 3, 0);
    struct ssb_damage_log log;
    struct ssb_rect r[SSB_PROTO_MAX_RECTS];
    uint32_t n;
    uint64_t old_size = pool->size;

    ssb_damage_log_reset(&log, W, H, 0);
    ssb_damage_log_add(&log, 1, NULL, 0);
    pool->slots[0].content_seq = 1;
    ssb_shm_pool_free(pool);

    pool = ssb_shm_pool_new(W * 4, H * 2, SSB_FORMAT_XRGB8888, 3, 0);
    g_assert_nonnull(pool);
    g_assert_cmpuint(pool->size, >, old_size);
    g_assert_cmpuint(pool->stride, >=, W * 4 * 4);
    for (uint32_t i = 0; i < 3; i++) {
        g_assert_cmpuint(pool->slots[i].content_seq, ==, 0);
        g_assert_cmpint(fcntl(pool->slots[i].fd, F_GET_SEALS) & F_SEAL_SHRINK, !=, 0);
    }
    /* After a reset, history from before never applies. */
    ssb_damage_log_reset(&log, W * 4, H * 2, 1);
    ssb_damage_log_add(&log, 2, &(struct ssb_rect){ 0, 0, 1, 1 }, 1);
    g_assert_false(ssb_damage_log_since(&log, 1, 2, r, &n));
    g_assert_true(ssb_damage_log_since(&log, 2, 2, r, &n));
    g_assert_cmpuint(n, ==, 0);
    ssb_shm_pool_free(pool);

    g_assert_null(ssb_shm_pool_new(0, H, SSB_FORMAT_XRGB8888, 3, 0));
    g_assert_null(ssb_shm_pool_new(W, H, 0x12345678, 3, 0));
}

static void
test_union_cap(void)
{
    struct ssb_rect set[SSB_PROTO_MAX_RECTS];
    uint32_t n = 0;

    for (uint32_t i = 0; i < SSB_PROTO_MAX_RECTS; i++)
        ssb_rects_union(set, &n, &(struct ssb_rect){ i * 2, 0, 1, 1 });
    g_assert_cmpuint(n, ==, SSB_PROTO_MAX_RECTS);
    /* Contained: no change. */
    ssb_rects_union(set, &n, &(struct ssb_rect){ 0, 0, 1, 1 });
    g_assert_cmpuint(n, ==, SSB_PROTO_MAX_RECTS);
    /* Full: one bounding box covering everything. */
    ssb_rects_union(set, &n, &(struct ssb_rect){ 200, 5, 1, 1 });
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpuint(set[0].x, ==, 0);
    g_assert_cmpuint(set[0].width, ==, 201);
    g_assert_cmpuint(set[0].height, ==, 6);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/server/shm-pool/sealed", test_sealed);
    g_test_add_func("/server/shm-pool/read-only", test_read_only);
    g_test_add_func("/server/shm-pool/reopen-readonly", test_reopen_readonly);
    g_test_add_func("/server/shm-pool/buffer-age", test_buffer_age);
    g_test_add_func("/server/shm-pool/acquire", test_acquire);
    g_test_add_func("/server/shm-pool/rebuild", test_rebuild);
    g_test_add_func("/server/shm-pool/union-cap", test_union_cap);
    return g_test_run();
}
