/* JSON-lines event log: one object per line, flushed at once so that tests
 * can read it while the demo runs.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "event-log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct demo_event_log {
    FILE *file;
};

struct demo_event_log *
demo_event_log_open(const char *path)
{
    FILE *file = fopen(path, "we");

    if (!file)
        return NULL;

    struct demo_event_log *log = calloc(1, sizeof(*log));
    if (!log) {
        fclose(file);
        return NULL;
    }
    log->file = file;
    return log;
}

void
demo_event_log_close(struct demo_event_log *log)
{
    if (!log)
        return;
    fclose(log->file);
    free(log);
}

static const char *
type_name(enum demo_event_type type)
{
    switch (type) {
    case DEMO_EVENT_KEY: return "key";
    case DEMO_EVENT_MOTION: return "motion";
    case DEMO_EVENT_BUTTON: return "button";
    case DEMO_EVENT_WHEEL: return "wheel";
    }
    return "unknown";
}

void
demo_event_log_write(struct demo_event_log *log, const struct demo_event *ev)
{
    if (!log)
        return;
    fprintf(log->file, "{\"t_us\":%" PRIu64 ",\"type\":\"%s\",\"display\":%d,\"source\":\"%s\"",
            ev->t_us, type_name(ev->type), ev->display, ev->source);
    if (ev->type == DEMO_EVENT_KEY) {
        fprintf(log->file, ",\"scancode\":%" PRIu32 ",\"down\":%s", ev->scancode,
                ev->down ? "true" : "false");
    } else {
        fprintf(log->file, ",\"x\":%d,\"y\":%d,\"buttons\":%" PRIu32, ev->x, ev->y,
                ev->buttons);
        if (ev->type == DEMO_EVENT_WHEEL)
            fprintf(log->file, ",\"dz\":%d", ev->wheel);
    }
    fputs("}\n", log->file);
    fflush(log->file);
}
