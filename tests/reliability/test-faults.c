/* Injected faults, real server (ssb-test-vmm) and real client: a client
 * process killed with SIGKILL while frames flow, the server killed under a
 * connected client, the local socket removed, a client trying to shrink or
 * grow a slot's memfd, a client of the wrong uid, and an encoder element
 * that fails mid-stream.  Each must end with the VMM (or the client) going
 * on and reporting what happened.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"
#include "reliability.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#define WIDTH 160
#define HEIGHT 120

static char *
vmm_pid(TestVmm *vmm)
{
    return g_strdup_printf("%d", (int)vmm->pid);
}

/* A fresh local client gets a pixel-exact frame of scanout 0. */
static void
check_serves(TestVmm *vmm, TestCanvas *canvas)
{
    TestClient *tc = test_client_new(vmm);
    guint64 seq;

    test_client_connect_ready(tc);
    g_assert_cmpint(tc->path, ==, SSB_CLIENT_PATH_LOCAL);
    seq = test_vmm_submit(vmm, 0, NULL);
    g_assert_cmpuint(seq, >, 0);
    test_canvas_apply(canvas, seq, NULL);
    g_assert_cmpuint(test_canvas_diff_frame(canvas, test_client_wait_seq(tc, 0, seq)), ==, 0);
    g_assert_no_error(tc->error);
    test_client_free(tc);
}

static gboolean
stat_at_least(TestVmm *vmm, const char *key, gint64 min)
{
    gint64 deadline = g_get_monotonic_time() + E2E_TIMEOUT_MS * 1000;

    while (g_get_monotonic_time() < deadline) {
        if (test_vmm_stat(vmm, key) >= min)
            return TRUE;
        g_usleep(10000);
    }
    return FALSE;
}

static gboolean
stat_at_most(TestVmm *vmm, const char *key, gint64 max)
{
    gint64 deadline = g_get_monotonic_time() + E2E_TIMEOUT_MS * 1000;

    while (g_get_monotonic_time() < deadline) {
        if (test_vmm_stat(vmm, key) <= max)
            return TRUE;
        g_usleep(10000);
    }
    return FALSE;
}

static void
submit_both(TestVmm *vmm)
{
    test_vmm_submit(vmm, 0, NULL);
    test_vmm_submit(vmm, 1, NULL);
}

/* spice-sideband-dump processes on the local path, each killed with
 * SIGKILL at some point while frames flow (mid-frame: slots held, FRAMEs
 * and releases in flight). */
static void
test_client_sigkill(void)
{
    const char *more[] = { "--scanouts=2", "--size=160x120", NULL };
    TestVmm *vmm = test_vmm_start(FALSE, more);
    g_autofree char *pid = vmm_pid(vmm);
    TestCanvas canvas = { 0 };
    int fds_before = -1;
    const int rounds = 20;

    test_canvas_init(&canvas, 0, WIDTH, HEIGHT);
    for (int i = 0; i < rounds; i++) {
        const char *argv[] = { g_getenv("SSB_DUMP"), vmm->uri, NULL };
        g_autoptr(GError) error = NULL;
        gint64 sent;
        GPid child;
        int status;

        g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                        G_SPAWN_STDERR_TO_DEV_NULL,
                                    NULL, NULL, &child, &error));
        g_assert_no_error(error);
        g_assert_true(stat_at_least(vmm, "local_clients", 1));
        sent = test_vmm_stat(vmm, "frames_sent");
        /* Some frames to it, then a kill somewhere in the stream, right
         * after a submit: FRAMEs and releases are in flight. */
        while (test_vmm_stat(vmm, "frames_sent") < sent + 2 + i % 5)
            submit_both(vmm);
        for (int j = 0; j < i % 3; j++)
            submit_both(vmm);
        g_usleep((gulong)(g_random_int_range(0, 2000)));
        g_assert_cmpint(kill(child, SIGKILL), ==, 0);
        g_assert_cmpint(waitpid(child, &status, 0), ==, child);
        g_assert_true(WIFSIGNALED(status));
        g_spawn_close_pid(child);
        g_assert_true(stat_at_most(vmm, "clients", 0));
        g_assert_true(test_vmm_alive(vmm));
        if (i == 0)
            fds_before = ssb_reliability_fd_count(pid);
        g_test_message("round %d: VMM holds %d fds", i, ssb_reliability_fd_count(pid));
    }
    ssb_test_wait_fds(pid, fds_before);
    ssb_reliability_figure("faults", "client_sigkills", rounds);
    /* Every buffer lent to the dead clients came back. */
    g_assert_cmpint(test_vmm_stat(vmm, "vmm_in_flight"), ==, 0);
    check_serves(vmm, &canvas);
    test_canvas_clear(&canvas);
    test_vmm_stop(vmm);
}

static gboolean
client_failed(gpointer data)
{
    TestClient *tc = data;

    return tc->error != NULL || tc->closed;
}

static gboolean
client_closed(gpointer data)
{
    return ((TestClient *)data)->closed;
}

/* The VMM dies under a connected local client: the client reports it;
 * a new VMM and a new session work. */
static void
test_server_sigkill(void)
{
    const char *more[] = { "--size=160x120", NULL };
    TestVmm *vmm = test_vmm_start(FALSE, more);
    TestClient *tc = test_client_new(vmm);
    TestCanvas canvas = { 0 };
    guint64 seq;

    test_canvas_init(&canvas, 0, WIDTH, HEIGHT);
    test_client_connect_ready(tc);
    seq = test_vmm_submit(vmm, 0, NULL);
    test_client_wait_seq(tc, 0, seq);
    g_assert_cmpint(kill(vmm->pid, SIGKILL), ==, 0);
    /* The session going away is no sideband error: "closed" reports it
     * (client.h), with CLOSED if anything was still waiting for "ready". */
    g_assert_true(test_run_until(client_closed, tc));
    if (tc->error)
        g_assert_error(tc->error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED);
    /* The frame it held stays readable after its server died. */
    g_assert_nonnull(ssb_frame_get_data(tc->latest[0], &(guint){ 0 }));
    test_client_free(tc);
    test_vmm_stop(vmm);

    vmm = test_vmm_start(FALSE, more);
    check_serves(vmm, &canvas);
    test_canvas_clear(&canvas);
    test_vmm_stop(vmm);
    ssb_reliability_figure("faults", "server_sigkills", 1);
}

/* The local socket is unlinked: the client already on it goes on; a new
 * one cannot reach it and gets what the server has left (no video here:
 * the stock display channels), and the VMM goes on. */
static void
test_socket_removed(void)
{
    const char *more[] = { "--size=160x120", "--codecs=", NULL };
    TestVmm *vmm = test_vmm_start(FALSE, more);
    g_autofree char *path = test_vmm_find_local_socket(vmm);
    TestClient *tc = test_client_new(vmm), *late;
    TestCanvas canvas = { 0 };
    guint64 seq;

    test_canvas_init(&canvas, 0, WIDTH, HEIGHT);
    g_assert_nonnull(path);
    test_client_connect_ready(tc);
    g_assert_cmpint(tc->path, ==, SSB_CLIENT_PATH_LOCAL);
    g_assert_cmpint(g_unlink(path), ==, 0);
    seq = test_vmm_submit(vmm, 0, NULL);
    test_canvas_apply(&canvas, seq, NULL);
    g_assert_cmpuint(test_canvas_diff_frame(&canvas, test_client_wait_seq(tc, 0, seq)), ==, 0);
    test_client_free(tc);

    late = test_client_new(vmm);
    test_client_connect(late);
    g_assert_true(test_run_until(client_failed, late) || late->ready);
    g_assert_cmpint(late->path, !=, SSB_CLIENT_PATH_LOCAL);
    if (late->error)
        g_test_message("new client: %s", late->error->message);
    test_client_free(late);
    g_assert_true(test_vmm_alive(vmm));
    g_assert_cmpuint(test_vmm_submit(vmm, 0, NULL), >, seq);
    test_canvas_clear(&canvas);
    test_vmm_stop(vmm);
}

/* The memfds this process holds (slot fds), by fd number. */
static GArray *
memfd_fds(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
    GArray *fds = g_array_new(FALSE, FALSE, sizeof(int));
    const char *name;

    while ((name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *link_path = g_build_filename("/proc/self/fd", name, NULL);
        g_autofree char *target = g_file_read_link(link_path, NULL);
        int fd = atoi(name);

        if (target && g_str_has_prefix(target, "/memfd:") && fcntl(fd, F_GET_SEALS) >= 0)
            g_array_append_val(fds, fd);
    }
    return fds;
}

/* A client tries to shrink (or grow) the memfds of its slots, through its
 * own fd and through a writable reopen of it: the seals refuse both, and
 * the frames it holds and gets stay intact. */
static void
test_memfd_shrink(void)
{
    const char *more[] = { "--size=160x120", NULL };
    TestVmm *vmm = test_vmm_start(FALSE, more);
    TestClient *tc = test_client_new(vmm);
    g_autoptr(GArray) fds = NULL;
    TestCanvas canvas = { 0 };
    guint64 seq;
    guint tries = 0;

    test_canvas_init(&canvas, 0, WIDTH, HEIGHT);
    test_client_connect_ready(tc);
    seq = test_vmm_submit(vmm, 0, NULL);
    test_canvas_apply(&canvas, seq, NULL);
    test_client_wait_seq(tc, 0, seq);
    fds = memfd_fds();
    g_assert_cmpuint(fds->len, >=, 3);
    for (guint i = 0; i < fds->len; i++) {
        int fd = g_array_index(fds, int, i);
        g_autofree char *proc = g_strdup_printf("/proc/self/fd/%d", fd);
        int rw = open(proc, O_RDWR | O_CLOEXEC);
        int seals = fcntl(fd, F_GET_SEALS);

        g_assert_cmpint(seals & F_SEAL_SHRINK, !=, 0);
        g_assert_cmpint(ftruncate(fd, 0), <, 0);
        if (rw >= 0) {
            off_t size = lseek(rw, 0, SEEK_END);

            g_assert_cmpint(ftruncate(rw, 0), <, 0);
            g_assert_cmpint(errno, ==, EPERM);
            g_assert_cmpint(ftruncate(rw, size / 2), <, 0);
            g_assert_cmpint(errno, ==, EPERM);
            if (seals & F_SEAL_GROW) {
                g_assert_cmpint(ftruncate(rw, size * 2), <, 0);
                g_assert_cmpint(errno, ==, EPERM);
            }
            /* F_SEAL_SEAL: no seal can be added or removed. */
            g_assert_cmpint(fcntl(rw, F_ADD_SEALS, F_SEAL_WRITE), <, 0);
            g_assert_cmpint(lseek(rw, 0, SEEK_END), ==, size);
            close(rw);
        }
        tries++;
    }
    ssb_reliability_figure("faults", "memfd_shrink_attempts", tries * 2);
    g_assert_cmpuint(test_canvas_diff_frame(&canvas, tc->latest[0]), ==, 0);
    seq = test_vmm_submit(vmm, 0, NULL);
    test_canvas_apply(&canvas, seq, NULL);
    g_assert_cmpuint(test_canvas_diff_frame(&canvas, test_client_wait_seq(tc, 0, seq)), ==, 0);
    g_assert_no_error(tc->error);
    test_client_free(tc);
    test_canvas_clear(&canvas);
    test_vmm_stop(vmm);
}

/* A local socket for another uid: our uid is refused (AUTH, logged with
 * the uid), the client stays off the local path, the VMM goes on. */
static void
test_wrong_uid(void)
{
    g_autofree char *uid = g_strdup_printf("--allowed-uid=%u", (unsigned)getuid() + 4242);
    const char *more[] = { "--size=160x120", "--codecs=", uid, NULL };
    TestVmm *vmm = test_vmm_start(FALSE, more);
    TestClient *tc = test_client_new(vmm);
    g_autofree char *log = NULL;

    test_client_connect(tc);
    g_assert_true(test_run_until(client_failed, tc) || tc->ready);
    g_assert_cmpint(tc->path, !=, SSB_CLIENT_PATH_LOCAL);
    test_client_free(tc);
    if (!stat_at_least(vmm, "local_rejected", 1)) {
        /* The server could not grant the other uid access (no ACLs on this
         * file system): it offered no local socket at all. */
        log = test_vmm_log(vmm);
        g_assert_nonnull(strstr(log, "uid"));
    } else {
        log = test_vmm_log(vmm);
        g_assert_nonnull(strstr(log, "is not the allowed uid"));
    }
    g_assert_true(test_vmm_alive(vmm));
    test_vmm_stop(vmm);
}

static gboolean
factory_exists(const char *name)
{
    GstElementFactory *f = gst_element_factory_find(name);

    if (f)
        gst_object_unref(f);
    return f != NULL;
}

static gboolean
ready_or_failed(gpointer data)
{
    TestClient *tc = data;

    return tc->ready || tc->error;
}

typedef struct {
    TestClient *tc;
    guint frames;
} FramesWait;

static gboolean
got_frames(gpointer data)
{
    FramesWait *w = data;

    return w->tc->frames[0] >= w->frames || w->tc->error;
}

/* An encoder element that errors after a few buffers: the next encoder
 * candidate takes over and the remote client keeps getting pictures. */
static void
test_encoder_error(void)
{
    const char *more[] = { "--size=160x120", "--codecs=h264", NULL };
    TestVmm *vmm;
    TestClient *tc;
    FramesWait w;
    g_autofree char *log = NULL;

    if (!factory_exists("x264enc") || !factory_exists("identity")) {
        g_test_skip("needs x264enc and identity");
        return;
    }
    g_setenv("SSB_ENCODER",
             "identity error-after=15 ! x264enc speed-preset=ultrafast tune=zerolatency "
             "bframes=0 threads=1",
             TRUE);
    vmm = test_vmm_start(FALSE, more);
    g_setenv("SSB_ENCODER", "", TRUE);
    tc = test_client_new(vmm);
    g_object_set(tc->client, "force-remote", TRUE, "codecs", "h264", NULL);
    test_client_connect(tc);
    g_assert_true(test_run_until(ready_or_failed, tc));
    g_assert_no_error(tc->error);
    g_assert_cmpint(tc->path, ==, SSB_CLIENT_PATH_VIDEO);
    /* Well past the failure at the 15th buffer. */
    w = (FramesWait){ tc, 45 };
    for (guint64 seq = 1; !got_frames(&w); seq++) {
        g_assert_cmpuint(seq, <, 2000);
        g_assert_cmpuint(test_vmm_submit(vmm, 0, NULL), ==, seq);
        test_run_for(30);
    }
    g_assert_no_error(tc->error);
    log = test_vmm_log(vmm);
    g_assert_nonnull(strstr(log, "trying the next one"));
    g_assert_nonnull(strstr(log, "identity"));
    ssb_reliability_figure("faults", "encoder_errors", 1);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gst_init(&argc, &argv);
    if (!g_getenv("SSB_TEST_VMM") || !g_getenv("SSB_DUMP")) {
        g_test_skip("SSB_TEST_VMM or SSB_DUMP not set");
        return 77;
    }
    g_test_add_func("/reliability/faults/client-sigkill", test_client_sigkill);
    g_test_add_func("/reliability/faults/server-sigkill", test_server_sigkill);
    g_test_add_func("/reliability/faults/socket-removed", test_socket_removed);
    g_test_add_func("/reliability/faults/memfd-shrink", test_memfd_shrink);
    g_test_add_func("/reliability/faults/wrong-uid", test_wrong_uid);
    g_test_add_func("/reliability/faults/encoder-error", test_encoder_error);
    return g_test_run();
}
