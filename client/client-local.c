/* The local path (spec 4.4-4.6): the offer, the local socket handshake,
 * slots and frames.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"
#include "host-id.h"

#include <string.h>

#define WELCOME_TIMEOUT_MS 3000

static void local_message(const struct ssb_msg *msg, int *fds, guint n_fds,
                          gpointer user_data);

void
ssb_client_local_stop(SsbClient *client)
{
    g_clear_handle_id(&client->welcome_timeout_id, g_source_remove);
    if (client->link == NULL)
        return;
    ssb_local_link_shutdown(client->link);
    g_clear_pointer(&client->link, ssb_local_link_unref);
}

void
ssb_client_local_decline(SsbClient *client, guint32 code, const char *reason)
{
    struct ssb_msg msg = { .type = SSB_MSG_LOCAL_DECLINE };

    g_message("local sideband declined: %s", reason);
    ssb_client_local_stop(client);
    client->local_state = SSB_LOCAL_DECLINED;
    msg.u.local_decline.code = code;
    g_strlcpy(msg.u.local_decline.reason, reason, sizeof(msg.u.local_decline.reason));
    ssb_client_send_port(client, &msg);
    ssb_client_emit_ready_remote(client);
}

void
ssb_client_local_path_fail(SsbClient *client, const GError *error, guint32 code)
{
    struct ssb_msg msg = { .type = SSB_MSG_ERROR };

    gboolean orderly = g_error_matches(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED);

    if (client->local_state != SSB_LOCAL_ACTIVE)
        return;
    if (orderly)
        g_info("local sideband closed: %s", error->message);
    else
        g_message("local sideband closed: %s", error->message);
    if (code != SSB_ERROR_NONE && client->link != NULL) {
        msg.u.error.code = code;
        g_strlcpy(msg.u.error.reason, error->message, sizeof(msg.u.error.reason));
        ssb_local_link_send(client->link, &msg, NULL);
    }
    client->local_state = SSB_LOCAL_FAILED;
    /* The server falls back to video if it can (spec 4.4). */
    client->path = ssb_client_video_possible(client) ? SSB_CLIENT_PATH_VIDEO
                                                     : SSB_CLIENT_PATH_NONE;
    ssb_client_local_stop(client);
    for (guint i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
        ssb_client_scanout_clear_local(client, &client->scanouts[i]);
        if (client->scanouts[i].exists)
            client->scanouts[i].path_name = "none";
    }
    /* A GOODBYE or a closed socket is not an error (spec 4.7). */
    if (!orderly)
        ssb_client_emit_error(client, error);
}

static void
local_failed(const GError *error, guint32 code, gpointer user_data)
{
    SsbClient *client = user_data;

    /* Before the welcome the port is still fine: fall back (spec 4.4). */
    if (client->local_state == SSB_LOCAL_WAIT_WELCOME) {
        g_autofree char *text = g_strdup_printf("no welcome: %s", error->message);
        ssb_client_local_decline(client, SSB_ERROR_INTERNAL, text);
        return;
    }
    ssb_client_local_path_fail(client, error, code);
}

static gboolean
welcome_timeout(gpointer user_data)
{
    SsbClient *client = user_data;

    client->welcome_timeout_id = 0;
    ssb_client_local_decline(client, SSB_ERROR_INTERNAL, "no LOCAL_WELCOME in time");
    return G_SOURCE_REMOVE;
}

/* Returns NULL when the offer can be tried, else why not (static). */
static const char *
offer_refusal(SsbClient *client, const struct ssb_msg_local_offer *offer, guint32 *code)
{
    guint8 host_id[SSB_PROTO_HOST_ID_SIZE];

    *code = SSB_ERROR_UNSUPPORTED;
    if (!client->allow_local || client->force_remote)
        return "the client will not use the local path";
    if (ssb_host_id_get(host_id) < 0)
        return "the client cannot read its machine id and boot id";
    if (memcmp(host_id, offer->host_id, sizeof(host_id)) != 0)
        return "the server runs on another host";
    return NULL;
}

void
ssb_client_handle_offer(SsbClient *client, const struct ssb_msg_local_offer *offer)
{
    struct ssb_msg msg = { .type = SSB_MSG_LOCAL_HELLO };
    g_autoptr(GError) error = NULL;
    guint32 code;
    const char *refusal;

    /* Spec 8.2: only after WANT_LOCAL with LOCAL_SOCKET and SHM, once. */
    if (!client->want_local || client->local_state != SSB_LOCAL_IDLE) {
        ssb_client_fail_literal(client, SSB_CLIENT_ERROR_PROTOCOL, SSB_ERROR_STATE,
                                client->want_local ? "a second LOCAL_OFFER"
                                                   : "LOCAL_OFFER without WANT_LOCAL");
        return;
    }
    refusal = offer_refusal(client, offer, &code);
    if (refusal != NULL) {
        ssb_client_local_decline(client, code, refusal);
        return;
    }
    client->link = ssb_local_link_connect(offer->path, client->context, local_message,
                                          local_failed, client, &error);
    memcpy(msg.u.local_hello.token, offer->token, SSB_PROTO_TOKEN_SIZE);
    if (client->link == NULL || !ssb_local_link_send(client->link, &msg, &error)) {
        ssb_client_local_decline(client, SSB_ERROR_INTERNAL, error->message);
        return;
    }
    client->local_state = SSB_LOCAL_WAIT_WELCOME;
    client->local_rx_us = g_get_monotonic_time();
    client->welcome_timeout_id = g_timeout_add(WELCOME_TIMEOUT_MS, welcome_timeout, client);
}

static void
local_fail(SsbClient *client, guint32 code, const char *what)
{
    g_autoptr(GError) error = g_error_new_literal(SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_PROTOCOL,
                                                  what);

    ssb_client_local_path_fail(client, error, code);
}

/* TRUE if the application declared it can import @fourcc + @modifier. */
static gboolean
client_imports(SsbClient *client, guint32 fourcc, guint64 modifier)
{
    for (guint i = 0; i < client->dmabuf_formats->len; i++) {
        const SsbFormatModifier *f =
            &g_array_index(client->dmabuf_formats, SsbFormatModifier, i);
        if (f->fourcc == fourcc && f->modifier == modifier)
            return TRUE;
    }
    return FALSE;
}

static void
handle_slot_announce(SsbClient *client, const struct ssb_msg_slot_announce *announce,
                     int *fds, guint n_fds)
{
    SsbScanout *scanout = &client->scanouts[announce->scanout_id];
    g_autoptr(GError) error = NULL;
    SsbSlot *slot;

    if (announce->kind == SSB_SLOT_DMABUF &&
        !client_imports(client, announce->fourcc, announce->modifier)) {
        local_fail(client, SSB_ERROR_PROTOCOL, "DMA-BUF slot with a pair the client did not list");
        return;
    }
    slot = ssb_slot_new(announce, fds, n_fds, client->link, &error);
    if (slot == NULL) {
        /* Past the slot cap is a LIMIT, anything else malformed data. */
        ssb_client_local_path_fail(client, error,
                                   g_error_matches(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED)
                                       ? SSB_ERROR_LIMIT : SSB_ERROR_PROTOCOL);
        return;
    }
    /* A re-announce replaces (and retires) the old slot (spec 4.5). */
    if (scanout->slots[announce->slot_id] != NULL)
        ssb_slot_mark_retired(scanout->slots[announce->slot_id]);
    g_clear_pointer(&scanout->slots[announce->slot_id], ssb_slot_unref);
    scanout->slots[announce->slot_id] = slot;
}

static void
handle_slot_retire(SsbClient *client, const struct ssb_msg_slot_retire *retire)
{
    SsbScanout *scanout;

    if (retire->scanout_id >= SSB_PROTO_MAX_SCANOUTS || retire->slot_id >= SSB_PROTO_MAX_SLOTS ||
        client->scanouts[retire->scanout_id].slots[retire->slot_id] == NULL) {
        local_fail(client, SSB_ERROR_PROTOCOL, "SLOT_RETIRE for an unknown slot");
        return;
    }
    scanout = &client->scanouts[retire->scanout_id];
    ssb_slot_mark_retired(scanout->slots[retire->slot_id]);
    /* Frames still holding the slot keep it mapped until dropped. */
    g_clear_pointer(&scanout->slots[retire->slot_id], ssb_slot_unref);
}

static void
handle_frame(SsbClient *client, const struct ssb_msg_frame *msg)
{
    gint64 now = g_get_monotonic_time();
    SsbSlot *slot;
    const struct ssb_msg_slot_announce *layout;
    const char *reason = NULL;

    if (msg->scanout_id >= SSB_PROTO_MAX_SCANOUTS ||
        (slot = client->scanouts[msg->scanout_id].slots[msg->slot_id]) == NULL) {
        local_fail(client, SSB_ERROR_PROTOCOL, "FRAME on an unknown slot");
        return;
    }
    layout = ssb_slot_get_layout(slot);
    if (ssb_proto_check_rects(msg->rects, msg->n_rects, layout->width, layout->height,
                              &reason) < 0) {
        local_fail(client, SSB_ERROR_PROTOCOL, reason ? reason : "bad damage rects");
        return;
    }
    if (!ssb_slot_lend(slot)) {
        local_fail(client, SSB_ERROR_PROTOCOL, "FRAME on a slot the client still holds");
        return;
    }
    /* A scanout not (or no longer) in the table: released at once (4.4). */
    if (!client->scanouts[msg->scanout_id].exists) {
        ssb_frame_unref(ssb_frame_new_local(slot, msg, now));
        return;
    }
    ssb_client_deliver_frame(client, msg->scanout_id, ssb_frame_new_local(slot, msg, now));
}

static void
handle_welcome(SsbClient *client)
{
    g_clear_handle_id(&client->welcome_timeout_id, g_source_remove);
    client->local_state = SSB_LOCAL_ACTIVE;
    /* Also after "ready" already went out (a late offer): the path changes. */
    client->path = SSB_CLIENT_PATH_LOCAL;
    ssb_client_emit_ready(client, SSB_CLIENT_PATH_LOCAL);
}

static void
dispatch_local(SsbClient *client, const struct ssb_msg *msg, int *fds, guint n_fds)
{
    switch (msg->type) {
    case SSB_MSG_SLOT_ANNOUNCE:
        handle_slot_announce(client, &msg->u.slot_announce, fds, n_fds);
        return;
    case SSB_MSG_SLOT_RETIRE:
        handle_slot_retire(client, &msg->u.slot_retire);
        return;
    case SSB_MSG_FRAME:
        handle_frame(client, &msg->u.frame);
        return;
    case SSB_MSG_KEEPALIVE:
        client->local_peer_t_us = msg->u.keepalive.t_us;
        return;
    case SSB_MSG_GOODBYE: {
        /* Ends only the local path (spec 4.7); not an error. */
        g_autoptr(GError) error = g_error_new_literal(SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED,
                                                      "the server closed the local path");
        ssb_client_local_path_fail(client, error, SSB_ERROR_NONE);
        return;
    }
    case SSB_MSG_ERROR: {
        g_autoptr(GError) error = g_error_new(SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_PEER,
                                              "the server reported %s on the local socket: %s",
                                              ssb_proto_error_name(msg->u.error.code),
                                              msg->u.error.reason);
        ssb_client_local_path_fail(client, error, SSB_ERROR_NONE);
        return;
    }
    default:
        local_fail(client, SSB_ERROR_STATE, "unexpected message on the local socket");
        return;
    }
}

static void
local_message(const struct ssb_msg *msg, int *fds, guint n_fds, gpointer user_data)
{
    SsbClient *client = user_data;
    const struct ssb_msg_info *info = ssb_proto_msg_info(msg->type);

    if (client->state == SSB_STATE_CLOSED)
        return;
    client->local_rx_us = g_get_monotonic_time();
    if (client->local_state == SSB_LOCAL_WAIT_WELCOME) {
        if (msg->type == SSB_MSG_LOCAL_WELCOME)
            handle_welcome(client);
        else if (msg->type == SSB_MSG_ERROR)
            ssb_client_local_decline(client,
                                     msg->u.error.code == SSB_ERROR_AUTH ? SSB_ERROR_AUTH
                                                                         : SSB_ERROR_INTERNAL,
                                     msg->u.error.reason);
        else
            ssb_client_local_decline(client, SSB_ERROR_INTERNAL, "expected LOCAL_WELCOME first");
    } else if (!(info->direction & SSB_DIR_SERVER_TO_CLIENT)) {
        local_fail(client, SSB_ERROR_STATE, "client-to-server message on the local socket");
    } else if (client->local_state == SSB_LOCAL_ACTIVE) {
        dispatch_local(client, msg, fds, n_fds);
    }
}
