/* Logging of peer problems.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_LOG_H
#define SSB_LOG_H

#include <glib.h>

#define SSB_LOG_DOMAIN "spice-sideband"

/* Logs a problem caused by a peer (a warning).  Rate-limited process-wide
 * so that a hostile peer cannot flood the VMM's log; what is dropped is
 * counted and reported with the next message that gets through. */
void ssb_log_peer(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif /* SSB_LOG_H */
