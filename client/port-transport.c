/* The sideband over a SpicePortChannel (spec 2, 3.3).
 *
 * Reading: port-data chunks carry no message boundaries; an
 * ssb_proto_reader reassembles them.  Writing: one message per
 * spice_port_channel_write_async(), with a bounded number in flight (the
 * channel accepts at most 128 outstanding) and a bounded backlog.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"

#include <errno.h>

#define MAX_WRITES_IN_FLIGHT 64
#define MAX_WRITES_QUEUED 1024

struct _SsbPortTransport {
    gint ref_count;               /* writes in flight hold one each */
    SpicePortChannel *port;       /* owned reference */
    gulong data_id, opened_id;
    struct ssb_proto_reader *reader;
    SsbPortCallbacks callbacks;
    gpointer user_data;
    gboolean destroyed;
    gboolean was_opened;
    guint in_flight;
    GQueue backlog;               /* GBytes*, owned */
};

static void start_write(SsbPortTransport *transport, GBytes *bytes);

static SsbPortTransport *
transport_ref(SsbPortTransport *transport)
{
    transport->ref_count++;
    return transport;
}

static void
transport_unref(SsbPortTransport *transport)
{
    if (--transport->ref_count > 0)
        return;
    g_queue_clear_full(&transport->backlog, (GDestroyNotify)g_bytes_unref);
    ssb_proto_reader_free(transport->reader);
    g_object_unref(transport->port);
    g_free(transport);
}

static void
transport_report(SsbPortTransport *transport, SsbClientError domain_code, guint32 code,
                 const char *message)
{
    g_autoptr(GError) error = g_error_new_literal(SSB_CLIENT_ERROR, domain_code, message);
    SsbPortErrorFunc cb = transport->callbacks.error;

    transport->callbacks.error = NULL;
    transport->callbacks.message = NULL;
    if (cb != NULL && !transport->destroyed)
        cb(error, code, transport->user_data);
}

/* One write in flight: the channel sends @bytes by reference until done. */
typedef struct {
    SsbPortTransport *transport;  /* owned reference */
    GBytes *bytes;                /* owned */
} WriteOp;

static void
write_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    WriteOp *op = user_data;
    SsbPortTransport *transport = op->transport;
    g_autoptr(GError) error = NULL;
    GBytes *next;

    transport->in_flight--;
    if (spice_port_channel_write_finish(SPICE_PORT_CHANNEL(source), result, &error) < 0 &&
        !transport->destroyed) {
        g_autofree char *text = g_strdup_printf("port write failed: %s", error->message);
        transport_report(transport, SSB_CLIENT_ERROR_CLOSED, SSB_ERROR_NONE, text);
    }
    if (!transport->destroyed && (next = g_queue_pop_head(&transport->backlog)) != NULL) {
        start_write(transport, next);
        g_bytes_unref(next);
    }
    g_bytes_unref(op->bytes);
    transport_unref(transport);
    g_free(op);
}

/* @bytes is borrowed; the write keeps its own reference until done. */
static void
start_write(SsbPortTransport *transport, GBytes *bytes)
{
    WriteOp *op = g_new0(WriteOp, 1);
    gsize size;
    gconstpointer data = g_bytes_get_data(bytes, &size);

    op->transport = transport_ref(transport);
    op->bytes = g_bytes_ref(bytes);
    transport->in_flight++;
    spice_port_channel_write_async(transport->port, data, size, NULL, write_done, op);
}

gboolean
ssb_port_transport_send(SsbPortTransport *transport, const struct ssb_msg *msg, GError **error)
{
    size_t size = ssb_proto_encoded_size(msg);
    g_autofree guint8 *buf = size > 0 ? g_malloc(size) : NULL;
    g_autoptr(GBytes) bytes = NULL;

    if (transport->destroyed) {
        g_set_error_literal(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED, "port closed");
        return FALSE;
    }
    if (buf == NULL || ssb_proto_encode(msg, buf, size) != (ssize_t)size) {
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED, "cannot encode %s",
                    ssb_proto_msg_name(msg->type));
        return FALSE;
    }
    bytes = g_bytes_new_take(g_steal_pointer(&buf), size);
    if (transport->in_flight < MAX_WRITES_IN_FLIGHT) {
        start_write(transport, bytes);
    } else if (g_queue_get_length(&transport->backlog) < MAX_WRITES_QUEUED) {
        g_queue_push_tail(&transport->backlog, g_steal_pointer(&bytes));
    } else {
        g_set_error_literal(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED,
                            "port write backlog full");
        return FALSE;
    }
    return TRUE;
}

/* Feeds one port-data chunk and dispatches every whole message in it. */
static void
port_data(SpicePortChannel *port, gpointer data, int size, gpointer user_data)
{
    SsbPortTransport *transport = user_data;
    const char *reason = NULL;
    const guint8 *raw;
    size_t raw_len;
    int r;

    if (transport->callbacks.message == NULL || size <= 0)
        return;
    if (ssb_proto_reader_feed(transport->reader, data, (size_t)size) < 0) {
        transport_report(transport, SSB_CLIENT_ERROR_PROTOCOL, SSB_ERROR_PROTOCOL,
                         "port stream broken");
        return;
    }
    transport_ref(transport);
    while (transport->callbacks.message != NULL &&
           (r = ssb_proto_reader_next(transport->reader, &raw, &raw_len, &reason)) != 0) {
        struct ssb_msg msg;

        if (r < 0 || ssb_proto_parse(raw, raw_len, 0, &msg, &reason) < 0) {
            g_autofree char *text = g_strdup_printf("bad message on the port: %s",
                                                    reason ? reason : "?");
            transport_report(transport, SSB_CLIENT_ERROR_PROTOCOL, SSB_ERROR_PROTOCOL, text);
            break;
        }
        if (!(ssb_proto_msg_info(msg.type)->transport & SSB_TRANSPORT_PORT)) {
            transport_report(transport, SSB_CLIENT_ERROR_PROTOCOL, SSB_ERROR_STATE,
                             "message not allowed on the port");
            break;
        }
        transport->callbacks.message(&msg, transport->user_data);
    }
    transport_unref(transport);
}

static void
port_opened_changed(GObject *port, GParamSpec *pspec, gpointer user_data)
{
    SsbPortTransport *transport = user_data;
    gboolean opened = FALSE;

    g_object_get(port, "port-opened", &opened, NULL);
    if (opened && !transport->was_opened && transport->callbacks.opened != NULL) {
        transport->was_opened = TRUE;
        transport->callbacks.opened(transport->user_data);
    } else if (!opened && transport->was_opened) {
        transport_report(transport, SSB_CLIENT_ERROR_CLOSED, SSB_ERROR_NONE,
                         "the server closed the sideband port");
    }
}

SsbPortTransport *
ssb_port_transport_new(SpicePortChannel *port, const SsbPortCallbacks *callbacks,
                       gpointer user_data)
{
    SsbPortTransport *transport = g_new0(SsbPortTransport, 1);

    transport->ref_count = 1;
    transport->port = g_object_ref(port);
    transport->reader = ssb_proto_reader_new();
    transport->callbacks = *callbacks;
    transport->user_data = user_data;
    g_queue_init(&transport->backlog);
    transport->data_id = g_signal_connect(port, "port-data", G_CALLBACK(port_data), transport);
    transport->opened_id = g_signal_connect(port, "notify::port-opened",
                                            G_CALLBACK(port_opened_changed), transport);
    return transport;
}

gboolean
ssb_port_transport_is_opened(SsbPortTransport *transport)
{
    gboolean opened = FALSE;

    g_object_get(transport->port, "port-opened", &opened, NULL);
    transport->was_opened |= opened;
    return opened;
}

/* Disconnects a port channel after the connection ends, from the loop:
 * the channel cannot disconnect itself from inside its own coroutine. */
typedef struct {
    SpicePortChannel *port;       /* owned reference */
    gulong opened_id;
    guint timeout_id;
} Closer;

static gboolean
closer_fire(gpointer user_data)
{
    Closer *closer = user_data;

    g_clear_handle_id(&closer->timeout_id, g_source_remove);
    g_clear_signal_handler(&closer->opened_id, closer->port);
    spice_channel_disconnect(SPICE_CHANNEL(closer->port), SPICE_CHANNEL_NONE);
    g_object_unref(closer->port);
    g_free(closer);
    return G_SOURCE_REMOVE;
}

static void
closer_opened_changed(GObject *port, GParamSpec *pspec, gpointer user_data)
{
    Closer *closer = user_data;
    gboolean opened = TRUE;

    g_object_get(port, "port-opened", &opened, NULL);
    if (!opened) {
        g_clear_signal_handler(&closer->opened_id, closer->port);
        g_clear_handle_id(&closer->timeout_id, g_source_remove);
        closer->timeout_id = g_idle_add(closer_fire, closer);
    }
}

static void
flushed(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Closer *closer = user_data;

    spice_channel_flush_finish(SPICE_CHANNEL(source), result, NULL);
    closer->timeout_id = g_idle_add(closer_fire, closer);
}

/* See ssb_port_transport_destroy(). */
static void
schedule_disconnect(SpicePortChannel *port, int linger_ms)
{
    Closer *closer = g_new0(Closer, 1);

    closer->port = g_object_ref(port);
    if (linger_ms == 0) {
        spice_channel_flush_async(SPICE_CHANNEL(port), NULL, flushed, closer);
        return;
    }
    closer->opened_id = g_signal_connect(port, "notify::port-opened",
                                         G_CALLBACK(closer_opened_changed), closer);
    closer->timeout_id = g_timeout_add((guint)linger_ms, closer_fire, closer);
    closer_opened_changed(G_OBJECT(port), NULL, closer); /* already closed? */
}

void
ssb_port_transport_destroy(SsbPortTransport *transport, int linger_ms)
{
    if (transport == NULL)
        return;
    if (linger_ms >= 0)
        schedule_disconnect(transport->port, linger_ms);
    transport->destroyed = TRUE;
    transport->callbacks = (SsbPortCallbacks){ NULL };
    g_clear_signal_handler(&transport->data_id, transport->port);
    g_clear_signal_handler(&transport->opened_id, transport->port);
    g_queue_clear_full(&transport->backlog, (GDestroyNotify)g_bytes_unref);
    transport_unref(transport);
}
