/* Helpers shared by the reliability tests (see reliability.h).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "reliability.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ssb_reliability_fd_count(const char *pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%s/fd", pid);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    int n = 0;

    if (!dir)
        return -1;
    while (g_dir_read_name(dir))
        n++;
    return n;
}

long
ssb_reliability_rss_kib(const char *pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%s/status", pid);
    g_autofree char *text = NULL;
    const char *p;

    if (!g_file_get_contents(path, &text, NULL, NULL) || !(p = strstr(text, "VmRSS:")))
        return -1;
    return strtol(p + strlen("VmRSS:"), NULL, 10);
}

long
ssb_reliability_heap_kib(void)
{
    struct mallinfo2 mi = mallinfo2();

    return (long)((mi.uordblks + mi.hblkhd) / 1024);
}

void
ssb_test_wait_fds(const char *pid, int max)
{
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    int n;

    while ((n = ssb_reliability_fd_count(pid)) > max && g_get_monotonic_time() < deadline) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(10000);
    }
    if (n > max) {
        g_autofree char *path = g_strdup_printf("/proc/%s/fd", pid);
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *link = g_build_filename(path, name, NULL);
            g_autofree char *target = g_file_read_link(link, NULL);

            g_test_message("fd %s -> %s", name, target ? target : "?");
        }
    }
    g_assert_cmpint(n, <=, max);
    g_assert_cmpint(n, >=, 0);
}

void
ssb_reliability_figure(const char *group, const char *name, guint64 value)
{
    fprintf(stderr, "figure %s %s %" G_GUINT64_FORMAT "\n", group, name, value);
}
