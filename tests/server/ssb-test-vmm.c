/* ssb-test-vmm: a small real VMM for tests — a SPICE server with the
 * sideband and synthetic scanouts whose pixels follow test-pattern.h.
 *
 * Usage: ssb-test-vmm --listen unix:PATH|tcp:HOST:PORT [options]
 *   --password PW       SPICE ticket (default: no auth)
 *   --scanouts N        scanouts 0..N-1 enabled at start (default 1, max 64)
 *   --size WxH          their size (default 640x480)
 *   --fps F             submit-all F times a second (default 0: only on command)
 *   --damage PCT        damage of timed submits: a full-width band of PCT% of
 *                       the height at y = (seq * band_h) % (h - band_h + 1);
 *                       100 (default) = whole surface
 *   --buffer KIND       pixels (default) | memfd | dmabuf (a sealed memfd
 *                       standing in for a linear DMA-BUF, modifier LINEAR)
 *   --no-local          no local socket
 *   --allowed-uid UID   uid allowed on the local socket
 *   --runtime-dir DIR   parent of the local socket's directory
 *   --pattern KIND      hash (default: test-pattern.h, noisy) | smooth
 *                       (common/pattern.h ssb_pattern_fill(rect, id, seq):
 *                       a moving gradient that video compresses well)
 *   --codecs LIST       codecs the server may encode, e.g. "h264,vp8"
 *   --encoder STR       encoder element or pipeline fragment (SSB_ENCODER
 *                       in the environment still wins)
 *   --min-kbps/--max-kbps/--max-fps N   rate control bounds
 *
 * stdin, one command a line; each prints one line on stdout (flushed):
 *   submit ID [X Y W H]  -> "submitted ID SEQ" (no rect: whole surface)
 *                           or "busy ID" (memfd/dmabuf: all buffers lent out)
 *   submit-all           -> one "submitted"/"busy" line per enabled scanout
 *   resize ID W H        -> "ok"   (content restarts as seq 0)
 *   disable ID           -> "ok"
 *   enable ID W H        -> "ok"   (content starts as seq 0)
 *   stats                -> one JSON object (server stats + VMM counters)
 *   video ID             -> one JSON object (ssb_server_get_scanout_video)
 *                           or "error: ..." when the scanout has no video
 *   quit                 -> exits
 * Errors print "error: TEXT".  "READY" is printed once listening.
 * Logs go to stderr.  SIGINT/SIGTERM exit cleanly.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>

#include <spice-sideband/server.h>

#include "glib-spice-core.h"
#include "pattern.h"
#include "test-pattern.h"

#define VMM_BUFFERS 4 /* per scanout, for memfd/dmabuf: see server.h */

struct vmm;

struct vmm_buffer {
    struct vmm *vmm;
    bool orphan;          /* its scanout was resized/disabled while lent */
    bool in_flight;       /* submitted, done() not yet called */
    int fd;
    uint8_t *map;
    size_t size;
};

struct vmm_scanout {
    struct vmm *vmm;
    uint32_t id;
    bool enabled;
    uint32_t width, height, stride;
    uint8_t *canvas;      /* the current picture */
    uint64_t seq;         /* last submitted; never restarts */
    struct vmm_buffer *buffers[VMM_BUFFERS];
};

struct vmm {
    GMainLoop *loop;
    SpiceServer *spice;
    struct ssb_server *ssb;
    enum ssb_server_buffer_kind kind;
    uint64_t done_calls, busy, submit_calls;
    uint32_t in_flight;
    struct vmm_scanout scanouts[SSB_PROTO_MAX_SCANOUTS];
};

static struct {
    char *listen, *password, *size, *buffer, *runtime_dir, *pattern, *codecs, *encoder;
    int scanouts, fps, damage, min_kbps, max_kbps, max_fps;
    gint64 allowed_uid;
    gboolean no_local;
    bool smooth;
} opt = { .scanouts = 1, .damage = 100, .allowed_uid = -1 };

static GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &opt.listen, "unix:PATH or tcp:HOST:PORT", NULL },
    { "password", 0, 0, G_OPTION_ARG_STRING, &opt.password, "SPICE ticket", NULL },
    { "scanouts", 0, 0, G_OPTION_ARG_INT, &opt.scanouts, "scanouts at start", "N" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &opt.size, "scanout size", "WxH" },
    { "fps", 0, 0, G_OPTION_ARG_INT, &opt.fps, "timed submit-all rate", "F" },
    { "damage", 0, 0, G_OPTION_ARG_INT, &opt.damage, "damage of timed submits", "PCT" },
    { "buffer", 0, 0, G_OPTION_ARG_STRING, &opt.buffer, "pixels|memfd|dmabuf", "KIND" },
    { "no-local", 0, 0, G_OPTION_ARG_NONE, &opt.no_local, "no local socket", NULL },
    { "allowed-uid", 0, 0, G_OPTION_ARG_INT64, &opt.allowed_uid, "local socket uid", "UID" },
    { "runtime-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt.runtime_dir, "socket parent", "DIR" },
    { "pattern", 0, 0, G_OPTION_ARG_STRING, &opt.pattern, "hash|smooth", "KIND" },
    { "codecs", 0, 0, G_OPTION_ARG_STRING, &opt.codecs, "codecs to encode", "LIST" },
    { "encoder", 0, 0, G_OPTION_ARG_STRING, &opt.encoder, "encoder element/fragment", "STR" },
    { "min-kbps", 0, 0, G_OPTION_ARG_INT, &opt.min_kbps, "lowest video bitrate", "N" },
    { "max-kbps", 0, 0, G_OPTION_ARG_INT, &opt.max_kbps, "highest video bitrate", "N" },
    { "max-fps", 0, 0, G_OPTION_ARG_INT, &opt.max_fps, "highest video frame rate", "N" },
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

/* ---- buffers ---- */

static void
buffer_free(struct vmm_buffer *b)
{
    if (!b)
        return;
    if (b->map)
        munmap(b->map, b->size);
    if (b->fd >= 0)
        close(b->fd);
    g_free(b);
}

/* Sealed against shrink/grow so that the server may lend it (zero copy). */
static struct vmm_buffer *
buffer_new(struct vmm *vmm, size_t size)
{
    struct vmm_buffer *b = g_new0(struct vmm_buffer, 1);

    b->vmm = vmm;
    b->size = size;
    b->fd = memfd_create("ssb-test-vmm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (b->fd < 0 || ftruncate(b->fd, (off_t)size) < 0 ||
        fcntl(b->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
        g_error("cannot make a memfd: %s", g_strerror(errno));
    b->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
    if (b->map == MAP_FAILED)
        g_error("cannot map a memfd: %s", g_strerror(errno));
    return b;
}

static void
buffer_done(void *user_data)
{
    struct vmm_buffer *b = user_data;

    b->vmm->done_calls++;
    b->vmm->in_flight--;
    b->in_flight = false;
    if (b->orphan)
        buffer_free(b);
}

static void
pixels_done(void *user_data)
{
    struct vmm *vmm = user_data;

    vmm->done_calls++;
    vmm->in_flight--;
}

/* ---- scanouts ---- */

static void
scanout_drop_buffers(struct vmm_scanout *s)
{
    for (int i = 0; i < VMM_BUFFERS; i++) {
        struct vmm_buffer *b = g_steal_pointer(&s->buffers[i]);

        if (b && b->in_flight)
            b->orphan = true; /* freed by its done() */
        else
            buffer_free(b);
    }
}

/* Frame @seq's content into @r of the canvas. */
static void
paint(struct vmm_scanout *s, uint64_t seq, const struct ssb_rect *r)
{
    if (opt.smooth)
        ssb_pattern_fill(s->canvas, s->stride, r, s->id, (uint32_t)seq);
    else
        ssb_test_pattern_fill(s->canvas, s->stride, s->id, seq, r->x, r->y, r->width, r->height);
}

static void
scanout_setup(struct vmm_scanout *s, uint32_t w, uint32_t h)
{
    scanout_drop_buffers(s);
    g_free(s->canvas);
    s->width = w;
    s->height = h;
    s->stride = w * 4;
    s->canvas = g_malloc((size_t)s->stride * h);
    paint(s, 0, &(struct ssb_rect){ 0, 0, w, h });
    for (int i = 0; i < VMM_BUFFERS && s->vmm->kind != SSB_SERVER_BUFFER_PIXELS; i++)
        s->buffers[i] = buffer_new(s->vmm, (size_t)s->stride * h);
}

static struct vmm_buffer *
scanout_free_buffer(struct vmm_scanout *s)
{
    for (int i = 0; i < VMM_BUFFERS; i++) {
        if (s->buffers[i] && !s->buffers[i]->in_flight)
            return s->buffers[i];
    }
    return NULL;
}

static int
scanout_enable(struct vmm *vmm, uint32_t id, uint32_t w, uint32_t h)
{
    struct vmm_scanout *s = &vmm->scanouts[id];
    int err = ssb_server_scanout_enable(vmm->ssb, id, id, w, h, SSB_FORMAT_XRGB8888);

    if (err < 0)
        return err;
    s->enabled = true;
    scanout_setup(s, w, h);
    return 0;
}

static int
scanout_disable(struct vmm *vmm, uint32_t id)
{
    struct vmm_scanout *s = &vmm->scanouts[id];
    int err = ssb_server_scanout_disable(vmm->ssb, id);

    if (err < 0)
        return err;
    s->enabled = false;
    scanout_drop_buffers(s);
    g_clear_pointer(&s->canvas, g_free);
    return 0;
}

static int
scanout_resize(struct vmm *vmm, uint32_t id, uint32_t w, uint32_t h)
{
    int err = ssb_server_scanout_resize(vmm->ssb, id, w, h, SSB_FORMAT_XRGB8888);

    if (err == 0)
        scanout_setup(&vmm->scanouts[id], w, h);
    return err;
}

/* Draws frame seq+1 into @rect of the canvas and submits it.  Prints the
 * command's reply. */
static void
scanout_submit(struct vmm *vmm, uint32_t id, const struct ssb_rect *rect)
{
    struct vmm_scanout *s = &vmm->scanouts[id];
    struct ssb_server_buffer buf = { .kind = vmm->kind, .fourcc = SSB_FORMAT_XRGB8888 };
    struct ssb_rect whole = { 0, 0, s->width, s->height };
    struct vmm_buffer *b = NULL;
    const struct ssb_rect *r = rect ? rect : &whole;
    int err;

    if (!s->enabled || r->width == 0 || r->height == 0 || r->x + r->width > s->width ||
        r->y + r->height > s->height) {
        reply("error: bad scanout or rect");
        return;
    }
    if (vmm->kind != SSB_SERVER_BUFFER_PIXELS && !(b = scanout_free_buffer(s))) {
        vmm->busy++;
        reply("busy %u", id);
        return;
    }
    paint(s, s->seq + 1, r);
    buf.width = s->width;
    buf.height = s->height;
    if (b) {
        memcpy(b->map, s->canvas, (size_t)s->stride * s->height);
        buf.n_planes = 1;
        buf.fds[0] = b->fd;
        buf.strides[0] = s->stride;
        b->in_flight = true;
    } else {
        buf.data = s->canvas;
        buf.stride = s->stride;
    }
    vmm->submit_calls++;
    vmm->in_flight++;
    err = ssb_server_scanout_submit(vmm->ssb, id, &buf, rect, rect ? 1 : 0, 0,
                                    b ? buffer_done : pixels_done, b ? (void *)b : vmm);
    if (err < 0) {
        reply("error: submit: %s", g_strerror(-err));
        return;
    }
    reply("submitted %u %" G_GUINT64_FORMAT, id, ++s->seq);
}

static void
submit_all(struct vmm *vmm, bool timed)
{
    for (uint32_t id = 0; id < SSB_PROTO_MAX_SCANOUTS; id++) {
        struct vmm_scanout *s = &vmm->scanouts[id];
        struct ssb_rect band;

        if (!s->enabled)
            continue;
        if (!timed || opt.damage >= 100) {
            scanout_submit(vmm, id, NULL);
            continue;
        }
        band.x = 0;
        band.width = s->width;
        band.height = MAX(1u, s->height * (uint32_t)MAX(opt.damage, 0) / 100u);
        band.y = (uint32_t)(((s->seq + 1) * band.height) % (s->height - band.height + 1));
        scanout_submit(vmm, id, &band);
    }
}

static void
print_stats(struct vmm *vmm)
{
    struct ssb_server_stats st;
    /* malloc'ed bytes in use (all arenas, mmapped chunks too): what a
     * leak grows, where RSS also moves with the allocator's caching */
    struct mallinfo2 mi = mallinfo2();

    ssb_server_get_stats(vmm->ssb, &st);
    reply("{\"clients\":%u,\"local_clients\":%u,\"frames_submitted\":%" G_GUINT64_FORMAT
          ",\"frames_sent\":%" G_GUINT64_FORMAT ",\"frames_skipped\":%" G_GUINT64_FORMAT
          ",\"bytes_sent\":%" G_GUINT64_FORMAT ",\"bytes_copied\":%" G_GUINT64_FORMAT
          ",\"protocol_errors\":%" G_GUINT64_FORMAT ",\"local_rejected\":%" G_GUINT64_FORMAT
          ",\"port_family\":\"%s\",\"vmm_submits\":%" G_GUINT64_FORMAT
          ",\"vmm_done\":%" G_GUINT64_FORMAT ",\"vmm_in_flight\":%u,\"vmm_busy\":%" G_GUINT64_FORMAT
          ",\"video_frames_encoded\":%" G_GUINT64_FORMAT ",\"video_keyframes\":%" G_GUINT64_FORMAT
          ",\"video_bytes\":%" G_GUINT64_FORMAT ",\"video_bitrate_kbps\":%u,\"video_max_fps\":%u"
          ",\"heap_kib\":%zu}",
          st.clients, st.local_clients, st.frames_submitted, st.frames_sent, st.frames_skipped,
          st.bytes_sent, st.bytes_copied, st.protocol_errors, st.local_rejected,
          st.port_family == AF_UNIX ? "unix" : st.port_family ? "tcp" : "unknown",
          vmm->submit_calls, vmm->done_calls, vmm->in_flight, vmm->busy, st.video_frames_encoded,
          st.video_keyframes, st.video_bytes, st.video_bitrate_kbps, st.video_max_fps,
          (mi.uordblks + mi.hblkhd) / 1024);
}

static void
print_video(struct vmm *vmm, uint32_t id)
{
    struct ssb_server_video_info v;
    int err = ssb_server_get_scanout_video(vmm->ssb, id, &v);

    if (err < 0) {
        reply("error: %s", g_strerror(-err));
        return;
    }
    reply("{\"codec\":\"%s\",\"encoder\":\"%s\",\"width\":%u,\"height\":%u,\"clients\":%u"
          ",\"bitrate_kbps\":%u,\"max_fps\":%u,\"frames_encoded\":%" G_GUINT64_FORMAT
          ",\"keyframes\":%" G_GUINT64_FORMAT ",\"bytes\":%" G_GUINT64_FORMAT
          ",\"frames_skipped\":%" G_GUINT64_FORMAT ",\"encode_us_p50\":%u,\"encode_us_p99\":%u"
          ",\"send_us_p50\":%u,\"send_us_p99\":%u}",
          ssb_proto_codec_name(v.codec), v.encoder, v.width, v.height, v.clients, v.bitrate_kbps,
          v.max_fps, v.frames_encoded, v.keyframes, v.bytes, v.frames_skipped, v.encode_us_p50,
          v.encode_us_p99, v.send_us_p50, v.send_us_p99);
}

/* ---- commands ---- */

static bool
parse_id(const char *text, uint32_t *id)
{
    guint64 v;

    if (!text || !g_ascii_string_to_unsigned(text, 10, 0, SSB_PROTO_MAX_SCANOUTS - 1, &v, NULL))
        return false;
    *id = (uint32_t)v;
    return true;
}

static bool
parse_u32s(char **argv, uint32_t *out, int n)
{
    for (int i = 0; i < n; i++) {
        guint64 v;

        if (!argv[i] || !g_ascii_string_to_unsigned(argv[i], 10, 0, G_MAXUINT32, &v, NULL))
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

static void
command_submit(struct vmm *vmm, char **argv, int argc)
{
    uint32_t id, r[4] = { 0 };
    struct ssb_rect rect;

    if (!parse_id(argv[1], &id) || (argc != 2 && argc != 6) ||
        (argc == 6 && !parse_u32s(argv + 2, r, 4))) {
        reply("error: usage: submit ID [X Y W H]");
        return;
    }
    rect = (struct ssb_rect){ r[0], r[1], r[2], r[3] };
    scanout_submit(vmm, id, argc == 6 ? &rect : NULL);
}

static void
command(struct vmm *vmm, const char *line)
{
    g_auto(GStrv) argv = g_strsplit_set(g_strstrip((char *)line), " \t", -1);
    int argc = (int)g_strv_length(argv);
    uint32_t id, wh[2];

    if (argc == 0 || !*argv[0])
        return;
    if (!strcmp(argv[0], "submit"))
        command_submit(vmm, argv, argc);
    else if (!strcmp(argv[0], "submit-all"))
        submit_all(vmm, false);
    else if (!strcmp(argv[0], "resize") && argc == 4 && parse_id(argv[1], &id) &&
             parse_u32s(argv + 2, wh, 2))
        reply_result(scanout_resize(vmm, id, wh[0], wh[1]));
    else if (!strcmp(argv[0], "enable") && argc == 4 && parse_id(argv[1], &id) &&
             parse_u32s(argv + 2, wh, 2))
        reply_result(scanout_enable(vmm, id, wh[0], wh[1]));
    else if (!strcmp(argv[0], "disable") && argc == 2 && parse_id(argv[1], &id))
        reply_result(scanout_disable(vmm, id));
    else if (!strcmp(argv[0], "stats"))
        print_stats(vmm);
    else if (!strcmp(argv[0], "video") && argc == 2 && parse_id(argv[1], &id))
        print_video(vmm, id);
    else if (!strcmp(argv[0], "quit"))
        g_main_loop_quit(vmm->loop);
    else
        reply("error: unknown command or arguments: %s", line);
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
fps_tick(gpointer data)
{
    submit_all(data, true);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_signal(gpointer data)
{
    g_main_loop_quit(((struct vmm *)data)->loop);
    return G_SOURCE_CONTINUE;
}

static void
on_channel_event(int event, SpiceChannelEventInfo *info, gpointer data)
{
    struct vmm *vmm = data;

    g_debug("channel event %d: type %d id %d flags %#x family %d", event, info->type, info->id,
            info->flags, info->paddr_ext.ss_family);
    if (vmm->ssb)
        ssb_server_channel_event(vmm->ssb, event, info);
}

/* ---- setup ---- */

static bool
parse_options(struct vmm *vmm, uint32_t *w, uint32_t *h)
{
    if (!opt.listen || (!g_str_has_prefix(opt.listen, "unix:") &&
                        !g_str_has_prefix(opt.listen, "tcp:"))) {
        g_printerr("--listen unix:PATH or tcp:HOST:PORT is required\n");
        return false;
    }
    if (opt.size && sscanf(opt.size, "%ux%u", w, h) != 2) {
        g_printerr("bad --size\n");
        return false;
    }
    if (opt.scanouts < 0 || opt.scanouts > (int)SSB_PROTO_MAX_SCANOUTS || opt.fps < 0) {
        g_printerr("bad --scanouts or --fps\n");
        return false;
    }
    if (!opt.buffer || !strcmp(opt.buffer, "pixels"))
        vmm->kind = SSB_SERVER_BUFFER_PIXELS;
    else if (!strcmp(opt.buffer, "memfd"))
        vmm->kind = SSB_SERVER_BUFFER_MEMFD;
    else if (!strcmp(opt.buffer, "dmabuf"))
        vmm->kind = SSB_SERVER_BUFFER_DMABUF;
    else {
        g_printerr("bad --buffer\n");
        return false;
    }
    if (opt.pattern && strcmp(opt.pattern, "hash") && strcmp(opt.pattern, "smooth")) {
        g_printerr("bad --pattern\n");
        return false;
    }
    opt.smooth = opt.pattern && !strcmp(opt.pattern, "smooth");
    return true;
}

static bool
spice_listen(struct vmm *vmm)
{
    SpiceCoreInterface *core = ssb_glib_core_get(NULL);

    vmm->spice = spice_server_new();
    if (g_str_has_prefix(opt.listen, "unix:")) {
        spice_server_set_addr(vmm->spice, opt.listen + 5, SPICE_ADDR_FLAG_UNIX_ONLY);
    } else {
        const char *hostport = opt.listen + 4;
        const char *colon = strrchr(hostport, ':');
        g_autofree char *host = colon ? g_strndup(hostport, (gsize)(colon - hostport)) : NULL;

        if (!colon) {
            g_printerr("tcp:HOST:PORT expected\n");
            return false;
        }
        spice_server_set_addr(vmm->spice, host, 0);
        spice_server_set_port(vmm->spice, atoi(colon + 1));
    }
    if (opt.password)
        spice_server_set_ticket(vmm->spice, opt.password, 0, 0, 0);
    else
        spice_server_set_noauth(vmm->spice);
    ssb_glib_core_set_channel_event_func(on_channel_event, vmm);
    return spice_server_init(vmm->spice, core) == 0;
}

static bool
sideband_start(struct vmm *vmm, uint32_t w, uint32_t h)
{
    struct ssb_server_options opts;

    ssb_server_options_init(&opts);
    opts.local_socket = !opt.no_local;
    opts.allowed_uid = opt.allowed_uid;
    opts.runtime_dir = opt.runtime_dir;
    opts.encoder = opt.encoder;
    opts.min_bitrate_kbps = (uint32_t)MAX(opt.min_kbps, 0);
    opts.max_bitrate_kbps = (uint32_t)MAX(opt.max_kbps, 0);
    opts.max_fps = (uint32_t)MAX(opt.max_fps, 0);
    if (opt.codecs) {
        g_auto(GStrv) names = g_strsplit(opt.codecs, ",", -1);

        for (char **n = names; *n; n++) {
            enum ssb_codec c = ssb_proto_codec_from_name(g_strstrip(*n));

            if (!c) {
                g_printerr("unknown codec %s\n", *n);
                return false;
            }
            opts.codecs |= SSB_CODEC_BIT(c);
        }
    }
    vmm->ssb = ssb_server_create(vmm->spice, ssb_glib_core_get(NULL), &opts);
    if (!vmm->ssb)
        return false;
    for (int i = 0; i < opt.scanouts; i++) {
        if (scanout_enable(vmm, (uint32_t)i, w, h) < 0)
            return false;
    }
    return true;
}

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- SPICE sideband test VMM");
    g_autoptr(GError) error = NULL;
    static struct vmm vmm;
    uint32_t w = 640, h = 480;
    GIOChannel *in;

    /* stdout carries replies only. */
    g_log_writer_default_set_use_stderr(TRUE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("%s\n", error->message);
        return 2;
    }
    for (uint32_t i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++)
        vmm.scanouts[i] = (struct vmm_scanout){ .vmm = &vmm, .id = i };
    if (!parse_options(&vmm, &w, &h))
        return 2;
    vmm.loop = g_main_loop_new(NULL, FALSE);
    /* As QEMU does: spice-server writes to sockets a client may have closed. */
    signal(SIGPIPE, SIG_IGN);
    if (!spice_listen(&vmm) || !sideband_start(&vmm, w, h)) {
        g_printerr("cannot start the SPICE server or the sideband\n");
        return 1;
    }
    in = g_io_channel_unix_new(STDIN_FILENO);
    g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_readable, &vmm);
    g_unix_signal_add(SIGINT, on_signal, &vmm);
    g_unix_signal_add(SIGTERM, on_signal, &vmm);
    if (opt.fps > 0)
        g_timeout_add(MAX(1, 1000 / opt.fps), fps_tick, &vmm);
    reply("READY");
    g_main_loop_run(vmm.loop);

    ssb_server_destroy(vmm.ssb);
    for (uint32_t i = 0; i < SSB_PROTO_MAX_SCANOUTS; i++) {
        scanout_drop_buffers(&vmm.scanouts[i]);
        g_free(vmm.scanouts[i].canvas);
    }
    spice_server_destroy(vmm.spice);
    g_io_channel_unref(in);
    g_main_loop_unref(vmm.loop);
    return 0;
}
