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
#include "local-packet.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

/* Messages handled per wakeup before yielding to the rest of the loop. */
#define MAX_MESSAGES_PER_DISPATCH 64
/* Packets that may wait for room in the socket's send buffer.  A server
 * that reads nothing for this long has lost track: fail with LIMIT, and
 * the close makes it reclaim every slot (spec 4.6). */
#define MAX_QUEUED_PACKETS 512

struct _SsbLocalLink {
    gint ref_count;               /* atomic */
    GMutex lock;                  /* guards fd, out, out_source, overflow against
                                   * shutdown vs send from any thread */
    int fd;
    GMainContext *context;        /* owned reference, or NULL (the default) */
    GSource *source;              /* owned; main context */
    GSource *out_source;          /* owned; G_IO_OUT while out is not empty */
    GSource *overflow_source;     /* owned; reports the overflow in the context */
    GQueue out;                   /* GBytes *, owned: packets not sent yet */
    gboolean overflow;
    gint n_slots;                 /* atomic: slots in the table (slot.c) */
    SsbLocalMessageFunc on_message;
    SsbLocalErrorFunc on_error;
    gpointer user_data;
    guint8 *buf;                  /* SSB_PROTO_MAX_MSG_SIZE bytes */
};

static void out_stop(SsbLocalLink *link);

/* Never blocks: a server whose listen backlog is full (or a path that
 * never accepts) gives EAGAIN at once, and the client declines then
 * (spec 4.4: the remote path stays).  A connection sitting in the backlog
 * unaccepted is caught by the welcome timeout. */
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
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED, "socket: %s",
                    g_strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int saved = errno;

        close(fd);
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED, "connect %s: %s", path,
                    saved == EAGAIN || saved == EINPROGRESS
                        ? "the server accepts no connection now"
                        : g_strerror(saved));
        return -1;
    }
    return fd;
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

/* Why a received message is rejected (spec 2.3, 7), or NULL.  Sets @code.
 * The packet rules of spec 2.2 were applied by ssb_local_packet_recv(). */
static const char *
check_message(SsbLocalLink *link, size_t len, guint n_fds, struct ssb_msg *msg, guint32 *code)
{
    const char *reason = NULL;

    *code = SSB_ERROR_PROTOCOL;
    if (ssb_proto_parse(link->buf, len, n_fds, msg, &reason) < 0)
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
    int fds[SSB_PROTO_MAX_FDS] = { -1, -1, -1, -1 };
    const char *reason;
    struct ssb_msg msg;
    size_t n_fds;
    guint32 code;
    ssize_t len;

    len = ssb_local_packet_recv(link->fd, link->buf, SSB_PROTO_MAX_MSG_SIZE, fds,
                                SSB_PROTO_MAX_FDS, &n_fds, &reason);
    if (len == -EAGAIN)
        return 0;
    if (len == -EPROTO || len == -ENOBUFS) {
        link_report(link, SSB_CLIENT_ERROR_PROTOCOL,
                    len == -ENOBUFS ? SSB_ERROR_LIMIT : SSB_ERROR_PROTOCOL, reason);
        return -1;
    }
    if (len <= 0) {
        link_report(link, SSB_CLIENT_ERROR_CLOSED, SSB_ERROR_NONE,
                    len == 0 ? "the server closed the local socket" : g_strerror((int)-len));
        return -1;
    }
    reason = check_message(link, (size_t)len, (guint)n_fds, &msg, &code);
    if (reason != NULL) {
        /* Fds of a rejected packet are closed before anything else. */
        ssb_local_packet_close_fds(fds, n_fds);
        link_report(link, SSB_CLIENT_ERROR_PROTOCOL, code, reason);
        return -1;
    }
    if (link->on_message != NULL)
        link->on_message(&msg, fds, (guint)n_fds, link->user_data);
    ssb_local_packet_close_fds(fds, n_fds);
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
    link->context = context != NULL ? g_main_context_ref(context) : NULL;
    g_queue_init(&link->out);
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
    out_stop(link);
    if (link->overflow_source != NULL) {
        g_source_destroy(link->overflow_source);
        g_clear_pointer(&link->overflow_source, g_source_unref);
    }
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
    g_warn_if_fail(link->source == NULL && link->out_source == NULL);
    if (link->fd >= 0)
        close(link->fd);
    g_queue_clear_full(&link->out, (GDestroyNotify)g_bytes_unref);
    if (link->context != NULL)
        g_main_context_unref(link->context);
    g_mutex_clear(&link->lock);
    g_free(link->buf);
    g_free(link);
}

/* Called with the lock held.  Drops what waits to be sent. */
static void
out_stop(SsbLocalLink *link)
{
    if (link->out_source != NULL) {
        g_source_destroy(link->out_source);
        g_clear_pointer(&link->out_source, g_source_unref);
    }
    g_queue_clear_full(&link->out, (GDestroyNotify)g_bytes_unref);
}

static int
send_packet(int fd, GBytes *packet)
{
    gsize len;
    const void *data = g_bytes_get_data(packet, &len);
    ssize_t sent = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

    if (sent < 0)
        return -errno;
    return (gsize)sent == len ? 0 : -EMSGSIZE; /* SEQPACKET: all or nothing */
}

/* Sends what waits, in order.  Called with the lock held.  Returns FALSE
 * when the queue is empty (or the socket broke: its read watch reports
 * that). */
static gboolean
out_flush(SsbLocalLink *link)
{
    GBytes *packet;

    while ((packet = g_queue_peek_head(&link->out)) != NULL) {
        int err = send_packet(link->fd, packet);

        if (err == -EAGAIN || err == -ENOBUFS)
            return TRUE;
        if (err < 0) {
            g_queue_clear_full(&link->out, (GDestroyNotify)g_bytes_unref);
            return FALSE;
        }
        g_bytes_unref(g_queue_pop_head(&link->out));
    }
    return FALSE;
}

static gboolean
link_writable(gint fd, GIOCondition condition, gpointer user_data)
{
    SsbLocalLink *link = user_data;
    gboolean more;

    g_mutex_lock(&link->lock);
    more = link->fd >= 0 && out_flush(link);
    if (!more)
        g_clear_pointer(&link->out_source, g_source_unref); /* the context holds one */
    g_mutex_unlock(&link->lock);
    return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
link_overflowed(gpointer user_data)
{
    SsbLocalLink *link = user_data;

    g_mutex_lock(&link->lock);
    g_clear_pointer(&link->overflow_source, g_source_unref);
    g_mutex_unlock(&link->lock);
    link_report(link, SSB_CLIENT_ERROR_FAILED, SSB_ERROR_LIMIT,
                "the server reads nothing from the local socket");
    return G_SOURCE_REMOVE;
}

/* Queues @packet (transfer full) behind others.  Lock held.  The sources
 * hold no reference: shutdown destroys them first. */
static gboolean
out_enqueue(SsbLocalLink *link, GBytes *packet)
{
    if (g_queue_get_length(&link->out) >= MAX_QUEUED_PACKETS) {
        g_bytes_unref(packet);
        link->overflow = TRUE;
        out_stop(link);
        link->overflow_source = g_idle_source_new();
        g_source_set_callback(link->overflow_source, link_overflowed, link, NULL);
        g_source_attach(link->overflow_source, link->context);
        return FALSE;
    }
    g_queue_push_tail(&link->out, packet);
    if (link->out_source == NULL) {
        link->out_source = g_unix_fd_source_new(link->fd, G_IO_OUT);
        g_source_set_callback(link->out_source, G_SOURCE_FUNC(link_writable), link, NULL);
        g_source_attach(link->out_source, link->context);
    }
    return TRUE;
}

/* Never blocks: what the socket cannot take now waits in order for
 * G_IO_OUT, up to MAX_QUEUED_PACKETS (a SLOT_RELEASE must not be lost, or
 * the slot and a VMM buffer behind it would stay held for good). */
gboolean
ssb_local_link_send(SsbLocalLink *link, const struct ssb_msg *msg, GError **error)
{
    guint8 buf[1024];
    ssize_t len = ssb_proto_encode(msg, buf, sizeof(buf));
    g_autoptr(GBytes) packet = NULL;
    int err = -EPIPE;

    if (len < 0) {
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED, "cannot encode %s",
                    ssb_proto_msg_name(msg->type));
        return FALSE;
    }
    packet = g_bytes_new(buf, (gsize)len);
    g_mutex_lock(&link->lock);
    if (link->overflow) {
        err = -ENOBUFS;
    } else if (link->fd >= 0 && !g_queue_is_empty(&link->out)) {
        err = out_enqueue(link, g_steal_pointer(&packet)) ? 0 : -ENOBUFS;
    } else if (link->fd >= 0) {
        err = send_packet(link->fd, packet);
        if (err == -EAGAIN || err == -ENOBUFS)
            err = out_enqueue(link, g_steal_pointer(&packet)) ? 0 : -ENOBUFS;
    }
    g_mutex_unlock(&link->lock);
    if (err < 0) {
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED, "local socket send: %s",
                    err == -ENOBUFS ? "too many messages waiting" : g_strerror(-err));
        return FALSE;
    }
    return TRUE;
}

/* Counts one more live slot; FALSE (nothing counted) past the protocol's
 * bound of one slot per id, plus one being replaced (spec 4.5, 6.1). */
gboolean
ssb_local_link_slot_hold(SsbLocalLink *link)
{
    const gint max = SSB_PROTO_MAX_SCANOUTS * SSB_PROTO_MAX_SLOTS + 1;
    gint n;

    do {
        n = g_atomic_int_get(&link->n_slots);
        if (n >= max)
            return FALSE;
    } while (!g_atomic_int_compare_and_exchange(&link->n_slots, n, n + 1));
    return TRUE;
}

void
ssb_local_link_slot_drop(SsbLocalLink *link)
{
    g_atomic_int_add(&link->n_slots, -1);
}
