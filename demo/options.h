/* Command line of spice-sideband-demo.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef DEMO_OPTIONS_H
#define DEMO_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "listener.h"

#define DEMO_MAX_SCANOUTS 16u
#define DEMO_MAX_LISTEN 8u

struct demo_options {
    uint32_t scanouts;
    uint32_t width, height;
    uint32_t fps;
    uint32_t damage_pct;
    uint64_t frames;              /* 0: run until a signal */
    struct demo_endpoint listen[DEMO_MAX_LISTEN];
    uint32_t n_listen;
    char *password;               /* NULL: no authentication */
    char *encoder;                /* NULL: automatic */
    uint32_t codecs;              /* SSB_CODEC_BIT mask, 0 = all */
    bool sideband;
    bool dmabuf;                  /* --buffer dmabuf: lend memfd "DMA-BUFs" */
    bool agent;
    bool tag_sideband;            /* tests: mark the sideband's copy */
    int streaming_video;          /* SPICE_STREAM_VIDEO_* */
    char *video_codecs;           /* spice-server's stream codecs; NULL: its default */
    char *event_log;
};

/* Exit status for a bad command line. */
#define DEMO_EXIT_USAGE 2

/* Parses @argv into @opts.  Returns -1 to go on, or an exit status (0 after
 * --help, DEMO_EXIT_USAGE after printing what was wrong). */
int demo_options_parse(struct demo_options *opts, int argc, char **argv);
void demo_options_clear(struct demo_options *opts);

#endif /* DEMO_OPTIONS_H */
