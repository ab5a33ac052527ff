/* shot-check: checks a screenshot of a viewer window.
 *
 * Usage: shot-check FILE.ppm [--min-psnr DB] [--letterbox AW,AH,IW,IH]
 *                            [--vmm ID,SEQ,W,H]
 * Reads a binary PPM (`import -window ID ppm:FILE`, or `convert x.png x.ppm`).
 *   default       finds every pattern stamp (common/pattern.h) and prints
 *                   stamp x=X y=Y scanout=S seq=N ref_psnr=P
 *                 fails unless at least one is found and each one's reference
 *                 bars reach --min-psnr (default: exact, "inf").
 *   --letterbox   the screenshot is an AW x AH widget showing an IW x IH
 *                 scanout scaled with its aspect kept: checks that the
 *                 margins are black and that each reference bar's centre has
 *                 the bar's exact colour where the scaling puts it.
 *   --vmm         the top-left W x H pixels are frame SEQ of ssb-test-vmm's
 *                 scanout ID (tests/server/test-pattern.h), exactly.
 * Exit status: 0 pass, 1 check failed, 2 bad file or argument.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"
#include "test-pattern.h"

typedef struct {
    uint8_t *px;     /* XRGB8888 */
    uint32_t w, h, stride;
} Image;

static int
read_token(FILE *f, unsigned *value)
{
    int c;

    do {
        c = fgetc(f);
        if (c == '#')
            while (c != '\n' && c != EOF)
                c = fgetc(f);
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
    return 0;
}

static int
read_ppm(const char *path, Image *img)
{
    FILE *f = fopen(path, "rb");
    unsigned w, h, maxval;
    char magic[2];
    uint8_t *rgb = NULL;
    int rc = -1;

    if (!f)
        return -1;
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || magic[1] != '6' || read_token(f, &w) ||
        read_token(f, &h) || read_token(f, &maxval) || maxval != 255 || !w || !h)
        goto out;
    size_t n = (size_t)w * h;
    rgb = malloc(n * 3);
    img->px = malloc(n * 4);
    if (!rgb || !img->px || fread(rgb, 3, n, f) != n)
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = 0xff000000u | (uint32_t)rgb[3 * i] << 16 | (uint32_t)rgb[3 * i + 1] << 8 |
                     rgb[3 * i + 2];
        memcpy(img->px + 4 * i, &v, 4);
    }
    img->w = w;
    img->h = h;
    img->stride = w * 4;
    rc = 0;
out:
    free(rgb);
    fclose(f);
    return rc;
}

static uint32_t
pixel(const Image *img, uint32_t x, uint32_t y)
{
    uint32_t v;

    memcpy(&v, img->px + (size_t)y * img->stride + (size_t)x * 4, 4);
    return v & 0xffffffu;
}

static int
check_stamps(Image *img, double min_psnr)
{
    struct ssb_pattern_stamp stamp;
    uint32_t x, y, found = 0;
    int bad = 0;

    while (ssb_pattern_find_stamp(img->px, img->stride, img->w, img->h, &stamp, &x, &y)) {
        double psnr = -1;
        if (y + SSB_PATTERN_REF_Y + SSB_PATTERN_REF_HEIGHT <= img->h)
            psnr = ssb_pattern_reference_psnr(img->px, img->stride, x + SSB_PATTERN_REF_X,
                                              y + SSB_PATTERN_REF_Y);
        printf("stamp x=%u y=%u scanout=%u seq=%u ref_psnr=%.1f\n", x, y, stamp.scanout,
               stamp.seq, psnr);
        if (!(psnr >= min_psnr)) {
            printf("FAIL: reference bars PSNR %.1f dB < %.1f\n", psnr, min_psnr);
            bad = 1;
        }
        found++;
        for (uint32_t j = 0; j < SSB_PATTERN_STAMP_HEIGHT; j++)
            for (uint32_t i = 0; i < SSB_PATTERN_STAMP_WIDTH; i++)
                memcpy(img->px + (size_t)(y + j) * img->stride + (size_t)(x + i) * 4,
                       &(uint32_t){ 0xff808080u }, 4);
    }
    if (!found)
        printf("FAIL: no stamp\n");
    return found && !bad ? 0 : 1;
}

/* Same rule as ssb_viewport_compute() in client/gtk/display.c. */
static int
check_letterbox(const Image *img, int aw, int ah, int iw, int ih)
{
    double scale = fmin((double)aw / iw, (double)ah / ih);
    int vw = (int)lround(iw * scale), vh = (int)lround(ih * scale);
    int vx = (aw - vw) / 2, vy = (ah - vh) / 2, bad = 0;

    if ((int)img->w < aw || (int)img->h < ah) {
        printf("FAIL: image %ux%u smaller than the area %dx%d\n", img->w, img->h, aw, ah);
        return 1;
    }
    printf("viewport %d,%d %dx%d scale %.3f\n", vx, vy, vw, vh, scale);
    /* margins: the middle of each black band */
    if (vx > 1 && (pixel(img, (uint32_t)vx / 2, (uint32_t)ah / 2) != 0 ||
                   pixel(img, (uint32_t)(vx + vw + (aw - vx - vw) / 2), (uint32_t)ah / 2) != 0)) {
        printf("FAIL: left/right margin not black\n");
        bad = 1;
    }
    if (vy > 1 && (pixel(img, (uint32_t)aw / 2, (uint32_t)vy / 2) != 0 ||
                   pixel(img, (uint32_t)aw / 2, (uint32_t)(vy + vh + (ah - vy - vh) / 2)) != 0)) {
        printf("FAIL: top/bottom margin not black\n");
        bad = 1;
    }
    for (uint32_t i = 0; i < SSB_PATTERN_REF_BARS; i++) {
        double bw = (double)SSB_PATTERN_REF_WIDTH / SSB_PATTERN_REF_BARS;
        double sx = SSB_PATTERN_REF_X + bw * i + bw / 2;
        double sy = SSB_PATTERN_REF_Y + SSB_PATTERN_REF_HEIGHT / 2.0;
        uint32_t x = (uint32_t)(vx + sx * vw / iw), y = (uint32_t)(vy + sy * vh / ih);
        uint32_t want = ssb_pattern_reference_color(i) & 0xffffffu, got = pixel(img, x, y);
        printf("bar %u at %u,%u: %06x (want %06x)\n", i, x, y, got, want);
        if (got != want)
            bad = 1;
    }
    return bad;
}

static int
check_vmm(const Image *img, uint32_t id, uint64_t seq, uint32_t w, uint32_t h)
{
    uint64_t bad;

    if (img->w < w || img->h < h) {
        printf("FAIL: image %ux%u smaller than %ux%u\n", img->w, img->h, w, h);
        return 1;
    }
    /* the screenshot is 0xffRRGGBB per pixel, as the pattern */
    bad = ssb_test_pattern_check(img->px, img->stride, id, seq, 0, 0, w, h);
    printf("vmm scanout %u seq %" PRIu64 " %ux%u: %" PRIu64 " pixels differ\n", id, seq, w, h,
           bad);
    return bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
    Image img = { 0 };
    double min_psnr = INFINITY;
    int rc = 0, mode_stamps = 1;

    if (argc < 2 || read_ppm(argv[1], &img)) {
        fprintf(stderr, "usage: shot-check FILE.ppm [--min-psnr DB] [--letterbox AW,AH,IW,IH] "
                        "[--vmm ID,SEQ,W,H]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        int a, b, c, d;
        unsigned long long seq;
        if (!strcmp(argv[i], "--min-psnr") && i + 1 < argc) {
            min_psnr = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--letterbox") && i + 1 < argc &&
                   sscanf(argv[++i], "%d,%d,%d,%d", &a, &b, &c, &d) == 4 && a > 0 && b > 0 &&
                   c > 0 && d > 0) {
            rc |= check_letterbox(&img, a, b, c, d);
            mode_stamps = 0;
        } else if (!strcmp(argv[i], "--vmm") && i + 1 < argc &&
                   sscanf(argv[++i], "%d,%llu,%d,%d", &a, &seq, &c, &d) == 4 && a >= 0 &&
                   c > 0 && d > 0) {
            rc |= check_vmm(&img, (uint32_t)a, seq, (uint32_t)c, (uint32_t)d);
            mode_stamps = 0;
        } else {
            fprintf(stderr, "shot-check: bad argument '%s'\n", argv[i]);
            free(img.px);
            return 2;
        }
    }
    if (mode_stamps)
        rc = check_stamps(&img, min_psnr);
    free(img.px);
    return rc;
}
