/* A SpiceCoreInterface on a GLib main context, for the project's programs
 * (demo VMM, benchmarks) and tests.  Not installed: a real VMM brings its
 * own core interface (QEMU: ui/spice-core.c).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_GLIB_SPICE_CORE_H
#define SSB_GLIB_SPICE_CORE_H

#include <glib.h>
#include <spice.h>

G_BEGIN_DECLS

/* Called on the main context for every SpiceCoreInterface.channel_event,
 * whatever thread spice-server raised it on.  @info is a copy, valid for the
 * call only. */
typedef void (*SsbGlibCoreChannelEventFunc)(int event, SpiceChannelEventInfo *info,
                                            gpointer user_data);

/* Returns the process-wide core interface bound to @context (borrowed; NULL
 * means the thread-default / global default context).  The first call fixes
 * the context; later calls return the same interface. */
SpiceCoreInterface *ssb_glib_core_get(GMainContext *context);

/* Sets the channel event hook (NULL to clear). */
void ssb_glib_core_set_channel_event_func(SsbGlibCoreChannelEventFunc func, gpointer user_data);

G_END_DECLS

#endif /* SSB_GLIB_SPICE_CORE_H */
