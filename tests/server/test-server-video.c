/* The remote path end to end, from a raw client: ssb-test-vmm runs as a
 * subprocess; this test speaks the sideband through spice-client-glib's
 * SpicePortChannel, reassembles VIDEO_FRAME chunks (spec 5.2) and decodes
 * them with GStreamer (avdec_h264, vp8dec) to check the pictures.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <spice-client.h>

#include "pattern.h"
#include "raw-client.h"

/* ---- the VMM subprocess ---- */

/* @extra: NULL-terminated extra arguments. */
static void
vmm_start(struct ssb_test_vmm *vmm, const char *const *extra)
{
    static const char *const args[] = { "--no-local", NULL };

    ssb_test_vmm_start(vmm, "ssb-video-XXXXXX", args, extra);
}

/* A number or string field of a flat JSON object. */
static char *
json_field(const char *json, const char *name)
{
    g_autofree char *key = g_strdup_printf("\"%s\":", name);
    const char *p = strstr(json, key);

    g_assert_nonnull(p);
    p += strlen(key);
    if (*p == '"')
        return g_strndup(p + 1, (gsize)(strchr(p + 1, '"') - p - 1));
    return g_strndup(p, strcspn(p, ",}"));
}

static guint64
json_u64(const char *json, const char *name)
{
    g_autofree char *v = json_field(json, name);

    return g_ascii_strtoull(v, NULL, 10);
}

static uint64_t
vmm_submit(struct ssb_test_vmm *vmm, uint32_t id)
{
    g_autofree char *cmd = g_strdup_printf("submit %u", id);
    g_autofree char *reply = ssb_test_vmm_cmd(vmm, cmd);
    uint64_t seq;

    g_assert_true(g_str_has_prefix(reply, "submitted "));
    seq = g_ascii_strtoull(strrchr(reply, ' ') + 1, NULL, 10);
    return seq;
}

/* ---- the raw client ---- */

struct client {
    struct ssb_test_client base;   /* port_msgs: struct rx * */
    uint64_t video_bytes;  /* VIDEO_FRAME payload bytes received */
};

/* A parsed message whose VIDEO_FRAME payload survives the reader. */
struct rx {
    struct ssb_msg msg;
    uint8_t payload[];
};

static void *
parse_rx(struct ssb_test_client *base, const uint8_t *raw, size_t len)
{
    struct client *c = (struct client *)base;
    struct rx *rx = g_malloc0(sizeof(*rx) + len);

    g_assert_cmpint(ssb_proto_parse(raw, len, 0, &rx->msg, NULL), ==, 0);
    if (rx->msg.type == SSB_MSG_VIDEO_FRAME) {
        memcpy(rx->payload, rx->msg.u.video_frame.payload, rx->msg.u.video_frame.payload_size);
        rx->msg.u.video_frame.payload = rx->payload;
        c->video_bytes += rx->msg.u.video_frame.payload_size;
    }
    return rx;
}

static void
client_connect(struct client *c, struct ssb_test_vmm *vmm)
{
    memset(c, 0, sizeof(*c));
    ssb_test_client_connect(&c->base, vmm, parse_rx);
}

static void
client_disconnect(struct client *c)
{
    ssb_test_client_disconnect(&c->base, 100000);
}

/* SERVER_HELLO, CLIENT_HELLO (remote only), SCANOUT_CREATE x @n_scanouts.
 * Returns the server's codecs. */
static uint32_t
client_hello(struct client *c, uint32_t codecs, uint32_t n_scanouts)
{
    struct ssb_msg hello = { .type = SSB_MSG_CLIENT_HELLO };
    struct rx *rx = ssb_test_port_next(&c->base, SSB_MSG_SERVER_HELLO);
    uint32_t server_codecs = rx->msg.u.server_hello.codecs;

    g_assert_cmpuint(rx->msg.u.server_hello.caps & SSB_CAP_VIDEO, !=, 0);
    g_assert_cmpuint(rx->msg.u.server_hello.caps & SSB_CAP_FEEDBACK, !=, 0);
    g_assert_cmpuint(rx->msg.u.server_hello.caps & SSB_CAP_KEYFRAME_REQUEST, !=, 0);
    g_free(rx);
    hello.u.client_hello.version_major = SSB_PROTO_VERSION_MAJOR;
    hello.u.client_hello.caps = SSB_CAP_VIDEO | SSB_CAP_FEEDBACK | SSB_CAP_KEYFRAME_REQUEST;
    hello.u.client_hello.codecs = codecs;
    hello.u.client_hello.max_width = 4096;
    hello.u.client_hello.max_height = 4096;
    ssb_test_port_send(&c->base, &hello);
    for (uint32_t i = 0; i < n_scanouts; i++)
        g_free(ssb_test_port_next(&c->base, SSB_MSG_SCANOUT_CREATE));
    return server_codecs;
}

/* One reassembled frame. */
struct vframe {
    struct ssb_msg_video_frame hdr;   /* of the first chunk; payload NULL */
    GByteArray *data;
    uint32_t chunks;
    uint64_t t_last_chunk_us;
};

static void
vframe_clear(struct vframe *f)
{
    g_clear_pointer(&f->data, g_byte_array_unref);
}

/* Reassembles the next frame, checking the chunk rules of spec 5.2. */
static void
next_video(struct client *c, struct vframe *f)
{
    memset(f, 0, sizeof(*f));
    f->data = g_byte_array_new();
    for (;;) {
        g_autofree struct rx *rx = ssb_test_port_next(&c->base, SSB_MSG_VIDEO_FRAME);
        const struct ssb_msg_video_frame *v = &rx->msg.u.video_frame;

        g_assert_cmpuint(v->payload_size, <=, SSB_PROTO_MAX_BODY_SIZE - 56);
        if (f->chunks == 0) {
            g_assert_cmpuint(v->flags & SSB_VIDEO_FIRST_CHUNK, !=, 0);
            f->hdr = *v;
            f->hdr.payload = NULL;
        } else {
            g_assert_cmpuint(v->flags & SSB_VIDEO_FIRST_CHUNK, ==, 0);
            g_assert_cmpuint(v->seq, ==, f->hdr.seq);
            g_assert_cmpuint(v->frame_size, ==, f->hdr.frame_size);
            g_assert_cmpuint(v->flags & SSB_VIDEO_KEYFRAME, ==, f->hdr.flags & SSB_VIDEO_KEYFRAME);
            g_assert_cmpuint(v->t_encoded_us, ==, f->hdr.t_encoded_us);
        }
        g_assert_cmpuint(v->chunk_offset, ==, f->data->len);
        g_byte_array_append(f->data, v->payload, v->payload_size);
        f->chunks++;
        if (v->flags & SSB_VIDEO_LAST_CHUNK)
            break;
    }
    f->t_last_chunk_us = (uint64_t)g_get_monotonic_time();
    g_assert_cmpuint(f->data->len, ==, f->hdr.frame_size);
    g_assert_cmpuint(f->hdr.t_submit_us, <=, f->hdr.t_encoded_us);
}

static void
send_feedback(struct client *c, const struct vframe *f, uint32_t in_flight)
{
    struct ssb_msg msg = { .type = SSB_MSG_FEEDBACK };

    msg.u.feedback.scanout_id = f->hdr.scanout_id;
    msg.u.feedback.flags = SSB_FEEDBACK_DISPLAYED;
    msg.u.feedback.seq = f->hdr.seq;
    msg.u.feedback.t_submit_us = f->hdr.t_submit_us;
    msg.u.feedback.t_encoded_us = f->hdr.t_encoded_us;
    msg.u.feedback.receive_to_decoded_us = 2000;
    msg.u.feedback.held_us = (uint32_t)((uint64_t)g_get_monotonic_time() - f->t_last_chunk_us);
    msg.u.feedback.frames_in_flight = in_flight;
    ssb_test_port_send(&c->base, &msg);
}

/* ---- decoding ---- */

struct decoder {
    GstElement *pipeline, *src, *sink;
};

static void
decoder_init(struct decoder *d, uint32_t codec)
{
    const char *desc = codec == SSB_CODEC_H264
        ? "appsrc name=src is-live=true format=time caps=video/x-h264,stream-format=byte-stream,"
          "alignment=au ! h264parse ! avdec_h264 thread-type=slice ! videoconvert ! "
          "video/x-raw,format=BGRx ! appsink name=sink sync=false async=false"
        : "appsrc name=src is-live=true format=time caps=video/x-vp8 ! vp8dec ! videoconvert ! "
          "video/x-raw,format=BGRx ! appsink name=sink sync=false async=false";
    g_autoptr(GError) error = NULL;

    d->pipeline = gst_parse_launch(desc, &error);
    g_assert_no_error(error);
    d->src = gst_bin_get_by_name(GST_BIN(d->pipeline), "src");
    d->sink = gst_bin_get_by_name(GST_BIN(d->pipeline), "sink");
    g_assert_cmpint(gst_element_set_state(d->pipeline, GST_STATE_PLAYING), !=,
                    GST_STATE_CHANGE_FAILURE);
}

static void
decoder_finish(struct decoder *d)
{
    gst_element_set_state(d->pipeline, GST_STATE_NULL);
    gst_clear_object(&d->src);
    gst_clear_object(&d->sink);
    gst_clear_object(&d->pipeline);
}

/* Decodes @f; returns the BGRx picture (unref it). */
static GstSample *
decode(struct decoder *d, const struct vframe *f)
{
    GstBuffer *buf = gst_buffer_new_memdup(f->data->data, f->data->len);
    GstSample *sample;

    GST_BUFFER_PTS(buf) = f->hdr.seq * GST_MSECOND * 16;
    g_assert_cmpint(gst_app_src_push_buffer(GST_APP_SRC(d->src), buf), ==, GST_FLOW_OK);
    sample = gst_app_sink_try_pull_sample(GST_APP_SINK(d->sink), 5 * GST_SECOND);
    g_assert_nonnull(sample);
    return sample;
}

/* PSNR of the decoded @sample against the smooth pattern of frame @seq. */
static double
picture_psnr(GstSample *sample, uint32_t scanout, uint64_t seq, uint32_t w, uint32_t h)
{
    GstBuffer *buf = gst_sample_get_buffer(sample);
    g_autofree uint8_t *ref = g_malloc((size_t)w * h * 4);
    struct ssb_rect whole = { 0, 0, w, h };
    GstMapInfo map;
    double psnr;

    ssb_pattern_fill(ref, w * 4, &whole, scanout, (uint32_t)seq);
    g_assert_true(gst_buffer_map(buf, &map, GST_MAP_READ));
    g_assert_cmpuint(map.size, >=, (gsize)w * h * 4);
    psnr = ssb_pattern_psnr(map.data, w * 4, ref, w * 4, w, h);
    gst_buffer_unmap(buf, &map);
    return psnr;
}

/* ---- tests ---- */

/* Frames decode to the submitted pictures; the first is a keyframe. */
static void
check_codec(uint32_t client_codecs, uint32_t want_codec, const char *want_encoder)
{
    const char *args[] = { "--pattern=smooth", "--size=320x240", NULL };
    struct ssb_test_vmm vmm = { 0 };
    struct client c;
    struct decoder d;
    g_autofree char *json = NULL, *codec = NULL, *encoder = NULL, *stats = NULL;
    double min_psnr = 1000;

    vmm_start(&vmm, args);
    client_connect(&c, &vmm);
    client_hello(&c, client_codecs, 1);
    decoder_init(&d, want_codec);
    for (int i = 0; i < 8; i++) {
        uint64_t seq = vmm_submit(&vmm, 0);
        struct vframe f;
        GstSample *pic;
        double psnr;

        next_video(&c, &f);
        g_assert_cmpuint(f.hdr.codec, ==, want_codec);
        g_assert_cmpuint(f.hdr.seq, ==, seq);
        g_assert_cmpuint(f.hdr.width, ==, 320);
        g_assert_cmpuint(f.hdr.height, ==, 240);
        g_assert_cmpint(!!(f.hdr.flags & SSB_VIDEO_KEYFRAME), ==, i == 0);
        pic = decode(&d, &f);
        psnr = picture_psnr(pic, 0, seq, 320, 240);
        min_psnr = MIN(min_psnr, psnr);
        gst_sample_unref(pic);
        send_feedback(&c, &f, 0);
        vframe_clear(&f);
    }
    if (g_test_verbose())
        g_printerr("%s: lowest PSNR %.1f dB\n", ssb_proto_codec_name(want_codec), min_psnr);
    g_assert_cmpfloat(min_psnr, >=, 35.0);
    json = ssb_test_vmm_cmd(&vmm, "video 0");
    codec = json_field(json, "codec");
    encoder = json_field(json, "encoder");
    g_assert_cmpstr(codec, ==, ssb_proto_codec_name(want_codec));
    g_assert_cmpstr(encoder, ==, want_encoder);
    g_assert_cmpuint(json_u64(json, "frames_encoded"), ==, 8);
    g_assert_cmpuint(json_u64(json, "keyframes"), ==, 1);
    g_assert_cmpuint(json_u64(json, "clients"), ==, 1);
    stats = ssb_test_vmm_cmd(&vmm, "stats");
    g_assert_cmpuint(json_u64(stats, "video_frames_encoded"), ==, 8);
    g_assert_cmpuint(json_u64(stats, "frames_sent"), ==, 8);
    g_assert_cmpuint(json_u64(stats, "protocol_errors"), ==, 0);
    g_assert_cmpuint(json_u64(stats, "video_bitrate_kbps"), >, 0);
    decoder_finish(&d);
    client_disconnect(&c);
    ssb_test_vmm_stop(&vmm, false);
}

static void
test_h264(void)
{
    check_codec(SSB_CODEC_BIT(SSB_CODEC_H264) | SSB_CODEC_BIT(SSB_CODEC_VP8), SSB_CODEC_H264,
                "x264enc");
}

/* Spec 5.1: the intersection decides; a VP8-only client gets VP8. */
static void
test_vp8(void)
{
    check_codec(SSB_CODEC_BIT(SSB_CODEC_VP8), SSB_CODEC_VP8, "vp8enc");
}

/* Keyframes: on request (from the current picture, no submit needed), on
 * resize, and for a client that joins later (spec 5.2). */
static void
test_keyframes(void)
{
    const char *args[] = { "--pattern=smooth", "--size=320x240", NULL };
    struct ssb_test_vmm vmm = { 0 };
    struct client c;
    struct vframe f;
    struct ssb_msg req = { .type = SSB_MSG_KEYFRAME_REQUEST };
    uint64_t seq = 0;
    g_autofree struct rx *resize = NULL;
    g_autofree char *reply = NULL;

    vmm_start(&vmm, args);
    client_connect(&c, &vmm);
    client_hello(&c, SSB_CODEC_BIT(SSB_CODEC_H264), 1);
    for (int i = 0; i < 3; i++) {
        seq = vmm_submit(&vmm, 0);
        next_video(&c, &f);
        g_assert_cmpint(!!(f.hdr.flags & SSB_VIDEO_KEYFRAME), ==, i == 0);
        vframe_clear(&f);
    }
    req.u.keyframe_request.scanout_id = 0;
    req.u.keyframe_request.reason = SSB_KEYFRAME_REASON_DECODE_ERROR;
    ssb_test_port_send(&c.base, &req);
    next_video(&c, &f);
    g_assert_cmpuint(f.hdr.flags & SSB_VIDEO_KEYFRAME, !=, 0);
    g_assert_cmpuint(f.hdr.seq, ==, seq);
    vframe_clear(&f);
    /* A request for a scanout that is not there crossed a destroy. */
    req.u.keyframe_request.scanout_id = 7;
    ssb_test_port_send(&c.base, &req);

    reply = ssb_test_vmm_cmd(&vmm, "resize 0 640 480");
    g_assert_cmpstr(reply, ==, "ok");
    resize = ssb_test_port_next(&c.base, SSB_MSG_SCANOUT_RESIZE);
    g_assert_cmpuint(resize->msg.u.scanout.width, ==, 640);
    seq = vmm_submit(&vmm, 0);
    next_video(&c, &f);
    g_assert_cmpuint(f.hdr.flags & SSB_VIDEO_KEYFRAME, !=, 0);
    g_assert_cmpuint(f.hdr.width, ==, 640);
    g_assert_cmpuint(f.hdr.height, ==, 480);
    g_assert_cmpuint(f.hdr.seq, ==, seq);
    vframe_clear(&f);
    seq = vmm_submit(&vmm, 0);
    next_video(&c, &f);
    g_assert_cmpuint(f.hdr.flags & SSB_VIDEO_KEYFRAME, ==, 0);
    vframe_clear(&f);
    client_disconnect(&c);

    /* A new session joins a scanout that does not change: it still gets
     * the current picture, as a keyframe. */
    client_connect(&c, &vmm);
    client_hello(&c, SSB_CODEC_BIT(SSB_CODEC_H264), 1);
    next_video(&c, &f);
    g_assert_cmpuint(f.hdr.flags & SSB_VIDEO_KEYFRAME, !=, 0);
    g_assert_cmpuint(f.hdr.seq, ==, seq);
    vframe_clear(&f);
    seq = vmm_submit(&vmm, 0);
    next_video(&c, &f);
    g_assert_cmpuint(f.hdr.flags & SSB_VIDEO_KEYFRAME, ==, 0);
    vframe_clear(&f);
    g_free(reply);
    reply = ssb_test_vmm_cmd(&vmm, "stats");
    g_assert_cmpuint(json_u64(reply, "protocol_errors"), ==, 0);
    client_disconnect(&c);
    ssb_test_vmm_stop(&vmm, false);
}

static gboolean
stop_loop(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

/* No damage, no frame: an idle scanout sends no video bytes (spec 5.2). */
static void
test_idle(void)
{
    const char *args[] = { "--pattern=smooth", "--size=320x240", NULL };
    struct ssb_test_vmm vmm = { 0 };
    struct client c;
    struct vframe f;
    bool done = false;
    uint64_t bytes;
    g_autofree char *before = NULL, *after = NULL;

    vmm_start(&vmm, args);
    client_connect(&c, &vmm);
    client_hello(&c, SSB_CODEC_BIT(SSB_CODEC_H264), 1);
    for (int i = 0; i < 3; i++) {
        vmm_submit(&vmm, 0);
        next_video(&c, &f);
        vframe_clear(&f);
    }
    before = ssb_test_vmm_cmd(&vmm, "stats");
    bytes = c.video_bytes;
    g_timeout_add(5000, stop_loop, &done);
    while (!done)
        g_main_context_iteration(NULL, TRUE);
    g_assert_cmpuint(c.video_bytes, ==, bytes);
    for (GList *l = c.base.port_msgs.head; l; l = l->next)
        g_assert_cmpint(((struct rx *)l->data)->msg.type, ==, SSB_MSG_KEEPALIVE);
    after = ssb_test_vmm_cmd(&vmm, "stats");
    g_assert_cmpuint(json_u64(after, "video_frames_encoded"), ==,
                     json_u64(before, "video_frames_encoded"));
    client_disconnect(&c);
    ssb_test_vmm_stop(&vmm, false);
}

/* A frame larger than one message: chunks in order, consecutive, and the
 * reassembled stream decodes (noisy content compresses badly). */
static void
test_chunks(void)
{
    const char *args[] = { "--size=640x480", "--max-kbps=200000", NULL };
    struct ssb_test_vmm vmm = { 0 };
    struct client c;
    struct decoder d;
    struct vframe f;
    uint32_t max_chunks = 0;

    vmm_start(&vmm, args);
    client_connect(&c, &vmm);
    client_hello(&c, SSB_CODEC_BIT(SSB_CODEC_H264), 1);
    decoder_init(&d, SSB_CODEC_H264);
    for (int i = 0; i < 3; i++) {
        GstSample *pic;

        vmm_submit(&vmm, 0);
        next_video(&c, &f);
        max_chunks = MAX(max_chunks, f.chunks);
        pic = decode(&d, &f);
        gst_sample_unref(pic);
        vframe_clear(&f);
    }
    g_assert_cmpuint(max_chunks, >, 1);
    decoder_finish(&d);
    client_disconnect(&c);
    ssb_test_vmm_stop(&vmm, false);
}

/* Spec 4.2 step 4: no local path and no codec in common: UNSUPPORTED.
 * The server advertises only what it may encode (--codecs). */
static void
test_no_common_codec(void)
{
    const char *args[] = { "--codecs=h264", NULL };
    struct ssb_test_vmm vmm = { 0 };
    struct client c;
    g_autofree struct rx *err = NULL;
    g_autofree char *stats = NULL;
    uint32_t codecs;

    vmm_start(&vmm, args);
    client_connect(&c, &vmm);
    codecs = client_hello(&c, SSB_CODEC_BIT(SSB_CODEC_VP8), 1);
    g_assert_cmpuint(codecs, ==, SSB_CODEC_BIT(SSB_CODEC_H264));
    err = ssb_test_port_next(&c.base, SSB_MSG_ERROR);
    g_assert_cmpuint(err->msg.u.error.code, ==, SSB_ERROR_UNSUPPORTED);
    stats = ssb_test_vmm_cmd(&vmm, "stats");
    g_assert_cmpuint(json_u64(stats, "clients"), ==, 0);
    client_disconnect(&c);
    ssb_test_vmm_stop(&vmm, false);
}

/* Feedback that says the client is behind lowers the bitrate (spec 5.3). */
static void
test_rate_control(void)
{
    const char *args[] = { "--pattern=smooth", "--size=320x240", "--max-kbps=4000", NULL };
    struct ssb_test_vmm vmm = { 0 };
    struct client c;
    struct vframe f;
    g_autofree char *json = NULL;

    vmm_start(&vmm, args);
    client_connect(&c, &vmm);
    client_hello(&c, SSB_CODEC_BIT(SSB_CODEC_H264), 1);
    for (int i = 0; i < 12; i++) {
        vmm_submit(&vmm, 0);
        next_video(&c, &f);
        send_feedback(&c, &f, 4);
        vframe_clear(&f);
        g_usleep(60000); /* one decrease per RTT, at most every 50 ms */
    }
    json = ssb_test_vmm_cmd(&vmm, "video 0");
    g_assert_cmpuint(json_u64(json, "bitrate_kbps"), <, 4000 * 0.85 * 0.85);
    client_disconnect(&c);
    ssb_test_vmm_stop(&vmm, false);
}

/* SSB_BENCH=1: 1080p60 smooth content over TCP loopback (FACTS.md). */
static void
test_bench(void)
{
    const char *codec_name = g_getenv("SSB_BENCH_CODEC") ? g_getenv("SSB_BENCH_CODEC") : "h264";
    g_autofree char *codecs_arg = g_strdup_printf("--codecs=%s", codec_name);
    const char *args[] = { "--pattern=smooth", "--size=1920x1080", "--fps=60", codecs_arg,
                           NULL };
    struct ssb_test_vmm vmm = { .tcp_port = 5930 + g_random_int_range(0, 60) };
    struct client c;
    struct vframe f;
    uint64_t bytes = 0, frames = 0, t0, t1;
    g_autofree char *json = NULL;

    if (!g_getenv("SSB_BENCH")) {
        g_test_skip("set SSB_BENCH=1 to measure");
        return;
    }
    vmm_start(&vmm, args);
    client_connect(&c, &vmm);
    client_hello(&c, SSB_CODEC_BIT(ssb_proto_codec_from_name(codec_name)), 1);
    next_video(&c, &f);
    vframe_clear(&f);
    t0 = (uint64_t)g_get_monotonic_time();
    for (t1 = t0; t1 - t0 < 10 * G_USEC_PER_SEC; t1 = (uint64_t)g_get_monotonic_time()) {
        next_video(&c, &f);
        bytes += f.data->len;
        frames++;
        send_feedback(&c, &f, 0);
        vframe_clear(&f);
    }
    /* Timed submits print their own reply lines: skip to the JSON. */
    json = ssb_test_vmm_cmd(&vmm, "video 0");
    while (json[0] != '{') {
        g_free(json);
        json = ssb_test_vmm_line(&vmm);
    }
    g_printerr("bench %s 1920x1080@60 over TCP: %" G_GUINT64_FORMAT " frames in %.1f s "
               "(%.1f fps), %.0f kbit/s; server: %s\n",
               codec_name, frames, (t1 - t0) / 1e6, frames * 1e6 / (t1 - t0),
               bytes * 8.0 / ((t1 - t0) / 1e3), json);
    client_disconnect(&c);
    ssb_test_vmm_stop(&vmm, false);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gst_init(NULL, NULL);
    g_test_add_func("/server/video/h264", test_h264);
    g_test_add_func("/server/video/vp8", test_vp8);
    g_test_add_func("/server/video/keyframes", test_keyframes);
    g_test_add_func("/server/video/idle", test_idle);
    g_test_add_func("/server/video/chunks", test_chunks);
    g_test_add_func("/server/video/no-common-codec", test_no_common_codec);
    g_test_add_func("/server/video/rate-control", test_rate_control);
    g_test_add_func("/server/video/bench", test_bench);
    return g_test_run();
}
