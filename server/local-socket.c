/* The local sideband socket (see local-socket.h, spec 4.4).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "local-packet.h"
#include "local-socket.h"
#include "log.h"

/* Messages handled per wakeup, so one client cannot starve the loop. */
#define SSB_LOCAL_READ_BATCH 32
/* After accept() fails for lack of fds or memory, the listening socket
 * rests this long: it stays readable, so its watch would spin. */
#define SSB_ACCEPT_BACKOFF_MS 100u

struct ssb_offer {
    void *owner;
    uint8_t token[SSB_PROTO_TOKEN_SIZE];
    int64_t expires_us;
};

struct ssb_queued {
    size_t len;
    uint32_t n_fds;
    int fds[SSB_PROTO_MAX_FDS]; /* owned dups */
    uint8_t data[];
};

struct ssb_local_conn {
    struct ssb_local_socket *ls; /* borrowed: owns the conn */
    int fd;                      /* owned; -1 once closed */
    SpiceWatch *watch;
    SpiceTimer *hello_timer;
    void *owner;                 /* NULL until LOCAL_HELLO */
    GQueue out;                  /* struct ssb_queued *, owned */
    bool dispatching;            /* inside its own read handler */
    bool closed;                 /* closed by the owner while dispatching */
    bool dead;                   /* failed; reaped from the loop */
    int64_t last_sent_us, last_recv_us; /* for keepalives (spec 4.7) */
};

struct ssb_local_socket {
    const SpiceCoreInterface *core;         /* borrowed */
    const struct ssb_local_socket_ops *ops; /* borrowed */
    uid_t allowed_uid;
    char *dir;
    char *path;
    int fd;
    SpiceWatch *watch;           /* NULL while accepting backs off */
    SpiceTimer *accept_timer;    /* re-adds the watch after a backoff */
    SpiceTimer *reap_timer;
    bool reap_armed;
    bool entropy_logged;         /* "no entropy yet" said once */
    int64_t accept_logged_us;    /* last accept failure logged */
    GList *conns;                /* struct ssb_local_conn *, owned */
    GArray *offers;              /* struct ssb_offer */
    uint64_t rejected;
};

int
ssb_msg_check_incoming(const struct ssb_msg *msg, uint32_t transport, const char **reason)
{
    const struct ssb_msg_info *info = ssb_proto_msg_info(msg->type);

    if (!info) {
        *reason = "unknown message type";
        return -EPROTO;
    }
    /* Spec 2.3: a valid message in the wrong place is a STATE error. */
    if (!(info->direction & SSB_DIR_CLIENT_TO_SERVER)) {
        *reason = "message not allowed from a client";
        return -EPERM;
    }
    if (!(info->transport & transport)) {
        *reason = "message not allowed on this transport";
        return -EPERM;
    }
    return 0;
}

/* ---- directory ---- */

static bool
dir_is_private(const char *dir)
{
    struct stat st;

    if (lstat(dir, &st) < 0)
        return false;
    return S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 0077) == 0;
}

/* $XDG_RUNTIME_DIR counts only if absolute, ours and closed to others
 * (spec 4.4); else /tmp, where mkdtemp()'s random name is created
 * atomically. */
static const char *
pick_base(const char *runtime_dir)
{
    const char *xdg = g_getenv("XDG_RUNTIME_DIR");

    if (runtime_dir)
        return runtime_dir;
    if (xdg && g_path_is_absolute(xdg) && dir_is_private(xdg))
        return xdg;
    return "/tmp";
}

/* mkdtemp() makes the directory 0700; checked again in case of an odd
 * filesystem. */
static char *
make_private_dir(const char *runtime_dir)
{
    g_autofree char *templ = g_build_filename(pick_base(runtime_dir), "spice-sideband-XXXXXX",
                                              NULL);

    if (!mkdtemp(templ)) {
        g_warning("local socket: cannot create a directory from %s: %s", templ,
                  g_strerror(errno));
        return NULL;
    }
    if (!dir_is_private(templ)) {
        g_warning("local socket: %s is not a private directory", templ);
        g_rmdir(templ);
        errno = EPERM;
        return NULL;
    }
    return g_steal_pointer(&templ);
}

/* Grants @uid @perm on @path and nothing to anyone else but the owner:
 * a POSIX access ACL written as its xattr (no libacl needed). */
static int
grant_uid(const char *path, uid_t uid, uint16_t owner_perm, uint16_t perm)
{
    struct {
        uint32_t version;
        struct {
            uint16_t tag, perm;
            uint32_t id;
        } e[5];
    } acl = {
        .version = 2, /* POSIX_ACL_XATTR_VERSION; entries sorted by tag */
        .e = { { 0x01, owner_perm, UINT32_MAX }, /* ACL_USER_OBJ */
               { 0x02, perm, uid },               /* ACL_USER */
               { 0x04, 0, UINT32_MAX },           /* ACL_GROUP_OBJ */
               { 0x10, perm, UINT32_MAX },        /* ACL_MASK */
               { 0x20, 0, UINT32_MAX } },         /* ACL_OTHER */
    };

    if (setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0) < 0)
        return -errno;
    return 0;
}

static int
listen_seqpacket(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path) || strlen(path) + 1 > SSB_PROTO_MAX_PATH) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* ---- connections ---- */

static void
queued_free(struct ssb_queued *q)
{
    for (uint32_t i = 0; i < q->n_fds; i++)
        close(q->fds[i]);
    g_free(q);
}

/* Unread input would turn our close into ECONNRESET at the peer, which then
 * loses the ERROR we sent last; read it away (fds included) first. */
static void
drain(int fd)
{
    int fds[SSB_PROTO_MAX_FDS];
    const char *reason;
    uint8_t byte;
    size_t n_fds;

    for (unsigned int i = 0; i < SSB_LOCAL_MAX_QUEUE; i++) {
        ssize_t n = ssb_local_packet_recv(fd, &byte, 1, fds, SSB_PROTO_MAX_FDS, &n_fds,
                                          &reason);

        /* A rejected packet (truncated: we read one byte) had its fds
         * closed; only a socket error or EOF ends the drain. */
        if (n == 0 || (n < 0 && n != -EPROTO && n != -ENOBUFS))
            break;
        ssb_local_packet_close_fds(fds, n_fds);
    }
}

static void
conn_free(struct ssb_local_conn *conn)
{
    const SpiceCoreInterface *core = conn->ls->core;

    conn->ls->conns = g_list_remove(conn->ls->conns, conn);
    if (conn->watch)
        core->watch_remove(conn->watch);
    if (conn->hello_timer)
        core->timer_remove(conn->hello_timer);
    if (conn->fd >= 0) {
        drain(conn->fd);
        close(conn->fd);
    }
    g_queue_clear_full(&conn->out, (GDestroyNotify)queued_free);
    g_free(conn);
}

static void
reap_dead(void *opaque)
{
    struct ssb_local_socket *ls = opaque;
    GList *l = ls->conns;

    ls->reap_armed = false;
    while (l) {
        struct ssb_local_conn *conn = l->data;

        l = l->next;
        if (!conn->dead || conn->dispatching)
            continue;
        if (conn->owner)
            ls->ops->lost(conn->owner);
        conn_free(conn);
        l = ls->conns; /* lost() may have closed others */
    }
}

/* Marks @conn failed; it is freed (and its owner told) from the loop, never
 * under a caller that is using it. */
static void
conn_kill(struct ssb_local_conn *conn)
{
    if (conn->dead)
        return;
    conn->dead = true;
    if (!conn->ls->reap_armed) { /* re-arming would postpone it */
        conn->ls->reap_armed = true;
        conn->ls->core->timer_start(conn->ls->reap_timer, 0);
    }
}

static int
send_packet(int fd, const uint8_t *data, size_t len, const int *fds, uint32_t n_fds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * SSB_PROTO_MAX_FDS)];
    } control;
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (n_fds) {
        struct cmsghdr *cmsg;

        memset(&control, 0, sizeof(control));
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
        cmsg = CMSG_FIRSTHDR(&mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
    }
    if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        return -errno;
    return 0;
}

static void
conn_update_mask(struct ssb_local_conn *conn)
{
    int mask = SPICE_WATCH_EVENT_READ;

    if (!g_queue_is_empty(&conn->out))
        mask |= SPICE_WATCH_EVENT_WRITE;
    conn->ls->core->watch_update_mask(conn->watch, mask);
}

static void
conn_flush(struct ssb_local_conn *conn)
{
    struct ssb_queued *q;

    while ((q = g_queue_peek_head(&conn->out))) {
        int err = send_packet(conn->fd, q->data, q->len, q->fds, q->n_fds);

        if (err == -EAGAIN)
            break;
        if (err < 0) {
            conn_kill(conn);
            return;
        }
        queued_free(g_queue_pop_head(&conn->out));
        conn->last_sent_us = g_get_monotonic_time();
    }
    conn_update_mask(conn);
}

static int
conn_enqueue(struct ssb_local_conn *conn, const uint8_t *data, size_t len, const int *fds,
             uint32_t n_fds)
{
    struct ssb_queued *q;

    if (g_queue_get_length(&conn->out) >= SSB_LOCAL_MAX_QUEUE)
        return -ENOBUFS;
    q = g_malloc(sizeof(*q) + len);
    q->len = len;
    q->n_fds = 0;
    memcpy(q->data, data, len);
    for (uint32_t i = 0; i < n_fds; i++) {
        q->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
        if (q->fds[i] < 0) {
            int err = -errno;
            queued_free(q);
            return err;
        }
        q->n_fds++;
    }
    g_queue_push_tail(&conn->out, q);
    conn_update_mask(conn);
    return 0;
}

int
ssb_local_conn_send(struct ssb_local_conn *conn, const struct ssb_msg *msg, const int *fds,
                    uint32_t n_fds)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    ssize_t len;
    int err;

    g_return_val_if_fail(conn && msg && n_fds <= SSB_PROTO_MAX_FDS, -EINVAL);
    if (conn->dead || conn->closed)
        return -EPIPE;
    len = ssb_proto_encode(msg, buf, sizeof(buf));
    if (len < 0)
        return (int)len;
    if (g_queue_is_empty(&conn->out)) {
        err = send_packet(conn->fd, buf, (size_t)len, fds, n_fds);
        if (err != -EAGAIN) {
            if (err < 0)
                conn_kill(conn);
            else
                conn->last_sent_us = g_get_monotonic_time();
            return err;
        }
    }
    err = conn_enqueue(conn, buf, (size_t)len, fds, n_fds);
    if (err < 0)
        conn_kill(conn);
    return err;
}

/* Best effort: tells a refused peer why, then drops it. */
static void
conn_refuse(struct ssb_local_conn *conn, enum ssb_error_code code, const char *reason)
{
    struct ssb_msg msg = { .type = SSB_MSG_ERROR };

    conn->ls->rejected++;
    ssb_log_peer("local socket: refused a connection: %s", reason);
    msg.u.error.code = code;
    g_strlcpy(msg.u.error.reason, reason, sizeof(msg.u.error.reason));
    ssb_local_conn_send(conn, &msg, NULL, 0);
    conn_kill(conn);
}

static bool
token_equal(const uint8_t *a, const uint8_t *b)
{
    uint8_t diff = 0;

    for (size_t i = 0; i < SSB_PROTO_TOKEN_SIZE; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

static void
offers_expire(struct ssb_local_socket *ls)
{
    int64_t now = g_get_monotonic_time();

    for (guint i = ls->offers->len; i-- > 0;) {
        if (g_array_index(ls->offers, struct ssb_offer, i).expires_us <= now)
            g_array_remove_index_fast(ls->offers, i);
    }
}

/* Consumes the offer matching @token.  Every live offer is compared in
 * full, so timing says nothing about which bytes matched. */
static void *
offers_take(struct ssb_local_socket *ls, const uint8_t *token)
{
    void *owner = NULL;
    guint found = 0;

    offers_expire(ls);
    for (guint i = 0; i < ls->offers->len; i++) {
        struct ssb_offer *offer = &g_array_index(ls->offers, struct ssb_offer, i);

        if (token_equal(offer->token, token)) {
            owner = offer->owner;
            found = i;
        }
    }
    if (owner) {
        explicit_bzero(g_array_index(ls->offers, struct ssb_offer, found).token,
                       SSB_PROTO_TOKEN_SIZE);
        g_array_remove_index_fast(ls->offers, found);
    }
    return owner;
}

static void
conn_hello(struct ssb_local_conn *conn, const struct ssb_msg *msg)
{
    struct ssb_msg welcome = { .type = SSB_MSG_LOCAL_WELCOME };
    void *owner = offers_take(conn->ls, msg->u.local_hello.token);

    if (!owner) {
        conn_refuse(conn, SSB_ERROR_AUTH, "unknown, used or expired token");
        return;
    }
    conn->ls->core->timer_cancel(conn->hello_timer);
    conn->owner = owner;
    if (ssb_local_conn_send(conn, &welcome, NULL, 0) < 0)
        return; /* reaped: the owner hears lost() */
    conn->ls->ops->bound(owner, conn);
}

static void
conn_protocol_error(struct ssb_local_conn *conn, enum ssb_error_code code, const char *reason)
{
    if (!conn->owner) {
        conn_refuse(conn, code, reason);
        return;
    }
    conn->ls->ops->error(conn->owner, code, reason);
}

static void
conn_handle(struct ssb_local_conn *conn, const uint8_t *buf, size_t len)
{
    const char *reason = NULL;
    struct ssb_msg msg;

    if (ssb_proto_parse(buf, len, 0, &msg, &reason) < 0) {
        conn_protocol_error(conn, SSB_ERROR_PROTOCOL, reason ? reason : "malformed message");
        return;
    }
    if (ssb_msg_check_incoming(&msg, SSB_TRANSPORT_LOCAL, &reason) < 0) {
        conn_protocol_error(conn, SSB_ERROR_STATE, reason);
        return;
    }
    if (!conn->owner) {
        /* Spec 8: every WAIT state accepts GOODBYE and ERROR; the peer
         * gave up, nothing was refused. */
        if (msg.type == SSB_MSG_GOODBYE || msg.type == SSB_MSG_ERROR) {
            g_debug("local socket: %s before LOCAL_HELLO", ssb_proto_msg_name(msg.type));
            conn_kill(conn);
        } else if (msg.type != SSB_MSG_LOCAL_HELLO) {
            conn_refuse(conn, SSB_ERROR_STATE, "first message is not LOCAL_HELLO");
        } else {
            conn_hello(conn, &msg);
        }
        return;
    }
    if (msg.type == SSB_MSG_LOCAL_HELLO) {
        conn_protocol_error(conn, SSB_ERROR_STATE, "second LOCAL_HELLO");
        return;
    }
    conn->ls->ops->message(conn->owner, &msg);
}

/* Reads one packet.  Returns false when there is nothing more to read now. */
static bool
conn_read_one(struct ssb_local_conn *conn)
{
    static uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    int fds[SSB_PROTO_MAX_FDS];
    const char *reason;
    size_t n_fds;
    ssize_t n = ssb_local_packet_recv(conn->fd, buf, sizeof(buf), fds, SSB_PROTO_MAX_FDS,
                                      &n_fds, &reason);

    if (n == -EAGAIN)
        return false;
    if (n == -EPROTO || n == -ENOBUFS) {
        conn->last_recv_us = g_get_monotonic_time();
        conn_protocol_error(conn, n == -ENOBUFS ? SSB_ERROR_LIMIT : SSB_ERROR_PROTOCOL, reason);
        return false;
    }
    if (n <= 0) {
        conn_kill(conn);
        return false;
    }
    conn->last_recv_us = g_get_monotonic_time();
    /* Spec 2.2: only the server passes fds. */
    if (n_fds) {
        ssb_local_packet_close_fds(fds, n_fds);
        conn_protocol_error(conn, SSB_ERROR_PROTOCOL, "client sent file descriptors");
        return false;
    }
    conn_handle(conn, buf, (size_t)n);
    return true;
}

static void
conn_event(int fd, int event, void *opaque)
{
    struct ssb_local_conn *conn = opaque;

    conn->dispatching = true;
    if (event & SPICE_WATCH_EVENT_WRITE)
        conn_flush(conn);
    for (int i = 0; i < SSB_LOCAL_READ_BATCH && (event & SPICE_WATCH_EVENT_READ); i++) {
        if (conn->closed || conn->dead || !conn_read_one(conn))
            break;
    }
    conn->dispatching = false;
    if (conn->closed)
        conn_free(conn);
}

static void
conn_hello_timeout(void *opaque)
{
    struct ssb_local_conn *conn = opaque;

    conn->ls->rejected++;
    ssb_log_peer("local socket: no LOCAL_HELLO within %u ms", SSB_HELLO_TIMEOUT_MS);
    conn_kill(conn);
}

static bool
peer_allowed(struct ssb_local_socket *ls, int fd, char *why, size_t why_len)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        g_snprintf(why, why_len, "SO_PEERCRED failed: %s", g_strerror(errno));
        return false;
    }
    if (cred.uid != ls->allowed_uid) {
        g_snprintf(why, why_len, "peer uid %u (pid %d) is not the allowed uid %u",
                   (unsigned)cred.uid, (int)cred.pid, (unsigned)ls->allowed_uid);
        return false;
    }
    return true;
}

static unsigned int
count_unbound(const struct ssb_local_socket *ls)
{
    unsigned int n = 0;

    for (GList *l = ls->conns; l; l = l->next) {
        const struct ssb_local_conn *conn = l->data;

        n += !conn->owner && !conn->dead;
    }
    return n;
}

static void socket_accept(int fd, int event, void *opaque);

static void
accept_resume(void *opaque)
{
    struct ssb_local_socket *ls = opaque;

    if (!ls->watch)
        ls->watch = ls->core->watch_add(ls->fd, SPICE_WATCH_EVENT_READ, socket_accept, ls);
}

/* Out of fds or memory: the pending connection stays queued and the socket
 * readable, so stop watching it for a while instead of spinning. */
static void
accept_back_off(struct ssb_local_socket *ls, int err)
{
    int64_t now = g_get_monotonic_time();

    if (now - ls->accept_logged_us >= 10 * G_USEC_PER_SEC || !ls->accept_logged_us) {
        ls->accept_logged_us = now;
        g_warning("local socket: accept failed (%s); pausing %u ms", g_strerror(err),
                  SSB_ACCEPT_BACKOFF_MS);
    }
    if (ls->watch) {
        ls->core->watch_remove(ls->watch);
        ls->watch = NULL;
    }
    ls->core->timer_start(ls->accept_timer, SSB_ACCEPT_BACKOFF_MS);
}

static void
socket_accept(int fd, int event, void *opaque)
{
    struct ssb_local_socket *ls = opaque;
    struct ssb_local_conn *conn;
    char why[128];
    int cfd = accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (cfd < 0) {
        int err = errno;

        /* The others (EAGAIN, ECONNABORTED, EINTR, ...) concern one
         * connection at most: the next wakeup tries again. */
        if (err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS)
            accept_back_off(ls, err);
        return;
    }
    conn = g_new0(struct ssb_local_conn, 1);
    conn->ls = ls;
    conn->fd = cfd;
    conn->last_sent_us = conn->last_recv_us = g_get_monotonic_time();
    g_queue_init(&conn->out);
    conn->watch = ls->core->watch_add(cfd, SPICE_WATCH_EVENT_READ, conn_event, conn);
    conn->hello_timer = ls->core->timer_add(conn_hello_timeout, conn);
    ls->conns = g_list_prepend(ls->conns, conn);
    if (!peer_allowed(ls, cfd, why, sizeof(why))) {
        conn_refuse(conn, SSB_ERROR_AUTH, why);
        return;
    }
    if (count_unbound(ls) > SSB_MAX_UNBOUND) {
        conn_refuse(conn, SSB_ERROR_LIMIT, "too many connections without LOCAL_HELLO");
        return;
    }
    ls->core->timer_start(conn->hello_timer, SSB_HELLO_TIMEOUT_MS);
}

/* ---- the socket ---- */

struct ssb_local_socket *
ssb_local_socket_new(const SpiceCoreInterface *core, const char *runtime_dir, uid_t allowed_uid,
                     const struct ssb_local_socket_ops *ops)
{
    struct ssb_local_socket *ls = g_new0(struct ssb_local_socket, 1);

    ls->core = core;
    ls->ops = ops;
    ls->allowed_uid = allowed_uid;
    ls->fd = -1;
    ls->offers = g_array_new(FALSE, TRUE, sizeof(struct ssb_offer));
    ls->dir = make_private_dir(runtime_dir);
    if (!ls->dir)
        goto fail;
    ls->path = g_build_filename(ls->dir, "socket", NULL);
    ls->fd = listen_seqpacket(ls->path);
    if (ls->fd < 0) {
        g_warning("local socket: cannot listen on %s: %s", ls->path, g_strerror(errno));
        goto fail;
    }
    if (allowed_uid != geteuid() && (grant_uid(ls->dir, allowed_uid, 07, 01) < 0 ||
                                     grant_uid(ls->path, allowed_uid, 06, 02) < 0)) {
        g_warning("local socket: cannot grant uid %u access: %s", (unsigned)allowed_uid,
                  g_strerror(errno));
        goto fail;
    }
    ls->watch = core->watch_add(ls->fd, SPICE_WATCH_EVENT_READ, socket_accept, ls);
    ls->accept_timer = core->timer_add(accept_resume, ls);
    ls->reap_timer = core->timer_add(reap_dead, ls);
    return ls;

fail:;
    int err = errno;
    ssb_local_socket_free(ls);
    errno = err;
    return NULL;
}

void
ssb_local_socket_free(struct ssb_local_socket *ls)
{
    if (!ls)
        return;
    while (ls->conns)
        conn_free(ls->conns->data);
    if (ls->watch)
        ls->core->watch_remove(ls->watch);
    if (ls->accept_timer)
        ls->core->timer_remove(ls->accept_timer);
    if (ls->reap_timer)
        ls->core->timer_remove(ls->reap_timer);
    if (ls->fd >= 0) {
        close(ls->fd);
        g_unlink(ls->path);
    }
    if (ls->dir)
        g_rmdir(ls->dir);
    if (ls->offers->len)
        explicit_bzero(ls->offers->data, ls->offers->len * sizeof(struct ssb_offer));
    g_array_unref(ls->offers);
    g_free(ls->path);
    g_free(ls->dir);
    g_free(ls);
}

const char *
ssb_local_socket_path(const struct ssb_local_socket *ls)
{
    return ls->path;
}

uint64_t
ssb_local_socket_rejected(const struct ssb_local_socket *ls)
{
    return ls->rejected;
}

int
ssb_local_socket_offer(struct ssb_local_socket *ls, void *owner,
                       uint8_t token[SSB_PROTO_TOKEN_SIZE])
{
    struct ssb_offer offer = { .owner = owner };

    ssb_local_socket_revoke(ls, owner);
    offers_expire(ls);
    /* Never block the loop waiting for the entropy pool (early boot):
     * without a token there is no offer, and the client stays remote. */
    ssize_t got = getrandom(offer.token, sizeof(offer.token), GRND_NONBLOCK);
    if (got != (ssize_t)sizeof(offer.token)) {
        int err = got < 0 ? errno : EIO;

        explicit_bzero(&offer, sizeof(offer));
        if (!ls->entropy_logged) {
            ls->entropy_logged = true;
            g_message("local socket: no token for a local offer: %s", g_strerror(err));
        }
        return err == EAGAIN ? -EAGAIN : -EIO;
    }
    offer.expires_us = g_get_monotonic_time() + SSB_TOKEN_LIFETIME_US;
    memcpy(token, offer.token, SSB_PROTO_TOKEN_SIZE);
    g_array_append_val(ls->offers, offer);
    explicit_bzero(&offer, sizeof(offer));
    return 0;
}

void
ssb_local_socket_revoke(struct ssb_local_socket *ls, void *owner)
{
    for (guint i = ls->offers->len; i-- > 0;) {
        if (g_array_index(ls->offers, struct ssb_offer, i).owner == owner)
            g_array_remove_index_fast(ls->offers, i);
    }
}

void
ssb_local_conn_close(struct ssb_local_conn *conn)
{
    if (!conn)
        return;
    conn->owner = NULL;
    if (conn->dispatching) {
        conn->closed = true;
        return;
    }
    conn_free(conn);
}

void
ssb_local_conn_activity(const struct ssb_local_conn *conn, int64_t *last_sent_us,
                        int64_t *last_recv_us)
{
    *last_sent_us = conn->last_sent_us;
    *last_recv_us = conn->last_recv_us;
}
