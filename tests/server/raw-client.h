/* The harness that test-server-e2e and test-server-video share: the
 * ssb-test-vmm subprocess and a raw client speaking the sideband through
 * spice-client-glib's SpicePortChannel.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gio/gio.h>
#include <spice-client.h>
#include <spice-sideband/proto.h>

/* ---- the VMM subprocess ---- */

struct ssb_test_vmm {
    GSubprocess *proc;
    GDataInputStream *out;
    GOutputStream *in;
    char *dir;
    char *spice_path;
    int tcp_port;          /* 0: unix socket */
};

char *ssb_test_vmm_line(struct ssb_test_vmm *vmm);
/* Sends one command and returns its (first) reply line. */
char *ssb_test_vmm_cmd(struct ssb_test_vmm *vmm, const char *cmd);
/* Runs $SSB_TEST_VMM --listen=... @args @extra (both NULL-terminated, may
 * be NULL) with its own XDG_RUNTIME_DIR made from @dir_template, and waits
 * for READY. */
void ssb_test_vmm_start(struct ssb_test_vmm *vmm, const char *dir_template,
                        const char *const *args, const char *const *extra);
/* Quits the VMM and checks it exited 0.  @check_dir: check the server
 * removed its socket directory, and empty the runtime directory. */
void ssb_test_vmm_stop(struct ssb_test_vmm *vmm, bool check_dir);

/* ---- the raw client ---- */

struct ssb_test_client;

/* Parses one message off the port: returns a g_free()able item that starts
 * with its struct ssb_msg, to be queued. */
typedef void *(*ssb_test_parse_fn)(struct ssb_test_client *c, const uint8_t *raw, size_t len);

struct ssb_test_client {
    SpiceSession *session;
    SpicePortChannel *port;
    bool opened;
    struct ssb_proto_reader *reader;
    GQueue port_msgs;      /* items from parse, struct ssb_msg first */
    int keepalives;        /* KEEPALIVEs port_next skipped */
    ssb_test_parse_fn parse;
};

/* Iterates the main context until @cond holds; fails after @seconds. */
void ssb_test_wait_until(bool (*cond)(void *), void *data, int seconds);
bool ssb_test_client_is_open(void *c);
bool ssb_test_client_has_msg(void *c);
/* Resets @c, connects to @vmm and waits for the sideband port to open. */
void ssb_test_client_connect(struct ssb_test_client *c, struct ssb_test_vmm *vmm,
                             ssb_test_parse_fn parse);
/* Then iterates the main context for @linger_us so the session goes. */
void ssb_test_client_disconnect(struct ssb_test_client *c, gint64 linger_us);
/* The next queued item other than KEEPALIVE, which must be of @type. */
void *ssb_test_port_next(struct ssb_test_client *c, enum ssb_msg_type type);
/* Completion of spice_port_channel_write_async(): frees @buf. */
void ssb_test_write_done(GObject *source, GAsyncResult *res, gpointer buf);
void ssb_test_port_send(struct ssb_test_client *c, const struct ssb_msg *msg);
