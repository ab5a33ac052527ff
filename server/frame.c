/* Frames and their done() callbacks (see struct ssb_frame).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "server-private.h"

struct ssb_frame *
ssb_frame_new(struct ssb_server *server, ssb_server_done_fn done, void *user_data)
{
    struct ssb_frame *frame = g_new0(struct ssb_frame, 1);

    frame->server = server;
    frame->locks = 1;
    frame->in_submit = true;
    frame->done = done;
    frame->user_data = user_data;
    return frame;
}

void
ssb_frame_lock(struct ssb_frame *frame)
{
    frame->locks++;
}

static void
frame_finish(struct ssb_frame *frame)
{
    if (frame->done)
        frame->done(frame->user_data);
    g_free(frame);
}

void
ssb_frame_unlock(struct ssb_frame *frame)
{
    struct ssb_server *server = frame->server;
    bool pixels = frame->buffer && frame->buffer->kind == SSB_SERVER_BUFFER_PIXELS;

    g_assert(frame->locks > 0);
    if (--frame->locks > 0)
        return;
    /* The API promises MEMFD/DMABUF callers no done() from inside submit,
     * so they may take locks after submitting without reentrancy. */
    if (frame->in_submit && pixels) {
        frame_finish(frame);
        return;
    }
    /* Re-arming a pending timer would postpone it: arm it once per batch. */
    if (g_queue_is_empty(&server->done_queue))
        server->core->timer_start(server->done_timer, 0);
    g_queue_push_tail(&server->done_queue, frame);
}

void
ssb_server_flush_done(struct ssb_server *server)
{
    struct ssb_frame *frame;

    while ((frame = g_queue_pop_head(&server->done_queue)))
        frame_finish(frame);
}
