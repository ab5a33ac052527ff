/* One sideband client: a SPICE port session plus, once it proved its
 * token, a local socket connection.  Handshake and states per spec 4.
 *
 *   AWAIT_HELLO --CLIENT_HELLO--> ACTIVE --error/GOODBYE--> CLOSING -> CLOSED
 *
 * CLOSING waits for the queued ERROR/GOODBYE to leave through the port
 * before the port event CLOSED; CLOSED ignores everything until the SPICE
 * session goes (state(0)) and a new one starts over.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <spice/protocol.h>

#include "server-private.h"

enum ssb_client_state {
    SSB_CLIENT_AWAIT_HELLO = 1 << 0,
    SSB_CLIENT_ACTIVE = 1 << 1,
    SSB_CLIENT_CLOSING = 1 << 2,
    SSB_CLIENT_CLOSED = 1 << 3,
};
#define SSB_CLIENT_OPEN (SSB_CLIENT_AWAIT_HELLO | SSB_CLIENT_ACTIVE)

/* Where the LOCAL_OFFER stands (spec 4.4). */
enum ssb_offer_state {
    SSB_OFFER_NONE,     /* none sent */
    SSB_OFFER_PENDING,  /* sent, not resolved */
    SSB_OFFER_LOCAL,    /* welcomed on the local socket */
    SSB_OFFER_REMOTE,   /* declined, expired, or the local path ended */
};

struct ssb_client {
    struct ssb_server *server;  /* borrowed */
    struct ssb_port *port;      /* borrowed */
    enum ssb_client_state state;
    enum ssb_offer_state offer;
    struct ssb_proto_reader *reader;
    GByteArray *out;            /* encoded messages not yet read by spice-server */
    size_t out_head;            /* bytes of @out already read */
    struct ssb_msg_client_hello hello;
    SpiceTimer *offer_timer;    /* the local offer's deadline */
    SpiceTimer *tick_timer;     /* keepalives and dead peers (spec 4.7) */
    int64_t port_sent_us, port_recv_us; /* g_get_monotonic_time() */
    uint64_t peer_t_us;         /* last KEEPALIVE t_us on the port */
    uint64_t local_peer_t_us;   /* ... on the local socket */
    struct ssb_local_conn *local;
    struct ssb_frame_sink *sinks[SSB_PROTO_MAX_SCANOUTS];
    uint64_t caps;              /* negotiated: both sides set them */
    enum ssb_codec codec;       /* spec 5.1, for the whole connection */
    bool video_on;              /* on the remote path: sinks are video sinks */
    bool stopping;              /* closing or freeing: no fallback to video */
    GQueue video_q;             /* struct video_out: behind control (5.2) */
};

/* One encoded frame waiting for (the rest of) its chunks to be read. */
struct video_out {
    struct ssb_frame_sink *sink;  /* borrowed; its destroy removes us */
    struct ssb_msg_video_frame hdr;
    GBytes *data;
    uint32_t offset;              /* bytes already chunked */
};

typedef void (*ssb_handler_fn)(struct ssb_client *client, const struct ssb_msg *msg);

struct ssb_handler {
    ssb_handler_fn fn;
    uint32_t states; /* enum ssb_client_state bits in which it is allowed */
};

/* ---- output ---- */

/* Queues @msg without failing the client.  Returns 0, -EINVAL (cannot be
 * encoded: our bug) or -ENOBUFS (the client does not read). */
static int
client_enqueue(struct ssb_client *client, const struct ssb_msg *msg)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    ssize_t len = ssb_proto_encode(msg, buf, sizeof(buf));

    if (len < 0) {
        g_critical("cannot encode %s: %s", ssb_proto_msg_name(msg->type),
                   g_strerror((int)-len));
        return -EINVAL;
    }
    if (client->out->len - client->out_head + (size_t)len > SSB_CLIENT_MAX_QUEUE)
        return -ENOBUFS;
    g_byte_array_append(client->out, buf, (guint)len);
    client->port_sent_us = g_get_monotonic_time();
    ssb_port_kick(client->port);
    return 0;
}

int
ssb_client_send(struct ssb_client *client, const struct ssb_msg *msg)
{
    int err;

    if (!(client->state & SSB_CLIENT_OPEN))
        return -EPIPE;
    err = client_enqueue(client, msg);
    if (err == -ENOBUFS)
        ssb_client_fail(client, SSB_ERROR_LIMIT, "client does not read the port");
    return err;
}

bool
ssb_client_has_output(const struct ssb_client *client)
{
    return client->out->len > client->out_head || client->video_q.length > 0;
}

/* ---- video queue (spec 5.2) ---- */

static void
video_out_free(struct video_out *vo)
{
    g_bytes_unref(vo->data);
    g_free(vo);
}

/* Encodes the next chunk of @vo onto the control queue.  Returns true when
 * it was the last one. */
static bool
video_chunk(struct ssb_client *client, struct video_out *vo)
{
    uint8_t buf[SSB_PROTO_MAX_MSG_SIZE];
    struct ssb_msg msg = { .type = SSB_MSG_VIDEO_FRAME };
    struct ssb_msg_video_frame *v = &msg.u.video_frame;
    gsize size;
    const uint8_t *data = g_bytes_get_data(vo->data, &size);
    ssize_t len;

    *v = vo->hdr;
    v->chunk_offset = vo->offset;
    v->payload_size = MIN((uint32_t)size - vo->offset,
                          SSB_VIDEO_MAX_CHUNK);
    v->payload = data + vo->offset;
    v->flags |= vo->offset == 0 ? SSB_VIDEO_FIRST_CHUNK : 0;
    vo->offset += v->payload_size;
    v->flags |= vo->offset == size ? SSB_VIDEO_LAST_CHUNK : 0;
    len = ssb_proto_encode(&msg, buf, sizeof(buf));
    if (len < 0) {
        g_critical("cannot encode VIDEO_FRAME: %s", g_strerror((int)-len));
        vo->offset = (uint32_t)size;
        return true;
    }
    g_byte_array_append(client->out, buf, (guint)len);
    client->port_sent_us = g_get_monotonic_time();
    return vo->offset == size;
}

/* Moves the next chunk of the head frame to the control queue.  Returns
 * false when there is no video to send. */
static bool
video_next_chunk(struct ssb_client *client)
{
    struct video_out *vo = g_queue_peek_head(&client->video_q);

    if (!vo || !(client->state & SSB_CLIENT_OPEN))
        return false;
    if (video_chunk(client, vo)) {
        g_queue_pop_head(&client->video_q);
        ssb_video_sink_frame_done(vo->sink, &vo->hdr, true);
        video_out_free(vo);
    }
    return true;
}

void
ssb_client_queue_video(struct ssb_client *client, struct ssb_frame_sink *sink,
                       const struct ssb_msg_video_frame *hdr, GBytes *data)
{
    struct video_out *vo = g_new0(struct video_out, 1);

    vo->sink = sink;
    vo->hdr = *hdr;
    vo->hdr.flags &= SSB_VIDEO_KEYFRAME;
    vo->data = g_bytes_ref(data);
    g_queue_push_tail(&client->video_q, vo);
    ssb_port_kick(client->port);
}

uint32_t
ssb_client_queued_video(const struct ssb_client *client, const struct ssb_frame_sink *sink)
{
    uint32_t n = 0;

    for (const GList *l = client->video_q.head; l; l = l->next)
        n += ((const struct video_out *)l->data)->sink == sink;
    return n;
}

/* A started frame is never cut (its chunks must stay consecutive, spec
 * 5.2): its remaining chunks go to the control queue now. */
uint32_t
ssb_client_drop_video(struct ssb_client *client, struct ssb_frame_sink *sink,
                      bool unstarted_only)
{
    uint32_t dropped = 0;

    for (GList *l = client->video_q.head, *next; l; l = next) {
        struct video_out *vo = l->data;

        next = l->next;
        if (vo->sink != sink)
            continue;
        if (vo->offset > 0) {
            while ((client->state & SSB_CLIENT_OPEN) && !video_chunk(client, vo))
                ;
            ssb_port_kick(client->port);
        } else {
            dropped++;
        }
        g_queue_delete_link(&client->video_q, l);
        video_out_free(vo);
    }
    return dropped;
}

static void
video_queue_clear(struct ssb_client *client)
{
    g_queue_clear_full(&client->video_q, (GDestroyNotify)video_out_free);
}

static void
client_closed(struct ssb_client *client)
{
    client->state = SSB_CLIENT_CLOSED;
    ssb_port_event(client->port, SPICE_PORT_EVENT_CLOSED);
}

/* Control messages first; video chunks are encoded only when no control
 * message waits, one at a time, so control never queues behind a frame. */
size_t
ssb_client_pull(struct ssb_client *client, uint8_t *buf, size_t len)
{
    size_t n = 0;

    while (n < len) {
        size_t k;

        if (client->out_head == client->out->len && !video_next_chunk(client))
            break;
        k = MIN(len - n, client->out->len - client->out_head);
        memcpy(buf + n, client->out->data + client->out_head, k);
        client->out_head += k;
        n += k;
        if (client->out_head == client->out->len) {
            g_byte_array_set_size(client->out, 0);
            client->out_head = 0;
            if (client->state == SSB_CLIENT_CLOSING) {
                client_closed(client);
                break;
            }
        }
    }
    if (client->out_head >= 1024 * 1024) {
        g_byte_array_remove_range(client->out, 0, (guint)client->out_head);
        client->out_head = 0;
    }
    return n;
}

/* ---- teardown ---- */

static void
client_drop_sinks(struct ssb_client *client)
{
    for (uint32_t i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
        struct ssb_frame_sink *sink = g_steal_pointer(&client->sinks[i]);

        if (sink)
            sink->impl->destroy(sink);
    }
}

static void client_start_remote(struct ssb_client *client);

/* Ends the local path (or the offer): buffers returned, local connection
 * closed, token revoked.  Unless the client is going, it falls back to
 * video (spec 4.4). */
static void
client_drop_local(struct ssb_client *client)
{
    if (!client->video_on)
        client_drop_sinks(client);
    ssb_local_conn_close(g_steal_pointer(&client->local));
    if (client->server->local)
        ssb_local_socket_revoke(client->server->local, client);
    client->server->core->timer_cancel(client->offer_timer);
    if (client->offer != SSB_OFFER_NONE)
        client->offer = SSB_OFFER_REMOTE;
    if (client->offer == SSB_OFFER_REMOTE && !client->stopping && !client->video_on &&
        client->state == SSB_CLIENT_ACTIVE)
        client_start_remote(client);
}

/* A local socket failure closes only the local path (spec 7). */
static void
client_local_fail(struct ssb_client *client, enum ssb_error_code code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void
client_local_fail(struct ssb_client *client, enum ssb_error_code code, const char *fmt, ...)
{
    struct ssb_msg msg = { .type = SSB_MSG_ERROR };
    g_autofree char *reason = NULL;
    va_list args;

    if (!client->local)
        return;
    va_start(args, fmt);
    reason = g_strdup_vprintf(fmt, args);
    va_end(args);
    ssb_log_peer("local sideband path closed (%s): %s", ssb_proto_error_name(code), reason);
    client->server->stats.protocol_errors++;
    msg.u.error.code = code;
    g_strlcpy(msg.u.error.reason, reason, sizeof(msg.u.error.reason));
    ssb_local_conn_send(client->local, &msg, NULL, 0);
    client_drop_local(client);
}

/* Stops the sideband for this session, after @last (may be NULL) went out
 * on both transports; the port itself stays until the SPICE client goes. */
static void
client_close(struct ssb_client *client, const struct ssb_msg *last)
{
    if (!(client->state & SSB_CLIENT_OPEN))
        return;
    client->stopping = true;
    video_queue_clear(client); /* nothing after ERROR/GOODBYE */
    if (last && client->local)
        ssb_local_conn_send(client->local, last, NULL, 0);
    if (last)
        client_enqueue(client, last);
    client_drop_local(client);
    client_drop_sinks(client);
    client->server->core->timer_cancel(client->tick_timer);
    client->state = SSB_CLIENT_CLOSING;
    if (!ssb_client_has_output(client))
        client_closed(client);
}

void
ssb_client_fail(struct ssb_client *client, enum ssb_error_code code, const char *fmt, ...)
{
    struct ssb_msg msg = { .type = SSB_MSG_ERROR };
    g_autofree char *reason = NULL;
    va_list args;

    if (!(client->state & SSB_CLIENT_OPEN))
        return;
    va_start(args, fmt);
    reason = g_strdup_vprintf(fmt, args);
    va_end(args);
    ssb_log_peer("sideband client closed (%s): %s", ssb_proto_error_name(code), reason);
    /* Our own failures and "nothing in common" are not bad input. */
    if (code != SSB_ERROR_INTERNAL && code != SSB_ERROR_UNSUPPORTED)
        client->server->stats.protocol_errors++;
    msg.u.error.code = code;
    g_strlcpy(msg.u.error.reason, reason, sizeof(msg.u.error.reason));
    client_close(client, &msg);
}

void
ssb_client_close(struct ssb_client *client)
{
    client_close(client, NULL);
}

/* Orderly end (server shutdown): GOODBYE, then flush what the port takes
 * right now; spice-server reads synchronously inside the wakeup. */
void
ssb_client_goodbye(struct ssb_client *client)
{
    struct ssb_msg msg = { .type = SSB_MSG_GOODBYE };

    msg.u.goodbye.code = SSB_ERROR_SHUTDOWN;
    client_close(client, &msg);
    ssb_port_wakeup_now(client->port);
    if (client->state == SSB_CLIENT_CLOSING) /* the rest is lost anyway */
        client_closed(client);
}

/* ---- handshake ---- */

static uint64_t
server_caps(const struct ssb_server *server)
{
    uint64_t caps = SSB_CAP_SHM | SSB_CAP_DMABUF;

    if (server->local)
        caps |= SSB_CAP_LOCAL_SOCKET;
    if (server->codecs)
        caps |= SSB_CAP_VIDEO | SSB_CAP_FEEDBACK | SSB_CAP_KEYFRAME_REQUEST;
    return caps;
}

/* Spec 5.1: the client's preference if both can, else the first in the
 * order H264, VP8, VP9, AV1, H265 (ascending ids). */
static enum ssb_codec
choose_codec(const struct ssb_client *client)
{
    uint32_t common = client->hello.codecs & client->server->codecs;

    if (!(client->caps & SSB_CAP_VIDEO) || !common)
        return SSB_CODEC_NONE;
    if (client->hello.preferred_codec < SSB_CODEC_COUNT &&
        (common & SSB_CODEC_BIT(client->hello.preferred_codec)))
        return client->hello.preferred_codec;
    for (uint32_t c = SSB_CODEC_H264; c < SSB_CODEC_COUNT; c++) {
        if (common & SSB_CODEC_BIT(c))
            return c;
    }
    return SSB_CODEC_NONE;
}

/* Spec 4.2 steps 3-4: video for every scanout, or nothing in common. */
static void
client_start_remote(struct ssb_client *client)
{
    struct ssb_server *server = client->server;

    if (!client->codec) {
        ssb_client_fail(client, SSB_ERROR_UNSUPPORTED,
                        "no local path and no video codec in common");
        return;
    }
    g_log(SSB_LOG_DOMAIN, G_LOG_LEVEL_INFO, "sideband client on the remote path (%s)",
          ssb_proto_codec_name(client->codec));
    client->video_on = true;
    for (uint32_t i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
        if (server->scanouts[i] && !client->sinks[i])
            client->sinks[i] = ssb_video_sink_new(client, server->scanouts[i], client->codec);
    }
}

static void
send_server_hello(struct ssb_client *client)
{
    struct ssb_msg msg = { .type = SSB_MSG_SERVER_HELLO };
    struct ssb_msg_server_hello *h = &msg.u.server_hello;

    h->version_major = SSB_PROTO_VERSION_MAJOR;
    h->version_minor = SSB_PROTO_VERSION_MINOR;
    h->caps = server_caps(client->server);
    h->codecs = client->server->codecs;
    h->max_scanouts = SSB_PROTO_MAX_SCANOUTS;
    ssb_client_send(client, &msg);
}

static void
send_local_offer(struct ssb_client *client)
{
    struct ssb_local_socket *ls = client->server->local;
    struct ssb_msg msg = { .type = SSB_MSG_LOCAL_OFFER };
    struct ssb_msg_local_offer *offer = &msg.u.local_offer;

    int err;

    /* Spec 4.4: no host id, no offer. */
    if (ssb_host_id_get(offer->host_id) < 0) {
        g_warning("cannot read machine-id and boot_id: no local offer");
        return;
    }
    err = ssb_local_socket_offer(ls, client, offer->token);
    if (err < 0) {
        /* -EAGAIN (no entropy yet) was logged once by the socket. */
        if (err != -EAGAIN)
            g_warning("cannot make a local offer (%s)", g_strerror(-err));
        return;
    }
    g_strlcpy(offer->path, ssb_local_socket_path(ls), sizeof(offer->path));
    client->offer = SSB_OFFER_PENDING;
    client->server->core->timer_start(client->offer_timer, SSB_OFFER_TIMEOUT_MS);
    ssb_client_send(client, &msg);
    explicit_bzero(offer->token, sizeof(offer->token));
}

static void
handle_client_hello(struct ssb_client *client, const struct ssb_msg *msg)
{
    const struct ssb_msg_client_hello *hello = &msg->u.client_hello;
    struct ssb_server *server = client->server;

    if (hello->version_major != SSB_PROTO_VERSION_MAJOR) {
        ssb_client_fail(client, SSB_ERROR_VERSION, "client speaks version %u, server %u",
                        hello->version_major, SSB_PROTO_VERSION_MAJOR);
        return;
    }
    client->hello = *hello;
    client->caps = hello->caps & server_caps(server);
    client->codec = choose_codec(client);
    client->state = SSB_CLIENT_ACTIVE;
    for (uint32_t i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
        if (server->scanouts[i])
            ssb_client_scanout_enabled(client, server->scanouts[i]);
    }
    /* Spec 4.2: only with WANT_LOCAL and LOCAL_SOCKET + SHM on both sides. */
    if ((hello->flags & SSB_CLIENT_WANT_LOCAL) && server->local &&
        (hello->caps & (SSB_CAP_LOCAL_SOCKET | SSB_CAP_SHM)) ==
            (SSB_CAP_LOCAL_SOCKET | SSB_CAP_SHM))
        send_local_offer(client);
    if (client->offer == SSB_OFFER_NONE)
        client_start_remote(client);
}

/* Spec 4.4: a decline resolves a pending offer, ends a welcomed local path,
 * and is ignored once the offer went remote. */
static void
handle_local_decline(struct ssb_client *client, const struct ssb_msg *msg)
{
    if (client->offer == SSB_OFFER_NONE) {
        ssb_client_fail(client, SSB_ERROR_STATE, "LOCAL_DECLINE without LOCAL_OFFER");
        return;
    }
    if (client->offer == SSB_OFFER_REMOTE)
        return;
    g_log(SSB_LOG_DOMAIN, G_LOG_LEVEL_INFO, "client declined the local socket (%s): %s",
          ssb_proto_error_name(msg->u.local_decline.code), msg->u.local_decline.reason);
    client_drop_local(client);
}

static void
handle_keepalive(struct ssb_client *client, const struct ssb_msg *msg)
{
    client->peer_t_us = msg->u.keepalive.t_us;
}

static void
handle_goodbye(struct ssb_client *client, const struct ssb_msg *msg)
{
    client_close(client, NULL);
}

static void
handle_peer_error(struct ssb_client *client, const struct ssb_msg *msg)
{
    ssb_log_peer("sideband client reported %s: %s", ssb_proto_error_name(msg->u.error.code),
                 msg->u.error.reason);
    client_close(client, NULL);
}

static void
handle_local_keepalive(struct ssb_client *client, const struct ssb_msg *msg)
{
    client->local_peer_t_us = msg->u.keepalive.t_us;
}

/* GOODBYE or ERROR on the local socket ends only the local path (4.7). */
static void
handle_local_end(struct ssb_client *client, const struct ssb_msg *msg)
{
    if (msg->type == SSB_MSG_ERROR)
        ssb_log_peer("local sideband client reported %s: %s",
                     ssb_proto_error_name(msg->u.error.code), msg->u.error.reason);
    client_drop_local(client);
}

static void
handle_slot_release(struct ssb_client *client, const struct ssb_msg *msg)
{
    const struct ssb_msg_slot_release *rel = &msg->u.slot_release;
    struct ssb_frame_sink *sink = rel->scanout_id < SSB_PROTO_MAX_SCANOUTS
                                      ? client->sinks[rel->scanout_id]
                                      : NULL;

    if (!sink) /* crossed a SCANOUT_DESTROY: stale (spec 4.6) */
        return;
    if (ssb_local_sink_release(sink, rel->slot_id, rel->seq) < 0)
        client_local_fail(client, SSB_ERROR_PROTOCOL,
                          "SLOT_RELEASE of slot %u seq %" G_GUINT64_FORMAT
                          " of scanout %u: no such frame was sent",
                          rel->slot_id, rel->seq, rel->scanout_id);
}

static struct ssb_frame_sink *
video_sink_for(struct ssb_client *client, uint32_t scanout_id)
{
    struct ssb_frame_sink *sink =
        scanout_id < SSB_PROTO_MAX_SCANOUTS ? client->sinks[scanout_id] : NULL;

    return ssb_video_sink_is_video(sink) ? sink : NULL;
}

/* Spec 5.3; FEEDBACK for a scanout without video is ignored. */
static void
handle_feedback(struct ssb_client *client, const struct ssb_msg *msg)
{
    struct ssb_frame_sink *sink;

    if (!(client->caps & SSB_CAP_FEEDBACK)) {
        ssb_client_fail(client, SSB_ERROR_STATE, "FEEDBACK not negotiated");
        return;
    }
    if ((sink = video_sink_for(client, msg->u.feedback.scanout_id)))
        ssb_video_sink_feedback(sink, &msg->u.feedback);
}

/* Spec 5.2: a request for a scanout we no longer have crossed a destroy. */
static void
handle_keyframe_request(struct ssb_client *client, const struct ssb_msg *msg)
{
    struct ssb_frame_sink *sink;

    if (!(client->caps & SSB_CAP_KEYFRAME_REQUEST)) {
        ssb_client_fail(client, SSB_ERROR_STATE, "KEYFRAME_REQUEST not negotiated");
        return;
    }
    if ((sink = video_sink_for(client, msg->u.keyframe_request.scanout_id)))
        ssb_video_sink_keyframe_request(sink);
}

#define OPEN SSB_CLIENT_OPEN
#define ACTIVE SSB_CLIENT_ACTIVE

/* Messages a client may send on the port, spec 8.1 (transport and
 * direction are checked first, from the protocol's table).  FEEDBACK and
 * KEYFRAME_REQUEST check their capability in the handler. */
static const struct ssb_handler port_handlers[SSB_MSG_TYPE_COUNT] = {
    [SSB_MSG_CLIENT_HELLO] = { handle_client_hello, SSB_CLIENT_AWAIT_HELLO },
    [SSB_MSG_LOCAL_DECLINE] = { handle_local_decline, ACTIVE },
    [SSB_MSG_FEEDBACK] = { handle_feedback, ACTIVE },
    [SSB_MSG_KEYFRAME_REQUEST] = { handle_keyframe_request, ACTIVE },
    [SSB_MSG_KEEPALIVE] = { handle_keepalive, ACTIVE },
    [SSB_MSG_GOODBYE] = { handle_goodbye, OPEN },
    [SSB_MSG_ERROR] = { handle_peer_error, OPEN },
};

/* Spec 8.3, on the local socket once welcomed (LOCAL_HELLO is the
 * socket's own business). */
static const struct ssb_handler local_handlers[SSB_MSG_TYPE_COUNT] = {
    [SSB_MSG_SLOT_RELEASE] = { handle_slot_release, ACTIVE },
    [SSB_MSG_KEEPALIVE] = { handle_local_keepalive, ACTIVE },
    [SSB_MSG_GOODBYE] = { handle_local_end, ACTIVE },
    [SSB_MSG_ERROR] = { handle_local_end, ACTIVE },
};

#undef OPEN
#undef ACTIVE

/* Returns false when @msg is not allowed now (the caller fails). */
static bool
dispatch(struct ssb_client *client, const struct ssb_handler *table, const struct ssb_msg *msg)
{
    const struct ssb_handler *h = &table[msg->type];

    if (!h->fn || !(h->states & client->state))
        return false;
    h->fn(client, msg);
    return true;
}

/* ---- input ---- */

static void
client_handle_raw(struct ssb_client *client, const uint8_t *raw, size_t len)
{
    const char *reason = NULL;
    struct ssb_msg msg;

    if (ssb_proto_parse(raw, len, 0, &msg, &reason) < 0) {
        ssb_client_fail(client, SSB_ERROR_PROTOCOL, "%s", reason ? reason : "malformed message");
        return;
    }
    if (ssb_msg_check_incoming(&msg, SSB_TRANSPORT_PORT, &reason) < 0 ||
        !dispatch(client, port_handlers, &msg))
        ssb_client_fail(client, SSB_ERROR_STATE, "%s not allowed now",
                        ssb_proto_msg_name(msg.type));
}

void
ssb_client_receive(struct ssb_client *client, const uint8_t *data, size_t len)
{
    const uint8_t *raw;
    size_t raw_len;
    const char *reason = NULL;
    int r;

    if (!(client->state & SSB_CLIENT_OPEN))
        return;
    client->port_recv_us = g_get_monotonic_time();
    if (ssb_proto_reader_feed(client->reader, data, len) < 0) {
        ssb_client_fail(client, SSB_ERROR_PROTOCOL, "broken stream");
        return;
    }
    while ((client->state & SSB_CLIENT_OPEN) &&
           (r = ssb_proto_reader_next(client->reader, &raw, &raw_len, &reason)) != 0) {
        if (r < 0) {
            ssb_client_fail(client, SSB_ERROR_PROTOCOL, "%s", reason ? reason : "bad header");
            return;
        }
        client_handle_raw(client, raw, raw_len);
    }
}

void
ssb_client_local_message(struct ssb_client *client, const struct ssb_msg *msg)
{
    if ((client->state & SSB_CLIENT_OPEN) && !dispatch(client, local_handlers, msg))
        client_local_fail(client, SSB_ERROR_STATE, "%s not allowed now",
                          ssb_proto_msg_name(msg->type));
}

void
ssb_client_local_error(struct ssb_client *client, enum ssb_error_code code, const char *reason)
{
    client_local_fail(client, code, "%s", reason);
}

/* ---- local socket ---- */

void
ssb_client_local_bound(struct ssb_client *client, struct ssb_local_conn *conn)
{
    struct ssb_server *server = client->server;

    server->core->timer_cancel(client->offer_timer);
    client->local = conn;
    client->offer = SSB_OFFER_LOCAL;
    for (uint32_t i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
        if (server->scanouts[i] && !client->sinks[i])
            client->sinks[i] = ssb_local_sink_new(client, server->scanouts[i]);
    }
}

void
ssb_client_local_lost(struct ssb_client *client)
{
    client->local = NULL; /* freed by the socket after this */
    client_drop_local(client);
}

static void
offer_expired(void *opaque)
{
    struct ssb_client *client = opaque;

    if (client->offer == SSB_OFFER_PENDING) {
        g_log(SSB_LOG_DOMAIN, G_LOG_LEVEL_INFO, "local offer expired; client stays on the port");
        client_drop_local(client);
    }
}

static void
keepalive_msg(struct ssb_msg *msg, uint64_t echo_t_us)
{
    memset(msg, 0, sizeof(*msg));
    msg->type = SSB_MSG_KEEPALIVE;
    msg->u.keepalive.t_us = ssb_now_us();
    msg->u.keepalive.echo_t_us = echo_t_us;
}

/* Spec 4.7 for the local socket: KEEPALIVE after 5 s of silence from us,
 * the local path ends after 30 s of silence from the peer. */
static void
local_tick(struct ssb_client *client, int64_t now)
{
    int64_t sent, recv;
    struct ssb_msg msg;

    ssb_local_conn_activity(client->local, &sent, &recv);
    if (now - recv >= SSB_DEAD_PEER_US) {
        ssb_log_peer("local sideband client silent for 30 s; local path closed");
        client_drop_local(client);
    } else if (now - sent >= SSB_KEEPALIVE_US) {
        keepalive_msg(&msg, client->local_peer_t_us);
        ssb_local_conn_send(client->local, &msg, NULL, 0);
    }
}

static void
tick_fired(void *opaque)
{
    struct ssb_client *client = opaque;
    int64_t now = g_get_monotonic_time();
    struct ssb_msg msg;

    if (now - client->port_recv_us >= SSB_DEAD_PEER_US) {
        ssb_log_peer("sideband client silent for 30 s; closed");
        client_close(client, NULL); /* stops the tick */
        return;
    }
    if (client->state == SSB_CLIENT_ACTIVE && now - client->port_sent_us >= SSB_KEEPALIVE_US) {
        keepalive_msg(&msg, client->peer_t_us);
        ssb_client_send(client, &msg);
    }
    if (client->local)
        local_tick(client, now);
    if (client->state & SSB_CLIENT_OPEN)
        client->server->core->timer_start(client->tick_timer, SSB_TICK_MS);
}

/* ---- scanouts and frames ---- */

void
ssb_client_scanout_enabled(struct ssb_client *client, struct ssb_scanout *scanout)
{
    struct ssb_msg msg;

    if (client->state != SSB_CLIENT_ACTIVE)
        return;
    ssb_scanout_to_msg(scanout, SSB_MSG_SCANOUT_CREATE, &msg);
    ssb_client_send(client, &msg);
    if (client->local && !client->sinks[scanout->id])
        client->sinks[scanout->id] = ssb_local_sink_new(client, scanout);
    else if (client->video_on && !client->sinks[scanout->id])
        client->sinks[scanout->id] = ssb_video_sink_new(client, scanout, client->codec);
}

void
ssb_client_scanout_resized(struct ssb_client *client, struct ssb_scanout *scanout)
{
    struct ssb_frame_sink *sink = client->sinks[scanout->id];
    struct ssb_msg msg;

    if (client->state != SSB_CLIENT_ACTIVE)
        return;
    /* Video: a started frame finishes before the RESIZE (spec 5.2). */
    if (ssb_video_sink_is_video(sink))
        sink->impl->reconfigure(sink);
    ssb_scanout_to_msg(scanout, SSB_MSG_SCANOUT_RESIZE, &msg);
    ssb_client_send(client, &msg);
    /* A send that overflows the queue closes the client and frees its
     * sinks: look the sink up again. */
    sink = client->state == SSB_CLIENT_ACTIVE ? client->sinks[scanout->id] : NULL;
    if (sink && !ssb_video_sink_is_video(sink))
        sink->impl->reconfigure(sink);
}

void
ssb_client_scanout_disabled(struct ssb_client *client, struct ssb_scanout *scanout)
{
    struct ssb_frame_sink *sink = g_steal_pointer(&client->sinks[scanout->id]);
    struct ssb_msg msg;

    if (sink) { /* spec 4.3: SCANOUT_DESTROY retires every slot */
        sink->impl->retire(sink);
        sink->impl->destroy(sink);
    }
    if (client->state != SSB_CLIENT_ACTIVE)
        return;
    ssb_scanout_to_msg(scanout, SSB_MSG_SCANOUT_DESTROY, &msg);
    ssb_client_send(client, &msg);
}

void
ssb_client_submit(struct ssb_client *client, struct ssb_frame *frame)
{
    struct ssb_frame_sink *sink = client->sinks[frame->scanout_id];

    if (sink && client->state == SSB_CLIENT_ACTIVE)
        sink->impl->submit(sink, frame);
}

/* ---- lifecycle and accessors ---- */

struct ssb_client *
ssb_client_new(struct ssb_server *server, struct ssb_port *port)
{
    struct ssb_client *client = g_new0(struct ssb_client, 1);

    client->server = server;
    client->port = port;
    client->state = SSB_CLIENT_AWAIT_HELLO;
    client->reader = ssb_proto_reader_new();
    client->out = g_byte_array_new();
    g_queue_init(&client->video_q);
    client->offer_timer = server->core->timer_add(offer_expired, client);
    client->tick_timer = server->core->timer_add(tick_fired, client);
    client->port_sent_us = client->port_recv_us = g_get_monotonic_time();
    ssb_port_event(port, SPICE_PORT_EVENT_OPENED);
    send_server_hello(client);
    server->core->timer_start(client->tick_timer, SSB_TICK_MS);
    return client;
}

void
ssb_client_free(struct ssb_client *client)
{
    if (!client)
        return;
    client->stopping = true;
    video_queue_clear(client);
    client_drop_local(client);
    client_drop_sinks(client);
    client->server->core->timer_remove(client->offer_timer);
    client->server->core->timer_remove(client->tick_timer);
    ssb_proto_reader_free(client->reader);
    g_byte_array_unref(client->out);
    g_free(client);
}

bool
ssb_client_is_active(const struct ssb_client *client)
{
    return client->state == SSB_CLIENT_ACTIVE;
}

struct ssb_local_conn *
ssb_client_local(const struct ssb_client *client)
{
    return client->local;
}

const struct ssb_msg_client_hello *
ssb_client_hello(const struct ssb_client *client)
{
    return &client->hello;
}

struct ssb_server *
ssb_client_server(const struct ssb_client *client)
{
    return client->server;
}

enum ssb_codec
ssb_client_codec(const struct ssb_client *client)
{
    return client->video_on ? client->codec : SSB_CODEC_NONE;
}

bool
ssb_client_has_cap(const struct ssb_client *client, uint64_t cap)
{
    return (client->caps & cap) == cap;
}
