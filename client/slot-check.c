/* The client's checks of a slot's fds (spec 4.5); see slot-check.h.
 *
 * The server's memory is hostile: an SHM slot must be sealed against
 * shrinking (or a truncate would SIGBUS us), and its layout is checked
 * against the size measured here, never the size the server claims.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "slot-check.h"

#include <fcntl.h>

const char *
ssb_slot_check_shm(const struct ssb_msg_slot_announce *l, int seals, uint64_t fd_size,
                   uint64_t page, size_t *map_size)
{
    const char *reason = NULL;
    uint64_t end;

    if (l->kind != SSB_SLOT_SHM)
        return "not an SHM slot";
    /* SHRINK is what keeps a truncate from SIGBUSing us.  Spec 4.5 asks
     * for GROW and SEAL too, but a VMM's own memfd lent for zero copy is
     * sealed by the VMM, which needs only SHRINK to be safe for us. */
    if (seals < 0 || !(seals & F_SEAL_SHRINK))
        return "memfd is not sealed against shrinking";
    if (fd_size == 0)
        return "cannot measure the memfd";
    if (fd_size < l->size)
        return "memfd smaller than announced";
    if (ssb_proto_check_slot_layout(l, fd_size, &reason) < 0)
        return reason;
    if (fd_size > SIZE_MAX)
        return "memfd too large to map";
    /* No overflow: stride and offset are 32-bit, height at most 2^14, so
     * the end of the picture, rounded up to a page, stays below 2^48. */
    end = l->planes[0].offset + (uint64_t)l->planes[0].stride * (l->height - 1) +
          (uint64_t)l->width * ssb_proto_format_bpp(l->fourcc);
    end = (end + page - 1) / page * page;
    *map_size = (size_t)(end < fd_size ? end : fd_size);
    return NULL;
}

const char *
ssb_slot_check_dmabuf(const struct ssb_msg_slot_announce *l, const uint64_t *fd_sizes,
                      uint32_t n_fds)
{
    const char *reason = NULL;

    if (l->kind != SSB_SLOT_DMABUF)
        return "not a DMA-BUF slot";
    if (n_fds == 0 || n_fds != l->n_planes)
        return "one fd per plane expected";
    if (fd_sizes[0] == 0 || fd_sizes[0] < l->size)
        return "DMA-BUF smaller than announced";
    if (ssb_proto_check_slot_layout(l, fd_sizes[0], &reason) < 0)
        return reason;
    for (uint32_t i = 1; i < l->n_planes; i++) {
        if (l->planes[i].offset >= fd_sizes[i])
            return "plane offset outside its DMA-BUF";
    }
    return NULL;
}
