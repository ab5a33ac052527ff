/* Rate-limited peer logging (see log.h).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "log.h"

#define SSB_LOG_BURST 20
#define SSB_LOG_WINDOW_US (10 * G_USEC_PER_SEC)

void
ssb_log_peer(const char *fmt, ...)
{
    static gint64 window_start;
    static unsigned int in_window, suppressed;
    gint64 now = g_get_monotonic_time();
    g_autofree char *text = NULL;
    va_list args;

    if (now - window_start > SSB_LOG_WINDOW_US) {
        window_start = now;
        in_window = 0;
    }
    if (in_window++ >= SSB_LOG_BURST) {
        suppressed++;
        return;
    }
    va_start(args, fmt);
    text = g_strdup_vprintf(fmt, args);
    va_end(args);
    if (suppressed) {
        g_log(SSB_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "%s (%u similar messages suppressed)", text,
              suppressed);
        suppressed = 0;
    } else {
        g_log(SSB_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "%s", text);
    }
}
