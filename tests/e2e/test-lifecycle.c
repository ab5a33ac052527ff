/* Scanouts created, resized and destroyed, and frame pixels byte-exact
 * (whole and damage-only updates), over a unix socket and over TCP.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <unistd.h>

#define XR24 0x34325258u

typedef struct {
    TestClient *tc;
    guint *counter;
    guint want;
} CountWait;

static gboolean
count_reached(gpointer data)
{
    CountWait *w = data;
    return *w->counter >= w->want || w->tc->error != NULL;
}

static void
wait_count(TestClient *tc, guint *counter, guint want)
{
    CountWait w = { tc, counter, want };

    g_assert_true(test_run_until(count_reached, &w));
    g_assert_no_error(tc->error);
}

/* The frame's damage (none = whole) covers @rect: the server may report
 * more than changed, never less. */
static void
check_damage_covers(SsbFrame *frame, const SsbRect *rect)
{
    guint n = 0;
    const SsbRect *damage = ssb_frame_get_damage(frame, &n);

    for (guint i = 0; i < n; i++) {
        if (damage[i].x <= rect->x && damage[i].y <= rect->y &&
            damage[i].x + damage[i].width >= rect->x + rect->width &&
            damage[i].y + damage[i].height >= rect->y + rect->height)
            return;
    }
    g_assert_cmpuint(n, ==, 0);
}

/* Submits @rect (NULL: whole) on @id, and checks the frame that arrives. */
static void
submit_and_check(TestVmm *vmm, TestClient *tc, TestCanvas *canvas, const SsbRect *rect)
{
    guint64 seq = test_vmm_submit(vmm, canvas->id, rect);
    SsbFrame *frame;

    g_assert_cmpuint(seq, >, 0);
    test_canvas_apply(canvas, seq, rect);
    frame = test_client_wait_seq(tc, canvas->id, seq);
    g_assert_cmpuint(ssb_frame_get_seq(frame), ==, seq);
    g_assert_cmpuint(ssb_frame_get_fourcc(frame), ==, XR24);
    g_assert_cmpuint(test_canvas_diff_frame(canvas, frame), ==, 0);
    if (rect != NULL)
        check_damage_covers(frame, rect);
}

static void
check_scanout(TestClient *tc, guint id, guint width, guint height)
{
    SsbScanoutInfo info;

    g_assert_true(ssb_client_get_scanout(tc->client, id, &info));
    g_assert_cmpuint(info.width, ==, width);
    g_assert_cmpuint(info.height, ==, height);
    g_assert_cmpuint(info.fourcc, ==, XR24);
}

static void
run_lifecycle(gboolean tcp)
{
    const char *args[] = { "--scanouts", "1", "--size", "320x240", NULL };
    TestVmm *vmm = test_vmm_start(tcp, args);
    TestClient *tc = test_client_new(vmm);
    TestCanvas canvas = { 0 }, second = { 0 };
    static const SsbRect rects[] = { { 0, 0, 1, 1 }, { 10, 20, 100, 50 }, { 319, 239, 1, 1 },
                                     { 0, 100, 320, 10 } };
    g_autoptr(GArray) ids = NULL;

    test_client_connect_ready(tc);
    g_assert_cmpint(tc->path, ==, SSB_CLIENT_PATH_LOCAL);
    wait_count(tc, &tc->added, 1);
    check_scanout(tc, 0, 320, 240);

    test_canvas_init(&canvas, 0, 320, 240);
    submit_and_check(vmm, tc, &canvas, NULL);
    g_assert_cmpstr(ssb_client_get_path_name(tc->client, 0), ==, "shm");
    for (guint i = 0; i < G_N_ELEMENTS(rects); i++)
        submit_and_check(vmm, tc, &canvas, &rects[i]);

    /* Resize: the content restarts as seq 0 at the new size. */
    g_free(test_vmm_command(vmm, "resize 0 200 100"));
    wait_count(tc, &tc->resized, 1);
    check_scanout(tc, 0, 200, 100);
    test_canvas_init(&canvas, 0, 200, 100);
    submit_and_check(vmm, tc, &canvas, &(SsbRect){ 5, 5, 20, 20 });
    submit_and_check(vmm, tc, &canvas, NULL);

    /* A second scanout comes and goes. */
    g_free(test_vmm_command(vmm, "enable 3 64 48"));
    wait_count(tc, &tc->added, 2);
    check_scanout(tc, 3, 64, 48);
    test_canvas_init(&second, 3, 64, 48);
    submit_and_check(vmm, tc, &second, &(SsbRect){ 1, 2, 3, 4 });
    g_free(test_vmm_command(vmm, "disable 3"));
    wait_count(tc, &tc->removed, 1);
    g_assert_false(ssb_client_get_scanout(tc->client, 3, NULL));
    ids = ssb_client_list_scanouts(tc->client);
    g_assert_cmpuint(ids->len, ==, 1);
    g_assert_cmpuint(g_array_index(ids, guint, 0), ==, 0);

    /* The first scanout is unaffected. */
    submit_and_check(vmm, tc, &canvas, &(SsbRect){ 199, 0, 1, 100 });
    g_assert_no_error(tc->error);
    test_client_free(tc);
    test_canvas_clear(&canvas);
    test_canvas_clear(&second);
    test_vmm_stop(vmm);
}

static void
test_lifecycle_unix(void)
{
    run_lifecycle(FALSE);
}

static void
test_lifecycle_tcp(void)
{
    run_lifecycle(TRUE);
}

/* The client says GOODBYE; the VMM goes on and serves the next client. */
static void
test_goodbye(void)
{
    TestVmm *vmm = test_vmm_start(FALSE, NULL);
    TestClient *tc = test_client_new(vmm);
    TestClient *next;

    test_client_connect_ready(tc);
    ssb_client_close(tc->client);
    g_assert_true(tc->closed);
    /* The server closes its side, then the client disconnects the port. */
    test_run_for(300);
    g_assert_cmpint(test_vmm_stat(vmm, "frames_submitted"), ==, 0);

    /* A new client on the same session reconnects the port channel. */
    next = test_client_new_on_session(tc);
    test_client_connect_ready(next);
    g_assert_cmpint(next->path, ==, SSB_CLIENT_PATH_LOCAL);
    test_client_free(next);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

/* GOODBYE and the whole session gone at once, as when a viewer quits.
 * spice-server 0.15.1 aborted here when the server library answered the
 * GOODBYE with spice_server_port_event() from inside the char device's
 * write() callback; reported as incomplete until the server defers it. */
static void
test_goodbye_then_disconnect(void)
{
    TestVmm *vmm = test_vmm_start(FALSE, NULL);

    for (int i = 0; i < 5 && test_vmm_alive(vmm); i++) {
        TestClient *tc = test_client_new(vmm);

        test_client_connect_ready(tc);
        ssb_client_close(tc->client);
        test_client_free(tc);
        test_run_for(50);
    }
    /* Regression: the server sent the port's CLOSED event from inside
     * spice-server's write() callback, which aborts the VMM here. */
    if (!test_vmm_alive(vmm)) {
        g_autofree char *log = test_vmm_log(vmm);
        g_test_message("VMM log:\n%s", log);
    }
    g_assert_true(test_vmm_alive(vmm));
    g_assert_cmpint(test_vmm_stat(vmm, "frames_submitted"), ==, 0);
    test_vmm_stop(vmm);
}

static gboolean
client_closed(gpointer data)
{
    return ((TestClient *)data)->closed;
}

/* The VMM shuts down: the client sees an orderly close, not an error. */
static void
test_server_goodbye(void)
{
    TestVmm *vmm = test_vmm_start(FALSE, NULL);
    TestClient *tc = test_client_new(vmm);

    test_client_connect_ready(tc);
    g_assert_cmpint(write(vmm->in_fd, "quit\n", 5), ==, 5);
    g_assert_true(test_run_until(client_closed, tc));
    g_assert_no_error(tc->error);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/e2e/lifecycle/unix", test_lifecycle_unix);
    g_test_add_func("/e2e/lifecycle/tcp", test_lifecycle_tcp);
    g_test_add_func("/e2e/lifecycle/goodbye", test_goodbye);
    g_test_add_func("/e2e/lifecycle/server-goodbye", test_server_goodbye);
    g_test_add_func("/e2e/lifecycle/goodbye-then-disconnect", test_goodbye_then_disconnect);
    return g_test_run();
}
