/* The remote path (spec 5): VIDEO_FRAME reassembly, one decoder per
 * scanout, FEEDBACK per frame and KEYFRAME_REQUESTs.
 *
 * A frame's outcome is known when the decoder outputs it (DISPLAYED once
 * "frame" was emitted for it; DROPPED when a newer picture superseded it
 * before the main context took it, or when the decoder output a later
 * frame without it), when the client discards it undecoded (DROPPED:
 * waiting for a keyframe, or too many frames in the decoder), or when the
 * decoder fails (DECODE_ERROR for every frame it held).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"

#include <string.h>

/* The decoder is behind when it holds this many frames and the oldest has
 * waited this long (a burst from the network is not "behind"), or in any
 * case at the hard cap; then the client skips new frames and restarts the
 * chain with a keyframe (GAP).  The decoders run one-in-one-out. */
#define BEHIND_IN_FLIGHT 4
#define BEHIND_AGE_US G_USEC_PER_SEC
#define MAX_IN_FLIGHT 16
/* Reassembly memory across all scanouts (spec 10: MAY cap, LIMIT). */
#define MAX_BUFFERED (2 * (gsize)SSB_PROTO_MAX_VIDEO_FRAME)
/* Spec 5.2: do not repeat a request within 1 s unless a keyframe came. */
#define KEYFRAME_REQUEST_INTERVAL_US G_USEC_PER_SEC

/* ------------------------------------------------------------- codecs */

guint32
ssb_client_video_codecs(SsbClient *client, guint32 *preferred)
{
    guint32 mask = ssb_decoder_probe_codecs();
    enum ssb_codec pref = SSB_CODEC_NONE;

    if (client->codec_allow != NULL) {
        g_auto(GStrv) names = g_strsplit(client->codec_allow, ",", -1);
        guint32 allowed = 0;

        for (guint i = 0; names[i] != NULL; i++)
            allowed |= SSB_CODEC_BIT(ssb_proto_codec_from_name(g_strstrip(names[i])));
        mask &= allowed & SSB_CODEC_ALL_MASK;
    }
    if (client->codec_pref != NULL)
        pref = ssb_proto_codec_from_name(client->codec_pref);
    if (preferred != NULL)
        *preferred = (pref != SSB_CODEC_NONE && (mask & SSB_CODEC_BIT(pref))) ? pref : 0;
    return mask;
}

gboolean
ssb_client_video_possible(SsbClient *client)
{
    return (client->caps & SSB_CAP_VIDEO) && (client->server_caps & SSB_CAP_VIDEO) &&
           (client->codecs & client->server_codecs) != 0;
}

static gboolean
negotiated(SsbClient *client, guint64 cap)
{
    return (client->caps & cap) && (client->server_caps & cap);
}

void
ssb_client_emit_ready_remote(SsbClient *client)
{
    ssb_client_emit_ready(client, ssb_client_video_possible(client) ? SSB_CLIENT_PATH_VIDEO
                                                                    : SSB_CLIENT_PATH_NONE);
}

/* --------------------------------------------------------- messages out */

static guint32
clamp_us(gint64 us)
{
    return us <= 0 ? 0 : us >= G_MAXUINT32 ? G_MAXUINT32 : (guint32)us;
}

static void
send_feedback(SsbVideoScanout *vs, const SsbVideoInFlight *f, guint32 flags,
              gint64 t_decoded_us, gint64 t_displayed_us)
{
    struct ssb_msg msg = { .type = SSB_MSG_FEEDBACK };
    struct ssb_msg_feedback *fb = &msg.u.feedback;
    gint64 now = g_get_monotonic_time();

    if (flags & SSB_FEEDBACK_DISPLAYED)
        vs->stats.frames_delivered++;
    else
        vs->stats.frames_dropped++;
    /* Never two per (scanout, seq) (spec 5.3): a re-encoded keyframe of the
     * same picture shares the seq; outcomes come in seq order. */
    if (!negotiated(vs->client, SSB_CAP_FEEDBACK) ||
        (vs->have_feedback && f->seq == vs->last_feedback_seq))
        return;
    vs->have_feedback = TRUE;
    vs->last_feedback_seq = f->seq;
    fb->scanout_id = vs->id;
    fb->flags = flags;
    fb->seq = f->seq;
    fb->t_submit_us = f->t_submit_us;
    fb->t_encoded_us = f->t_encoded_us;
    fb->receive_to_decoded_us = t_decoded_us ? clamp_us(t_decoded_us - f->t_received_us) : 0;
    fb->decoded_to_displayed_us = t_displayed_us ? clamp_us(t_displayed_us - t_decoded_us) : 0;
    fb->held_us = clamp_us(now - f->t_received_us);
    fb->frames_in_flight = vs->in_flight->len;
    ssb_client_send_port(vs->client, &msg);
}

static void
request_keyframe(SsbVideoScanout *vs, guint32 reason, gboolean force)
{
    struct ssb_msg msg = { .type = SSB_MSG_KEYFRAME_REQUEST };
    gint64 now = g_get_monotonic_time();

    if (!negotiated(vs->client, SSB_CAP_KEYFRAME_REQUEST))
        return;
    if (!force && vs->keyframe_requested_us != 0 &&
        now - vs->keyframe_requested_us < KEYFRAME_REQUEST_INTERVAL_US)
        return;
    vs->keyframe_requested_us = now;
    vs->stats.keyframe_requests++;
    msg.u.keyframe_request.scanout_id = vs->id;
    msg.u.keyframe_request.reason = reason;
    g_debug("scanout %u: keyframe request (reason %u)", vs->id, reason);
    ssb_client_send_port(vs->client, &msg);
}

/* Reports every frame still in the decoder with @flags and forgets them. */
static void
flush_in_flight(SsbVideoScanout *vs, guint32 flags)
{
    g_autoptr(GArray) frames = g_steal_pointer(&vs->in_flight);

    vs->in_flight = g_array_new(FALSE, FALSE, sizeof(SsbVideoInFlight));
    for (guint i = 0; i < frames->len; i++)
        send_feedback(vs, &g_array_index(frames, SsbVideoInFlight, i), flags, 0, 0);
}

/* ------------------------------------------------------------- decoding */

static void decoder_decoded(const SsbDecoded *decoded, gpointer user_data);
static void decoder_failed(const char *message, gpointer user_data);

static const SsbDecoderCallbacks decoder_callbacks = {
    .decoded = decoder_decoded,
    .failed = decoder_failed,
};

static void
drop_decoder(SsbVideoScanout *vs, guint32 flags)
{
    g_clear_pointer(&vs->decoder, ssb_decoder_free);
    flush_in_flight(vs, flags);
}

static gboolean
ensure_decoder(SsbVideoScanout *vs, enum ssb_codec codec)
{
    g_autoptr(GError) error = NULL;

    if (vs->decoder != NULL && ssb_decoder_get_codec(vs->decoder) == codec)
        return TRUE;
    drop_decoder(vs, SSB_FEEDBACK_DROPPED);
    vs->decoder = ssb_decoder_new(codec, vs->client->context, &decoder_callbacks, vs, &error);
    if (vs->decoder == NULL) {
        g_prefix_error(&error, "scanout %u: ", vs->id);
        ssb_client_fail(vs->client, error, SSB_ERROR_INTERNAL);
        return FALSE;
    }
    vs->decoder_name = ssb_decoder_get_element_name(vs->decoder);
    ssb_decoder_set_delay(vs->decoder, vs->client->decode_delay_ms);
    g_debug("scanout %u: decoding %s with %s", vs->id, ssb_proto_codec_name(codec),
            vs->decoder_name);
    return TRUE;
}

static void
deliver(SsbVideoScanout *vs, const SsbVideoInFlight *f, const SsbDecoded *decoded)
{
    SsbScanout *scanout = &vs->client->scanouts[vs->id];
    SsbVideoFrameInfo info = {
        .scanout_id = vs->id,
        .codec = ssb_decoder_get_codec(vs->decoder),
        .seq = f->seq,
        .t_submit_us = (gint64)f->t_submit_us,
        .t_encoded_us = (gint64)f->t_encoded_us,
        .t_received_us = f->t_received_us,
        .t_decoded_us = decoded->t_decoded_us,
        .encoded_size = f->size,
        .keyframe = f->keyframe,
    };
    SsbFrame *frame;

    if (!scanout->exists || (frame = ssb_frame_new_video(decoded->sample, &info)) == NULL) {
        send_feedback(vs, f, SSB_FEEDBACK_DROPPED, decoded->t_decoded_us, 0);
        return;
    }
    /* Displayed = handed to the application (documented in client.h). */
    send_feedback(vs, f, SSB_FEEDBACK_DISPLAYED, decoded->t_decoded_us, g_get_monotonic_time());
    ssb_client_deliver_frame(vs->client, vs->id, frame);
}

static void
decoder_decoded(const SsbDecoded *decoded, gpointer user_data)
{
    SsbVideoScanout *vs = user_data;
    /* Handlers of "frame" may drop the last reference to the client. */
    g_autoptr(SsbClient) self G_GNUC_UNUSED = g_object_ref(vs->client);

    if (vs->in_flight == NULL)
        return;
    if (decoded->sample != NULL)
        vs->stats.frames_decoded++;
    while (vs->in_flight != NULL && vs->in_flight->len > 0 &&
           vs->client->state != SSB_STATE_CLOSED) {
        SsbVideoInFlight f = g_array_index(vs->in_flight, SsbVideoInFlight, 0);

        if (f.seq > decoded->seq)
            break;
        g_array_remove_index(vs->in_flight, 0);
        if (f.seq < decoded->seq)
            send_feedback(vs, &f, SSB_FEEDBACK_DROPPED, 0, 0); /* the decoder skipped it */
        else if (decoded->sample == NULL)
            send_feedback(vs, &f, SSB_FEEDBACK_DROPPED, decoded->t_decoded_us, 0);
        else
            deliver(vs, &f, decoded);
        if (f.seq == decoded->seq)
            break; /* one output, one frame (seqs may repeat) */
    }
}

static void
decoder_failed(const char *message, gpointer user_data)
{
    SsbVideoScanout *vs = user_data;

    vs->stats.decode_errors++;
    /* Rate-limited: a broken stream fails again at every keyframe. */
    if (vs->stats.decode_errors <= 3 || vs->stats.decode_errors % 100 == 0)
        g_message("scanout %u: decoder failed (%" G_GUINT64_FORMAT " so far): %s", vs->id,
                  vs->stats.decode_errors, message);
    drop_decoder(vs, SSB_FEEDBACK_DECODE_ERROR);
    vs->need_keyframe = TRUE;
    request_keyframe(vs, SSB_KEYFRAME_REASON_DECODE_ERROR, TRUE);
}

static gboolean
decoder_behind(SsbVideoScanout *vs)
{
    const SsbVideoInFlight *oldest;

    if (vs->in_flight->len < BEHIND_IN_FLIGHT)
        return FALSE;
    oldest = &g_array_index(vs->in_flight, SsbVideoInFlight, 0);
    return vs->in_flight->len >= MAX_IN_FLIGHT ||
           g_get_monotonic_time() - oldest->t_received_us > BEHIND_AGE_US;
}

/* A whole frame arrived: decode it, or discard it and say why. */
static void
frame_complete(SsbVideoScanout *vs, const struct ssb_msg_video_frame *head, GByteArray *bytes)
{
    gboolean key = (head->flags & SSB_VIDEO_KEYFRAME) != 0;
    SsbVideoInFlight f = {
        .seq = head->seq, .t_submit_us = head->t_submit_us, .t_encoded_us = head->t_encoded_us,
        .t_received_us = vs->t_last_chunk_us, .size = head->frame_size, .keyframe = key,
    };
    gsize size = bytes->len;

    vs->stats.frames_received++;
    vs->stats.bytes_received += size;
    if (key) {
        vs->stats.keyframes++;
        vs->keyframe_requested_us = 0;
        vs->need_keyframe = FALSE;
        vs->had_keyframe = TRUE;
    } else if (vs->need_keyframe || vs->decoder == NULL ||
               ssb_decoder_get_codec(vs->decoder) != head->codec) {
        send_feedback(vs, &f, SSB_FEEDBACK_DROPPED, 0, 0);
        vs->need_keyframe = TRUE;
        request_keyframe(vs, vs->had_keyframe ? SSB_KEYFRAME_REASON_GAP
                                              : SSB_KEYFRAME_REASON_JOIN, FALSE);
        g_byte_array_unref(bytes);
        return;
    }
    if (!key && decoder_behind(vs)) {
        /* The decoder is behind: skip, and restart the chain later. */
        send_feedback(vs, &f, SSB_FEEDBACK_DROPPED, 0, 0);
        vs->need_keyframe = TRUE;
        request_keyframe(vs, SSB_KEYFRAME_REASON_GAP, FALSE);
        g_byte_array_unref(bytes);
        return;
    }
    if (!ensure_decoder(vs, head->codec)) {
        g_byte_array_unref(bytes);
        return;
    }
    g_array_append_val(vs->in_flight, f);
    if (!ssb_decoder_push(vs->decoder, g_byte_array_free(bytes, FALSE), size, head->seq))
        decoder_failed("the decoder refused a frame", vs);
}

/* ----------------------------------------------------------- reassembly */

static void
video_fail(SsbClient *client, guint32 code, const char *what)
{
    ssb_client_fail_literal(client, code == SSB_ERROR_LIMIT ? SSB_CLIENT_ERROR_FAILED
                                                            : SSB_CLIENT_ERROR_PROTOCOL,
                            code, what);
}

static void
reset_assembly(SsbClient *client, SsbVideoScanout *vs)
{
    if (vs->buf != NULL) {
        client->video_buffered -= vs->buf->len;
        g_clear_pointer(&vs->buf, g_byte_array_unref);
    }
    vs->assembling = FALSE;
}

/* The fields every chunk of one frame repeats (spec 5.2). */
static gboolean
same_frame(const struct ssb_msg_video_frame *a, const struct ssb_msg_video_frame *b)
{
    return a->codec == b->codec && ((a->flags ^ b->flags) & SSB_VIDEO_KEYFRAME) == 0 &&
           a->width == b->width && a->height == b->height && a->seq == b->seq &&
           a->t_submit_us == b->t_submit_us && a->t_encoded_us == b->t_encoded_us &&
           a->frame_size == b->frame_size;
}

/* Returns NULL when @msg fits the scanout's reassembly state, else why not. */
static const char *
check_chunk(SsbVideoScanout *vs, const struct ssb_msg_video_frame *msg)
{
    if (msg->flags & SSB_VIDEO_FIRST_CHUNK) {
        if (vs->assembling)
            return "VIDEO_FRAME: a new frame while one is incomplete";
        /* A due keyframe re-encodes the current picture (spec 5.2) and
         * may repeat its seq; anything else must move forward. */
        if (vs->have_seq && (msg->seq < vs->last_seq ||
                             (msg->seq == vs->last_seq && !(msg->flags & SSB_VIDEO_KEYFRAME))))
            return "VIDEO_FRAME: seq not increasing";
        return NULL;
    }
    if (!vs->assembling)
        return "VIDEO_FRAME: continuation without a first chunk";
    if (!same_frame(&vs->head, msg))
        return "VIDEO_FRAME: a chunk changed the frame's fields";
    if (msg->chunk_offset != vs->buf->len)
        return "VIDEO_FRAME: chunk offset does not follow the previous chunk";
    return NULL;
}

void
ssb_client_handle_video_frame(SsbClient *client, const struct ssb_msg_video_frame *msg)
{
    SsbVideoScanout *vs;
    const char *reason;

    if (!negotiated(client, SSB_CAP_VIDEO)) {
        video_fail(client, SSB_ERROR_STATE, "VIDEO_FRAME without VIDEO negotiated");
        return;
    }
    if (msg->scanout_id >= SSB_PROTO_MAX_SCANOUTS || !client->scanouts[msg->scanout_id].exists) {
        video_fail(client, SSB_ERROR_PROTOCOL, "VIDEO_FRAME for an unknown scanout");
        return;
    }
    if (msg->codec >= SSB_CODEC_COUNT || !(client->codecs & SSB_CODEC_BIT(msg->codec))) {
        video_fail(client, SSB_ERROR_PROTOCOL, "VIDEO_FRAME with a codec the client did not offer");
        return;
    }
    vs = &client->scanouts[msg->scanout_id].video;
    if ((reason = check_chunk(vs, msg)) != NULL) {
        video_fail(client, SSB_ERROR_PROTOCOL, reason);
        return;
    }
    /* Grown as chunks arrive, never allocated from frame_size (spec 10). */
    if (client->video_buffered + msg->payload_size > MAX_BUFFERED) {
        video_fail(client, SSB_ERROR_LIMIT, "VIDEO_FRAME: too many bytes in reassembly");
        return;
    }
    if (msg->flags & SSB_VIDEO_FIRST_CHUNK) {
        vs->assembling = TRUE;
        vs->head = *msg;
        vs->head.payload = NULL;
        vs->head.payload_size = 0;
        vs->have_seq = TRUE;
        vs->last_seq = msg->seq;
        vs->buf = g_byte_array_sized_new(MIN(msg->frame_size, 4 * SSB_PROTO_MAX_MSG_SIZE));
    }
    g_byte_array_append(vs->buf, msg->payload, msg->payload_size);
    client->video_buffered += msg->payload_size;
    vs->t_last_chunk_us = g_get_monotonic_time();
    if (msg->flags & SSB_VIDEO_LAST_CHUNK) {
        GByteArray *bytes = g_steal_pointer(&vs->buf);

        client->video_buffered -= bytes->len;
        vs->assembling = FALSE;
        frame_complete(vs, &vs->head, bytes);
    }
}

/* ------------------------------------------------------------ lifecycle */

static void
video_init(SsbClient *client, guint scanout_id)
{
    SsbVideoScanout *vs = &client->scanouts[scanout_id].video;

    if (vs->in_flight != NULL)
        return;
    vs->client = client;
    vs->id = scanout_id;
    vs->in_flight = g_array_new(FALSE, FALSE, sizeof(SsbVideoInFlight));
}

gboolean
ssb_client_video_scanout_changing(SsbClient *client, guint scanout_id, gboolean destroy)
{
    SsbVideoScanout *vs = &client->scanouts[scanout_id].video;

    video_init(client, scanout_id);
    if (vs->assembling) {
        video_fail(client, SSB_ERROR_PROTOCOL,
                   destroy ? "SCANOUT_DESTROY between the chunks of a frame"
                           : "SCANOUT_RESIZE between the chunks of a frame");
        return FALSE;
    }
    /* The next frame is a keyframe of the new size (spec 5.2). */
    drop_decoder(vs, SSB_FEEDBACK_DROPPED);
    vs->need_keyframe = TRUE;
    vs->keyframe_requested_us = 0;
    if (destroy) {
        vs->decoder_name = NULL;
        vs->had_keyframe = FALSE;
        memset(&vs->stats, 0, sizeof(vs->stats));
    }
    return TRUE;
}

void
ssb_client_video_clear(SsbClient *client, SsbScanout *scanout)
{
    SsbVideoScanout *vs = &scanout->video;

    if (vs->in_flight == NULL)
        return;
    reset_assembly(client, vs);
    /* Closing: no feedback any more. */
    g_clear_pointer(&vs->decoder, ssb_decoder_free);
    g_clear_pointer(&vs->in_flight, g_array_unref);
    vs->decoder_name = NULL;
}

void
ssb_client_video_scanout_created(SsbClient *client, guint scanout_id)
{
    SsbVideoScanout *vs = &client->scanouts[scanout_id].video;

    video_init(client, scanout_id);
    vs->need_keyframe = TRUE;
    vs->had_keyframe = FALSE;
}

/* ------------------------------------------------------------ public API */

const char *
ssb_client_get_decoder_name(SsbClient *client, guint scanout_id)
{
    g_return_val_if_fail(SSB_IS_CLIENT(client), NULL);
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS || !client->scanouts[scanout_id].exists)
        return NULL;
    return client->scanouts[scanout_id].video.decoder_name;
}

gboolean
ssb_client_get_video_stats(SsbClient *client, guint scanout_id, SsbVideoStats *stats)
{
    g_return_val_if_fail(SSB_IS_CLIENT(client), FALSE);
    g_return_val_if_fail(stats != NULL, FALSE);
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS || !client->scanouts[scanout_id].exists)
        return FALSE;
    *stats = client->scanouts[scanout_id].video.stats;
    return TRUE;
}

gboolean
ssb_client_request_keyframe(SsbClient *client, guint scanout_id)
{
    g_return_val_if_fail(SSB_IS_CLIENT(client), FALSE);
    if (scanout_id >= SSB_PROTO_MAX_SCANOUTS || !client->scanouts[scanout_id].exists ||
        client->state != SSB_STATE_ACTIVE || !ssb_client_video_possible(client) ||
        !negotiated(client, SSB_CAP_KEYFRAME_REQUEST))
        return FALSE;
    video_init(client, scanout_id);
    request_keyframe(&client->scanouts[scanout_id].video, SSB_KEYFRAME_REASON_USER, TRUE);
    return TRUE;
}

char **
ssb_client_list_decodable_codecs(void)
{
    GPtrArray *names = g_ptr_array_new();
    guint32 mask = ssb_decoder_probe_codecs();

    for (guint c = SSB_CODEC_H264; c < SSB_CODEC_COUNT; c++) {
        if (mask & SSB_CODEC_BIT(c))
            g_ptr_array_add(names, g_strdup(ssb_proto_codec_name(c)));
    }
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, FALSE);
}
