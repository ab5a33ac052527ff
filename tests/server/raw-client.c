/* The harness that test-server-e2e and test-server-video share.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "raw-client.h"

#include <string.h>

#include <glib/gstdio.h>

/* ---- the VMM subprocess ---- */

char *
ssb_test_vmm_line(struct ssb_test_vmm *vmm)
{
    g_autoptr(GError) error = NULL;
    char *line = g_data_input_stream_read_line(vmm->out, NULL, NULL, &error);

    g_assert_no_error(error);
    g_assert_nonnull(line);
    return line;
}

char *
ssb_test_vmm_cmd(struct ssb_test_vmm *vmm, const char *cmd)
{
    g_autofree char *text = g_strdup_printf("%s\n", cmd);
    g_autoptr(GError) error = NULL;

    g_assert_true(g_output_stream_write_all(vmm->in, text, strlen(text), NULL, NULL, &error));
    g_assert_no_error(error);
    return ssb_test_vmm_line(vmm);
}

void
ssb_test_vmm_start(struct ssb_test_vmm *vmm, const char *dir_template,
                   const char *const *args, const char *const *extra)
{
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_autofree char *line = NULL;

    vmm->dir = g_dir_make_tmp(dir_template, NULL);
    vmm->spice_path = g_build_filename(vmm->dir, "spice.sock", NULL);
    g_subprocess_launcher_setenv(launcher, "XDG_RUNTIME_DIR", vmm->dir, TRUE);
    /* The client library leaks at exit; the VMM is checked for leaks. */
    if (g_getenv("SSB_VMM_ASAN_OPTIONS"))
        g_subprocess_launcher_setenv(launcher, "ASAN_OPTIONS", g_getenv("SSB_VMM_ASAN_OPTIONS"),
                                     TRUE);
    g_ptr_array_add(argv, g_strdup(g_getenv("SSB_TEST_VMM")));
    g_ptr_array_add(argv, vmm->tcp_port ? g_strdup_printf("--listen=tcp:127.0.0.1:%d",
                                                          vmm->tcp_port)
                                        : g_strdup_printf("--listen=unix:%s", vmm->spice_path));
    for (; args && *args; args++)
        g_ptr_array_add(argv, g_strdup(*args));
    for (; extra && *extra; extra++)
        g_ptr_array_add(argv, g_strdup(*extra));
    g_ptr_array_add(argv, NULL);
    vmm->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
    g_assert_no_error(error);
    vmm->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(vmm->proc));
    vmm->in = g_subprocess_get_stdin_pipe(vmm->proc);
    line = ssb_test_vmm_line(vmm);
    g_assert_cmpstr(line, ==, "READY");
}

void
ssb_test_vmm_stop(struct ssb_test_vmm *vmm, bool check_dir)
{
    g_autoptr(GError) error = NULL;

    g_output_stream_write_all(vmm->in, "quit\n", 5, NULL, NULL, NULL);
    g_assert_true(g_subprocess_wait(vmm->proc, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_subprocess_get_if_exited(vmm->proc));
    g_assert_cmpint(g_subprocess_get_exit_status(vmm->proc), ==, 0);
    g_clear_object(&vmm->out);
    g_clear_object(&vmm->proc);
    if (check_dir) {
        g_autoptr(GDir) dir = g_dir_open(vmm->dir, 0, NULL);

        /* The server removed its socket directory. */
        for (const char *name; (name = g_dir_read_name(dir));) {
            g_assert_false(g_str_has_prefix(name, "spice-sideband-"));
            g_autofree char *path = g_build_filename(vmm->dir, name, NULL);
            g_unlink(path);
        }
    }
    g_rmdir(vmm->dir);
    g_free(vmm->dir);
    g_free(vmm->spice_path);
}

/* ---- the raw client ---- */

static gboolean
tick(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

void
ssb_test_wait_until(bool (*cond)(void *), void *data, int seconds)
{
    gint64 deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
    guint waker = g_timeout_add(50, tick, NULL); /* so the deadline is checked */

    while (!cond(data)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, TRUE);
    }
    g_source_remove(waker);
}

static void
on_port_data(SpicePortChannel *port, gpointer data, int size, struct ssb_test_client *c)
{
    const uint8_t *raw;
    size_t len;

    g_assert_cmpint(ssb_proto_reader_feed(c->reader, data, (size_t)size), ==, 0);
    while (ssb_proto_reader_next(c->reader, &raw, &len, NULL) == 1)
        g_queue_push_tail(&c->port_msgs, c->parse(c, raw, len));
}

static void
on_port_opened(GObject *port, GParamSpec *pspec, struct ssb_test_client *c)
{
    gboolean opened;
    g_autofree char *name = NULL;

    g_object_get(port, "port-opened", &opened, "port-name", &name, NULL);
    if (g_strcmp0(name, SSB_PORT_NAME) == 0)
        c->opened = opened;
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, struct ssb_test_client *c)
{
    if (!SPICE_IS_PORT_CHANNEL(channel))
        return;
    c->port = SPICE_PORT_CHANNEL(channel);
    g_signal_connect(channel, "port-data", G_CALLBACK(on_port_data), c);
    g_signal_connect(channel, "notify::port-opened", G_CALLBACK(on_port_opened), c);
    spice_channel_connect(channel);
}

bool
ssb_test_client_is_open(void *c)
{
    return ((struct ssb_test_client *)c)->opened;
}

bool
ssb_test_client_has_msg(void *c)
{
    return !g_queue_is_empty(&((struct ssb_test_client *)c)->port_msgs);
}

void
ssb_test_client_connect(struct ssb_test_client *c, struct ssb_test_vmm *vmm,
                        ssb_test_parse_fn parse)
{
    memset(c, 0, sizeof(*c));
    c->parse = parse;
    c->reader = ssb_proto_reader_new();
    g_queue_init(&c->port_msgs);
    c->session = spice_session_new();
    if (vmm->tcp_port) {
        g_autofree char *port = g_strdup_printf("%d", vmm->tcp_port);

        g_object_set(c->session, "host", "127.0.0.1", "port", port, NULL);
    } else {
        g_object_set(c->session, "unix-path", vmm->spice_path, NULL);
    }
    g_signal_connect(c->session, "channel-new", G_CALLBACK(on_channel_new), c);
    g_assert_true(spice_session_connect(c->session));
    ssb_test_wait_until(ssb_test_client_is_open, c, 10);
}

void
ssb_test_client_disconnect(struct ssb_test_client *c, gint64 linger_us)
{
    /* The channel may still deliver data while the session winds down:
     * stop listening before the reader goes. */
    if (c->port)
        g_signal_handlers_disconnect_by_data(c->port, c);
    spice_session_disconnect(c->session);
    g_clear_object(&c->session);
    g_queue_clear_full(&c->port_msgs, g_free);
    g_clear_pointer(&c->reader, ssb_proto_reader_free);
    /* spice-server replaces sessions; give the old one time to go. */
    for (gint64 end = g_get_monotonic_time() + linger_us; g_get_monotonic_time() < end;)
        g_main_context_iteration(NULL, FALSE);
}

void *
ssb_test_port_next(struct ssb_test_client *c, enum ssb_msg_type type)
{
    struct ssb_msg *msg;

    for (;;) {
        ssb_test_wait_until(ssb_test_client_has_msg, c, 10);
        msg = g_queue_pop_head(&c->port_msgs);
        if (msg->type != SSB_MSG_KEEPALIVE)
            break;
        c->keepalives++;
        g_free(msg);
    }
    g_assert_cmpstr(ssb_proto_msg_name(msg->type), ==, ssb_proto_msg_name(type));
    return msg;
}

void
ssb_test_write_done(GObject *source, GAsyncResult *res, gpointer buf)
{
    g_autoptr(GError) error = NULL;

    spice_port_channel_write_finish(SPICE_PORT_CHANNEL(source), res, &error);
    g_assert_no_error(error);
    g_free(buf);
}

void
ssb_test_port_send(struct ssb_test_client *c, const struct ssb_msg *msg)
{
    uint8_t *buf = g_malloc(SSB_PROTO_MAX_MSG_SIZE);
    ssize_t len = ssb_proto_encode(msg, buf, SSB_PROTO_MAX_MSG_SIZE);

    g_assert_cmpint(len, >, 0);
    spice_port_channel_write_async(c->port, buf, (gsize)len, NULL, ssb_test_write_done, buf);
}
