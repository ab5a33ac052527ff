/* The client's remote path without a server: frames encoded here with
 * GStreamer (x264enc, vp8enc) from common/pattern.c content are fed as
 * VIDEO_FRAME chunks straight into the port dispatcher; the client's
 * FEEDBACK and KEYFRAME_REQUEST messages are captured through the port
 * test hook.  Checks reassembly rules, decoding (PSNR against the source),
 * keyframe handling and feedback.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"
#include "pattern.h"

#include <math.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#define W 320
#define H 240
#define CHUNK 1500                /* small chunks: many per frame */

/* ------------------------------------------------------------- encoder */

typedef struct {
    GstElement *pipeline;
    GstAppSrc *src;
    GstAppSink *sink;
    enum ssb_codec codec;
    guint width, height;
    struct ssb_pattern *pattern;
    guint32 step;
} Encoder;

typedef struct {
    GBytes *bytes;
    gboolean keyframe;
    guint64 seq;
    guint8 *source;               /* the picture that was encoded, XRGB8888 */
    guint width, height;
} Encoded;

static void
encoded_free(Encoded *e)
{
    g_bytes_unref(e->bytes);
    g_free(e->source);
    g_free(e);
}

static const char *
encoder_description(enum ssb_codec codec)
{
    switch (codec) {
    case SSB_CODEC_H264:
        return "x264enc speed-preset=ultrafast tune=zerolatency bframes=0 key-int-max=1000 "
               "bitrate=3000 threads=1 ! video/x-h264,stream-format=byte-stream,alignment=au";
    case SSB_CODEC_VP8:
        return "vp8enc deadline=1 cpu-used=16 lag-in-frames=0 keyframe-max-dist=1000 "
               "end-usage=cbr target-bitrate=3000000 threads=1";
    default:
        return NULL;
    }
}

static gboolean
have_elements(enum ssb_codec codec)
{
    const char *enc = codec == SSB_CODEC_H264 ? "x264enc" : "vp8enc";
    g_autoptr(GstElementFactory) f = gst_element_factory_find(enc);

    return f != NULL && ssb_decoder_element_for(codec) != NULL;
}

static Encoder *
encoder_new(enum ssb_codec codec, guint width, guint height)
{
    g_autofree char *desc = g_strdup_printf(
        "appsrc name=src format=time is-live=false caps=video/x-raw,format=BGRx,width=%u,"
        "height=%u,framerate=30/1 ! videoconvert ! %s ! appsink name=sink sync=false",
        width, height, encoder_description(codec));
    g_autoptr(GError) error = NULL;
    Encoder *enc = g_new0(Encoder, 1);
    GstElement *e;

    enc->pipeline = gst_parse_launch(desc, &error);
    g_assert_no_error(error);
    e = gst_bin_get_by_name(GST_BIN(enc->pipeline), "src");
    enc->src = GST_APP_SRC(e);
    e = gst_bin_get_by_name(GST_BIN(enc->pipeline), "sink");
    enc->sink = GST_APP_SINK(e);
    enc->codec = codec;
    enc->width = width;
    enc->height = height;
    enc->pattern = ssb_pattern_new(0, width, height, 100);
    g_assert_cmpint(gst_element_set_state(enc->pipeline, GST_STATE_PLAYING), !=,
                    GST_STATE_CHANGE_FAILURE);
    return enc;
}

static void
encoder_free(Encoder *enc)
{
    gst_element_set_state(enc->pipeline, GST_STATE_NULL);
    gst_object_unref(enc->src);
    gst_object_unref(enc->sink);
    gst_object_unref(enc->pipeline);
    ssb_pattern_free(enc->pattern);
    g_free(enc);
}

/* Renders the next pattern picture and encodes it (one in, one out). */
static Encoded *
encoder_next(Encoder *enc, guint64 seq)
{
    struct ssb_pattern_stamp stamp = { .seq = (guint32)seq, .t_us = 1234 };
    struct ssb_rect damage[4];
    guint32 stride;
    const guint8 *pixels;
    gsize size = (gsize)enc->width * enc->height * 4;
    GstBuffer *buffer;
    GstSample *sample;
    Encoded *e = g_new0(Encoded, 1);
    GstMapInfo map;

    ssb_pattern_next(enc->pattern, &stamp, damage, 4);
    pixels = ssb_pattern_pixels(enc->pattern, &stride);
    e->source = g_memdup2(pixels, size);
    e->width = enc->width;
    e->height = enc->height;
    e->seq = seq;
    buffer = gst_buffer_new_memdup(pixels, size);
    GST_BUFFER_PTS(buffer) = enc->step++ * (GST_SECOND / 30);
    GST_BUFFER_DURATION(buffer) = GST_SECOND / 30;
    g_assert_cmpint(gst_app_src_push_buffer(enc->src, buffer), ==, GST_FLOW_OK);
    sample = gst_app_sink_try_pull_sample(enc->sink, 10 * GST_SECOND);
    g_assert_nonnull(sample);
    buffer = gst_sample_get_buffer(sample);
    e->keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    g_assert_true(gst_buffer_map(buffer, &map, GST_MAP_READ));
    e->bytes = g_bytes_new(map.data, map.size);
    gst_buffer_unmap(buffer, &map);
    gst_sample_unref(sample);
    return e;
}

/* ------------------------------------------------------------- fixture */

typedef struct {
    SpiceSession *session;
    SsbClient *client;
    gboolean ready, closed;
    SsbClientPath path;
    GError *error;
    GPtrArray *sent;              /* struct ssb_msg*, owned: what the client sent */
    GPtrArray *frames;            /* SsbFrame*, owned: everything "frame" gave */
} Fixture;

static void
on_ready(SsbClient *client, SsbClientPath path, Fixture *fx)
{
    fx->ready = TRUE;
    fx->path = path;
}

static void
on_error(SsbClient *client, GError *error, Fixture *fx)
{
    g_test_message("client error: %s", error->message);
    if (fx->error == NULL)
        fx->error = g_error_copy(error);
}

static void
on_frame(SsbClient *client, SsbFrame *frame, Fixture *fx)
{
    g_ptr_array_add(fx->frames, ssb_frame_ref(frame));
}

static void
on_closed(SsbClient *client, Fixture *fx)
{
    fx->closed = TRUE;
}

static void
port_sink(const struct ssb_msg *msg, gpointer data)
{
    Fixture *fx = data;

    g_ptr_array_add(fx->sent, g_memdup2(msg, sizeof(*msg)));
}

static void
feed(Fixture *fx, const struct ssb_msg *msg)
{
    ssb_client_handle_port_message(msg, fx->client);
}

static void
create_scanout(Fixture *fx, enum ssb_msg_type type, guint id, guint width, guint height)
{
    struct ssb_msg msg = { .type = type };

    msg.u.scanout = (struct ssb_msg_scanout){ id, id, width, height, SSB_FORMAT_XRGB8888, 0 };
    feed(fx, &msg);
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    struct ssb_msg msg = { .type = SSB_MSG_SERVER_HELLO };

    fx->sent = g_ptr_array_new_with_free_func(g_free);
    fx->frames = g_ptr_array_new_with_free_func((GDestroyNotify)ssb_frame_unref);
    fx->session = spice_session_new();
    fx->client = ssb_client_new(fx->session);
    fx->client->port_sink = port_sink;
    fx->client->port_sink_data = fx;
    g_object_set(fx->client, "force-remote", TRUE, "codec", data, NULL);
    g_signal_connect(fx->client, "ready", G_CALLBACK(on_ready), fx);
    g_signal_connect(fx->client, "error", G_CALLBACK(on_error), fx);
    g_signal_connect(fx->client, "frame", G_CALLBACK(on_frame), fx);
    g_signal_connect(fx->client, "closed", G_CALLBACK(on_closed), fx);
    msg.u.server_hello = (struct ssb_msg_server_hello){
        1, 0, SSB_CAP_SHM | SSB_CAP_LOCAL_SOCKET | SSB_CAP_VIDEO | SSB_CAP_FEEDBACK |
        SSB_CAP_KEYFRAME_REQUEST, SSB_CODEC_BIT(SSB_CODEC_H264) | SSB_CODEC_BIT(SSB_CODEC_VP8), 64
    };
    feed(fx, &msg);
    create_scanout(fx, SSB_MSG_SCANOUT_CREATE, 0, W, H);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    g_ptr_array_unref(fx->frames);
    g_clear_object(&fx->client);
    g_clear_object(&fx->session);
    g_ptr_array_unref(fx->sent);
    g_clear_error(&fx->error);
}

/* Sends @e as VIDEO_FRAME chunks of at most @chunk payload bytes. */
static void
feed_encoded(Fixture *fx, guint scanout_id, enum ssb_codec codec, const Encoded *e, gsize chunk)
{
    gsize size;
    const guint8 *data = g_bytes_get_data(e->bytes, &size);

    for (gsize off = 0; off < size; off += chunk) {
        struct ssb_msg msg = { .type = SSB_MSG_VIDEO_FRAME };
        struct ssb_msg_video_frame *v = &msg.u.video_frame;
        gsize n = MIN(chunk, size - off);

        v->scanout_id = scanout_id;
        v->codec = codec;
        v->flags = (e->keyframe ? SSB_VIDEO_KEYFRAME : 0) |
                   (off == 0 ? SSB_VIDEO_FIRST_CHUNK : 0) |
                   (off + n == size ? SSB_VIDEO_LAST_CHUNK : 0);
        v->width = e->width;
        v->height = e->height;
        v->seq = e->seq;
        v->t_submit_us = 1000 + e->seq;
        v->t_encoded_us = 2000 + e->seq;
        v->frame_size = (guint32)size;
        v->chunk_offset = (guint32)off;
        v->payload_size = (guint32)n;
        v->payload = data + off;
        feed(fx, &msg);
    }
}

static void
iterate_until(gboolean (*cond)(Fixture *fx, gpointer data), Fixture *fx, gpointer data)
{
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

    while (!cond(fx, data) && g_get_monotonic_time() < deadline) {
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    }
    g_assert_true(cond(fx, data));
}

/* The FEEDBACK the client sent for @seq, or NULL. */
static const struct ssb_msg_feedback *
feedback_for(Fixture *fx, guint64 seq)
{
    const struct ssb_msg_feedback *found = NULL;

    for (guint i = 0; i < fx->sent->len; i++) {
        const struct ssb_msg *m = fx->sent->pdata[i];

        if (m->type == SSB_MSG_FEEDBACK && m->u.feedback.seq == seq) {
            g_assert_null(found); /* at most one per (scanout, seq) */
            found = &m->u.feedback;
        }
    }
    return found;
}

static guint
count_keyframe_requests(Fixture *fx, guint32 reason)
{
    guint n = 0;

    for (guint i = 0; i < fx->sent->len; i++) {
        const struct ssb_msg *m = fx->sent->pdata[i];

        n += m->type == SSB_MSG_KEYFRAME_REQUEST && m->u.keyframe_request.reason == reason;
    }
    return n;
}

static gboolean
has_feedback(Fixture *fx, gpointer seq)
{
    return feedback_for(fx, *(guint64 *)seq) != NULL || fx->error != NULL;
}

static const struct ssb_msg *
sent_of_type(Fixture *fx, enum ssb_msg_type type)
{
    for (guint i = 0; i < fx->sent->len; i++) {
        const struct ssb_msg *m = fx->sent->pdata[i];
        if (m->type == type)
            return m;
    }
    return NULL;
}

/* --------------------------------------------------------------- tests */

static void
test_hello(Fixture *fx, gconstpointer data)
{
    const struct ssb_msg *hello = sent_of_type(fx, SSB_MSG_CLIENT_HELLO);
    guint32 mask = ssb_decoder_probe_codecs();
    g_auto(GStrv) names = ssb_client_list_decodable_codecs();

    g_assert_nonnull(hello);
    g_assert_cmpuint(hello->u.client_hello.codecs, ==, mask);
    g_assert_cmpuint(g_strv_length(names), >=, 1);
    if (mask != 0) {
        g_assert_cmpuint(hello->u.client_hello.caps & (SSB_CAP_VIDEO | SSB_CAP_FEEDBACK |
                                                       SSB_CAP_KEYFRAME_REQUEST), ==,
                         SSB_CAP_VIDEO | SSB_CAP_FEEDBACK | SSB_CAP_KEYFRAME_REQUEST);
        g_assert_true(fx->ready);
        g_assert_cmpint(fx->path, ==, SSB_CLIENT_PATH_VIDEO);
    }
    /* force-remote: no local path asked for. */
    g_assert_cmpuint(hello->u.client_hello.flags & SSB_CLIENT_WANT_LOCAL, ==, 0);
    if (mask & SSB_CODEC_BIT(SSB_CODEC_VP8))
        g_assert_cmpuint(hello->u.client_hello.preferred_codec, ==, SSB_CODEC_VP8);
}

static void
test_codec_allowlist(void)
{
    SpiceSession *session = spice_session_new();
    SsbClient *client = ssb_client_new(session);
    guint32 pref = 0, mask;

    g_object_set(client, "codecs", "vp8, bogus", "codec", "h264", NULL);
    mask = ssb_client_video_codecs(client, &pref);
    g_assert_cmpuint(mask & ~SSB_CODEC_BIT(SSB_CODEC_VP8), ==, 0);
    /* h264 is not allowed, so it cannot be preferred. */
    g_assert_cmpuint(pref, ==, 0);
    g_object_unref(client);
    g_object_unref(session);
}

static double
frame_psnr(SsbFrame *frame, const Encoded *source)
{
    guint stride = 0;
    const guint8 *data = ssb_frame_get_data(frame, &stride);

    g_assert_nonnull(data);
    g_assert_cmpuint(ssb_frame_get_width(frame), ==, source->width);
    g_assert_cmpuint(ssb_frame_get_height(frame), ==, source->height);
    return ssb_pattern_psnr(data, stride, source->source, source->width * 4, source->width,
                            source->height);
}

/* Decodes @n frames of the pattern and checks pictures and feedback. */
static void
decode_stream(Fixture *fx, enum ssb_codec codec, guint n)
{
    Encoder *enc = encoder_new(codec, W, H);
    g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func((GDestroyNotify)encoded_free);
    guint64 last = 0;

    for (guint i = 0; i < n; i++) {
        Encoded *e = encoder_next(enc, 10 + i);

        g_assert_true(e->keyframe == (i == 0));
        feed_encoded(fx, 0, codec, e, CHUNK);
        g_ptr_array_add(sources, e);
        last = e->seq;
        /* Paced like a stream, but with frames arriving while others
         * decode: at most two in the decoder. */
        while (fx->client->scanouts[0].video.in_flight->len > 2)
            if (!g_main_context_iteration(NULL, FALSE))
                g_usleep(1000);
    }
    iterate_until(has_feedback, fx, &last);
    g_assert_no_error(fx->error);
    g_assert_cmpuint(fx->frames->len, >=, 1);
    for (guint i = 0; i < fx->frames->len; i++) {
        SsbFrame *frame = fx->frames->pdata[i];
        const Encoded *src = sources->pdata[ssb_frame_get_seq(frame) - 10];
        double psnr = frame_psnr(frame, src);

        g_test_message("%s seq %" G_GUINT64_FORMAT ": PSNR %.1f dB, %u bytes",
                       ssb_proto_codec_name(codec), ssb_frame_get_seq(frame), psnr,
                       ssb_frame_get_encoded_size(frame));
        g_assert_cmpfloat(psnr, >=, 35.0);
        g_assert_cmpint(ssb_frame_get_backing(frame), ==, SSB_FRAME_BACKING_VIDEO);
        g_assert_cmpstr(ssb_frame_get_codec(frame), ==, ssb_proto_codec_name(codec));
        g_assert_cmpuint(ssb_frame_get_fourcc(frame), ==, SSB_FORMAT_XRGB8888);
        g_assert_cmpint(ssb_frame_get_t_decoded_us(frame), >=,
                        ssb_frame_get_t_received_us(frame));
        g_assert_cmpint(ssb_frame_get_t_submit_us(frame), ==,
                        1000 + (gint64)ssb_frame_get_seq(frame));
    }
    /* The newest frame was shown; every frame has exactly one outcome. */
    g_assert_cmpuint(ssb_frame_get_seq(fx->frames->pdata[fx->frames->len - 1]), ==, last);
    for (guint i = 0; i < n; i++) {
        const struct ssb_msg_feedback *fb = feedback_for(fx, 10 + i);

        g_assert_nonnull(fb);
        g_assert_cmpuint(fb->flags & SSB_FEEDBACK_DECODE_ERROR, ==, 0);
        g_assert_cmpuint(fb->t_submit_us, ==, 1000 + 10 + i);
        g_assert_cmpuint(fb->t_encoded_us, ==, 2000 + 10 + i);
        if (fb->flags & SSB_FEEDBACK_DISPLAYED)
            g_assert_cmpuint(fb->receive_to_decoded_us, >, 0);
    }
    g_assert_cmpuint(feedback_for(fx, last)->flags, ==, SSB_FEEDBACK_DISPLAYED);
    g_assert_cmpstr(ssb_client_get_path_name(fx->client, 0), ==, ssb_proto_codec_name(codec));
    g_assert_cmpstr(ssb_client_get_decoder_name(fx->client, 0), ==,
                    ssb_decoder_element_for(codec));
    g_assert_cmpuint(count_keyframe_requests(fx, SSB_KEYFRAME_REASON_JOIN), ==, 0);
    encoder_free(enc);
}

static void
test_decode(Fixture *fx, gconstpointer data)
{
    enum ssb_codec codec = ssb_proto_codec_from_name(data);
    SsbVideoStats stats;

    if (!have_elements(codec)) {
        g_test_skip("no encoder or decoder for this codec");
        return;
    }
    decode_stream(fx, codec, 12);
    g_assert_true(ssb_client_get_video_stats(fx->client, 0, &stats));
    g_assert_cmpuint(stats.frames_received, ==, 12);
    g_assert_cmpuint(stats.keyframes, ==, 1);
    g_assert_cmpuint(stats.frames_delivered + stats.frames_dropped, ==, 12);
    g_assert_cmpuint(stats.decode_errors, ==, 0);
}

/* Joining without a keyframe: deltas are dropped, a JOIN request goes out. */
static void
test_join_without_keyframe(Fixture *fx, gconstpointer data)
{
    Encoder *enc;
    Encoded *key, *delta1, *delta2;
    guint64 seq;

    if (!have_elements(SSB_CODEC_H264)) {
        g_test_skip("no H.264 encoder or decoder");
        return;
    }
    enc = encoder_new(SSB_CODEC_H264, W, H);
    key = encoder_next(enc, 1);
    delta1 = encoder_next(enc, 2);
    delta2 = encoder_next(enc, 3);
    g_assert_false(delta1->keyframe);
    feed_encoded(fx, 0, SSB_CODEC_H264, delta1, CHUNK);
    feed_encoded(fx, 0, SSB_CODEC_H264, delta2, CHUNK);
    g_assert_cmpuint(feedback_for(fx, 2)->flags, ==, SSB_FEEDBACK_DROPPED);
    g_assert_cmpuint(feedback_for(fx, 3)->flags, ==, SSB_FEEDBACK_DROPPED);
    /* Once, not per frame (spec 5.2: at most one a second). */
    g_assert_cmpuint(count_keyframe_requests(fx, SSB_KEYFRAME_REASON_JOIN), ==, 1);
    /* A keyframe with a later seq (the server's answer) decodes. */
    key->seq = 4;
    feed_encoded(fx, 0, SSB_CODEC_H264, key, CHUNK);
    seq = 4;
    iterate_until(has_feedback, fx, &seq);
    g_assert_cmpuint(feedback_for(fx, 4)->flags, ==, SSB_FEEDBACK_DISPLAYED);
    g_assert_cmpuint(fx->frames->len, ==, 1);
    encoded_free(key);
    encoded_free(delta1);
    encoded_free(delta2);
    encoder_free(enc);
}

/* A keyframe the decoder cannot decode: DECODE_ERROR, a keyframe request,
 * deltas dropped, and the next keyframe decodes in a fresh pipeline. */
static void
test_decode_error(Fixture *fx, gconstpointer data)
{
    /* An IDR slice NAL with garbage and no SPS/PPS before it. */
    static const guint8 garbage_prefix[] = { 0, 0, 0, 1, 0x65 };
    Encoder *enc;
    Encoded bad = { 0 };
    Encoded *key, *delta;
    guint8 junk[4000];
    GByteArray *arr = g_byte_array_new();
    guint64 seq;
    SsbVideoStats stats;

    if (!have_elements(SSB_CODEC_H264)) {
        g_test_skip("no H.264 encoder or decoder");
        return;
    }
    enc = encoder_new(SSB_CODEC_H264, W, H);
    key = encoder_next(enc, 10);
    delta = encoder_next(enc, 11);
    /* A good stream first, so that a decoder exists. */
    key->seq = 1;
    feed_encoded(fx, 0, SSB_CODEC_H264, key, CHUNK);
    seq = 1;
    iterate_until(has_feedback, fx, &seq);
    for (guint i = 0; i < sizeof(junk); i++)
        junk[i] = (guint8)g_test_rand_int();
    for (guint k = 0; k < 4; k++) {
        g_byte_array_append(arr, garbage_prefix, sizeof(garbage_prefix));
        g_byte_array_append(arr, junk, sizeof(junk));
    }
    bad.bytes = g_byte_array_free_to_bytes(arr);
    bad.keyframe = TRUE;
    bad.width = W;
    bad.height = H;
    bad.seq = 2;
    feed_encoded(fx, 0, SSB_CODEC_H264, &bad, CHUNK);
    /* The decoder may say nothing about one bad frame, but it must never
     * wedge: the next good keyframe always decodes. */
    key->seq = 3;
    feed_encoded(fx, 0, SSB_CODEC_H264, key, CHUNK);
    seq = 3;
    iterate_until(has_feedback, fx, &seq);
    if (feedback_for(fx, 3)->flags != SSB_FEEDBACK_DISPLAYED) {
        /* The error came after seq 3 was queued: seq 3 is reported as a
         * DECODE_ERROR, or DROPPED when the decoder was rebuilt under it;
         * either way the following keyframe decodes. */
        g_assert_cmpuint(feedback_for(fx, 3)->flags, ==,
                         feedback_for(fx, 3)->flags &
                             (SSB_FEEDBACK_DECODE_ERROR | SSB_FEEDBACK_DROPPED));
        g_assert_cmpuint(feedback_for(fx, 3)->flags, !=, 0);
        key->seq = 5;
        feed_encoded(fx, 0, SSB_CODEC_H264, key, CHUNK);
        seq = 5;
        iterate_until(has_feedback, fx, &seq);
        g_assert_cmpuint(feedback_for(fx, 5)->flags, ==, SSB_FEEDBACK_DISPLAYED);
    }
    g_assert_nonnull(feedback_for(fx, 2));
    g_assert_true(ssb_client_get_video_stats(fx->client, 0, &stats));
    g_test_message("bad frame: feedback flags %u, decode errors %" G_GUINT64_FORMAT
                   ", keyframe requests %" G_GUINT64_FORMAT, feedback_for(fx, 2)->flags,
                   stats.decode_errors, stats.keyframe_requests);
    if (stats.decode_errors > 0) {
        g_assert_cmpuint(count_keyframe_requests(fx, SSB_KEYFRAME_REASON_DECODE_ERROR), >=, 1);
        g_assert_cmpuint(feedback_for(fx, 2)->flags, ==, SSB_FEEDBACK_DECODE_ERROR);
    }
    g_assert_no_error(fx->error);
    g_bytes_unref(bad.bytes);
    encoded_free(key);
    encoded_free(delta);
    encoder_free(enc);
}

/* SCANOUT_RESIZE: the next keyframe of the new size decodes at that size. */
static void
test_resize(Fixture *fx, gconstpointer data)
{
    enum ssb_codec codec = ssb_proto_codec_from_name(data);
    Encoder *enc;
    Encoded *a, *b, *stale;
    guint64 seq;
    SsbFrame *last;

    if (!have_elements(codec)) {
        g_test_skip("no encoder or decoder for this codec");
        return;
    }
    enc = encoder_new(codec, W, H);
    a = encoder_next(enc, 1);
    stale = encoder_next(enc, 2);
    feed_encoded(fx, 0, codec, a, CHUNK);
    encoder_free(enc);
    create_scanout(fx, SSB_MSG_SCANOUT_RESIZE, 0, 480, 360);
    /* A delta of the old stream after the resize is not decodable now. */
    stale->seq = 3;
    feed_encoded(fx, 0, codec, stale, CHUNK);
    g_assert_cmpuint(feedback_for(fx, 3)->flags, ==, SSB_FEEDBACK_DROPPED);
    enc = encoder_new(codec, 480, 360);
    b = encoder_next(enc, 4);
    g_assert_true(b->keyframe);
    feed_encoded(fx, 0, codec, b, CHUNK);
    seq = 4;
    iterate_until(has_feedback, fx, &seq);
    g_assert_no_error(fx->error);
    last = fx->frames->pdata[fx->frames->len - 1];
    g_assert_cmpuint(ssb_frame_get_seq(last), ==, 4);
    g_assert_cmpfloat(frame_psnr(last, b), >=, 35.0);
    encoded_free(a);
    encoded_free(b);
    encoded_free(stale);
    encoder_free(enc);
}

/* ------------------------------------------------------ hostile chunks */

static struct ssb_msg
chunk(guint32 flags, guint64 seq, guint32 frame_size, guint32 offset, guint32 n)
{
    static const guint8 zeros[64];
    struct ssb_msg msg = { .type = SSB_MSG_VIDEO_FRAME };

    msg.u.video_frame = (struct ssb_msg_video_frame){
        .scanout_id = 0, .codec = SSB_CODEC_H264, .flags = flags, .width = W, .height = H,
        .seq = seq, .t_submit_us = 1, .t_encoded_us = 2, .frame_size = frame_size,
        .chunk_offset = offset, .payload_size = n, .payload = zeros,
    };
    return msg;
}

static void
expect_protocol(Fixture *fx)
{
    g_assert_nonnull(fx->error);
    g_assert_true(fx->error->domain == SSB_CLIENT_ERROR);
    g_assert_cmpint(fx->error->code, ==, SSB_CLIENT_ERROR_PROTOCOL);
    g_assert_true(fx->closed);
}

#define K SSB_VIDEO_KEYFRAME
#define F SSB_VIDEO_FIRST_CHUNK
#define L SSB_VIDEO_LAST_CHUNK

static void
test_continuation_without_first(Fixture *fx, gconstpointer data)
{
    struct ssb_msg m = chunk(K | L, 1, 128, 64, 64);

    feed(fx, &m);
    expect_protocol(fx);
}

static void
test_chunk_gap(Fixture *fx, gconstpointer data)
{
    struct ssb_msg m = chunk(K | F, 1, 256, 0, 64);

    feed(fx, &m);
    g_assert_no_error(fx->error);
    m = chunk(K | L, 1, 256, 192, 64); /* 64..192 missing */
    feed(fx, &m);
    expect_protocol(fx);
}

static void
test_chunk_field_changed(Fixture *fx, gconstpointer data)
{
    struct ssb_msg m = chunk(K | F, 1, 128, 0, 64);

    feed(fx, &m);
    m = chunk(L, 1, 128, 64, 64); /* KEYFRAME flag dropped */
    feed(fx, &m);
    expect_protocol(fx);
}

static void
test_first_while_incomplete(Fixture *fx, gconstpointer data)
{
    struct ssb_msg m = chunk(K | F, 1, 128, 0, 64);

    feed(fx, &m);
    m = chunk(K | F, 2, 128, 0, 64);
    feed(fx, &m);
    expect_protocol(fx);
}

static void
test_size_mismatch(Fixture *fx, gconstpointer data)
{
    struct ssb_msg m = chunk(K | F, 1, 256, 0, 64);

    feed(fx, &m);
    m = chunk(K | L, 1, 200, 64, 64); /* frame_size changed */
    feed(fx, &m);
    expect_protocol(fx);
}

static void
test_seq_not_increasing(Fixture *fx, gconstpointer data)
{
    struct ssb_msg m = chunk(F | L, 5, 64, 0, 64);

    feed(fx, &m);
    g_assert_no_error(fx->error);
    m = chunk(F | L, 5, 64, 0, 64);
    feed(fx, &m);
    expect_protocol(fx);
}

/* A keyframe re-encoded from the same picture may repeat its seq. */
static void
test_seq_repeat_keyframe(Fixture *fx, gconstpointer data)
{
    struct ssb_msg m = chunk(F | L, 5, 64, 0, 64);

    feed(fx, &m);
    m = chunk(K | F | L, 5, 64, 0, 64);
    feed(fx, &m);
    g_assert_no_error(fx->error);
    m = chunk(K | F | L, 4, 64, 0, 64);
    feed(fx, &m);
    expect_protocol(fx);
}

static void
test_unknown_scanout(Fixture *fx, gconstpointer data)
{
    struct ssb_msg m = chunk(K | F | L, 1, 64, 0, 64);

    m.u.video_frame.scanout_id = 9;
    feed(fx, &m);
    expect_protocol(fx);
}

static void
test_codec_not_offered(Fixture *fx, gconstpointer data)
{
    struct ssb_msg m = chunk(K | F | L, 1, 64, 0, 64);

    m.u.video_frame.codec = SSB_CODEC_AV1;
    if (fx->client->codecs & SSB_CODEC_BIT(SSB_CODEC_AV1)) {
        g_object_set(fx->client, "codecs", "h264", NULL);
        fx->client->codecs = SSB_CODEC_BIT(SSB_CODEC_H264);
    }
    feed(fx, &m);
    expect_protocol(fx);
}

static void
test_resize_mid_frame(Fixture *fx, gconstpointer data)
{
    struct ssb_msg m = chunk(K | F, 1, 128, 0, 64);

    feed(fx, &m);
    create_scanout(fx, SSB_MSG_SCANOUT_RESIZE, 0, 640, 480);
    expect_protocol(fx);
}

static void
test_video_not_negotiated(void)
{
    Fixture fx = { 0 };
    struct ssb_msg msg = { .type = SSB_MSG_SERVER_HELLO };
    struct ssb_msg m = chunk(K | F | L, 1, 64, 0, 64);

    fx.sent = g_ptr_array_new_with_free_func(g_free);
    fx.frames = g_ptr_array_new_with_free_func((GDestroyNotify)ssb_frame_unref);
    fx.session = spice_session_new();
    fx.client = ssb_client_new(fx.session);
    fx.client->port_sink = port_sink;
    fx.client->port_sink_data = &fx;
    g_object_set(fx.client, "force-remote", TRUE, NULL);
    g_signal_connect(fx.client, "ready", G_CALLBACK(on_ready), &fx);
    g_signal_connect(fx.client, "error", G_CALLBACK(on_error), &fx);
    g_signal_connect(fx.client, "closed", G_CALLBACK(on_closed), &fx);
    /* A server without VIDEO: the client is ready without a frame path. */
    msg.u.server_hello = (struct ssb_msg_server_hello){ 1, 0, SSB_CAP_SHM, 0, 64 };
    feed(&fx, &msg);
    g_assert_true(fx.ready);
    g_assert_cmpint(fx.path, ==, SSB_CLIENT_PATH_NONE);
    create_scanout(&fx, SSB_MSG_SCANOUT_CREATE, 0, W, H);
    feed(&fx, &m);
    expect_protocol(&fx);
    fixture_teardown(&fx, NULL);
}

static guint
count_fds(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
    guint n = 0;

    while (g_dir_read_name(dir) != NULL)
        n++;
    return n;
}

static void
no_decoded(const SsbDecoded *decoded, gpointer user_data)
{
}

static void
no_failure(const char *message, gpointer user_data)
{
}

/* A freed decoder takes its pipeline along: each GstBus holds two
 * sockets, so a pipeline that is never finalized shows as fds. */
static void
test_decoder_no_leak(void)
{
    const SsbDecoderCallbacks cb = { .decoded = no_decoded, .failed = no_failure };
    guint before = 0;

    if (ssb_decoder_element_for(SSB_CODEC_VP8) == NULL) {
        g_test_skip("no VP8 decoder");
        return;
    }
    for (guint i = 0; i < 5; i++) {
        g_autoptr(GError) error = NULL;
        SsbDecoder *decoder = ssb_decoder_new(SSB_CODEC_VP8, g_main_context_default(), &cb,
                                              NULL, &error);

        g_assert_no_error(error);
        /* Let the pipeline reach PLAYING (state-changed, new-clock...). */
        for (guint j = 0; j < 50; j++) {
            g_main_context_iteration(NULL, FALSE);
            g_usleep(1000);
        }
        ssb_decoder_free(decoder);
        if (i == 0)
            before = count_fds();
    }
    g_assert_cmpuint(count_fds(), <=, before);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gst_init(&argc, &argv);

    g_test_add_func("/video/decoder-no-leak", test_decoder_no_leak);

    g_test_add("/video/hello", Fixture, "vp8", fixture_setup, test_hello, fixture_teardown);
    g_test_add_func("/video/codec-allowlist", test_codec_allowlist);
    g_test_add("/video/decode/h264", Fixture, "h264", fixture_setup, test_decode,
               fixture_teardown);
    g_test_add("/video/decode/vp8", Fixture, "vp8", fixture_setup, test_decode,
               fixture_teardown);
    g_test_add("/video/join-without-keyframe", Fixture, NULL, fixture_setup,
               test_join_without_keyframe, fixture_teardown);
    g_test_add("/video/decode-error", Fixture, NULL, fixture_setup, test_decode_error,
               fixture_teardown);
    g_test_add("/video/resize/h264", Fixture, "h264", fixture_setup, test_resize,
               fixture_teardown);
    g_test_add("/video/resize/vp8", Fixture, "vp8", fixture_setup, test_resize,
               fixture_teardown);
    g_test_add("/video/hostile/continuation-without-first", Fixture, NULL, fixture_setup,
               test_continuation_without_first, fixture_teardown);
    g_test_add("/video/hostile/chunk-gap", Fixture, NULL, fixture_setup, test_chunk_gap,
               fixture_teardown);
    g_test_add("/video/hostile/field-changed", Fixture, NULL, fixture_setup,
               test_chunk_field_changed, fixture_teardown);
    g_test_add("/video/hostile/first-while-incomplete", Fixture, NULL, fixture_setup,
               test_first_while_incomplete, fixture_teardown);
    g_test_add("/video/hostile/size-mismatch", Fixture, NULL, fixture_setup, test_size_mismatch,
               fixture_teardown);
    g_test_add("/video/hostile/seq-not-increasing", Fixture, NULL, fixture_setup,
               test_seq_not_increasing, fixture_teardown);
    g_test_add("/video/hostile/seq-repeat-keyframe", Fixture, NULL, fixture_setup,
               test_seq_repeat_keyframe, fixture_teardown);
    g_test_add("/video/hostile/unknown-scanout", Fixture, NULL, fixture_setup,
               test_unknown_scanout, fixture_teardown);
    g_test_add("/video/hostile/codec-not-offered", Fixture, NULL, fixture_setup,
               test_codec_not_offered, fixture_teardown);
    g_test_add("/video/hostile/resize-mid-frame", Fixture, NULL, fixture_setup,
               test_resize_mid_frame, fixture_teardown);
    g_test_add_func("/video/hostile/not-negotiated", test_video_not_negotiated);
    return g_test_run();
}
