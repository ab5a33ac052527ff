/* Which encoder to use for a codec (spec 5.1): hardware first (VA-API,
 * NVENC, V4L2), then software tuned for latency: no B-frames, no
 * lookahead, one picture in, one picture out, keyframes only on demand.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <gst/gst.h>

#include "encoder.h"

/* "Large" key interval: keyframes come from force-key-unit events. */
#define KEY_INT "1000000"

static const struct ssb_encoder_candidate candidates[] = {
    /* H.264 */
    { "vah264enc", SSB_CODEC_H264, true,
      "vah264enc rate-control=cbr bitrate=%u key-int-max=" KEY_INT " b-frames=0", "bitrate", 1,
      "NV12" },
    { "vaapih264enc", SSB_CODEC_H264, true,
      "vaapih264enc rate-control=cbr bitrate=%u keyframe-period=0 max-bframes=0", "bitrate", 1,
      "NV12" },
    { "nvh264enc", SSB_CODEC_H264, true,
      "nvh264enc preset=low-latency-hq zerolatency=true rc-mode=cbr bitrate=%u gop-size=-1 bframes=0",
      "bitrate", 1, "NV12" },
    { "v4l2h264enc", SSB_CODEC_H264, true, "v4l2h264enc", NULL, 1, "NV12" },
    { "x264enc", SSB_CODEC_H264, false,
      "x264enc speed-preset=ultrafast tune=zerolatency bframes=0 key-int-max=" KEY_INT
      " threads=1 bitrate=%u",
      "bitrate", 1, "I420" },
    { "openh264enc", SSB_CODEC_H264, false,
      "openh264enc complexity=low rate-control=bitrate gop-size=" KEY_INT " bitrate=%u",
      "bitrate", 1000, "I420" },
    /* VP8 */
    { "vavp8enc", SSB_CODEC_VP8, true, "vavp8enc rate-control=cbr bitrate=%u", "bitrate", 1,
      "NV12" },
    { "v4l2vp8enc", SSB_CODEC_VP8, true, "v4l2vp8enc", NULL, 1, "NV12" },
    { "vp8enc", SSB_CODEC_VP8, false,
      "vp8enc deadline=1 cpu-used=16 end-usage=cbr lag-in-frames=0 threads=1"
      " keyframe-max-dist=" KEY_INT " target-bitrate=%u",
      "target-bitrate", 1000, "I420" },
    /* VP9 */
    { "vavp9enc", SSB_CODEC_VP9, true, "vavp9enc rate-control=cbr bitrate=%u", "bitrate", 1,
      "NV12" },
    { "vp9enc", SSB_CODEC_VP9, false,
      "vp9enc deadline=1 cpu-used=8 end-usage=cbr lag-in-frames=0 row-mt=true threads=2"
      " keyframe-max-dist=" KEY_INT " target-bitrate=%u",
      "target-bitrate", 1000, "I420" },
    /* AV1: libaom aborts in CBR without max-quantizer (FACTS.md). */
    { "vaav1enc", SSB_CODEC_AV1, true, "vaav1enc rate-control=cbr bitrate=%u", "bitrate", 1,
      "NV12" },
    { "av1enc", SSB_CODEC_AV1, false,
      "av1enc usage-profile=realtime cpu-used=10 end-usage=cbr max-quantizer=56 lag-in-frames=0"
      " keyframe-max-dist=" KEY_INT " target-bitrate=%u",
      "target-bitrate", 1, "I420" },
    /* H.265 */
    { "vah265enc", SSB_CODEC_H265, true,
      "vah265enc rate-control=cbr bitrate=%u key-int-max=" KEY_INT " b-frames=0", "bitrate", 1,
      "NV12" },
    { "nvh265enc", SSB_CODEC_H265, true,
      "nvh265enc preset=low-latency-hq zerolatency=true rc-mode=cbr bitrate=%u gop-size=-1 bframes=0",
      "bitrate", 1, "NV12" },
    { "x265enc", SSB_CODEC_H265, false,
      /* Its thread pool holds a frame back: one picture in, one out. */
      "x265enc speed-preset=ultrafast tune=zerolatency key-int-max=" KEY_INT
      " option-string=frame-threads=1:pools=none bitrate=%u",
      "bitrate", 1, "I420" },
};

bool
ssb_encoder_gst_init(void)
{
    if (gst_is_initialized())
        return true;
    return gst_init_check(NULL, NULL, NULL);
}

static bool
factory_exists(const char *name)
{
    GstElementFactory *factory = gst_element_factory_find(name);

    if (!factory)
        return false;
    gst_object_unref(factory);
    return true;
}

static gsize installed_once;
static uint64_t installed; /* bit i: candidates[i] is installed */

static void
probe(void)
{
    if (!g_once_init_enter(&installed_once))
        return;
    if (ssb_encoder_gst_init()) {
        for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
            if (factory_exists(candidates[i].factory))
                installed |= (uint64_t)1 << i;
        }
    }
    g_once_init_leave(&installed_once, 1);
}

uint32_t
ssb_encoder_available_codecs(void)
{
    uint32_t codecs = 0;

    probe();
    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        if (installed & ((uint64_t)1 << i))
            codecs |= SSB_CODEC_BIT(candidates[i].codec);
    }
    return codecs;
}

static enum ssb_codec
caps_codec(const GstCaps *caps)
{
    static const struct {
        const char *media;
        enum ssb_codec codec;
    } map[] = {
        { "video/x-h264", SSB_CODEC_H264 }, { "video/x-vp8", SSB_CODEC_VP8 },
        { "video/x-vp9", SSB_CODEC_VP9 },   { "video/x-av1", SSB_CODEC_AV1 },
        { "video/x-h265", SSB_CODEC_H265 },
    };

    for (guint i = 0; caps && i < gst_caps_get_size(caps); i++) {
        const char *name = gst_structure_get_name(gst_caps_get_structure(caps, i));

        for (size_t j = 0; j < G_N_ELEMENTS(map); j++) {
            if (!strcmp(name, map[j].media))
                return map[j].codec;
        }
    }
    return SSB_CODEC_NONE;
}

/* The codec an encoder factory's src pad produces. */
static enum ssb_codec
factory_codec(const char *name)
{
    GstElementFactory *factory = gst_element_factory_find(name);
    enum ssb_codec codec = SSB_CODEC_NONE;
    const char *klass;

    if (!factory)
        return SSB_CODEC_NONE;
    klass = gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS);
    for (const GList *l = gst_element_factory_get_static_pad_templates(factory);
         l && klass && strstr(klass, "Encoder"); l = l->next) {
        GstStaticPadTemplate *templ = l->data;
        GstCaps *caps;

        if (templ->direction != GST_PAD_SRC)
            continue;
        caps = gst_static_pad_template_get_caps(templ);
        codec = caps_codec(caps);
        gst_caps_unref(caps);
        if (codec)
            break;
    }
    gst_object_unref(factory);
    return codec;
}

enum ssb_codec
ssb_encoder_fragment_codec(const char *fragment)
{
    g_auto(GStrv) parts = NULL;

    if (!fragment || !ssb_encoder_gst_init())
        return SSB_CODEC_NONE;
    /* The first word of each "!"-separated element: its factory. */
    parts = g_strsplit(fragment, "!", -1);
    for (char **p = parts; *p; p++) {
        g_auto(GStrv) words = g_strsplit_set(g_strstrip(*p), " \t", 2);
        enum ssb_codec codec = words[0] ? factory_codec(words[0]) : SSB_CODEC_NONE;

        if (codec)
            return codec;
    }
    return SSB_CODEC_NONE;
}

/* A user's override as a candidate; built once per distinct string. */
static const struct ssb_encoder_candidate *
override_candidate(const char *override, enum ssb_codec codec)
{
    static GMutex lock;
    static GHashTable *seen; /* fragment -> candidate (leaks: per process) */
    struct ssb_encoder_candidate *c;

    g_mutex_lock(&lock);
    if (!seen)
        seen = g_hash_table_new(g_str_hash, g_str_equal);
    c = g_hash_table_lookup(seen, override);
    if (!c) {
        enum ssb_codec oc = ssb_encoder_fragment_codec(override);

        c = g_new0(struct ssb_encoder_candidate, 1);
        c->factory = g_strdup(override);
        c->codec = oc;
        c->fragment = c->factory;
        c->bitrate_scale = 1;
        if (!oc)
            g_warning("encoder override \"%s\" names no installed video encoder; "
                      "choosing automatically", override);
        g_hash_table_insert(seen, (char *)c->factory, c);
    }
    g_mutex_unlock(&lock);
    return c->codec == codec ? c : NULL;
}

const struct ssb_encoder_candidate **
ssb_encoder_candidates(enum ssb_codec codec, const char *override)
{
    const struct ssb_encoder_candidate **list =
        g_new0(const struct ssb_encoder_candidate *, G_N_ELEMENTS(candidates) + 2);
    size_t n = 0;

    const struct ssb_encoder_candidate *first = NULL;

    probe();
    if (override && *override) {
        /* A bare element name we know keeps our no-delay settings; anything
         * else is the user's own fragment, taken as is. */
        first = ssb_encoder_builtin(override);
        if (!first)
            first = override_candidate(override, codec);
        else if (first->codec != codec)
            first = NULL;
        if (first)
            list[n++] = first;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        if (candidates[i].codec == codec && (installed & ((uint64_t)1 << i)) &&
            &candidates[i] != first)
            list[n++] = &candidates[i];
    }
    return list;
}

const struct ssb_encoder_candidate *
ssb_encoder_builtin(const char *factory)
{
    for (size_t i = 0; factory && i < G_N_ELEMENTS(candidates); i++) {
        if (!strcmp(candidates[i].factory, factory))
            return &candidates[i];
    }
    return NULL;
}
