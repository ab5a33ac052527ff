/* The demo's listening sockets.
 *
 * A SpiceServer listens on one address of its own: one TCP port or one
 * unix socket (spice_server_set_addr() with SPICE_ADDR_FLAG_UNIX_ONLY
 * switches the same address to a path).  The demo therefore accepts
 * connections itself, on any number of TCP and unix endpoints, and hands
 * each to spice_server_add_client(), which is what spice-server's own
 * accept handler does.  That also gives clear errors for a port in use or
 * an unusable path, before spice-server is involved.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef DEMO_LISTENER_H
#define DEMO_LISTENER_H

#include <stdbool.h>

#include <spice.h>

struct demo_endpoint {
    bool is_unix;
    char *host;     /* TCP; brackets removed */
    char *port;     /* TCP; "0" picks a free port */
    char *path;     /* unix */
};

/* Parses "tcp:HOST:PORT" or "unix:PATH" into @ep (free with
 * demo_endpoint_clear()).  Returns false with a message in @error. */
bool demo_endpoint_parse(const char *spec, struct demo_endpoint *ep, char **error);
void demo_endpoint_clear(struct demo_endpoint *ep);

struct demo_listener;

/* Binds and listens on @ep (borrowed).  Returns NULL with a message in
 * @error.  A stale unix socket (nobody listening) is replaced; a live one
 * or a non-socket file is an error. */
struct demo_listener *demo_listener_open(const struct demo_endpoint *ep, char **error);

/* Starts accepting on the default main context; every connection goes to
 * @spice (borrowed; must outlive the listener). */
void demo_listener_start(struct demo_listener *listener, SpiceServer *spice);

/* The URI a viewer connects to: spice://HOST:PORT or spice+unix:///PATH. */
const char *demo_listener_uri(const struct demo_listener *listener);

/* Stops accepting, closes the socket and removes a unix socket file.
 * Accepts NULL. */
void demo_listener_close(struct demo_listener *listener);

#endif /* DEMO_LISTENER_H */
