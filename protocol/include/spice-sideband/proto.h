/* spice-sideband wire protocol: message definitions, encoders and
 * bounds-checked parsers.  No I/O.
 *
 * docs/spec.md is normative; section numbers below ("spec 4.2") refer to it.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SPICE_SIDEBAND_PROTO_H
#define SPICE_SIDEBAND_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SSB_PROTO_COMPILATION) && defined(__GNUC__)
#define SSB_PROTO_EXPORT __attribute__((visibility("default")))
#else
#define SSB_PROTO_EXPORT
#endif

/* spec 2: the SPICE port that carries the sideband */
#define SSB_PORT_NAME "org.spice-space.sideband.0"

/* spec 3.1 */
#define SSB_PROTO_MAGIC 0x44425353u /* "SSBD" little-endian */
#define SSB_PROTO_VERSION_MAJOR 1
#define SSB_PROTO_VERSION_MINOR 0

/* spec 3: every message is an 8-byte header followed by `size` body bytes */
#define SSB_PROTO_HEADER_SIZE 8u
/* Hard caps (spec 6).  A message never exceeds SSB_PROTO_MAX_MSG_SIZE bytes
 * including its header, so control messages can always interleave with
 * video chunks. */
#define SSB_PROTO_MAX_MSG_SIZE 65536u
#define SSB_PROTO_MAX_BODY_SIZE (SSB_PROTO_MAX_MSG_SIZE - SSB_PROTO_HEADER_SIZE)
#define SSB_PROTO_MAX_RECTS 64u
#define SSB_PROTO_MAX_PLANES 4u
#define SSB_PROTO_MAX_FDS 4u
#define SSB_PROTO_MAX_FORMATS 64u
#define SSB_PROTO_MAX_SCANOUTS 64u /* scanout ids are 0..63 */
#define SSB_PROTO_MAX_SLOTS 8u     /* slot ids per scanout are 0..7 */
#define SSB_PROTO_MAX_DIMENSION 16384u
#define SSB_PROTO_MAX_VIDEO_FRAME (32u * 1024u * 1024u)
#define SSB_PROTO_TOKEN_SIZE 32u
#define SSB_PROTO_HOST_ID_SIZE 32u
#define SSB_PROTO_MAX_PATH 108u  /* sizeof(sun_path), NUL included */
#define SSB_PROTO_MAX_REASON 256u /* NUL included */

enum ssb_msg_type {
    SSB_MSG_SERVER_HELLO = 1,
    SSB_MSG_CLIENT_HELLO = 2,
    SSB_MSG_SCANOUT_CREATE = 3,
    SSB_MSG_SCANOUT_RESIZE = 4,
    SSB_MSG_SCANOUT_DESTROY = 5,
    SSB_MSG_LOCAL_OFFER = 6,
    SSB_MSG_LOCAL_DECLINE = 7,
    SSB_MSG_LOCAL_HELLO = 8,
    SSB_MSG_LOCAL_WELCOME = 9,
    SSB_MSG_SLOT_ANNOUNCE = 10,
    SSB_MSG_SLOT_RETIRE = 11,
    SSB_MSG_FRAME = 12,
    SSB_MSG_SLOT_RELEASE = 13,
    SSB_MSG_VIDEO_FRAME = 14,
    SSB_MSG_FEEDBACK = 15,
    SSB_MSG_KEYFRAME_REQUEST = 16,
    SSB_MSG_KEEPALIVE = 17,
    SSB_MSG_GOODBYE = 18,
    SSB_MSG_ERROR = 19,
    SSB_MSG_TYPE_COUNT /* one past the last valid type */
};

/* Who may send a message (spec 4). */
enum ssb_direction {
    SSB_DIR_SERVER_TO_CLIENT = 1 << 0,
    SSB_DIR_CLIENT_TO_SERVER = 1 << 1,
    SSB_DIR_BOTH = SSB_DIR_SERVER_TO_CLIENT | SSB_DIR_CLIENT_TO_SERVER,
};

/* Which transport may carry a message (spec 2). */
enum ssb_transport {
    SSB_TRANSPORT_PORT = 1 << 0,  /* the SPICE port channel (byte stream) */
    SSB_TRANSPORT_LOCAL = 1 << 1, /* the local socket (SOCK_SEQPACKET) */
    SSB_TRANSPORT_ANY = SSB_TRANSPORT_PORT | SSB_TRANSPORT_LOCAL,
};

/* Capability bits exchanged in the hellos (spec 3.2). */
enum ssb_cap {
    SSB_CAP_SHM = 1ull << 0,            /* memfd slots */
    SSB_CAP_DMABUF = 1ull << 1,         /* DMA-BUF slots */
    SSB_CAP_VIDEO = 1ull << 2,          /* encoded video frames */
    SSB_CAP_FEEDBACK = 1ull << 3,       /* per-frame feedback / rate control */
    SSB_CAP_LOCAL_SOCKET = 1ull << 4,   /* local socket offer/hello */
    SSB_CAP_KEYFRAME_REQUEST = 1ull << 5,
};

/* Codec identifiers (spec 5.1); a codec set is a bitmask of (1u << codec). */
enum ssb_codec {
    SSB_CODEC_NONE = 0,
    SSB_CODEC_H264 = 1,
    SSB_CODEC_VP8 = 2,
    SSB_CODEC_VP9 = 3,
    SSB_CODEC_AV1 = 4,
    SSB_CODEC_H265 = 5,
    SSB_CODEC_COUNT
};
#define SSB_CODEC_BIT(c) (1u << (c))
#define SSB_CODEC_ALL_MASK (((1u << SSB_CODEC_COUNT) - 1u) & ~1u)

/* Pixel formats are DRM fourccs (drm_fourcc.h values, little-endian).  The
 * protocol accepts the 32-bit RGB formats below for scanouts and slots. */
#define SSB_FOURCC(a, b, c, d) \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define SSB_FORMAT_XRGB8888 SSB_FOURCC('X', 'R', '2', '4') /* B,G,R,x in memory */
#define SSB_FORMAT_ARGB8888 SSB_FOURCC('A', 'R', '2', '4')
#define SSB_FORMAT_XBGR8888 SSB_FOURCC('X', 'B', '2', '4')
#define SSB_FORMAT_ABGR8888 SSB_FOURCC('A', 'B', '2', '4')
#define SSB_MODIFIER_LINEAR 0ull
#define SSB_MODIFIER_INVALID 0x00ffffffffffffffull

/* Error codes carried by SSB_MSG_ERROR and reasons in GOODBYE (spec 7). */
enum ssb_error_code {
    SSB_ERROR_NONE = 0,
    SSB_ERROR_PROTOCOL = 1,     /* malformed message */
    SSB_ERROR_VERSION = 2,      /* incompatible major version */
    SSB_ERROR_STATE = 3,        /* message not allowed in this state/direction/transport */
    SSB_ERROR_AUTH = 4,         /* bad token or peer credentials */
    SSB_ERROR_LIMIT = 5,        /* a cap was exceeded */
    SSB_ERROR_UNSUPPORTED = 6,  /* nothing in common (codec, format) */
    SSB_ERROR_INTERNAL = 7,     /* the sender failed; not the peer's fault */
    SSB_ERROR_SHUTDOWN = 8,     /* orderly shutdown */
    SSB_ERROR_CODE_COUNT
};

struct ssb_rect {
    uint32_t x, y, width, height;
};

struct ssb_format_modifier {
    uint32_t fourcc;
    uint64_t modifier;
};

/* spec 4.1 */
struct ssb_msg_server_hello {
    uint16_t version_major;
    uint16_t version_minor;
    uint64_t caps;        /* enum ssb_cap */
    uint32_t codecs;      /* codecs the server can encode */
    uint32_t max_scanouts;
};

/* spec 4.2 */
enum ssb_client_hello_flags {
    SSB_CLIENT_WANT_LOCAL = 1u << 0, /* try the local socket if offered */
};
struct ssb_msg_client_hello {
    uint16_t version_major;
    uint16_t version_minor;
    uint64_t caps;
    uint32_t flags;       /* enum ssb_client_hello_flags */
    uint32_t codecs;      /* set of codecs the client can decode */
    uint32_t preferred_codec; /* enum ssb_codec or SSB_CODEC_NONE */
    uint32_t max_width;
    uint32_t max_height;
    uint32_t n_formats;   /* DMA-BUF formats the client can import */
    struct ssb_format_modifier formats[SSB_PROTO_MAX_FORMATS];
};

/* spec 4.3: SCANOUT_CREATE and SCANOUT_RESIZE share the body */
struct ssb_msg_scanout {
    uint32_t scanout_id;
    uint32_t display_channel_id; /* the SPICE display channel it mirrors */
    uint32_t width;
    uint32_t height;
    uint32_t fourcc;
    uint32_t flags;       /* reserved, 0 */
};

struct ssb_msg_scanout_destroy {
    uint32_t scanout_id;
};

/* spec 4.4 */
struct ssb_msg_local_offer {
    uint8_t token[SSB_PROTO_TOKEN_SIZE];
    uint8_t host_id[SSB_PROTO_HOST_ID_SIZE];
    char path[SSB_PROTO_MAX_PATH]; /* absolute path, NUL-terminated */
};

struct ssb_msg_local_decline {
    uint32_t code;        /* enum ssb_error_code */
    char reason[SSB_PROTO_MAX_REASON];
};

struct ssb_msg_local_hello {
    uint8_t token[SSB_PROTO_TOKEN_SIZE];
};

struct ssb_msg_local_welcome {
    uint32_t flags;       /* reserved, 0 */
};

/* spec 4.5 */
enum ssb_slot_kind {
    SSB_SLOT_SHM = 1,
    SSB_SLOT_DMABUF = 2,
};

struct ssb_plane {
    uint32_t offset;
    uint32_t stride;
};

/* One fd accompanies an SHM slot; n_planes fds a DMA-BUF slot. */
struct ssb_msg_slot_announce {
    uint32_t scanout_id;
    uint32_t slot_id;
    uint32_t kind;        /* enum ssb_slot_kind */
    uint32_t width;
    uint32_t height;
    uint32_t fourcc;
    uint64_t modifier;    /* SSB_MODIFIER_LINEAR for SHM */
    uint64_t size;        /* bytes of the (first) fd the planes live in */
    uint32_t n_planes;
    struct ssb_plane planes[SSB_PROTO_MAX_PLANES];
};

struct ssb_msg_slot_retire {
    uint32_t scanout_id;
    uint32_t slot_id;
};

/* spec 4.6 */
struct ssb_msg_frame {
    uint32_t scanout_id;
    uint32_t slot_id;
    uint64_t seq;
    uint64_t t_submit_us;  /* producer: submit time, server CLOCK_MONOTONIC */
    uint64_t t_ready_us;   /* server: slot filled, message sent */
    uint32_t n_rects;      /* 0 means the whole surface */
    struct ssb_rect rects[SSB_PROTO_MAX_RECTS];
};

struct ssb_msg_slot_release {
    uint32_t scanout_id;
    uint32_t slot_id;
    uint64_t seq;          /* the frame that is done with the slot */
};

/* spec 5.2 */
enum ssb_video_flags {
    SSB_VIDEO_KEYFRAME = 1u << 0,
    SSB_VIDEO_FIRST_CHUNK = 1u << 1,
    SSB_VIDEO_LAST_CHUNK = 1u << 2,
};
struct ssb_msg_video_frame {
    uint32_t scanout_id;
    uint32_t codec;        /* enum ssb_codec */
    uint32_t flags;        /* enum ssb_video_flags */
    uint32_t width;
    uint32_t height;
    uint64_t seq;
    uint64_t t_submit_us;
    uint64_t t_encoded_us;
    uint32_t frame_size;   /* total encoded bytes of this frame */
    uint32_t chunk_offset; /* where this chunk's payload starts */
    uint32_t payload_size;
    const uint8_t *payload; /* borrowed: points into the parsed buffer */
};

/* spec 5.3 */
enum ssb_feedback_flags {
    SSB_FEEDBACK_DISPLAYED = 1u << 0,
    SSB_FEEDBACK_DROPPED = 1u << 1,      /* decoded but superseded */
    SSB_FEEDBACK_DECODE_ERROR = 1u << 2,
};
struct ssb_msg_feedback {
    uint32_t scanout_id;
    uint32_t flags;        /* enum ssb_feedback_flags */
    uint64_t seq;
    uint64_t t_submit_us;  /* echoed from VIDEO_FRAME */
    uint64_t t_encoded_us; /* echoed from VIDEO_FRAME */
    uint32_t receive_to_decoded_us;
    uint32_t decoded_to_displayed_us;
    uint32_t held_us;      /* last chunk received -> this feedback sent */
    uint32_t frames_in_flight; /* received, not yet decoded */
};

enum ssb_keyframe_reason {
    SSB_KEYFRAME_REASON_JOIN = 1,
    SSB_KEYFRAME_REASON_DECODE_ERROR = 2,
    SSB_KEYFRAME_REASON_GAP = 3,
    SSB_KEYFRAME_REASON_USER = 4,
};
struct ssb_msg_keyframe_request {
    uint32_t scanout_id;
    uint32_t reason;       /* enum ssb_keyframe_reason */
};

/* spec 4.7 */
struct ssb_msg_keepalive {
    uint64_t t_us;         /* sender's clock */
    uint64_t echo_t_us;    /* last t_us received from the peer, 0 if none */
};

struct ssb_msg_goodbye {
    uint32_t code;         /* enum ssb_error_code; SSB_ERROR_SHUTDOWN for normal */
};

struct ssb_msg_error {
    uint32_t code;         /* enum ssb_error_code */
    char reason[SSB_PROTO_MAX_REASON];
};

struct ssb_msg {
    enum ssb_msg_type type;
    uint16_t flags;        /* header flags, reserved: 0 */
    union {
        struct ssb_msg_server_hello server_hello;
        struct ssb_msg_client_hello client_hello;
        struct ssb_msg_scanout scanout; /* CREATE and RESIZE */
        struct ssb_msg_scanout_destroy scanout_destroy;
        struct ssb_msg_local_offer local_offer;
        struct ssb_msg_local_decline local_decline;
        struct ssb_msg_local_hello local_hello;
        struct ssb_msg_local_welcome local_welcome;
        struct ssb_msg_slot_announce slot_announce;
        struct ssb_msg_slot_retire slot_retire;
        struct ssb_msg_frame frame;
        struct ssb_msg_slot_release slot_release;
        struct ssb_msg_video_frame video_frame;
        struct ssb_msg_feedback feedback;
        struct ssb_msg_keyframe_request keyframe_request;
        struct ssb_msg_keepalive keepalive;
        struct ssb_msg_goodbye goodbye;
        struct ssb_msg_error error;
    } u;
};

/* Static facts about one message type (spec 6, table "limits"). */
struct ssb_msg_info {
    const char *name;        /* "FRAME" */
    uint32_t min_body;       /* smallest valid body */
    uint32_t max_body;       /* largest valid body */
    uint32_t direction;      /* enum ssb_direction */
    uint32_t transport;      /* enum ssb_transport */
    uint32_t max_fds;        /* fds that may accompany it (local socket only) */
};

/* Returns the static description of @type, or NULL for an unknown type. */
SSB_PROTO_EXPORT const struct ssb_msg_info *ssb_proto_msg_info(uint32_t type);

/* Name of a type, or "UNKNOWN". Never NULL. */
SSB_PROTO_EXPORT const char *ssb_proto_msg_name(uint32_t type);

/* Name of an error code, or "UNKNOWN". Never NULL. */
SSB_PROTO_EXPORT const char *ssb_proto_error_name(uint32_t code);

/* Name of a codec ("h264", "vp8", ...), or NULL for an unknown one. */
SSB_PROTO_EXPORT const char *ssb_proto_codec_name(uint32_t codec);

/* Codec for a name as returned by ssb_proto_codec_name(), case-insensitive;
 * SSB_CODEC_NONE when unknown. */
SSB_PROTO_EXPORT enum ssb_codec ssb_proto_codec_from_name(const char *name);

/* Bytes per pixel of a supported scanout format, 0 if unsupported. */
SSB_PROTO_EXPORT uint32_t ssb_proto_format_bpp(uint32_t fourcc);

/* Bytes ssb_proto_encode() will write for @msg, or 0 if @msg is invalid
 * (unknown type, counts above the caps). */
SSB_PROTO_EXPORT size_t ssb_proto_encoded_size(const struct ssb_msg *msg);

/* Encodes @msg (header and body) into @buf.  Validates @msg with the same
 * rules as the parser, so an encoder never emits what a parser rejects.
 * Returns the number of bytes written, -ENOSPC if @cap is too small, or
 * -EINVAL if @msg is invalid.  @msg and @buf are borrowed. */
SSB_PROTO_EXPORT ssize_t ssb_proto_encode(const struct ssb_msg *msg, uint8_t *buf, size_t cap);

/* Decoded fixed header. */
struct ssb_msg_header {
    uint16_t type;
    uint16_t flags;
    uint32_t size;           /* body bytes after the header */
};

/* Reads and checks a header from @buf (at least SSB_PROTO_HEADER_SIZE bytes):
 * known type, flags 0, size within the type's [min_body, max_body].
 * Returns 0 or -EPROTO with *@reason (optional) set to a static string. */
SSB_PROTO_EXPORT int ssb_proto_parse_header(const uint8_t *buf, size_t len,
                                            struct ssb_msg_header *hdr,
                                            const char **reason);

/* Parses exactly one whole message (header + body, @len bytes) that arrived
 * with @n_fds file descriptors.  Every field is checked against spec 4-6;
 * variable parts are copied into @out, except VIDEO_FRAME's payload, which
 * points into @buf (borrowed: valid as long as @buf).
 * Returns 0, or -EPROTO with *@reason (optional) set to a static string. */
SSB_PROTO_EXPORT int ssb_proto_parse(const uint8_t *buf, size_t len, size_t n_fds,
                                     struct ssb_msg *out, const char **reason);

/* Number of fds that must accompany @msg on the local socket. */
SSB_PROTO_EXPORT uint32_t ssb_proto_msg_fd_count(const struct ssb_msg *msg);

/* Checks that @n_rects rects lie inside a @width x @height surface, with no
 * empty rect and no overflow.  Returns 0 or -EPROTO. */
SSB_PROTO_EXPORT int ssb_proto_check_rects(const struct ssb_rect *rects, uint32_t n_rects,
                                           uint32_t width, uint32_t height,
                                           const char **reason);

/* Checks that a slot's planes fit in @fd_size bytes of its fd (spec 4.5):
 * stride >= width * bpp, offset + stride * (height - 1) + width * bpp
 * <= fd_size, all without overflow.  For received slots, @fd_size is what
 * the receiver measured (fstat / lseek), not what the peer claimed.
 * Returns 0 or -EPROTO. */
SSB_PROTO_EXPORT int ssb_proto_check_slot_layout(const struct ssb_msg_slot_announce *slot,
                                                 uint64_t fd_size, const char **reason);

/*
 * Stream reassembler (spec 3.3).  The SPICE port keeps no message
 * boundaries; feed it arbitrary chunks and take whole messages out.
 * Memory stays bounded: at most one incomplete message plus the last chunk
 * fed is ever buffered.
 */
struct ssb_proto_reader;

SSB_PROTO_EXPORT struct ssb_proto_reader *ssb_proto_reader_new(void);
/* Accepts NULL. */
SSB_PROTO_EXPORT void ssb_proto_reader_free(struct ssb_proto_reader *reader);

/* Appends @len bytes (borrowed, copied).  Returns 0, -ENOMEM, -EPROTO if
 * the reader already failed, or -ENOBUFS (nothing appended) while
 * SSB_PROTO_MAX_MSG_SIZE or more bytes are still pending: drain with
 * ssb_proto_reader_next() between feeds, which keeps memory bounded. */
SSB_PROTO_EXPORT int ssb_proto_reader_feed(struct ssb_proto_reader *reader,
                                           const uint8_t *data, size_t len);

/* Takes the next whole message out.  Returns 1 and sets *@msg / *@msg_len
 * to the raw message (header included; valid until the next feed or next
 * call), 0 when more bytes are needed, or -EPROTO when the stream is broken
 * (bad header) with *@reason set; once broken, it stays broken.  The message
 * is only framed, not parsed: pass it to ssb_proto_parse(). */
SSB_PROTO_EXPORT int ssb_proto_reader_next(struct ssb_proto_reader *reader,
                                           const uint8_t **msg, size_t *msg_len,
                                           const char **reason);

/* Bytes buffered and not yet returned. */
SSB_PROTO_EXPORT size_t ssb_proto_reader_pending(const struct ssb_proto_reader *reader);

#ifdef __cplusplus
}
#endif

#endif /* SPICE_SIDEBAND_PROTO_H */
