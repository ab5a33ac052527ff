/* Internals of libspice-sideband-server shared between its files.
 *
 * Object map (who owns whom):
 *
 *   ssb_server ── owns ─┬─ ssb_port            the SPICE port (char device)
 *                       ├─ ssb_local_socket    listening socket + accepted conns
 *                       ├─ ssb_scanout[64]     geometry, seq, damage log
 *                       ├─ ssb_client (list)   one per SPICE port session
 *                       │    ├─ ssb_proto_reader, outgoing byte queue
 *                       │    ├─ ssb_local_conn  (borrowed from the local socket
 *                       │    │                   once bound by its token)
 *                       │    └─ ssb_frame_sink[64]  one per scanout (local sink
 *                       │                           now; a video sink later)
 *                       └─ done queue: frames whose done() is due
 *
 * Everything runs on the embedder's loop (SpiceCoreInterface timers and
 * watches); nothing here takes locks.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_SERVER_PRIVATE_H
#define SSB_SERVER_PRIVATE_H

#include <glib.h>

#include "spice-sideband/server.h"
#include "damage.h"
#include "host-id.h"
#include "local-socket.h"
#include "log.h"
#include "rate-control.h"

/* Timings (spec 6.1). */
#define SSB_OFFER_TIMEOUT_MS 10000u
#define SSB_KEEPALIVE_US (5 * G_USEC_PER_SEC)  /* our silence before a KEEPALIVE */
#define SSB_DEAD_PEER_US (30 * G_USEC_PER_SEC) /* peer silence before closing */
#define SSB_TICK_MS 1000u

/* Largest VIDEO_FRAME payload: 65 528 body bytes less 56 fixed (6.1). */
#define SSB_VIDEO_MAX_CHUNK (SSB_PROTO_MAX_BODY_SIZE - 56u)

/* Remote video defaults (struct ssb_server_options: 0 = these). */
#define SSB_DEFAULT_MIN_KBPS 300u
#define SSB_DEFAULT_MAX_KBPS 12000u
#define SSB_DEFAULT_MAX_FPS 60u

/* Outgoing port bytes per client before the client counts as stuck.  Well
 * above what control traffic needs; video will drop frames before this. */
#define SSB_CLIENT_MAX_QUEUE (4u * 1024u * 1024u)

struct ssb_port;
struct ssb_client;
struct ssb_frame_sink;
struct ssb_frame_reader;
struct ssb_virgl_scanout;

/* One submitted frame.  Producer/consumer discipline like wlr_buffer: the
 * submit path holds one lock; every sink that keeps the VMM's buffer past
 * submit (zero copy) takes another.  When the last lock goes, done() is
 * queued for the loop (or, for PIXELS still inside submit, called there). */
struct ssb_frame {
    struct ssb_server *server;
    unsigned int locks;
    bool in_submit;
    uint32_t scanout_id;
    uint64_t seq;
    uint64_t t_submit_us;
    /* Valid only during submit (borrowed from the caller). */
    const struct ssb_server_buffer *buffer;
    const struct ssb_rect *damage; /* NULL/0 = whole surface */
    uint32_t n_damage;
    /* Valid only during submit: pixels the server reads back on demand
     * (a virgl resource); NULL for the VMM's own buffers. */
    const struct ssb_frame_reader *reader;
    ssb_server_done_fn done;
    void *user_data;
};

struct ssb_frame *ssb_frame_new(struct ssb_server *server, ssb_server_done_fn done,
                                void *user_data);
void ssb_frame_lock(struct ssb_frame *frame);
/* Drops a lock; the last one hands the buffer back (see struct comment). */
void ssb_frame_unlock(struct ssb_frame *frame);
/* Runs every queued done() now (teardown). */
void ssb_server_flush_done(struct ssb_server *server);

/* A per-client, per-scanout consumer of frames.  The local sink (memfd
 * slots, forwarded buffers) is the only kind today; a video sink that feeds
 * a shared encoder plugs in through the same three calls. */
struct ssb_frame_sink_impl {
    /* @frame is borrowed; lock it to keep the VMM's buffer. */
    void (*submit)(struct ssb_frame_sink *sink, struct ssb_frame *frame);
    /* The scanout changed size/format: drop everything sized for the old one. */
    void (*reconfigure)(struct ssb_frame_sink *sink);
    /* The scanout goes away: tell the client everything for it is gone
     * (destroy follows). */
    void (*retire)(struct ssb_frame_sink *sink);
    void (*destroy)(struct ssb_frame_sink *sink);
};

struct ssb_frame_sink {
    const struct ssb_frame_sink_impl *impl;
    struct ssb_client *client;   /* borrowed: owns the sink */
    struct ssb_scanout *scanout; /* borrowed: outlives the sink */
};

/* scanout.c */
struct ssb_scanout {
    uint32_t id;
    uint32_t display_channel_id;
    uint32_t width, height, fourcc;
    uint64_t seq;                /* of the last submit; 0 = none yet */
    uint64_t generation;         /* bumped on every resize */
    struct ssb_damage_log damage;
};

struct ssb_scanout *ssb_scanout_new(uint32_t id, uint32_t display_channel_id, uint32_t width,
                                    uint32_t height, uint32_t fourcc);
void ssb_scanout_free(struct ssb_scanout *scanout);
void ssb_scanout_to_msg(const struct ssb_scanout *scanout, enum ssb_msg_type type,
                        struct ssb_msg *msg);
int ssb_scanout_check_geometry(uint32_t width, uint32_t height, uint32_t fourcc);
int ssb_scanout_check_buffer(const struct ssb_scanout *scanout,
                             const struct ssb_server_buffer *buffer);

/* Pixels the server cannot map but can have copied out, rectangle by
 * rectangle (a virgl resource, read back with transfer_read_iov). */
struct ssb_frame_reader {
    /* Copies @rect of the current picture into @dst, which points at the
     * surface origin with @dst_stride bytes per row (borrowed).  Returns 0
     * or -errno. */
    int (*read)(void *opaque, const struct ssb_rect *rect, uint8_t *dst, uint32_t dst_stride);
    void *opaque;
};

/* The frame's pixels as CPU-readable rows, or through its reader
 * (local-sink.c). */
struct ssb_source {
    const uint8_t *data;
    uint32_t stride;
    const struct ssb_frame_reader *reader; /* borrowed; data is NULL then */
    void *map;
    size_t map_size;
    int sync_fd;  /* dma-buf to end CPU access on, or -1 */
};

/* Opens @frame's pixels (borrowed, during submit) for reading: its reader
 * if it has one, else its buffer, mapped (PIXELS need no mapping).  Returns
 * 0 or -errno (-ENOTSUP for tiled or multi-plane DMA-BUFs). */
int ssb_source_open(const struct ssb_frame *frame, struct ssb_source *src);
void ssb_source_close(struct ssb_source *src);
/* Copies @rect of @src into @dst (surface origin, @dst_stride per row).
 * Returns the bytes copied, 0 when a reader failed. */
uint64_t ssb_source_copy_rect(const struct ssb_source *src, uint8_t *dst, uint32_t dst_stride,
                              uint32_t bpp, const struct ssb_rect *rect);

/* local-sink.c */
struct ssb_frame_sink *ssb_local_sink_new(struct ssb_client *client,
                                          struct ssb_scanout *scanout);
/* Handles SLOT_RELEASE for this sink.  Returns 0 or -EPROTO (not held). */
int ssb_local_sink_release(struct ssb_frame_sink *sink, uint32_t slot_id, uint64_t seq);

/* video-stream.c: one encoder per (scanout, codec), shared by the video
 * sinks of every remote client of that scanout. */
struct ssb_video_stream;

/* The stream of @scanout for @codec, created on first use (kept until the
 * scanout goes; its encoder runs only while sinks are attached). */
struct ssb_video_stream *ssb_video_stream_get(struct ssb_server *server,
                                              struct ssb_scanout *scanout, enum ssb_codec codec);
void ssb_video_stream_free(struct ssb_video_stream *stream);
void ssb_video_stream_attach(struct ssb_video_stream *stream, struct ssb_frame_sink *sink);
void ssb_video_stream_detach(struct ssb_video_stream *stream, struct ssb_frame_sink *sink);
/* A new picture (called by the server once per submit, before the sinks). */
void ssb_video_stream_submit(struct ssb_video_stream *stream, struct ssb_frame *frame);
/* The scanout was resized: the pipeline is rebuilt, keyframe next. */
void ssb_video_stream_reconfigure(struct ssb_video_stream *stream);
void ssb_video_stream_request_keyframe(struct ssb_video_stream *stream);
/* Something that held encoding back may have changed (a sink drained, a
 * rate changed): encode the waiting picture if allowed now. */
void ssb_video_stream_pump(struct ssb_video_stream *stream);
void ssb_video_stream_frame_sent(struct ssb_video_stream *stream, uint64_t t_submit_us);
void ssb_video_stream_info(const struct ssb_video_stream *stream,
                           struct ssb_server_video_info *info);
uint32_t ssb_video_stream_kbps(const struct ssb_video_stream *stream);
uint32_t ssb_video_stream_fps(const struct ssb_video_stream *stream);

/* video-sink.c: one remote client's side of one stream. */
struct ssb_frame_sink *ssb_video_sink_new(struct ssb_client *client, struct ssb_scanout *scanout,
                                          enum ssb_codec codec);
bool ssb_video_sink_is_video(const struct ssb_frame_sink *sink);
/* No frame of this sink waits in the client's queue. */
bool ssb_video_sink_ready(const struct ssb_frame_sink *sink);
/* An encoded frame for this client (@data borrowed; ref to keep). */
void ssb_video_sink_deliver(struct ssb_frame_sink *sink, const struct ssb_msg_video_frame *hdr,
                            GBytes *data);
void ssb_video_sink_feedback(struct ssb_frame_sink *sink, const struct ssb_msg_feedback *fb);
void ssb_video_sink_keyframe_request(struct ssb_frame_sink *sink);
/* The last chunk of a frame of this sink left the queue (or was dropped). */
void ssb_video_sink_frame_done(struct ssb_frame_sink *sink, const struct ssb_msg_video_frame *hdr,
                               bool sent);
uint32_t ssb_video_sink_kbps(const struct ssb_frame_sink *sink);
uint32_t ssb_video_sink_fps(const struct ssb_frame_sink *sink);

/* port.c */
struct ssb_port *ssb_port_new(struct ssb_server *server);
void ssb_port_free(struct ssb_port *port);
/* Asks spice-server to read again (it reads once per wakeup). */
void ssb_port_kick(struct ssb_port *port);
void ssb_port_event(struct ssb_port *port, uint8_t event);
/* Lets spice-server read right now (inside this call). */
void ssb_port_wakeup_now(struct ssb_port *port);

/* client.c */
struct ssb_client *ssb_client_new(struct ssb_server *server, struct ssb_port *port);
/* Gives every buffer back, closes the local connection.  Accepts NULL. */
void ssb_client_free(struct ssb_client *client);
/* Bytes from the peer on the port (borrowed). */
void ssb_client_receive(struct ssb_client *client, const uint8_t *data, size_t len);
/* Fills @buf with up to @len queued bytes; returns how many. */
size_t ssb_client_pull(struct ssb_client *client, uint8_t *buf, size_t len);
bool ssb_client_has_output(const struct ssb_client *client);
/* Encodes and queues @msg on the port.  Returns 0 or -errno; on failure the
 * client is already being closed. */
int ssb_client_send(struct ssb_client *client, const struct ssb_msg *msg);
/* Sends ERROR(@code, reason), logs once, and closes this client's sideband. */
void ssb_client_fail(struct ssb_client *client, enum ssb_error_code code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* GOODBYE and close (server teardown). */
void ssb_client_goodbye(struct ssb_client *client);
/* Closes without a message (the client sent port event CLOSED). */
void ssb_client_close(struct ssb_client *client);
bool ssb_client_is_active(const struct ssb_client *client);
struct ssb_server *ssb_client_server(const struct ssb_client *client);
struct ssb_local_conn *ssb_client_local(const struct ssb_client *client);
const struct ssb_msg_client_hello *ssb_client_hello(const struct ssb_client *client);
void ssb_client_scanout_enabled(struct ssb_client *client, struct ssb_scanout *scanout);
void ssb_client_scanout_resized(struct ssb_client *client, struct ssb_scanout *scanout);
void ssb_client_scanout_disabled(struct ssb_client *client, struct ssb_scanout *scanout);
void ssb_client_submit(struct ssb_client *client, struct ssb_frame *frame);
/* Video chunks queue behind control messages (spec 5.2): @data (borrowed,
 * ref taken) is chunked lazily as the port reads. */
void ssb_client_queue_video(struct ssb_client *client, struct ssb_frame_sink *sink,
                            const struct ssb_msg_video_frame *hdr, GBytes *data);
/* Drops @sink's queued frames (only those not started when @unstarted_only).
 * Returns how many. */
uint32_t ssb_client_drop_video(struct ssb_client *client, struct ssb_frame_sink *sink,
                               bool unstarted_only);
/* Frames of @sink in the queue, and whether the head one is started. */
uint32_t ssb_client_queued_video(const struct ssb_client *client,
                                 const struct ssb_frame_sink *sink);
/* The codec chosen for this connection (spec 5.1), or SSB_CODEC_NONE. */
enum ssb_codec ssb_client_codec(const struct ssb_client *client);
bool ssb_client_has_cap(const struct ssb_client *client, uint64_t cap);
/* The local socket bound / lost this client's connection. */
void ssb_client_local_bound(struct ssb_client *client, struct ssb_local_conn *conn);
void ssb_client_local_lost(struct ssb_client *client);
/* A message arrived on this client's local connection (already parsed). */
void ssb_client_local_message(struct ssb_client *client, const struct ssb_msg *msg);
/* The local connection's peer broke the protocol: ERROR there, and the
 * local path ends (the port goes on, spec 7). */
void ssb_client_local_error(struct ssb_client *client, enum ssb_error_code code,
                            const char *reason);

/* server.c */
struct ssb_server {
    SpiceServer *spice;              /* borrowed */
    const SpiceCoreInterface *core;  /* borrowed */
    struct ssb_server_options opts;  /* string members point at copies below */
    char *runtime_dir;
    char *encoder;
    struct ssb_port *port;
    struct ssb_local_socket *local;  /* NULL when disabled or unavailable */
    struct ssb_scanout *scanouts[SSB_PROTO_MAX_SCANOUTS];
    struct ssb_video_stream *streams[SSB_PROTO_MAX_SCANOUTS][SSB_CODEC_COUNT];
    /* virgl.c: scanouts attached to virgl resources, owned. */
    struct ssb_virgl_scanout *virgl[SSB_PROTO_MAX_SCANOUTS];
    uint32_t codecs;                 /* what SERVER_HELLO advertises */
    uint64_t last_seq[SSB_PROTO_MAX_SCANOUTS]; /* of disabled scanouts */
    GList *clients;                  /* struct ssb_client *, owned */
    GQueue done_queue;               /* struct ssb_frame *, owned */
    SpiceTimer *done_timer;
    struct ssb_server_stats stats;
    int port_family;                 /* AF_* of the SPICE port connection */
    /* Set by ssb_server_destroy(): a done() callback that calls back into
     * the API during teardown gets -ESHUTDOWN, never freed scanouts. */
    bool destroying;
};

uint64_t ssb_now_us(void);
/* Submits a frame read through @reader (borrowed, used only during the
 * call) and, when @buffer (borrowed) is not NULL, lent as that DMA-BUF to
 * the local clients that import it.  As ssb_server_scanout_submit()
 * otherwise. */
int ssb_server_submit_reader(struct ssb_server *server, uint32_t scanout_id,
                             const struct ssb_server_buffer *buffer,
                             const struct ssb_frame_reader *reader,
                             const struct ssb_rect *damage, uint32_t n_damage,
                             uint64_t t_submit_us, ssb_server_done_fn done, void *user_data);
/* Frees the video streams of @scanout_id (scanout disabled). */
void ssb_server_drop_streams(struct ssb_server *server, uint32_t scanout_id);
void ssb_server_client_gone(struct ssb_server *server, struct ssb_client *client);

/* virgl.c: drops the virgl resource attached to @scanout_id, if any. */
#if defined(SSB_HAVE_VIRGL) && SSB_HAVE_VIRGL
void ssb_virgl_forget(struct ssb_server *server, uint32_t scanout_id);
#else
static inline void
ssb_virgl_forget(struct ssb_server *server, uint32_t scanout_id)
{
}
#endif

#endif /* SSB_SERVER_PRIVATE_H */
