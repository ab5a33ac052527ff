/* The video frame sink: one remote client's view of a scanout's shared
 * video stream (spec 5).
 *
 * The sink owns nothing but its place in the client's video queue and its
 * rate control.  It keeps at most one frame queued at the client (plus a
 * keyframe that replaces unstarted ones): a frame that finds the previous
 * one still queued is dropped for this client, which then needs a
 * keyframe (spec 5.2: "whenever an encoded frame was not sent in full").
 * The stream normally waits for every sink to drain before it encodes, so
 * this happens only to a client that stalls for longer than that wait.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "server-private.h"

struct ssb_video_sink {
    struct ssb_frame_sink base;
    struct ssb_video_stream *stream;  /* borrowed: the server owns it */
    bool need_keyframe;
    uint64_t last_seq;                /* of the last frame queued; 0 none */
    struct ssb_rate_control rc;
    bool feedback;                    /* FEEDBACK negotiated */
    bool too_large_logged;
};

static struct ssb_video_sink *
video_sink(struct ssb_frame_sink *sink)
{
    return (struct ssb_video_sink *)sink;
}

static const struct ssb_video_sink *
video_sink_const(const struct ssb_frame_sink *sink)
{
    return (const struct ssb_video_sink *)sink;
}

static struct ssb_server_stats *
sink_stats(struct ssb_video_sink *vs)
{
    return &ssb_client_server(vs->base.client)->stats;
}

/* Spec 4.2: nothing larger than the client's maximum (no scaling yet). */
static bool
sink_fits(const struct ssb_video_sink *vs, const struct ssb_msg_video_frame *hdr)
{
    const struct ssb_msg_client_hello *hello = ssb_client_hello(vs->base.client);

    return hdr->width <= hello->max_width && hdr->height <= hello->max_height;
}

bool
ssb_video_sink_ready(const struct ssb_frame_sink *sink)
{
    return ssb_client_queued_video(sink->client, sink) == 0;
}

static void
want_keyframe(struct ssb_video_sink *vs)
{
    vs->need_keyframe = true;
    ssb_video_stream_request_keyframe(vs->stream);
}

void
ssb_video_sink_deliver(struct ssb_frame_sink *sink, const struct ssb_msg_video_frame *hdr,
                       GBytes *data)
{
    struct ssb_video_sink *vs = video_sink(sink);
    bool key = hdr->flags & SSB_VIDEO_KEYFRAME;

    if (!ssb_client_is_active(sink->client))
        return;
    if (!sink_fits(vs, hdr)) {
        if (!vs->too_large_logged)
            ssb_log_peer("scanout %u: %ux%u video exceeds the client's maximum; not sent "
                         "(no scaling yet)", hdr->scanout_id, hdr->width, hdr->height);
        vs->too_large_logged = true;
        return;
    }
    /* seq only moves forward; a due keyframe may repeat the picture. */
    if (vs->last_seq && (hdr->seq < vs->last_seq || (hdr->seq == vs->last_seq && !key)))
        return;
    if (vs->need_keyframe && !key) {
        sink_stats(vs)->frames_skipped++;
        return;
    }
    if (ssb_client_queued_video(sink->client, sink) > 0) {
        if (!key) {
            /* Our queue to the client did not drain in time: behind. */
            struct ssb_rate_sample s = { .rtt_us = vs->rc.last_rtt_us, .queue_backlog = true };

            if (vs->feedback && ssb_rate_control_feedback(&vs->rc, &s, ssb_now_us()))
                ssb_video_stream_pump(vs->stream);
            sink_stats(vs)->frames_skipped++;
            want_keyframe(vs);
            return;
        }
        /* A keyframe makes what waits unneeded; a started frame finishes. */
        sink_stats(vs)->frames_skipped += ssb_client_drop_video(sink->client, sink, true);
    }
    if (key)
        vs->need_keyframe = false;
    vs->last_seq = hdr->seq;
    ssb_client_queue_video(sink->client, sink, hdr, data);
}

void
ssb_video_sink_frame_done(struct ssb_frame_sink *sink, const struct ssb_msg_video_frame *hdr,
                          bool sent)
{
    struct ssb_video_sink *vs = video_sink(sink);

    if (sent) {
        sink_stats(vs)->frames_sent++;
        ssb_video_stream_frame_sent(vs->stream, hdr->t_submit_us);
    }
    ssb_video_stream_pump(vs->stream);
}

void
ssb_video_sink_feedback(struct ssb_frame_sink *sink, const struct ssb_msg_feedback *fb)
{
    struct ssb_video_sink *vs = video_sink(sink);
    uint64_t now = ssb_now_us();
    struct ssb_rate_sample s = { 0 };

    /* Echoed times from the future are not ours (spec 5.3: ignored). */
    if (fb->t_encoded_us > now || fb->t_submit_us > fb->t_encoded_us)
        return;
    s.rtt_us = now - fb->t_encoded_us > fb->held_us ? now - fb->t_encoded_us - fb->held_us : 0;
    s.decode_us = fb->receive_to_decoded_us;
    s.frames_in_flight = fb->frames_in_flight;
    s.bad_outcome = fb->flags & (SSB_FEEDBACK_DECODE_ERROR | SSB_FEEDBACK_DROPPED);
    /* One frame on its way is normal; more is a queue growing. */
    s.queue_backlog = ssb_client_queued_video(sink->client, sink) > 1;
    if (ssb_rate_control_feedback(&vs->rc, &s, now))
        ssb_video_stream_pump(vs->stream);
}

void
ssb_video_sink_keyframe_request(struct ssb_frame_sink *sink)
{
    want_keyframe(video_sink(sink));
}

uint32_t
ssb_video_sink_kbps(const struct ssb_frame_sink *sink)
{
    return ssb_rate_control_kbps(&video_sink_const(sink)->rc);
}

uint32_t
ssb_video_sink_fps(const struct ssb_frame_sink *sink)
{
    return ssb_rate_control_fps(&video_sink_const(sink)->rc);
}

/* ---- frame sink ---- */

static void
video_sink_submit(struct ssb_frame_sink *sink, struct ssb_frame *frame)
{
    /* The server feeds the shared stream once per submit. */
}

static void
video_sink_reconfigure(struct ssb_frame_sink *sink)
{
    struct ssb_video_sink *vs = video_sink(sink);

    /* Spec 5.2: keyframe first after a resize; old frames are useless. */
    sink_stats(vs)->frames_skipped += ssb_client_drop_video(sink->client, sink, true);
    vs->need_keyframe = true;
    ssb_video_stream_reconfigure(vs->stream);
}

static void
video_sink_retire(struct ssb_frame_sink *sink)
{
    ssb_client_drop_video(sink->client, sink, true);
}

static void
video_sink_destroy(struct ssb_frame_sink *sink)
{
    struct ssb_video_sink *vs = video_sink(sink);

    ssb_client_drop_video(sink->client, sink, false);
    ssb_video_stream_detach(vs->stream, sink);
    g_free(vs);
}

static const struct ssb_frame_sink_impl video_sink_impl = {
    .submit = video_sink_submit,
    .reconfigure = video_sink_reconfigure,
    .retire = video_sink_retire,
    .destroy = video_sink_destroy,
};

bool
ssb_video_sink_is_video(const struct ssb_frame_sink *sink)
{
    return sink && sink->impl == &video_sink_impl;
}

struct ssb_frame_sink *
ssb_video_sink_new(struct ssb_client *client, struct ssb_scanout *scanout, enum ssb_codec codec)
{
    struct ssb_server *server = ssb_client_server(client);
    const struct ssb_server_options *o = &server->opts;
    struct ssb_video_sink *vs = g_new0(struct ssb_video_sink, 1);
    uint32_t max_kbps = o->max_bitrate_kbps ? o->max_bitrate_kbps : SSB_DEFAULT_MAX_KBPS;
    uint32_t min_kbps = o->min_bitrate_kbps ? o->min_bitrate_kbps : SSB_DEFAULT_MIN_KBPS;

    vs->base.impl = &video_sink_impl;
    vs->base.client = client;
    vs->base.scanout = scanout;
    vs->need_keyframe = true;
    vs->feedback = ssb_client_has_cap(client, SSB_CAP_FEEDBACK);
    ssb_rate_control_init(&vs->rc, MIN(min_kbps, max_kbps), max_kbps,
                          o->max_fps ? o->max_fps : SSB_DEFAULT_MAX_FPS, ssb_now_us());
    vs->stream = ssb_video_stream_get(server, scanout, codec);
    ssb_video_stream_attach(vs->stream, &vs->base);
    return &vs->base;
}
