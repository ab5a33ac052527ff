/* The SPICE port (server/port.c) against a stand-in for spice-server: the
 * calls port.c makes into spice-server are replaced here, and the char
 * device callbacks are driven by hand, as spice-server would.
 *
 *  - read() hands out nothing before the deferred OPENED went out (spec
 *    2.1: SERVER_HELLO follows the opening);
 *  - events still pending for a SPICE connection that is gone never reach
 *    the next one.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib.h>
#include <spice/protocol.h>

#include "glib-spice-core.h"
#include "server-private.h"

static SpiceCharDeviceInstance *port_sin;
static GString *log_; /* 'O' OPENED, 'C' CLOSED, 'D' data read */
static guint wakeups;

/* ---- spice-server, as far as port.c uses it ---- */

int
spice_server_add_interface(SpiceServer *s, SpiceBaseInstance *sin)
{
    if (strcmp(sin->sif->type, SPICE_INTERFACE_CHAR_DEVICE) == 0)
        port_sin = SPICE_CONTAINEROF(sin, SpiceCharDeviceInstance, base);
    return 0;
}

int
spice_server_remove_interface(SpiceBaseInstance *sin)
{
    port_sin = NULL;
    return 0;
}

void
spice_server_port_event(SpiceCharDeviceInstance *sin, uint8_t event)
{
    g_string_append_c(log_, event == SPICE_PORT_EVENT_OPENED   ? 'O'
                            : event == SPICE_PORT_EVENT_CLOSED ? 'C'
                                                               : '?');
}

static const SpiceCharDeviceInterface *
port_sif(void)
{
    return SPICE_CONTAINEROF(port_sin->base.sif, SpiceCharDeviceInterface, base);
}

static int
port_read(void)
{
    uint8_t buf[65568];

    return port_sif()->read(port_sin, buf, sizeof(buf));
}

void
spice_server_char_device_wakeup(SpiceCharDeviceInstance *sin)
{
    wakeups++;
    while (port_read() > 0)
        g_string_append_c(log_, 'D');
}

/* ---- tests ---- */

static void
run_loop(void)
{
    gint64 end = g_get_monotonic_time() + 50 * 1000;

    while (g_get_monotonic_time() < end) {
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    }
}

static struct ssb_server *
server_new(void)
{
    struct ssb_server_options opts;
    struct ssb_server *server;

    ssb_server_options_init(&opts);
    opts.local_socket = false;
    server = ssb_server_create((SpiceServer *)&opts, ssb_glib_core_get(NULL), &opts);
    g_assert_nonnull(server);
    g_assert_nonnull(port_sin);
    g_string_truncate(log_, 0);
    return server;
}

static void
test_no_data_before_opened(void)
{
    struct ssb_server *server = server_new();

    port_sif()->state(port_sin, 1);
    /* spice-server may read at any time, e.g. when the client's tokens
     * come: SERVER_HELLO is queued, but OPENED has not gone out. */
    g_assert_cmpint(port_read(), ==, 0);
    run_loop();
    g_assert_true(g_str_has_prefix(log_->str, "OD"));
    ssb_server_destroy(server);
}

static void
test_stale_events_dropped(void)
{
    struct ssb_server *server = server_new();

    port_sif()->state(port_sin, 1);
    run_loop();
    g_assert_true(g_str_has_prefix(log_->str, "OD"));
    g_string_truncate(log_, 0);
    /* Session A ends (client's port event CLOSED: a CLOSED is queued for
     * A's connection) and, before the 0 ms timer, that connection goes
     * and B's comes. */
    port_sif()->event(port_sin, SPICE_PORT_EVENT_CLOSED);
    port_sif()->state(port_sin, 0);
    port_sif()->state(port_sin, 1);
    g_assert_cmpint(port_read(), ==, 0);
    run_loop();
    /* B sees its OPENED and then its data; A's CLOSED would close B. */
    g_assert_cmpstr(log_->str, !=, "");
    g_assert_null(strchr(log_->str, 'C'));
    g_assert_true(g_str_has_prefix(log_->str, "OD"));

    /* A CLOSED for a connection still up is sent. */
    g_string_truncate(log_, 0);
    port_sif()->event(port_sin, SPICE_PORT_EVENT_CLOSED);
    run_loop();
    g_assert_cmpstr(log_->str, ==, "C");
    ssb_server_destroy(server);
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    log_ = g_string_new(NULL);
    ssb_glib_core_get(NULL);
    g_test_add_func("/server/port/no-data-before-opened", test_no_data_before_opened);
    g_test_add_func("/server/port/stale-events-dropped", test_stale_events_dropped);
    ret = g_test_run();
    g_string_free(log_, TRUE);
    return ret;
}
