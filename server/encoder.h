/* GStreamer encoders for the remote path (spec 5).
 *
 * encoder-select.c knows the candidates: per codec, hardware first, then
 * software, with the settings for low latency, and which of them are
 * installed (factories probed once per process).  encoder.c runs one
 * pipeline
 *
 *   appsrc ! videoconvert ! [caps] ! ENCODER ! [parser ! caps] ! appsink
 *
 * or, for a built-in candidate that takes I420, appsrc(I420) ! ENCODER !
 * ... with only the damage converted into the caller's persistent I420
 * frame (yuv-convert.c), on appsrc's streaming thread.
 *
 * and moves results from GStreamer's streaming threads to the embedder's
 * loop through an eventfd watched with SpiceCoreInterface.watch_add; no
 * callback below runs on a GStreamer thread.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_ENCODER_H
#define SSB_ENCODER_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <gst/video/video.h>
#include <spice.h>

#include "spice-sideband/proto.h"

/* ---- encoder-select.c ---- */

struct ssb_encoder_candidate {
    const char *factory;      /* element whose presence is probed */
    enum ssb_codec codec;
    bool hardware;
    /* Pipeline fragment; "%u" (once) is replaced by the bitrate in the
     * element's unit. */
    const char *fragment;
    const char *bitrate_prop; /* runtime-settable, or NULL */
    uint32_t bitrate_scale;   /* property value = kbps * scale */
    const char *raw_format;   /* capsfilter before the encoder, or NULL */
};

/* gst_init() if nobody did yet.  Returns false when GStreamer cannot start. */
bool ssb_encoder_gst_init(void);
/* Mask of SSB_CODEC_BIT() with an installed encoder (probed once). */
uint32_t ssb_encoder_available_codecs(void);
/* The candidates for @codec, in order of preference, as a NULL-terminated
 * array (free with g_free; the elements are static).  @override (element
 * name or pipeline fragment, borrowed, may be NULL) comes first when it
 * encodes @codec; a bogus one gets one warning per process. */
const struct ssb_encoder_candidate **ssb_encoder_candidates(enum ssb_codec codec,
                                                            const char *override);
/* The codec an element name or a pipeline fragment produces, or
 * SSB_CODEC_NONE (unknown element, not an encoder). */
enum ssb_codec ssb_encoder_fragment_codec(const char *fragment);
/* The built-in candidate for an element factory (for the bitrate property
 * of an overriding fragment), or NULL. */
const struct ssb_encoder_candidate *ssb_encoder_builtin(const char *factory);

/* ---- yuv-convert.c ---- */

/* RGB (the four 32-bit SSB_FORMAT_*) to I420 of one size, a rect at a
 * time, so a persistent I420 frame needs only its damage converted. */
struct ssb_yuv;

/* NULL for a format it does not convert. */
struct ssb_yuv *ssb_yuv_new(uint32_t width, uint32_t height, uint32_t fourcc);
void ssb_yuv_free(struct ssb_yuv *yuv);
/* Layout (size, plane offsets and strides) and colorimetry of the I420
 * frames; the encoder's caps come from it. */
const GstVideoInfo *ssb_yuv_info(const struct ssb_yuv *yuv);
/* Converts @rects (@n, borrowed; rounded out to even edges) of @src
 * (@src_stride bytes per row) into @dst (ssb_yuv_info()->size bytes);
 * @rects NULL: the whole frame.  Pixels outside the rounded rects keep
 * their value.  Any thread (serialised per @yuv). */
void ssb_yuv_convert(struct ssb_yuv *yuv, uint8_t *dst, const uint8_t *src, uint32_t src_stride,
                     const struct ssb_rect *rects, uint32_t n);

/* ---- encoder.c ---- */

struct ssb_encoder;

struct ssb_encoder_output {
    GBytes *data;             /* one frame in the bitstream of spec 5.2 */
    bool keyframe;            /* !GST_BUFFER_FLAG_DELTA_UNIT */
    uint64_t cookie;          /* as passed to ssb_encoder_push() */
    uint64_t t_pushed_us, t_encoded_us;
};

/* Called on the embedder's loop. */
struct ssb_encoder_callbacks {
    /* @out is borrowed (ref @out->data to keep it). */
    void (*output)(void *opaque, const struct ssb_encoder_output *out);
    /* The pixels of ssb_encoder_push(@cookie) are no longer read. */
    void (*released)(void *opaque, uint64_t cookie);
    /* The candidate in use failed and the next one took over (frames in
     * flight are lost; the next frame is a keyframe), or none is left
     * (@fatal: the encoder does nothing more). */
    void (*restarted)(void *opaque, bool fatal);
};

/* Builds the pipeline for the first candidate of @codec that starts (a
 * failing one gets one warning line, then the next is tried) at
 * @width x @height, @fourcc (XRGB8888 and friends) and @kbps.  @core,
 * @cb and @opaque are borrowed and outlive the encoder.  NULL when no
 * candidate starts. */
struct ssb_encoder *ssb_encoder_new(const SpiceCoreInterface *core, enum ssb_codec codec,
                                    const char *override, uint32_t width, uint32_t height,
                                    uint32_t fourcc, uint32_t kbps,
                                    const struct ssb_encoder_callbacks *cb, void *opaque);
/* Stops the pipeline (waits for the frame being encoded, if any): when
 * this returns no pixels are read any more, and no callback comes (not
 * even released()).  Safe from inside a callback.  Accepts NULL. */
void ssb_encoder_free(struct ssb_encoder *encoder);
/* Queues @pixels (borrowed until released(@cookie); @stride bytes per
 * row) without copying.  @keyframe forces a key unit.  Returns 0 or -EIO. */
int ssb_encoder_push(struct ssb_encoder *encoder, const uint8_t *pixels, uint32_t stride,
                     uint64_t cookie, bool keyframe);
/* Whether the pipeline in use takes I420 (no videoconvert): then push
 * with ssb_encoder_push_i420() instead. */
bool ssb_encoder_takes_i420(const struct ssb_encoder *encoder);
/* Like ssb_encoder_push() for the persistent I420 frame @yuv (laid out as
 * ssb_yuv_info() of the encoder's size), brought up to date first with
 * ssb_yuv_convert(@conv, @yuv, @src, @src_stride, @rects, @n) on
 * GStreamer's streaming thread, off the loop (or when the frame is dropped
 * unseen, as it is freed).  @yuv, @src and @conv are borrowed until
 * released(@cookie); @rects (NULL: the whole frame) is copied. */
int ssb_encoder_push_i420(struct ssb_encoder *encoder, uint8_t *yuv, struct ssb_yuv *conv,
                          const uint8_t *src, uint32_t src_stride, const struct ssb_rect *rects,
                          uint32_t n, uint64_t cookie, bool keyframe);
void ssb_encoder_set_bitrate(struct ssb_encoder *encoder, uint32_t kbps);
/* Element factory of the encoder in use ("x264enc"). */
const char *ssb_encoder_name(const struct ssb_encoder *encoder);
enum ssb_codec ssb_encoder_codec(const struct ssb_encoder *encoder);
/* The running pipeline (borrowed; NULL between candidates), for tests
 * that check it goes away with the encoder. */
GstElement *ssb_encoder_pipeline(const struct ssb_encoder *encoder);

#endif /* SSB_ENCODER_H */
