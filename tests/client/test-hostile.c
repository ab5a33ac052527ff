/* The client against a hostile server: a fake local socket server sends
 * malformed, out-of-state and dangerous messages; the client must close
 * with a PROTOCOL error, tell the peer (ERROR), close every fd it got and
 * never crash.  Port messages are fed straight into the dispatcher.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"
#include "host-id.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define W 64
#define H 32

typedef struct {
    char *dir, *path;
    int listen_fd, conn_fd;
    SpiceSession *session;
    SsbClient *client;
    gboolean ready, closed;
    SsbClientPath path_chosen;
    GError *error;
    SsbFrame *frame;
} Fixture;

static guint
count_fds(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
    guint n = 0;

    while (g_dir_read_name(dir) != NULL)
        n++;
    return n;
}

static void
run_until(gboolean *flag)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (!*flag && g_get_monotonic_time() < deadline) {
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    }
    g_assert_true(*flag);
}

static void
on_ready(SsbClient *client, SsbClientPath path, Fixture *fx)
{
    fx->ready = TRUE;
    fx->path_chosen = path;
}

static void
on_error(SsbClient *client, GError *error, Fixture *fx)
{
    g_assert_null(fx->error);
    fx->error = g_error_copy(error);
}

static void
on_frame(SsbClient *client, SsbFrame *frame, Fixture *fx)
{
    g_clear_pointer(&fx->frame, ssb_frame_unref);
    fx->frame = ssb_frame_ref(frame);
}

static void
on_closed(SsbClient *client, Fixture *fx)
{
    fx->closed = TRUE;
}

static void
feed_port(Fixture *fx, const struct ssb_msg *msg)
{
    ssb_client_handle_port_message(msg, fx->client);
}

/* Sends raw bytes with @n_fds fds (borrowed) on the fake server's side. */
static void
send_raw(Fixture *fx, const void *data, size_t len, const int *fds, guint n_fds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 8)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { (void *)data, len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (n_fds > 0) {
        struct cmsghdr *c;
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
    }
    g_assert_cmpint(sendmsg(fx->conn_fd, &mh, MSG_NOSIGNAL), ==, (ssize_t)len);
}

static void
send_msg(Fixture *fx, const struct ssb_msg *msg, const int *fds, guint n_fds)
{
    guint8 buf[SSB_PROTO_MAX_MSG_SIZE];
    ssize_t len = ssb_proto_encode(msg, buf, sizeof(buf));

    g_assert_cmpint(len, >, 0);
    send_raw(fx, buf, (size_t)len, fds, n_fds);
}

/* Receives one message from the client on the local socket (or type 0 on
 * EOF / nothing within a while). */
static int
recv_msg(Fixture *fx, struct ssb_msg *msg)
{
    struct pollfd pfd = { .fd = fx->conn_fd, .events = POLLIN };
    guint8 buf[SSB_PROTO_MAX_MSG_SIZE];
    ssize_t len;

    if (poll(&pfd, 1, 5000) != 1)
        return 0;
    len = recv(fx->conn_fd, buf, sizeof(buf), 0);
    if (len <= 0)
        return 0;
    g_assert_cmpint(ssb_proto_parse(buf, (size_t)len, 0, msg, NULL), ==, 0);
    return msg->type;
}

static int
sealed_memfd(size_t size, gboolean seal)
{
    int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    if (seal)
        g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), ==, 0);
    return fd;
}

static void
announce_msg(struct ssb_msg *msg, guint slot_id, guint64 size)
{
    memset(msg, 0, sizeof(*msg));
    msg->type = SSB_MSG_SLOT_ANNOUNCE;
    msg->u.slot_announce = (struct ssb_msg_slot_announce){
        .scanout_id = 0, .slot_id = slot_id, .kind = SSB_SLOT_SHM, .width = W, .height = H,
        .fourcc = SSB_FORMAT_XRGB8888, .modifier = SSB_MODIFIER_LINEAR, .size = size,
        .n_planes = 1, .planes = { { 0, W * 4 } },
    };
}

static void
frame_msg(struct ssb_msg *msg, guint slot_id, guint64 seq)
{
    memset(msg, 0, sizeof(*msg));
    msg->type = SSB_MSG_FRAME;
    msg->u.frame.scanout_id = 0;
    msg->u.frame.slot_id = slot_id;
    msg->u.frame.seq = seq;
    msg->u.frame.t_submit_us = (guint64)g_get_monotonic_time();
}

/* Brings a client to the local path with a fake server behind it. */
static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct ssb_msg msg = { .type = SSB_MSG_SERVER_HELLO };
    struct ssb_msg offer = { .type = SSB_MSG_LOCAL_OFFER };
    struct ssb_msg hello;

    fx->dir = g_dir_make_tmp("ssb-hostile-XXXXXX", NULL);
    fx->path = g_build_filename(fx->dir, "local.sock", NULL);
    g_strlcpy(addr.sun_path, fx->path, sizeof(addr.sun_path));
    fx->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(fx->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fx->listen_fd, 4), ==, 0);

    fx->session = spice_session_new();
    fx->client = ssb_client_new(fx->session);
    g_signal_connect(fx->client, "ready", G_CALLBACK(on_ready), fx);
    g_signal_connect(fx->client, "error", G_CALLBACK(on_error), fx);
    g_signal_connect(fx->client, "frame", G_CALLBACK(on_frame), fx);
    g_signal_connect(fx->client, "closed", G_CALLBACK(on_closed), fx);

    msg.u.server_hello = (struct ssb_msg_server_hello){ 1, 0, SSB_CAP_SHM | SSB_CAP_LOCAL_SOCKET,
                                                        0, 64 };
    feed_port(fx, &msg);
    memset(offer.u.local_offer.token, 7, SSB_PROTO_TOKEN_SIZE);
    g_assert_cmpint(ssb_host_id_get(offer.u.local_offer.host_id), ==, 0);
    g_strlcpy(offer.u.local_offer.path, fx->path, sizeof(offer.u.local_offer.path));
    feed_port(fx, &offer);
    fx->conn_fd = accept4(fx->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    g_assert_cmpint(fx->conn_fd, >=, 0);
    g_assert_cmpint(recv_msg(fx, &hello), ==, SSB_MSG_LOCAL_HELLO);
    g_assert_cmpmem(hello.u.local_hello.token, SSB_PROTO_TOKEN_SIZE, offer.u.local_offer.token,
                    SSB_PROTO_TOKEN_SIZE);
    memset(&msg, 0, sizeof(msg));
    msg.type = SSB_MSG_LOCAL_WELCOME;
    send_msg(fx, &msg, NULL, 0);
    run_until(&fx->ready);
    g_assert_cmpint(fx->path_chosen, ==, SSB_CLIENT_PATH_LOCAL);
    /* The scanout the slots belong to. */
    memset(&msg, 0, sizeof(msg));
    msg.type = SSB_MSG_SCANOUT_CREATE;
    msg.u.scanout = (struct ssb_msg_scanout){ 0, 0, W, H, SSB_FORMAT_XRGB8888, 0 };
    feed_port(fx, &msg);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    g_clear_pointer(&fx->frame, ssb_frame_unref);
    g_clear_object(&fx->client);
    g_clear_object(&fx->session);
    close(fx->conn_fd);
    close(fx->listen_fd);
    g_unlink(fx->path);
    g_rmdir(fx->dir);
    g_free(fx->path);
    g_free(fx->dir);
    g_clear_error(&fx->error);
}

/* The client must fail with PROTOCOL and say so on the local socket. */
static guint32
expect_protocol_error(Fixture *fx)
{
    gboolean failed = FALSE;
    struct ssb_msg msg;

    while (fx->error == NULL && g_main_context_iteration(NULL, FALSE))
        ;
    for (int i = 0; i < 5000 && fx->error == NULL; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    failed = fx->error != NULL;
    g_assert_true(failed);
    g_assert_error(fx->error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_PROTOCOL);
    g_assert_cmpint(recv_msg(fx, &msg), ==, SSB_MSG_ERROR);
    g_test_message("client said: %s (%s)", msg.u.error.reason,
                   ssb_proto_error_name(msg.u.error.code));
    g_assert_cmpuint(msg.u.error.code, !=, SSB_ERROR_NONE);
    return msg.u.error.code;
}

/* A failure on the local socket ends only the local path (spec 7). */
static void
expect_local_path_error(Fixture *fx, guint32 code)
{
    g_assert_cmpuint(expect_protocol_error(fx), ==, code);
    g_assert_false(fx->closed);
    g_assert_cmpint(ssb_client_get_path(fx->client), ==, SSB_CLIENT_PATH_NONE);
    g_assert_cmpstr(ssb_client_get_path_name(fx->client, 0), ==, "none");
}

static void
test_good_frame(Fixture *fx, gconstpointer data)
{
    int fd = sealed_memfd(W * 4 * H, TRUE);
    struct ssb_msg msg;
    gboolean have = FALSE;
    guint stride = 0;

    announce_msg(&msg, 1, W * 4 * H);
    send_msg(fx, &msg, &fd, 1);
    close(fd);
    frame_msg(&msg, 1, 42);
    send_msg(fx, &msg, NULL, 0);
    for (int i = 0; i < 5000 && fx->frame == NULL; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    have = fx->frame != NULL;
    g_assert_true(have);
    g_assert_nonnull(ssb_frame_get_data(fx->frame, &stride));
    g_assert_cmpuint(stride, ==, W * 4);
    /* Latest frame wins: the client's own pending reference goes with
     * take_frame; the last unref releases the slot for seq 42. */
    ssb_frame_unref(ssb_client_take_frame(fx->client, 0));
    g_clear_pointer(&fx->frame, ssb_frame_unref);
    g_assert_cmpint(recv_msg(fx, &msg), ==, SSB_MSG_SLOT_RELEASE);
    g_assert_cmpuint(msg.u.slot_release.slot_id, ==, 1);
    g_assert_cmpuint(msg.u.slot_release.seq, ==, 42);
    g_assert_no_error(fx->error);
}

static void
test_unsealed_memfd(Fixture *fx, gconstpointer data)
{
    int fd = sealed_memfd(W * 4 * H, FALSE);
    struct ssb_msg msg;

    announce_msg(&msg, 0, W * 4 * H);
    send_msg(fx, &msg, &fd, 1);
    close(fd);
    expect_local_path_error(fx, SSB_ERROR_PROTOCOL);
}

static void
test_short_memfd(Fixture *fx, gconstpointer data)
{
    /* Claims the full size; the fd is one row short. */
    int fd = sealed_memfd(W * 4 * (H - 1), TRUE);
    struct ssb_msg msg;

    announce_msg(&msg, 0, W * 4 * H);
    send_msg(fx, &msg, &fd, 1);
    close(fd);
    expect_local_path_error(fx, SSB_ERROR_PROTOCOL);
}

static void
test_unknown_slot(Fixture *fx, gconstpointer data)
{
    struct ssb_msg msg;

    frame_msg(&msg, 5, 1);
    send_msg(fx, &msg, NULL, 0);
    expect_local_path_error(fx, SSB_ERROR_PROTOCOL);
}

static void
test_rect_outside(Fixture *fx, gconstpointer data)
{
    int fd = sealed_memfd(W * 4 * H, TRUE);
    struct ssb_msg msg;

    announce_msg(&msg, 0, W * 4 * H);
    send_msg(fx, &msg, &fd, 1);
    close(fd);
    frame_msg(&msg, 0, 1);
    msg.u.frame.n_rects = 1;
    msg.u.frame.rects[0] = (struct ssb_rect){ W - 1, 0, 2, 1 };
    send_msg(fx, &msg, NULL, 0);
    expect_local_path_error(fx, SSB_ERROR_PROTOCOL);
}

static void
test_slot_reused_while_held(Fixture *fx, gconstpointer data)
{
    int fd = sealed_memfd(W * 4 * H, TRUE);
    struct ssb_msg msg;

    announce_msg(&msg, 0, W * 4 * H);
    send_msg(fx, &msg, &fd, 1);
    close(fd);
    frame_msg(&msg, 0, 1);
    send_msg(fx, &msg, NULL, 0);
    frame_msg(&msg, 0, 2); /* the client still holds slot 0 */
    send_msg(fx, &msg, NULL, 0);
    expect_local_path_error(fx, SSB_ERROR_PROTOCOL);
}

static void
test_fd_on_keepalive(Fixture *fx, gconstpointer data)
{
    int fd = sealed_memfd(4096, TRUE);
    struct ssb_msg msg = { .type = SSB_MSG_KEEPALIVE };

    send_msg(fx, &msg, &fd, 1);
    close(fd);
    expect_local_path_error(fx, SSB_ERROR_PROTOCOL);
}

static void
test_too_many_fds(Fixture *fx, gconstpointer data)
{
    int fds[6];
    struct ssb_msg msg;

    for (guint i = 0; i < G_N_ELEMENTS(fds); i++)
        fds[i] = sealed_memfd(W * 4 * H, TRUE);
    announce_msg(&msg, 0, W * 4 * H);
    send_msg(fx, &msg, fds, G_N_ELEMENTS(fds));
    for (guint i = 0; i < G_N_ELEMENTS(fds); i++)
        close(fds[i]);
    expect_local_path_error(fx, SSB_ERROR_LIMIT);
}

static void
test_garbage(Fixture *fx, gconstpointer data)
{
    static const guint8 junk[] = { 0xff, 0xff, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4 };

    send_raw(fx, junk, sizeof(junk), NULL, 0);
    expect_local_path_error(fx, SSB_ERROR_PROTOCOL);
}

static void
test_unasked_dmabuf(Fixture *fx, gconstpointer data)
{
    int fd = sealed_memfd(W * 4 * H, TRUE);
    struct ssb_msg msg;

    announce_msg(&msg, 0, W * 4 * H);
    msg.u.slot_announce.kind = SSB_SLOT_DMABUF;
    send_msg(fx, &msg, &fd, 1);
    close(fd);
    expect_local_path_error(fx, SSB_ERROR_PROTOCOL);
}

static void
test_port_out_of_state(Fixture *fx, gconstpointer data)
{
    struct ssb_msg msg = { .type = SSB_MSG_SCANOUT_RESIZE };

    msg.u.scanout = (struct ssb_msg_scanout){ 9, 0, W, H, SSB_FORMAT_XRGB8888, 0 };
    feed_port(fx, &msg);
    expect_protocol_error(fx);
    g_assert_true(fx->closed);
}

static void
test_second_hello(Fixture *fx, gconstpointer data)
{
    struct ssb_msg msg = { .type = SSB_MSG_SERVER_HELLO };

    msg.u.server_hello = (struct ssb_msg_server_hello){ 1, 0, SSB_CAP_SHM, 0, 64 };
    feed_port(fx, &msg);
    expect_protocol_error(fx);
    g_assert_true(fx->closed);
}

/* SLOT_ANNOUNCE on a slot id in use replaces the slot, even a held one;
 * the old hold ends without a SLOT_RELEASE (spec 4.5). */
static void
test_reannounce(Fixture *fx, gconstpointer data)
{
    int fd = sealed_memfd(W * 4 * H, TRUE);
    struct ssb_msg msg;

    announce_msg(&msg, 0, W * 4 * H);
    send_msg(fx, &msg, &fd, 1);
    frame_msg(&msg, 0, 1);
    send_msg(fx, &msg, NULL, 0);
    announce_msg(&msg, 0, W * 4 * H);
    send_msg(fx, &msg, &fd, 1);
    close(fd);
    frame_msg(&msg, 0, 2);
    send_msg(fx, &msg, NULL, 0);
    for (int i = 0; i < 5000 && (fx->frame == NULL || ssb_frame_get_seq(fx->frame) < 2); i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_assert_nonnull(fx->frame);
    g_assert_cmpuint(ssb_frame_get_seq(fx->frame), ==, 2);
    g_assert_no_error(fx->error);
}

/* A FRAME for a scanout the client does not know is released at once. */
static void
test_frame_unknown_scanout(Fixture *fx, gconstpointer data)
{
    int fd = sealed_memfd(W * 4 * H, TRUE);
    struct ssb_msg msg;

    announce_msg(&msg, 3, W * 4 * H);
    msg.u.slot_announce.scanout_id = 5;
    send_msg(fx, &msg, &fd, 1);
    close(fd);
    frame_msg(&msg, 3, 9);
    msg.u.frame.scanout_id = 5;
    send_msg(fx, &msg, NULL, 0);
    for (int i = 0; i < 100; i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_cmpint(recv_msg(fx, &msg), ==, SSB_MSG_SLOT_RELEASE);
    g_assert_cmpuint(msg.u.slot_release.scanout_id, ==, 5);
    g_assert_cmpuint(msg.u.slot_release.seq, ==, 9);
    g_assert_null(fx->frame);
    g_assert_no_error(fx->error);
}

static guint
count_memfd_maps(void)
{
    g_autofree char *maps = NULL;
    guint n = 0;

    g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
    for (const char *p = maps; (p = strstr(p, "memfd:hostile")) != NULL; p++)
        n++;
    return n;
}

/* SLOT_RETIRE of a slot a frame still holds: the frame stays readable,
 * the mapping goes with the last reference, and no SLOT_RELEASE follows. */
static void
test_retire_while_held(Fixture *fx, gconstpointer data)
{
    int fd = sealed_memfd(W * 4 * H, TRUE);
    struct ssb_msg msg = { .type = SSB_MSG_SLOT_RETIRE };
    struct pollfd pfd = { .fd = fx->conn_fd, .events = POLLIN };
    guint stride;

    announce_msg(&msg, 1, W * 4 * H);
    send_msg(fx, &msg, &fd, 1);
    close(fd);
    frame_msg(&msg, 1, 7);
    send_msg(fx, &msg, NULL, 0);
    for (int i = 0; i < 5000 && fx->frame == NULL; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_assert_nonnull(fx->frame);
    memset(&msg, 0, sizeof(msg));
    msg.type = SSB_MSG_SLOT_RETIRE;
    msg.u.slot_retire = (struct ssb_msg_slot_retire){ 0, 1 };
    send_msg(fx, &msg, NULL, 0);
    for (int i = 0; i < 100; i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_cmpuint(count_memfd_maps(), ==, 1);
    g_assert_cmpuint(ssb_frame_get_data(fx->frame, &stride)[0], ==, 0);
    ssb_frame_unref(ssb_client_take_frame(fx->client, 0));
    g_clear_pointer(&fx->frame, ssb_frame_unref);
    g_assert_cmpuint(count_memfd_maps(), ==, 0);
    g_assert_cmpint(poll(&pfd, 1, 100), ==, 0); /* no SLOT_RELEASE */
    g_assert_no_error(fx->error);
}

/* Size of the mapping of "memfd:hostile" in /proc/self/maps (one only). */
static guint64
memfd_map_size(void)
{
    g_autofree char *maps = NULL;
    g_auto(GStrv) lines = NULL;
    guint64 size = 0;

    g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
    lines = g_strsplit(maps, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        guint64 start, end;

        if (strstr(lines[i], "memfd:hostile") == NULL)
            continue;
        g_assert_cmpint(sscanf(lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x",
                               &start, &end), ==, 2);
        size += end - start;
    }
    return size;
}

/* A memfd far larger than its layout: only the layout's pages are mapped,
 * never the size the server chose for the fd (spec 4.5). */
static void
test_oversized_memfd(Fixture *fx, gconstpointer data)
{
    const size_t big = 64u << 20;
    guint64 page = (guint64)sysconf(_SC_PAGESIZE);
    int fd = sealed_memfd(big, TRUE);
    struct ssb_msg msg;

    announce_msg(&msg, 0, W * 4 * H);
    send_msg(fx, &msg, &fd, 1);
    close(fd);
    frame_msg(&msg, 0, 1);
    send_msg(fx, &msg, NULL, 0);
    for (int i = 0; i < 5000 && fx->frame == NULL; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_assert_nonnull(fx->frame);
    g_assert_no_error(fx->error);
    g_assert_cmpuint(memfd_map_size(), ==, (W * 4 * H + page - 1) / page * page);
}

/* Spec 4.7: an idle client sends KEEPALIVE within 5 s, echoing ours. */
static void
test_keepalive(Fixture *fx, gconstpointer data)
{
    struct ssb_msg msg = { .type = SSB_MSG_KEEPALIVE };
    struct pollfd pfd = { .fd = fx->conn_fd, .events = POLLIN };
    gint64 deadline = g_get_monotonic_time() + 8 * G_USEC_PER_SEC;

    msg.u.keepalive.t_us = 123456;
    send_msg(fx, &msg, NULL, 0);
    while (g_get_monotonic_time() < deadline && poll(&pfd, 1, 0) == 0) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(2000);
    }
    g_assert_cmpint(recv_msg(fx, &msg), ==, SSB_MSG_KEEPALIVE);
    g_assert_cmpuint(msg.u.keepalive.echo_t_us, ==, 123456);
    g_assert_cmpuint(msg.u.keepalive.t_us, >, 0);
    g_assert_no_error(fx->error);
}

/* An empty packet carrying an fd is no EOF: the fd is closed (not
 * leaked), and the peer is cut off with PROTOCOL (spec 2.2). */
static void
test_empty_packet_with_fd(Fixture *fx, gconstpointer data)
{
    guint before = count_fds();
    int fd = sealed_memfd(4096, TRUE);

    send_raw(fx, "", 0, &fd, 1);
    close(fd);
    expect_local_path_error(fx, SSB_ERROR_PROTOCOL);
    g_assert_cmpuint(count_fds(), <, before); /* the link's socket went too */
}

/* A server that reads nothing for a while gets every SLOT_RELEASE when it
 * reads again: they wait in order, none is lost to a full socket. */
static void
test_release_backpressure(Fixture *fx, gconstpointer data)
{
    const guint64 n_frames = 300;
    int fds[2] = { sealed_memfd(W * 4 * H, TRUE), sealed_memfd(W * 4 * H, TRUE) };
    guint64 next_release = 1;
    struct ssb_msg msg;

    for (guint i = 0; i < 2; i++) {
        announce_msg(&msg, i, W * 4 * H);
        send_msg(fx, &msg, &fds[i], 1);
        close(fds[i]);
    }
    /* Each frame replaces the one held, which releases its slot. */
    for (guint64 seq = 1; seq <= n_frames; seq++) {
        frame_msg(&msg, (guint)(seq % 2), seq);
        send_msg(fx, &msg, NULL, 0);
        for (int i = 0; i < 5000 && (fx->frame == NULL || ssb_frame_get_seq(fx->frame) < seq);
             i++) {
            if (!g_main_context_iteration(NULL, FALSE))
                g_usleep(100);
        }
        g_assert_no_error(fx->error);
        g_assert_cmpuint(ssb_frame_get_seq(fx->frame), ==, seq);
    }
    /* Now read: the client sends the rest as room appears. */
    for (int i = 0; i < 20000 && next_release < n_frames; i++) {
        guint8 buf[SSB_PROTO_MAX_MSG_SIZE];
        ssize_t len = recv(fx->conn_fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (len <= 0) {
            g_assert_cmpint(len, <, 0);
            if (!g_main_context_iteration(NULL, FALSE))
                g_usleep(500);
            continue;
        }
        g_assert_cmpint(ssb_proto_parse(buf, (size_t)len, 0, &msg, NULL), ==, 0);
        if (msg.type != SSB_MSG_SLOT_RELEASE)
            continue;
        g_assert_cmpuint(msg.u.slot_release.seq, ==, next_release);
        g_assert_cmpuint(msg.u.slot_release.slot_id, ==, next_release % 2);
        next_release++;
    }
    g_assert_cmpuint(next_release, ==, n_frames);
    g_assert_no_error(fx->error);
}

static void
count_tick(gpointer user_data)
{
    (*(guint *)user_data)++;
}

static gboolean
tick(gpointer user_data)
{
    count_tick(user_data);
    return G_SOURCE_CONTINUE;
}

/* A server whose listen backlog is full (or that never accepts) must not
 * block the loop in connect(): the client declines the offer at once and
 * stays on the port. */
static void
test_connect_backlog_full(void)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct ssb_msg msg = { .type = SSB_MSG_SERVER_HELLO };
    struct ssb_msg offer = { .type = SSB_MSG_LOCAL_OFFER };
    g_autofree char *dir = g_dir_make_tmp("ssb-hostile-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "full.sock", NULL);
    Fixture fx = { 0 };
    int fillers[64], n_fillers = 0, listen_fd;
    guint ticks = 0, tick_id;
    gint64 t0;

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(listen_fd, 0), ==, 0);
    while (n_fillers < (int)G_N_ELEMENTS(fillers)) {
        int c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        if (connect(c, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
            g_assert_cmpint(errno, ==, EAGAIN);
            close(c);
            break;
        }
        fillers[n_fillers++] = c;
    }
    g_assert_cmpint(n_fillers, <, (int)G_N_ELEMENTS(fillers));

    fx.session = spice_session_new();
    fx.client = ssb_client_new(fx.session);
    g_signal_connect(fx.client, "ready", G_CALLBACK(on_ready), &fx);
    g_signal_connect(fx.client, "error", G_CALLBACK(on_error), &fx);
    tick_id = g_timeout_add(5, tick, &ticks);
    msg.u.server_hello = (struct ssb_msg_server_hello){ 1, 0, SSB_CAP_SHM | SSB_CAP_LOCAL_SOCKET,
                                                        0, 64 };
    ssb_client_handle_port_message(&msg, fx.client);
    memset(offer.u.local_offer.token, 7, SSB_PROTO_TOKEN_SIZE);
    g_assert_cmpint(ssb_host_id_get(offer.u.local_offer.host_id), ==, 0);
    g_strlcpy(offer.u.local_offer.path, path, sizeof(offer.u.local_offer.path));
    t0 = g_get_monotonic_time();
    ssb_client_handle_port_message(&offer, fx.client);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);
    run_until(&fx.ready);
    g_assert_cmpint(fx.path_chosen, !=, SSB_CLIENT_PATH_LOCAL);
    ticks = 0;
    t0 = g_get_monotonic_time();
    while (g_get_monotonic_time() - t0 < 100 * 1000) {
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    }
    g_assert_cmpuint(ticks, >, 0); /* the loop keeps running */
    g_source_remove(tick_id);
    g_clear_object(&fx.client);
    g_clear_object(&fx.session);
    g_clear_error(&fx.error);
    for (int i = 0; i < n_fillers; i++)
        close(fillers[i]);
    close(listen_fd);
    g_unlink(path);
    g_rmdir(dir);
}

/* Every case runs on a fresh client and fake server. */
static void
add_case(const char *name, void (*fn)(Fixture *, gconstpointer))
{
    g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown);
}

int
main(int argc, char **argv)
{
    guint fds_before;
    int ret;

    g_test_init(&argc, &argv, NULL);
    /* Peer errors are logged as messages, never warnings. */
    add_case("/client/hostile/good-frame", test_good_frame);
    add_case("/client/hostile/reannounce", test_reannounce);
    add_case("/client/hostile/frame-unknown-scanout", test_frame_unknown_scanout);
    add_case("/client/hostile/keepalive", test_keepalive);
    add_case("/client/hostile/retire-while-held", test_retire_while_held);
    add_case("/client/hostile/unsealed-memfd", test_unsealed_memfd);
    add_case("/client/hostile/short-memfd", test_short_memfd);
    add_case("/client/hostile/unknown-slot", test_unknown_slot);
    add_case("/client/hostile/rect-outside", test_rect_outside);
    add_case("/client/hostile/slot-reused-while-held", test_slot_reused_while_held);
    add_case("/client/hostile/fd-on-keepalive", test_fd_on_keepalive);
    add_case("/client/hostile/too-many-fds", test_too_many_fds);
    add_case("/client/hostile/garbage", test_garbage);
    add_case("/client/hostile/unasked-dmabuf", test_unasked_dmabuf);
    add_case("/client/hostile/port-out-of-state", test_port_out_of_state);
    add_case("/client/hostile/second-hello", test_second_hello);
    add_case("/client/hostile/empty-packet-with-fd", test_empty_packet_with_fd);
    add_case("/client/hostile/oversized-memfd", test_oversized_memfd);
    add_case("/client/hostile/release-backpressure", test_release_backpressure);
    g_test_add_func("/client/hostile/connect-backlog-full", test_connect_backlog_full);
    /* Warm up once: GLib and spice-gtk open some process-wide fds lazily. */
    {
        Fixture warm = { 0 };
        fixture_setup(&warm, NULL);
        fixture_teardown(&warm, NULL);
    }
    fds_before = count_fds();
    ret = g_test_run();
    g_assert_cmpuint(count_fds(), ==, fds_before);
    return ret;
}
