/* Writes the seed corpora of the fuzz targets: valid messages of every type
 * and variant, plus malformed ones, in each target's input format.
 *
 *   make-corpus OUTPUT-DIR    (writes OUTPUT-DIR/<target>/<name>)
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <spice-sideband/proto.h>

#include "../proto/samples.h"

static const char *out_dir;
static int failed;

static void write_file(const char *target, const char *name, const uint8_t *a, size_t a_len,
                       const uint8_t *b, size_t b_len)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", out_dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(a, 1, a_len, f) != a_len || (b_len && fwrite(b, 1, b_len, f) != b_len)) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        failed = 1;
    }
    if (f)
        fclose(f);
}

static uint8_t msg_buf[SSB_PROTO_MAX_MSG_SIZE];

static size_t encode_sample(enum ssb_msg_type type, enum sample_variant v, uint8_t *fds)
{
    struct ssb_msg m;
    ssize_t n;

    sample_msg(type, v, &m);
    n = ssb_proto_encode(&m, msg_buf, sizeof(msg_buf));
    if (n < 0) {
        fprintf(stderr, "sample %d/%d does not encode\n", type, v);
        failed = 1;
        return 0;
    }
    *fds = (uint8_t)ssb_proto_msg_fd_count(&m);
    return (size_t)n;
}

/* fuzz-parse: n_fds byte + message; malformed copies for small messages. */
static void parse_corpus(void)
{
    for (uint32_t t = 1; t < SSB_MSG_TYPE_COUNT; t++) {
        for (uint32_t v = 0; v < SAMPLE_VARIANT_COUNT; v++) {
            char name[32];
            uint8_t fds;
            size_t n = encode_sample(t, v, &fds);
            uint8_t bad_fds = (uint8_t)(fds + 1);

            snprintf(name, sizeof(name), "t%02uv%u", t, v);
            write_file("fuzz-parse", name, &fds, 1, msg_buf, n);
            if (n > 4096)
                continue;
            snprintf(name, sizeof(name), "t%02uv%u-short", t, v);
            write_file("fuzz-parse", name, &fds, 1, msg_buf, n - 1);
            snprintf(name, sizeof(name), "t%02uv%u-fds", t, v);
            write_file("fuzz-parse", name, &bad_fds, 1, msg_buf, n);
            msg_buf[n - 1] ^= 0xff;
            snprintf(name, sizeof(name), "t%02uv%u-last", t, v);
            write_file("fuzz-parse", name, &fds, 1, msg_buf, n);
            msg_buf[n - 1] ^= 0xff;
            msg_buf[2] = 1;
            snprintf(name, sizeof(name), "t%02uv%u-flags", t, v);
            write_file("fuzz-parse", name, &fds, 1, msg_buf, n);
        }
    }
}

static uint8_t stream[4 * SSB_PROTO_MAX_MSG_SIZE];

/* All samples of @v packed into one stream, optionally broken after @break_after. */
static size_t pack_stream(enum sample_variant v, int break_after)
{
    size_t len = 0;

    for (uint32_t t = 1; t < SSB_MSG_TYPE_COUNT; t++) {
        uint8_t fds;
        size_t n = encode_sample(t, v, &fds);

        if (len + n > sizeof(stream))
            break;
        memcpy(stream + len, msg_buf, n);
        len += n;
        if ((int)t == break_after) {
            memset(stream + len, 0xee, 8); /* unknown type */
            len += 8;
        }
    }
    return len;
}

static void reader_corpus(void)
{
    static const struct {
        const char *name;
        enum sample_variant v;
        int break_after;
        uint8_t sizes[4];
        uint8_t n_sizes;
    } streams[] = {
        { "whole", SAMPLE_TYPICAL, 0, { 0 }, 1 },
        { "bytes", SAMPLE_TYPICAL, 0, { 1 }, 1 },
        { "mixed", SAMPLE_MIN, 0, { 7, 13, 1, 0x81 }, 4 },
        { "broken", SAMPLE_TYPICAL, 5, { 3, 9 }, 2 },
        { "big", SAMPLE_MAX, 0, { 0xc1, 5 }, 2 }, /* 65 KiB + 1 feeds */
    };

    for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
        uint8_t head[5];
        size_t len = pack_stream(streams[i].v, streams[i].break_after);

        head[0] = streams[i].n_sizes;
        memcpy(head + 1, streams[i].sizes, streams[i].n_sizes);
        write_file("fuzz-reader", streams[i].name, head, 1u + streams[i].n_sizes, stream, len);
    }
}

static size_t put32(uint8_t *p, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[off + i] = (uint8_t)(v >> (8 * i));
    return off + 4;
}

static size_t put64(uint8_t *p, size_t off, uint64_t v)
{
    off = put32(p, off, (uint32_t)v);
    return put32(p, off, (uint32_t)(v >> 32));
}

/* A slot layout as fuzz_read_layout() (fuzz.h) reads it; fourcc selector
 * 0 = XR24. */
static size_t put_layout(uint8_t *p, size_t off, const struct ssb_msg_slot_announce *s,
                         uint64_t size)
{
    off = put32(p, off, s->kind);
    off = put32(p, off, s->width);
    off = put32(p, off, s->height);
    off = put32(p, off, 0);
    off = put32(p, off, s->n_planes);
    off = put64(p, off, s->modifier == SSB_MODIFIER_LINEAR ? 1 : s->modifier & ~1ull);
    off = put64(p, off, size);
    for (uint32_t i = 0; i < SSB_PROTO_MAX_PLANES; i++) {
        off = put32(p, off, s->planes[i].offset);
        off = put32(p, off, s->planes[i].stride);
    }
    return off;
}

/* The fuzz-slot-layout input format: a layout, then the rects. */
static size_t slot_input(uint8_t *p, const struct ssb_msg_slot_announce *s, uint64_t fd_size,
                         const struct ssb_msg_frame *f)
{
    size_t off = put_layout(p, 0, s, fd_size);

    off = put32(p, off, 1920);
    off = put32(p, off, 1080);
    off = put32(p, off, f->n_rects);
    for (uint32_t i = 0; i < f->n_rects; i++) {
        off = put32(p, off, f->rects[i].x);
        off = put32(p, off, f->rects[i].y);
        off = put32(p, off, f->rects[i].width);
        off = put32(p, off, f->rects[i].height);
    }
    return off;
}

static void slot_corpus(void)
{
    static uint8_t buf[2048];
    struct ssb_msg slot, frame;
    char name[32];

    for (uint32_t v = 0; v < SAMPLE_VARIANT_COUNT; v++) {
        sample_msg(SSB_MSG_SLOT_ANNOUNCE, v, &slot);
        sample_msg(SSB_MSG_FRAME, v, &frame);
        snprintf(name, sizeof(name), "v%u", v);
        write_file("fuzz-slot-layout", name, buf,
                   slot_input(buf, &slot.u.slot_announce, slot.u.slot_announce.size,
                              &frame.u.frame), NULL, 0);
        snprintf(name, sizeof(name), "v%u-small", v);
        write_file("fuzz-slot-layout", name, buf,
                   slot_input(buf, &slot.u.slot_announce, slot.u.slot_announce.size - 1,
                              &frame.u.frame), NULL, 0);
    }
    /* stride * (height - 1) beyond 32 bits */
    slot.u.slot_announce = (struct ssb_msg_slot_announce){
        .kind = SSB_SLOT_SHM, .width = 16384, .height = 16384, .n_planes = 1,
        .planes = { { UINT32_MAX, UINT32_MAX } } };
    frame.u.frame.n_rects = 1;
    frame.u.frame.rects[0] = (struct ssb_rect){ UINT32_MAX, 0, 1, 1 };
    write_file("fuzz-slot-layout", "overflow", buf,
               slot_input(buf, &slot.u.slot_announce, UINT64_MAX, &frame.u.frame), NULL, 0);
}

/* The fuzz-client-slot input format: a layout, then seals, page 4096, the fds. */
static size_t client_slot_input(uint8_t *p, const struct ssb_msg_slot_announce *s, uint32_t seals,
                                uint32_t n_fds, const uint64_t *fd_sizes)
{
    size_t off = put_layout(p, 0, s, s->size);

    off = put32(p, off, seals);
    off = put32(p, off, 0);
    off = put32(p, off, n_fds);
    for (uint32_t i = 0; i < SSB_PROTO_MAX_FDS; i++)
        off = put64(p, off, fd_sizes[i]);
    return off;
}

static void client_slot_corpus(void)
{
    static uint8_t buf[256];
    const uint32_t sealed = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
    struct ssb_msg slot;
    struct ssb_msg_slot_announce *s = &slot.u.slot_announce;
    char name[32];

    for (uint32_t v = 0; v < SAMPLE_VARIANT_COUNT; v++) {
        uint64_t sizes[SSB_PROTO_MAX_FDS];

        sample_msg(SSB_MSG_SLOT_ANNOUNCE, v, &slot);
        for (uint32_t i = 0; i < SSB_PROTO_MAX_FDS; i++)
            sizes[i] = s->size;
        snprintf(name, sizeof(name), "v%u", v);
        write_file("fuzz-client-slot", name, buf,
                   client_slot_input(buf, s, sealed, s->n_planes, sizes), NULL, 0);
        snprintf(name, sizeof(name), "v%u-unsealed", v);
        write_file("fuzz-client-slot", name, buf,
                   client_slot_input(buf, s, F_SEAL_GROW, s->n_planes, sizes), NULL, 0);
        sizes[0] = s->size - 1;
        snprintf(name, sizeof(name), "v%u-shrunk", v);
        write_file("fuzz-client-slot", name, buf,
                   client_slot_input(buf, s, sealed, s->n_planes, sizes), NULL, 0);
    }
    /* A linear DMA-BUF with two planes, the second past its own fd. */
    *s = (struct ssb_msg_slot_announce){
        .kind = SSB_SLOT_DMABUF, .width = 64, .height = 64, .n_planes = 2,
        .modifier = SSB_MODIFIER_LINEAR, .size = 64 * 64 * 4,
        .planes = { { 0, 256 }, { 8192, 256 } } };
    write_file("fuzz-client-slot", "dmabuf-plane-outside", buf,
               client_slot_input(buf, s, 0, 2, (const uint64_t[]){ 16384, 8192, 0, 0 }), NULL, 0);
    /* The largest picture the protocol allows, in an fd of 2^64 - 1 bytes. */
    *s = (struct ssb_msg_slot_announce){
        .kind = SSB_SLOT_SHM, .width = 16384, .height = 16384, .n_planes = 1,
        .planes = { { UINT32_MAX, UINT32_MAX } } };
    write_file("fuzz-client-slot", "largest", buf,
               client_slot_input(buf, s, sealed, 1,
                                 (const uint64_t[]){ UINT64_MAX, 0, 0, 0 }), NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT-DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    parse_corpus();
    reader_corpus();
    slot_corpus();
    client_slot_corpus();
    return failed;
}
