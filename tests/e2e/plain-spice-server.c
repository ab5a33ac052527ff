/* A SPICE server without the sideband port, for spice-sideband-dump's
 * "no sideband" test.  Usage: plain-spice-server unix:PATH | tcp:PORT
 * [password].  Prints "ready" once listening; exits when stdin closes.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib-unix.h>

#include "glib-spice-core.h"

static gboolean
stdin_closed(gint fd, GIOCondition condition, gpointer user_data)
{
    char buf[256];

    if (read(fd, buf, sizeof(buf)) > 0)
        return G_SOURCE_CONTINUE;
    g_main_loop_quit(user_data);
    return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    SpiceServer *server;

    if (argc < 2) {
        fprintf(stderr, "usage: plain-spice-server unix:PATH|tcp:PORT [password]\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN); /* as QEMU does */
    server = spice_server_new();
    if (g_str_has_prefix(argv[1], "unix:")) {
        spice_server_set_addr(server, argv[1] + 5, SPICE_ADDR_FLAG_UNIX_ONLY);
    } else {
        spice_server_set_addr(server, "127.0.0.1", 0);
        spice_server_set_port(server, atoi(argv[1] + 4));
    }
    if (argc > 2)
        spice_server_set_ticket(server, argv[2], 3600, 0, 0);
    else
        spice_server_set_noauth(server);
    if (spice_server_init(server, ssb_glib_core_get(NULL)) != 0) {
        fprintf(stderr, "plain-spice-server: spice_server_init failed\n");
        return 1;
    }
    g_unix_fd_add(0, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_closed, loop);
    printf("ready\n");
    fflush(stdout);
    g_main_loop_run(loop);
    spice_server_destroy(server);
    return 0;
}
