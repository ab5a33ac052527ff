/* The public header compiles as strict ISO C99 (-pedantic -Werror, no
 * _GNU_SOURCE) and its declarations are usable from such a program.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <spice-sideband/proto.h>

int main(void)
{
    struct ssb_msg msg = { SSB_MSG_KEEPALIVE, 0, { { 0 } } };
    struct ssb_msg back;
    uint8_t buf[64];
    ssize_t n;

    msg.u.keepalive.t_us = 1;
    n = ssb_proto_encode(&msg, buf, sizeof(buf));
    if (n != 24)
        return 1;
    if (ssb_proto_parse(buf, (size_t)n, 0, &back, NULL) != 0)
        return 1;
    return back.u.keepalive.t_us == 1 ? 0 : 1;
}
