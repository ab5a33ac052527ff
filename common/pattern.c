/* Deterministic test content: see pattern.h for the layout.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "pattern.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STAMP_MARKER 0xa71du        /* row 0, MSB at column 0 */
#define STAMP_DATA_BYTES 13u        /* seq, t_us, scanout */
#define STAMP_BITS ((SSB_PATTERN_STAMP_ROWS - 1) * (SSB_PATTERN_STAMP_COLS - 1)) /* 120 */
#define BAND_STEP 8u                /* rows the band moves per frame */

_Static_assert(STAMP_DATA_BYTES * 8 + 16 == STAMP_BITS, "stamp payload must fill the grid");

static inline uint32_t *
pixel_at(uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y)
{
    return (uint32_t *)(pixels + (size_t)y * stride + (size_t)x * 4);
}

static inline uint32_t
pixel_get(const uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y)
{
    uint32_t v;

    memcpy(&v, pixels + (size_t)y * stride + (size_t)x * 4, sizeof(v));
    return v;
}

static inline uint32_t
luma(uint32_t xrgb)
{
    uint32_t r = (xrgb >> 16) & 0xff, g = (xrgb >> 8) & 0xff, b = xrgb & 0xff;

    return (r * 77 + g * 150 + b * 29) >> 8;
}

static void
fill_rect(uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
          uint32_t color)
{
    for (uint32_t j = 0; j < h; j++) {
        uint32_t *row = pixel_at(pixels, stride, x, y + j);

        for (uint32_t i = 0; i < w; i++)
            row[i] = color;
    }
}

/* ---- stamp --------------------------------------------------------------- */

static uint16_t
crc16_ccitt(const uint8_t *data, size_t len)
{
    uint16_t crc = 0xffff;

    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(data[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

static void
stamp_pack(const struct ssb_pattern_stamp *stamp, uint8_t bytes[STAMP_DATA_BYTES + 2])
{
    for (int i = 0; i < 4; i++)
        bytes[i] = (uint8_t)(stamp->seq >> (8 * i));
    for (int i = 0; i < 8; i++)
        bytes[4 + i] = (uint8_t)(stamp->t_us >> (8 * i));
    bytes[12] = stamp->scanout;
    uint16_t crc = crc16_ccitt(bytes, STAMP_DATA_BYTES);
    bytes[13] = (uint8_t)(crc >> 8);
    bytes[14] = (uint8_t)crc;
}

static bool
stamp_unpack(const uint8_t bytes[STAMP_DATA_BYTES + 2], struct ssb_pattern_stamp *stamp)
{
    uint16_t crc = (uint16_t)(bytes[13] << 8 | bytes[14]);

    if (crc16_ccitt(bytes, STAMP_DATA_BYTES) != crc)
        return false;
    stamp->seq = 0;
    stamp->t_us = 0;
    for (int i = 0; i < 4; i++)
        stamp->seq |= (uint32_t)bytes[i] << (8 * i);
    for (int i = 0; i < 8; i++)
        stamp->t_us |= (uint64_t)bytes[4 + i] << (8 * i);
    stamp->scanout = bytes[12];
    return true;
}

/* The fixed cells: marker row and timing column. */
static bool
fixed_cell(uint32_t col, uint32_t row, bool *bit)
{
    if (row == 0) {
        *bit = (STAMP_MARKER >> (15 - col)) & 1;
        return true;
    }
    if (col == 0) {
        *bit = (row + 1) & 1;
        return true;
    }
    return false;
}

static inline uint32_t
data_bit_index(uint32_t col, uint32_t row)
{
    return (row - 1) * (SSB_PATTERN_STAMP_COLS - 1) + (col - 1);
}

void
ssb_pattern_draw_stamp(uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y,
                       const struct ssb_pattern_stamp *stamp)
{
    uint8_t bytes[STAMP_DATA_BYTES + 2];

    stamp_pack(stamp, bytes);
    for (uint32_t row = 0; row < SSB_PATTERN_STAMP_ROWS; row++) {
        for (uint32_t col = 0; col < SSB_PATTERN_STAMP_COLS; col++) {
            bool bit;

            if (!fixed_cell(col, row, &bit)) {
                uint32_t k = data_bit_index(col, row);
                bit = (bytes[k / 8] >> (7 - k % 8)) & 1;
            }
            fill_rect(pixels, stride, x + col * SSB_PATTERN_CELL, y + row * SSB_PATTERN_CELL,
                      SSB_PATTERN_CELL, SSB_PATTERN_CELL,
                      bit ? SSB_PATTERN_WHITE : SSB_PATTERN_BLACK);
        }
    }
}

/* Mean luma of the @size x @size square centred in cell (col, row). */
static uint32_t
cell_mean(const uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y, uint32_t col,
          uint32_t row, uint32_t size)
{
    uint32_t x0 = x + col * SSB_PATTERN_CELL + (SSB_PATTERN_CELL - size) / 2;
    uint32_t y0 = y + row * SSB_PATTERN_CELL + (SSB_PATTERN_CELL - size) / 2;
    uint32_t sum = 0;

    for (uint32_t j = 0; j < size; j++)
        for (uint32_t i = 0; i < size; i++)
            sum += luma(pixel_get(pixels, stride, x0 + i, y0 + j));
    return sum / (size * size);
}

/* Cheap test: the centre pixel of every fixed cell has the right colour. */
static bool
fixed_cells_match_fast(const uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y)
{
    for (uint32_t col = 0; col < SSB_PATTERN_STAMP_COLS; col++) {
        bool bit = (STAMP_MARKER >> (15 - col)) & 1;
        uint32_t l = luma(pixel_get(pixels, stride, x + col * SSB_PATTERN_CELL + 8, y + 8));

        if ((l >= 128) != bit)
            return false;
    }
    for (uint32_t row = 1; row < SSB_PATTERN_STAMP_ROWS; row++) {
        uint32_t l = luma(pixel_get(pixels, stride, x + 8, y + row * SSB_PATTERN_CELL + 8));

        if ((l >= 128) != ((row + 1) & 1))
            return false;
    }
    return true;
}

/* How well the fixed cells, averaged over whole cells, match at (x, y):
 * highest at exact alignment, since a shifted grid mixes neighbours. */
static uint32_t
alignment_score(const uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y)
{
    uint32_t score = 0;

    for (uint32_t row = 0; row < SSB_PATTERN_STAMP_ROWS; row++) {
        for (uint32_t col = 0; col < SSB_PATTERN_STAMP_COLS; col++) {
            bool bit;

            if (!fixed_cell(col, row, &bit))
                continue;
            uint32_t m = cell_mean(pixels, stride, x, y, col, row, SSB_PATTERN_CELL);
            score += bit ? m : 255 - m;
        }
    }
    return score;
}

static bool
decode_at(const uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y,
          struct ssb_pattern_stamp *stamp)
{
    uint8_t bytes[STAMP_DATA_BYTES + 2] = { 0 };

    for (uint32_t row = 0; row < SSB_PATTERN_STAMP_ROWS; row++) {
        for (uint32_t col = 0; col < SSB_PATTERN_STAMP_COLS; col++) {
            bool want, bit = cell_mean(pixels, stride, x, y, col, row, 8) >= 128;

            if (fixed_cell(col, row, &want)) {
                if (bit != want)
                    return false;
                continue;
            }
            uint32_t k = data_bit_index(col, row);
            if (bit)
                bytes[k / 8] |= (uint8_t)(1u << (7 - k % 8));
        }
    }
    return stamp_unpack(bytes, stamp);
}

bool
ssb_pattern_find_stamp(const uint8_t *pixels, uint32_t stride, uint32_t width,
                       uint32_t height, struct ssb_pattern_stamp *stamp, uint32_t *x,
                       uint32_t *y)
{
    if (!pixels || width < SSB_PATTERN_STAMP_WIDTH || height < SSB_PATTERN_STAMP_HEIGHT)
        return false;

    uint32_t max_x = width - SSB_PATTERN_STAMP_WIDTH, max_y = height - SSB_PATTERN_STAMP_HEIGHT;

    for (uint32_t cy = 0; cy <= max_y; cy++) {
        for (uint32_t cx = 0; cx <= max_x; cx++) {
            if (!fixed_cells_match_fast(pixels, stride, cx, cy))
                continue;
            /* The first hit in scan order lies up to a cell's half above
             * and left of the true corner; refine on whole-cell means. */
            uint32_t best_x = cx, best_y = cy, best = 0;
            for (uint32_t oy = cy; oy <= cy + SSB_PATTERN_CELL && oy <= max_y; oy++) {
                for (uint32_t ox = cx; ox <= cx + SSB_PATTERN_CELL && ox <= max_x; ox++) {
                    uint32_t s = alignment_score(pixels, stride, ox, oy);
                    if (s > best) {
                        best = s;
                        best_x = ox;
                        best_y = oy;
                    }
                }
            }
            struct ssb_pattern_stamp found;
            if (decode_at(pixels, stride, best_x, best_y, &found)) {
                if (stamp)
                    *stamp = found;
                if (x)
                    *x = best_x;
                if (y)
                    *y = best_y;
                return true;
            }
        }
    }
    return false;
}

bool
ssb_pattern_read_stamp(const uint8_t *pixels, uint32_t stride, uint32_t width,
                       uint32_t height, uint32_t *seq, uint64_t *t_us)
{
    struct ssb_pattern_stamp stamp;

    if (!ssb_pattern_find_stamp(pixels, stride, width, height, &stamp, NULL, NULL))
        return false;
    if (seq)
        *seq = stamp.seq;
    if (t_us)
        *t_us = stamp.t_us;
    return true;
}

/* ---- reference bars ------------------------------------------------------ */

uint32_t
ssb_pattern_reference_color(uint32_t i)
{
    /* 100% colour bars: white, yellow, cyan, green, magenta, red, blue, black */
    static const uint32_t bars[SSB_PATTERN_REF_BARS] = {
        0xffffffff, 0xffffff00, 0xff00ffff, 0xff00ff00,
        0xffff00ff, 0xffff0000, 0xff0000ff, 0xff000000,
    };

    return bars[i % SSB_PATTERN_REF_BARS];
}

void
ssb_pattern_reference(uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y)
{
    const uint32_t bar_w = SSB_PATTERN_REF_WIDTH / SSB_PATTERN_REF_BARS;

    for (uint32_t i = 0; i < SSB_PATTERN_REF_BARS; i++)
        fill_rect(pixels, stride, x + i * bar_w, y, bar_w, SSB_PATTERN_REF_HEIGHT,
                  ssb_pattern_reference_color(i));
}

double
ssb_pattern_psnr(const uint8_t *a, uint32_t stride_a, const uint8_t *b, uint32_t stride_b,
                 uint32_t width, uint32_t height)
{
    uint64_t sse = 0;

    for (uint32_t y = 0; y < height; y++) {
        for (uint32_t x = 0; x < width; x++) {
            uint32_t pa = pixel_get(a, stride_a, x, y), pb = pixel_get(b, stride_b, x, y);

            for (int shift = 0; shift < 24; shift += 8) {
                int d = (int)((pa >> shift) & 0xff) - (int)((pb >> shift) & 0xff);
                sse += (uint64_t)(d * d);
            }
        }
    }
    if (sse == 0)
        return INFINITY;
    double mse = (double)sse / ((double)width * height * 3);
    return 10.0 * log10(255.0 * 255.0 / mse);
}

double
ssb_pattern_reference_psnr(const uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y)
{
    uint32_t ref[SSB_PATTERN_REF_WIDTH * SSB_PATTERN_REF_HEIGHT];
    const uint32_t ref_stride = SSB_PATTERN_REF_WIDTH * 4;

    ssb_pattern_reference((uint8_t *)ref, ref_stride, 0, 0);
    return ssb_pattern_psnr(pixels + (size_t)y * stride + (size_t)x * 4, stride,
                            (const uint8_t *)ref, ref_stride, SSB_PATTERN_REF_WIDTH,
                            SSB_PATTERN_REF_HEIGHT);
}

/* ---- animated content ---------------------------------------------------- */

/* h in degrees, s and v 0..255 -> 0xffRRGGBB */
static uint32_t
hsv_to_xrgb(uint32_t h, uint32_t s, uint32_t v)
{
    h %= 360;
    uint32_t region = h / 60, rem = (h % 60) * 255 / 60;
    uint32_t p = v * (255 - s) / 255;
    uint32_t q = v * (255 - s * rem / 255) / 255;
    uint32_t t = v * (255 - s * (255 - rem) / 255) / 255;
    uint32_t r, g, b;

    switch (region) {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
    }
    return 0xff000000u | r << 16 | g << 8 | b;
}

static inline uint32_t
triangle(uint32_t i)
{
    i &= 255;
    return i < 128 ? i * 2 : (255 - i) * 2;
}

/* A smooth cyclic palette around the scanout's hue (golden-angle spaced),
 * kept in the mid range of brightness so it never looks like stamp cells. */
static void
make_palette(uint32_t scanout, uint32_t palette[256])
{
    uint32_t hue = (scanout * 137u + 200u) % 360u;

    for (uint32_t i = 0; i < 256; i++)
        palette[i] = hsv_to_xrgb(hue + triangle(i) * 90 / 255, 200,
                                 90 + triangle(i + 64) * 140 / 255);
}

static void
fill_with_palette(uint8_t *pixels, uint32_t stride, const struct ssb_rect *rect,
                  const uint32_t palette[256], uint32_t frame)
{
    for (uint32_t y = rect->y; y < rect->y + rect->height; y++) {
        uint32_t *row = pixel_at(pixels, stride, 0, y);
        uint32_t base = (y >> 1) + frame * 3;

        for (uint32_t x = rect->x; x < rect->x + rect->width; x++)
            row[x] = palette[((x >> 2) + base) & 255];
    }
}

void
ssb_pattern_fill(uint8_t *pixels, uint32_t stride, const struct ssb_rect *rect,
                 uint32_t scanout, uint32_t frame)
{
    uint32_t palette[256];

    make_palette(scanout, palette);
    fill_with_palette(pixels, stride, rect, palette, frame);
}

/* ---- animator ------------------------------------------------------------ */

struct ssb_pattern {
    uint32_t scanout, width, height, stride;
    uint32_t band_rows;
    uint32_t frame;        /* animation step of the next frame */
    uint32_t palette[256];
    uint8_t *pixels;
};

struct ssb_pattern *
ssb_pattern_new(uint32_t scanout, uint32_t width, uint32_t height, uint32_t damage_pct)
{
    if (width < SSB_PATTERN_MIN_WIDTH || height < SSB_PATTERN_MIN_HEIGHT ||
        width > SSB_PATTERN_MAX_DIMENSION || height > SSB_PATTERN_MAX_DIMENSION ||
        damage_pct < 1 || damage_pct > 100)
        return NULL;

    struct ssb_pattern *pattern = calloc(1, sizeof(*pattern));
    if (!pattern)
        return NULL;
    pattern->scanout = scanout;
    pattern->width = width;
    pattern->height = height;
    pattern->stride = width * 4;
    pattern->band_rows = (height * damage_pct + 99) / 100;
    pattern->pixels = calloc((size_t)height, pattern->stride);
    if (!pattern->pixels) {
        free(pattern);
        return NULL;
    }
    make_palette(scanout, pattern->palette);
    return pattern;
}

void
ssb_pattern_free(struct ssb_pattern *pattern)
{
    if (!pattern)
        return;
    free(pattern->pixels);
    free(pattern);
}

const uint8_t *
ssb_pattern_pixels(const struct ssb_pattern *pattern, uint32_t *stride)
{
    if (stride)
        *stride = pattern->stride;
    return pattern->pixels;
}

static void
paint(struct ssb_pattern *pattern, const struct ssb_rect *rect)
{
    fill_with_palette(pattern->pixels, pattern->stride, rect, pattern->palette, pattern->frame);
}

/* The band covers rows [top, top + band_rows); it leaves the header block
 * alone, so it is up to two rects: right of the header, and full width
 * below it. */
static uint32_t
paint_band(struct ssb_pattern *pattern, struct ssb_rect *out)
{
    uint32_t range = pattern->height - pattern->band_rows + 1;
    uint32_t top = (uint32_t)(((uint64_t)pattern->frame * BAND_STEP) % range);
    uint32_t bottom = top + pattern->band_rows;
    uint32_t n = 0;

    if (top < SSB_PATTERN_HEADER_HEIGHT) {
        uint32_t end = bottom < SSB_PATTERN_HEADER_HEIGHT ? bottom : SSB_PATTERN_HEADER_HEIGHT;
        out[n++] = (struct ssb_rect){ SSB_PATTERN_HEADER_WIDTH, top,
                                      pattern->width - SSB_PATTERN_HEADER_WIDTH, end - top };
    }
    if (bottom > SSB_PATTERN_HEADER_HEIGHT) {
        uint32_t start = top > SSB_PATTERN_HEADER_HEIGHT ? top : SSB_PATTERN_HEADER_HEIGHT;
        out[n++] = (struct ssb_rect){ 0, start, pattern->width, bottom - start };
    }
    for (uint32_t i = 0; i < n; i++)
        paint(pattern, &out[i]);
    return n;
}

uint32_t
ssb_pattern_next(struct ssb_pattern *pattern, const struct ssb_pattern_stamp *stamp,
                 struct ssb_rect *damage, uint32_t max_damage)
{
    struct ssb_pattern_stamp s = *stamp;
    uint32_t n = 0;

    if (max_damage < 3)
        return 0;
    s.scanout = (uint8_t)pattern->scanout;
    if (pattern->frame == 0) {
        struct ssb_rect all = { 0, 0, pattern->width, pattern->height };

        paint(pattern, &all);
        ssb_pattern_reference(pattern->pixels, pattern->stride, SSB_PATTERN_REF_X,
                              SSB_PATTERN_REF_Y);
        damage[n++] = all;
    } else {
        damage[n++] = (struct ssb_rect){ 0, 0, SSB_PATTERN_STAMP_WIDTH, SSB_PATTERN_STAMP_HEIGHT };
        n += paint_band(pattern, damage + n);
    }
    ssb_pattern_draw_stamp(pattern->pixels, pattern->stride, 0, 0, &s);
    pattern->frame++;
    return n;
}
