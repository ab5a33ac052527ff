/* libspice-sideband-server: the public API (see spice-sideband/server.h).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "encoder.h"
#include "server-private.h"

uint64_t
ssb_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
ssb_server_options_init(struct ssb_server_options *opts)
{
    g_return_if_fail(opts);
    *opts = (struct ssb_server_options){
        .local_socket = true,
        .allowed_uid = -1,
    };
}

/* ---- local socket glue: the owner of an offer is a client ---- */

static void
local_bound(void *owner, struct ssb_local_conn *conn)
{
    ssb_client_local_bound(owner, conn);
}

static void
local_message(void *owner, const struct ssb_msg *msg)
{
    ssb_client_local_message(owner, msg);
}

static void
local_error(void *owner, enum ssb_error_code code, const char *reason)
{
    ssb_client_local_error(owner, code, reason);
}

static void
local_lost(void *owner)
{
    ssb_client_local_lost(owner);
}

static const struct ssb_local_socket_ops local_ops = {
    .bound = local_bound,
    .message = local_message,
    .error = local_error,
    .lost = local_lost,
};

static void
done_timer_fired(void *opaque)
{
    ssb_server_flush_done(opaque);
}

static void
server_copy_options(struct ssb_server *server, const struct ssb_server_options *opts)
{
    if (opts)
        server->opts = *opts;
    else
        ssb_server_options_init(&server->opts);
    server->runtime_dir = g_strdup(server->opts.runtime_dir);
    server->encoder = g_strdup(server->opts.encoder);
    server->opts.runtime_dir = server->runtime_dir;
    server->opts.encoder = server->encoder;
}

struct ssb_server *
ssb_server_create(SpiceServer *spice, const SpiceCoreInterface *core,
                  const struct ssb_server_options *opts)
{
    struct ssb_server *server;

    if (!spice || !core) {
        errno = EINVAL;
        g_return_val_if_reached(NULL);
    }
    /* -1 is "the server's uid"; anything else must be a real uid_t. */
    if (opts && (opts->allowed_uid < -1 || opts->allowed_uid >= (int64_t)UINT32_MAX)) {
        errno = EINVAL;
        g_return_val_if_reached(NULL);
    }
    server = g_new0(struct ssb_server, 1);
    server->spice = spice;
    server->core = core;
    if (!ssb_encoder_gst_init())
        g_warning("GStreamer does not start: no remote video");
    server_copy_options(server, opts);
    /* Spec 4.1: advertise only codecs with an installed encoder. */
    server->codecs = ssb_encoder_available_codecs() &
                     (server->opts.codecs ? server->opts.codecs : SSB_CODEC_ALL_MASK);
    g_queue_init(&server->done_queue);
    server->done_timer = core->timer_add(done_timer_fired, server);
    if (server->opts.local_socket) {
        uid_t uid = server->opts.allowed_uid < 0 ? geteuid() : (uid_t)server->opts.allowed_uid;

        /* Without it, clients still get the port; never fatal. */
        server->local = ssb_local_socket_new(core, server->runtime_dir, uid, &local_ops);
    }
    server->port = ssb_port_new(server);
    if (!server->port) {
        int err = errno;
        ssb_server_destroy(server);
        errno = err;
        return NULL;
    }
    return server;
}

void
ssb_server_destroy(struct ssb_server *server)
{
    if (!server || server->destroying)
        return;
    server->destroying = true;
    ssb_port_free(server->port); /* frees the clients: GOODBYE, buffers back */
    while (server->clients)
        ssb_server_client_gone(server, server->clients->data);
    ssb_local_socket_free(server->local);
    for (uint32_t i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
        ssb_virgl_forget(server, i);
        ssb_server_drop_streams(server, i);
        g_clear_pointer(&server->scanouts[i], ssb_scanout_free);
    }
    /* The VMM's done() callbacks run last, with every pointer cleared. */
    ssb_server_flush_done(server);
    server->core->timer_remove(server->done_timer);
    g_free(server->runtime_dir);
    g_free(server->encoder);
    g_free(server);
}

void
ssb_server_drop_streams(struct ssb_server *server, uint32_t scanout_id)
{
    for (uint32_t c = 0; c < SSB_CODEC_COUNT; c++)
        g_clear_pointer(&server->streams[scanout_id][c], ssb_video_stream_free);
}

void
ssb_server_client_gone(struct ssb_server *server, struct ssb_client *client)
{
    server->clients = g_list_remove(server->clients, client);
    ssb_client_free(client);
}

/* ---- scanouts ---- */

static struct ssb_scanout *
find_scanout(struct ssb_server *server, uint32_t scanout_id)
{
    return scanout_id < SSB_PROTO_MAX_SCANOUTS ? server->scanouts[scanout_id] : NULL;
}

int
ssb_server_scanout_enable(struct ssb_server *server, uint32_t scanout_id,
                          uint32_t display_channel_id, uint32_t width, uint32_t height,
                          uint32_t fourcc)
{
    struct ssb_scanout *scanout;

    g_return_val_if_fail(server, -EINVAL);
    if (server->destroying)
        return -ESHUTDOWN;
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS || ssb_scanout_check_geometry(width, height, fourcc))
        return -EINVAL;
    if (server->scanouts[scanout_id])
        return -EEXIST;
    scanout = ssb_scanout_new(scanout_id, display_channel_id, width, height, fourcc);
    scanout->seq = server->last_seq[scanout_id];
    ssb_damage_log_reset(&scanout->damage, width, height, scanout->seq);
    server->scanouts[scanout_id] = scanout;
    for (GList *l = server->clients; l; l = l->next)
        ssb_client_scanout_enabled(l->data, scanout);
    return 0;
}

int
ssb_server_scanout_resize(struct ssb_server *server, uint32_t scanout_id, uint32_t width,
                          uint32_t height, uint32_t fourcc)
{
    struct ssb_scanout *scanout;

    g_return_val_if_fail(server, -EINVAL);
    if (server->destroying)
        return -ESHUTDOWN;
    if (ssb_scanout_check_geometry(width, height, fourcc))
        return -EINVAL;
    scanout = find_scanout(server, scanout_id);
    if (!scanout)
        return -ENOENT;
    if (scanout->width == width && scanout->height == height && scanout->fourcc == fourcc)
        return 0;
    scanout->width = width;
    scanout->height = height;
    scanout->fourcc = fourcc;
    scanout->generation++;
    ssb_damage_log_reset(&scanout->damage, width, height, scanout->seq);
    for (GList *l = server->clients; l; l = l->next)
        ssb_client_scanout_resized(l->data, scanout);
    for (uint32_t c = 0; c < SSB_CODEC_COUNT; c++) {
        if (server->streams[scanout_id][c])
            ssb_video_stream_reconfigure(server->streams[scanout_id][c]);
    }
    return 0;
}

int
ssb_server_scanout_disable(struct ssb_server *server, uint32_t scanout_id)
{
    struct ssb_scanout *scanout;

    g_return_val_if_fail(server, -EINVAL);
    if (server->destroying)
        return -ESHUTDOWN;
    scanout = find_scanout(server, scanout_id);
    if (!scanout)
        return -ENOENT;
    for (GList *l = server->clients; l; l = l->next)
        ssb_client_scanout_disabled(l->data, scanout);
    ssb_virgl_forget(server, scanout_id);
    ssb_server_drop_streams(server, scanout_id);
    server->last_seq[scanout_id] = scanout->seq;
    server->scanouts[scanout_id] = NULL;
    ssb_scanout_free(scanout);
    return 0;
}

/* ---- submit ---- */

/* Size of the fd a MEMFD/DMABUF buffer lives in (dma-bufs report it
 * through lseek, memfds through fstat; lseek works for both). */
static int
measure_buffer(const struct ssb_server_buffer *in, struct ssb_server_buffer *out)
{
    off_t end;

    *out = *in;
    if (in->kind == SSB_SERVER_BUFFER_PIXELS)
        return 0;
    if (in->n_planes == 0 || in->n_planes > SSB_PROTO_MAX_PLANES || in->fds[0] < 0)
        return -EINVAL;
    end = lseek(in->fds[0], 0, SEEK_END);
    if (end <= 0)
        return -EINVAL;
    if (in->size == 0)
        out->size = (uint64_t)end;
    else if (in->size > (uint64_t)end)
        return -EINVAL;
    return 0;
}

static int
check_damage(const struct ssb_scanout *scanout, const struct ssb_rect *damage, uint32_t n)
{
    if (n > SSB_PROTO_MAX_RECTS || (n && !damage))
        return -EINVAL;
    if (n && ssb_proto_check_rects(damage, n, scanout->width, scanout->height, NULL) < 0)
        return -EINVAL;
    return 0;
}

/* @buffer may be NULL for a frame with a reader. */
static int
submit_frame(struct ssb_server *server, struct ssb_frame *frame, uint32_t scanout_id,
             const struct ssb_server_buffer *buffer, const struct ssb_rect *damage,
             uint32_t n_damage)
{
    struct ssb_scanout *scanout = find_scanout(server, scanout_id);
    struct ssb_server_buffer measured;
    int err;

    if (!scanout)
        return -ENOENT;
    if (buffer && ((err = measure_buffer(buffer, &measured)) < 0 ||
                   (err = ssb_scanout_check_buffer(scanout, &measured)) < 0))
        return err;
    if ((err = check_damage(scanout, damage, n_damage)) < 0)
        return err;
    frame->seq = ++scanout->seq;
    frame->scanout_id = scanout_id;
    frame->buffer = buffer ? &measured : NULL;
    frame->damage = n_damage ? damage : NULL;
    frame->n_damage = n_damage;
    ssb_damage_log_add(&scanout->damage, frame->seq, damage, n_damage);
    server->stats.frames_submitted++;
    /* The shared encoders copy what they need before the sinks run. */
    for (uint32_t c = 0; c < SSB_CODEC_COUNT; c++) {
        if (server->streams[scanout_id][c])
            ssb_video_stream_submit(server->streams[scanout_id][c], frame);
    }
    for (GList *l = server->clients; l; l = l->next)
        ssb_client_submit(l->data, frame);
    frame->buffer = NULL;
    frame->reader = NULL;
    return 0;
}

int
ssb_server_submit_reader(struct ssb_server *server, uint32_t scanout_id,
                         const struct ssb_server_buffer *buffer,
                         const struct ssb_frame_reader *reader, const struct ssb_rect *damage,
                         uint32_t n_damage, uint64_t t_submit_us, ssb_server_done_fn done,
                         void *user_data)
{
    struct ssb_frame *frame;
    int err;

    g_assert(server && reader && (!buffer || buffer->kind == SSB_SERVER_BUFFER_DMABUF));
    if (server->destroying) {
        if (done)
            done(user_data);
        return -ESHUTDOWN;
    }
    frame = ssb_frame_new(server, done, user_data);
    frame->t_submit_us = t_submit_us ? t_submit_us : ssb_now_us();
    frame->reader = reader;
    err = submit_frame(server, frame, scanout_id, buffer, damage, n_damage);
    frame->reader = NULL;
    /* Like a DMABUF submit: done() never from inside this call. */
    frame->buffer = NULL;
    frame->in_submit = false;
    ssb_frame_unlock(frame);
    return err;
}

int
ssb_server_scanout_submit(struct ssb_server *server, uint32_t scanout_id,
                          const struct ssb_server_buffer *buffer, const struct ssb_rect *damage,
                          uint32_t n_damage, uint64_t t_submit_us, ssb_server_done_fn done,
                          void *user_data)
{
    struct ssb_frame *frame;
    int err;

    /* done() comes exactly once, even for a call that is refused. */
    if (!server || !buffer || server->destroying) {
        if (!server || !buffer)
            g_critical("%s: server and buffer must not be NULL", G_STRFUNC);
        if (done)
            done(user_data);
        return server && buffer ? -ESHUTDOWN : -EINVAL;
    }
    frame = ssb_frame_new(server, done, user_data);
    frame->t_submit_us = t_submit_us ? t_submit_us : ssb_now_us();
    err = submit_frame(server, frame, scanout_id, buffer, damage, n_damage);
    /* PIXELS with no lock left: done() right here; otherwise from the loop. */
    frame->buffer = frame->locks == 1 ? buffer : NULL;
    frame->in_submit = frame->locks == 1;
    ssb_frame_unlock(frame);
    return err;
}

/* ---- events and stats ---- */

void
ssb_server_channel_event(struct ssb_server *server, int event, SpiceChannelEventInfo *info)
{
    g_return_if_fail(server && info);
    /* CONNECTED comes before the channel type is known (type 0); the main
     * channel tells the session's transport, the port channel its own. */
    if (event != SPICE_CHANNEL_EVENT_INITIALIZED ||
        (info->type != SPICE_CHANNEL_PORT && info->type != SPICE_CHANNEL_MAIN))
        return;
    if (!(info->flags & SPICE_CHANNEL_EVENT_FLAG_ADDR_EXT))
        return;
    server->port_family = info->paddr_ext.ss_family;
    g_log(SSB_LOG_DOMAIN, G_LOG_LEVEL_INFO, "SPICE %s channel connected over %s",
          info->type == SPICE_CHANNEL_PORT ? "port" : "main",
          server->port_family == AF_UNIX ? "a unix socket" : "TCP");
}

void
ssb_server_get_stats(const struct ssb_server *server, struct ssb_server_stats *stats)
{
    g_return_if_fail(server && stats);
    *stats = server->stats;
    stats->clients = 0;
    stats->local_clients = 0;
    for (GList *l = server->clients; l; l = l->next) {
        stats->clients += ssb_client_is_active(l->data);
        stats->local_clients += ssb_client_local(l->data) != NULL;
    }
    stats->local_rejected = server->local ? ssb_local_socket_rejected(server->local) : 0;
    stats->port_family = server->port_family;
    stats->video_bitrate_kbps = 0;
    stats->video_max_fps = 0;
    for (uint32_t i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
        for (uint32_t c = 0; c < SSB_CODEC_COUNT; c++) {
            const struct ssb_video_stream *stream = server->streams[i][c];
            struct ssb_server_video_info info;

            if (!stream)
                continue;
            ssb_video_stream_info(stream, &info);
            stats->video_bitrate_kbps = MAX(stats->video_bitrate_kbps, info.bitrate_kbps);
            stats->video_max_fps = MAX(stats->video_max_fps, info.max_fps);
        }
    }
}

int
ssb_server_get_scanout_video(const struct ssb_server *server, uint32_t scanout_id,
                             struct ssb_server_video_info *info)
{
    const struct ssb_video_stream *fallback = NULL;

    g_return_val_if_fail(server && info, -EINVAL);
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS)
        return -EINVAL;
    /* The first stream with clients, else the first one at all. */
    for (uint32_t c = SSB_CODEC_H264; c < SSB_CODEC_COUNT; c++) {
        const struct ssb_video_stream *stream = server->streams[scanout_id][c];
        struct ssb_server_video_info tmp;

        if (!stream)
            continue;
        ssb_video_stream_info(stream, &tmp);
        if (tmp.clients) {
            *info = tmp;
            return 0;
        }
        fallback = fallback ? fallback : stream;
    }
    if (!fallback)
        return -ENOENT;
    ssb_video_stream_info(fallback, info);
    return 0;
}
