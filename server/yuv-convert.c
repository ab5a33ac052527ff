/* Damage-only RGB -> I420 for the remote path (see encoder.h).
 *
 * The stream keeps an I420 copy of each shadow and converts only the
 * damage since that copy's content, so videoconvert (~5-8 ms at 1080p)
 * leaves the pipeline.  Small areas go through the plain C loop below,
 * 2x2 blocks at a time (rects rounded out to even edges for 4:2:0); a
 * large area is cheaper as one whole-frame GstVideoConverter on two
 * threads, exactly what videoconvert n-threads=2 did before.
 *
 * The matrix and range come from the same GstVideoInfo whose caps the
 * encoder gets (BT.709 limited at HD sizes, BT.601 below), so the encoder
 * signals what we computed.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "encoder.h"

/* Above this share of the frame (in 1/100) convert the whole frame. */
#define SSB_YUV_FULL_PERCENT 40u
#define SSB_YUV_SHIFT 16

struct ssb_yuv {
    GMutex lock;               /* one conversion at a time (the converter) */
    GstVideoInfo in_info, out_info;
    GstVideoConverter *full;   /* lazily, for large damage */
    uint32_t r_off, g_off, b_off;
    bool h_cosited;            /* chroma at even columns: [1 2 1] filter */
    /* Fixed point (SSB_YUV_SHIFT) coefficients, offsets already scaled. */
    int32_t yr, yg, yb, ur, ug, ub, vr, vg, vb;
    int32_t y_add, c_add;
};

static const char *
rgb_format(uint32_t fourcc)
{
    switch (fourcc) {
    case SSB_FORMAT_XRGB8888:
        return "BGRx";
    case SSB_FORMAT_ARGB8888:
        return "BGRA";
    case SSB_FORMAT_XBGR8888:
        return "RGBx";
    case SSB_FORMAT_ABGR8888:
        return "RGBA";
    default:
        return NULL;
    }
}

static void
set_coefficients(struct ssb_yuv *yuv)
{
    const GstVideoColorimetry *c = &yuv->out_info.colorimetry;
    bool full = c->range == GST_VIDEO_COLOR_RANGE_0_255;
    double kr, kb, kg, ys = full ? 1.0 : 219.0 / 255.0, cs = full ? 1.0 : 224.0 / 255.0;
    double one = (double)(1 << SSB_YUV_SHIFT);

    if (!gst_video_color_matrix_get_Kr_Kb(c->matrix, &kr, &kb)) {
        kr = 0.299; /* BT.601 */
        kb = 0.114;
    }
    kg = 1.0 - kr - kb;
    yuv->yr = (int32_t)(kr * ys * one + 0.5);
    yuv->yg = (int32_t)(kg * ys * one + 0.5);
    yuv->yb = (int32_t)(kb * ys * one + 0.5);
    /* Cb = (B - Y) / (2 (1 - Kb)), Cr = (R - Y) / (2 (1 - Kr)) */
    yuv->ur = (int32_t)(-kr / (2.0 * (1.0 - kb)) * cs * one - 0.5);
    yuv->ug = (int32_t)(-kg / (2.0 * (1.0 - kb)) * cs * one - 0.5);
    yuv->ub = (int32_t)(0.5 * cs * one + 0.5);
    yuv->vr = (int32_t)(0.5 * cs * one + 0.5);
    yuv->vg = (int32_t)(-kg / (2.0 * (1.0 - kr)) * cs * one - 0.5);
    yuv->vb = (int32_t)(-kb / (2.0 * (1.0 - kr)) * cs * one - 0.5);
    yuv->y_add = ((full ? 0 : 16) << SSB_YUV_SHIFT) + (1 << (SSB_YUV_SHIFT - 1));
    yuv->c_add = (128 << SSB_YUV_SHIFT) + (1 << (SSB_YUV_SHIFT - 1));
}

struct ssb_yuv *
ssb_yuv_new(uint32_t width, uint32_t height, uint32_t fourcc)
{
    const char *format = rgb_format(fourcc);
    struct ssb_yuv *yuv;
    bool bgr;

    if (!format || width == 0 || height == 0 || width > INT32_MAX || height > INT32_MAX)
        return NULL;
    yuv = g_new0(struct ssb_yuv, 1);
    if (!gst_video_info_set_format(&yuv->in_info, gst_video_format_from_string(format), width,
                                   height) ||
        !gst_video_info_set_format(&yuv->out_info, GST_VIDEO_FORMAT_I420, width, height)) {
        g_free(yuv);
        return NULL;
    }
    bgr = format[0] == 'B';
    yuv->r_off = bgr ? 2 : 0;
    yuv->g_off = 1;
    yuv->b_off = bgr ? 0 : 2;
    yuv->h_cosited = (yuv->out_info.chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED) != 0;
    set_coefficients(yuv);
    g_mutex_init(&yuv->lock);
    return yuv;
}

void
ssb_yuv_free(struct ssb_yuv *yuv)
{
    if (!yuv)
        return;
    g_clear_pointer(&yuv->full, gst_video_converter_free);
    g_mutex_clear(&yuv->lock);
    g_free(yuv);
}

const GstVideoInfo *
ssb_yuv_info(const struct ssb_yuv *yuv)
{
    return &yuv->out_info;
}

static void
convert_full(struct ssb_yuv *yuv, uint8_t *dst, const uint8_t *src, uint32_t src_stride)
{
    GstVideoFrame in = { 0 }, out = { 0 };
    GstVideoInfo in_info = yuv->in_info;

    if (!yuv->full)
        yuv->full = gst_video_converter_new(
            &yuv->in_info, &yuv->out_info,
            gst_structure_new("options", GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT, 2u,
                              NULL));
    in_info.stride[0] = (gint)src_stride;
    in.info = in_info;
    in.data[0] = (gpointer)src;
    out.info = yuv->out_info;
    for (guint i = 0; i < GST_VIDEO_INFO_N_PLANES(&yuv->out_info); i++)
        out.data[i] = dst + GST_VIDEO_INFO_PLANE_OFFSET(&yuv->out_info, i);
    gst_video_converter_frame(yuv->full, &in, &out);
}

/* Chroma of one pair of rows at (even) column @x, from RGB sums of
 * weight 1 << @bits. */
static inline void
chroma(const struct ssb_yuv *yuv, int32_t rs, int32_t gs, int32_t bs, int bits, uint8_t *u,
       uint8_t *v)
{
    /* The offset is scaled along, so it stays exact. */
    *u = (uint8_t)((yuv->ur * rs + yuv->ug * gs + yuv->ub * bs + (yuv->c_add << bits)) >>
                   (SSB_YUV_SHIFT + bits));
    *v = (uint8_t)((yuv->vr * rs + yuv->vg * gs + yuv->vb * bs + (yuv->c_add << bits)) >>
                   (SSB_YUV_SHIFT + bits));
}

/* Rows @r0/@r1 (the same at an odd bottom edge) from even column @x to
 * @x_end: 2x2 blocks to four lumas and one chroma pair, the chroma
 * sited as GStreamer does (centred: box; H-cosited: [1 2 1] across). */
static inline void
convert_rows(const struct ssb_yuv *yuv, const uint8_t *r0, const uint8_t *r1, uint8_t *y0,
             uint8_t *y1, uint8_t *u, uint8_t *v, uint32_t x, uint32_t x_end, uint32_t width)
{
    const uint32_t ro = yuv->r_off, go = yuv->g_off, bo = yuv->b_off;

    for (; x < x_end; x += 2) {
        uint32_t xb = x + 1 < width ? x + 1 : x;
        const uint8_t *p[4] = { r0 + x * 4u, r0 + xb * 4u, r1 + x * 4u, r1 + xb * 4u };
        int32_t rs = 0, gs = 0, bs = 0;
        uint8_t ys[4];

        for (int i = 0; i < 4; i++) {
            int32_t r = p[i][ro], g = p[i][go], b = p[i][bo];

            ys[i] = (uint8_t)((yuv->yr * r + yuv->yg * g + yuv->yb * b + yuv->y_add) >>
                              SSB_YUV_SHIFT);
            rs += r;
            gs += g;
            bs += b;
        }
        if (yuv->h_cosited) {
            uint32_t xa = x ? x - 1 : x;
            const uint8_t *q0 = r0 + xa * 4u, *q1 = r1 + xa * 4u;

            /* [1 2 1]: the left neighbour, the pixel twice more, the right. */
            rs += p[0][ro] + p[2][ro] + q0[ro] + q1[ro];
            gs += p[0][go] + p[2][go] + q0[go] + q1[go];
            bs += p[0][bo] + p[2][bo] + q0[bo] + q1[bo];
            chroma(yuv, rs, gs, bs, 3, &u[x / 2], &v[x / 2]);
        } else {
            chroma(yuv, rs, gs, bs, 2, &u[x / 2], &v[x / 2]);
        }
        y0[x] = ys[0];
        if (xb != x)
            y0[xb] = ys[1];
        y1[x] = ys[2];
        if (xb != x)
            y1[xb] = ys[3];
    }
}

static void
convert_rect(const struct ssb_yuv *yuv, uint8_t *dst, const uint8_t *src, uint32_t src_stride,
             const struct ssb_rect *rect)
{
    const GstVideoInfo *o = &yuv->out_info;
    uint32_t w = (uint32_t)o->width, h = (uint32_t)o->height;
    uint32_t x0 = rect->x & ~1u, y0 = rect->y & ~1u;
    uint32_t x1 = MIN((uint64_t)rect->x + rect->width, w), y1 = MIN((uint64_t)rect->y + rect->height, h);
    uint8_t *yp = dst + o->offset[0], *up = dst + o->offset[1], *vp = dst + o->offset[2];

    if (x0 >= x1 || y0 >= y1)
        return;
    if (yuv->h_cosited) /* the next chroma sample reads the last column too */
        x1 = MIN(x1 + 2, w);
    for (uint32_t y = y0; y < y1; y += 2) {
        uint32_t yb = y + 1 < h ? y + 1 : y;

        convert_rows(yuv, src + (size_t)y * src_stride, src + (size_t)yb * src_stride,
                     yp + (size_t)y * o->stride[0], yp + (size_t)yb * o->stride[0],
                     up + (size_t)(y / 2) * o->stride[1], vp + (size_t)(y / 2) * o->stride[2],
                     x0, x1, w);
    }
}

void
ssb_yuv_convert(struct ssb_yuv *yuv, uint8_t *dst, const uint8_t *src, uint32_t src_stride,
                const struct ssb_rect *rects, uint32_t n)
{
    uint64_t area = 0, frame = (uint64_t)yuv->out_info.width * (uint64_t)yuv->out_info.height;

    for (uint32_t i = 0; rects && i < n; i++)
        area += (uint64_t)rects[i].width * rects[i].height;
    g_mutex_lock(&yuv->lock);
    if (!rects || area * 100u >= frame * SSB_YUV_FULL_PERCENT) {
        convert_full(yuv, dst, src, src_stride);
    } else {
        for (uint32_t i = 0; i < n; i++)
            convert_rect(yuv, dst, src, src_stride, &rects[i]);
    }
    g_mutex_unlock(&yuv->lock);
}
