/* libspice-sideband-server: the VMM-facing side of the sideband channel.
 *
 * A VMM links this next to libspice-server.  Everything runs on the
 * embedder's main loop through the SpiceCoreInterface it hands in; no call
 * here blocks on a client.  Returns are 0 or -errno; constructors return
 * NULL on failure.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SPICE_SIDEBAND_SERVER_H
#define SPICE_SIDEBAND_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <spice.h>
#include <spice-sideband/proto.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SSB_SERVER_COMPILATION) && defined(__GNUC__)
#define SSB_SERVER_EXPORT __attribute__((visibility("default")))
#else
#define SSB_SERVER_EXPORT
#endif

struct ssb_server;

struct ssb_server_options {
    /* Offer the local socket to clients that ask for it. Default true. */
    bool local_socket;
    /* Directory in which the private 0700 socket directory is created.
     * NULL: $XDG_RUNTIME_DIR, else a safe fallback (spec 4.4). Borrowed. */
    const char *runtime_dir;
    /* uid allowed on the local socket; -1 (default) means the server's.
     * Values outside -1..UINT32_MAX-1 make ssb_server_create() fail. */
    int64_t allowed_uid;
    /* Codecs the server may encode (mask of SSB_CODEC_BIT); 0 = all that
     * have an installed encoder. */
    uint32_t codecs;
    /* Encoder element name ("x264enc") or GStreamer pipeline fragment
     * ("x264enc speed-preset=fast ! video/x-h264,profile=main") tried
     * first for the codec it produces; NULL = automatic (hardware first,
     * then software).  The environment variable SSB_ENCODER overrides it.
     * A missing or failing one is logged once and the next is used.
     * Borrowed. */
    const char *encoder;
    /* Rate control bounds for remote clients (spec 5.3); 0 = defaults
     * (300 kbit/s, 12000 kbit/s, 60 fps).  Video starts at the maximum. */
    uint32_t min_bitrate_kbps, max_bitrate_kbps;
    uint32_t max_fps;
};

/* Fills @opts with the defaults. */
SSB_SERVER_EXPORT void ssb_server_options_init(struct ssb_server_options *opts);

/* Creates the sideband server and registers the port
 * SSB_PORT_NAME on @spice with spice_server_add_interface().
 * @spice and @core are borrowed and must outlive the result; @opts is
 * copied (NULL for defaults).  Call on the embedder's main loop.
 * Returns NULL on failure (errno set). */
SSB_SERVER_EXPORT struct ssb_server *
ssb_server_create(SpiceServer *spice, const SpiceCoreInterface *core,
                  const struct ssb_server_options *opts);

/* Disconnects every client (GOODBYE), removes the port and the local socket
 * directory, and gives every held buffer back: pending done() callbacks run
 * last, and API calls they make return -ESHUTDOWN (a submit still gets its
 * done()).  Accepts NULL. */
SSB_SERVER_EXPORT void ssb_server_destroy(struct ssb_server *server);

/* Scanout lifecycle (spec 4.3).  @scanout_id < SSB_PROTO_MAX_SCANOUTS;
 * @display_channel_id is the SPICE display channel this scanout mirrors, so
 * that input for it goes through the standard inputs channel.
 * Returns 0, -EINVAL (bad arguments), -EEXIST / -ENOENT. */
SSB_SERVER_EXPORT int ssb_server_scanout_enable(struct ssb_server *server, uint32_t scanout_id,
                                                uint32_t display_channel_id, uint32_t width,
                                                uint32_t height, uint32_t fourcc);
SSB_SERVER_EXPORT int ssb_server_scanout_resize(struct ssb_server *server, uint32_t scanout_id,
                                                uint32_t width, uint32_t height, uint32_t fourcc);
SSB_SERVER_EXPORT int ssb_server_scanout_disable(struct ssb_server *server, uint32_t scanout_id);

enum ssb_server_buffer_kind {
    /* CPU pixels; copied (damaged region only) before submit returns. */
    SSB_SERVER_BUFFER_PIXELS = 1,
    /* A region of a shareable memfd (sealed at least F_SEAL_SHRINK):
     * forwarded to local clients without a copy, as a read-only reopen of
     * the fd.  A memfd's inode is mode 0777, so when a client of another
     * uid is allowed (allowed_uid), fchmod() the memfd to 0400 first or
     * that client could reopen it writable through /proc. */
    SSB_SERVER_BUFFER_MEMFD = 2,
    /* DMA-BUF planes: forwarded to local clients that can import them,
     * mapped and read for the others. fds dup()ed likewise. */
    SSB_SERVER_BUFFER_DMABUF = 3,
};

struct ssb_server_buffer {
    enum ssb_server_buffer_kind kind;
    uint32_t width, height, fourcc;
    uint64_t modifier;            /* DMABUF; SSB_MODIFIER_LINEAR otherwise */
    /* PIXELS: borrowed for the duration of the call. */
    const void *data;
    uint32_t stride;
    /* MEMFD / DMABUF: borrowed fds (the server dups what it keeps). */
    uint32_t n_planes;
    int fds[SSB_PROTO_MAX_PLANES];
    uint32_t offsets[SSB_PROTO_MAX_PLANES];
    uint32_t strides[SSB_PROTO_MAX_PLANES];
    uint64_t size;                /* bytes of fds[0]; 0 = measure it */
};

/* Called once, on the embedder's loop, when the server no longer reads the
 * buffer: the VMM may reuse it.  Never called from inside submit for
 * MEMFD/DMABUF; for PIXELS it may be. */
typedef void (*ssb_server_done_fn)(void *user_data);

/* Submits a frame for @scanout_id.  @damage (borrowed, @n_damage rects, at
 * most SSB_PROTO_MAX_RECTS; 0 = whole surface) says what changed since the
 * previous submit.  @t_submit_us is CLOCK_MONOTONIC in microseconds (0 =
 * now).  Never blocks on a client: a client still holding older frames has
 * frames skipped (latest frame wins).  @done (may be NULL) is called exactly
 * once when the buffer is free again, also when this returns an error.
 *
 * Frames are numbered per scanout id: the n-th submit for an id since
 * ssb_server_create() has seq n (disable/enable does not restart the
 * count); clients see that number in FRAME.seq.
 *
 * MEMFD buffers (sealed at least against shrinking, else copied) and
 * DMABUF buffers a client can import are lent to local clients without a
 * copy; done() then waits for their SLOT_RELEASE.  A client holds at most
 * two such buffers per scanout (later frames are copied into shared memory
 * instead), so a VMM that cycles through three or more buffers per scanout
 * never waits on a slow client.
 * Returns 0, -EINVAL, -ENOENT (no such scanout). */
SSB_SERVER_EXPORT int ssb_server_scanout_submit(struct ssb_server *server, uint32_t scanout_id,
                                                const struct ssb_server_buffer *buffer,
                                                const struct ssb_rect *damage, uint32_t n_damage,
                                                uint64_t t_submit_us,
                                                ssb_server_done_fn done, void *user_data);

/* Tells the server which SPICE channel connection is which transport
 * (forward SpiceCoreInterface.channel_event here).  Optional. */
SSB_SERVER_EXPORT void ssb_server_channel_event(struct ssb_server *server, int event,
                                                SpiceChannelEventInfo *info);

struct ssb_server_stats {
    uint32_t clients;            /* connected sideband clients */
    uint32_t local_clients;      /* of which on the local socket */
    uint64_t frames_submitted;
    uint64_t frames_sent;        /* FRAME or VIDEO_FRAME messages (last chunk) */
    uint64_t frames_skipped;     /* superseded before a client took them */
    uint64_t bytes_sent;         /* over the port channel */
    uint64_t bytes_copied;       /* pixel bytes copied into slots */
    uint64_t protocol_errors;    /* client sidebands closed for bad input */
    uint64_t local_rejected;     /* local socket connections refused */
    /* Address family (AF_UNIX, AF_INET, AF_INET6) of the latest SPICE port
     * connection as reported through ssb_server_channel_event(); 0 if
     * unknown. */
    int32_t port_family;
    /* Remote video (spec 5), over all scanouts. */
    uint64_t video_frames_encoded;
    uint64_t video_keyframes;
    uint64_t video_bytes;          /* encoded bytes (before chunking) */
    uint32_t video_bitrate_kbps;   /* highest current target of any scanout */
    uint32_t video_max_fps;        /* highest current frame rate cap */
    /* Scanouts attached to virgl resources (server-virgl.h): the path each
     * flushed frame took, per consumer; all 0 without the adapter. */
    uint64_t virgl_dmabuf_frames;   /* lent as a DMA-BUF to a local client */
    uint64_t virgl_shm_readbacks;   /* read back into a local client's slot */
    uint64_t virgl_video_readbacks; /* read back for an encoder */
    uint64_t virgl_bytes_read;      /* pixel bytes read back (damage only) */
};

/* Copies the current counters into @stats. */
SSB_SERVER_EXPORT void ssb_server_get_stats(const struct ssb_server *server,
                                            struct ssb_server_stats *stats);

/* The remote video of one scanout.  Latencies are over the last 256
 * frames, in microseconds. */
struct ssb_server_video_info {
    uint32_t codec;                /* enum ssb_codec */
    char encoder[64];              /* element factory in use, "" if none */
    uint32_t width, height;
    uint32_t clients;              /* remote clients of this stream */
    uint32_t bitrate_kbps;         /* current target */
    uint32_t max_fps;              /* current frame rate cap */
    uint64_t frames_encoded, keyframes, bytes;
    uint64_t frames_skipped;       /* superseded before encoding */
    uint32_t encode_us_p50, encode_us_p99;  /* pushed -> encoded (convert + encode) */
    uint32_t send_us_p50, send_us_p99;      /* submit -> last chunk read */
};

/* Fills @info for the first stream (codec order of spec 5.1) of
 * @scanout_id.  Returns 0, -EINVAL or -ENOENT (no remote video for it). */
SSB_SERVER_EXPORT int ssb_server_get_scanout_video(const struct ssb_server *server,
                                                   uint32_t scanout_id,
                                                   struct ssb_server_video_info *info);

#ifdef __cplusplus
}
#endif

#endif /* SPICE_SIDEBAND_SERVER_H */
