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
#include "raw-client.h"
#include "test-pattern.h"

#define W 64
#define H 48
#define N_SCANOUTS 2

/* ---- the VMM subprocess ---- */

struct vmm {
    struct ssb_test_vmm base;
    uint32_t n_scanouts;   /* 0: N_SCANOUTS */
    const char *size;      /* NULL: WxH */
};

static void
vmm_start(struct vmm *vmm, const char *const *extra)
{
    g_autofree char *scanouts =
        g_strdup_printf("--scanouts=%u", vmm->n_scanouts ? vmm->n_scanouts : N_SCANOUTS);
    g_autofree char *size = vmm->size ? g_strdup_printf("--size=%s", vmm->size)
                                      : g_strdup_printf("--size=%dx%d", W, H);
    const char *const args[] = { scanouts, size, NULL };

    ssb_test_vmm_start(&vmm->base, "ssb-e2e-XXXXXX", args, extra);
}

static void
vmm_stop(struct vmm *vmm)
{
    ssb_test_vmm_stop(&vmm->base, true);
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
    g_autofree char *json = ssb_test_vmm_cmd(&vmm->base, "stats");

    return stat_field(json, name);
}

static int
vmm_fd_count(struct vmm *vmm)
{
    g_autofree char *path =
        g_strdup_printf("/proc/%s/fd", g_subprocess_get_identifier(vmm->base.proc));
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
        g_strdup_printf("/proc/%s/status", g_subprocess_get_identifier(vmm->base.proc));
    g_autofree char *text = NULL;
    const char *p;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    p = strstr(text, "VmRSS:");
    g_assert_nonnull(p);
    return strtol(p + 6, NULL, 10);
}

/* ---- the raw client ---- */

struct client {
    struct ssb_test_client base;
    int local;             /* local socket, -1 */
    uint32_t n_scanouts;   /* SCANOUT_CREATEs expected in the handshake */
    uint32_t width;        /* of the scanouts at start */
    int local_keepalives;
    int slot_fds[SSB_PROTO_MAX_SCANOUTS][SSB_PROTO_MAX_SLOTS];
    struct ssb_msg_slot_announce slots[SSB_PROTO_MAX_SCANOUTS][SSB_PROTO_MAX_SLOTS];
};

static void *
parse_msg(struct ssb_test_client *c, const uint8_t *raw, size_t len)
{
    struct ssb_msg *msg = g_new0(struct ssb_msg, 1);

    g_assert_cmpint(ssb_proto_parse(raw, len, 0, msg, NULL), ==, 0);
    return msg;
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
    ssb_test_client_connect(&c->base, &vmm->base, parse_msg);
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
    ssb_test_client_disconnect(&c->base, 60000);
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
    struct ssb_msg *msg = ssb_test_port_next(&c->base, SSB_MSG_SERVER_HELLO);
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
    ssb_test_port_send(&c->base, &hello);
    for (uint32_t i = 0; i < c->n_scanouts; i++) {
        msg = ssb_test_port_next(&c->base, SSB_MSG_SCANOUT_CREATE);
        g_assert_cmpuint(msg->u.scanout.scanout_id, ==, i);
        g_assert_cmpuint(msg->u.scanout.width, ==, c->width);
        g_assert_cmpuint(msg->u.scanout.fourcc, ==, SSB_FORMAT_XRGB8888);
        g_free(msg);
    }
    if (!want_local)
        return;
    msg = ssb_test_port_next(&c->base, SSB_MSG_LOCAL_OFFER);
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
    g_autofree char *reply = ssb_test_vmm_cmd(&vmm->base, cmd);
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
    json = ssb_test_vmm_cmd(&vmm.base, "stats");
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
        unsupported = ssb_test_port_next(&c.base, SSB_MSG_ERROR);
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

    reply = ssb_test_vmm_cmd(&vmm.base, "resize 1 32 16");
    g_assert_cmpstr(reply, ==, "ok");
    resize = ssb_test_port_next(&c.base, SSB_MSG_SCANOUT_RESIZE);
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

    reply = (g_free(reply), ssb_test_vmm_cmd(&vmm.base, "disable 1"));
    g_assert_cmpstr(reply, ==, "ok");
    g_free(ssb_test_port_next(&c.base, SSB_MSG_SCANOUT_DESTROY));
    /* Spec 4.3: every slot of a destroyed scanout is retired. */
    for (retired = 0; retired < 3;) {
        g_assert_true(local_recv(&c, &msg, 5000));
        g_assert_cmpint(msg.type, ==, SSB_MSG_SLOT_RETIRE);
        g_assert_cmpuint(msg.u.slot_retire.scanout_id, ==, 1);
        retired++;
    }
    reply = (g_free(reply), ssb_test_vmm_cmd(&vmm.base, "enable 5 16 16"));
    g_assert_cmpstr(reply, ==, "ok");
    g_free(ssb_test_port_next(&c.base, SSB_MSG_SCANOUT_CREATE));
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
            g_autofree char *j = ssb_test_vmm_cmd(&vmm.base, "stats");
            g_printerr("%s\n", j);
        }
    }
    rss_before = vmm_rss_kib(&vmm);
    t0 = g_get_monotonic_time();
    for (int i = 0; i < 300; i++)
        submit(&vmm, 0, &(struct ssb_rect){ 0, 0, W, 4 }, NULL, &seq);
    /* 300 command round trips, each with a submit: well under 5 ms each. */
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 1500 * 1000);
    json = ssb_test_vmm_cmd(&vmm.base, "stats");
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
        g_autofree char *json = ssb_test_vmm_cmd(&vmm.base, "stats");
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
    g_free(ssb_test_port_next(&c.base, SSB_MSG_SERVER_HELLO));
    spice_port_channel_write_async(c.base.port, junk, sizeof(junk), NULL, ssb_test_write_done, NULL);
    err = ssb_test_port_next(&c.base, SSB_MSG_ERROR);
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
    reply = ssb_test_vmm_cmd(&vmm.base, "enable 63 8 8");
    g_assert_cmpstr(reply, ==, "ok");
    create = ssb_test_port_next(&c.base, SSB_MSG_SCANOUT_CREATE);
    g_assert_cmpuint(create->u.scanout.scanout_id, ==, 63);
    g_output_stream_write_all(vmm.base.in, "submit-all\n", 11, NULL, NULL, NULL);
    for (int i = 0; i < 17; i++)
        g_free(ssb_test_vmm_line(&vmm.base));
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
    while (ssb_test_client_has_msg(&c.base)) {
        g_autofree struct ssb_msg *m = g_queue_pop_head(&c.base.port_msgs);
        c.base.keepalives += m->type == SSB_MSG_KEEPALIVE;
    }
    g_assert_cmpint(c.base.keepalives, >=, 1);
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
        g_free(ssb_test_vmm_cmd(&vmm.base, cmd));
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
