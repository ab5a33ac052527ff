/* The client end of the local sideband socket (spec 4.4): an AF_UNIX
 * SOCK_SEQPACKET connection, one message per packet, fds by SCM_RIGHTS.
 *
 * The link is refcounted because frames outlive the client: a frame that
 * is dropped late still sends its SLOT_RELEASE while the link is up.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

/* Messages handled per wakeup before yielding to the rest of the loop. */
#define MAX_MESSAGES_PER_DISPATCH 64

struct _SsbLocalLink {
    gint ref_count;               /* atomic */
    GMutex lock;                  /* guards fd against shutdown vs send */
    int fd;
    GSource *source;              /* owned; main context */
    SsbLocalMessageFunc on_message;
    SsbLocalErrorFunc on_error;
    gpointer user_data;
    guint8 *buf;                  /* SSB_PROTO_MAX_MSG_SIZE bytes */
};

static void
close_fds(int *fds, guint n_fds)
{
    for (guint i = 0; i < n_fds; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

static int
connect_seqpacket(const char *path, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED, "path too long");
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED, "socket: %s",
                    g_strerror(errno));
        return -1;
    }
    /* A local connect either succeeds or fails at once; blocking is fine. */
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        int saved = errno;
        close(fd);
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED, "connect %s: %s", path,
                    g_strerror(saved));
        return -1;
    }
    return fd;
}

/* Collects the SCM_RIGHTS fds of @mh into @fds (at most SSB_PROTO_MAX_FDS;
 * the control buffer has room for no more).  *@foreign is set when other
 * ancillary data came along (spec 2.2: a PROTOCOL error). */
static guint
collect_fds(struct msghdr *mh, int *fds, gboolean *foreign)
{
    guint n = 0;

    *foreign = FALSE;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        const guint8 *data = CMSG_DATA(c);
        size_t count;

        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            *foreign = TRUE;
            continue;
        }
        count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, data + i * sizeof(int), sizeof(int));
            if (n < SSB_PROTO_MAX_FDS)
                fds[n++] = fd;
            else
                close(fd);
        }
    }
    return n;
}

static void
link_report(SsbLocalLink *link, SsbClientError domain_code, guint32 code, const char *reason)
{
    g_autoptr(GError) error = g_error_new_literal(SSB_CLIENT_ERROR, domain_code, reason);
    SsbLocalErrorFunc cb = link->on_error;
    gpointer data = link->user_data;

    link->on_message = NULL;
    link->on_error = NULL;
    if (cb != NULL)
        cb(error, code, data);
}

/* Why a received packet is rejected (spec 2.2, 7), or NULL.  Sets @code. */
static const char *
check_packet(SsbLocalLink *link, const struct msghdr *mh, ssize_t len, guint n_fds,
             gboolean foreign, struct ssb_msg *msg, guint32 *code)
{
    const char *reason = NULL;

    *code = SSB_ERROR_PROTOCOL;
    if (mh->msg_flags & MSG_CTRUNC) {
        *code = SSB_ERROR_LIMIT;
        return "too many fds on the local socket";
    }
    if (mh->msg_flags & MSG_TRUNC)
        return "message larger than the local socket buffer";
    if (foreign)
        return "ancillary data other than SCM_RIGHTS";
    if (ssb_proto_parse(link->buf, (size_t)len, n_fds, msg, &reason) < 0)
        return reason != NULL ? reason : "malformed message";
    if (!(ssb_proto_msg_info(msg->type)->transport & SSB_TRANSPORT_LOCAL)) {
        *code = SSB_ERROR_STATE;
        return "message not allowed on the local socket";
    }
    return NULL;
}

/* Receives one packet.  Returns 1 for a message delivered, 0 for none
 * pending, -1 after reporting an error. */
static int
receive_one(SsbLocalLink *link)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * SSB_PROTO_MAX_FDS)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { link->buf, SSB_PROTO_MAX_MSG_SIZE };
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control.buf, .msg_controllen = sizeof(control.buf),
    };
    int fds[SSB_PROTO_MAX_FDS] = { -1, -1, -1, -1 };
    const char *reason;
    struct ssb_msg msg;
    gboolean foreign;
    guint n_fds;
    guint32 code;
    ssize_t len;

    len = recvmsg(link->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (len < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (len <= 0) {
        link_report(link, SSB_CLIENT_ERROR_CLOSED, SSB_ERROR_NONE,
                    len == 0 ? "the server closed the local socket" : g_strerror(errno));
        return -1;
    }
    n_fds = collect_fds(&mh, fds, &foreign);
    reason = check_packet(link, &mh, len, n_fds, foreign, &msg, &code);
    if (reason != NULL) {
        /* Fds of a rejected packet are closed before anything else. */
        close_fds(fds, n_fds);
        link_report(link, SSB_CLIENT_ERROR_PROTOCOL, code, reason);
        return -1;
    }
    if (link->on_message != NULL)
        link->on_message(&msg, fds, n_fds, link->user_data);
    close_fds(fds, n_fds);
    return 1;
}

static gboolean
link_readable(gint fd, GIOCondition condition, gpointer user_data)
{
    g_autoptr(SsbLocalLink) link = ssb_local_link_ref(user_data);

    for (int i = 0; i < MAX_MESSAGES_PER_DISPATCH; i++) {
        /* The message callback may shut the link down. */
        if (link->fd < 0 || link->on_message == NULL)
            return G_SOURCE_REMOVE;
        if (receive_one(link) <= 0)
            break;
    }
    if (link->fd >= 0 && link->on_message == NULL)
        return G_SOURCE_REMOVE;
    return G_SOURCE_CONTINUE;
}

SsbLocalLink *
ssb_local_link_connect(const char *path, GMainContext *context, SsbLocalMessageFunc on_message,
                       SsbLocalErrorFunc on_error, gpointer user_data, GError **error)
{
    SsbLocalLink *link;
    int fd = connect_seqpacket(path, error);

    if (fd < 0)
        return NULL;
    link = g_new0(SsbLocalLink, 1);
    link->ref_count = 1;
    g_mutex_init(&link->lock);
    link->fd = fd;
    link->on_message = on_message;
    link->on_error = on_error;
    link->user_data = user_data;
    link->buf = g_malloc(SSB_PROTO_MAX_MSG_SIZE);
    link->source = g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    /* The source holds no reference: shutdown destroys it first. */
    g_source_set_callback(link->source, G_SOURCE_FUNC(link_readable), link, NULL);
    g_source_attach(link->source, context);
    return link;
}

SsbLocalLink *
ssb_local_link_ref(SsbLocalLink *link)
{
    g_return_val_if_fail(link != NULL, NULL);
    g_atomic_int_inc(&link->ref_count);
    return link;
}

void
ssb_local_link_shutdown(SsbLocalLink *link)
{
    if (link == NULL)
        return;
    if (link->source != NULL) {
        g_source_destroy(link->source);
        g_clear_pointer(&link->source, g_source_unref);
    }
    link->on_message = NULL;
    link->on_error = NULL;
    link->user_data = NULL;
    g_mutex_lock(&link->lock);
    if (link->fd >= 0)
        close(link->fd);
    link->fd = -1;
    g_mutex_unlock(&link->lock);
}

void
ssb_local_link_unref(SsbLocalLink *link)
{
    if (link == NULL || !g_atomic_int_dec_and_test(&link->ref_count))
        return;
    /* The last reference may be a frame dropped on another thread: the
     * source was destroyed by shutdown before, as the client always does. */
    g_warn_if_fail(link->source == NULL);
    if (link->fd >= 0)
        close(link->fd);
    g_mutex_clear(&link->lock);
    g_free(link->buf);
    g_free(link);
}

gboolean
ssb_local_link_send(SsbLocalLink *link, const struct ssb_msg *msg, GError **error)
{
    guint8 buf[1024];
    ssize_t len = ssb_proto_encode(msg, buf, sizeof(buf));
    ssize_t sent = -1;
    int saved = EPIPE;

    if (len < 0) {
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED, "cannot encode %s",
                    ssb_proto_msg_name(msg->type));
        return FALSE;
    }
    g_mutex_lock(&link->lock);
    if (link->fd >= 0) {
        sent = send(link->fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
        saved = errno;
    }
    g_mutex_unlock(&link->lock);
    if (sent != len) {
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED, "local socket send: %s",
                    g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}
