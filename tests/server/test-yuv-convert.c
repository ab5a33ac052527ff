/* Damage-only RGB -> I420 (server/yuv-convert.c): a frame built from
 * damaged rects matches a whole-frame GstVideoConverter (what videoconvert
 * does) within rounding, and nothing outside the damage is written.
 * SSB_BENCH=1 also times 5/25/100 % damage at 1920x1080 against the old
 * whole-frame conversion (videoconvert n-threads=2).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "encoder.h"

/* A picture with smooth gradients, hard edges and noise. */
static uint8_t *
make_picture(uint32_t w, uint32_t h, uint32_t seed)
{
    uint8_t *p = g_malloc((size_t)w * h * 4);
    GRand *rand = g_rand_new_with_seed(seed);

    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *px = p + ((size_t)y * w + x) * 4;
            bool block = ((x / 16) + (y / 16)) % 2;

            px[0] = (uint8_t)(x * 255 / w);
            px[1] = block ? (uint8_t)(y * 255 / h) : 200;
            px[2] = (uint8_t)((x + y + seed * 40) & 0xff);
            px[3] = (uint8_t)g_rand_int_range(rand, 0, 256);
        }
    }
    g_rand_free(rand);
    return p;
}

/* The reference: a whole-frame GstVideoConverter, one thread. */
static uint8_t *
reference(uint32_t w, uint32_t h, const uint8_t *bgrx, const GstVideoInfo *out_info)
{
    GstVideoInfo in_info;
    GstVideoFrame in = { 0 }, out = { 0 };
    GstVideoConverter *conv;
    uint8_t *dst = g_malloc0(out_info->size);

    gst_video_info_set_format(&in_info, GST_VIDEO_FORMAT_BGRx, w, h);
    conv = gst_video_converter_new(&in_info, (GstVideoInfo *)out_info, NULL);
    in.info = in_info;
    in.data[0] = (gpointer)bgrx;
    out.info = *out_info;
    for (guint i = 0; i < 3; i++)
        out.data[i] = dst + out_info->offset[i];
    gst_video_converter_frame(conv, &in, &out);
    gst_video_converter_free(conv);
    return dst;
}

/* The area written: rects rounded out to even edges, and with H-cosited
 * chroma one more sample to the right (it reads the last column). */
static bool
inside(const GstVideoInfo *info, const struct ssb_rect *rects, uint32_t n, uint32_t x,
       uint32_t y)
{
    bool cosited = (info->chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED) != 0;

    for (uint32_t i = 0; i < n; i++) {
        uint32_t x0 = rects[i].x & ~1u, y0 = rects[i].y & ~1u;
        uint32_t x1 = ((rects[i].x + rects[i].width + 1) & ~1u) + (cosited ? 2 : 0);
        uint32_t y1 = (rects[i].y + rects[i].height + 1) & ~1u;

        if (x >= x0 && x < x1 && y >= y0 && y < y1)
            return true;
    }
    return false;
}

/* Compares plane @p inside the damage with @ref, outside with @fill. */
static void
check_plane(const GstVideoInfo *info, guint p, const uint8_t *got, const uint8_t *ref,
            const struct ssb_rect *rects, uint32_t n, uint8_t fill, int max_diff,
            double max_mean)
{
    uint32_t pw = GST_VIDEO_INFO_COMP_WIDTH(info, p), ph = GST_VIDEO_INFO_COMP_HEIGHT(info, p);
    uint32_t scale = p ? 2 : 1;
    uint64_t sum = 0, count = 0;
    int worst = 0;

    for (uint32_t y = 0; y < ph; y++) {
        for (uint32_t x = 0; x < pw; x++) {
            size_t off = info->offset[p] + (size_t)y * info->stride[p] + x;

            if (inside(info, rects, n, x * scale, y * scale)) {
                int d = abs((int)got[off] - (int)ref[off]);

                worst = MAX(worst, d);
                sum += (uint64_t)d;
                count++;
            } else {
                g_assert_cmpuint(got[off], ==, fill);
            }
        }
    }
    g_test_message("%ux%u plane %u: max diff %d, mean %.3f", info->width, info->height, p,
                   worst, count ? (double)sum / (double)count : 0.0);
    g_assert_cmpint(worst, <=, max_diff);
    if (count)
        g_assert_cmpfloat((double)sum / (double)count, <=, max_mean);
}

static void
check_size(uint32_t w, uint32_t h, const struct ssb_rect *rects, uint32_t n)
{
    struct ssb_yuv *yuv = ssb_yuv_new(w, h, SSB_FORMAT_XRGB8888);
    const GstVideoInfo *info = ssb_yuv_info(yuv);
    g_autofree uint8_t *pic = make_picture(w, h, 3);
    g_autofree uint8_t *ref = reference(w, h, pic, info);
    g_autofree uint8_t *got = g_malloc(info->size);

    memset(got, 0x5a, info->size);
    ssb_yuv_convert(yuv, got, pic, w * 4, rects, n);
    /* Same matrix, range and chroma siting: rounding only. */
    check_plane(info, 0, got, ref, rects, n, 0x5a, 2, 1.0);
    check_plane(info, 1, got, ref, rects, n, 0x5a, 2, 1.0);
    check_plane(info, 2, got, ref, rects, n, 0x5a, 2, 1.0);
    ssb_yuv_free(yuv);
}

static void
test_damage_only(void)
{
    const struct ssb_rect rects[] = { { 3, 5, 17, 9 }, { 40, 0, 60, 1 }, { 100, 90, 20, 30 } };
    const struct ssb_rect edge[] = { { 120, 80, 7, 11 } };

    check_size(160, 120, rects, G_N_ELEMENTS(rects));
    check_size(127, 91, edge, 1); /* odd size: rects reach the last column/row */
    check_size(640, 360, rects, G_N_ELEMENTS(rects)); /* BT.601, centred chroma */
    check_size(1280, 720, rects, G_N_ELEMENTS(rects)); /* BT.709, H-cosited chroma */
    check_size(1281, 721, edge, 1);
}

static void
test_whole(void)
{
    /* Large damage takes the whole-frame converter: same as videoconvert. */
    const struct ssb_rect all[] = { { 0, 0, 1280, 720 } };

    check_size(1280, 720, all, 1);
}

static void
test_incremental(void)
{
    /* A persistent frame updated by damage equals a fresh conversion. */
    const uint32_t w = 320, h = 240;
    struct ssb_yuv *yuv = ssb_yuv_new(w, h, SSB_FORMAT_XRGB8888);
    const GstVideoInfo *info = ssb_yuv_info(yuv);
    g_autofree uint8_t *a = make_picture(w, h, 1), *b = make_picture(w, h, 2);
    g_autofree uint8_t *frame = g_malloc(info->size), *fresh = g_malloc(info->size);
    struct ssb_rect r = { 31, 17, 101, 77 };

    ssb_yuv_convert(yuv, frame, a, w * 4, NULL, 0);
    for (uint32_t y = r.y; y < r.y + r.height; y++)
        memcpy(a + ((size_t)y * w + r.x) * 4, b + ((size_t)y * w + r.x) * 4, r.width * 4);
    ssb_yuv_convert(yuv, frame, a, w * 4, &r, 1);
    ssb_yuv_convert(yuv, fresh, a, w * 4, NULL, 0);
    for (size_t i = 0; i < info->size; i++)
        g_assert_cmpint(abs((int)frame[i] - (int)fresh[i]), <=, 2);
    ssb_yuv_free(yuv);
}

static double
time_ms(struct ssb_yuv *yuv, uint8_t *dst, const uint8_t *src, uint32_t stride,
        const struct ssb_rect *rects, uint32_t n, bool old, GstVideoConverter *conv,
        const GstVideoInfo *in_info)
{
    const int rounds = 30;
    int64_t t0 = g_get_monotonic_time();

    for (int i = 0; i < rounds; i++) {
        if (old) {
            GstVideoFrame in = { 0 }, out = { 0 };

            in.info = *in_info;
            in.data[0] = (gpointer)src;
            out.info = *ssb_yuv_info(yuv);
            for (guint p = 0; p < 3; p++)
                out.data[p] = dst + out.info.offset[p];
            gst_video_converter_frame(conv, &in, &out);
        } else {
            ssb_yuv_convert(yuv, dst, src, stride, rects, n);
        }
    }
    return (double)(g_get_monotonic_time() - t0) / 1000.0 / rounds;
}

static void
test_bench(void)
{
    const uint32_t w = 1920, h = 1080;
    struct ssb_yuv *yuv;
    GstVideoInfo in_info;
    GstVideoConverter *conv;
    g_autofree uint8_t *pic = NULL, *dst = NULL;
    /* Typical desktop damage: a few windows' worth of rects. */
    const struct ssb_rect d5[] = { { 100, 100, 960, 72 }, { 900, 700, 480, 72 } };
    const struct ssb_rect d25[] = { { 0, 0, 1920, 270 } };
    const struct ssb_rect d100[] = { { 0, 0, 1920, 1080 } };
    const struct { const char *name; const struct ssb_rect *r; uint32_t n; } cases[] = {
        { "5%", d5, 2 }, { "25%", d25, 1 }, { "100%", d100, 1 } };

    if (!g_getenv("SSB_BENCH")) {
        g_test_skip("SSB_BENCH not set");
        return;
    }
    yuv = ssb_yuv_new(w, h, SSB_FORMAT_XRGB8888);
    pic = make_picture(w, h, 5);
    dst = g_malloc(ssb_yuv_info(yuv)->size);
    gst_video_info_set_format(&in_info, GST_VIDEO_FORMAT_BGRx, w, h);
    conv = gst_video_converter_new(&in_info, (GstVideoInfo *)ssb_yuv_info(yuv),
                                   gst_structure_new("options", GST_VIDEO_CONVERTER_OPT_THREADS,
                                                     G_TYPE_UINT, 2u, NULL));
    time_ms(yuv, dst, pic, w * 4, d100, 1, true, conv, &in_info); /* warm up */
    time_ms(yuv, dst, pic, w * 4, d100, 1, false, conv, &in_info);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        double old = time_ms(yuv, dst, pic, w * 4, NULL, 0, true, conv, &in_info);
        double new = time_ms(yuv, dst, pic, w * 4, cases[i].r, cases[i].n, false, conv,
                             &in_info);

        g_printerr("1920x1080 damage %4s: old (whole frame, 2 threads) %.2f ms, "
                   "new %.2f ms\n", cases[i].name, old, new);
    }
    gst_video_converter_free(conv);
    ssb_yuv_free(yuv);
}

int
main(int argc, char **argv)
{
    gst_init(NULL, NULL);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/yuv/damage-only", test_damage_only);
    g_test_add_func("/yuv/whole", test_whole);
    g_test_add_func("/yuv/incremental", test_incremental);
    g_test_add_func("/yuv/bench", test_bench);
    return g_test_run();
}
