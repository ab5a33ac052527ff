/* The stream reassembler: random chunk splits (1-byte feeds up to
 * 65568-byte feeds of many packed messages) yield exactly the messages in
 * order; a bad header breaks the stream as soon as its 8 bytes are in, and
 * a broken reader stays broken; memory stays bounded.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdlib.h>

#include "samples.h"
#include "test-util.h"

TEST_MAIN_DEFINE_COUNTERS;

#define STREAM_CAP (4u << 20)
#define MAX_MSGS 4096
#define PORT_READ 65568 /* the largest read a SPICE port delivers */

static uint8_t *stream;
static size_t stream_len;
static size_t msg_end[MAX_MSGS]; /* end offset of each message */
static size_t n_msgs;

/* Packs @count random samples (distinct seqs/timestamps) into `stream`. */
static void pack(uint64_t *rng, size_t count)
{
    stream_len = 0;
    n_msgs = 0;
    for (size_t i = 0; i < count && n_msgs < MAX_MSGS; i++) {
        uint32_t t = 1 + (uint32_t)(sample_rand(rng) % (SSB_MSG_TYPE_COUNT - 1));
        struct ssb_msg m;
        ssize_t n;

        /* mostly small messages, some maximal video chunks */
        sample_msg(t, (enum sample_variant)(sample_rand(rng) % SAMPLE_VARIANT_COUNT), &m);
        if (t == SSB_MSG_KEEPALIVE)
            m.u.keepalive.t_us = i;
        n = ssb_proto_encode(&m, stream + stream_len, STREAM_CAP - stream_len);
        if (n == -ENOSPC)
            break;
        CHECK(n > 0);
        stream_len += (size_t)n;
        msg_end[n_msgs++] = stream_len;
    }
}

static size_t pick_chunk(uint64_t *rng, int mode, size_t left)
{
    size_t n;

    switch (mode) {
    case 0: n = 1; break;
    case 1: n = 1 + sample_rand(rng) % 64; break;
    case 2: n = PORT_READ; break;
    default: n = 1 + sample_rand(rng) % (2 * PORT_READ); break;
    }
    return n < left ? n : left;
}

/* Feeds `stream` in chunks, draining after each; checks every message. */
static void feed_stream(uint64_t *rng, int mode)
{
    struct ssb_proto_reader *reader = ssb_proto_reader_new();
    size_t fed = 0, taken = 0, got = 0;
    int ok = 1;

    while (fed < stream_len && ok) {
        size_t n = pick_chunk(rng, mode, stream_len - fed);
        const uint8_t *msg;
        size_t len;
        int ret;

        CHECK(ssb_proto_reader_feed(reader, stream + fed, n) == 0);
        fed += n;
        while ((ret = ssb_proto_reader_next(reader, &msg, &len, NULL)) == 1) {
            struct ssb_msg out;
            ok = got < n_msgs && taken + len == msg_end[got] &&
                 memcmp(msg, stream + taken, len) == 0;
            CHECK_MSG(ok, "mode %d: message %zu differs", mode, got);
            if (!ok)
                break;
            /* SLOT_ANNOUNCE needs its fds; the rest parse with none */
            CHECK(ssb_proto_parse(msg, len, 0, &out, NULL) == 0 ||
                  (msg[0] == SSB_MSG_SLOT_ANNOUNCE && msg[1] == 0));
            taken += len;
            got++;
        }
        CHECK(ret == 0 || !ok);
        CHECK(ssb_proto_reader_pending(reader) == fed - taken);
        CHECK(ssb_proto_reader_pending(reader) < SSB_PROTO_MAX_MSG_SIZE);
    }
    CHECK_MSG(got == n_msgs, "mode %d: got %zu of %zu messages", mode, got, n_msgs);
    CHECK(ssb_proto_reader_pending(reader) == 0);
    ssb_proto_reader_free(reader);
}

static void random_splits(void)
{
    uint64_t rng = 42;

    for (int iter = 0; iter < 200; iter++) {
        int mode = iter % 4;
        /* 1-byte feeds get shorter streams to keep the test quick */
        pack(&rng, mode == 0 ? 60 : 400);
        feed_stream(&rng, mode);
    }
}

static void bad_header_early(void)
{
    static const uint8_t bad_headers[][8] = {
        { 0, 0, 0, 0, 4, 0, 0, 0 },                       /* type 0 */
        { SSB_MSG_TYPE_COUNT, 0, 0, 0, 4, 0, 0, 0 },      /* unknown type */
        { SSB_MSG_KEEPALIVE, 0, 1, 0, 16, 0, 0, 0 },      /* flags */
        { SSB_MSG_KEEPALIVE, 0, 0, 0, 17, 0, 0, 0 },      /* not its exact size */
        { SSB_MSG_VIDEO_FRAME, 0, 0, 0, 0xf9, 0xff, 0, 0 }, /* 65529: oversized */
        { SSB_MSG_VIDEO_FRAME, 0, 0, 0, 0xff, 0xff, 0xff, 0xff },
    };

    for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
        struct ssb_proto_reader *reader = ssb_proto_reader_new();
        const uint8_t *msg;
        size_t len;
        const char *reason = NULL;

        /* 7 bytes: not judged yet */
        CHECK(ssb_proto_reader_feed(reader, bad_headers[i], 7) == 0);
        CHECK(ssb_proto_reader_next(reader, &msg, &len, &reason) == 0);
        /* the 8th byte, no body: rejected at once */
        CHECK(ssb_proto_reader_feed(reader, bad_headers[i] + 7, 1) == 0);
        CHECK(ssb_proto_reader_next(reader, &msg, &len, &reason) == -EPROTO);
        CHECK(reason != NULL && reason[0] != '\0');
        /* and it stays broken */
        reason = NULL;
        CHECK(ssb_proto_reader_next(reader, &msg, &len, &reason) == -EPROTO && reason);
        CHECK(ssb_proto_reader_feed(reader, bad_headers[i], 8) == -EPROTO);
        CHECK(ssb_proto_reader_next(reader, &msg, &len, NULL) == -EPROTO);
        ssb_proto_reader_free(reader);
    }
}

/* Good messages before a bad header come out; then the stream breaks. */
static void break_after_good(void)
{
    struct ssb_proto_reader *reader = ssb_proto_reader_new();
    uint8_t buf[64];
    struct ssb_msg m;
    const uint8_t *msg;
    size_t len;
    ssize_t n;

    sample_msg(SSB_MSG_GOODBYE, SAMPLE_TYPICAL, &m);
    n = ssb_proto_encode(&m, buf, sizeof(buf));
    CHECK(n == 12);
    memset(buf + 12, 0xee, 20);
    CHECK(ssb_proto_reader_feed(reader, buf, 32) == 0);
    CHECK(ssb_proto_reader_next(reader, &msg, &len, NULL) == 1 && len == 12);
    CHECK(ssb_proto_reader_next(reader, &msg, &len, NULL) == -EPROTO);
    CHECK(ssb_proto_reader_feed(reader, buf, 12) == -EPROTO);
    ssb_proto_reader_free(reader);
}

/* A caller that never drains is refused instead of growing the buffer. */
static void bounded(void)
{
    struct ssb_proto_reader *reader = ssb_proto_reader_new();
    struct ssb_msg m;
    const uint8_t *msg;
    size_t len;
    ssize_t n;

    sample_msg(SSB_MSG_VIDEO_FRAME, SAMPLE_MAX, &m);
    n = ssb_proto_encode(&m, stream, STREAM_CAP);
    CHECK(n == SSB_PROTO_MAX_MSG_SIZE);
    CHECK(ssb_proto_reader_feed(reader, stream, (size_t)n - 1) == 0);
    CHECK(ssb_proto_reader_feed(reader, stream + n - 1, 1) == 0);
    CHECK(ssb_proto_reader_feed(reader, stream, 1) == -ENOBUFS);
    CHECK(ssb_proto_reader_pending(reader) == (size_t)n);
    CHECK(ssb_proto_reader_next(reader, &msg, &len, NULL) == 1 && len == (size_t)n);
    CHECK(ssb_proto_reader_pending(reader) == 0);
    CHECK(ssb_proto_reader_feed(reader, stream, 1) == 0);
    CHECK(ssb_proto_reader_feed(reader, NULL, 0) == 0);
    CHECK(ssb_proto_reader_feed(reader, NULL, 1) == -EINVAL);
    CHECK(ssb_proto_reader_next(reader, &msg, &len, NULL) == 0);
    ssb_proto_reader_free(reader);
    ssb_proto_reader_free(NULL);
    CHECK(ssb_proto_reader_pending(NULL) == 0);
}

int main(void)
{
    stream = malloc(STREAM_CAP);
    if (stream == NULL)
        return 99;
    random_splits();
    bad_header_early();
    break_after_good();
    bounded();
    free(stream);
    return test_finish("reader");
}
