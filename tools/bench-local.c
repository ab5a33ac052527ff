/* bench-local: the local sideband path, measured end to end.
 *
 * Two processes: this one re-executes itself as a minimal VMM (libspice-
 * server + libspice-sideband-server on a unix socket, content pre-drawn so
 * that drawing costs nothing), and runs the client library against it.
 *
 * Per scenario it reports submit -> client-has-pixels latency (t_received
 * - t_submit: the same CLOCK_MONOTONIC on both sides), the delivered frame
 * rate, and pixel copies per frame (server bytes_copied / frame bytes; the
 * client maps the slots and copies nothing).
 *
 *   paced:  the VMM submits at 60 fps; latency is the interesting number
 *   max:    the VMM submits whenever its loop is idle; frames/s delivered
 *   16 scanouts at 30 fps with 5% damage each (DESIGN.md 7)
 *
 * Columns: latency p50/p99 in ms, delivered frames per second per scanout,
 * frames measured, frames the server skipped (latest frame wins), and
 * pixel copies per delivered frame (server bytes copied / frame size).
 *
 * Usage: bench-local [--seconds S] [--size WxH]
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include <spice-sideband/client.h>
#include <spice-sideband/server.h>

#include "glib-spice-core.h"

#define N_BUFFERS 4

/* ================================================================ VMM side */

typedef struct {
    int fd;
    guint8 *map;
    gboolean busy;
} VmmBuffer;

typedef struct {
    struct ssb_server *ssb;
    guint width, height, stride;
    guint damage_pct;
    gboolean memfd;
    guint fps;                    /* 0 = as fast as the loop allows */
    guint n_scanouts;             /* PIXELS only when > 1 */
    guint64 submits;
    guint next;
    VmmBuffer buffers[N_BUFFERS];
    gboolean started;
} Vmm;

static void
vmm_draw(guint8 *pixels, guint stride, guint width, guint height, guint shade)
{
    for (guint y = 0; y < height; y++) {
        guint32 *row = (guint32 *)(void *)(pixels + (gsize)y * stride);
        for (guint x = 0; x < width; x++)
            row[x] = 0xff000000u | ((x + shade) & 0xff) << 16 | ((y + shade) & 0xff) << 8 | shade;
    }
}

static void
vmm_alloc(Vmm *vmm)
{
    gsize size = (gsize)vmm->stride * vmm->height;

    for (guint i = 0; i < N_BUFFERS; i++) {
        VmmBuffer *b = &vmm->buffers[i];

        b->fd = memfd_create("bench-vmm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (b->fd < 0 || ftruncate(b->fd, (off_t)size) < 0 ||
            fcntl(b->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
            g_error("memfd: %s", g_strerror(errno));
        b->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
        if (b->map == MAP_FAILED)
            g_error("mmap: %s", g_strerror(errno));
        vmm_draw(b->map, vmm->stride, vmm->width, vmm->height, i * 40);
    }
}

static void
buffer_done(void *user_data)
{
    ((VmmBuffer *)user_data)->busy = FALSE;
}

static void
vmm_submit(Vmm *vmm, guint id)
{
    VmmBuffer *b = &vmm->buffers[vmm->next % N_BUFFERS];
    struct ssb_server_buffer buf = { .width = vmm->width, .height = vmm->height,
                                     .fourcc = SSB_FORMAT_XRGB8888 };
    guint band = MAX(1u, vmm->height * vmm->damage_pct / 100u);
    struct ssb_rect rect = { 0, (guint)((vmm->next * band) % (vmm->height - band + 1)),
                             vmm->width, band };

    if (b->busy)
        return; /* all lent out: skip this tick, as a VMM would */
    if (id + 1 == vmm->n_scanouts)
        vmm->next++;
    if (vmm->memfd) {
        buf.kind = SSB_SERVER_BUFFER_MEMFD;
        buf.n_planes = 1;
        buf.fds[0] = b->fd;
        buf.strides[0] = vmm->stride;
        b->busy = TRUE;
    } else {
        buf.kind = SSB_SERVER_BUFFER_PIXELS;
        buf.data = b->map;
        buf.stride = vmm->stride;
    }
    vmm->submits++;
    ssb_server_scanout_submit(vmm->ssb, id, &buf, vmm->damage_pct >= 100 ? NULL : &rect,
                              vmm->damage_pct >= 100 ? 0 : 1, 0,
                              vmm->memfd ? buffer_done : NULL, b);
}

static gboolean
vmm_tick(gpointer data)
{
    Vmm *vmm = data;
    struct ssb_server_stats st;

    ssb_server_get_stats(vmm->ssb, &st);
    for (guint id = 0; st.local_clients > 0 && id < vmm->n_scanouts; id++)
        vmm_submit(vmm, id);
    return G_SOURCE_CONTINUE;
}

static gboolean
vmm_command(gint fd, GIOCondition condition, gpointer data)
{
    Vmm *vmm = data;
    struct ssb_server_stats st;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n <= 0) {
        exit(0);
    }
    ssb_server_get_stats(vmm->ssb, &st);
    printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
           "\n", vmm->submits, st.frames_sent, st.frames_skipped, st.bytes_copied);
    fflush(stdout);
    return G_SOURCE_CONTINUE;
}

static int
vmm_main(const char *socket_path, guint width, guint height, guint damage, gboolean memfd,
         guint fps, guint n_scanouts)
{
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    SpiceCoreInterface *core = ssb_glib_core_get(NULL);
    SpiceServer *spice = spice_server_new();
    Vmm vmm = { .width = width, .height = height, .stride = width * 4, .damage_pct = damage,
                .memfd = memfd, .fps = fps, .n_scanouts = n_scanouts };

    /* As QEMU does: spice-server writes to sockets a client may have closed. */
    signal(SIGPIPE, SIG_IGN);
    spice_server_set_addr(spice, socket_path, SPICE_ADDR_FLAG_UNIX_ONLY);
    spice_server_set_noauth(spice);
    if (spice_server_init(spice, core) != 0)
        g_error("spice_server_init failed");
    vmm.ssb = ssb_server_create(spice, core, NULL);
    if (vmm.ssb == NULL)
        g_error("sideband setup failed");
    for (guint id = 0; id < n_scanouts; id++) {
        if (ssb_server_scanout_enable(vmm.ssb, id, id, width, height, SSB_FORMAT_XRGB8888) < 0)
            g_error("cannot enable scanout %u", id);
    }
    vmm_alloc(&vmm);
    if (fps > 0)
        g_timeout_add(1000 / fps, vmm_tick, &vmm);
    else
        g_idle_add_full(G_PRIORITY_LOW, vmm_tick, &vmm, NULL);
    g_unix_fd_add(0, G_IO_IN | G_IO_HUP, vmm_command, &vmm);
    printf("READY\n");
    fflush(stdout);
    g_main_loop_run(loop);
    return 0;
}

/* ============================================================= client side */

typedef struct {
    const char *name;
    gboolean memfd;
    guint damage;
    guint fps;
    guint n_scanouts;
} Scenario;

typedef struct {
    GArray *latencies;            /* gint64 us */
    guint frames;
    gint64 first_us, last_us;
    gboolean ready, failed;
    gboolean warm;                /* measuring */
} Run;

static void
on_frame(SsbClient *client, SsbFrame *frame, Run *run)
{
    gint64 latency = ssb_frame_get_t_received_us(frame) - ssb_frame_get_t_submit_us(frame);
    guint stride = 0;
    const guint8 *data = ssb_frame_get_data(frame, &stride);
    volatile guint8 sink;

    /* "Has pixels": the mapping is readable right now. */
    if (data != NULL)
        sink = data[0];
    (void)sink;
    if (!run->warm)
        return;
    if (run->frames++ == 0)
        run->first_us = ssb_frame_get_t_received_us(frame);
    run->last_us = ssb_frame_get_t_received_us(frame);
    g_array_append_val(run->latencies, latency);
}

static void
on_ready(SsbClient *client, SsbClientPath path, Run *run)
{
    run->ready = TRUE;
    run->failed = path != SSB_CLIENT_PATH_LOCAL;
}

static void
on_error(SsbClient *client, GError *error, Run *run)
{
    g_printerr("bench-local: %s\n", error->message);
    run->failed = TRUE;
}

static gint
compare_gint64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

static double
percentile_ms(GArray *values, double p)
{
    if (values->len == 0)
        return -1;
    g_array_sort(values, compare_gint64);
    return g_array_index(values, gint64, (guint)(p / 100.0 * (values->len - 1) + 0.5)) / 1000.0;
}

static gboolean
set_flag(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

static void
iterate_for(guint ms)
{
    gboolean done = FALSE;

    g_timeout_add(ms, set_flag, &done);
    while (!done)
        g_main_context_iteration(NULL, TRUE);
}

static char *
read_line(int fd)
{
    GString *line = g_string_new(NULL);
    char c;

    while (read(fd, &c, 1) == 1 && c != '\n')
        g_string_append_c(line, c);
    return g_string_free(line, FALSE);
}

static GPid
spawn_vmm(const Scenario *sc, const char *path, guint width, guint height, int *in_fd,
          int *out_fd)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *w = g_strdup_printf("%u", width), *h = g_strdup_printf("%u", height);
    g_autofree char *d = g_strdup_printf("%u", sc->damage), *f = g_strdup_printf("%u", sc->fps);
    g_autofree char *n = g_strdup_printf("%u", sc->n_scanouts);
    const char *argv[] = { exe, "--vmm", path, w, h, d, sc->memfd ? "memfd" : "pixels", f, n,
                           NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *ready = NULL;
    GPid pid;

    if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                  &pid, in_fd, out_fd, NULL, &error))
        g_error("spawn: %s", error->message);
    ready = read_line(*out_fd);
    if (g_strcmp0(ready, "READY") != 0)
        g_error("the VMM did not start");
    return pid;
}

typedef struct {
    guint64 submits, sent, skipped, copied;
} VmmStats;

static VmmStats
vmm_stats(int in_fd, int out_fd)
{
    VmmStats st = { 0 };
    g_autofree char *line = NULL;

    if (write(in_fd, "stats\n", 6) == 6) {
        line = read_line(out_fd);
        sscanf(line, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
               " %" G_GUINT64_FORMAT, &st.submits, &st.sent, &st.skipped, &st.copied);
    }
    return st;
}

/* Connects a client to the VMM at @path and measures for @seconds. */
static void
measure(const char *path, Run *run, guint seconds)
{
    SpiceSession *session = spice_session_new();
    SsbClient *client;

    g_object_set(session, "unix-path", path, NULL);
    client = ssb_client_new(session);
    g_signal_connect(client, "frame", G_CALLBACK(on_frame), run);
    g_signal_connect(client, "ready", G_CALLBACK(on_ready), run);
    g_signal_connect(client, "error", G_CALLBACK(on_error), run);
    spice_session_connect(session);
    for (int i = 0; i < 1000 && !run->ready && !run->failed; i++)
        iterate_for(10);
    if (!run->ready || run->failed)
        g_error("the client did not get the local path");
    iterate_for(1000); /* warm up: slots are created and filled on first use */
    run->warm = TRUE;
    iterate_for(seconds * 1000);
    run->warm = FALSE;
    g_object_unref(client);
    spice_session_disconnect(session);
    g_object_unref(session);
}

static void
print_row(const Scenario *sc, Run *run, const VmmStats *st, guint width, guint height)
{
    double secs = run->frames > 1 ? (run->last_us - run->first_us) / 1e6 : 1;

    printf("| %-30s | %7.3f | %7.3f | %8.1f | %6u | %7" G_GUINT64_FORMAT " | %6.2f |\n",
           sc->name, percentile_ms(run->latencies, 50), percentile_ms(run->latencies, 99),
           run->frames > 1 ? (run->frames - 1) / secs / sc->n_scanouts : 0.0, run->frames,
           st->skipped,
           st->sent ? (double)st->copied / st->sent / ((double)width * height * 4) : 0.0);
    fflush(stdout);
}

static void
run_scenario(const Scenario *sc, guint width, guint height, guint seconds)
{
    g_autofree char *dir = g_dir_make_tmp("bench-local-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "spice.sock", NULL);
    Run run = { .latencies = g_array_new(FALSE, FALSE, sizeof(gint64)) };
    VmmStats st;
    int in_fd, out_fd;
    GPid pid;

    g_setenv("XDG_RUNTIME_DIR", dir, TRUE);
    pid = spawn_vmm(sc, path, width, height, &in_fd, &out_fd);
    measure(path, &run, seconds);
    st = vmm_stats(in_fd, out_fd);
    print_row(sc, &run, &st, width, height);
    close(in_fd);
    close(out_fd);
    waitpid(pid, NULL, 0);
    g_spawn_close_pid(pid);
    g_unlink(path);
    g_rmdir(dir);
    g_array_unref(run.latencies);
}

int
main(int argc, char **argv)
{
    static const Scenario scenarios[] = {
        { "pixels, 100% damage, 60fps", FALSE, 100, 60, 1 },
        { "pixels, 10% damage, 60fps", FALSE, 10, 60, 1 },
        { "memfd, 100% damage, 60fps", TRUE, 100, 60, 1 },
        { "pixels, 100% damage, max", FALSE, 100, 0, 1 },
        { "pixels, 10% damage, max", FALSE, 10, 0, 1 },
        { "memfd, 100% damage, max", TRUE, 100, 0, 1 },
        { "16 scanouts, 5% damage, 30fps", FALSE, 5, 30, 16 },
    };
    guint width = 1920, height = 1080, seconds = 3;

    if (argc == 9 && g_str_equal(argv[1], "--vmm"))
        return vmm_main(argv[2], (guint)atoi(argv[3]), (guint)atoi(argv[4]),
                        (guint)atoi(argv[5]), g_str_equal(argv[6], "memfd"),
                        (guint)atoi(argv[7]), (guint)atoi(argv[8]));
    for (int i = 1; i + 1 < argc; i += 2) {
        if (g_str_equal(argv[i], "--seconds"))
            seconds = (guint)atoi(argv[i + 1]);
        else if (g_str_equal(argv[i], "--size") &&
                 sscanf(argv[i + 1], "%ux%u", &width, &height) != 2)
            return 1;
    }
    printf("bench-local: %ux%u XRGB8888, %u s per scenario\n", width, height, seconds);
    printf("| %-30s | p50 ms  | p99 ms  | fps/scan | frames | skipped | copies |\n", "scenario");
    printf("|--------------------------------|---------|---------|----------|--------|---------|"
           "--------|\n");
    for (guint i = 0; i < G_N_ELEMENTS(scenarios); i++)
        run_scenario(&scenarios[i], width, height, seconds);
    return 0;
}
