/* The SPICE port that carries the sideband (spec 2), as a char device.
 *
 * Facts this relies on (spice-server 0.15.1, see FACTS.md): the server
 * learns of a client only through state(); a client waits for
 * spice_server_port_event(OPENED); each spice_server_char_device_wakeup()
 * yields one read() of at most 65 568 bytes, so we wake again from a 0 ms
 * timer until the client's queue is empty; the stream keeps no message
 * boundaries, so a read packs as many queued messages as fit.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>

#include <spice/protocol.h>

#include "server-private.h"

struct ssb_port {
    SpiceCharDeviceInstance sin;
    struct ssb_server *server;   /* borrowed: owns the port */
    struct ssb_client *client;   /* the current SPICE port session, or NULL */
    SpiceTimer *kick_timer;
    bool kick_armed;
    /* Port events wait for a 0 ms timer: spice_server_port_event() must not
     * run inside spice-server's own write()/read() callbacks (it asserts in
     * char-device.cpp write_buffer_release when the session then drops). */
    SpiceTimer *event_timer;
    uint8_t pending_events[8];
    unsigned n_pending_events;
    /* OPENED went out for the current session: only then may read() hand
     * out data (spec 2.1: SERVER_HELLO follows the port opening). */
    bool opened_sent;
    bool registered;
};

static struct ssb_port *
port_from_sin(SpiceCharDeviceInstance *sin)
{
    return (struct ssb_port *)((char *)sin - G_STRUCT_OFFSET(struct ssb_port, sin));
}

/* The SPICE connection behind the current session is gone (state() or
 * teardown).  Events still pending were all meant for that connection,
 * even a CLOSED that gone() queues just now: sent later, they could only
 * reach the next connection, where a stale CLOSED would close the new
 * session (or arrive before its OPENED).  A CLOSED for a session whose
 * connection is still up is never cleared here: it is sent and the new
 * session's OPENED follows it.  So drop them all, after gone(). */
static void
port_drop_client(struct ssb_port *port)
{
    struct ssb_client *client = g_steal_pointer(&port->client);

    if (client)
        ssb_server_client_gone(port->server, client);
    if (port->n_pending_events)
        port->server->core->timer_cancel(port->event_timer);
    port->n_pending_events = 0;
    port->opened_sent = false;
}

static void
port_state(SpiceCharDeviceInstance *sin, int connected)
{
    struct ssb_port *port = port_from_sin(sin);

    /* A new SPICE connection replaces the old one. */
    port_drop_client(port);
    if (!connected)
        return;
    port->client = ssb_client_new(port->server, port);
    port->server->clients = g_list_append(port->server->clients, port->client);
}

static int
port_write(SpiceCharDeviceInstance *sin, const uint8_t *buf, int len)
{
    struct ssb_port *port = port_from_sin(sin);

    if (len > 0 && port->client)
        ssb_client_receive(port->client, buf, (size_t)len);
    return len;
}

static int
port_read(SpiceCharDeviceInstance *sin, uint8_t *buf, int len)
{
    struct ssb_port *port = port_from_sin(sin);
    size_t n;

    if (!port->client || !port->opened_sent || len <= 0)
        return 0;
    n = ssb_client_pull(port->client, buf, (size_t)len);
    port->server->stats.bytes_sent += n;
    if (ssb_client_has_output(port->client))
        ssb_port_kick(port);
    return (int)n;
}

/* Spec 2.1: a client may close with SPICE_PORT_EVENT_CLOSED. */
static void
port_client_event(SpiceCharDeviceInstance *sin, uint8_t event)
{
    struct ssb_port *port = port_from_sin(sin);

    if (event == SPICE_PORT_EVENT_CLOSED && port->client)
        ssb_client_close(port->client);
}

static const SpiceCharDeviceInterface port_sif = {
    .base = {
        .type = SPICE_INTERFACE_CHAR_DEVICE,
        .description = "spice-sideband port",
        .major_version = SPICE_INTERFACE_CHAR_DEVICE_MAJOR,
        .minor_version = SPICE_INTERFACE_CHAR_DEVICE_MINOR,
    },
    .state = port_state,
    .write = port_write,
    .read = port_read,
    .event = port_client_event,
};

static void
port_kick_fired(void *opaque)
{
    struct ssb_port *port = opaque;

    port->kick_armed = false;
    spice_server_char_device_wakeup(&port->sin);
}

void
ssb_port_kick(struct ssb_port *port)
{
    /* Re-arming a pending timer would postpone it. */
    if (port->kick_armed)
        return;
    port->kick_armed = true;
    port->server->core->timer_start(port->kick_timer, 0);
}

void
ssb_port_wakeup_now(struct ssb_port *port)
{
    spice_server_char_device_wakeup(&port->sin);
}

static void
port_event_fired(void *opaque)
{
    struct ssb_port *port = opaque;
    unsigned i, n = port->n_pending_events;

    port->n_pending_events = 0;
    for (i = 0; i < n; i++) {
        spice_server_port_event(&port->sin, port->pending_events[i]);
        port->opened_sent = port->pending_events[i] == SPICE_PORT_EVENT_OPENED;
    }
    /* What the session queued before its OPENED (SERVER_HELLO) may go now. */
    if (port->opened_sent && port->client && ssb_client_has_output(port->client))
        ssb_port_kick(port);
}

void
ssb_port_event(struct ssb_port *port, uint8_t event)
{
    /* Only the latest OPENED/CLOSED matters if events pile up. */
    if (port->n_pending_events == G_N_ELEMENTS(port->pending_events))
        port->n_pending_events = 0;
    port->pending_events[port->n_pending_events++] = event;
    if (port->n_pending_events == 1)
        port->server->core->timer_start(port->event_timer, 0);
}

struct ssb_port *
ssb_port_new(struct ssb_server *server)
{
    struct ssb_port *port = g_new0(struct ssb_port, 1);
    int err;

    port->server = server;
    port->sin.base.sif = &port_sif.base;
    port->sin.subtype = "port";
    port->sin.portname = SSB_PORT_NAME;
    port->kick_timer = server->core->timer_add(port_kick_fired, port);
    port->event_timer = server->core->timer_add(port_event_fired, port);
    err = spice_server_add_interface(server->spice, &port->sin.base);
    if (err != 0) {
        g_warning("cannot register the SPICE port %s (%d)", SSB_PORT_NAME, err);
        ssb_port_free(port);
        errno = EIO;
        return NULL;
    }
    port->registered = true;
    return port;
}

void
ssb_port_free(struct ssb_port *port)
{
    if (!port)
        return;
    if (port->client) {
        ssb_client_goodbye(port->client);
        port_drop_client(port);
    }
    if (port->registered)
        spice_server_remove_interface(&port->sin.base);
    port->server->core->timer_remove(port->kick_timer);
    port->server->core->timer_remove(port->event_timer);
    g_free(port);
}
