/* 16 scanouts at once: every one announced, every one gets its own exact
 * frames.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <stdio.h>

#define N_SCANOUTS 16
#define WIDTH 320
#define HEIGHT 200

static gboolean
all_added(gpointer data)
{
    TestClient *tc = data;
    return tc->added >= N_SCANOUTS || tc->error != NULL;
}

/* "submit-all" answers one line per scanout; returns the seqs by id. */
static void
submit_all(TestVmm *vmm, guint64 seqs[N_SCANOUTS])
{
    for (guint i = 0; i < N_SCANOUTS; i++) {
        g_autofree char *line = i == 0 ? test_vmm_command(vmm, "submit-all")
                                       : test_vmm_read_line(vmm);
        guint id = 0;
        guint64 seq = 0;

        g_assert_cmpint(sscanf(line, "submitted %u %" G_GUINT64_FORMAT, &id, &seq), ==, 2);
        g_assert_cmpuint(id, <, N_SCANOUTS);
        seqs[id] = seq;
    }
}

static void
test_many(void)
{
    const char *args[] = { "--scanouts", "16", "--size", "320x200", NULL };
    TestVmm *vmm = test_vmm_start(FALSE, args);
    TestClient *tc = test_client_new(vmm);
    TestCanvas canvas[N_SCANOUTS] = { { 0 } };
    g_autoptr(GArray) ids = NULL;
    guint64 seqs[N_SCANOUTS];

    test_client_connect_ready(tc);
    g_assert_true(test_run_until(all_added, tc));
    ids = ssb_client_list_scanouts(tc->client);
    g_assert_cmpuint(ids->len, ==, N_SCANOUTS);
    for (guint id = 0; id < N_SCANOUTS; id++)
        test_canvas_init(&canvas[id], id, WIDTH, HEIGHT);

    for (guint round = 0; round < 3; round++) {
        submit_all(vmm, seqs);
        for (guint id = 0; id < N_SCANOUTS; id++) {
            SsbFrame *frame;

            test_canvas_apply(&canvas[id], seqs[id], NULL);
            frame = test_client_wait_seq(tc, id, seqs[id]);
            g_assert_cmpuint(test_canvas_diff_frame(&canvas[id], frame), ==, 0);
        }
    }
    /* Damage on every other scanout. */
    for (guint id = 0; id < N_SCANOUTS; id += 2) {
        SsbRect rect = { id, id * 3, 40, 30 };
        guint64 seq = test_vmm_submit(vmm, id, &rect);

        test_canvas_apply(&canvas[id], seq, &rect);
    }
    for (guint id = 0; id < N_SCANOUTS; id++) {
        SsbFrame *frame = test_client_wait_seq(tc, id, canvas[id].seq);
        g_assert_cmpuint(test_canvas_diff_frame(&canvas[id], frame), ==, 0);
        g_assert_cmpstr(ssb_client_get_path_name(tc->client, id), ==, "shm");
        test_canvas_clear(&canvas[id]);
    }
    g_assert_no_error(tc->error);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/e2e/many/16-scanouts", test_many);
    return g_test_run();
}
