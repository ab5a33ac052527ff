/* The local socket refuses a bogus token with a logged reason and goes on
 * serving the real client; clients that do not want the local path stay on
 * the port.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "harness.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <spice-sideband/proto.h>

/* Connects to @path and proves a made-up token.  Returns what the server
 * did: the type of the message it answered with, or 0 for a plain close. */
static int
hello_with_bogus_token(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct ssb_msg msg = { .type = SSB_MSG_LOCAL_HELLO };
    struct pollfd pfd = { .events = POLLIN };
    guint8 buf[SSB_PROTO_MAX_MSG_SIZE];
    struct ssb_msg reply;
    ssize_t len;
    int type = 0;

    memset(msg.u.local_hello.token, 0x5a, sizeof(msg.u.local_hello.token));
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    pfd.fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    g_assert_cmpint(pfd.fd, >=, 0);
    g_assert_cmpint(connect(pfd.fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    len = ssb_proto_encode(&msg, buf, sizeof(buf));
    g_assert_cmpint(send(pfd.fd, buf, (size_t)len, MSG_NOSIGNAL), ==, len);
    /* The server answers (ERROR) and/or closes; it must not keep us. */
    while (poll(&pfd, 1, E2E_TIMEOUT_MS) == 1) {
        len = recv(pfd.fd, buf, sizeof(buf), 0);
        if (len <= 0)
            break;
        g_assert_cmpint(ssb_proto_parse(buf, (size_t)len, 0, &reply, NULL), ==, 0);
        type = reply.type;
        g_assert_cmpint(type, !=, SSB_MSG_LOCAL_WELCOME);
        g_assert_cmpint(type, !=, SSB_MSG_SLOT_ANNOUNCE);
    }
    g_assert_cmpint(len, <=, 0);
    close(pfd.fd);
    return type;
}

static void
test_bogus_token(void)
{
    const char *args[] = { "--size", "128x96", NULL };
    TestVmm *vmm = test_vmm_start(FALSE, args);
    TestClient *tc = test_client_new(vmm);
    g_autofree char *path = NULL;
    g_autofree char *log = NULL;
    TestCanvas canvas = { 0 };
    guint64 seq;

    test_client_connect_ready(tc);
    g_assert_cmpint(tc->path, ==, SSB_CLIENT_PATH_LOCAL);
    path = test_vmm_find_local_socket(vmm);
    g_assert_nonnull(path);
    for (int i = 0; i < 3; i++)
        hello_with_bogus_token(path);
    g_assert_cmpint(test_vmm_stat(vmm, "local_rejected"), ==, 3);
    log = test_vmm_log(vmm);
    g_assert_nonnull(strstr(log, "refused a connection"));

    /* The real client goes on. */
    test_canvas_init(&canvas, 0, 128, 96);
    seq = test_vmm_submit(vmm, 0, NULL);
    test_canvas_apply(&canvas, seq, NULL);
    g_assert_cmpuint(test_canvas_diff_frame(&canvas, test_client_wait_seq(tc, 0, seq)), ==, 0);
    g_assert_cmpint(test_vmm_stat(vmm, "local_clients"), ==, 1);
    g_assert_no_error(tc->error);
    test_canvas_clear(&canvas);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

/* Without a local path and without video, the server may end the
 * sideband with ERROR UNSUPPORTED (spec 4.2 step 4); nothing else. */
static void
assert_no_error_but_unsupported(TestClient *tc)
{
    if (tc->error != NULL)
        g_assert_error(tc->error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_UNSUPPORTED);
}

/* A client that may not use the local path gets scanouts but no frames. */
static void
run_port_only(const char *property)
{
    TestVmm *vmm = test_vmm_start(FALSE, NULL);
    TestClient *tc = test_client_new(vmm);

    /* No codecs: no video either (the remote path is test-video.c's). */
    g_object_set(tc->client, property, g_str_equal(property, "force-remote"), "codecs", "", NULL);
    test_client_connect_ready(tc);
    g_assert_cmpint(tc->path, ==, SSB_CLIENT_PATH_NONE);
    g_assert_cmpuint(test_vmm_submit(vmm, 0, NULL), >, 0);
    test_run_for(100);
    g_assert_cmpuint(tc->frames[0], ==, 0);
    g_assert_cmpstr(ssb_client_get_path_name(tc->client, 0), ==, "none");
    g_assert_cmpint(test_vmm_stat(vmm, "local_clients"), ==, 0);
    assert_no_error_but_unsupported(tc);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

static void
test_no_local(void)
{
    run_port_only("allow-local");
}

static void
test_force_remote(void)
{
    run_port_only("force-remote");
}

static void
test_server_without_local(void)
{
    const char *args[] = { "--no-local", NULL };
    TestVmm *vmm = test_vmm_start(TRUE, args);
    TestClient *tc = test_client_new(vmm);

    g_auto(GStrv) codecs = ssb_client_list_decodable_codecs();

    /* No local socket: the remote path, when there is a codec. */
    test_client_connect_ready(tc);
    g_assert_cmpint(tc->path, ==, codecs[0] != NULL ? SSB_CLIENT_PATH_VIDEO
                                                    : SSB_CLIENT_PATH_NONE);
    g_assert_no_error(tc->error);
    test_client_free(tc);
    test_vmm_stop(vmm);
}

/* The server refuses the client's LOCAL_HELLO (here: not the allowed
 * uid); the client declines with a reason and stays on the port. */
static void
test_refused_hello(void)
{
    g_autofree char *uid = g_strdup_printf("%u", (guint)getuid() + 1);
    const char *args[] = { "--allowed-uid", uid, NULL };
    TestVmm *vmm = test_vmm_start(FALSE, args);
    TestClient *tc = test_client_new(vmm);
    g_autofree char *log = NULL;

    g_object_set(tc->client, "codecs", "", NULL); /* no video fallback */
    test_client_connect_ready(tc);
    g_assert_cmpint(tc->path, ==, SSB_CLIENT_PATH_NONE);
    g_assert_cmpint(test_vmm_stat(vmm, "local_rejected"), ==, 1);
    assert_no_error_but_unsupported(tc);
    log = test_vmm_log(vmm);
    g_assert_nonnull(strstr(log, "refused a connection"));
    test_client_free(tc);
    test_vmm_stop(vmm);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/e2e/token/bogus", test_bogus_token);
    g_test_add_func("/e2e/token/refused-hello", test_refused_hello);
    g_test_add_func("/e2e/token/allow-local-false", test_no_local);
    g_test_add_func("/e2e/token/force-remote", test_force_remote);
    g_test_add_func("/e2e/token/server-without-local", test_server_without_local);
    return g_test_run();
}
