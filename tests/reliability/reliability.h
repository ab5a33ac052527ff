/* Helpers shared by the reliability tests: process figures read from
 * /proc, and figures printed for docs/reliability.md.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

/* Open fds of process @pid ("self" or a number), -1 if it is gone. */
int ssb_reliability_fd_count(const char *pid);
/* Resident set of process @pid in KiB, -1 if it is gone. */
long ssb_reliability_rss_kib(const char *pid);
/* This process's malloc'ed bytes in use, in KiB (mallinfo2: all arenas
 * and mmapped chunks). */
long ssb_reliability_heap_kib(void);
/* Waits (up to 20 s, iterating the default main context) until @pid holds
 * at most @max fds, then asserts that it does. */
void ssb_test_wait_fds(const char *pid, int max);
/* Prints "figure GROUP NAME VALUE" on stderr, collected into the meson
 * test log for docs/reliability.md. */
void ssb_reliability_figure(const char *group, const char *name, guint64 value);
