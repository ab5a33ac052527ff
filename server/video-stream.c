/* The remote video of one scanout in one codec: one encoder shared by the
 * video sinks of every remote client of the scanout (spec 5).
 *
 * Pictures: PIXELS are only borrowed during submit, so the stream keeps
 * its own copy of the latest picture, double-buffered ("shadows"): a
 * submit copies the damage since a shadow's content (buffer age, from the
 * scanout's damage log) into the shadow the encoder is not reading, and
 * the encoder's appsrc wraps a shadow without copying; the buffer's
 * destroy notify (videoconvert is done with it) frees the shadow again.
 * When the encoder takes I420 (no videoconvert), each shadow also keeps an
 * I420 copy and the appsrc wraps that one; a push hands the encoder the
 * damage since the copy's content (the same buffer age) to convert on its
 * streaming thread, so the loop does no per-pixel work.
 *
 * Pacing (spec 5.3: drop before encoding, never queue): at most one
 * picture is in the encoder.  A newer submit replaces the waiting picture
 * (it is the same shadow, brought up to date; the replaced one counts as
 * skipped).  The waiting picture is encoded when (a) the encoder returned
 * the previous one, (b) the frame interval of the slowest sink's rate has
 * passed, and (c) every sink's queue has drained — or 250 ms passed, then
 * a sink still busy drops that frame and gets a keyframe later.
 * No damage, no encode: without a new submit nothing is encoded except a
 * keyframe that is due (a client joined or asked for one).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "server-private.h"
#include "shm-pool.h"

#define SSB_SINK_WAIT_US 250000u   /* longest wait for a busy sink */
#define SSB_ENCODE_TIMEOUT_US 1000000u /* an encoder that swallowed a frame */
#define SSB_LATENCY_RING 256u

struct shadow {
    uint8_t *pixels;
    uint64_t seq;              /* content: frame seq, 0 = none */
    uint8_t *yuv;              /* I420 copy, allocated on first use */
    uint64_t yuv_seq;          /* its content: frame seq, 0 = none */
    bool busy;                 /* wrapped by a buffer in the pipeline */
};

struct ssb_video_stream {
    struct ssb_server *server;     /* borrowed */
    struct ssb_scanout *scanout;   /* borrowed, outlives the stream */
    enum ssb_codec codec;
    GList *sinks;                  /* struct ssb_frame_sink *, borrowed */
    struct ssb_encoder *encoder;   /* while sinks are attached */
    bool encoder_failed;           /* no candidate works: stop trying */
    uint32_t width, height, stride;
    struct shadow shadows[2];
    struct ssb_yuv *yuv;           /* RGB -> I420, NULL: not converted */
    int latest;                    /* shadow with the newest picture, -1 */
    uint64_t latest_t_submit;
    uint64_t encoded_seq;          /* picture last pushed */
    uint64_t dirty_since_us;       /* when the waiting picture arrived */
    bool keyframe_due;
    /* The picture in the encoder. */
    bool in_flight;
    uint64_t in_flight_since_us;
    uint64_t in_flight_seq, in_flight_t_submit;
    uint32_t in_flight_w, in_flight_h;
    uint64_t last_push_us;
    uint32_t cookie_gen;           /* stale releases after a reconfigure */
    uint64_t pushes;               /* cookie = gen << 40 | pushes << 1 | shadow */
    uint64_t in_flight_cookie;
    SpiceTimer *timer;
    bool timer_armed;
    /* Stats. */
    uint64_t frames_encoded, keyframes, bytes, skipped;
    uint32_t encode_us[SSB_LATENCY_RING], send_us[SSB_LATENCY_RING];
    uint32_t n_encode, n_send;
};

static void stream_pump(struct ssb_video_stream *stream);

/* ---- rates ---- */

uint32_t
ssb_video_stream_kbps(const struct ssb_video_stream *stream)
{
    uint32_t kbps = 0;

    for (GList *l = stream->sinks; l; l = l->next) {
        uint32_t k = ssb_video_sink_kbps(l->data);

        kbps = kbps ? MIN(kbps, k) : k;
    }
    return kbps;
}

uint32_t
ssb_video_stream_fps(const struct ssb_video_stream *stream)
{
    uint32_t fps = 0;

    for (GList *l = stream->sinks; l; l = l->next) {
        uint32_t f = ssb_video_sink_fps(l->data);

        fps = fps ? MIN(fps, f) : f;
    }
    return MAX(fps, 1u);
}

/* ---- shadows ---- */

static void
shadows_free(struct ssb_video_stream *stream)
{
    for (int i = 0; i < 2; i++) {
        g_clear_pointer(&stream->shadows[i].pixels, g_free);
        g_clear_pointer(&stream->shadows[i].yuv, g_free);
        stream->shadows[i] = (struct shadow){ 0 };
    }
    g_clear_pointer(&stream->yuv, ssb_yuv_free);
    stream->latest = -1;
}

static void
shadows_alloc(struct ssb_video_stream *stream)
{
    const struct ssb_scanout *scanout = stream->scanout;

    stream->width = scanout->width;
    stream->height = scanout->height;
    stream->stride = scanout->width * ssb_proto_format_bpp(scanout->fourcc);
    for (int i = 0; i < 2; i++)
        stream->shadows[i].pixels = g_malloc((size_t)stream->stride * stream->height);
    stream->yuv = ssb_yuv_new(stream->width, stream->height, scanout->fourcc);
    stream->latest = -1;
}

/* Pushes @sh's I420 copy, brought up to its RGB content (the damage
 * since: converted by the encoder off the loop, see encoder.h). */
static int
shadow_push_i420(struct ssb_video_stream *stream, struct shadow *sh, uint64_t cookie)
{
    struct ssb_rect rects[SSB_PROTO_MAX_RECTS] = { { 0 } };
    uint32_t n = 0;
    bool partial;

    if (!sh->yuv) {
        sh->yuv = g_malloc(ssb_yuv_info(stream->yuv)->size);
        sh->yuv_seq = 0;
    }
    partial = sh->yuv_seq == sh->seq ||
              (sh->yuv_seq &&
               ssb_damage_log_since(&stream->scanout->damage, sh->yuv_seq, sh->seq, rects, &n));
    if (ssb_encoder_push_i420(stream->encoder, sh->yuv, stream->yuv, sh->pixels, stream->stride,
                              partial ? rects : NULL, n, cookie, stream->keyframe_due) < 0)
        return -EIO;
    /* Converted before the buffer is released, whatever happens to it. */
    sh->yuv_seq = sh->seq;
    return 0;
}

/* Brings @sh up to @frame: the damage since its content, or everything. */
static void
shadow_fill(struct ssb_video_stream *stream, struct shadow *sh, const struct ssb_source *src,
            uint64_t seq)
{
    struct ssb_rect rects[SSB_PROTO_MAX_RECTS];
    struct ssb_rect whole = { 0, 0, stream->width, stream->height };
    uint32_t bpp = ssb_proto_format_bpp(stream->scanout->fourcc), n = 0;

    if (!sh->seq || !ssb_damage_log_since(&stream->scanout->damage, sh->seq, seq, rects, &n)) {
        rects[0] = whole;
        n = 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bytes = ssb_source_copy_rect(src, sh->pixels, stream->stride, bpp, &rects[i]);

        if (src->reader) {
            stream->server->stats.virgl_video_readbacks += i == 0;
            stream->server->stats.virgl_bytes_read += bytes;
        }
    }
    sh->seq = seq;
}

void
ssb_video_stream_submit(struct ssb_video_stream *stream, struct ssb_frame *frame)
{
    struct ssb_source src;
    struct shadow *sh;
    bool waiting;
    int target;

    if (stream->width != stream->scanout->width || stream->height != stream->scanout->height)
        return; /* reconfigure comes */
    /* The shadow the encoder does not read; the latest one if free. */
    target = stream->latest;
    if (target < 0 || stream->shadows[target].busy)
        target = !stream->shadows[0].busy ? 0 : !stream->shadows[1].busy ? 1 : -1;
    if (target < 0)
        return; /* both read: the next submit copies this damage too */
    if (ssb_source_open(frame, &src) < 0)
        return;
    waiting = stream->latest >= 0 && stream->shadows[stream->latest].seq > stream->encoded_seq;
    sh = &stream->shadows[target];
    shadow_fill(stream, sh, &src, frame->seq);
    ssb_source_close(&src);
    if (waiting) { /* the waiting picture is superseded, never encoded */
        stream->skipped++;
        stream->server->stats.frames_skipped++;
    } else {
        stream->dirty_since_us = ssb_now_us();
    }
    stream->latest = target;
    stream->latest_t_submit = frame->t_submit_us;
    stream_pump(stream);
}

/* ---- encoder callbacks (on the loop) ---- */

static void
record(uint32_t *ring, uint32_t *n, uint64_t value)
{
    ring[(*n)++ % SSB_LATENCY_RING] = (uint32_t)MIN(value, (uint64_t)UINT32_MAX);
}

static void
on_output(void *opaque, const struct ssb_encoder_output *out)
{
    struct ssb_video_stream *stream = opaque;
    struct ssb_server_stats *stats = &stream->server->stats;
    struct ssb_msg_video_frame hdr = { 0 };
    gsize size = g_bytes_get_size(out->data);

    /* Only the output of the push in flight (not of one given up on). */
    if (!stream->in_flight || out->cookie != stream->in_flight_cookie)
        return;
    stream->in_flight = false;
    if (size == 0 || size > SSB_PROTO_MAX_VIDEO_FRAME) {
        stream->keyframe_due = true;
        stream_pump(stream);
        return;
    }
    stream->frames_encoded++;
    stream->keyframes += out->keyframe;
    stream->bytes += size;
    stats->video_frames_encoded++;
    stats->video_keyframes += out->keyframe;
    stats->video_bytes += size;
    record(stream->encode_us, &stream->n_encode, out->t_encoded_us - out->t_pushed_us);
    hdr.scanout_id = stream->scanout->id;
    hdr.codec = stream->codec;
    hdr.flags = out->keyframe ? SSB_VIDEO_KEYFRAME : 0;
    hdr.width = stream->in_flight_w;
    hdr.height = stream->in_flight_h;
    hdr.seq = stream->in_flight_seq;
    hdr.t_submit_us = stream->in_flight_t_submit;
    hdr.t_encoded_us = out->t_encoded_us;
    hdr.frame_size = (uint32_t)size;
    /* A sink may go away (client failed) while we deliver. */
    for (GList *l = stream->sinks, *next; l; l = next) {
        next = l->next;
        ssb_video_sink_deliver(l->data, &hdr, out->data);
    }
    stream_pump(stream);
}

static void
on_released(void *opaque, uint64_t cookie)
{
    struct ssb_video_stream *stream = opaque;

    if (cookie >> 40 == stream->cookie_gen)
        stream->shadows[cookie & 1].busy = false;
}

static void
on_restarted(void *opaque, bool fatal)
{
    struct ssb_video_stream *stream = opaque;

    stream->in_flight = false;
    stream->keyframe_due = true;
    if (fatal) {
        /* Spec 7: not the peer's fault. */
        stream->encoder_failed = true;
        for (GList *l = stream->sinks, *next; l; l = next) {
            struct ssb_frame_sink *sink = l->data;

            next = l->next;
            ssb_client_fail(sink->client, SSB_ERROR_INTERNAL, "no working %s encoder",
                            ssb_proto_codec_name(stream->codec));
        }
        return;
    }
    stream_pump(stream);
}

static const struct ssb_encoder_callbacks encoder_cb = {
    .output = on_output,
    .released = on_released,
    .restarted = on_restarted,
};

/* ---- pacing ---- */

static void
arm_timer(struct ssb_video_stream *stream, uint64_t delay_us)
{
    if (stream->timer_armed)
        return;
    stream->timer_armed = true;
    stream->server->core->timer_start(stream->timer, (uint32_t)MAX(1u, (delay_us + 999) / 1000));
}

static void
timer_fired(void *opaque)
{
    struct ssb_video_stream *stream = opaque;

    stream->timer_armed = false;
    stream_pump(stream);
}

static bool
encoder_ensure(struct ssb_video_stream *stream)
{
    struct ssb_server *server = stream->server;
    const char *override = g_getenv("SSB_ENCODER");

    if (stream->encoder)
        return true;
    if (stream->encoder_failed)
        return false;
    if (!override || !*override)
        override = server->opts.encoder;
    stream->encoder = ssb_encoder_new(server->core, stream->codec, override, stream->width,
                                      stream->height, stream->scanout->fourcc,
                                      ssb_video_stream_kbps(stream), &encoder_cb, stream);
    if (!stream->encoder) {
        on_restarted(stream, true);
        return false;
    }
    stream->keyframe_due = true;
    return true;
}

static bool
sinks_ready(const struct ssb_video_stream *stream)
{
    for (GList *l = stream->sinks; l; l = l->next) {
        if (!ssb_video_sink_ready(l->data))
            return false;
    }
    return true;
}

static void
stream_pump(struct ssb_video_stream *stream)
{
    uint64_t now = ssb_now_us(), interval, cookie;
    struct shadow *sh;
    int idx = stream->latest;

    if (!stream->sinks || idx < 0)
        return;
    sh = &stream->shadows[idx];
    if (sh->seq <= stream->encoded_seq && !stream->keyframe_due)
        return; /* no damage, no frame */
    if (stream->in_flight) {
        if (now - stream->in_flight_since_us < SSB_ENCODE_TIMEOUT_US) {
            arm_timer(stream, SSB_ENCODE_TIMEOUT_US);
            return;
        }
        stream->in_flight = false; /* swallowed: go on with a keyframe */
        stream->keyframe_due = true;
    }
    if (sh->busy || !encoder_ensure(stream))
        return;
    interval = 1000000u / ssb_video_stream_fps(stream);
    if (stream->last_push_us && now - stream->last_push_us < interval) {
        arm_timer(stream, interval - (now - stream->last_push_us));
        return;
    }
    if (!sinks_ready(stream) && now - stream->dirty_since_us < SSB_SINK_WAIT_US) {
        arm_timer(stream, SSB_SINK_WAIT_US - (now - stream->dirty_since_us));
        return;
    }
    cookie = (uint64_t)stream->cookie_gen << 40 | (++stream->pushes & 0x7fffffffffu) << 1 |
             (uint64_t)idx;
    if (stream->yuv && ssb_encoder_takes_i420(stream->encoder)) {
        if (shadow_push_i420(stream, sh, cookie) < 0)
            return;
    } else if (ssb_encoder_push(stream->encoder, sh->pixels, stream->stride, cookie,
                                stream->keyframe_due) < 0) {
        return;
    }
    stream->in_flight_cookie = cookie;
    sh->busy = true;
    stream->keyframe_due = false;
    stream->in_flight = true;
    stream->in_flight_since_us = now;
    stream->in_flight_seq = sh->seq;
    stream->in_flight_t_submit = stream->latest_t_submit;
    stream->in_flight_w = stream->width;
    stream->in_flight_h = stream->height;
    stream->encoded_seq = sh->seq;
    stream->last_push_us = now;
    stream->dirty_since_us = 0;
}

void
ssb_video_stream_pump(struct ssb_video_stream *stream)
{
    if (stream->encoder)
        ssb_encoder_set_bitrate(stream->encoder, ssb_video_stream_kbps(stream));
    stream_pump(stream);
}

/* ---- lifecycle ---- */

struct ssb_video_stream *
ssb_video_stream_get(struct ssb_server *server, struct ssb_scanout *scanout, enum ssb_codec codec)
{
    struct ssb_video_stream **slot = &server->streams[scanout->id][codec];
    struct ssb_video_stream *stream = *slot;

    if (stream)
        return stream;
    stream = g_new0(struct ssb_video_stream, 1);
    stream->server = server;
    stream->scanout = scanout;
    stream->codec = codec;
    stream->timer = server->core->timer_add(timer_fired, stream);
    shadows_alloc(stream);
    *slot = stream;
    return stream;
}

static void
encoder_stop(struct ssb_video_stream *stream)
{
    /* When this returns no shadow is read any more. */
    g_clear_pointer(&stream->encoder, ssb_encoder_free);
    stream->cookie_gen++;
    stream->in_flight = false;
    stream->shadows[0].busy = stream->shadows[1].busy = false;
}

void
ssb_video_stream_free(struct ssb_video_stream *stream)
{
    if (!stream)
        return;
    encoder_stop(stream);
    stream->server->core->timer_remove(stream->timer);
    shadows_free(stream);
    g_list_free(stream->sinks);
    g_free(stream);
}

void
ssb_video_stream_attach(struct ssb_video_stream *stream, struct ssb_frame_sink *sink)
{
    stream->sinks = g_list_append(stream->sinks, sink);
    stream->keyframe_due = true; /* spec 5.2: join */
    stream->encoder_failed = false;
    ssb_video_stream_pump(stream);
}

void
ssb_video_stream_detach(struct ssb_video_stream *stream, struct ssb_frame_sink *sink)
{
    stream->sinks = g_list_remove(stream->sinks, sink);
    if (!stream->sinks)
        encoder_stop(stream);
}

void
ssb_video_stream_reconfigure(struct ssb_video_stream *stream)
{
    if (stream->width == stream->scanout->width && stream->height == stream->scanout->height)
        return;
    encoder_stop(stream); /* rebuilt at the new size on the next picture */
    shadows_free(stream);
    shadows_alloc(stream);
    stream->encoded_seq = 0;
    stream->dirty_since_us = 0;
    stream->keyframe_due = true;
}

void
ssb_video_stream_request_keyframe(struct ssb_video_stream *stream)
{
    stream->keyframe_due = true;
    stream_pump(stream);
}

void
ssb_video_stream_frame_sent(struct ssb_video_stream *stream, uint64_t t_submit_us)
{
    record(stream->send_us, &stream->n_send, ssb_now_us() - t_submit_us);
}

/* ---- info ---- */

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static void
percentiles(const uint32_t *ring, uint32_t n, uint32_t *p50, uint32_t *p99)
{
    uint32_t sorted[SSB_LATENCY_RING];

    n = MIN(n, SSB_LATENCY_RING);
    if (n == 0) {
        *p50 = *p99 = 0;
        return;
    }
    memcpy(sorted, ring, n * sizeof(*ring));
    qsort(sorted, n, sizeof(*sorted), cmp_u32);
    *p50 = sorted[n / 2];
    *p99 = sorted[MIN(n - 1, n * 99 / 100)];
}

void
ssb_video_stream_info(const struct ssb_video_stream *stream, struct ssb_server_video_info *info)
{
    memset(info, 0, sizeof(*info));
    info->codec = stream->codec;
    g_strlcpy(info->encoder, ssb_encoder_name(stream->encoder), sizeof(info->encoder));
    info->width = stream->width;
    info->height = stream->height;
    info->clients = g_list_length(stream->sinks);
    info->bitrate_kbps = stream->sinks ? ssb_video_stream_kbps(stream) : 0;
    info->max_fps = stream->sinks ? ssb_video_stream_fps(stream) : 0;
    info->frames_encoded = stream->frames_encoded;
    info->keyframes = stream->keyframes;
    info->bytes = stream->bytes;
    info->frames_skipped = stream->skipped;
    percentiles(stream->encode_us, stream->n_encode, &info->encode_us_p50, &info->encode_us_p99);
    percentiles(stream->send_us, stream->n_send, &info->send_us_p50, &info->send_us_p99);
}
