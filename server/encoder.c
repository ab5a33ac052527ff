/* One GStreamer encode pipeline (see encoder.h).
 *
 * Threads: ssb_encoder_* run on the embedder's loop.  GStreamer calls
 * three things on its own threads: appsink's new-sample (an encoded
 * frame), the bus sync handler (an error), and the destroy notify of a
 * wrapped input buffer (pixels no longer read).  Each only appends an item
 * to a mutex-protected queue and bumps an eventfd; the loop's watch on that
 * eventfd delivers the items through the callbacks.  Items carry the
 * pipeline generation, so a late item of a replaced pipeline is dropped
 * (releases excepted: the pixels are free either way).
 *
 * State changes: an appsrc with is-live=true makes the pipeline live, so
 * PLAYING needs no preroll and set_state() returns at once; a pipeline
 * that cannot start returns FAILURE there or posts an ERROR on its first
 * buffer (caps, encoder init), and the next candidate takes over.  Setting
 * NULL waits for the frame being encoded (one encode time, a few ms at
 * 1080p with x264 ultrafast).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "encoder.h"

enum item_kind { ITEM_OUTPUT, ITEM_RELEASE, ITEM_ERROR };

struct item {
    enum item_kind kind;
    uint32_t generation;
    GBytes *data;              /* OUTPUT */
    bool keyframe;
    GstClockTime pts;
    uint64_t t_encoded_us;
    uint64_t cookie;           /* RELEASE */
    char *error;               /* ERROR */
};

/* What a streaming thread may touch: the queue, nothing else. */
struct shared {
    GMutex lock;
    GQueue items;
    int efd;
};

/* Per pushed frame, to match outputs with inputs by PTS. */
#define SSB_PUSHED_RING 8u
struct pushed {
    GstClockTime pts;
    uint64_t cookie, t_pushed_us;
};

struct release_ctx {
    struct shared *shared;
    uint32_t generation;
    uint64_t cookie;
};

struct ssb_encoder {
    const SpiceCoreInterface *core;
    const struct ssb_encoder_callbacks *cb;
    void *opaque;
    enum ssb_codec codec;
    const struct ssb_encoder_candidate **cands;
    size_t next_cand;
    char *name;                /* factory of the encoder element in use */
    const struct ssb_encoder_candidate *props; /* bitrate property, or NULL */
    uint32_t width, height, fourcc, kbps;
    struct ssb_yuv *yuv;       /* I420 layout, NULL: format not converted */
    bool i420;                 /* the pipeline in use takes I420 */
    GstElement *pipeline, *appsrc, *enc; /* refs held */
    uint32_t generation;
    struct shared *shared;
    SpiceWatch *watch;
    int64_t t_base_us;
    GstClockTime last_pts;
    struct pushed pushed[SSB_PUSHED_RING];
    uint32_t pushed_next, key_count;
    bool dispatching, doomed;
};

static void
shared_push(struct shared *shared, struct item *item)
{
    uint64_t one = 1;

    g_mutex_lock(&shared->lock);
    g_queue_push_tail(&shared->items, item);
    g_mutex_unlock(&shared->lock);
    if (write(shared->efd, &one, sizeof(one)) < 0) {
        /* EAGAIN: the counter is already non-zero; the loop will look. */
    }
}

static void
item_free(struct item *item)
{
    if (item->data)
        g_bytes_unref(item->data);
    g_free(item->error);
    g_free(item);
}

/* ---- GStreamer threads ---- */

/* The damage conversion a pushed I420 frame still needs (see
 * ssb_encoder_push_i420): done by the appsrc pad probe, or else when the
 * buffer is freed, before its memory is released. */
struct yuv_job {
    struct ssb_yuv *conv;
    uint8_t *dst;
    const uint8_t *src;
    uint32_t src_stride, n;
    struct ssb_rect *rects;    /* NULL: the whole frame */
    bool done;
};

static GQuark
yuv_job_quark(void)
{
    static GQuark quark;

    if (!quark)
        quark = g_quark_from_static_string("ssb-yuv-job");
    return quark;
}

static void
yuv_job_run(struct yuv_job *job)
{
    if (job->done)
        return;
    ssb_yuv_convert(job->conv, job->dst, job->src, job->src_stride, job->rects, job->n);
    job->done = true;
}

static void
yuv_job_free(gpointer data)
{
    struct yuv_job *job = data;

    yuv_job_run(job);
    g_free(job->rects);
    g_free(job);
}

static GstPadProbeReturn
on_src_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    struct yuv_job *job = buf ? gst_mini_object_get_qdata(GST_MINI_OBJECT(buf),
                                                          yuv_job_quark())
                              : NULL;

    if (job)
        yuv_job_run(job);
    return GST_PAD_PROBE_OK;
}

static void
release_notify(gpointer data)
{
    struct release_ctx *ctx = data;
    struct item *item = g_new0(struct item, 1);

    item->kind = ITEM_RELEASE;
    item->generation = ctx->generation;
    item->cookie = ctx->cookie;
    shared_push(ctx->shared, item);
    g_free(ctx);
}

struct sink_ctx {
    struct shared *shared;
    uint32_t generation;
};

static GstFlowReturn
on_new_sample(GstAppSink *appsink, gpointer data)
{
    struct sink_ctx *ctx = data;
    GstSample *sample = gst_app_sink_pull_sample(appsink);
    GstBuffer *buf = sample ? gst_sample_get_buffer(sample) : NULL;
    struct item *item;
    GstMapInfo map;

    if (!buf || !gst_buffer_map(buf, &map, GST_MAP_READ)) {
        if (sample)
            gst_sample_unref(sample);
        return sample ? GST_FLOW_OK : GST_FLOW_EOS;
    }
    item = g_new0(struct item, 1);
    item->kind = ITEM_OUTPUT;
    item->generation = ctx->generation;
    item->t_encoded_us = (uint64_t)g_get_monotonic_time();
    item->data = g_bytes_new(map.data, map.size);
    item->keyframe = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    /* Encoders may shift timestamps (x264enc adds 1000 h for negative
     * DTS) along with the segment: the running time is what we pushed. */
    item->pts = gst_segment_to_running_time(gst_sample_get_segment(sample), GST_FORMAT_TIME,
                                            GST_BUFFER_PTS(buf));
    gst_buffer_unmap(buf, &map);
    gst_sample_unref(sample);
    shared_push(ctx->shared, item);
    return GST_FLOW_OK;
}

static GstBusSyncReply
on_bus_message(GstBus *bus, GstMessage *msg, gpointer data)
{
    struct sink_ctx *ctx = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *debug = NULL;
    struct item *item;

    /* Every message stays on the bus (PASS) and is popped on the loop
     * (bus_drain()): with GStreamer 1.22, a sync handler that drops a
     * pipeline's state-changed or new-clock messages keeps the pipeline
     * from ever being finalized, and each encoder would leak it. */
    if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR)
        return GST_BUS_PASS;
    gst_message_parse_error(msg, &error, &debug);
    item = g_new0(struct item, 1);
    item->kind = ITEM_ERROR;
    item->generation = ctx->generation;
    item->error = g_strdup_printf("%s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                                  error ? error->message : "unknown error");
    shared_push(ctx->shared, item);
    return GST_BUS_PASS;
}

/* Discards what the bus holds: the errors went through on_bus_message(). */
static void
bus_drain(GstElement *pipeline)
{
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *msg;

    while ((msg = gst_bus_pop(bus)))
        gst_message_unref(msg);
    gst_object_unref(bus);
}

/* ---- pipeline ---- */

static const char *
raw_format(uint32_t fourcc)
{
    switch (fourcc) {
    case SSB_FORMAT_ARGB8888:
        return "BGRA";
    case SSB_FORMAT_XBGR8888:
        return "RGBx";
    case SSB_FORMAT_ABGR8888:
        return "RGBA";
    default:
        return "BGRx"; /* XRGB8888 */
    }
}

static const char *
parser_fragment(enum ssb_codec codec)
{
    static gsize av1_once;
    static bool have_av1parse;

    switch (codec) {
    case SSB_CODEC_H264:
        return "h264parse config-interval=-1 ! "
               "video/x-h264,stream-format=byte-stream,alignment=au ! ";
    case SSB_CODEC_H265:
        return "h265parse config-interval=-1 ! "
               "video/x-h265,stream-format=byte-stream,alignment=au ! ";
    case SSB_CODEC_AV1:
        if (g_once_init_enter(&av1_once)) {
            GstElementFactory *f = gst_element_factory_find("av1parse");

            have_av1parse = f != NULL;
            if (f)
                gst_object_unref(f);
            g_once_init_leave(&av1_once, 1);
        }
        return have_av1parse ? "av1parse ! video/x-av1,stream-format=obu-stream,alignment=tu ! "
                             : "";
    default:
        return "";
    }
}

static char *
pipeline_description(const struct ssb_encoder *encoder, const struct ssb_encoder_candidate *c)
{
    g_autofree char *fragment = NULL;
    g_autofree char *convert = NULL;
    bool builtin = ssb_encoder_builtin(c->factory) == c;

    /* Only built-in fragments are formats; a user's is taken verbatim. */
    if (builtin) {
        g_autofree char *rate = g_strdup_printf("%u", encoder->kbps * c->bitrate_scale);
        g_auto(GStrv) parts = g_strsplit(c->fragment, "%u", 2);

        fragment = g_strjoinv(rate, parts);
    } else {
        fragment = g_strdup(c->fragment);
    }
    if (encoder->i420)
        return g_strdup_printf("appsrc name=ssbsrc is-live=true format=time block=false ! "
                               "%s ! %sappsink name=ssbsink sync=false async=false "
                               "max-buffers=1 drop=false",
                               fragment, parser_fragment(encoder->codec));
    convert = c->raw_format ? g_strdup_printf("videoconvert n-threads=2 ! video/x-raw,format=%s",
                                              c->raw_format)
                            : g_strdup("videoconvert n-threads=2");
    return g_strdup_printf("appsrc name=ssbsrc is-live=true format=time block=false ! %s ! "
                           "%s ! %sappsink name=ssbsink sync=false async=false max-buffers=1 drop=false",
                           convert, fragment, parser_fragment(encoder->codec));
}

static GstElement *
find_encoder_element(GstElement *pipeline)
{
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(pipeline));
    GValue value = G_VALUE_INIT;
    GstElement *found = NULL;

    while (!found && gst_iterator_next(it, &value) == GST_ITERATOR_OK) {
        GstElement *element = g_value_get_object(&value);
        GstElementFactory *factory = gst_element_get_factory(element);
        const char *klass = factory ? gst_element_factory_get_metadata(
                                          factory, GST_ELEMENT_METADATA_KLASS)
                                    : NULL;

        if (klass && strstr(klass, "Encoder"))
            found = gst_object_ref(element);
        g_value_reset(&value);
    }
    g_value_unset(&value);
    gst_iterator_free(it);
    return found;
}

static void
pipeline_teardown(struct ssb_encoder *encoder)
{
    GstBus *bus;

    if (!encoder->pipeline)
        return;
    gst_element_set_state(encoder->pipeline, GST_STATE_NULL);
    bus = gst_element_get_bus(encoder->pipeline);
    gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
    gst_object_unref(bus);
    bus_drain(encoder->pipeline);
    gst_clear_object(&encoder->appsrc);
    gst_clear_object(&encoder->enc);
    gst_clear_object(&encoder->pipeline);
    g_clear_pointer(&encoder->name, g_free);
    encoder->props = NULL;
    encoder->generation++;
}

/* A nominal frame rate: with 0/1 (variable) x264enc holds one frame back
 * to learn each frame's duration from the next timestamp. */
#define SSB_NOMINAL_FPS 60

static GstCaps *
input_caps(const struct ssb_encoder *encoder)
{
    if (encoder->i420) {
        GstVideoInfo info = *ssb_yuv_info(encoder->yuv);

        GST_VIDEO_INFO_FPS_N(&info) = SSB_NOMINAL_FPS;
        GST_VIDEO_INFO_FPS_D(&info) = 1;
        return gst_video_info_to_caps(&info);
    }
    return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING,
                               raw_format(encoder->fourcc), "width", G_TYPE_INT,
                               (int)encoder->width, "height", G_TYPE_INT, (int)encoder->height,
                               "framerate", GST_TYPE_FRACTION, SSB_NOMINAL_FPS, 1, NULL);
}

/* A built-in candidate that takes I420 gets it converted by the caller
 * (damage only) instead of a videoconvert; SSB_ENCODER_VIDEOCONVERT=1
 * keeps the old pipeline (to compare). */
static bool
candidate_takes_i420(const struct ssb_encoder *encoder, const struct ssb_encoder_candidate *c)
{
    const char *old = g_getenv("SSB_ENCODER_VIDEOCONVERT");

    return encoder->yuv && ssb_encoder_builtin(c->factory) == c && c->raw_format &&
           strcmp(c->raw_format, "I420") == 0 && !(old && *old && strcmp(old, "0") != 0);
}

/* Builds and starts @c.  Returns false (with one warning line) if it fails. */
static bool
pipeline_build(struct ssb_encoder *encoder, const struct ssb_encoder_candidate *c)
{
    g_autofree char *desc = NULL;
    g_autoptr(GError) error = NULL;
    struct sink_ctx *ctx;
    GstElement *appsink;
    GstCaps *caps;
    GstBus *bus;
    GstAppSinkCallbacks sink_cb = { .new_sample = on_new_sample };

    encoder->i420 = candidate_takes_i420(encoder, c);
    desc = pipeline_description(encoder, c);
    encoder->pipeline = gst_parse_launch_full(desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
    if (!encoder->pipeline) {
        g_warning("video encoder \"%s\" unavailable: %s; trying the next one", c->factory,
                  error ? error->message : "cannot build the pipeline");
        return false;
    }
    gst_object_ref_sink(encoder->pipeline);
    encoder->appsrc = gst_bin_get_by_name(GST_BIN(encoder->pipeline), "ssbsrc");
    appsink = gst_bin_get_by_name(GST_BIN(encoder->pipeline), "ssbsink");
    encoder->enc = find_encoder_element(encoder->pipeline);
    encoder->name = g_strdup(encoder->enc ? GST_OBJECT_NAME(gst_element_get_factory(encoder->enc))
                                          : c->factory);
    encoder->props = ssb_encoder_builtin(encoder->name);
    caps = input_caps(encoder);
    g_object_set(encoder->appsrc, "caps", caps, NULL);
    gst_caps_unref(caps);
    if (encoder->i420) {
        GstPad *pad = gst_element_get_static_pad(encoder->appsrc, "src");

        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_src_buffer, NULL, NULL);
        gst_object_unref(pad);
    }
    ctx = g_new0(struct sink_ctx, 1);
    ctx->shared = encoder->shared;
    ctx->generation = encoder->generation;
    gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &sink_cb, ctx, g_free);
    gst_object_unref(appsink);
    ctx = g_memdup2(ctx, sizeof(*ctx));
    bus = gst_element_get_bus(encoder->pipeline);
    gst_bus_set_sync_handler(bus, on_bus_message, ctx, g_free);
    gst_object_unref(bus);
    if (gst_element_set_state(encoder->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        g_warning("video encoder \"%s\" does not start; trying the next one", c->factory);
        pipeline_teardown(encoder);
        return false;
    }
    g_log(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "video encoder for %s %ux%u: %s%s",
          ssb_proto_codec_name(encoder->codec), encoder->width, encoder->height, encoder->name,
          encoder->i420 ? " (I420 input)" : "");
    return true;
}

/* Starts the next candidate that works.  Returns false when none is left. */
static bool
pipeline_start_next(struct ssb_encoder *encoder)
{
    while (encoder->cands[encoder->next_cand]) {
        const struct ssb_encoder_candidate *c = encoder->cands[encoder->next_cand++];

        if (pipeline_build(encoder, c))
            return true;
    }
    return false;
}

/* ---- the loop side ---- */

/* The push an output belongs to: same running time, or else (an encoder
 * that rewrites timestamps) the oldest one still out. */
static bool
take_pushed(struct ssb_encoder *encoder, GstClockTime pts, struct pushed *out)
{
    struct pushed *oldest = NULL;

    for (uint32_t i = 0; i < SSB_PUSHED_RING; i++) {
        struct pushed *p = &encoder->pushed[i];

        if (p->pts == GST_CLOCK_TIME_NONE)
            continue;
        if (p->pts == pts) {
            oldest = p;
            break;
        }
        if (!oldest || p->pts < oldest->pts)
            oldest = p;
    }
    if (!oldest)
        return false;
    *out = *oldest;
    oldest->pts = GST_CLOCK_TIME_NONE;
    return true;
}

static void
deliver(struct ssb_encoder *encoder, struct item *item)
{
    struct ssb_encoder_output out = { 0 };
    struct pushed pushed;

    switch (item->kind) {
    case ITEM_RELEASE:
        encoder->cb->released(encoder->opaque, item->cookie);
        break;
    case ITEM_OUTPUT:
        if (item->generation != encoder->generation || encoder->doomed ||
            !take_pushed(encoder, item->pts, &pushed))
            break;
        out.data = item->data;
        out.keyframe = item->keyframe;
        out.cookie = pushed.cookie;
        out.t_pushed_us = pushed.t_pushed_us;
        out.t_encoded_us = item->t_encoded_us;
        encoder->cb->output(encoder->opaque, &out);
        break;
    case ITEM_ERROR:
        if (item->generation != encoder->generation || encoder->doomed)
            break;
        g_warning("video encoder \"%s\" failed: %s; trying the next one",
                  encoder->name ? encoder->name : "?", item->error);
        pipeline_teardown(encoder);
        for (uint32_t i = 0; i < SSB_PUSHED_RING; i++)
            encoder->pushed[i].pts = GST_CLOCK_TIME_NONE;
        if (!pipeline_start_next(encoder))
            g_warning("no working video encoder left for %s",
                      ssb_proto_codec_name(encoder->codec));
        encoder->cb->restarted(encoder->opaque, encoder->pipeline == NULL);
        break;
    }
}

static void encoder_destroy(struct ssb_encoder *encoder);

/* Runs the queued items (releases also for replaced pipelines). */
static void
dispatch_items(struct ssb_encoder *encoder)
{
    GQueue items = G_QUEUE_INIT;
    struct item *item;

    g_mutex_lock(&encoder->shared->lock);
    items = encoder->shared->items;
    g_queue_init(&encoder->shared->items);
    g_mutex_unlock(&encoder->shared->lock);
    encoder->dispatching = true;
    while ((item = g_queue_pop_head(&items))) {
        if (!encoder->doomed)
            deliver(encoder, item);
        item_free(item);
    }
    encoder->dispatching = false;
    if (encoder->pipeline)
        bus_drain(encoder->pipeline);
}

static void
on_eventfd(int fd, int event, void *opaque)
{
    struct ssb_encoder *encoder = opaque;
    uint64_t count;

    if (read(fd, &count, sizeof(count)) < 0) {
        /* EAGAIN: nothing new. */
    }
    dispatch_items(encoder);
    if (encoder->doomed)
        encoder_destroy(encoder);
}

struct ssb_encoder *
ssb_encoder_new(const SpiceCoreInterface *core, enum ssb_codec codec, const char *override,
                uint32_t width, uint32_t height, uint32_t fourcc, uint32_t kbps,
                const struct ssb_encoder_callbacks *cb, void *opaque)
{
    struct ssb_encoder *encoder;
    int efd;

    if (!ssb_encoder_gst_init())
        return NULL;
    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return NULL;
    encoder = g_new0(struct ssb_encoder, 1);
    encoder->core = core;
    encoder->cb = cb;
    encoder->opaque = opaque;
    encoder->codec = codec;
    encoder->width = width;
    encoder->height = height;
    encoder->fourcc = fourcc;
    encoder->kbps = kbps;
    encoder->last_pts = GST_CLOCK_TIME_NONE;
    encoder->yuv = ssb_yuv_new(width, height, fourcc);
    encoder->t_base_us = g_get_monotonic_time();
    for (uint32_t i = 0; i < SSB_PUSHED_RING; i++)
        encoder->pushed[i].pts = GST_CLOCK_TIME_NONE;
    encoder->shared = g_new0(struct shared, 1);
    g_mutex_init(&encoder->shared->lock);
    g_queue_init(&encoder->shared->items);
    encoder->shared->efd = efd;
    encoder->watch = core->watch_add(efd, SPICE_WATCH_EVENT_READ, on_eventfd, encoder);
    encoder->cands = ssb_encoder_candidates(codec, override);
    if (!pipeline_start_next(encoder)) {
        g_warning("no working video encoder for %s", ssb_proto_codec_name(codec));
        ssb_encoder_free(encoder);
        return NULL;
    }
    return encoder;
}

static void
encoder_destroy(struct ssb_encoder *encoder)
{
    pipeline_teardown(encoder);
    encoder->core->watch_remove(encoder->watch);
    close(encoder->shared->efd);
    g_queue_clear_full(&encoder->shared->items, (GDestroyNotify)item_free);
    g_mutex_clear(&encoder->shared->lock);
    g_free(encoder->shared);
    g_free(encoder->cands);
    ssb_yuv_free(encoder->yuv);
    g_free(encoder);
}

void
ssb_encoder_free(struct ssb_encoder *encoder)
{
    if (!encoder)
        return;
    /* Pixels must be free when this returns, even inside a callback. */
    encoder->doomed = true;
    pipeline_teardown(encoder);
    if (!encoder->dispatching)
        encoder_destroy(encoder);
}

/* Wraps @pixels (@size bytes, borrowed until released(@cookie)) as a
 * buffer with video meta for @info's layout, the first plane's stride
 * replaced by @stride0. */
static GstBuffer *
wrap_pixels(struct ssb_encoder *encoder, const uint8_t *pixels, size_t size,
            const GstVideoInfo *info, gint stride0, uint64_t cookie)
{
    struct release_ctx *ctx = g_new0(struct release_ctx, 1);
    gsize offsets[GST_VIDEO_MAX_PLANES] = { 0 };
    gint strides[GST_VIDEO_MAX_PLANES] = { 0 };
    GstBuffer *buf;

    ctx->shared = encoder->shared;
    ctx->generation = encoder->generation;
    ctx->cookie = cookie;
    buf = gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY, (gpointer)pixels, size, 0, size,
                                      ctx, release_notify);
    for (guint i = 0; i < GST_VIDEO_INFO_N_PLANES(info); i++) {
        offsets[i] = info->offset[i];
        strides[i] = info->stride[i];
    }
    strides[0] = stride0;
    gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(info),
                                   encoder->width, encoder->height,
                                   GST_VIDEO_INFO_N_PLANES(info), offsets, strides);
    return buf;
}

/* Timestamps and queues @buf (taken). */
static int
push_buffer(struct ssb_encoder *encoder, GstBuffer *buf, uint64_t cookie, bool keyframe)
{
    GstClockTime pts;
    struct pushed *slot;

    pts = (GstClockTime)(g_get_monotonic_time() - encoder->t_base_us) * GST_USECOND;
    if (encoder->last_pts != GST_CLOCK_TIME_NONE && pts <= encoder->last_pts)
        pts = encoder->last_pts + GST_USECOND;
    encoder->last_pts = pts;
    GST_BUFFER_PTS(buf) = pts;
    slot = &encoder->pushed[encoder->pushed_next++ % SSB_PUSHED_RING];
    *slot = (struct pushed){ .pts = pts, .cookie = cookie,
                             .t_pushed_us = (uint64_t)g_get_monotonic_time() };
    if (keyframe)
        gst_element_send_event(encoder->appsrc,
                               gst_video_event_new_downstream_force_key_unit(
                                   GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE,
                                   TRUE, ++encoder->key_count));
    /* Takes the buffer; never blocks (block=false, we keep one in flight). */
    if (gst_app_src_push_buffer(GST_APP_SRC(encoder->appsrc), buf) != GST_FLOW_OK)
        return -EIO;
    return 0;
}

/* A caller without its own I420 frame: convert all of @pixels here, so
 * they are free again at once. */
static int
push_converted(struct ssb_encoder *encoder, const uint8_t *pixels, uint32_t stride,
               uint64_t cookie, bool keyframe)
{
    const GstVideoInfo *info = ssb_yuv_info(encoder->yuv);
    struct release_ctx *ctx = g_new0(struct release_ctx, 1);
    GstBuffer *buf = gst_buffer_new_allocate(NULL, info->size, NULL);
    GstMapInfo map;

    ctx->shared = encoder->shared;
    ctx->generation = encoder->generation;
    ctx->cookie = cookie;
    if (!buf || !gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
        if (buf)
            gst_buffer_unref(buf);
        g_free(ctx);
        return -EIO;
    }
    ssb_yuv_convert(encoder->yuv, map.data, pixels, stride, NULL, 0);
    gst_buffer_unmap(buf, &map);
    release_notify(ctx);
    return push_buffer(encoder, buf, cookie, keyframe);
}

int
ssb_encoder_push(struct ssb_encoder *encoder, const uint8_t *pixels, uint32_t stride,
                 uint64_t cookie, bool keyframe)
{
    size_t size = (size_t)stride * (encoder->height - 1) + (size_t)encoder->width * 4u;
    GstVideoInfo info;

    if (!encoder->pipeline || encoder->doomed)
        return -EIO;
    if (encoder->i420)
        return push_converted(encoder, pixels, stride, cookie, keyframe);
    gst_video_info_set_format(&info, gst_video_format_from_string(raw_format(encoder->fourcc)),
                              encoder->width, encoder->height);
    return push_buffer(encoder, wrap_pixels(encoder, pixels, size, &info, (gint)stride, cookie),
                       cookie, keyframe);
}

bool
ssb_encoder_takes_i420(const struct ssb_encoder *encoder)
{
    return encoder && encoder->pipeline && encoder->i420;
}

int
ssb_encoder_push_i420(struct ssb_encoder *encoder, uint8_t *yuv, struct ssb_yuv *conv,
                      const uint8_t *src, uint32_t src_stride, const struct ssb_rect *rects,
                      uint32_t n, uint64_t cookie, bool keyframe)
{
    const GstVideoInfo *info;
    struct yuv_job *job;
    GstBuffer *buf;

    if (!encoder->pipeline || encoder->doomed || !encoder->i420)
        return -EIO;
    info = ssb_yuv_info(encoder->yuv);
    buf = wrap_pixels(encoder, yuv, info->size, info, info->stride[0], cookie);
    job = g_new0(struct yuv_job, 1);
    job->conv = conv;
    job->dst = yuv;
    job->src = src;
    job->src_stride = src_stride;
    job->n = n;
    job->rects = rects ? g_memdup2(rects, sizeof(*rects) * MAX(n, 1u)) : NULL;
    gst_mini_object_set_qdata(GST_MINI_OBJECT(buf), yuv_job_quark(), job, yuv_job_free);
    return push_buffer(encoder, buf, cookie, keyframe);
}

void
ssb_encoder_set_bitrate(struct ssb_encoder *encoder, uint32_t kbps)
{
    if (!encoder || encoder->kbps == kbps)
        return;
    encoder->kbps = kbps;
    if (encoder->enc && encoder->props && encoder->props->bitrate_prop)
        g_object_set(encoder->enc, encoder->props->bitrate_prop,
                     (guint)(kbps * encoder->props->bitrate_scale), NULL);
}

const char *
ssb_encoder_name(const struct ssb_encoder *encoder)
{
    return encoder && encoder->name ? encoder->name : "";
}

GstElement *
ssb_encoder_pipeline(const struct ssb_encoder *encoder)
{
    return encoder->pipeline;
}

enum ssb_codec
ssb_encoder_codec(const struct ssb_encoder *encoder)
{
    return encoder->codec;
}
