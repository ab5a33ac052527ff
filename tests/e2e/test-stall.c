/* A stalled client never stalls the VMM: while the client process does not
 * read at all, and then while it reads but holds every frame, the VMM
 * answers its commands, its memory stays bounded and frames are skipped;
 * once the client lets go it gets the latest frame, pixel-exact.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#define WIDTH 640
#define HEIGHT 480
#define SUBMITS_PER_PHASE 120

static gint64
vmm_rss_kib(TestVmm *vmm)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)vmm->pid);
    g_autofree char *status = NULL;
    const char *rss;

    g_assert_true(g_file_get_contents(path, &status, NULL, NULL));
    rss = strstr(status, "VmRSS:");
    g_assert_nonnull(rss);
    return g_ascii_strtoll(rss + strlen("VmRSS:"), NULL, 10);
}

/* Submits @n frames, alternating whole and damage-only, into the model;
 * asks for stats between them (each must be answered). */
/* Slowest "stats" answer seen, for the log (never asserted: timing). */
static gint64 max_stats_us;

static guint64
submit_many(TestVmm *vmm, TestCanvas *canvas, guint n, gboolean iterate)
{
    guint64 last = 0;

    for (guint i = 0; i < n; i++) {
        SsbRect band = { 0, (i * 37) % (HEIGHT - 16), WIDTH, 16 };
        const SsbRect *rect = i % 5 == 0 ? NULL : &band;
        guint64 seq = test_vmm_submit(vmm, 0, rect);

        if (seq == 0)
            continue; /* the VMM's own buffers were all lent out */
        test_canvas_apply(canvas, seq, rect);
        last = seq;
        if (i % 10 == 0) {
            gint64 t0 = g_get_monotonic_time();
            g_assert_cmpint(test_vmm_stat(vmm, "frames_submitted"), >=, 1);
            max_stats_us = MAX(max_stats_us, g_get_monotonic_time() - t0);
        }
        if (iterate)
            g_main_context_iteration(NULL, FALSE);
    }
    return last;
}

static void
run_stall(const char *kind)
{
    const char *args[] = { "--size", "640x480", "--buffer", kind, NULL };
    TestVmm *vmm = test_vmm_start(FALSE, args);
    TestClient *tc = test_client_new(vmm);
    TestCanvas canvas = { 0 };
    gint64 rss_before, rss_after;
    guint64 last;
    SsbFrame *frame;

    test_client_connect_ready(tc);
    test_canvas_init(&canvas, 0, WIDTH, HEIGHT);
    last = submit_many(vmm, &canvas, 3, TRUE);
    test_client_wait_seq(tc, 0, last);
    rss_before = vmm_rss_kib(vmm);

    /* Phase 1: the client process does not run its loop at all. */
    submit_many(vmm, &canvas, SUBMITS_PER_PHASE, FALSE);
    /* Phase 2: it runs, but the application keeps every frame. */
    tc->hold = TRUE;
    last = submit_many(vmm, &canvas, SUBMITS_PER_PHASE, TRUE);
    test_run_for(100);
    g_assert_cmpint(test_vmm_stat(vmm, "frames_skipped"), >, 0);
    g_assert_cmpuint(tc->held->len, <, SUBMITS_PER_PHASE);
    rss_after = vmm_rss_kib(vmm);
    g_test_message("VMM RSS %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " KiB, held %u frames, "
                   "slowest stats answer %" G_GINT64_FORMAT " us, skipped %" G_GINT64_FORMAT,
                   rss_before, rss_after, tc->held->len, max_stats_us,
                   test_vmm_stat(vmm, "frames_skipped"));
    /* 240 frames of 1.2 MB queued would be ~280 MiB. */
    g_assert_cmpint(rss_after - rss_before, <, 32 * 1024);

    /* Resume: the latest frame arrives, exact. */
    tc->hold = FALSE;
    g_ptr_array_set_size(tc->held, 0);
    g_clear_pointer(&tc->latest[0], ssb_frame_unref);
    frame = test_client_wait_seq(tc, 0, last);
    g_assert_cmpuint(ssb_frame_get_seq(frame), ==, last);
    g_assert_cmpuint(test_canvas_diff_frame(&canvas, frame), ==, 0);
    g_assert_no_error(tc->error);

    test_canvas_clear(&canvas);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

static void
test_stall_pixels(void)
{
    run_stall("pixels");
}

static void
test_stall_memfd(void)
{
    run_stall("memfd");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/e2e/stall/pixels", test_stall_pixels);
    g_test_add_func("/e2e/stall/memfd", test_stall_memfd);
    return g_test_run();
}
