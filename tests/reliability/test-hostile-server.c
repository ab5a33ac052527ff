/* A hostile server against the real client: a real libspice-server in this
 * process with a SPICE port named org.spice-space.sideband.0 that speaks
 * raw sideband bytes of our choosing, and a fake local socket behind the
 * LOCAL_OFFER it makes; the real SsbClient (spice-client-glib) connects to
 * it over a unix socket.  Generated malformed, out-of-state and
 * out-of-order messages, slots whose announced sizes and offsets lie
 * outside what was mapped, bogus fds and too many fds: every case must end
 * with the client reporting an error (and telling the server why with an
 * ERROR), never a crash; the client reconnects for the next case; every fd
 * this process sent is closed in the end; and a well-behaved server still
 * gets a pixel-exact frame to the client after all of them.
 *
 * SSB_HOSTILE_CASES (default 600) cases each for the port and the local
 * socket, from the seed SSB_HOSTILE_SEED (printed).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <spice.h>
#include <spice/protocol.h>

#include <spice-sideband/client.h>
#include <spice-sideband/proto.h>

#include "glib-spice-core.h"
#include "host-id.h"
#include "reliability.h"
#include "samples.h"

#define W 64
#define H 32

static uint64_t rng;

static uint32_t
rnd(uint32_t n)
{
    return (uint32_t)(sample_rand(&rng) % n);
}

/* ---- the hostile server: a raw SPICE port ---- */

typedef struct {
    SpiceServer *spice;
    SpiceCharDeviceInstance sin;
    GByteArray *out;
    bool attached, opened;
    struct ssb_proto_reader *reader;
    GQueue in;                  /* struct ssb_msg *, from the client */
    char *dir, *spice_path, *local_path;
    int listen_fd;
} Server;

static Server srv;

static gboolean
wakeup_idle(gpointer data)
{
    if (srv.attached && srv.opened)
        spice_server_char_device_wakeup(&srv.sin);
    return G_SOURCE_REMOVE;
}

static gboolean
opened_idle(gpointer data)
{
    if (!srv.attached)
        return G_SOURCE_REMOVE;
    spice_server_port_event(&srv.sin, SPICE_PORT_EVENT_OPENED);
    srv.opened = true;
    g_idle_add(wakeup_idle, NULL);
    return G_SOURCE_REMOVE;
}

static void
srv_state(SpiceCharDeviceInstance *sin, int connected)
{
    srv.attached = connected;
    srv.opened = false;
    g_byte_array_set_size(srv.out, 0);
    g_queue_clear_full(&srv.in, g_free);
    g_clear_pointer(&srv.reader, ssb_proto_reader_free);
    srv.reader = ssb_proto_reader_new();
    if (connected)
        g_idle_add(opened_idle, NULL);
}

static int
srv_write(SpiceCharDeviceInstance *sin, const uint8_t *buf, int len)
{
    const uint8_t *raw;
    size_t raw_len;

    if (!srv.attached || ssb_proto_reader_feed(srv.reader, buf, (size_t)len) < 0)
        return len;
    while (ssb_proto_reader_next(srv.reader, &raw, &raw_len, NULL) == 1) {
        struct ssb_msg *msg = g_new0(struct ssb_msg, 1);

        /* The real client must never send anything malformed. */
        g_assert_cmpint(ssb_proto_parse(raw, raw_len, 0, msg, NULL), ==, 0);
        g_queue_push_tail(&srv.in, msg);
    }
    return len;
}

static int
srv_read(SpiceCharDeviceInstance *sin, uint8_t *buf, int len)
{
    guint n;

    if (!srv.attached || !srv.opened || len <= 0)
        return 0;
    n = MIN((guint)len, srv.out->len);
    memcpy(buf, srv.out->data, n);
    g_byte_array_remove_range(srv.out, 0, n);
    if (srv.out->len)
        g_idle_add(wakeup_idle, NULL);
    return (int)n;
}

static const SpiceCharDeviceInterface srv_sif = {
    .base = {
        .type = SPICE_INTERFACE_CHAR_DEVICE,
        .description = "hostile sideband port",
        .major_version = SPICE_INTERFACE_CHAR_DEVICE_MAJOR,
        .minor_version = SPICE_INTERFACE_CHAR_DEVICE_MINOR,
    },
    .state = srv_state,
    .write = srv_write,
    .read = srv_read,
};

static void
srv_send_raw(const void *data, size_t len)
{
    g_byte_array_append(srv.out, data, (guint)len);
    g_idle_add(wakeup_idle, NULL);
}

static void
srv_send(const struct ssb_msg *msg)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    ssize_t len = ssb_proto_encode(msg, buf, sizeof(buf));

    g_assert_cmpint(len, >, 0);
    srv_send_raw(buf, (size_t)len);
}

static void
srv_start(void)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    srv.out = g_byte_array_new();
    g_queue_init(&srv.in);
    srv.reader = ssb_proto_reader_new();
    srv.dir = g_dir_make_tmp("ssb-hostile-srv-XXXXXX", NULL);
    srv.spice_path = g_build_filename(srv.dir, "spice.sock", NULL);
    srv.local_path = g_build_filename(srv.dir, "local.sock", NULL);
    srv.spice = spice_server_new();
    spice_server_set_addr(srv.spice, srv.spice_path, SPICE_ADDR_FLAG_UNIX_ONLY);
    spice_server_set_noauth(srv.spice);
    g_assert_cmpint(spice_server_init(srv.spice, ssb_glib_core_get(NULL)), ==, 0);
    srv.sin.base.sif = &srv_sif.base;
    srv.sin.subtype = "port";
    srv.sin.portname = SSB_PORT_NAME;
    g_assert_cmpint(spice_server_add_interface(srv.spice, &srv.sin.base), ==, 0);

    g_strlcpy(addr.sun_path, srv.local_path, sizeof(addr.sun_path));
    srv.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(srv.listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(srv.listen_fd, 4), ==, 0);
}

static void
srv_stop(void)
{
    spice_server_remove_interface(&srv.sin.base);
    spice_server_destroy(srv.spice);
    close(srv.listen_fd);
    g_unlink(srv.local_path);
    g_unlink(srv.spice_path);
    g_rmdir(srv.dir);
    g_free(srv.local_path);
    g_free(srv.spice_path);
    g_free(srv.dir);
    g_queue_clear_full(&srv.in, g_free);
    g_clear_pointer(&srv.reader, ssb_proto_reader_free);
    g_byte_array_unref(srv.out);
}

/* ---- the real client ---- */

typedef struct {
    SpiceSession *session;
    SsbClient *client;
    gboolean ready, closed;
    SsbClientPath path;
    GError *error;
    SsbFrame *frame;
    int conn;                   /* our end of its local socket, -1 */
} Client;

static void
on_ready(SsbClient *client, SsbClientPath path, Client *c)
{
    c->ready = TRUE;
    c->path = path;
}

static void
on_error(SsbClient *client, GError *error, Client *c)
{
    if (c->error == NULL)
        c->error = g_error_copy(error);
}

static void
on_closed(SsbClient *client, Client *c)
{
    c->closed = TRUE;
}

static void
on_frame(SsbClient *client, SsbFrame *frame, Client *c)
{
    g_clear_pointer(&c->frame, ssb_frame_unref);
    c->frame = ssb_frame_ref(frame);
}

static gboolean
tick(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

/* Iterates until @cond(@data); fails after 20 s. */
static void
run_until(bool (*cond)(void *), void *data)
{
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    guint waker = g_timeout_add(20, tick, NULL);

    while (!cond(data)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, TRUE);
    }
    g_source_remove(waker);
}

static void
run_for(guint ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    guint waker = g_timeout_add(5, tick, NULL);

    while (g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_source_remove(waker);
}

static bool
srv_opened(void *data)
{
    return srv.attached && srv.opened;
}

static bool
srv_has_msg(void *data)
{
    return !g_queue_is_empty(&srv.in);
}

static bool
client_failed(void *data)
{
    return ((Client *)data)->error != NULL;
}

static bool
client_ready(void *data)
{
    return ((Client *)data)->ready || ((Client *)data)->error;
}

/* The next message from the client on the port, KEEPALIVEs skipped. */
static struct ssb_msg *
srv_next(void)
{
    for (;;) {
        struct ssb_msg *msg;

        run_until(srv_has_msg, NULL);
        msg = g_queue_pop_head(&srv.in);
        if (msg->type != SSB_MSG_KEEPALIVE)
            return msg;
        g_free(msg);
    }
}

static void
client_start(Client *c)
{
    memset(c, 0, sizeof(*c));
    c->conn = -1;
    c->session = spice_session_new();
    g_object_set(c->session, "unix-path", srv.spice_path, NULL);
    c->client = ssb_client_new(c->session);
    g_signal_connect(c->client, "ready", G_CALLBACK(on_ready), c);
    g_signal_connect(c->client, "error", G_CALLBACK(on_error), c);
    g_signal_connect(c->client, "closed", G_CALLBACK(on_closed), c);
    g_signal_connect(c->client, "frame", G_CALLBACK(on_frame), c);
    g_assert_true(spice_session_connect(c->session));
    run_until(srv_opened, NULL);
}

static void
client_stop(Client *c)
{
    g_clear_pointer(&c->frame, ssb_frame_unref);
    g_signal_handlers_disconnect_by_data(c->client, c);
    g_clear_object(&c->client);
    spice_session_disconnect(c->session);
    g_clear_object(&c->session);
    if (c->conn >= 0)
        close(c->conn);
    g_clear_error(&c->error);
    /* spice-server replaces a session; let the old one go first. */
    run_for(20);
}

static void
server_hello(uint64_t caps, uint32_t codecs)
{
    struct ssb_msg msg = { .type = SSB_MSG_SERVER_HELLO };

    msg.u.server_hello = (struct ssb_msg_server_hello){ SSB_PROTO_VERSION_MAJOR, 0, caps,
                                                        codecs, 64 };
    srv_send(&msg);
}

static void
scanout_create(uint32_t id)
{
    struct ssb_msg msg = { .type = SSB_MSG_SCANOUT_CREATE };

    msg.u.scanout = (struct ssb_msg_scanout){ id, id, W, H, SSB_FORMAT_XRGB8888, 0 };
    srv_send(&msg);
}

/* ---- the fake local socket ---- */

static void
local_send_raw(Client *c, const void *data, size_t len, const int *fds, int n_fds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 8)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { (void *)data, len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (n_fds > 0) {
        struct cmsghdr *cm;

        memset(&control, 0, sizeof(control));
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n_fds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n_fds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n_fds);
    }
    g_assert_cmpint(sendmsg(c->conn, &mh, MSG_NOSIGNAL), ==, (ssize_t)len);
}

static void
local_send(Client *c, const struct ssb_msg *msg, const int *fds, int n_fds)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    ssize_t len = ssb_proto_encode(msg, buf, sizeof(buf));

    g_assert_cmpint(len, >, 0);
    local_send_raw(c, buf, (size_t)len, fds, n_fds);
}

/* The client's next local message other than KEEPALIVE; 0 on EOF. */
static int
local_recv(Client *c, struct ssb_msg *msg)
{
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];

    for (;;) {
        ssize_t n = recv(c->conn, buf, sizeof(buf), MSG_DONTWAIT);

        if (n < 0 && errno == EAGAIN) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            if (!g_main_context_iteration(NULL, FALSE))
                g_usleep(200);
            continue;
        }
        if (n <= 0)
            return 0;
        g_assert_cmpint(ssb_proto_parse(buf, (size_t)n, 0, msg, NULL), ==, 0);
        if (msg->type != SSB_MSG_KEEPALIVE)
            return msg->type;
    }
}

/* Handshake up to a client welcomed on our local socket, scanout 0 known. */
static void
to_local_path(Client *c)
{
    struct ssb_msg offer = { .type = SSB_MSG_LOCAL_OFFER };
    struct ssb_msg msg;
    g_autofree struct ssb_msg *hello = NULL;
    struct pollfd pfd = { .fd = srv.listen_fd, .events = POLLIN };

    server_hello(SSB_CAP_SHM | SSB_CAP_LOCAL_SOCKET, 0);
    hello = srv_next();
    g_assert_cmpint(hello->type, ==, SSB_MSG_CLIENT_HELLO);
    scanout_create(0);
    for (size_t i = 0; i < SSB_PROTO_TOKEN_SIZE; i++)
        offer.u.local_offer.token[i] = (uint8_t)rnd(256);
    g_assert_cmpint(ssb_host_id_get(offer.u.local_offer.host_id), ==, 0);
    g_strlcpy(offer.u.local_offer.path, srv.local_path, sizeof(offer.u.local_offer.path));
    srv_send(&offer);
    while (poll(&pfd, 1, 0) == 0)
        g_main_context_iteration(NULL, TRUE);
    c->conn = accept4(srv.listen_fd, NULL, NULL, SOCK_CLOEXEC);
    g_assert_cmpint(c->conn, >=, 0);
    g_assert_cmpint(local_recv(c, &msg), ==, SSB_MSG_LOCAL_HELLO);
    g_assert_cmpmem(msg.u.local_hello.token, SSB_PROTO_TOKEN_SIZE, offer.u.local_offer.token,
                    SSB_PROTO_TOKEN_SIZE);
    memset(&msg, 0, sizeof(msg));
    msg.type = SSB_MSG_LOCAL_WELCOME;
    local_send(c, &msg, NULL, 0);
    run_until(client_ready, c);
    g_assert_no_error(c->error);
    g_assert_cmpint(c->path, ==, SSB_CLIENT_PATH_LOCAL);
}

static int
memfd(size_t size, unsigned seals)
{
    int fd = memfd_create("hostile-srv", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    if (seals)
        g_assert_cmpint(fcntl(fd, F_ADD_SEALS, seals), ==, 0);
    return fd;
}

static void
announce_msg(struct ssb_msg *msg, uint32_t slot, uint64_t size)
{
    memset(msg, 0, sizeof(*msg));
    msg->type = SSB_MSG_SLOT_ANNOUNCE;
    msg->u.slot_announce = (struct ssb_msg_slot_announce){
        .scanout_id = 0, .slot_id = slot, .kind = SSB_SLOT_SHM, .width = W, .height = H,
        .fourcc = SSB_FORMAT_XRGB8888, .modifier = SSB_MODIFIER_LINEAR, .size = size,
        .n_planes = 1, .planes = { { 0, W * 4 } },
    };
}

static void
frame_msg(struct ssb_msg *msg, uint32_t slot, uint64_t seq)
{
    memset(msg, 0, sizeof(*msg));
    msg->type = SSB_MSG_FRAME;
    msg->u.frame = (struct ssb_msg_frame){ .scanout_id = 0, .slot_id = slot, .seq = seq };
}

/* ---- cases ---- */

struct tally {
    unsigned cases, fds_sent;
    unsigned by_code[SSB_ERROR_CODE_COUNT];
};

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static bool
header_rejected(const uint8_t *bytes, size_t len)
{
    struct ssb_proto_reader *reader = ssb_proto_reader_new();
    const uint8_t *raw;
    size_t raw_len;
    struct ssb_msg msg;
    int r;

    ssb_proto_reader_feed(reader, bytes, len);
    r = ssb_proto_reader_next(reader, &raw, &raw_len, NULL);
    if (r == 1 && ssb_proto_parse(raw, raw_len, 0, &msg, NULL) < 0)
        r = -1;
    ssb_proto_reader_free(reader);
    return r < 0;
}

/* Malformed bytes the parser refuses: a bad header, or a valid server
 * message with some body bytes changed. */
static size_t
gen_malformed(uint8_t *bytes)
{
    static const enum ssb_msg_type types[] = {
        SSB_MSG_SERVER_HELLO, SSB_MSG_SCANOUT_CREATE, SSB_MSG_SCANOUT_RESIZE,
        SSB_MSG_SCANOUT_DESTROY, SSB_MSG_LOCAL_OFFER, SSB_MSG_VIDEO_FRAME,
        SSB_MSG_KEEPALIVE, SSB_MSG_GOODBYE, SSB_MSG_ERROR, SSB_MSG_FRAME,
        SSB_MSG_SLOT_RETIRE,
    };

    for (;;) {
        struct ssb_msg msg;
        size_t len;

        if (rnd(3) == 0) {
            len = SSB_PROTO_HEADER_SIZE + rnd(24);
            for (size_t i = 0; i < len; i++)
                bytes[i] = (uint8_t)rnd(256);
            if (rnd(2)) {
                put16(bytes, (uint16_t)(1 + rnd(SSB_MSG_TYPE_COUNT - 1)));
                put16(bytes + 2, 0);
                put32(bytes + 4, SSB_PROTO_MAX_BODY_SIZE + 1 + rnd(1 << 30));
            }
        } else {
            size_t body;

            sample_msg(types[rnd(G_N_ELEMENTS(types))],
                       (enum sample_variant)rnd(SAMPLE_VARIANT_COUNT), &msg);
            len = (size_t)ssb_proto_encode(&msg, bytes, SSB_PROTO_MAX_MSG_SIZE);
            body = len - SSB_PROTO_HEADER_SIZE;
            for (uint32_t n = 1 + rnd(4); n > 0 && body > 0; n--)
                bytes[SSB_PROTO_HEADER_SIZE + rnd((uint32_t)body)] ^= (uint8_t)(1 + rnd(255));
        }
        if (header_rejected(bytes, len))
            return len;
    }
}

/* Sends one hostile port message; returns what the client must answer. */
static const char *
port_case(uint8_t *bytes, uint32_t *want_code)
{
    struct ssb_msg msg;
    size_t len;

    *want_code = SSB_ERROR_PROTOCOL;
    switch (rnd(7)) {
    case 0:
    case 1:
        len = gen_malformed(bytes);
        srv_send_raw(bytes, len);
        return "malformed";
    case 2: { /* a client's message */
        static const enum ssb_msg_type types[] = {
            SSB_MSG_CLIENT_HELLO, SSB_MSG_LOCAL_DECLINE, SSB_MSG_FEEDBACK,
            SSB_MSG_KEYFRAME_REQUEST, SSB_MSG_LOCAL_HELLO, SSB_MSG_SLOT_RELEASE,
            SSB_MSG_LOCAL_WELCOME,
        };
        sample_msg(types[rnd(G_N_ELEMENTS(types))], SAMPLE_TYPICAL, &msg);
        srv_send(&msg);
        *want_code = SSB_ERROR_STATE;
        return "wrong direction or transport";
    }
    case 3: /* scanout ids that do not exist, or exist already */
        memset(&msg, 0, sizeof(msg));
        msg.type = rnd(3) == 0 ? SSB_MSG_SCANOUT_CREATE
                   : rnd(2)    ? SSB_MSG_SCANOUT_RESIZE
                               : SSB_MSG_SCANOUT_DESTROY;
        msg.u.scanout = (struct ssb_msg_scanout){ msg.type == SSB_MSG_SCANOUT_CREATE ? 0 : 1 + rnd(63),
                                                  0, W, H, SSB_FORMAT_XRGB8888, 0 };
        srv_send(&msg);
        return "scanout id";
    case 4:
        sample_msg(SSB_MSG_SERVER_HELLO, SAMPLE_TYPICAL, &msg);
        srv_send(&msg);
        *want_code = SSB_ERROR_STATE;
        return "second SERVER_HELLO";
    case 5: /* video the client did not ask for */
        sample_msg(SSB_MSG_VIDEO_FRAME, SAMPLE_TYPICAL, &msg);
        msg.u.video_frame.scanout_id = 0;
        srv_send(&msg);
        *want_code = SSB_ERROR_STATE;
        return "VIDEO_FRAME without VIDEO";
    default: /* an offer the client did not ask for (no WANT_LOCAL: remote) */
        sample_msg(SSB_MSG_LOCAL_OFFER, SAMPLE_TYPICAL, &msg);
        srv_send(&msg);
        *want_code = SSB_ERROR_STATE;
        return "second LOCAL_OFFER";
    }
}

/* The client must fail, with an ERROR to the server on @conn (local) or
 * the port, and report it. */
static uint32_t
expect_client_error(Client *c, const char *what)
{
    struct ssb_msg msg;

    run_until(client_failed, c);
    if (!g_error_matches(c->error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_PROTOCOL))
        g_error("%s: client error %s", what, c->error->message);
    g_assert_cmpuint(strlen(c->error->message), >, 0);
    if (c->conn >= 0) {
        g_assert_cmpint(local_recv(c, &msg), ==, SSB_MSG_ERROR);
        return msg.u.error.code;
    }
    for (;;) {
        g_autofree struct ssb_msg *m = srv_next();

        if (m->type == SSB_MSG_ERROR)
            return m->u.error.code;
    }
}

static void
run_port_case(struct tally *t)
{
    g_autofree uint8_t *bytes = g_malloc(SSB_PROTO_MAX_MSG_SIZE + 64);
    Client c;
    g_autofree struct ssb_msg *hello = NULL;
    const char *what;
    uint32_t want, code;

    client_start(&c);
    if (rnd(8) == 0) {
        /* The first message itself: another major, or not SERVER_HELLO. */
        struct ssb_msg msg = { .type = SSB_MSG_SERVER_HELLO };

        msg.u.server_hello = (struct ssb_msg_server_hello){ (uint16_t)(2 + rnd(100)), 0,
                                                            SSB_CAP_SHM, 0, 64 };
        srv_send(&msg);
        run_until(client_failed, &c);
        g_assert_error(c.error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_VERSION);
        t->by_code[SSB_ERROR_VERSION]++;
        t->cases++;
        client_stop(&c);
        return;
    }
    server_hello(SSB_CAP_SHM, 0);
    hello = srv_next();
    g_assert_cmpint(hello->type, ==, SSB_MSG_CLIENT_HELLO);
    scanout_create(0);
    what = port_case(bytes, &want);
    code = expect_client_error(&c, what);
    if (code != want && !(want == SSB_ERROR_PROTOCOL && code == SSB_ERROR_LIMIT))
        g_error("case %u (%s): client said %s", t->cases, what, ssb_proto_error_name(code));
    t->by_code[code]++;
    t->cases++;
    client_stop(&c);
}

/* A bogus fd for a slot: /dev/null, a pipe, a socket, or a memfd. */
static int
bogus_fd(void)
{
    int fds[2];

    switch (rnd(3)) {
    case 0:
        return open("/dev/null", O_RDONLY | O_CLOEXEC);
    case 1:
        g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
        close(fds[1]);
        return fds[0];
    default:
        return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    }
}

/* One hostile local message (with fds, which are closed here after
 * sending); returns what it is. */
static const char *
local_case(Client *c, struct tally *t, uint32_t *want)
{
    const size_t size = W * 4 * H;
    struct ssb_msg msg;
    int fds[8], n_fds = 0;
    uint32_t patch_offset = 0;
    const char *what;

    *want = SSB_ERROR_PROTOCOL;
    announce_msg(&msg, rnd(8), size);
    switch (rnd(9)) {
    case 0: /* announced size beyond the fd */
        fds[n_fds++] = memfd(size - 1 - rnd((uint32_t)size - 1), F_SEAL_SHRINK);
        what = "memfd smaller than announced";
        break;
    case 1: { /* a plane outside what the fd holds */
        uint64_t fd_size = size + rnd(4096);

        fds[n_fds++] = memfd(fd_size, F_SEAL_SHRINK);
        msg.u.slot_announce.size = fd_size;
        /* Patched into the bytes: the encoder refuses such a layout. */
        patch_offset = (uint32_t)(fd_size - size + 1 + rnd(1u << 20));
        what = "plane outside the memfd";
        break;
    }
    case 2:
        fds[n_fds++] = memfd(size, rnd(2) ? F_SEAL_GROW : 0);
        what = "memfd not sealed against shrinking";
        break;
    case 3:
        fds[n_fds++] = bogus_fd();
        what = "not a memfd";
        break;
    case 4: /* more fds than the message has planes, or than the socket allows */
        n_fds = 2 + (int)rnd(6);
        for (int i = 0; i < n_fds; i++)
            fds[i] = memfd(size, F_SEAL_SHRINK);
        if (n_fds > (int)SSB_PROTO_MAX_FDS)
            *want = SSB_ERROR_LIMIT;
        what = "fd count";
        break;
    case 5: /* a FRAME for a slot never announced, or with damage outside */
        frame_msg(&msg, rnd(8), 1 + rnd(1000));
        what = "FRAME for an unknown slot";
        break;
    case 6: { /* fds with a message that carries none */
        sample_msg(rnd(2) ? SSB_MSG_KEEPALIVE : SSB_MSG_SLOT_RETIRE, SAMPLE_TYPICAL, &msg);
        fds[n_fds++] = memfd(4096, F_SEAL_SHRINK);
        what = "fds on another message";
        break;
    }
    case 7: { /* garbage or a corrupt message */
        uint8_t bytes[SSB_PROTO_MAX_MSG_SIZE];
        size_t len = gen_malformed(bytes);

        local_send_raw(c, bytes, len, NULL, 0);
        return "malformed";
    }
    default: { /* a port message on the local socket */
        static const enum ssb_msg_type types[] = { SSB_MSG_SCANOUT_CREATE,
                                                   SSB_MSG_LOCAL_OFFER, SSB_MSG_VIDEO_FRAME,
                                                   SSB_MSG_SERVER_HELLO, SSB_MSG_SLOT_RELEASE };
        sample_msg(types[rnd(G_N_ELEMENTS(types))], SAMPLE_TYPICAL, &msg);
        *want = SSB_ERROR_STATE;
        what = "wrong transport or direction";
        break;
    }
    }
    {
        uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
        ssize_t len = ssb_proto_encode(&msg, buf, sizeof(buf));

        /* SLOT_ANNOUNCE with a wrong fd count encodes fine: the count is
         * not in the body. */
        g_assert_cmpint(len, >, 0);
        if (patch_offset)
            put32(buf + SSB_PROTO_HEADER_SIZE + 48, patch_offset);
        local_send_raw(c, buf, (size_t)len, fds, n_fds);
    }
    for (int i = 0; i < n_fds; i++)
        close(fds[i]);
    t->fds_sent += (unsigned)n_fds;
    return what;
}

static void
run_local_case(struct tally *t)
{
    Client c;
    const char *what;
    uint32_t want, code;
    struct ssb_msg msg;

    client_start(&c);
    to_local_path(&c);
    what = local_case(&c, t, &want);
    code = expect_client_error(&c, what);
    if (code != want && !(want == SSB_ERROR_PROTOCOL && code == SSB_ERROR_LIMIT))
        g_error("case %u (%s): client said %s", t->cases, what, ssb_proto_error_name(code));
    /* Cut off: the client closes the local socket. */
    g_assert_cmpint(local_recv(&c, &msg), ==, 0);
    t->by_code[code]++;
    t->cases++;
    client_stop(&c);
}

/* A well-behaved server after all that: a slot, a frame, pixel-exact. */
static void
good_session(void)
{
    const size_t size = W * 4 * H;
    int fd = memfd(size, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    uint8_t *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    struct ssb_msg msg;
    const uint8_t *data;
    guint stride;
    Client c;

    g_assert_true(map != MAP_FAILED);
    for (size_t i = 0; i < size; i++)
        map[i] = (uint8_t)(i * 7);
    client_start(&c);
    to_local_path(&c);
    announce_msg(&msg, 2, size);
    local_send(&c, &msg, &fd, 1);
    close(fd);
    frame_msg(&msg, 2, 7);
    local_send(&c, &msg, NULL, 0);
    while (c.frame == NULL) {
        g_assert_no_error(c.error);
        g_main_context_iteration(NULL, TRUE);
    }
    data = ssb_frame_get_data(c.frame, &stride);
    g_assert_cmpuint(stride, ==, W * 4);
    g_assert_cmpmem(data, size, map, size);
    munmap(map, size);
    client_stop(&c);
}

static unsigned
n_cases(void)
{
    const char *env = g_getenv("SSB_HOSTILE_CASES");

    return env ? (unsigned)atoi(env) : 600;
}

static void
report(const char *what, const struct tally *t)
{
    g_test_message("%s: %u cases (PROTOCOL %u, LIMIT %u, STATE %u, VERSION %u), %u fds sent",
                   what, t->cases, t->by_code[SSB_ERROR_PROTOCOL], t->by_code[SSB_ERROR_LIMIT],
                   t->by_code[SSB_ERROR_STATE], t->by_code[SSB_ERROR_VERSION], t->fds_sent);
    ssb_reliability_figure(what, "cases", t->cases);
    ssb_reliability_figure(what, "fds_sent", t->fds_sent);
}

static void
test_port(void)
{
    struct tally t = { 0 };
    unsigned n = n_cases();
    int fds_before;

    srv_start();
    good_session();
    fds_before = ssb_reliability_fd_count("self");
    for (unsigned i = 0; i < n; i++)
        run_port_case(&t);
    good_session();
    ssb_test_wait_fds("self", fds_before);
    report("hostile-server-port", &t);
    srv_stop();
}

static void
test_local(void)
{
    struct tally t = { 0 };
    unsigned n = n_cases();
    int fds_before;

    srv_start();
    good_session();
    fds_before = ssb_reliability_fd_count("self");
    for (unsigned i = 0; i < n; i++)
        run_local_case(&t);
    good_session();
    /* Every fd sent to the client was closed by it. */
    ssb_test_wait_fds("self", fds_before);
    report("hostile-server-local", &t);
    srv_stop();
}

int
main(int argc, char **argv)
{
    const char *seed = g_getenv("SSB_HOSTILE_SEED");

    g_test_init(&argc, &argv, NULL);
    rng = seed ? g_ascii_strtoull(seed, NULL, 0) : 0x5eed2026u;
    g_test_message("seed 0x%" G_GINT64_MODIFIER "x (SSB_HOSTILE_SEED)", (guint64)rng);
    g_test_add_func("/reliability/hostile-server/port", test_port);
    g_test_add_func("/reliability/hostile-server/local", test_local);
    return g_test_run();
}
