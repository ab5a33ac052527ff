/* Sealed memfd slots for one local client and one scanout.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_SHM_POOL_H
#define SSB_SHM_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "damage.h"

/* Triple buffering: the client may hold two slots, the server always keeps
 * one to copy the newest frame into (see local-sink.c). */
#define SSB_SHM_POOL_SLOTS 3u

struct ssb_shm_slot {
    uint32_t slot_id;
    int fd;               /* sealed memfd opened read-only, owned; -1 once closed */
    uint8_t *map;         /* rw mapping of all of the memfd, owned */
    uint64_t content_seq; /* frame the slot holds; 0 = fresh (nothing) */
    bool held;            /* a FRAME for it is out with the client */
    uint64_t held_seq;
};

struct ssb_shm_pool {
    uint32_t width, height, fourcc, stride;
    uint64_t size;        /* bytes of each memfd */
    uint32_t n_slots;
    struct ssb_shm_slot slots[SSB_SHM_POOL_SLOTS];
};

/* Opens another, read-only file description of @fd (borrowed) through
 * /proc/self/fd: what a client gets from it cannot be mapped writable nor
 * truncated, whatever the original's mode (spec 10).  Works for memfds
 * (seals are the inode's, so they stay visible).  A memfd's inode is 0777,
 * so the receiver could reopen even this fd read-write through its own
 * /proc/self/fd unless the inode's mode forbids it (fchmod(fd, 0400), as the
 * pool does for its own memfds; 0444 for a VMM memfd others must reopen).
 * Returns a new O_CLOEXEC fd (owned by the caller) or -errno. */
int ssb_fd_reopen_readonly(int fd);

/* Creates @n_slots (1..SSB_SHM_POOL_SLOTS) sealed memfds for a @width x
 * @height surface, with slot ids @first_id.. .  Returns NULL (errno set). */
struct ssb_shm_pool *ssb_shm_pool_new(uint32_t width, uint32_t height, uint32_t fourcc,
                                      uint32_t n_slots, uint32_t first_id);
/* Unmaps and closes everything.  Accepts NULL. */
void ssb_shm_pool_free(struct ssb_shm_pool *pool);

/* The slot with @slot_id, or NULL. */
struct ssb_shm_slot *ssb_shm_pool_find(struct ssb_shm_pool *pool, uint32_t slot_id);
/* A slot the client does not hold, preferring the newest content (the
 * smallest buffer age, so the least to copy).  NULL if all are held. */
struct ssb_shm_slot *ssb_shm_pool_acquire(struct ssb_shm_pool *pool);
uint32_t ssb_shm_pool_n_free(const struct ssb_shm_pool *pool);

/* Fills @msg with the SLOT_ANNOUNCE for @slot (the fd goes alongside). */
void ssb_shm_pool_describe(const struct ssb_shm_pool *pool, const struct ssb_shm_slot *slot,
                           struct ssb_msg *msg);

/* Brings @slot up to frame @seq (== @log->last_seq) from @src, a whole
 * surface of the pool's size with @src_stride bytes per row (borrowed):
 * copies the union of the damage since the slot's content, or everything
 * for a fresh or too old slot.  Returns the bytes copied. */
uint64_t ssb_shm_slot_fill(const struct ssb_shm_pool *pool, struct ssb_shm_slot *slot,
                           const uint8_t *src, uint32_t src_stride,
                           const struct ssb_damage_log *log, uint64_t seq);

struct ssb_source;
/* The same from @src (borrowed): rows of a mapping, or a reader that reads
 * each rect straight into the slot (see server-private.h).  A failed read
 * leaves the slot's content unknown (fresh) and copies 0 bytes for it. */
uint64_t ssb_shm_slot_fill_source(const struct ssb_shm_pool *pool, struct ssb_shm_slot *slot,
                                  const struct ssb_source *src,
                                  const struct ssb_damage_log *log, uint64_t seq);

/* Copies @rect from @src to @dst (both borrowed, same bpp).  Returns bytes. */
uint64_t ssb_copy_rect(uint8_t *dst, uint32_t dst_stride, const uint8_t *src,
                       uint32_t src_stride, uint32_t bpp, const struct ssb_rect *rect);

#endif /* SSB_SHM_POOL_H */
