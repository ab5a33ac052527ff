/* The test VMM's pixel content, for byte-exact checks by clients.
 *
 * Format XRGB8888 (DRM 'XR24'): bytes B, G, R, X in memory, X = 0xff.
 *
 * A scanout's pixel (x, y) holds ssb_test_pattern_pixel(id, s, x, y) where
 * s is the seq of the last frame whose damage covered (x, y), or 0 if none
 * did since the scanout was enabled or last resized.  Frame seqs count the
 * submits of a scanout id from 1, never restarting (as the server's
 * FRAME.seq).  A submit with a rect changes exactly the pixels inside it.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_TEST_PATTERN_H
#define SSB_TEST_PATTERN_H

#include <stdint.h>
#include <string.h>

static inline uint32_t
ssb_test_pattern_pixel(uint32_t scanout_id, uint64_t seq, uint32_t x, uint32_t y)
{
    uint32_t v = (x * 0x9E3779B1u) ^ (y * 0x85EBCA77u) ^ ((uint32_t)seq * 0xC2B2AE3Du) ^
                 ((uint32_t)(seq >> 32) * 0x165667B1u) ^ (scanout_id * 0x27D4EB2Fu);

    v ^= v >> 15;
    v *= 0x2C1B3C6Du;
    v ^= v >> 12;
    return 0xff000000u | (v & 0x00ffffffu);
}

/* Writes frame @seq's content into the rect (@x, @y, @w, @h) of @data
 * (@stride bytes per row, XRGB8888, little-endian). */
static inline void
ssb_test_pattern_fill(uint8_t *data, uint32_t stride, uint32_t scanout_id, uint64_t seq,
                      uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    for (uint32_t row = y; row < y + h; row++) {
        uint8_t *p = data + (size_t)row * stride + (size_t)x * 4u;

        for (uint32_t col = x; col < x + w; col++, p += 4) {
            uint32_t v = ssb_test_pattern_pixel(scanout_id, seq, col, row);

            p[0] = (uint8_t)v;
            p[1] = (uint8_t)(v >> 8);
            p[2] = (uint8_t)(v >> 16);
            p[3] = (uint8_t)(v >> 24);
        }
    }
}

/* Compares the rect of @data with frame @seq's content; returns the number
 * of differing pixels. */
static inline uint64_t
ssb_test_pattern_check(const uint8_t *data, uint32_t stride, uint32_t scanout_id, uint64_t seq,
                       uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    uint64_t bad = 0;

    for (uint32_t row = y; row < y + h; row++) {
        const uint8_t *p = data + (size_t)row * stride + (size_t)x * 4u;

        for (uint32_t col = x; col < x + w; col++, p += 4) {
            uint32_t v = ssb_test_pattern_pixel(scanout_id, seq, col, row);
            uint32_t got = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24;

            bad += got != v;
        }
    }
    return bad;
}

#endif /* SSB_TEST_PATTERN_H */
