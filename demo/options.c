/* Command line of spice-sideband-demo: see options.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <inttypes.h>
#include <spice.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

#define PROG "spice-sideband-demo"

static void
usage(FILE *out)
{
    fprintf(out,
        "Usage: " PROG " [OPTION]...\n"
        "A demo VMM: animated scanouts served on SPICE display channels and the\n"
        "sideband channel, with keyboard/pointer input drawn and logged.\n"
        "\n"
        "  --scanouts N          scanouts (display channels), 1..%u (default 2)\n"
        "  --size WxH            scanout size, %ux%u..%ux%u (default 1024x768)\n"
        "  --fps F               frames per second, 1..1000 (default 30)\n"
        "  --damage PCT          share of the rows repainted per frame, 1..100 (default 10)\n"
        "  --frames N            exit after N frames (default: run until SIGINT/SIGTERM)\n"
        "  --listen ENDPOINT     tcp:HOST:PORT (PORT 0: any free port) or unix:PATH;\n"
        "                        repeatable, up to %u (default tcp:127.0.0.1:5900)\n"
        "  --password PASSWORD   require this SPICE ticket (default: no authentication)\n"
        "  --encoder NAME        sideband encoder element or pipeline fragment\n"
        "  --codecs LIST         sideband codecs, comma-separated (h264,vp8,vp9,av1,h265)\n"
        "  --no-sideband         serve the display channels only\n"
        "  --buffer KIND         how frames go to the sideband: pixels (default: copied\n"
        "                        by the server) or dmabuf (lent sealed memfds standing\n"
        "                        in for a GPU's linear DMA-BUFs)\n"
        "  --no-agent            no built-in agent: the tablet gets pointer events\n"
        "  --tag-sideband        tests: a tag (white and black square, top right) on the\n"
        "                        sideband's frames only, to tell them from the display channel's\n"
        "                        (absolute only with one scanout; no display id)\n"
        "  --streaming-video M   off, all or filter (default off, as QEMU)\n"
        "  --video-codecs LIST   spice-server's stream codecs, e.g. gstreamer:h264;spice:mjpeg\n"
        "                        (default: spice-server's own list)\n"
        "  --event-log FILE      write every input event as a JSON line to FILE\n"
        "  -h, --help            show this help\n",
        DEMO_MAX_SCANOUTS, SSB_PATTERN_MIN_WIDTH, SSB_PATTERN_MIN_HEIGHT,
        SSB_PATTERN_MAX_DIMENSION, SSB_PATTERN_MAX_DIMENSION, DEMO_MAX_LISTEN);
}

static int
bad(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int
bad(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry '" PROG " --help' for more information.\n", stderr);
    return DEMO_EXIT_USAGE;
}

static bool
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;

    if (!*s || !g_ascii_isdigit(*s))
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;

    if (!parse_u64(s, min, max, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static int
parse_size(struct demo_options *opts, const char *arg)
{
    const char *x = strchr(arg, 'x');
    uint64_t w, h;

    if (!x)
        return bad("--size '%s': expected WIDTHxHEIGHT, e.g. 1024x768", arg);
    char *ws = g_strndup(arg, (gsize)(x - arg));
    bool ok = parse_u64(ws, 0, UINT32_MAX, &w) && parse_u64(x + 1, 0, UINT32_MAX, &h);
    g_free(ws);
    if (!ok)
        return bad("--size '%s': expected WIDTHxHEIGHT, e.g. 1024x768", arg);
    if (w < SSB_PATTERN_MIN_WIDTH || h < SSB_PATTERN_MIN_HEIGHT)
        return bad("--size '%s': too small (minimum %ux%u)", arg, SSB_PATTERN_MIN_WIDTH,
                   SSB_PATTERN_MIN_HEIGHT);
    if (w > SSB_PATTERN_MAX_DIMENSION || h > SSB_PATTERN_MAX_DIMENSION)
        return bad("--size '%s': too large (maximum %ux%u)", arg, SSB_PATTERN_MAX_DIMENSION,
                   SSB_PATTERN_MAX_DIMENSION);
    opts->width = (uint32_t)w;
    opts->height = (uint32_t)h;
    return -1;
}

static int
parse_codecs(struct demo_options *opts, const char *arg)
{
    char **names = g_strsplit(arg, ",", -1);
    int rc = -1;

    opts->codecs = 0;
    for (char **n = names; *n; n++) {
        enum ssb_codec codec = ssb_proto_codec_from_name(*n);

        if (codec == SSB_CODEC_NONE) {
            rc = bad("--codecs: unknown codec '%s' (known: h264, vp8, vp9, av1, h265)", *n);
            break;
        }
        opts->codecs |= SSB_CODEC_BIT(codec);
    }
    g_strfreev(names);
    if (rc < 0 && opts->codecs == 0)
        rc = bad("--codecs '%s': no codec given", arg);
    return rc;
}

static int
parse_streaming_video(struct demo_options *opts, const char *arg)
{
    if (!strcmp(arg, "off"))
        opts->streaming_video = SPICE_STREAM_VIDEO_OFF;
    else if (!strcmp(arg, "all"))
        opts->streaming_video = SPICE_STREAM_VIDEO_ALL;
    else if (!strcmp(arg, "filter"))
        opts->streaming_video = SPICE_STREAM_VIDEO_FILTER;
    else
        return bad("--streaming-video '%s': expected off, all or filter", arg);
    return -1;
}

static int
add_listen(struct demo_options *opts, const char *arg)
{
    char *error = NULL;

    if (opts->n_listen == DEMO_MAX_LISTEN)
        return bad("--listen: at most %u endpoints", DEMO_MAX_LISTEN);
    if (!demo_endpoint_parse(arg, &opts->listen[opts->n_listen], &error)) {
        int rc = bad("%s", error);
        g_free(error);
        return rc;
    }
    opts->n_listen++;
    return -1;
}

enum {
    OPT_SCANOUTS = 256, OPT_SIZE, OPT_FPS, OPT_DAMAGE, OPT_FRAMES, OPT_LISTEN,
    OPT_PASSWORD, OPT_ENCODER, OPT_CODECS, OPT_NO_SIDEBAND, OPT_NO_AGENT,
    OPT_STREAMING_VIDEO, OPT_EVENT_LOG, OPT_TAG_SIDEBAND, OPT_VIDEO_CODECS, OPT_BUFFER,
};

static const struct option long_options[] = {
    { "scanouts", required_argument, NULL, OPT_SCANOUTS },
    { "size", required_argument, NULL, OPT_SIZE },
    { "fps", required_argument, NULL, OPT_FPS },
    { "damage", required_argument, NULL, OPT_DAMAGE },
    { "frames", required_argument, NULL, OPT_FRAMES },
    { "listen", required_argument, NULL, OPT_LISTEN },
    { "password", required_argument, NULL, OPT_PASSWORD },
    { "encoder", required_argument, NULL, OPT_ENCODER },
    { "codecs", required_argument, NULL, OPT_CODECS },
    { "no-sideband", no_argument, NULL, OPT_NO_SIDEBAND },
    { "no-agent", no_argument, NULL, OPT_NO_AGENT },
    { "tag-sideband", no_argument, NULL, OPT_TAG_SIDEBAND },
    { "streaming-video", required_argument, NULL, OPT_STREAMING_VIDEO },
    { "event-log", required_argument, NULL, OPT_EVENT_LOG },
    { "video-codecs", required_argument, NULL, OPT_VIDEO_CODECS },
    { "buffer", required_argument, NULL, OPT_BUFFER },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static void
set_string(char **dst, const char *src)
{
    g_free(*dst);
    *dst = g_strdup(src);
}

static int
parse_one(struct demo_options *opts, int c, const char *arg)
{
    switch (c) {
    case OPT_SCANOUTS:
        if (!parse_u32(arg, 1, DEMO_MAX_SCANOUTS, &opts->scanouts))
            return bad("--scanouts '%s': expected 1..%u", arg, DEMO_MAX_SCANOUTS);
        return -1;
    case OPT_SIZE:
        return parse_size(opts, arg);
    case OPT_FPS:
        if (!parse_u32(arg, 1, 1000, &opts->fps))
            return bad("--fps '%s': expected 1..1000", arg);
        return -1;
    case OPT_DAMAGE:
        if (!parse_u32(arg, 1, 100, &opts->damage_pct))
            return bad("--damage '%s': expected a percentage, 1..100", arg);
        return -1;
    case OPT_FRAMES:
        if (!parse_u64(arg, 1, UINT64_MAX, &opts->frames))
            return bad("--frames '%s': expected a positive count", arg);
        return -1;
    case OPT_LISTEN:
        return add_listen(opts, arg);
    case OPT_PASSWORD:
        set_string(&opts->password, arg);
        return -1;
    case OPT_ENCODER:
        set_string(&opts->encoder, arg);
        return -1;
    case OPT_CODECS:
        return parse_codecs(opts, arg);
    case OPT_NO_SIDEBAND:
        opts->sideband = false;
        return -1;
    case OPT_NO_AGENT:
        opts->agent = false;
        return -1;
    case OPT_TAG_SIDEBAND:
        opts->tag_sideband = true;
        return -1;
    case OPT_STREAMING_VIDEO:
        return parse_streaming_video(opts, arg);
    case OPT_EVENT_LOG:
        set_string(&opts->event_log, arg);
        return -1;
    case OPT_BUFFER:
        if (strcmp(arg, "pixels") && strcmp(arg, "dmabuf"))
            return bad("--buffer '%s': expected pixels or dmabuf", arg);
        opts->dmabuf = !strcmp(arg, "dmabuf");
        return -1;
    case OPT_VIDEO_CODECS:
        if (!*arg)
            return bad("--video-codecs: empty list");
        set_string(&opts->video_codecs, arg);
        return -1;
    case 'h':
        usage(stdout);
        return 0;
    default:
        /* getopt_long printed what was wrong */
        fputs("Try '" PROG " --help' for more information.\n", stderr);
        return DEMO_EXIT_USAGE;
    }
}

int
demo_options_parse(struct demo_options *opts, int argc, char **argv)
{
    int c, rc;

    memset(opts, 0, sizeof(*opts));
    opts->scanouts = 2;
    opts->width = 1024;
    opts->height = 768;
    opts->fps = 30;
    opts->damage_pct = 10;
    opts->sideband = true;
    opts->agent = true;
    opts->streaming_video = SPICE_STREAM_VIDEO_OFF;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        if ((rc = parse_one(opts, c, optarg)) >= 0)
            return rc;
    }
    if (optind < argc)
        return bad("unexpected argument '%s'", argv[optind]);
    if (opts->n_listen == 0) {
        char *error = NULL;

        demo_endpoint_parse("tcp:127.0.0.1:5900", &opts->listen[0], &error);
        opts->n_listen = 1;
    }
    return -1;
}

void
demo_options_clear(struct demo_options *opts)
{
    for (uint32_t i = 0; i < opts->n_listen; i++)
        demo_endpoint_clear(&opts->listen[i]);
    g_free(opts->password);
    g_free(opts->encoder);
    g_free(opts->event_log);
    g_free(opts->video_codecs);
    memset(opts, 0, sizeof(*opts));
}
