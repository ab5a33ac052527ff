/* libFuzzer target: ssb_proto_parse().  The first input byte gives the number
 * of fds the message "arrived with"; the rest is the message.  Whatever
 * parses must re-encode to exactly the same bytes.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>

#include <spice-sideband/proto.h>

#include "fuzz.h"

static uint8_t out_buf[SSB_PROTO_MAX_MSG_SIZE];

static void check_parsed(const struct ssb_msg *msg, const uint8_t *data, size_t size)
{
    const struct ssb_msg_info *info = ssb_proto_msg_info(msg->type);
    ssize_t n;

    FUZZ_CHECK(info != NULL);
    FUZZ_CHECK(ssb_proto_encoded_size(msg) == size);
    n = ssb_proto_encode(msg, out_buf, sizeof(out_buf));
    FUZZ_CHECK(n >= 0 && (size_t)n == size);
    FUZZ_CHECK(memcmp(out_buf, data, size) == 0);
    FUZZ_CHECK(ssb_proto_encode(msg, out_buf, size - 1) == -ENOSPC);
    FUZZ_CHECK(size - SSB_PROTO_HEADER_SIZE >= info->min_body);
    FUZZ_CHECK(size - SSB_PROTO_HEADER_SIZE <= info->max_body);
    if (msg->type == SSB_MSG_FRAME)
        FUZZ_CHECK(ssb_proto_check_rects(msg->u.frame.rects, msg->u.frame.n_rects,
                                         SSB_PROTO_MAX_DIMENSION, SSB_PROTO_MAX_DIMENSION,
                                         NULL) == 0);
    if (msg->type == SSB_MSG_SLOT_ANNOUNCE)
        FUZZ_CHECK(ssb_proto_check_slot_layout(&msg->u.slot_announce,
                                               msg->u.slot_announce.size, NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssb_msg msg;
    const char *reason = NULL;
    size_t n_fds;
    int ret;

    if (size < 1)
        return 0;
    n_fds = data[0] % (SSB_PROTO_MAX_FDS + 2);
    ret = ssb_proto_parse(data + 1, size - 1, n_fds, &msg, &reason);
    if (ret == 0) {
        FUZZ_CHECK(ssb_proto_msg_fd_count(&msg) == n_fds);
        check_parsed(&msg, data + 1, size - 1);
    } else {
        FUZZ_CHECK(ret == -EPROTO && reason != NULL && reason[0] != '\0');
    }
    return 0;
}
