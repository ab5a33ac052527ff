/* The local sideband socket (spec 4.4): a SOCK_SEQPACKET unix socket in a
 * private 0700 directory.  A client proves a one-time token it got over
 * the (authenticated) SPICE port; the socket checks SO_PEERCRED and then
 * carries fds (SCM_RIGHTS) for that client.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_LOCAL_SOCKET_H
#define SSB_LOCAL_SOCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <spice.h>

#include "spice-sideband/proto.h"

#define SSB_TOKEN_LIFETIME_US 10000000u
/* Messages queued on one connection before its client counts as stuck. */
#define SSB_LOCAL_MAX_QUEUE 256u
/* An unbound connection must say LOCAL_HELLO within this time. */
#define SSB_HELLO_TIMEOUT_MS 10000u
/* Connections that have not said LOCAL_HELLO yet (spec 4.4). */
#define SSB_MAX_UNBOUND 16u

struct ssb_local_socket;
struct ssb_local_conn;

/* Calls into the owner of an offer (a client); owner is the pointer given
 * to ssb_local_socket_offer(). */
struct ssb_local_socket_ops {
    /* LOCAL_HELLO with the owner's token: @conn is now the owner's until
     * ssb_local_conn_close() or lost(). */
    void (*bound)(void *owner, struct ssb_local_conn *conn);
    /* A well-formed client->server message for the local transport, other
     * than LOCAL_HELLO (@msg borrowed). */
    void (*message)(void *owner, const struct ssb_msg *msg);
    /* The peer broke the protocol; the owner must close its sideband. */
    void (*error)(void *owner, enum ssb_error_code code, const char *reason);
    /* The connection is gone (EOF, error, stuck); it is freed after this
     * returns: drop every pointer to it. */
    void (*lost)(void *owner);
};

/* Creates the private directory @base/spice-sideband-XXXXXX, @base being
 * @runtime_dir (borrowed), else a private $XDG_RUNTIME_DIR, else /tmp, and
 * listens on "socket" in it.  @core and @ops are borrowed and must outlive
 * the socket.  @allowed_uid: the only uid accepted; another than ours is
 * granted access with a POSIX ACL, and failing that there is no socket.
 * Returns NULL on failure (errno set, reason logged). */
struct ssb_local_socket *ssb_local_socket_new(const SpiceCoreInterface *core,
                                              const char *runtime_dir, uid_t allowed_uid,
                                              const struct ssb_local_socket_ops *ops);
/* Closes every connection (without calling ops), removes the socket and
 * its directory.  Accepts NULL. */
void ssb_local_socket_free(struct ssb_local_socket *ls);

/* Absolute socket path (borrowed, lives as long as @ls). */
const char *ssb_local_socket_path(const struct ssb_local_socket *ls);
/* Connections refused so far (bad credentials, token, or first message). */
uint64_t ssb_local_socket_rejected(const struct ssb_local_socket *ls);

/* Makes a fresh one-time token for @owner (replacing any earlier one of
 * @owner), valid for SSB_TOKEN_LIFETIME_US and one LOCAL_HELLO.
 * Never blocks: -EAGAIN while the kernel's entropy pool is not yet
 * initialised (logged once; make no offer).  Returns 0 or -errno. */
int ssb_local_socket_offer(struct ssb_local_socket *ls, void *owner,
                           uint8_t token[SSB_PROTO_TOKEN_SIZE]);
/* Forgets @owner's token, if any. */
void ssb_local_socket_revoke(struct ssb_local_socket *ls, void *owner);

/* Sends @msg with @n_fds fds (borrowed; dup()ed if the message has to
 * wait).  Never blocks.  Returns 0, or -errno when the connection failed
 * (the owner then gets lost() from the loop shortly). */
int ssb_local_conn_send(struct ssb_local_conn *conn, const struct ssb_msg *msg,
                        const int *fds, uint32_t n_fds);
/* g_get_monotonic_time() of the last packet sent and received. */
void ssb_local_conn_activity(const struct ssb_local_conn *conn, int64_t *last_sent_us,
                             int64_t *last_recv_us);

/* Closes the connection now (no ops called).  Accepts NULL. */
void ssb_local_conn_close(struct ssb_local_conn *conn);

/* Checks that a parsed @msg may travel client->server on @transport
 * (enum ssb_transport).  Returns 0, -EPROTO (unknown type) or -EPERM (a
 * STATE error, spec 2.3) with *@reason set. */
int ssb_msg_check_incoming(const struct ssb_msg *msg, uint32_t transport, const char **reason);

#endif /* SSB_LOCAL_SOCKET_H */
