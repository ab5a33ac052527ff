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

    if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR)
        return GST_BUS_DROP;
    gst_message_parse_error(msg, &error, &debug);
    item = g_new0(struct item, 1);
    item->kind = ITEM_ERROR;
    item->generation = ctx->generation;
    item->error = g_strdup_printf("%s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                                  error ? error->message : "unknown error");
    shared_push(ctx->shared, item);
    return GST_BUS_DROP;
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

    /* Only built-in fragments are formats; a user's is taken verbatim. */
    if (ssb_encoder_builtin(c->factory) == c) {
        g_autofree char *rate = g_strdup_printf("%u", encoder->kbps * c->bitrate_scale);
        g_auto(GStrv) parts = g_strsplit(c->fragment, "%u", 2);

        fragment = g_strjoinv(rate, parts);
    } else {
        fragment = g_strdup(c->fragment);
    }
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
    return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING,
                               raw_format(encoder->fourcc), "width", G_TYPE_INT,
                               (int)encoder->width, "height", G_TYPE_INT, (int)encoder->height,
                               "framerate", GST_TYPE_FRACTION, SSB_NOMINAL_FPS, 1, NULL);
}

/* Builds and starts @c.  Returns false (with one warning line) if it fails. */
static bool
pipeline_build(struct ssb_encoder *encoder, const struct ssb_encoder_candidate *c)
{
    g_autofree char *desc = pipeline_description(encoder, c);
    g_autoptr(GError) error = NULL;
    struct sink_ctx *ctx;
    GstElement *appsink;
    GstCaps *caps;
    GstBus *bus;
    GstAppSinkCallbacks sink_cb = { .new_sample = on_new_sample };

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
    g_log(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "video encoder for %s %ux%u: %s",
          ssb_proto_codec_name(encoder->codec), encoder->width, encoder->height, encoder->name);
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

int
ssb_encoder_push(struct ssb_encoder *encoder, const uint8_t *pixels, uint32_t stride,
                 uint64_t cookie, bool keyframe)
{
    size_t size = (size_t)stride * (encoder->height - 1) + (size_t)encoder->width * 4u;
    struct release_ctx *ctx = g_new0(struct release_ctx, 1);
    gsize offsets[GST_VIDEO_MAX_PLANES] = { 0 };
    gint strides[GST_VIDEO_MAX_PLANES] = { (gint)stride };
    GstClockTime pts;
    GstBuffer *buf;
    struct pushed *slot;

    if (!encoder->pipeline || encoder->doomed) {
        g_free(ctx);
        return -EIO;
    }
    ctx->shared = encoder->shared;
    ctx->generation = encoder->generation;
    ctx->cookie = cookie;
    buf = gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY, (gpointer)pixels, size, 0, size,
                                      ctx, release_notify);
    gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE,
                                   gst_video_format_from_string(raw_format(encoder->fourcc)),
                                   encoder->width, encoder->height, 1, offsets, strides);
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

enum ssb_codec
ssb_encoder_codec(const struct ssb_encoder *encoder)
{
    return encoder->codec;
}
