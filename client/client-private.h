/* Internals of libspice-sideband-client.  Not installed.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_CLIENT_PRIVATE_H
#define SSB_CLIENT_PRIVATE_H

#include <spice-sideband/client.h>
#include <spice-sideband/proto.h>

#include <gst/gst.h>

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
/* Sends one message (borrowed), or queues it (at most 512 packets) until
 * the socket takes it.  Any thread; never blocks.  FALSE with @error if the
 * link is closed; a full queue fails the local path with LIMIT. */
gboolean ssb_local_link_send(SsbLocalLink *link, const struct ssb_msg *msg, GError **error);
/* Counts one more live slot; FALSE (nothing counted) past the protocol's
 * bound (spec 4.5, 6.1).  Any thread. */
gboolean ssb_local_link_slot_hold(SsbLocalLink *link);
/* Uncounts a slot counted by ssb_local_link_slot_hold().  Any thread. */
void ssb_local_link_slot_drop(SsbLocalLink *link);
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
/* Fields of a decoded remote frame that SsbFrame reports. */
typedef struct {
    guint scanout_id;
    enum ssb_codec codec;
    guint64 seq;
    gint64 t_submit_us, t_encoded_us;  /* server clock */
    gint64 t_received_us, t_decoded_us; /* client clock */
    guint32 encoded_size;
    gboolean keyframe;
} SsbVideoFrameInfo;

/* Creates a VIDEO frame on @sample (borrowed; a reference is kept), which
 * must hold one BGRx picture.  NULL if it cannot be mapped.  Transfer full. */
SsbFrame *ssb_frame_new_video(GstSample *sample, const SsbVideoFrameInfo *info);
/* How the frame arrived: "shm", "dmabuf", or the codec name of a VIDEO
 * frame ("h264", ...).  Static string. */
const char *ssb_frame_get_backing_name(const SsbFrame *frame);

/* -------------------------------------------------------------- decoder.c */

/* Codecs (SSB_CODEC_BIT mask) this process can decode; probes the
 * GStreamer registry once (hardware decoders first).  Any thread. */
guint32 ssb_decoder_probe_codecs(void);
/* The decoder element used for @codec (static string), or NULL. */
const char *ssb_decoder_element_for(enum ssb_codec codec);

typedef struct _SsbDecoder SsbDecoder;

/* One decoder output.  @sample is NULL for a picture that was decoded but
 * superseded by a newer one before the main context took it. */
typedef struct {
    GstSample *sample;            /* borrowed */
    guint64 seq;
    gint64 t_decoded_us;          /* g_get_monotonic_time() in the streaming thread */
} SsbDecoded;

typedef struct {
    void (*decoded)(const SsbDecoded *decoded, gpointer user_data);
    /* The pipeline failed (bus ERROR or WARNING); it produces nothing more. */
    void (*failed)(const char *message, gpointer user_data);
} SsbDecoderCallbacks;

/* Builds and starts a decode pipeline for @codec.  Callbacks run on
 * @context (borrowed), never after ssb_decoder_free().  NULL with @error
 * when the codec has no decoder or the pipeline does not start. */
SsbDecoder *ssb_decoder_new(enum ssb_codec codec, GMainContext *context,
                            const SsbDecoderCallbacks *callbacks, gpointer user_data,
                            GError **error);
/* Stops the pipeline (joins its threads); accepts NULL. */
void ssb_decoder_free(SsbDecoder *decoder);
/* Queues one encoded frame; takes ownership of @data (g_free). */
gboolean ssb_decoder_push(SsbDecoder *decoder, guint8 *data, gsize size, guint64 seq);
enum ssb_codec ssb_decoder_get_codec(const SsbDecoder *decoder);
const char *ssb_decoder_get_element_name(const SsbDecoder *decoder);
/* Test hook: sleep @delay_ms after each decoded picture (a slow client). */
void ssb_decoder_set_delay(SsbDecoder *decoder, guint delay_ms);

/* --------------------------------------------------------------- client*.c */

/* A whole encoded frame handed to the decoder, until its outcome is known. */
typedef struct {
    guint64 seq;
    guint64 t_submit_us, t_encoded_us;
    gint64 t_received_us;
    guint32 size;
    gboolean keyframe;
} SsbVideoInFlight;

/* Remote path state of one scanout (client-video.c). */
typedef struct {
    SsbClient *client;            /* borrowed back pointer */
    guint id;
    SsbDecoder *decoder;          /* owned; NULL until a keyframe */
    gboolean assembling;          /* between FIRST_CHUNK and LAST_CHUNK */
    struct ssb_msg_video_frame head; /* fields of the frame being assembled */
    GByteArray *buf;              /* its bytes so far, owned */
    gint64 t_last_chunk_us;
    gboolean have_seq;
    guint64 last_seq;             /* last seq started on this scanout id */
    gboolean have_feedback;
    guint64 last_feedback_seq;    /* last FEEDBACK sent */
    gboolean need_keyframe;
    gboolean had_keyframe;
    gint64 keyframe_requested_us; /* 0: no request outstanding */
    GArray *in_flight;            /* SsbVideoInFlight, owned */
    const char *decoder_name;     /* static, or NULL */
    SsbVideoStats stats;
} SsbVideoScanout;

typedef struct {
    gboolean exists;              /* announced on the port */
    SsbScanoutInfo info;
    SsbSlot *slots[SSB_PROTO_MAX_SLOTS]; /* local socket state, owned */
    SsbFrame *pending;            /* newest frame not taken yet, owned */
    const char *path_name;        /* static */
    SsbVideoScanout video;
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

    /* Remote path (client-video.c) */
    char *codec_pref;             /* "codec" property */
    char *codec_allow;            /* "codecs" property */
    guint decode_delay_ms;        /* "decode-delay-ms" test property */
    guint32 codecs;               /* what CLIENT_HELLO offered */
    guint64 caps;                 /* what CLIENT_HELLO offered */
    guint32 server_codecs;
    gsize video_buffered;         /* reassembly bytes, all scanouts */
    /* Test hook: port messages go here instead of the port. */
    void (*port_sink)(const struct ssb_msg *msg, gpointer data);
    gpointer port_sink_data;
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

/* client-video.c */
/* The codecs to offer (SSB_CODEC_BIT mask) and the preferred one. */
guint32 ssb_client_video_codecs(SsbClient *client, guint32 *preferred);
/* TRUE when both hellos enable video with a codec in common. */
gboolean ssb_client_video_possible(SsbClient *client);
/* "ready" for the remote path: VIDEO if possible, else NONE. */
void ssb_client_emit_ready_remote(SsbClient *client);
void ssb_client_handle_video_frame(SsbClient *client, const struct ssb_msg_video_frame *msg);
/* Before SCANOUT_RESIZE / SCANOUT_DESTROY: FALSE (and the client failed)
 * when a frame of that scanout is half received (spec 5.2). */
gboolean ssb_client_video_scanout_changing(SsbClient *client, guint scanout_id,
                                           gboolean destroy);
/* SCANOUT_CREATE: a fresh scanout waits for its first keyframe. */
void ssb_client_video_scanout_created(SsbClient *client, guint scanout_id);
/* Drops the scanout's decoder and buffers (connection closing). */
void ssb_client_video_clear(SsbClient *client, SsbScanout *scanout);

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
