/* The sideband paths: see sideband-frames.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sideband-frames.h"

#include <sys/mman.h>

#define FOURCC_XR24 0x34325258u   /* DRM_FORMAT_XRGB8888 */

struct _BenchSideband {
    SsbClient *client;            /* owned */
    BenchSamples *samples;        /* borrowed */
    const char *path_name;        /* static */
    char *error;                  /* owned */
};

/* A DMA-BUF is read as an application without GL would: mmap the plane.
 * Only the pages holding the stamp are touched. */
static gboolean
read_dmabuf_stamp(SsbFrame *frame, struct ssb_pattern_stamp *stamp)
{
    SsbDmabufInfo info;
    guint height = ssb_frame_get_height(frame);
    gboolean ok;

    if (!ssb_frame_get_dmabuf(frame, &info) || info.n_planes < 1)
        return FALSE;
    gsize len = (gsize)info.offsets[0] + (gsize)info.strides[0] * height;
    void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, info.fds[0], 0);

    if (map == MAP_FAILED)
        return FALSE;
    ok = bench_read_corner_stamp((const guint8 *)map + info.offsets[0], info.strides[0],
                                 ssb_frame_get_width(frame), height, stamp);
    munmap(map, len);
    return ok;
}

/* Where a counted frame's time went, from the frame's own timestamps (one
 * clock: same host).  Local: the server's copy and notify until this
 * process read the FRAME packet, then the dispatch to this handler.
 * Video: convert + encode on the server, transfer to the last chunk here,
 * decode, dispatch. */
static void
add_stages(BenchSamples *samples, SsbFrame *frame, gint64 now)
{
    static const char *const local[] = { "copy_notify", "dispatch" };
    static const char *const video[] = { "convert_encode", "transfer", "decode", "dispatch" };
    gint64 submit = ssb_frame_get_t_submit_us(frame), received = ssb_frame_get_t_received_us(frame);

    if (ssb_frame_get_backing(frame) != SSB_FRAME_BACKING_VIDEO) {
        gint64 us[] = { received - submit, now - received };

        bench_samples_add_stages(samples, local, us, G_N_ELEMENTS(us));
    } else {
        gint64 encoded = ssb_frame_get_t_encoded_us(frame);
        gint64 decoded = ssb_frame_get_t_decoded_us(frame);
        gint64 us[] = { encoded - submit, received - encoded, decoded - received, now - decoded };

        bench_samples_add_stages(samples, video, us, G_N_ELEMENTS(us));
    }
}

static void
on_frame(SsbClient *client, SsbFrame *frame, BenchSideband *sideband)
{
    gint64 now = g_get_monotonic_time();
    struct ssb_pattern_stamp stamp;
    gboolean ok;

    if (ssb_frame_get_backing(frame) == SSB_FRAME_BACKING_DMABUF) {
        ok = read_dmabuf_stamp(frame, &stamp);
    } else {
        guint stride = 0;
        const guint8 *data = ssb_frame_get_data(frame, &stride);

        ok = bench_read_corner_stamp(data, stride, ssb_frame_get_width(frame),
                                     ssb_frame_get_height(frame), &stamp);
    }
    sideband->path_name = ssb_client_get_path_name(client, ssb_frame_get_scanout_id(frame));
    if (ok && bench_samples_add(sideband->samples, &stamp, now))
        add_stages(sideband->samples, frame, now);
}

static void
on_error(SsbClient *client, GError *error, BenchSideband *sideband)
{
    if (sideband->error == NULL)
        sideband->error = g_strdup(error->message);
}

BenchSideband *
bench_sideband_new(SpiceSession *session, const BenchSidebandOptions *options,
                   BenchSamples *samples)
{
    BenchSideband *sideband = g_new0(BenchSideband, 1);

    sideband->samples = samples;
    sideband->client = ssb_client_new(session);
    g_object_set(sideband->client, "force-remote", options->force_remote, "codec",
                 options->codec, NULL);
    if (options->dmabuf) {
        const SsbFormatModifier linear = { FOURCC_XR24, 0 /* DRM_FORMAT_MOD_LINEAR */ };

        ssb_client_set_dmabuf_formats(sideband->client, &linear, 1);
    }
    g_signal_connect(sideband->client, "frame", G_CALLBACK(on_frame), sideband);
    g_signal_connect(sideband->client, "error", G_CALLBACK(on_error), sideband);
    return sideband;
}

void
bench_sideband_free(BenchSideband *sideband)
{
    if (sideband == NULL)
        return;
    g_signal_handlers_disconnect_by_data(sideband->client, sideband);
    g_object_unref(sideband->client);
    g_free(sideband->error);
    g_free(sideband);
}

const char *
bench_sideband_path_name(const BenchSideband *sideband)
{
    return sideband->path_name;
}

const char *
bench_sideband_error(const BenchSideband *sideband)
{
    return sideband->error;
}
