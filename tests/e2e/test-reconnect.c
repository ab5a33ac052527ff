/* 100 reconnects: each session goes through the handshake, the local
 * socket and a frame, and after all of them this process holds no more
 * fds and no more memfd mappings than before.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#define ROUNDS 100

static void
one_session(TestVmm *vmm, TestCanvas *canvas, gboolean keep_frame_past_close)
{
    TestClient *tc = test_client_new(vmm);
    g_autoptr(SsbFrame) kept = NULL;
    guint64 seq;
    SsbFrame *frame;

    test_client_connect_ready(tc);
    g_assert_cmpint(tc->path, ==, SSB_CLIENT_PATH_LOCAL);
    seq = test_vmm_submit(vmm, 0, NULL);
    g_assert_cmpuint(seq, >, 0);
    test_canvas_apply(canvas, seq, NULL);
    frame = test_client_wait_seq(tc, 0, seq);
    g_assert_cmpuint(test_canvas_diff_frame(canvas, frame), ==, 0);
    /* A frame may outlive its client and session: still readable. */
    if (keep_frame_past_close)
        kept = ssb_frame_ref(frame);
    g_assert_no_error(tc->error);
    test_client_free(tc);
    if (kept != NULL)
        g_assert_cmpuint(test_canvas_diff_frame(canvas, kept), ==, 0);
}

static void
test_reconnect(void)
{
    const char *args[] = { "--size", "64x64", "--buffer", "memfd", NULL };
    TestVmm *vmm = test_vmm_start(FALSE, args);
    TestCanvas canvas = { 0 };
    guint fds_before, maps_before;

    test_canvas_init(&canvas, 0, 64, 64);
    /* Warm up: GLib, spice-gtk and GStreamer keep some process-wide fds. */
    one_session(vmm, &canvas, FALSE);
    test_run_for(150);
    fds_before = test_count_fds();
    maps_before = test_count_memfd_maps();
    for (guint i = 0; i < ROUNDS; i++) {
        one_session(vmm, &canvas, i % 10 == 0);
        /* spice-server replaces the old client; give it a moment. */
        test_run_for(5);
    }
    test_run_for(150);
    g_test_message("fds %u -> %u, memfd maps %u -> %u", fds_before, test_count_fds(),
                   maps_before, test_count_memfd_maps());
    g_assert_cmpuint(test_count_fds(), <=, fds_before);
    g_assert_cmpuint(test_count_memfd_maps(), <=, maps_before);
    test_canvas_clear(&canvas);
    test_vmm_stop(vmm);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/e2e/reconnect/100", test_reconnect);
    return g_test_run();
}
