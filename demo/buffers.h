/* Scanout buffers the demo can lend to the sideband server: a pool of
 * sealed memfds per scanout standing in for a virtual GPU's linear
 * DMA-BUFs (there is no GPU on the machines this runs on).  Submitted as
 * SSB_SERVER_BUFFER_DMABUF, so local clients that import DMA-BUFs get the
 * fds themselves (zero copy) and the others get a copy in shared memory.
 *
 * Each frame goes to a buffer the server is not reading; only what changed
 * since that buffer last held a frame is copied into it, as a GPU driver
 * would redraw only the damage of its back buffer.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef DEMO_BUFFERS_H
#define DEMO_BUFFERS_H

#include <stdbool.h>
#include <stdint.h>

#include <spice-sideband/server.h>

struct demo_buffers;

/* A pool for one @width x @height XRGB8888 scanout; NULL with errno set. */
struct demo_buffers *demo_buffers_new(uint32_t width, uint32_t height);
/* Frees the pool; buffers still lent to the server stay alive until the
 * server's done callback (which must still run on the demo's loop). */
void demo_buffers_free(struct demo_buffers *buffers);

/* Brings a free buffer up to the frame at @pixels (borrowed, @stride),
 * whose damage against the previous frame is @damage (@n_damage rects),
 * and submits it for @scanout_id.  Returns 0, -EBUSY when every buffer is
 * lent (the caller submits the pixels instead), or the submit's -errno. */
int demo_buffers_submit(struct demo_buffers *buffers, struct ssb_server *server,
                        uint32_t scanout_id, const uint8_t *pixels, uint32_t stride,
                        const struct ssb_rect *damage, uint32_t n_damage, uint64_t t_us);

#endif /* DEMO_BUFFERS_H */
