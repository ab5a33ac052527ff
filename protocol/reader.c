/* spice-sideband stream reassembler (spec 3.3).
 *
 * The SPICE port keeps no message boundaries.  Bytes are appended to one
 * buffer; whole messages are handed out as pointers into it.  A header is
 * checked as soon as its 8 bytes are buffered, so an unknown or oversized
 * message breaks the stream before its body is waited for.  Memory is
 * bounded: a feed is refused while a full message's worth of bytes is still
 * pending, so the buffer never holds more than one incomplete message plus
 * the chunk being fed (and never less than READER_MIN_CAP of room).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "spice-sideband/proto.h"

struct ssb_proto_reader {
    uint8_t *buf;
    size_t cap;
    size_t start;          /* first byte not yet handed out */
    size_t end;            /* one past the last byte fed */
    const char *broken;    /* reason, once the stream is broken */
};

SSB_PROTO_EXPORT struct ssb_proto_reader *ssb_proto_reader_new(void)
{
    return calloc(1, sizeof(struct ssb_proto_reader));
}

SSB_PROTO_EXPORT void ssb_proto_reader_free(struct ssb_proto_reader *reader)
{
    if (reader == NULL)
        return;
    free(reader->buf);
    free(reader);
}

/* Smallest buffer: two maximal messages, so that byte-sized feeds move the
 * pending bytes to the front only once per SSB_PROTO_MAX_MSG_SIZE bytes. */
#define READER_MIN_CAP (2 * (size_t)SSB_PROTO_MAX_MSG_SIZE)

/* Makes room for @len more bytes after the pending ones. */
static int reader_reserve(struct ssb_proto_reader *reader, size_t len)
{
    size_t pending = reader->end - reader->start;
    size_t need, cap;
    uint8_t *grown;

    if (reader->cap - reader->end >= len)
        return 0;
    if (__builtin_add_overflow(pending, len, &need))
        return -ENOMEM;
    if (reader->start > 0) {
        memmove(reader->buf, reader->buf + reader->start, pending);
        reader->start = 0;
        reader->end = pending;
    }
    if (need <= reader->cap)
        return 0;
    cap = need > READER_MIN_CAP ? need : READER_MIN_CAP;
    grown = realloc(reader->buf, cap);
    if (grown == NULL)
        return -ENOMEM;
    reader->buf = grown;
    reader->cap = cap;
    return 0;
}

SSB_PROTO_EXPORT int ssb_proto_reader_feed(struct ssb_proto_reader *reader,
                                           const uint8_t *data, size_t len)
{
    int ret;

    if (reader == NULL || (data == NULL && len > 0))
        return -EINVAL;
    if (reader->broken)
        return -EPROTO;
    if (len == 0)
        return 0;
    if (ssb_proto_reader_pending(reader) >= SSB_PROTO_MAX_MSG_SIZE)
        return -ENOBUFS;
    if ((ret = reader_reserve(reader, len)) < 0)
        return ret;
    memcpy(reader->buf + reader->end, data, len);
    reader->end += len;
    return 0;
}

SSB_PROTO_EXPORT int ssb_proto_reader_next(struct ssb_proto_reader *reader,
                                           const uint8_t **msg, size_t *msg_len,
                                           const char **reason)
{
    struct ssb_msg_header hdr;
    size_t pending, total;
    const char *why = NULL;

    if (reader == NULL || msg == NULL || msg_len == NULL)
        return -EINVAL;
    if (reader->broken) {
        if (reason)
            *reason = reader->broken;
        return -EPROTO;
    }
    pending = reader->end - reader->start;
    if (pending < SSB_PROTO_HEADER_SIZE)
        return 0;
    if (ssb_proto_parse_header(reader->buf + reader->start, pending, &hdr, &why) < 0) {
        reader->broken = why;
        if (reason)
            *reason = why;
        return -EPROTO;
    }
    total = SSB_PROTO_HEADER_SIZE + (size_t)hdr.size;
    if (pending < total)
        return 0;
    *msg = reader->buf + reader->start;
    *msg_len = total;
    reader->start += total;
    if (reader->start == reader->end) /* the bytes stay valid until the next feed */
        reader->start = reader->end = 0;
    return 1;
}

SSB_PROTO_EXPORT size_t ssb_proto_reader_pending(const struct ssb_proto_reader *reader)
{
    return reader ? reader->end - reader->start : 0;
}
