/* Keepalive and dead-peer detection (spec 4.7): in READY, each transport
 * carries a KEEPALIVE at least every 5 s, and a transport silent for 30 s
 * is closed without a word, in every state (from the moment the port is
 * found, the handshake included).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"

#define KEEPALIVE_INTERVAL_S 5
#define DEAD_PEER_US (30 * G_USEC_PER_SEC)

static void
send_keepalives(SsbClient *client)
{
    struct ssb_msg msg = { .type = SSB_MSG_KEEPALIVE };

    msg.u.keepalive.t_us = (guint64)g_get_monotonic_time();
    if (client->state == SSB_STATE_ACTIVE) {
        msg.u.keepalive.echo_t_us = client->port_peer_t_us;
        ssb_client_send_port(client, &msg);
    }
    if (client->link != NULL && client->local_state == SSB_LOCAL_ACTIVE) {
        msg.u.keepalive.echo_t_us = client->local_peer_t_us;
        /* A failure shows up as an error on the socket's own watch. */
        ssb_local_link_send(client->link, &msg, NULL);
    }
}

static gboolean
keepalive_tick(gpointer user_data)
{
    SsbClient *client = user_data;
    gint64 now = g_get_monotonic_time();

    if (client->state == SSB_STATE_CLOSED)
        return G_SOURCE_CONTINUE;
    if (now - client->port_rx_us > DEAD_PEER_US) {
        ssb_client_fail_literal(client, SSB_CLIENT_ERROR_CLOSED, SSB_ERROR_NONE,
                                client->state == SSB_STATE_ACTIVE
                                    ? "nothing from the server for 30 s"
                                    : "the sideband port did not open within 30 s");
        return G_SOURCE_CONTINUE;
    }
    if (client->link != NULL && now - client->local_rx_us > DEAD_PEER_US) {
        g_autoptr(GError) error = g_error_new_literal(
            SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_CLOSED, "local socket silent for 30 s");
        ssb_client_local_path_fail(client, error, SSB_ERROR_NONE);
        return G_SOURCE_CONTINUE;
    }
    send_keepalives(client);
    return G_SOURCE_CONTINUE;
}

void
ssb_client_keepalive_start(SsbClient *client)
{
    client->port_rx_us = client->local_rx_us = g_get_monotonic_time();
    if (client->keepalive_id == 0)
        client->keepalive_id = g_timeout_add_seconds(KEEPALIVE_INTERVAL_S, keepalive_tick,
                                                     client);
}

void
ssb_client_keepalive_stop(SsbClient *client)
{
    g_clear_handle_id(&client->keepalive_id, g_source_remove);
}
