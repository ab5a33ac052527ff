/* spice://HOST[:PORT] and spice+unix:///PATH, as remote-viewer writes them.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_DUMP_URI_H
#define SSB_DUMP_URI_H

#include <gio/gio.h>

typedef struct {
    char *host;       /* TCP: host name or address (owned) */
    guint port;       /* TCP: 1..65535, default 5900 */
    char *unix_path;  /* unix: absolute socket path (owned) */
} SsbDumpTarget;

/* Fills @target from @uri (borrowed).  FALSE with a readable @error. */
gboolean ssb_dump_parse_uri(const char *uri, SsbDumpTarget *target, GError **error);
void ssb_dump_target_clear(SsbDumpTarget *target);

#endif /* SSB_DUMP_URI_H */
