// The public header compiles as C++ (-pedantic -Werror) and links.
//
// Copyright (C) 2026 The spice-sideband authors
// SPDX-License-Identifier: LGPL-2.1-or-later
#include <spice-sideband/proto.h>

int main()
{
    ssb_msg msg = {};
    ssb_msg back = {};
    uint8_t buf[64];

    msg.type = SSB_MSG_GOODBYE;
    msg.u.goodbye.code = SSB_ERROR_SHUTDOWN;
    ssize_t n = ssb_proto_encode(&msg, buf, sizeof(buf));
    if (n != 12)
        return 1;
    if (ssb_proto_parse(buf, static_cast<size_t>(n), 0, &back, nullptr) != 0)
        return 1;
    ssb_proto_reader *reader = ssb_proto_reader_new();
    ssb_proto_reader_free(reader);
    return back.u.goodbye.code == SSB_ERROR_SHUTDOWN ? 0 : 1;
}
