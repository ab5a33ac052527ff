/* The client's checks of a slot's fds before it maps or hands them on
 * (spec 4.5): plain C on measured facts, so that the fuzz build, which has
 * no GLib client, runs exactly what ssb_slot_new() runs.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <spice-sideband/proto.h>

/* An SHM slot whose memfd has @seals (F_GET_SEALS, or -1) and measures
 * @fd_size bytes (fstat).  On success returns NULL and sets *@map_size to
 * the bytes to map from offset 0: whole pages of @page bytes (a power of two, at most 2^32) up to the one
 * holding the last pixel of the layout, never more than @fd_size.  On
 * failure returns the reason (a static string) and leaves *@map_size. */
const char *ssb_slot_check_shm(const struct ssb_msg_slot_announce *layout, int seals,
                               uint64_t fd_size, uint64_t page, size_t *map_size);

/* A DMA-BUF slot with @n_fds fds whose sizes (by seeking to the end, 0 if
 * unknown) are @fd_sizes.  Returns NULL or the reason. */
const char *ssb_slot_check_dmabuf(const struct ssb_msg_slot_announce *layout,
                                  const uint64_t *fd_sizes, uint32_t n_fds);
