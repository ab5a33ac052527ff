/* guest-draw: the test guest's only program.  Lights every connected
 * connector of a DRM device and animates
 * common/pattern.c on it, a different pattern and stamp per head, at a
 * steady rate.  Raw KMS uAPI only (the kernel's drm.h and drm_mode.h, which
 * Debian ships in libdrm-dev's include/libdrm), so it links statically
 * without libdrm.
 *
 * Usage: guest-draw [--device PATH] [--fps N] [--damage PCT] [--frames N]
 *                   [--mode dirty|flip] [--quiet]
 *
 * Each head runs the mode of its video=Virtual-N:WxH kernel argument (else
 * its preferred mode).  Head h is the connector Virtual-(h+1), i.e.
 * virtio-gpu scanout h; its stamp carries scanout = h, seq = frame number
 * (from 1) and t_us = the guest's CLOCK_MONOTONIC at submit.  Right after a head's frame is
 * submitted it prints one line on stdout (the serial console):
 *
 *   ssb-frame HEAD SEQ
 *
 * so a host can timestamp frames with its own clock.  Modes:
 *   dirty  (default) one dumb buffer per head scanned out; the frame is
 *          rendered off screen, its damage copied in and flushed with
 *          DRM_IOCTL_MODE_DIRTYFB (virtio-gpu transfers only those rects);
 *   flip   two dumb buffers per head, the whole frame copied into the back
 *          one and shown with DRM_IOCTL_MODE_PAGE_FLIP, waiting for the
 *          flip event (a compositor's way; the host sees full frames).
 * Exits 0 after --frames frames (default: never), 1 on error.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

#include "pattern.h"

#define MAX_HEADS 16u
#define MAX_DAMAGE 8u

enum draw_mode { MODE_DIRTY, MODE_FLIP };

struct dumb {
    uint32_t handle, fb_id, pitch;
    uint64_t size;
    uint8_t *map;
};

struct head {
    uint32_t index;             /* virtio-gpu scanout: connector type id - 1 */
    uint32_t connector_id, crtc_id;
    struct drm_mode_modeinfo mode;
    struct dumb bufs[2];
    uint32_t front;             /* index into bufs of the one scanned out */
    struct ssb_pattern *pattern;
    int flip_pending;
};

struct options {
    const char *device;
    uint32_t fps, damage_pct;
    uint64_t frames;            /* 0: run forever */
    enum draw_mode mode;
    int quiet;
};

static int
xioctl(int fd, unsigned long request, void *arg)
{
    int r;

    do {
        r = ioctl(fd, request, arg);
    } while (r < 0 && (errno == EINTR || errno == EAGAIN));
    return r < 0 ? -errno : 0;
}

static uint64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- discovery ----------------------------------------------------------- */

/* Room for the id array of a two-pass ioctl, after the first pass gave its
 * count; the caller frees it. */
static uint32_t *
alloc_ids(uint32_t count)
{
    return calloc(count ? count : 1, sizeof(uint32_t));
}

static int
get_connector(int fd, uint32_t id, struct drm_mode_get_connector *conn,
              struct drm_mode_modeinfo **modes, uint32_t **encoders)
{
    int r;

    *modes = NULL;
    *encoders = NULL;
    for (;;) {
        memset(conn, 0, sizeof(*conn));
        conn->connector_id = id;
        r = xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, conn);   /* probes */
        if (r)
            return r;
        uint32_t n_modes = conn->count_modes, n_enc = conn->count_encoders;
        free(*modes);
        free(*encoders);
        *modes = calloc(n_modes ? n_modes : 1, sizeof(**modes));
        *encoders = alloc_ids(n_enc);
        if (!*modes || !*encoders)
            return -ENOMEM;
        conn->count_props = 0;
        conn->modes_ptr = (uintptr_t)*modes;
        conn->encoders_ptr = (uintptr_t)*encoders;
        r = xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, conn);
        if (r)
            return r;
        /* A hotplug between the passes changes the counts: ask again. */
        if (conn->count_modes == n_modes && conn->count_encoders == n_enc)
            return 0;
    }
}

/* A CRTC that one of the connector's encoders can drive and that no earlier
 * head took; 0 if none. */
static uint32_t
pick_crtc(int fd, const uint32_t *encoders, uint32_t n_enc, const uint32_t *crtcs,
          uint32_t n_crtcs, uint32_t used_mask)
{
    for (uint32_t e = 0; e < n_enc; e++) {
        struct drm_mode_get_encoder enc = { .encoder_id = encoders[e] };

        if (xioctl(fd, DRM_IOCTL_MODE_GETENCODER, &enc))
            continue;
        for (uint32_t c = 0; c < n_crtcs && c < 32; c++) {
            if ((enc.possible_crtcs & (1u << c)) && !(used_mask & (1u << c)))
                return crtcs[c];
        }
    }
    return 0;
}

/* The mode a video=Virtual-N:WxH argument asked for (the kernel adds it as
 * a user-defined mode), else the preferred one, else the first. */
static const struct drm_mode_modeinfo *
pick_mode(const struct drm_mode_modeinfo *modes, uint32_t n)
{
    static const uint32_t wanted[] = { DRM_MODE_TYPE_USERDEF, DRM_MODE_TYPE_PREFERRED };

    for (uint32_t w = 0; w < sizeof(wanted) / sizeof(wanted[0]); w++) {
        for (uint32_t i = 0; i < n; i++) {
            if (modes[i].type & wanted[w])
                return &modes[i];
        }
    }
    return n ? &modes[0] : NULL;
}

static uint32_t
crtc_bit(const uint32_t *crtcs, uint32_t n_crtcs, uint32_t crtc_id)
{
    for (uint32_t c = 0; c < n_crtcs && c < 32; c++) {
        if (crtcs[c] == crtc_id)
            return 1u << c;
    }
    return 0;
}

/* Finds the connected connectors; returns the number of heads or -errno. */
static int
find_heads(int fd, struct head *heads)
{
    struct drm_mode_card_res res = { 0 };
    uint32_t *connectors = NULL, *crtcs = NULL, used = 0;
    int n = 0, r;

    r = xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res);
    if (r)
        return r;
    connectors = alloc_ids(res.count_connectors);
    crtcs = alloc_ids(res.count_crtcs);
    if (!connectors || !crtcs) {
        r = -ENOMEM;
        goto out;
    }
    res.connector_id_ptr = (uintptr_t)connectors;
    res.crtc_id_ptr = (uintptr_t)crtcs;
    res.count_fbs = res.count_encoders = 0;
    r = xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res);
    if (r)
        goto out;

    for (uint32_t i = 0; i < res.count_connectors && n < (int)MAX_HEADS; i++) {
        struct drm_mode_get_connector conn;
        struct drm_mode_modeinfo *modes;
        uint32_t *encoders;

        r = get_connector(fd, connectors[i], &conn, &modes, &encoders);
        const struct drm_mode_modeinfo *mode = r ? NULL : pick_mode(modes, conn.count_modes);
        if (mode && conn.connection == 1 /* connected */) {
            uint32_t crtc = pick_crtc(fd, encoders, conn.count_encoders, crtcs,
                                      res.count_crtcs, used);
            if (crtc) {
                used |= crtc_bit(crtcs, res.count_crtcs, crtc);
                heads[n] = (struct head){
                    .index = conn.connector_type_id ? conn.connector_type_id - 1 : (uint32_t)n,
                    .connector_id = conn.connector_id,
                    .crtc_id = crtc,
                    .mode = *mode,
                };
                n++;
            } else {
                fprintf(stderr, "guest-draw: no free CRTC for connector %u\n", connectors[i]);
            }
        }
        free(modes);
        free(encoders);
    }
    r = n;
out:
    free(connectors);
    free(crtcs);
    return r;
}

/* ---- buffers --------------------------------------------------------------- */

static int
dumb_create(int fd, uint32_t width, uint32_t height, struct dumb *buf)
{
    struct drm_mode_create_dumb create = { .width = width, .height = height, .bpp = 32 };
    int r = xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create);

    if (r)
        return r;
    buf->handle = create.handle;
    buf->pitch = create.pitch;
    buf->size = create.size;

    struct drm_mode_fb_cmd fb = {
        .width = width, .height = height, .pitch = create.pitch,
        .bpp = 32, .depth = 24, .handle = create.handle,
    };
    r = xioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb);
    if (r)
        return r;
    buf->fb_id = fb.fb_id;

    struct drm_mode_map_dumb map = { .handle = create.handle };
    r = xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map);
    if (r)
        return r;
    void *p = mmap(NULL, create.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   (off_t)map.offset);
    if (p == MAP_FAILED)
        return -errno;
    buf->map = p;
    return 0;
}

static void
copy_rect(struct dumb *dst, const uint8_t *src, uint32_t src_stride, const struct ssb_rect *r)
{
    for (uint32_t y = r->y; y < r->y + r->height; y++)
        memcpy(dst->map + (size_t)y * dst->pitch + (size_t)r->x * 4,
               src + (size_t)y * src_stride + (size_t)r->x * 4, (size_t)r->width * 4);
}

static int
head_setup(int fd, struct head *h, const struct options *opt)
{
    uint32_t w = h->mode.hdisplay, ht = h->mode.vdisplay;
    int r;

    h->pattern = ssb_pattern_new(h->index, w, ht, opt->damage_pct);
    if (!h->pattern) {
        fprintf(stderr, "guest-draw: head %u: %ux%u is outside the pattern's sizes\n",
                h->index, w, ht);
        return -EINVAL;
    }
    for (uint32_t b = 0; b < (opt->mode == MODE_FLIP ? 2u : 1u); b++) {
        r = dumb_create(fd, w, ht, &h->bufs[b]);
        if (r)
            return r;
        memset(h->bufs[b].map, 0, h->bufs[b].size);
    }
    struct drm_mode_crtc crtc = {
        .crtc_id = h->crtc_id,
        .fb_id = h->bufs[0].fb_id,
        .set_connectors_ptr = (uintptr_t)&h->connector_id,
        .count_connectors = 1,
        .mode = h->mode,
        .mode_valid = 1,
    };
    return xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &crtc);
}

/* ---- frames ---------------------------------------------------------------- */

static int
submit_dirty(int fd, struct head *h, const struct ssb_rect *damage, uint32_t n)
{
    uint32_t stride;
    const uint8_t *pixels = ssb_pattern_pixels(h->pattern, &stride);
    struct drm_clip_rect clips[MAX_DAMAGE];

    for (uint32_t i = 0; i < n; i++) {
        copy_rect(&h->bufs[0], pixels, stride, &damage[i]);
        clips[i] = (struct drm_clip_rect){
            (unsigned short)damage[i].x, (unsigned short)damage[i].y,
            (unsigned short)(damage[i].x + damage[i].width),
            (unsigned short)(damage[i].y + damage[i].height),
        };
    }
    struct drm_mode_fb_dirty_cmd dirty = {
        .fb_id = h->bufs[0].fb_id, .num_clips = n, .clips_ptr = (uintptr_t)clips,
    };
    return xioctl(fd, DRM_IOCTL_MODE_DIRTYFB, &dirty);
}

/* Reads DRM events until no flip of @heads is pending. */
static int
wait_flips(int fd, struct head *heads, uint32_t n_heads)
{
    for (;;) {
        int pending = 0;

        for (uint32_t i = 0; i < n_heads; i++)
            pending |= heads[i].flip_pending;
        if (!pending)
            return 0;

        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, 1000) == 0) {
            fprintf(stderr, "guest-draw: page flip event missing for 1 s\n");
            return -ETIMEDOUT;
        }
        char buf[1024];
        ssize_t len = read(fd, buf, sizeof(buf));
        if (len < 0 && errno != EINTR && errno != EAGAIN)
            return -errno;
        for (ssize_t off = 0; len > 0 && off + (ssize_t)sizeof(struct drm_event) <= len;) {
            struct drm_event ev;

            memcpy(&ev, buf + off, sizeof(ev));
            if (ev.length < sizeof(ev))
                break;
            if (ev.type == DRM_EVENT_FLIP_COMPLETE &&
                off + (ssize_t)sizeof(struct drm_event_vblank) <= len) {
                struct drm_event_vblank vb;

                memcpy(&vb, buf + off, sizeof(vb));
                if (vb.user_data < n_heads)
                    heads[vb.user_data].flip_pending = 0;
            }
            off += ev.length;
        }
    }
}

static int
submit_flip(int fd, struct head *h, uint32_t slot)
{
    uint32_t stride;
    const uint8_t *pixels = ssb_pattern_pixels(h->pattern, &stride);
    struct dumb *back = &h->bufs[h->front ^ 1];
    struct ssb_rect all = { 0, 0, h->mode.hdisplay, h->mode.vdisplay };

    copy_rect(back, pixels, stride, &all);
    struct drm_mode_crtc_page_flip flip = {
        .crtc_id = h->crtc_id, .fb_id = back->fb_id,
        .flags = DRM_MODE_PAGE_FLIP_EVENT, .user_data = slot,
    };
    int r = xioctl(fd, DRM_IOCTL_MODE_PAGE_FLIP, &flip);
    if (r)
        return r;
    h->front ^= 1;
    h->flip_pending = 1;
    return 0;
}

static void
say_frame(uint32_t head, uint32_t seq)
{
    char line[48];
    int len = snprintf(line, sizeof(line), "ssb-frame %u %u\n", head, seq);

    /* One write per line, so lines from other writers never interleave. */
    if (write(STDOUT_FILENO, line, (size_t)len) < 0) {
        /* the console is gone; keep drawing */
    }
}

static int
draw_loop(int fd, struct head *heads, uint32_t n_heads, const struct options *opt)
{
    const uint64_t period_ns = 1000000000u / opt->fps;
    struct timespec next;
    uint64_t t0 = now_us(), report = t0;
    uint32_t reported_seq = 0;

    clock_gettime(CLOCK_MONOTONIC, &next);
    for (uint32_t seq = 1; !opt->frames || seq <= opt->frames; seq++) {
        for (uint32_t i = 0; i < n_heads; i++) {
            struct head *h = &heads[i];
            struct ssb_rect damage[MAX_DAMAGE];
            struct ssb_pattern_stamp stamp = { .seq = seq, .t_us = now_us(), .scanout = 0 };
            uint32_t n = ssb_pattern_next(h->pattern, &stamp, damage, MAX_DAMAGE);
            int r = opt->mode == MODE_FLIP ? submit_flip(fd, h, i)
                                           : submit_dirty(fd, h, damage, n);
            if (r) {
                fprintf(stderr, "ssb-guest: error: head %u frame %u: %s\n", h->index, seq,
                        strerror(-r));
                return r;
            }
            if (!opt->quiet)
                say_frame(h->index, seq);
        }
        if (opt->mode == MODE_FLIP && wait_flips(fd, heads, n_heads))
            return -ETIMEDOUT;

        uint64_t t = now_us();
        if (t - report >= 10000000u) {
            fprintf(stderr, "ssb-guest: %.1f fps\n",
                    (double)(seq - reported_seq) * 1e6 / (double)(t - report));
            report = t;
            reported_seq = seq;
        }
        /* Absolute deadlines keep the rate steady; a late frame does not
         * push the later ones back more than one period. */
        next.tv_nsec += (long)period_ns;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
            next = now;
        else
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    return 0;
}

/* ---- main ------------------------------------------------------------------ */

static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static int
parse_options(int argc, char **argv, struct options *opt)
{
    *opt = (struct options){ .device = "/dev/dri/card0", .fps = 30, .damage_pct = 10,
                             .mode = MODE_DIRTY };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t frames;

        if (!strcmp(a, "--quiet")) {
            opt->quiet = 1;
            continue;
        }
        if (!v)
            return -EINVAL;
        i++;
        if (!strcmp(a, "--device"))
            opt->device = v;
        else if (!strcmp(a, "--fps")) {
            if (parse_u32(v, 1, 1000, &opt->fps))
                return -EINVAL;
        } else if (!strcmp(a, "--damage")) {
            if (parse_u32(v, 1, 100, &opt->damage_pct))
                return -EINVAL;
        } else if (!strcmp(a, "--frames")) {
            if (parse_u32(v, 0, UINT32_MAX, &frames))
                return -EINVAL;
            opt->frames = frames;
        } else if (!strcmp(a, "--mode")) {
            if (!strcmp(v, "dirty"))
                opt->mode = MODE_DIRTY;
            else if (!strcmp(v, "flip"))
                opt->mode = MODE_FLIP;
            else
                return -EINVAL;
        } else {
            return -EINVAL;
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct options opt;
    struct head heads[MAX_HEADS];
    int fd, n, r;

    if (parse_options(argc, argv, &opt)) {
        fprintf(stderr, "usage: %s [--device PATH] [--fps N] [--damage PCT] [--frames N] "
                        "[--mode dirty|flip] [--quiet]\n", argv[0]);
        return 1;
    }
    fd = open(opt.device, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "ssb-guest: error: %s: %s\n", opt.device, strerror(errno));
        return 1;
    }
    n = find_heads(fd, heads);
    if (n <= 0) {
        fprintf(stderr, "ssb-guest: error: no connected head on %s%s%s\n", opt.device,
                n < 0 ? ": " : "", n < 0 ? strerror(-n) : "");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        r = head_setup(fd, &heads[i], &opt);
        if (r) {
            fprintf(stderr, "ssb-guest: error: head %u setup: %s\n", heads[i].index,
                    strerror(-r));
            return 1;
        }
        fprintf(stderr, "ssb-guest: head %u: connector %u crtc %u %ux%u\n", heads[i].index,
                heads[i].connector_id, heads[i].crtc_id, heads[i].mode.hdisplay,
                heads[i].mode.vdisplay);
    }
    fprintf(stderr, "ssb-guest: ready: %d heads, %u fps, %s\n", n, opt.fps,
            opt.mode == MODE_FLIP ? "page flips" : "dirtyfb");
    r = draw_loop(fd, heads, (uint32_t)n, &opt);
    for (int i = 0; i < n; i++)
        ssb_pattern_free(heads[i].pattern);
    close(fd);
    return r ? 1 : 0;
}
