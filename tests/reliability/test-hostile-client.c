/* A hostile client against the real server: ssb-test-vmm (libspice-server
 * and the sideband library) in a subprocess, and generated malformed,
 * oversized, out-of-state and out-of-order input sent through a real SPICE
 * port channel (spice-client-glib) and over the local socket, bogus fds
 * included.  Each case must end with that peer cut off (ERROR with a
 * reason, then the port or the local socket closed), and the VMM must keep
 * serving: after every batch of cases a well-behaved client gets the
 * frame it was owed, and at the end the VMM holds no more fds than before.
 *
 * SSB_HOSTILE_CASES (default 600) cases of each transport, from the seed
 * SSB_HOSTILE_SEED (default fixed; printed, so that a failure replays).
 * Then floods, which are not errors and must not be treated as such:
 * valid messages on each transport (SSB_FLOOD_MESSAGES, default 1000000)
 * and connections that never authenticate.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "local-socket.h"
#include "raw-client.h"
#include "reliability.h"
#include "samples.h"

#define W 64
#define H 48
#define GOOD_CLIENT_EVERY 50

enum expect {
    EXPECT_PROTOCOL,   /* PROTOCOL or LIMIT: malformed */
    EXPECT_STATE,
    EXPECT_VERSION,
    EXPECT_AUTH,
    EXPECT_NOTHING,    /* not an error: the peer stays */
};

struct hostile_case {
    uint8_t bytes[SSB_PROTO_MAX_MSG_SIZE + 64];
    size_t len;
    int n_fds;                 /* bogus fds to attach (local socket only) */
    bool welcome_first;        /* local: prove the token first */
    enum expect expect;
    const char *what;
};

struct tally {
    unsigned cases, cut_off, fds_sent;
    unsigned by_code[SSB_ERROR_CODE_COUNT];
};

static uint64_t rng;

static uint32_t
rnd(uint32_t n)
{
    return (uint32_t)(sample_rand(&rng) % n);
}

/* ---- the raw client ---- */

struct client {
    struct ssb_test_client base;
    int local;
    struct ssb_msg_local_offer offer;
};

static void *
parse_msg(struct ssb_test_client *c, const uint8_t *raw, size_t len)
{
    struct ssb_msg *msg = g_new0(struct ssb_msg, 1);

    g_assert_cmpint(ssb_proto_parse(raw, len, 0, msg, NULL), ==, 0);
    return msg;
}

static bool
port_closed(void *c)
{
    return !ssb_test_client_is_open(c);
}

static void
send_port_raw(struct client *c, const void *data, size_t len)
{
    spice_port_channel_write_async(c->base.port, g_memdup2(data, len), len, NULL,
                                   ssb_test_write_done, NULL);
}

/* The next port message that is not SCANOUT_*, LOCAL_OFFER or KEEPALIVE. */
static struct ssb_msg *
port_next_significant(struct client *c)
{
    for (;;) {
        struct ssb_msg *msg;

        ssb_test_wait_until(ssb_test_client_has_msg, &c->base, 20);
        msg = g_queue_pop_head(&c->base.port_msgs);
        if (msg->type == SSB_MSG_LOCAL_OFFER)
            c->offer = msg->u.local_offer;
        if (msg->type != SSB_MSG_SCANOUT_CREATE && msg->type != SSB_MSG_LOCAL_OFFER &&
            msg->type != SSB_MSG_KEEPALIVE && msg->type != SSB_MSG_SCANOUT_DESTROY)
            return msg;
        g_free(msg);
    }
}

static void
hello(struct client *c, bool want_local)
{
    struct ssb_msg msg = { .type = SSB_MSG_CLIENT_HELLO };

    msg.u.client_hello.version_major = SSB_PROTO_VERSION_MAJOR;
    msg.u.client_hello.caps = SSB_CAP_SHM | SSB_CAP_LOCAL_SOCKET;
    msg.u.client_hello.flags = want_local ? SSB_CLIENT_WANT_LOCAL : 0;
    msg.u.client_hello.max_width = 4096;
    msg.u.client_hello.max_height = 4096;
    ssb_test_port_send(&c->base, &msg);
}

/* Connects and waits for SERVER_HELLO; with @handshake, CLIENT_HELLO with
 * WANT_LOCAL up to the LOCAL_OFFER (the connection is then ACTIVE). */
static void
client_connect(struct client *c, struct ssb_test_vmm *vmm, bool handshake)
{
    memset(c, 0, sizeof(*c));
    c->local = -1;
    ssb_test_client_connect(&c->base, vmm, parse_msg);
    g_free(ssb_test_port_next(&c->base, SSB_MSG_SERVER_HELLO));
    if (!handshake)
        return;
    hello(c, true);
    for (;;) {
        struct ssb_msg *msg = ssb_test_port_next(&c->base, SSB_MSG_SCANOUT_CREATE);
        bool more = true;

        g_free(msg);
        ssb_test_wait_until(ssb_test_client_has_msg, &c->base, 20);
        msg = g_queue_peek_head(&c->base.port_msgs);
        if (msg->type == SSB_MSG_LOCAL_OFFER) {
            c->offer = msg->u.local_offer;
            g_free(g_queue_pop_head(&c->base.port_msgs));
            more = false;
        }
        if (!more)
            break;
    }
}

static void
client_disconnect(struct client *c)
{
    if (c->local >= 0)
        close(c->local);
    c->local = -1;
    ssb_test_client_disconnect(&c->base, 20000);
}

static int
local_connect(struct client *c)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    g_strlcpy(addr.sun_path, c->offer.path, sizeof(addr.sun_path));
    c->local = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    g_assert_cmpint(c->local, >=, 0);
    g_assert_cmpint(connect(c->local, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    return c->local;
}

static void
local_send_raw(struct client *c, const void *data, size_t len, const int *fds, int n_fds)
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
    /* An oversized packet is refused by the kernel only past the socket
     * buffer; EMSGSIZE is not expected at 64 KiB + a little. */
    g_assert_cmpint(sendmsg(c->local, &mh, MSG_NOSIGNAL), ==, (ssize_t)len);
}

static void
local_send(struct client *c, const struct ssb_msg *msg)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    ssize_t len = ssb_proto_encode(msg, buf, sizeof(buf));

    g_assert_cmpint(len, >, 0);
    local_send_raw(c, buf, (size_t)len, NULL, 0);
}

/* Next local message other than KEEPALIVE (its fds closed: this client
 * maps nothing), 0 on EOF. */
static int
local_recv(struct client *c, struct ssb_msg *msg, int timeout_s)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    gint64 deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;

    for (;;) {
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int) * SSB_PROTO_MAX_FDS)];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        ssize_t n = recvmsg(c->local, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        size_t n_fds = 0;

        if (n < 0 && errno == EAGAIN) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            g_main_context_iteration(NULL, FALSE);
            g_usleep(200);
            continue;
        }
        if (n <= 0)
            return 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            int fds[SSB_PROTO_MAX_FDS];

            n_fds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds, CMSG_DATA(cm), n_fds * sizeof(int));
            for (size_t i = 0; i < n_fds; i++)
                close(fds[i]);
        }
        g_assert_cmpint(ssb_proto_parse(buf, (size_t)n, n_fds, msg, NULL), ==, 0);
        if (msg->type != SSB_MSG_KEEPALIVE)
            return msg->type;
    }
}

static void
local_welcome(struct client *c)
{
    struct ssb_msg msg = { .type = SSB_MSG_LOCAL_HELLO };

    local_connect(c);
    memcpy(msg.u.local_hello.token, c->offer.token, SSB_PROTO_TOKEN_SIZE);
    local_send(c, &msg);
    g_assert_cmpint(local_recv(c, &msg, 20), ==, SSB_MSG_LOCAL_WELCOME);
}

/* ---- what the server must do ---- */

static bool
code_expected(enum expect expect, uint32_t code)
{
    switch (expect) {
    case EXPECT_PROTOCOL:
        return code == SSB_ERROR_PROTOCOL || code == SSB_ERROR_LIMIT;
    case EXPECT_STATE:
        return code == SSB_ERROR_STATE;
    case EXPECT_VERSION:
        return code == SSB_ERROR_VERSION;
    case EXPECT_AUTH:
        return code == SSB_ERROR_AUTH;
    case EXPECT_NOTHING:
        break;
    }
    return false;
}

static void
check_error(const struct hostile_case *hc, const struct ssb_msg *msg, struct tally *t)
{
    if (msg->type != SSB_MSG_ERROR || !code_expected(hc->expect, msg->u.error.code))
        g_error("case %u (%s): server answered %s %s", t->cases, hc->what,
                ssb_proto_msg_name(msg->type),
                msg->type == SSB_MSG_ERROR ? ssb_proto_error_name(msg->u.error.code) : "");
    g_assert_cmpuint(strlen(msg->u.error.reason), >, 0);
    t->by_code[msg->u.error.code]++;
    t->cut_off++;
}

/* ---- case generators ---- */

static size_t
encode_sample(enum ssb_msg_type type, uint8_t *buf)
{
    struct ssb_msg msg;
    ssize_t len;

    sample_msg(type, (enum sample_variant)rnd(SAMPLE_VARIANT_COUNT), &msg);
    len = ssb_proto_encode(&msg, buf, SSB_PROTO_MAX_MSG_SIZE);
    g_assert_cmpint(len, >, 0);
    return (size_t)len;
}

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

/* Does the protocol library reject @hc's bytes as one message?  The
 * generator's own check: a case it cannot classify is not used. */
static bool
rejected_by_parser(const struct hostile_case *hc)
{
    struct ssb_proto_reader *reader = ssb_proto_reader_new();
    const uint8_t *raw;
    size_t len;
    struct ssb_msg msg;
    int r;
    bool rejected;

    ssb_proto_reader_feed(reader, hc->bytes, hc->len);
    r = ssb_proto_reader_next(reader, &raw, &len, NULL);
    rejected = r < 0 || (r == 1 && ssb_proto_parse(raw, len, 0, &msg, NULL) < 0);
    ssb_proto_reader_free(reader);
    return rejected;
}

/* A header the reassembler must refuse before any body byte. */
static void
gen_bad_header_once(struct hostile_case *hc)
{
    uint16_t type = (uint16_t)(1 + rnd(SSB_MSG_TYPE_COUNT - 1));

    hc->len = SSB_PROTO_HEADER_SIZE + rnd(32);
    for (size_t i = 0; i < hc->len; i++)
        hc->bytes[i] = (uint8_t)rnd(256);
    switch (rnd(4)) {
    case 0:
        hc->what = "unknown type";
        put16(hc->bytes, (uint16_t)(rnd(2) ? 0 : SSB_MSG_TYPE_COUNT + rnd(0xffff - SSB_MSG_TYPE_COUNT)));
        break;
    case 1:
        hc->what = "header flags";
        put16(hc->bytes, type);
        put16(hc->bytes + 2, (uint16_t)(1 + rnd(0xfffe)));
        break;
    case 2:
        hc->what = "oversized";
        put16(hc->bytes, type);
        put16(hc->bytes + 2, 0);
        put32(hc->bytes + 4, SSB_PROTO_MAX_BODY_SIZE + 1 + rnd(0x7fffffff));
        break;
    default:
        hc->what = "random header";
        break;
    }
}

static void
gen_bad_header(struct hostile_case *hc)
{
    struct ssb_proto_reader *reader = ssb_proto_reader_new();
    const uint8_t *raw;
    size_t len;

    /* A random header may be a valid one by chance: draw again. */
    do {
        ssb_proto_reader_free(reader);
        reader = ssb_proto_reader_new();
        gen_bad_header_once(hc);
        ssb_proto_reader_feed(reader, hc->bytes, hc->len);
    } while (ssb_proto_reader_next(reader, &raw, &len, NULL) >= 0);
    ssb_proto_reader_free(reader);
}

/* A valid message with some body bytes changed, kept only if the parser
 * rejects it (or its header). */
static bool
gen_corrupt(struct hostile_case *hc, const enum ssb_msg_type *types, size_t n_types)
{
    for (int tries = 0; tries < 32; tries++) {
        size_t body;

        hc->len = encode_sample(types[rnd((uint32_t)n_types)], hc->bytes);
        body = hc->len - SSB_PROTO_HEADER_SIZE;
        if (body == 0)
            continue;
        for (uint32_t n = 1 + rnd(4); n > 0; n--) {
            size_t at = SSB_PROTO_HEADER_SIZE + rnd((uint32_t)body);

            hc->bytes[at] ^= (uint8_t)(1 + rnd(255));
        }
        if (rnd(4) == 0) { /* and a size that disagrees with the counts */
            uint32_t size = (uint32_t)body + (rnd(2) ? 1 + rnd(16) : -(1 + rnd(4)));

            if (size <= SSB_PROTO_MAX_BODY_SIZE) {
                put32(hc->bytes + 4, size);
                hc->len = SSB_PROTO_HEADER_SIZE + MIN(size, body);
                if (size > body) {
                    memset(hc->bytes + hc->len, 0, size - body);
                    hc->len = SSB_PROTO_HEADER_SIZE + size;
                }
            }
        }
        if (rejected_by_parser(hc)) {
            hc->what = "corrupt body";
            return true;
        }
    }
    return false;
}

static const enum ssb_msg_type c2s_port[] = {
    SSB_MSG_CLIENT_HELLO, SSB_MSG_LOCAL_DECLINE, SSB_MSG_FEEDBACK, SSB_MSG_KEYFRAME_REQUEST,
    SSB_MSG_KEEPALIVE, SSB_MSG_GOODBYE, SSB_MSG_ERROR,
};
static const enum ssb_msg_type s2c[] = {
    SSB_MSG_SERVER_HELLO, SSB_MSG_SCANOUT_CREATE, SSB_MSG_SCANOUT_RESIZE,
    SSB_MSG_SCANOUT_DESTROY, SSB_MSG_LOCAL_OFFER, SSB_MSG_LOCAL_WELCOME,
    SSB_MSG_SLOT_ANNOUNCE, SSB_MSG_SLOT_RETIRE, SSB_MSG_FRAME, SSB_MSG_VIDEO_FRAME,
};

/* A port case; @active: sent after the handshake. */
static void
gen_port_case_once(struct hostile_case *hc, bool active)
{
    memset(hc, 0, sizeof(*hc));
    hc->expect = EXPECT_PROTOCOL;
    switch (rnd(6)) {
    case 0:
        gen_bad_header(hc);
        return;
    case 1:
    case 2:
        if (gen_corrupt(hc, c2s_port, G_N_ELEMENTS(c2s_port)))
            return;
        gen_bad_header(hc);
        return;
    case 3: { /* wrong direction: a server's message */
        enum ssb_msg_type type = s2c[rnd(G_N_ELEMENTS(s2c))];

        hc->len = encode_sample(type, hc->bytes);
        hc->expect = EXPECT_STATE;
        hc->what = "server-to-client type";
        return;
    }
    case 4: /* out of order */
        if (active) {
            static const enum ssb_msg_type again[] = {
                SSB_MSG_CLIENT_HELLO, SSB_MSG_FEEDBACK, SSB_MSG_KEYFRAME_REQUEST,
                SSB_MSG_LOCAL_HELLO, SSB_MSG_SLOT_RELEASE,
            };
            hc->len = encode_sample(again[rnd(G_N_ELEMENTS(again))], hc->bytes);
            hc->what = "out of order (active)";
        } else {
            static const enum ssb_msg_type early[] = {
                SSB_MSG_LOCAL_DECLINE, SSB_MSG_FEEDBACK, SSB_MSG_KEYFRAME_REQUEST,
                SSB_MSG_KEEPALIVE, SSB_MSG_LOCAL_HELLO, SSB_MSG_SLOT_RELEASE,
            };
            hc->len = encode_sample(early[rnd(G_N_ELEMENTS(early))], hc->bytes);
            hc->what = "before CLIENT_HELLO";
        }
        hc->expect = EXPECT_STATE;
        return;
    default: /* another major version */
        if (active) {
            hc->len = encode_sample(SSB_MSG_CLIENT_HELLO, hc->bytes);
            hc->expect = EXPECT_STATE;
            hc->what = "second CLIENT_HELLO";
        } else {
            hc->len = encode_sample(SSB_MSG_CLIENT_HELLO, hc->bytes);
            put16(hc->bytes + SSB_PROTO_HEADER_SIZE + 4, (uint16_t)(2 + rnd(0xfffd)));
            hc->expect = EXPECT_VERSION;
            hc->what = "version";
        }
        return;
    }
}

static const enum ssb_msg_type c2s_local[] = {
    SSB_MSG_LOCAL_HELLO, SSB_MSG_SLOT_RELEASE, SSB_MSG_KEEPALIVE, SSB_MSG_GOODBYE,
    SSB_MSG_ERROR,
};

static void
gen_local_case_once(struct hostile_case *hc)
{
    memset(hc, 0, sizeof(*hc));
    hc->expect = EXPECT_PROTOCOL;
    hc->welcome_first = rnd(3) != 0;
    switch (rnd(7)) {
    case 0:
        gen_bad_header(hc);
        /* One packet is one message: no reassembly, nothing awaited. */
        return;
    case 1:
        if (!gen_corrupt(hc, c2s_local, G_N_ELEMENTS(c2s_local)))
            gen_bad_header(hc);
        return;
    case 2: { /* a whole valid message with bogus fds attached */
        static const enum ssb_msg_type types[] = { SSB_MSG_LOCAL_HELLO, SSB_MSG_SLOT_RELEASE,
                                                   SSB_MSG_KEEPALIVE };
        hc->len = encode_sample(types[rnd(G_N_ELEMENTS(types))], hc->bytes);
        hc->n_fds = 1 + (int)rnd(6);
        hc->what = "fds from the client";
        return;
    }
    case 3: { /* a packet shorter or longer than its header says */
        hc->len = encode_sample(c2s_local[rnd(G_N_ELEMENTS(c2s_local))], hc->bytes);
        if (rnd(2) && hc->len > SSB_PROTO_HEADER_SIZE) {
            hc->len -= 1 + rnd((uint32_t)(hc->len - SSB_PROTO_HEADER_SIZE));
        } else {
            size_t extra = 1 + rnd(rnd(8) ? 64 : SSB_PROTO_MAX_MSG_SIZE);

            memset(hc->bytes + hc->len, 0, extra);
            hc->len += extra;
        }
        hc->what = "packet size";
        return;
    }
    case 4: {
        enum ssb_msg_type type = s2c[rnd(G_N_ELEMENTS(s2c))];

        hc->len = encode_sample(type, hc->bytes);
        hc->expect = EXPECT_STATE;
        hc->what = "server-to-client type";
        return;
    }
    case 5: /* a port message on the local socket, or a second hello */
        if (hc->welcome_first && rnd(2)) {
            hc->len = encode_sample(SSB_MSG_LOCAL_HELLO, hc->bytes);
            hc->what = "second LOCAL_HELLO";
        } else {
            static const enum ssb_msg_type types[] = { SSB_MSG_CLIENT_HELLO,
                                                       SSB_MSG_LOCAL_DECLINE, SSB_MSG_FEEDBACK,
                                                       SSB_MSG_KEYFRAME_REQUEST };
            hc->len = encode_sample(types[rnd(G_N_ELEMENTS(types))], hc->bytes);
            hc->what = "port message on the local socket";
        }
        hc->expect = EXPECT_STATE;
        return;
    default: /* a LOCAL_HELLO with a token never offered */
        hc->welcome_first = false;
        hc->len = encode_sample(SSB_MSG_LOCAL_HELLO, hc->bytes);
        for (size_t i = 0; i < SSB_PROTO_TOKEN_SIZE; i++)
            hc->bytes[SSB_PROTO_HEADER_SIZE + i] = (uint8_t)rnd(256);
        hc->expect = EXPECT_AUTH;
        hc->what = "wrong token";
        return;
    }
}

/* A message that the parser rejects on its own (SLOT_ANNOUNCE without its
 * fds) is malformed before it can be out of state. */
static void
classify(struct hostile_case *hc)
{
    if (hc->expect != EXPECT_PROTOCOL && hc->n_fds == 0 && rejected_by_parser(hc))
        hc->expect = EXPECT_PROTOCOL;
}

static void
gen_port_case(struct hostile_case *hc, bool active)
{
    gen_port_case_once(hc, active);
    classify(hc);
}

static void
gen_local_case(struct hostile_case *hc)
{
    gen_local_case_once(hc);
    classify(hc);
}

/* Bogus fds: /dev/null, a pipe end, a socket, an unsealed memfd. */
static int
bogus_fd(uint32_t which)
{
    int fds[2], fd;

    switch (which % 4) {
    case 0:
        return open("/dev/null", O_RDWR | O_CLOEXEC);
    case 1:
        g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
        close(fds[1]);
        return fds[0];
    case 2:
        return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    default:
        fd = memfd_create("bogus", MFD_CLOEXEC);
        g_assert_cmpint(ftruncate(fd, 4096), ==, 0);
        return fd;
    }
}

/* ---- running cases ---- */

static void
run_port_case(struct ssb_test_vmm *vmm, struct tally *t)
{
    struct hostile_case *hc = g_new(struct hostile_case, 1);
    bool active = rnd(2);
    struct client c;
    g_autofree struct ssb_msg *msg = NULL;

    gen_port_case(hc, active);
    client_connect(&c, vmm, active);
    /* Split the bytes over several writes: the port keeps no boundaries. */
    for (size_t off = 0; off < hc->len;) {
        size_t n = MIN(hc->len - off, 1 + rnd((uint32_t)hc->len));

        send_port_raw(&c, hc->bytes + off, n);
        off += n;
    }
    msg = port_next_significant(&c);
    check_error(hc, msg, t);
    /* Cut off: the server closes the port. */
    ssb_test_wait_until(port_closed, &c.base, 20);
    client_disconnect(&c);
    t->cases++;
    g_free(hc);
}

static void
run_local_case(struct ssb_test_vmm *vmm, struct tally *t)
{
    struct hostile_case *hc = g_new(struct hostile_case, 1);
    int fds[8];
    struct client c;
    struct ssb_msg msg;

    gen_local_case(hc);
    client_connect(&c, vmm, true);
    if (hc->welcome_first)
        local_welcome(&c);
    else
        local_connect(&c);
    for (int i = 0; i < hc->n_fds; i++)
        fds[i] = bogus_fd(rnd(4));
    local_send_raw(&c, hc->bytes, hc->len, fds, hc->n_fds);
    for (int i = 0; i < hc->n_fds; i++)
        close(fds[i]);
    t->fds_sent += (unsigned)hc->n_fds;
    /* Slot announcements may come first once welcomed. */
    while (local_recv(&c, &msg, 20) == SSB_MSG_SLOT_ANNOUNCE || msg.type == SSB_MSG_FRAME)
        ;
    check_error(hc, &msg, t);
    /* Cut off: the local socket is closed after the ERROR. */
    g_assert_cmpint(local_recv(&c, &msg, 20), ==, 0);
    client_disconnect(&c);
    t->cases++;
    g_free(hc);
}

/* The VMM draws scanout @id whole; returns the frame's seq. */
static uint64_t
vmm_submit(struct ssb_test_vmm *vmm, uint32_t id)
{
    g_autofree char *cmd = g_strdup_printf("submit %u", id);
    g_autofree char *reply = ssb_test_vmm_cmd(vmm, cmd);
    unsigned got_id = 0;
    guint64 seq = 0;

    g_assert_cmpint(sscanf(reply, "submitted %u %" G_GUINT64_FORMAT, &got_id, &seq), ==, 2);
    g_assert_cmpuint(got_id, ==, id);
    return seq;
}

/* A well-behaved local client right after hostile ones gets the frame it
 * is owed, and the VMM answers. */
static void
good_client(struct ssb_test_vmm *vmm)
{
    struct client c;
    struct ssb_msg msg;
    uint64_t seq;

    client_connect(&c, vmm, true);
    local_welcome(&c);
    seq = vmm_submit(vmm, 0);
    for (;;) {
        g_assert_cmpint(local_recv(&c, &msg, 20), !=, 0);
        if (msg.type == SSB_MSG_FRAME && msg.u.frame.scanout_id == 0 && msg.u.frame.seq == seq)
            break;
    }
    client_disconnect(&c);
}

/* An integer field of the VMM's stats JSON. */
static gint64
ssb_test_vmm_cmd_stat(struct ssb_test_vmm *vmm, const char *key)
{
    g_autofree char *json = ssb_test_vmm_cmd(vmm, "stats");
    g_autofree char *needle = g_strdup_printf("\"%s\":", key);
    const char *p = strstr(json, needle);

    g_assert_nonnull(p);
    return g_ascii_strtoll(p + strlen(needle), NULL, 10);
}

static unsigned
n_cases(void)
{
    const char *env = g_getenv("SSB_HOSTILE_CASES");

    return env ? (unsigned)atoi(env) : 600;
}

static void
start_vmm(struct ssb_test_vmm *vmm)
{
    const char *const args[] = { "--scanouts=2", "--size=64x48", NULL };

    memset(vmm, 0, sizeof(*vmm));
    ssb_test_vmm_start(vmm, "ssb-hostile-XXXXXX", args, NULL);
}

static void
report(const char *what, const struct tally *t)
{
    g_test_message("%s: %u cases, %u cut off (PROTOCOL %u, LIMIT %u, STATE %u, VERSION %u, "
                   "AUTH %u), %u bogus fds sent", what, t->cases, t->cut_off,
                   t->by_code[SSB_ERROR_PROTOCOL], t->by_code[SSB_ERROR_LIMIT],
                   t->by_code[SSB_ERROR_STATE], t->by_code[SSB_ERROR_VERSION],
                   t->by_code[SSB_ERROR_AUTH], t->fds_sent);
    ssb_reliability_figure(what, "cases", t->cases);
    ssb_reliability_figure(what, "cut_off", t->cut_off);
    ssb_reliability_figure(what, "bogus_fds", t->fds_sent);
}

static void
test_port(void)
{
    struct ssb_test_vmm vmm;
    struct tally t = { 0 };
    unsigned n = n_cases();
    int fds_before;

    start_vmm(&vmm);
    good_client(&vmm);
    fds_before = ssb_reliability_fd_count(g_subprocess_get_identifier(vmm.proc));
    for (unsigned i = 0; i < n; i++) {
        run_port_case(&vmm, &t);
        if (i % GOOD_CLIENT_EVERY == GOOD_CLIENT_EVERY - 1)
            good_client(&vmm);
    }
    good_client(&vmm);
    ssb_test_wait_fds(g_subprocess_get_identifier(vmm.proc), fds_before);
    report("hostile-client-port", &t);
    g_assert_cmpuint(t.cut_off, ==, n);
    ssb_test_vmm_stop(&vmm, true);
}

static void
test_local(void)
{
    struct ssb_test_vmm vmm;
    struct tally t = { 0 };
    unsigned n = n_cases();
    int fds_before;

    start_vmm(&vmm);
    good_client(&vmm);
    fds_before = ssb_reliability_fd_count(g_subprocess_get_identifier(vmm.proc));
    for (unsigned i = 0; i < n; i++) {
        run_local_case(&vmm, &t);
        if (i % GOOD_CLIENT_EVERY == GOOD_CLIENT_EVERY - 1)
            good_client(&vmm);
    }
    good_client(&vmm);
    /* Every bogus fd the VMM received was closed. */
    ssb_test_wait_fds(g_subprocess_get_identifier(vmm.proc), fds_before);
    report("hostile-client-local", &t);
    g_assert_cmpuint(t.cut_off, ==, n);
    ssb_test_vmm_stop(&vmm, true);
}

/* SSB_CYCLES (default 1000) connect/disconnect cycles of a local client,
 * each through the handshake, the local socket and a frame, leaving in
 * turn with the frame released, held, the local socket closed first, or
 * the port only: the VMM's fds and memory stay where they were. */
static void
test_cycles(void)
{
    const char *env = g_getenv("SSB_CYCLES");
    unsigned n = env ? (unsigned)atoi(env) : 1000;
    struct ssb_test_vmm vmm;
    const char *pid;
    int fds_before = 0;
    long rss_before = 0, rss_after;

    start_vmm(&vmm);
    pid = g_subprocess_get_identifier(vmm.proc);
    for (unsigned i = 0; i < n; i++) {
        struct client c;
        struct ssb_msg msg;
        uint64_t seq;

        client_connect(&c, &vmm, true);
        local_welcome(&c);
        seq = vmm_submit(&vmm, 0);
        do {
            g_assert_cmpint(local_recv(&c, &msg, 20), !=, 0);
        } while (msg.type != SSB_MSG_FRAME || msg.u.frame.seq != seq);
        if (i % 4 == 0) {
            struct ssb_msg rel = { .type = SSB_MSG_SLOT_RELEASE };

            rel.u.slot_release = (struct ssb_msg_slot_release){ 0, msg.u.frame.slot_id, seq };
            local_send(&c, &rel);
        } else if (i % 4 == 2) {
            close(c.local);
            c.local = -1;
        }
        client_disconnect(&c);
        if (i == 9) { /* past the first sessions' one-time allocations */
            ssb_test_wait_fds(pid, 1000);
            fds_before = ssb_reliability_fd_count(pid);
            rss_before = ssb_reliability_rss_kib(pid);
        }
    }
    ssb_test_wait_fds(pid, fds_before);
    rss_after = ssb_reliability_rss_kib(pid);
    g_test_message("%u cycles: VMM RSS %ld -> %ld KiB, %d fds", n, rss_before, rss_after,
                   fds_before);
    ssb_reliability_figure("cycles", "count", n);
    ssb_reliability_figure("cycles", "rss_before_kib", (guint64)rss_before);
    ssb_reliability_figure("cycles", "rss_after_kib", (guint64)rss_after);
    /* Bounded: a leak of even 1 KiB a session would show past 1 MiB. */
    if (n >= 100)
        g_assert_cmpint(rss_after - rss_before, <, 8 * 1024);
    g_assert_cmpint(ssb_test_vmm_cmd_stat(&vmm, "vmm_in_flight"), ==, 0);
    ssb_test_vmm_stop(&vmm, true);
}

/* ---- floods ---- */

/* SSB_FLOOD_MESSAGES (default 1000000) valid messages per flooded transport. */
static unsigned
n_flood(void)
{
    const char *env = g_getenv("SSB_FLOOD_MESSAGES");

    return env ? (unsigned)atoi(env) : 1000000;
}

struct vmm_mem {
    long rss_kib;
    gint64 heap_kib;
    int fds;
};

static void
vmm_mem(struct ssb_test_vmm *vmm, struct vmm_mem *m)
{
    const char *pid = g_subprocess_get_identifier(vmm->proc);

    m->rss_kib = ssb_reliability_rss_kib(pid);
    m->heap_kib = ssb_test_vmm_cmd_stat(vmm, "heap_kib");
    m->fds = ssb_reliability_fd_count(pid);
}

/* A flood of valid messages costs the VMM nothing that stays: its heap
 * and RSS end near where they began, its fds where they were. */
static void
check_flood_mem(struct ssb_test_vmm *vmm, const char *what, const struct vmm_mem *before)
{
    struct vmm_mem after;

    ssb_test_wait_fds(g_subprocess_get_identifier(vmm->proc), before->fds);
    vmm_mem(vmm, &after);
    g_test_message("%s: VMM RSS %ld -> %ld KiB, heap %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                   " KiB", what, before->rss_kib, after.rss_kib, before->heap_kib,
                   after.heap_kib);
    ssb_reliability_figure(what, "rss_before_kib", (guint64)before->rss_kib);
    ssb_reliability_figure(what, "rss_after_kib", (guint64)after.rss_kib);
    ssb_reliability_figure(what, "heap_before_kib", (guint64)before->heap_kib);
    ssb_reliability_figure(what, "heap_after_kib", (guint64)after.heap_kib);
    g_assert_cmpint(after.heap_kib - before->heap_kib, <, 1024);
    g_assert_cmpint(after.rss_kib - before->rss_kib, <, 8 * 1024);
}

/* Takes port messages up to the end of the next video frame (returns
 * NULL) or an ERROR (returns it), counting frames and keyframes. */
static struct ssb_msg *
port_next_frame_or_error(struct client *c, unsigned *frames, unsigned *keyframes)
{
    for (;;) {
        g_autofree struct ssb_msg *msg = NULL;

        ssb_test_wait_until(ssb_test_client_has_msg, &c->base, 60);
        msg = g_queue_pop_head(&c->base.port_msgs);
        if (msg->type == SSB_MSG_ERROR)
            return g_steal_pointer(&msg);
        if (msg->type == SSB_MSG_VIDEO_FRAME &&
            (msg->u.video_frame.flags & SSB_VIDEO_LAST_CHUNK)) {
            (*frames)++;
            *keyframes += !!(msg->u.video_frame.flags & SSB_VIDEO_KEYFRAME);
            return NULL;
        }
    }
}

static void
flood_msg(struct ssb_msg *msg, const uint64_t *max_seq)
{
    memset(msg, 0, sizeof(*msg));
    switch (rnd(3)) {
    case 0:
        msg->type = SSB_MSG_KEEPALIVE;
        msg->u.keepalive.t_us = (uint64_t)g_get_monotonic_time();
        msg->u.keepalive.echo_t_us = rnd(1000000);
        break;
    case 1:
        /* Scanout 2 does not exist: a request that crossed a destroy. */
        msg->type = SSB_MSG_KEYFRAME_REQUEST;
        msg->u.keyframe_request.scanout_id = rnd(3);
        msg->u.keyframe_request.reason = 1 + rnd(2);
        break;
    default: {
        struct ssb_msg_feedback *fb = &msg->u.feedback;
        uint32_t id = rnd(3);

        msg->type = SSB_MSG_FEEDBACK;
        fb->scanout_id = id;
        fb->flags = rnd(4) ? SSB_FEEDBACK_DISPLAYED : SSB_FEEDBACK_DROPPED;
        fb->seq = max_seq[MIN(id, 1)] ? 1 + rnd((uint32_t)max_seq[MIN(id, 1)]) : 0;
        fb->t_submit_us = (uint64_t)g_get_monotonic_time() - rnd(200000);
        fb->t_encoded_us = fb->t_submit_us + rnd(20000);
        fb->receive_to_decoded_us = rnd(50000);
        fb->decoded_to_displayed_us = rnd(20000);
        fb->held_us = rnd(20000);
        fb->frames_in_flight = rnd(4);
        break;
    }
    }
}

/* A remote client floods the port with @n valid KEEPALIVE, KEYFRAME_REQUEST
 * and FEEDBACK messages, packed into 64 KiB writes, while the VMM submits
 * frames: none of it is an error, and video keeps flowing.  A malformed
 * message at the end proves every message before it was read and
 * accepted: its ERROR is the first one. */
static void
flood_port(struct ssb_test_vmm *vmm, unsigned n)
{
    struct client c;
    struct ssb_msg hello_msg = { .type = SSB_MSG_CLIENT_HELLO };
    unsigned sent = 0, frames = 0, keyframes = 0;
    uint64_t max_seq[2] = { 0, 0 };
    gint64 encoded_before = ssb_test_vmm_cmd_stat(vmm, "video_frames_encoded");
    gint64 t0;
    g_autofree struct ssb_msg *err = NULL;
    static const uint8_t poison[SSB_PROTO_HEADER_SIZE] = { 0xf0, 0x7f }; /* unknown type */

    client_connect(&c, vmm, false);
    hello_msg.u.client_hello.version_major = SSB_PROTO_VERSION_MAJOR;
    hello_msg.u.client_hello.caps = SSB_CAP_VIDEO | SSB_CAP_FEEDBACK | SSB_CAP_KEYFRAME_REQUEST;
    hello_msg.u.client_hello.codecs = SSB_CODEC_BIT(SSB_CODEC_H264);
    hello_msg.u.client_hello.max_width = 4096;
    hello_msg.u.client_hello.max_height = 4096;
    ssb_test_port_send(&c.base, &hello_msg);
    g_free(ssb_test_port_next(&c.base, SSB_MSG_SCANOUT_CREATE));
    g_free(ssb_test_port_next(&c.base, SSB_MSG_SCANOUT_CREATE));

    t0 = g_get_monotonic_time();
    while (sent < n) {
        g_autoptr(GByteArray) buf = g_byte_array_sized_new(SSB_PROTO_MAX_MSG_SIZE);

        for (; buf->len + 64 <= SSB_PROTO_MAX_MSG_SIZE && sent < n; sent++) {
            uint8_t one[64];
            struct ssb_msg msg;
            ssize_t len;

            if (sent % 20000 == 0) { /* the VMM draws meanwhile */
                for (uint32_t id = 0; id < 2; id++)
                    max_seq[id] = vmm_submit(vmm, id);
            }
            flood_msg(&msg, max_seq);
            len = ssb_proto_encode(&msg, one, sizeof(one));
            g_assert_cmpint(len, >, 0);
            g_byte_array_append(buf, one, (guint)len);
        }
        send_port_raw(&c, buf->data, buf->len);
        /* Let the writes go out, and take what the server sends. */
        while (g_main_context_iteration(NULL, FALSE))
            ;
    }
    /* Video still flows: a frame comes after the flood. */
    vmm_submit(vmm, 0);
    if ((err = port_next_frame_or_error(&c, &frames, &keyframes)))
        g_error("cut off by a flood of valid messages: %s %s",
                ssb_proto_error_name(err->u.error.code), err->u.error.reason);
    send_port_raw(&c, poison, sizeof(poison));
    while (!(err = port_next_frame_or_error(&c, &frames, &keyframes)))
        ;
    g_test_message("port flood: %u messages in %.1f s, %u video frames (%u keyframes) meanwhile",
                   n, (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC, frames, keyframes);
    g_assert_cmpuint(err->u.error.code, ==, SSB_ERROR_PROTOCOL);
    g_assert_cmpstr(err->u.error.reason, ==, "unknown message type");
    ssb_test_wait_until(port_closed, &c.base, 20);
    client_disconnect(&c);
    g_assert_cmpint(ssb_test_vmm_cmd_stat(vmm, "video_frames_encoded"), >, encoded_before);
    ssb_reliability_figure("flood-port", "messages", n);
    ssb_reliability_figure("flood-port", "video_frames", frames);
}

static void
test_flood_port(void)
{
    struct ssb_test_vmm vmm;
    struct vmm_mem before;
    long band_top;

    start_vmm(&vmm);
    good_client(&vmm);
    /* Two short floods first: the encoder's one-time start-up costs are
     * not the flood's, and the VMM's RSS moves within a band of a few MiB
     * from one video session to the next (freed pages that the allocator
     * keeps); the reference is the top of that band. */
    flood_port(&vmm, 1000);
    good_client(&vmm);
    vmm_mem(&vmm, &before);
    band_top = before.rss_kib;
    flood_port(&vmm, 1000);
    good_client(&vmm);
    vmm_mem(&vmm, &before);
    before.rss_kib = MAX(before.rss_kib, band_top);
    flood_port(&vmm, n_flood());
    good_client(&vmm);
    check_flood_mem(&vmm, "flood-port", &before);
    ssb_test_vmm_stop(&vmm, true);
}

static void
release(struct client *c, const struct ssb_msg_frame *f)
{
    struct ssb_msg rel = { .type = SSB_MSG_SLOT_RELEASE };

    rel.u.slot_release = (struct ssb_msg_slot_release){ f->scanout_id, f->slot_id, f->seq };
    local_send(c, &rel);
}

/* A local client floods its socket with KEEPALIVEs and stale SLOT_RELEASEs
 * (in range, for frames already sent: ignored, spec 4.6), receiving and
 * releasing every frame it is owed meanwhile; then a release of a frame
 * never sent, the first error. */
static void
test_flood_local(void)
{
    struct ssb_test_vmm vmm;
    struct client c;
    struct ssb_msg msg;
    unsigned n = n_flood(), frames = 0;
    uint64_t last_seq = 0;
    struct vmm_mem before;
    gint64 t0;

    start_vmm(&vmm);
    good_client(&vmm);
    vmm_mem(&vmm, &before);
    client_connect(&c, &vmm, true);
    local_welcome(&c);
    t0 = g_get_monotonic_time();
    for (unsigned i = 0; i < n; i++) {
        if (i % 20000 == 0) {
            uint64_t seq = vmm_submit(&vmm, 0);

            do {
                int type = local_recv(&c, &msg, 20);

                if (type == 0 || type == SSB_MSG_ERROR)
                    g_error("local path closed after %u flood messages: %s", i,
                            type ? msg.u.error.reason : "EOF");
            } while (msg.type != SSB_MSG_FRAME || msg.u.frame.seq != seq);
            release(&c, &msg.u.frame);
            last_seq = seq;
            frames++;
        }
        if (rnd(2)) {
            msg = (struct ssb_msg){ .type = SSB_MSG_KEEPALIVE };
            msg.u.keepalive.t_us = (uint64_t)g_get_monotonic_time();
        } else {
            msg = (struct ssb_msg){ .type = SSB_MSG_SLOT_RELEASE };
            msg.u.slot_release = (struct ssb_msg_slot_release){
                /* scanout 1 has sent nothing: any seq there is never sent */
                rnd(2) ? 0 : 2 + rnd(62), rnd(SSB_PROTO_MAX_SLOTS), rnd((uint32_t)last_seq + 1)
            };
        }
        local_send(&c, &msg);
    }
    msg = (struct ssb_msg){ .type = SSB_MSG_SLOT_RELEASE };
    msg.u.slot_release = (struct ssb_msg_slot_release){ 0, 0, last_seq + 1000000 };
    local_send(&c, &msg);
    while (local_recv(&c, &msg, 60) == SSB_MSG_SLOT_ANNOUNCE || msg.type == SSB_MSG_FRAME)
        ;
    g_test_message("local flood: %u messages in %.1f s, %u frames received and released",
                   n, (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC, frames);
    g_assert_cmpint(msg.type, ==, SSB_MSG_ERROR);
    g_assert_cmpuint(msg.u.error.code, ==, SSB_ERROR_PROTOCOL);
    g_assert_nonnull(strstr(msg.u.error.reason, "no such frame was sent"));
    g_assert_cmpint(local_recv(&c, &msg, 20), ==, 0);
    client_disconnect(&c);
    ssb_reliability_figure("flood-local", "messages", n);
    ssb_reliability_figure("flood-local", "frames", frames);

    good_client(&vmm);
    check_flood_mem(&vmm, "flood-local", &before);
    ssb_test_vmm_stop(&vmm, true);
}

#define FLOOD_CONNS (SSB_MAX_UNBOUND + 8)

/* Connections to the local socket that never say LOCAL_HELLO: past the
 * cap each is refused at once with LIMIT; the ones under it are closed
 * after the 10 s HELLO wait, silently; then a client gets its frame. */
static void
test_flood_connections(void)
{
    struct ssb_test_vmm vmm;
    struct client c;
    struct client *conns = g_new0(struct client, FLOOD_CONNS);
    struct ssb_msg msg;
    gint64 t0;
    int fds_before;

    start_vmm(&vmm);
    good_client(&vmm);
    fds_before = ssb_reliability_fd_count(g_subprocess_get_identifier(vmm.proc));
    client_connect(&c, &vmm, true);
    t0 = g_get_monotonic_time();
    for (unsigned i = 0; i < FLOOD_CONNS; i++) {
        conns[i].offer = c.offer;
        local_connect(&conns[i]);
    }
    for (unsigned i = SSB_MAX_UNBOUND; i < FLOOD_CONNS; i++) {
        g_assert_cmpint(local_recv(&conns[i], &msg, 20), ==, SSB_MSG_ERROR);
        g_assert_cmpuint(msg.u.error.code, ==, SSB_ERROR_LIMIT);
        g_assert_cmpuint(strlen(msg.u.error.reason), >, 0);
        g_assert_cmpint(local_recv(&conns[i], &msg, 20), ==, 0);
    }
    /* Those under the cap are still waiting: nothing to read, no EOF. */
    for (unsigned i = 0; i < SSB_MAX_UNBOUND; i++) {
        char byte;

        g_assert_cmpint(recv(conns[i].local, &byte, 1, MSG_DONTWAIT), ==, -1);
        g_assert_cmpint(errno, ==, EAGAIN);
    }
    for (unsigned i = 0; i < SSB_MAX_UNBOUND; i++)
        g_assert_cmpint(local_recv(&conns[i], &msg, 30), ==, 0);
    g_test_message("%u connections without LOCAL_HELLO: %u refused (LIMIT), %u closed after "
                   "%.1f s", FLOOD_CONNS, FLOOD_CONNS - SSB_MAX_UNBOUND, SSB_MAX_UNBOUND,
                   (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    /* Not before the HELLO wait (less a margin for accept's delay). */
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, (SSB_HELLO_TIMEOUT_MS - 1000) * 1000);
    g_assert_cmpint(ssb_test_vmm_cmd_stat(&vmm, "local_rejected"), ==, FLOOD_CONNS);
    ssb_reliability_figure("flood-connections", "connections", FLOOD_CONNS);
    ssb_reliability_figure("flood-connections", "refused", FLOOD_CONNS - SSB_MAX_UNBOUND);
    ssb_reliability_figure("flood-connections", "timed_out", SSB_MAX_UNBOUND);
    for (unsigned i = 0; i < FLOOD_CONNS; i++)
        close(conns[i].local);
    g_free(conns);
    client_disconnect(&c);

    good_client(&vmm);
    ssb_test_wait_fds(g_subprocess_get_identifier(vmm.proc), fds_before);
    ssb_test_vmm_stop(&vmm, true);
}

int
main(int argc, char **argv)
{
    const char *seed = g_getenv("SSB_HOSTILE_SEED");

    g_test_init(&argc, &argv, NULL);
    if (!g_getenv("SSB_TEST_VMM")) {
        g_test_skip("SSB_TEST_VMM not set");
        return 77;
    }
    rng = seed ? g_ascii_strtoull(seed, NULL, 0) : 0x5eed2026u;
    g_test_message("seed 0x%" G_GINT64_MODIFIER "x (SSB_HOSTILE_SEED)", (guint64)rng);
    g_test_add_func("/reliability/hostile-client/port", test_port);
    g_test_add_func("/reliability/hostile-client/local", test_local);
    g_test_add_func("/reliability/hostile-client/flood-port", test_flood_port);
    g_test_add_func("/reliability/hostile-client/flood-local", test_flood_local);
    g_test_add_func("/reliability/hostile-client/flood-connections", test_flood_connections);
    g_test_add_func("/reliability/cycles", test_cycles);
    return g_test_run();
}
