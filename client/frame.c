/* SsbFrame: one frame of one scanout, lent to the application.
 *
 * A local frame holds its slot; the last unref gives the slot back to the
 * server (SLOT_RELEASE).  A VIDEO frame holds the decoder's GstSample,
 * mapped for reading, until the last unref.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "client-private.h"

#include <string.h>

#include <gst/video/video.h>

struct _SsbFrame {
    gint ref_count;               /* atomic */
    guint scanout_id;
    guint64 seq;
    guint width, height;
    guint32 fourcc;
    SsbFrameBacking backing;
    SsbSlot *slot;                /* owned reference; SHM and DMABUF */
    GstSample *sample;            /* owned reference; VIDEO */
    GstVideoFrame video;          /* VIDEO: the sample's buffer, mapped */
    enum ssb_codec codec;         /* VIDEO */
    guint32 encoded_size;         /* VIDEO */
    gint64 t_submit_us;
    gint64 t_encoded_us;
    gint64 t_received_us;
    gint64 t_decoded_us;
    guint n_rects;
    SsbRect rects[SSB_PROTO_MAX_RECTS];
};

G_DEFINE_BOXED_TYPE(SsbFrame, ssb_frame, ssb_frame_ref, ssb_frame_unref)

SsbFrame *
ssb_frame_new_local(SsbSlot *slot, const struct ssb_msg_frame *msg, gint64 t_received_us)
{
    const struct ssb_msg_slot_announce *layout = ssb_slot_get_layout(slot);
    SsbFrame *frame = g_new0(SsbFrame, 1);

    frame->ref_count = 1;
    frame->scanout_id = msg->scanout_id;
    frame->seq = msg->seq;
    frame->width = layout->width;
    frame->height = layout->height;
    frame->fourcc = layout->fourcc;
    frame->backing = layout->kind == SSB_SLOT_SHM ? SSB_FRAME_BACKING_SHM
                                                  : SSB_FRAME_BACKING_DMABUF;
    frame->slot = ssb_slot_ref(slot);
    frame->t_submit_us = (gint64)msg->t_submit_us;
    frame->t_received_us = t_received_us;
    frame->t_decoded_us = t_received_us;
    frame->n_rects = MIN(msg->n_rects, SSB_PROTO_MAX_RECTS);
    G_STATIC_ASSERT(sizeof(SsbRect) == sizeof(struct ssb_rect));
    memcpy(frame->rects, msg->rects, frame->n_rects * sizeof(SsbRect));
    return frame;
}

SsbFrame *
ssb_frame_new_video(GstSample *sample, const SsbVideoFrameInfo *info)
{
    GstVideoInfo vinfo;
    GstCaps *caps = gst_sample_get_caps(sample);
    GstBuffer *buffer = gst_sample_get_buffer(sample);
    SsbFrame *frame;

    if (caps == NULL || buffer == NULL || !gst_video_info_from_caps(&vinfo, caps) ||
        GST_VIDEO_INFO_FORMAT(&vinfo) != GST_VIDEO_FORMAT_BGRx)
        return NULL;
    frame = g_new0(SsbFrame, 1);
    if (!gst_video_frame_map(&frame->video, &vinfo, buffer, GST_MAP_READ)) {
        g_free(frame);
        return NULL;
    }
    frame->ref_count = 1;
    frame->backing = SSB_FRAME_BACKING_VIDEO;
    frame->sample = gst_sample_ref(sample);
    frame->scanout_id = info->scanout_id;
    frame->seq = info->seq;
    frame->width = (guint)GST_VIDEO_INFO_WIDTH(&vinfo);
    frame->height = (guint)GST_VIDEO_INFO_HEIGHT(&vinfo);
    frame->fourcc = SSB_FORMAT_XRGB8888; /* BGRx in memory */
    frame->codec = info->codec;
    frame->encoded_size = info->encoded_size;
    frame->t_submit_us = info->t_submit_us;
    frame->t_encoded_us = info->t_encoded_us;
    frame->t_received_us = info->t_received_us;
    frame->t_decoded_us = info->t_decoded_us;
    frame->n_rects = 0; /* a decoded picture: the whole surface */
    return frame;
}

SsbFrame *
ssb_frame_ref(SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, NULL);
    g_atomic_int_inc(&frame->ref_count);
    return frame;
}

void
ssb_frame_unref(SsbFrame *frame)
{
    if (frame == NULL || !g_atomic_int_dec_and_test(&frame->ref_count))
        return;
    if (frame->slot != NULL) {
        ssb_slot_give_back(frame->slot, frame->seq);
        ssb_slot_unref(frame->slot);
    }
    if (frame->sample != NULL) {
        gst_video_frame_unmap(&frame->video);
        gst_sample_unref(frame->sample);
    }
    g_free(frame);
}

guint
ssb_frame_get_scanout_id(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, 0);
    return frame->scanout_id;
}

guint64
ssb_frame_get_seq(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, 0);
    return frame->seq;
}

guint
ssb_frame_get_width(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, 0);
    return frame->width;
}

guint
ssb_frame_get_height(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, 0);
    return frame->height;
}

guint32
ssb_frame_get_fourcc(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, 0);
    return frame->fourcc;
}

SsbFrameBacking
ssb_frame_get_backing(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, SSB_FRAME_BACKING_SHM);
    return frame->backing;
}

const char *
ssb_frame_get_backing_name(const SsbFrame *frame)
{
    switch (frame->backing) {
    case SSB_FRAME_BACKING_SHM:
        return "shm";
    case SSB_FRAME_BACKING_DMABUF:
        return "dmabuf";
    case SSB_FRAME_BACKING_VIDEO:
        return ssb_proto_codec_name(frame->codec) ? ssb_proto_codec_name(frame->codec) : "video";
    }
    return "none";
}

const guint8 *
ssb_frame_get_data(const SsbFrame *frame, guint *stride)
{
    const struct ssb_msg_slot_announce *layout;

    g_return_val_if_fail(frame != NULL, NULL);
    if (frame->backing == SSB_FRAME_BACKING_VIDEO) {
        if (stride != NULL)
            *stride = (guint)GST_VIDEO_FRAME_PLANE_STRIDE(&frame->video, 0);
        return GST_VIDEO_FRAME_PLANE_DATA(&frame->video, 0);
    }
    if (frame->backing != SSB_FRAME_BACKING_SHM)
        return NULL;
    layout = ssb_slot_get_layout(frame->slot);
    if (stride != NULL)
        *stride = layout->planes[0].stride;
    return ssb_slot_get_map(frame->slot) + layout->planes[0].offset;
}

gboolean
ssb_frame_get_dmabuf(const SsbFrame *frame, SsbDmabufInfo *info)
{
    const struct ssb_msg_slot_announce *layout;
    const int *fds;
    guint n_fds;

    g_return_val_if_fail(frame != NULL && info != NULL, FALSE);
    if (frame->backing != SSB_FRAME_BACKING_DMABUF)
        return FALSE;
    layout = ssb_slot_get_layout(frame->slot);
    fds = ssb_slot_get_fds(frame->slot, &n_fds);
    memset(info, 0, sizeof(*info));
    info->n_planes = layout->n_planes;
    info->modifier = layout->modifier;
    for (guint i = 0; i < layout->n_planes && i < SSB_FRAME_MAX_PLANES; i++) {
        /* One fd per plane (spec 4.5). */
        info->fds[i] = i < n_fds ? fds[i] : fds[0];
        info->offsets[i] = layout->planes[i].offset;
        info->strides[i] = layout->planes[i].stride;
    }
    return TRUE;
}

const SsbRect *
ssb_frame_get_damage(const SsbFrame *frame, guint *n_rects)
{
    g_return_val_if_fail(frame != NULL, NULL);
    if (n_rects != NULL)
        *n_rects = frame->n_rects;
    return frame->rects;
}

gint64
ssb_frame_get_t_submit_us(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, 0);
    return frame->t_submit_us;
}

gint64
ssb_frame_get_t_received_us(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, 0);
    return frame->t_received_us;
}

gint64
ssb_frame_get_t_decoded_us(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, 0);
    return frame->t_decoded_us;
}

gint64
ssb_frame_get_t_encoded_us(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, 0);
    return frame->t_encoded_us;
}

const char *
ssb_frame_get_codec(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, NULL);
    if (frame->backing != SSB_FRAME_BACKING_VIDEO)
        return NULL;
    return ssb_proto_codec_name(frame->codec);
}

guint
ssb_frame_get_encoded_size(const SsbFrame *frame)
{
    g_return_val_if_fail(frame != NULL, 0);
    return frame->encoded_size;
}
