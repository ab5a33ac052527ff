/* screen-latency: how old the pictures on an X screen are.
 *
 * Usage: screen-latency [--seconds S] [--interval-ms MS] [--height H]
 *
 * Grabs the root window of $DISPLAY with XGetImage every MS milliseconds
 * (default 20) for S seconds (default 10), only its top H rows if given (less
 * work for the X server while it serves the viewers), finds every pattern stamp
 * (common/pattern.h) in each grab, and prints per scanout the age of the
 * picture on screen: t_grab - t_us of the stamp shown, where t_grab is
 * CLOCK_MONOTONIC halfway through the XGetImage call.  The stamps carry the
 * VMM's CLOCK_MONOTONIC at submit, so the ages mean something only with the
 * VMM on this host.  The age includes the time a frame stays on screen
 * until the next one (up to one frame period), which is the same for every
 * viewer measured with the same frame rate.
 *
 * Output, one line per scanout:
 *   scanout=N grabs=G frames=F age_p50_ms=.. age_p90_ms=.. age_p99_ms=.. age_max_ms=..
 *   seq_span=S
 * then  grab_ms_p50=.. (the XGetImage time, the measurement's resolution).
 * Exit status: 0, 1 when no stamp was seen, 2 on a bad argument or no X.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pattern.h"

#define MAX_SCANOUTS 16
#define MAX_SAMPLES 100000

struct series {
    double ages_ms[MAX_SAMPLES];
    unsigned n;
    uint32_t seq_min, seq_max, last_seq;
    unsigned frames;  /* distinct seqs seen */
};

static struct series series[MAX_SCANOUTS];
static double grab_ms[MAX_SAMPLES];

static int64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
percentile(double *v, unsigned n, double p)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return v[(unsigned)(p * (n - 1) + 0.5)];
}

static void
record(const struct ssb_pattern_stamp *stamp, double age_ms)
{
    struct series *s = &series[stamp->scanout % MAX_SCANOUTS];

    if (s->n == MAX_SAMPLES)
        return;
    s->ages_ms[s->n] = age_ms;
    if (s->n == 0 || stamp->seq != s->last_seq)
        s->frames++;
    if (s->n == 0 || stamp->seq < s->seq_min)
        s->seq_min = stamp->seq;
    if (s->n == 0 || stamp->seq > s->seq_max)
        s->seq_max = stamp->seq;
    s->last_seq = stamp->seq;
    s->n++;
}

/* Every stamp of @img, each greyed out once read (as stamp-find does). */
static void
scan(XImage *img, int64_t t_grab_us)
{
    uint8_t *px = (uint8_t *)img->data;
    uint32_t stride = (uint32_t)img->bytes_per_line, x, y;
    struct ssb_pattern_stamp stamp;

    while (ssb_pattern_find_stamp(px, stride, (uint32_t)img->width, (uint32_t)img->height,
                                  &stamp, &x, &y)) {
        record(&stamp, (double)(t_grab_us - (int64_t)stamp.t_us) / 1000.0);
        for (uint32_t j = 0; j < SSB_PATTERN_STAMP_HEIGHT; j++)
            memset(px + (size_t)(y + j) * stride + (size_t)x * 4, 0x80,
                   (size_t)SSB_PATTERN_STAMP_WIDTH * 4);
    }
}

int
main(int argc, char **argv)
{
    double seconds = 10, interval_ms = 20;
    int height = 0;
    unsigned n_grabs = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc)
            interval_ms = atof(argv[++i]);
        else if (strcmp(argv[i], "--height") == 0 && i + 1 < argc)
            height = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--seconds S] [--interval-ms MS] [--height H]\n",
                    argv[0]);
            return 2;
        }
    }
    if (seconds <= 0 || interval_ms <= 0) {
        fprintf(stderr, "%s: --seconds and --interval-ms must be positive\n", argv[0]);
        return 2;
    }
    Display *dpy = XOpenDisplay(NULL);
    if (dpy == NULL) {
        fprintf(stderr, "%s: cannot open the X display\n", argv[0]);
        return 2;
    }
    Window root = DefaultRootWindow(dpy);
    XWindowAttributes attr;
    XGetWindowAttributes(dpy, root, &attr);
    if (height <= 0 || height > attr.height)
        height = attr.height;

    int64_t end = now_us() + (int64_t)(seconds * 1e6), next = now_us();
    while (now_us() < end && n_grabs < MAX_SAMPLES) {
        int64_t t0 = now_us();
        XImage *img = XGetImage(dpy, root, 0, 0, (unsigned)attr.width, (unsigned)height,
                                AllPlanes, ZPixmap);
        int64_t t1 = now_us();

        if (img == NULL || img->bits_per_pixel != 32) {
            fprintf(stderr, "%s: need a 24/32-bit screen\n", argv[0]);
            return 2;
        }
        grab_ms[n_grabs++] = (double)(t1 - t0) / 1000.0;
        scan(img, (t0 + t1) / 2);
        XDestroyImage(img);
        next += (int64_t)(interval_ms * 1000);
        int64_t wait = next - now_us();
        if (wait > 0)
            nanosleep(&(struct timespec){ wait / 1000000, (wait % 1000000) * 1000 }, NULL);
        else
            next = now_us();
    }
    XCloseDisplay(dpy);

    unsigned seen = 0;
    for (unsigned i = 0; i < MAX_SCANOUTS; i++) {
        struct series *s = &series[i];
        if (s->n == 0)
            continue;
        seen++;
        printf("scanout=%u grabs=%u frames=%u seq_span=%u age_p50_ms=%.1f age_p90_ms=%.1f "
               "age_p99_ms=%.1f age_max_ms=%.1f\n",
               i, s->n, s->frames, s->seq_max - s->seq_min + 1,
               percentile(s->ages_ms, s->n, 0.5), percentile(s->ages_ms, s->n, 0.9),
               percentile(s->ages_ms, s->n, 0.99), percentile(s->ages_ms, s->n, 1.0));
    }
    printf("grabs=%u grab_ms_p50=%.1f\n", n_grabs, n_grabs ? percentile(grab_ms, n_grabs, 0.5) : 0);
    return seen ? 0 : 1;
}
