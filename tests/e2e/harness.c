/* End-to-end test harness (see harness.h).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* ------------------------------------------------------------------ VMM */

static guint
free_tcp_port(void)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static char **
vmm_argv(TestVmm *vmm, const char *listen, const char *const *extra_args)
{
    GPtrArray *argv = g_ptr_array_new();

    g_ptr_array_add(argv, g_strdup(g_getenv("SSB_TEST_VMM")));
    g_ptr_array_add(argv, g_strdup("--listen"));
    g_ptr_array_add(argv, g_strdup(listen));
    for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
        g_ptr_array_add(argv, g_strdup(extra_args[i]));
    g_ptr_array_add(argv, NULL);
    return (char **)g_ptr_array_free(argv, FALSE);
}

/* Runs in the child: its log to a file. */
static void
vmm_child_setup(gpointer user_data)
{
    TestVmm *vmm = user_data;
    int fd = open(vmm->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
}

TestVmm *
test_vmm_start(gboolean tcp, const char *const *extra_args)
{
    TestVmm *vmm = g_new0(TestVmm, 1);
    g_autoptr(GError) error = NULL;
    g_autofree char *listen = NULL;
    g_autofree char *ready = NULL;
    g_auto(GStrv) argv = NULL;
    g_auto(GStrv) envp = g_get_environ();

    g_assert_nonnull(g_getenv("SSB_TEST_VMM"));
    /* A VMM that already quit must not kill us through its stdin pipe. */
    signal(SIGPIPE, SIG_IGN);
    vmm->tcp = tcp;
    vmm->runtime_dir = g_dir_make_tmp("ssb-e2e-XXXXXX", &error);
    g_assert_no_error(error);
    vmm->stderr_path = g_build_filename(vmm->runtime_dir, "vmm.log", NULL);
    vmm->out_buf = g_string_new(NULL);
    if (tcp) {
        guint port = free_tcp_port();
        listen = g_strdup_printf("tcp:127.0.0.1:%u", port);
        vmm->uri = g_strdup_printf("spice://127.0.0.1:%u", port);
    } else {
        g_autofree char *path = g_build_filename(vmm->runtime_dir, "spice.sock", NULL);
        listen = g_strdup_printf("unix:%s", path);
        vmm->uri = g_strdup_printf("spice+unix://%s", path);
    }
    argv = vmm_argv(vmm, listen, extra_args);
    envp = g_environ_setenv(envp, "XDG_RUNTIME_DIR", vmm->runtime_dir, TRUE);
    g_spawn_async_with_pipes(NULL, argv, envp, G_SPAWN_DO_NOT_REAP_CHILD, vmm_child_setup, vmm,
                             &vmm->pid, &vmm->in_fd, &vmm->out_fd, NULL, &error);
    g_assert_no_error(error);
    ready = test_vmm_read_line(vmm);
    g_assert_cmpstr(ready, ==, "READY");
    return vmm;
}

char *
test_vmm_read_line(TestVmm *vmm)
{
    gint64 deadline = g_get_monotonic_time() + E2E_TIMEOUT_MS * 1000;

    for (;;) {
        char *nl = strchr(vmm->out_buf->str, '\n');
        struct pollfd pfd = { .fd = vmm->out_fd, .events = POLLIN };
        char buf[4096];
        ssize_t n;

        if (nl != NULL) {
            char *line = g_strndup(vmm->out_buf->str, (gsize)(nl - vmm->out_buf->str));
            g_string_erase(vmm->out_buf, 0, nl - vmm->out_buf->str + 1);
            return line;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        n = read(vmm->out_fd, buf, sizeof(buf));
        if (n <= 0) {
            g_autofree char *log = test_vmm_log(vmm);
            g_error("the VMM exited; its log:\n%s", log);
        }
        g_string_append_len(vmm->out_buf, buf, n);
    }
}

char *
test_vmm_command(TestVmm *vmm, const char *fmt, ...)
{
    g_autofree char *line = NULL;
    va_list args;
    gsize len;

    va_start(args, fmt);
    line = g_strdup_vprintf(fmt, args);
    va_end(args);
    len = strlen(line);
    line = g_realloc(line, len + 2);
    line[len] = '\n';
    line[len + 1] = '\0';
    g_assert_cmpint(write(vmm->in_fd, line, len + 1), ==, (gssize)(len + 1));
    return test_vmm_read_line(vmm);
}

guint64
test_vmm_submit(TestVmm *vmm, guint id, const SsbRect *rect)
{
    g_autofree char *reply = NULL;
    guint got_id = 0;
    guint64 seq = 0;

    if (rect != NULL)
        reply = test_vmm_command(vmm, "submit %u %u %u %u %u", id, rect->x, rect->y,
                                 rect->width, rect->height);
    else
        reply = test_vmm_command(vmm, "submit %u", id);
    if (g_str_has_prefix(reply, "busy"))
        return 0;
    g_assert_cmpint(sscanf(reply, "submitted %u %" G_GUINT64_FORMAT, &got_id, &seq), ==, 2);
    g_assert_cmpuint(got_id, ==, id);
    return seq;
}

gint64
test_vmm_stat(TestVmm *vmm, const char *key)
{
    g_autofree char *json = test_vmm_command(vmm, "stats");
    g_autofree char *needle = g_strdup_printf("\"%s\":", key);
    const char *at = strstr(json, needle);

    if (at == NULL)
        g_error("no %s in stats: %s", key, json);
    at += strlen(needle);
    while (*at == ' ')
        at++;
    return g_ascii_strtoll(at, NULL, 10);
}

gboolean
test_vmm_alive(TestVmm *vmm)
{
    int status;

    if (vmm->exited)
        return FALSE;
    if (waitpid(vmm->pid, &status, WNOHANG) == 0)
        return TRUE;
    vmm->exited = TRUE;
    return FALSE;
}

char *
test_vmm_log(TestVmm *vmm)
{
    char *log = NULL;

    if (!g_file_get_contents(vmm->stderr_path, &log, NULL, NULL))
        log = g_strdup("");
    return log;
}

static void
remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            remove_tree(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}

void
test_vmm_stop(TestVmm *vmm)
{
    int status = 0;
    gint64 deadline = g_get_monotonic_time() + E2E_TIMEOUT_MS * 1000;

    if (write(vmm->in_fd, "quit\n", 5) != 5 && !vmm->exited)
        kill(vmm->pid, SIGTERM);
    close(vmm->in_fd);
    while (!vmm->exited && waitpid(vmm->pid, &status, WNOHANG) == 0) {
        if (g_get_monotonic_time() > deadline) {
            kill(vmm->pid, SIGKILL);
            waitpid(vmm->pid, &status, 0);
            break;
        }
        g_usleep(10000);
    }
    g_spawn_close_pid(vmm->pid);
    close(vmm->out_fd);
    remove_tree(vmm->runtime_dir);
    g_string_free(vmm->out_buf, TRUE);
    g_free(vmm->runtime_dir);
    g_free(vmm->stderr_path);
    g_free(vmm->uri);
    g_free(vmm);
}

static char *
find_socket_in(const char *dir_path, int depth)
{
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    const char *name;

    while (dir != NULL && depth < 3 && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *child = g_build_filename(dir_path, name, NULL);
        struct stat st;

        if (lstat(child, &st) < 0)
            continue;
        if (S_ISSOCK(st.st_mode) && strcmp(name, "spice.sock") != 0)
            return g_steal_pointer(&child);
        if (S_ISDIR(st.st_mode)) {
            char *found = find_socket_in(child, depth + 1);
            if (found != NULL)
                return found;
        }
    }
    return NULL;
}

char *
test_vmm_find_local_socket(TestVmm *vmm)
{
    return find_socket_in(vmm->runtime_dir, 0);
}

/* --------------------------------------------------------------- canvas */

void
test_canvas_init(TestCanvas *canvas, guint id, guint width, guint height)
{
    canvas->id = id;
    canvas->width = width;
    canvas->height = height;
    canvas->seq = 0;
    g_free(canvas->pixels);
    canvas->pixels = g_malloc((gsize)width * height * 4);
    ssb_test_pattern_fill(canvas->pixels, width * 4, id, 0, 0, 0, width, height);
}

void
test_canvas_apply(TestCanvas *canvas, guint64 seq, const SsbRect *rect)
{
    SsbRect all = { 0, 0, canvas->width, canvas->height };

    if (rect == NULL)
        rect = &all;
    ssb_test_pattern_fill(canvas->pixels, canvas->width * 4, canvas->id, seq, rect->x, rect->y,
                          rect->width, rect->height);
    canvas->seq = seq;
}

void
test_canvas_clear(TestCanvas *canvas)
{
    g_clear_pointer(&canvas->pixels, g_free);
}

guint64
test_canvas_diff(const TestCanvas *canvas, const guint8 *data, guint stride)
{
    guint64 bad = 0;

    for (guint y = 0; y < canvas->height; y++) {
        const guint8 *want = canvas->pixels + (gsize)y * canvas->width * 4;
        const guint8 *got = data + (gsize)y * stride;

        if (memcmp(want, got, (gsize)canvas->width * 4) == 0)
            continue;
        for (guint x = 0; x < canvas->width * 4; x += 4)
            bad += memcmp(want + x, got + x, 4) != 0;
    }
    return bad;
}

guint64
test_canvas_diff_frame(const TestCanvas *canvas, SsbFrame *frame)
{
    SsbDmabufInfo info;
    const guint8 *data;
    guint stride = 0;
    guint64 bad;
    gsize size;
    void *map;

    g_assert_cmpuint(ssb_frame_get_width(frame), ==, canvas->width);
    g_assert_cmpuint(ssb_frame_get_height(frame), ==, canvas->height);
    data = ssb_frame_get_data(frame, &stride);
    if (data != NULL)
        return test_canvas_diff(canvas, data, stride);
    g_assert_true(ssb_frame_get_dmabuf(frame, &info));
    size = (gsize)info.offsets[0] + (gsize)info.strides[0] * canvas->height;
    map = mmap(NULL, size, PROT_READ, MAP_SHARED, info.fds[0], 0);
    g_assert_true(map != MAP_FAILED);
    bad = test_canvas_diff(canvas, (const guint8 *)map + info.offsets[0], info.strides[0]);
    munmap(map, size);
    return bad;
}

/* --------------------------------------------------------------- client */

static void
on_ready(SsbClient *client, SsbClientPath path, TestClient *tc)
{
    tc->ready = TRUE;
    tc->path = path;
}

static void
on_frame(SsbClient *client, SsbFrame *frame, TestClient *tc)
{
    guint id = ssb_frame_get_scanout_id(frame);

    g_assert_cmpuint(id, <, 64);
    tc->frames[id]++;
    g_clear_pointer(&tc->latest[id], ssb_frame_unref);
    tc->latest[id] = ssb_frame_ref(frame);
    if (tc->hold)
        g_ptr_array_add(tc->held, ssb_frame_ref(frame));
}

static void
on_error(SsbClient *client, GError *error, TestClient *tc)
{
    g_test_message("client error: %s", error->message);
    if (tc->error == NULL)
        tc->error = g_error_copy(error);
}

static void
on_closed(SsbClient *client, TestClient *tc)
{
    tc->closed = TRUE;
}

static void
on_scanout(SsbClient *client, guint id, guint *counter)
{
    (*counter)++;
}

static void
session_target(SpiceSession *session, const char *uri)
{
    if (g_str_has_prefix(uri, "spice+unix://")) {
        g_object_set(session, "unix-path", uri + strlen("spice+unix://"), NULL);
    } else {
        const char *colon = strrchr(uri, ':');
        g_autofree char *host = g_strndup(uri + strlen("spice://"),
                                          (gsize)(colon - uri - strlen("spice://")));
        g_object_set(session, "host", host, "port", colon + 1, NULL);
    }
}

static TestClient *
client_new(SpiceSession *session)
{
    TestClient *tc = g_new0(TestClient, 1);

    tc->session = session;
    tc->client = ssb_client_new(tc->session);
    tc->held = g_ptr_array_new_with_free_func((GDestroyNotify)ssb_frame_unref);
    g_signal_connect(tc->client, "ready", G_CALLBACK(on_ready), tc);
    g_signal_connect(tc->client, "frame", G_CALLBACK(on_frame), tc);
    g_signal_connect(tc->client, "error", G_CALLBACK(on_error), tc);
    g_signal_connect(tc->client, "closed", G_CALLBACK(on_closed), tc);
    g_signal_connect(tc->client, "scanout-added", G_CALLBACK(on_scanout), &tc->added);
    g_signal_connect(tc->client, "scanout-resized", G_CALLBACK(on_scanout), &tc->resized);
    g_signal_connect(tc->client, "scanout-removed", G_CALLBACK(on_scanout), &tc->removed);
    return tc;
}

TestClient *
test_client_new(TestVmm *vmm)
{
    SpiceSession *session = spice_session_new();

    session_target(session, vmm->uri);
    return client_new(session);
}

TestClient *
test_client_new_on_session(TestClient *other)
{
    TestClient *tc = client_new(g_object_ref(other->session));

    tc->shared_session = TRUE;
    return tc;
}

void
test_client_connect(TestClient *tc)
{
    if (!tc->shared_session)
        g_assert_true(spice_session_connect(tc->session));
}

static gboolean
ready_or_failed(gpointer data)
{
    TestClient *tc = data;
    return tc->ready || tc->closed || tc->error != NULL;
}

void
test_client_connect_ready(TestClient *tc)
{
    test_client_connect(tc);
    g_assert_true(test_run_until(ready_or_failed, tc));
    g_assert_no_error(tc->error);
    g_assert_true(tc->ready);
}

static gboolean
session_gone(gpointer data)
{
    return *(gboolean *)data;
}

static void
on_disconnected(SpiceSession *session, gboolean *done)
{
    *done = TRUE;
}

void
test_client_free(TestClient *tc)
{
    gboolean done = FALSE;

    g_ptr_array_unref(tc->held);
    for (guint i = 0; i < 64; i++)
        g_clear_pointer(&tc->latest[i], ssb_frame_unref);
    g_signal_handlers_disconnect_by_data(tc->client, tc);
    g_clear_object(&tc->client);
    if (tc->shared_session) {
        g_object_unref(tc->session);
        g_clear_error(&tc->error);
        g_free(tc);
        return;
    }
    g_signal_connect(tc->session, "disconnected", G_CALLBACK(on_disconnected), &done);
    spice_session_disconnect(tc->session);
    test_run_until(session_gone, &done);
    g_object_unref(tc->session);
    /* Let spice-gtk's delayed channel unrefs run. */
    test_run_for(20);
    g_clear_error(&tc->error);
    g_free(tc);
}

/* ----------------------------------------------------------------- loop */

static gboolean
timeout_cb(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

gboolean
test_run_until(gboolean (*cond)(gpointer data), gpointer data)
{
    gboolean timed_out = FALSE;
    guint id = g_timeout_add(E2E_TIMEOUT_MS, timeout_cb, &timed_out);

    while (!cond(data) && !timed_out)
        g_main_context_iteration(NULL, TRUE);
    if (!timed_out)
        g_source_remove(id);
    return !timed_out;
}

void
test_run_for(guint ms)
{
    gboolean done = FALSE;

    g_timeout_add(ms, timeout_cb, &done);
    while (!done)
        g_main_context_iteration(NULL, TRUE);
}

typedef struct {
    TestClient *tc;
    guint id;
    guint64 seq;
} SeqWait;

static gboolean
seq_reached(gpointer data)
{
    SeqWait *w = data;
    SsbFrame *f = w->tc->latest[w->id];

    return (f != NULL && ssb_frame_get_seq(f) >= w->seq) || w->tc->error != NULL ||
           w->tc->closed;
}

SsbFrame *
test_client_wait_seq(TestClient *tc, guint id, guint64 seq)
{
    SeqWait w = { tc, id, seq };

    g_assert_true(test_run_until(seq_reached, &w));
    g_assert_no_error(tc->error);
    g_assert_nonnull(tc->latest[id]);
    return tc->latest[id];
}

/* ----------------------------------------------------------- resources */

guint
test_count_fds(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
    guint n = 0;

    while (dir != NULL && g_dir_read_name(dir) != NULL)
        n++;
    return n;
}

guint
test_count_memfd_maps(void)
{
    g_autofree char *maps = NULL;
    guint n = 0;

    g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
    for (const char *p = maps; (p = strstr(p, "memfd:")) != NULL; p++)
        n++;
    return n;
}
