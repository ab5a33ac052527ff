/* The local socket (server/local-socket.c): private directory, token,
 * SO_PEERCRED, no fds from clients; refusals are logged and the socket
 * keeps serving.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>

#include "glib-spice-core.h"
#include "local-socket.h"

struct owner {
    int bound, messages, errors, lost;
    struct ssb_local_conn *conn;
    enum ssb_error_code last_error;
};

static void
on_bound(void *o, struct ssb_local_conn *conn)
{
    ((struct owner *)o)->bound++;
    ((struct owner *)o)->conn = conn;
}

static void
on_message(void *o, const struct ssb_msg *msg)
{
    ((struct owner *)o)->messages++;
}

static void
on_error(void *o, enum ssb_error_code code, const char *reason)
{
    struct owner *owner = o;

    owner->errors++;
    owner->last_error = code;
    ssb_local_conn_close(g_steal_pointer(&owner->conn));
}

static void
on_lost(void *o)
{
    ((struct owner *)o)->lost++;
    ((struct owner *)o)->conn = NULL;
}

static const struct ssb_local_socket_ops ops = {
    .bound = on_bound, .message = on_message, .error = on_error, .lost = on_lost,
};

static char *runtime_dir;

static int
count_fds(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
    int n = 0;

    while (g_dir_read_name(dir))
        n++;
    return n;
}

static int
connect_to(struct ssb_local_socket *ls)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

    g_strlcpy(addr.sun_path, ssb_local_socket_path(ls), sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    return fd;
}

static void
send_msg(int fd, const struct ssb_msg *msg, int pass_fd)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    ssize_t len = ssb_proto_encode(msg, buf, sizeof(buf));
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control = { 0 };
    struct iovec iov = { .iov_base = buf, .iov_len = (size_t)len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    g_assert_cmpint(len, >, 0);
    if (pass_fd >= 0) {
        struct cmsghdr *c;

        mh.msg_control = control.buf;
        mh.msg_controllen = sizeof(control.buf);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    g_assert_cmpint(sendmsg(fd, &mh, MSG_NOSIGNAL), ==, len);
}

/* Runs the loop until a packet arrives (parsed into @msg) or EOF (false). */
static bool
recv_msg(int fd, struct ssb_msg *msg)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < deadline) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n > 0) {
            g_assert_cmpint(ssb_proto_parse(buf, (size_t)n, 0, msg, NULL), ==, 0);
            return true;
        }
        if (n == 0)
            return false;
        g_assert_cmpint(errno, ==, EAGAIN);
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_assert_not_reached();
}

static void
hello(int fd, const uint8_t *token)
{
    struct ssb_msg msg = { .type = SSB_MSG_LOCAL_HELLO };

    memcpy(msg.u.local_hello.token, token, SSB_PROTO_TOKEN_SIZE);
    send_msg(fd, &msg, -1);
}

static void
expect_refusal(int fd, enum ssb_error_code code)
{
    struct ssb_msg msg;

    g_assert_true(recv_msg(fd, &msg));
    g_assert_cmpint(msg.type, ==, SSB_MSG_ERROR);
    g_assert_cmpint(msg.u.error.code, ==, code);
    g_assert_false(recv_msg(fd, &msg)); /* then EOF */
    close(fd);
}

static void
test_private_dir(void)
{
    struct ssb_local_socket *ls =
        ssb_local_socket_new(ssb_glib_core_get(NULL), runtime_dir, geteuid(), &ops);
    g_autofree char *dir = NULL;
    struct stat st;

    g_assert_nonnull(ls);
    g_assert_true(g_str_has_prefix(ssb_local_socket_path(ls), runtime_dir));
    dir = g_path_get_dirname(ssb_local_socket_path(ls));
    g_assert_cmpint(lstat(dir, &st), ==, 0);
    g_assert_true(S_ISDIR(st.st_mode));
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);
    g_assert_cmpint(st.st_uid, ==, geteuid());
    ssb_local_socket_free(ls);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

static void
test_token(void)
{
    int fds_before = count_fds();
    struct ssb_local_socket *ls =
        ssb_local_socket_new(ssb_glib_core_get(NULL), runtime_dir, geteuid(), &ops);
    uint8_t token[SSB_PROTO_TOKEN_SIZE], wrong[SSB_PROTO_TOKEN_SIZE];
    struct owner owner = { 0 };
    struct ssb_msg msg;
    int fd;

    g_assert_cmpint(ssb_local_socket_offer(ls, &owner, token), ==, 0);
    memcpy(wrong, token, sizeof(wrong));
    wrong[31] ^= 1;

    /* Wrong token: ERROR AUTH, logged, no owner bound. */
    g_test_expect_message("spice-sideband", G_LOG_LEVEL_WARNING, "*refused*token*");
    fd = connect_to(ls);
    hello(fd, wrong);
    expect_refusal(fd, SSB_ERROR_AUTH);
    g_test_assert_expected_messages();
    g_assert_cmpint(owner.bound, ==, 0);
    g_assert_cmpuint(ssb_local_socket_rejected(ls), ==, 1);

    /* Anything but LOCAL_HELLO first. */
    g_test_expect_message("spice-sideband", G_LOG_LEVEL_WARNING, "*refused*LOCAL_HELLO*");
    fd = connect_to(ls);
    msg = (struct ssb_msg){ .type = SSB_MSG_KEEPALIVE };
    send_msg(fd, &msg, -1);
    expect_refusal(fd, SSB_ERROR_STATE);
    g_test_assert_expected_messages();

    /* Still serving: the right token works, once. */
    fd = connect_to(ls);
    hello(fd, token);
    g_assert_true(recv_msg(fd, &msg));
    g_assert_cmpint(msg.type, ==, SSB_MSG_LOCAL_WELCOME);
    g_assert_cmpint(owner.bound, ==, 1);
    g_assert_nonnull(owner.conn);

    /* Messages flow to the owner. */
    msg = (struct ssb_msg){ .type = SSB_MSG_KEEPALIVE };
    send_msg(fd, &msg, -1);
    while (owner.messages == 0)
        g_main_context_iteration(NULL, TRUE);

    /* A client that sends an fd is cut off; the fd is not kept. */
    send_msg(fd, &msg, STDIN_FILENO);
    while (owner.errors == 0)
        g_main_context_iteration(NULL, TRUE);
    g_assert_cmpint(owner.last_error, ==, SSB_ERROR_PROTOCOL);
    g_assert_false(recv_msg(fd, &msg));
    close(fd);

    /* The token was used up. */
    g_test_expect_message("spice-sideband", G_LOG_LEVEL_WARNING, "*refused*token*");
    fd = connect_to(ls);
    hello(fd, token);
    expect_refusal(fd, SSB_ERROR_AUTH);
    g_test_assert_expected_messages();

    ssb_local_socket_free(ls);
    g_assert_cmpint(count_fds(), ==, fds_before);
}

static void
test_wrong_uid(void)
{
    struct ssb_local_socket *ls =
        ssb_local_socket_new(ssb_glib_core_get(NULL), runtime_dir, geteuid() + 1, &ops);
    uint8_t token[SSB_PROTO_TOKEN_SIZE];
    struct owner owner = { 0 };
    int fd;

    g_assert_cmpint(ssb_local_socket_offer(ls, &owner, token), ==, 0);
    for (int i = 0; i < 3; i++) {
        g_test_expect_message("spice-sideband", G_LOG_LEVEL_WARNING, "*refused*uid*");
        fd = connect_to(ls);
        hello(fd, token);
        expect_refusal(fd, SSB_ERROR_AUTH);
        g_test_assert_expected_messages();
    }
    g_assert_cmpint(owner.bound, ==, 0);
    g_assert_cmpuint(ssb_local_socket_rejected(ls), ==, 3);
    ssb_local_socket_free(ls);
}

static void
test_lost(void)
{
    struct ssb_local_socket *ls =
        ssb_local_socket_new(ssb_glib_core_get(NULL), runtime_dir, geteuid(), &ops);
    uint8_t token[SSB_PROTO_TOKEN_SIZE];
    struct owner owner = { 0 };
    struct ssb_msg msg;
    int fd;

    g_assert_cmpint(ssb_local_socket_offer(ls, &owner, token), ==, 0);
    fd = connect_to(ls);
    hello(fd, token);
    g_assert_true(recv_msg(fd, &msg));
    close(fd);
    while (owner.lost == 0)
        g_main_context_iteration(NULL, TRUE);
    g_assert_null(owner.conn);

    /* Revoked tokens do not work. */
    g_assert_cmpint(ssb_local_socket_offer(ls, &owner, token), ==, 0);
    ssb_local_socket_revoke(ls, &owner);
    g_test_expect_message("spice-sideband", G_LOG_LEVEL_WARNING, "*refused*token*");
    fd = connect_to(ls);
    hello(fd, token);
    expect_refusal(fd, SSB_ERROR_AUTH);
    g_test_assert_expected_messages();
    ssb_local_socket_free(ls);
}

/* Sends an empty packet carrying a dup of stdin. */
static void
send_empty_with_fd(int fd)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control = { 0 };
    struct iovec iov = { .iov_base = (void *)"", .iov_len = 0 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf) };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    int pass = dup(STDIN_FILENO);

    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pass, sizeof(int));
    g_assert_cmpint(sendmsg(fd, &mh, MSG_NOSIGNAL), ==, 0);
    close(pass);
}

/* An empty packet is EOF only without fds: with one it is a PROTOCOL error
 * and the fd is closed, before and after LOCAL_HELLO (spec 2.2). */
static void
test_empty_packet_with_fd(void)
{
    int fds_before = count_fds();
    struct ssb_local_socket *ls =
        ssb_local_socket_new(ssb_glib_core_get(NULL), runtime_dir, geteuid(), &ops);
    uint8_t token[SSB_PROTO_TOKEN_SIZE];
    struct owner owner = { 0 };
    struct ssb_msg msg;
    int fd;

    g_test_expect_message("spice-sideband", G_LOG_LEVEL_WARNING, "*refused*descriptors*");
    fd = connect_to(ls);
    send_empty_with_fd(fd);
    expect_refusal(fd, SSB_ERROR_PROTOCOL);
    g_test_assert_expected_messages();
    g_assert_cmpuint(ssb_local_socket_rejected(ls), ==, 1);

    g_assert_cmpint(ssb_local_socket_offer(ls, &owner, token), ==, 0);
    fd = connect_to(ls);
    hello(fd, token);
    g_assert_true(recv_msg(fd, &msg));
    send_empty_with_fd(fd);
    while (owner.errors == 0)
        g_main_context_iteration(NULL, TRUE);
    g_assert_cmpint(owner.last_error, ==, SSB_ERROR_PROTOCOL);
    g_assert_cmpint(owner.lost, ==, 0);
    g_assert_false(recv_msg(fd, &msg));
    close(fd);
    ssb_local_socket_free(ls);
    g_assert_cmpint(count_fds(), ==, fds_before);
}

/* Spec 8: GOODBYE or ERROR before LOCAL_HELLO closes quietly: no ERROR
 * back, no rejection counted. */
static void
test_goodbye_before_hello(void)
{
    struct ssb_local_socket *ls =
        ssb_local_socket_new(ssb_glib_core_get(NULL), runtime_dir, geteuid(), &ops);
    struct ssb_msg msg = { .type = SSB_MSG_GOODBYE };
    int fd;

    fd = connect_to(ls);
    send_msg(fd, &msg, -1);
    g_assert_false(recv_msg(fd, &msg));
    close(fd);
    msg = (struct ssb_msg){ .type = SSB_MSG_ERROR };
    msg.u.error.code = SSB_ERROR_INTERNAL;
    fd = connect_to(ls);
    send_msg(fd, &msg, -1);
    g_assert_false(recv_msg(fd, &msg));
    close(fd);
    g_assert_cmpuint(ssb_local_socket_rejected(ls), ==, 0);
    ssb_local_socket_free(ls);
}

static gboolean
set_flag(gpointer user_data)
{
    *(gboolean *)user_data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Out of fds, accept() fails while the connection stays queued: the
 * socket must rest, not spin the loop, and serve again afterwards. */
static void
test_accept_backoff(void)
{
    struct ssb_local_socket *ls =
        ssb_local_socket_new(ssb_glib_core_get(NULL), runtime_dir, geteuid(), &ops);
    uint8_t token[SSB_PROTO_TOKEN_SIZE];
    struct owner owner = { 0 };
    struct rlimit saved, low;
    gboolean done = FALSE;
    struct ssb_msg msg;
    unsigned int wakeups = 0;
    int fd, probe;

    g_assert_cmpint(ssb_local_socket_offer(ls, &owner, token), ==, 0);
    fd = connect_to(ls);
    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &saved), ==, 0);
    probe = dup(STDIN_FILENO); /* the lowest free fd: none left after it */
    low = saved;
    low.rlim_cur = (rlim_t)probe;
    close(probe);
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
    g_test_expect_message("spice-sideband", G_LOG_LEVEL_WARNING, "*accept failed*");
    g_timeout_add(300, set_flag, &done);
    while (!done) {
        g_main_context_iteration(NULL, TRUE);
        wakeups++;
    }
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &saved), ==, 0);
    /* A spinning watch wakes up thousands of times; a 100 ms rest ~3. */
    g_assert_cmpuint(wakeups, <, 50);
    g_test_assert_expected_messages();
    hello(fd, token);
    g_assert_true(recv_msg(fd, &msg));
    g_assert_cmpint(msg.type, ==, SSB_MSG_LOCAL_WELCOME);
    close(fd);
    while (owner.lost == 0)
        g_main_context_iteration(NULL, TRUE);
    ssb_local_socket_free(ls);
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    runtime_dir = g_dir_make_tmp("ssb-test-local-XXXXXX", NULL);
    ssb_glib_core_get(NULL);
    g_test_add_func("/server/local-socket/private-dir", test_private_dir);
    g_test_add_func("/server/local-socket/token", test_token);
    g_test_add_func("/server/local-socket/wrong-uid", test_wrong_uid);
    g_test_add_func("/server/local-socket/lost", test_lost);
    g_test_add_func("/server/local-socket/empty-packet-with-fd", test_empty_packet_with_fd);
    g_test_add_func("/server/local-socket/goodbye-before-hello", test_goodbye_before_hello);
    g_test_add_func("/server/local-socket/accept-backoff", test_accept_backoff);
    ret = g_test_run();
    rmdir(runtime_dir);
    g_free(runtime_dir);
    return ret;
}
