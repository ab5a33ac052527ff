/* spice://HOST[:PORT] and spice+unix:///PATH, as remote-viewer writes them; shared by
 * spice-sideband-dump and spice-sideband-viewer.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_TOOLS_URI_H
#define SSB_TOOLS_URI_H

#include <gio/gio.h>

typedef struct {
    char *host;       /* TCP: host name or address (owned) */
    guint port;       /* TCP: 1..65535, default 5900 */
    char *unix_path;  /* unix: absolute socket path (owned) */
} SsbUriTarget;

/* Fills @target from @uri (borrowed).  FALSE with a readable @error. */
gboolean ssb_uri_parse(const char *uri, SsbUriTarget *target, GError **error);
void ssb_uri_target_clear(SsbUriTarget *target);

#endif /* SSB_TOOLS_URI_H */
