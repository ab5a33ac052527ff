/* stamp-find: decodes every pattern stamp in a screenshot.
 *
 * Usage: stamp-find FILE.ppm [X,Y]...
 * Reads a binary PPM (P6, maxval 255 or 65535; `import -window root ppm:FILE`) and
 * prints the colour of each pixel asked for:
 *   pixel X Y RRGGBB
 * then one line per stamp found, in screen order:
 *   stamp x=X y=Y scanout=S seq=N t_us=T ref_psnr=P
 * where (X, Y) is the stamp's top-left pixel (the scanout's origin on the
 * screen) and P the PSNR in dB of the reference bars below it (inf when
 * exact).  Exits 0 when at least one stamp was found, 1 when none, 2 on a
 * bad file or argument.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

static int
read_token(FILE *f, unsigned *value)
{
    int c;

    do {
        c = fgetc(f);
        if (c == '#') {
            while (c != '\n' && c != EOF)
                c = fgetc(f);
        }
    } while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    if (c < '0' || c > '9')
        return -1;
    *value = 0;
    while (c >= '0' && c <= '9') {
        if (*value > 100000)
            return -1;
        *value = *value * 10 + (unsigned)(c - '0');
        c = fgetc(f);
    }
    return 0;   /* the single whitespace after the last token is consumed */
}

static uint8_t *
read_ppm(const char *path, uint32_t *width, uint32_t *height)
{
    FILE *f = fopen(path, "rb");
    unsigned w, h, maxval;
    char magic[2];
    uint8_t *rgb = NULL, *xrgb = NULL;

    if (!f)
        return NULL;
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || magic[1] != '6' ||
        read_token(f, &w) || read_token(f, &h) || read_token(f, &maxval) ||
        (maxval != 255 && maxval != 65535) || w == 0 || h == 0)
        goto out;
    /* 16-bit samples are big-endian; keep the high byte */
    size_t bps = maxval == 255 ? 1 : 2, n = (size_t)w * h;
    rgb = malloc(n * 3 * bps);
    xrgb = malloc(n * 4);
    if (!rgb || !xrgb || fread(rgb, 3 * bps, n, f) != n) {
        free(xrgb);
        xrgb = NULL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = rgb + 3 * bps * i;
        uint32_t px = 0xff000000u | (uint32_t)s[0] << 16 | (uint32_t)s[bps] << 8 | s[2 * bps];
        memcpy(xrgb + 4 * i, &px, 4);
    }
    *width = w;
    *height = h;
out:
    free(rgb);
    fclose(f);
    return xrgb;
}

int
main(int argc, char **argv)
{
    uint32_t width, height, x, y, found = 0;
    struct ssb_pattern_stamp stamp;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.ppm [X,Y]...\n", argv[0]);
        return 2;
    }
    uint8_t *pixels = read_ppm(argv[1], &width, &height);
    if (!pixels) {
        fprintf(stderr, "%s: not a binary PPM (P6, maxval 255 or 65535)\n", argv[1]);
        return 2;
    }
    uint32_t stride = width * 4;
    for (int i = 2; i < argc; i++) {
        unsigned px, py;
        uint32_t v;

        if (sscanf(argv[i], "%u,%u", &px, &py) != 2 || px >= width || py >= height) {
            fprintf(stderr, "bad pixel '%s' for a %ux%u image\n", argv[i], width, height);
            free(pixels);
            return 2;
        }
        memcpy(&v, pixels + (size_t)py * stride + (size_t)px * 4, 4);
        printf("pixel %u %u %06x\n", px, py, v & 0xffffffu);
    }
    while (ssb_pattern_find_stamp(pixels, stride, width, height, &stamp, &x, &y)) {
        double psnr = -1;

        if (y + SSB_PATTERN_REF_Y + SSB_PATTERN_REF_HEIGHT <= height)
            psnr = ssb_pattern_reference_psnr(pixels, stride, x + SSB_PATTERN_REF_X,
                                              y + SSB_PATTERN_REF_Y);
        printf("stamp x=%u y=%u scanout=%u seq=%u t_us=%" PRIu64 " ref_psnr=%.1f\n", x, y,
               stamp.scanout, stamp.seq, stamp.t_us, psnr);
        found++;
        /* Grey it out and look for the next one. */
        for (uint32_t j = 0; j < SSB_PATTERN_STAMP_HEIGHT; j++)
            for (uint32_t i = 0; i < SSB_PATTERN_STAMP_WIDTH; i++)
                memcpy(pixels + (size_t)(y + j) * stride + (size_t)(x + i) * 4,
                       &(uint32_t){ 0xff808080u }, 4);
    }
    free(pixels);
    return found ? 0 : 1;
}
