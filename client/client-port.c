/* The sideband handshake and control messages on the port (spec 4.1-4.3,
 * 4.7).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"

#include <string.h>

/* How long to wait for a LOCAL_OFFER the server's caps promise. */
#define OFFER_TIMEOUT_MS 3000

static void
port_opened(gpointer user_data)
{
    SsbClient *client = user_data;

    if (client->state == SSB_STATE_WAIT_PORT)
        client->state = SSB_STATE_WAIT_HELLO;
}

static void
port_failed(const GError *error, guint32 code, gpointer user_data)
{
    if (g_error_matches(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED))
        ssb_client_closed_by_peer(user_data, error->message, FALSE);
    else
        ssb_client_fail(user_data, error, code);
}

static const SsbPortCallbacks port_callbacks = {
    .opened = port_opened,
    .message = ssb_client_handle_port_message,
    .error = port_failed,
};

void
ssb_client_port_found(SpicePortChannel *port, gpointer user_data)
{
    SsbClient *client = user_data;

    if (client->port != NULL || client->state == SSB_STATE_CLOSED)
        return;
    g_debug("found the sideband port");
    client->port = ssb_port_transport_new(port, &port_callbacks, client);
    /* The dead-peer rule (spec 4.7) covers the handshake too. */
    ssb_client_keepalive_start(client);
    if (ssb_port_transport_is_opened(client->port))
        port_opened(client);
}

static void
send_client_hello(SsbClient *client)
{
    struct ssb_msg msg = { .type = SSB_MSG_CLIENT_HELLO };
    struct ssb_msg_client_hello *hello = &msg.u.client_hello;
    guint n_formats = MIN(client->dmabuf_formats->len, SSB_PROTO_MAX_FORMATS);

    hello->version_major = SSB_PROTO_VERSION_MAJOR;
    hello->version_minor = SSB_PROTO_VERSION_MINOR;
    hello->max_width = SSB_PROTO_MAX_DIMENSION;
    hello->max_height = SSB_PROTO_MAX_DIMENSION;
    /* Video is offered alongside the local path: it is the fallback. */
    hello->codecs = ssb_client_video_codecs(client, &hello->preferred_codec);
    if (hello->codecs != 0)
        hello->caps = SSB_CAP_VIDEO | SSB_CAP_FEEDBACK | SSB_CAP_KEYFRAME_REQUEST;
    if (client->want_local) {
        hello->caps |= SSB_CAP_SHM | SSB_CAP_LOCAL_SOCKET;
        hello->flags = SSB_CLIENT_WANT_LOCAL;
        if (n_formats > 0)
            hello->caps |= SSB_CAP_DMABUF;
        hello->n_formats = n_formats;
        for (guint i = 0; i < n_formats; i++) {
            const SsbFormatModifier *f =
                &g_array_index(client->dmabuf_formats, SsbFormatModifier, i);
            hello->formats[i].fourcc = f->fourcc;
            hello->formats[i].modifier = f->modifier;
        }
    }
    client->caps = hello->caps;
    client->codecs = hello->codecs;
    ssb_client_send_port(client, &msg);
}

static gboolean
offer_timeout(gpointer user_data)
{
    SsbClient *client = user_data;

    client->offer_timeout_id = 0;
    g_debug("no LOCAL_OFFER from the server");
    ssb_client_emit_ready_remote(client);
    return G_SOURCE_REMOVE;
}

static void
handle_server_hello(SsbClient *client, const struct ssb_msg_server_hello *hello)
{
    if (hello->version_major != SSB_PROTO_VERSION_MAJOR) {
        g_autofree char *text = g_strdup_printf("server speaks protocol %u.%u, client %u.%u",
                                                hello->version_major, hello->version_minor,
                                                SSB_PROTO_VERSION_MAJOR,
                                                SSB_PROTO_VERSION_MINOR);
        ssb_client_fail_literal(client, SSB_CLIENT_ERROR_VERSION, SSB_ERROR_VERSION, text);
        return;
    }
    client->server_caps = hello->caps;
    client->server_codecs = hello->codecs;
    client->want_local = client->allow_local && !client->force_remote &&
                         (hello->caps & SSB_CAP_LOCAL_SOCKET) && (hello->caps & SSB_CAP_SHM);
    client->state = SSB_STATE_ACTIVE;
    send_client_hello(client);
    if (client->state != SSB_STATE_ACTIVE)
        return;
    ssb_client_keepalive_start(client);
    if (client->want_local)
        client->offer_timeout_id = g_timeout_add(OFFER_TIMEOUT_MS, offer_timeout, client);
    else
        ssb_client_emit_ready_remote(client);
}

static void
handle_scanout(SsbClient *client, enum ssb_msg_type type, const struct ssb_msg_scanout *msg)
{
    SsbScanout *scanout = &client->scanouts[msg->scanout_id];
    gboolean create = type == SSB_MSG_SCANOUT_CREATE;

    /* Spec 4.3 id rules; breaking them is PROTOCOL (spec 8.2). */
    if (scanout->exists == create) {
        ssb_client_fail_literal(client, SSB_CLIENT_ERROR_PROTOCOL, SSB_ERROR_PROTOCOL,
                                create ? "SCANOUT_CREATE for an existing scanout"
                                       : "SCANOUT_RESIZE for an unknown scanout");
        return;
    }
    if (!create && msg->display_channel_id != scanout->info.display_channel_id) {
        ssb_client_fail_literal(client, SSB_CLIENT_ERROR_PROTOCOL, SSB_ERROR_PROTOCOL,
                                "SCANOUT_RESIZE changes the scanout's display channel");
        return;
    }
    if (create)
        ssb_client_video_scanout_created(client, msg->scanout_id);
    else if (!ssb_client_video_scanout_changing(client, msg->scanout_id, FALSE))
        return;
    scanout->exists = TRUE;
    scanout->info.display_channel_id = msg->display_channel_id;
    scanout->info.width = msg->width;
    scanout->info.height = msg->height;
    scanout->info.fourcc = msg->fourcc;
    if (scanout->path_name == NULL)
        scanout->path_name = "none";
    ssb_client_emit_scanout(client, create ? SSB_SCANOUT_ADDED : SSB_SCANOUT_RESIZED,
                            msg->scanout_id);
}

static void
handle_scanout_destroy(SsbClient *client, guint32 scanout_id)
{
    SsbScanout *scanout = &client->scanouts[scanout_id];

    if (!scanout->exists) {
        ssb_client_fail_literal(client, SSB_CLIENT_ERROR_PROTOCOL, SSB_ERROR_PROTOCOL,
                                "SCANOUT_DESTROY for an unknown scanout");
        return;
    }
    if (!ssb_client_video_scanout_changing(client, scanout_id, TRUE))
        return;
    /* Slots stay until SLOT_RETIRE arrives on the local socket. */
    scanout->exists = FALSE;
    scanout->path_name = NULL;
    g_clear_pointer(&scanout->pending, ssb_frame_unref);
    ssb_client_emit_scanout(client, SSB_SCANOUT_REMOVED, scanout_id);
}

static void
handle_peer_error(SsbClient *client, const struct ssb_msg_error *msg)
{
    /* UNSUPPORTED: no frame path in common; the stock display is the way. */
    SsbClientError code = msg->code == SSB_ERROR_UNSUPPORTED ? SSB_CLIENT_ERROR_UNSUPPORTED
                                                             : SSB_CLIENT_ERROR_PEER;
    g_autoptr(GError) error = g_error_new(SSB_CLIENT_ERROR, code, "the server reported %s: %s",
                                          ssb_proto_error_name(msg->code), msg->reason);

    ssb_client_fail(client, error, SSB_ERROR_NONE);
}

static void
handle_goodbye(SsbClient *client, const struct ssb_msg_goodbye *msg)
{
    g_autofree char *text = g_strdup_printf("the server said goodbye (%s)",
                                            ssb_proto_error_name(msg->code));

    ssb_client_closed_by_peer(client, text, FALSE);
}

/* Messages valid in SSB_STATE_ACTIVE. */
static void
dispatch_active(SsbClient *client, const struct ssb_msg *msg)
{
    switch (msg->type) {
    case SSB_MSG_SCANOUT_CREATE:
    case SSB_MSG_SCANOUT_RESIZE:
        handle_scanout(client, msg->type, &msg->u.scanout);
        return;
    case SSB_MSG_SCANOUT_DESTROY:
        handle_scanout_destroy(client, msg->u.scanout_destroy.scanout_id);
        return;
    case SSB_MSG_VIDEO_FRAME:
        ssb_client_handle_video_frame(client, &msg->u.video_frame);
        return;
    case SSB_MSG_LOCAL_OFFER:
        g_clear_handle_id(&client->offer_timeout_id, g_source_remove);
        ssb_client_handle_offer(client, &msg->u.local_offer);
        return;
    default:
        ssb_client_fail_literal(client, SSB_CLIENT_ERROR_PROTOCOL, SSB_ERROR_STATE,
                                "unexpected message on the port");
        return;
    }
}

void
ssb_client_handle_port_message(const struct ssb_msg *msg, gpointer user_data)
{
    SsbClient *client = user_data;
    const struct ssb_msg_info *info = ssb_proto_msg_info(msg->type);

    if (client->state == SSB_STATE_CLOSED)
        return;
    client->port_rx_us = g_get_monotonic_time();
    if (!(info->direction & SSB_DIR_SERVER_TO_CLIENT)) {
        ssb_client_fail_literal(client, SSB_CLIENT_ERROR_PROTOCOL, SSB_ERROR_STATE,
                                "client-to-server message received");
        return;
    }
    if (msg->type == SSB_MSG_ERROR) {
        handle_peer_error(client, &msg->u.error);
    } else if (msg->type == SSB_MSG_GOODBYE) {
        handle_goodbye(client, &msg->u.goodbye);
    } else if (msg->type == SSB_MSG_KEEPALIVE) {
        client->port_peer_t_us = msg->u.keepalive.t_us;
    } else if (client->state != SSB_STATE_ACTIVE) {
        if (msg->type == SSB_MSG_SERVER_HELLO)
            handle_server_hello(client, &msg->u.server_hello);
        else
            ssb_client_fail_literal(client, SSB_CLIENT_ERROR_PROTOCOL, SSB_ERROR_STATE,
                                    "expected SERVER_HELLO first");
    } else {
        dispatch_active(client, msg);
    }
}
