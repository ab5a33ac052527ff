/* Video decoding for the remote path (spec 5): which codecs this process
 * can decode, and one GStreamer pipeline per scanout with no playout delay:
 *
 *   appsrc (live, no timestamps, no clock) ! [parser] ! decoder
 *     ! videoconvert ! video/x-raw,format=BGRx ! appsink (no sync, 1 buffer)
 *
 * Each pushed access unit carries its seq as the buffer PTS (in ns; no
 * clock ever looks at it), so the output tells which frame it is.  The
 * streaming thread keeps only the newest decoded sample in an "outbox" and
 * wakes the main context once; older undelivered samples are reported as
 * superseded.  Bus errors and warnings from the pipeline go the same way.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"

#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

/* ------------------------------------------------------------- probing */

typedef struct {
    enum ssb_codec codec;
    const char *caps;             /* appsrc caps (spec 5.2 table) */
    const char *parser;           /* optional */
    const char *decoders[8];      /* hardware first, NULL-terminated */
} CodecDesc;

static const CodecDesc codec_descs[] = {
    { SSB_CODEC_H264, "video/x-h264,stream-format=byte-stream,alignment=au", "h264parse",
      { "vah264dec", "vaapih264dec", "nvh264dec", "v4l2slh264dec", "v4l2h264dec", "avdec_h264",
        "openh264dec", NULL } },
    { SSB_CODEC_VP8, "video/x-vp8", NULL,
      { "vavp8dec", "vaapivp8dec", "nvvp8dec", "v4l2slvp8dec", "v4l2vp8dec", "vp8dec",
        "avdec_vp8", NULL } },
    { SSB_CODEC_VP9, "video/x-vp9", "vp9parse",
      { "vavp9dec", "vaapivp9dec", "nvvp9dec", "v4l2slvp9dec", "vp9dec", "avdec_vp9", NULL } },
    { SSB_CODEC_AV1, "video/x-av1,stream-format=obu-stream,alignment=tu", "av1parse",
      { "vaav1dec", "nvav1dec", "v4l2slav1dec", "dav1ddec", "av1dec", "avdec_av1", NULL } },
    { SSB_CODEC_H265, "video/x-h265,stream-format=byte-stream,alignment=au", "h265parse",
      { "vah265dec", "vaapih265dec", "nvh265dec", "v4l2slh265dec", "avdec_h265",
        "libde265dec", NULL } },
};

static const CodecDesc *
codec_desc(enum ssb_codec codec)
{
    for (guint i = 0; i < G_N_ELEMENTS(codec_descs); i++) {
        if (codec_descs[i].codec == codec)
            return &codec_descs[i];
    }
    return NULL;
}

static gboolean
is_hardware(const char *name)
{
    return g_str_has_prefix(name, "va") || g_str_has_prefix(name, "nv") ||
           g_str_has_prefix(name, "v4l2");
}

/* A hardware factory may be registered without a usable device behind it:
 * it must reach READY. */
static gboolean
decoder_usable(const char *name)
{
    g_autoptr(GstElementFactory) factory = gst_element_factory_find(name);
    GstElement *element;
    gboolean ok;

    if (factory == NULL)
        return FALSE;
    if (!is_hardware(name))
        return TRUE;
    element = gst_element_factory_create(factory, NULL);
    if (element == NULL)
        return FALSE;
    gst_object_ref_sink(element);
    ok = gst_element_set_state(element, GST_STATE_READY) != GST_STATE_CHANGE_FAILURE;
    gst_element_set_state(element, GST_STATE_NULL);
    gst_object_unref(element);
    return ok;
}

static const char *probed[SSB_CODEC_COUNT];

static gpointer
probe_once(gpointer data)
{
    /* SSB_DECODER forces one element for its codec (testing, workarounds). */
    const char *forced = g_getenv("SSB_DECODER");

    for (guint i = 0; i < G_N_ELEMENTS(codec_descs); i++) {
        const CodecDesc *desc = &codec_descs[i];

        for (guint j = 0; desc->decoders[j] != NULL; j++) {
            gboolean wanted = forced == NULL || *forced == '\0' ||
                              !g_strv_contains(desc->decoders, forced) ||
                              g_str_equal(forced, desc->decoders[j]);

            if (wanted && decoder_usable(desc->decoders[j])) {
                probed[desc->codec] = desc->decoders[j];
                break;
            }
        }
        if (probed[desc->codec] != NULL)
            g_debug("codec %s: decoder %s", ssb_proto_codec_name(desc->codec),
                    probed[desc->codec]);
    }
    return NULL;
}

static gboolean
gst_ready(void)
{
    static gsize once;
    static gboolean ok;

    if (g_once_init_enter(&once)) {
        g_autoptr(GError) error = NULL;
        gboolean done = gst_init_check(NULL, NULL, &error);

        if (!done)
            g_warning("GStreamer is not usable: %s", error->message);
        ok = done && gst_element_factory_find("appsrc") != NULL;
        g_once_init_leave(&once, 1);
    }
    return ok;
}

guint32
ssb_decoder_probe_codecs(void)
{
    static GOnce once = G_ONCE_INIT;
    guint32 mask = 0;

    if (!gst_ready())
        return 0;
    g_once(&once, probe_once, NULL);
    for (guint c = SSB_CODEC_H264; c < SSB_CODEC_COUNT; c++) {
        if (probed[c] != NULL)
            mask |= SSB_CODEC_BIT(c);
    }
    return mask;
}

const char *
ssb_decoder_element_for(enum ssb_codec codec)
{
    if (codec <= SSB_CODEC_NONE || codec >= SSB_CODEC_COUNT ||
        !(ssb_decoder_probe_codecs() & SSB_CODEC_BIT(codec)))
        return NULL;
    return probed[codec];
}

/* ---------------------------------------------------------------- outbox */

/* What the streaming thread hands to the main context; shared with the
 * idle source that drains it, so that it may outlive the decoder. */
typedef struct {
    gint ref_count;               /* atomic */
    GMutex lock;
    SsbDecoderCallbacks callbacks; /* cleared when the decoder goes */
    gpointer user_data;
    GMainContext *context;        /* owned reference */
    gboolean scheduled;           /* an idle is pending */
    GstSample *latest;            /* newest undelivered sample, owned */
    guint64 latest_seq;
    gint64 latest_t_us;
    GArray *superseded;           /* SsbDecoded without sample */
    char *error;                  /* first failure, owned */
    guint delay_ms;               /* test hook: slow decoding */
} Outbox;

static Outbox *
outbox_ref(Outbox *outbox)
{
    g_atomic_int_inc(&outbox->ref_count);
    return outbox;
}

static void
outbox_unref(Outbox *outbox)
{
    if (!g_atomic_int_dec_and_test(&outbox->ref_count))
        return;
    g_clear_pointer(&outbox->latest, gst_sample_unref);
    g_array_unref(outbox->superseded);
    g_free(outbox->error);
    g_main_context_unref(outbox->context);
    g_mutex_clear(&outbox->lock);
    g_free(outbox);
}

/* The callbacks, unless the decoder went (possibly during an earlier
 * callback of this very drain). */
static gboolean
outbox_callbacks(Outbox *outbox, SsbDecoderCallbacks *cb, gpointer *data)
{
    g_mutex_lock(&outbox->lock);
    *cb = outbox->callbacks;
    *data = outbox->user_data;
    g_mutex_unlock(&outbox->lock);
    return cb->decoded != NULL;
}

static gboolean
outbox_drain(gpointer user_data)
{
    Outbox *outbox = user_data;
    g_autoptr(GArray) superseded = g_array_new(FALSE, FALSE, sizeof(SsbDecoded));
    g_autofree char *error = NULL;
    SsbDecoded latest = { 0 };
    SsbDecoderCallbacks cb;
    gpointer data;

    g_mutex_lock(&outbox->lock);
    outbox->scheduled = FALSE;
    g_array_append_vals(superseded, outbox->superseded->data, outbox->superseded->len);
    g_array_set_size(outbox->superseded, 0);
    latest.sample = g_steal_pointer(&outbox->latest);
    latest.seq = outbox->latest_seq;
    latest.t_decoded_us = outbox->latest_t_us;
    error = g_steal_pointer(&outbox->error);
    g_mutex_unlock(&outbox->lock);

    for (guint i = 0; i < superseded->len && outbox_callbacks(outbox, &cb, &data); i++)
        cb.decoded(&g_array_index(superseded, SsbDecoded, i), data);
    if (latest.sample != NULL && outbox_callbacks(outbox, &cb, &data))
        cb.decoded(&latest, data);
    g_clear_pointer(&latest.sample, gst_sample_unref);
    /* A failure is reported last: the frames before it were good. */
    if (error != NULL && outbox_callbacks(outbox, &cb, &data))
        cb.failed(error, data);
    return G_SOURCE_REMOVE;
}

/* Called with the lock held. */
static void
outbox_schedule(Outbox *outbox)
{
    GSource *source;

    if (outbox->scheduled || outbox->callbacks.decoded == NULL)
        return;
    outbox->scheduled = TRUE;
    source = g_idle_source_new();
    /* Above the default priority: a decoded frame beats timers and I/O. */
    g_source_set_priority(source, G_PRIORITY_DEFAULT - 1);
    g_source_set_callback(source, outbox_drain, outbox_ref(outbox),
                          (GDestroyNotify)outbox_unref);
    g_source_attach(source, outbox->context);
    g_source_unref(source);
}

/* --------------------------------------------------------------- decoder */

struct _SsbDecoder {
    enum ssb_codec codec;
    const char *element_name;     /* static */
    GstElement *pipeline;         /* owned */
    GstAppSrc *src;               /* borrowed from the pipeline */
    Outbox *outbox;               /* owned reference */
};

static GstFlowReturn
on_new_sample(GstAppSink *sink, gpointer user_data)
{
    Outbox *outbox = user_data;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    GstBuffer *buffer;
    guint delay_ms;

    if (sample == NULL)
        return GST_FLOW_EOS;
    g_mutex_lock(&outbox->lock);
    delay_ms = outbox->delay_ms;
    g_mutex_unlock(&outbox->lock);
    if (delay_ms > 0)
        g_usleep((gulong)delay_ms * 1000);
    buffer = gst_sample_get_buffer(sample);
    g_mutex_lock(&outbox->lock);
    if (outbox->latest != NULL) {
        SsbDecoded old = { NULL, outbox->latest_seq, outbox->latest_t_us };
        g_array_append_val(outbox->superseded, old);
        gst_sample_unref(outbox->latest);
    }
    outbox->latest = sample;
    outbox->latest_seq = buffer != NULL && GST_BUFFER_PTS_IS_VALID(buffer)
                             ? GST_BUFFER_PTS(buffer)
                             : 0;
    outbox->latest_t_us = g_get_monotonic_time();
    outbox_schedule(outbox);
    g_mutex_unlock(&outbox->lock);
    return GST_FLOW_OK;
}

/* Any thread: errors and warnings (a decoder that could not decode a frame
 * posts a WARNING and goes on with garbage) end this pipeline. */
static GstBusSyncReply
on_bus_message(GstBus *bus, GstMessage *message, gpointer user_data)
{
    Outbox *outbox = user_data;
    g_autoptr(GError) error = NULL;
    g_autofree char *debug = NULL;

    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
        gst_message_parse_error(message, &error, &debug);
        break;
    case GST_MESSAGE_WARNING:
        gst_message_parse_warning(message, &error, &debug);
        break;
    default:
        /* Left on the bus and popped by bus_drain(): with GStreamer 1.22
         * a sync handler that drops the pipeline's state-changed or
         * new-clock messages keeps it from ever being finalized. */
        return GST_BUS_PASS;
    }
    g_mutex_lock(&outbox->lock);
    if (outbox->error == NULL) {
        outbox->error = g_strdup_printf("%s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)),
                                        error->message);
        outbox_schedule(outbox);
    }
    g_mutex_unlock(&outbox->lock);
    return GST_BUS_PASS;
}

/* Discards what the bus holds (on_bus_message() saw it already). */
static void
bus_drain(GstElement *pipeline)
{
    g_autoptr(GstBus) bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline));
    GstMessage *message;

    while ((message = gst_bus_pop(bus)) != NULL)
        gst_message_unref(message);
}

static void
configure_decoder(GstElement *decoder)
{
    GObjectClass *klass = G_OBJECT_GET_CLASS(decoder);

    /* libav's frame threading holds frames back (FACTS: seconds in a
     * one-in-one-out stream); slice threading does not. */
    if (g_object_class_find_property(klass, "thread-type") != NULL)
        gst_util_set_object_arg(G_OBJECT(decoder), "thread-type", "slice");
    if (g_object_class_find_property(klass, "max-threads") != NULL)
        g_object_set(decoder, "max-threads", 2, NULL);
    /* Report every decode failure (we rebuild and ask for a keyframe). */
    if (g_object_class_find_property(klass, "max-errors") != NULL)
        g_object_set(decoder, "max-errors", 0, NULL);
    if (g_object_class_find_property(klass, "output-corrupt") != NULL)
        g_object_set(decoder, "output-corrupt", FALSE, NULL);
}

static GstElement *
make(const char *factory, GError **error)
{
    GstElement *element = gst_element_factory_make(factory, NULL);

    if (element == NULL)
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED,
                    "GStreamer element %s is missing", factory);
    return element;
}

static gboolean
build_pipeline(SsbDecoder *decoder, const CodecDesc *desc, GError **error)
{
    GstElement *elements[6] = { NULL };
    guint n = 0;
    g_autoptr(GstCaps) src_caps = gst_caps_from_string(desc->caps);
    g_autoptr(GstCaps) out_caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING,
                                                      "BGRx", NULL);
    GstAppSinkCallbacks sink_callbacks = { .new_sample = on_new_sample };
    g_autoptr(GstBus) bus = NULL;

    decoder->pipeline = gst_pipeline_new(NULL);
    gst_object_ref_sink(decoder->pipeline);
    /* No clock: nothing waits for a timestamp. */
    gst_pipeline_use_clock(GST_PIPELINE(decoder->pipeline), NULL);
    if ((elements[n++] = make("appsrc", error)) == NULL)
        return FALSE;
    if (desc->parser != NULL && gst_element_factory_find(desc->parser) != NULL)
        elements[n++] = make(desc->parser, NULL);
    if ((elements[n++] = make(decoder->element_name, error)) == NULL ||
        (elements[n++] = make("videoconvert", error)) == NULL ||
        (elements[n++] = make("appsink", error)) == NULL) {
        for (guint i = 0; i + 1 < n; i++)
            gst_object_unref(gst_object_ref_sink(elements[i]));
        return FALSE;
    }
    for (guint i = 0; i < n; i++)
        gst_bin_add(GST_BIN(decoder->pipeline), elements[i]);
    decoder->src = GST_APP_SRC(elements[0]);
    g_object_set(decoder->src, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", FALSE,
                 "caps", src_caps, NULL);
    configure_decoder(elements[n - 3]);
    g_object_set(elements[n - 1], "sync", FALSE, "async", FALSE, "max-buffers", 1, "drop", FALSE,
                 "enable-last-sample", FALSE, "caps", out_caps, NULL);
    gst_app_sink_set_callbacks(GST_APP_SINK(elements[n - 1]), &sink_callbacks,
                               outbox_ref(decoder->outbox), (GDestroyNotify)outbox_unref);
    for (guint i = 0; i + 1 < n; i++) {
        if (!gst_element_link(elements[i], elements[i + 1])) {
            g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED, "cannot link %s to %s",
                        GST_OBJECT_NAME(elements[i]), GST_OBJECT_NAME(elements[i + 1]));
            return FALSE;
        }
    }
    bus = gst_pipeline_get_bus(GST_PIPELINE(decoder->pipeline));
    gst_bus_set_sync_handler(bus, on_bus_message, outbox_ref(decoder->outbox),
                             (GDestroyNotify)outbox_unref);
    if (gst_element_set_state(decoder->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_FAILED,
                    "the %s pipeline does not start", decoder->element_name);
        return FALSE;
    }
    return TRUE;
}

SsbDecoder *
ssb_decoder_new(enum ssb_codec codec, GMainContext *context,
                const SsbDecoderCallbacks *callbacks, gpointer user_data, GError **error)
{
    const CodecDesc *desc = codec_desc(codec);
    const char *element_name = ssb_decoder_element_for(codec);
    SsbDecoder *decoder;

    if (desc == NULL || element_name == NULL) {
        g_set_error(error, SSB_CLIENT_ERROR, SSB_CLIENT_ERROR_UNSUPPORTED,
                    "no decoder for codec %u", codec);
        return NULL;
    }
    decoder = g_new0(SsbDecoder, 1);
    decoder->codec = codec;
    decoder->element_name = element_name;
    decoder->outbox = g_new0(Outbox, 1);
    decoder->outbox->ref_count = 1;
    g_mutex_init(&decoder->outbox->lock);
    decoder->outbox->callbacks = *callbacks;
    decoder->outbox->user_data = user_data;
    decoder->outbox->context = g_main_context_ref(context);
    decoder->outbox->superseded = g_array_new(FALSE, FALSE, sizeof(SsbDecoded));
    if (!build_pipeline(decoder, desc, error)) {
        ssb_decoder_free(decoder);
        return NULL;
    }
    return decoder;
}

void
ssb_decoder_free(SsbDecoder *decoder)
{
    if (decoder == NULL)
        return;
    g_mutex_lock(&decoder->outbox->lock);
    decoder->outbox->callbacks = (SsbDecoderCallbacks){ NULL };
    g_mutex_unlock(&decoder->outbox->lock);
    if (decoder->pipeline != NULL) {
        /* Joins the streaming threads. */
        gst_element_set_state(decoder->pipeline, GST_STATE_NULL);
        bus_drain(decoder->pipeline);
        gst_object_unref(decoder->pipeline);
    }
    outbox_unref(decoder->outbox);
    g_free(decoder);
}

gboolean
ssb_decoder_push(SsbDecoder *decoder, guint8 *data, gsize size, guint64 seq)
{
    GstBuffer *buffer = gst_buffer_new_wrapped(data, size);

    GST_BUFFER_PTS(buffer) = seq;
    bus_drain(decoder->pipeline);
    return gst_app_src_push_buffer(decoder->src, buffer) == GST_FLOW_OK;
}

enum ssb_codec
ssb_decoder_get_codec(const SsbDecoder *decoder)
{
    return decoder->codec;
}

const char *
ssb_decoder_get_element_name(const SsbDecoder *decoder)
{
    return decoder->element_name;
}

void
ssb_decoder_set_delay(SsbDecoder *decoder, guint delay_ms)
{
    g_mutex_lock(&decoder->outbox->lock);
    decoder->outbox->delay_ms = delay_ms;
    g_mutex_unlock(&decoder->outbox->lock);
}
