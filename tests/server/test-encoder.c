/* The GStreamer side of the remote path: encoder choice and fallback
 * (server/encoder-select.c), forced keyframes and the thread-to-loop hand
 * off (server/encoder.c).  Small frames, a handful of encodes.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib.h>
#include <gst/gst.h>

#include "encoder.h"
#include "glib-spice-core.h"

#define W 320
#define H 240

struct sink {
    GPtrArray *outputs;        /* struct ssb_encoder_output copies (data ref'd) */
    uint32_t released, restarted;
    bool fatal;
};

static void
on_output(void *opaque, const struct ssb_encoder_output *out)
{
    struct sink *s = opaque;
    struct ssb_encoder_output *copy = g_memdup2(out, sizeof(*out));

    g_bytes_ref(copy->data);
    g_ptr_array_add(s->outputs, copy);
}

static void
on_released(void *opaque, uint64_t cookie)
{
    ((struct sink *)opaque)->released++;
}

static void
on_restarted(void *opaque, bool fatal)
{
    struct sink *s = opaque;

    s->restarted++;
    s->fatal = fatal;
}

static const struct ssb_encoder_callbacks cb = { on_output, on_released, on_restarted };

static void
output_free(gpointer p)
{
    struct ssb_encoder_output *out = p;

    g_bytes_unref(out->data);
    g_free(out);
}

static void
sink_init(struct sink *s)
{
    memset(s, 0, sizeof(*s));
    s->outputs = g_ptr_array_new_with_free_func(output_free);
}

static gboolean
timeout_cb(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

/* Runs the loop until @n outputs arrived (or 10 s). */
static void
wait_outputs(struct sink *s, guint n)
{
    bool expired = false;
    guint id = g_timeout_add(10000, timeout_cb, &expired);

    while (s->outputs->len < n && !expired)
        g_main_context_iteration(NULL, TRUE);
    g_assert_false(expired);
    g_source_remove(id);
}

static uint8_t *
make_frame(uint32_t step)
{
    uint8_t *pixels = g_malloc((size_t)W * H * 4);

    for (uint32_t y = 0; y < H; y++) {
        for (uint32_t x = 0; x < W; x++) {
            uint8_t *p = pixels + ((size_t)y * W + x) * 4;

            p[0] = (uint8_t)(x + step * 4);
            p[1] = (uint8_t)(y * 2);
            p[2] = (uint8_t)(x + y + step);
            p[3] = 0xff;
        }
    }
    return pixels;
}

static void
test_codecs(void)
{
    uint32_t codecs = ssb_encoder_available_codecs();

    /* This project's machines have x264 and libvpx (FACTS.md). */
    g_assert_cmpuint(codecs & SSB_CODEC_BIT(SSB_CODEC_H264), !=, 0);
    g_assert_cmpuint(codecs & SSB_CODEC_BIT(SSB_CODEC_VP8), !=, 0);
    g_assert_cmpuint(ssb_encoder_fragment_codec("x264enc"), ==, SSB_CODEC_H264);
    g_assert_cmpuint(ssb_encoder_fragment_codec("vp8enc deadline=1"), ==, SSB_CODEC_VP8);
    g_assert_cmpuint(ssb_encoder_fragment_codec("videoconvert ! x264enc ! h264parse"), ==,
                     SSB_CODEC_H264);
    g_assert_cmpuint(ssb_encoder_fragment_codec("videoconvert"), ==, SSB_CODEC_NONE);
}

/* A bogus override: one clear warning, then the automatic choice. */
static void
test_bogus_override(void)
{
    const struct ssb_encoder_candidate **list;

    g_test_expect_message("spice-sideband", G_LOG_LEVEL_WARNING,
                          "*encoder override \"no-such-encoder\"*");
    list = ssb_encoder_candidates(SSB_CODEC_H264, "no-such-encoder");
    g_test_assert_expected_messages();
    g_assert_nonnull(list[0]);
    g_assert_false(list[0]->hardware && !strcmp(list[0]->factory, "no-such-encoder"));
    g_assert_cmpstr(list[0]->factory, !=, "no-such-encoder");
    g_free(list);
    /* Once per process. */
    list = ssb_encoder_candidates(SSB_CODEC_H264, "no-such-encoder");
    g_free(list);
    /* A real one comes first for its own codec only. */
    list = ssb_encoder_candidates(SSB_CODEC_H264, "openh264enc complexity=low");
    g_assert_cmpstr(list[0]->factory, ==, "openh264enc complexity=low");
    g_free(list);
    list = ssb_encoder_candidates(SSB_CODEC_VP8, "openh264enc complexity=low");
    g_assert_cmpstr(list[0]->factory, ==, "vp8enc");
    g_free(list);
}

/* An override that fails to build: a warning line, the next candidate runs. */
static void
test_failing_override(void)
{
    struct sink s;
    struct ssb_encoder *enc;
    g_autofree uint8_t *frame = make_frame(0);

    sink_init(&s);
    g_test_expect_message("spice-sideband", G_LOG_LEVEL_WARNING,
                          "*video encoder \"x264enc no-such-property=1\" unavailable*");
    enc = ssb_encoder_new(ssb_glib_core_get(NULL), SSB_CODEC_H264, "x264enc no-such-property=1",
                          W, H, SSB_FORMAT_XRGB8888, 2000, &cb, &s);
    g_test_assert_expected_messages();
    g_assert_nonnull(enc);
    g_assert_cmpstr(ssb_encoder_name(enc), ==, "x264enc");
    g_assert_cmpint(ssb_encoder_push(enc, frame, W * 4, 1, false), ==, 0);
    wait_outputs(&s, 1);
    g_assert_true(((struct ssb_encoder_output *)s.outputs->pdata[0])->keyframe);
    ssb_encoder_free(enc);
    g_ptr_array_unref(s.outputs);
}

/* A mid-stream bus ERROR: next candidate, keyframe next, restarted(). */
static void
test_runtime_failure(void)
{
    struct sink s;
    struct ssb_encoder *enc;
    g_autofree uint8_t *frame = make_frame(0);

    sink_init(&s);
    /* Links at build time, fails to negotiate with the first buffer: the
     * error comes from a streaming thread, on the bus. */
    enc = ssb_encoder_new(ssb_glib_core_get(NULL), SSB_CODEC_H264,
                          "x264enc ! video/x-h264,width=16", W, H,
                          SSB_FORMAT_XRGB8888, 2000, &cb, &s);
    g_assert_nonnull(enc);
    g_test_expect_message("spice-sideband", G_LOG_LEVEL_WARNING,
                          "*video encoder \"x264enc\" failed*");
    g_assert_cmpint(ssb_encoder_push(enc, frame, W * 4, 1, false), ==, 0);
    for (gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
         !s.restarted && g_get_monotonic_time() < end;)
        g_main_context_iteration(NULL, FALSE);
    g_assert_cmpuint(s.restarted, ==, 1);
    g_test_assert_expected_messages();
    g_assert_false(s.fatal);
    g_assert_cmpint(ssb_encoder_push(enc, frame, W * 4, 2, true), ==, 0);
    wait_outputs(&s, 1);
    g_assert_true(((struct ssb_encoder_output *)s.outputs->pdata[0])->keyframe);
    g_assert_cmpuint(((struct ssb_encoder_output *)s.outputs->pdata[0])->cookie, ==, 2);
    ssb_encoder_free(enc);
    g_ptr_array_unref(s.outputs);
}

/* First frame key, then deltas, a forced key unit on demand. */
static void
check_keyframes(enum ssb_codec codec)
{
    struct sink s;
    struct ssb_encoder *enc;
    uint8_t *frames[6];

    sink_init(&s);
    enc = ssb_encoder_new(ssb_glib_core_get(NULL), codec, NULL, W, H, SSB_FORMAT_XRGB8888, 2000,
                          &cb, &s);
    g_assert_nonnull(enc);
    for (uint32_t i = 0; i < G_N_ELEMENTS(frames); i++) {
        frames[i] = make_frame(i);
        g_assert_cmpint(ssb_encoder_push(enc, frames[i], W * 4, i, i == 4), ==, 0);
        wait_outputs(&s, i + 1); /* one in flight, as the stream does */
    }
    for (uint32_t i = 0; i < G_N_ELEMENTS(frames); i++) {
        const struct ssb_encoder_output *out = s.outputs->pdata[i];

        g_assert_cmpuint(out->cookie, ==, i);
        g_assert_cmpuint(out->t_encoded_us, >=, out->t_pushed_us);
        g_assert_cmpuint(g_bytes_get_size(out->data), >, 0);
        if (g_test_verbose())
            g_printerr("%s frame %u: %s %zu bytes, %" G_GUINT64_FORMAT " us\n",
                       ssb_encoder_name(enc), i, out->keyframe ? "key" : "delta",
                       g_bytes_get_size(out->data), out->t_encoded_us - out->t_pushed_us);
        g_assert_cmpint(out->keyframe, ==, i == 0 || i == 4);
    }
    g_assert_cmpuint(s.released, ==, G_N_ELEMENTS(frames));
    ssb_encoder_free(enc);
    for (uint32_t i = 0; i < G_N_ELEMENTS(frames); i++)
        g_free(frames[i]);
    g_ptr_array_unref(s.outputs);
}

static void
test_keyframes_h264(void)
{
    check_keyframes(SSB_CODEC_H264);
}

static void
test_keyframes_vp8(void)
{
    check_keyframes(SSB_CODEC_VP8);
}

/* Annex B with SPS/PPS in the keyframe (spec 5.2). */
static void
test_h264_bitstream(void)
{
    struct sink s;
    struct ssb_encoder *enc;
    g_autofree uint8_t *frame = make_frame(0);
    const uint8_t *data;
    gsize size;
    bool sps = false, pps = false, idr = false;

    sink_init(&s);
    enc = ssb_encoder_new(ssb_glib_core_get(NULL), SSB_CODEC_H264, NULL, W, H,
                          SSB_FORMAT_XRGB8888, 2000, &cb, &s);
    g_assert_cmpint(ssb_encoder_push(enc, frame, W * 4, 0, true), ==, 0);
    wait_outputs(&s, 1);
    data = g_bytes_get_data(((struct ssb_encoder_output *)s.outputs->pdata[0])->data, &size);
    g_assert_cmpuint(size, >, 4);
    g_assert_true(data[0] == 0 && data[1] == 0 && (data[2] == 1 || (data[2] == 0 && data[3] == 1)));
    for (gsize i = 0; i + 3 < size; i++) {
        if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
            uint8_t type = data[i + 3] & 0x1f;

            sps |= type == 7;
            pps |= type == 8;
            idr |= type == 5;
        }
    }
    g_assert_true(sps && pps && idr);
    ssb_encoder_free(enc);
    g_ptr_array_unref(s.outputs);
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
pipeline_gone(gpointer data, GObject *where)
{
    (*(guint *)data)++;
}

/* Every encoder freed takes its pipeline with it: nothing of it stays
 * alive (each GstBus holds two sockets, so a leak shows as fds too). */
static void
test_no_leak(void)
{
    const guint rounds = 5;
    guint before = 0, finalized = 0;
    uint8_t *frame = make_frame(0);

    for (guint i = 0; i < rounds; i++) {
        struct sink s;
        struct ssb_encoder *enc;

        sink_init(&s);
        enc = ssb_encoder_new(ssb_glib_core_get(NULL), SSB_CODEC_H264, NULL, W, H,
                              SSB_FORMAT_XRGB8888, 2000, &cb, &s);
        if (!enc) {
            g_test_skip("no H.264 encoder");
            g_ptr_array_unref(s.outputs);
            g_free(frame);
            return;
        }
        g_object_weak_ref(G_OBJECT(ssb_encoder_pipeline(enc)), pipeline_gone, &finalized);
        g_assert_cmpint(ssb_encoder_push(enc, frame, W * 4, 1, true), ==, 0);
        wait_outputs(&s, 1);
        ssb_encoder_free(enc);
        g_ptr_array_unref(s.outputs);
        if (i == 0)
            before = count_fds();
    }
    g_assert_cmpuint(finalized, ==, rounds);
    g_assert_cmpuint(count_fds(), <=, before);
    g_free(frame);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_true(ssb_encoder_gst_init());
    g_test_add_func("/server/encoder/codecs", test_codecs);
    g_test_add_func("/server/encoder/bogus-override", test_bogus_override);
    g_test_add_func("/server/encoder/failing-override", test_failing_override);
    g_test_add_func("/server/encoder/runtime-failure", test_runtime_failure);
    g_test_add_func("/server/encoder/keyframes-h264", test_keyframes_h264);
    g_test_add_func("/server/encoder/keyframes-vp8", test_keyframes_vp8);
    g_test_add_func("/server/encoder/h264-bitstream", test_h264_bitstream);
    g_test_add_func("/server/encoder/no-leak", test_no_leak);
    return g_test_run();
}
