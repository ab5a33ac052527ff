/* Input events as the demo VMM receives them, and their JSON-lines log.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef DEMO_EVENT_LOG_H
#define DEMO_EVENT_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum demo_event_type {
    DEMO_EVENT_KEY,
    DEMO_EVENT_MOTION,
    DEMO_EVENT_BUTTON,
    DEMO_EVENT_WHEEL,
};

/* Button masks as in the SPICE protocol (SPICE_MOUSE_BUTTON_MASK_*). */
#define DEMO_BUTTON_LEFT 1u
#define DEMO_BUTTON_MIDDLE 2u
#define DEMO_BUTTON_RIGHT 4u

struct demo_event {
    enum demo_event_type type;
    uint64_t t_us;          /* CLOCK_MONOTONIC */
    /* The SPICE display channel id the event belongs to, -1 if unknown.
     * Pointer events: as the client sent it (see inputs.c).  Key events:
     * SPICE carries none; the display that last had the pointer. */
    int display;
    const char *source;     /* "agent", "tablet" or "keyboard" */
    int x, y;               /* pointer position (not for keys) */
    uint32_t buttons;       /* DEMO_BUTTON_* held after the event */
    int wheel;              /* WHEEL: -1 up, +1 down */
    uint32_t scancode;      /* KEY: PC set 1, 0xe0xx for extended keys */
    bool down;              /* KEY */
};

struct demo_event_log;

/* Opens @path for writing (truncates).  Returns NULL with errno set. */
struct demo_event_log *demo_event_log_open(const char *path);
/* Closes the log; accepts NULL. */
void demo_event_log_close(struct demo_event_log *log);
/* Appends one JSON line and flushes it; accepts a NULL log. */
void demo_event_log_write(struct demo_event_log *log, const struct demo_event *event);

#endif /* DEMO_EVENT_LOG_H */
