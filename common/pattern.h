/* Deterministic test content for scanouts: an animated per-scanout gradient,
 * a machine-readable stamp (frame sequence + submit time) and a static
 * reference region for PSNR checks.  Shared by the demo VMM, tests and
 * benchmarks; never installed.
 *
 * Pixels are XRGB8888 (DRM_FORMAT_XRGB8888: B, G, R, X bytes in memory, a
 * native-endian uint32_t 0xXXRRGGBB on little-endian hosts).  Strides are
 * in bytes.
 *
 * Layout of a frame (pixel coordinates):
 *
 *   +-- 256 --+----------------------------------------+
 *   | stamp   |                                        |
 *   | 256x144 |                                        |
 *   +---------+      animated area: a band of rows     |
 *   | ref bars|      moves down the frame; each frame  |
 *   | 256x32  |      repaints only the band            |
 *   +---------+                                        |
 *   |                                                  |
 *   +--------------------------------------------------+
 *
 * The stamp is a 16x9 grid of 16x16 px black/white cells: row 0 is a fixed
 * marker, column 0 alternates (timing), the other 120 cells carry
 * seq (u32), t_us (u64), scanout (u8) and a CRC-16 over them.  Cells that
 * large survive lossy video compression; the decoder finds the stamp
 * anywhere in an unscaled screenshot.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_PATTERN_H
#define SSB_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

#include <spice-sideband/proto.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SSB_PATTERN_CELL 16u
#define SSB_PATTERN_STAMP_COLS 16u
#define SSB_PATTERN_STAMP_ROWS 9u
#define SSB_PATTERN_STAMP_WIDTH (SSB_PATTERN_STAMP_COLS * SSB_PATTERN_CELL) /* 256 */
#define SSB_PATTERN_STAMP_HEIGHT (SSB_PATTERN_STAMP_ROWS * SSB_PATTERN_CELL) /* 144 */

/* Reference colour bars, directly below the stamp. */
#define SSB_PATTERN_REF_BARS 8u
#define SSB_PATTERN_REF_X 0u
#define SSB_PATTERN_REF_Y SSB_PATTERN_STAMP_HEIGHT
#define SSB_PATTERN_REF_WIDTH SSB_PATTERN_STAMP_WIDTH
#define SSB_PATTERN_REF_HEIGHT 32u

/* The top-left block (stamp + reference) that the animation never touches. */
#define SSB_PATTERN_HEADER_WIDTH SSB_PATTERN_STAMP_WIDTH
#define SSB_PATTERN_HEADER_HEIGHT (SSB_PATTERN_REF_Y + SSB_PATTERN_REF_HEIGHT) /* 176 */

#define SSB_PATTERN_MIN_WIDTH 320u
#define SSB_PATTERN_MIN_HEIGHT 240u
#define SSB_PATTERN_MAX_DIMENSION 8192u

struct ssb_pattern_stamp {
    uint32_t seq;
    uint64_t t_us;    /* CLOCK_MONOTONIC microseconds at submit */
    uint8_t scanout;
};

/* Colour of a stamp cell that carries a 1 / a 0. */
#define SSB_PATTERN_WHITE 0xffffffffu
#define SSB_PATTERN_BLACK 0xff000000u

/* Draws @stamp with its top-left corner at (@x, @y); the caller guarantees
 * that SSB_PATTERN_STAMP_WIDTH x SSB_PATTERN_STAMP_HEIGHT pixels fit there. */
void ssb_pattern_draw_stamp(uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y,
                            const struct ssb_pattern_stamp *stamp);

/* Searches @pixels (XRGB8888, @width x @height) for a stamp whose marker,
 * timing cells and checksum are all valid.  On success fills @stamp and the
 * stamp's top-left corner (@x, @y may be NULL) and returns true.  The first
 * stamp in row-major order wins. */
bool ssb_pattern_find_stamp(const uint8_t *pixels, uint32_t stride, uint32_t width,
                            uint32_t height, struct ssb_pattern_stamp *stamp, uint32_t *x,
                            uint32_t *y);

/* Convenience wrapper around ssb_pattern_find_stamp(). */
bool ssb_pattern_read_stamp(const uint8_t *pixels, uint32_t stride, uint32_t width,
                            uint32_t height, uint32_t *seq, uint64_t *t_us);

/* Colour (0xffRRGGBB) of reference bar @i (0..SSB_PATTERN_REF_BARS-1). */
uint32_t ssb_pattern_reference_color(uint32_t i);

/* Draws the SSB_PATTERN_REF_WIDTH x SSB_PATTERN_REF_HEIGHT reference bars
 * with the top-left corner at (@x, @y). */
void ssb_pattern_reference(uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y);

/* PSNR in dB over the RGB channels of two XRGB8888 regions; INFINITY when
 * they are identical. */
double ssb_pattern_psnr(const uint8_t *a, uint32_t stride_a, const uint8_t *b,
                        uint32_t stride_b, uint32_t width, uint32_t height);

/* PSNR of the region at (@x, @y) of @pixels against the reference bars.
 * The caller guarantees the region lies inside the image. */
double ssb_pattern_reference_psnr(const uint8_t *pixels, uint32_t stride, uint32_t x,
                                  uint32_t y);

/* Paints the animated content of @scanout for animation step @frame into
 * @rect (which the caller has clipped to the image). */
void ssb_pattern_fill(uint8_t *pixels, uint32_t stride, const struct ssb_rect *rect,
                      uint32_t scanout, uint32_t frame);

/* An animator: one frame buffer per scanout, rendered step by step with
 * exact damage.  Not thread-safe; one owner. */
struct ssb_pattern;

/* @damage_pct (1..100) is the share of the frame's rows that the moving
 * band repaints each frame; the stamp is repainted as well.  Returns NULL
 * for a size outside SSB_PATTERN_MIN_* .. SSB_PATTERN_MAX_DIMENSION or a bad
 * percentage. */
struct ssb_pattern *ssb_pattern_new(uint32_t scanout, uint32_t width, uint32_t height,
                                    uint32_t damage_pct);
void ssb_pattern_free(struct ssb_pattern *pattern);

/* Renders the next frame with @stamp (its scanout field is overwritten with
 * the pattern's) and writes what changed to @damage (at most @max_damage
 * rects, >= 3); the first frame damages everything.  Returns the number of
 * rects. */
uint32_t ssb_pattern_next(struct ssb_pattern *pattern, const struct ssb_pattern_stamp *stamp,
                          struct ssb_rect *damage, uint32_t max_damage);

/* The frame buffer (borrowed; valid until ssb_pattern_free()). */
const uint8_t *ssb_pattern_pixels(const struct ssb_pattern *pattern, uint32_t *stride);

#ifdef __cplusplus
}
#endif

#endif /* SSB_PATTERN_H */
