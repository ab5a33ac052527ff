/* ssb-virgl-vmm: a small real VMM that renders with virglrenderer, the way
 * a virtio-gpu VMM does, and shows its scanouts through the sideband's
 * virgl adapter (spice-sideband/server-virgl.h).
 *
 * virglrenderer is initialised as QEMU does it: through the renderer's
 * GL-context callbacks, with contexts of our own on an EGL surfaceless
 * display (EGL_MESA_platform_surfaceless; Mesa's llvmpipe on machines
 * without a GPU).  --init gbm instead lets virglrenderer open a render
 * node itself (VIRGL_RENDERER_USE_EGL; resources then come from GBM and
 * can be exported as DMA-BUFs); --init surfaceless uses its own
 * surfaceless EGL (VIRGL_RENDERER_USE_EGL | VIRGL_RENDERER_USE_SURFACELESS).
 *
 * Each scanout is a virgl resource (2D texture, B8G8R8X8_UNORM, bound as
 * render target and sampler view, as a guest's framebuffer is), filled
 * from a CPU canvas with virgl_renderer_transfer_write_iov() the way a
 * guest's TRANSFER_TO_HOST_2D does, then flushed with its damage.
 *
 * Usage: ssb-virgl-vmm --listen unix:PATH|tcp:HOST:PORT [options]
 *   --scanouts N      scanouts 0..N-1 at start (default 1, max 8)
 *   --size WxH        their size (default 640x480)
 *   --pattern KIND    hash (default: tests/server/test-pattern.h, exact
 *                     checks) | smooth (common/pattern.h with stamp and
 *                     reference bars, every submit repaints all of it)
 *   --init KIND       callbacks (default) | surfaceless | gbm
 *   --no-local, --codecs LIST, --encoder STR   as ssb-test-vmm
 *
 * stdin, one command a line, one reply line each:
 *   submit ID [X Y W H]  draw frame seq+1 into the rect (whole: no rect),
 *                        write it to the resource, flush the rect
 *                        -> "submitted ID SEQ" | "error: ..."
 *   resize ID W H        a new resource of that size (content seq 0),
 *                        attached, then the old one destroyed -> "ok"
 *   destroy ID           destroys the attached resource, still attached
 *   detach ID            ssb_server_virgl_detach
 *   attach ID            a new resource of the scanout's size holding
 *                        the canvas, attached -> "ok"
 *   stats                one JSON object (server stats)
 *   virgl ID             one JSON object (ssb_server_virgl_get_info)
 *   quit
 * "READY" once listening.  Logs go to stderr.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <glib-unix.h>
#include <glib.h>
#include <virgl/virglrenderer.h>

#include <spice-sideband/server-virgl.h>
#include <spice-sideband/server.h>

#include "glib-spice-core.h"
#include "pattern.h"
#include "test-pattern.h"

#define VMM_MAX_SCANOUTS 8u
#define PIPE_TEXTURE_2D 2u
#define VIRGL_FORMAT_B8G8R8X8_UNORM 2u

struct virgl_box {
    uint32_t x, y, z, w, h, d;
};

struct vscanout {
    uint32_t id;
    bool enabled;
    uint32_t width, height, stride;
    uint8_t *canvas;
    uint64_t seq;
    uint32_t res_id;       /* 0: none */
};

struct vmm {
    GMainLoop *loop;
    SpiceServer *spice;
    struct ssb_server *ssb;
    EGLDisplay dpy;
    uint32_t next_res_id;
    struct vscanout s[VMM_MAX_SCANOUTS];
};

static struct {
    char *listen, *size, *pattern, *init, *codecs, *encoder;
    int scanouts;
    gboolean no_local;
    bool smooth;
} opt = { .scanouts = 1 };

static GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &opt.listen, "unix:PATH or tcp:HOST:PORT", NULL },
    { "scanouts", 0, 0, G_OPTION_ARG_INT, &opt.scanouts, "scanouts at start", "N" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &opt.size, "scanout size", "WxH" },
    { "pattern", 0, 0, G_OPTION_ARG_STRING, &opt.pattern, "hash|smooth", "KIND" },
    { "init", 0, 0, G_OPTION_ARG_STRING, &opt.init, "callbacks|surfaceless|gbm", "KIND" },
    { "no-local", 0, 0, G_OPTION_ARG_NONE, &opt.no_local, "no local socket", NULL },
    { "codecs", 0, 0, G_OPTION_ARG_STRING, &opt.codecs, "codecs to encode", "LIST" },
    { "encoder", 0, 0, G_OPTION_ARG_STRING, &opt.encoder, "encoder element/fragment", "STR" },
    { NULL }
};

static void reply(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void
reply(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    putchar('\n');
    fflush(stdout);
}

/* ---- virglrenderer on an EGL surfaceless display ---- */

static virgl_renderer_gl_context
cb_create_gl_context(void *cookie, int scanout_idx, struct virgl_renderer_gl_ctx_param *param)
{
    struct vmm *vmm = cookie;
    EGLint attribs[] = {
        EGL_CONTEXT_MAJOR_VERSION, param->major_ver,
        EGL_CONTEXT_MINOR_VERSION, param->minor_ver,
        EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
        EGL_NONE,
    };
    /* As QEMU: shared contexts share with the one current (context 0). */
    EGLContext share = param->shared ? eglGetCurrentContext() : EGL_NO_CONTEXT;
    EGLContext ctx = eglCreateContext(vmm->dpy, EGL_NO_CONFIG_KHR, share, attribs);

    /* virglrenderer asks for 4.6 down to 3.1 until one works. */
    return ctx == EGL_NO_CONTEXT ? NULL : (virgl_renderer_gl_context)ctx;
}

static void
cb_destroy_gl_context(void *cookie, virgl_renderer_gl_context ctx)
{
    struct vmm *vmm = cookie;

    eglDestroyContext(vmm->dpy, (EGLContext)ctx);
}

static int
cb_make_current(void *cookie, int scanout_idx, virgl_renderer_gl_context ctx)
{
    struct vmm *vmm = cookie;

    return eglMakeCurrent(vmm->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, (EGLContext)ctx) ? 0 : -1;
}

static void
cb_write_fence(void *cookie, uint32_t fence)
{
}

static int
cb_get_drm_fd(void *cookie)
{
    const char *node = g_getenv("SSB_RENDER_NODE");

    return open(node ? node : "/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
}

static struct virgl_renderer_callbacks virgl_cbs = {
    .version = 2,
    .write_fence = cb_write_fence,
    .create_gl_context = cb_create_gl_context,
    .destroy_gl_context = cb_destroy_gl_context,
    .make_current = cb_make_current,
    .get_drm_fd = cb_get_drm_fd,
};

static bool
egl_open(struct vmm *vmm)
{
    const char *exts = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    EGLint major, minor;

    if (!exts || !strstr(exts, "EGL_MESA_platform_surfaceless")) {
        g_printerr("EGL_MESA_platform_surfaceless is missing\n");
        return false;
    }
    vmm->dpy = eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
    if (vmm->dpy == EGL_NO_DISPLAY || !eglInitialize(vmm->dpy, &major, &minor)) {
        g_printerr("no EGL surfaceless display (0x%x)\n", eglGetError());
        return false;
    }
    if (!eglBindAPI(EGL_OPENGL_API)) {
        g_printerr("no desktop GL on EGL\n");
        return false;
    }
    g_message("EGL %d.%d %s", major, minor, eglQueryString(vmm->dpy, EGL_VENDOR));
    return true;
}

static bool
virgl_start(struct vmm *vmm)
{
    int flags = 0;
    int err;

    if (!opt.init || !strcmp(opt.init, "callbacks")) {
        if (!egl_open(vmm))
            return false;
    } else if (!strcmp(opt.init, "surfaceless")) {
        flags = VIRGL_RENDERER_USE_EGL | VIRGL_RENDERER_USE_SURFACELESS;
    } else if (!strcmp(opt.init, "gbm")) {
        flags = VIRGL_RENDERER_USE_EGL;
    } else {
        g_printerr("bad --init\n");
        return false;
    }
    /* The cookie must not be NULL: virglrenderer 0.10 refuses to start vrend
     * without one ("invalid renderer vrend callbacks", -1). */
    err = virgl_renderer_init(vmm, flags, &virgl_cbs);
    if (err) {
        g_printerr("virgl_renderer_init: %d\n", err);
        return false;
    }
    return true;
}

/* ---- resources ---- */

static int
resource_write(uint32_t res_id, const struct vscanout *s, const struct ssb_rect *r)
{
    struct virgl_box box = { r->x, r->y, 0, r->width, r->height, 1 };
    struct iovec iov = { s->canvas, (size_t)s->stride * s->height };

    return virgl_renderer_transfer_write_iov(res_id, 0, 0, s->stride, 0, &box,
                                             (uint64_t)r->y * s->stride + (uint64_t)r->x * 4,
                                             &iov, 1);
}

/* A new resource of @s's size holding its canvas.  Returns the id or 0. */
static uint32_t
resource_new(struct vmm *vmm, struct vscanout *s)
{
    struct virgl_renderer_resource_create_args args = {
        .handle = ++vmm->next_res_id,
        .target = PIPE_TEXTURE_2D,
        .format = VIRGL_FORMAT_B8G8R8X8_UNORM,
        .bind = VIRGL_RES_BIND_RENDER_TARGET | VIRGL_RES_BIND_SAMPLER_VIEW |
                VIRGL_RES_BIND_SCANOUT,
        .width = s->width,
        .height = s->height,
        .depth = 1,
        .array_size = 1,
    };
    struct ssb_rect all = { 0, 0, s->width, s->height };
    int err = virgl_renderer_resource_create(&args, NULL, 0);

    if (err) {
        g_warning("virgl_renderer_resource_create: %d", err);
        return 0;
    }
    if ((err = resource_write(args.handle, s, &all)) != 0) {
        g_warning("virgl_renderer_transfer_write_iov: %d", err);
        virgl_renderer_resource_unref(args.handle);
        return 0;
    }
    return args.handle;
}

/* Frame @seq into @r of the canvas. */
static void
paint(struct vscanout *s, uint64_t seq, const struct ssb_rect *r)
{
    struct ssb_rect all = { 0, 0, s->width, s->height };
    struct ssb_pattern_stamp stamp = { .seq = (uint32_t)seq, .t_us = 0, .scanout = (uint8_t)s->id };

    if (!opt.smooth) {
        ssb_test_pattern_fill(s->canvas, s->stride, s->id, seq, r->x, r->y, r->width, r->height);
        return;
    }
    ssb_pattern_fill(s->canvas, s->stride, &all, s->id, (uint32_t)seq);
    ssb_pattern_reference(s->canvas, s->stride, SSB_PATTERN_REF_X, SSB_PATTERN_REF_Y);
    ssb_pattern_draw_stamp(s->canvas, s->stride, 0, 0, &stamp);
}

static void
canvas_setup(struct vscanout *s, uint32_t w, uint32_t h)
{
    g_free(s->canvas);
    s->width = w;
    s->height = h;
    s->stride = w * 4;
    s->canvas = g_malloc((size_t)s->stride * h);
    paint(s, 0, &(struct ssb_rect){ 0, 0, w, h });
}

static int
scanout_attach_new(struct vmm *vmm, struct vscanout *s)
{
    uint32_t old = s->res_id;
    uint32_t res_id = resource_new(vmm, s);
    int err;

    if (!res_id)
        return -EIO;
    err = ssb_server_virgl_attach(vmm->ssb, s->id, res_id);
    if (err < 0) {
        virgl_renderer_resource_unref(res_id);
        return err;
    }
    s->res_id = res_id;
    /* Attached to the new one first, as a guest's mode set does. */
    if (old)
        virgl_renderer_resource_unref(old);
    return 0;
}

static int
scanout_enable(struct vmm *vmm, uint32_t id, uint32_t w, uint32_t h)
{
    struct vscanout *s = &vmm->s[id];
    int err = ssb_server_scanout_enable(vmm->ssb, id, id, w, h, SSB_FORMAT_XRGB8888);

    if (err < 0)
        return err;
    s->enabled = true;
    canvas_setup(s, w, h);
    return scanout_attach_new(vmm, s);
}

static void
scanout_submit(struct vmm *vmm, uint32_t id, const struct ssb_rect *rect)
{
    struct vscanout *s = &vmm->s[id];
    struct ssb_rect whole = { 0, 0, s->width, s->height };
    const struct ssb_rect *r = rect ? rect : &whole;
    int err;

    if (!s->enabled || r->width == 0 || r->height == 0 || r->x + r->width > s->width ||
        r->y + r->height > s->height) {
        reply("error: bad scanout or rect");
        return;
    }
    /* After "destroy" there is nothing to draw into; the flush tells. */
    if (s->res_id) {
        paint(s, s->seq + 1, r);
        if ((err = resource_write(s->res_id, s, opt.smooth ? &whole : r)) != 0)
            g_message("transfer_write_iov: %d", err);
    }
    err = ssb_server_virgl_flush(vmm->ssb, id, rect, rect ? 1 : 0, 0);
    if (err < 0) {
        reply("error: flush: %s", g_strerror(-err));
        return;
    }
    reply("submitted %u %" G_GUINT64_FORMAT, id, ++s->seq);
}

/* ---- commands ---- */

static void
print_stats(struct vmm *vmm)
{
    struct ssb_server_stats st;

    ssb_server_get_stats(vmm->ssb, &st);
    reply("{\"clients\":%u,\"local_clients\":%u,\"frames_submitted\":%" G_GUINT64_FORMAT
          ",\"frames_sent\":%" G_GUINT64_FORMAT ",\"frames_skipped\":%" G_GUINT64_FORMAT
          ",\"bytes_copied\":%" G_GUINT64_FORMAT ",\"video_frames_encoded\":%" G_GUINT64_FORMAT
          ",\"virgl_dmabuf_frames\":%" G_GUINT64_FORMAT ",\"virgl_shm_readbacks\":%" G_GUINT64_FORMAT
          ",\"virgl_video_readbacks\":%" G_GUINT64_FORMAT ",\"virgl_bytes_read\":%" G_GUINT64_FORMAT
          "}",
          st.clients, st.local_clients, st.frames_submitted, st.frames_sent, st.frames_skipped,
          st.bytes_copied, st.video_frames_encoded, st.virgl_dmabuf_frames,
          st.virgl_shm_readbacks, st.virgl_video_readbacks, st.virgl_bytes_read);
}

static void
print_virgl(struct vmm *vmm, uint32_t id)
{
    struct ssb_server_virgl_info info;
    int err = ssb_server_virgl_get_info(vmm->ssb, id, &info);

    if (err < 0) {
        reply("error: %s", g_strerror(-err));
        return;
    }
    reply("{\"resource_id\":%u,\"width\":%u,\"height\":%u,\"fourcc\":%u,\"dmabuf_planes\":%u"
          ",\"modifier\":%" G_GUINT64_FORMAT ",\"flushes\":%" G_GUINT64_FORMAT
          ",\"reads\":%" G_GUINT64_FORMAT ",\"bytes_read\":%" G_GUINT64_FORMAT
          ",\"read_us\":%" G_GUINT64_FORMAT "}",
          info.resource_id, info.width, info.height, info.fourcc, info.dmabuf_planes,
          info.modifier, info.flushes, info.reads, info.bytes_read, info.read_us);
}

static bool
parse_u32s(char **argv, uint32_t *out, int n, uint32_t max)
{
    for (int i = 0; i < n; i++) {
        guint64 v;

        if (!argv[i] || !g_ascii_string_to_unsigned(argv[i], 10, 0, max, &v, NULL))
            return false;
        out[i] = (uint32_t)v;
    }
    return true;
}

static void
reply_result(int err)
{
    if (err < 0)
        reply("error: %s", g_strerror(-err));
    else
        reply("ok");
}

static int
command_resize(struct vmm *vmm, uint32_t id, uint32_t w, uint32_t h)
{
    struct vscanout *s = &vmm->s[id];

    if (!s->enabled || w < SSB_PATTERN_MIN_WIDTH || h < SSB_PATTERN_MIN_HEIGHT)
        return -EINVAL;
    canvas_setup(s, w, h);
    return scanout_attach_new(vmm, s);
}

static int
command_destroy(struct vmm *vmm, uint32_t id)
{
    struct vscanout *s = &vmm->s[id];

    if (!s->res_id)
        return -ENOENT;
    virgl_renderer_resource_unref(s->res_id);
    s->res_id = 0;
    return 0;
}

static void
command(struct vmm *vmm, const char *line)
{
    g_auto(GStrv) argv = g_strsplit_set(g_strstrip((char *)line), " \t", -1);
    int argc = (int)g_strv_length(argv);
    uint32_t id = 0, v[4] = { 0 };
    bool has_id = argc >= 2 && parse_u32s(argv + 1, &id, 1, VMM_MAX_SCANOUTS - 1);

    if (argc == 0 || !*argv[0])
        return;
    if (!strcmp(argv[0], "submit") && has_id && argc == 2) {
        scanout_submit(vmm, id, NULL);
    } else if (!strcmp(argv[0], "submit") && has_id && argc == 6 &&
               parse_u32s(argv + 2, v, 4, G_MAXUINT32)) {
        scanout_submit(vmm, id, &(struct ssb_rect){ v[0], v[1], v[2], v[3] });
    } else if (!strcmp(argv[0], "resize") && has_id && argc == 4 &&
               parse_u32s(argv + 2, v, 2, SSB_PATTERN_MAX_DIMENSION)) {
        reply_result(command_resize(vmm, id, v[0], v[1]));
    } else if (!strcmp(argv[0], "destroy") && has_id && argc == 2) {
        reply_result(command_destroy(vmm, id));
    } else if (!strcmp(argv[0], "detach") && has_id && argc == 2) {
        reply_result(ssb_server_virgl_detach(vmm->ssb, id));
    } else if (!strcmp(argv[0], "attach") && has_id && argc == 2) {
        reply_result(vmm->s[id].enabled ? scanout_attach_new(vmm, &vmm->s[id]) : -ENOENT);
    } else if (!strcmp(argv[0], "stats")) {
        print_stats(vmm);
    } else if (!strcmp(argv[0], "virgl") && has_id && argc == 2) {
        print_virgl(vmm, id);
    } else if (!strcmp(argv[0], "quit")) {
        g_main_loop_quit(vmm->loop);
    } else {
        reply("error: unknown command or arguments: %s", line);
    }
}

static gboolean
stdin_readable(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    struct vmm *vmm = data;
    g_autofree char *line = NULL;
    GIOStatus status;

    do {
        g_clear_pointer(&line, g_free);
        status = g_io_channel_read_line(ch, &line, NULL, NULL, NULL);
        if (status == G_IO_STATUS_NORMAL)
            command(vmm, line);
    } while (status == G_IO_STATUS_NORMAL && g_io_channel_get_buffer_condition(ch) & G_IO_IN);
    if (status == G_IO_STATUS_EOF || status == G_IO_STATUS_ERROR) {
        g_main_loop_quit(vmm->loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
on_signal(gpointer data)
{
    g_main_loop_quit(((struct vmm *)data)->loop);
    return G_SOURCE_CONTINUE;
}

/* ---- setup ---- */

static bool
spice_listen(struct vmm *vmm)
{
    vmm->spice = spice_server_new();
    if (g_str_has_prefix(opt.listen, "unix:")) {
        spice_server_set_addr(vmm->spice, opt.listen + 5, SPICE_ADDR_FLAG_UNIX_ONLY);
    } else {
        const char *hostport = opt.listen + 4;
        const char *colon = strrchr(hostport, ':');
        g_autofree char *host = colon ? g_strndup(hostport, (gsize)(colon - hostport)) : NULL;

        if (!colon)
            return false;
        spice_server_set_addr(vmm->spice, host, 0);
        spice_server_set_port(vmm->spice, atoi(colon + 1));
    }
    spice_server_set_noauth(vmm->spice);
    return spice_server_init(vmm->spice, ssb_glib_core_get(NULL)) == 0;
}

static bool
sideband_start(struct vmm *vmm, uint32_t w, uint32_t h)
{
    struct ssb_server_options opts;

    ssb_server_options_init(&opts);
    opts.local_socket = !opt.no_local;
    opts.encoder = opt.encoder;
    if (opt.codecs) {
        g_auto(GStrv) names = g_strsplit(opt.codecs, ",", -1);

        for (char **n = names; *n; n++) {
            enum ssb_codec c = ssb_proto_codec_from_name(g_strstrip(*n));

            if (!c)
                return false;
            opts.codecs |= SSB_CODEC_BIT(c);
        }
    }
    vmm->ssb = ssb_server_create(vmm->spice, ssb_glib_core_get(NULL), &opts);
    if (!vmm->ssb)
        return false;
    for (int i = 0; i < opt.scanouts; i++) {
        int err = scanout_enable(vmm, (uint32_t)i, w, h);

        if (err < 0) {
            g_printerr("scanout %d: %s\n", i, g_strerror(-err));
            return false;
        }
    }
    return true;
}

static bool
parse_options(uint32_t *w, uint32_t *h)
{
    if (!opt.listen || (!g_str_has_prefix(opt.listen, "unix:") &&
                        !g_str_has_prefix(opt.listen, "tcp:")))
        return false;
    if (opt.size && (sscanf(opt.size, "%ux%u", w, h) != 2 || *w < SSB_PATTERN_MIN_WIDTH ||
                     *h < SSB_PATTERN_MIN_HEIGHT || *w > SSB_PATTERN_MAX_DIMENSION ||
                     *h > SSB_PATTERN_MAX_DIMENSION))
        return false;
    if (opt.scanouts < 0 || opt.scanouts > (int)VMM_MAX_SCANOUTS)
        return false;
    if (opt.pattern && strcmp(opt.pattern, "hash") && strcmp(opt.pattern, "smooth"))
        return false;
    opt.smooth = opt.pattern && !strcmp(opt.pattern, "smooth");
    return true;
}

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- virglrenderer test VMM");
    g_autoptr(GError) error = NULL;
    static struct vmm vmm;
    uint32_t w = 640, h = 480;
    GIOChannel *in;

    g_log_writer_default_set_use_stderr(TRUE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("%s\n", error->message);
        return 2;
    }
    if (!parse_options(&w, &h)) {
        g_printerr("bad options (see the comment at the top of %s)\n", __FILE__);
        return 2;
    }
    for (uint32_t i = 0; i < VMM_MAX_SCANOUTS; i++)
        vmm.s[i].id = i;
    vmm.dpy = EGL_NO_DISPLAY;
    vmm.loop = g_main_loop_new(NULL, FALSE);
    signal(SIGPIPE, SIG_IGN);
    if (!virgl_start(&vmm))
        return 1;
    if (!spice_listen(&vmm) || !sideband_start(&vmm, w, h)) {
        g_printerr("cannot start the SPICE server or the sideband\n");
        return 1;
    }
    in = g_io_channel_unix_new(STDIN_FILENO);
    g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_readable, &vmm);
    g_unix_signal_add(SIGINT, on_signal, &vmm);
    g_unix_signal_add(SIGTERM, on_signal, &vmm);
    reply("READY");
    g_main_loop_run(vmm.loop);

    ssb_server_destroy(vmm.ssb);
    for (uint32_t i = 0; i < VMM_MAX_SCANOUTS; i++) {
        if (vmm.s[i].res_id)
            virgl_renderer_resource_unref(vmm.s[i].res_id);
        g_free(vmm.s[i].canvas);
    }
    virgl_renderer_cleanup(&vmm);
    if (vmm.dpy != EGL_NO_DISPLAY) {
        eglMakeCurrent(vmm.dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        eglTerminate(vmm.dpy);
        eglReleaseThread();
    }
    spice_server_destroy(vmm.spice);
    g_io_channel_unref(in);
    g_main_loop_unref(vmm.loop);
    return 0;
}
