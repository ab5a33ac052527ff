/* The server end to end, from a raw client: ssb-test-vmm runs as a
 * subprocess (own XDG_RUNTIME_DIR); this test speaks the sideband through
 * spice-client-glib's SpicePortChannel and the local socket directly.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <spice-client.h>

#include "host-id.h"
#include "test-pattern.h"

#define W 64
#define H 48
#define N_SCANOUTS 2

/* ---- the VMM subprocess ---- */

struct vmm {
    GSubprocess *proc;
    GDataInputStream *out;
    GOutputStream *in;
    char *dir;
    char *spice_path;
    uint32_t n_scanouts;   /* 0: N_SCANOUTS */
    const char *size;      /* NULL: WxH */
};

static char *
vmm_line(struct vmm *vmm)
{
    g_autoptr(GError) error = NULL;
    char *line = g_data_input_stream_read_line(vmm->out, NULL, NULL, &error);

    g_assert_no_error(error);
    g_assert_nonnull(line);
    return line;
}

/* Sends one command and returns its (first) reply line. */
static char *
vmm_cmd(struct vmm *vmm, const char *cmd)
{
    g_autofree char *text = g_strdup_printf("%s\n", cmd);
    g_autoptr(GError) error = NULL;

    g_assert_true(g_output_stream_write_all(vmm->in, text, strlen(text), NULL, NULL, &error));
    g_assert_no_error(error);
    return vmm_line(vmm);
}

static void
vmm_start(struct vmm *vmm, const char *const *extra)
{
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_autofree char *listen = NULL;
    g_autofree char *line = NULL;

    vmm->dir = g_dir_make_tmp("ssb-e2e-XXXXXX", NULL);
    vmm->spice_path = g_build_filename(vmm->dir, "spice.sock", NULL);
    listen = g_strdup_printf("unix:%s", vmm->spice_path);
    g_subprocess_launcher_setenv(launcher, "XDG_RUNTIME_DIR", vmm->dir, TRUE);
    /* The client library leaks at exit; the VMM is checked for leaks. */
    if (g_getenv("SSB_VMM_ASAN_OPTIONS"))
        g_subprocess_launcher_setenv(launcher, "ASAN_OPTIONS", g_getenv("SSB_VMM_ASAN_OPTIONS"),
                                     TRUE);
    g_ptr_array_add(args, g_strdup(g_getenv("SSB_TEST_VMM")));
    g_ptr_array_add(args, g_strdup("--listen"));
    g_ptr_array_add(args, g_strdup(listen));
    g_ptr_array_add(args, g_strdup_printf("--scanouts=%u",
                                          vmm->n_scanouts ? vmm->n_scanouts : N_SCANOUTS));
    g_ptr_array_add(args, vmm->size ? g_strdup_printf("--size=%s", vmm->size)
                                    : g_strdup_printf("--size=%dx%d", W, H));
    for (; extra && *extra; extra++)
        g_ptr_array_add(args, g_strdup(*extra));
    g_ptr_array_add(args, NULL);
    vmm->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)args->pdata, &error);
    g_assert_no_error(error);
    vmm->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(vmm->proc));
    vmm->in = g_subprocess_get_stdin_pipe(vmm->proc);
    line = vmm_line(vmm);
    g_assert_cmpstr(line, ==, "READY");
}

static void
vmm_stop(struct vmm *vmm)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) dir = NULL;

    g_output_stream_write_all(vmm->in, "quit\n", 5, NULL, NULL, NULL);
    g_assert_true(g_subprocess_wait(vmm->proc, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_subprocess_get_if_exited(vmm->proc));
    g_assert_cmpint(g_subprocess_get_exit_status(vmm->proc), ==, 0);
    g_clear_object(&vmm->out);
    g_clear_object(&vmm->proc);
    /* The server removed its socket directory. */
    dir = g_dir_open(vmm->dir, 0, NULL);
    for (const char *name; (name = g_dir_read_name(dir));) {
        g_assert_false(g_str_has_prefix(name, "spice-sideband-"));
        g_autofree char *path = g_build_filename(vmm->dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(vmm->dir);
    g_free(vmm->dir);
    g_free(vmm->spice_path);
}

/* Reads a number out of the VMM's stats JSON (flat, integer fields). */
static guint64
stat_field(const char *json, const char *name)
{
    g_autofree char *key = g_strdup_printf("\"%s\":", name);
    const char *p = strstr(json, key);

    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen(key), NULL, 10);
}

static guint64
vmm_stat(struct vmm *vmm, const char *name)
{
    g_autofree char *json = vmm_cmd(vmm, "stats");

    return stat_field(json, name);
}

static int
vmm_fd_count(struct vmm *vmm)
{
    g_autofree char *path =
        g_strdup_printf("/proc/%s/fd", g_subprocess_get_identifier(vmm->proc));
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    int n = 0;

    g_assert_nonnull(dir);
    while (g_dir_read_name(dir))
        n++;
    return n;
}

static long
vmm_rss_kib(struct vmm *vmm)
{
    g_autofree char *path =
        g_strdup_printf("/proc/%s/status", g_subprocess_get_identifier(vmm->proc));
    g_autofree char *text = NULL;
    const char *p;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    p = strstr(text, "VmRSS:");
    g_assert_nonnull(p);
    return strtol(p + 6, NULL, 10);
}

/* ---- the raw client ---- */

struct client {
    SpiceSession *session;
    SpicePortChannel *port;
    bool opened;
    struct ssb_proto_reader *reader;
    GQueue port_msgs;      /* struct ssb_msg * from the port */
    int local;             /* local socket, -1 */
    uint32_t n_scanouts;   /* SCANOUT_CREATEs expected in the handshake */
    uint32_t width;        /* of the scanouts at start */
    int port_keepalives, local_keepalives;
    int slot_fds[SSB_PROTO_MAX_SCANOUTS][SSB_PROTO_MAX_SLOTS];
    struct ssb_msg_slot_announce slots[SSB_PROTO_MAX_SCANOUTS][SSB_PROTO_MAX_SLOTS];
};

static gboolean
tick(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

static void
wait_until(bool (*cond)(void *), void *data)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    guint waker = g_timeout_add(50, tick, NULL); /* so the deadline is checked */

    while (!cond(data)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, TRUE);
    }
    g_source_remove(waker);
}

static void
on_port_data(SpicePortChannel *port, gpointer data, int size, struct client *c)
{
    const uint8_t *raw;
    size_t len;

    g_assert_cmpint(ssb_proto_reader_feed(c->reader, data, (size_t)size), ==, 0);
    while (ssb_proto_reader_next(c->reader, &raw, &len, NULL) == 1) {
        struct ssb_msg *msg = g_new0(struct ssb_msg, 1);

        g_assert_cmpint(ssb_proto_parse(raw, len, 0, msg, NULL), ==, 0);
        g_queue_push_tail(&c->port_msgs, msg);
    }
}

static void
on_port_opened(GObject *port, GParamSpec *pspec, struct client *c)
{
    gboolean opened;
    g_autofree char *name = NULL;

    g_object_get(port, "port-opened", &opened, "port-name", &name, NULL);
    if (g_strcmp0(name, SSB_PORT_NAME) == 0)
        c->opened = opened;
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, struct client *c)
{
    if (!SPICE_IS_PORT_CHANNEL(channel))
        return;
    c->port = SPICE_PORT_CHANNEL(channel);
    g_signal_connect(channel, "port-data", G_CALLBACK(on_port_data), c);
    g_signal_connect(channel, "notify::port-opened", G_CALLBACK(on_port_opened), c);
    spice_channel_connect(channel);
}

static bool
client_is_open(void *c)
{
    return ((struct client *)c)->opened;
}

static bool
client_has_msg(void *c)
{
    return !g_queue_is_empty(&((struct client *)c)->port_msgs);
}

static void
client_connect(struct client *c, struct vmm *vmm)
{
    memset(c, 0, sizeof(*c));
    c->local = -1;
    c->n_scanouts = vmm->n_scanouts ? vmm->n_scanouts : N_SCANOUTS;
    c->width = vmm->size ? (uint32_t)atoi(vmm->size) : W;
    for (int s = 0; s < (int)SSB_PROTO_MAX_SCANOUTS; s++)
        for (int i = 0; i < (int)SSB_PROTO_MAX_SLOTS; i++)
            c->slot_fds[s][i] = -1;
    c->reader = ssb_proto_reader_new();
    g_queue_init(&c->port_msgs);
    c->session = spice_session_new();
    g_object_set(c->session, "unix-path", vmm->spice_path, NULL);
    g_signal_connect(c->session, "channel-new", G_CALLBACK(on_channel_new), c);
    g_assert_true(spice_session_connect(c->session));
    wait_until(client_is_open, c);
}

static void
client_disconnect(struct client *c)
{
    for (int s = 0; s < (int)SSB_PROTO_MAX_SCANOUTS; s++)
        for (int i = 0; i < (int)SSB_PROTO_MAX_SLOTS; i++)
            if (c->slot_fds[s][i] >= 0)
                close(c->slot_fds[s][i]);
    if (c->local >= 0)
        close(c->local);
    /* The channel may still deliver data while the session winds down:
     * stop listening before the reader goes. */
    if (c->port)
        g_signal_handlers_disconnect_by_data(c->port, c);
    spice_session_disconnect(c->session);
    g_clear_object(&c->session);
    g_queue_clear_full(&c->port_msgs, g_free);
    g_clear_pointer(&c->reader, ssb_proto_reader_free);
    /* spice-server replaces sessions; give the old one time to go. */
    for (gint64 end = g_get_monotonic_time() + 60000; g_get_monotonic_time() < end;)
        g_main_context_iteration(NULL, FALSE);
}

static struct ssb_msg *
port_next(struct client *c, enum ssb_msg_type type)
{
    struct ssb_msg *msg;

    do {
        wait_until(client_has_msg, c);
        msg = g_queue_pop_head(&c->port_msgs);
        if (msg->type == SSB_MSG_KEEPALIVE) {
            c->port_keepalives++;
            g_clear_pointer(&msg, g_free);
        }
    } while (!msg);
    g_assert_cmpstr(ssb_proto_msg_name(msg->type), ==, ssb_proto_msg_name(type));
    return msg;
}

static void
write_done(GObject *source, GAsyncResult *res, gpointer buf)
{
    g_autoptr(GError) error = NULL;

    spice_port_channel_write_finish(SPICE_PORT_CHANNEL(source), res, &error);
    g_assert_no_error(error);
    g_free(buf);
}

static void
port_send(struct client *c, const struct ssb_msg *msg)
{
    uint8_t *buf = g_malloc(SSB_PROTO_MAX_MSG_SIZE);
    ssize_t len = ssb_proto_encode(msg, buf, SSB_PROTO_MAX_MSG_SIZE);

    g_assert_cmpint(len, >, 0);
    spice_port_channel_write_async(c->port, buf, (gsize)len, NULL, write_done, buf);
}

static void
local_send(struct client *c, const struct ssb_msg *msg)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    ssize_t len = ssb_proto_encode(msg, buf, sizeof(buf));

    g_assert_cmpint(len, >, 0);
    g_assert_cmpint(send(c->local, buf, (size_t)len, MSG_NOSIGNAL), ==, len);
}

/* Next local message (non-keepalive), with its fds stored for slots. */
static bool
local_recv(struct client *c, struct ssb_msg *msg, int timeout_ms)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * SSB_PROTO_MAX_FDS)];
    } control;
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;

    for (;;) {
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        ssize_t n = recvmsg(c->local, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        int fds[SSB_PROTO_MAX_FDS];
        size_t n_fds = 0;

        if (n < 0 && errno == EAGAIN) {
            if (g_get_monotonic_time() > deadline)
                return false;
            g_main_context_iteration(NULL, FALSE);
            g_usleep(200);
            continue;
        }
        g_assert_cmpint(n, >, 0);
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            n_fds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds, CMSG_DATA(cm), n_fds * sizeof(int));
        }
        g_assert_cmpint(ssb_proto_parse(buf, (size_t)n, n_fds, msg, NULL), ==, 0);
        if (msg->type == SSB_MSG_SLOT_ANNOUNCE) {
            const struct ssb_msg_slot_announce *a = &msg->u.slot_announce;

            g_assert_cmpuint(n_fds, ==, a->n_planes);
            if (c->slot_fds[a->scanout_id][a->slot_id] >= 0)
                close(c->slot_fds[a->scanout_id][a->slot_id]);
            c->slot_fds[a->scanout_id][a->slot_id] = fds[0];
            c->slots[a->scanout_id][a->slot_id] = *a;
        } else {
            g_assert_cmpuint(n_fds, ==, 0);
        }
        if (msg->type != SSB_MSG_KEEPALIVE)
            return true;
        c->local_keepalives++;
    }
}

static void
local_expect(struct client *c, struct ssb_msg *msg, enum ssb_msg_type type)
{
    g_assert_true(local_recv(c, msg, 5000));
    g_assert_cmpstr(ssb_proto_msg_name(msg->type), ==, ssb_proto_msg_name(type));
}

/* CLIENT_HELLO -> SCANOUT_CREATE x N, LOCAL_OFFER; local socket -> WELCOME. */
static void
client_handshake_full(struct client *c, bool want_local, bool dmabuf)
{
    struct ssb_msg hello = { .type = SSB_MSG_CLIENT_HELLO };
    struct ssb_msg *msg = port_next(c, SSB_MSG_SERVER_HELLO);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    uint8_t host_id[SSB_PROTO_HOST_ID_SIZE];
    struct ssb_msg local = { .type = SSB_MSG_LOCAL_HELLO };

    g_assert_cmpuint(msg->u.server_hello.version_major, ==, SSB_PROTO_VERSION_MAJOR);
    /* Video is offered when an encoder is installed (test-server-video.c). */
    if (msg->u.server_hello.codecs)
        g_assert_cmpuint(msg->u.server_hello.caps & SSB_CAP_VIDEO, !=, 0);
    g_assert_cmpuint(msg->u.server_hello.caps & SSB_CAP_LOCAL_SOCKET, !=, 0);
    g_free(msg);
    hello.u.client_hello.version_major = SSB_PROTO_VERSION_MAJOR;
    hello.u.client_hello.caps = SSB_CAP_SHM | SSB_CAP_LOCAL_SOCKET;
    hello.u.client_hello.flags = want_local ? SSB_CLIENT_WANT_LOCAL : 0;
    hello.u.client_hello.max_width = 4096;
    hello.u.client_hello.max_height = 4096;
    if (dmabuf) {
        hello.u.client_hello.caps |= SSB_CAP_DMABUF;
        hello.u.client_hello.n_formats = 1;
        hello.u.client_hello.formats[0].fourcc = SSB_FORMAT_XRGB8888;
        hello.u.client_hello.formats[0].modifier = SSB_MODIFIER_LINEAR;
    }
    port_send(c, &hello);
    for (uint32_t i = 0; i < c->n_scanouts; i++) {
        msg = port_next(c, SSB_MSG_SCANOUT_CREATE);
        g_assert_cmpuint(msg->u.scanout.scanout_id, ==, i);
        g_assert_cmpuint(msg->u.scanout.width, ==, c->width);
        g_assert_cmpuint(msg->u.scanout.fourcc, ==, SSB_FORMAT_XRGB8888);
        g_free(msg);
    }
    if (!want_local)
        return;
    msg = port_next(c, SSB_MSG_LOCAL_OFFER);
    g_assert_cmpint(ssb_host_id_get(host_id), ==, 0);
    g_assert_cmpmem(msg->u.local_offer.host_id, 32, host_id, 32);
    g_strlcpy(addr.sun_path, msg->u.local_offer.path, sizeof(addr.sun_path));
    memcpy(local.u.local_hello.token, msg->u.local_offer.token, SSB_PROTO_TOKEN_SIZE);
    g_free(msg);
    c->local = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    g_assert_cmpint(connect(c->local, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    local_send(c, &local);
    local_expect(c, &local, SSB_MSG_LOCAL_WELCOME);
}

static void
client_handshake(struct client *c, bool want_local)
{
    client_handshake_full(c, want_local, false);
}

/* ---- the model of what the VMM drew (test-pattern.h) ---- */

struct model {
    uint64_t seq_at[H][W];
};

static void
model_damage(struct model *m, uint64_t seq, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    for (uint32_t yy = y; yy < y + h; yy++)
        for (uint32_t xx = x; xx < x + w; xx++)
            m->seq_at[yy][xx] = seq;
}

static void
check_slot(struct client *c, uint32_t scanout, uint32_t slot, const struct model *m)
{
    const struct ssb_msg_slot_announce *a = &c->slots[scanout][slot];
    int fd = c->slot_fds[scanout][slot];
    uint8_t *map;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fcntl(fd, F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW), ==,
                    F_SEAL_SHRINK | F_SEAL_GROW);
    map = mmap(NULL, a->size, PROT_READ, MAP_SHARED, fd, 0);
    g_assert_true(map != MAP_FAILED);
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++)
            g_assert_cmpuint(ssb_test_pattern_check(map + a->planes[0].offset,
                                                    a->planes[0].stride, scanout,
                                                    m->seq_at[y][x], x, y, 1, 1), ==, 0);
    munmap(map, a->size);
}

static void
release(struct client *c, const struct ssb_msg_frame *f)
{
    struct ssb_msg rel = { .type = SSB_MSG_SLOT_RELEASE };

    rel.u.slot_release.scanout_id = f->scanout_id;
    rel.u.slot_release.slot_id = f->slot_id;
    rel.u.slot_release.seq = f->seq;
    local_send(c, &rel);
}

/* Reads local messages up to the next FRAME (slot announcements and
 * retirements are recorded on the way). */
static void
next_frame(struct client *c, struct ssb_msg_frame *frame)
{
    struct ssb_msg msg;

    do {
        g_assert_true(local_recv(c, &msg, 5000));
    } while (msg.type == SSB_MSG_SLOT_ANNOUNCE || msg.type == SSB_MSG_SLOT_RETIRE);
    g_assert_cmpstr(ssb_proto_msg_name(msg.type), ==, "FRAME");
    *frame = msg.u.frame;
}

static void
submit(struct vmm *vmm, uint32_t id, const struct ssb_rect *r, struct model *m, uint64_t *seq)
{
    g_autofree char *cmd = r ? g_strdup_printf("submit %u %u %u %u %u", id, r->x, r->y,
                                               r->width, r->height)
                             : g_strdup_printf("submit %u", id);
    g_autofree char *reply = vmm_cmd(vmm, cmd);
    g_autofree char *want = g_strdup_printf("submitted %u %" G_GUINT64_FORMAT, id, *seq + 1);

    g_assert_cmpstr(reply, ==, want);
    ++*seq;
    if (m)
        model_damage(m, *seq, r ? r->x : 0, r ? r->y : 0, r ? r->width : W, r ? r->height : H);
}

/* ---- tests ---- */

static void
test_frames(void)
{
    static struct model m0;
    struct vmm vmm = { 0 };
    struct client c;
    struct ssb_msg_frame f, held[2];
    struct ssb_rect r = { 10, 12, 5, 7 };
    uint64_t seq = 0;
    g_autofree char *json = NULL;

    memset(&m0, 0, sizeof(m0));
    vmm_start(&vmm, NULL);
    client_connect(&c, &vmm);
    client_handshake(&c, true);

    /* Whole frame: three sealed slots announced, then FRAME, byte-exact. */
    submit(&vmm, 0, NULL, &m0, &seq);
    next_frame(&c, &f);
    g_assert_cmpuint(f.scanout_id, ==, 0);
    g_assert_cmpuint(f.seq, ==, 1);
    g_assert_cmpuint(f.n_rects, ==, 0);
    g_assert_cmpuint(f.t_ready_us, >=, f.t_submit_us);
    for (uint32_t i = 0; i < 3; i++)
        g_assert_cmpint(c.slot_fds[0][i], >=, 0);
    check_slot(&c, 0, f.slot_id, &m0);
    release(&c, &f);

    /* Damage only: FRAME carries the rect; content still exact. */
    submit(&vmm, 0, &r, &m0, &seq);
    next_frame(&c, &f);
    g_assert_cmpuint(f.seq, ==, 2);
    g_assert_cmpuint(f.n_rects, ==, 1);
    g_assert_cmpmem(&f.rects[0], sizeof(r), &r, sizeof(r));
    check_slot(&c, 0, f.slot_id, &m0);
    held[0] = f;

    /* Keep that one; the next fits; the third waits (latest frame wins). */
    submit(&vmm, 0, &(struct ssb_rect){ 0, 0, 3, 3 }, &m0, &seq);
    next_frame(&c, &held[1]);
    check_slot(&c, 0, held[1].slot_id, &m0);
    for (int i = 0; i < 10; i++)
        submit(&vmm, 0, &(struct ssb_rect){ (uint32_t)i, (uint32_t)i, 2, 2 }, &m0, &seq);
    {
        struct ssb_msg none;
        g_assert_false(local_recv(&c, &none, 100));
    }
    json = vmm_cmd(&vmm, "stats");
    g_assert_cmpuint(stat_field(json, "frames_skipped"), ==, 9);
    g_assert_cmpuint(stat_field(json, "vmm_done"), ==, seq);

    /* A release brings the newest frame, with the damage since held[1]. */
    release(&c, &held[0]);
    next_frame(&c, &f);
    g_assert_cmpuint(f.seq, ==, seq);
    g_assert_cmpuint(f.n_rects, >=, 1);
    check_slot(&c, 0, f.slot_id, &m0);
    release(&c, &held[1]);
    release(&c, &f);

    /* A second release is stale (spec 4.6): ignored. */
    release(&c, &f);
    submit(&vmm, 0, NULL, &m0, &seq);
    next_frame(&c, &f);
    check_slot(&c, 0, f.slot_id, &m0);
    g_assert_cmpuint(vmm_stat(&vmm, "protocol_errors"), ==, 0);

    /* Releasing a frame never sent ends the local path (ERROR there, then
     * EOF, spec 7); the port would fall back to video, but this client
     * decodes none: ERROR UNSUPPORTED on the port (spec 4.4). */
    f.seq += 100;
    release(&c, &f);
    {
        struct ssb_msg msg;
        g_autofree struct ssb_msg *unsupported = NULL;

        g_assert_true(local_recv(&c, &msg, 5000));
        g_assert_cmpint(msg.type, ==, SSB_MSG_ERROR);
        g_assert_cmpuint(msg.u.error.code, ==, SSB_ERROR_PROTOCOL);
        g_assert_cmpint(recv(c.local, &msg, sizeof(msg), 0), ==, 0);
        unsupported = port_next(&c, SSB_MSG_ERROR);
        g_assert_cmpuint(unsupported->u.error.code, ==, SSB_ERROR_UNSUPPORTED);
    }
    g_assert_cmpuint(vmm_stat(&vmm, "protocol_errors"), ==, 1);
    g_assert_cmpuint(vmm_stat(&vmm, "local_clients"), ==, 0);
    g_assert_cmpuint(vmm_stat(&vmm, "clients"), ==, 0);
    client_disconnect(&c);
    vmm_stop(&vmm);
}

/* Resize: old slots retired, a new pool announced, whole frame again. */
static void
test_resize(void)
{
    static struct model m;
    struct vmm vmm = { 0 };
    struct client c;
    struct ssb_msg_frame f, old;
    struct ssb_msg msg;
    uint64_t seq = 0;
    g_autofree char *reply = NULL;
    g_autofree struct ssb_msg *resize = NULL;
    int retired = 0;

    memset(&m, 0, sizeof(m));
    vmm_start(&vmm, NULL);
    client_connect(&c, &vmm);
    client_handshake(&c, true);
    submit(&vmm, 1, NULL, NULL, &seq);
    next_frame(&c, &old); /* held across the resize */

    reply = vmm_cmd(&vmm, "resize 1 32 16");
    g_assert_cmpstr(reply, ==, "ok");
    resize = port_next(&c, SSB_MSG_SCANOUT_RESIZE);
    g_assert_cmpuint(resize->u.scanout.width, ==, 32);
    g_assert_cmpuint(resize->u.scanout.height, ==, 16);
    submit(&vmm, 1, NULL, NULL, &seq);
    for (;;) {
        g_assert_true(local_recv(&c, &msg, 5000));
        if (msg.type == SSB_MSG_FRAME)
            break;
        if (msg.type == SSB_MSG_SLOT_RETIRE)
            retired++;
        if (msg.type == SSB_MSG_SLOT_ANNOUNCE)
            g_assert_cmpuint(msg.u.slot_announce.width, ==, 32);
    }
    f = msg.u.frame;
    g_assert_cmpint(retired, ==, 3);
    g_assert_cmpuint(f.seq, ==, 2);
    g_assert_cmpuint(f.n_rects, ==, 0);
    /* A late release of the frame from before the resize is fine. */
    release(&c, &old);
    release(&c, &f);
    g_assert_cmpuint(vmm_stat(&vmm, "protocol_errors"), ==, 0);

    reply = (g_free(reply), vmm_cmd(&vmm, "disable 1"));
    g_assert_cmpstr(reply, ==, "ok");
    g_free(port_next(&c, SSB_MSG_SCANOUT_DESTROY));
    /* Spec 4.3: every slot of a destroyed scanout is retired. */
    for (retired = 0; retired < 3;) {
        g_assert_true(local_recv(&c, &msg, 5000));
        g_assert_cmpint(msg.type, ==, SSB_MSG_SLOT_RETIRE);
        g_assert_cmpuint(msg.u.slot_retire.scanout_id, ==, 1);
        retired++;
    }
    reply = (g_free(reply), vmm_cmd(&vmm, "enable 5 16 16"));
    g_assert_cmpstr(reply, ==, "ok");
    g_free(port_next(&c, SSB_MSG_SCANOUT_CREATE));
    client_disconnect(&c);
    vmm_stop(&vmm);
}

/* A client that never releases: submits stay immediate, frames are
 * skipped, the VMM's memory stays put. */
static void
stalled(const char *buffer_opt)
{
    const char *extra[] = { buffer_opt, NULL };
    struct vmm vmm = { 0 };
    struct client c;
    uint64_t seq = 0;
    long rss_before;
    gint64 t0;
    g_autofree char *json = NULL;

    vmm_start(&vmm, extra);
    client_connect(&c, &vmm);
    client_handshake(&c, true);
    for (int i = 0; i < 10; i++) {
        submit(&vmm, 0, NULL, NULL, &seq);
        if (g_getenv("SSB_DEBUG")) {
            g_autofree char *j = vmm_cmd(&vmm, "stats");
            g_printerr("%s\n", j);
        }
    }
    rss_before = vmm_rss_kib(&vmm);
    t0 = g_get_monotonic_time();
    for (int i = 0; i < 300; i++)
        submit(&vmm, 0, &(struct ssb_rect){ 0, 0, W, 4 }, NULL, &seq);
    /* 300 command round trips, each with a submit: well under 5 ms each. */
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 1500 * 1000);
    json = vmm_cmd(&vmm, "stats");
    g_assert_cmpuint(stat_field(json, "frames_submitted"), ==, 310);
    g_assert_cmpuint(stat_field(json, "frames_sent"), <=, 4);
    g_assert_cmpuint(stat_field(json, "frames_skipped"), >=, 300);
    g_assert_cmpuint(stat_field(json, "vmm_busy"), ==, 0);
    /* At most two lent buffers wait for the stalled client, plus the last
     * submit whose done() may still be queued for the next loop turn. */
    g_assert_cmpuint(stat_field(json, "vmm_in_flight"), <=, 3);
    g_assert_cmpint(vmm_rss_kib(&vmm) - rss_before, <, 4096);
    /* Drain what it got. */
    for (struct ssb_msg msg; local_recv(&c, &msg, 50);)
        ;
    client_disconnect(&c);
    /* Leaving gives every lent buffer back. */
    for (int i = 0; i < 100 && vmm_stat(&vmm, "vmm_in_flight") != 0; i++)
        g_usleep(10000);
    g_assert_cmpuint(vmm_stat(&vmm, "vmm_in_flight"), ==, 0);
    vmm_stop(&vmm);
}

static void
test_stalled_pixels(void)
{
    stalled("--buffer=pixels");
}

static void
test_stalled_memfd(void)
{
    stalled("--buffer=memfd");
}

/* MEMFD buffers: lent as they are (zero copy), done() after release. */
static void
test_memfd_zero_copy(void)
{
    const char *extra[] = { "--buffer=memfd", NULL };
    static struct model m;
    struct vmm vmm = { 0 };
    struct client c;
    struct ssb_msg_frame f;
    uint64_t seq = 0;

    memset(&m, 0, sizeof(m));
    vmm_start(&vmm, extra);
    client_connect(&c, &vmm);
    client_handshake(&c, true);
    for (int i = 0; i < 6; i++) {
        submit(&vmm, 0, i ? &(struct ssb_rect){ 1, 1, 8, 8 } : NULL, &m, &seq);
        next_frame(&c, &f);
        g_assert_cmpuint(f.seq, ==, seq);
        g_assert_cmpuint(f.slot_id, >=, 3); /* a lent VMM buffer */
        check_slot(&c, 0, f.slot_id, &m);
        g_assert_cmpuint(vmm_stat(&vmm, "vmm_in_flight"), ==, 1);
        release(&c, &f);
        for (int t = 0; t < 100 && vmm_stat(&vmm, "vmm_in_flight"); t++)
            g_usleep(5000);
        g_assert_cmpuint(vmm_stat(&vmm, "vmm_in_flight"), ==, 0);
    }
    g_assert_cmpuint(vmm_stat(&vmm, "bytes_copied"), ==, 0);
    client_disconnect(&c);
    vmm_stop(&vmm);
}

/* DMABUF for a client that cannot import it: copied via a mapping. */
static void
test_dmabuf_fallback(void)
{
    const char *extra[] = { "--buffer=dmabuf", NULL };
    static struct model m;
    struct vmm vmm = { 0 };
    struct client c;
    struct ssb_msg_frame f;
    uint64_t seq = 0;

    memset(&m, 0, sizeof(m));
    vmm_start(&vmm, extra);
    client_connect(&c, &vmm);
    client_handshake(&c, true);
    submit(&vmm, 1, NULL, &m, &seq);
    next_frame(&c, &f);
    g_assert_cmpuint(f.slot_id, <, 3); /* a pool slot */
    check_slot(&c, 1, f.slot_id, &m);
    release(&c, &f);
    submit(&vmm, 1, &(struct ssb_rect){ 30, 20, 4, 4 }, &m, &seq);
    next_frame(&c, &f);
    check_slot(&c, 1, f.slot_id, &m);
    g_assert_cmpuint(vmm_stat(&vmm, "vmm_in_flight"), ==, 0);
    {
        g_autofree char *json = vmm_cmd(&vmm, "stats");
        g_assert_nonnull(strstr(json, "\"port_family\":\"unix\""));
    }
    client_disconnect(&c);
    vmm_stop(&vmm);
}

/* DMABUF for a client that imports XR24/LINEAR: forwarded as is. */
static void
test_dmabuf_import(void)
{
    const char *extra[] = { "--buffer=dmabuf", NULL };
    static struct model m;
    struct vmm vmm = { 0 };
    struct client c;
    struct ssb_msg_frame f;
    uint64_t seq = 0;

    memset(&m, 0, sizeof(m));
    vmm_start(&vmm, extra);
    client_connect(&c, &vmm);
    client_handshake_full(&c, true, true);
    submit(&vmm, 0, NULL, &m, &seq);
    next_frame(&c, &f);
    g_assert_cmpuint(f.slot_id, >=, 3);
    g_assert_cmpuint(c.slots[0][f.slot_id].kind, ==, SSB_SLOT_DMABUF);
    g_assert_cmpuint(c.slots[0][f.slot_id].modifier, ==, SSB_MODIFIER_LINEAR);
    check_slot(&c, 0, f.slot_id, &m);
    g_assert_cmpuint(vmm_stat(&vmm, "bytes_copied"), ==, 0);
    /* The VMM quits while the client still holds its buffer: done() comes
     * anyway, everything is freed (ASan checks), exit status 0. */
    vmm_stop(&vmm);
    client_disconnect(&c);
}

/* Garbage on the port: ERROR, that sideband closes, the VMM goes on. */
static void
test_bad_input(void)
{
    struct vmm vmm = { 0 };
    struct client c;
    static const uint8_t junk[16] = { 0xff, 0xff, 0, 0, 8, 0, 0, 0 };
    g_autofree struct ssb_msg *err = NULL;
    uint64_t seq = 0;

    vmm_start(&vmm, NULL);
    client_connect(&c, &vmm);
    g_free(port_next(&c, SSB_MSG_SERVER_HELLO));
    spice_port_channel_write_async(c.port, junk, sizeof(junk), NULL, write_done, NULL);
    err = port_next(&c, SSB_MSG_ERROR);
    g_assert_cmpuint(err->u.error.code, ==, SSB_ERROR_PROTOCOL);
    submit(&vmm, 0, NULL, NULL, &seq);
    g_assert_cmpuint(vmm_stat(&vmm, "protocol_errors"), ==, 1);
    client_disconnect(&c);

    /* A new session starts over. */
    client_connect(&c, &vmm);
    client_handshake(&c, true);
    g_assert_cmpuint(vmm_stat(&vmm, "clients"), ==, 1);
    client_disconnect(&c);
    vmm_stop(&vmm);
}

/* 16 scanouts at once, ids up to 63: every one gets slots and frames. */
static void
test_many_scanouts(void)
{
    struct vmm vmm = { .n_scanouts = 16 };
    struct client c;
    struct ssb_msg_frame f;
    bool seen[SSB_PROTO_MAX_SCANOUTS] = { false };
    g_autofree char *reply = NULL;
    g_autofree struct ssb_msg *create = NULL;

    vmm_start(&vmm, NULL);
    client_connect(&c, &vmm);
    client_handshake(&c, true);
    reply = vmm_cmd(&vmm, "enable 63 8 8");
    g_assert_cmpstr(reply, ==, "ok");
    create = port_next(&c, SSB_MSG_SCANOUT_CREATE);
    g_assert_cmpuint(create->u.scanout.scanout_id, ==, 63);
    g_output_stream_write_all(vmm.in, "submit-all\n", 11, NULL, NULL, NULL);
    for (int i = 0; i < 17; i++)
        g_free(vmm_line(&vmm));
    for (int i = 0; i < 17; i++) {
        next_frame(&c, &f);
        g_assert_false(seen[f.scanout_id]);
        seen[f.scanout_id] = true;
        g_assert_cmpint(c.slot_fds[f.scanout_id][f.slot_id], >=, 0);
        release(&c, &f);
    }
    g_assert_true(seen[63] && seen[15] && seen[0]);
    client_disconnect(&c);
    vmm_stop(&vmm);
}

/* Spec 4.7: a KEEPALIVE on each transport after 5 s of silence. */
static void
test_keepalive(void)
{
    struct vmm vmm = { 0 };
    struct client c;
    struct ssb_msg msg;
    gint64 end;

    vmm_start(&vmm, NULL);
    client_connect(&c, &vmm);
    client_handshake(&c, true);
    end = g_get_monotonic_time() + 6500 * 1000;
    while (g_get_monotonic_time() < end) {
        local_recv(&c, &msg, 100);
        g_main_context_iteration(NULL, FALSE);
    }
    while (client_has_msg(&c)) {
        g_autofree struct ssb_msg *m = g_queue_pop_head(&c.port_msgs);
        c.port_keepalives += m->type == SSB_MSG_KEEPALIVE;
    }
    g_assert_cmpint(c.port_keepalives, >=, 1);
    g_assert_cmpint(c.local_keepalives, >=, 1);
    g_assert_cmpuint(vmm_stat(&vmm, "local_clients"), ==, 1);
    client_disconnect(&c);
    vmm_stop(&vmm);
}

/* 100 connects/disconnects leave no fd behind in the VMM. */
static void
test_fd_leaks(void)
{
    struct vmm vmm = { 0 };
    struct client c;
    struct ssb_msg_frame f;
    uint64_t seq = 0;
    int before = -1;

    vmm_start(&vmm, NULL);
    for (int i = 0; i < 100; i++) {
        client_connect(&c, &vmm);
        client_handshake(&c, true);
        submit(&vmm, 0, NULL, NULL, &seq);
        next_frame(&c, &f);
        if (i % 2)
            release(&c, &f);
        client_disconnect(&c);
        if (i == 0) {
            g_usleep(50000);
            before = vmm_fd_count(&vmm);
        }
    }
    g_usleep(100000);
    g_assert_cmpint(vmm_fd_count(&vmm), <=, before);
    vmm_stop(&vmm);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Not a test: SSB_BENCH=1 measures submit -> FRAME received at 1080p. */
static void
bench_latency(const char *buffer_opt, uint32_t band)
{
    const char *extra[] = { buffer_opt, NULL };
    struct vmm vmm = { .n_scanouts = 1, .size = "1920x1080" };
    struct client c;
    struct ssb_msg_frame f;
    uint64_t lat[200], ready[200];

    vmm_start(&vmm, extra);
    client_connect(&c, &vmm);
    client_handshake(&c, true);
    for (int i = 0; i < 200; i++) {
        g_autofree char *cmd = band ? g_strdup_printf("submit 0 0 %u 1920 %u", (i * band) % (1080 - band), band)
                                    : g_strdup("submit 0");
        g_free(vmm_cmd(&vmm, cmd));
        next_frame(&c, &f);
        lat[i] = (uint64_t)g_get_monotonic_time() - f.t_submit_us;
        ready[i] = f.t_ready_us - f.t_submit_us;
        release(&c, &f);
    }
    qsort(lat, 200, sizeof(lat[0]), cmp_u64);
    qsort(ready, 200, sizeof(ready[0]), cmp_u64);
    g_printerr("bench %s damage %s: submit->received p50 %" G_GUINT64_FORMAT " us p99 %" G_GUINT64_FORMAT
               " us; submit->ready p50 %" G_GUINT64_FORMAT " us p99 %" G_GUINT64_FORMAT " us\n",
               buffer_opt, band ? "10%" : "full", lat[100], lat[197], ready[100], ready[197]);
    client_disconnect(&c);
    vmm_stop(&vmm);
}

static void
test_bench(void)
{
    if (!g_getenv("SSB_BENCH")) {
        g_test_skip("set SSB_BENCH=1 to measure");
        return;
    }
    bench_latency("--buffer=pixels", 0);
    bench_latency("--buffer=pixels", 108);
    bench_latency("--buffer=memfd", 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_getenv("SSB_TEST_VMM")) {
        g_test_skip("SSB_TEST_VMM not set");
        return 77;
    }
    g_test_add_func("/server/e2e/frames", test_frames);
    g_test_add_func("/server/e2e/resize", test_resize);
    g_test_add_func("/server/e2e/stalled-pixels", test_stalled_pixels);
    g_test_add_func("/server/e2e/stalled-memfd", test_stalled_memfd);
    g_test_add_func("/server/e2e/memfd-zero-copy", test_memfd_zero_copy);
    g_test_add_func("/server/e2e/dmabuf-fallback", test_dmabuf_fallback);
    g_test_add_func("/server/e2e/dmabuf-import", test_dmabuf_import);
    g_test_add_func("/server/e2e/bad-input", test_bad_input);
    g_test_add_func("/server/e2e/many-scanouts", test_many_scanouts);
    g_test_add_func("/server/e2e/keepalive", test_keepalive);
    g_test_add_func("/server/e2e/fd-leaks", test_fd_leaks);
    g_test_add_func("/server/e2e/bench", test_bench);
    return g_test_run();
}
