/* libFuzzer target: the stream reassembler.  Input: byte 0 = n, the next n
 * bytes are chunk sizes (used in turn; 0 means "the rest", a size byte s
 * with the top bit set means (s & 0x7f) * 1024 bytes), the remainder is
 * the stream.  Every message yielded must be the next one of the stream,
 * and every message is run through the parser.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>

#include <spice-sideband/proto.h>

#include "fuzz.h"

static size_t chunk_size(const uint8_t *sizes, size_t n_sizes, size_t i, size_t left)
{
    size_t s;

    if (n_sizes == 0)
        return left;
    s = sizes[i % n_sizes];
    if (s == 0)
        return left;
    if (s & 0x80)
        s = (s & 0x7f) * 1024 + 1;
    return s < left ? s : left;
}

/* Takes every whole message out; returns 0, or -EPROTO once the stream broke. */
static int drain(struct ssb_proto_reader *reader, const uint8_t *stream, size_t *taken)
{
    const uint8_t *msg;
    size_t len;
    const char *reason = NULL;
    struct ssb_msg parsed;
    int ret;

    while ((ret = ssb_proto_reader_next(reader, &msg, &len, &reason)) == 1) {
        FUZZ_CHECK(len >= SSB_PROTO_HEADER_SIZE);
        FUZZ_CHECK(memcmp(msg, stream + *taken, len) == 0);
        *taken += len;
        (void)ssb_proto_parse(msg, len, 0, &parsed, NULL);
    }
    FUZZ_CHECK(ret == 0 || (ret == -EPROTO && reason != NULL));
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssb_proto_reader *reader;
    size_t n_sizes, fed = 0, taken = 0, i = 0;
    const uint8_t *stream;
    size_t stream_len;
    int ret = 0;

    if (size < 1)
        return 0;
    n_sizes = data[0];
    if (n_sizes > size - 1)
        n_sizes = size - 1;
    stream = data + 1 + n_sizes;
    stream_len = size - 1 - n_sizes;
    reader = ssb_proto_reader_new();
    FUZZ_CHECK(reader != NULL);
    while (fed < stream_len && ret == 0) {
        size_t n = chunk_size(data + 1, n_sizes, i++, stream_len - fed);
        FUZZ_CHECK(ssb_proto_reader_feed(reader, stream + fed, n) == 0);
        fed += n;
        ret = drain(reader, stream, &taken);
        if (ret == 0) {
            /* drained: only the start of one incomplete message is left */
            FUZZ_CHECK(ssb_proto_reader_pending(reader) == fed - taken);
            FUZZ_CHECK(ssb_proto_reader_pending(reader) < SSB_PROTO_MAX_MSG_SIZE);
        }
    }
    if (ret < 0) /* once broken, stays broken */
        FUZZ_CHECK(ssb_proto_reader_feed(reader, data, 1) == -EPROTO);
    ssb_proto_reader_free(reader);
    return 0;
}
