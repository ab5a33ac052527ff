/* Receiving one packet from the local sideband socket (spec 2.2).
 *
 * Both ends read the SOCK_SEQPACKET socket with the same rules for
 * ancillary data and truncation; this is the one implementation of them.
 * What to do about a rejected packet (refuse a peer, fail the local path)
 * stays with each side.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_LOCAL_PACKET_H
#define SSB_LOCAL_PACKET_H

#include <stddef.h>
#include <sys/types.h>

/* Receives one packet from @fd (non-blocking, MSG_CMSG_CLOEXEC) into @buf
 * (@cap bytes, borrowed) and its SCM_RIGHTS fds into @fds (room for
 * @max_fds; ownership of the *@n_fds stored goes to the caller).
 *
 * Returns the packet's length (> 0); 0 for an orderly EOF (nothing, no
 * fds); -EAGAIN when nothing is pending (EINTR included); another -errno
 * when the socket failed (a kernel EPROTO or ENOBUFS reads -EIO); or
 * -EPROTO / -ENOBUFS, and only then, for a packet rejected by spec 2.2,
 * with *@reason set: -ENOBUFS is the LIMIT case (MSG_CTRUNC, more
 * than @max_fds fds), -EPROTO the PROTOCOL one (MSG_TRUNC, ancillary data
 * other than SCM_RIGHTS, an empty packet carrying fds).  On every negative
 * return each fd received has already been closed and *@n_fds is 0. */
ssize_t ssb_local_packet_recv(int fd, void *buf, size_t cap, int *fds, size_t max_fds,
                              size_t *n_fds, const char **reason);

/* Closes @n_fds fds of @fds (fds < 0 skipped) and sets them to -1. */
void ssb_local_packet_close_fds(int *fds, size_t n_fds);

#endif /* SSB_LOCAL_PACKET_H */
