/* Valid sample messages of every type, shared by the proto tests and the
 * fuzz corpus generator.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <spice-sideband/proto.h>

enum sample_variant {
    SAMPLE_TYPICAL,
    SAMPLE_MIN, /* smallest body the type allows */
    SAMPLE_MAX, /* largest body: counts, strings and payload at their caps */
    SAMPLE_VARIANT_COUNT
};

/* Fills @m with a valid message of @type.  VIDEO_FRAME payloads point into
 * static storage. */
void sample_msg(enum ssb_msg_type type, enum sample_variant variant, struct ssb_msg *m);

/* Small deterministic PRNG (xorshift64*) for reproducible random tests. */
uint64_t sample_rand(uint64_t *state);
