/* The demo's frame composition: pattern + input overlay, with damage that
 * covers every changed pixel (what the QXL draws and the sideband get).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "pattern.h"
#include "scanout.h"

#define W 480
#define H 360

static bool
in_rects(const struct ssb_rect *r, uint32_t n, uint32_t x, uint32_t y)
{
    for (uint32_t i = 0; i < n; i++)
        if (x >= r[i].x && x < r[i].x + r[i].width && y >= r[i].y && y < r[i].y + r[i].height)
            return true;
    return false;
}

static void
test_damage_covers_changes(void)
{
    struct demo_scanout *s = demo_scanout_new(1, W, H, 5);
    struct demo_overlay *overlay = demo_scanout_overlay(s);
    struct ssb_rect damage[DEMO_SCANOUT_MAX_DAMAGE];
    uint32_t stride;
    uint8_t *prev = g_malloc(W * H * 4);

    g_assert_nonnull(s);
    demo_scanout_render(s, 0, 1, damage);
    memcpy(prev, demo_scanout_pixels(s, &stride), W * H * 4);

    for (uint32_t f = 1; f < 120; f++) {
        /* pointer wanders, including over the header block and off the
         * edges; keys arrive now and then; the pointer leaves at times */
        if (f % 7 == 0)
            demo_overlay_add_key(overlay, f % 3 ? 0x1e : 0xe048);
        demo_overlay_set_pointer(overlay, f % 23 != 0, (int32_t)(f * 13 % (W + 20)) - 10,
                                 (int32_t)(f * 7 % (H + 20)) - 10);
        uint32_t n = demo_scanout_render(s, f, f * 1000, damage);
        const uint8_t *cur = demo_scanout_pixels(s, &stride);

        g_assert_cmpuint(n, <=, DEMO_SCANOUT_MAX_DAMAGE);
        for (uint32_t i = 0; i < n; i++) {
            g_assert_cmpuint(damage[i].width, >, 0);
            g_assert_cmpuint(damage[i].height, >, 0);
            g_assert_cmpuint(damage[i].x + damage[i].width, <=, W);
            g_assert_cmpuint(damage[i].y + damage[i].height, <=, H);
        }
        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++)
                if (memcmp(prev + y * stride + x * 4, cur + y * stride + x * 4, 4))
                    g_assert_true(in_rects(damage, n, x, y));

        /* the overlay never covers the stamp or the reference bars */
        uint32_t seq;
        g_assert_true(ssb_pattern_read_stamp(cur, stride, W, H, &seq, NULL));
        g_assert_cmpuint(seq, ==, f);
        g_assert_true(isinf(ssb_pattern_reference_psnr(cur, stride, SSB_PATTERN_REF_X,
                                                       SSB_PATTERN_REF_Y)));
        memcpy(prev, cur, W * H * 4);
    }
    g_free(prev);
    demo_scanout_free(s);
}

static uint32_t
pixel_at(struct demo_scanout *s, uint32_t x, uint32_t y)
{
    uint32_t stride, v;

    memcpy(&v, demo_scanout_pixels(s, &stride) + (size_t)y * stride + (size_t)x * 4, 4);
    return v & 0xffffffu;
}

/* --tag-sideband: the tag is drawn top right, and composing it away gives
 * back exactly the frame the display channel gets. */
static void
test_tag_comes_and_goes(void)
{
    struct demo_scanout *s = demo_scanout_new(0, W, H, 10);
    struct ssb_rect damage[DEMO_SCANOUT_MAX_DAMAGE];
    uint32_t stride;
    uint8_t *plain = g_malloc(W * H * 4);

    demo_scanout_render(s, 7, 1, damage);
    memcpy(plain, demo_scanout_pixels(s, &stride), W * H * 4);
    demo_scanout_set_tag(s, true);
    g_assert_cmphex(pixel_at(s, W - 32, 16), ==, 0xffffff);
    g_assert_cmphex(pixel_at(s, W - 16, 16), ==, 0x000000);
    g_assert_cmphex(pixel_at(s, W - 40, 8), ==, 0xffffff);
    g_assert_cmphex(pixel_at(s, W - 9, 23), ==, 0x000000);
    g_assert_cmpmem(demo_scanout_pixels(s, &stride), 8 * stride, plain, 8 * stride);
    demo_scanout_set_tag(s, false);
    g_assert_cmpmem(demo_scanout_pixels(s, &stride), W * H * 4, plain, W * H * 4);
    g_free(plain);
    demo_scanout_free(s);
}

static void
test_crosshair_visible(void)
{
    struct demo_scanout *s = demo_scanout_new(0, W, H, 1);
    struct ssb_rect damage[DEMO_SCANOUT_MAX_DAMAGE];
    uint32_t stride, px;

    demo_scanout_render(s, 0, 1, damage);
    demo_overlay_set_pointer(demo_scanout_overlay(s), true, 300, 250);
    demo_scanout_render(s, 1, 2, damage);
    const uint8_t *cur = demo_scanout_pixels(s, &stride);
    memcpy(&px, cur + 100 * stride + 299 * 4, 4);
    g_assert_cmphex(px & 0xffffff, ==, 0xffffff);
    memcpy(&px, cur + 100 * stride + 300 * 4, 4);
    g_assert_cmphex(px & 0xffffff, ==, 0);
    memcpy(&px, cur + 249 * stride + 20 * 4, 4);
    g_assert_cmphex(px & 0xffffff, ==, 0xffffff);
    demo_scanout_free(s);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/demo/scanout/damage", test_damage_covers_changes);
    g_test_add_func("/demo/scanout/crosshair", test_crosshair_visible);
    g_test_add_func("/demo/scanout/tag", test_tag_comes_and_goes);
    return g_test_run();
}
