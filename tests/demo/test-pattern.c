/* Unit tests for common/pattern.c: stamp round trip (also through noise,
 * blur and at odd offsets), reference PSNR and the animator's damage.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "pattern.h"

#define W 800
#define H 600

static uint32_t *
noise_image(GRand *rand)
{
    uint32_t *img = g_new(uint32_t, W * H);

    for (size_t i = 0; i < W * H; i++)
        img[i] = 0xff000000u | (g_rand_int(rand) & 0xffffff);
    return img;
}

static void
test_stamp_roundtrip(void)
{
    GRand *rand = g_rand_new_with_seed(1);
    const uint32_t offsets[][2] = { { 0, 0 }, { 37, 91 }, { W - 256, H - 144 }, { 1, 300 } };

    for (size_t k = 0; k < G_N_ELEMENTS(offsets); k++) {
        uint32_t *img = noise_image(rand);
        struct ssb_pattern_stamp in = { .seq = 0xdeadbeef - (uint32_t)k,
                                        .t_us = 0x0123456789abcdefull + k,
                                        .scanout = (uint8_t)(k + 3) }, out;
        uint32_t x, y;

        ssb_pattern_draw_stamp((uint8_t *)img, W * 4, offsets[k][0], offsets[k][1], &in);
        g_assert_true(ssb_pattern_find_stamp((uint8_t *)img, W * 4, W, H, &out, &x, &y));
        g_assert_cmpuint(x, ==, offsets[k][0]);
        g_assert_cmpuint(y, ==, offsets[k][1]);
        g_assert_cmpuint(out.seq, ==, in.seq);
        g_assert_cmpuint(out.t_us, ==, in.t_us);
        g_assert_cmpuint(out.scanout, ==, in.scanout);

        uint32_t seq;
        uint64_t t_us;
        g_assert_true(ssb_pattern_read_stamp((uint8_t *)img, W * 4, W, H, &seq, &t_us));
        g_assert_cmpuint(seq, ==, in.seq);
        g_free(img);
    }
    g_rand_free(rand);
}

static void
test_stamp_absent(void)
{
    GRand *rand = g_rand_new_with_seed(2);
    uint32_t *img = noise_image(rand);
    struct ssb_pattern_stamp in = { .seq = 7, .t_us = 9 };

    g_assert_false(ssb_pattern_read_stamp((uint8_t *)img, W * 4, W, H, NULL, NULL));
    /* a corrupted data cell fails the checksum */
    ssb_pattern_draw_stamp((uint8_t *)img, W * 4, 10, 10, &in);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) {
            uint32_t *p = &img[(10 + 16 * 4 + y) * W + 10 + 16 * 5 + x];
            *p = *p == SSB_PATTERN_WHITE ? SSB_PATTERN_BLACK : SSB_PATTERN_WHITE;
        }
    g_assert_false(ssb_pattern_read_stamp((uint8_t *)img, W * 4, W, H, NULL, NULL));
    /* too small an image */
    g_assert_false(ssb_pattern_read_stamp((uint8_t *)img, W * 4, 255, 143, NULL, NULL));
    g_free(img);
    g_rand_free(rand);
}

/* Lossy video turns edges soft and flat areas noisy; the stamp survives. */
static void
test_stamp_lossy(void)
{
    GRand *rand = g_rand_new_with_seed(3);
    uint32_t *img = g_new(uint32_t, W * H), *blurred = g_new(uint32_t, W * H);
    struct ssb_pattern_stamp in = { .seq = 123456, .t_us = 987654321, .scanout = 1 }, out;
    uint32_t x, y;

    for (size_t i = 0; i < W * H; i++)
        img[i] = 0xff606060u;
    ssb_pattern_draw_stamp((uint8_t *)img, W * 4, 133, 77, &in);
    for (int py = 0; py < H; py++) {
        for (int px = 0; px < W; px++) {
            int sum[3] = { 0 }, n = 0;

            for (int dy = -2; dy <= 2; dy++)
                for (int dx = -2; dx <= 2; dx++) {
                    int sx = CLAMP(px + dx, 0, W - 1), sy = CLAMP(py + dy, 0, H - 1);
                    for (int c = 0; c < 3; c++)
                        sum[c] += (img[sy * W + sx] >> (8 * c)) & 0xff;
                    n++;
                }
            uint32_t v = 0xff000000u;
            for (int c = 0; c < 3; c++) {
                int noisy = sum[c] / n + g_rand_int_range(rand, -40, 41);

                noisy = CLAMP(noisy, 0, 255);   /* CLAMP evaluates twice */
                v |= (uint32_t)noisy << (8 * c);
            }
            blurred[py * W + px] = v;
        }
    }
    g_assert_true(ssb_pattern_find_stamp((uint8_t *)blurred, W * 4, W, H, &out, &x, &y));
    g_assert_cmpuint(out.seq, ==, in.seq);
    g_assert_cmpuint(out.t_us, ==, in.t_us);
    g_assert_cmpuint(x, ==, 133);
    g_assert_cmpuint(y, ==, 77);
    g_free(img);
    g_free(blurred);
    g_rand_free(rand);
}

static void
test_reference_psnr(void)
{
    uint32_t *img = g_new0(uint32_t, W * H);

    ssb_pattern_reference((uint8_t *)img, W * 4, 40, 50);
    g_assert_true(isinf(ssb_pattern_reference_psnr((uint8_t *)img, W * 4, 40, 50)));
    g_assert_cmpuint(img[50 * W + 40] & 0xffffff, ==, 0xffffff);
    g_assert_cmpuint(img[50 * W + 40 + 5 * 32] & 0xffffff, ==, 0xff0000);
    for (int y = 50; y < 50 + 32; y++)
        for (int x = 40; x < 40 + 256; x++)
            img[y * W + x] ^= (x + y) & 1;   /* off by one in blue */
    double psnr = ssb_pattern_reference_psnr((uint8_t *)img, W * 4, 40, 50);
    g_assert_cmpfloat(psnr, >, 50.0);
    g_assert_false(isinf(psnr));
    /* shifted by a pixel: much worse */
    g_assert_cmpfloat(ssb_pattern_reference_psnr((uint8_t *)img, W * 4, 41, 50), <, 25.0);
    g_free(img);
}

static bool
in_rects(const struct ssb_rect *r, uint32_t n, uint32_t x, uint32_t y)
{
    for (uint32_t i = 0; i < n; i++)
        if (x >= r[i].x && x < r[i].x + r[i].width && y >= r[i].y && y < r[i].y + r[i].height)
            return true;
    return false;
}

/* Every changed pixel lies in the damage, and the damage really changes. */
static void
check_animator(uint32_t width, uint32_t height, uint32_t pct)
{
    struct ssb_pattern *p = ssb_pattern_new(2, width, height, pct);
    uint32_t stride;
    struct ssb_rect damage[3];
    struct ssb_pattern_stamp stamp = { .seq = 0, .t_us = 1000 };

    g_assert_nonnull(p);
    g_assert_cmpuint(ssb_pattern_next(p, &stamp, damage, 3), ==, 1);
    g_assert_cmpuint(damage[0].width, ==, width);
    g_assert_cmpuint(damage[0].height, ==, height);

    size_t size = (size_t)width * height * 4;
    uint8_t *prev = g_memdup2(ssb_pattern_pixels(p, &stride), size);
    g_assert_cmpuint(stride, ==, width * 4);
    g_assert_true(isinf(ssb_pattern_reference_psnr(prev, stride, SSB_PATTERN_REF_X,
                                                   SSB_PATTERN_REF_Y)));

    for (uint32_t f = 1; f < 200; f++) {
        stamp.seq = f;
        stamp.t_us += 33333;
        uint32_t n = ssb_pattern_next(p, &stamp, damage, 3);
        const uint8_t *cur = ssb_pattern_pixels(p, NULL);
        uint64_t damaged = 0, changed_in = 0;

        g_assert_cmpuint(n, >=, 2);
        for (uint32_t y = 0; y < height; y++) {
            for (uint32_t x = 0; x < width; x++) {
                bool changed = memcmp(prev + (size_t)y * stride + x * 4,
                                      cur + (size_t)y * stride + x * 4, 4) != 0;
                bool inside = in_rects(damage, n, x, y);

                if (changed)
                    g_assert_true(inside);
                damaged += inside;
                changed_in += inside && changed;
            }
        }
        /* The band's rows: the requested share of the height. */
        uint64_t band = 0;
        for (uint32_t i = 1; i < n; i++)
            band += (uint64_t)damage[i].width * damage[i].height;
        g_assert_cmpuint(band, <=, (uint64_t)width * ((height * pct + 99) / 100));
        /* Damage is not padding: most of it really changed (the stamp
         * changes only in a few cells per frame, hence the margin). */
        g_assert_cmpuint(changed_in * 100, >=, (damaged - 256 * 144) * 90);
        uint32_t seq;
        g_assert_true(ssb_pattern_read_stamp(cur, stride, width, height, &seq, NULL));
        g_assert_cmpuint(seq, ==, f);
        g_assert_true(isinf(ssb_pattern_reference_psnr(cur, stride, SSB_PATTERN_REF_X,
                                                       SSB_PATTERN_REF_Y)));
        memcpy(prev, cur, size);
    }
    g_free(prev);
    ssb_pattern_free(p);
}

static void
test_animator_damage(void)
{
    check_animator(640, 480, 10);
    check_animator(320, 240, 1);
    check_animator(400, 300, 100);
    check_animator(500, 400, 37);
}

static void
test_animator_limits(void)
{
    g_assert_null(ssb_pattern_new(0, 319, 480, 10));
    g_assert_null(ssb_pattern_new(0, 640, 239, 10));
    g_assert_null(ssb_pattern_new(0, 640, 480, 0));
    g_assert_null(ssb_pattern_new(0, 640, 480, 101));
    g_assert_null(ssb_pattern_new(0, SSB_PATTERN_MAX_DIMENSION + 1, 480, 10));
    ssb_pattern_free(NULL);
}

/* Scanouts look different from each other. */
static void
test_fill_per_scanout(void)
{
    uint32_t a[64 * 64], b[64 * 64];
    struct ssb_rect r = { 0, 0, 64, 64 };

    ssb_pattern_fill((uint8_t *)a, 64 * 4, &r, 0, 5);
    ssb_pattern_fill((uint8_t *)b, 64 * 4, &r, 1, 5);
    g_assert_cmpfloat(ssb_pattern_psnr((uint8_t *)a, 256, (uint8_t *)b, 256, 64, 64), <, 20.0);
    ssb_pattern_fill((uint8_t *)b, 64 * 4, &r, 0, 5);
    g_assert_cmpmem(a, sizeof(a), b, sizeof(b));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pattern/stamp/roundtrip", test_stamp_roundtrip);
    g_test_add_func("/pattern/stamp/absent", test_stamp_absent);
    g_test_add_func("/pattern/stamp/lossy", test_stamp_lossy);
    g_test_add_func("/pattern/reference/psnr", test_reference_psnr);
    g_test_add_func("/pattern/animator/damage", test_animator_damage);
    g_test_add_func("/pattern/animator/limits", test_animator_limits);
    g_test_add_func("/pattern/fill/per-scanout", test_fill_per_scanout);
    return g_test_run();
}
