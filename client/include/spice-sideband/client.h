/* libspice-sideband-client: the headless client side of the sideband channel.
 *
 * Given a SpiceSession, an SsbClient finds the sideband port
 * (org.spice-space.sideband.0), negotiates with the server (docs/spec.md
 * section 4), attempts the local socket, and emits per-scanout frames.
 *
 * Threading: every SsbClient call and every signal happens on the global
 * default main context, where spice-client-glib runs.  SsbFrame references
 * may be dropped from any thread.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SPICE_SIDEBAND_CLIENT_H
#define SPICE_SIDEBAND_CLIENT_H

#include <gio/gio.h>
#include <spice-client.h>

G_BEGIN_DECLS

#if defined(SSB_CLIENT_COMPILATION) && defined(__GNUC__)
#define SSB_CLIENT_EXPORT __attribute__((visibility("default"))) extern
#else
#define SSB_CLIENT_EXPORT extern
#endif

/* ---------------------------------------------------------------- errors */

#define SSB_CLIENT_ERROR (ssb_client_error_quark())
SSB_CLIENT_EXPORT GQuark ssb_client_error_quark(void);

typedef enum {
    SSB_CLIENT_ERROR_FAILED,       /* anything else */
    SSB_CLIENT_ERROR_PROTOCOL,     /* the server sent something malformed or out of state */
    SSB_CLIENT_ERROR_VERSION,      /* incompatible protocol major version */
    SSB_CLIENT_ERROR_PEER,         /* the server reported an error (ERROR message) */
    SSB_CLIENT_ERROR_NO_SIDEBAND,  /* the session has no sideband port */
    SSB_CLIENT_ERROR_CONNECT,      /* the SPICE session could not connect */
    SSB_CLIENT_ERROR_AUTH,         /* the SPICE session refused the password */
    SSB_CLIENT_ERROR_CLOSED,       /* the session or the sideband went away */
    SSB_CLIENT_ERROR_UNSUPPORTED,  /* no frame path in common (server ERROR UNSUPPORTED):
                                    * use the stock display channels */
} SsbClientError;

/* ------------------------------------------------------------------ frames */

typedef enum {
    SSB_FRAME_BACKING_SHM = 1,     /* a read-only shared memory mapping */
    SSB_FRAME_BACKING_DMABUF = 2,  /* DMA-BUF planes */
    SSB_FRAME_BACKING_VIDEO = 3,   /* a decoded video frame (remote path), system memory */
} SsbFrameBacking;

typedef struct {
    guint32 x, y, width, height;
} SsbRect;

#define SSB_FRAME_MAX_PLANES 4

/* DMA-BUF description of a frame.  The fds are borrowed: they stay open as
 * long as the frame reference is held; dup() them to keep them longer. */
typedef struct {
    guint n_planes;
    int fds[SSB_FRAME_MAX_PLANES];
    guint32 offsets[SSB_FRAME_MAX_PLANES];
    guint32 strides[SSB_FRAME_MAX_PLANES];
    guint64 modifier;
} SsbDmabufInfo;

/* A DRM format + modifier pair the application can import. */
typedef struct {
    guint32 fourcc;
    guint64 modifier;
} SsbFormatModifier;

/* One frame of one scanout.  Refcounted; the buffer behind it is lent to
 * the application until the last reference is dropped, at which point the
 * server gets the buffer back (SLOT_RELEASE).  Hold frames briefly: a held
 * frame keeps one of the server's buffers for this scanout. */
typedef struct _SsbFrame SsbFrame;

#define SSB_TYPE_FRAME (ssb_frame_get_type())
SSB_CLIENT_EXPORT GType ssb_frame_get_type(void);

/* Returns @frame with one more reference. */
SSB_CLIENT_EXPORT SsbFrame *ssb_frame_ref(SsbFrame *frame);
/* Drops one reference; accepts NULL.  Any thread. */
SSB_CLIENT_EXPORT void ssb_frame_unref(SsbFrame *frame);

SSB_CLIENT_EXPORT guint ssb_frame_get_scanout_id(const SsbFrame *frame);
SSB_CLIENT_EXPORT guint64 ssb_frame_get_seq(const SsbFrame *frame);
SSB_CLIENT_EXPORT guint ssb_frame_get_width(const SsbFrame *frame);
SSB_CLIENT_EXPORT guint ssb_frame_get_height(const SsbFrame *frame);
/* DRM fourcc (e.g. 'XR24' = B,G,R,x bytes in memory). */
SSB_CLIENT_EXPORT guint32 ssb_frame_get_fourcc(const SsbFrame *frame);
SSB_CLIENT_EXPORT SsbFrameBacking ssb_frame_get_backing(const SsbFrame *frame);

/* SHM and VIDEO frames: a read-only pointer to the first pixel (XRGB8888:
 * B, G, R, x bytes) and the row stride in bytes.  Borrowed: valid while the
 * frame reference is held.  NULL for DMA-BUF frames. */
SSB_CLIENT_EXPORT const guint8 *ssb_frame_get_data(const SsbFrame *frame, guint *stride);

/* DMA-BUF frames: fills @info (fds borrowed, see SsbDmabufInfo) and returns
 * TRUE; FALSE for other backings. */
SSB_CLIENT_EXPORT gboolean ssb_frame_get_dmabuf(const SsbFrame *frame, SsbDmabufInfo *info);

/* Damage since the previous frame of this scanout: @n_rects rects (borrowed,
 * valid while the frame is held).  *n_rects == 0 means the whole surface. */
SSB_CLIENT_EXPORT const SsbRect *ssb_frame_get_damage(const SsbFrame *frame, guint *n_rects);

/* Server CLOCK_MONOTONIC microseconds when the VMM submitted the frame. */
SSB_CLIENT_EXPORT gint64 ssb_frame_get_t_submit_us(const SsbFrame *frame);
/* g_get_monotonic_time() when this process received the frame (VIDEO: its
 * last chunk).  On the local path both clocks are the same, so the
 * difference is the latency. */
SSB_CLIENT_EXPORT gint64 ssb_frame_get_t_received_us(const SsbFrame *frame);
/* g_get_monotonic_time() when the picture was decoded (VIDEO), or
 * t_received for local frames.  Compared with t_submit it is the
 * submit-to-decoded latency only when server and client share a host
 * (same CLOCK_MONOTONIC). */
SSB_CLIENT_EXPORT gint64 ssb_frame_get_t_decoded_us(const SsbFrame *frame);
/* VIDEO frames: server clock microseconds when encoding finished; 0 else. */
SSB_CLIENT_EXPORT gint64 ssb_frame_get_t_encoded_us(const SsbFrame *frame);
/* VIDEO frames: the codec name ("h264", "vp8", "vp9", "av1", "h265");
 * NULL for local frames.  Static string. */
SSB_CLIENT_EXPORT const char *ssb_frame_get_codec(const SsbFrame *frame);
/* VIDEO frames: bytes of the encoded frame; 0 for local frames. */
SSB_CLIENT_EXPORT guint ssb_frame_get_encoded_size(const SsbFrame *frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SsbFrame, ssb_frame_unref)

/* ------------------------------------------------------------------ client */

/* How frames reach this client once the handshake is done. */
typedef enum {
    SSB_CLIENT_PATH_NONE = 0,   /* control only: no frame path in common */
    SSB_CLIENT_PATH_LOCAL = 1,  /* local socket: shared memory / DMA-BUF */
    SSB_CLIENT_PATH_VIDEO = 2,  /* encoded video over the port (remote path) */
} SsbClientPath;

#define SSB_TYPE_CLIENT_PATH (ssb_client_path_get_type())
SSB_CLIENT_EXPORT GType ssb_client_path_get_type(void);

typedef struct {
    guint32 display_channel_id; /* the SPICE display channel it mirrors */
    guint32 width;
    guint32 height;
    guint32 fourcc;
} SsbScanoutInfo;

/* Remote path counters of one scanout (ssb_client_get_video_stats()). */
typedef struct {
    guint64 frames_received;      /* whole encoded frames */
    guint64 bytes_received;       /* their encoded bytes */
    guint64 frames_decoded;       /* pictures out of the decoder */
    guint64 frames_delivered;     /* "frame" emitted */
    guint64 frames_dropped;       /* not shown: skipped, superseded, undecodable */
    guint64 keyframes;            /* keyframes received */
    guint64 keyframe_requests;    /* KEYFRAME_REQUEST sent */
    guint64 decode_errors;        /* decoder failures (each rebuilt the pipeline) */
    guint64 reserved[8];
} SsbVideoStats;

#define SSB_TYPE_CLIENT (ssb_client_get_type())
SSB_CLIENT_EXPORT GType ssb_client_get_type(void);
/* Declared first so that the exported visibility sticks. */
G_DECLARE_FINAL_TYPE(SsbClient, ssb_client, SSB, CLIENT, GObject)

/* Creates a client for @session (borrowed: the client keeps a reference).
 * Create it before spice_session_connect(), so that the server's greeting
 * on the port is not missed.  Properties:
 *   "session"      SpiceSession*  construct-only
 *   "allow-local"  gboolean       default TRUE: use the local socket if offered
 *   "force-remote" gboolean       default FALSE: never ask for the local path
 *   "codec"        gchar*         preferred codec for the remote path ("h264",
 *                                 "vp8", "vp9", "av1", "h265"); default NULL:
 *                                 no preference (the server picks)
 *   "codecs"       gchar*         comma-separated codecs the client may offer;
 *                                 default NULL: every codec with a decoder
 *   "decode-delay-ms" guint       testing only: sleep this long after each
 *                                 decoded picture (simulates a slow client)
 * Codec properties take effect at the handshake (set them before connecting).
 *
 * Local or remote is automatic: the client offers the local path (shared
 * memory) and the remote path (encoded video, spec 5) together; a server on
 * the same host that welcomes it on the local socket gives "ready" LOCAL,
 * anything else (another host, a declined or failed local socket,
 * "force-remote") gives "ready" VIDEO when both sides have a codec in common.
 * Remote frames are decoded with GStreamer (hardware decoders first) as they
 * arrive, with no playout delay; a frame counts as displayed for the
 * server's rate control (FEEDBACK) when "frame" is emitted for it.
 * Signals (all on the default main context):
 *   "ready"           (SsbClientPath path)    handshake done
 *   "scanout-added"   (guint scanout_id)
 *   "scanout-resized" (guint scanout_id)
 *   "scanout-removed" (guint scanout_id)
 *   "frame"           (SsbFrame *frame)       borrowed: ref it to keep it.  The
 *                                             client itself keeps only the newest
 *                                             frame per scanout (latest frame wins,
 *                                             see ssb_client_take_frame())
 *   "error"           (GError *error)         a failure; a failure of the local
 *                                             path alone (spec 7) leaves the port
 *                                             up, any other is followed by "closed"
 *   "closed"          ()                      emitted once, last */
SSB_CLIENT_EXPORT SsbClient *ssb_client_new(SpiceSession *session);

/* Declares the DMA-BUF format/modifier pairs the application can import
 * (copied; default none).  Only takes effect before the handshake. */
SSB_CLIENT_EXPORT void ssb_client_set_dmabuf_formats(SsbClient *client,
                                                     const SsbFormatModifier *formats,
                                                     guint n_formats);

/* Fills @info for a scanout announced by the server; FALSE if unknown. */
SSB_CLIENT_EXPORT gboolean ssb_client_get_scanout(SsbClient *client, guint scanout_id,
                                                  SsbScanoutInfo *info);

/* Ids of the current scanouts, ascending (transfer full: g_array_unref). */
SSB_CLIENT_EXPORT GArray *ssb_client_list_scanouts(SsbClient *client);

/* How the last frame of @scanout_id arrived: "shm", "dmabuf", the codec
 * name of a video frame ("h264", "vp8", ...), or "none" (no frame yet, or
 * the local path ended).  Static string. */
SSB_CLIENT_EXPORT const char *ssb_client_get_path_name(SsbClient *client, guint scanout_id);

/* The GStreamer decoder element decoding @scanout_id ("avdec_h264",
 * "vah264dec", ...), or NULL when it has no video decoder (yet).  Static
 * string. */
SSB_CLIENT_EXPORT const char *ssb_client_get_decoder_name(SsbClient *client, guint scanout_id);

/* Fills @stats with the remote path counters of @scanout_id; FALSE if the
 * scanout is unknown. */
SSB_CLIENT_EXPORT gboolean ssb_client_get_video_stats(SsbClient *client, guint scanout_id,
                                                      SsbVideoStats *stats);

/* Asks the server for a keyframe of @scanout_id (remote path, reason USER).
 * FALSE when video or keyframe requests are not negotiated. */
SSB_CLIENT_EXPORT gboolean ssb_client_request_keyframe(SsbClient *client, guint scanout_id);

/* Codecs this process can decode, as a NULL-terminated array of names in
 * the order of spec 5.1 (transfer full: g_strfreev).  Probes GStreamer once. */
SSB_CLIENT_EXPORT char **ssb_client_list_decodable_codecs(void);

/* The path chosen by the handshake: SSB_CLIENT_PATH_NONE before "ready"
 * and after the local path ended. */
SSB_CLIENT_EXPORT SsbClientPath ssb_client_get_path(SsbClient *client);

/* The newest frame of @scanout_id that the client still holds (at most one
 * per scanout), removed from the client (transfer full), or NULL.  Lets an
 * application that paints at its own pace skip the "frame" signal. */
SSB_CLIENT_EXPORT SsbFrame *ssb_client_take_frame(SsbClient *client, guint scanout_id);

/* Closes the sideband: GOODBYE to the server, then the port channel is
 * disconnected once the server closed its side (at most 1 s later); emits
 * "closed".  The rest of the SPICE session is left alone.  Dropping the last
 * reference to a client that is still open disconnects its port channel
 * without a GOODBYE. */
SSB_CLIENT_EXPORT void ssb_client_close(SsbClient *client);

/* Completes when the handshake is done (TRUE) or the sideband failed
 * (FALSE with an SSB_CLIENT_ERROR error, e.g. NO_SIDEBAND, CONNECT, AUTH). */
SSB_CLIENT_EXPORT void ssb_client_wait_ready_async(SsbClient *client, GCancellable *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer user_data);
SSB_CLIENT_EXPORT gboolean ssb_client_wait_ready_finish(SsbClient *client, GAsyncResult *result,
                                                        GError **error);

G_END_DECLS

#endif /* SPICE_SIDEBAND_CLIENT_H */
