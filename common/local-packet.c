/* Receiving one packet from the local sideband socket (see local-packet.h).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spice-sideband/proto.h"

#include "local-packet.h"

void
ssb_local_packet_close_fds(int *fds, size_t n_fds)
{
    for (size_t i = 0; i < n_fds; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

/* Moves the SCM_RIGHTS fds of @mh into @fds; any beyond @max_fds are
 * closed at once.  Returns false when other ancillary data came along. */
static bool
collect_fds(struct msghdr *mh, int *fds, size_t max_fds, size_t *n_fds, bool *excess)
{
    bool only_rights = true;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            only_rights = false;
            continue;
        }
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*n_fds < max_fds) {
                fds[(*n_fds)++] = fd;
            } else {
                close(fd);
                *excess = true;
            }
        }
    }
    return only_rights;
}

static ssize_t
reject(int *fds, size_t *n_fds, const char **reason, const char *why, ssize_t err)
{
    ssb_local_packet_close_fds(fds, *n_fds);
    *n_fds = 0;
    *reason = why;
    return err;
}

ssize_t
ssb_local_packet_recv(int fd, void *buf, size_t cap, int *fds, size_t max_fds, size_t *n_fds,
                      const char **reason)
{
    /* Room for exactly SSB_PROTO_MAX_FDS (spec 2.2); more is MSG_CTRUNC. */
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * SSB_PROTO_MAX_FDS)];
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = cap };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf) };
    bool excess = false, only_rights;
    ssize_t len;

    *n_fds = 0;
    *reason = NULL;
    len = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (len < 0) {
        /* The two codes of a rejected packet stay unambiguous. */
        if (errno == EPROTO || errno == ENOBUFS)
            return -EIO;
        return errno == EINTR ? -EAGAIN : -errno;
    }
    /* Whatever the length, the fds are ours now and must not leak. */
    only_rights = collect_fds(&mh, fds, max_fds, n_fds, &excess);
    if ((mh.msg_flags & MSG_CTRUNC) || excess)
        return reject(fds, n_fds, reason, "too many file descriptors", -ENOBUFS);
    if (!only_rights)
        return reject(fds, n_fds, reason, "ancillary data other than SCM_RIGHTS", -EPROTO);
    if (mh.msg_flags & MSG_TRUNC)
        return reject(fds, n_fds, reason, "oversized packet", -EPROTO);
    if (len == 0 && *n_fds)
        return reject(fds, n_fds, reason, "empty packet carrying file descriptors", -EPROTO);
    return len;
}
