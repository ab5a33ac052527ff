/* Saving a frame as PNG.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_DUMP_PNG_H
#define SSB_DUMP_PNG_H

#include <spice-sideband/client.h>

/* Writes @frame (borrowed) to @path as an RGB PNG.  FALSE with @error. */
gboolean ssb_dump_save_png(SsbFrame *frame, const char *path, GError **error);

#endif /* SSB_DUMP_PNG_H */
