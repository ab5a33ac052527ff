/* Internals of libspice-sideband-client.  Not installed.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_CLIENT_PRIVATE_H
#define SSB_CLIENT_PRIVATE_H

#include <spice-sideband/client.h>
#include <spice-sideband/proto.h>

G_BEGIN_DECLS

#define SSB_LOG_DOMAIN "spice-sideband-client"

/* --------------------------------------------------------- local-socket.c */

typedef struct _SsbLocalLink SsbLocalLink;

/* One message from the local socket.  @fds (@n_fds of them) are owned by
 * the callee: it closes them or keeps them, and sets each it took to -1;
 * the link closes whatever is left >= 0 after the call. */
typedef void (*SsbLocalMessageFunc)(const struct ssb_msg *msg, int *fds, guint n_fds,
                                    gpointer user_data);
/* The link failed; called once.  @code is the spec 7 code to report to
 * the server (SSB_ERROR_NONE when the socket itself broke). */
typedef void (*SsbLocalErrorFunc)(const GError *error, guint32 code, gpointer user_data);

/* Connects to the server's local socket at @path (borrowed) and starts
 * reading on @context (borrowed).  Returns a new link (transfer full) or
 * NULL with @error. */
SsbLocalLink *ssb_local_link_connect(const char *path, GMainContext *context,
                                     SsbLocalMessageFunc on_message, SsbLocalErrorFunc on_error,
                                     gpointer user_data, GError **error);
SsbLocalLink *ssb_local_link_ref(SsbLocalLink *link);
/* Accepts NULL. Any thread. */
void ssb_local_link_unref(SsbLocalLink *link);
/* Sends one message (borrowed).  Any thread; never blocks.  FALSE with
 * @error if the link is closed or the socket refuses it. */
gboolean ssb_local_link_send(SsbLocalLink *link, const struct ssb_msg *msg, GError **error);
/* Stops reading, closes the socket and forgets the callbacks.  Frames still
 * holding the link then release nothing.  Main context only; idempotent. */
void ssb_local_link_shutdown(SsbLocalLink *link);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsbLocalLink, ssb_local_link_unref)

/* ---------------------------------------------------------- port-transport.c */

typedef struct _SsbPortTransport SsbPortTransport;

/* One parsed message from the port. */
typedef void (*SsbPortMessageFunc)(const struct ssb_msg *msg, gpointer user_data);
/* The byte stream broke (bad framing / bad message) or a write failed. */
typedef void (*SsbPortErrorFunc)(const GError *error, guint32 code, gpointer user_data);
/* The port was opened by the server (port-opened became TRUE). */
typedef void (*SsbPortOpenedFunc)(gpointer user_data);

typedef struct {
    SsbPortOpenedFunc opened;
    SsbPortMessageFunc message;
    SsbPortErrorFunc error;
} SsbPortCallbacks;

/* Binds to @port (borrowed; a reference is kept) and starts reading. */
SsbPortTransport *ssb_port_transport_new(SpicePortChannel *port, const SsbPortCallbacks *callbacks,
                                         gpointer user_data);
/* TRUE when the server opened the port (call once after _new: "opened" is
 * only reported for later changes). */
gboolean ssb_port_transport_is_opened(SsbPortTransport *transport);
/* Queues one message (borrowed) for writing; FALSE with @error when the
 * write queue is over its cap or the message does not encode. */
gboolean ssb_port_transport_send(SsbPortTransport *transport, const struct ssb_msg *msg,
                                 GError **error);
/* Stops reading, forgets the callbacks and drops the caller's reference;
 * pending writes finish on their own.  Disconnecting the port channel is
 * how a client closes the connection (spec 2.1; spice-gtk lets a client
 * send no CLOSED port event).  @linger_ms < 0: leave the channel alone (the
 * peer or the session ended it); 0: disconnect once everything queued was
 * sent; > 0: after a GOODBYE/ERROR of ours, disconnect when the server has
 * closed its side (port-opened goes FALSE) or after @linger_ms.
 * Accepts NULL. */
void ssb_port_transport_destroy(SsbPortTransport *transport, int linger_ms);

/* ----------------------------------------------------------- session-watch.c */

typedef struct _SsbSessionWatch SsbSessionWatch;

typedef struct {
    /* The sideband port was found (borrowed). */
    void (*port_found)(SpicePortChannel *port, gpointer user_data);
    /* The session failed or went away; @code is an SsbClientError. */
    void (*failed)(SsbClientError code, const char *message, gpointer user_data);
} SsbSessionCallbacks;

/* Watches @session (borrowed; a reference is kept) for its port channels,
 * connects each and reports the one named SSB_PORT_NAME.  Reports
 * NO_SIDEBAND when none shows up within a few seconds after the main
 * channel opened. */
SsbSessionWatch *ssb_session_watch_new(SpiceSession *session, const SsbSessionCallbacks *callbacks,
                                       gpointer user_data);
/* Accepts NULL. */
void ssb_session_watch_free(SsbSessionWatch *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsbSessionWatch, ssb_session_watch_free)

/* ----------------------------------------------------------------- slot.c */

/* A buffer slot announced on the local socket (spec 4.5).  Refcounted
 * (atomically): the slot table holds one reference until SLOT_RETIRE, each
 * frame on the slot holds one. */
typedef struct _SsbSlot SsbSlot;

/* Builds a slot from @announce (borrowed), taking ownership of @fds
 * (@n_fds; each taken fd is set to -1, also on failure, when they are
 * closed).  SHM: checks the seals, measures with fstat and maps read-only;
 * DMABUF: measures every plane's fd with lseek.  @link (borrowed, a reference is kept) is
 * where releases go.  NULL with an SSB_CLIENT_ERROR_PROTOCOL error when the
 * peer's buffer is not acceptable. */
SsbSlot *ssb_slot_new(const struct ssb_msg_slot_announce *announce, int *fds, guint n_fds,
                      SsbLocalLink *link, GError **error);
SsbSlot *ssb_slot_ref(SsbSlot *slot);
/* Accepts NULL.  Any thread.  The last reference unmaps and closes. */
void ssb_slot_unref(SsbSlot *slot);
/* No release is sent for the slot any more (it was retired). */
void ssb_slot_mark_retired(SsbSlot *slot);
/* Marks the slot as lent to a frame; FALSE if it already is (the server
 * reused a slot the client had not released). */
gboolean ssb_slot_lend(SsbSlot *slot);
/* Gives the slot back to the server for the frame @seq (SLOT_RELEASE),
 * unless it was retired.  Any thread. */
void ssb_slot_give_back(SsbSlot *slot, guint64 seq);

const struct ssb_msg_slot_announce *ssb_slot_get_layout(const SsbSlot *slot);
/* SHM: the mapping (borrowed). */
const guint8 *ssb_slot_get_map(const SsbSlot *slot);
/* Borrowed fds of the slot. */
const int *ssb_slot_get_fds(const SsbSlot *slot, guint *n_fds);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsbSlot, ssb_slot_unref)

/* ----------------------------------------------------------------- frame.c */

/* Creates a frame on @slot (borrowed; a reference is kept) from @msg
 * (borrowed).  The slot must have been lent (ssb_slot_lend()); the frame's
 * last unref gives it back.  Transfer full. */
SsbFrame *ssb_frame_new_local(SsbSlot *slot, const struct ssb_msg_frame *msg,
                              gint64 t_received_us);
/* "shm" / "dmabuf" / "video". */
const char *ssb_frame_get_backing_name(const SsbFrame *frame);

/* --------------------------------------------------------------- client*.c */

typedef struct {
    gboolean exists;              /* announced on the port */
    SsbScanoutInfo info;
    SsbSlot *slots[SSB_PROTO_MAX_SLOTS]; /* local socket state, owned */
    SsbFrame *pending;            /* newest frame not taken yet, owned */
    const char *path_name;        /* static */
} SsbScanout;

typedef enum {
    SSB_STATE_WAIT_PORT,          /* looking for the port / waiting for it to open */
    SSB_STATE_WAIT_HELLO,         /* port open, waiting for SERVER_HELLO */
    SSB_STATE_ACTIVE,             /* CLIENT_HELLO sent */
    SSB_STATE_CLOSED,
} SsbClientState;

typedef enum {
    SSB_LOCAL_IDLE,               /* nothing offered yet */
    SSB_LOCAL_WAIT_WELCOME,       /* connected, LOCAL_HELLO sent */
    SSB_LOCAL_ACTIVE,
    SSB_LOCAL_DECLINED,
    SSB_LOCAL_FAILED,             /* the local path ended; the port goes on */
} SsbLocalState;

struct _SsbClient {
    GObject parent;

    SpiceSession *session;        /* owned reference */
    gboolean allow_local;
    gboolean force_remote;
    GArray *dmabuf_formats;       /* SsbFormatModifier */
    GMainContext *context;        /* the default context, owned reference */

    SsbSessionWatch *watch;
    SsbPortTransport *port;
    SsbLocalLink *link;
    guint welcome_timeout_id;
    guint offer_timeout_id;
    guint keepalive_id;
    gint64 port_rx_us, local_rx_us;   /* last message received */
    guint64 port_peer_t_us, local_peer_t_us; /* last KEEPALIVE t_us seen */

    SsbClientState state;
    SsbLocalState local_state;
    SsbClientPath path;
    gboolean ready_emitted;
    guint64 server_caps;
    gboolean want_local;

    SsbScanout scanouts[SSB_PROTO_MAX_SCANOUTS];
    GList *ready_tasks;           /* GTask*, owned */
};

/* client.c */
void ssb_client_emit_ready(SsbClient *client, SsbClientPath path);
/* Reports @error (borrowed) once, tells the peer (ERROR with @code unless
 * @code is SSB_ERROR_NONE) and closes everything. */
void ssb_client_fail(SsbClient *client, const GError *error, guint32 code);
void ssb_client_fail_literal(SsbClient *client, SsbClientError domain_code, guint32 code,
                             const char *message);
/* The peer or the session ended the sideband in an orderly way: no
 * "error", just "closed".  Unless @session_gone, the port channel is
 * disconnected once the server closed its side. */
void ssb_client_closed_by_peer(SsbClient *client, const char *message, gboolean session_gone);
/* Sends @msg (borrowed) on the port; a failure closes the client. */
void ssb_client_send_port(SsbClient *client, const struct ssb_msg *msg);
void ssb_client_scanout_clear_local(SsbClient *client, SsbScanout *scanout);
/* Makes @frame (transfer full) the scanout's pending frame, releasing the
 * one it replaces (latest frame wins), and emits "frame".  The scanout
 * must be in the scanout table. */
void ssb_client_deliver_frame(SsbClient *client, guint scanout_id, SsbFrame *frame);

enum { SSB_SCANOUT_ADDED, SSB_SCANOUT_RESIZED, SSB_SCANOUT_REMOVED };
void ssb_client_emit_scanout(SsbClient *client, guint which, guint scanout_id);

/* Emits "error" (@error borrowed) without closing anything. */
void ssb_client_emit_error(SsbClient *client, const GError *error);

/* keepalive.c */
void ssb_client_keepalive_start(SsbClient *client);
void ssb_client_keepalive_stop(SsbClient *client);

/* client-port.c */
void ssb_client_port_found(SpicePortChannel *port, gpointer user_data);
void ssb_client_handle_port_message(const struct ssb_msg *msg, gpointer user_data);

/* client-local.c */
void ssb_client_handle_offer(SsbClient *client, const struct ssb_msg_local_offer *offer);
void ssb_client_local_stop(SsbClient *client);
/* Declines the local offer (LOCAL_DECLINE on the port) and goes on. */
void ssb_client_local_decline(SsbClient *client, guint32 code, const char *reason);
/* Ends the local path after a failure on it (spec 7: only that transport
 * closes): ERROR with @code unless NONE, slots retired, "error" emitted
 * unless @error is SSB_CLIENT_ERROR_CLOSED (GOODBYE, socket closed). */
void ssb_client_local_path_fail(SsbClient *client, const GError *error, guint32 code);

G_END_DECLS

#endif /* SSB_CLIENT_PRIVATE_H */
